//! A plain struct event in a crate that denies every warning, imports neither serde nor
//! `Event`, and shadows the names the expansion could otherwise lean on.
#![deny(warnings)]

mod events {
    #![allow(dead_code, non_camel_case_types, non_upper_case_globals)]

    // Each of these would capture an unqualified name in the expansion. (`str` is not
    // shadowed: serde's own derive relies on it.)
    pub struct Option;
    pub struct Result;
    pub struct Vec;
    pub struct Some;
    pub struct None;
    pub struct Ok;
    pub struct Err;
    pub struct u32;
    pub trait Event {}
    pub trait From {}
    pub trait SubjectField {}
    mod core {}
    mod std {}
    mod tidings_events {}
    const version: () = ();
    const data: () = ();
    const versions: () = ();

    /// A customer placed an order (first version).
    #[derive(
        ::serde::Serialize, ::serde::Deserialize, ::schemars::JsonSchema, ::tidings_events::Event,
    )]
    #[event(type = "shop.order.placed", version = 1)]
    pub struct OrderPlacedV1 {
        /// The order.
        #[event(subject)]
        pub order_id: String,
    }

    /// A customer placed an order.
    #[derive(
        ::serde::Serialize, ::serde::Deserialize, ::schemars::JsonSchema, ::tidings_events::Event,
    )]
    #[event(type = "shop.order.placed", version = 2, upcast_from = OrderPlacedV1)]
    pub struct OrderPlaced {
        /// The order.
        #[event(subject)]
        pub order_id: String,
        /// What it costs.
        pub total_cents: i64,
    }

    impl ::core::convert::From<OrderPlacedV1> for OrderPlaced {
        fn from(older: OrderPlacedV1) -> Self {
            Self {
                order_id: older.order_id,
                total_cents: 0,
            }
        }
    }
}

use tidings_events::Event as _;

fn main() {
    let event = events::OrderPlaced {
        order_id: "order-42".to_owned(),
        total_cents: 1250,
    };
    assert_eq!(event.subject(), Some("order-42"));
    assert_eq!(
        <events::OrderPlaced as tidings_events::Event>::TYPE,
        "shop.order.placed"
    );
    assert_eq!(<events::OrderPlaced as tidings_events::Event>::VERSION, 2);
    assert_eq!(
        <events::OrderPlaced as tidings_events::Event>::versions(),
        vec![1, 2]
    );
}
