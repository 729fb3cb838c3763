//! The event contract of the example shop.
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tidings_events::Event;

/// A customer placed an order (first version).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "shop.order.placed", version = 1)]
pub struct OrderPlacedV1 {
    /// The order.
    #[event(subject)]
    pub order_id: String,
    /// Total.
    pub total_cents: i64,
}

/// A customer placed an order.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "shop.order.placed", version = 2, upcast_from = OrderPlacedV1)]
pub struct OrderPlaced {
    /// The order.
    #[event(subject)]
    pub order_id: String,
    /// Total.
    pub total_cents: i64,
    /// Currency.
    pub currency: String,
}

impl From<OrderPlacedV1> for OrderPlaced {
    fn from(v1: OrderPlacedV1) -> Self {
        Self {
            order_id: v1.order_id,
            total_cents: v1.total_cents,
            currency: "EUR".into(),
        }
    }
}
