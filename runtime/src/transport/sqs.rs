//! SQS records: the body is the envelope, or an SNS notification wrapping it.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use aws_lambda_events::sqs::SqsMessage;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::sns::{SqsBody, read_sqs_body};
use super::{Delivery, Transport, TransportError, empty_body, is_object, json_string, not_unicode};
use crate::pipeline::outcome::ReasonCode;

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
        return Err(not_an_object());
    }
    // The lean reading accepts only records that `SqsMessage` accepts too, and reads the
    // same values from them; anything else (a type error, a binary attribute, a duplicate
    // key) takes the `SqsMessage` path, whose errors are the ones reported.
    match serde_json::from_str::<LeanRecord<'_>>(raw.get()) {
        Ok(record) if record.is_plain() => deliver(record.into_fields()),
        _ => decode_through_sqs_message(raw),
    }
}

/// Decodes every record of an SQS invocation: one result per record, in order, each the one
/// [`decode_sqs_record`] gives.
///
/// The records are read through one deserializer, as one JSON array, when they allow it: a
/// deserializer per record grows a new scratch buffer for each body's escapes (about seven
/// reallocations a record). A record the lean reading cannot read sends the batch back to
/// [`decode_sqs_record`], record by record, which reports it; a record with a binary
/// attribute alone goes through `SqsMessage`, as it would on its own.
pub(super) fn decode_sqs_records(
    records: &[Box<RawValue>],
) -> Vec<Result<Delivery, TransportError>> {
    let one_by_one = || records.iter().map(|raw| decode_sqs_record(raw)).collect();
    // A record that is not an object is reported without being read.
    if records.len() < 2 || !records.iter().all(|raw| is_object(raw)) {
        return one_by_one();
    }
    let length = records.iter().map(|raw| raw.get().len() + 1).sum::<usize>() + 1;
    let mut array = String::with_capacity(length);
    for raw in records {
        array.push(if array.is_empty() { '[' } else { ',' });
        array.push_str(raw.get());
    }
    array.push(']');
    // Each record is one valid JSON value, so the array reads to the records each would
    // read to on its own, or fails because one of them does.
    let Ok(lean) = serde_json::from_str::<Vec<LeanRecord<'_>>>(&array) else {
        return one_by_one();
    };
    lean.into_iter()
        .zip(records)
        .map(|(record, raw)| {
            if record.is_plain() {
                deliver(record.into_fields())
            } else {
                decode_through_sqs_message(raw)
            }
        })
        .collect()
}

/// The error for a record that is not a JSON object.
fn not_an_object() -> TransportError {
    TransportError::new(
        None,
        None,
        ReasonCode::Transport,
        "the SQS record is not a JSON object",
    )
}

/// Decodes a record through `aws_lambda_events`' `SqsMessage`: the reference reading, whose
/// deserialization errors are the ones a record that it refuses is reported with.
fn decode_through_sqs_message(raw: &RawValue) -> Result<Delivery, TransportError> {
    let record: SqsMessage = match serde_json::from_str(raw.get()) {
        Ok(record) => record,
        Err(error) => return Err(unreadable_record(raw, &error)),
    };
    let SqsMessage {
        message_id,
        body,
        mut attributes,
        message_attributes,
        event_source_arn,
        event_source,
        ..
    } = record;
    let mut system = |name: &str| attributes.remove(name).map(Cow::Owned);
    deliver(Fields {
        message_id: message_id.map(Cow::Owned),
        body: body.map(Cow::Owned),
        event_source: event_source.map(Cow::Owned),
        event_source_arn: event_source_arn.map(Cow::Owned),
        receive_count: system("ApproximateReceiveCount"),
        sent_timestamp: system("SentTimestamp"),
        group_id: system("MessageGroupId"),
        attributes: message_attributes
            .into_iter()
            .filter_map(|(name, attribute)| attribute.string_value.map(|value| (name, value)))
            .collect(),
    })
}

/// What the pipeline reads from an SQS record, however it was deserialized.
struct Fields<'a> {
    message_id: Option<Cow<'a, str>>,
    body: Option<Cow<'a, str>>,
    event_source: Option<Cow<'a, str>>,
    event_source_arn: Option<Cow<'a, str>>,
    receive_count: Option<Cow<'a, str>>,
    sent_timestamp: Option<Cow<'a, str>>,
    group_id: Option<Cow<'a, str>>,
    /// The message attributes with string values.
    attributes: BTreeMap<String, String>,
}

/// Turns the fields of a record into its delivery, or the error that says why it has none.
fn deliver(fields: Fields<'_>) -> Result<Delivery, TransportError> {
    let Fields {
        message_id,
        body,
        event_source,
        event_source_arn,
        receive_count,
        sent_timestamp,
        group_id,
        attributes: sqs_attributes,
    } = fields;
    let body = body.map(Cow::into_owned);
    let Some(message_id) = message_id.filter(|id| !id.is_empty()) else {
        return Err(TransportError::new(
            None,
            body,
            ReasonCode::Transport,
            "the SQS record has no messageId",
        ));
    };
    let message_id = message_id.into_owned();
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
    let receive_count = receive_count
        .and_then(|count| count.parse().ok())
        .unwrap_or(1);
    let sent_at = sent_timestamp.and_then(|millis| millis.parse().ok());
    let group_id = group_id.map(Cow::into_owned);
    let source_arn = event_source_arn.map(Cow::into_owned);

    match read_sqs_body(&body) {
        SqsBody::Raw => Ok(Delivery {
            message_id,
            body,
            transport: Transport::Sqs,
            receive_count,
            group_id,
            source_arn,
            sent_at,
            attributes: sqs_attributes,
        }),
        SqsBody::Notification {
            message,
            attributes,
            published_at,
        } => {
            if message.is_empty() {
                return Err(empty_body(Some(message_id)));
            }
            Ok(Delivery {
                message_id,
                body: message,
                transport: Transport::SnsViaSqs,
                receive_count,
                group_id,
                source_arn,
                // The publish time is when the event left its producer; the queue's time is
                // later by SNS's delivery.
                sent_at: published_at.or(sent_at),
                attributes,
            })
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

/// An SQS record read for the pipeline alone: the strings it keeps are borrowed from the
/// record when they hold no escape, and the fields it does not keep are checked, not built.
///
/// It mirrors `SqsMessage` field by field (names, order, defaults and the JSON types each
/// accepts), so that every record it reads is one `SqsMessage` reads, with the same values;
/// `SqsMessage` builds a `HashMap` and a `String` for every attribute and field: about a
/// third of the time it takes to decode a record. Binary message attributes are left to
/// `SqsMessage`, which checks their base64 (see [`LeanRecord::is_plain`]).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LeanRecord<'a> {
    #[serde(default, borrow)]
    message_id: Option<Text<'a>>,
    // Checked, never read: `SqsMessage` refuses a record whose field is not a string.
    #[allow(dead_code)]
    #[serde(default)]
    receipt_handle: Option<Checked>,
    #[serde(default, borrow)]
    body: Option<Text<'a>>,
    #[allow(dead_code)]
    #[serde(default)]
    md5_of_body: Option<Checked>,
    #[allow(dead_code)]
    #[serde(default)]
    md5_of_message_attributes: Option<Checked>,
    #[serde(default, borrow)]
    attributes: SystemAttributes<'a>,
    #[serde(default)]
    message_attributes: MessageAttributes,
    #[serde(default, borrow, rename = "eventSourceARN")]
    event_source_arn: Option<Text<'a>>,
    #[serde(default, borrow)]
    event_source: Option<Text<'a>>,
    #[allow(dead_code)]
    #[serde(default)]
    aws_region: Option<Checked>,
}

impl<'a> LeanRecord<'a> {
    /// Whether the record holds nothing the lean reading leaves to `SqsMessage`.
    fn is_plain(&self) -> bool {
        !self.message_attributes.binary
    }

    fn into_fields(self) -> Fields<'a> {
        let text = |text: Option<Text<'a>>| text.map(|text| text.0);
        Fields {
            message_id: text(self.message_id),
            body: text(self.body),
            event_source: text(self.event_source),
            event_source_arn: text(self.event_source_arn),
            receive_count: self.attributes.receive_count,
            sent_timestamp: self.attributes.sent_timestamp,
            group_id: self.attributes.group_id,
            attributes: self.message_attributes.strings,
        }
    }
}

/// A JSON string, borrowed from the record when it holds no escape.
///
/// `Option<Cow<str>>` would always copy: serde borrows a `Cow` only as a field of its own.
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(text)))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(text.to_owned())))
            }
            fn visit_string<E: de::Error>(self, text: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(text)))
            }
        }
        deserializer.deserialize_string(TextVisitor)
    }
}

/// A JSON string that `SqsMessage` would read into a `String` the pipeline does not use:
/// checked to be a string (with valid escapes), never built.
struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CheckedVisitor;
        impl Visitor<'_> for CheckedVisitor {
            type Value = Checked;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Checked)
            }
        }
        deserializer.deserialize_string(CheckedVisitor)
    }
}

/// The system attributes the pipeline reads, from the `attributes` map that `SqsMessage`
/// reads as `HashMap<String, String>` (so every value must be a string), `null` being empty.
#[derive(Default)]
struct SystemAttributes<'a> {
    receive_count: Option<Cow<'a, str>>,
    sent_timestamp: Option<Cow<'a, str>>,
    group_id: Option<Cow<'a, str>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for SystemAttributes<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SystemVisitor;
        impl<'de> Visitor<'de> for SystemVisitor {
            type Value = SystemAttributes<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut attributes = SystemAttributes::default();
                while let Some(name) = map.next_key::<Text<'de>>()? {
                    let value = map.next_value::<Text<'de>>()?.0;
                    // A repeated name keeps its last value, as a map insert does.
                    let slot = match name.0.as_ref() {
                        "ApproximateReceiveCount" => &mut attributes.receive_count,
                        "SentTimestamp" => &mut attributes.sent_timestamp,
                        "MessageGroupId" => &mut attributes.group_id,
                        _ => continue,
                    };
                    *slot = Some(value);
                }
                Ok(attributes)
            }
        }
        Ok(Nullable::deserialize(deserializer, SystemVisitor)?.unwrap_or_default())
    }
}

/// The message attributes with string values.
#[derive(Default)]
struct MessageAttributes {
    strings: BTreeMap<String, String>,
    /// Whether an attribute carries a binary value, whose base64 `SqsMessage` checks.
    binary: bool,
}

/// One message attribute, with `SqsMessageAttribute`'s fields, defaults and types; the
/// binary values are only looked at to send the record to `SqsMessage`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LeanAttribute<'a> {
    #[serde(borrow)]
    string_value: Option<Text<'a>>,
    binary_value: Option<IgnoredAny>,
    // Checked, never read, as in the record.
    #[allow(dead_code)]
    #[serde(default)]
    string_list_values: Vec<Checked>,
    #[serde(default)]
    binary_list_values: Vec<IgnoredAny>,
    #[allow(dead_code)]
    #[serde(default)]
    data_type: Option<Checked>,
}

impl<'de> Deserialize<'de> for MessageAttributes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AttributesVisitor;
        impl<'de> Visitor<'de> for AttributesVisitor {
            type Value = MessageAttributes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut attributes = MessageAttributes::default();
                while let Some(name) = map.next_key::<Text<'de>>()? {
                    let attribute = map.next_value::<LeanAttribute<'de>>()?;
                    attributes.binary |= attribute.binary_value.is_some()
                        || !attribute.binary_list_values.is_empty();
                    // `SqsMessage` keeps the last of two attributes of one name, then drops
                    // those without a string value: doing both in order does the same.
                    match attribute.string_value {
                        Some(value) => {
                            attributes
                                .strings
                                .insert(name.0.into_owned(), value.0.into_owned());
                        }
                        None => {
                            attributes.strings.remove(name.0.as_ref());
                        }
                    }
                }
                Ok(attributes)
            }
        }
        Ok(Nullable::deserialize(deserializer, AttributesVisitor)?.unwrap_or_default())
    }
}

/// A map that may be `null`, read as `SqsMessage` reads its maps (an `Option` of a map):
/// `Some` holds what `visitor` made of the map.
struct Nullable;

impl Nullable {
    fn deserialize<'de, D, V>(deserializer: D, visitor: V) -> Result<Option<V::Value>, D::Error>
    where
        D: Deserializer<'de>,
        V: Visitor<'de>,
    {
        struct OptionVisitor<V>(V);
        impl<'de, V: Visitor<'de>> Visitor<'de> for OptionVisitor<V> {
            type Value = Option<V::Value>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("option")
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, inner: D) -> Result<Self::Value, D::Error> {
                inner.deserialize_map(self.0).map(Some)
            }
        }
        deserializer.deserialize_option(OptionVisitor(visitor))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// JSON values of every type, and strings that stress each check: escapes, a lone
    /// surrogate, the record's own source, base64 that does and does not decode.
    const VALUES: &[&str] = &[
        "null",
        "7",
        "-3",
        "1.5",
        "true",
        r#""""#,
        r#""x""#,
        r#""2""#,
        r#""1764000000000""#,
        r#""aws:sqs""#,
        r#""aws:kinesis""#,
        r#""a\"b\n""#,
        r#""\u00e9t\u00e9""#,
        r#""\ud800""#,
        r#""AAEC""#,
        r#""!!""#,
        "[]",
        r#"["a"]"#,
        r#"["AAEC"]"#,
        r#"["!!"]"#,
        "[1]",
        "[null]",
        "{}",
        r#"{"k":"v"}"#,
        r#"{"k":1}"#,
        r#"{"k":null}"#,
        r#"{"stringValue":"s","dataType":"String"}"#,
        r#"{"stringValue":"s","binaryValue":"AAEC","dataType":"Binary"}"#,
        r#"{"stringValue":7}"#,
        r#"{"Type":"Notification","TopicArn":"arn:aws:sns:eu-west-1:1:t","Message":"m"}"#,
        r#""{\"Type\":\"Notification\",\"TopicArn\":\"arn:aws:sns:eu-west-1:1:t\",\"Message\":\"{}\"}""#,
        r#""{\"Type\":\"SubscriptionConfirmation\",\"TopicArn\":\"arn:aws:sns:eu-west-1:1:t\"}""#,
    ];

    fn object(fields: &[(String, String)]) -> String {
        let entries: Vec<String> = fields
            .iter()
            .map(|(name, value)| format!("{name}:{value}"))
            .collect();
        format!("{{{}}}", entries.join(","))
    }

    fn quoted(name: &str) -> String {
        format!("\"{name}\"")
    }

    fn attribute(fields: &[(&str, &str)]) -> Vec<(String, String)> {
        fields
            .iter()
            .map(|(name, value)| (quoted(name), (*value).to_owned()))
            .collect()
    }

    /// Every variant of a field list: each field removed, set to each value and repeated
    /// with each value, and an unknown field added with each value.
    fn variants(base: &[(String, String)]) -> Vec<Vec<(String, String)>> {
        let mut out = vec![base.to_vec()];
        for index in 0..base.len() {
            let mut removed = base.to_vec();
            removed.remove(index);
            out.push(removed);
            for value in VALUES {
                let mut set = base.to_vec();
                set[index].1 = (*value).to_owned();
                out.push(set);
                let mut repeated = base.to_vec();
                repeated.push((base[index].0.clone(), (*value).to_owned()));
                out.push(repeated);
            }
        }
        for value in VALUES {
            let mut extra = base.to_vec();
            extra.push((quoted("somethingElse"), (*value).to_owned()));
            out.push(extra);
        }
        out
    }

    /// Checks that the lean reading of `record` agrees with `SqsMessage`'s, alone and in a
    /// batch read as one array.
    fn check(record: &str) {
        let raw = RawValue::from_string(record.to_owned()).expect("valid JSON");
        let expected = decode_through_sqs_message(&raw);
        assert_eq!(decode_sqs_record(&raw), expected, "{record}");

        let plain = RawValue::from_string(PLAIN.to_owned()).expect("valid JSON");
        let batch = [plain.clone(), raw, plain];
        let one_by_one: Vec<_> = batch.iter().map(|raw| decode_sqs_record(raw)).collect();
        assert_eq!(one_by_one[1], expected, "{record}");
        assert_eq!(decode_sqs_records(&batch), one_by_one, "{record}");
    }

    /// A record the lean reading takes.
    const PLAIN: &str = r#"{"messageId":"m-0","body":"{}","attributes":{"ApproximateReceiveCount":"1"},"messageAttributes":{},"eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:eu-west-1:1:q"}"#;

    fn record_fields(attributes: String, message_attributes: String) -> Vec<(String, String)> {
        let body =
            r#""{\"specversion\":\"1.0\",\"id\":\"e-1\",\"data\":{\"note\":\"caf\u00e9\"}}""#;
        attribute(&[
            ("messageId", r#""m-1""#),
            ("receiptHandle", r#""handle""#),
            ("body", body),
            ("md5OfBody", r#""0""#),
            ("md5OfMessageAttributes", r#""0""#),
            ("attributes", &attributes),
            ("messageAttributes", &message_attributes),
            ("eventSourceARN", r#""arn:aws:sqs:eu-west-1:1:q.fifo""#),
            ("eventSource", r#""aws:sqs""#),
            ("awsRegion", r#""eu-west-1""#),
        ])
    }

    /// The lean reading gives exactly what `SqsMessage` gives, error messages included,
    /// for every field of every level set to every kind of value.
    #[test]
    fn the_lean_reading_agrees_with_sqs_message_on_every_variant() {
        let system = attribute(&[
            ("ApproximateReceiveCount", r#""3""#),
            ("SentTimestamp", r#""1764000000000""#),
            ("MessageGroupId", r#""group-\"1\"""#),
            ("SenderId", r#""AIDAEXAMPLE""#),
        ]);
        let string_attribute = attribute(&[
            ("stringValue", r#""shop.order.placed""#),
            ("binaryValue", "null"),
            ("stringListValues", "[]"),
            ("binaryListValues", "[]"),
            ("dataType", r#""String""#),
        ]);
        let plain_attributes = |attribute: String| {
            object(&[
                (quoted("type"), attribute),
                (
                    quoted("other"),
                    r#"{"stringValue":"o","dataType":"String"}"#.to_owned(),
                ),
            ])
        };
        let base = record_fields(object(&system), plain_attributes(object(&string_attribute)));
        // The common record takes the lean path; the comparison would prove nothing if not.
        let common = object(&base);
        for record in [common.as_str(), PLAIN] {
            let lean = serde_json::from_str::<LeanRecord<'_>>(record);
            assert!(lean.is_ok_and(|record| record.is_plain()), "{record}");
        }

        let mut count = 0;
        for fields in variants(&base) {
            check(&object(&fields));
            count += 1;
        }
        for system in variants(&system) {
            let fields =
                record_fields(object(&system), plain_attributes(object(&string_attribute)));
            check(&object(&fields));
            count += 1;
        }
        for attribute in variants(&string_attribute) {
            let fields = record_fields(object(&system), plain_attributes(object(&attribute)));
            check(&object(&fields));
            count += 1;
        }
        // Repeated attribute names: the last one counts, with or without a string value.
        for (first, second) in [
            (r#"{"stringValue":"a"}"#, r#"{"dataType":"String"}"#),
            (r#"{"dataType":"String"}"#, r#"{"stringValue":"b"}"#),
            (r#"{"stringValue":"a"}"#, r#"{"stringValue":"b"}"#),
        ] {
            let attributes = object(&[
                (quoted("type"), first.to_owned()),
                (quoted("type"), second.to_owned()),
            ]);
            check(&object(&record_fields(object(&system), attributes)));
            count += 1;
        }
        assert!(count > 1000, "{count} variants");
    }
}
