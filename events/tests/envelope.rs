//! The CloudEvents envelope: encoding, decoding, header-only decoding, propagation, upcasting,
//! and the error every kind of bad body produces.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tidings_events::{
    Attributes, DataError, Envelope, EnvelopeError, Event, ExtensionValue, JSON_CONTENT_TYPE,
};

/// A parcel left the warehouse (first version: no weight, no tracking code).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.parcel.shipped", version = 1)]
struct ParcelShippedV1 {
    #[event(subject)]
    parcel_id: String,
    carrier: String,
}

/// A parcel left the warehouse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.parcel.shipped", version = 2, upcast_from = ParcelShippedV1)]
struct ParcelShipped {
    #[event(subject)]
    parcel_id: String,
    carrier: String,
    tracking_code: Option<String>,
    weight_grams: u32,
}

impl From<ParcelShippedV1> for ParcelShipped {
    fn from(v1: ParcelShippedV1) -> Self {
        Self {
            parcel_id: v1.parcel_id,
            carrier: v1.carrier,
            tracking_code: None,
            weight_grams: 0,
        }
    }
}

/// A parcel reached its recipient; a different type, to test type mismatches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.parcel.delivered", version = 1)]
struct ParcelDelivered {
    #[event(subject)]
    parcel_id: String,
}

const EVENT_ID: &str = "0193f4a2-7c1e-7b3a-9d2e-5f6a7b8c9d0e";
const CAUSE_ID: &str = "0193f4a2-6b0d-7a29-8c1d-4e5f6a7b8c9d";
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn parcel() -> ParcelShipped {
    ParcelShipped {
        parcel_id: "parcel-7".into(),
        carrier: "Northwind Freight".into(),
        tracking_code: Some("NW123456789".into()),
        weight_grams: 1250,
    }
}

/// An envelope with every attribute set to a fixed value, so its JSON is known exactly.
fn full_envelope() -> Envelope<ParcelShipped> {
    let mut envelope = Envelope::new("warehouse-service", parcel())
        .with_sequence(7)
        .with_correlation_id("flow-42");
    envelope.attributes.id = EVENT_ID.into();
    envelope.attributes.time = Some(Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap());
    envelope.attributes.causation_id = Some(CAUSE_ID.into());
    envelope.attributes.traceparent = Some(TRACEPARENT.into());
    envelope
}

/// A valid version 2 body as a JSON object, for tests to modify.
fn valid_body() -> serde_json::Map<String, Value> {
    let Value::Object(map) = json!({
        "specversion": "1.0",
        "id": EVENT_ID,
        "source": "warehouse-service",
        "type": "test.parcel.shipped",
        "time": "2026-11-22T10:00:00Z",
        "subject": "parcel-7",
        "datacontenttype": "application/json",
        "dataversion": 2,
        "sequence": "00000000000000000007",
        "data": {
            "parcel_id": "parcel-7",
            "carrier": "Northwind Freight",
            "tracking_code": null,
            "weight_grams": 800
        }
    }) else {
        unreachable!("the literal is an object")
    };
    map
}

fn body_with(change: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
    let mut body = valid_body();
    change(&mut body);
    Value::Object(body).to_string()
}

#[test]
fn the_valid_body_helper_decodes() {
    // Every bad body below is this one with one thing broken; it must be valid itself.
    let body = Value::Object(valid_body()).to_string();
    let envelope = Envelope::<ParcelShipped>::decode(&body).unwrap();
    assert_eq!(envelope.data.weight_grams, 800);
    assert_eq!(envelope.sequence(), Some(7));
}

#[test]
fn new_fills_attributes_from_the_event_type() {
    let envelope = Envelope::new("warehouse-service", parcel());
    let a = &envelope.attributes;
    assert_eq!(a.source, "warehouse-service");
    assert_eq!(a.event_type, "test.parcel.shipped");
    assert_eq!(a.data_version, 2);
    assert_eq!(
        a.data_schema.as_deref(),
        Some("urn:tidings:schema:test.parcel.shipped:v2")
    );
    assert_eq!(a.data_content_type.as_deref(), Some(JSON_CONTENT_TYPE));
    assert_eq!(a.subject.as_deref(), Some("parcel-7"));
    assert_eq!(a.sequence, None);
    assert_eq!(a.correlation_id, None);
    assert!(a.time.is_some());
    let id = uuid::Uuid::parse_str(&a.id).expect("the id is a UUID");
    assert_eq!(id.get_version_num(), 7);
    // A new event starts its own flow.
    assert_eq!(envelope.correlation_id(), a.id);
}

#[test]
fn fresh_envelopes_get_distinct_ids() {
    let first = Envelope::new("warehouse-service", parcel());
    let second = Envelope::new("warehouse-service", parcel());
    assert_ne!(first.id(), second.id());
}

#[test]
fn encodes_the_exact_wire_form() {
    let json = full_envelope().to_json().unwrap();
    let expected = concat!(
        r#"{"specversion":"1.0","#,
        r#""id":"0193f4a2-7c1e-7b3a-9d2e-5f6a7b8c9d0e","#,
        r#""source":"warehouse-service","#,
        r#""type":"test.parcel.shipped","#,
        r#""time":"2026-11-22T10:00:00Z","#,
        r#""subject":"parcel-7","#,
        r#""datacontenttype":"application/json","#,
        r#""dataschema":"urn:tidings:schema:test.parcel.shipped:v2","#,
        r#""dataversion":2,"#,
        r#""sequence":"00000000000000000007","#,
        r#""correlationid":"flow-42","#,
        r#""causationid":"0193f4a2-6b0d-7a29-8c1d-4e5f6a7b8c9d","#,
        r#""traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","#,
        r#""data":{"parcel_id":"parcel-7","carrier":"Northwind Freight","#,
        r#""tracking_code":"NW123456789","weight_grams":1250}}"#,
    );
    assert_eq!(json, expected);
}

#[test]
fn sequence_is_zero_padded_to_twenty_digits_at_both_ends_of_the_range() {
    for (sequence, wire) in [
        (0, "00000000000000000000"),
        (1, "00000000000000000001"),
        (u64::MAX, "18446744073709551615"),
    ] {
        let json = full_envelope().with_sequence(sequence).to_json().unwrap();
        let value: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["sequence"], json!(wire));
        assert_eq!(
            Envelope::<ParcelShipped>::decode(&json).unwrap().sequence(),
            Some(sequence)
        );
    }
    // String order of the padded form must agree with numeric order.
    let (nine, ten) = (
        tidings_events::attributes::format_sequence(9),
        tidings_events::attributes::format_sequence(10),
    );
    assert!(nine < ten, "{nine} should sort before {ten}");
}

#[test]
fn unset_optional_attributes_are_left_out() {
    let mut envelope = Envelope::new("warehouse-service", parcel());
    envelope.attributes.time = None;
    envelope.attributes.subject = None;
    envelope.attributes.data_content_type = None;
    envelope.attributes.data_schema = None;
    let value: Value = serde_json::from_str(&envelope.to_json().unwrap()).unwrap();
    let mut names: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["data", "dataversion", "id", "source", "specversion", "type"]
    );
}

#[test]
fn round_trips_through_json() {
    let envelope = full_envelope();
    let json = envelope.to_json().unwrap();
    let decoded = Envelope::<ParcelShipped>::decode(&json).unwrap();
    assert_eq!(decoded, envelope);
    // The serde impls agree with the explicit API.
    let via_serde: Envelope<ParcelShipped> = serde_json::from_str(&json).unwrap();
    assert_eq!(via_serde, envelope);
    assert_eq!(serde_json::to_string(&envelope).unwrap(), json);
}

#[test]
fn round_trips_sub_second_time() {
    let mut envelope = full_envelope();
    let time = Utc
        .with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
        .unwrap()
        .checked_add_signed(chrono::TimeDelta::nanoseconds(123_456_789))
        .unwrap();
    envelope.attributes.time = Some(time);
    let json = envelope.to_json().unwrap();
    assert!(
        json.contains(r#""time":"2026-11-22T10:00:00.123456789Z""#),
        "{json}"
    );
    assert_eq!(
        Envelope::<ParcelShipped>::decode(&json)
            .unwrap()
            .attributes
            .time,
        Some(time)
    );
}

#[test]
fn time_with_an_offset_is_read_as_utc() {
    let body = body_with(|b| {
        b.insert("time".into(), json!("2026-11-22T11:30:00+01:30"));
    });
    let attributes = Attributes::decode(&body).unwrap();
    assert_eq!(
        attributes.time,
        Some(Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap())
    );
}

#[test]
fn header_only_decode_reads_attributes_without_typing_data() {
    // The data matches no Rust type here, and the type is unknown to this program.
    let body = json!({
        "specversion": "1.0",
        "id": "evt-1",
        "source": "/elsewhere",
        "type": "unknown.thing.happened",
        "subject": "thing-9",
        "dataversion": 5,
        "sequence": "00000000000000000031",
        "data": [1, "two", {"three": null}]
    })
    .to_string();
    let attributes = Attributes::decode(&body).unwrap();
    assert_eq!(attributes.event_type, "unknown.thing.happened");
    assert_eq!(attributes.data_version, 5);
    assert_eq!(attributes.id, "evt-1");
    assert_eq!(attributes.source, "/elsewhere");
    assert_eq!(attributes.subject.as_deref(), Some("thing-9"));
    assert_eq!(attributes.sequence, Some(31));
    assert_eq!(attributes.time, None);
    assert_eq!(attributes.data_content_type, None);
}

#[test]
fn header_only_decode_matches_the_full_decode() {
    let envelope = full_envelope();
    let json = envelope.to_json().unwrap();
    assert_eq!(Attributes::decode(&json).unwrap(), envelope.attributes);
}

#[test]
fn header_only_decode_does_not_need_data() {
    // Routing needs only the header; whether data is present is the typed decoder's business.
    let body = body_with(|b| {
        b.remove("data");
    });
    assert_eq!(Attributes::decode(&body).unwrap().id, EVENT_ID);
}

#[test]
fn caused_by_joins_the_flow_of_the_cause() {
    let cause = full_envelope();
    let effect = Envelope::new(
        "billing-service",
        ParcelDelivered {
            parcel_id: "parcel-7".into(),
        },
    )
    .caused_by(&cause.attributes);
    assert_eq!(effect.attributes.correlation_id.as_deref(), Some("flow-42"));
    assert_eq!(effect.correlation_id(), "flow-42");
    assert_eq!(effect.attributes.causation_id.as_deref(), Some(EVENT_ID));
    assert_eq!(effect.attributes.traceparent.as_deref(), Some(TRACEPARENT));
    // The effect is an event of its own.
    assert_ne!(effect.id(), cause.id());
    assert_eq!(effect.attributes.source, "billing-service");
}

#[test]
fn caused_by_a_flow_starter_uses_its_id_as_correlation() {
    let cause = Envelope::new("warehouse-service", parcel());
    assert_eq!(cause.attributes.correlation_id, None);
    let effect = Envelope::new(
        "billing-service",
        ParcelDelivered {
            parcel_id: "parcel-7".into(),
        },
    )
    .caused_by(&cause.attributes);
    assert_eq!(effect.correlation_id(), cause.id());
    assert_eq!(effect.attributes.causation_id.as_deref(), Some(cause.id()));
    assert_eq!(effect.attributes.traceparent, None);
}

#[test]
fn caused_by_keeps_a_trace_context_already_set() {
    let cause = full_envelope();
    let own_trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let mut effect = Envelope::new(
        "billing-service",
        ParcelDelivered {
            parcel_id: "parcel-7".into(),
        },
    );
    effect.attributes.traceparent = Some(own_trace.into());
    let effect = effect.caused_by(&cause.attributes);
    assert_eq!(effect.attributes.traceparent.as_deref(), Some(own_trace));
    assert_eq!(effect.attributes.causation_id.as_deref(), Some(EVENT_ID));
}

#[test]
fn caused_by_survives_the_wire() {
    let cause_json = full_envelope().to_json().unwrap();
    let cause = Attributes::decode(&cause_json).unwrap();
    let effect_json = Envelope::new(
        "billing-service",
        ParcelDelivered {
            parcel_id: "parcel-7".into(),
        },
    )
    .caused_by(&cause)
    .to_json()
    .unwrap();
    let value: Value = serde_json::from_str(&effect_json).unwrap();
    assert_eq!(value["correlationid"], json!("flow-42"));
    assert_eq!(value["causationid"], json!(EVENT_ID));
    assert_eq!(value["traceparent"], json!(TRACEPARENT));
}

#[test]
fn unknown_extensions_are_kept_and_written_back() {
    let body = body_with(|b| {
        b.insert("region".into(), json!("eu-west-1"));
        b.insert("priority".into(), json!(-3));
        b.insert("replayed".into(), json!(true));
        b.insert("partitionkey".into(), json!("p-0"));
        // `null` means unset in the CloudEvents JSON format: it is not kept.
        b.insert("retiredext".into(), Value::Null);
    });
    let envelope = Envelope::<ParcelShipped>::decode(&body).unwrap();
    let expected = BTreeMap::from([
        (
            "partitionkey".to_owned(),
            ExtensionValue::String("p-0".into()),
        ),
        ("priority".to_owned(), ExtensionValue::Integer(-3)),
        (
            "region".to_owned(),
            ExtensionValue::String("eu-west-1".into()),
        ),
        ("replayed".to_owned(), ExtensionValue::Boolean(true)),
    ]);
    assert_eq!(envelope.attributes.extensions, expected);

    let written: Value = serde_json::from_str(&envelope.to_json().unwrap()).unwrap();
    assert_eq!(written["region"], json!("eu-west-1"));
    assert_eq!(written["priority"], json!(-3));
    assert_eq!(written["replayed"], json!(true));
    assert_eq!(written["partitionkey"], json!("p-0"));
    assert!(written.get("retiredext").is_none(), "{written}");
    assert_eq!(
        Envelope::<ParcelShipped>::decode(&written.to_string()).unwrap(),
        envelope
    );
}

#[test]
fn null_optional_attributes_mean_unset() {
    let body = body_with(|b| {
        for name in [
            "time",
            "subject",
            "sequence",
            "datacontenttype",
            "correlationid",
        ] {
            b.insert(name.into(), Value::Null);
        }
    });
    let attributes = Attributes::decode(&body).unwrap();
    assert_eq!(attributes.time, None);
    assert_eq!(attributes.subject, None);
    assert_eq!(attributes.sequence, None);
    assert_eq!(attributes.data_content_type, None);
    assert_eq!(attributes.correlation_id, None);
}

#[test]
fn lenient_forms_other_producers_write_are_accepted() {
    // A producer that can only write string extensions, or writes sequence as a number.
    let body = body_with(|b| {
        b.insert("dataversion".into(), json!("2"));
        b.insert("sequence".into(), json!(7));
        b.insert(
            "datacontenttype".into(),
            json!("application/vnd.shop+json; charset=utf-8"),
        );
    });
    let attributes = Attributes::decode(&body).unwrap();
    assert_eq!(attributes.data_version, 2);
    assert_eq!(attributes.sequence, Some(7));
}

#[test]
fn upcasts_a_version_1_body_to_the_current_type() {
    let v1 = Envelope::new(
        "warehouse-service",
        ParcelShippedV1 {
            parcel_id: "parcel-3".into(),
            carrier: "Northwind Freight".into(),
        },
    )
    .with_sequence(2);
    let body = v1.to_json().unwrap();
    assert!(body.contains(r#""dataversion":1"#), "{body}");

    let upcast = Envelope::<ParcelShipped>::decode(&body).unwrap();
    assert_eq!(
        upcast.data,
        ParcelShipped {
            parcel_id: "parcel-3".into(),
            carrier: "Northwind Freight".into(),
            tracking_code: None,
            weight_grams: 0,
        }
    );
    assert_eq!(upcast.id(), v1.id());
    assert_eq!(upcast.sequence(), Some(2));
    // The attributes now describe the data they carry, so re-publishing the upcast envelope
    // does not label version 2 data as version 1.
    assert_eq!(upcast.attributes.data_version, 2);
    assert_eq!(
        upcast.attributes.data_schema.as_deref(),
        Some(ParcelShipped::SCHEMA_ID)
    );
    let again = Envelope::<ParcelShipped>::decode(&upcast.to_json().unwrap()).unwrap();
    assert_eq!(again, upcast);
}

#[test]
fn the_upcast_chain_lists_every_version() {
    assert_eq!(ParcelShippedV1::versions(), vec![1]);
    assert_eq!(ParcelShipped::versions(), vec![1, 2]);
}

#[test]
fn a_newer_version_names_the_supported_ones() {
    let body = body_with(|b| {
        b.insert("dataversion".into(), json!(3));
    });
    let error = Envelope::<ParcelShipped>::decode(&body).unwrap_err();
    match &error {
        EnvelopeError::Data(DataError::UnsupportedVersion {
            event_type,
            found,
            supported,
        }) => {
            assert_eq!(*event_type, "test.parcel.shipped");
            assert_eq!(*found, 3);
            assert_eq!(supported, &vec![1, 2]);
        }
        other => panic!("expected UnsupportedVersion, got {other:?}"),
    }
    assert_eq!(error.attribute(), Some("data"));
    let message = error.to_string();
    assert!(
        message.starts_with(
            "`test.parcel.shipped` version 3 is not supported here (this code knows versions [1, 2])"
        ),
        "{message}"
    );
    // An older type does not know a newer version either.
    let body = body_with(|b| {
        b.insert("dataversion".into(), json!(2));
    });
    let error = Envelope::<ParcelShippedV1>::decode(&body).unwrap_err();
    assert!(
        error.to_string().contains("this code knows versions [1]"),
        "{error}"
    );
}

#[test]
fn raw_envelope_routes_before_typing() {
    let json = full_envelope().to_json().unwrap();
    let raw = tidings_events::RawEnvelope::decode_raw(&json).unwrap();
    assert_eq!(raw.attributes.event_type, "test.parcel.shipped");
    let value: Value = serde_json::from_str(raw.data.get()).unwrap();
    assert_eq!(value["weight_grams"], json!(1250));
    let typed = raw.into_typed::<ParcelShipped>().unwrap();
    assert_eq!(typed, full_envelope());
}

#[test]
fn map_keeps_the_attributes() {
    let envelope = full_envelope();
    let mapped = envelope.clone().map(|data| data.weight_grams);
    assert_eq!(mapped.data, 1250);
    assert_eq!(mapped.attributes, envelope.attributes);
}

/// Which decoder a bad body is fed to.
#[derive(Clone, Copy, Debug)]
enum Decoder {
    /// Both the header-only and the typed decoder must reject the body, with the same error.
    Both,
    /// Only the typed decoder: the problem is in `data` or its type.
    Typed,
}

/// One bad body and the error it must produce.
struct Case {
    name: &'static str,
    body: String,
    decoder: Decoder,
    variant: &'static str,
    is_variant: fn(&EnvelopeError) -> bool,
    attribute: Option<&'static str>,
    message: &'static str,
}

macro_rules! case {
    ($name:expr, $body:expr, $decoder:ident, $pattern:pat, $attribute:expr, $message:expr $(,)?) => {
        Case {
            name: $name,
            body: $body,
            decoder: Decoder::$decoder,
            variant: stringify!($pattern),
            is_variant: |error| matches!(error, $pattern),
            attribute: $attribute,
            message: $message,
        }
    };
}

fn without(name: &'static str) -> String {
    body_with(|b| {
        b.remove(name);
    })
}

fn with(name: &'static str, value: Value) -> String {
    body_with(|b| {
        b.insert(name.into(), value);
    })
}

fn bad_bodies() -> Vec<Case> {
    use EnvelopeError::*;
    const DATAVERSION_RULE: &str = "`dataversion` is invalid: it must be an integer from 1 to";
    const SEQUENCE_RULE: &str = "`sequence` is invalid: it must be a string of decimal digits";
    const NAME_RULE: &str = "lowercase ASCII letters and digits only";
    let valid = Value::Object(valid_body()).to_string();
    vec![
        case!(
            "not JSON",
            "order 42 shipped".into(),
            Both,
            NotJson { .. },
            None,
            "body is not valid JSON"
        ),
        case!(
            "truncated JSON",
            valid[..valid.len() - 5].to_owned(),
            Both,
            NotJson { .. },
            None,
            "body is not valid JSON"
        ),
        case!(
            "JSON array",
            "[1, 2, 3]".into(),
            Both,
            NotAnObject { .. },
            None,
            "a CloudEvents envelope is a JSON object"
        ),
        case!(
            "JSON string",
            r#""hello""#.into(),
            Both,
            NotAnObject { .. },
            None,
            "a CloudEvents envelope is a JSON object"
        ),
        case!(
            "empty object",
            "{}".into(),
            Both,
            MissingAttribute {
                name: "specversion"
            },
            Some("specversion"),
            "required CloudEvents attribute `specversion` is missing"
        ),
        case!(
            "no specversion",
            without("specversion"),
            Both,
            MissingAttribute {
                name: "specversion"
            },
            Some("specversion"),
            "attribute `specversion` is missing"
        ),
        case!(
            "no id",
            without("id"),
            Both,
            MissingAttribute { name: "id" },
            Some("id"),
            "attribute `id` is missing"
        ),
        case!(
            "null id",
            with("id", Value::Null),
            Both,
            MissingAttribute { name: "id" },
            Some("id"),
            "attribute `id` is missing"
        ),
        case!(
            "no source",
            without("source"),
            Both,
            MissingAttribute { name: "source" },
            Some("source"),
            "attribute `source` is missing"
        ),
        case!(
            "no type",
            without("type"),
            Both,
            MissingAttribute { name: "type" },
            Some("type"),
            "attribute `type` is missing"
        ),
        case!(
            "no dataversion",
            without("dataversion"),
            Both,
            MissingAttribute {
                name: "dataversion"
            },
            Some("dataversion"),
            "attribute `dataversion` is missing"
        ),
        case!(
            "specversion 0.3",
            with("specversion", json!("0.3")),
            Both,
            UnsupportedSpecVersion { .. },
            Some("specversion"),
            "`specversion` is \"0.3\" but tidings reads CloudEvents \"1.0\" only"
        ),
        case!(
            "specversion as a number",
            with("specversion", json!(1.0)),
            Both,
            InvalidAttribute { .. },
            Some("specversion"),
            "it must be a JSON string"
        ),
        case!(
            "empty id",
            with("id", json!("")),
            Both,
            InvalidAttribute { .. },
            Some("id"),
            "`id` is invalid: it must not be an empty string"
        ),
        case!(
            "id not a string",
            with("id", json!(42)),
            Both,
            InvalidAttribute { .. },
            Some("id"),
            "`id` is invalid: it must be a JSON string"
        ),
        case!(
            "empty source",
            with("source", json!("")),
            Both,
            InvalidAttribute { .. },
            Some("source"),
            "it must not be an empty string"
        ),
        case!(
            "type not a string",
            with("type", json!(["a"])),
            Both,
            InvalidAttribute { .. },
            Some("type"),
            "`type` is invalid: it must be a JSON string"
        ),
        case!(
            "subject not a string",
            with("subject", json!(7)),
            Both,
            InvalidAttribute { .. },
            Some("subject"),
            "`subject` is invalid: it must be a JSON string"
        ),
        case!(
            "relative dataschema",
            with("dataschema", json!("schemas/parcel.json")),
            Both,
            InvalidAttribute { .. },
            Some("dataschema"),
            "`dataschema` is invalid: it must be an absolute URI"
        ),
        case!(
            "bad time",
            with("time", json!("22/11/2026 10:00")),
            Both,
            InvalidAttribute { .. },
            Some("time"),
            "`time` is invalid: it must be an RFC 3339 timestamp"
        ),
        case!(
            "time without zone",
            with("time", json!("2026-11-22T10:00:00")),
            Both,
            InvalidAttribute { .. },
            Some("time"),
            "RFC 3339"
        ),
        case!(
            "dataversion 0",
            with("dataversion", json!(0)),
            Both,
            InvalidAttribute { .. },
            Some("dataversion"),
            DATAVERSION_RULE
        ),
        case!(
            "dataversion -1",
            with("dataversion", json!(-1)),
            Both,
            InvalidAttribute { .. },
            Some("dataversion"),
            DATAVERSION_RULE
        ),
        case!(
            "dataversion \"x\"",
            with("dataversion", json!("x")),
            Both,
            InvalidAttribute { .. },
            Some("dataversion"),
            DATAVERSION_RULE
        ),
        case!(
            "dataversion 1.5",
            with("dataversion", json!(1.5)),
            Both,
            InvalidAttribute { .. },
            Some("dataversion"),
            DATAVERSION_RULE
        ),
        case!(
            "dataversion true",
            with("dataversion", json!(true)),
            Both,
            InvalidAttribute { .. },
            Some("dataversion"),
            DATAVERSION_RULE
        ),
        case!(
            "dataversion above the CloudEvents Integer range",
            with("dataversion", json!(2_147_483_648_u64)),
            Both,
            InvalidAttribute { .. },
            Some("dataversion"),
            "from 1 to 2147483647"
        ),
        case!(
            "sequence \"abc\"",
            with("sequence", json!("abc")),
            Both,
            InvalidAttribute { .. },
            Some("sequence"),
            SEQUENCE_RULE
        ),
        case!(
            "sequence \"-1\"",
            with("sequence", json!("-1")),
            Both,
            InvalidAttribute { .. },
            Some("sequence"),
            SEQUENCE_RULE
        ),
        case!(
            "sequence empty",
            with("sequence", json!("")),
            Both,
            InvalidAttribute { .. },
            Some("sequence"),
            SEQUENCE_RULE
        ),
        case!(
            "sequence over 64 bits",
            with("sequence", json!("18446744073709551616")),
            Both,
            InvalidAttribute { .. },
            Some("sequence"),
            "fits in 64 bits"
        ),
        case!(
            "datacontenttype text/xml",
            with("datacontenttype", json!("text/xml")),
            Both,
            InvalidAttribute { .. },
            Some("datacontenttype"),
            "must be application/json or a +json media type, since tidings events carry JSON data"
        ),
        case!(
            "data_base64",
            body_with(|b| {
                b.remove("data");
                b.insert("data_base64".into(), json!("eyJhIjoxfQ=="));
            }),
            Both,
            Base64Data,
            Some("data"),
            "the envelope carries `data_base64`; tidings events carry JSON in `data`"
        ),
        case!(
            "duplicate id",
            valid.replacen(r#""id":"#, r#""id":"first","id":"#, 1),
            Both,
            DuplicateAttribute { .. },
            Some("id"),
            "CloudEvents attribute `id` appears more than once"
        ),
        case!(
            "duplicate extension",
            format!(r#"{{"region":"a","region":"b",{}"#, &valid[1..]),
            Both,
            DuplicateAttribute { .. },
            Some("region"),
            "attribute `region` appears more than once"
        ),
        case!(
            "extension with uppercase name",
            with("orderId", json!("42")),
            Both,
            InvalidAttribute { .. },
            Some("orderId"),
            NAME_RULE
        ),
        case!(
            "extension with a dash",
            with("trace-id", json!("42")),
            Both,
            InvalidAttribute { .. },
            Some("trace-id"),
            NAME_RULE
        ),
        case!(
            "extension with object value",
            with("tenant", json!({"id": 1})),
            Both,
            InvalidAttribute { .. },
            Some("tenant"),
            "must be a string, an integer or a boolean, as extension values are"
        ),
        case!(
            "extension with array value",
            with("tags", json!(["a"])),
            Both,
            InvalidAttribute { .. },
            Some("tags"),
            "must be a string, an integer or a boolean, as extension values are"
        ),
        case!(
            "extension with fraction",
            with("ratio", json!(0.5)),
            Both,
            InvalidAttribute { .. },
            Some("ratio"),
            "must fit in 64 bits and have no fraction, as extension integers do"
        ),
        case!(
            "missing data",
            without("data"),
            Typed,
            MissingData,
            Some("data"),
            "the envelope has no `data` (or it is null)"
        ),
        case!(
            "null data",
            with("data", Value::Null),
            Typed,
            MissingData,
            Some("data"),
            "the envelope has no `data` (or it is null)"
        ),
        case!(
            "wrong type for into_typed",
            with("type", json!("test.parcel.delivered")),
            Typed,
            UnexpectedType {
                expected: "test.parcel.shipped",
                ..
            },
            Some("type"),
            "expected an event of type `test.parcel.shipped` but the envelope's `type` is `test.parcel.delivered`"
        ),
        case!(
            "data not matching the type",
            with(
                "data",
                json!({"parcel_id": "parcel-7", "carrier": 5, "weight_grams": 1})
            ),
            Typed,
            Data(DataError::Invalid { version: 2, .. }),
            Some("data"),
            "`data` of `test.parcel.shipped` version 2 does not match its schema: invalid type"
        ),
        case!(
            "data missing a field",
            with(
                "data",
                json!({"parcel_id": "parcel-7", "carrier": "Northwind"})
            ),
            Typed,
            Data(DataError::Invalid { .. }),
            Some("data"),
            "missing field `weight_grams`"
        ),
        case!(
            "v1 data not matching v1",
            body_with(|b| {
                b.insert("dataversion".into(), json!(1));
                b.insert("data".into(), json!({"parcel_id": "parcel-7"}));
            }),
            Typed,
            Data(DataError::Invalid { version: 1, .. }),
            Some("data"),
            "`data` of `test.parcel.shipped` version 1 does not match its schema: missing field `carrier`"
        ),
        case!(
            "data as a JSON string",
            with("data", json!("{\"parcel_id\":\"p\"}")),
            Typed,
            Data(DataError::Invalid { .. }),
            Some("data"),
            "does not match its schema"
        ),
    ]
}

#[test]
fn bad_bodies_are_rejected_with_the_rule_they_break() {
    let cases = bad_bodies();
    assert!(cases.len() >= 20, "the table shrank to {}", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let typed = Envelope::<ParcelShipped>::decode(&case.body).map(|_| ());
        let mut results = vec![("Envelope::decode", typed)];
        match case.decoder {
            Decoder::Both => {
                results.push((
                    "Attributes::decode",
                    Attributes::decode(&case.body).map(|_| ()),
                ));
            }
            Decoder::Typed => {
                // The header alone is fine: routing must still be able to read it.
                if let Err(error) = Attributes::decode(&case.body) {
                    failures.push(format!(
                        "{}: Attributes::decode should accept the header, got: {error}",
                        case.name
                    ));
                }
            }
        }
        for (decoder, result) in results {
            let Err(error) = result else {
                failures.push(format!("{}: {decoder} accepted {}", case.name, case.body));
                continue;
            };
            let message = error.to_string();
            if !(case.is_variant)(&error) {
                failures.push(format!(
                    "{}: {decoder} gave {error:?}, expected {}",
                    case.name, case.variant
                ));
            }
            if error.attribute() != case.attribute {
                failures.push(format!(
                    "{}: {decoder} names attribute {:?}, expected {:?}",
                    case.name,
                    error.attribute(),
                    case.attribute
                ));
            }
            if !message.contains(case.message) {
                failures.push(format!(
                    "{}: {decoder} says {message:?}, which lacks {:?}",
                    case.name, case.message
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn parse_errors_keep_the_position_of_the_problem() {
    let error = Attributes::decode("{\"id\": }").unwrap_err();
    let message = error.to_string();
    assert!(message.contains("line 1 column 8"), "{message}");
    assert!(std::error::Error::source(&error).is_some());
}
