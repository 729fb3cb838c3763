//! Artifacts generated from the handlers a program links: the SNS filter policy of each
//! subscription, the AsyncAPI receive operations, and sample invocations (fixtures) for
//! `cargo lambda invoke` and tests. Deployment files are checked against these, so the
//! template and the code cannot drift apart.

pub mod cli;

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use tidings_events::registry::asyncapi::{AsyncApiInfo, channel_id};
use tidings_events::registry::consumers::{AcceptedVersions, ConsumerHandler, ConsumerManifest};
use tidings_events::schema::{EventRegistration, registrations as event_registrations};
use tidings_events::{Attributes, Envelope, JSON_CONTENT_TYPE, Registry};

use crate::HandlerRegistration;
use crate::testing::{Batch, BatchKind};
use crate::transport::message_attribute;

/// The time fixtures are stamped with, so that regenerated fixtures are byte-identical:
/// 2026-01-01T00:00:00Z.
pub const FIXTURE_TIME_MS: u64 = 1_767_225_600_000;

/// The `source` of fixture events.
pub const FIXTURE_SOURCE: &str = "tidings/fixtures";

/// The handlers of the crate `crate_name` among those linked, sorted by name.
pub fn handlers_of_crate(crate_name: &str) -> Vec<&'static HandlerRegistration> {
    HandlerRegistration::all()
        .into_iter()
        .filter(|h| h.module_path.split("::").next() == Some(crate_name))
        .collect()
}

/// The event types a handler accepts, sorted.
pub fn accepted_types(handler: &HandlerRegistration) -> Vec<&'static str> {
    let mut types: Vec<&'static str> = (handler.accepted)().iter().map(|a| a.event_type).collect();
    types.sort_unstable();
    types.dedup();
    types
}

/// The SNS subscription filter policy that delivers exactly the types a handler accepts,
/// matched on the `type` message attribute the publisher sets.
pub fn filter_policy(handler: &HandlerRegistration) -> Value {
    json!({ message_attribute::TYPE: accepted_types(handler) })
}

/// An AsyncAPI 3.0 document of the events `registry` holds, with one `receive` operation
/// per handler and accepted type added to the registry's `send` operations.
pub fn asyncapi_document(
    registry: &Registry,
    handlers: &[&HandlerRegistration],
    info: &AsyncApiInfo,
) -> Value {
    let mut document = tidings_events::registry::asyncapi::document(registry, info);
    let operations = document["operations"]
        .as_object_mut()
        .expect("the registry document has operations");
    operations.extend(receive_operations(registry, handlers));
    document
}

/// The AsyncAPI `receive` operations of `handlers`: for each accepted type, the versions
/// the handler decodes, as messages of that type's channel.
pub fn receive_operations(
    registry: &Registry,
    handlers: &[&HandlerRegistration],
) -> Map<String, Value> {
    let mut operations = Map::new();
    for handler in handlers {
        for accepted in (handler.accepted)() {
            let channel = channel_id(accepted.event_type);
            let messages: Vec<Value> = accepted
                .versions
                .iter()
                .filter(|v| registry.get(accepted.event_type, **v).is_some())
                .map(|v| json!({"$ref": format!("#/channels/{channel}/messages/v{v}")}))
                .collect();
            if messages.is_empty() {
                continue;
            }
            operations.insert(
                format!("receive-{}-{channel}", handler.name),
                json!({
                    "action": "receive",
                    "title": format!("{} handles {}", handler.name, accepted.event_type),
                    "channel": {"$ref": format!("#/channels/{channel}")},
                    "messages": messages,
                    "x-tidings-handler": handler.name,
                }),
            );
        }
    }
    operations
}

/// What `handlers` accept, as the consumer manifest of `service` that producers check the
/// versions they publish against (`check --consumers`).
pub fn consumer_manifest(service: &str, handlers: &[&HandlerRegistration]) -> ConsumerManifest {
    let handlers = handlers
        .iter()
        .map(|handler| ConsumerHandler {
            name: handler.name.to_owned(),
            accepts: (handler.accepted)()
                .into_iter()
                .map(|accepted| AcceptedVersions {
                    event_type: accepted.event_type.to_owned(),
                    upcasts_to: accepted.versions.iter().copied().max().unwrap_or_default(),
                    versions: accepted.versions,
                })
                .collect(),
        })
        .collect();
    ConsumerManifest::new(service, handlers)
}

/// One generated sample invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Fixture {
    /// The file name: `{handler}/{type}.{delivery}.json`.
    pub name: String,
    /// The invocation payload Lambda would send.
    pub payload: Value,
}

/// Sample invocations of `handler`: for each accepted type, an SQS, an SNS and an
/// SNS-to-SQS invocation carrying a valid envelope of the newest version, built from the
/// first example of its schema. Types without a schema example get no fixture.
pub fn fixtures(handler: &HandlerRegistration) -> Vec<Fixture> {
    let events = event_registrations();
    let mut fixtures = Vec::new();
    for accepted in (handler.accepted)() {
        let Some(newest) = accepted.versions.iter().max() else {
            continue;
        };
        let Some(registration) = events
            .iter()
            .find(|r| r.event_type == accepted.event_type && r.version == *newest)
        else {
            continue;
        };
        let Some(envelope) = example_envelope(registration) else {
            continue;
        };
        for (delivery, suffix) in [
            (BatchKind::Sqs, "sqs"),
            (BatchKind::Sns, "sns"),
            (BatchKind::SnsViaSqs, "sns-via-sqs"),
        ] {
            let batch = Batch::new(delivery)
                .sent_at(FIXTURE_TIME_MS)
                .event(&envelope);
            fixtures.push(Fixture {
                name: format!("{}/{}.{suffix}.json", handler.name, accepted.event_type),
                payload: batch.to_json(),
            });
        }
    }
    fixtures
}

/// A valid envelope of a registered event, from the first example of its schema, with a
/// stable id and time so that fixtures are the same on every run.
pub fn example_envelope(registration: &EventRegistration) -> Option<Envelope<Value>> {
    let schema = (registration.data_schema)();
    let data = schema.get("examples")?.as_array()?.first()?.clone();
    let attributes = Attributes {
        id: fixture_id(registration.event_type, registration.version),
        source: FIXTURE_SOURCE.to_owned(),
        event_type: registration.event_type.to_owned(),
        time: chrono::DateTime::from_timestamp_millis(FIXTURE_TIME_MS as i64),
        subject: (registration.subject_of)(&data),
        data_content_type: Some(JSON_CONTENT_TYPE.to_owned()),
        data_schema: Some(registration.schema_id.to_owned()),
        data_version: registration.version,
        sequence: Some(1),
        correlation_id: None,
        causation_id: None,
        traceparent: None,
        extensions: BTreeMap::new(),
    };
    Some(Envelope { attributes, data })
}

/// A stable, UUID-shaped id for the fixture of a type and version.
fn fixture_id(event_type: &str, version: u32) -> String {
    let digest = xxhash_rust::xxh3::xxh3_128(format!("{event_type}:{version}").as_bytes());
    let hex = format!("{digest:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
