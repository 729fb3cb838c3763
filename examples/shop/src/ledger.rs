//! [`PaymentsLedger`]: the money captured for each order.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use shop_events::Money;

use crate::BackendError;

/// One capture of money for an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// The payment provider's id of the payment.
    pub payment_id: String,
    /// The amount captured.
    pub amount: Money,
}

/// Records captured payments; an order with at least one capture is paid.
#[async_trait]
pub trait PaymentsLedger: Send + Sync {
    /// Records `capture` for `order_id` after the captures recorded before it.
    async fn record(&self, order_id: &str, capture: Capture) -> Result<(), BackendError>;
}

/// The in-memory ledger.
#[derive(Debug, Default)]
pub struct MemoryPaymentsLedger {
    captures: Mutex<HashMap<String, Vec<Capture>>>,
}

impl MemoryPaymentsLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// The captures of `order_id`, in the order they were recorded.
    pub fn captures(&self, order_id: &str) -> Vec<Capture> {
        self.all().get(order_id).cloned().unwrap_or_default()
    }

    /// Whether `order_id` is paid.
    pub fn is_paid(&self, order_id: &str) -> bool {
        self.all().get(order_id).is_some_and(|c| !c.is_empty())
    }

    fn all(&self) -> MutexGuard<'_, HashMap<String, Vec<Capture>>> {
        self.captures.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl PaymentsLedger for MemoryPaymentsLedger {
    async fn record(&self, order_id: &str, capture: Capture) -> Result<(), BackendError> {
        self.all()
            .entry(order_id.to_owned())
            .or_default()
            .push(capture);
        Ok(())
    }
}
