//! Run-time behaviour of `#[derive(Event)]`: the constants, the subject, the upcast chain and
//! the registry entries it generates.

use std::borrow::Cow;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tidings_events::{DataError, Event};

/// Three versions of one event type, each upcast step changing the data in a visible way.
mod chain {
    use super::*;

    #[derive(Debug, Serialize, Deserialize, schemars::JsonSchema, Event)]
    #[event(type = "test.order.placed", version = 1)]
    pub struct OrderPlacedV1 {
        #[event(subject)]
        pub order_id: String,
        pub total: i64,
    }

    #[derive(Debug, Serialize, Deserialize, schemars::JsonSchema, Event)]
    #[event(type = "test.order.placed", version = 2, upcast_from = OrderPlacedV1)]
    pub struct OrderPlacedV2 {
        #[event(subject)]
        pub order_id: String,
        pub total_cents: i64,
    }

    /// V1 carried whole euros.
    impl From<OrderPlacedV1> for OrderPlacedV2 {
        fn from(v1: OrderPlacedV1) -> Self {
            Self {
                order_id: v1.order_id,
                total_cents: v1.total * 100,
            }
        }
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema, Event)]
    #[event(
        type = "test.order.placed",
        version = 3,
        upcast_from = OrderPlacedV2,
        schema_base = "https://schemas.example.com/test"
    )]
    pub struct OrderPlaced {
        #[event(subject)]
        pub order_id: String,
        pub total_cents: i64,
        pub currency: String,
    }

    /// Before V3 every order was in euros.
    impl From<OrderPlacedV2> for OrderPlaced {
        fn from(v2: OrderPlacedV2) -> Self {
            Self {
                order_id: v2.order_id,
                total_cents: v2.total_cents,
                currency: "EUR".to_owned(),
            }
        }
    }
}

/// A short chain in its own module: V2 upcasts from V1 and adds an optional field.
mod stock {
    use super::*;

    #[derive(Debug, Serialize, Deserialize, schemars::JsonSchema, Event)]
    #[event(type = "test.stock.changed", version = 1)]
    pub struct StockChangedV1 {
        pub sku: String,
        pub level: i32,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema, Event)]
    #[event(type = "test.stock.changed", version = 2, upcast_from = StockChangedV1)]
    pub struct StockChanged {
        #[event(subject)]
        pub sku: String,
        pub level: i32,
        pub warehouse: Option<String>,
    }

    impl From<StockChangedV1> for StockChanged {
        fn from(v1: StockChangedV1) -> Self {
            Self {
                sku: v1.sku,
                level: v1.level,
                warehouse: None,
            }
        }
    }
}

/// One event type per supported subject field type.
mod subjects {
    use super::*;

    #[derive(Serialize, Deserialize, schemars::JsonSchema, Event)]
    #[event(type = "test.subject.string", version = 1)]
    pub struct Owned {
        pub other: String,
        #[event(subject)]
        pub id: String,
    }

    #[derive(Serialize, Deserialize, schemars::JsonSchema, Event)]
    #[event(type = "test.subject.boxed", version = 1)]
    pub struct Boxed {
        #[event(subject)]
        pub id: Box<str>,
    }

    #[derive(Serialize, Deserialize, schemars::JsonSchema, Event)]
    #[event(type = "test.subject.shared", version = 1)]
    pub struct Shared {
        #[event(subject)]
        pub id: Arc<str>,
    }

    #[derive(Serialize, Deserialize, schemars::JsonSchema, Event)]
    #[event(type = "test.subject.cow", version = 1)]
    pub struct Borrowed {
        #[event(subject)]
        pub id: Cow<'static, str>,
    }

    #[derive(Serialize, Deserialize, schemars::JsonSchema, Event)]
    #[event(type = "test.subject.optional", version = 1)]
    pub struct Optional {
        #[event(subject)]
        pub id: Option<String>,
    }

    #[derive(Serialize, Deserialize, schemars::JsonSchema, Event)]
    #[event(type = "test.subject.tuple", version = 1)]
    pub struct Tuple(pub u32, #[event(subject)] pub String);

    #[derive(Serialize, Deserialize, schemars::JsonSchema, Event)]
    #[event(type = "test.subject.none", version = 1)]
    pub struct Unmarked {
        pub id: String,
    }

    #[derive(Serialize, Deserialize, schemars::JsonSchema, Event)]
    #[event(type = "test.subject.enum", version = 1)]
    pub enum Changed {
        Renamed { id: String },
    }
}

use chain::{OrderPlaced, OrderPlacedV1, OrderPlacedV2};
use stock::{StockChanged, StockChangedV1};

fn raw(json: &str) -> Box<RawValue> {
    RawValue::from_string(json.to_owned()).expect("test data is valid JSON")
}

#[test]
fn constants_name_the_type_version_and_schema() {
    assert_eq!(OrderPlacedV1::TYPE, "test.order.placed");
    assert_eq!(OrderPlacedV1::VERSION, 1);
    assert_eq!(
        OrderPlacedV1::SCHEMA_ID,
        "urn:tidings:schema:test.order.placed:v1"
    );
    assert_eq!(OrderPlacedV2::VERSION, 2);
    assert_eq!(
        OrderPlacedV2::SCHEMA_ID,
        "urn:tidings:schema:test.order.placed:v2"
    );
    assert_eq!(OrderPlaced::TYPE, "test.order.placed");
    assert_eq!(OrderPlaced::VERSION, 3);
    assert_eq!(
        OrderPlaced::SCHEMA_ID,
        "https://schemas.example.com/test/test.order.placed/v3.schema.json"
    );
    assert_eq!(StockChanged::VERSION, 2);
}

#[test]
fn subject_reads_the_marked_field() {
    use subjects::*;
    let owned = Owned {
        other: "not me".into(),
        id: "order-1".into(),
    };
    assert_eq!(owned.subject(), Some("order-1"));
    assert_eq!(
        Boxed {
            id: "order-2".into()
        }
        .subject(),
        Some("order-2")
    );
    assert_eq!(
        Shared {
            id: "order-3".into()
        }
        .subject(),
        Some("order-3")
    );
    let borrowed = Borrowed {
        id: Cow::Borrowed("order-4"),
    };
    assert_eq!(borrowed.subject(), Some("order-4"));
    let owned_cow = Borrowed {
        id: Cow::Owned("order-5".into()),
    };
    assert_eq!(owned_cow.subject(), Some("order-5"));
    let some = Optional {
        id: Some("order-6".into()),
    };
    assert_eq!(some.subject(), Some("order-6"));
    assert_eq!(Optional { id: None }.subject(), None);
    assert_eq!(Tuple(7, "order-7".into()).subject(), Some("order-7"));
}

#[test]
fn subject_is_none_without_a_marked_field() {
    use subjects::*;
    let unmarked = Unmarked {
        id: "order-1".into(),
    };
    assert_eq!(unmarked.subject(), None);
    let changed = Changed::Renamed {
        id: "order-1".into(),
    };
    assert_eq!(changed.subject(), None);
}

#[test]
fn versions_list_the_chain_oldest_first() {
    assert_eq!(OrderPlacedV1::versions(), vec![1]);
    assert_eq!(OrderPlacedV2::versions(), vec![1, 2]);
    assert_eq!(OrderPlaced::versions(), vec![1, 2, 3]);
    assert_eq!(StockChangedV1::versions(), vec![1]);
    assert_eq!(StockChanged::versions(), vec![1, 2]);
}

#[test]
fn decode_data_reads_the_current_version_as_is() {
    let data = raw(r#"{"order_id":"o-3","total_cents":990,"currency":"SEK"}"#);
    let event = OrderPlaced::decode_data(3, &data).expect("v3 data decodes");
    let expected = OrderPlaced {
        order_id: "o-3".into(),
        total_cents: 990,
        currency: "SEK".into(),
    };
    assert_eq!(event, expected);
}

#[test]
fn decode_data_upcasts_through_every_step() {
    let v1 = raw(r#"{"order_id":"o-1","total":12}"#);
    let event = OrderPlaced::decode_data(1, &v1).expect("v1 data decodes");
    let expected = OrderPlaced {
        order_id: "o-1".into(),
        total_cents: 1200,
        currency: "EUR".into(),
    };
    assert_eq!(event, expected);

    let v2 = raw(r#"{"order_id":"o-2","total_cents":1234}"#);
    let event = OrderPlaced::decode_data(2, &v2).expect("v2 data decodes");
    let expected = OrderPlaced {
        order_id: "o-2".into(),
        total_cents: 1234,
        currency: "EUR".into(),
    };
    assert_eq!(event, expected);
}

#[test]
fn decode_data_upcasts_across_a_skipped_version() {
    let v1 = raw(r#"{"sku":"sku-1","level":4}"#);
    let event = StockChanged::decode_data(1, &v1).expect("v1 data decodes");
    let expected = StockChanged {
        sku: "sku-1".into(),
        level: 4,
        warehouse: None,
    };
    assert_eq!(event, expected);
}

/// Asserts `result` is `UnsupportedVersion` for `found`, listing exactly `supported`.
fn assert_unsupported<E: Event + std::fmt::Debug>(
    result: Result<E, DataError>,
    found: u32,
    supported: &[u32],
) {
    match result {
        Err(DataError::UnsupportedVersion {
            event_type,
            found: actual,
            supported: listed,
        }) => {
            assert_eq!(event_type, E::TYPE);
            assert_eq!(actual, found);
            assert_eq!(listed, supported);
        }
        other => panic!("expected UnsupportedVersion for version {found}, got {other:?}"),
    }
}

#[test]
fn decode_data_refuses_versions_outside_the_chain() {
    let data = raw(r#"{"order_id":"o-1","total_cents":1,"currency":"EUR"}"#);
    assert_unsupported(OrderPlaced::decode_data(4, &data), 4, &[1, 2, 3]);
    assert_unsupported(OrderPlaced::decode_data(0, &data), 0, &[1, 2, 3]);
    // An older type does not know the newer versions.
    assert_unsupported(OrderPlacedV2::decode_data(3, &data), 3, &[1, 2]);
    // A version after the chain's newest is refused with the chain's versions.
    let stock = raw(r#"{"sku":"sku-1","level":4}"#);
    assert_unsupported(StockChanged::decode_data(3, &stock), 3, &[1, 2]);
}

#[test]
fn unsupported_version_message_lists_the_supported_versions() {
    let data = raw("{}");
    let error = OrderPlaced::decode_data(9, &data).expect_err("version 9 is unknown");
    assert_eq!(
        error.to_string(),
        "`test.order.placed` version 9 is not supported here (this code knows versions \
         [1, 2, 3]); deploy a consumer built with the newer event types, or have the producer \
         publish a version listed"
    );
}

/// Asserts `result` is `Invalid`, read with the schema of `version`.
fn assert_invalid<E: Event + std::fmt::Debug>(result: Result<E, DataError>, version: u32) {
    match result {
        Err(DataError::Invalid {
            event_type,
            version: actual,
            source,
        }) => {
            assert_eq!(event_type, E::TYPE);
            assert_eq!(actual, version);
            assert!(source.is_data(), "expected a data error, got {source}");
        }
        other => panic!("expected Invalid at version {version}, got {other:?}"),
    }
}

#[test]
fn invalid_data_names_the_version_it_was_read_with() {
    // v3 fields in data labelled v1: read with the v1 schema, which needs `total`.
    let v3_shaped = raw(r#"{"order_id":"o-1","total_cents":1,"currency":"EUR"}"#);
    assert_invalid(OrderPlaced::decode_data(1, &v3_shaped), 1);
    let wrong_type = raw(r#"{"order_id":"o-1","total_cents":"ten"}"#);
    assert_invalid(OrderPlaced::decode_data(2, &wrong_type), 2);
    let missing_currency = raw(r#"{"order_id":"o-1","total_cents":1}"#);
    assert_invalid(OrderPlaced::decode_data(3, &missing_currency), 3);
    assert_invalid(StockChanged::decode_data(1, &raw(r#"{"sku":1}"#)), 1);
}

#[test]
fn invalid_data_message_names_type_and_version() {
    let error = OrderPlaced::decode_data(1, &raw(r#"{"order_id":"o-1"}"#))
        .expect_err("v1 data without `total` is invalid");
    assert_eq!(
        error.to_string(),
        "`data` of `test.order.placed` version 1 does not match its schema: \
         missing field `total` at line 1 column 18"
    );
}

#[test]
fn registrations_list_every_version_with_its_upcast_source() {
    let ours: Vec<_> = tidings_events::schema::registrations()
        .into_iter()
        .filter(|r| r.event_type == "test.order.placed" || r.event_type == "test.stock.changed")
        .map(|r| {
            (
                r.event_type,
                r.version,
                r.upcast_from,
                r.rust_type,
                r.schema_id,
                r.envelope_schema_id,
            )
        })
        .collect();
    assert_eq!(
        ours,
        vec![
            (
                "test.order.placed",
                1,
                None,
                "derive::chain::OrderPlacedV1",
                "urn:tidings:schema:test.order.placed:v1",
                "urn:tidings:envelope:test.order.placed:v1",
            ),
            (
                "test.order.placed",
                2,
                Some(1),
                "derive::chain::OrderPlacedV2",
                "urn:tidings:schema:test.order.placed:v2",
                "urn:tidings:envelope:test.order.placed:v2",
            ),
            (
                "test.order.placed",
                3,
                Some(2),
                "derive::chain::OrderPlaced",
                "https://schemas.example.com/test/test.order.placed/v3.schema.json",
                "https://schemas.example.com/test/test.order.placed/v3.envelope.schema.json",
            ),
            (
                "test.stock.changed",
                1,
                None,
                "derive::stock::StockChangedV1",
                "urn:tidings:schema:test.stock.changed:v1",
                "urn:tidings:envelope:test.stock.changed:v1",
            ),
            (
                "test.stock.changed",
                2,
                Some(1),
                "derive::stock::StockChanged",
                "urn:tidings:schema:test.stock.changed:v2",
                "urn:tidings:envelope:test.stock.changed:v2",
            ),
        ]
    );
}

#[test]
fn registrations_cover_every_derived_type_once() {
    let types: Vec<_> = tidings_events::schema::registrations()
        .into_iter()
        .filter(|r| r.event_type.starts_with("test."))
        .map(|r| (r.event_type, r.version))
        .collect();
    assert_eq!(
        types,
        vec![
            ("test.order.placed", 1),
            ("test.order.placed", 2),
            ("test.order.placed", 3),
            ("test.stock.changed", 1),
            ("test.stock.changed", 2),
            ("test.subject.boxed", 1),
            ("test.subject.cow", 1),
            ("test.subject.enum", 1),
            ("test.subject.none", 1),
            ("test.subject.optional", 1),
            ("test.subject.shared", 1),
            ("test.subject.string", 1),
            ("test.subject.tuple", 1),
        ]
    );
}

#[test]
fn registration_generates_the_data_schema_of_its_type() {
    let registration = tidings_events::schema::registrations()
        .into_iter()
        .find(|r| r.event_type == "test.order.placed" && r.version == 3)
        .expect("OrderPlaced is registered");
    let schema = (registration.data_schema)();
    assert_eq!(schema["$id"], OrderPlaced::SCHEMA_ID);
    assert_eq!(schema["x-tidings-version"], 3);
    let mut required: Vec<_> = schema["required"]
        .as_array()
        .expect("a struct schema lists its required fields")
        .iter()
        .map(|v| v.as_str().expect("field names are strings"))
        .collect();
    required.sort_unstable();
    assert_eq!(required, ["currency", "order_id", "total_cents"]);
}
