//! [`Store`]: where idempotency records and per-subject sequences live.
//!
//! Every method takes the records of a whole batch at once and answers per record, so that
//! a remote backend can serve a batch in a constant number of sequential round trips (its
//! requests for the records in flight together) rather than two or three per record.

#[doc(hidden)]
pub mod conformance;
#[cfg(feature = "dynamodb")]
mod dynamodb;
mod key_hash;
mod memory;

#[cfg(feature = "dynamodb")]
pub use dynamodb::{AttributeNames, DynamoDbStore};
pub(crate) use key_hash::KeyHashing;
pub use memory::{FlakyStore, MemoryStore, StoreOp};

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, the time unit of store records.
pub type EpochMillis = u64;

/// The current time in [`EpochMillis`].
pub fn now_millis() -> EpochMillis {
    to_millis(SystemTime::now())
}

/// A time in [`EpochMillis`].
pub fn to_millis(time: SystemTime) -> EpochMillis {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis() as EpochMillis
}

/// A request to start processing one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The idempotency key, already prefixed with function and handler.
    pub key: String,
    /// A hash of the payload, to catch a key reused for different data.
    pub payload_hash: String,
    /// When the in-progress lock lapses if never completed or released: the Lambda deadline,
    /// so a crashed invocation's record can run again once its invocation is surely over.
    pub lock_expires_at: EpochMillis,
    /// The subject and sequence to check and lock, with `ordering = "latest_wins"`.
    pub ordering: Option<SubjectSequence>,
}

/// A subject (prefixed like keys) and the sequence an event brings it to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectSequence {
    /// The subject key.
    pub subject: String,
    /// The event's sequence.
    pub sequence: u64,
}

/// The answer to a [`Claim`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The lock is ours: run the handler, then complete or release.
    Acquired,
    /// A record with this key completed before, for the same payload.
    Completed,
    /// A record with this key completed or is in progress for a different payload.
    KeyReused,
    /// Another delivery holds the lock until the given time.
    InProgress {
        /// When that lock lapses.
        until: EpochMillis,
    },
    /// The subject already reached this sequence (equal: a duplicate of the same version)
    /// or a later one (stale).
    NotNewer {
        /// The subject's newest processed sequence.
        newest: u64,
    },
    /// Another event of the same subject holds the subject's lock until the given time.
    SubjectBusy {
        /// When that lock lapses.
        until: EpochMillis,
    },
}

/// A request to mark a record done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The idempotency key.
    pub key: String,
    /// When the completed record may be forgotten.
    pub expires_at: EpochMillis,
    /// The subject to advance to the sequence, with `ordering = "latest_wins"`. Advancing
    /// is atomic with the completion and only ever moves forward.
    pub ordering: Option<SubjectSequence>,
}

/// A request to drop a lock after a failure, so a later delivery can run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// The idempotency key.
    pub key: String,
    /// The subject whose lock this record holds, if any.
    pub subject: Option<String>,
}

/// Why the store could not answer for a record. Every store error makes the record a
/// retry: no record runs without its lock.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The backend asked us to slow down.
    #[error("the idempotency store throttled the request: {0}")]
    Throttled(String),
    /// The backend could not be reached or did not answer in time.
    #[error("the idempotency store is unreachable: {0}")]
    Unavailable(String),
    /// The backend refused the request (permissions, missing table, bad configuration).
    #[error(
        "the idempotency store refused the request: {0}; check the table name and the function's permissions"
    )]
    Refused(String),
    /// The lock was lost before completion (it expired and another delivery took it).
    #[error("the lock of `{0}` was lost before completion: the handler ran past its lock expiry")]
    LockLost(String),
}

/// Idempotency records and per-subject sequences.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// Tries to lock every claim; answers per claim, in order.
    async fn claim(
        &self,
        claims: &[Claim],
        now: EpochMillis,
    ) -> Vec<Result<ClaimOutcome, StoreError>>;

    /// Marks records completed (and advances their subjects); answers per record, in order.
    async fn complete(&self, completions: &[Completion]) -> Vec<Result<(), StoreError>>;

    /// Drops the locks of failed records; answers per record, in order.
    async fn release(&self, releases: &[Release]) -> Vec<Result<(), StoreError>>;
}
