//! The in-memory store: the embedded default for local runs and tests.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::{
    Claim, ClaimOutcome, Completion, EpochMillis, KeyHashing, LockOwner, Release, Store,
    StoreError, SubjectSequence,
};

/// Below this many entries no purge runs: scanning a small map saves nothing.
const MIN_PURGE_THRESHOLD: usize = 1024;

/// Idempotency records and subject sequences held in process memory.
///
/// It behaves as the shared store of every Lambda instance would, within one process: all
/// decisions are taken under one lock, so each claim, completion and release is atomic, and
/// the records of one call are handled in order (a later record of a batch sees the effect of
/// an earlier one). Expiry is judged by the `now` given to [`Store::claim`], never by the
/// system clock, so tests control time.
///
/// Expiry is inclusive, as in the Powertools table: a completed record is live while
/// `now <= expires_at` and a lock is held while `now <= lock_expires_at`.
///
/// # Memory
///
/// Idempotency records are dropped when released, and otherwise kept until they expire.
/// Expired records are purged by [`Store::claim`] once the number of entries has doubled since
/// the last purge (and is at least 1024), so purging costs amortised constant time per claim
/// and memory stays within about twice the entries that were live at the last purge, plus
/// those that expired less than [`MemoryStore::PURGE_GRACE_MS`] before it.
///
/// A subject's newest sequence is kept for the life of the store: forgetting it would let a
/// late, older event of that subject through. Memory therefore grows by one small entry per
/// distinct subject ever claimed, which suits local runs and tests, not unbounded streams of
/// subjects in a long-lived process.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    records: HashMap<String, KeyRecord, KeyHashing>,
    subjects: HashMap<String, SubjectRecord, KeyHashing>,
    /// The entry count at which the next claim purges; zero until the first purge.
    purge_at: usize,
}

#[derive(Debug, Clone)]
struct KeyRecord {
    payload_hash: String,
    /// The claim that took the record; only it may complete or release it.
    owner: LockOwner,
    status: KeyStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyStatus {
    InProgress { lock_expires_at: EpochMillis },
    Completed { expires_at: EpochMillis },
}

impl KeyRecord {
    /// Whether the record no longer counts at `now`: a completed record past its expiry, or a
    /// lock its holder never completed nor released before it lapsed.
    fn is_expired(&self, now: EpochMillis) -> bool {
        match self.status {
            KeyStatus::InProgress { lock_expires_at } => lock_expires_at < now,
            KeyStatus::Completed { expires_at } => expires_at < now,
        }
    }
}

/// A subject under `latest_wins`.
#[derive(Debug, Clone, Default)]
struct SubjectRecord {
    /// The mark: the newest sequence whose effect may have been applied. It moves forward
    /// when an event is claimed, so that nothing that fails afterwards can let an older event
    /// through; `None` until an event is claimed.
    newest: Option<u64>,
    /// The key of the event that set the mark, until it completes: that event, redelivered
    /// after a failure or a crash, may claim the subject again at the same sequence.
    unfinished: Option<String>,
    /// The live claim on the subject, if any.
    lock: Option<SubjectLock>,
}

#[derive(Debug, Clone)]
struct SubjectLock {
    owner: LockOwner,
    until: EpochMillis,
}

impl MemoryStore {
    /// How long after its expiry a record stays in memory before a purge may drop it.
    ///
    /// Expiry decisions are made from each claim's own `now`, and concurrent callers' clocks
    /// differ a little. Without this margin, a purge triggered by a caller whose clock runs
    /// ahead could drop a record that a caller with a slightly earlier `now` still sees as live.
    pub const PURGE_GRACE_MS: EpochMillis = 60_000;

    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The mark of `subject`, if any: the newest sequence claimed (whose effect may have been
    /// applied), what a stale event is compared with. Lets tests check that a subject
    /// advanced, and never backwards.
    pub fn newest(&self, subject: &str) -> Option<u64> {
        self.lock()
            .subjects
            .get(subject)
            .and_then(|record| record.newest)
    }

    /// How many idempotency records are held, including expired ones not yet purged.
    pub fn record_count(&self) -> usize {
        self.lock().records.len()
    }

    /// Drops every idempotency record that expired more than [`MemoryStore::PURGE_GRACE_MS`] before `now`,
    /// and every lapsed subject lock. Claims call this on their own when the store has grown;
    /// calling it by hand only makes memory use predictable.
    pub fn purge_expired(&self, now: EpochMillis) {
        self.lock().purge(now);
    }

    /// Takes the lock even if a thread panicked while holding it: every change to the state
    /// is made by code that cannot panic halfway, so the state is consistent either way.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    fn entry_count(&self) -> usize {
        self.records.len() + self.subjects.len()
    }

    fn maybe_purge(&mut self, now: EpochMillis) {
        if self.entry_count() >= self.purge_at.max(MIN_PURGE_THRESHOLD) {
            self.purge(now);
        }
    }

    fn purge(&mut self, now: EpochMillis) {
        let horizon = now.saturating_sub(MemoryStore::PURGE_GRACE_MS);
        self.records.retain(|_, record| !record.is_expired(horizon));
        for record in self.subjects.values_mut() {
            if record
                .lock
                .as_ref()
                .is_some_and(|lock| lock.until < horizon)
            {
                record.lock = None;
            }
        }
        // Doubling the threshold makes each purge pay for itself: at least half of the
        // entries scanned next time were added after this purge.
        self.purge_at = self.entry_count().saturating_mul(2);
    }

    fn claim(&mut self, claim: &Claim, now: EpochMillis) -> ClaimOutcome {
        // The idempotency record decides first: a completed or running copy of this event
        // answers for itself, whatever its subject's state.
        if let Some(record) = self.records.get(&claim.key)
            && !record.is_expired(now)
        {
            if record.payload_hash != claim.payload_hash {
                return ClaimOutcome::KeyReused;
            }
            if record.owner == claim.owner
                && let KeyStatus::InProgress { .. } = record.status
            {
                // This very claim, made again (its first answer was lost): it holds the lock.
                return ClaimOutcome::Acquired;
            }
            return match record.status {
                KeyStatus::Completed { .. } => ClaimOutcome::Completed,
                KeyStatus::InProgress { lock_expires_at } => ClaimOutcome::InProgress {
                    until: lock_expires_at,
                },
            };
        }

        // Check the subject before writing anything, so that a refusal leaves no half-taken
        // state behind.
        if let Some(ordering) = &claim.ordering
            && let Some(refusal) = self.subject_refusal(&claim.key, ordering, now)
        {
            return refusal;
        }

        self.records.insert(
            claim.key.clone(),
            KeyRecord {
                payload_hash: claim.payload_hash.clone(),
                owner: claim.owner.clone(),
                status: KeyStatus::InProgress {
                    lock_expires_at: claim.lock_expires_at,
                },
            },
        );
        if let Some(ordering) = &claim.ordering {
            let subject = self.subjects.entry(ordering.subject.clone()).or_default();
            subject.newest = Some(ordering.sequence);
            subject.unfinished = Some(claim.key.clone());
            subject.lock = Some(SubjectLock {
                owner: claim.owner.clone(),
                until: claim.lock_expires_at,
            });
        }
        ClaimOutcome::Acquired
    }

    /// Why the subject cannot be claimed for `key` at this sequence, if it cannot.
    fn subject_refusal(
        &self,
        key: &str,
        ordering: &SubjectSequence,
        now: EpochMillis,
    ) -> Option<ClaimOutcome> {
        let record = self.subjects.get(&ordering.subject)?;
        // The same event may take its own unfinished mark again: its idempotency record,
        // checked first, already says that no live delivery of it holds the lock.
        let own_mark = record.unfinished.as_deref() == Some(key);
        if let Some(newest) = record.newest
            && (newest > ordering.sequence || (newest == ordering.sequence && !own_mark))
        {
            return Some(ClaimOutcome::NotNewer { newest });
        }
        match &record.lock {
            Some(lock) if !own_mark && lock.until >= now => {
                Some(ClaimOutcome::SubjectBusy { until: lock.until })
            }
            _ => None,
        }
    }

    /// Whether `owner` holds the in-progress lock of `key`.
    fn holds(&self, key: &str, owner: &LockOwner) -> bool {
        self.records.get(key).is_some_and(|record| {
            record.owner == *owner && matches!(record.status, KeyStatus::InProgress { .. })
        })
    }

    fn complete(&mut self, completion: &Completion) -> Result<(), StoreError> {
        let lost = || Err(StoreError::LockLost(completion.key.clone()));
        let Some(record) = self.records.get(&completion.key) else {
            return lost();
        };
        if record.owner != completion.owner {
            return lost();
        }
        if let KeyStatus::Completed { .. } = record.status {
            // This owner completed it already: a repeated completion (its first answer was
            // lost) changes nothing.
            return Ok(());
        }
        // The record and the subject end together, as one transaction would end them: a
        // subject taken over by a newer event refuses the whole completion.
        let subject = match &completion.subject {
            Some(subject) => match self.subjects.get_mut(subject) {
                Some(subject)
                    if subject
                        .lock
                        .as_ref()
                        .is_some_and(|lock| lock.owner == completion.owner) =>
                {
                    Some(subject)
                }
                _ => return lost(),
            },
            None => None,
        };
        if let Some(subject) = subject {
            subject.lock = None;
            subject.unfinished = None;
        }
        if let Some(record) = self.records.get_mut(&completion.key) {
            record.status = KeyStatus::Completed {
                expires_at: completion.expires_at,
            };
        }
        Ok(())
    }

    fn release(&mut self, release: &Release) -> Result<(), StoreError> {
        let mut refused = false;
        match self.records.get(&release.key) {
            Some(_) if self.holds(&release.key, &release.owner) => {
                self.records.remove(&release.key);
            }
            // Nothing to release: it was released already, or never taken.
            None => {}
            Some(_) => refused = true,
        }
        if let Some(subject) = &release.subject
            && let Some(record) = self.subjects.get_mut(subject)
        {
            match &record.lock {
                Some(lock) if lock.owner == release.owner => record.lock = None,
                Some(_) => refused = true,
                None => {}
            }
        }
        if refused {
            Err(StoreError::LockLost(release.key.clone()))
        } else {
            Ok(())
        }
    }
}

#[async_trait::async_trait]
impl Store for MemoryStore {
    async fn claim(
        &self,
        claims: &[Claim],
        now: EpochMillis,
    ) -> Vec<Result<ClaimOutcome, StoreError>> {
        let mut state = self.lock();
        state.maybe_purge(now);
        claims
            .iter()
            .map(|claim| Ok(state.claim(claim, now)))
            .collect()
    }

    async fn complete(&self, completions: &[Completion]) -> Vec<Result<(), StoreError>> {
        let mut state = self.lock();
        completions
            .iter()
            .map(|completion| state.complete(completion))
            .collect()
    }

    async fn release(&self, releases: &[Release]) -> Vec<Result<(), StoreError>> {
        let mut state = self.lock();
        releases
            .iter()
            .map(|release| state.release(release))
            .collect()
    }
}
