//! [`OrderBook`]: the orders the API took, with each one's status and version.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use shop_events::{Money, OrderLine};

use crate::BackendError;

/// An order as the orders API keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// The order id, the subject of its events.
    pub order_id: String,
    /// The customer who placed it.
    pub customer_id: String,
    /// Its priced lines.
    pub lines: Vec<OrderLine>,
    /// Its total.
    pub total: Money,
    /// Where it stands.
    pub status: OrderStatus,
    /// Its version: the `sequence` of the last event published about it. Consumers with
    /// `ordering = "latest_wins"` compare it, so it only ever grows.
    pub sequence: u64,
}

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    /// Placed, stock held.
    Placed,
    /// Cancelled.
    Cancelled,
}

/// Why an order could not be cancelled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CancelError {
    /// No order has this id.
    #[error("there is no order `{0}`")]
    NotFound(String),
    /// The order was cancelled before.
    #[error("order `{0}` is already cancelled")]
    AlreadyCancelled(String),
    /// The order book could not be reached.
    #[error(transparent)]
    Unavailable(#[from] BackendError),
}

/// Where the orders API keeps its orders.
#[async_trait]
pub trait OrderBook: Send + Sync {
    /// Stores `order`, replacing any order with its id: used for new orders and to put an
    /// order back as it was when its event could not be published.
    async fn put(&self, order: Order) -> Result<(), BackendError>;

    /// The order with id `order_id`.
    async fn get(&self, order_id: &str) -> Result<Option<Order>, BackendError>;

    /// Cancels a placed order in one step, so two concurrent cancels cannot both succeed:
    /// its status becomes cancelled and its sequence grows by one. Answers the order after
    /// the change.
    async fn cancel(&self, order_id: &str) -> Result<Order, CancelError>;

    /// Forgets `order_id`: a new order whose event could not be published.
    async fn remove(&self, order_id: &str) -> Result<(), BackendError>;
}

/// The in-memory order book.
#[derive(Debug, Default)]
pub struct MemoryOrderBook {
    orders: Mutex<HashMap<String, Order>>,
}

impl MemoryOrderBook {
    /// An empty order book.
    pub fn new() -> Self {
        Self::default()
    }

    fn orders(&self) -> MutexGuard<'_, HashMap<String, Order>> {
        self.orders.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl OrderBook for MemoryOrderBook {
    async fn put(&self, order: Order) -> Result<(), BackendError> {
        self.orders().insert(order.order_id.clone(), order);
        Ok(())
    }

    async fn get(&self, order_id: &str) -> Result<Option<Order>, BackendError> {
        Ok(self.orders().get(order_id).cloned())
    }

    async fn cancel(&self, order_id: &str) -> Result<Order, CancelError> {
        let mut orders = self.orders();
        let order = orders
            .get_mut(order_id)
            .ok_or_else(|| CancelError::NotFound(order_id.to_owned()))?;
        if order.status == OrderStatus::Cancelled {
            return Err(CancelError::AlreadyCancelled(order_id.to_owned()));
        }
        order.status = OrderStatus::Cancelled;
        order.sequence += 1;
        Ok(order.clone())
    }

    async fn remove(&self, order_id: &str) -> Result<(), BackendError> {
        self.orders().remove(order_id);
        Ok(())
    }
}
