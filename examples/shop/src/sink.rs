//! [`EventSink`]: where the events a service publishes go.
//!
//! Services build typed envelopes with [`envelope`] and hand them to [`publish`]; the sink
//! sees them with their data as JSON, so one object-safe trait serves every event type. In
//! memory ([`MemoryEventSink`]) they are kept in a list the demo routes to the consumers; on
//! AWS (feature `aws`) [`PublisherSink`] sends them through tidings' publisher.

use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use serde_json::Value;
use tidings::current_cause;
use tidings::{Envelope, Event};

use crate::BackendError;

#[cfg(feature = "aws")]
pub use crate::publisher_sink::PublisherSink;

/// Publishes events.
#[async_trait]
pub trait EventSink: Send + Sync {
    /// Publishes `envelope`. An error means it may not have been published and the caller
    /// should undo or retry what depends on it.
    async fn publish(&self, envelope: Envelope<Value>) -> Result<(), BackendError>;
}

/// A new envelope for `event` from `source`. Inside a handler it joins the flow of the event
/// being handled (its correlation id; causation id = that event's id), so a flow can be
/// followed across services without the handler passing ids.
pub fn envelope<E: Event>(source: &str, event: E) -> Envelope<E> {
    let envelope = Envelope::new(source, event);
    match current_cause() {
        Some(cause) => cause.join(envelope),
        None => envelope,
    }
}

/// Publishes a typed envelope to `sink`.
pub async fn publish<E: Event>(
    sink: &dyn EventSink,
    envelope: Envelope<E>,
) -> Result<(), BackendError> {
    let data = serde_json::to_value(&envelope.data).map_err(|error| {
        BackendError::new(
            "event sink",
            format!("the event does not serialize: {error}"),
        )
    })?;
    sink.publish(Envelope {
        attributes: envelope.attributes,
        data,
    })
    .await
}

/// A sink that keeps what is published, in order, for tests and the local demo.
#[derive(Debug, Default)]
pub struct MemoryEventSink {
    published: Mutex<Vec<Envelope<Value>>>,
}

impl MemoryEventSink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything published and not yet taken, in order.
    pub fn published(&self) -> Vec<Envelope<Value>> {
        self.list().clone()
    }

    /// What was published about `subject` and not yet taken, in order.
    pub fn published_about(&self, subject: &str) -> Vec<Envelope<Value>> {
        self.list()
            .iter()
            .filter(|envelope| envelope.subject() == Some(subject))
            .cloned()
            .collect()
    }

    /// Takes everything published so far, leaving the sink empty: what the demo routes to
    /// the consumers next.
    pub fn take(&self) -> Vec<Envelope<Value>> {
        std::mem::take(&mut *self.list())
    }

    fn list(&self) -> MutexGuard<'_, Vec<Envelope<Value>>> {
        self.published
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl EventSink for MemoryEventSink {
    async fn publish(&self, envelope: Envelope<Value>) -> Result<(), BackendError> {
        self.list().push(envelope);
        Ok(())
    }
}
