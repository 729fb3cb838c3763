//! The email service: one order confirmation per order.
//!
//! The idempotency key is the order id, not the event id: a copy of an `OrderPlaced` that the
//! orders API published twice (a retried request, each copy with its own event id) is the same
//! order, and a customer must not get a second confirmation for it.

use shop_events::{Money, OrderPlaced};
use tidings::{Context, Envelope, HandlerError};

use crate::outbox::Email;

/// Sends the confirmation of a placed order, once per order.
#[tidings::event_handler(idempotency_key = "order_id", trigger = "sqs", main = false)]
pub async fn email(
    event: Envelope<OrderPlaced>,
    _ctx: &Context,
    shop: &crate::Services,
) -> Result<(), HandlerError> {
    shop.outbox.send(confirmation(&event.data)).await?;
    Ok(())
}

/// The confirmation email of `order`.
pub fn confirmation(order: &OrderPlaced) -> Email {
    let mut body = format!("Thank you for your order {}.\n\n", order.order_id);
    for line in &order.lines {
        body.push_str(&format!("{} × {}", line.quantity, line.sku));
        if let Some(price) = &line.unit_price {
            body.push_str(&format!(" at {}", amount(price)));
        }
        body.push('\n');
    }
    body.push_str(&format!("\nTotal: {}\n", amount(&order.total)));
    Email {
        customer_id: order.customer_id.clone(),
        order_id: order.order_id.clone(),
        subject: format!("Your order {} is confirmed", order.order_id),
        body,
    }
}

/// `money` for people, e.g. `25.98 EUR`. The shop's currencies all have two decimals.
fn amount(money: &Money) -> String {
    let sign = if money.amount_cents < 0 { "-" } else { "" };
    let cents = money.amount_cents.unsigned_abs();
    format!(
        "{sign}{}.{:02} {}",
        cents / 100,
        cents % 100,
        money.currency
    )
}

#[cfg(test)]
mod tests {
    use shop_events::sources;
    use tidings::testing::{Batch, invoke};
    use tidings::{Outcome, Pipeline};

    use super::*;
    use crate::MemoryServices;
    use crate::test_support::{placed, unique};

    #[test]
    fn the_confirmation_lists_lines_and_total() {
        let message = confirmation(&placed("order-42", &[("mug-blue", 2), ("teapot", 1)]));
        assert_eq!(
            message,
            Email {
                customer_id: "customer-7".into(),
                order_id: "order-42".into(),
                subject: "Your order order-42 is confirmed".into(),
                body: "Thank you for your order order-42.\n\n\
                       2 × mug-blue at 10.00 EUR\n\
                       1 × teapot at 10.00 EUR\n\
                       \nTotal: 30.00 EUR\n"
                    .into(),
            }
        );
    }

    #[test]
    fn amounts_have_two_decimals_and_a_sign() {
        assert_eq!(amount(&Money::eur(5)), "0.05 EUR");
        assert_eq!(amount(&Money::eur(-1250)), "-12.50 EUR");
    }

    #[tokio::test]
    async fn a_duplicated_delivery_sends_one_confirmation() {
        let shop = MemoryServices::demo();
        let order_id = unique("order");
        let event = Envelope::new(sources::ORDERS, placed(&order_id, &[("mug-blue", 1)]));

        let pipeline = Pipeline::with_state(email, shop.services());
        let batch = Batch::sqs().event(&event).duplicate(0);
        let result = invoke(&pipeline, &batch).await;

        assert_eq!(
            result.outcomes(),
            [&Outcome::Processed, &Outcome::Duplicate]
        );
        assert_eq!(shop.outbox.sent_for(&order_id), [confirmation(&event.data)]);
    }

    #[tokio::test]
    async fn an_order_published_again_with_a_new_event_id_sends_no_second_confirmation() {
        let shop = MemoryServices::demo();
        let order_id = unique("order");
        let order = placed(&order_id, &[("teapot", 1)]);
        let first = Envelope::new(sources::ORDERS, order.clone());
        let again = Envelope::new(sources::ORDERS, order.clone());
        assert_ne!(first.id(), again.id());

        let pipeline = Pipeline::with_state(email, shop.services());
        let one = invoke(&pipeline, &Batch::sqs().event(&first)).await;
        let two = invoke(&pipeline, &Batch::sqs().event(&again)).await;
        // And both copies in one batch, once more, as a queue may deliver them.
        let both = invoke(&pipeline, &Batch::sqs().event(&first).event(&again)).await;

        assert_eq!(one.outcomes(), [&Outcome::Processed]);
        assert_eq!(two.outcomes(), [&Outcome::Duplicate]);
        assert_eq!(both.outcomes(), [&Outcome::Duplicate, &Outcome::Duplicate]);
        assert_eq!(shop.outbox.sent_for(&order_id), [confirmation(&order)]);
    }

    #[tokio::test]
    async fn two_copies_of_a_new_order_in_one_batch_send_one_confirmation() {
        let shop = MemoryServices::demo();
        let order_id = unique("order");
        let order = placed(&order_id, &[("teapot", 2)]);
        let first = Envelope::new(sources::ORDERS, order.clone());
        let again = Envelope::new(sources::ORDERS, order.clone());

        let pipeline = Pipeline::with_state(email, shop.services());
        let result = invoke(&pipeline, &Batch::sqs().event(&first).event(&again)).await;

        assert_eq!(
            result.outcomes(),
            [&Outcome::Processed, &Outcome::Duplicate]
        );
        assert_eq!(shop.outbox.sent_for(&order_id), [confirmation(&order)]);
    }
}
