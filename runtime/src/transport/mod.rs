//! Transport decoding: from a Lambda invocation (SQS or SNS) to one [`Delivery`] per record.
//!
//! Each record is read on its own, so one unreadable record never fails the batch: it gets
//! its own [`TransportError`] and outcome.
//!
//! Three shapes reach a handler:
//! - an SQS record whose body is the envelope (raw delivery, or a direct SendMessage);
//! - an SQS record whose body is an SNS notification wrapping the envelope (SNS→SQS without
//!   raw delivery; its keys are spelled `SigningCertURL`/`UnsubscribeURL`);
//! - an SNS record (SNS invoking the function; keys spelled `SigningCertUrl`/`UnsubscribeUrl`).

mod invocation;
pub mod message_attribute;
mod sns;
mod sqs;

pub use invocation::Invocation;
pub use sns::decode_sns_record;
pub use sqs::decode_sqs_record;

use std::collections::BTreeMap;

use crate::pipeline::outcome::{Reason, ReasonCode};
use crate::store::EpochMillis;

/// How a record reached the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// An SQS message whose body is the envelope.
    Sqs,
    /// An SQS message whose body is an SNS notification.
    SnsViaSqs,
    /// An SNS notification delivered to the function directly.
    Sns,
}

impl Transport {
    /// A short name for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqs => "sqs",
            Self::SnsViaSqs => "sns-via-sqs",
            Self::Sns => "sns",
        }
    }
}

/// One record of an invocation, unwrapped to the envelope body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The SQS message id (the `itemIdentifier` of a batch failure) or SNS message id.
    pub message_id: String,
    /// The envelope JSON.
    pub body: String,
    /// How the record arrived.
    pub transport: Transport,
    /// `ApproximateReceiveCount` (1 for SNS).
    pub receive_count: u32,
    /// The FIFO message group, for records of a FIFO queue.
    pub group_id: Option<String>,
    /// The ARN of the queue (SQS) or topic (SNS) the record came from.
    pub source_arn: Option<String>,
    /// When the message was sent, if the transport says.
    pub sent_at: Option<EpochMillis>,
    /// The message attributes with string values (SQS message attributes or the SNS
    /// notification's), kept so a dead-lettered record carries them on.
    pub attributes: BTreeMap<String, String>,
}

impl Delivery {
    /// Whether the record came from a FIFO queue (whose ARN ends in `.fifo`).
    pub fn is_fifo(&self) -> bool {
        self.transport != Transport::Sns
            && self
                .source_arn
                .as_deref()
                .is_some_and(|arn| arn.ends_with(".fifo"))
    }
}

/// Why a record could not be unwrapped to an envelope body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError {
    /// The record's message id, when it could be read: without it SQS cannot be told which
    /// record failed, and the whole batch must be retried.
    pub message_id: Option<String>,
    /// The raw body, when it could be read, so a dead-lettered record keeps it.
    pub body: Option<String>,
    /// What went wrong.
    pub reason: Reason,
}

impl TransportError {
    pub(crate) fn new(
        message_id: Option<String>,
        body: Option<String>,
        code: ReasonCode,
        message: impl Into<String>,
    ) -> Self {
        Self {
            message_id,
            body,
            reason: Reason::new(code, message),
        }
    }
}

/// Decodes a JSON string value on its own.
///
/// Raw values are only checked for JSON syntax, which lets a lone surrogate escape
/// (`"\ud800"`) through; decoding the string is where that fails, and the caller turns the
/// failure into a message that names the field.
fn json_string(raw: &serde_json::value::RawValue) -> Result<String, serde_json::Error> {
    serde_json::from_str(raw.get())
}

/// The message of a field whose JSON string cannot be decoded to text.
fn not_unicode(what: &str, error: &serde_json::Error) -> String {
    format!(
        "{what} is not valid UTF-8/Unicode text ({error}): a lone surrogate escape such as \\ud800 has no UTF-8 form; the producer must send valid Unicode"
    )
}

/// Milliseconds since the Unix epoch of a UTC time, or `None` before the epoch.
fn epoch_millis(time: chrono::DateTime<chrono::Utc>) -> Option<EpochMillis> {
    EpochMillis::try_from(time.timestamp_millis()).ok()
}

/// The error for a record without a body.
fn empty_body(message_id: Option<String>) -> TransportError {
    TransportError::new(
        message_id,
        None,
        ReasonCode::Transport,
        "empty body: the message carries no envelope",
    )
}

/// Whether a raw JSON value is an object.
fn is_object(raw: &serde_json::value::RawValue) -> bool {
    raw.get().trim_start().starts_with('{')
}
