use tidings::{Context, Envelope, HandlerError};

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
pub enum OrderEvent {
    Placed(OrderPlaced),
    Cancelled(OrderCancelled),
}

#[tidings::event_handler(idempotency_key = "order_id")]
async fn notify(_event: Envelope<OrderEvent>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}
