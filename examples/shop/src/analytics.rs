//! The analytics service: counts every order event by type, and by type per order.
//!
//! It subscribes to the whole order flow and must keep working when producers add event
//! types it has not learnt yet: those are acknowledged and skipped (`on_unknown_type =
//! "ignore"`) rather than dead-lettered.

use shop_events::{OrderCancelled, OrderPlaced, PaymentCaptured, StockReserved};
use tidings::{Context, Envelope, EventSet, HandlerError};

/// Every event of an order's life.
#[derive(Debug, EventSet)]
pub enum OrderEvent {
    /// An order was placed.
    Placed(OrderPlaced),
    /// An order was cancelled.
    Cancelled(OrderCancelled),
    /// An order was paid.
    PaymentCaptured(PaymentCaptured),
    /// An order's stock was reserved.
    StockReserved(StockReserved),
}

impl OrderEvent {
    /// The order the event is about, read from the data so that it does not depend on the
    /// producer setting the envelope's subject.
    pub fn order_id(&self) -> &str {
        match self {
            Self::Placed(event) => &event.order_id,
            Self::Cancelled(event) => &event.order_id,
            Self::PaymentCaptured(event) => &event.order_id,
            Self::StockReserved(event) => &event.order_id,
        }
    }
}

/// Counts order events.
#[tidings::event_handler(on_unknown_type = "ignore", trigger = "sqs", main = false)]
pub async fn analytics(
    event: Envelope<OrderEvent>,
    _ctx: &Context,
    shop: &crate::Services,
) -> Result<(), HandlerError> {
    shop.counter
        .count(&event.attributes.event_type, Some(event.data.order_id()))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use shop_events::{CustomerProfile, CustomerProfileUpdated, Money, Reservation, sources};
    use tidings::testing::{Batch, invoke};
    use tidings::{Outcome, Pipeline};

    use super::*;
    use crate::MemoryServices;
    use crate::test_support::{cancelled, placed, unique};

    #[tokio::test]
    async fn each_order_event_type_is_counted_once_and_another_type_is_ignored() {
        let shop = MemoryServices::demo();
        let order_id = unique("order");
        let order = placed(&order_id, &[("mug-red", 1)]);
        let customer_id = unique("customer");
        let profile = CustomerProfileUpdated {
            customer_id: customer_id.clone(),
            changed: Vec::new(),
            profile: CustomerProfile {
                email: "ada@example.com".into(),
                display_name: "Ada".into(),
                shipping_address: None,
                marketing_opt_in: false,
            },
        };
        let batch = Batch::sqs()
            .event(&Envelope::new(sources::ORDERS, order.clone()))
            .event(&Envelope::new(
                sources::INVENTORY,
                StockReserved {
                    order_id: order_id.clone(),
                    reservations: vec![Reservation {
                        sku: "mug-red".into(),
                        quantity: 1,
                        warehouse: "w".into(),
                    }],
                },
            ))
            .event(&Envelope::new(
                sources::PAYMENTS,
                PaymentCaptured {
                    order_id: order_id.clone(),
                    payment_id: "pay-1".into(),
                    amount: Money::eur(1000),
                },
            ))
            .event(&Envelope::new(sources::ORDERS, cancelled(&order)))
            .event(&Envelope::new(sources::CUSTOMERS, profile))
            .duplicate(0);

        let pipeline = Pipeline::with_state(analytics, shop.services());
        let result = invoke(&pipeline, &batch).await;

        assert_eq!(
            result.outcomes(),
            [
                &Outcome::Processed,
                &Outcome::Processed,
                &Outcome::Processed,
                &Outcome::Processed,
                &Outcome::Ignored,
                &Outcome::Duplicate,
            ]
        );
        assert_eq!(result.sqs_response().unwrap().batch_item_failures, []);
        let counter = &shop.counter;
        for event_type in [
            "shop.order.placed",
            "shop.stock.reserved",
            "shop.payment.captured",
            "shop.order.cancelled",
        ] {
            assert_eq!(
                counter.for_subject(event_type, &order_id),
                1,
                "{event_type}"
            );
        }
        assert_eq!(
            counter.for_subject("shop.customer.profile.updated", &customer_id),
            0
        );
        assert_eq!(counter.total("shop.customer.profile.updated"), 0);
    }
}
