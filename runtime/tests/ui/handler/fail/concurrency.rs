use tidings::{Context, Envelope, HandlerError};

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
#[event(type = "ui.order.placed", version = 1)]
pub struct OrderPlaced {
    #[event(subject)]
    pub order_id: String,
}

#[tidings::event_handler(concurrency = 0, main = false)]
async fn zero(_event: Envelope<OrderPlaced>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

#[tidings::event_handler(concurrency = "4", main = false)]
async fn quoted(_event: Envelope<OrderPlaced>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

#[tidings::event_handler(concurrency = "many", main = false)]
async fn words(_event: Envelope<OrderPlaced>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

#[tidings::event_handler(concurrency = -2, main = false)]
async fn negative(_event: Envelope<OrderPlaced>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

#[tidings::event_handler(concurrency = 99999999999, main = false)]
async fn huge(_event: Envelope<OrderPlaced>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

fn main() {}
