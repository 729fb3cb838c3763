//! A handler with state, built by the fn that `state = ...` names, in the generated `main`.
//!
//! tests/ui.rs runs it against a stand-in of the Lambda Runtime API, as `bin_main.rs`. The
//! handler ends the process with success once it holds the expected event and the state that
//! `main` built: the proof that `main` built the state, served the handler and handed it the
//! state.
#![deny(warnings, missing_docs, unused_qualifications, unreachable_pub)]

use tidings::{Context, Envelope, HandlerError};

/// A customer placed an order.
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
#[event(type = "ui.order.placed", version = 1)]
pub(crate) struct OrderPlaced {
    #[event(subject)]
    pub(crate) order_id: String,
}

/// What the handler needs: built once, before the first poll.
pub(crate) struct Inventory {
    warehouse: String,
}

impl Inventory {
    /// The inventory of this container.
    async fn from_env() -> Result<Self, std::env::VarError> {
        Ok(Self {
            warehouse: "ui-warehouse".to_owned(),
        })
    }
}

/// Reserves the stock of a placed order.
#[tidings::event_handler(trigger = "sqs", state = Inventory::from_env)]
pub(crate) async fn reserve_stock(
    event: Envelope<OrderPlaced>,
    _ctx: &Context,
    inventory: &Inventory,
) -> Result<(), HandlerError> {
    if event.data.order_id == "order-ui-1" && inventory.warehouse == "ui-warehouse" {
        std::process::exit(0);
    }
    Err(HandlerError::permanent("unexpected event or state"))
}
