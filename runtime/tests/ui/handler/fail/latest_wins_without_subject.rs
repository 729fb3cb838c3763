// `latest_wins` orders each subject's events: an event type without a subject would have
// every record rejected at run time, so it is refused at `"latest_wins"`.
use tidings::{Context, Envelope, EventSet, HandlerError};

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
#[event(type = "ui.order.placed", version = 1)]
pub struct OrderPlaced {
    pub order_id: String,
}

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
#[event(type = "ui.order.cancelled", version = 1)]
pub struct OrderCancelled {
    #[event(subject)]
    pub order_id: String,
}

#[derive(EventSet)]
pub enum OrderEvent {
    Placed(OrderPlaced),
    Cancelled(OrderCancelled),
}

#[tidings::event_handler(ordering = "latest_wins", main = false)]
async fn one_type(_event: Envelope<OrderPlaced>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

#[tidings::event_handler(ordering = "latest_wins", main = false)]
async fn event_set(_event: Envelope<OrderEvent>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

fn main() {}
