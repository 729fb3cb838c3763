//! Handlers beside a `main` of the crate's own: `main = false` leaves the generated one out, at
//! the crate root and in a module, so that nothing conflicts and this `main` runs.
#![deny(warnings)]

use tidings::{Context, Envelope, EventHandler, HandlerError};

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
#[event(type = "ui.order.placed", version = 1)]
pub struct OrderPlaced {
    #[event(subject)]
    pub order_id: String,
}

#[tidings::event_handler(main = false)]
async fn at_root(_event: Envelope<OrderPlaced>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

mod handlers {
    use tidings::{Context, Envelope, HandlerError};

    #[tidings::event_handler(main = false)]
    pub async fn in_module(
        _event: Envelope<super::OrderPlaced>,
        _ctx: &Context,
    ) -> Result<(), HandlerError> {
        Ok(())
    }
}

fn main() {
    assert_eq!(<at_root as EventHandler>::OPTIONS.name, "at_root");
    assert_eq!(<handlers::in_module as EventHandler>::OPTIONS.name, "in_module");
    let names: Vec<_> = tidings::HandlerRegistration::all()
        .iter()
        .map(|r| (r.name, r.module_path))
        .collect();
    // trybuild names the crate; the module paths follow it.
    let handlers = format!("{}::handlers", module_path!());
    assert_eq!(
        names,
        [("at_root", module_path!()), ("in_module", handlers.as_str())]
    );
}
