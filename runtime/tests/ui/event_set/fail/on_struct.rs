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

#[derive(tidings::EventSet)]
pub struct OrderEvent {
    pub placed: OrderPlaced,
}

fn main() {}
