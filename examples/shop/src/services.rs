//! The services' dependencies: [`Services`], each handler's state. Each binary builds them
//! once, before serving ([`Services::from_env`]); tests and the demo build their own from
//! [`MemoryServices`], so nothing is shared between them.

use std::sync::Arc;

use shop_events::Money;

use crate::{
    Catalog, EventCounter, EventSink, MemoryEventCounter, MemoryEventSink, MemoryOrderBook,
    MemoryOutbox, MemoryPaymentsLedger, MemoryStockBook, OrderBook, Outbox, PaymentsLedger,
    StockBook,
};

/// The environment variable naming the SNS topic the services publish to (feature `aws`).
pub const EVENTS_TOPIC_VAR: &str = "SHOP_EVENTS_TOPIC_ARN";

/// The warehouse of the in-memory stock book.
pub const LOCAL_WAREHOUSE: &str = "local-1";

/// What the services of the shop depend on.
#[derive(Clone)]
pub struct Services {
    /// The price list.
    pub catalog: Arc<Catalog>,
    /// Stock and the holds of orders.
    pub stock: Arc<dyn StockBook>,
    /// The orders the API took.
    pub orders: Arc<dyn OrderBook>,
    /// Email to customers.
    pub outbox: Arc<dyn Outbox>,
    /// The analytics figures.
    pub counter: Arc<dyn EventCounter>,
    /// Captured payments.
    pub payments: Arc<dyn PaymentsLedger>,
    /// Where published events go.
    pub events: Arc<dyn EventSink>,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services").finish_non_exhaustive()
    }
}

/// The in-memory backends, kept with their concrete types so that tests and the demo can
/// look inside them (what was sent, published, held).
#[derive(Debug, Clone)]
pub struct MemoryServices {
    /// The price list.
    pub catalog: Arc<Catalog>,
    /// Stock and the holds of orders.
    pub stock: Arc<MemoryStockBook>,
    /// The orders the API took.
    pub orders: Arc<MemoryOrderBook>,
    /// Email sent.
    pub outbox: Arc<MemoryOutbox>,
    /// The analytics figures.
    pub counter: Arc<MemoryEventCounter>,
    /// Captured payments.
    pub payments: Arc<MemoryPaymentsLedger>,
    /// Published events.
    pub events: Arc<MemoryEventSink>,
}

impl Default for MemoryServices {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryServices {
    /// Empty backends: nothing for sale, nothing in stock.
    pub fn new() -> Self {
        Self {
            catalog: Arc::new(Catalog::new()),
            stock: Arc::new(MemoryStockBook::new(LOCAL_WAREHOUSE)),
            orders: Arc::new(MemoryOrderBook::new()),
            outbox: Arc::new(MemoryOutbox::new()),
            counter: Arc::new(MemoryEventCounter::new()),
            payments: Arc::new(MemoryPaymentsLedger::new()),
            events: Arc::new(MemoryEventSink::new()),
        }
    }

    /// The shop of the local demo: a few items in stock.
    pub fn demo() -> Self {
        let memory = Self::new();
        memory.add_item("mug-blue", Money::eur(1299), 20);
        memory.add_item("mug-red", Money::eur(1299), 20);
        memory.add_item("teapot", Money::eur(3450), 3);
        memory.add_item("tea-sampler", Money::eur(995), 100);
        memory
    }

    /// Puts `sku` in the catalog at `price` and `stock` units of it in stock.
    pub fn add_item(&self, sku: &str, price: Money, stock: u32) {
        self.catalog.set_price(sku, price);
        self.stock.restock(sku, stock);
    }

    /// The same backends behind the traits the services use.
    pub fn services(&self) -> Services {
        Services {
            catalog: self.catalog.clone(),
            stock: self.stock.clone(),
            orders: self.orders.clone(),
            outbox: self.outbox.clone(),
            counter: self.counter.clone(),
            payments: self.payments.clone(),
            events: self.events.clone(),
        }
    }
}

/// A variable of the environment the shop cannot run with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {name} is set but {problem}")]
pub struct EnvError {
    /// The variable.
    pub name: &'static str,
    /// What is wrong, and what to do.
    pub problem: &'static str,
}

impl Services {
    /// The services the environment describes: in-memory backends stocked as
    /// [`MemoryServices::demo`], with events published to the SNS topic
    /// `SHOP_EVENTS_TOPIC_ARN` when it is set (which needs the `aws` feature).
    pub fn from_env() -> Result<Self, EnvError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) reading variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, EnvError> {
        #[cfg_attr(not(feature = "aws"), allow(unused_mut))]
        let mut services = MemoryServices::demo().services();
        match lookup(EVENTS_TOPIC_VAR).filter(|arn| !arn.is_empty()) {
            None => {
                if lookup("AWS_LAMBDA_RUNTIME_API").is_some() {
                    tracing::warn!(
                        "{EVENTS_TOPIC_VAR} is not set: published events stay in this \
                         container's memory and reach no consumer"
                    );
                }
            }
            #[cfg(feature = "aws")]
            Some(arn) => {
                services.events = Arc::new(crate::sink::PublisherSink::new(
                    tidings::Destination::topic(arn),
                ));
            }
            #[cfg(not(feature = "aws"))]
            Some(_) => {
                return Err(EnvError {
                    name: EVENTS_TOPIC_VAR,
                    problem: "publishing to SNS needs the shop built with the `aws` feature",
                });
            }
        }
        Ok(services)
    }
}
