//! The SAM generator and the template drift check agree with each other for a crate that is
//! not the shop: a handler whose name has an underscore (built by a kebab-case binary) and a
//! FIFO consumer, as `codegen sam` writes them, pass the check; the mistakes a team makes
//! with them (a FIFO function without a FIFO topic, a binary named otherwise, a test that
//! links no handlers) are each refused with a message that says what to do.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tidings::codegen::cli::execute;
use tidings::codegen::sam::to_yaml;
use tidings::codegen::template::{Consumer, Template, check};
use tidings::codegen::{binary_name, handlers_of_crate};
use tidings::{Context, Envelope, Event, HandlerError, HandlerRegistration};

/// This test's crate, whose handlers the generator and the check read.
const CRATE: &str = "codegen_sam";

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.stock.counted", version = 1)]
struct StockCounted {
    #[event(subject)]
    sku: String,
    units: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.refund.issued", version = 1)]
struct RefundIssued {
    #[event(subject)]
    order_id: String,
}

#[tidings::event_handler(main = false)]
async fn reserve_stock(_event: Envelope<StockCounted>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

#[tidings::event_handler(main = false)]
async fn refunds(_event: Envelope<RefundIssued>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

fn handlers() -> Vec<&'static HandlerRegistration> {
    let handlers = handlers_of_crate(CRATE);
    assert_eq!(
        handlers.len(),
        2,
        "both handlers of this test are registered"
    );
    handlers
}

fn consumers() -> Vec<Consumer> {
    handlers()
        .into_iter()
        .map(|handler| Consumer::of(handler, handler.name == "refunds"))
        .collect()
}

/// `codegen sam` with `args`, as the text a team pastes under `Resources:`.
fn sam(args: &[&str]) -> Result<String, String> {
    let args: Vec<String> = std::iter::once("sam")
        .chain(args.iter().copied())
        .map(str::to_owned)
        .collect();
    let mut out = Vec::new();
    execute(&handlers(), CRATE, "0.1.0", &args, &mut out)?;
    Ok(String::from_utf8(out).expect("UTF-8 output"))
}

/// What `codegen sam` prints for both handlers, `refunds` on a FIFO queue.
fn generated() -> String {
    sam(&["--fifo", "refunds", "--fifo-topic", "PaymentsTopic"]).expect("sam runs")
}

/// A whole template, as a team writes it around what codegen prints: the topics and the
/// table the generated resources refer to, the functions' runtime in `Globals`, and the
/// generated functions pasted under `Resources:`.
fn template_with(generated: &str) -> Template {
    let pasted = Template::parse(&format!("Resources:\n{generated}")).expect("the output parses");
    let mut resources: Map<String, Value> = pasted.root["Resources"]
        .as_object()
        .expect("resources were generated")
        .clone();
    resources.insert(
        "EventsTopic".to_owned(),
        json!({"Type": "AWS::SNS::Topic", "Properties": {"KmsMasterKeyId": "alias/aws/sns"}}),
    );
    resources.insert(
        "PaymentsTopic".to_owned(),
        json!({
            "Type": "AWS::SNS::Topic",
            "Properties": {
                "TopicName": "payments.fifo",
                "FifoTopic": true,
                "KmsMasterKeyId": "alias/aws/sns",
            },
        }),
    );
    resources.insert(
        "IdempotencyTable".to_owned(),
        json!({
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "TimeToLiveSpecification": {"AttributeName": "expiration", "Enabled": true},
            },
        }),
    );
    let root = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Globals": {
            "Function": {
                "Runtime": "provided.al2023",
                "Architectures": ["arm64"],
                "Handler": "bootstrap",
                "CodeUri": ".",
                "Timeout": 30,
            },
        },
        "Resources": resources,
    });
    Template::parse(&to_yaml(&root, 0)).expect("the whole template parses")
}

#[test]
fn a_handler_with_an_underscore_is_built_by_its_kebab_case_binary() {
    let reserve = handlers_of_crate(CRATE)
        .into_iter()
        .find(|h| h.name == "reserve_stock")
        .expect("reserve_stock is registered");
    assert_eq!(binary_name(reserve), "reserve-stock");
    assert_eq!(Consumer::of(reserve, false).binary, "reserve-stock");
    let generated = sam(&["reserve_stock"]).expect("sam runs");
    assert!(
        generated.contains("Binary: \"reserve-stock\""),
        "the generated function builds the kebab-case binary:\n{generated}"
    );
}

#[test]
fn what_codegen_writes_passes_the_drift_check() {
    let problems = check(&template_with(&generated()), &consumers());
    assert!(
        problems.is_empty(),
        "the generated template disagrees with its handlers:\n  - {}",
        problems.join("\n  - ")
    );
}

#[test]
fn a_fifo_function_needs_a_fifo_topic() {
    let error = sam(&["--fifo", "refunds"]).expect_err("no FIFO topic named");
    assert!(error.contains("--fifo-topic"), "{error}");
    // A handler name left out is named as such, not taken for the option after it.
    let error = sam(&["refunds", "--fifo", "--fifo-topic", "PaymentsTopic"])
        .expect_err("no handler after --fifo");
    assert!(
        error.contains("`--fifo` needs a value before `--fifo-topic`"),
        "{error}"
    );
}

#[test]
fn options_that_would_be_ignored_are_refused() {
    let error = sam(&[
        "reserve_stock",
        "--fifo",
        "refunds",
        "--fifo-topic",
        "PaymentsTopic",
    ])
    .expect_err("refunds is not asked for");
    assert!(error.contains("`--fifo refunds`"), "{error}");
    let error = sam(&["--fifo-topci", "PaymentsTopic"]).expect_err("a misspelt option");
    assert!(error.contains("no option `--fifo-topci`"), "{error}");
    let error = sam(&["--fifo-topic", "PaymentsTopic"]).expect_err("no FIFO function");
    assert!(error.contains("no `--fifo NAME`"), "{error}");
    let error = sam(&["--topic", "A", "--topic", "B"]).expect_err("two topics");
    assert!(error.contains("`--topic` is given twice"), "{error}");
}

#[test]
fn a_binary_named_otherwise_is_reported_with_the_names_expected() {
    let generated = generated().replace("Binary: \"reserve-stock\"", "Binary: \"reserve_stock\"");
    let problems = check(&template_with(&generated), &consumers());
    assert!(
        problems
            .iter()
            .any(|p| p.contains("`reserve_stock`, which runs none")
                && p.contains(r#"their binaries are ["refunds", "reserve-stock"]"#)),
        "{problems:#?}"
    );
}

#[test]
fn a_check_against_no_consumers_is_a_problem_not_a_pass() {
    let problems = check(&template_with(&generated()), &[]);
    assert!(
        problems.iter().any(|p| p.contains("no consumers to check")),
        "{problems:#?}"
    );
}

#[test]
fn variables_in_globals_count_for_every_function() {
    let mut template = template_with(&generated());
    for function in ["ReserveStockFunction", "RefundsFunction"] {
        let variables =
            template.root["Resources"][function]["Properties"]["Environment"]["Variables"]
                .as_object_mut()
                .expect("the generated function has variables");
        assert!(variables.remove("TIDINGS_STORE").is_some());
    }
    let problems = check(&template, &consumers());
    assert!(
        problems
            .iter()
            .any(|p| p.contains("TIDINGS_STORE must be dynamodb")),
        "without the variable anywhere, the check misses it: {problems:#?}"
    );
    template.root["Globals"]["Function"]["Environment"] =
        json!({"Variables": {"TIDINGS_STORE": "dynamodb"}});
    let problems = check(&template, &consumers());
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn a_key_policy_may_name_every_resource_but_a_role_may_not() {
    let mut template = template_with(&generated());
    // A customer-managed key's policy: its `Resource` is `*`, meaning the key itself.
    let statement = json!({
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
        "Resource": "*",
    });
    template.root["Resources"]["EventsKey"] = json!({
        "Type": "AWS::KMS::Key",
        "Properties": {"KeyPolicy": {"Version": "2012-10-17", "Statement": [statement]}},
    });
    let problems = check(&template, &consumers());
    assert!(problems.is_empty(), "{problems:#?}");
    // Its actions are still held to exact names.
    template.root["Resources"]["EventsKey"]["Properties"]["KeyPolicy"]["Statement"][0]["Action"] =
        json!("kms:*");
    let problems = check(&template, &consumers());
    assert!(
        problems
            .iter()
            .any(|p| p.contains("Action `kms:*` has a wildcard")),
        "{problems:#?}"
    );
    template.root["Resources"]
        .as_object_mut()
        .expect("resources")
        .remove("EventsKey");

    let role = template.root["Resources"]
        .as_object_mut()
        .and_then(|resources| {
            resources
                .iter_mut()
                .find(|(_, r)| r["Type"] == "AWS::IAM::Role")
        })
        .map(|(_, role)| role)
        .expect("a generated role");
    role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        .as_array_mut()
        .expect("the role's statements")
        .push(json!({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}));
    let problems = check(&template, &consumers());
    assert!(
        problems
            .iter()
            .any(|p| p.contains("Resource `*` has a wildcard")),
        "{problems:#?}"
    );
}

#[test]
fn a_fifo_queue_on_a_standard_topic_is_reported_with_the_fix() {
    let mut template = template_with(&generated());
    let topic = &mut template.root["Resources"]["PaymentsTopic"]["Properties"];
    topic
        .as_object_mut()
        .expect("the topic's properties")
        .remove("FifoTopic");
    let problems = check(&template, &consumers());
    assert!(
        problems
            .iter()
            .any(|p| p.contains("PaymentsTopic is not one: set `FifoTopic: true`")),
        "{problems:#?}"
    );
}
