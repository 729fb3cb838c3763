// A misspelt key field is reported at the name with the field meant; the compiler's
// suggestion writes it bare, `idempotency_key = payment_id`, which the attribute accepts.
use tidings::{Context, Envelope, HandlerError};

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
#[event(type = "ui.payment.captured", version = 1)]
pub struct PaymentCaptured {
    #[event(subject)]
    pub payment_id: String,
    pub amount_cents: i64,
}

#[tidings::event_handler(idempotency_key = "paymentid", main = false)]
async fn capture(_event: Envelope<PaymentCaptured>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

fn main() {}
