//! What the tests of the services share.
//!
//! Each test builds its own in-memory services ([`crate::MemoryServices`]) and hands them to
//! the handler as its state; names still come from [`unique`], so that a test's orders are
//! easy to tell apart in its output.

use std::sync::atomic::{AtomicU64, Ordering};

use shop_events::{CancelReason, Money, OrderCancelled, OrderLine, OrderPlaced};

/// A name no other test of this process uses.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// An order of `lines` (SKU, quantity) at 10.00 EUR a unit.
pub fn placed(order_id: &str, lines: &[(&str, u32)]) -> OrderPlaced {
    let lines: Vec<OrderLine> = lines
        .iter()
        .map(|(sku, quantity)| OrderLine {
            sku: (*sku).to_owned(),
            quantity: *quantity,
            unit_price: Some(Money::eur(1000)),
        })
        .collect();
    let total = lines
        .iter()
        .map(|line| 1000 * i64::from(line.quantity))
        .sum();
    OrderPlaced {
        order_id: order_id.to_owned(),
        customer_id: "customer-7".to_owned(),
        lines,
        total: Money::eur(total),
    }
}

/// The cancellation of `order` at the customer's request.
pub fn cancelled(order: &OrderPlaced) -> OrderCancelled {
    OrderCancelled {
        order_id: order.order_id.clone(),
        reason: CancelReason::CustomerRequest,
        lines: order.lines.clone(),
    }
}
