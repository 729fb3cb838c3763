use tidings::{Context, Envelope, HandlerError};

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
#[event(type = "ui.order.placed", version = 1)]
pub struct OrderPlaced {
    #[event(subject)]
    pub order_id: String,
}

#[tidings::event_handler(main = "no")]
async fn string_main(_event: Envelope<OrderPlaced>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

#[tidings::event_handler(crate = "not a path", main = false)]
async fn bad_crate(_event: Envelope<OrderPlaced>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

#[tidings::event_handler(crate = tidings, main = false)]
async fn unquoted_crate(_event: Envelope<OrderPlaced>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

fn main() {}
