//! The AsyncAPI 3.0 document of a registry: one channel per event type, one message per
//! version, and the operation of sending them.
//!
//! Message payloads are the envelope schemas of the registry, referenced by file. AsyncAPI
//! tooling assumes draft-07 payloads unless told otherwise, so every payload declares its
//! `schemaFormat` as JSON Schema 2020-12.

use serde_json::{Map, Value, json};

use super::envelope_schema_file;
use crate::Registry;

/// The AsyncAPI version written.
pub const ASYNCAPI_VERSION: &str = "3.0.0";
/// The schema format every payload declares.
pub const SCHEMA_FORMAT: &str = "application/schema+json;version=draft-2020-12";
/// The content type of a message body: a CloudEvents envelope in structured JSON mode.
pub const CONTENT_TYPE: &str = "application/cloudevents+json";

/// Who publishes the registry: the `info` object of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsyncApiInfo {
    /// The title, e.g. `shop-events`.
    pub title: String,
    /// The version of the contract, e.g. the events crate's version.
    pub version: String,
    /// What the events are about.
    pub description: Option<String>,
}

/// The key of a channel: event type names with dots, which AsyncAPI ids avoid, as dashes.
pub fn channel_id(event_type: &str) -> String {
    event_type.replace('.', "-")
}

/// The key of a message in `components/messages`.
pub fn message_id(event_type: &str, version: u32) -> String {
    format!("{}-v{version}", channel_id(event_type))
}

/// The AsyncAPI 3.0 document describing every event of `registry`.
pub fn document(registry: &Registry, info: &AsyncApiInfo) -> Value {
    let mut channels = Map::new();
    let mut operations = Map::new();
    let mut messages = Map::new();
    for event_type in registry.event_types() {
        let channel = channel_id(event_type);
        let mut channel_messages = Map::new();
        let mut operation_messages = Vec::new();
        for version in registry.versions_of(event_type) {
            let entry = registry
                .get(event_type, version)
                .expect("versions_of lists present versions");
            let id = message_id(event_type, version);
            let description = entry
                .data_schema
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default();
            messages.insert(
                id.clone(),
                json!({
                    "name": id,
                    "title": format!("{event_type} v{version}"),
                    "summary": description,
                    "contentType": CONTENT_TYPE,
                    "payload": {
                        "schemaFormat": SCHEMA_FORMAT,
                        "schema": {"$ref": envelope_schema_file(event_type, version)}
                    },
                    "x-tidings-type": event_type,
                    "x-tidings-version": version,
                }),
            );
            let key = format!("v{version}");
            channel_messages.insert(
                key.clone(),
                json!({"$ref": format!("#/components/messages/{id}")}),
            );
            operation_messages
                .push(json!({"$ref": format!("#/channels/{channel}/messages/{key}")}));
        }
        channels.insert(
            channel.clone(),
            json!({
                "address": event_type,
                "title": event_type,
                "description": format!(
                    "Events of type `{event_type}`, in CloudEvents JSON envelopes. The address is \
                     the event type; the topic or queue that carries it is deployment \
                     configuration, and subscribers filter on the `type` message attribute."
                ),
                "messages": channel_messages,
            }),
        );
        operations.insert(
            format!("send-{channel}"),
            json!({
                "action": "send",
                "title": format!("Publish {event_type}"),
                "channel": {"$ref": format!("#/channels/{channel}")},
                "messages": operation_messages,
            }),
        );
    }
    let mut info_object = json!({"title": info.title, "version": info.version});
    if let Some(description) = &info.description {
        info_object["description"] = description.clone().into();
    }
    json!({
        "asyncapi": ASYNCAPI_VERSION,
        "info": info_object,
        "defaultContentType": CONTENT_TYPE,
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    })
}
