//! Artifacts generated from the handlers a program links: the SNS filter policy of each
//! subscription, the AsyncAPI receive operations, and sample invocations (fixtures) for
//! `cargo lambda invoke` and tests. Deployment files are checked against these, so the
//! template and the code cannot drift apart.

pub mod cli;
pub mod sam;
pub mod template;

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde_json::{Map, Value, json};
use tidings_events::registry::asyncapi::{AsyncApiInfo, channel_id};
use tidings_events::registry::consumers::{AcceptedVersions, ConsumerHandler, ConsumerManifest};
use tidings_events::schema::{EventRegistration, registrations as event_registrations};
use tidings_events::{Attributes, Envelope, JSON_CONTENT_TYPE, Registry};

use crate::HandlerRegistration;
use crate::testing::{Batch, BatchKind, TestRecord};
use crate::transport::message_attribute;

/// The `source` of fixture events.
pub const FIXTURE_SOURCE: &str = "tidings/fixtures";

/// The handlers of the crate `crate_name` among those linked, sorted by name.
pub fn handlers_of_crate(crate_name: &str) -> Vec<&'static HandlerRegistration> {
    HandlerRegistration::all()
        .into_iter()
        .filter(|h| h.module_path.split("::").next() == Some(crate_name))
        .collect()
}

/// The binary that runs `handler` in a deployment: its name in kebab case, cargo's usual
/// spelling of binary names (`src/bin/reserve-stock.rs` runs `reserve_stock`). The SAM
/// generator writes it as the function's `BuildProperties.Binary` and the drift check expects
/// it there; a binary named otherwise is declared by setting `binary` on both.
pub fn binary_name(handler: &HandlerRegistration) -> String {
    handler.name.replace('_', "-")
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

/// One generated sample invocation, and what the handler must make of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Fixture {
    /// The file name: `{handler}/{type}.{case}.{delivery}.json`, or
    /// `{handler}/malformed.{delivery}.json` for the body that is no envelope.
    pub name: String,
    /// The invocation payload Lambda would send.
    pub payload: Value,
    /// The outcome its one record must end with, as [`expected_outcome`] words it.
    pub expected: String,
}

/// The fixture cases of an accepted type, each a version of its data: the newest (processed),
/// each older version with a schema example (processed, upcast), and the version after the
/// newest (rejected as unsupported).
enum Case {
    /// The newest version the handler knows.
    Newest(u32),
    /// An older version, upcast.
    Older(u32),
    /// A version the handler does not know.
    Unknown(u32),
}

/// The words an outcome is expected as: `processed`, or `rejected (reason-code)`.
pub fn expected_outcome(outcome: &crate::Outcome) -> String {
    match outcome {
        crate::Outcome::Rejected { reason, .. } => format!("rejected ({})", reason.code),
        crate::Outcome::Retry(reason) => format!("retry ({})", reason.code),
        other => other.name().to_owned(),
    }
}

/// The deliveries a handler's trigger takes: SQS records (raw envelopes, or SNS notifications
/// of a subscription without raw delivery), SNS invocations, or all three.
fn deliveries(trigger: crate::Trigger) -> &'static [(BatchKind, &'static str)] {
    match trigger {
        crate::Trigger::Sqs => &[
            (BatchKind::Sqs, "sqs"),
            (BatchKind::SnsViaSqs, "sns-via-sqs"),
        ],
        crate::Trigger::Sns => &[(BatchKind::Sns, "sns")],
        crate::Trigger::Auto => &[
            (BatchKind::Sqs, "sqs"),
            (BatchKind::Sns, "sns"),
            (BatchKind::SnsViaSqs, "sns-via-sqs"),
        ],
    }
}

/// Sample invocations of `handler`, one record each, for the deliveries its trigger takes:
/// per accepted type, the newest version (from the first example of its schema), each older
/// version with an example (upcast), and an unknown version; and one body that is no
/// envelope. Every fixture has its own event id, subject and sequence, so that invoking them
/// one after the other runs each (none is a duplicate or stale); times are when they were
/// generated. Types without a schema example get no fixture.
pub fn fixtures(handler: &HandlerRegistration) -> Vec<Fixture> {
    fixtures_at(handler, SystemTime::now())
}

/// [`fixtures`], generated at `now`.
pub fn fixtures_at(handler: &HandlerRegistration, now: SystemTime) -> Vec<Fixture> {
    let events = event_registrations();
    let now_ms = crate::store::to_millis(now);
    let mut fixtures = Vec::new();
    let mut sequence = 0;
    for accepted in (handler.accepted)() {
        let Some(&newest) = accepted.versions.iter().max() else {
            continue;
        };
        let registration_of = |version: u32| {
            events
                .iter()
                .find(|r| r.event_type == accepted.event_type && r.version == version)
        };
        let mut cases = vec![Case::Newest(newest)];
        cases.extend(
            accepted
                .versions
                .iter()
                .filter(|v| **v < newest)
                .map(|v| Case::Older(*v)),
        );
        cases.push(Case::Unknown(newest + 1));
        for case in cases {
            let (version, label, expected) = match case {
                Case::Newest(v) => (v, format!("v{v}"), "processed".to_owned()),
                Case::Older(v) => (v, format!("v{v}-upcast"), "processed".to_owned()),
                Case::Unknown(v) => (
                    v,
                    format!("v{v}-unknown"),
                    "rejected (unsupported-version)".to_owned(),
                ),
            };
            // An unknown version carries the newest version's data: only its number is new.
            let example_version = if let Case::Unknown(_) = case {
                newest
            } else {
                version
            };
            let Some(registration) = registration_of(example_version) else {
                continue;
            };
            for (delivery, suffix) in deliveries(handler.options.trigger) {
                sequence += 1;
                let name = format!(
                    "{}/{}.{label}.{suffix}.json",
                    handler.name, accepted.event_type
                );
                let Some(mut envelope) = example_envelope(registration, &name, sequence, now)
                else {
                    continue;
                };
                envelope.attributes.data_version = version;
                distinct_key(&mut envelope, handler.options.idempotency_key, sequence);
                let batch = Batch::new(*delivery)
                    .sent_at(now_ms)
                    .record(TestRecord::event(&envelope).message_id(format!("fixture-{sequence}")));
                fixtures.push(Fixture {
                    name,
                    payload: batch.to_json(),
                    expected: expected.clone(),
                });
            }
        }
    }
    if fixtures.is_empty() {
        return fixtures;
    }
    for (delivery, suffix) in deliveries(handler.options.trigger) {
        sequence += 1;
        let batch = Batch::new(*delivery).sent_at(now_ms).record(
            TestRecord::raw("{ this is no envelope").message_id(format!("fixture-{sequence}")),
        );
        fixtures.push(Fixture {
            name: format!("{}/malformed.{suffix}.json", handler.name),
            payload: batch.to_json(),
            expected: "rejected (envelope)".to_owned(),
        });
    }
    fixtures
}

/// Makes the handler's idempotency key field, when it names one that holds a string, differ
/// from every other fixture's, so that invoking the fixtures one after the other runs each.
fn distinct_key(envelope: &mut Envelope<Value>, key_field: Option<&str>, n: u64) {
    let Some(field) = key_field else {
        return;
    };
    if let Some(Value::String(key)) = envelope.data.get_mut(field)
        && !key.ends_with(&format!("-{n}"))
    {
        key.push_str(&format!("-{n}"));
    }
}

/// A valid envelope of a registered event, from the first example of its schema, made
/// distinct as fixture `n` of a handler: the id is derived from `name`, string fields that
/// hold the subject get `-{n}` (the subject, and fields keyed on it, differ from every
/// other fixture's; a type without a subject field gets one on the envelope), the sequence is
/// `n`, the time `now`.
pub fn example_envelope(
    registration: &EventRegistration,
    name: &str,
    n: u64,
    now: SystemTime,
) -> Option<Envelope<Value>> {
    let schema = (registration.data_schema)();
    let mut data = schema.get("examples")?.as_array()?.first()?.clone();
    let from_data = (registration.subject_of)(&data);
    let subject = from_data.map(|subject| {
        let distinct = format!("{subject}-{n}");
        if let Some(fields) = data.as_object_mut() {
            for value in fields.values_mut() {
                if value.as_str() == Some(subject.as_str()) {
                    *value = Value::String(distinct.clone());
                }
            }
        }
        distinct
    });
    // A type without a subject field has producers set one on the envelope: so does this.
    let subject = subject.or_else(|| Some(format!("fixture-subject-{n}")));
    let attributes = Attributes {
        id: fixture_id(name),
        source: FIXTURE_SOURCE.to_owned(),
        event_type: registration.event_type.to_owned(),
        time: Some(chrono::DateTime::<chrono::Utc>::from(now)),
        subject,
        data_content_type: Some(JSON_CONTENT_TYPE.to_owned()),
        data_schema: Some(registration.schema_id.to_owned()),
        data_version: registration.version,
        sequence: Some(n),
        correlation_id: None,
        causation_id: None,
        traceparent: None,
        extensions: BTreeMap::new(),
    };
    Some(Envelope { attributes, data })
}

/// A stable, UUID-shaped id for the fixture called `name`.
fn fixture_id(name: &str) -> String {
    let digest = xxhash_rust::xxh3::xxh3_128(name.as_bytes());
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
