//! Interoperability with an independent CloudEvents implementation, the `cloudevents-sdk`
//! crate: what tidings writes, the SDK reads; what the SDK writes, tidings reads; and a round
//! trip through the SDK loses nothing.

use chrono::{TimeZone, Utc};
use cloudevents::event::{ExtensionValue as SdkExtension, SpecVersion};
use cloudevents::{AttributesReader, AttributesWriter, Data, EventBuilder, EventBuilderV10};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tidings_events::{Attributes, Envelope, Event, ExtensionValue};

/// A line of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
struct Line {
    sku: String,
    quantity: u32,
}

/// An invoice was issued for an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Event)]
#[event(
    type = "test.invoice.issued",
    version = 3,
    schema_base = "https://schemas.example.com/billing"
)]
struct InvoiceIssued {
    #[event(subject)]
    invoice_id: String,
    order_id: String,
    lines: Vec<Line>,
    total_cents: i64,
    note: Option<String>,
}

const SCHEMA_URI: &str = "https://schemas.example.com/billing/test.invoice.issued/v3.schema.json";
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn invoice() -> InvoiceIssued {
    InvoiceIssued {
        invoice_id: "inv-2026-0042".into(),
        order_id: "order-42".into(),
        lines: vec![
            Line {
                sku: "mug-blue".into(),
                quantity: 2,
            },
            Line {
                sku: "tea-earl-grey".into(),
                quantity: 1,
            },
        ],
        total_cents: 3_150,
        note: Some("Gift wrap, no invoice in the box".into()),
    }
}

/// A tidings envelope with every attribute tidings knows set, plus foreign extensions.
fn tidings_envelope() -> Envelope<InvoiceIssued> {
    let mut envelope = Envelope::new("/billing/invoices", invoice())
        .with_sequence(12)
        .with_correlation_id("flow-7f3a");
    envelope.attributes.id = "0193f4a2-7c1e-7b3a-9d2e-5f6a7b8c9d0e".into();
    envelope.attributes.time = Some(
        Utc.with_ymd_and_hms(2026, 11, 22, 10, 15, 30)
            .unwrap()
            .checked_add_signed(chrono::TimeDelta::milliseconds(250))
            .unwrap(),
    );
    envelope.attributes.causation_id = Some("0193f4a2-6b0d-7a29-8c1d-4e5f6a7b8c9d".into());
    envelope.attributes.traceparent = Some(TRACEPARENT.into());
    envelope
        .attributes
        .extensions
        .insert("region".into(), ExtensionValue::String("eu-west-1".into()));
    envelope
        .attributes
        .extensions
        .insert("attempt".into(), ExtensionValue::Integer(3));
    envelope
        .attributes
        .extensions
        .insert("replayed".into(), ExtensionValue::Boolean(false));
    envelope
}

fn sdk_string(event: &cloudevents::Event, name: &str) -> String {
    match event.extension(name) {
        Some(SdkExtension::String(text)) => text.clone(),
        other => panic!("extension `{name}` should be a string, is {other:?}"),
    }
}

#[test]
fn the_sdk_reads_what_tidings_writes() {
    let envelope = tidings_envelope();
    let json = envelope.to_json().unwrap();
    let event: cloudevents::Event = serde_json::from_str(&json).expect("the SDK parses it");

    assert_eq!(event.specversion(), SpecVersion::V10);
    assert_eq!(event.id(), "0193f4a2-7c1e-7b3a-9d2e-5f6a7b8c9d0e");
    assert_eq!(event.source(), "/billing/invoices");
    assert_eq!(event.ty(), "test.invoice.issued");
    assert_eq!(event.subject(), Some("inv-2026-0042"));
    assert_eq!(event.time(), envelope.attributes.time.as_ref());
    assert_eq!(event.datacontenttype(), Some("application/json"));
    assert_eq!(event.dataschema().map(|url| url.as_str()), Some(SCHEMA_URI));

    assert_eq!(
        event.extension("dataversion"),
        Some(&SdkExtension::Integer(3))
    );
    assert_eq!(sdk_string(&event, "sequence"), "00000000000000000012");
    assert_eq!(sdk_string(&event, "correlationid"), "flow-7f3a");
    assert_eq!(
        sdk_string(&event, "causationid"),
        "0193f4a2-6b0d-7a29-8c1d-4e5f6a7b8c9d"
    );
    assert_eq!(sdk_string(&event, "traceparent"), TRACEPARENT);
    assert_eq!(sdk_string(&event, "region"), "eu-west-1");
    assert_eq!(event.extension("attempt"), Some(&SdkExtension::Integer(3)));
    assert_eq!(
        event.extension("replayed"),
        Some(&SdkExtension::Boolean(false))
    );
    let mut names: Vec<&str> = event.iter_extensions().map(|(name, _)| name).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "attempt",
            "causationid",
            "correlationid",
            "dataversion",
            "region",
            "replayed",
            "sequence",
            "traceparent"
        ]
    );

    match event.data() {
        Some(Data::Json(data)) => {
            assert_eq!(data, &serde_json::to_value(invoice()).unwrap());
            let typed: InvoiceIssued = serde_json::from_value(data.clone()).unwrap();
            assert_eq!(typed, invoice());
        }
        other => panic!("the SDK should see JSON data, saw {other:?}"),
    }
}

#[test]
fn the_sdk_reads_a_minimal_tidings_envelope() {
    // Only what tidings always writes: the SDK must not need the optional attributes.
    let mut envelope = Envelope::new("billing", invoice());
    envelope.attributes.time = None;
    envelope.attributes.subject = None;
    envelope.attributes.data_content_type = None;
    envelope.attributes.data_schema = None;
    let event: cloudevents::Event = serde_json::from_str(&envelope.to_json().unwrap()).unwrap();
    assert_eq!(event.id(), envelope.id());
    assert_eq!(event.time(), None);
    assert_eq!(event.datacontenttype(), None);
    assert_eq!(
        event.extension("dataversion"),
        Some(&SdkExtension::Integer(3))
    );
    assert_eq!(event.extension("sequence"), None);
    assert!(matches!(event.data(), Some(Data::Json(_))));
}

/// An event built by the SDK the way another team's producer would.
fn sdk_event() -> cloudevents::Event {
    let time = Utc.with_ymd_and_hms(2026, 11, 22, 9, 59, 58).unwrap();
    EventBuilderV10::new()
        .id("evt-from-sdk-1")
        .source("https://billing.example.com/invoices")
        .ty("test.invoice.issued")
        .subject("inv-2026-0099")
        .time(time)
        .data_with_schema(
            "application/json",
            SCHEMA_URI,
            serde_json::to_value(InvoiceIssued {
                invoice_id: "inv-2026-0099".into(),
                order_id: "order-99".into(),
                lines: vec![Line {
                    sku: "kettle".into(),
                    quantity: 1,
                }],
                total_cents: 4_999,
                note: None,
            })
            .unwrap(),
        )
        .extension("dataversion", 3_i64)
        .extension("sequence", "00000000000000000005")
        .extension("correlationid", "flow-sdk")
        .extension("partitionkey", "tenant-9")
        .extension("priority", 2_i64)
        .extension("sampled", true)
        .build()
        .expect("a complete SDK event")
}

#[test]
fn tidings_reads_what_the_sdk_writes() {
    let json = serde_json::to_string(&sdk_event()).unwrap();

    let envelope = Envelope::<InvoiceIssued>::decode(&json).expect("tidings decodes it");
    let a = &envelope.attributes;
    assert_eq!(a.id, "evt-from-sdk-1");
    assert_eq!(a.source, "https://billing.example.com/invoices");
    assert_eq!(a.event_type, "test.invoice.issued");
    assert_eq!(a.subject.as_deref(), Some("inv-2026-0099"));
    assert_eq!(
        a.time,
        Some(Utc.with_ymd_and_hms(2026, 11, 22, 9, 59, 58).unwrap())
    );
    assert_eq!(a.data_content_type.as_deref(), Some("application/json"));
    assert_eq!(a.data_schema.as_deref(), Some(SCHEMA_URI));
    assert_eq!(a.data_version, 3);
    assert_eq!(a.sequence, Some(5));
    assert_eq!(a.correlation_id.as_deref(), Some("flow-sdk"));
    assert_eq!(a.causation_id, None);
    assert_eq!(a.traceparent, None);
    assert_eq!(
        a.extensions,
        [
            (
                "partitionkey".to_owned(),
                ExtensionValue::String("tenant-9".into())
            ),
            ("priority".to_owned(), ExtensionValue::Integer(2)),
            ("sampled".to_owned(), ExtensionValue::Boolean(true)),
        ]
        .into_iter()
        .collect()
    );
    assert_eq!(
        envelope.data,
        InvoiceIssued {
            invoice_id: "inv-2026-0099".into(),
            order_id: "order-99".into(),
            lines: vec![Line {
                sku: "kettle".into(),
                quantity: 1,
            }],
            total_cents: 4_999,
            note: None,
        }
    );

    // The header-only decoder reads the same attributes.
    assert_eq!(&Attributes::decode(&json).unwrap(), a);
}

#[test]
fn tidings_reads_an_sdk_event_without_a_content_type() {
    // The JSON format says a missing datacontenttype means application/json.
    let mut event = sdk_event();
    event.set_datacontenttype(None::<String>);
    let json = serde_json::to_string(&event).unwrap();
    assert!(!json.contains("datacontenttype"), "{json}");
    let envelope = Envelope::<InvoiceIssued>::decode(&json).unwrap();
    assert_eq!(envelope.attributes.data_content_type, None);
    assert_eq!(envelope.data.order_id, "order-99");
}

#[test]
fn tidings_rejects_binary_sdk_data_with_a_reason() {
    let event = EventBuilderV10::new()
        .id("evt-binary")
        .source("/billing")
        .ty("test.invoice.issued")
        .data("application/octet-stream", vec![0_u8, 159, 146, 150])
        .extension("dataversion", 3_i64)
        .build()
        .unwrap();
    let json = serde_json::to_string(&event).unwrap();
    assert!(json.contains("data_base64"), "{json}");
    let error = Envelope::<InvoiceIssued>::decode(&json).unwrap_err();
    assert!(
        matches!(error, tidings_events::EnvelopeError::Base64Data),
        "{error:?}"
    );
    assert_eq!(error.attribute(), Some("data"));
    assert_eq!(
        error.to_string(),
        "the envelope carries `data_base64`; tidings events carry JSON in `data`"
    );
}

#[test]
fn a_round_trip_through_the_sdk_keeps_the_envelope() {
    let original = tidings_envelope();
    let event: cloudevents::Event = serde_json::from_str(&original.to_json().unwrap()).unwrap();
    let rewritten = serde_json::to_string(&event).unwrap();
    let back = Envelope::<InvoiceIssued>::decode(&rewritten).unwrap();
    assert_eq!(back, original);

    // And the other way: SDK → tidings → SDK.
    let sdk = sdk_event();
    let envelope =
        Envelope::<InvoiceIssued>::decode(&serde_json::to_string(&sdk).unwrap()).unwrap();
    let again: cloudevents::Event = serde_json::from_str(&envelope.to_json().unwrap()).unwrap();
    assert_eq!(again, sdk);
}

#[test]
fn a_json_value_round_trip_agrees_on_every_member() {
    // Compare the two serializations member by member: order differs, content must not.
    let original = tidings_envelope();
    let ours: Value = serde_json::from_str(&original.to_json().unwrap()).unwrap();
    let event: cloudevents::Event = serde_json::from_value(ours.clone()).unwrap();
    let theirs = serde_json::to_value(&event).unwrap();
    assert_eq!(theirs, ours);
    assert_eq!(ours["dataversion"], json!(3));
}

#[test]
fn both_sides_refuse_a_relative_dataschema() {
    // CloudEvents makes `dataschema` an absolute URI; a relative one must not pass tidings
    // only to be refused by the next, stricter hop.
    let mut body: Value = serde_json::from_str(&tidings_envelope().to_json().unwrap()).unwrap();
    body["dataschema"] = json!("schemas/invoice.json");
    let body = body.to_string();
    let sdk = serde_json::from_str::<cloudevents::Event>(&body).unwrap_err();
    assert!(
        sdk.to_string().contains("relative URL without a base"),
        "{sdk}"
    );
    let error = Envelope::<InvoiceIssued>::decode(&body).unwrap_err();
    assert_eq!(error.attribute(), Some("dataschema"));
    assert!(
        error.to_string().contains("must be an absolute URI"),
        "{error}"
    );
}
