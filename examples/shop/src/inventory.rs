//! The inventory service: holds stock for placed orders and gives it back when they are
//! cancelled.
//!
//! The orders API already reserved the stock of a placed order synchronously, before it
//! answered the customer; here the reservation is confirmed (or taken now, when this
//! container's stock book never saw it) and announced with `StockReserved`. Events of one
//! order arrive in any order, so the handler is `latest_wins`: an `OrderPlaced` (sequence 1)
//! arriving after the order's `OrderCancelled` (sequence 2) is stale and never holds stock
//! again.

use shop_events::{OrderCancelled, OrderPlaced, StockReserved, sources};
use tidings::{Context, Envelope, EventSet, HandlerError};

use crate::stock::StockError;
use crate::{Services, sink};

/// The events inventory handles.
#[derive(Debug, EventSet)]
pub enum InventoryEvent {
    /// An order was placed: confirm its hold.
    Placed(OrderPlaced),
    /// An order was cancelled: release its hold.
    Cancelled(OrderCancelled),
}

/// Confirms the stock of placed orders and releases that of cancelled ones.
#[tidings::event_handler(ordering = "latest_wins", trigger = "sqs", main = false)]
pub async fn inventory(
    event: Envelope<InventoryEvent>,
    _ctx: &Context,
    shop: &Services,
) -> Result<(), HandlerError> {
    match event.data {
        InventoryEvent::Placed(order) => confirm(shop, order).await,
        InventoryEvent::Cancelled(order) => release(shop, order).await,
    }
}

/// Holds the order's stock and announces it. Reserving is idempotent per order, so a retry
/// after a failed publish finds the same hold and publishes it again.
async fn confirm(shop: &Services, order: OrderPlaced) -> Result<(), HandlerError> {
    let hold = match shop.stock.reserve(&order.order_id, &order.lines).await {
        Ok(hold) => hold,
        // Retrying cannot make stock appear; the dead-letter queue is where a person sees it.
        Err(error @ StockError::OutOfStock { .. }) => return Err(HandlerError::permanent(error)),
        Err(StockError::Unavailable(error)) => return Err(error.into()),
    };
    if hold.new {
        tracing::info!(
            order_id = order.order_id.as_str(),
            "no hold from the orders API in this stock book; reserved now"
        );
    }
    let reserved = StockReserved {
        order_id: order.order_id,
        reservations: hold.reservations,
    };
    sink::publish(
        shop.events.as_ref(),
        sink::envelope(sources::INVENTORY, reserved),
    )
    .await?;
    Ok(())
}

/// Gives the order's stock back. Releasing an order that holds nothing does nothing, so a
/// cancellation that arrives before its order was ever held here is harmless.
async fn release(shop: &Services, order: OrderCancelled) -> Result<(), HandlerError> {
    let released = shop.stock.release(&order.order_id).await?;
    tracing::info!(
        order_id = order.order_id.as_str(),
        skus = released.len(),
        "stock released"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use shop_events::{Money, Reservation};
    use tidings::testing::{Batch, invoke};
    use tidings::{Outcome, Pipeline};

    use super::*;
    use crate::test_support::{cancelled, placed, unique};
    use crate::{LOCAL_WAREHOUSE, MemoryServices, StockBook};

    /// A SKU of its own with `stock` units.
    fn stocked_sku(shop: &MemoryServices, stock: u32) -> String {
        let sku = unique("inventory-sku");
        shop.add_item(&sku, Money::eur(1000), stock);
        sku
    }

    /// The `StockReserved` events published about `order_id`, with their envelopes.
    fn reserved_about(
        shop: &MemoryServices,
        order_id: &str,
    ) -> Vec<(Envelope<serde_json::Value>, StockReserved)> {
        shop.events
            .published_about(order_id)
            .into_iter()
            .filter(|e| e.attributes.event_type == "shop.stock.reserved")
            .map(|e| {
                let data = serde_json::from_value(e.data.clone()).unwrap();
                (e, data)
            })
            .collect()
    }

    #[tokio::test]
    async fn a_placed_order_confirms_the_api_hold_and_announces_it() {
        let shop = MemoryServices::demo();
        let sku = stocked_sku(&shop, 10);
        let order_id = unique("order");
        let order = placed(&order_id, &[(&sku, 2)]);
        // What the orders API did before answering the customer.
        shop.stock.reserve(&order_id, &order.lines).await.unwrap();
        let event = Envelope::new(sources::ORDERS, order).with_sequence(1);

        let pipeline = Pipeline::with_state(inventory, shop.services());
        let result = invoke(&pipeline, &Batch::sqs().event(&event)).await;

        assert_eq!(result.outcomes(), [&Outcome::Processed]);
        assert_eq!(shop.stock.available(&sku), 8, "held once, not twice");
        let reserved = reserved_about(&shop, &order_id);
        assert_eq!(reserved.len(), 1);
        let (envelope, data) = &reserved[0];
        assert_eq!(
            *data,
            StockReserved {
                order_id: order_id.clone(),
                reservations: vec![Reservation {
                    sku: sku.clone(),
                    quantity: 2,
                    warehouse: LOCAL_WAREHOUSE.into(),
                }],
            }
        );
        assert_eq!(envelope.attributes.source, sources::INVENTORY);
        assert_eq!(
            envelope.attributes.causation_id.as_deref(),
            Some(event.id())
        );
        assert_eq!(envelope.correlation_id(), event.correlation_id());
    }

    #[tokio::test]
    async fn a_placed_order_without_a_hold_here_is_reserved_now() {
        let shop = MemoryServices::demo();
        let sku = stocked_sku(&shop, 5);
        let order_id = unique("order");
        let event =
            Envelope::new(sources::ORDERS, placed(&order_id, &[(&sku, 3)])).with_sequence(1);

        let pipeline = Pipeline::with_state(inventory, shop.services());
        let result = invoke(&pipeline, &Batch::sqs().event(&event)).await;

        assert_eq!(result.outcomes(), [&Outcome::Processed]);
        assert_eq!(shop.stock.available(&sku), 2);
        assert_eq!(reserved_about(&shop, &order_id).len(), 1);
    }

    #[tokio::test]
    async fn a_placed_order_out_of_stock_is_rejected_without_retry() {
        let shop = MemoryServices::demo();
        let sku = stocked_sku(&shop, 1);
        let order_id = unique("order");
        let event =
            Envelope::new(sources::ORDERS, placed(&order_id, &[(&sku, 2)])).with_sequence(1);

        let pipeline = Pipeline::with_state(inventory, shop.services());
        let result = invoke(&pipeline, &Batch::sqs().event(&event)).await;

        let reason = result.records[0].outcome.reason().expect("rejected");
        assert!(
            matches!(result.records[0].outcome, Outcome::Rejected { .. }),
            "{:?}",
            result.outcomes()
        );
        assert_eq!(
            reason.message,
            format!("not enough `{sku}` in stock: 2 requested, 1 available")
        );
        assert_eq!(shop.stock.available(&sku), 1);
        assert!(reserved_about(&shop, &order_id).is_empty());
    }

    #[tokio::test]
    async fn a_cancelled_order_releases_its_stock() {
        let shop = MemoryServices::demo();
        let sku = stocked_sku(&shop, 10);
        let order_id = unique("order");
        let order = placed(&order_id, &[(&sku, 4)]);
        let placed_event = Envelope::new(sources::ORDERS, order.clone()).with_sequence(1);
        let cancel_event = Envelope::new(sources::ORDERS, cancelled(&order)).with_sequence(2);

        let pipeline = Pipeline::with_state(inventory, shop.services());
        let first = invoke(&pipeline, &Batch::sqs().event(&placed_event)).await;
        assert_eq!(first.outcomes(), [&Outcome::Processed]);
        assert_eq!(shop.stock.available(&sku), 6);

        let second = invoke(&pipeline, &Batch::sqs().event(&cancel_event)).await;
        assert_eq!(second.outcomes(), [&Outcome::Processed]);
        assert_eq!(shop.stock.available(&sku), 10);
        assert_eq!(shop.stock.held_by(&order_id), Vec::new());
    }

    #[tokio::test]
    async fn a_placed_order_arriving_after_its_cancellation_is_stale() {
        let shop = MemoryServices::demo();
        let sku = stocked_sku(&shop, 10);
        let order_id = unique("order");
        let order = placed(&order_id, &[(&sku, 4)]);
        let placed_event = Envelope::new(sources::ORDERS, order.clone()).with_sequence(1);
        let cancel_event = Envelope::new(sources::ORDERS, cancelled(&order)).with_sequence(2);

        let pipeline = Pipeline::with_state(inventory, shop.services());
        let first = invoke(&pipeline, &Batch::sqs().event(&cancel_event)).await;
        assert_eq!(first.outcomes(), [&Outcome::Processed]);
        let late = invoke(&pipeline, &Batch::sqs().event(&placed_event)).await;

        assert_eq!(
            late.outcomes(),
            [&Outcome::Stale {
                sequence: 1,
                newest: 2
            }]
        );
        assert_eq!(shop.stock.available(&sku), 10, "nothing held again");
        assert_eq!(shop.stock.held_by(&order_id), Vec::new());
        assert!(reserved_about(&shop, &order_id).is_empty());
    }

    #[tokio::test]
    async fn in_one_batch_the_older_event_of_an_order_is_stale() {
        let shop = MemoryServices::demo();
        let sku = stocked_sku(&shop, 10);
        let order_id = unique("order");
        let order = placed(&order_id, &[(&sku, 1)]);
        let placed_event = Envelope::new(sources::ORDERS, order.clone()).with_sequence(1);
        let cancel_event = Envelope::new(sources::ORDERS, cancelled(&order)).with_sequence(2);

        let pipeline = Pipeline::with_state(inventory, shop.services());
        let batch = Batch::sqs().event(&cancel_event).event(&placed_event);
        let result = invoke(&pipeline, &batch).await;

        assert_eq!(
            result.outcomes(),
            [
                &Outcome::Processed,
                &Outcome::Stale {
                    sequence: 1,
                    newest: 2
                }
            ]
        );
        assert_eq!(shop.stock.available(&sku), 10);
    }
}
