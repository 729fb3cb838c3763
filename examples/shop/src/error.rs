//! [`BackendError`]: a side effect that could not be carried out right now.

/// A backend (stock book, outbox, ledger, event sink, ...) failed in a way that may pass:
/// unreachable, throttled, timed out. Handlers turn it into a transient failure, so the record
/// is retried; the API answers 503.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {backend} is unavailable: {detail}")]
pub struct BackendError {
    /// Which backend, e.g. `event sink`.
    pub backend: &'static str,
    /// What went wrong.
    pub detail: String,
}

impl BackendError {
    /// A failure of `backend`.
    pub fn new(backend: &'static str, detail: impl Into<String>) -> Self {
        Self {
            backend,
            detail: detail.into(),
        }
    }
}
