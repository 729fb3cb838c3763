use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tidings_events::Event;

use crate::Money;

/// The payment provider captured the money for an order.
///
/// Its subject is the order, so that on the FIFO payments queue all payment events of one
/// order are one message group, processed in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "shop.payment.captured", version = 1)]
#[schemars(example = example_payment_captured())]
pub struct PaymentCaptured {
    /// The order paid for.
    #[event(subject)]
    pub order_id: String,
    /// The provider's payment id.
    pub payment_id: String,
    /// The amount captured.
    pub amount: Money,
}

fn example_payment_captured() -> PaymentCaptured {
    PaymentCaptured {
        order_id: "order-42".into(),
        payment_id: "pay-9f3c".into(),
        amount: Money::eur(2598),
    }
}
