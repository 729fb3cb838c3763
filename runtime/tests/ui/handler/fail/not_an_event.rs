use tidings::{Context, Envelope, HandlerError};

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
#[event(type = "ui.order.placed", version = 1)]
pub struct OrderPlaced {
    #[event(subject)]
    pub order_id: String,
}

pub struct OrderShipped {
    pub order_id: String,
}

#[tidings::event_handler]
async fn ship(_event: Envelope<OrderShipped>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}
