//! The context attributes of a CloudEvents 1.0 event: everything in the envelope but `data`.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use crate::EnvelopeError;

/// The only CloudEvents version tidings reads and writes.
pub const SPEC_VERSION: &str = "1.0";

/// The width to which `sequence` is zero-padded, so that the string order of the CloudEvents
/// sequence extension agrees with the numeric order (`u64::MAX` has 20 digits).
pub const SEQUENCE_WIDTH: usize = 20;

/// The context attributes of an envelope: the CloudEvents 1.0 core attributes, the extensions
/// tidings uses, and any other extension a producer set (kept, so nothing is lost in transit).
///
/// [`Attributes::decode`] reads them from a JSON body without building `data`, which is how
/// a consumer routes a record before it knows the Rust type of its payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Attributes {
    /// `id`: unique per event from a source; tidings writes a UUID v7.
    pub id: String,
    /// `source`: the producing context, e.g. `orders-service`.
    pub source: String,
    /// `type`: the event type, e.g. `shop.order.placed`.
    pub event_type: String,
    /// `time`: when the occurrence happened.
    pub time: Option<DateTime<Utc>>,
    /// `subject`: the entity the event is about, e.g. `order-42`.
    pub subject: Option<String>,
    /// `datacontenttype`: `application/json` (or another JSON media type) for tidings events.
    pub data_content_type: Option<String>,
    /// `dataschema`: the URI of the JSON Schema of `data`.
    pub data_schema: Option<String>,
    /// `dataversion` (extension): the schema version of `data`, at least 1.
    pub data_version: u32,
    /// `sequence` (extension): the subject's version; newer events have larger numbers.
    pub sequence: Option<u64>,
    /// `correlationid` (extension): shared by every event of one business flow.
    pub correlation_id: Option<String>,
    /// `causationid` (extension): the id of the event that caused this one.
    pub causation_id: Option<String>,
    /// `traceparent` (extension): W3C trace context of the producer.
    pub traceparent: Option<String>,
    /// Any other extension attribute, by name.
    pub extensions: BTreeMap<String, ExtensionValue>,
}

/// The value of an extension attribute that tidings does not interpret.
///
/// The CloudEvents JSON format carries extension values as strings, integers or booleans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtensionValue {
    /// A string value.
    String(String),
    /// An integer value.
    Integer(i64),
    /// A boolean value.
    Boolean(bool),
}

impl Attributes {
    /// The correlation id of the flow this event belongs to: its `correlationid`, or its own
    /// id when it starts a flow.
    pub fn flow_id(&self) -> &str {
        self.correlation_id.as_deref().unwrap_or(&self.id)
    }

    /// The `sequence` as the CloudEvents extension writes it: zero-padded to
    /// [`SEQUENCE_WIDTH`] digits so that string order is numeric order.
    pub fn sequence_string(&self) -> Option<String> {
        self.sequence.map(format_sequence)
    }

    /// `time` in RFC 3339 form, as written on the wire.
    pub fn time_string(&self) -> Option<String> {
        self.time
            .map(|time| time.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

/// Writes a sequence number as the CloudEvents sequence extension expects it.
pub fn format_sequence(sequence: u64) -> String {
    format!("{sequence:0width$}", width = SEQUENCE_WIDTH)
}

/// Checks the name of an extension attribute against the CloudEvents 1.0 naming rule.
pub fn check_extension_name(name: &str) -> Result<(), EnvelopeError> {
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if valid {
        Ok(())
    } else {
        Err(EnvelopeError::InvalidAttribute {
            name: name.to_owned(),
            rule: "must be named with lowercase ASCII letters and digits only (the CloudEvents naming rule)",
        })
    }
}

/// Converts raw JSON attribute values into validated [`Attributes`].
pub(crate) struct AttributeReader {
    pub(crate) specversion: Option<Value>,
    pub(crate) id: Option<Value>,
    pub(crate) source: Option<Value>,
    pub(crate) event_type: Option<Value>,
    pub(crate) time: Option<Value>,
    pub(crate) subject: Option<Value>,
    pub(crate) data_content_type: Option<Value>,
    pub(crate) data_schema: Option<Value>,
    pub(crate) data_version: Option<Value>,
    pub(crate) sequence: Option<Value>,
    pub(crate) correlation_id: Option<Value>,
    pub(crate) causation_id: Option<Value>,
    pub(crate) traceparent: Option<Value>,
    pub(crate) extensions: Vec<(String, Value)>,
}

impl AttributeReader {
    pub(crate) fn new() -> Self {
        Self {
            specversion: None,
            id: None,
            source: None,
            event_type: None,
            time: None,
            subject: None,
            data_content_type: None,
            data_schema: None,
            data_version: None,
            sequence: None,
            correlation_id: None,
            causation_id: None,
            traceparent: None,
            extensions: Vec::new(),
        }
    }

    /// Where a known attribute's raw value goes; `None` for extensions.
    pub(crate) fn slot(&mut self, name: &str) -> Option<&mut Option<Value>> {
        Some(match name {
            "specversion" => &mut self.specversion,
            "id" => &mut self.id,
            "source" => &mut self.source,
            "type" => &mut self.event_type,
            "time" => &mut self.time,
            "subject" => &mut self.subject,
            "datacontenttype" => &mut self.data_content_type,
            "dataschema" => &mut self.data_schema,
            "dataversion" => &mut self.data_version,
            "sequence" => &mut self.sequence,
            "correlationid" => &mut self.correlation_id,
            "causationid" => &mut self.causation_id,
            "traceparent" => &mut self.traceparent,
            _ => return None,
        })
    }

    pub(crate) fn finish(self) -> Result<Attributes, EnvelopeError> {
        let specversion = required_string("specversion", self.specversion)?;
        if specversion != SPEC_VERSION {
            return Err(EnvelopeError::UnsupportedSpecVersion { found: specversion });
        }
        let data_content_type = optional_string("datacontenttype", self.data_content_type)?;
        if let Some(media_type) = &data_content_type
            && !is_json_media_type(media_type)
        {
            return Err(EnvelopeError::InvalidAttribute {
                name: "datacontenttype".into(),
                rule: "must be application/json or a +json media type, since tidings events carry JSON data",
            });
        }
        let mut extensions = BTreeMap::new();
        for (name, value) in self.extensions {
            check_extension_name(&name)?;
            extensions.insert(name.clone(), extension_value(&name, value)?);
        }
        Ok(Attributes {
            id: required_string("id", self.id)?,
            source: required_string("source", self.source)?,
            event_type: required_string("type", self.event_type)?,
            time: optional_string("time", self.time)?
                .map(|text| parse_time(&text))
                .transpose()?,
            subject: optional_string("subject", self.subject)?,
            data_content_type,
            data_schema: optional_string("dataschema", self.data_schema)?
                .map(absolute_uri)
                .transpose()?,
            data_version: data_version(self.data_version)?,
            // `null` means unset in the CloudEvents JSON format, as for every attribute.
            sequence: self
                .sequence
                .filter(|value| !value.is_null())
                .map(sequence)
                .transpose()?,
            correlation_id: optional_string("correlationid", self.correlation_id)?,
            causation_id: optional_string("causationid", self.causation_id)?,
            traceparent: optional_string("traceparent", self.traceparent)?,
            extensions,
        })
    }
}

fn is_json_media_type(media_type: &str) -> bool {
    let essence = media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence == "text/json" || essence.ends_with("+json")
}

fn required_string(name: &'static str, value: Option<Value>) -> Result<String, EnvelopeError> {
    optional_string(name, value)?.ok_or(EnvelopeError::MissingAttribute { name })
}

/// A string attribute: absent and `null` are both "not set"; empty strings break the spec.
fn optional_string(
    name: &'static str,
    value: Option<Value>,
) -> Result<Option<String>, EnvelopeError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.is_empty() => Err(EnvelopeError::InvalidAttribute {
            name: name.into(),
            rule: "must not be an empty string",
        }),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(EnvelopeError::InvalidAttribute {
            name: name.into(),
            rule: "must be a JSON string",
        }),
    }
}

/// `dataschema` is a URI, which CloudEvents requires to be absolute: without a scheme it names
/// nothing a consumer could fetch, and other CloudEvents implementations refuse the event.
fn absolute_uri(text: String) -> Result<String, EnvelopeError> {
    if tidings_naming::is_absolute_uri(&text) {
        Ok(text)
    } else {
        Err(EnvelopeError::InvalidAttribute {
            name: "dataschema".into(),
            rule: "must be an absolute URI (with a scheme), e.g. \"urn:tidings:schema:shop.order.placed:v2\"",
        })
    }
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, EnvelopeError> {
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|_| EnvelopeError::InvalidAttribute {
            name: "time".into(),
            rule: "must be an RFC 3339 timestamp such as 2026-11-22T10:00:00Z",
        })
}

/// `dataversion` is an integer extension; some producers can only write string extensions,
/// so a string of digits is accepted too. CloudEvents integers are signed 32-bit, which caps
/// the version at `i32::MAX`.
fn data_version(value: Option<Value>) -> Result<u32, EnvelopeError> {
    const RULE: &str = "must be an integer from 1 to 2147483647 (the schema version of `data`)";
    let invalid = || EnvelopeError::InvalidAttribute {
        name: "dataversion".into(),
        rule: RULE,
    };
    let version = match value {
        None | Some(Value::Null) => {
            return Err(EnvelopeError::MissingAttribute {
                name: "dataversion",
            });
        }
        Some(Value::Number(number)) => number.as_u64().ok_or_else(invalid)?,
        Some(Value::String(text)) => text.parse::<u64>().map_err(|_| invalid())?,
        Some(_) => return Err(invalid()),
    };
    match i32::try_from(version) {
        Ok(version) if version >= 1 => Ok(version.unsigned_abs()),
        _ => Err(invalid()),
    }
}

/// `sequence` is a string of decimal digits (zero-padded on write); integers are accepted on
/// read for producers that write it as a number.
fn sequence(value: Value) -> Result<u64, EnvelopeError> {
    let invalid = || EnvelopeError::InvalidAttribute {
        name: "sequence".into(),
        rule: "must be a string of decimal digits that fits in 64 bits, e.g. \"00000000000000000007\"",
    };
    match value {
        Value::String(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
            text.parse().map_err(|_| invalid())
        }
        Value::Number(number) => number.as_u64().ok_or_else(invalid),
        _ => Err(invalid()),
    }
}

fn extension_value(name: &str, value: Value) -> Result<ExtensionValue, EnvelopeError> {
    match value {
        Value::String(text) => Ok(ExtensionValue::String(text)),
        Value::Bool(flag) => Ok(ExtensionValue::Boolean(flag)),
        Value::Number(number) => number.as_i64().map(ExtensionValue::Integer).ok_or_else(|| {
            EnvelopeError::InvalidAttribute {
                name: name.to_owned(),
                rule: "must fit in 64 bits and have no fraction, as extension integers do",
            }
        }),
        _ => Err(EnvelopeError::InvalidAttribute {
            name: name.to_owned(),
            rule: "must be a string, an integer or a boolean, as extension values are",
        }),
    }
}

impl serde::Serialize for ExtensionValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::String(text) => serializer.serialize_str(text),
            Self::Integer(number) => serializer.serialize_i64(*number),
            Self::Boolean(flag) => serializer.serialize_bool(*flag),
        }
    }
}
