use tidings::{Context, Envelope, HandlerError};

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
#[event(type = "ui.order.placed", version = 1)]
pub struct OrderPlaced {
    #[event(subject)]
    pub order_id: String,
}

pub struct Inventory;

#[tidings::event_handler]
async fn reserve_stock(
    _event: Envelope<OrderPlaced>,
    _ctx: &Context,
    _inventory: &Inventory,
) -> Result<(), HandlerError> {
    Ok(())
}

fn main() {}
