//! The AWS SAM resources of one consumer function, generated from its handler's metadata:
//! what a team would otherwise copy, about 120 lines a function, from the shop's template.
//!
//! Per function: the queue, with its dead-letter queue and redrive; the queue policy that
//! lets the topic deliver; the subscription with the filter policy of exactly the types the
//! handler accepts; the log group; a role with exactly the actions tidings needs (logs, the
//! queue, `sqs:SendMessage` on the dead-letter queue, the DynamoDB store's item writes); and
//! the function with its SQS event source reporting batch item failures. The visibility
//! timeout is six times the function timeout plus the batching window, as AWS advises for
//! SQS event sources. References use the long forms (`Ref`, `Fn::GetAtt`), which read the
//! same in JSON and YAML templates.

use serde_json::{Map, Value, json};

use super::template::{arn_of, reference};
use super::{binary_name, filter_policy};
use crate::HandlerRegistration;

/// Where the function sits in the template, and how it is fed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamFunction {
    /// The prefix of the logical ids, e.g. `Inventory`.
    pub logical_prefix: String,
    /// The binary `cargo lambda build` builds for it.
    pub binary: String,
    /// The logical id of the SNS topic it is subscribed to.
    pub topic: String,
    /// The logical id of the DynamoDB idempotency table, or `None` for the in-memory store.
    pub table: Option<String>,
    /// Whether its queue (and so the topic) is FIFO.
    pub fifo: bool,
    /// The function timeout, in seconds.
    pub timeout_secs: u32,
    /// Records per batch.
    pub batch_size: u32,
    /// How long the event source gathers a batch, in seconds (standard queues only).
    pub batching_window_secs: u32,
    /// Deliveries before the queue moves a message to its dead-letter queue.
    pub max_receive_count: u32,
}

impl SamFunction {
    /// The defaults for `handler`: named after it, built from its binary ([`binary_name`]), on
    /// topic `EventsTopic` with the table `IdempotencyTable`, 30-second timeout, batches of
    /// 10 gathered for up to 5 seconds, 5 deliveries before dead-lettering.
    pub fn new(handler: &HandlerRegistration) -> Self {
        Self {
            logical_prefix: logical_prefix(handler.name),
            binary: binary_name(handler),
            topic: "EventsTopic".to_owned(),
            table: Some("IdempotencyTable".to_owned()),
            fifo: false,
            timeout_secs: 30,
            batch_size: 10,
            batching_window_secs: 5,
            max_receive_count: 5,
        }
    }

    /// The queue's visibility timeout: at least six times the function timeout plus the
    /// batching window.
    pub fn visibility_timeout_secs(&self) -> u32 {
        6 * self.timeout_secs + self.batching_window()
    }

    /// FIFO event sources take no batching window.
    fn batching_window(&self) -> u32 {
        if self.fifo {
            0
        } else {
            self.batching_window_secs
        }
    }
}

/// `reserve_stock` → `ReserveStock`.
fn logical_prefix(name: &str) -> String {
    name.split(['_', '-'])
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The resources of `handler`'s function, by logical id.
pub fn function_resources(
    handler: &HandlerRegistration,
    function: &SamFunction,
) -> Map<String, Value> {
    let p = &function.logical_prefix;
    let (queue, dead_letters, policy, subscription, logs, role, lambda) = (
        format!("{p}Queue"),
        format!("{p}DeadLetterQueue"),
        format!("{p}QueuePolicy"),
        format!("{p}Subscription"),
        format!("{p}LogGroup"),
        format!("{p}Role"),
        format!("{p}Function"),
    );
    let fifo = |mut properties: Value| {
        if function.fifo {
            properties["FifoQueue"] = json!(true);
        }
        properties
    };

    let mut statements = vec![
        json!({"Sid": "WriteLogs", "Effect": "Allow",
               "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
               "Resource": arn_of(&logs)}),
        json!({"Sid": "ReadQueue", "Effect": "Allow",
               "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
               "Resource": arn_of(&queue)}),
        json!({"Sid": "DeadLetter", "Effect": "Allow", "Action": "sqs:SendMessage",
               "Resource": arn_of(&dead_letters)}),
    ];
    let mut variables = Map::new();
    match &function.table {
        Some(table) => {
            statements.push(json!({"Sid": "Idempotency", "Effect": "Allow",
                "Action": ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                "Resource": arn_of(table)}));
            variables.insert("TIDINGS_STORE".into(), json!("dynamodb"));
            variables.insert("TIDINGS_TABLE".into(), reference(table));
        }
        None => {
            variables.insert("TIDINGS_STORE".into(), json!("memory"));
        }
    }
    variables.insert(
        "TIDINGS_DEAD_LETTER_QUEUE_URL".into(),
        reference(&dead_letters),
    );

    let mut source = json!({
        "Queue": arn_of(&queue),
        "BatchSize": function.batch_size,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
    });
    if function.batching_window() > 0 {
        source["MaximumBatchingWindowInSeconds"] = json!(function.batching_window());
    }

    let mut resources = Map::new();
    resources.insert(
        queue.clone(),
        json!({
            "Type": "AWS::SQS::Queue",
            "Properties": fifo(json!({
                "VisibilityTimeout": function.visibility_timeout_secs(),
                "SqsManagedSseEnabled": true,
                "RedrivePolicy": {
                    "deadLetterTargetArn": arn_of(&dead_letters),
                    "maxReceiveCount": function.max_receive_count,
                },
            })),
        }),
    );
    resources.insert(
        dead_letters.clone(),
        json!({
            "Type": "AWS::SQS::Queue",
            "Properties": fifo(json!({
                // Longer than the source queue's retention: a message keeps its enqueue time.
                "MessageRetentionPeriod": 1_209_600,
                "SqsManagedSseEnabled": true,
            })),
        }),
    );
    resources.insert(
        policy,
        json!({
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [reference(&queue)],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Sid": "TopicDelivers",
                        "Effect": "Allow",
                        "Principal": {"Service": "sns.amazonaws.com"},
                        "Action": "sqs:SendMessage",
                        "Resource": arn_of(&queue),
                        "Condition": {"ArnEquals": {"aws:SourceArn": reference(&function.topic)}},
                    }],
                },
            },
        }),
    );
    resources.insert(
        subscription,
        json!({
            "Type": "AWS::SNS::Subscription",
            "Properties": {
                "TopicArn": reference(&function.topic),
                "Protocol": "sqs",
                "Endpoint": arn_of(&queue),
                "RawMessageDelivery": true,
                "FilterPolicyScope": "MessageAttributes",
                "FilterPolicy": filter_policy(handler),
            },
        }),
    );
    resources.insert(
        logs.clone(),
        json!({
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"RetentionInDays": 30},
        }),
    );
    resources.insert(
        role.clone(),
        json!({
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow",
                                   "Principal": {"Service": "lambda.amazonaws.com"},
                                   "Action": "sts:AssumeRole"}],
                },
                "Policies": [{
                    "PolicyName": handler.name,
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                }],
            },
        }),
    );
    resources.insert(
        lambda,
        json!({
            "Type": "AWS::Serverless::Function",
            "Metadata": {
                "BuildMethod": "rust-cargolambda",
                "BuildProperties": {"Binary": function.binary},
            },
            "Properties": {
                "Role": arn_of(&role),
                "Timeout": function.timeout_secs,
                "LoggingConfig": {"LogFormat": "JSON", "LogGroup": reference(&logs)},
                "Environment": {"Variables": variables},
                "Events": {"Queue": {"Type": "SQS", "Properties": source}},
            },
        }),
    );
    resources
}

/// `value` as YAML, indented by `indent` spaces: block mappings and sequences, strings
/// quoted as JSON strings (which YAML reads as they are), so the output pastes into a SAM
/// template.
pub fn to_yaml(value: &Value, indent: usize) -> String {
    let mut out = String::new();
    write_yaml(value, indent, &mut out);
    out
}

fn write_yaml(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                out.push_str(&format!("{pad}{}:", yaml_key(key)));
                write_nested(item, indent, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                out.push_str(&format!("{pad}-"));
                match item {
                    Value::Object(map) if !map.is_empty() => {
                        // The first key on the dash's line, the rest aligned under it.
                        let mut nested = String::new();
                        write_yaml(item, indent + 2, &mut nested);
                        out.push(' ');
                        out.push_str(nested.trim_start());
                    }
                    _ => write_nested(item, indent, out),
                }
            }
        }
        // JSON's spelling of a scalar is YAML's too; strings come quoted.
        scalar => out.push_str(&format!("{pad}{scalar}\n")),
    }
}

fn write_nested(item: &Value, indent: usize, out: &mut String) {
    match item {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_yaml(item, indent + 2, out);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_yaml(item, indent + 2, out);
        }
        Value::Object(_) => out.push_str(" {}\n"),
        Value::Array(_) => out.push_str(" []\n"),
        scalar => out.push_str(&format!(" {scalar}\n")),
    }
}

fn yaml_key(key: &str) -> String {
    if key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '.'))
        && !key.is_empty()
        && !key.contains(": ")
    {
        key.to_owned()
    } else {
        Value::String(key.to_owned()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logical_prefixes_are_pascal_case() {
        assert_eq!(logical_prefix("reserve_stock"), "ReserveStock");
        assert_eq!(logical_prefix("email"), "Email");
    }

    #[test]
    fn yaml_reads_back_as_the_same_value() {
        let value = json!({"A": {"B": [1, "x: y", {"C": true, "D": [{"E": null}]}], "F": {}}});
        let yaml = to_yaml(&value, 0);
        assert_eq!(
            yaml,
            "A:\n  B:\n    - 1\n    - \"x: y\"\n    - C: true\n      D:\n        - E: null\n  F: {}\n"
        );
    }
}
