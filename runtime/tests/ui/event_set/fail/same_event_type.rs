#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
#[event(type = "ui.order.placed", version = 1)]
pub struct OrderPlaced {
    #[event(subject)]
    pub order_id: String,
}

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
#[event(type = "ui.order.cancelled", version = 1)]
pub struct OrderCancelled {
    #[event(subject)]
    pub order_id: String,
}

// An older version of `ui.order.placed`: the same event type as `OrderPlaced`.
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
#[event(type = "ui.order.placed", version = 2)]
pub struct OrderPlacedV2 {
    #[event(subject)]
    pub order_id: String,
    pub note: String,
}

#[derive(tidings::EventSet)]
pub enum OrderEvent {
    Placed(OrderPlaced),
    Cancelled(OrderCancelled),
    PlacedV2(OrderPlacedV2),
}

fn main() {}
