//! The event being handled, as ambient context: events published while a handler runs join
//! its flow (same correlation id, causation id = its id) without the handler passing anything.

use std::future::Future;
use std::sync::Arc;

use tidings_events::Attributes;

tokio::task_local! {
    // Shared: the pipeline keeps the same attributes for the record's result, so the cause
    // costs no copy of its own.
    static CAUSE: Arc<Attributes>;
}

/// The attributes of the event the current handler is handling, if called inside one.
pub fn current_cause() -> Option<Attributes> {
    CAUSE.try_with(|cause| Attributes::clone(cause)).ok()
}

/// Runs `future` with `cause` as the event being handled.
pub async fn with_cause<F: Future>(cause: Attributes, future: F) -> F::Output {
    with_shared_cause(Arc::new(cause), future).await
}

/// [`with_cause`] with attributes the caller keeps a share of. Not an `async fn`, so that the
/// handler's future is moved into the scope once rather than through one more state machine.
pub(crate) fn with_shared_cause<F: Future>(
    cause: Arc<Attributes>,
    future: F,
) -> impl Future<Output = F::Output> {
    CAUSE.scope(cause, future)
}
