//! [`Catalog`]: what the shop sells, and at what price.

use std::collections::HashMap;
use std::sync::RwLock;

use shop_events::Money;

/// The price list: the unit price of every SKU the shop sells.
///
/// Prices are configuration the API reads, not a side effect, so this is a plain type rather
/// than a trait. It can change at run time so that tests and the demo can add items.
#[derive(Debug, Default)]
pub struct Catalog {
    prices: RwLock<HashMap<String, Money>>,
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// A catalog of `(sku, unit price)` pairs.
    pub fn with_prices<'a>(prices: impl IntoIterator<Item = (&'a str, Money)>) -> Self {
        let catalog = Self::new();
        for (sku, price) in prices {
            catalog.set_price(sku, price);
        }
        catalog
    }

    /// Sets the unit price of `sku`, adding it when new.
    pub fn set_price(&self, sku: &str, price: Money) {
        self.prices
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(sku.to_owned(), price);
    }

    /// The unit price of `sku`, or `None` when the shop does not sell it.
    pub fn price(&self, sku: &str) -> Option<Money> {
        self.prices
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(sku)
            .cloned()
    }
}
