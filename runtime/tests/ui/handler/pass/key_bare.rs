// `idempotency_key = field`, bare, as the compiler's suggestion for a misspelt field writes it.
use tidings::{Context, Envelope, EventHandler, HandlerError};

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
#[event(type = "ui.payment.captured", version = 1)]
pub struct PaymentCaptured {
    #[event(subject)]
    pub payment_id: String,
    pub amount_cents: i64,
}

#[tidings::event_handler(idempotency_key = payment_id, main = false)]
async fn capture(_event: Envelope<PaymentCaptured>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

fn main() {
    assert_eq!(capture::OPTIONS.idempotency_key, Some("payment_id"));
    let event = Envelope::new(
        "payments",
        PaymentCaptured {
            payment_id: "pay-9".into(),
            amount_cents: 100,
        },
    );
    assert_eq!(capture::idempotency_key(&event).as_deref(), Some("pay-9"));
}
