//! Publishing typed events to SNS topics and SQS queues (cargo feature `publisher`).
//!
//! ```no_run
//! use tidings::{Destination, Publisher};
//!
//! #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
//! #[event(type = "shop.order.placed", version = 1)]
//! struct OrderPlaced {
//!     #[event(subject)]
//!     order_id: String,
//! }
//!
//! # async fn place() -> Result<(), tidings::PublishError> {
//! let sdk_config = tidings::aws::sdk_config().await; // reads the environment only
//! let publisher = Publisher::new(&sdk_config, "orders-service");
//! let topic = Destination::topic("arn:aws:sns:eu-west-1:123456789012:shop-events");
//! let receipt = publisher
//!     .publish(&topic, OrderPlaced { order_id: "order-42".into() })
//!     .await?;
//! # let _ = receipt;
//! # Ok(())
//! # }
//! ```
//!
//! What goes out:
//! - The body is the event's CloudEvents JSON envelope, as consumers decode it.
//! - Two message attributes, so SNS subscription filter policies can route without reading
//!   bodies: [`attribute::TYPE`] (`type`, data type `String`, e.g. `shop.order.placed`) and
//!   [`attribute::DATA_VERSION`] (`dataversion`, data type `Number`). Everything else stays
//!   in the body: SQS, and SNS with raw delivery, allow at most ten attributes.
//! - Inside a handler, an envelope that names neither a correlation id nor a causation id
//!   joins the flow of the event being handled: `correlationid` is that event's flow id and
//!   `causationid` its id (see [`crate::current_cause`]). Nothing has to be passed.
//! - To a FIFO topic or queue (its name ends in `.fifo`), the message group id is the
//!   subject, so each entity's events stay in order, and the deduplication id is the event id,
//!   so a retried publish is dropped as a copy for five minutes.
//!
//! Batches go out in requests of at most ten messages and at most the batch size limit; a
//! message over the destination's limit is refused before any call with
//! [`PublishError::TooLarge`]. Each event gets its own result, in order.

mod batch;
mod destination;
mod error;
mod message;
mod send;

pub use destination::{Destination, SNS_DEFAULT_MAX_BYTES, SQS_MAX_BYTES, Target};
pub use error::PublishError;

pub(crate) use batch::chunks;
pub(crate) use message::{Attribute, Message, is_fifo_id, text_for_aws};
pub(crate) use send::sqs_batch;

use std::collections::HashMap;

use aws_config::SdkConfig;
use futures_util::StreamExt;
use futures_util::stream;
use serde::Serialize;
use tidings_events::{Envelope, Event};

use crate::handler::causation::{Cause, current_cause};
use batch::Fill;
use message::json_for_aws;

pub use crate::transport::message_attribute as attribute;

/// How many batch requests to a standard topic or queue are in flight at once. FIFO
/// destinations get one at a time, which their order needs.
const CONCURRENT_REQUESTS: usize = 4;

/// What the service answered for a published event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The event id (the envelope's `id`).
    pub event_id: String,
    /// The message id SNS or SQS gave the message.
    pub message_id: String,
    /// The sequence number a FIFO topic or queue gave the message (its enqueue order, not
    /// the entity's version).
    pub sequence_number: Option<String>,
}

/// Publishes typed events to SNS topics and SQS queues.
///
/// Cheap to clone (the SDK clients share their connection pool). Creating one makes no
/// network call, so it can be built during a Lambda's init.
#[derive(Debug, Clone)]
pub struct Publisher {
    sns: aws_sdk_sns::Client,
    sqs: aws_sdk_sqs::Client,
    source: String,
}

/// An envelope turned into a message, or the reason it cannot be sent.
struct Prepared {
    event_id: String,
    /// The FIFO message group (the subject), which orders the events of a FIFO batch.
    group: Option<String>,
    message: Result<Message, PublishError>,
}

impl Publisher {
    /// A publisher using `sdk_config` (region, credentials, endpoint, HTTP client) whose
    /// events carry `source` as their CloudEvents `source`, e.g. `orders-service`.
    pub fn new(sdk_config: &SdkConfig, source: impl Into<String>) -> Self {
        Self::from_clients(
            aws_sdk_sns::Client::new(sdk_config),
            aws_sdk_sqs::Client::new(sdk_config),
            source,
        )
    }

    /// A publisher using clients configured by hand.
    pub fn from_clients(
        sns: aws_sdk_sns::Client,
        sqs: aws_sdk_sqs::Client,
        source: impl Into<String>,
    ) -> Self {
        Self {
            sns,
            sqs,
            source: source.into(),
        }
    }

    /// The CloudEvents `source` of the events this publisher creates.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// A new envelope for `event` from this publisher's source, in the flow of the event
    /// being handled when called inside a handler. Set what else it needs (e.g.
    /// [`Envelope::with_sequence`]) and publish it with [`publish_envelope`](Self::publish_envelope).
    pub fn envelope<E: Event>(&self, event: E) -> Envelope<E> {
        join_flow(Envelope::new(self.source.clone(), event), current_cause())
    }

    /// Publishes `event` in a new envelope (see [`envelope`](Self::envelope)).
    pub async fn publish<E: Event>(
        &self,
        destination: &Destination,
        event: E,
    ) -> Result<Receipt, PublishError> {
        self.publish_envelope(destination, self.envelope(event))
            .await
    }

    /// Publishes an envelope. Inside a handler, an envelope that names neither a correlation
    /// id nor a causation id joins the flow of the event being handled.
    pub async fn publish_envelope<T: Serialize>(
        &self,
        destination: &Destination,
        envelope: Envelope<T>,
    ) -> Result<Receipt, PublishError> {
        self.publish_batch(destination, [envelope])
            .await
            .pop()
            .expect("publish_batch answers every envelope")
    }

    /// Publishes envelopes in as few requests as the limits allow, and answers for each, in
    /// order.
    ///
    /// To a FIFO destination the requests go one at a time, in order; once an event of a
    /// message group fails, the later events of that group in this batch are not sent
    /// ([`PublishError::GroupBlocked`]), so a group never arrives out of order because of a
    /// gap. (Within one request the service answers each entry on its own, so a group's
    /// later entries in the same request as a refused one may still arrive.)
    pub async fn publish_batch<T: Serialize>(
        &self,
        destination: &Destination,
        envelopes: impl IntoIterator<Item = Envelope<T>>,
    ) -> Vec<Result<Receipt, PublishError>> {
        let label = destination.to_string();
        let cause = current_cause();
        let prepared: Vec<Prepared> = envelopes
            .into_iter()
            .map(|envelope| prepare(destination, &label, join_flow(envelope, cause.clone())))
            .collect();
        if destination.is_fifo() {
            self.send_in_order(destination, &label, prepared).await
        } else {
            self.send_concurrently(destination, &label, prepared).await
        }
    }

    /// Standard destinations: every request at once (bounded), answers put back in order.
    async fn send_concurrently(
        &self,
        destination: &Destination,
        label: &str,
        prepared: Vec<Prepared>,
    ) -> Vec<Result<Receipt, PublishError>> {
        let mut results: Vec<Option<Result<Receipt, PublishError>>> = Vec::new();
        let mut ready: Vec<(usize, Message)> = Vec::new();
        for (i, item) in prepared.into_iter().enumerate() {
            match item.message {
                Ok(message) => {
                    results.push(None);
                    ready.push((i, message));
                }
                Err(error) => results.push(Some(Err(error))),
            }
        }
        let sizes: Vec<usize> = ready.iter().map(|(_, m)| m.size()).collect();
        let requests = chunks(&sizes, destination.batch_max_bytes())
            .into_iter()
            .map(|range| {
                let part = &ready[range];
                async move {
                    let messages: Vec<&Message> = part.iter().map(|(_, m)| m).collect();
                    let answers = self.send(destination, label, &messages).await;
                    part.iter()
                        .map(|(i, _)| *i)
                        .zip(answers)
                        .collect::<Vec<_>>()
                }
            });
        let answered: Vec<Vec<_>> = stream::iter(requests)
            .buffered(CONCURRENT_REQUESTS)
            .collect()
            .await;
        for (i, answer) in answered.into_iter().flatten() {
            results[i] = Some(answer);
        }
        results
            .into_iter()
            .map(|r| r.expect("every event is answered"))
            .collect()
    }

    /// FIFO destinations: one request at a time, in order, stopping each message group at
    /// its first failure.
    async fn send_in_order(
        &self,
        destination: &Destination,
        label: &str,
        prepared: Vec<Prepared>,
    ) -> Vec<Result<Receipt, PublishError>> {
        let mut results: Vec<Option<Result<Receipt, PublishError>>> =
            (0..prepared.len()).map(|_| None).collect();
        // Message group → the first event of it that was not published.
        let mut blocked: HashMap<String, String> = HashMap::new();
        let mut items = prepared.into_iter().enumerate().peekable();
        while items.peek().is_some() {
            let mut request: Vec<(usize, Option<String>, Message)> = Vec::new();
            let mut fill = Fill::default();
            while let Some((_, item)) = items.peek() {
                if let Ok(message) = &item.message {
                    let size = message.size();
                    let blocked_group =
                        item.group.as_ref().is_some_and(|g| blocked.contains_key(g));
                    if !blocked_group && !fill.fits(size, destination.batch_max_bytes()) {
                        break;
                    }
                }
                let Some((i, item)) = items.next() else { break };
                let earlier = item.group.as_ref().and_then(|g| blocked.get(g));
                match (earlier, item.message) {
                    (Some(earlier), _) => {
                        results[i] = Some(Err(PublishError::GroupBlocked {
                            event_id: item.event_id,
                            destination: label.to_owned(),
                            group: item.group.unwrap_or_default(),
                            earlier: earlier.clone(),
                        }));
                    }
                    (None, Err(error)) => {
                        if let Some(group) = item.group {
                            blocked.insert(group, item.event_id);
                        }
                        results[i] = Some(Err(error));
                    }
                    (None, Ok(message)) => {
                        fill.add(message.size());
                        request.push((i, item.group, message));
                    }
                }
            }
            if request.is_empty() {
                continue;
            }
            let messages: Vec<&Message> = request.iter().map(|(_, _, m)| m).collect();
            let answers = self.send(destination, label, &messages).await;
            for ((i, group, message), answer) in request.into_iter().zip(answers) {
                if let (Err(_), Some(group)) = (&answer, group) {
                    blocked.entry(group).or_insert(message.id);
                }
                results[i] = Some(answer);
            }
        }
        results
            .into_iter()
            .map(|r| r.expect("every event is answered"))
            .collect()
    }

    /// One batch request.
    async fn send(
        &self,
        destination: &Destination,
        label: &str,
        messages: &[&Message],
    ) -> Vec<Result<Receipt, PublishError>> {
        tracing::debug!(
            destination = label,
            messages = messages.len(),
            bytes = messages.iter().map(|m| m.size()).sum::<usize>(),
            "publishing"
        );
        match destination.target() {
            Target::Topic(arn) => send::sns_batch(&self.sns, arn, label, messages).await,
            Target::Queue(url) => send::sqs_batch(&self.sqs, url, label, messages).await,
        }
    }
}

/// Puts `envelope` in the flow of `cause`, unless it already names a flow or a cause.
fn join_flow<T>(envelope: Envelope<T>, cause: Option<Cause>) -> Envelope<T> {
    let a = &envelope.attributes;
    match cause {
        Some(cause) if a.correlation_id.is_none() && a.causation_id.is_none() => {
            cause.join(envelope)
        }
        _ => envelope,
    }
}

/// Turns an envelope into the message for `destination`, checking everything that can be
/// checked before a call.
fn prepare<T: Serialize>(
    destination: &Destination,
    label: &str,
    envelope: Envelope<T>,
) -> Prepared {
    let event_id = envelope.attributes.id.clone();
    let group = destination
        .is_fifo()
        .then(|| envelope.attributes.subject.clone())
        .flatten();
    let message = message_of(destination, label, &envelope);
    Prepared {
        event_id,
        group,
        message,
    }
}

fn message_of<T: Serialize>(
    destination: &Destination,
    label: &str,
    envelope: &Envelope<T>,
) -> Result<Message, PublishError> {
    let a = &envelope.attributes;
    let (group_id, deduplication_id) = if destination.is_fifo() {
        let Some(subject) = &a.subject else {
            return Err(PublishError::MissingSubject {
                event_id: a.id.clone(),
                destination: label.to_owned(),
            });
        };
        if !is_fifo_id(subject) {
            return Err(PublishError::InvalidFifoId {
                event_id: a.id.clone(),
                destination: label.to_owned(),
                field: "subject (its message group id)",
                value: subject.clone(),
                fix: "publish events with such subjects to a standard topic or queue, or give \
                      the entity an id in that form",
            });
        }
        if !is_fifo_id(&a.id) {
            return Err(PublishError::InvalidFifoId {
                event_id: a.id.clone(),
                destination: label.to_owned(),
                field: "id (its deduplication id)",
                value: a.id.clone(),
                fix: "let Envelope::new give the event its UUID",
            });
        }
        (Some(subject.clone()), Some(a.id.clone()))
    } else {
        (None, None)
    };
    let body = envelope.to_json().map_err(|error| PublishError::Encode {
        event_id: a.id.clone(),
        destination: label.to_owned(),
        message: error.to_string(),
    })?;
    let message = Message {
        id: a.id.clone(),
        body: json_for_aws(body),
        attributes: vec![
            Attribute::string(attribute::TYPE, &a.event_type),
            Attribute::number(attribute::DATA_VERSION, a.data_version),
        ],
        group_id,
        deduplication_id,
    };
    let size = message.size();
    if size > destination.max_bytes() {
        return Err(PublishError::TooLarge {
            event_id: a.id.clone(),
            destination: label.to_owned(),
            size,
            limit: destination.max_bytes(),
        });
    }
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tidings_events::Attributes;

    fn envelope(subject: Option<&str>) -> Envelope<serde_json::Value> {
        let mut attributes = Attributes {
            id: "0193a5b2-7c1d-7e3f-8a9b-0c1d2e3f4a5b".into(),
            source: "tests".into(),
            event_type: "test.thing.happened".into(),
            time: None,
            subject: None,
            data_content_type: None,
            data_schema: None,
            data_version: 3,
            sequence: None,
            correlation_id: None,
            causation_id: None,
            traceparent: None,
            extensions: Default::default(),
        };
        attributes.subject = subject.map(str::to_owned);
        Envelope {
            attributes,
            data: serde_json::json!({"n": 1}),
        }
    }

    #[test]
    fn a_message_carries_the_envelope_and_two_attributes() {
        let queue = Destination::queue("https://sqs.eu-west-1.amazonaws.com/1/q");
        let e = envelope(Some("thing-1"));
        let message = message_of(&queue, "q", &e).unwrap();
        assert_eq!(message.body, e.to_json().unwrap());
        assert_eq!(
            message.attributes,
            vec![
                Attribute::string("type", "test.thing.happened"),
                Attribute::number("dataversion", 3),
            ]
        );
        assert_eq!((message.group_id, message.deduplication_id), (None, None));
    }

    #[test]
    fn fifo_messages_group_by_subject_and_deduplicate_by_id() {
        let queue = Destination::queue("https://sqs.eu-west-1.amazonaws.com/1/q.fifo");
        let message = message_of(&queue, "q", &envelope(Some("thing-1"))).unwrap();
        assert_eq!(message.group_id.as_deref(), Some("thing-1"));
        assert_eq!(
            message.deduplication_id.as_deref(),
            Some("0193a5b2-7c1d-7e3f-8a9b-0c1d2e3f4a5b")
        );
        assert!(matches!(
            message_of(&queue, "q", &envelope(None)),
            Err(PublishError::MissingSubject { .. })
        ));
        let error = message_of(&queue, "q", &envelope(Some("thing 1"))).unwrap_err();
        assert!(
            matches!(&error, PublishError::InvalidFifoId { value, .. } if value == "thing 1"),
            "{error}"
        );
    }

    #[test]
    fn the_limit_is_inclusive() {
        let e = envelope(None);
        let size = e.to_json().unwrap().len() + (4 + 6 + 19) + (11 + 6 + 1);
        let at = Destination::queue("q").with_max_bytes(size);
        assert!(message_of(&at, "q", &e).is_ok());
        let under = Destination::queue("q").with_max_bytes(size - 1);
        assert_eq!(
            message_of(&under, "q", &e).unwrap_err(),
            PublishError::TooLarge {
                event_id: e.attributes.id.clone(),
                destination: "q".into(),
                size,
                limit: size - 1,
            }
        );
    }

    #[test]
    fn an_envelope_joins_the_flow_unless_it_names_one() {
        let mut cause = envelope(Some("cause")).attributes;
        cause.id = "cause-id".into();
        cause.correlation_id = Some("flow-7".into());
        let cause = Cause::of(&cause);
        let joined = join_flow(envelope(None), Some(cause.clone()));
        assert_eq!(joined.attributes.correlation_id.as_deref(), Some("flow-7"));
        assert_eq!(joined.attributes.causation_id.as_deref(), Some("cause-id"));

        let own = join_flow(
            envelope(None).with_correlation_id("mine"),
            Some(cause.clone()),
        );
        assert_eq!(own.attributes.correlation_id.as_deref(), Some("mine"));
        assert_eq!(own.attributes.causation_id, None);

        let alone = join_flow(envelope(None), None);
        assert_eq!(alone.attributes.correlation_id, None);
        assert_eq!(alone.attributes.causation_id, None);
    }
}
