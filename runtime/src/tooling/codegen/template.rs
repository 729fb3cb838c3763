//! The drift check of a SAM template against the handlers a program links: each consumer's
//! function, binary, queue, dead-letter queue and redrive, its event source reporting batch
//! item failures, the filter policy of its subscription (exactly the types the handler
//! accepts), FIFO where the handler needs order, visibility timeouts at least six times the
//! function timeout, roles with the exact permissions tidings needs (and those to write the
//! function's own log group), the idempotency table's key and time to live, and statements
//! without wildcards (but a KMS key policy's `Resource: "*"`, which means the key). Environment variables count from `Globals` too, as SAM merges them. A
//! team calls it from its own tests against its own template:
//!
//! ```no_run
//! # extern crate tidings as my_service; // stands for the crate of handlers
//! use tidings::codegen::template::{Consumer, Template, check};
//! // An integration test is a crate of its own: name the library so that its handlers are
//! // linked, and registered.
//! use my_service as _;
//!
//! let text = std::fs::read_to_string("template.yaml").unwrap();
//! let template = Template::parse(&text).unwrap();
//! let consumers: Vec<Consumer> = tidings::codegen::handlers_of_crate("my_service")
//!     .into_iter()
//!     .map(|handler| Consumer::of(handler, false))
//!     .collect();
//! let problems = check(&template, &consumers);
//! assert!(problems.is_empty(), "{problems:#?}");
//! ```

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::{binary_name, filter_policy};
use crate::HandlerRegistration;

// ---------------------------------------------------------------- reading the template

/// A template as JSON, with CloudFormation's short-form functions in their long form
/// (`!Ref X` is `{"Ref": "X"}`, `!GetAtt A.B` is `{"Fn::GetAtt": ["A", "B"]}`), so the checks
/// compare one spelling whichever the author used.
pub struct Template {
    /// The template as JSON, functions in their long form.
    pub root: Value,
}

impl Template {
    /// Reads a template (YAML or JSON), with short-form functions in their long form.
    pub fn parse(text: &str) -> Result<Self, String> {
        let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(text)
            .map_err(|e| format!("the template is not valid YAML: {e}"))?;
        let root = to_json(yaml)?;
        if !root.get("Resources").is_some_and(Value::is_object) {
            return Err("the template has no Resources mapping".into());
        }
        Ok(Self { root })
    }

    /// The resources, by logical id.
    pub fn resources(&self) -> &Map<String, Value> {
        self.root["Resources"]
            .as_object()
            .expect("checked in parse")
    }

    /// The resource of logical id `name`.
    pub fn resource(&self, name: &str) -> Option<&Value> {
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

    /// A SAM function's environment variables: those of `Globals.Function`, overridden by
    /// its own, as SAM merges them.
    fn function_environment(&self, function: &Value) -> Map<String, Value> {
        let variables = |properties: &Value| {
            properties["Environment"]["Variables"]
                .as_object()
                .cloned()
                .unwrap_or_default()
        };
        let mut merged = variables(&self.root["Globals"]["Function"]);
        merged.extend(variables(&function["Properties"]));
        merged
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
pub(super) fn reference(name: &str) -> Value {
    json!({ "Ref": name })
}

/// `{"Fn::GetAtt": [name, "Arn"]}`.
pub(super) fn arn_of(name: &str) -> Value {
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
pub struct Consumer {
    /// The handler's name.
    pub name: String,
    /// The binary that runs it.
    pub binary: String,
    /// The filter policy of its subscription: exactly the types it accepts.
    pub filter_policy: Value,
    /// Whether it needs a FIFO queue (its metadata says which types it accepts, not how
    /// its queue orders them).
    pub fifo: bool,
}

impl Consumer {
    /// What `handler` needs, run by its binary ([`binary_name`]), on a FIFO queue or not.
    pub fn of(handler: &HandlerRegistration, fifo: bool) -> Self {
        Self {
            name: handler.name.to_owned(),
            binary: binary_name(handler),
            filter_policy: filter_policy(handler),
            fifo,
        }
    }
}

// ---------------------------------------------------------------- the checks

/// Every way `template` disagrees with `consumers` or with the deployment rules, one
/// message each; empty when they agree.
///
/// With no consumers there is nothing to check the template against, which is reported: in
/// an integration test, `handlers_of_crate` finds the crate's handlers only once the test
/// links the crate (`use my_service as _;`).
pub fn check(template: &Template, consumers: &[Consumer]) -> Vec<String> {
    let mut problems = Vec::new();
    if consumers.is_empty() {
        problems.push(
            "no consumers to check the template against: build them from \
             `handlers_of_crate(\"your_crate\")`, and link that crate in the test \
             (`use your_crate as _;`) so its handlers are registered"
                .to_owned(),
        );
    }
    for consumer in consumers {
        check_consumer(template, consumer, &mut problems);
    }
    check_no_stray_consumers(template, consumers, &mut problems);
    check_queues(template, &mut problems);
    check_subscriptions(template, &mut problems);
    check_topics(template, &mut problems);
    check_tables(template, &mut problems);
    check_roles(template, &mut problems);
    for (id, resource) in template.resources() {
        // A key policy's `Resource` is `*` by definition: it means the key itself.
        let key_policy = matches!(
            resource["Type"].as_str(),
            Some("AWS::KMS::Key" | "AWS::KMS::ReplicaKey")
        );
        check_statements(resource, id, key_policy, &mut problems);
    }
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
    if function["Metadata"]["BuildMethod"] != "rust-cargolambda" {
        problems.push(format!(
            "{function_id} must set Metadata.BuildMethod to rust-cargolambda, so that `sam build` \
             builds its binary with cargo lambda"
        ));
    }
    let architectures = template.function_property(function, "Architectures");
    let known_architecture = match architectures.and_then(Value::as_array).map(Vec::as_slice) {
        Some([one]) => one == "arm64" || one == "x86_64" || ref_target(one).is_some(),
        _ => false,
    };
    if !known_architecture {
        problems.push(format!(
            "{function_id}: Architectures must be one of [\"arm64\"], [\"x86_64\"] or a \
             parameter reference (it is {})",
            architectures.map_or("unset".to_owned(), Value::to_string)
        ));
    }
    for (key, expected) in [
        ("Runtime", json!("provided.al2023")),
        ("Handler", json!("bootstrap")),
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
                "handler `{name}` reads a standard queue, but {queue} is FIFO; pass \
                 `Consumer::of(handler, true)` for it if it now needs ordering"
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
                 {}: copy it from your codegen binary's `filter-policy {name}`",
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

    let environment = Value::Object(template.function_environment(function));
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
    // (action, the logical id of the resource it must be allowed on, by its ARN)
    let mut needed: Vec<(&str, &str)> = vec![
        ("sqs:ReceiveMessage", queue),
        ("sqs:DeleteMessage", queue),
        ("sqs:GetQueueAttributes", queue),
    ];
    if let Some(dead_letter) = dead_letter {
        needed.push(("sqs:SendMessage", dead_letter));
    }
    if let Some(table) = table {
        for action in [
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        ] {
            needed.push((action, table));
        }
    }
    // With a role of its own, the function writes its logs (and its EMF metrics) only
    // where that role allows: to a log group of this template, named in its LoggingConfig.
    let log_group = template
        .function_property(function, "LoggingConfig")
        .and_then(|config| config.get("LogGroup"))
        .and_then(ref_target)
        .filter(|group| template.is(group, "AWS::Logs::LogGroup"));
    match log_group {
        Some(group) => {
            for action in ["logs:CreateLogStream", "logs:PutLogEvents"] {
                needed.push((action, group));
            }
        }
        None => problems.push(format!(
            "{function_id}: set LoggingConfig.LogGroup to `!Ref` of a log group in this \
             template and allow its role logs:CreateLogStream and logs:PutLogEvents on it; \
             otherwise its logs and metrics are written nowhere its role allows"
        )),
    }
    let granted = grants_of_role(template, role);
    for (action, resource) in needed {
        if !granted.contains(&(action.to_owned(), arn_of(resource).to_string())) {
            problems.push(format!(
                "{role} (of {function_id}) does not allow {action} on {resource}: add \
                 `Action: {action}` with `Resource: !GetAtt {resource}.Arn` to its policy (the \
                 role `codegen sam` writes has it)"
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

/// Functions fed by SQS must each run one of the consumers' handlers.
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
                "{function_id} reads a queue but builds binary `{binary}`, which runs none of \
                 the handlers checked; their binaries are {:?} (a handler's name in kebab case)",
                consumers.iter().map(|c| &c.binary).collect::<Vec<_>>()
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
                "{subscription}: the FIFO queue {queue} can only be subscribed to a FIFO topic, \
                 and {topic} is not one: set `FifoTopic: true` on it (with a TopicName ending \
                 in .fifo), or subscribe the queue to a FIFO topic"
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

/// Every table a function keeps its idempotency records in has the key and time to live the
/// DynamoDB store writes: the string key `id`, expiry in `expiration` (the Powertools names,
/// which a function configured by its environment uses).
fn check_tables(template: &Template, problems: &mut Vec<String>) {
    let mut tables = BTreeSet::new();
    for (_, function) in template.of_type("AWS::Serverless::Function") {
        let environment = template.function_environment(function);
        if let Some(table) = environment.get("TIDINGS_TABLE").and_then(ref_target)
            && template.is(table, "AWS::DynamoDB::Table")
        {
            tables.insert(table.to_owned());
        }
    }
    for table in tables {
        let properties = &template.resources()[&table]["Properties"];
        let key_schema = &properties["KeySchema"];
        let string_id = properties["AttributeDefinitions"]
            .as_array()
            .is_some_and(|defs| {
                defs.iter()
                    .any(|d| d["AttributeName"] == "id" && d["AttributeType"] == "S")
            });
        if *key_schema != json!([{"AttributeName": "id", "KeyType": "HASH"}]) || !string_id {
            problems.push(format!(
                "{table}: the key must be the string attribute `id` alone (KeySchema \
                 `id` HASH, AttributeDefinitions `id` S): the DynamoDB store writes each \
                 record under that key"
            ));
        }
        let ttl = &properties["TimeToLiveSpecification"];
        if ttl["AttributeName"] != "expiration" || !is_true(ttl.get("Enabled")) {
            problems.push(format!(
                "{table}: enable TimeToLiveSpecification on `expiration`, where the store \
                 writes each record's expiry; without it records are never removed"
            ));
        }
    }
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
/// exclusion (NotAction / NotResource); in a KMS key's policy (`key_policy`), `Resource: "*"`
/// stands for the key itself and is allowed.
fn check_statements(value: &Value, at: &str, key_policy: bool, problems: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            if let Some(statements) = object.get("Statement") {
                for (i, statement) in one_or_many(statements).into_iter().enumerate() {
                    let place = format!("{at}.Statement[{i}]");
                    for key in ["Action", "Resource"] {
                        if key_policy && key == "Resource" && statement[key] == "*" {
                            continue;
                        }
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
                check_statements(child, &format!("{at}.{key}"), key_policy, problems);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                check_statements(child, &format!("{at}[{i}]"), key_policy, problems);
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
