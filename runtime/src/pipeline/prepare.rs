//! The steps of the pipeline that need no I/O: from a delivery to a typed, keyed record
//! ready to claim, or to an early outcome.
//!
//! decode transport → parse envelope → route by type → check version → key and ordering

use std::sync::Arc;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use tidings_events::{Attributes, DataError, Envelope, RawEnvelope};

use crate::handler::causation::Cause;

use crate::handler::EventHandler;
use crate::pipeline::outcome::{Outcome, ReasonCode};
use crate::store::{Claim, LockOwner, SubjectSequence, to_millis};
use crate::transport::{Delivery, TransportError};
use crate::{Context, EventSet, HandlerOptions, OnUnknownType, SubjectOrdering};

/// One record of a batch as the pipeline carries it from step to step.
pub(crate) struct Record<E> {
    /// The message id, when the transport record could be read.
    pub message_id: Option<String>,
    /// The delivery, when the transport record could be read.
    pub delivery: Option<Delivery>,
    /// The body of a record whose transport could not be read (an SNS control message, a
    /// record from another service), when its text could be: its dead letter carries it.
    pub unread_body: Option<String>,
    /// What the batch's result says of the event, when its envelope could be read.
    pub event: Option<EventInfo>,
    /// Where the record stands.
    pub stage: Stage<E>,
    /// The record's tracing span.
    pub span: tracing::Span,
}

/// What the batch's result and dead letters say of a record's event: the few attributes
/// they read, so that a ready record copies these rather than all of its attributes.
pub(crate) struct EventInfo {
    /// The event's id and flow, shared with the handler's ambient cause.
    pub cause: Arc<Cause>,
    pub event_type: String,
    pub subject: Option<String>,
    pub time: Option<DateTime<Utc>>,
}

impl EventInfo {
    /// The summary of attributes the record owns.
    fn from_owned(attributes: Attributes) -> Self {
        Self {
            event_type: attributes.event_type,
            subject: attributes.subject,
            time: attributes.time,
            cause: Arc::new(Cause {
                id: attributes.id,
                correlation_id: attributes.correlation_id,
                traceparent: attributes.traceparent,
            }),
        }
    }
}

/// Where a record stands in the pipeline.
pub(crate) enum Stage<E> {
    /// Finished, with its outcome.
    Done(Outcome),
    /// Ready to claim and run.
    Ready(Box<Ready<E>>),
    /// Taken out of the batch by a round (claim, run, settle), which gives it its outcome.
    InRound,
    /// Waits for another record of the batch and derives its outcome from it.
    Follows { leader: usize, kind: FollowKind },
}

/// A record that passed every check and only needs its lock and its handler.
pub(crate) struct Ready<E> {
    pub envelope: Envelope<E>,
    pub claim: Claim,
    pub ctx: Context,
    /// What the event passes on to the events it causes, shared with the record's
    /// [`EventInfo`]: ambient while the handler runs.
    pub cause: Arc<Cause>,
}

/// Why a record follows another one of its batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FollowKind {
    /// The same idempotency key: another copy of the same event.
    SameKey,
    /// The same subject with a lower (or equal) sequence, under `latest_wins`.
    Superseded { sequence: u64, by: u64 },
}

/// The invocation a batch belongs to.
#[derive(Debug, Clone)]
pub(crate) struct InvocationInfo {
    /// The Lambda request id.
    pub request_id: String,
    /// When Lambda stops the invocation.
    pub deadline: SystemTime,
}

/// Everything [`prepare`] needs besides the delivery.
pub(crate) struct PrepareParams<'a> {
    pub options: &'a HandlerOptions,
    pub key_prefix: &'a str,
    pub invocation: &'a InvocationInfo,
    /// The request id, shared by the contexts of the batch.
    pub request_id: Arc<str>,
}

/// Turns one transport result into a record: ready to claim, or done.
pub(crate) fn prepare<H: EventHandler>(
    delivered: Result<Delivery, TransportError>,
    params: &PrepareParams<'_>,
) -> Record<H::Events> {
    let mut delivery = match delivered {
        Ok(delivery) => delivery,
        Err(error) => {
            let code = error.reason.code;
            return Record {
                span: record_span(params.options.name, error.message_id.as_deref(), None, 0),
                message_id: error.message_id,
                delivery: None,
                unread_body: error.body,
                event: None,
                stage: Stage::Done(Outcome::rejected(code, error.reason.message)),
            };
        }
    };
    let checked = check::<H>(&delivery, params);
    // The record owns the message id from here on; the delivery keeps the body and
    // attributes a dead letter needs, and nothing reads its copy of the id again.
    let message_id = Some(std::mem::take(&mut delivery.message_id));
    let span = |attributes: Option<&Attributes>| {
        record_span(
            params.options.name,
            message_id.as_deref(),
            attributes,
            delivery.receive_count,
        )
    };
    let (span, event, stage) = match checked {
        Ok(ready) => {
            let attributes = &ready.envelope.attributes;
            let event = EventInfo {
                cause: Arc::clone(&ready.cause),
                event_type: attributes.event_type.clone(),
                subject: attributes.subject.clone(),
                time: attributes.time,
            };
            (
                span(Some(attributes)),
                Some(event),
                Stage::Ready(Box::new(ready)),
            )
        }
        Err(early) => {
            let (attributes, outcome) = *early;
            let span = span(attributes.as_ref());
            (
                span,
                attributes.map(EventInfo::from_owned),
                Stage::Done(outcome),
            )
        }
    };
    Record {
        span,
        message_id,
        delivery: Some(delivery),
        unread_body: None,
        event,
        stage,
    }
}

/// A record that ends before its claim: the attributes read so far, and its outcome.
type Early = Box<(Option<Attributes>, Outcome)>;

/// Checks a delivery up to its claim, one step after the other:
/// size → envelope → route by type → version (decode, upcast) → subject order → key.
fn check<H: EventHandler>(
    delivery: &Delivery,
    params: &PrepareParams<'_>,
) -> Result<Ready<H::Events>, Early> {
    let options = params.options;
    let before_envelope = |outcome| Box::new((None, outcome));
    within_size(&delivery.body, options.max_body_bytes).map_err(before_envelope)?;
    let raw = parse_envelope(&delivery.body).map_err(before_envelope)?;
    // An early end hands its attributes over; they are only copied for a ready record.
    if let Err(outcome) = route::<H::Events>(&raw.attributes.event_type, options) {
        return Err(Box::new((Some(raw.attributes), outcome)));
    }
    let data = match decode_data::<H::Events>(&raw) {
        Ok(data) => data,
        Err(outcome) => return Err(Box::new((Some(raw.attributes), outcome))),
    };
    let envelope = Envelope {
        attributes: raw.attributes,
        data,
    };
    let ordering = match subject_sequence(&envelope, options, params.key_prefix) {
        Ok(ordering) => ordering,
        Err(outcome) => return Err(Box::new((Some(envelope.attributes), outcome))),
    };
    let claim = Claim {
        key: idempotency_key::<H>(&envelope, params.key_prefix),
        payload_hash: payload_hash(raw.data.get()),
        owner: LockOwner::new(),
        lock_expires_at: to_millis(params.invocation.deadline),
        ordering,
    };
    let ctx = context_of(delivery, params);
    // The handler consumes the envelope's attributes; the cause copies the few that
    // publishing reads, and serves the batch's bookkeeping (the event id) as well.
    let cause = Arc::new(Cause::of(&envelope.attributes));
    Ok(Ready {
        envelope,
        claim,
        ctx,
        cause,
    })
}

/// Refuses a body over the handler's limit before anything reads it.
fn within_size(body: &str, max_body_bytes: usize) -> Result<(), Outcome> {
    if body.len() <= max_body_bytes {
        return Ok(());
    }
    Err(Outcome::rejected(
        ReasonCode::Oversized,
        format!(
            "body is {} bytes, over this handler's limit of {max_body_bytes} bytes; publish \
             large payloads by reference or raise `max_body_bytes`",
            body.len(),
        ),
    ))
}

/// Reads the CloudEvents envelope, keeping `data` raw until its type and version are known.
fn parse_envelope(body: &str) -> Result<RawEnvelope, Outcome> {
    RawEnvelope::decode_raw(body)
        .map_err(|error| Outcome::rejected(ReasonCode::Envelope, error.to_string()))
}

/// Whether the handler accepts `event_type`: an error outcome (rejected, or ignored as the
/// handler's `on_unknown_type` says) when it does not.
fn route<E: EventSet>(event_type: &str, options: &HandlerOptions) -> Result<(), Outcome> {
    if E::accepts(event_type) {
        return Ok(());
    }
    Err(match options.on_unknown_type {
        OnUnknownType::Ignore => Outcome::Ignored,
        OnUnknownType::Reject => {
            let accepted: Vec<&str> = E::accepted().iter().map(|a| a.event_type).collect();
            Outcome::rejected(
                ReasonCode::UnknownType,
                format!(
                    "event type `{event_type}` is not handled by `{}` (it accepts \
                     {accepted:?}); fix the subscription's filter policy or set \
                     on_unknown_type = \"ignore\"",
                    options.name
                ),
            )
        }
    })
}

/// Decodes the data of an accepted type at its version, upcasting older versions; a version
/// this code does not know, or data that does not match its schema, is rejected.
fn decode_data<E: EventSet>(raw: &RawEnvelope) -> Result<E, Outcome> {
    E::decode(raw).map_err(|error| {
        let code = match &error {
            DataError::UnsupportedVersion { .. } => ReasonCode::UnsupportedVersion,
            DataError::Invalid { .. } => ReasonCode::InvalidData,
        };
        Outcome::rejected(code, error.to_string())
    })
}

/// The subject and sequence `latest_wins` orders the event by (`None` without ordering),
/// keyed under `key_prefix`; an event without either cannot be ordered and is rejected.
fn subject_sequence<E: EventSet>(
    envelope: &Envelope<E>,
    options: &HandlerOptions,
    key_prefix: &str,
) -> Result<Option<SubjectSequence>, Outcome> {
    if options.ordering == SubjectOrdering::None {
        return Ok(None);
    }
    let subject = envelope
        .attributes
        .subject
        .as_deref()
        .or_else(|| envelope.data.subject());
    let missing = match (subject, envelope.attributes.sequence) {
        (Some(subject), Some(sequence)) => {
            return Ok(Some(SubjectSequence {
                subject: format!("{key_prefix}#subject#{subject}"),
                sequence,
            }));
        }
        (None, None) => "a subject and a sequence",
        (None, Some(_)) => "a subject",
        (Some(_), None) => "a sequence",
    };
    Err(Outcome::rejected(
        ReasonCode::MissingOrdering,
        format!(
            "`{}` uses ordering = \"latest_wins\", which needs {missing} on every event; \
             publish with `.with_sequence(n)` and a subject field",
            options.name
        ),
    ))
}

/// The idempotency key: the handler's key field when it names one, else the event id,
/// under `key_prefix`.
fn idempotency_key<H: EventHandler>(envelope: &Envelope<H::Events>, key_prefix: &str) -> String {
    match H::idempotency_key(envelope) {
        Some(key) => prefixed(key_prefix, &key),
        None => prefixed(key_prefix, &envelope.attributes.id),
    }
}

/// What the handler is told of the invocation and delivery.
fn context_of(delivery: &Delivery, params: &PrepareParams<'_>) -> Context {
    Context {
        handler: params.options.name,
        request_id: Arc::clone(&params.request_id),
        deadline: params.invocation.deadline,
        message_id: delivery.message_id.clone(),
        receive_count: delivery.receive_count,
    }
}

/// `prefix#key`, built in one allocation.
fn prefixed(prefix: &str, key: &str) -> String {
    let mut prefixed = String::with_capacity(prefix.len() + 1 + key.len());
    prefixed.push_str(prefix);
    prefixed.push('#');
    prefixed.push_str(key);
    prefixed
}

/// A hash of the event data, stored with the idempotency record so that a key reused for
/// different data is caught: XXH3-128 of the `data` JSON as the body carries it, as 32
/// lowercase hex digits (the 128-bit value, most significant digit first).
///
/// XXH3 is not cryptographic, and need not be: the hash only detects an idempotency key
/// reused for different data, which is a producer's bug, not an adversary's attack. It is
/// fast (SHA-256, used before, cost about 5 µs per 10-record batch of 1 KiB bodies), stable
/// across platforms and releases, and specified independently of this crate, so any XXH3
/// implementation recomputes it. No record stored by an earlier version of tidings has to
/// match it: earlier versions store nothing that outlives them.
///
/// Written through a table into one allocation.
pub(crate) fn payload_hash(data: &str) -> String {
    hex128(xxhash_rust::xxh3::xxh3_128(data.as_bytes()))
}

/// `value` as 32 lowercase hex digits, most significant first.
fn hex128(value: u128) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(32);
    for byte in value.to_be_bytes() {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    hex
}

/// The record's span, with every field it will carry set at once: a field recorded later
/// costs a subscriber a second pass (the JSON formatter of `lambda_runtime`'s default
/// subscriber parses and re-serializes the span's fields on every `record`).
fn record_span(
    handler: &str,
    message_id: Option<&str>,
    attributes: Option<&Attributes>,
    receive_count: u32,
) -> tracing::Span {
    tracing::info_span!(
        "record",
        handler,
        message_id,
        receive_count,
        event_id = attributes.map(|a| a.id.as_str()),
        event_type = attributes.map(|a| a.event_type.as_str()),
        event_version = attributes.map(|a| a.data_version),
        subject = attributes.and_then(|a| a.subject.as_deref()),
        correlation_id = attributes.map(Attributes::flow_id),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Context as HandlerContext, HandlerError};
    use tidings_events::Event;

    #[derive(Debug, serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
    #[event(type = "test.order.placed", version = 1)]
    struct OrderPlacedV1 {
        order_id: String,
    }

    #[derive(Debug, serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
    #[event(type = "test.order.placed", version = 2, upcast_from = OrderPlacedV1)]
    struct OrderPlaced {
        #[event(subject)]
        order_id: String,
        quantity: u32,
    }

    impl From<OrderPlacedV1> for OrderPlaced {
        fn from(v1: OrderPlacedV1) -> Self {
            Self {
                order_id: v1.order_id,
                quantity: 1,
            }
        }
    }

    #[crate::event_handler(idempotency_key = "order_id", main = false)]
    async fn by_order(
        _event: Envelope<OrderPlaced>,
        _ctx: &HandlerContext,
    ) -> Result<(), HandlerError> {
        Ok(())
    }

    #[crate::event_handler(main = false)]
    async fn by_event(
        _event: Envelope<OrderPlaced>,
        _ctx: &HandlerContext,
    ) -> Result<(), HandlerError> {
        Ok(())
    }

    fn options(ordering: SubjectOrdering, on_unknown_type: OnUnknownType) -> HandlerOptions {
        HandlerOptions {
            ordering,
            on_unknown_type,
            ..HandlerOptions::new("h")
        }
    }

    fn code(outcome: Outcome) -> ReasonCode {
        match outcome {
            Outcome::Rejected { reason, .. } | Outcome::Retry(reason) => reason.code,
            other => panic!("expected a reason, got {other:?}"),
        }
    }

    fn envelope(subject: Option<&str>, sequence: Option<u64>) -> Envelope<OrderPlaced> {
        let mut envelope = Envelope::new(
            "orders",
            OrderPlaced {
                order_id: "order-7".into(),
                quantity: 2,
            },
        );
        envelope.attributes.subject = subject.map(str::to_owned);
        envelope.attributes.sequence = sequence;
        envelope
    }

    #[test]
    fn a_body_at_the_limit_passes_and_one_over_it_is_rejected() {
        assert_eq!(within_size("12345", 5), Ok(()));
        let over = within_size("123456", 5).unwrap_err();
        assert!(matches!(&over, Outcome::Rejected { reason, .. }
            if reason.message.starts_with("body is 6 bytes, over this handler's limit of 5 bytes")));
        assert_eq!(code(over), ReasonCode::Oversized);
    }

    #[test]
    fn a_body_that_is_no_envelope_is_rejected() {
        assert_eq!(
            code(parse_envelope("not json").unwrap_err()),
            ReasonCode::Envelope
        );
    }

    #[test]
    fn an_unknown_type_is_rejected_or_ignored_as_the_handler_says() {
        let reject = options(SubjectOrdering::None, OnUnknownType::Reject);
        assert_eq!(route::<OrderPlaced>("test.order.placed", &reject), Ok(()));
        let rejected = route::<OrderPlaced>("test.order.cancelled", &reject).unwrap_err();
        assert!(matches!(&rejected, Outcome::Rejected { reason, .. }
            if reason.message.contains("[\"test.order.placed\"]")));
        assert_eq!(code(rejected), ReasonCode::UnknownType);
        let ignore = options(SubjectOrdering::None, OnUnknownType::Ignore);
        assert_eq!(
            route::<OrderPlaced>("test.order.cancelled", &ignore),
            Err(Outcome::Ignored)
        );
    }

    #[test]
    fn data_decodes_at_its_version_and_older_versions_upcast() {
        let v1 = Envelope::new(
            "orders",
            OrderPlacedV1 {
                order_id: "order-1".into(),
            },
        );
        let raw = parse_envelope(&v1.to_json().unwrap()).unwrap();
        let upcast = decode_data::<OrderPlaced>(&raw).unwrap();
        assert_eq!((upcast.order_id.as_str(), upcast.quantity), ("order-1", 1));

        let mut unknown = envelope(None, None);
        unknown.attributes.data_version = 9;
        let raw = parse_envelope(&unknown.to_json().unwrap()).unwrap();
        assert_eq!(
            code(decode_data::<OrderPlaced>(&raw).unwrap_err()),
            ReasonCode::UnsupportedVersion
        );

        let mut wrong = envelope(None, None);
        wrong.attributes.data_version = 2;
        let body = wrong
            .to_json()
            .unwrap()
            .replace("\"quantity\":2", "\"quantity\":\"two\"");
        let raw = parse_envelope(&body).unwrap();
        assert_eq!(
            code(decode_data::<OrderPlaced>(&raw).unwrap_err()),
            ReasonCode::InvalidData
        );
    }

    #[test]
    fn latest_wins_keys_the_subject_and_needs_a_sequence() {
        let none = options(SubjectOrdering::None, OnUnknownType::Reject);
        assert_eq!(
            subject_sequence(&envelope(None, None), &none, "fn#h"),
            Ok(None)
        );

        let latest = options(SubjectOrdering::LatestWins, OnUnknownType::Reject);
        let from_data = subject_sequence(&envelope(None, Some(4)), &latest, "fn#h").unwrap();
        assert_eq!(
            from_data,
            Some(SubjectSequence {
                subject: "fn#h#subject#order-7".into(),
                sequence: 4
            })
        );
        // The envelope's subject, when it has one, is the one ordered by.
        let from_envelope =
            subject_sequence(&envelope(Some("order-9"), Some(4)), &latest, "fn#h").unwrap();
        assert_eq!(from_envelope.unwrap().subject, "fn#h#subject#order-9");

        let unordered = subject_sequence(&envelope(None, None), &latest, "fn#h").unwrap_err();
        assert!(matches!(&unordered, Outcome::Rejected { reason, .. }
            if reason.message.contains("needs a sequence on every event")));
        assert_eq!(code(unordered), ReasonCode::MissingOrdering);
    }

    #[test]
    fn the_key_is_the_key_field_or_the_event_id_under_the_prefix() {
        let event = envelope(None, None);
        assert_eq!(idempotency_key::<by_order>(&event, "fn#h"), "fn#h#order-7");
        assert_eq!(
            idempotency_key::<by_event>(&event, "fn#h"),
            format!("fn#h#{}", event.attributes.id)
        );
    }

    #[test]
    fn the_context_tells_the_invocation_and_the_delivery() {
        let deadline = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
        let invocation = InvocationInfo {
            request_id: "req-1".into(),
            deadline,
        };
        let options = HandlerOptions::new("h");
        let params = PrepareParams {
            options: &options,
            key_prefix: "fn#h",
            invocation: &invocation,
            request_id: Arc::from("req-1"),
        };
        let delivery = Delivery {
            message_id: "msg-3".into(),
            body: String::new(),
            transport: crate::transport::Transport::Sqs,
            receive_count: 2,
            group_id: None,
            source_arn: None,
            sent_at: None,
            attributes: Default::default(),
        };
        let ctx = context_of(&delivery, &params);
        assert_eq!(
            (
                ctx.handler(),
                ctx.request_id(),
                ctx.message_id(),
                ctx.receive_count()
            ),
            ("h", "req-1", "msg-3", 2)
        );
        assert_eq!(ctx.deadline(), deadline);
    }

    #[test]
    fn the_payload_hash_is_xxh3_128_in_hex() {
        // XXH3-128 of the empty input, from the reference implementation's test vectors.
        assert_eq!(payload_hash(""), "99aa06d3014798d86001c324468d497f");
        assert_eq!(payload_hash(r#"{"a":1}"#).len(), 32);
        assert_ne!(payload_hash(r#"{"a":1}"#), payload_hash(r#"{"a":2}"#));
    }
}
