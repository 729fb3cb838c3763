use tidings::{Context, Envelope, HandlerError};

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
#[event(type = "ui.order.placed", version = 1)]
pub struct OrderPlaced {
    #[event(subject)]
    pub order_id: String,
}

#[tidings::event_handler(trigger = "kinesis", main = false)]
async fn from_kinesis(_event: Envelope<OrderPlaced>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

#[tidings::event_handler(ordering = "fifo", main = false)]
async fn in_order(_event: Envelope<OrderPlaced>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

#[tidings::event_handler(on_unknown_type = "skip", main = false)]
async fn skipping(_event: Envelope<OrderPlaced>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

#[tidings::event_handler(trigger = sqs, main = false)]
async fn unquoted(_event: Envelope<OrderPlaced>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

fn main() {}
