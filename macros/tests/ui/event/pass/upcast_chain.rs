#![deny(warnings)]

use tidings_events::Event;

mod v1 {
    /// The first version, in a module of its own: `upcast_from` takes any path.
    #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings_events::Event)]
    #[event(type = "shop.order.placed", version = 1)]
    pub struct OrderPlaced {
        #[event(subject)]
        pub order_id: String,
    }
}

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "shop.order.placed", version = 2, upcast_from = v1::OrderPlaced)]
pub struct OrderPlacedV2 {
    #[event(subject)]
    pub order_id: String,
    pub total_cents: i64,
}

impl From<v1::OrderPlaced> for OrderPlacedV2 {
    fn from(older: v1::OrderPlaced) -> Self {
        Self {
            order_id: older.order_id,
            total_cents: 0,
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "shop.order.placed", version = 3, upcast_from = OrderPlacedV2)]
pub struct OrderPlaced {
    #[event(subject)]
    pub order_id: String,
    pub total_cents: i64,
    pub currency: String,
}

impl From<OrderPlacedV2> for OrderPlaced {
    fn from(older: OrderPlacedV2) -> Self {
        Self {
            order_id: older.order_id,
            total_cents: older.total_cents,
            currency: "EUR".into(),
        }
    }
}

fn main() {
    assert_eq!(OrderPlaced::versions(), vec![1, 2, 3]);
}
