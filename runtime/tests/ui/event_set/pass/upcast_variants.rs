//! An event set whose variants are event types with upcast chains: each variant accepts every
//! version of its type, and the set lists them.
#![deny(warnings)]

use tidings::EventSet;

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
#[event(type = "ui.order.placed", version = 1)]
pub struct OrderPlacedV1 {
    #[event(subject)]
    pub order_id: String,
}

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
#[event(type = "ui.order.placed", version = 2, upcast_from = OrderPlacedV1)]
pub struct OrderPlaced {
    #[event(subject)]
    pub order_id: String,
    pub currency: String,
}

impl From<OrderPlacedV1> for OrderPlaced {
    fn from(v1: OrderPlacedV1) -> Self {
        Self {
            order_id: v1.order_id,
            currency: "EUR".into(),
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
#[event(type = "ui.order.cancelled", version = 1)]
pub struct OrderCancelled {
    #[event(subject)]
    pub order_id: String,
}

#[derive(Debug, tidings::EventSet)]
pub enum OrderEvent {
    Placed(OrderPlaced),
    Cancelled(OrderCancelled),
}

impl std::fmt::Debug for OrderPlaced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.order_id)
    }
}

impl std::fmt::Debug for OrderCancelled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.order_id)
    }
}

fn main() {
    let accepted: Vec<_> = OrderEvent::accepted()
        .into_iter()
        .map(|a| (a.event_type, a.versions))
        .collect();
    assert_eq!(
        accepted,
        [("ui.order.placed", vec![1, 2]), ("ui.order.cancelled", vec![1])]
    );
    assert!(OrderEvent::accepts("ui.order.cancelled"));
    assert!(!OrderEvent::accepts("ui.order.shipped"));
    let placed = OrderEvent::Placed(OrderPlaced {
        order_id: "order-1".into(),
        currency: "SEK".into(),
    });
    assert_eq!(placed.subject(), Some("order-1"));
}
