// `latest_wins` accepts event types with a subject field, types whose producers set the
// subject on the envelope, and event sets of such types.
use tidings::{Context, Envelope, EventSet, HandlerError, SubjectOrdering};

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
#[event(type = "ui.order.placed", version = 1)]
pub struct OrderPlaced {
    #[event(subject)]
    pub order_id: String,
}

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
#[event(type = "ui.order.changed", version = 1, envelope_subject)]
pub enum OrderChanged {
    Paid { amount_cents: i64 },
    Shipped,
}

#[derive(EventSet)]
pub enum OrderEvent {
    Placed(OrderPlaced),
    Changed(OrderChanged),
}

#[tidings::event_handler(ordering = "latest_wins", main = false)]
async fn placed(_event: Envelope<OrderPlaced>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

#[tidings::event_handler(ordering = "latest_wins", main = false)]
async fn changed(_event: Envelope<OrderChanged>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

#[tidings::event_handler(ordering = "latest_wins", main = false)]
async fn every_order_event(
    _event: Envelope<OrderEvent>,
    _ctx: &Context,
) -> Result<(), HandlerError> {
    Ok(())
}

fn main() {
    use tidings::EventHandler;
    assert_eq!(placed::OPTIONS.ordering, SubjectOrdering::LatestWins);
    assert_eq!(changed::OPTIONS.ordering, SubjectOrdering::LatestWins);
    assert_eq!(every_order_event::OPTIONS.ordering, SubjectOrdering::LatestWins);
}
