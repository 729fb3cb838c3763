use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tidings_events::Event;

/// Inventory reserved the stock for an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "shop.stock.reserved", version = 1)]
#[schemars(example = example_stock_reserved())]
pub struct StockReserved {
    /// The order the stock is held for.
    #[event(subject)]
    pub order_id: String,
    /// What was reserved, and where.
    pub reservations: Vec<Reservation>,
}

/// Stock held for one line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Reservation {
    /// The stock keeping unit.
    pub sku: String,
    /// How many units are held.
    pub quantity: u32,
    /// The warehouse holding them.
    pub warehouse: String,
}

fn example_stock_reserved() -> StockReserved {
    StockReserved {
        order_id: "order-42".into(),
        reservations: vec![Reservation {
            sku: "mug-blue".into(),
            quantity: 2,
            warehouse: "ams-1".into(),
        }],
    }
}
