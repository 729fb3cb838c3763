//! Every option of #[event_handler] at once, each with a value other than its default.
#![deny(warnings)]

use tidings::{
    Context, Envelope, EventHandler, HandlerError, HandlerOptions, OnUnknownType, SubjectOrdering,
    Trigger,
};

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
#[event(type = "ui.order.placed", version = 1)]
pub struct OrderPlaced {
    #[event(subject)]
    pub order_id: String,
}

#[tidings::event_handler(
    trigger = "sns",
    ordering = "latest_wins",
    idempotency_key = "order_id",
    concurrency = 3,
    on_unknown_type = "ignore",
    main = false,
    crate = "::tidings",
)]
async fn reserve_stock(_event: Envelope<OrderPlaced>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

fn main() {
    let expected = HandlerOptions {
        trigger: Trigger::Sns,
        ordering: SubjectOrdering::LatestWins,
        idempotency_key: Some("order_id"),
        concurrency: 3,
        on_unknown_type: OnUnknownType::Ignore,
        ..HandlerOptions::new("reserve_stock")
    };
    assert_eq!(<reserve_stock as EventHandler>::OPTIONS, expected);
}
