//! The publisher against the local AWS-API server, through the real AWS SDK: what arrives in
//! queues (directly and through SNS, raw and wrapped), FIFO ids, batching by count and size,
//! size refusals before any call, per-event failures, and causation inside a handler.

#![cfg(feature = "publisher")]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{Message, MessageSystemAttributeName, QueueAttributeName};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tidings::testing::{Batch, invoke};
use tidings::transport::{Transport, decode_sqs_record};
use tidings::{
    Context, Destination, Envelope, Event, HandlerError, Outcome, Pipeline, PublishError,
    Publisher, Receipt,
};

const SOURCE: &str = "parcel-service";
const PARCEL_TYPE: &str = "test.parcel.shipped";

/// An event with a subject: the parcel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.parcel.shipped", version = 2)]
struct ParcelShipped {
    #[event(subject)]
    parcel: String,
    note: String,
}

/// An event without a subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.audit.noted", version = 1)]
struct AuditNoted {
    text: String,
}

fn parcel(parcel: &str, note: impl Into<String>) -> ParcelShipped {
    ParcelShipped {
        parcel: parcel.to_owned(),
        note: note.into(),
    }
}

/// A note of `bytes` bytes that JSON writes as it is.
fn note_of(bytes: usize) -> String {
    "n".repeat(bytes)
}

/// The size AWS counts for an envelope published by tidings: the body, plus the name, data
/// type and value of the `type` (String) and `dataversion` (Number) attributes.
fn aws_size<T: Serialize>(envelope: &Envelope<T>) -> usize {
    let a = &envelope.attributes;
    envelope.to_json().unwrap().len()
        + ("type".len() + "String".len() + a.event_type.len())
        + ("dataversion".len() + "Number".len() + a.data_version.to_string().len())
}

struct Aws {
    sns: aws_sdk_sns::Client,
    sqs: aws_sdk_sqs::Client,
    publisher: Publisher,
}

async fn aws() -> Aws {
    let config = common::sdk_config().await;
    Aws {
        sns: aws_sdk_sns::Client::new(&config),
        sqs: aws_sdk_sqs::Client::new(&config),
        publisher: Publisher::new(&config, SOURCE),
    }
}

struct Queue {
    url: String,
    arn: String,
}

impl Aws {
    async fn queue(&self, prefix: &str, fifo: bool) -> Queue {
        let mut name = common::unique_name(prefix);
        let mut create = self.sqs.create_queue();
        if fifo {
            name.push_str(".fifo");
            create = create.attributes(QueueAttributeName::FifoQueue, "true");
        }
        let url = create
            .queue_name(name)
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        let attributes = self
            .sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap();
        let arn = attributes.attributes().unwrap()[&QueueAttributeName::QueueArn].clone();
        Queue { url, arn }
    }

    async fn topic(&self, prefix: &str, fifo: bool) -> String {
        let mut name = common::unique_name(prefix);
        let mut create = self.sns.create_topic();
        if fifo {
            name.push_str(".fifo");
            create = create.attributes("FifoTopic", "true");
        }
        create.name(name).send().await.unwrap().topic_arn.unwrap()
    }

    async fn subscribe(&self, topic: &str, queue: &Queue, raw: bool) {
        self.sns
            .subscribe()
            .topic_arn(topic)
            .protocol("sqs")
            .endpoint(&queue.arn)
            .attributes("RawMessageDelivery", raw.to_string())
            .send()
            .await
            .unwrap();
    }

    /// Receives (and deletes) messages until `expected` have come or 15 s have passed, then
    /// checks for one more second that no other arrives: the queue held exactly these.
    async fn receive(&self, queue: &Queue, expected: usize) -> Vec<Message> {
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut messages = Vec::new();
        loop {
            let wait = if messages.len() >= expected { 1 } else { 2 };
            let received = self
                .sqs
                .receive_message()
                .queue_url(&queue.url)
                .max_number_of_messages(10)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .message_attribute_names("All")
                .wait_time_seconds(wait)
                .send()
                .await
                .unwrap()
                .messages
                .unwrap_or_default();
            let done =
                received.is_empty() && (messages.len() >= expected || Instant::now() > deadline);
            for message in &received {
                // FIFO queues hand out a group's next message only once the one before is
                // deleted.
                self.sqs
                    .delete_message()
                    .queue_url(&queue.url)
                    .receipt_handle(message.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
            messages.extend(received);
            if done {
                break;
            }
        }
        assert_eq!(
            messages.len(),
            expected,
            "messages received from {}: {:#?}",
            queue.url,
            messages
                .iter()
                .map(|m| m
                    .body()
                    .unwrap_or_default()
                    .chars()
                    .take(200)
                    .collect::<String>())
                .collect::<Vec<_>>()
        );
        messages
    }
}

fn attribute(message: &Message, name: &str) -> (String, String) {
    let value = message
        .message_attributes()
        .and_then(|attributes| attributes.get(name))
        .unwrap_or_else(|| panic!("no attribute {name} on {message:?}"));
    (
        value.data_type().to_owned(),
        value.string_value().unwrap().to_owned(),
    )
}

fn system_attribute(message: &Message, name: MessageSystemAttributeName) -> Option<String> {
    message.attributes().and_then(|a| a.get(&name)).cloned()
}

fn decode_parcel(message: &Message) -> Envelope<ParcelShipped> {
    Envelope::decode(message.body().unwrap()).unwrap()
}

/// The record Lambda would build from a received message, decoded as a handler's pipeline
/// decodes it.
fn lambda_delivery(message: &Message, queue: &Queue) -> tidings::transport::Delivery {
    let system: serde_json::Map<String, Value> = message
        .attributes()
        .unwrap()
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), json!(value)))
        .collect();
    let user: serde_json::Map<String, Value> = message
        .message_attributes()
        .unwrap_or(&Default::default())
        .iter()
        .map(|(name, value)| {
            (
                name.clone(),
                json!({"stringValue": value.string_value(), "stringListValues": [],
                       "binaryListValues": [], "dataType": value.data_type()}),
            )
        })
        .collect();
    let record = json!({
        "messageId": message.message_id().unwrap(),
        "receiptHandle": message.receipt_handle().unwrap(),
        "body": message.body().unwrap(),
        "attributes": system,
        "messageAttributes": user,
        "md5OfBody": message.md5_of_body().unwrap(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue.arn,
        "awsRegion": common::DEFAULT_REGION,
    });
    decode_sqs_record(&RawValue::from_string(record.to_string()).unwrap()).unwrap()
}

#[tokio::test]
async fn a_queue_receives_the_envelope_with_type_and_version_attributes() {
    let aws = aws().await;
    let queue = aws.queue("pub-queue", false).await;
    let destination = Destination::queue(&queue.url);
    assert!(!destination.is_fifo());

    let event = parcel("parcel-1", "fragile: \"glass\" ✓ naïve");
    let receipt = aws
        .publisher
        .publish(&destination, event.clone())
        .await
        .unwrap();

    let messages = aws.receive(&queue, 1).await;
    let message = &messages[0];
    assert_eq!(message.message_id(), Some(receipt.message_id.as_str()));
    assert_eq!(receipt.sequence_number, None);
    let envelope = decode_parcel(message);
    assert_eq!(envelope.id(), receipt.event_id);
    assert_eq!(envelope.data, event);
    assert_eq!(envelope.attributes.source, SOURCE);
    assert_eq!(envelope.attributes.event_type, PARCEL_TYPE);
    assert_eq!(envelope.attributes.data_version, 2);
    assert_eq!(envelope.subject(), Some("parcel-1"));
    // Outside a handler an event starts its own flow.
    assert_eq!(envelope.attributes.correlation_id, None);
    assert_eq!(envelope.attributes.causation_id, None);
    assert_eq!(
        attribute(message, "type"),
        ("String".to_owned(), PARCEL_TYPE.to_owned())
    );
    assert_eq!(
        attribute(message, "dataversion"),
        ("Number".to_owned(), "2".to_owned())
    );
    assert_eq!(message.message_attributes().unwrap().len(), 2);
}

#[tokio::test]
async fn a_topic_delivers_the_same_envelope_raw_and_wrapped() {
    let aws = aws().await;
    let topic = aws.topic("pub-topic", false).await;
    let raw = aws.queue("pub-raw", false).await;
    let wrapped = aws.queue("pub-wrapped", false).await;
    aws.subscribe(&topic, &raw, true).await;
    aws.subscribe(&topic, &wrapped, false).await;

    let envelope =
        Envelope::new(SOURCE, parcel("parcel-2", "line\nbreak \u{1F4E6}")).with_sequence(7);
    let json = envelope.to_json().unwrap();
    let receipt = aws
        .publisher
        .publish_envelope(&Destination::topic(&topic), envelope.clone())
        .await
        .unwrap();
    assert_eq!(receipt.event_id, envelope.id());

    // Raw delivery: the body is the envelope, byte for byte; the attributes come along.
    let raw_message = &aws.receive(&raw, 1).await[0];
    assert_eq!(raw_message.body().unwrap(), json);
    assert_eq!(
        attribute(raw_message, "type"),
        ("String".to_owned(), PARCEL_TYPE.to_owned())
    );
    assert_eq!(
        attribute(raw_message, "dataversion"),
        ("Number".to_owned(), "2".to_owned())
    );

    // Without raw delivery: an SNS notification wrapping the envelope and the attributes.
    let wrapped_message = &aws.receive(&wrapped, 1).await[0];
    let notification: Value = serde_json::from_str(wrapped_message.body().unwrap()).unwrap();
    assert_eq!(notification["Type"], "Notification");
    assert_eq!(notification["MessageId"], receipt.message_id.as_str());
    assert_eq!(notification["Message"], json.as_str());
    assert_eq!(
        notification["MessageAttributes"]["type"],
        json!({"Type": "String", "Value": PARCEL_TYPE})
    );
    assert_eq!(
        notification["MessageAttributes"]["dataversion"],
        json!({"Type": "Number", "Value": "2"})
    );

    // A consumer's pipeline reads both as the same envelope.
    let from_raw = lambda_delivery(raw_message, &raw);
    let from_wrapped = lambda_delivery(wrapped_message, &wrapped);
    assert_eq!(from_raw.transport, Transport::Sqs);
    assert_eq!(from_wrapped.transport, Transport::SnsViaSqs);
    assert_eq!(from_raw.body, json);
    assert_eq!(from_wrapped.body, json);
    let expected_attributes: BTreeMap<String, String> = [
        ("dataversion".to_owned(), "2".to_owned()),
        ("type".to_owned(), PARCEL_TYPE.to_owned()),
    ]
    .into();
    assert_eq!(from_raw.attributes, expected_attributes);
    assert_eq!(from_wrapped.attributes, expected_attributes);
    assert_eq!(
        Envelope::<ParcelShipped>::decode(&from_wrapped.body).unwrap(),
        envelope
    );
}

#[tokio::test]
async fn a_fifo_queue_gets_the_subject_as_group_and_the_event_id_as_deduplication_id() {
    let aws = aws().await;
    let queue = aws.queue("pub-fifo", true).await;
    let destination = Destination::queue(&queue.url);
    assert!(destination.is_fifo());

    let envelopes = vec![
        Envelope::new(SOURCE, parcel("parcel-a", "first")).with_sequence(1),
        Envelope::new(SOURCE, parcel("parcel-b", "only")).with_sequence(1),
        Envelope::new(SOURCE, parcel("parcel-a", "second")).with_sequence(2),
    ];
    let receipts: Vec<Receipt> = aws
        .publisher
        .publish_batch(&destination, envelopes.clone())
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    for (receipt, envelope) in receipts.iter().zip(&envelopes) {
        assert_eq!(receipt.event_id, envelope.id());
        assert!(receipt.sequence_number.is_some(), "{receipt:?}");
    }

    // Publishing the same envelope again within the deduplication window adds nothing:
    // its deduplication id is its event id.
    let again = aws
        .publisher
        .publish_envelope(&destination, envelopes[1].clone())
        .await
        .unwrap();
    assert_eq!(again.event_id, envelopes[1].id());

    let messages = aws.receive(&queue, 3).await;
    let mut group_a = Vec::new();
    for message in &messages {
        let envelope = decode_parcel(message);
        assert_eq!(
            system_attribute(message, MessageSystemAttributeName::MessageGroupId).as_deref(),
            envelope.subject()
        );
        assert_eq!(
            system_attribute(message, MessageSystemAttributeName::MessageDeduplicationId)
                .as_deref(),
            Some(envelope.id())
        );
        if envelope.subject() == Some("parcel-a") {
            group_a.push(envelope.data.note);
        }
    }
    assert_eq!(group_a, ["first", "second"]);
}

#[tokio::test]
async fn a_fifo_topic_passes_group_and_deduplication_ids_to_its_fifo_queue() {
    let aws = aws().await;
    let topic = aws.topic("pub-fifo-topic", true).await;
    let queue = aws.queue("pub-fifo-sub", true).await;
    aws.subscribe(&topic, &queue, true).await;
    let destination = Destination::topic(&topic);
    assert!(destination.is_fifo());

    let envelope = Envelope::new(SOURCE, parcel("parcel-f", "via topic"));
    aws.publisher
        .publish_envelope(&destination, envelope.clone())
        .await
        .unwrap();
    let message = &aws.receive(&queue, 1).await[0];
    assert_eq!(message.body().unwrap(), envelope.to_json().unwrap());
    assert_eq!(
        system_attribute(message, MessageSystemAttributeName::MessageGroupId).as_deref(),
        Some("parcel-f")
    );
}

#[tokio::test]
async fn a_batch_of_25_goes_out_in_requests_of_ten_and_all_arrive() {
    let aws = aws().await;
    let queue = aws.queue("pub-25", false).await;
    let envelopes: Vec<_> = (0..25)
        .map(|i| Envelope::new(SOURCE, parcel(&format!("parcel-{i}"), format!("n{i}"))))
        .collect();
    let results = aws
        .publisher
        .publish_batch(&Destination::queue(&queue.url), envelopes.clone())
        .await;
    // The server refuses a request of more than ten entries: all 25 succeeding shows the
    // cut; the receipts come back in the order of the envelopes.
    let receipt_ids: Vec<String> = results.into_iter().map(|r| r.unwrap().event_id).collect();
    let sent_ids: Vec<String> = envelopes.iter().map(|e| e.id().to_owned()).collect();
    assert_eq!(receipt_ids, sent_ids);

    let mut arrived: Vec<String> = aws
        .receive(&queue, 25)
        .await
        .iter()
        .map(|m| decode_parcel(m).id().to_owned())
        .collect();
    arrived.sort();
    let mut expected = sent_ids;
    expected.sort();
    assert_eq!(arrived, expected);
}

#[tokio::test]
async fn a_batch_is_cut_by_size_so_no_request_exceeds_one_mebibyte() {
    let aws = aws().await;
    let queue = aws.queue("pub-size", false).await;
    // Five messages of about 300 KiB: 1.5 MiB in all. The server refuses a request whose
    // bodies add up to more than 1 MiB, so these only arrive if the batch was cut by size.
    let envelopes: Vec<_> = (0..5)
        .map(|i| Envelope::new(SOURCE, parcel(&format!("big-{i}"), note_of(300 * 1024))))
        .collect();
    let results = aws
        .publisher
        .publish_batch(&Destination::queue(&queue.url), envelopes.clone())
        .await;
    for result in &results {
        assert!(result.is_ok(), "{result:?}");
    }
    let messages = aws.receive(&queue, 5).await;
    for message in &messages {
        let envelope = decode_parcel(message);
        let sent = envelopes.iter().find(|e| e.id() == envelope.id()).unwrap();
        assert_eq!(message.body().unwrap(), sent.to_json().unwrap());
    }
}

#[tokio::test]
async fn an_oversized_event_is_refused_before_any_call() {
    let aws = aws().await;
    let queue = aws.queue("pub-oversized", false).await;
    let limit = 4096;
    let destination = Destination::queue(&queue.url).with_max_bytes(limit);

    let small = Envelope::new(SOURCE, parcel("parcel-s", "small"));
    let big = Envelope::new(SOURCE, parcel("parcel-b", note_of(limit)));
    // Exactly at the limit is accepted; one byte more is not.
    let base = Envelope::new(SOURCE, parcel("parcel-x", ""));
    let at_limit = base.clone().map(|mut p| {
        p.note = note_of(limit - aws_size(&base));
        p
    });
    assert_eq!(aws_size(&at_limit), limit);
    let over_limit = base.clone().map(|mut p| {
        p.note = note_of(limit - aws_size(&base) + 1);
        p
    });

    let error = aws
        .publisher
        .publish_envelope(&destination, big.clone())
        .await
        .unwrap_err();
    assert_eq!(
        error,
        PublishError::TooLarge {
            event_id: big.id().to_owned(),
            destination: format!("SQS queue {}", queue.url),
            size: aws_size(&big),
            limit,
        }
    );
    let message = error.to_string();
    assert!(
        message.contains(&format!("is {} bytes", aws_size(&big)))
            && message.contains("over its limit of 4096 bytes")
            && message.contains("Destination::with_max_bytes"),
        "{message}"
    );
    assert!(!error.is_transient());

    let results = aws
        .publisher
        .publish_batch(
            &destination,
            vec![small.clone(), over_limit.clone(), at_limit.clone()],
        )
        .await;
    assert_eq!(results[0].as_ref().unwrap().event_id, small.id());
    assert!(
        matches!(&results[1], Err(PublishError::TooLarge { size, limit: 4096, .. }) if *size == 4097),
        "{:?}",
        results[1]
    );
    assert_eq!(results[2].as_ref().unwrap().event_id, at_limit.id());

    let mut arrived: Vec<String> = aws
        .receive(&queue, 2)
        .await
        .iter()
        .map(|m| decode_parcel(m).id().to_owned())
        .collect();
    arrived.sort();
    let mut expected = vec![small.id().to_owned(), at_limit.id().to_owned()];
    expected.sort();
    assert_eq!(arrived, expected, "the oversized events never left");
}

#[tokio::test]
async fn a_topic_refuses_over_256_kib_unless_told_it_was_raised() {
    let aws = aws().await;
    let topic = aws.topic("pub-topic-limit", false).await;
    let queue = aws.queue("pub-topic-limit-sub", false).await;
    aws.subscribe(&topic, &queue, true).await;

    let big = Envelope::new(SOURCE, parcel("parcel-big", note_of(300 * 1024)));
    let error = aws
        .publisher
        .publish_envelope(&Destination::topic(&topic), big.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, PublishError::TooLarge { limit: 262_144, size, .. } if *size == aws_size(&big)),
        "{error:?}"
    );
    aws.receive(&queue, 0).await;

    // Told the topic takes 1 MiB, tidings sends it; this server's topic keeps SNS's default
    // and refuses that one entry, while the others of the request arrive.
    let raised = Destination::topic(&topic).with_max_bytes(1024 * 1024);
    let before = Envelope::new(SOURCE, parcel("parcel-1", "before"));
    let after = Envelope::new(SOURCE, parcel("parcel-2", "after"));
    let results = aws
        .publisher
        .publish_batch(&raised, vec![before.clone(), big.clone(), after.clone()])
        .await;
    assert_eq!(results[0].as_ref().unwrap().event_id, before.id());
    match &results[1] {
        Err(
            error @ PublishError::Refused {
                event_id,
                code,
                sender_fault,
                ..
            },
        ) => {
            assert_eq!(event_id, big.id());
            assert_eq!(code, "InvalidParameter");
            assert!(*sender_fault);
            assert!(!error.is_transient());
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("SNS topic {topic} refused event {}", big.id())),
                "{error}"
            );
        }
        other => panic!("expected a refusal of the big entry, got {other:?}"),
    }
    assert_eq!(results[2].as_ref().unwrap().event_id, after.id());
    let mut notes: Vec<String> = aws
        .receive(&queue, 2)
        .await
        .iter()
        .map(|m| decode_parcel(m).data.note)
        .collect();
    notes.sort();
    assert_eq!(notes, ["after", "before"]);
}

#[tokio::test]
async fn a_fifo_batch_fails_per_event_and_keeps_each_group_in_order() {
    let aws = aws().await;
    let queue = aws.queue("pub-fifo-fail", true).await;
    let destination = Destination::queue(&queue.url).with_max_bytes(2048);

    let a1 = Envelope::new(SOURCE, parcel("parcel-a", "a1"));
    let no_subject = Envelope::new(
        SOURCE,
        AuditNoted {
            text: "no subject".into(),
        },
    );
    let a2 = Envelope::new(SOURCE, parcel("parcel-a", note_of(4096)));
    let a3 = Envelope::new(SOURCE, parcel("parcel-a", "a3"));
    let b1 = Envelope::new(SOURCE, parcel("parcel-b", "b1"));
    let spaced = Envelope::new(SOURCE, parcel("parcel c", "c1"));
    let to_json = |e: &Envelope<ParcelShipped>| e.clone().map(|p| serde_json::to_value(p).unwrap());
    let batch = vec![
        to_json(&a1),
        no_subject.clone().map(|n| serde_json::to_value(n).unwrap()),
        to_json(&a2),
        to_json(&a3),
        to_json(&b1),
        to_json(&spaced),
    ];
    let label = format!("SQS queue {}", queue.url);
    let results = aws.publisher.publish_batch(&destination, batch).await;

    assert_eq!(results[0].as_ref().unwrap().event_id, a1.id());
    assert_eq!(
        results[1].as_ref().unwrap_err(),
        &PublishError::MissingSubject {
            event_id: no_subject.id().to_owned(),
            destination: label.clone(),
        }
    );
    assert!(
        results[1]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("#[event(subject)]")
    );
    assert!(
        matches!(&results[2], Err(PublishError::TooLarge { event_id, .. }) if event_id == a2.id())
    );
    assert_eq!(
        results[3].as_ref().unwrap_err(),
        &PublishError::GroupBlocked {
            event_id: a3.id().to_owned(),
            destination: label.clone(),
            group: "parcel-a".to_owned(),
            earlier: a2.id().to_owned(),
        }
    );
    assert_eq!(results[4].as_ref().unwrap().event_id, b1.id());
    assert!(
        matches!(&results[5], Err(PublishError::InvalidFifoId { value, .. }) if value == "parcel c"),
        "{:?}",
        results[5]
    );

    let mut notes: Vec<String> = aws
        .receive(&queue, 2)
        .await
        .iter()
        .map(|m| decode_parcel(m).data.note)
        .collect();
    notes.sort();
    assert_eq!(notes, ["a1", "b1"]);
}

#[tokio::test]
async fn a_failed_request_fails_each_of_its_events_with_the_reason() {
    let aws = aws().await;
    let queue = aws.queue("pub-missing", false).await;
    let missing_url = format!("{}-gone", queue.url);
    let destination = Destination::queue(&missing_url);
    let envelopes: Vec<_> = (0..3)
        .map(|i| Envelope::new(SOURCE, parcel(&format!("p{i}"), "x")))
        .collect();
    let results = aws
        .publisher
        .publish_batch(&destination, envelopes.clone())
        .await;
    assert_eq!(results.len(), 3);
    for (result, envelope) in results.iter().zip(&envelopes) {
        match result {
            Err(
                error @ PublishError::Request {
                    event_id, message, ..
                },
            ) => {
                assert_eq!(event_id, envelope.id());
                assert!(message.contains("NonExistentQueue"), "{message}");
                assert!(error.is_transient());
                assert!(
                    error.to_string().starts_with(&format!(
                        "event {} may not have reached SQS queue {missing_url}: the request failed",
                        envelope.id()
                    )),
                    "{error}"
                );
            }
            other => panic!("expected a request failure, got {other:?}"),
        }
    }
}

// --- Causation inside a handler -------------------------------------------------------------

/// Publishes a follow-up of each shipment with the publisher and to the destination of its
/// state.
#[tidings::event_handler(main = false)]
async fn announce_shipment(
    event: Envelope<ParcelShipped>,
    _ctx: &Context,
    (publisher, destination): &(Publisher, Destination),
) -> Result<(), HandlerError> {
    publisher
        .publish(
            destination,
            AuditNoted {
                text: format!("shipped {}", event.data.parcel),
            },
        )
        .await?;
    // An envelope the handler builds itself joins the flow too.
    let envelope = publisher.envelope(AuditNoted {
        text: format!("built for {}", event.data.parcel),
    });
    publisher.publish_envelope(destination, envelope).await?;
    Ok(())
}

#[tokio::test]
async fn events_published_inside_a_handler_join_the_flow_of_the_handled_event() {
    let aws = aws().await;
    let queue = aws.queue("pub-causation", false).await;

    let in_flow = Envelope::new("shop", parcel("parcel-1", "x")).with_correlation_id("flow-42");
    let starts_flow = Envelope::new("shop", parcel("parcel-2", "y"));
    let follow_up = (aws.publisher.clone(), Destination::queue(&queue.url));
    let pipeline = Pipeline::with_state(announce_shipment, follow_up);
    let result = invoke(&pipeline, &Batch::sqs().event(&in_flow).event(&starts_flow)).await;
    assert_eq!(
        result.outcomes(),
        [&Outcome::Processed, &Outcome::Processed]
    );

    let mut by_text: HashMap<String, Envelope<AuditNoted>> = aws
        .receive(&queue, 4)
        .await
        .iter()
        .map(|m| {
            let envelope: Envelope<AuditNoted> = Envelope::decode(m.body().unwrap()).unwrap();
            (envelope.data.text.clone(), envelope)
        })
        .collect();
    for (parcel, cause, flow) in [
        ("parcel-1", &in_flow, "flow-42"),
        ("parcel-2", &starts_flow, starts_flow.id()),
    ] {
        for text in [format!("shipped {parcel}"), format!("built for {parcel}")] {
            let published = by_text
                .remove(&text)
                .unwrap_or_else(|| panic!("{text} missing"));
            assert_eq!(published.attributes.source, SOURCE);
            assert_eq!(
                published.attributes.correlation_id.as_deref(),
                Some(flow),
                "{text}"
            );
            assert_eq!(
                published.attributes.causation_id.as_deref(),
                Some(cause.id()),
                "{text}"
            );
        }
    }
}
