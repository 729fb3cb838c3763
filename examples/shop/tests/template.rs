//! `template.yaml` and the committed fixtures against the handlers the shop links.
//!
//! The deployment must deliver to each handler exactly the event types it accepts, on the
//! kind of queue it needs, with the retries, dead-lettering and permissions tidings relies
//! on; the fixtures `cargo lambda invoke` reads must be what codegen writes today. Both are
//! generated from or checked against `tidings::codegen`, so editing a handler's event types
//! without the template (or the other way round) fails here, naming what to change.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};
use tidings::codegen::handlers_of_crate;
use tidings::codegen::sam::to_yaml;
use tidings::codegen::template::{Consumer, Template, check};

// Linking the crate is what registers its handlers in this test.
use shop as _;

/// The shop's event consumers. The linked handlers are compared with this list first, so a
/// handler the linker dropped cannot make every other check pass vacuously.
const CONSUMERS: &[&str] = &["analytics", "email", "inventory", "payments"];

/// Consumers that need a FIFO queue. A handler's metadata says which types it accepts, not
/// how its queue orders them (the pipeline tells a FIFO batch by its records), so the shop's
/// choice is written here and the template must follow it: payments records the captures of
/// one order in the order they were made.
const FIFO_HANDLERS: &[&str] = &["payments"];

const REGENERATE_FIXTURES: &str = "regenerate them with `cargo run -p shop --features codegen --bin shop-codegen -- fixtures --out examples/shop/fixtures` and commit the result";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn committed_template() -> String {
    let path = repo_root().join("template.yaml");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn linked_consumers() -> Vec<Consumer> {
    handlers_of_crate("shop")
        .into_iter()
        .map(|handler| Consumer::of(handler, FIFO_HANDLERS.contains(&handler.name)))
        .collect()
}

/// Each deployed binary is one of the shop's (`src/bin/NAME.rs`).
#[test]
fn every_consumer_binary_is_one_of_the_shops() {
    for consumer in linked_consumers() {
        let source = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/bin")
            .join(format!("{}.rs", consumer.binary));
        assert!(
            source.is_file(),
            "template.yaml builds binary `{}`, but the shop has no src/bin/{}.rs",
            consumer.binary,
            consumer.binary
        );
    }
}

#[test]
fn the_shop_links_its_consumers() {
    let names: Vec<String> = linked_consumers().into_iter().map(|c| c.name).collect();
    assert_eq!(names, CONSUMERS);
}

#[test]
fn template_agrees_with_the_handlers() {
    let template = Template::parse(&committed_template()).expect("template.yaml parses");
    let problems = check(&template, &linked_consumers());
    assert!(
        problems.is_empty(),
        "template.yaml disagrees with the shop's handlers:\n  - {}",
        problems.join("\n  - ")
    );
}

/// The committed template with `from` (which must occur exactly once) replaced by `to`,
/// checked against the linked handlers.
fn problems_after(from: &str, to: &str) -> Vec<String> {
    let text = committed_template();
    assert_eq!(
        text.matches(from).count(),
        1,
        "the test edits `{from}`, which must occur exactly once in template.yaml"
    );
    let template = Template::parse(&text.replacen(from, to, 1)).expect("the edit parses");
    check(&template, &linked_consumers())
}

#[test]
fn short_forms_read_as_long_forms() {
    let template = Template::parse(
        "Resources:\n  A:\n    Type: X\n    Properties:\n      R: !Ref B\n      G: !GetAtt B.Arn\n      S: !Sub '${B}-x'\n      L: !GetAtt [B, Arn]\n",
    )
    .unwrap();
    assert_eq!(
        template.resources()["A"]["Properties"],
        json!({
            "R": {"Ref": "B"},
            "G": {"Fn::GetAtt": ["B", "Arn"]},
            "S": {"Fn::Sub": "${B}-x"},
            "L": {"Fn::GetAtt": ["B", "Arn"]},
        })
    );
}

#[test]
fn a_filter_policy_missing_a_type_is_reported() {
    let problems = problems_after(
        "      Endpoint: !GetAtt InventoryQueue.Arn\n      RawMessageDelivery: true\n      FilterPolicyScope: MessageAttributes\n      FilterPolicy:\n        type:\n          - shop.order.cancelled\n",
        "      Endpoint: !GetAtt InventoryQueue.Arn\n      RawMessageDelivery: true\n      FilterPolicyScope: MessageAttributes\n      FilterPolicy:\n        type:\n",
    );
    assert_eq!(
        problems,
        [
            "InventorySubscription: FilterPolicy is {\"type\":[\"shop.order.placed\"]}, but handler \
             `inventory` accepts {\"type\":[\"shop.order.cancelled\",\"shop.order.placed\"]}: copy it \
             from your codegen binary's `filter-policy inventory`"
        ]
    );
}

#[test]
fn a_type_the_handler_does_not_accept_is_reported() {
    let problems = problems_after(
        "        type:\n          - shop.payment.captured\n\n  PaymentsLogGroup:",
        "        type:\n          - shop.payment.captured\n          - shop.order.placed\n\n  PaymentsLogGroup:",
    );
    assert_eq!(
        problems,
        [
            "PaymentsSubscription: FilterPolicy is {\"type\":[\"shop.payment.captured\",\"shop.order.placed\"]}, \
             but handler `payments` accepts {\"type\":[\"shop.payment.captured\"]}: copy it from \
             your codegen binary's `filter-policy payments`"
        ]
    );
}

#[test]
fn a_handler_without_a_function_is_reported() {
    let problems = problems_after("Binary: email", "Binary: mail");
    assert_eq!(
        problems,
        [
            "handler `email` is not deployed: no AWS::Serverless::Function has \
             Metadata.BuildProperties.Binary `email`",
            "EmailFunction reads a queue but builds binary `mail`, which runs none of the handlers \
             checked; their binaries are [\"analytics\", \"email\", \"inventory\", \"payments\"] \
             (a handler's name in kebab case)",
        ]
    );
}

#[test]
fn a_missing_partial_batch_response_is_reported() {
    let problems = problems_after(
        "            Queue: !GetAtt AnalyticsQueue.Arn\n            BatchSize: 10\n            MaximumBatchingWindowInSeconds: 5\n            FunctionResponseTypes:\n              - ReportBatchItemFailures\n",
        "            Queue: !GetAtt AnalyticsQueue.Arn\n            BatchSize: 10\n            MaximumBatchingWindowInSeconds: 5\n",
    );
    assert_eq!(
        problems,
        [
            "AnalyticsFunction.Events.Queue must list ReportBatchItemFailures in \
             FunctionResponseTypes: without it Lambda ignores tidings' batchItemFailures and \
             retries or deletes whole batches"
        ]
    );
}

#[test]
fn a_fifo_handler_on_a_standard_queue_is_reported() {
    // A standard queue on the FIFO topic, and its dead-letter queue still FIFO.
    let problems = problems_after(
        "      QueueName: !Sub \"${AWS::StackName}-payments.fifo\"\n      FifoQueue: true\n      ContentBasedDeduplication: false\n      VisibilityTimeout: 180\n",
        "      VisibilityTimeout: 180\n",
    );
    assert_eq!(
        problems,
        [
            "handler `payments` needs a FIFO queue (its events are handled in order per \
             subject), but PaymentsQueue is a standard queue",
            "PaymentsQueue and its dead-letter queue PaymentsDeadLetterQueue must both be FIFO or \
             both standard",
        ]
    );
}

#[test]
fn a_short_visibility_timeout_is_reported() {
    let problems = problems_after(
        "    Properties:\n      VisibilityTimeout: 190\n      SqsManagedSseEnabled: true\n      RedrivePolicy:\n        deadLetterTargetArn: !GetAtt EmailDeadLetterQueue.Arn\n",
        "    Properties:\n      VisibilityTimeout: 184\n      SqsManagedSseEnabled: true\n      RedrivePolicy:\n        deadLetterTargetArn: !GetAtt EmailDeadLetterQueue.Arn\n",
    );
    assert_eq!(
        problems,
        [
            "EmailQueue: VisibilityTimeout 184 s is less than six times the timeout of \
             EmailFunction (30 s) plus its batching window (5 s) = 185 s"
        ]
    );
}

#[test]
fn a_queue_without_redrive_is_reported() {
    let problems = problems_after(
        "      RedrivePolicy:\n        deadLetterTargetArn: !GetAtt EmailDeadLetterQueue.Arn\n        maxReceiveCount: 5\n",
        "",
    );
    assert_eq!(
        problems,
        [
            "EmailFunction: TIDINGS_DEAD_LETTER_QUEUE_URL must be `!Ref` of EmailQueue's \
             dead-letter queue, where rejected records go with their reason",
            "EmailDeadLetterQueue has no RedrivePolicy to a dead-letter queue of this template: \
             a message that always fails would be retried until it expires",
            "EmailQueue has no RedrivePolicy to a dead-letter queue of this template: a message \
             that always fails would be retried until it expires",
        ]
    );
}

#[test]
fn wildcards_in_statements_are_reported() {
    let problems = problems_after(
        "              - Sid: PublishEvents\n                Effect: Allow\n                Action: sns:Publish\n                Resource: !Ref EventsTopic\n\n  InventoryFunction:",
        "              - Sid: PublishEvents\n                Effect: Allow\n                Action: sns:*\n                Resource: !Sub \"arn:${AWS::Partition}:sns:*\"\n\n  InventoryFunction:",
    );
    assert_eq!(
        problems,
        [
            "InventoryRole.Properties.Policies[0].PolicyDocument.Statement[4]: \
             Action `sns:*` has a wildcard; name exact actions and resources",
            "InventoryRole.Properties.Policies[0].PolicyDocument.Statement[4]: \
             Resource `arn:${AWS::Partition}:sns:*` has a wildcard; name exact actions and resources",
        ]
    );
}

#[test]
fn a_function_on_sams_generated_role_is_reported() {
    let problems = problems_after("      Role: !GetAtt OrdersApiRole.Arn\n", "");
    assert_eq!(
        problems,
        [
            "OrdersApiFunction must set Role to `!GetAtt <role>.Arn` of a role in this template: \
             SAM's generated role attaches a managed policy with wildcard resources"
        ]
    );
}

#[test]
fn a_role_missing_the_dead_letter_permission_is_reported() {
    let problems = problems_after(
        "                Action: sqs:SendMessage\n                Resource: !GetAtt PaymentsDeadLetterQueue.Arn\n",
        "                Action: sqs:SendMessage\n                Resource: !GetAtt PaymentsQueue.Arn\n",
    );
    assert_eq!(
        problems,
        [
            "PaymentsRole (of PaymentsFunction) does not allow sqs:SendMessage on \
             PaymentsDeadLetterQueue: add `Action: sqs:SendMessage` with `Resource: !GetAtt \
             PaymentsDeadLetterQueue.Arn` to its policy (the role `codegen sam` writes has it)"
        ]
    );
}

// ---------------------------------------------------------------- fixtures

fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(next) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&next) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let name = path
                    .strip_prefix(dir)
                    .expect("inside the directory")
                    .to_string_lossy()
                    .replace('\\', "/");
                let bytes = std::fs::read(&path).expect("a readable file");
                files.push((name, bytes));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn committed_fixtures_are_what_codegen_writes() {
    let fresh = tempfile::tempdir().expect("a temporary directory");
    let handlers = handlers_of_crate("shop");
    let written = tidings::codegen::cli::write_fixtures(&handlers, fresh.path())
        .expect("codegen writes the fixtures");
    let expected = files_under(fresh.path());
    // One outcomes.json per handler beside its fixtures.
    assert_eq!(expected.len(), written + CONSUMERS.len());

    let committed = files_under(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"));
    let expected_names: BTreeSet<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
    let committed_names: BTreeSet<&str> = committed.iter().map(|(n, _)| n.as_str()).collect();
    let missing: Vec<_> = expected_names.difference(&committed_names).collect();
    let extra: Vec<_> = committed_names.difference(&expected_names).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "examples/shop/fixtures is stale (missing {missing:?}, not generated {extra:?}): \
         {REGENERATE_FIXTURES}"
    );
    // Fixtures carry the time they were generated: compare them with the times taken out.
    for ((name, want), (_, have)) in expected.iter().zip(&committed) {
        let parse = |bytes: &[u8]| -> Value {
            without_times(serde_json::from_slice(bytes).expect("a fixture is JSON"))
        };
        assert!(
            parse(want) == parse(have),
            "examples/shop/fixtures/{name} differs from what codegen writes: {REGENERATE_FIXTURES}"
        );
    }
}

/// `value` with every time in it (RFC 3339 strings, epoch milliseconds) replaced by a
/// placeholder, reading into the JSON that bodies and SNS messages carry as strings.
fn without_times(value: Value) -> Value {
    match value {
        Value::String(text) => {
            if chrono_like(&text) || (text.len() == 13 && text.bytes().all(|b| b.is_ascii_digit()))
            {
                return Value::String("<time>".into());
            }
            match serde_json::from_str::<Value>(&text) {
                Ok(inner @ (Value::Object(_) | Value::Array(_))) => {
                    Value::String(without_times(inner).to_string())
                }
                _ => Value::String(text),
            }
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| (key, without_times(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_times).collect()),
        other => other,
    }
}

/// Whether `text` is an RFC 3339 time such as `2026-12-05T16:00:00.123Z`.
fn chrono_like(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 20
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes[10] == b'T'
        && bytes[13] == b':'
        && text.ends_with('Z')
}

const REGENERATE_CONSUMERS: &str = "regenerate it with `cargo run -p shop --features codegen --bin shop-codegen -- consumers --out examples/shop/consumers` and commit the result";

/// The consumer manifest the shop publishes, which producers check the versions they ship
/// against (`shop-events check --consumers examples/shop/consumers`), is what the handlers
/// accept today.
#[test]
fn the_committed_consumer_manifest_is_what_the_handlers_accept() {
    let handlers = handlers_of_crate("shop");
    let manifest = tidings::codegen::consumer_manifest("shop", &handlers);
    let names: Vec<&str> = manifest.handlers.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, CONSUMERS);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("consumers/shop.consumers.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{} is missing ({e}): {REGENERATE_CONSUMERS}",
            path.display()
        )
    });
    assert!(
        committed == manifest.to_json(),
        "examples/shop/consumers/shop.consumers.json is stale: {REGENERATE_CONSUMERS}"
    );
}

/// The template a team gets from codegen instead of copying the shop's: the shop's topics
/// and table, and each consumer's function as `shop-codegen sam` writes it. It must pass the
/// same drift check as the committed template, and cfn-lint.
#[test]
fn generated_function_resources_pass_the_drift_check_and_cfn_lint() {
    let committed = Template::parse(&committed_template()).expect("template.yaml parses");
    let mut resources = Map::new();
    for shared in ["EventsTopic", "PaymentsTopic", "IdempotencyTable"] {
        let resource = committed
            .resource(shared)
            .unwrap_or_else(|| panic!("template.yaml declares {shared}"));
        resources.insert(shared.to_owned(), resource.clone());
    }
    // What a team pastes under `Resources:`: the codegen command's own output.
    let mut args = vec!["sam".to_owned()];
    for fifo in FIFO_HANDLERS {
        args.extend(["--fifo".to_owned(), (*fifo).to_owned()]);
    }
    args.extend(["--fifo-topic".to_owned(), "PaymentsTopic".to_owned()]);
    let mut output = Vec::new();
    tidings::codegen::cli::execute(
        &handlers_of_crate("shop"),
        "shop",
        "0.1.0",
        &args,
        &mut output,
    )
    .expect("`shop-codegen sam` runs");
    let pasted = format!(
        "Resources:\n{}",
        String::from_utf8(output).expect("UTF-8 output")
    );
    let functions = Template::parse(&pasted).expect("the output pastes under `Resources:`");
    let Some(Value::Object(generated)) = functions.root.get("Resources") else {
        panic!("`shop-codegen sam` wrote no resources:\n{pasted}");
    };
    resources.extend(generated.clone());
    let generated = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Parameters": committed.root["Parameters"],
        "Globals": committed.root["Globals"],
        "Resources": resources,
    });
    let yaml = to_yaml(&generated, 0);

    let template = Template::parse(&yaml).expect("the generated template parses");
    let problems = check(&template, &linked_consumers());
    assert!(
        problems.is_empty(),
        "the generated template disagrees with the shop's handlers:\n  - {}",
        problems.join("\n  - ")
    );

    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("generated.yaml");
    std::fs::write(&path, &yaml).expect("write the generated template");
    let lint = std::process::Command::new("cfn-lint")
        .arg(&path)
        .output()
        .expect("cfn-lint runs: scripts/test installs it into .venv and puts it on PATH");
    assert!(
        lint.status.success(),
        "cfn-lint found problems in the generated template:\n{}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
}

#[test]
fn a_role_that_cannot_write_its_logs_is_reported() {
    let problems = problems_after(
        "                  - logs:PutLogEvents\n                Resource: !GetAtt InventoryLogGroup.Arn",
        "                Resource: !GetAtt InventoryLogGroup.Arn",
    );
    assert_eq!(
        problems,
        [
            "InventoryRole (of InventoryFunction) does not allow logs:PutLogEvents on \
             InventoryLogGroup: add `Action: logs:PutLogEvents` with `Resource: !GetAtt \
             InventoryLogGroup.Arn` to its policy (the role `codegen sam` writes has it)"
        ]
    );
}

#[test]
fn a_function_without_its_log_group_is_reported() {
    let problems = problems_after("        LogGroup: !Ref EmailLogGroup\n", "");
    assert_eq!(
        problems,
        [
            "EmailFunction: set LoggingConfig.LogGroup to `!Ref` of a log group in this template \
             and allow its role logs:CreateLogStream and logs:PutLogEvents on it; otherwise its \
             logs and metrics are written nowhere its role allows"
        ]
    );
}

#[test]
fn a_table_without_the_stores_key_or_expiry_is_reported() {
    let problems = problems_after(
        "        - AttributeName: id\n          KeyType: HASH",
        "        - AttributeName: pk\n          KeyType: HASH",
    );
    assert_eq!(
        problems,
        [
            "IdempotencyTable: the key must be the string attribute `id` alone (KeySchema `id` \
             HASH, AttributeDefinitions `id` S): the DynamoDB store writes each record under \
             that key"
        ]
    );
    let problems = problems_after(
        "        AttributeName: expiration\n        Enabled: true",
        "        AttributeName: ttl\n        Enabled: true",
    );
    assert_eq!(
        problems,
        [
            "IdempotencyTable: enable TimeToLiveSpecification on `expiration`, where the store \
             writes each record's expiry; without it records are never removed"
        ]
    );
}
