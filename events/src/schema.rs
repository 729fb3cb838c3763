//! JSON Schemas of event types (draft 2020-12) and the registry of every event type a program
//! links.

use schemars::generate::SchemaSettings;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::Event;

/// The dialect of every schema tidings writes.
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The keyword carrying the event type in a schema.
pub const TYPE_KEYWORD: &str = "x-tidings-type";
/// The keyword carrying the event version in a schema.
pub const VERSION_KEYWORD: &str = "x-tidings-version";

/// One event type and version, registered by `#[derive(Event)]` so that a program can list
/// every event type it links without a hand-kept list.
#[derive(Debug)]
pub struct EventRegistration {
    /// The CloudEvents `type`.
    pub event_type: &'static str,
    /// The schema version.
    pub version: u32,
    /// The `$id` of the data schema.
    pub schema_id: &'static str,
    /// The `$id` of the envelope schema.
    pub envelope_schema_id: &'static str,
    /// The Rust path of the type, e.g. `shop_events::OrderPlaced`.
    pub rust_type: &'static str,
    /// The version this one upcasts from, if any.
    pub upcast_from: Option<u32>,
    /// Generates the data schema.
    pub data_schema: fn() -> Value,
    /// The subject of a JSON value of this type, if it is one and has a subject: lets tools
    /// that only have JSON (fixtures from schema examples) build complete envelopes.
    pub subject_of: fn(&Value) -> Option<String>,
    /// Decodes data written at an older (or this) version as this type, through the upcast
    /// chain, and writes it back as JSON: what the compatibility check runs on published
    /// examples ([`upcast_json`]).
    pub upcast: fn(u32, &RawValue) -> Result<Value, String>,
}

inventory::collect!(EventRegistration);

impl EventRegistration {
    /// The crate that defines the type: the first segment of [`EventRegistration::rust_type`].
    pub fn crate_name(&self) -> &'static str {
        self.rust_type.split("::").next().unwrap_or(self.rust_type)
    }

    /// The schema of a whole message body: the CloudEvents envelope with `data` bound to this
    /// type and version. The data schema is embedded under `$defs`.
    pub fn envelope_schema(&self) -> Value {
        envelope_schema(
            self.event_type,
            self.version,
            self.envelope_schema_id,
            (self.data_schema)(),
        )
    }
}

/// Decodes `data`, written at `version`, as `E` (upcasting an older version through the
/// chain) and writes it back as JSON.
pub fn upcast_json<E: Event>(version: u32, data: &RawValue) -> Result<Value, String> {
    let event = E::decode_data(version, data).map_err(|error| error.to_string())?;
    serde_json::to_value(&event)
        .map_err(|error| format!("the upcast value did not serialize: {error}"))
}

/// Every event type and version linked into this program, sorted by type then version.
///
/// A crate's registrations are only present if the crate is linked: a binary must use at
/// least one item of an events crate for its types to appear.
pub fn registrations() -> Vec<&'static EventRegistration> {
    let mut all: Vec<_> = inventory::iter::<EventRegistration>.into_iter().collect();
    all.sort_by(|a, b| {
        (a.event_type, a.version, a.rust_type).cmp(&(b.event_type, b.version, b.rust_type))
    });
    all
}

/// Two Rust types that declare the same event type and version: one would silently stand
/// for the other in every registry and schema export.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{first}` and `{second}` both declare `{event_type}` version {version}; each version of an \
     event type is one Rust type: give one of them the next free version (or its own type \
     name), or remove one"
)]
pub struct DuplicateEvent {
    /// The CloudEvents `type` both declare.
    pub event_type: &'static str,
    /// The version both declare.
    pub version: u32,
    /// One of the Rust types, by path.
    pub first: &'static str,
    /// The other.
    pub second: &'static str,
}

/// Refuses registrations in which two Rust types declare the same type and version.
pub fn check_unique<'a>(
    registrations: impl IntoIterator<Item = &'a EventRegistration>,
) -> Result<(), DuplicateEvent> {
    let mut seen: std::collections::BTreeMap<(&str, u32), &'static str> = Default::default();
    for registration in registrations {
        let key = (registration.event_type, registration.version);
        if let Some(first) = seen.insert(key, registration.rust_type) {
            let (first, second) = if first <= registration.rust_type {
                (first, registration.rust_type)
            } else {
                (registration.rust_type, first)
            };
            return Err(DuplicateEvent {
                event_type: registration.event_type,
                version: registration.version,
                first,
                second,
            });
        }
    }
    Ok(())
}

/// The JSON Schema (draft 2020-12) of the data of `E`: what schemars derives from the type,
/// plus `$id`, a title and description, and the event type and version as keywords.
pub fn data_schema<E: Event>() -> Value {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let mut schema = generator.into_root_schema_for::<E>().to_value();
    let object = schema
        .as_object_mut()
        .expect("schemars generates an object schema for a struct or enum");
    let rust_name = object
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or("event")
        .to_owned();
    let description = object
        .remove("description")
        .and_then(|d| d.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("Data of the `{}` event, version {}.", E::TYPE, E::VERSION));
    let mut head = Map::new();
    head.insert("$schema".into(), DIALECT.into());
    head.insert("$id".into(), E::SCHEMA_ID.into());
    head.insert(
        "title".into(),
        format!("{} v{} ({rust_name})", E::TYPE, E::VERSION).into(),
    );
    head.insert("description".into(), description.into());
    head.insert(TYPE_KEYWORD.into(), E::TYPE.into());
    head.insert(VERSION_KEYWORD.into(), E::VERSION.into());
    object.remove("$schema");
    object.remove("title");
    head.extend(std::mem::take(object));
    Value::Object(head)
}

/// The subject of `data` read as `E`, or `None` when it is not an `E` or has no subject.
pub fn subject_of_json<E: Event>(data: &Value) -> Option<String> {
    let event = E::deserialize(data).ok()?;
    event.subject().map(str::to_owned)
}

/// The schema of a CloudEvents envelope whose `data` is `data_schema`, as tidings writes it.
pub fn envelope_schema(event_type: &str, version: u32, id: &str, data_schema: Value) -> Value {
    let data_id = data_schema
        .get("$id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    json!({
        "$schema": DIALECT,
        "$id": id,
        "title": format!("{event_type} v{version} envelope"),
        "description": format!(
            "A CloudEvents 1.0 JSON envelope (structured mode) carrying a `{event_type}` \
             event of version {version}."
        ),
        TYPE_KEYWORD: event_type,
        VERSION_KEYWORD: version,
        "type": "object",
        "required": ["specversion", "id", "source", "type", "dataversion", "data"],
        "properties": {
            "specversion": {"const": "1.0"},
            "id": {"type": "string", "minLength": 1},
            "source": {"type": "string", "minLength": 1, "format": "uri-reference"},
            "type": {"const": event_type},
            "time": {"type": "string", "format": "date-time"},
            "subject": {"type": "string", "minLength": 1},
            "datacontenttype": {"type": "string", "pattern": "^(application/json|text/json|[^;]*\\+json)(;.*)?$"},
            "dataschema": {"type": "string", "format": "uri"},
            "dataversion": {"const": version},
            "sequence": {"type": "string", "pattern": "^[0-9]{1,20}$"},
            "correlationid": {"type": "string", "minLength": 1},
            "causationid": {"type": "string", "minLength": 1},
            "traceparent": {"type": "string", "minLength": 1},
            "data": {"$ref": data_id}
        },
        "propertyNames": {"pattern": "^[a-z0-9]+$"},
        "additionalProperties": {"type": ["string", "integer", "boolean"]},
        "$defs": {"data": data_schema}
    })
}
