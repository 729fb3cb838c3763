//! SQS records: the body is the envelope, or an SNS notification wrapping it.

use aws_lambda_events::sqs::SqsMessage;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::sns::{SqsBody, read_sqs_body};
use super::{Delivery, Transport, TransportError, empty_body, is_object, json_string, not_unicode};
use crate::outcome::ReasonCode;

/// The `eventSource` of an SQS record.
pub(super) const EVENT_SOURCE: &str = "aws:sqs";

/// Decodes one record of an SQS invocation (an element of its `Records`).
///
/// A body that is an SNS notification (SNS→SQS without raw delivery) is unwrapped to its
/// `Message`; any other body is the envelope as it is. A record that cannot be read is an
/// error for this record alone, carrying its `messageId` whenever that can be read, so that
/// it can be reported in `batchItemFailures` without failing the batch.
pub fn decode_sqs_record(raw: &RawValue) -> Result<Delivery, TransportError> {
    // Serde reads a struct from an array too, which would report a confusing field error.
    if !is_object(raw) {
        return Err(TransportError::new(
            None,
            None,
            ReasonCode::Transport,
            "the SQS record is not a JSON object",
        ));
    }
    let record: SqsMessage = match serde_json::from_str(raw.get()) {
        Ok(record) => record,
        Err(error) => return Err(unreadable_record(raw, &error)),
    };
    let SqsMessage {
        message_id,
        body,
        attributes,
        message_attributes,
        event_source_arn,
        event_source,
        ..
    } = record;
    let Some(message_id) = message_id.filter(|id| !id.is_empty()) else {
        return Err(TransportError::new(
            None,
            body,
            ReasonCode::Transport,
            "the SQS record has no messageId",
        ));
    };
    if let Some(source) = event_source.filter(|source| source != EVENT_SOURCE) {
        return Err(TransportError::new(
            Some(message_id),
            body,
            ReasonCode::Transport,
            format!(
                "the record's eventSource is `{source}`, not `{EVENT_SOURCE}`: an SQS invocation holds only SQS records"
            ),
        ));
    }
    let Some(body) = body.filter(|body| !body.is_empty()) else {
        return Err(empty_body(Some(message_id)));
    };

    // Lambda passes the system attributes as strings; a missing or odd count is a first
    // delivery rather than a reason to drop the record.
    let receive_count = attributes
        .get("ApproximateReceiveCount")
        .and_then(|count| count.parse().ok())
        .unwrap_or(1);
    let sent_at = attributes
        .get("SentTimestamp")
        .and_then(|millis| millis.parse().ok());
    let group_id = attributes.get("MessageGroupId").cloned();
    let sqs_attributes = message_attributes
        .into_iter()
        .filter_map(|(name, attribute)| attribute.string_value.map(|value| (name, value)))
        .collect();

    let delivery = |body, transport, sent_at, attributes| Delivery {
        message_id: message_id.clone(),
        body,
        transport,
        receive_count,
        group_id: group_id.clone(),
        source_arn: event_source_arn.clone(),
        sent_at,
        attributes,
    };
    match read_sqs_body(&body) {
        SqsBody::Raw => Ok(delivery(body, Transport::Sqs, sent_at, sqs_attributes)),
        SqsBody::Notification {
            message,
            attributes,
            published_at,
        } => {
            if message.is_empty() {
                return Err(empty_body(Some(message_id)));
            }
            // The publish time is when the event left its producer; the queue's time is
            // later by SNS's delivery.
            let sent_at = published_at.or(sent_at);
            Ok(delivery(message, Transport::SnsViaSqs, sent_at, attributes))
        }
        SqsBody::Control(reason) => Err(TransportError::new(
            Some(message_id),
            Some(body),
            ReasonCode::NotAnEvent,
            reason,
        )),
        SqsBody::Unreadable(reason) => Err(TransportError::new(
            Some(message_id),
            Some(body),
            ReasonCode::Transport,
            reason,
        )),
    }
}

/// The fields of an SQS record needed to report it when it did not deserialize, kept raw
/// so that one unreadable field does not hide the others.
#[derive(Deserialize)]
struct RecordProbe<'a> {
    #[serde(rename = "messageId", borrow, default)]
    message_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    body: Option<&'a RawValue>,
}

/// The error for an SQS record that did not deserialize, saying why as precisely as the
/// record allows.
fn unreadable_record(raw: &RawValue, error: &serde_json::Error) -> TransportError {
    let Ok(probe) = serde_json::from_str::<RecordProbe<'_>>(raw.get()) else {
        return TransportError::new(
            None,
            None,
            ReasonCode::Transport,
            format!("the SQS record could not be read: {error}"),
        );
    };
    let message_id = probe.message_id.and_then(|raw| json_string(raw).ok());
    let body = probe.body.map(json_string);
    let reason = match &body {
        // The record is valid JSON, so a string body that does not decode holds an escape
        // that no text can: a lone surrogate.
        Some(Err(body_error)) if probe.body.is_some_and(|raw| raw.get().starts_with('"')) => {
            not_unicode("the body", body_error)
        }
        _ => format!("the SQS record could not be read: {error}"),
    };
    TransportError::new(
        message_id,
        body.and_then(Result::ok),
        ReasonCode::Transport,
        reason,
    )
}
