//! The invocation Lambda's SQS event source mapping sends for a batch of a simulated queue,
//! so the consumers' pipelines read exactly what they read when deployed.

use serde_json::{Map, Value, json};
use tidings::transport::Invocation;

use super::queue::SimMessage;

/// The region the simulated queues live in.
pub const REGION: &str = "eu-west-1";
/// The account the simulated queues belong to.
pub const ACCOUNT: &str = "000000000000";

/// The ARN of the simulated queue called `name`.
pub fn queue_arn(name: &str) -> String {
    format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{name}")
}

/// The SQS invocation of `messages` from queue `queue`; `epoch_ms` is the wall-clock time of
/// the demo clock's zero, so timestamps look like the ones SQS writes.
pub fn invocation(queue: &str, messages: &[SimMessage], epoch_ms: u64) -> Invocation {
    let arn = queue_arn(queue);
    let records: Vec<Value> = messages
        .iter()
        .map(|message| record(&arn, message, epoch_ms))
        .collect();
    serde_json::from_value(json!({ "Records": records }))
        .expect("the demo's SQS records are a valid invocation")
}

fn record(arn: &str, message: &SimMessage, epoch_ms: u64) -> Value {
    let sent = (epoch_ms + message.sent_ms).to_string();
    let mut attributes = json!({
        "ApproximateReceiveCount": message.receive_count.to_string(),
        "SentTimestamp": sent,
        "SenderId": "AIDADEMO",
        "ApproximateFirstReceiveTimestamp": sent,
    });
    if let Some(group) = &message.group {
        attributes["MessageGroupId"] = json!(group);
        attributes["MessageDeduplicationId"] = json!(message.id);
    }
    let message_attributes: Map<String, Value> = message
        .attributes
        .iter()
        .map(|(name, value)| {
            (
                name.clone(),
                json!({"stringValue": value, "dataType": "String", "stringListValues": [], "binaryListValues": []}),
            )
        })
        .collect();
    json!({
        "messageId": message.id,
        "receiptHandle": format!("handle-{}-{}", message.id, message.receive_count),
        "body": message.body,
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": REGION,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn each_message_becomes_a_delivery_with_its_count_group_and_attributes() {
        let mut message = SimMessage::new(
            "m-1".into(),
            "{\"x\":1}".into(),
            BTreeMap::from([("type".to_owned(), "shop.order.placed".to_owned())]),
            Some("order-1".into()),
            0,
            250,
        );
        message.receive_count = 2;
        let deliveries = invocation("shop-payments.fifo", &[message], 1_000).deliveries();
        let delivery = deliveries[0].as_ref().unwrap();
        assert_eq!(delivery.message_id, "m-1");
        assert_eq!(delivery.body, "{\"x\":1}");
        assert_eq!(delivery.receive_count, 2);
        assert_eq!(delivery.group_id.as_deref(), Some("order-1"));
        assert_eq!(delivery.sent_at, Some(1_250));
        assert!(delivery.is_fifo());
        assert_eq!(delivery.attributes["type"], "shop.order.placed");
    }
}
