//! Dead-lettering: rejected records go to a dead-letter queue at once, with the reason, so
//! that nothing is silently dropped and nothing hopeless is retried.

#[cfg(feature = "publisher")]
mod sqs;
#[cfg(feature = "publisher")]
pub use sqs::SqsDeadLetterQueue;

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::Reason;

/// A rejected record on its way to the dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The message id the record had.
    pub message_id: String,
    /// The original body, byte for byte (the envelope, or whatever could not be read).
    pub body: String,
    /// The record's original message attributes.
    pub attributes: BTreeMap<String, String>,
    /// Why it was rejected.
    pub reason: Reason,
    /// The handler that rejected it.
    pub handler: &'static str,
    /// The event id, when the envelope could be read.
    pub event_id: Option<String>,
    /// How many times the record had been received.
    pub receive_count: u32,
}

/// Message attribute names tidings adds to a dead letter.
pub mod attribute {
    /// The reason code, e.g. `unsupported-version`.
    pub const REASON_CODE: &str = "tidings.reason-code";
    /// The reason message.
    pub const REASON: &str = "tidings.reason";
    /// The handler name.
    pub const HANDLER: &str = "tidings.handler";
    /// The event id.
    pub const EVENT_ID: &str = "tidings.event-id";
    /// The receive count.
    pub const RECEIVE_COUNT: &str = "tidings.receive-count";
}

impl DeadLetter {
    /// The message attributes to send with the letter: tidings' own first, then as many of
    /// the original attributes as the SQS limit of 10 leaves room for (sorted by name).
    pub fn message_attributes(&self) -> Vec<(String, String)> {
        const SQS_MAX_ATTRIBUTES: usize = 10;
        let mut attributes = vec![
            (
                attribute::REASON_CODE.to_owned(),
                self.reason.code.to_string(),
            ),
            (attribute::REASON.to_owned(), self.reason.message.clone()),
            (attribute::HANDLER.to_owned(), self.handler.to_owned()),
            (
                attribute::RECEIVE_COUNT.to_owned(),
                self.receive_count.to_string(),
            ),
        ];
        if let Some(id) = &self.event_id {
            attributes.push((attribute::EVENT_ID.to_owned(), id.clone()));
        }
        let room = SQS_MAX_ATTRIBUTES.saturating_sub(attributes.len());
        attributes.extend(
            self.attributes
                .iter()
                .filter(|(name, _)| !name.starts_with("tidings."))
                .take(room)
                .map(|(name, value)| (name.clone(), value.clone())),
        );
        attributes
    }
}

/// Where rejected records go.
#[async_trait::async_trait]
pub trait DeadLetterQueue: Send + Sync + 'static {
    /// Sends the letters; answers per letter, in order. A letter that could not be sent
    /// makes its record a retry, so it is never lost.
    async fn send(&self, letters: &[DeadLetter]) -> Vec<Result<(), String>>;
}

/// A dead-letter queue in memory, for local runs and tests.
#[derive(Debug, Default)]
pub struct MemoryDeadLetterQueue {
    letters: Mutex<Vec<DeadLetter>>,
}

impl MemoryDeadLetterQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// The letters received so far.
    pub fn letters(&self) -> Vec<DeadLetter> {
        self.letters.lock().expect("dead-letter lock").clone()
    }
}

#[async_trait::async_trait]
impl DeadLetterQueue for MemoryDeadLetterQueue {
    async fn send(&self, letters: &[DeadLetter]) -> Vec<Result<(), String>> {
        self.letters
            .lock()
            .expect("dead-letter lock")
            .extend_from_slice(letters);
        letters.iter().map(|_| Ok(())).collect()
    }
}
