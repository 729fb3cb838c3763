//! `crate = "..."` on #[event_handler] and #[derive(EventSet)], for a crate that reaches
//! tidings through a re-export of its own platform crate (a module here).
#![deny(warnings)]

mod platform {
    pub use tidings;
}

use platform::tidings::{Context, Envelope, EventHandler, EventSet, HandlerError};

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, platform::tidings::Event)]
#[event(type = "ui.order.placed", version = 1, crate = "platform::tidings::events")]
pub struct OrderPlaced {
    #[event(subject)]
    pub order_id: String,
}

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, platform::tidings::Event)]
#[event(type = "ui.order.cancelled", version = 1, crate = "platform::tidings::events")]
pub struct OrderCancelled {
    #[event(subject)]
    pub order_id: String,
}

#[derive(platform::tidings::EventSet)]
#[event_set(crate = "platform::tidings")]
pub enum OrderEvent {
    Placed(OrderPlaced),
    Cancelled(OrderCancelled),
}

#[platform::tidings::event_handler(crate = "platform::tidings", main = false)]
async fn notify(_event: Envelope<OrderEvent>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

fn main() {
    assert_eq!(<notify as EventHandler>::OPTIONS.name, "notify");
    let types: Vec<_> = OrderEvent::accepted().into_iter().map(|a| a.event_type).collect();
    assert_eq!(types, ["ui.order.placed", "ui.order.cancelled"]);
}
