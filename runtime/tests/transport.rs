//! Transport decoding: Lambda invocation payloads (SQS, SNS, SNS→SQS) to one delivery or
//! error per record.
//!
//! Inputs come from three places: the fixtures `aws_lambda_events` ships (read from its crate
//! source, found with `cargo metadata`), records written here to hit each failure, and bodies
//! that the local AWS-API server delivered from a real SNS topic to SQS queues.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::json;
use serde_json::value::RawValue;
use tidings::ReasonCode;
use tidings::transport::{
    Delivery, Invocation, Transport, TransportError, decode_sns_record, decode_sqs_record,
};

/// Deserializes a payload exactly as `lambda_runtime` does: serde_json under
/// serde_path_to_error. Raw values only work with serde_json's own deserializer, so this is
/// the path that must be proven.
fn invocation(json: &str) -> Result<Invocation, String> {
    let deserializer = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(deserializer).map_err(|error| error.to_string())
}

fn raw(value: &serde_json::Value) -> Box<RawValue> {
    RawValue::from_string(value.to_string()).unwrap()
}

/// The `src/fixtures` directory of the aws_lambda_events crate this workspace builds with.
fn lambda_events_fixtures() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let cargo = |args: &[&str]| {
            let output = std::process::Command::new(env!("CARGO"))
                .args(args)
                .output()
                .expect("cargo could not be run");
            assert!(
                output.status.success(),
                "cargo {args:?} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            output.stdout
        };
        // Only this platform's dependencies are on disk: resolving every platform's would
        // need the network.
        let version = String::from_utf8(cargo(&["-vV"])).unwrap();
        let host = version
            .lines()
            .find_map(|line| line.strip_prefix("host: "))
            .expect("cargo -vV names no host");
        let metadata = cargo(&[
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--filter-platform",
            host,
            "--manifest-path",
            concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"),
        ]);
        let metadata: serde_json::Value = serde_json::from_slice(&metadata).unwrap();
        let manifest = metadata["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|package| package["name"] == "aws_lambda_events")
            .expect("aws_lambda_events is not in the dependency graph")["manifest_path"]
            .as_str()
            .unwrap();
        let dir = PathBuf::from(manifest)
            .parent()
            .unwrap()
            .join("src/fixtures");
        assert!(dir.is_dir(), "{} is missing", dir.display());
        dir
    })
}

fn lambda_events_fixture(name: &str) -> String {
    let path = lambda_events_fixtures().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn own_fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn attributes(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

fn transport_error(
    message_id: Option<&str>,
    body: Option<&str>,
    code: ReasonCode,
    message: &str,
) -> TransportError {
    TransportError {
        message_id: message_id.map(str::to_owned),
        body: body.map(str::to_owned),
        reason: tidings::Reason::new(code, message),
    }
}

const QUEUE_ARN: &str = "arn:aws:sqs:eu-west-1:123456789012:orders";
const TOPIC_ARN: &str = "arn:aws:sns:eu-west-1:123456789012:shop-events";

/// A CloudEvents envelope as a producer would publish it, with text that JSON must escape.
const ENVELOPE: &str = r#"{"specversion":"1.0","id":"0193a5b2-7c1d-7e3f-8a9b-0c1d2e3f4a5b","source":"orders-service","type":"shop.order.placed","subject":"order-42","dataversion":2,"sequence":"00000000000000000007","data":{"order_id":"order-42","note":"naïve \"quoted\"\nline ✓"}}"#;

/// An SQS record as Lambda passes it, from a standard queue.
fn sqs_record(message_id: &str, body: &str) -> serde_json::Value {
    json!({
        "messageId": message_id,
        "receiptHandle": "handle",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1764000000000",
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": "1764000000100"
        },
        "messageAttributes": {},
        "md5OfBody": "0",
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": "eu-west-1"
    })
}

/// The delivery of [`sqs_record`] with a raw envelope body.
fn raw_delivery(message_id: &str, body: &str) -> Delivery {
    Delivery {
        message_id: message_id.to_owned(),
        body: body.to_owned(),
        transport: Transport::Sqs,
        receive_count: 1,
        group_id: None,
        source_arn: Some(QUEUE_ARN.to_owned()),
        sent_at: Some(1_764_000_000_000),
        attributes: BTreeMap::new(),
    }
}

/// An SNS notification as SNS writes it into an SQS body without raw delivery, with the URL
/// keys spelled `URL` (as SNS→SQS does) or `Url` (as SNS→Lambda does).
fn notification_body(message: &str, url_spelling: &str) -> String {
    json!({
        "Type": "Notification",
        "MessageId": "7a1c34f6-0c53-5d36-9a8e-7d1f9f6c2b10",
        "TopicArn": TOPIC_ARN,
        "Message": message,
        "Timestamp": "2026-11-22T10:00:00.250Z",
        "SignatureVersion": "2",
        "Signature": "c2lnbmF0dXJl",
        format!("SigningCert{url_spelling}"): "https://sns.eu-west-1.amazonaws.com/cert.pem",
        format!("Unsubscribe{url_spelling}"): "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe",
        "MessageAttributes": {
            "type": {"Type": "String", "Value": "shop.order.placed"},
            "dataversion": {"Type": "Number", "Value": "2"},
            "blob": {"Type": "Binary", "Value": "AAEC"}
        }
    })
    .to_string()
}

/// 2026-11-22T10:00:00.250Z in epoch milliseconds.
const NOTIFICATION_MILLIS: u64 = 1_795_341_600_250;

/// An SNS record as Lambda passes it when SNS invokes the function.
fn sns_record(sns: serde_json::Value) -> serde_json::Value {
    json!({
        "EventVersion": "1.0",
        "EventSubscriptionArn": format!("{TOPIC_ARN}:5f2a7d5e-1111-4a7b-9c3d-000000000001"),
        "EventSource": "aws:sns",
        "Sns": sns
    })
}

fn sns_message(message: &str) -> serde_json::Value {
    json!({
        "Type": "Notification",
        "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
        "TopicArn": TOPIC_ARN,
        "Subject": null,
        "Message": message,
        "Timestamp": "2026-11-22T10:00:00.250Z",
        "SignatureVersion": "1",
        "Signature": "c2lnbmF0dXJl",
        "SigningCertUrl": "https://sns.eu-west-1.amazonaws.com/cert.pem",
        "UnsubscribeUrl": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe",
        "MessageAttributes": {
            "type": {"Type": "String", "Value": "shop.order.placed"},
            "blob": {"Type": "Binary", "Value": "AAEC"}
        }
    })
}

#[test]
fn the_sqs_fixture_of_aws_lambda_events_decodes_with_its_attributes() {
    let invocation = invocation(&lambda_events_fixture("example-sqs-event.json")).unwrap();
    assert!(matches!(invocation, Invocation::Sqs(ref records) if records.len() == 1));
    assert_eq!(
        invocation.deliveries(),
        vec![Ok(Delivery {
            message_id: "MessageID_1".to_owned(),
            body: "Message Body".to_owned(),
            transport: Transport::Sqs,
            receive_count: 2,
            group_id: None,
            source_arn: Some("arn:aws:sqs:us-west-2:123456789012:SQSQueue".to_owned()),
            sent_at: Some(1_520_621_625_029),
            // Attribute3 is binary: only string-valued attributes are kept.
            attributes: attributes(&[("Attribute1", "AttributeValue1"), ("Attribute2", "123")]),
        })]
    );
}

#[test]
fn a_json_sqs_body_that_is_not_sns_is_passed_on_as_it_is() {
    let invocation = invocation(&lambda_events_fixture("example-sqs-event-obj.json")).unwrap();
    let deliveries = invocation.deliveries();
    let delivery = deliveries[0].as_ref().unwrap();
    assert_eq!(delivery.body, r#"{"a":"Test","b":123}"#);
    assert_eq!(delivery.transport, Transport::Sqs);
    assert_eq!(deliveries.len(), 1);
}

#[test]
fn the_sns_fixtures_decode_with_either_spelling_of_the_url_keys() {
    for name in [
        "example-sns-event.json",
        "example-sns-event-pascal-case.json",
    ] {
        let invocation = invocation(&lambda_events_fixture(name)).unwrap();
        assert!(matches!(invocation, Invocation::Sns(_)), "{name}");
        assert_eq!(
            invocation.deliveries(),
            vec![Ok(Delivery {
                message_id: "82833b5c-8d5d-56d0-b0e1-7511f8253eb8".to_owned(),
                body: "Hello\r\nworld!".to_owned(),
                transport: Transport::Sns,
                receive_count: 1,
                group_id: None,
                source_arn: Some("arn:aws:sns:us-east-1:246796806071:snsNetTest".to_owned()),
                sent_at: Some(1_439_920_952_111),
                attributes: BTreeMap::new(),
            })],
            "{name}"
        );
    }
}

#[test]
fn sns_confirmations_in_an_sqs_body_are_not_events_and_say_what_to_do() {
    let cases = [
        (
            "example-sns-subscription-confirmation.json",
            "an SNS SubscriptionConfirmation of topic arn:aws:sns:us-east-1:123456789012:MyTopic, not an event: confirm the subscription through the message's SubscribeURL (or ConfirmSubscription with its Token), and enable raw message delivery on the subscription so that bodies are envelopes",
        ),
        (
            "example-sns-unsubscribe-confirmation.json",
            "an SNS UnsubscribeConfirmation of topic arn:aws:sns:us-east-1:123456789012:MyTopic, not an event: the subscription was deleted; to receive events again, confirm it through the message's SubscribeURL or subscribe again, and enable raw message delivery on the subscription so that bodies are envelopes",
        ),
    ];
    for (name, message) in cases {
        let body = lambda_events_fixture(name);
        let record = raw(&sqs_record("sqs-1", &body));
        assert_eq!(
            decode_sqs_record(&record),
            Err(transport_error(
                Some("sqs-1"),
                Some(&body),
                ReasonCode::NotAnEvent,
                message
            )),
            "{name}"
        );
    }
}

#[test]
fn sns_confirmations_in_an_sns_record_are_not_events() {
    let fixture: serde_json::Value = serde_json::from_str(&lambda_events_fixture(
        "example-sns-subscription-confirmation.json",
    ))
    .unwrap();
    let text = fixture["Message"].as_str().unwrap().to_owned();
    let record = raw(&sns_record(fixture));
    assert_eq!(
        decode_sns_record(&record),
        Err(transport_error(
            Some("165545c9-2a5c-472c-8df2-7ff2be2b3b1b"),
            Some(&text),
            ReasonCode::NotAnEvent,
            "an SNS SubscriptionConfirmation of topic arn:aws:sns:us-east-1:123456789012:MyTopic, not an event: confirm the subscription through the message's SubscribeURL (or ConfirmSubscription with its Token)",
        ))
    );
}

#[test]
fn a_wrapped_notification_is_unwrapped_with_either_url_spelling() {
    for spelling in ["URL", "Url"] {
        let body = notification_body(ENVELOPE, spelling);
        let record = raw(&sqs_record("sqs-1", &body));
        assert_eq!(
            decode_sqs_record(&record),
            Ok(Delivery {
                transport: Transport::SnsViaSqs,
                // The publish time, not the later time SNS put it in the queue.
                sent_at: Some(NOTIFICATION_MILLIS),
                attributes: attributes(&[("dataversion", "2"), ("type", "shop.order.placed")]),
                ..raw_delivery("sqs-1", ENVELOPE)
            }),
            "{spelling}"
        );
    }
}

#[test]
fn an_sns_record_keeps_its_string_attributes_and_topic() {
    let record = raw(&sns_record(sns_message(ENVELOPE)));
    assert_eq!(
        decode_sns_record(&record),
        Ok(Delivery {
            message_id: "95df01b4-ee98-5cb9-9903-4c221d41eb5e".to_owned(),
            body: ENVELOPE.to_owned(),
            transport: Transport::Sns,
            receive_count: 1,
            group_id: None,
            source_arn: Some(TOPIC_ARN.to_owned()),
            sent_at: Some(NOTIFICATION_MILLIS),
            attributes: attributes(&[("type", "shop.order.placed")]),
        })
    );
}

#[test]
fn fifo_records_carry_their_group_and_count() {
    let fifo_arn = "arn:aws:sqs:eu-west-1:123456789012:orders.fifo";
    let mut record = sqs_record("fifo-1", ENVELOPE);
    record["eventSourceARN"] = json!(fifo_arn);
    record["attributes"] = json!({
        "ApproximateReceiveCount": "3",
        "SentTimestamp": "1764000000000",
        "SequenceNumber": "18849496460467696128",
        "MessageGroupId": "order-42",
        "MessageDeduplicationId": "0193a5b2-7c1d-7e3f-8a9b-0c1d2e3f4a5b",
        "SenderId": "AIDAEXAMPLE",
        "ApproximateFirstReceiveTimestamp": "1764000000100"
    });
    record["messageAttributes"] = json!({
        "type": {"stringValue": "shop.order.placed", "stringListValues": [], "binaryListValues": [], "dataType": "String"}
    });
    let delivery = decode_sqs_record(&raw(&record)).unwrap();
    assert_eq!(
        delivery,
        Delivery {
            receive_count: 3,
            group_id: Some("order-42".to_owned()),
            source_arn: Some(fifo_arn.to_owned()),
            attributes: attributes(&[("type", "shop.order.placed")]),
            ..raw_delivery("fifo-1", ENVELOPE)
        }
    );
    assert!(delivery.is_fifo());

    let standard = decode_sqs_record(&raw(&sqs_record("std-1", ENVELOPE))).unwrap();
    assert!(!standard.is_fifo());
    let sns = decode_sns_record(&raw(&sns_record(sns_message(ENVELOPE)))).unwrap();
    assert!(!sns.is_fifo());
}

#[test]
fn a_missing_receive_count_counts_as_the_first_delivery() {
    let mut record = sqs_record("sqs-1", ENVELOPE);
    record["attributes"] = json!({});
    let delivery = decode_sqs_record(&raw(&record)).unwrap();
    assert_eq!(delivery.receive_count, 1);
    assert_eq!(delivery.sent_at, None);
}

/// Every record of a batch gets its own result, in order, whatever the others hold; the
/// batch is read the way lambda_runtime reads it.
#[test]
fn a_mixed_batch_gives_one_result_per_record() {
    let mut missing_body = sqs_record("no-body", "");
    missing_body.as_object_mut().unwrap().remove("body");
    let mut bad_attributes = sqs_record("bad-attributes", ENVELOPE);
    bad_attributes["attributes"] = json!("not a map");
    let mut numeric_id = sqs_record("x", ENVELOPE);
    numeric_id["messageId"] = json!(7);
    let mut no_id = sqs_record("x", ENVELOPE);
    no_id.as_object_mut().unwrap().remove("messageId");
    let mut foreign = sqs_record("foreign", ENVELOPE);
    foreign["eventSource"] = json!("aws:kinesis");

    // A lone surrogate cannot be written through serde_json::Value: splice it into the text.
    let surrogate_record = sqs_record("surrogate", "PLACEHOLDER")
        .to_string()
        .replace("PLACEHOLDER", r#"{\"data\":\"\ud800\"}"#);

    let wrapped = notification_body(ENVELOPE, "URL");
    let records = [
        sqs_record("good-1", ENVELOPE).to_string(),
        surrogate_record,
        missing_body.to_string(),
        sqs_record("empty-body", "").to_string(),
        "42".to_owned(),
        bad_attributes.to_string(),
        numeric_id.to_string(),
        no_id.to_string(),
        foreign.to_string(),
        sqs_record("wrapped", &wrapped).to_string(),
        sqs_record("good-2", "not even JSON").to_string(),
    ];
    let payload = format!(r#"{{"Records":[{}]}}"#, records.join(","));
    let invocation = invocation(&payload).unwrap();
    assert!(matches!(invocation, Invocation::Sqs(_)));
    assert_eq!(invocation.len(), records.len());

    let results = invocation.deliveries();
    let expected = vec![
        Ok(raw_delivery("good-1", ENVELOPE)),
        Err(transport_error(
            Some("surrogate"),
            None,
            ReasonCode::Transport,
            "the body is not valid UTF-8/Unicode text (unexpected end of hex escape at line 1 column 21): a lone surrogate escape such as \\ud800 has no UTF-8 form; the producer must send valid Unicode",
        )),
        Err(transport_error(
            Some("no-body"),
            None,
            ReasonCode::Transport,
            "empty body: the message carries no envelope",
        )),
        Err(transport_error(
            Some("empty-body"),
            None,
            ReasonCode::Transport,
            "empty body: the message carries no envelope",
        )),
        Err(transport_error(
            None,
            None,
            ReasonCode::Transport,
            "the SQS record is not a JSON object",
        )),
        Err(transport_error(
            Some("bad-attributes"),
            Some(ENVELOPE),
            ReasonCode::Transport,
            &format!(
                "the SQS record could not be read: invalid type: string \"not a map\", expected a map at line 1 column {}",
                bad_attributes.to_string().find("\"not a map\"").unwrap() + "\"not a map\"".len()
            ),
        )),
        Err(transport_error(
            None,
            Some(ENVELOPE),
            ReasonCode::Transport,
            &format!(
                "the SQS record could not be read: invalid type: integer `7`, expected a string at line 1 column {}",
                numeric_id.to_string().find(":7").unwrap() + 2
            ),
        )),
        Err(transport_error(
            None,
            Some(ENVELOPE),
            ReasonCode::Transport,
            "the SQS record has no messageId",
        )),
        Err(transport_error(
            Some("foreign"),
            Some(ENVELOPE),
            ReasonCode::Transport,
            "the record's eventSource is `aws:kinesis`, not `aws:sqs`: an SQS invocation holds only SQS records",
        )),
        Ok(Delivery {
            transport: Transport::SnsViaSqs,
            sent_at: Some(NOTIFICATION_MILLIS),
            attributes: attributes(&[("dataversion", "2"), ("type", "shop.order.placed")]),
            ..raw_delivery("wrapped", ENVELOPE)
        }),
        // Not an envelope either, but that is for the envelope decoder to say.
        Ok(raw_delivery("good-2", "not even JSON")),
    ];
    assert_eq!(results.len(), expected.len());
    for (index, (result, expected)) in results.iter().zip(&expected).enumerate() {
        assert_eq!(result, expected, "record {index}");
    }
}

#[test]
fn a_lone_surrogate_in_an_sns_message_fails_that_record_only() {
    let sns = sns_message("PLACEHOLDER")
        .to_string()
        .replace("PLACEHOLDER", r"\udc00 trailing");
    let record = RawValue::from_string(
        sns_record(json!("SNS"))
            .to_string()
            .replace(r#""SNS""#, &sns),
    )
    .unwrap();
    assert_eq!(
        decode_sns_record(&record),
        Err(transport_error(
            Some("95df01b4-ee98-5cb9-9903-4c221d41eb5e"),
            None,
            ReasonCode::Transport,
            "the SNS Message is not valid UTF-8/Unicode text (lone leading surrogate in hex escape at line 1 column 7): a lone surrogate escape such as \\ud800 has no UTF-8 form; the producer must send valid Unicode",
        ))
    );
}

#[test]
fn a_lone_surrogate_in_a_wrapped_message_fails_that_record_only() {
    // In the body text the inner Message holds the escape `\ud800`; in the record JSON the
    // body's backslash is itself escaped, so the record reads fine and the body is text.
    let body = notification_body("PLACEHOLDER", "URL").replace("PLACEHOLDER", r"\ud800");
    let record = raw(&sqs_record("sqs-1", &body));
    assert_eq!(
        decode_sqs_record(&record),
        Err(transport_error(
            Some("sqs-1"),
            Some(&body),
            ReasonCode::Transport,
            "the Message of the SNS notification in the body is not valid UTF-8/Unicode text (unexpected end of hex escape at line 1 column 8): a lone surrogate escape such as \\ud800 has no UTF-8 form; the producer must send valid Unicode",
        ))
    );
}

#[test]
fn an_unreadable_sns_record_keeps_its_message_id() {
    let mut sns = sns_message(ENVELOPE);
    sns["Timestamp"] = json!("yesterday");
    let record = raw(&sns_record(sns));
    let error = decode_sns_record(&record).unwrap_err();
    assert_eq!(
        error.message_id.as_deref(),
        Some("95df01b4-ee98-5cb9-9903-4c221d41eb5e")
    );
    assert_eq!(error.body.as_deref(), Some(ENVELOPE));
    assert_eq!(error.reason.code, ReasonCode::Transport);
    assert!(
        error
            .reason
            .message
            .starts_with("the SNS record could not be read: input contains invalid characters"),
        "{}",
        error.reason.message
    );
}

#[test]
fn an_empty_sns_message_is_an_empty_body() {
    let record = raw(&sns_record(sns_message("")));
    assert_eq!(
        decode_sns_record(&record),
        Err(transport_error(
            Some("95df01b4-ee98-5cb9-9903-4c221d41eb5e"),
            None,
            ReasonCode::Transport,
            "empty body: the message carries no envelope",
        ))
    );
}

#[test]
fn the_service_is_told_by_the_first_record_that_names_one() {
    assert!(matches!(
        invocation(r#"{"Records":[]}"#).unwrap(),
        Invocation::Sqs(records) if records.is_empty()
    ));
    let garbage_first = format!(
        r#"{{"Records":[[1,2],{}]}}"#,
        sns_record(sns_message(ENVELOPE))
    );
    let invocation_ = invocation(&garbage_first).unwrap();
    assert!(matches!(invocation_, Invocation::Sns(_)));
    let results = invocation_.deliveries();
    assert_eq!(results.len(), 2);
    assert_eq!(
        results[0],
        Err(transport_error(
            None,
            None,
            ReasonCode::Transport,
            "the SNS record is not a JSON object",
        ))
    );
    assert_eq!(results[1].as_ref().unwrap().body, ENVELOPE);
}

#[test]
fn payloads_that_are_not_sqs_or_sns_invocations_say_so() {
    let cases = [
        (
            "[]",
            "invalid type: sequence, expected an SQS or SNS invocation: a JSON object with a `Records` array at line 1 column 0",
        ),
        (
            r#"{"detail-type":"Scheduled Event"}"#,
            "the payload is neither an SQS nor an SNS invocation: it has no `Records` array at line 1 column 33",
        ),
        (
            r#"{"Records":[{"eventSource":"aws:kinesis"}]}"#,
            "the payload is neither an SQS nor an SNS invocation: its records come from `aws:kinesis` at line 1 column 43",
        ),
        (
            r#"{"Records":[1,{"body":"x"}]}"#,
            "the payload is neither an SQS nor an SNS invocation: no record names its source (`eventSource` or `EventSource`) at line 1 column 28",
        ),
        (
            r#"{"Records":{}}"#,
            "Records: invalid type: map, expected a sequence at line 1 column 11",
        ),
    ];
    for (payload, message) in cases {
        assert_eq!(invocation(payload).unwrap_err(), message, "{payload}");
    }
}

/// A body captured from the local AWS-API server: what SNS→SQS without raw delivery puts in
/// the queue (see tests/fixtures/README.md).
#[test]
fn the_captured_wrapped_body_decodes_to_its_envelope() {
    let body = own_fixture("sns-to-sqs-notification-body.json");
    let wrapped: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(wrapped.get("SigningCertURL").is_some());
    let delivery = decode_sqs_record(&raw(&sqs_record("captured", &body))).unwrap();
    assert_eq!(delivery.transport, Transport::SnsViaSqs);
    // The envelope the capturing test published, unescaped from the pretty-printed JSON.
    assert_eq!(delivery.body, ENVELOPE);
    assert_eq!(delivery.message_id, "captured");
    // The notification's Timestamp, 2026-11-23T07:13:53.381Z.
    assert_eq!(delivery.sent_at, Some(1_795_418_033_381));
    assert_eq!(
        delivery.attributes,
        attributes(&[("dataversion", "2"), ("type", "shop.order.placed")])
    );
}

mod local_server {
    //! SNS→SQS through the local AWS-API server: the same publish, received from a queue
    //! with raw delivery and from one without, must decode to the same envelope.

    use super::*;
    use aws_sdk_sns::types::MessageAttributeValue;
    use aws_sdk_sqs::types::{Message, MessageSystemAttributeName, QueueAttributeName};

    struct Queue {
        url: String,
        arn: String,
    }

    async fn create_queue(sqs: &aws_sdk_sqs::Client, name: &str) -> Queue {
        let url = sqs
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        let attributes = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap();
        let arn = attributes.attributes().unwrap()[&QueueAttributeName::QueueArn].clone();
        Queue { url, arn }
    }

    async fn receive_one(sqs: &aws_sdk_sqs::Client, queue: &Queue) -> Message {
        let received = sqs
            .receive_message()
            .queue_url(&queue.url)
            .max_number_of_messages(10)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .wait_time_seconds(2)
            .send()
            .await
            .unwrap();
        let mut messages = received.messages.unwrap_or_default();
        assert_eq!(messages.len(), 1, "messages in {}", queue.url);
        messages.remove(0)
    }

    /// The record Lambda's event source mapping would build from a received message.
    fn lambda_record(message: &Message, queue: &Queue) -> serde_json::Value {
        let system: serde_json::Map<String, serde_json::Value> = message
            .attributes()
            .unwrap()
            .iter()
            .map(|(name, value)| (name.as_str().to_owned(), json!(value)))
            .collect();
        let user: serde_json::Map<String, serde_json::Value> = message
            .message_attributes()
            .unwrap_or(&Default::default())
            .iter()
            .map(|(name, value)| {
                (
                    name.clone(),
                    json!({
                        "stringValue": value.string_value(),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value.data_type(),
                    }),
                )
            })
            .collect();
        json!({
            "messageId": message.message_id().unwrap(),
            "receiptHandle": message.receipt_handle().unwrap(),
            "body": message.body().unwrap(),
            "attributes": system,
            "messageAttributes": user,
            "md5OfBody": message.md5_of_body().unwrap(),
            "eventSource": "aws:sqs",
            "eventSourceARN": queue.arn,
            "awsRegion": common::DEFAULT_REGION,
        })
    }

    #[tokio::test]
    async fn raw_and_wrapped_sns_to_sqs_bodies_decode_to_the_same_envelope() {
        let config = common::sdk_config().await;
        let sns = aws_sdk_sns::Client::new(&config);
        let sqs = aws_sdk_sqs::Client::new(&config);

        let topic = sns
            .create_topic()
            .name(common::unique_name("transport-topic"))
            .send()
            .await
            .unwrap()
            .topic_arn
            .unwrap();
        let raw_queue = create_queue(&sqs, &common::unique_name("transport-raw")).await;
        let wrapped_queue = create_queue(&sqs, &common::unique_name("transport-wrapped")).await;
        for (queue, raw_delivery) in [(&raw_queue, "true"), (&wrapped_queue, "false")] {
            sns.subscribe()
                .topic_arn(&topic)
                .protocol("sqs")
                .endpoint(&queue.arn)
                .attributes("RawMessageDelivery", raw_delivery)
                .send()
                .await
                .unwrap();
        }

        let string = |data_type: &str, value: &str| {
            MessageAttributeValue::builder()
                .data_type(data_type)
                .string_value(value)
                .build()
                .unwrap()
        };
        sns.publish()
            .topic_arn(&topic)
            .message(ENVELOPE)
            .message_attributes("type", string("String", "shop.order.placed"))
            .message_attributes("dataversion", string("Number", "2"))
            .send()
            .await
            .unwrap();

        let raw_message = receive_one(&sqs, &raw_queue).await;
        let wrapped_message = receive_one(&sqs, &wrapped_queue).await;
        let wrapped_body = wrapped_message.body().unwrap();
        // The server wrapped the body the way SNS does for SQS: `URL` spellings.
        let notification: serde_json::Value = serde_json::from_str(wrapped_body).unwrap();
        assert_eq!(notification["Type"], "Notification");
        assert_eq!(notification["TopicArn"], topic.as_str());
        assert!(
            notification.get("SigningCertURL").is_some(),
            "{wrapped_body}"
        );
        assert!(
            notification.get("UnsubscribeURL").is_some(),
            "{wrapped_body}"
        );
        assert_eq!(raw_message.body().unwrap(), ENVELOPE);

        if std::env::var_os("TIDINGS_CAPTURE_FIXTURES").is_some() {
            let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/sns-to-sqs-notification-body.json");
            std::fs::write(path, format!("{wrapped_body}\n")).unwrap();
        }

        let payload = json!({
            "Records": [
                lambda_record(&raw_message, &raw_queue),
                lambda_record(&wrapped_message, &wrapped_queue),
            ]
        });
        let invocation = invocation(&payload.to_string()).unwrap();
        let results = invocation.deliveries();
        let [Ok(raw), Ok(wrapped)] = results.as_slice() else {
            panic!("both records should decode: {results:?}");
        };
        let envelope_attributes =
            attributes(&[("dataversion", "2"), ("type", "shop.order.placed")]);

        assert_eq!(raw.body, ENVELOPE);
        assert_eq!(wrapped.body, ENVELOPE);
        assert_eq!(raw.transport, Transport::Sqs);
        assert_eq!(wrapped.transport, Transport::SnsViaSqs);
        assert_eq!(raw.message_id, raw_message.message_id().unwrap());
        assert_eq!(wrapped.message_id, wrapped_message.message_id().unwrap());
        assert_eq!(raw.source_arn.as_deref(), Some(raw_queue.arn.as_str()));
        assert_eq!(
            wrapped.source_arn.as_deref(),
            Some(wrapped_queue.arn.as_str())
        );
        assert_eq!(raw.attributes, envelope_attributes);
        assert_eq!(wrapped.attributes, envelope_attributes);
        assert_eq!((raw.receive_count, wrapped.receive_count), (1, 1));
        assert!(raw.sent_at.is_some() && wrapped.sent_at.is_some());
    }
}
