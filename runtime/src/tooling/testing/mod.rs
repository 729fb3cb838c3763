//! In-process testing of handlers: build the SQS, SNS and SNS-to-SQS invocations Lambda
//! would send (with duplicates, reordering, receive counts and FIFO groups), and run them
//! through the same pipeline a deployed function runs.
//!
//! ```
//! use tidings::testing::{Batch, invoke};
//! use tidings::{Context, Envelope, HandlerError, Outcome, Pipeline};
//!
//! #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
//! #[event(type = "shop.order.placed", version = 1)]
//! struct OrderPlaced {
//!     #[event(subject)]
//!     order_id: String,
//! }
//!
//! #[tidings::event_handler(main = false)]
//! async fn reserve_stock(
//!     _event: Envelope<OrderPlaced>,
//!     _ctx: &Context,
//! ) -> Result<(), HandlerError> {
//!     Ok(())
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let placed = Envelope::new("orders", OrderPlaced { order_id: "order-42".into() })
//!     .with_sequence(1);
//! let batch = Batch::sqs().event(&placed).event(&placed); // the same event twice
//! let pipeline = Pipeline::new(reserve_stock);
//! let result = invoke(&pipeline, &batch).await;
//! assert_eq!(result.outcomes(), [&Outcome::Processed, &Outcome::Duplicate]);
//! # }
//! ```

pub mod conformance;
mod flaky;

pub use flaky::{FlakyStore, RandomFaults, StoreOp};

use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde_json::{Value, json};
use tidings_events::Envelope;

use lambda_runtime::LambdaEvent;

use crate::entry::invoke::Answer;
use crate::handler::EventHandler;
use crate::pipeline::{BatchResult, InvocationError, Pipeline};
use crate::transport::Invocation;

/// The queue ARN test batches come from.
pub const TEST_QUEUE_ARN: &str = "arn:aws:sqs:eu-west-1:000000000000:tidings-test";
/// The FIFO queue ARN test batches come from.
pub const TEST_FIFO_QUEUE_ARN: &str = "arn:aws:sqs:eu-west-1:000000000000:tidings-test.fifo";
/// The topic ARN test notifications come from.
pub const TEST_TOPIC_ARN: &str = "arn:aws:sns:eu-west-1:000000000000:tidings-test";

/// How the records of a [`Batch`] reach the function: the kind of invocation it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchKind {
    /// SQS, bodies are envelopes (raw delivery).
    Sqs,
    /// SQS FIFO, bodies are envelopes; the message group is the subject unless set.
    SqsFifo,
    /// SQS, bodies are SNS notifications wrapping envelopes (SNS→SQS without raw delivery).
    SnsViaSqs,
    /// SNS invoking the function.
    Sns,
}

/// One record of a test batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRecord {
    body: String,
    message_id: Option<String>,
    receive_count: u32,
    group_id: Option<String>,
    event_type: Option<String>,
}

impl TestRecord {
    /// A record carrying `envelope`.
    pub fn event<T: Serialize>(envelope: &Envelope<T>) -> Self {
        let mut record = Self::raw(envelope.to_json().expect("test envelopes serialize"));
        record.group_id = envelope.attributes.subject.clone();
        record.event_type = Some(envelope.attributes.event_type.clone());
        record
    }

    /// A record with any body, e.g. to test bad input.
    pub fn raw(body: impl Into<String>) -> Self {
        Self {
            body: body.into(),
            message_id: None,
            receive_count: 1,
            group_id: None,
            event_type: None,
        }
    }

    /// Sets the message id (default: `msg-N` by position).
    pub fn message_id(mut self, id: impl Into<String>) -> Self {
        self.message_id = Some(id.into());
        self
    }

    /// Sets `ApproximateReceiveCount` (default 1).
    pub fn receive_count(mut self, count: u32) -> Self {
        self.receive_count = count;
        self
    }

    /// Sets the FIFO message group (default: the event's subject).
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group_id = Some(group.into());
        self
    }
}

/// A test invocation: records and how they are delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    kind: BatchKind,
    records: Vec<TestRecord>,
    /// When the records were sent, in epoch milliseconds; `None` is now.
    sent_at: Option<u64>,
}

impl Batch {
    /// An empty batch of `kind`.
    pub fn new(kind: BatchKind) -> Self {
        Self {
            kind,
            records: Vec::new(),
            sent_at: None,
        }
    }

    /// An SQS batch (raw delivery).
    pub fn sqs() -> Self {
        Self::new(BatchKind::Sqs)
    }

    /// An SQS FIFO batch.
    pub fn sqs_fifo() -> Self {
        Self::new(BatchKind::SqsFifo)
    }

    /// An SQS batch of SNS notifications.
    pub fn sns_via_sqs() -> Self {
        Self::new(BatchKind::SnsViaSqs)
    }

    /// An SNS invocation (Lambda sends SNS records one per invocation; more are allowed
    /// here to test the pipeline).
    pub fn sns() -> Self {
        Self::new(BatchKind::Sns)
    }

    /// Fixes the time the records were sent (epoch milliseconds), e.g. for fixtures that
    /// must be the same on every run; by default it is the time the JSON is built.
    pub fn sent_at(mut self, epoch_millis: u64) -> Self {
        self.sent_at = Some(epoch_millis);
        self
    }

    /// Appends a record carrying `envelope`.
    pub fn event<T: Serialize>(self, envelope: &Envelope<T>) -> Self {
        self.record(TestRecord::event(envelope))
    }

    /// Appends a record.
    pub fn record(mut self, record: TestRecord) -> Self {
        self.records.push(record);
        self
    }

    /// Appends a record with any body.
    pub fn raw(self, body: impl Into<String>) -> Self {
        self.record(TestRecord::raw(body))
    }

    /// Appends another delivery of record `index` (a new message id, a higher receive
    /// count), as SQS does when it delivers a message twice.
    pub fn duplicate(mut self, index: usize) -> Self {
        let mut copy = self.records[index].clone();
        copy.message_id = None;
        copy.receive_count += 1;
        self.records.push(copy);
        self
    }

    /// Reverses the order of the records.
    pub fn reversed(mut self) -> Self {
        self.records.reverse();
        self
    }

    /// The records.
    pub fn records(&self) -> &[TestRecord] {
        &self.records
    }

    /// The invocation Lambda would send, as the Lambda runtime reads it.
    pub fn invocation(&self) -> Invocation {
        serde_json::from_value(self.to_json()).expect("test batches are valid invocations")
    }

    /// The invocation payload Lambda would send, as JSON.
    pub fn to_json(&self) -> Value {
        let records: Vec<Value> = self
            .records
            .iter()
            .enumerate()
            .map(|(i, record)| self.record_json(i, record))
            .collect();
        json!({ "Records": records })
    }

    fn record_json(&self, index: usize, record: &TestRecord) -> Value {
        let sent_at = self.sent_at.unwrap_or_else(|| millis_now() as u64);
        let message_id = record
            .message_id
            .clone()
            .unwrap_or_else(|| format!("msg-{index}"));
        match self.kind {
            BatchKind::Sns => json!({
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": format!("{TEST_TOPIC_ARN}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55"),
                "Sns": sns_notification(&message_id, &record.body, record.event_type.clone(), "Url", sent_at),
            }),
            BatchKind::Sqs | BatchKind::SqsFifo | BatchKind::SnsViaSqs => {
                let fifo = self.kind == BatchKind::SqsFifo;
                let body = if self.kind == BatchKind::SnsViaSqs {
                    sns_notification(
                        &message_id,
                        &record.body,
                        record.event_type.clone(),
                        "URL",
                        sent_at,
                    )
                    .to_string()
                } else {
                    record.body.clone()
                };
                let mut attributes = json!({
                    "ApproximateReceiveCount": record.receive_count.to_string(),
                    "SentTimestamp": sent_at.to_string(),
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": sent_at.to_string(),
                });
                if fifo {
                    attributes["MessageGroupId"] = record
                        .group_id
                        .clone()
                        .unwrap_or_else(|| "default".into())
                        .into();
                    attributes["MessageDeduplicationId"] = message_id.clone().into();
                    attributes["SequenceNumber"] = format!("{:020}", index + 1).into();
                }
                let mut message_attributes = json!({});
                if let (Some(event_type), BatchKind::Sqs | BatchKind::SqsFifo) =
                    (&record.event_type, self.kind)
                {
                    message_attributes["type"] = json!({"stringValue": event_type, "dataType": "String", "stringListValues": [], "binaryListValues": []});
                }
                json!({
                    "messageId": message_id,
                    "receiptHandle": format!("handle-{message_id}"),
                    "body": body,
                    "attributes": attributes,
                    "messageAttributes": message_attributes,
                    "md5OfBody": "00000000000000000000000000000000",
                    "eventSource": "aws:sqs",
                    "eventSourceARN": if fifo { TEST_FIFO_QUEUE_ARN } else { TEST_QUEUE_ARN },
                    "awsRegion": "eu-west-1",
                })
            }
        }
    }
}

fn millis_now() -> u128 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
}

/// An SNS notification as SNS writes it; `url_case` is `URL` in SQS bodies and `Url` in
/// Lambda records, as AWS spells them.
fn sns_notification(
    message_id: &str,
    message: &str,
    event_type: Option<String>,
    url_case: &str,
    sent_at: u64,
) -> Value {
    let mut notification = json!({
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": TEST_TOPIC_ARN,
        "Message": message,
        "Timestamp": chrono::DateTime::<chrono::Utc>::from_timestamp_millis(sent_at as i64)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
        "MessageAttributes": {},
    });
    notification[format!("SigningCert{url_case}")] =
        "https://sns.eu-west-1.amazonaws.com/cert.pem".into();
    notification[format!("Unsubscribe{url_case}")] = format!(
        "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={TEST_TOPIC_ARN}"
    )
    .into();
    if let Some(event_type) = event_type {
        notification["MessageAttributes"]["type"] = json!({"Type": "String", "Value": event_type});
    }
    notification
}

/// The time a test invocation has before its deadline unless the test says otherwise.
pub const TEST_INVOCATION_TIME: Duration = Duration::from_secs(30);

/// The event the Lambda runtime hands a function for `invocation`: a fresh request id and
/// `deadline` as the Runtime API's `lambda-runtime-deadline-ms`.
pub fn lambda_event(invocation: Invocation, deadline: SystemTime) -> LambdaEvent<Invocation> {
    crate::lambda::event(invocation, format!("test-{}", millis_now()), deadline)
}

/// Answers `batch` as a deployed function answers an invocation, through
/// [`Pipeline::invoke`]: the response (or the error that makes Lambda retry the whole
/// invocation), every record's result and the metrics line.
pub async fn answer<H: EventHandler>(pipeline: &Pipeline<H>, batch: &Batch) -> Answer {
    pipeline
        .invoke(lambda_event(
            batch.invocation(),
            SystemTime::now() + TEST_INVOCATION_TIME,
        ))
        .await
}

/// Runs `batch` through `pipeline` as Lambda would invoke it, and returns every record's
/// outcome with the batch response.
///
/// Panics when the pipeline refuses the invocation as a whole (a batch from a source the
/// handler is not declared for), which leaves no record to assert on; [`answer`] returns
/// that error instead.
pub async fn invoke<H: EventHandler>(pipeline: &Pipeline<H>, batch: &Batch) -> BatchResult {
    invoke_with(pipeline, batch, SystemTime::now() + TEST_INVOCATION_TIME).await
}

/// [`invoke`] with the invocation's deadline chosen.
pub async fn invoke_with<H: EventHandler>(
    pipeline: &Pipeline<H>,
    batch: &Batch,
    deadline: SystemTime,
) -> BatchResult {
    let answer = pipeline
        .invoke(lambda_event(batch.invocation(), deadline))
        .await;
    records_of(answer)
}

/// [`invoke`] for an invocation built by hand (a payload a [`Batch`] cannot express, such as
/// a record without a message id).
pub async fn invoke_raw<H: EventHandler>(
    pipeline: &Pipeline<H>,
    invocation: Invocation,
) -> BatchResult {
    let deadline = SystemTime::now() + TEST_INVOCATION_TIME;
    records_of(pipeline.invoke(lambda_event(invocation, deadline)).await)
}

/// The records of an answer whose invocation was not refused.
fn records_of(answer: Answer) -> BatchResult {
    if let Err(error @ InvocationError::WrongTrigger { .. }) = &answer.response {
        panic!(
            "the pipeline refused the invocation, so no record ran: {error}; build the batch \
             for the handler's source, or call tidings::testing::answer to assert on the refusal"
        );
    }
    answer.batch
}
