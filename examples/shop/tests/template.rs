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
use tidings::codegen::{filter_policy, handlers_of_crate};

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

// ---------------------------------------------------------------- reading the template

/// A template as JSON, with CloudFormation's short-form functions in their long form
/// (`!Ref X` is `{"Ref": "X"}`, `!GetAtt A.B` is `{"Fn::GetAtt": ["A", "B"]}`), so the checks
/// compare one spelling whichever the author used.
struct Template {
    root: Value,
}

impl Template {
    fn parse(text: &str) -> Result<Self, String> {
        let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(text)
            .map_err(|e| format!("template.yaml is not valid YAML: {e}"))?;
        let root = to_json(yaml)?;
        if !root.get("Resources").is_some_and(Value::is_object) {
            return Err("template.yaml has no Resources mapping".into());
        }
        Ok(Self { root })
    }

    fn resources(&self) -> &Map<String, Value> {
        self.root["Resources"]
            .as_object()
            .expect("checked in parse")
    }

    fn resource(&self, name: &str) -> Option<&Value> {
        self.resources().get(name)
    }

    /// The resources of `kind`, sorted by logical id so that problems come in one order
    /// whatever order the JSON map keeps.
    fn of_type<'a>(&'a self, kind: &str) -> std::vec::IntoIter<(&'a str, &'a Value)> {
        let mut found: Vec<(&str, &Value)> = self
            .resources()
            .iter()
            .filter(|(_, r)| r["Type"] == kind)
            .map(|(name, r)| (name.as_str(), r))
            .collect();
        found.sort_by_key(|(name, _)| *name);
        found.into_iter()
    }

    fn is(&self, name: &str, kind: &str) -> bool {
        self.resource(name).is_some_and(|r| r["Type"] == kind)
    }

    /// A property of a SAM function: its own, or else the one in `Globals.Function`.
    fn function_property<'a>(&'a self, function: &'a Value, key: &str) -> Option<&'a Value> {
        function["Properties"]
            .get(key)
            .or_else(|| self.root["Globals"]["Function"].get(key))
    }
}

fn to_json(value: serde_yaml_ng::Value) -> Result<Value, String> {
    use serde_yaml_ng::Value as Yaml;
    Ok(match value {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => serde_json::to_value(&n).map_err(|e| e.to_string())?,
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => {
            Value::Array(items.into_iter().map(to_json).collect::<Result<_, _>>()?)
        }
        Yaml::Mapping(mapping) => {
            let mut object = Map::new();
            for (key, value) in mapping {
                let key = match key {
                    Yaml::String(s) => s,
                    Yaml::Number(n) => n.to_string(),
                    Yaml::Bool(b) => b.to_string(),
                    other => return Err(format!("unsupported mapping key {other:?}")),
                };
                object.insert(key, to_json(value)?);
            }
            Value::Object(object)
        }
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            long_form(tag.trim_start_matches('!'), to_json(tagged.value)?)?
        }
    })
}

/// The long form of the short-form function `!name value`.
fn long_form(name: &str, value: Value) -> Result<Value, String> {
    Ok(match name {
        "Ref" | "Condition" => json!({ name: value }),
        "GetAtt" => match value {
            Value::String(dotted) => {
                let (resource, attribute) = dotted
                    .split_once('.')
                    .ok_or_else(|| format!("!GetAtt {dotted} has no attribute"))?;
                json!({"Fn::GetAtt": [resource, attribute]})
            }
            other => json!({ "Fn::GetAtt": other }),
        },
        other => json!({ format!("Fn::{other}"): value }),
    })
}

/// `{"Ref": name}`.
fn reference(name: &str) -> Value {
    json!({ "Ref": name })
}

/// `{"Fn::GetAtt": [name, "Arn"]}`.
fn arn_of(name: &str) -> Value {
    json!({ "Fn::GetAtt": [name, "Arn"] })
}

/// The resource `value` takes the ARN of, if it is `!GetAtt X.Arn`.
fn arn_target(value: &Value) -> Option<&str> {
    match value.get("Fn::GetAtt")?.as_array()?.as_slice() {
        [resource, attribute] if attribute == "Arn" => resource.as_str(),
        _ => None,
    }
}

/// The resource `value` refers to, if it is `!Ref X`.
fn ref_target(value: &Value) -> Option<&str> {
    value.get("Ref")?.as_str()
}

/// A number property, or its default when absent.
fn number(value: Option<&Value>, default: u64) -> Option<u64> {
    match value {
        None => Some(default),
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        Some(_) => None,
    }
}

/// Whether a boolean property is set to true (CloudFormation accepts `true` and `"true"`).
fn is_true(value: Option<&Value>) -> bool {
    matches!(value, Some(Value::Bool(true))) || value.and_then(Value::as_str) == Some("true")
}

/// One value or a list of them, as a list.
fn one_or_many(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

// ---------------------------------------------------------------- what the code expects

/// What one handler needs from the deployment.
#[derive(Debug, Clone)]
struct Consumer {
    name: String,
    /// The binary that runs it: the shop names each after its handler.
    binary: String,
    filter_policy: Value,
    fifo: bool,
}

fn linked_consumers() -> Vec<Consumer> {
    handlers_of_crate("shop")
        .into_iter()
        .map(|handler| Consumer {
            name: handler.name.to_owned(),
            binary: handler.name.to_owned(),
            filter_policy: filter_policy(handler),
            fifo: FIFO_HANDLERS.contains(&handler.name),
        })
        .collect()
}

// ---------------------------------------------------------------- the checks

/// Every way `template` disagrees with `consumers` or with the deployment rules, one
/// message each; empty when they agree.
fn check(template: &Template, consumers: &[Consumer]) -> Vec<String> {
    let mut problems = Vec::new();
    for consumer in consumers {
        check_consumer(template, consumer, &mut problems);
    }
    check_no_stray_consumers(template, consumers, &mut problems);
    check_queues(template, &mut problems);
    check_subscriptions(template, &mut problems);
    check_topics(template, &mut problems);
    check_roles(template, &mut problems);
    check_statements(&template.root, "template", &mut problems);
    problems
}

/// The SQS event sources of a function: (event name, properties).
fn sqs_events(function: &Value) -> Vec<(&str, &Value)> {
    function["Properties"]["Events"]
        .as_object()
        .map(|events| {
            events
                .iter()
                .filter(|(_, e)| e["Type"] == "SQS")
                .map(|(name, e)| (name.as_str(), &e["Properties"]))
                .collect()
        })
        .unwrap_or_default()
}

fn binary_of(function: &Value) -> Option<&str> {
    function["Metadata"]["BuildProperties"]["Binary"].as_str()
}

/// The dead-letter queue `queue` redrives to.
fn dead_letter_queue_of<'a>(template: &'a Template, queue: &str) -> Option<&'a str> {
    let policy = &template.resource(queue)?["Properties"]["RedrivePolicy"];
    arn_target(&policy["deadLetterTargetArn"])
}

fn check_consumer(template: &Template, consumer: &Consumer, problems: &mut Vec<String>) {
    let name = &consumer.name;
    let functions: Vec<(&str, &Value)> = template
        .of_type("AWS::Serverless::Function")
        .filter(|(_, f)| binary_of(f) == Some(consumer.binary.as_str()))
        .collect();
    let (function_id, function) = match functions.as_slice() {
        [one] => *one,
        [] => {
            problems.push(format!(
                "handler `{name}` is not deployed: no AWS::Serverless::Function has \
                 Metadata.BuildProperties.Binary `{}`",
                consumer.binary
            ));
            return;
        }
        many => {
            let ids: Vec<&str> = many.iter().map(|(id, _)| *id).collect();
            problems.push(format!(
                "binary `{}` is deployed by several functions {ids:?}: each handler runs in one",
                consumer.binary
            ));
            return;
        }
    };
    let bin_source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/bin")
        .join(format!("{}.rs", consumer.binary));
    if !bin_source.is_file() {
        problems.push(format!(
            "{function_id} builds binary `{}`, but the shop has no src/bin/{}.rs",
            consumer.binary, consumer.binary
        ));
    }
    if function["Metadata"]["BuildMethod"] != "rust-cargolambda" {
        problems.push(format!(
            "{function_id} must set Metadata.BuildMethod to rust-cargolambda, so that `sam build` \
             builds its binary with cargo lambda"
        ));
    }
    for (key, expected) in [
        ("Runtime", json!("provided.al2023")),
        ("Architectures", json!(["arm64"])),
        ("Handler", json!("bootstrap")),
        ("CodeUri", json!(".")),
    ] {
        let actual = template.function_property(function, key);
        if actual != Some(&expected) {
            problems.push(format!(
                "{function_id}: {key} must be {expected} (it is {})",
                actual.map_or("unset".to_owned(), Value::to_string)
            ));
        }
    }

    let events = sqs_events(function);
    let (event_name, event) = match events.as_slice() {
        [one] => *one,
        _ => {
            problems.push(format!(
                "{function_id} (handler `{name}`) must have exactly one SQS event source, it has {}",
                events.len()
            ));
            return;
        }
    };
    let reports_failures = event["FunctionResponseTypes"]
        .as_array()
        .is_some_and(|types| types.iter().any(|t| t == "ReportBatchItemFailures"));
    if !reports_failures {
        problems.push(format!(
            "{function_id}.Events.{event_name} must list ReportBatchItemFailures in \
             FunctionResponseTypes: without it Lambda ignores tidings' batchItemFailures and \
             retries or deletes whole batches"
        ));
    }
    let Some(queue) = arn_target(&event["Queue"]).filter(|q| template.is(q, "AWS::SQS::Queue"))
    else {
        problems.push(format!(
            "{function_id}.Events.{event_name}.Queue must be `!GetAtt <queue>.Arn` of a queue \
             in this template"
        ));
        return;
    };
    let queue_properties = &template.resources()[queue]["Properties"];
    let fifo = is_true(queue_properties.get("FifoQueue"));
    if fifo != consumer.fifo {
        problems.push(if consumer.fifo {
            format!(
                "handler `{name}` needs a FIFO queue (its events are handled in order per \
                 subject), but {queue} is a standard queue"
            )
        } else {
            format!(
                "handler `{name}` reads a standard queue, but {queue} is FIFO; add `{name}` to \
                 FIFO_HANDLERS in this test if it now needs ordering"
            )
        });
    }
    let batch_size = number(event.get("BatchSize"), 10);
    let window = number(event.get("MaximumBatchingWindowInSeconds"), 0);
    if fifo {
        if batch_size.is_none_or(|b| b > 10) {
            problems.push(format!(
                "{function_id}.Events.{event_name}: Lambda reads FIFO queues in batches of at \
                 most 10"
            ));
        }
        if event.get("MaximumBatchingWindowInSeconds").is_some() {
            problems.push(format!(
                "{function_id}.Events.{event_name}: FIFO queues take no batching window"
            ));
        }
    }
    let timeout = number(template.function_property(function, "Timeout"), 3);
    let visibility = number(queue_properties.get("VisibilityTimeout"), 30);
    match (timeout, window, visibility) {
        (Some(timeout), Some(window), Some(visibility)) => {
            if visibility < 6 * timeout + window {
                problems.push(format!(
                    "{queue}: VisibilityTimeout {visibility} s is less than six times the \
                     timeout of {function_id} ({timeout} s) plus its batching window \
                     ({window} s) = {} s",
                    6 * timeout + window
                ));
            }
        }
        _ => problems.push(format!(
            "{function_id} / {queue}: Timeout, MaximumBatchingWindowInSeconds and \
             VisibilityTimeout must be whole numbers of seconds"
        )),
    }

    let subscriptions: Vec<(&str, &Value)> = template
        .of_type("AWS::SNS::Subscription")
        .filter(|(_, s)| arn_target(&s["Properties"]["Endpoint"]) == Some(queue))
        .collect();
    if subscriptions.is_empty() {
        problems.push(format!(
            "{queue} (handler `{name}`) is subscribed to no topic: nothing reaches the handler"
        ));
    }
    for (subscription_id, subscription) in subscriptions {
        let policy = &subscription["Properties"]["FilterPolicy"];
        if *policy != consumer.filter_policy {
            problems.push(format!(
                "{subscription_id}: FilterPolicy is {policy}, but handler `{name}` accepts \
                 {}: copy it from `cargo run -p shop --features codegen --bin shop-codegen -- filter-policy {name}`",
                consumer.filter_policy
            ));
        }
        let scope = &subscription["Properties"]["FilterPolicyScope"];
        if !(scope.is_null() || scope == "MessageAttributes") {
            problems.push(format!(
                "{subscription_id}: FilterPolicyScope must be MessageAttributes: tidings' \
                 publisher puts the type in a message attribute, not in the body"
            ));
        }
    }

    let environment = &function["Properties"]["Environment"]["Variables"];
    if environment["TIDINGS_STORE"] != "dynamodb" {
        problems.push(format!(
            "{function_id}: TIDINGS_STORE must be dynamodb: the memory store only catches \
             duplicates within one container"
        ));
    }
    let table = ref_target(&environment["TIDINGS_TABLE"]);
    if !table.is_some_and(|t| template.is(t, "AWS::DynamoDB::Table")) {
        problems.push(format!(
            "{function_id}: TIDINGS_TABLE must be `!Ref` of the DynamoDB table"
        ));
    }
    let dead_letter = dead_letter_queue_of(template, queue);
    if dead_letter.is_none()
        || ref_target(&environment["TIDINGS_DEAD_LETTER_QUEUE_URL"]) != dead_letter
    {
        problems.push(format!(
            "{function_id}: TIDINGS_DEAD_LETTER_QUEUE_URL must be `!Ref` of {queue}'s \
             dead-letter queue, where rejected records go with their reason"
        ));
    }

    // What the runtime and the event source mapping call, each on its own resource.
    let Some(role) = arn_target(function["Properties"].get("Role").unwrap_or(&Value::Null)) else {
        return; // check_roles reports it
    };
    let mut needed: Vec<(&str, Value)> = vec![
        ("sqs:ReceiveMessage", arn_of(queue)),
        ("sqs:DeleteMessage", arn_of(queue)),
        ("sqs:GetQueueAttributes", arn_of(queue)),
    ];
    if let Some(dead_letter) = dead_letter {
        needed.push(("sqs:SendMessage", arn_of(dead_letter)));
    }
    if let Some(table) = table {
        for action in [
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        ] {
            needed.push((action, arn_of(table)));
        }
    }
    let granted = grants_of_role(template, role);
    for (action, resource) in needed {
        if !granted.contains(&(action.to_owned(), resource.to_string())) {
            problems.push(format!(
                "{role} (of {function_id}) does not allow {action} on {resource}"
            ));
        }
    }
}

/// The (action, resource) pairs a role's inline policies allow.
fn grants_of_role(template: &Template, role: &str) -> BTreeSet<(String, String)> {
    let mut granted = BTreeSet::new();
    let Some(role) = template.resource(role) else {
        return granted;
    };
    let policies = role["Properties"]["Policies"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for policy in &policies {
        for statement in one_or_many(&policy["PolicyDocument"]["Statement"]) {
            if statement["Effect"] != "Allow" {
                continue;
            }
            for action in one_or_many(&statement["Action"]) {
                for resource in one_or_many(&statement["Resource"]) {
                    if let Some(action) = action.as_str() {
                        granted.insert((action.to_owned(), resource.to_string()));
                    }
                }
            }
        }
    }
    granted
}

/// Functions fed by SQS must each run a handler of the shop.
fn check_no_stray_consumers(
    template: &Template,
    consumers: &[Consumer],
    problems: &mut Vec<String>,
) {
    for (function_id, function) in template.of_type("AWS::Serverless::Function") {
        if sqs_events(function).is_empty() {
            continue;
        }
        let binary = binary_of(function).unwrap_or("(none)");
        if !consumers.iter().any(|c| c.binary == binary) {
            problems.push(format!(
                "{function_id} reads a queue but builds binary `{binary}`, which runs no handler \
                 of the shop"
            ));
        }
    }
}

/// Every queue is encrypted, and is either a dead-letter queue or redrives to one.
fn check_queues(template: &Template, problems: &mut Vec<String>) {
    let dead_letter_queues: BTreeSet<&str> = template
        .of_type("AWS::SQS::Queue")
        .filter_map(|(id, _)| dead_letter_queue_of(template, id))
        .collect();
    for (queue, resource) in template.of_type("AWS::SQS::Queue") {
        let properties = &resource["Properties"];
        if !is_true(properties.get("SqsManagedSseEnabled"))
            && properties.get("KmsMasterKeyId").is_none()
        {
            problems.push(format!(
                "{queue} is not encrypted: set SqsManagedSseEnabled (or a KMS key)"
            ));
        }
        if dead_letter_queues.contains(queue) {
            continue;
        }
        let policy = &properties["RedrivePolicy"];
        let Some(dead_letter) =
            dead_letter_queue_of(template, queue).filter(|d| template.is(d, "AWS::SQS::Queue"))
        else {
            problems.push(format!(
                "{queue} has no RedrivePolicy to a dead-letter queue of this template: a \
                 message that always fails would be retried until it expires"
            ));
            continue;
        };
        match number(policy.get("maxReceiveCount"), 0) {
            Some(5..=1000) => {}
            other => problems.push(format!(
                "{queue}: maxReceiveCount must be from 5 (AWS's advice, so transient failures \
                 get retries) to 1000, it is {other:?}"
            )),
        }
        let dead_letter_properties = &template.resources()[dead_letter]["Properties"];
        if is_true(properties.get("FifoQueue")) != is_true(dead_letter_properties.get("FifoQueue"))
        {
            problems.push(format!(
                "{queue} and its dead-letter queue {dead_letter} must both be FIFO or both standard"
            ));
        }
        let retention = number(properties.get("MessageRetentionPeriod"), 345_600);
        let dead_letter_retention = number(
            dead_letter_properties.get("MessageRetentionPeriod"),
            345_600,
        );
        if dead_letter_retention <= retention {
            problems.push(format!(
                "{dead_letter} must keep messages longer than {queue}: a dead-lettered message \
                 keeps its first enqueue time and would expire early"
            ));
        }
    }
}

/// Subscriptions deliver raw envelopes to queues of this template that let only their
/// topics send.
fn check_subscriptions(template: &Template, problems: &mut Vec<String>) {
    for (subscription, resource) in template.of_type("AWS::SNS::Subscription") {
        let properties = &resource["Properties"];
        if properties["Protocol"] != "sqs" {
            problems.push(format!("{subscription}: Protocol must be sqs"));
        }
        if !is_true(properties.get("RawMessageDelivery")) {
            problems.push(format!(
                "{subscription}: RawMessageDelivery must be true, so the queue holds the \
                 envelope and its message attributes rather than an SNS notification"
            ));
        }
        let topic =
            ref_target(&properties["TopicArn"]).filter(|t| template.is(t, "AWS::SNS::Topic"));
        let queue =
            arn_target(&properties["Endpoint"]).filter(|q| template.is(q, "AWS::SQS::Queue"));
        let (Some(topic), Some(queue)) = (topic, queue) else {
            problems.push(format!(
                "{subscription}: TopicArn must be `!Ref` of a topic and Endpoint `!GetAtt \
                 <queue>.Arn` of a queue of this template"
            ));
            continue;
        };
        let fifo_queue = is_true(template.resources()[queue]["Properties"].get("FifoQueue"));
        let fifo_topic = is_true(template.resources()[topic]["Properties"].get("FifoTopic"));
        if fifo_queue && !fifo_topic {
            problems.push(format!(
                "{subscription}: the FIFO queue {queue} can only be subscribed to a FIFO topic"
            ));
        }
        if !queue_lets_topic_send(template, queue, topic) {
            problems.push(format!(
                "{queue} has no AWS::SQS::QueuePolicy letting sns.amazonaws.com send to it from \
                 {topic} (Condition ArnEquals aws:SourceArn)"
            ));
        }
    }
}

fn queue_lets_topic_send(template: &Template, queue: &str, topic: &str) -> bool {
    template
        .of_type("AWS::SQS::QueuePolicy")
        .any(|(_, policy)| {
            let properties = &policy["Properties"];
            let applies = properties["Queues"]
                .as_array()
                .is_some_and(|queues| queues.contains(&reference(queue)));
            applies
                && one_or_many(&properties["PolicyDocument"]["Statement"])
                    .into_iter()
                    .any(|statement| {
                        statement["Effect"] == "Allow"
                            && statement["Principal"]["Service"] == "sns.amazonaws.com"
                            && one_or_many(&statement["Action"])
                                .contains(&&json!("sqs:SendMessage"))
                            && statement["Resource"] == arn_of(queue)
                            && one_or_many(&statement["Condition"]["ArnEquals"]["aws:SourceArn"])
                                .contains(&&reference(topic))
                    })
        })
}

fn check_topics(template: &Template, problems: &mut Vec<String>) {
    for (topic, resource) in template.of_type("AWS::SNS::Topic") {
        if resource["Properties"].get("KmsMasterKeyId").is_none() {
            problems.push(format!("{topic} is not encrypted: set KmsMasterKeyId"));
        }
    }
}

/// Every function runs with a role of this template, whose statements the wildcard check
/// can see. SAM's own role would attach AWSLambdaBasicExecutionRole, whose log statements
/// allow every resource; a managed policy is likewise out of sight.
fn check_roles(template: &Template, problems: &mut Vec<String>) {
    for (function_id, function) in template.of_type("AWS::Serverless::Function") {
        let role = function["Properties"].get("Role").and_then(arn_target);
        if !role.is_some_and(|r| template.is(r, "AWS::IAM::Role")) {
            problems.push(format!(
                "{function_id} must set Role to `!GetAtt <role>.Arn` of a role in this \
                 template: SAM's generated role attaches a managed policy with wildcard resources"
            ));
        }
        if function["Properties"].get("Policies").is_some() {
            problems.push(format!(
                "{function_id}: put its permissions in its role, not Policies (ignored with Role)"
            ));
        }
    }
    for (role, resource) in template.of_type("AWS::IAM::Role") {
        if resource["Properties"].get("ManagedPolicyArns").is_some() {
            problems.push(format!(
                "{role}: no ManagedPolicyArns; write the statements inline, each on exact resources"
            ));
        }
    }
}

/// No IAM statement anywhere in `value` allows a wildcard action or resource, or grants by
/// exclusion (NotAction / NotResource).
fn check_statements(value: &Value, at: &str, problems: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            if let Some(statements) = object.get("Statement") {
                for (i, statement) in one_or_many(statements).into_iter().enumerate() {
                    let place = format!("{at}.Statement[{i}]");
                    for key in ["Action", "Resource"] {
                        if let Some(wildcard) = statement.get(key).and_then(first_wildcard) {
                            problems.push(format!(
                                "{place}: {key} `{wildcard}` has a wildcard; name exact actions \
                                 and resources"
                            ));
                        }
                    }
                    for key in ["NotAction", "NotResource"] {
                        if statement.get(key).is_some() {
                            problems.push(format!(
                                "{place}: {key} grants everything else; list what is allowed"
                            ));
                        }
                    }
                }
            }
            for (key, child) in object {
                check_statements(child, &format!("{at}.{key}"), problems);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                check_statements(child, &format!("{at}[{i}]"), problems);
            }
        }
        _ => {}
    }
}

/// The first string under `value` (a literal, or inside `!Sub` and `!Join`) with a `*`.
fn first_wildcard(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if s.contains('*') => Some(s.clone()),
        Value::Array(items) => items.iter().find_map(first_wildcard),
        Value::Object(object) => object.values().find_map(first_wildcard),
        _ => None,
    }
}

// ---------------------------------------------------------------- the tests

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
             from `cargo run -p shop --features codegen --bin shop-codegen -- filter-policy inventory`"
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
             `cargo run -p shop --features codegen --bin shop-codegen -- filter-policy payments`"
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
            "EmailFunction reads a queue but builds binary `mail`, which runs no handler of the shop",
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
            "template.Resources.InventoryRole.Properties.Policies[0].PolicyDocument.Statement[4]: \
             Action `sns:*` has a wildcard; name exact actions and resources",
            "template.Resources.InventoryRole.Properties.Policies[0].PolicyDocument.Statement[4]: \
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
             {\"Fn::GetAtt\":[\"PaymentsDeadLetterQueue\",\"Arn\"]}"
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
    use tidings::codegen::sam::{SamFunction, function_resources, to_yaml};

    let committed = Template::parse(&committed_template()).expect("template.yaml parses");
    let mut resources = Map::new();
    for shared in ["EventsTopic", "PaymentsTopic", "IdempotencyTable"] {
        let resource = committed
            .resource(shared)
            .unwrap_or_else(|| panic!("template.yaml declares {shared}"));
        resources.insert(shared.to_owned(), resource.clone());
    }
    for handler in handlers_of_crate("shop") {
        let mut function = SamFunction::new(handler);
        if FIFO_HANDLERS.contains(&handler.name) {
            function.fifo = true;
            function.topic = "PaymentsTopic".to_owned();
        }
        resources.extend(function_resources(handler, &function));
    }
    let generated = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
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
