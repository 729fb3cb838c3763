use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tidings_events::Event;

use crate::Money;

/// A customer placed an order (version 1: euro-only totals, lines without prices).
///
/// Superseded by [`OrderPlaced`]; still decoded, and upcast, for events published before the
/// change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "shop.order.placed", version = 1)]
#[schemars(example = example_order_placed_v1())]
pub struct OrderPlacedV1 {
    /// The order.
    #[event(subject)]
    pub order_id: String,
    /// The customer who placed it.
    pub customer_id: String,
    /// What was ordered.
    pub lines: Vec<OrderLineV1>,
    /// The order total in euro cents.
    pub total_cents: i64,
}

/// One line of a version 1 order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OrderLineV1 {
    /// The stock keeping unit.
    pub sku: String,
    /// How many.
    pub quantity: u32,
}

/// A customer placed an order: its lines with prices, and its total in its currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "shop.order.placed", version = 2, upcast_from = OrderPlacedV1)]
#[schemars(example = example_order_placed())]
pub struct OrderPlaced {
    /// The order.
    #[event(subject)]
    pub order_id: String,
    /// The customer who placed it.
    pub customer_id: String,
    /// What was ordered.
    pub lines: Vec<OrderLine>,
    /// The order total.
    pub total: Money,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OrderLine {
    /// The stock keeping unit.
    pub sku: String,
    /// How many.
    pub quantity: u32,
    /// The price of one unit, when known (orders of version 1 did not record it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Money>,
}

impl From<OrderPlacedV1> for OrderPlaced {
    /// Version 1 orders were euro-only and did not price their lines.
    fn from(v1: OrderPlacedV1) -> Self {
        Self {
            order_id: v1.order_id,
            customer_id: v1.customer_id,
            lines: v1
                .lines
                .into_iter()
                .map(|line| OrderLine {
                    sku: line.sku,
                    quantity: line.quantity,
                    unit_price: None,
                })
                .collect(),
            total: Money::eur(v1.total_cents),
        }
    }
}

/// An order was cancelled before it shipped; its lines are released back to stock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "shop.order.cancelled", version = 1)]
#[schemars(example = example_order_cancelled())]
pub struct OrderCancelled {
    /// The order.
    #[event(subject)]
    pub order_id: String,
    /// Why it was cancelled.
    pub reason: CancelReason,
    /// The lines that no longer need stock.
    pub lines: Vec<OrderLine>,
}

/// Why an order was cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// The customer asked for it.
    CustomerRequest,
    /// The payment was declined.
    PaymentDeclined,
    /// Not enough stock.
    OutOfStock,
    /// A reason added after this code was built. Keeps older readers working when the
    /// producer adds a reason.
    #[serde(other)]
    Other,
}

fn example_order_placed_v1() -> OrderPlacedV1 {
    OrderPlacedV1 {
        order_id: "order-42".into(),
        customer_id: "customer-7".into(),
        lines: vec![OrderLineV1 {
            sku: "mug-blue".into(),
            quantity: 2,
        }],
        total_cents: 2598,
    }
}

fn example_order_placed() -> OrderPlaced {
    OrderPlaced {
        order_id: "order-42".into(),
        customer_id: "customer-7".into(),
        lines: vec![OrderLine {
            sku: "mug-blue".into(),
            quantity: 2,
            unit_price: Some(Money::eur(1299)),
        }],
        total: Money::eur(2598),
    }
}

fn example_order_cancelled() -> OrderCancelled {
    OrderCancelled {
        order_id: "order-42".into(),
        reason: CancelReason::CustomerRequest,
        lines: example_order_placed().lines,
    }
}
