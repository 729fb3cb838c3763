use tidings::{Context, Envelope, HandlerError};

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
#[event(type = "ui.order.placed", version = 1)]
pub struct OrderPlaced {
    #[event(subject)]
    pub order_id: String,
}

use std::rc::Rc;

async fn audit(_order_id: &str) {}

#[tidings::event_handler]
async fn reserve_stock(event: Envelope<OrderPlaced>, _ctx: &Context) -> Result<(), HandlerError> {
    let order_id = Rc::new(event.data.order_id);
    audit(&order_id).await;
    Ok(())
}
