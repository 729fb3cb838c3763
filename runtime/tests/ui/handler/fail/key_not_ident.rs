use tidings::{Context, Envelope, HandlerError};

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
#[event(type = "ui.order.placed", version = 1)]
pub struct OrderPlaced {
    #[event(subject)]
    pub order_id: String,
}

#[tidings::event_handler(idempotency_key = "order id", main = false)]
async fn spaced(_event: Envelope<OrderPlaced>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

#[tidings::event_handler(idempotency_key = data::order_id, main = false)]
async fn unquoted(_event: Envelope<OrderPlaced>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

#[tidings::event_handler(idempotency_key = "data.order_id", main = false)]
async fn dotted(_event: Envelope<OrderPlaced>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

#[tidings::event_handler(idempotency_key = 7, main = false)]
async fn number(_event: Envelope<OrderPlaced>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

fn main() {}
