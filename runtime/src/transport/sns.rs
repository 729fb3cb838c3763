//! SNS notifications: records of SNS invoking the function, and notification JSON found in
//! an SQS body (SNS→SQS without raw delivery).

use std::collections::{BTreeMap, HashMap};

use aws_lambda_events::sns::{SnsMessage, SnsRecord};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{
    Delivery, Transport, TransportError, empty_body, epoch_millis, is_object, json_string,
    not_unicode,
};
use crate::pipeline::outcome::ReasonCode;
use crate::store::EpochMillis;

/// The `Type` of an SNS message that carries a published message.
const NOTIFICATION: &str = "Notification";

/// The `EventSource` of an SNS record.
pub(super) const EVENT_SOURCE: &str = "aws:sns";

/// Decodes one record of an SNS invocation (an element of its `Records`).
///
/// The envelope is the notification's `Message`. An unreadable record, or an SNS control
/// message (subscription or unsubscribe confirmation), is an error for this record alone,
/// with the `MessageId` when it can be read.
pub fn decode_sns_record(raw: &RawValue) -> Result<Delivery, TransportError> {
    // Serde reads a struct from an array too, which would report a confusing field error.
    if !is_object(raw) {
        return Err(TransportError::new(
            None,
            None,
            ReasonCode::Transport,
            "the SNS record is not a JSON object",
        ));
    }
    let record: SnsRecord = match serde_json::from_str(raw.get()) {
        Ok(record) => record,
        Err(error) => return Err(unreadable_record(raw, &error)),
    };
    if record.event_source != EVENT_SOURCE {
        return Err(TransportError::new(
            Some(record.sns.message_id),
            Some(record.sns.message),
            ReasonCode::Transport,
            format!(
                "the record's EventSource is `{}`, not `{EVENT_SOURCE}`: an SNS invocation holds only SNS records",
                record.event_source
            ),
        ));
    }
    let SnsMessage {
        sns_message_type,
        message_id,
        topic_arn,
        timestamp,
        message,
        message_attributes,
        ..
    } = record.sns;
    if sns_message_type != NOTIFICATION {
        let reason = control_message(&sns_message_type, &topic_arn, false);
        return Err(TransportError::new(
            Some(message_id),
            Some(message),
            ReasonCode::NotAnEvent,
            reason,
        ));
    }
    if message.is_empty() {
        return Err(empty_body(Some(message_id)));
    }
    Ok(Delivery {
        message_id,
        body: message,
        transport: Transport::Sns,
        // SNS retries a failed invocation itself and does not count deliveries.
        receive_count: 1,
        group_id: None,
        source_arn: Some(topic_arn),
        sent_at: epoch_millis(timestamp),
        attributes: string_attributes(
            message_attributes
                .into_iter()
                .map(|(name, attribute)| (name, attribute.data_type, attribute.value)),
        ),
    })
}

/// The fields of an SNS record that are needed to report a record that did not deserialize:
/// each kept raw so that one unreadable field does not hide the others.
#[derive(Deserialize)]
struct RecordProbe<'a> {
    #[serde(rename = "Sns", borrow, default)]
    sns: Option<MessageProbe<'a>>,
}

/// The fields of an SNS message (in a record, or as JSON in an SQS body) that tell what it
/// is, kept raw.
#[derive(Deserialize)]
struct MessageProbe<'a> {
    #[serde(rename = "Type", borrow, default)]
    kind: Option<&'a RawValue>,
    #[serde(rename = "MessageId", borrow, default)]
    message_id: Option<&'a RawValue>,
    #[serde(rename = "TopicArn", borrow, default)]
    topic_arn: Option<&'a RawValue>,
    #[serde(rename = "Message", borrow, default)]
    message: Option<&'a RawValue>,
    #[serde(rename = "Timestamp", borrow, default)]
    timestamp: Option<&'a RawValue>,
    #[serde(rename = "MessageAttributes", borrow, default)]
    message_attributes: Option<&'a RawValue>,
}

impl MessageProbe<'_> {
    fn kind(&self) -> Option<String> {
        self.kind.and_then(|raw| json_string(raw).ok())
    }

    fn topic_arn(&self) -> Option<String> {
        self.topic_arn.and_then(|raw| json_string(raw).ok())
    }
}

/// The error for an SNS record that did not deserialize, saying why as precisely as the
/// record allows.
fn unreadable_record(raw: &RawValue, error: &serde_json::Error) -> TransportError {
    let Ok(RecordProbe { sns: Some(sns) }) = serde_json::from_str::<RecordProbe<'_>>(raw.get())
    else {
        return TransportError::new(
            None,
            None,
            ReasonCode::Transport,
            format!("the SNS record could not be read: {error}"),
        );
    };
    let message_id = sns.message_id.and_then(|raw| json_string(raw).ok());
    let message = sns.message.map(json_string);
    let body = message
        .as_ref()
        .and_then(|message| message.as_ref().ok().cloned());
    // Confirmations lack fields a notification must have, so they land here.
    if let Some(kind) = sns.kind().filter(|kind| kind != NOTIFICATION) {
        let reason = control_message(&kind, &sns.topic_arn().unwrap_or_default(), false);
        return TransportError::new(message_id, body, ReasonCode::NotAnEvent, reason);
    }
    let reason = match message {
        Some(Err(message_error)) => not_unicode("the SNS Message", &message_error),
        _ => format!("the SNS record could not be read: {error}"),
    };
    TransportError::new(message_id, body, ReasonCode::Transport, reason)
}

/// What an SQS body turned out to be, seen as possible SNS JSON.
#[derive(Debug)]
pub(super) enum SqsBody {
    /// Not SNS JSON: the body is the envelope itself.
    Raw,
    /// An SNS notification wrapping the envelope.
    Notification {
        /// The notification's `Message`: the envelope.
        message: String,
        /// Its message attributes with string values.
        attributes: BTreeMap<String, String>,
        /// When SNS accepted the publish.
        published_at: Option<EpochMillis>,
    },
    /// An SNS control message; the string says what to do about it.
    Control(String),
    /// SNS JSON that cannot be unwrapped; the string says why.
    Unreadable(String),
}

/// Reads an SQS body as SNS notification JSON, as SNS writes it to a queue without raw
/// delivery. Both spellings of the URL keys (`SigningCertURL`, `SigningCertUrl`, ...) are
/// accepted because neither is needed.
pub(super) fn read_sqs_body(body: &str) -> SqsBody {
    // Every SNS message has a `Type` key; checking for it first keeps the common raw
    // envelope from being parsed twice.
    if !body.trim_start().starts_with('{') || !body.contains("\"Type\"") {
        return SqsBody::Raw;
    }
    let Ok(probe) = serde_json::from_str::<MessageProbe<'_>>(body) else {
        return SqsBody::Raw;
    };
    let (Some(kind), Some(topic_arn)) = (probe.kind(), probe.topic_arn()) else {
        return SqsBody::Raw;
    };
    match kind.as_str() {
        NOTIFICATION => {}
        "SubscriptionConfirmation" | "UnsubscribeConfirmation" => {
            return SqsBody::Control(control_message(&kind, &topic_arn, true));
        }
        _ => return SqsBody::Raw,
    }
    let Some(message) = probe.message else {
        return SqsBody::Raw;
    };
    let message = match json_string(message) {
        Ok(message) => message,
        Err(error) => {
            return SqsBody::Unreadable(not_unicode(
                "the Message of the SNS notification in the body",
                &error,
            ));
        }
    };
    let attributes = match probe.message_attributes.map(notification_attributes) {
        None => BTreeMap::new(),
        Some(Ok(attributes)) => attributes,
        Some(Err(error)) => {
            return SqsBody::Unreadable(format!(
                "the MessageAttributes of the SNS notification in the body could not be read: {error}"
            ));
        }
    };
    let published_at = probe
        .timestamp
        .and_then(|raw| serde_json::from_str::<chrono::DateTime<chrono::Utc>>(raw.get()).ok())
        .and_then(epoch_millis);
    SqsBody::Notification {
        message,
        attributes,
        published_at,
    }
}

/// One entry of a notification's `MessageAttributes`: `{"Type": "String", "Value": "..."}`.
#[derive(Deserialize)]
struct NotificationAttribute {
    #[serde(rename = "Type")]
    data_type: String,
    /// SNS writes a string; a number is accepted for producers that don't.
    #[serde(rename = "Value")]
    value: serde_json::Value,
}

fn notification_attributes(raw: &RawValue) -> Result<BTreeMap<String, String>, serde_json::Error> {
    let entries: HashMap<String, NotificationAttribute> = serde_json::from_str(raw.get())?;
    Ok(string_attributes(entries.into_iter().filter_map(
        |(name, attribute)| {
            let value = match attribute.value {
                serde_json::Value::String(value) => value,
                serde_json::Value::Number(number) => number.to_string(),
                _ => return None,
            };
            Some((name, attribute.data_type, value))
        },
    )))
}

/// The attributes whose type is a string or number (with or without a custom suffix such as
/// `String.Array` or `Number.float`); binary values are left out.
fn string_attributes(
    entries: impl Iterator<Item = (String, String, String)>,
) -> BTreeMap<String, String> {
    entries
        .filter(|(_, data_type, _)| {
            data_type.starts_with("String") || data_type.starts_with("Number")
        })
        .map(|(name, _, value)| (name, value))
        .collect()
}

/// What to say about an SNS control message that reached a handler.
pub(super) fn control_message(kind: &str, topic_arn: &str, via_sqs: bool) -> String {
    let topic = if topic_arn.is_empty() {
        String::new()
    } else {
        format!(" of topic {topic_arn}")
    };
    let raw_delivery = if via_sqs {
        ", and enable raw message delivery on the subscription so that bodies are envelopes"
    } else {
        ""
    };
    match kind {
        "SubscriptionConfirmation" => format!(
            "an SNS SubscriptionConfirmation{topic}, not an event: confirm the subscription through the message's SubscribeURL (or ConfirmSubscription with its Token){raw_delivery}"
        ),
        "UnsubscribeConfirmation" => format!(
            "an SNS UnsubscribeConfirmation{topic}, not an event: the subscription was deleted; to receive events again, confirm it through the message's SubscribeURL or subscribe again{raw_delivery}"
        ),
        other => format!(
            "an SNS message of Type `{other}`{topic}, not a Notification: only notifications carry events"
        ),
    }
}
