//! A handler as a function's binary holds it: at the crate root, with the generated `main` as
//! the entrypoint, under the strictest lints a user might set.
//!
//! tests/ui.rs runs it against a stand-in of the Lambda Runtime API that hands it one SQS
//! batch. The handler ends the process with success once it holds the expected event: the
//! proof that `main` read the environment, started the runtime, polled, decoded the batch and
//! routed it here. Anything else fails the process.
#![deny(warnings, missing_docs, unused_qualifications, unreachable_pub)]

use tidings::{Context, Envelope, HandlerError};

/// A customer placed an order.
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
#[event(type = "ui.order.placed", version = 1)]
pub(crate) struct OrderPlaced {
    #[event(subject)]
    pub(crate) order_id: String,
}

/// Reserves the stock of a placed order.
#[tidings::event_handler(trigger = "sqs")]
pub(crate) async fn reserve_stock(
    event: Envelope<OrderPlaced>,
    ctx: &Context,
) -> Result<(), HandlerError> {
    let expected = event.data.order_id == "order-ui-1"
        && ctx.handler() == "reserve_stock"
        && ctx.request_id().starts_with("ui-invocation-");
    if expected {
        std::process::exit(0);
    }
    Err(HandlerError::permanent(format!(
        "unexpected event {:?} in request {:?}",
        event.data.order_id,
        ctx.request_id()
    )))
}
