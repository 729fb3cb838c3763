//! The crate reached through a re-export, as users of the `tidings` runtime crate do.
#![deny(warnings)]

mod runtime {
    pub use tidings_events as events;
}

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, runtime::events::Event)]
#[event(
    type = "shop.order.placed",
    version = 1,
    crate = "crate::runtime::events"
)]
pub struct OrderPlacedV1 {
    #[event(subject)]
    pub order_id: String,
}

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, runtime::events::Event)]
#[event(
    type = "shop.order.placed",
    version = 2,
    upcast_from = OrderPlacedV1,
    crate = "crate::runtime::events"
)]
pub struct OrderPlaced {
    #[event(subject)]
    pub order_id: String,
}

impl From<OrderPlacedV1> for OrderPlaced {
    fn from(older: OrderPlacedV1) -> Self {
        Self {
            order_id: older.order_id,
        }
    }
}

fn main() {
    use runtime::events::Event;
    assert_eq!(OrderPlaced::versions(), vec![1, 2]);
    assert_eq!(
        OrderPlaced {
            order_id: "o".into()
        }
        .subject(),
        Some("o")
    );
}
