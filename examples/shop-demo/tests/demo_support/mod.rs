//! What the demo's tests check of a run, whichever mode ran it: the report's numbers follow
//! from the scenario, and the shop's in-memory state agrees with them.

use shop::MemoryServices;
use shop_demo::Report;
use shop_demo::scenario::{CANCELLED, LATE_PLACEMENTS, ORDERS};
use shop_demo::tally::Tally;

/// The row of `name`, which the report must have.
pub fn tally(report: &Report, name: &str) -> Tally {
    report
        .consumer(name)
        .unwrap_or_else(|| panic!("the report has no row for {name}:\n{report}"))
        .tally
}

/// Checks everything a finished run must show.
pub fn check_run(report: &Report, shop: &MemoryServices) {
    let text = report.to_string();
    assert!(report.drained(), "the queues did not drain:\n{text}");

    let api = &report.api;
    assert_eq!(api.placed.len(), ORDERS, "{text}");
    assert_eq!(api.cancelled.len(), CANCELLED, "{text}");
    assert_eq!(api.refused_with(400), 2, "{text}");
    assert_eq!(api.refused_with(409), 1, "{text}");
    assert_eq!(api.requests, ORDERS + CANCELLED + 3, "{text}");
    let placed = api.placed.len();
    let cancelled = api.cancelled.len();

    // Every delivery ends in exactly one column.
    for row in &report.consumers {
        let t = &row.tally;
        assert_eq!(
            t.received,
            t.processed + t.duplicates + t.stale + t.ignored + t.retried + t.dead_lettered,
            "{}: {text}",
            row.name
        );
    }

    // Each consumer ran its handler once per distinct event it should handle.
    let inventory = tally(report, "inventory");
    assert_eq!(
        inventory.processed,
        placed + cancelled - LATE_PLACEMENTS,
        "{text}"
    );
    assert!(inventory.stale >= LATE_PLACEMENTS, "{text}");
    assert_eq!(
        (inventory.retried, inventory.all_dead_lettered()),
        (0, 0),
        "{text}"
    );
    let email = tally(report, "email");
    assert_eq!(email.processed, placed, "{text}");
    assert_eq!(email.stale, 0, "{text}");
    let payments = tally(report, "payments");
    assert_eq!(payments.processed, placed, "{text}");
    assert_eq!(payments.duplicates, 0, "a FIFO topic drops copies: {text}");
    let analytics = tally(report, "analytics");
    // Placements, cancellations, inventory's StockReserved (not for the late placements,
    // which it skipped) and captures.
    let stock_reserved = placed - LATE_PLACEMENTS;
    assert_eq!(
        analytics.processed,
        placed + cancelled + stock_reserved + placed,
        "{text}"
    );
    assert!(
        analytics.retried > 0,
        "the throttled batch is retried: {text}"
    );
    assert_eq!(analytics.ignored, 0, "{text}");

    // The transport's duplicates were skipped where they landed.
    for name in ["inventory", "email", "analytics"] {
        assert!(tally(report, name).duplicates > 0, "{name}: {text}");
    }
    assert!(report.transport.duplicates > 0, "{text}");

    // Exactly one dead letter: the poison, in email's queue, for its version.
    assert_eq!(email.dead_lettered, 1, "{text}");
    for name in ["inventory", "analytics", "payments"] {
        assert_eq!(tally(report, name).all_dead_lettered(), 0, "{name}: {text}");
    }
    assert_eq!(report.letters.len(), 1, "{text}");
    assert_eq!(report.letters[0].consumer, "email");
    assert_eq!(report.letters[0].code, "unsupported-version");
    assert!(report.letters[0].reason.contains("version 3"), "{text}");

    check_rows(report, &text);
    check_shop_state(report, shop);
}

/// The text has each consumer's row, with its numbers in the order of the header.
fn check_rows(report: &Report, text: &str) {
    for row in &report.consumers {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{} ", row.name)))
            .unwrap_or_else(|| panic!("no row for {} in\n{text}", row.name));
        let cells: Vec<&str> = line.split_whitespace().collect();
        let t = &row.tally;
        let numbers: Vec<String> = [
            t.received,
            t.processed,
            t.duplicates,
            t.stale,
            t.ignored,
            t.retried,
            t.all_dead_lettered(),
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(cells[0], row.name);
        assert_eq!(cells[1], row.queue);
        assert_eq!(cells[2..9], numbers[..], "{line}");
        assert!(t.oldest_age.is_some(), "{line}");
    }
}

/// What the consumers did to the shop agrees with the report: one email and one capture
/// per order, no stock held for a cancelled order, and no StockReserved for a placement
/// inventory skipped as stale.
fn check_shop_state(report: &Report, shop: &MemoryServices) {
    let mut skipped = 0;
    for order_id in &report.api.placed {
        assert_eq!(shop.outbox.sent_for(order_id).len(), 1, "{order_id}");
        assert_eq!(shop.payments.captures(order_id).len(), 1, "{order_id}");
        assert_eq!(
            shop.counter.for_subject("shop.order.placed", order_id),
            1,
            "{order_id}"
        );
        let reserved = shop.counter.for_subject("shop.stock.reserved", order_id);
        if report.api.cancelled.contains(order_id) {
            assert_eq!(shop.stock.held_by(order_id), [], "{order_id}");
            assert_eq!(
                shop.counter.for_subject("shop.order.cancelled", order_id),
                1,
                "{order_id}"
            );
            skipped += usize::from(reserved == 0);
        } else {
            assert!(!shop.stock.held_by(order_id).is_empty(), "{order_id}");
            assert_eq!(reserved, 1, "{order_id}");
        }
    }
    assert_eq!(skipped, LATE_PLACEMENTS);
}
