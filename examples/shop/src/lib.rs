//! The example shop: one synchronous API and four event consumers, each a Lambda function.
//!
//! ```text
//! POST /orders ──▶ orders API: validate, reserve stock ─▶ 201 ─▶ publishes OrderPlaced
//!                                    (synchronous)               (the rest is asynchronous)
//! OrderPlaced, OrderCancelled ──▶ inventory   confirms or releases stock, publishes StockReserved
//! OrderPlaced                 ──▶ email       one confirmation per order
//! every order event           ──▶ analytics   counts events by type
//! PaymentCaptured (FIFO)      ──▶ payments    marks orders paid, in order per order
//! ```
//!
//! Each consumer is an `#[event_handler]` in its own module, and each function is a tiny
//! binary under `src/bin/`. Everything lives in this library so that tests and the local demo
//! can run every service in one process.
//!
//! Side effects go through small traits ([`StockBook`], [`OrderBook`], [`Outbox`],
//! [`EventCounter`], [`PaymentsLedger`], [`EventSink`]) with in-memory implementations.
//! Each handler takes them as its state, [`Services`]: each binary builds them once before
//! serving ([`Services::from_env`]), and tests and the demo build their own.

#![warn(missing_docs)]

pub mod analytics;
pub mod catalog;
pub mod counter;
pub mod email;
mod error;
pub mod inventory;
pub mod ledger;
pub mod order_book;
pub mod orders;
pub mod outbox;
pub mod payments;
#[cfg(feature = "aws")]
mod publisher_sink;
mod services;
pub mod sink;
pub mod stock;
#[cfg(test)]
mod test_support;

pub use catalog::Catalog;
pub use counter::{EventCounter, MemoryEventCounter};
pub use error::BackendError;
pub use ledger::{MemoryPaymentsLedger, PaymentsLedger};
pub use order_book::{MemoryOrderBook, OrderBook};
pub use outbox::{MemoryOutbox, Outbox};
pub use services::{EVENTS_TOPIC_VAR, EnvError, LOCAL_WAREHOUSE, MemoryServices, Services};
pub use sink::{EventSink, MemoryEventSink};
pub use stock::{MemoryStockBook, StockBook};
