//! The payments service: marks orders paid as their payments are captured.
//!
//! It reads a FIFO queue whose message group is the order (the subject of `PaymentCaptured`),
//! so the captures of one order are recorded in the order they were captured, while other
//! orders proceed in parallel. When a capture of an order fails, the pipeline holds back the
//! order's later captures of the batch (`group-blocked`) so they are retried after it.

use shop_events::PaymentCaptured;
use tidings::{Context, Envelope, HandlerError};

use crate::ledger::Capture;

/// A `PaymentCaptured` that no ledger should record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "payment `{payment_id}` of order `{order_id}` captures {amount_cents} cents: a capture must \
     be positive (refunds are not captures)"
)]
pub struct NotACapture {
    /// The order.
    pub order_id: String,
    /// The payment.
    pub payment_id: String,
    /// The amount it claims, in minor units.
    pub amount_cents: i64,
}

/// Records captured payments, marking their orders paid.
#[tidings::event_handler(trigger = "sqs", main = false)]
pub async fn payments(
    event: Envelope<PaymentCaptured>,
    _ctx: &Context,
    shop: &crate::Services,
) -> Result<(), HandlerError> {
    let captured = event.data;
    if captured.amount.amount_cents <= 0 {
        // A retry would refuse it again: reject it at once.
        return Err(HandlerError::permanent(NotACapture {
            order_id: captured.order_id,
            payment_id: captured.payment_id,
            amount_cents: captured.amount.amount_cents,
        }));
    }
    let capture = Capture {
        payment_id: captured.payment_id,
        amount: captured.amount,
    };
    shop.payments.record(&captured.order_id, capture).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use shop_events::{Money, sources};
    use tidings::testing::{Batch, invoke};
    use tidings::{Outcome, Pipeline, ReasonCode};

    use super::*;
    use crate::MemoryServices;
    use crate::test_support::unique;

    fn captured(order_id: &str, payment_id: &str, cents: i64) -> Envelope<PaymentCaptured> {
        Envelope::new(
            sources::PAYMENTS,
            PaymentCaptured {
                order_id: order_id.to_owned(),
                payment_id: payment_id.to_owned(),
                amount: Money::eur(cents),
            },
        )
    }

    fn failed_ids(result: &tidings::BatchResult) -> Vec<String> {
        result
            .sqs_response()
            .unwrap()
            .batch_item_failures
            .into_iter()
            .map(|failure| failure.item_identifier)
            .collect()
    }

    #[tokio::test]
    async fn captures_of_an_order_are_recorded_in_order() {
        let shop = MemoryServices::demo();
        let order_id = unique("order");
        let batch = Batch::sqs_fifo()
            .event(&captured(&order_id, "pay-1", 1000))
            .event(&captured(&order_id, "pay-2", 500));

        let result = invoke(&Pipeline::with_state(payments, shop.services()), &batch).await;

        assert_eq!(
            result.outcomes(),
            [&Outcome::Processed, &Outcome::Processed]
        );
        assert!(shop.payments.is_paid(&order_id));
        assert_eq!(
            shop.payments.captures(&order_id),
            [
                Capture {
                    payment_id: "pay-1".into(),
                    amount: Money::eur(1000)
                },
                Capture {
                    payment_id: "pay-2".into(),
                    amount: Money::eur(500)
                },
            ]
        );
    }

    #[tokio::test]
    async fn a_failing_capture_blocks_the_rest_of_its_order_while_another_order_proceeds() {
        let shop = MemoryServices::demo();
        let blocked = unique("order");
        let other = unique("order");
        let batch = Batch::sqs_fifo()
            .event(&captured(&blocked, "pay-bad", 0))
            .event(&captured(&other, "pay-other", 700))
            .event(&captured(&blocked, "pay-later", 1000));

        let result = invoke(&Pipeline::with_state(payments, shop.services()), &batch).await;

        let outcomes = result.outcomes();
        assert_eq!(
            *outcomes[0],
            Outcome::rejected(
                ReasonCode::HandlerRejected,
                format!(
                    "payment `pay-bad` of order `{blocked}` captures 0 cents: a capture must be \
                     positive (refunds are not captures)"
                )
            )
        );
        assert_eq!(*outcomes[1], Outcome::Processed);
        let held_back = outcomes[2].reason().expect("retried");
        assert!(matches!(outcomes[2], Outcome::Retry(_)), "{outcomes:?}");
        assert_eq!(held_back.code, ReasonCode::GroupBlocked);
        // SQS is told to deliver the failed capture and the one held back again.
        assert_eq!(failed_ids(&result), ["msg-0", "msg-2"]);
        assert!(!shop.payments.is_paid(&blocked));
        assert_eq!(shop.payments.captures(&blocked), []);
        assert_eq!(
            shop.payments.captures(&other),
            [Capture {
                payment_id: "pay-other".into(),
                amount: Money::eur(700)
            }]
        );
    }
}
