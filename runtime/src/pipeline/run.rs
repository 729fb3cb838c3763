//! Calling the user's handler, guarded: a panic or a run past the deadline margin becomes a
//! retry of that record, never a failed invocation.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, SystemTime};

use futures_util::FutureExt;
use tidings_events::Envelope;

use crate::Context;
use crate::handler::EventHandler;
use crate::handler::causation::Cause;
use crate::pipeline::outcome::{Outcome, ReasonCode};

/// Runs the handler on one event and turns what happens into an outcome; `cause` is what the
/// event passes on to the events it causes, ambient while the handler runs.
pub(crate) async fn call<H: EventHandler>(
    handler: &H,
    state: &H::State,
    envelope: Envelope<H::Events>,
    cause: Arc<Cause>,
    ctx: &Context,
    margin: Duration,
) -> Outcome {
    let guarded = AssertUnwindSafe(crate::handler::causation::with_shared_cause(
        cause,
        handler.handle(envelope, ctx, state),
    ))
    .catch_unwind();
    let mut guarded = pin!(guarded);
    let first = std::future::poll_fn(|cx| Poll::Ready(guarded.as_mut().poll(cx))).await;
    let finished = match first {
        Poll::Ready(finished) => Ok(finished),
        Poll::Pending => {
            // The budget is taken from the deadline only now: a handler that finishes on its
            // first poll (most do) costs no clock read and no timer. Tokio's timeout polls
            // its future before its timer too, so a handler that finishes at once was never
            // cancelled, whatever the budget.
            let budget = ctx
                .deadline
                .duration_since(SystemTime::now())
                .unwrap_or_default()
                .saturating_sub(margin);
            tokio::time::timeout(budget, guarded).await
        }
    };
    match finished {
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
