//! The event being handled, as ambient context: events published while a handler runs join
//! its flow (same correlation id, causation id = its id) without the handler passing anything.

use std::future::Future;

use tidings_events::Attributes;

tokio::task_local! {
    static CAUSE: Attributes;
}

/// The attributes of the event the current handler is handling, if called inside one.
pub fn current_cause() -> Option<Attributes> {
    CAUSE.try_with(Clone::clone).ok()
}

/// Runs `future` with `cause` as the event being handled.
pub async fn with_cause<F: Future>(cause: Attributes, future: F) -> F::Output {
    CAUSE.scope(cause, future).await
}
