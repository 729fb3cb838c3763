#![deny(warnings)]

use tidings_events::Event;

/// Something happened to a payment.
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[event(type = "shop.payment.changed", version = 1)]
pub enum PaymentChanged {
    /// The payment went through.
    Captured {
        /// The payment.
        payment_id: String,
    },
    /// The payment was refused.
    Declined {
        /// The payment.
        payment_id: String,
        /// Why.
        reason: String,
    },
}

fn main() {
    let event = PaymentChanged::Captured {
        payment_id: "p-1".into(),
    };
    assert_eq!(event.subject(), None);
    assert_eq!(PaymentChanged::TYPE, "shop.payment.changed");
    assert_eq!(
        PaymentChanged::SCHEMA_ID,
        "urn:tidings:schema:shop.payment.changed:v1"
    );
}
