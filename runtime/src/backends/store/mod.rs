//! [`Store`]: where idempotency records and per-subject sequences live.
//!
//! Every method takes the records of a whole batch at once and answers per record, so that
//! a remote backend can serve a batch in a constant number of sequential round trips (its
//! requests for the records in flight together) rather than two or three per record.

#[cfg(feature = "dynamodb")]
mod dynamodb;
mod key_hash;
mod memory;

#[cfg(feature = "dynamodb")]
pub use dynamodb::{AttributeNames, DynamoDbStore};
pub(crate) use key_hash::KeyHashing;
pub use memory::MemoryStore;

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

/// The fencing token of one claim: who holds a lock. Every claim gets a new one, and
/// completing or releasing a lock is conditional on still holding it, so a late write from a
/// delivery whose lock was taken over is refused instead of ending the new holder's lock.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LockOwner(String);

impl LockOwner {
    /// A token no other claim has had: 64 random bits drawn once per process, and a
    /// per-process counter.
    pub fn new() -> Self {
        use std::hash::{BuildHasher, Hasher};
        use std::sync::OnceLock;
        use std::sync::atomic::{AtomicU64, Ordering};
        static PROCESS: OnceLock<u64> = OnceLock::new();
        static NEXT: AtomicU64 = AtomicU64::new(0);
        // `RandomState` is seeded from the operating system's randomness.
        let process = *PROCESS.get_or_init(|| {
            std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish()
        });
        let count = NEXT.fetch_add(1, Ordering::Relaxed);
        Self(format!("{process:016x}-{count:x}"))
    }

    /// A token with a given text: for tests that need to name owners.
    pub fn from_text(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The token as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for LockOwner {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for LockOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A request to start processing one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The idempotency key, already prefixed with function and handler.
    pub key: String,
    /// A hash of the payload, to catch a key reused for different data.
    pub payload_hash: String,
    /// Who takes the lock: completion and release must name the same owner.
    pub owner: LockOwner,
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
    /// The subject's mark is already at this sequence or a later one: the event is stale
    /// (at an equal sequence it is another event claiming the same version of the subject,
    /// since a copy of the same event answers by its key first). The mark is the newest
    /// sequence whose effect may have been applied: it moves when an event is claimed, not
    /// when it completes.
    NotNewer {
        /// The subject's mark.
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
    /// The owner named by the claim; a completion by anyone else is refused.
    pub owner: LockOwner,
    /// When the completed record may be forgotten.
    pub expires_at: EpochMillis,
    /// The subject whose lock the record holds, with `ordering = "latest_wins"`: the
    /// completion frees it and marks its sequence finished.
    pub subject: Option<String>,
}

/// A request to drop a lock after a failure, so a later delivery can run.
///
/// Under `latest_wins` the subject keeps its mark: the failed run may have applied its effect
/// before it failed (a panic, a cancellation, an error after a write), so no older event may
/// run after it. The same event, redelivered, may claim the subject again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// The idempotency key.
    pub key: String,
    /// The owner named by the claim; a release by anyone else is refused.
    pub owner: LockOwner,
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
    /// Another delivery wrote the same item at the same moment and the backend cancelled
    /// this write (a DynamoDB transaction conflict): contention, not an outage.
    #[error("the idempotency store cancelled the write for a concurrent one: {0}")]
    Contended(String),
    /// The backend refused the request (permissions, missing table, bad configuration).
    #[error(
        "the idempotency store refused the request: {0}; check the table name and the function's permissions"
    )]
    Refused(String),
    /// The lock is no longer the caller's: it lapsed and another delivery took it over, or it
    /// was already completed or released. The write was refused, not applied.
    #[error(
        "the lock of `{0}` is no longer held by this delivery (it lapsed and another delivery \
         took it, or it was already completed or released); the write was refused"
    )]
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
