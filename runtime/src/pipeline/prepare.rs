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

/// Checks a delivery up to its claim.
fn check<H: EventHandler>(
    delivery: &Delivery,
    params: &PrepareParams<'_>,
) -> Result<Ready<H::Events>, Early> {
    let options = params.options;
    if delivery.body.len() > options.max_body_bytes {
        return Err(Box::new((
            None,
            Outcome::rejected(
                ReasonCode::Oversized,
                format!(
                    "body is {} bytes, over this handler's limit of {} bytes; publish large \
                     payloads by reference or raise `max_body_bytes`",
                    delivery.body.len(),
                    options.max_body_bytes
                ),
            ),
        )));
    }
    let raw = RawEnvelope::decode_raw(&delivery.body)
        .map_err(|e| Box::new((None, Outcome::rejected(ReasonCode::Envelope, e.to_string()))))?;
    // An early end hands its attributes over; they are only copied for a ready record.
    let early = |attributes: Attributes, outcome: Outcome| Box::new((Some(attributes), outcome));

    if !H::Events::accepts(&raw.attributes.event_type) {
        let accepted: Vec<&str> = H::Events::accepted().iter().map(|a| a.event_type).collect();
        let message = format!(
            "event type `{}` is not handled by `{}` (it accepts {accepted:?}); fix the \
             subscription's filter policy or set on_unknown_type = \"ignore\"",
            raw.attributes.event_type, options.name
        );
        return Err(early(
            raw.attributes,
            match options.on_unknown_type {
                OnUnknownType::Reject => Outcome::rejected(ReasonCode::UnknownType, message),
                OnUnknownType::Ignore => Outcome::Ignored,
            },
        ));
    }
    let data = match H::Events::decode(&raw) {
        Ok(data) => data,
        Err(error) => {
            let outcome = match &error {
                DataError::UnsupportedVersion { .. } => {
                    Outcome::rejected(ReasonCode::UnsupportedVersion, error.to_string())
                }
                DataError::Invalid { .. } => {
                    Outcome::rejected(ReasonCode::InvalidData, error.to_string())
                }
            };
            return Err(early(raw.attributes, outcome));
        }
    };
    let envelope = Envelope {
        attributes: raw.attributes,
        data,
    };

    let ordering = match options.ordering {
        SubjectOrdering::None => None,
        SubjectOrdering::LatestWins => {
            let subject = envelope
                .attributes
                .subject
                .as_deref()
                .or_else(|| envelope.data.subject());
            match (subject, envelope.attributes.sequence) {
                (Some(subject), Some(sequence)) => Some(SubjectSequence {
                    subject: format!("{}#subject#{subject}", params.key_prefix),
                    sequence,
                }),
                (subject, sequence) => {
                    let missing = match (subject, sequence) {
                        (None, None) => "a subject and a sequence",
                        (None, Some(_)) => "a subject",
                        _ => "a sequence",
                    };
                    let outcome = Outcome::rejected(
                        ReasonCode::MissingOrdering,
                        format!(
                            "`{}` uses ordering = \"latest_wins\", which needs {missing} on every \
                             event; publish with `.with_sequence(n)` and a subject field",
                            options.name
                        ),
                    );
                    return Err(early(envelope.attributes, outcome));
                }
            }
        }
    };
    let key = match H::idempotency_key(&envelope) {
        Some(key) => prefixed(params.key_prefix, &key),
        None => prefixed(params.key_prefix, &envelope.attributes.id),
    };
    let claim = Claim {
        key,
        payload_hash: payload_hash(raw.data.get()),
        owner: LockOwner::new(),
        lock_expires_at: to_millis(params.invocation.deadline),
        ordering,
    };
    let ctx = Context {
        handler: options.name,
        request_id: Arc::clone(&params.request_id),
        deadline: params.invocation.deadline,
        message_id: delivery.message_id.clone(),
        receive_count: delivery.receive_count,
    };
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
    use super::payload_hash;

    #[test]
    fn the_payload_hash_is_xxh3_128_in_hex() {
        // XXH3-128 of the empty input, from the reference implementation's test vectors.
        assert_eq!(payload_hash(""), "99aa06d3014798d86001c324468d497f");
        assert_eq!(payload_hash(r#"{"a":1}"#).len(), 32);
        assert_ne!(payload_hash(r#"{"a":1}"#), payload_hash(r#"{"a":2}"#));
    }
}
