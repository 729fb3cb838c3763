// The attribute is wrong; the code that serves and tests the handler reports nothing more.
use tidings::{Context, Envelope, HandlerError, Pipeline};

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
#[event(type = "ui.order.placed", version = 1)]
pub struct OrderPlaced {
    #[event(subject)]
    pub order_id: String,
}

#[tidings::event_handler(ordering = "fifo")]
async fn reserve_stock(_event: Envelope<OrderPlaced>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

// A signature error: the context by value. The name still names a handler.
#[tidings::event_handler(main = false)]
async fn notify(_event: Envelope<OrderPlaced>, _ctx: Context) -> Result<(), HandlerError> {
    Ok(())
}

#[allow(dead_code)]
fn pipelines() {
    let _ = Pipeline::new(reserve_stock);
    let _ = Pipeline::new(notify);
}
