//! The expansions rely on nothing the user's module imports or defines: here the module has no
//! prelude, and defines items named like what the generated code uses (`Option`, `Result`,
//! `Send`, `Future`, `Context`, `Default`, `Debug`, ...) and lowercase constants named like
//! its parameters, which would turn a binding of that name into a pattern.
#![deny(warnings)]

mod events {
    #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
    #[event(type = "ui.order.placed", version = 1)]
    pub struct OrderPlaced {
        #[event(subject)]
        pub order_id: String,
    }

    #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
    #[event(type = "ui.order.cancelled", version = 1)]
    pub struct OrderCancelled {
        #[event(subject)]
        pub order_id: String,
    }
}

mod handlers {
    #![no_implicit_prelude]
    #![allow(dead_code, non_upper_case_globals)]

    // The event types are defined outside: schemars' derive needs the prelude.
    use super::events::{OrderCancelled, OrderPlaced};

    pub struct Option;
    pub struct Result;
    pub struct Vec;
    pub struct String;
    pub struct Box;
    pub trait Send {}
    pub trait Sync {}
    pub trait Future {}
    pub trait Debug {}
    pub trait Clone {}
    pub trait Copy {}
    pub trait Default {}
    pub struct Context;
    pub struct Envelope;
    pub struct HandlerError;
    pub mod core {}
    pub mod std {}
    pub mod tidings {}
    pub mod inventory {}
    pub const event: u8 = 0;
    pub const ctx: u8 = 0;
    pub const envelope: u8 = 0;
    pub const options: u8 = 0;
    pub const event_type: u8 = 0;
    pub const data: u8 = 0;

    #[derive(::tidings::EventSet)]
    pub enum OrderEvent {
        Placed(OrderPlaced),
        Cancelled(OrderCancelled),
    }

    #[::tidings::event_handler(idempotency_key = "order_id", ordering = "latest_wins", main = false)]
    pub async fn reserve_stock(
        e: ::tidings::Envelope<OrderPlaced>,
        c: &::tidings::Context,
    ) -> ::core::result::Result<(), ::tidings::HandlerError> {
        let _ = (e, c);
        ::core::result::Result::Ok(())
    }

    #[::tidings::event_handler(main = true)]
    pub async fn notify(
        e: ::tidings::Envelope<OrderEvent>,
        c: &::tidings::Context,
    ) -> ::core::result::Result<(), ::tidings::HandlerError> {
        let _ = (e, c);
        ::core::result::Result::Ok(())
    }
}

fn main() {
    use tidings::EventHandler;
    assert_eq!(
        <handlers::reserve_stock as EventHandler>::OPTIONS.idempotency_key,
        Some("order_id")
    );
    assert_eq!(<handlers::notify as EventHandler>::OPTIONS.name, "notify");
}
