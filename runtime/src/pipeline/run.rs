//! Calling the user's handler, guarded: a panic or a run past the deadline margin becomes a
//! retry of that record, never a failed invocation.

use std::panic::AssertUnwindSafe;
use std::time::{Duration, SystemTime};

use futures_util::FutureExt;
use tidings_events::Envelope;

use crate::Context;
use crate::handler::EventHandler;
use crate::outcome::{Outcome, ReasonCode};

/// Runs the handler on one event and turns what happens into an outcome.
pub(crate) async fn call<H: EventHandler>(
    handler: &H,
    envelope: Envelope<H::Events>,
    ctx: &Context,
    margin: Duration,
) -> Outcome {
    let budget = ctx
        .deadline
        .duration_since(SystemTime::now())
        .unwrap_or_default()
        .saturating_sub(margin);
    let cause = envelope.attributes.clone();
    let guarded = AssertUnwindSafe(crate::causation::with_cause(
        cause,
        handler.handle(envelope, ctx),
    ))
    .catch_unwind();
    match tokio::time::timeout(budget, guarded).await {
        Ok(Ok(Ok(()))) => Outcome::Processed,
        Ok(Ok(Err(error))) if error.is_permanent() => {
            Outcome::rejected(ReasonCode::HandlerRejected, error.to_string())
        }
        Ok(Ok(Err(error))) => Outcome::retry(ReasonCode::HandlerFailed, error.to_string()),
        Ok(Err(panic)) => Outcome::retry(
            ReasonCode::HandlerPanicked,
            format!("the handler panicked: {}", panic_message(&*panic)),
        ),
        Err(_) => Outcome::retry(
            ReasonCode::DeadlineExceeded,
            format!(
                "the handler did not finish {} ms before the Lambda deadline and was cancelled; \
                 its lock was released so a later delivery can run",
                margin.as_millis()
            ),
        ),
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(a non-string panic payload)")
}
