// The attribute generates `main`, as it would in the function's binary.
#![allow(dead_code)]

use tidings::{Context, Envelope, HandlerError};

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
#[event(type = "ui.order.placed", version = 1)]
pub struct OrderPlaced {
    #[event(subject)]
    pub order_id: String,
}

pub struct Inventory;

async fn inventory() -> Result<Inventory, std::io::Error> {
    Ok(Inventory)
}

#[tidings::event_handler(state = inventory)]
async fn reserve_stock(_event: Envelope<OrderPlaced>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

