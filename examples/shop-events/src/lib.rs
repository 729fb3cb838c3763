//! The event contract of the example shop: the events its services publish and consume.
//!
//! Events carry the state they announce (fat events), so consumers never call back into the
//! producer: an order event carries its lines and totals, a profile update carries the whole
//! profile after the change plus which fields changed.
//!
//! The registry of these types is committed under `schemas/`; regenerate it with
//! `cargo run -p shop-events -- export --out examples/shop-events/schemas`.

#![warn(missing_docs)]

mod customer;
mod money;
mod order;
mod payment;
mod stock;

pub use customer::{Address, CustomerProfile, CustomerProfileUpdated, ProfileField};
pub use money::Money;
pub use order::{CancelReason, OrderCancelled, OrderLine, OrderLineV1, OrderPlaced, OrderPlacedV1};
pub use payment::PaymentCaptured;
pub use stock::{Reservation, StockReserved};

/// The `source` the shop's services write into envelopes.
pub mod sources {
    /// The orders API.
    pub const ORDERS: &str = "shop/orders";
    /// The payments service.
    pub const PAYMENTS: &str = "shop/payments";
    /// The inventory service.
    pub const INVENTORY: &str = "shop/inventory";
    /// The customer profile service.
    pub const CUSTOMERS: &str = "shop/customers";
}
