//! The in-memory store: the embedded default for local runs and tests, and [`FlakyStore`], a
//! wrapper that makes any store fail on demand so the pipeline's retry paths can be tested.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::{
    Claim, ClaimOutcome, Completion, EpochMillis, KeyHashing, Release, Store, StoreError,
    SubjectSequence,
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
/// distinct subject ever completed, which suits local runs and tests, not unbounded streams of
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

#[derive(Debug, Clone, Default)]
struct SubjectRecord {
    /// The highest sequence completed; `None` until one is.
    newest: Option<u64>,
    lock: Option<SubjectLock>,
}

#[derive(Debug, Clone)]
struct SubjectLock {
    holder: String,
    until: EpochMillis,
}

impl SubjectRecord {
    /// Whether this record carries nothing worth keeping at `now`.
    fn is_empty(&self, now: EpochMillis) -> bool {
        self.newest.is_none() && self.lock.as_ref().is_none_or(|lock| lock.until < now)
    }
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

    /// The newest sequence completed for `subject`, if any: what a stale event is compared
    /// with. Lets tests check that a subject advanced, and never backwards.
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
        self.subjects.retain(|_, record| !record.is_empty(horizon));
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
                status: KeyStatus::InProgress {
                    lock_expires_at: claim.lock_expires_at,
                },
            },
        );
        if let Some(ordering) = &claim.ordering {
            self.subjects
                .entry(ordering.subject.clone())
                .or_default()
                .lock = Some(SubjectLock {
                holder: claim.key.clone(),
                until: claim.lock_expires_at,
            });
        }
        ClaimOutcome::Acquired
    }

    /// Why the subject cannot be locked for `key` at this sequence, if it cannot.
    fn subject_refusal(
        &self,
        key: &str,
        ordering: &SubjectSequence,
        now: EpochMillis,
    ) -> Option<ClaimOutcome> {
        let record = self.subjects.get(&ordering.subject)?;
        if let Some(newest) = record.newest
            && newest >= ordering.sequence
        {
            return Some(ClaimOutcome::NotNewer { newest });
        }
        match &record.lock {
            Some(lock) if lock.holder != key && lock.until >= now => {
                Some(ClaimOutcome::SubjectBusy { until: lock.until })
            }
            _ => None,
        }
    }

    fn complete(&mut self, completion: &Completion) -> Result<(), StoreError> {
        let Some(record) = self.records.get_mut(&completion.key) else {
            return Err(StoreError::LockLost(completion.key.clone()));
        };
        if !matches!(record.status, KeyStatus::InProgress { .. }) {
            return Err(StoreError::LockLost(completion.key.clone()));
        }
        record.status = KeyStatus::Completed {
            expires_at: completion.expires_at,
        };
        if let Some(ordering) = &completion.ordering {
            let subject = self.subjects.entry(ordering.subject.clone()).or_default();
            // A completion whose lock lapsed may arrive after a newer event's: keep the max.
            subject.newest = Some(
                subject
                    .newest
                    .map_or(ordering.sequence, |newest| newest.max(ordering.sequence)),
            );
            if subject
                .lock
                .as_ref()
                .is_some_and(|lock| lock.holder == completion.key)
            {
                subject.lock = None;
            }
        }
        Ok(())
    }

    fn release(&mut self, release: &Release) {
        if let Some(record) = self.records.get(&release.key)
            && matches!(record.status, KeyStatus::InProgress { .. })
        {
            self.records.remove(&release.key);
        }
        if let Some(subject) = &release.subject
            && let Some(record) = self.subjects.get_mut(subject)
            && record
                .lock
                .as_ref()
                .is_some_and(|lock| lock.holder == release.key)
        {
            record.lock = None;
            if record.newest.is_none() {
                self.subjects.remove(subject);
            }
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
            .map(|release| {
                state.release(release);
                Ok(())
            })
            .collect()
    }
}

/// One of the three [`Store`] methods, to aim a fault of [`FlakyStore`] at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreOp {
    /// [`Store::claim`].
    Claim,
    /// [`Store::complete`].
    Complete,
    /// [`Store::release`].
    Release,
}

impl StoreOp {
    fn index(self) -> usize {
        match self {
            Self::Claim => 0,
            Self::Complete => 1,
            Self::Release => 2,
        }
    }
}

/// A store that fails on demand, wrapping another: for testing what the pipeline does when
/// the store is throttled, unreachable or times out, and that every event is still processed
/// exactly once after it recovers.
///
/// Faults are queued per [`StoreOp`] and consumed in the order they were added; calls with no
/// fault pending go to the wrapped store unchanged. An outage ([`FlakyStore::outage`]) fails
/// every call, without consuming queued faults, until [`FlakyStore::recover`].
#[derive(Debug, Default)]
pub struct FlakyStore<S> {
    inner: S,
    faults: Mutex<Faults>,
}

#[derive(Debug, Default)]
struct Faults {
    queues: [VecDeque<Fault>; 3],
    outage: Option<StoreError>,
    calls: [usize; 3],
}

#[derive(Debug)]
struct Fault {
    kind: FaultKind,
    remaining: usize,
    error: StoreError,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FaultKind {
    /// The whole call fails before reaching the store.
    Call,
    /// The whole call reaches the store, then its answer is lost.
    AnswerLost,
    /// Single records fail before reaching the store; the rest of their call goes through.
    Record,
}

/// What to do with one call.
enum Plan {
    FailAll(StoreError),
    ApplyThenFail(StoreError),
    /// Per record: `Some` fails it with that error, `None` forwards it.
    PerRecord(Vec<Option<StoreError>>),
}

impl<S: Store> FlakyStore<S> {
    /// Wraps `inner`, with no fault pending.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            faults: Mutex::default(),
        }
    }

    /// The wrapped store, to inspect what actually reached it.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The next `calls` calls of `op` fail as a whole with `error`, without reaching the
    /// wrapped store: a throttled or unreachable backend.
    pub fn fail_calls(&self, op: StoreOp, calls: usize, error: StoreError) {
        self.push(op, FaultKind::Call, calls, error);
    }

    /// The next `calls` calls of `op` reach the wrapped store and take effect, but answer
    /// `error` for every record: a request that timed out after the write landed.
    pub fn lose_answers(&self, op: StoreOp, calls: usize, error: StoreError) {
        self.push(op, FaultKind::AnswerLost, calls, error);
    }

    /// The next `records` records passed to `op`, counted across calls, fail with `error`
    /// without reaching the wrapped store, while the other records of their calls are served:
    /// a backend that fails some items of a batch.
    pub fn fail_records(&self, op: StoreOp, records: usize, error: StoreError) {
        self.push(op, FaultKind::Record, records, error);
    }

    /// Every call fails with `error`, without reaching the wrapped store, until
    /// [`FlakyStore::recover`].
    pub fn outage(&self, error: StoreError) {
        self.faults().outage = Some(error);
    }

    /// Ends an outage. Faults queued before or during it stay queued.
    pub fn recover(&self) {
        self.faults().outage = None;
    }

    /// How many calls of `op` were made, failed or not.
    pub fn calls(&self, op: StoreOp) -> usize {
        self.faults().calls[op.index()]
    }

    fn push(&self, op: StoreOp, kind: FaultKind, count: usize, error: StoreError) {
        if count > 0 {
            self.faults().queues[op.index()].push_back(Fault {
                kind,
                remaining: count,
                error,
            });
        }
    }

    fn faults(&self) -> MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Decides the fate of a call of `op` with `len` records, consuming the faults it uses.
    fn plan(&self, op: StoreOp, len: usize) -> Plan {
        let mut faults = self.faults();
        faults.calls[op.index()] += 1;
        if let Some(error) = &faults.outage {
            return Plan::FailAll(error.clone());
        }
        let queue = &mut faults.queues[op.index()];
        match queue.front_mut() {
            Some(fault) if fault.kind != FaultKind::Record => {
                let kind = fault.kind;
                let error = fault.error.clone();
                fault.remaining -= 1;
                if fault.remaining == 0 {
                    queue.pop_front();
                }
                if kind == FaultKind::Call {
                    Plan::FailAll(error)
                } else {
                    Plan::ApplyThenFail(error)
                }
            }
            _ => Plan::PerRecord(
                (0..len)
                    .map(|_| {
                        let fault = queue
                            .front_mut()
                            .filter(|fault| fault.kind == FaultKind::Record)?;
                        let error = fault.error.clone();
                        fault.remaining -= 1;
                        if fault.remaining == 0 {
                            queue.pop_front();
                        }
                        Some(error)
                    })
                    .collect(),
            ),
        }
    }
}

/// The records of `items` that a per-record plan forwards.
fn forwarded<T: Clone>(items: &[T], mask: &[Option<StoreError>]) -> Vec<T> {
    items
        .iter()
        .zip(mask)
        .filter(|(_, fault)| fault.is_none())
        .map(|(item, _)| item.clone())
        .collect()
}

/// Puts the wrapped store's answers back in place between the injected failures.
fn merge<R>(
    mask: Vec<Option<StoreError>>,
    answers: Vec<Result<R, StoreError>>,
) -> Vec<Result<R, StoreError>> {
    let mut answers = answers.into_iter();
    mask.into_iter()
        .map(|fault| match fault {
            Some(error) => Err(error),
            // A store that answers fewer records than asked broke its contract; the record
            // must not run without a lock, so it becomes a retry.
            None => answers.next().unwrap_or_else(|| {
                Err(StoreError::Unavailable(
                    "the wrapped store gave no answer for this record".to_owned(),
                ))
            }),
        })
        .collect()
}

fn fail_all<R>(len: usize, error: &StoreError) -> Vec<Result<R, StoreError>> {
    (0..len).map(|_| Err(error.clone())).collect()
}

#[async_trait::async_trait]
impl<S: Store> Store for FlakyStore<S> {
    async fn claim(
        &self,
        claims: &[Claim],
        now: EpochMillis,
    ) -> Vec<Result<ClaimOutcome, StoreError>> {
        match self.plan(StoreOp::Claim, claims.len()) {
            Plan::FailAll(error) => fail_all(claims.len(), &error),
            Plan::ApplyThenFail(error) => {
                self.inner.claim(claims, now).await;
                fail_all(claims.len(), &error)
            }
            Plan::PerRecord(mask) if mask.iter().all(Option::is_none) => {
                self.inner.claim(claims, now).await
            }
            Plan::PerRecord(mask) => {
                let passed = forwarded(claims, &mask);
                let answers = if passed.is_empty() {
                    Vec::new()
                } else {
                    self.inner.claim(&passed, now).await
                };
                merge(mask, answers)
            }
        }
    }

    async fn complete(&self, completions: &[Completion]) -> Vec<Result<(), StoreError>> {
        match self.plan(StoreOp::Complete, completions.len()) {
            Plan::FailAll(error) => fail_all(completions.len(), &error),
            Plan::ApplyThenFail(error) => {
                self.inner.complete(completions).await;
                fail_all(completions.len(), &error)
            }
            Plan::PerRecord(mask) if mask.iter().all(Option::is_none) => {
                self.inner.complete(completions).await
            }
            Plan::PerRecord(mask) => {
                let passed = forwarded(completions, &mask);
                let answers = if passed.is_empty() {
                    Vec::new()
                } else {
                    self.inner.complete(&passed).await
                };
                merge(mask, answers)
            }
        }
    }

    async fn release(&self, releases: &[Release]) -> Vec<Result<(), StoreError>> {
        match self.plan(StoreOp::Release, releases.len()) {
            Plan::FailAll(error) => fail_all(releases.len(), &error),
            Plan::ApplyThenFail(error) => {
                self.inner.release(releases).await;
                fail_all(releases.len(), &error)
            }
            Plan::PerRecord(mask) if mask.iter().all(Option::is_none) => {
                self.inner.release(releases).await
            }
            Plan::PerRecord(mask) => {
                let passed = forwarded(releases, &mask);
                let answers = if passed.is_empty() {
                    Vec::new()
                } else {
                    self.inner.release(&passed).await
                };
                merge(mask, answers)
            }
        }
    }
}
