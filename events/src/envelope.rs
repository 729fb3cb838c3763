//! [`Envelope`]: a typed event in a CloudEvents 1.0 JSON envelope, the body of every message.

use std::fmt;
use std::marker::PhantomData;

use chrono::Utc;
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::attributes::{AttributeReader, SPEC_VERSION};
use crate::{Attributes, EnvelopeError, Event};

/// The media type tidings writes as `datacontenttype`.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// A typed event with its CloudEvents context attributes.
///
/// On the wire it is one JSON object in CloudEvents structured mode:
///
/// ```json
/// {"specversion":"1.0","id":"0193…","source":"orders-service","type":"shop.order.placed",
///  "time":"2026-11-22T10:00:00Z","subject":"order-42","datacontenttype":"application/json",
///  "dataschema":"urn:tidings:schema:shop.order.placed:v2","dataversion":2,
///  "sequence":"00000000000000000007","correlationid":"…","causationid":"…","data":{…}}
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope<T> {
    /// The context attributes.
    pub attributes: Attributes,
    /// The event itself.
    pub data: T,
}

/// The `data` of an envelope kept as raw JSON, for code that routes on the attributes before
/// it knows which Rust type the data becomes.
pub type RawEnvelope = Envelope<Box<RawValue>>;

impl<E: Event> Envelope<E> {
    /// Wraps `data` in a new envelope from `source`: a fresh UUID v7 id, the current time,
    /// the type, version and schema of `E`, and the subject of `data`.
    pub fn new(source: impl Into<String>, data: E) -> Self {
        let attributes = Attributes {
            id: uuid::Uuid::now_v7().to_string(),
            source: source.into(),
            event_type: E::TYPE.to_owned(),
            time: Some(Utc::now()),
            subject: data.subject().map(str::to_owned),
            data_content_type: Some(JSON_CONTENT_TYPE.to_owned()),
            data_schema: Some(E::SCHEMA_ID.to_owned()),
            data_version: E::VERSION,
            sequence: None,
            correlation_id: None,
            causation_id: None,
            traceparent: None,
            extensions: Default::default(),
        };
        Self { attributes, data }
    }

    /// Decodes a JSON envelope whose data is `E` or any version of its upcast chain.
    ///
    /// The type must be `E::TYPE`; older versions are upcast (see [`RawEnvelope::into_typed`]),
    /// newer ones are an error that names the versions this code supports.
    pub fn decode(json: &str) -> Result<Self, EnvelopeError> {
        RawEnvelope::decode_raw(json)?.into_typed()
    }
}

impl<T> Envelope<T> {
    /// Sets `sequence`: the version of the subject this event brings it to.
    pub fn with_sequence(mut self, sequence: u64) -> Self {
        self.attributes.sequence = Some(sequence);
        self
    }

    /// Sets `subject`, for events whose subject is not a field of the data.
    pub fn with_subject(mut self, subject: impl Into<String>) -> Self {
        self.attributes.subject = Some(subject.into());
        self
    }

    /// Sets `correlationid`, the id of the business flow this event belongs to.
    pub fn with_correlation_id(mut self, correlation_id: impl Into<String>) -> Self {
        self.attributes.correlation_id = Some(correlation_id.into());
        self
    }

    /// Marks this event as caused by `cause`: it joins the cause's flow (correlation id),
    /// records the cause's id as `causationid`, and carries its trace context on.
    pub fn caused_by(mut self, cause: &Attributes) -> Self {
        self.attributes.correlation_id = Some(cause.flow_id().to_owned());
        self.attributes.causation_id = Some(cause.id.clone());
        if self.attributes.traceparent.is_none() {
            self.attributes.traceparent = cause.traceparent.clone();
        }
        self
    }

    /// The event id.
    pub fn id(&self) -> &str {
        &self.attributes.id
    }

    /// The subject, if any.
    pub fn subject(&self) -> Option<&str> {
        self.attributes.subject.as_deref()
    }

    /// The subject's sequence, if any.
    pub fn sequence(&self) -> Option<u64> {
        self.attributes.sequence
    }

    /// The correlation id of the flow this event belongs to (its own id when it starts one).
    pub fn correlation_id(&self) -> &str {
        self.attributes.flow_id()
    }

    /// Replaces the data, keeping the attributes.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Envelope<U> {
        Envelope {
            attributes: self.attributes,
            data: f(self.data),
        }
    }
}

impl<T: Serialize> Envelope<T> {
    /// The envelope as a JSON string.
    pub fn to_json(&self) -> Result<String, EnvelopeError> {
        serde_json::to_string(self).map_err(|source| EnvelopeError::Encode { source })
    }
}

impl RawEnvelope {
    /// Decodes a JSON envelope, validating its attributes and keeping `data` as raw JSON.
    pub fn decode_raw(json: &str) -> Result<Self, EnvelopeError> {
        let parts: RawParts<'_, Box<RawValue>> =
            serde_json::from_str(json).map_err(EnvelopeError::from_json)?;
        parts.into_envelope()
    }

    /// Decodes the raw data into `E`, upcasting older versions.
    ///
    /// After an upcast, `dataversion` and `dataschema` are those of `E`: the attributes
    /// describe the data the envelope now carries, so that writing it again does not label
    /// data of the new shape with the old version.
    pub fn into_typed<E: Event>(self) -> Result<Envelope<E>, EnvelopeError> {
        if self.attributes.event_type != E::TYPE {
            return Err(EnvelopeError::UnexpectedType {
                expected: E::TYPE,
                found: self.attributes.event_type,
            });
        }
        let data = E::decode_data(self.attributes.data_version, &self.data)?;
        let mut attributes = self.attributes;
        if attributes.data_version != E::VERSION {
            attributes.data_version = E::VERSION;
            attributes.data_schema = Some(E::SCHEMA_ID.to_owned());
        }
        Ok(Envelope { attributes, data })
    }
}

impl<T: Serialize> Serialize for Envelope<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let a = &self.attributes;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("specversion", SPEC_VERSION)?;
        map.serialize_entry("id", &a.id)?;
        map.serialize_entry("source", &a.source)?;
        map.serialize_entry("type", &a.event_type)?;
        if let Some(time) = a.time_string() {
            map.serialize_entry("time", &time)?;
        }
        if let Some(subject) = &a.subject {
            map.serialize_entry("subject", subject)?;
        }
        if let Some(media_type) = &a.data_content_type {
            map.serialize_entry("datacontenttype", media_type)?;
        }
        if let Some(schema) = &a.data_schema {
            map.serialize_entry("dataschema", schema)?;
        }
        map.serialize_entry("dataversion", &a.data_version)?;
        if let Some(sequence) = a.sequence_string() {
            map.serialize_entry("sequence", &sequence)?;
        }
        if let Some(id) = &a.correlation_id {
            map.serialize_entry("correlationid", id)?;
        }
        if let Some(id) = &a.causation_id {
            map.serialize_entry("causationid", id)?;
        }
        if let Some(trace) = &a.traceparent {
            map.serialize_entry("traceparent", trace)?;
        }
        for (name, value) in &a.extensions {
            map.serialize_entry(name, value)?;
        }
        map.serialize_entry("data", &self.data)?;
        map.end()
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Envelope<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let parts = RawParts::<Box<RawValue>>::deserialize(deserializer)?;
        let raw = parts.into_envelope().map_err(de::Error::custom)?;
        let data = serde_json::from_str(raw.data.get()).map_err(de::Error::custom)?;
        Ok(Envelope {
            attributes: raw.attributes,
            data,
        })
    }
}

// Reading attributes needs the envelope's parts, so it lives beside them: `attributes`
// knows nothing of envelopes.
impl Attributes {
    /// Reads the attributes of a JSON envelope and skips `data` without building it.
    ///
    /// This is the cheap first step of routing: the type and version decide which Rust type
    /// the data is decoded into afterwards.
    pub fn decode(json: &str) -> Result<Self, EnvelopeError> {
        let parts: RawParts<'_, serde::de::IgnoredAny> =
            serde_json::from_str(json).map_err(EnvelopeError::from_json)?;
        parts.attributes()
    }
}

/// An envelope as read from JSON, before its attributes are validated. `D` is what `data`
/// is read as: raw JSON, or `IgnoredAny` to skip it.
pub(crate) struct RawParts<'de, D> {
    reader: AttributeReader,
    data: Option<D>,
    data_base64: bool,
    duplicate: Option<String>,
    lifetime: PhantomData<&'de ()>,
}

impl<D> RawParts<'_, D> {
    pub(crate) fn attributes(self) -> Result<Attributes, EnvelopeError> {
        if let Some(name) = self.duplicate {
            return Err(EnvelopeError::DuplicateAttribute { name });
        }
        if self.data_base64 {
            return Err(EnvelopeError::Base64Data);
        }
        self.reader.finish()
    }
}

impl RawParts<'_, Box<RawValue>> {
    fn into_envelope(mut self) -> Result<RawEnvelope, EnvelopeError> {
        let data = self.data.take();
        let attributes = self.attributes()?;
        let data = data.ok_or(EnvelopeError::MissingData)?;
        if data.get() == "null" {
            return Err(EnvelopeError::MissingData);
        }
        Ok(Envelope { attributes, data })
    }
}

impl<'de, D: Deserialize<'de>> Deserialize<'de> for RawParts<'de, D> {
    fn deserialize<De: Deserializer<'de>>(deserializer: De) -> Result<Self, De::Error> {
        deserializer.deserialize_map(PartsVisitor(PhantomData))
    }
}

struct PartsVisitor<'de, D>(PhantomData<(&'de (), D)>);

impl<'de, D: Deserialize<'de>> Visitor<'de> for PartsVisitor<'de, D> {
    type Value = RawParts<'de, D>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a CloudEvents JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut parts = RawParts {
            reader: AttributeReader::new(),
            data: None,
            data_base64: false,
            duplicate: None,
            lifetime: PhantomData,
        };
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let duplicate = match key.as_ref() {
                "data" => {
                    let seen = parts.data.is_some();
                    parts.data = Some(map.next_value()?);
                    seen
                }
                "data_base64" => {
                    map.next_value::<de::IgnoredAny>()?;
                    parts.data_base64 = true;
                    false
                }
                name => match parts.reader.slot(name) {
                    Some(slot) => slot.replace(map.next_value()?).is_some(),
                    None => {
                        let value: Value = map.next_value()?;
                        let seen = parts.reader.extensions.iter().any(|(n, _)| n == name);
                        if !value.is_null() {
                            parts.reader.extensions.push((name.to_owned(), value));
                        }
                        seen
                    }
                },
            };
            if duplicate && parts.duplicate.is_none() {
                parts.duplicate = Some(key.into_owned());
            }
        }
        Ok(parts)
    }
}
