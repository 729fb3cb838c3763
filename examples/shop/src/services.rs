//! The services' dependencies, wired once per process: [`services()`].
//!
//! `#[event_handler]` functions are free functions of `(Envelope, &Context)`, so they cannot
//! be handed their dependencies. They read them from one process-wide [`Services`] instead,
//! set once: by [`install`] (or [`install_from_env`], which the binaries call before serving)
//! or, when nothing was installed, on first use, with the in-memory backends of [`memory()`].

use std::sync::{Arc, OnceLock};

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
    /// The services the environment describes: the in-memory backends of [`memory()`], with
    /// events published to the SNS topic `SHOP_EVENTS_TOPIC_ARN` when it is set (which needs
    /// the `aws` feature).
    pub fn from_env() -> Result<Self, EnvError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) reading variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, EnvError> {
        #[cfg_attr(not(feature = "aws"), allow(unused_mut))]
        let mut services = memory().services();
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

static MEMORY: OnceLock<MemoryServices> = OnceLock::new();
static SERVICES: OnceLock<Services> = OnceLock::new();

/// The process's in-memory backends, stocked as [`MemoryServices::demo`]. [`services()`] uses
/// them unless others were installed.
pub fn memory() -> &'static MemoryServices {
    MEMORY.get_or_init(MemoryServices::demo)
}

/// The services of this process: those installed, or else the in-memory ones of
/// [`memory()`], fixed from the first call on.
pub fn services() -> &'static Services {
    SERVICES.get_or_init(|| memory().services())
}

/// [`install`] was called after the services were set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the shop's services were already set (by an earlier install, or by a first use of \
     shop::services()); install them once, before anything uses them"
)]
pub struct AlreadyInstalled;

/// Sets the services of this process. Call it once, before any handler runs.
pub fn install(services: Services) -> Result<(), AlreadyInstalled> {
    SERVICES.set(services).map_err(|_| AlreadyInstalled)
}

/// Installs [`Services::from_env`]: what each binary does before it serves.
pub fn install_from_env() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    install(Services::from_env()?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_topic_events_stay_in_memory() {
        let services = Services::from_lookup(|_| None).unwrap();
        assert!(Arc::ptr_eq(
            &services.events,
            &(memory().events.clone() as Arc<dyn EventSink>)
        ));
    }

    #[cfg(not(feature = "aws"))]
    #[test]
    fn a_topic_needs_the_aws_feature() {
        let error = Services::from_lookup(|name| {
            (name == EVENTS_TOPIC_VAR).then(|| "arn:aws:sns:eu-west-1:1:shop".to_owned())
        })
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "environment variable SHOP_EVENTS_TOPIC_ARN is set but publishing to SNS needs the \
             shop built with the `aws` feature"
        );
    }

    #[cfg(feature = "aws")]
    #[test]
    fn a_topic_replaces_the_memory_sink() {
        let services = Services::from_lookup(|name| {
            (name == EVENTS_TOPIC_VAR).then(|| "arn:aws:sns:eu-west-1:1:shop".to_owned())
        })
        .unwrap();
        assert!(!Arc::ptr_eq(
            &services.events,
            &(memory().events.clone() as Arc<dyn EventSink>)
        ));
    }
}
