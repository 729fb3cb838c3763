//! [`StockBook`]: stock on hand, and what each order holds of it.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use shop_events::{OrderLine, Reservation};

use crate::BackendError;

/// Where stock is held for orders.
///
/// A hold belongs to an order, which makes both operations idempotent per order: the orders
/// API reserves when the order is placed, and the inventory consumer reserving again for the
/// same order only confirms that hold. That is what lets a retried or duplicated event run
/// again safely.
#[async_trait]
pub trait StockBook: Send + Sync {
    /// Holds every line of `order_id`, all or nothing. When the order already holds stock,
    /// answers that hold and changes nothing.
    async fn reserve(&self, order_id: &str, lines: &[OrderLine]) -> Result<Hold, StockError>;

    /// Gives back to stock what `order_id` holds, and answers what that was: nothing when
    /// the order holds nothing (never reserved, or released before).
    async fn release(&self, order_id: &str) -> Result<Vec<Reservation>, BackendError>;
}

/// The stock an order holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    /// What is held, one reservation per SKU.
    pub reservations: Vec<Reservation>,
    /// Whether this call took the stock (`false`: the order already held it).
    pub new: bool,
}

/// Why stock could not be reserved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StockError {
    /// Not enough of one SKU; nothing was reserved.
    #[error("not enough `{sku}` in stock: {requested} requested, {available} available")]
    OutOfStock {
        /// The SKU short of stock.
        sku: String,
        /// How many the order wants.
        requested: u32,
        /// How many are available.
        available: u32,
    },
    /// The stock book could not be reached.
    #[error(transparent)]
    Unavailable(#[from] BackendError),
}

/// The in-memory stock book of one warehouse.
#[derive(Debug)]
pub struct MemoryStockBook {
    warehouse: String,
    state: Mutex<StockState>,
}

#[derive(Debug, Default)]
struct StockState {
    /// Units of each SKU not held by any order.
    available: HashMap<String, u32>,
    /// What each order holds.
    holds: HashMap<String, Vec<Reservation>>,
}

impl MemoryStockBook {
    /// An empty stock book of `warehouse`.
    pub fn new(warehouse: impl Into<String>) -> Self {
        Self {
            warehouse: warehouse.into(),
            state: Mutex::default(),
        }
    }

    /// Adds `quantity` units of `sku` to the available stock.
    pub fn restock(&self, sku: &str, quantity: u32) {
        let mut state = self.state();
        let available = state.available.entry(sku.to_owned()).or_default();
        *available = available.saturating_add(quantity);
    }

    /// Units of `sku` available, not held by any order.
    pub fn available(&self, sku: &str) -> u32 {
        self.state().available.get(sku).copied().unwrap_or(0)
    }

    /// What `order_id` holds (empty when nothing).
    pub fn held_by(&self, order_id: &str) -> Vec<Reservation> {
        self.state()
            .holds
            .get(order_id)
            .cloned()
            .unwrap_or_default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, StockState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The quantity wanted of each SKU, in order of first appearance: an order may name a SKU on
/// more than one line, and stock is counted per SKU.
fn wanted(lines: &[OrderLine]) -> Vec<(String, u32)> {
    let mut wanted: Vec<(String, u32)> = Vec::new();
    for line in lines {
        match wanted.iter_mut().find(|(sku, _)| *sku == line.sku) {
            Some((_, quantity)) => *quantity = quantity.saturating_add(line.quantity),
            None => wanted.push((line.sku.clone(), line.quantity)),
        }
    }
    wanted
}

#[async_trait]
impl StockBook for MemoryStockBook {
    async fn reserve(&self, order_id: &str, lines: &[OrderLine]) -> Result<Hold, StockError> {
        let mut state = self.state();
        if let Some(held) = state.holds.get(order_id) {
            return Ok(Hold {
                reservations: held.clone(),
                new: false,
            });
        }
        let wanted = wanted(lines);
        // Check every SKU before taking any, so a refused order holds nothing.
        for (sku, requested) in &wanted {
            let available = state.available.get(sku).copied().unwrap_or(0);
            if available < *requested {
                return Err(StockError::OutOfStock {
                    sku: sku.clone(),
                    requested: *requested,
                    available,
                });
            }
        }
        let mut reservations = Vec::with_capacity(wanted.len());
        for (sku, quantity) in wanted {
            *state.available.entry(sku.clone()).or_default() -= quantity;
            reservations.push(Reservation {
                sku,
                quantity,
                warehouse: self.warehouse.clone(),
            });
        }
        state
            .holds
            .insert(order_id.to_owned(), reservations.clone());
        Ok(Hold {
            reservations,
            new: true,
        })
    }

    async fn release(&self, order_id: &str) -> Result<Vec<Reservation>, BackendError> {
        let mut state = self.state();
        let released = state.holds.remove(order_id).unwrap_or_default();
        for reservation in &released {
            let available = state.available.entry(reservation.sku.clone()).or_default();
            *available = available.saturating_add(reservation.quantity);
        }
        Ok(released)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(sku: &str, quantity: u32) -> OrderLine {
        OrderLine {
            sku: sku.into(),
            quantity,
            unit_price: None,
        }
    }

    #[tokio::test]
    async fn a_hold_is_all_or_nothing_and_idempotent_per_order() {
        let book = MemoryStockBook::new("w1");
        book.restock("a", 5);
        book.restock("b", 1);

        let refused = book
            .reserve("o1", &[line("a", 2), line("b", 2)])
            .await
            .unwrap_err();
        assert_eq!(
            refused,
            StockError::OutOfStock {
                sku: "b".into(),
                requested: 2,
                available: 1
            }
        );
        assert_eq!((book.available("a"), book.available("b")), (5, 1));

        let hold = book
            .reserve("o1", &[line("a", 2), line("a", 1)])
            .await
            .unwrap();
        let expected = vec![Reservation {
            sku: "a".into(),
            quantity: 3,
            warehouse: "w1".into(),
        }];
        assert_eq!(
            hold,
            Hold {
                reservations: expected.clone(),
                new: true
            }
        );
        let again = book.reserve("o1", &[line("a", 3)]).await.unwrap();
        assert_eq!(
            again,
            Hold {
                reservations: expected.clone(),
                new: false
            }
        );
        assert_eq!(book.available("a"), 2);

        assert_eq!(book.release("o1").await.unwrap(), expected);
        assert_eq!(book.release("o1").await.unwrap(), Vec::new());
        assert_eq!(book.available("a"), 5);
    }
}
