//! [`HandlerError`]: what a handler returns when it could not do its work.

use std::fmt;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a handler failed, and whether trying again can help.
///
/// `?` on any error gives a *transient* failure: the record is retried (SQS redelivers it, and
/// after the queue's `maxReceiveCount` it lands in the queue's dead-letter queue). Return
/// [`HandlerError::permanent`] for a record that can never succeed (a business rule says no):
/// it is not retried, and goes to the dead-letter queue at once when one is configured.
pub struct HandlerError {
    permanent: bool,
    source: BoxError,
}

impl HandlerError {
    /// A failure that may pass: a timeout, a throttled or unavailable dependency.
    pub fn transient(source: impl Into<BoxError>) -> Self {
        Self {
            permanent: false,
            source: source.into(),
        }
    }

    /// A failure that will never pass for this record: it is rejected, not retried.
    pub fn permanent(source: impl Into<BoxError>) -> Self {
        Self {
            permanent: true,
            source: source.into(),
        }
    }

    /// Whether the record should be rejected rather than retried.
    pub fn is_permanent(&self) -> bool {
        self.permanent
    }

    /// The underlying error.
    pub fn source(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.source
    }
}

/// Any error converts into a transient failure, so `?` retries by default: retrying a
/// record that could have been rejected costs a few deliveries; rejecting one that could
/// have succeeded loses it.
impl<E: Into<BoxError>> From<E> for HandlerError {
    fn from(source: E) -> Self {
        Self::transient(source)
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.source, f)
    }
}

impl fmt::Debug for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlerError")
            .field("permanent", &self.permanent)
            .field("source", &self.source)
            .finish()
    }
}
