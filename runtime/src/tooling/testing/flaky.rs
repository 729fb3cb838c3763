//! [`FlakyStore`]: a wrapper that makes any store fail on demand, so that the pipeline's
//! guarantees can be tested under the faults a real backend has: calls that fail, answers that
//! are lost after the write landed, writes that land after the caller gave up, slow calls,
//! faults aimed at one key, and faults drawn at random from a seed.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::store::{Claim, ClaimOutcome, Completion, EpochMillis, Release, Store, StoreError};

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

/// Faults drawn at random for every call that no queued fault decides, from a seed, so that a
/// failing run can be replayed. Each field is the chance of its fault per call, from 0 to 1;
/// at most one fault hits a call.
#[derive(Debug, Clone, PartialEq)]
pub struct RandomFaults {
    /// The seed of the draws.
    pub seed: u64,
    /// The call fails before reaching the store.
    pub fail: f64,
    /// The call reaches the store, then its answer is lost.
    pub lose_answer: f64,
    /// The call answers a time-out at once, and its write lands at the next
    /// [`FlakyStore::land_held`]: a request the service applied after the caller gave up.
    pub land_late: f64,
    /// The call waits `slow_by` before it reaches the store.
    pub slow: f64,
    /// How long a slow call waits.
    pub slow_by: Duration,
    /// Every call not otherwise delayed waits a random time up to this, so that concurrent
    /// callers interleave as they would over a network.
    pub jitter: Duration,
}

/// A store that fails on demand, wrapping another: for testing what the pipeline does when
/// the store is throttled, unreachable, slow or late, and that every event is still processed
/// exactly once after it recovers.
///
/// Faults are queued per [`StoreOp`] and consumed in the order they were added; calls with no
/// fault pending go to the wrapped store unchanged, unless [`FlakyStore::random_faults`] draws
/// one. An outage ([`FlakyStore::outage`]) fails every call, without consuming queued faults,
/// until [`FlakyStore::recover`]. Faults aimed at a key ([`FlakyStore::fail_key`]) fail only
/// the records whose key contains a given text.
#[derive(Debug, Default)]
pub struct FlakyStore<S> {
    inner: S,
    faults: Mutex<Faults>,
}

#[derive(Debug, Default)]
struct Faults {
    queues: [VecDeque<Fault>; 3],
    targeted: Vec<Targeted>,
    outage: Option<StoreError>,
    random: Option<(RandomFaults, u64)>,
    calls: [usize; 3],
    held: Vec<HeldCall>,
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
    /// The whole call answers at once with the error; its write lands later.
    LandsLate,
    /// The whole call waits, then reaches the store.
    Slow(Duration),
    /// Single records fail before reaching the store; the rest of their call goes through.
    Record,
}

#[derive(Debug)]
struct Targeted {
    op: StoreOp,
    key_contains: String,
    remaining: usize,
    error: StoreError,
    /// The whole call lands late instead of the record failing.
    lands_late: bool,
}

/// A call whose write has not landed yet.
#[derive(Debug)]
enum HeldCall {
    Claim(Vec<Claim>, EpochMillis),
    Complete(Vec<Completion>),
    Release(Vec<Release>),
}

/// What to do with one call.
enum Plan {
    FailAll(StoreError),
    ApplyThenFail(StoreError),
    LandLate(StoreError),
    Slow(Duration),
    /// Per record: `Some` fails it with that error, `None` forwards it.
    PerRecord(Vec<Option<StoreError>>),
}

/// A request of one of the three methods, as the fault plan needs to see it.
trait Request: Clone {
    fn key(&self) -> &str;
}

impl Request for Claim {
    fn key(&self) -> &str {
        &self.key
    }
}

impl Request for Completion {
    fn key(&self) -> &str {
        &self.key
    }
}

impl Request for Release {
    fn key(&self) -> &str {
        &self.key
    }
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

    /// The next `calls` calls of `op` answer `error` at once, and their writes land in the
    /// wrapped store only at the next [`FlakyStore::land_held`]: a request the caller gave up
    /// on, which the service applied later, after whatever happened meanwhile.
    pub fn land_late(&self, op: StoreOp, calls: usize, error: StoreError) {
        self.push(op, FaultKind::LandsLate, calls, error);
    }

    /// The next `calls` calls of `op` wait `delay` before they reach the wrapped store. A
    /// caller that gives up meanwhile drops the call, which then never lands.
    pub fn delay_calls(&self, op: StoreOp, calls: usize, delay: Duration) {
        let error = StoreError::Unavailable("slow".to_owned());
        self.push(op, FaultKind::Slow(delay), calls, error);
    }

    /// The next `records` records passed to `op`, counted across calls, fail with `error`
    /// without reaching the wrapped store, while the other records of their calls are served:
    /// a backend that fails some items of a batch.
    pub fn fail_records(&self, op: StoreOp, records: usize, error: StoreError) {
        self.push(op, FaultKind::Record, records, error);
    }

    /// The next `records` records passed to `op` whose key contains `key_contains` fail with
    /// `error` without reaching the wrapped store: a fault aimed at one event or subject.
    pub fn fail_key(
        &self,
        op: StoreOp,
        key_contains: impl Into<String>,
        records: usize,
        error: StoreError,
    ) {
        if records > 0 {
            self.faults().targeted.push(Targeted {
                op,
                key_contains: key_contains.into(),
                remaining: records,
                error,
                lands_late: false,
            });
        }
    }

    /// The next `calls` calls of `op` carrying a record whose key contains `key_contains`
    /// answer `error` at once and land at the next [`FlakyStore::land_held`], as
    /// [`FlakyStore::land_late`] does: a late write aimed at one event.
    pub fn land_key_late(
        &self,
        op: StoreOp,
        key_contains: impl Into<String>,
        calls: usize,
        error: StoreError,
    ) {
        if calls > 0 {
            self.faults().targeted.push(Targeted {
                op,
                key_contains: key_contains.into(),
                remaining: calls,
                error,
                lands_late: true,
            });
        }
    }

    /// Draws faults at random for every later call that no queued fault decides.
    pub fn random_faults(&self, faults: RandomFaults) {
        let state = faults.seed;
        self.faults().random = Some((faults, state));
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

    /// How many calls wait to land late.
    pub fn held(&self) -> usize {
        self.faults().held.len()
    }

    /// Lands every write held by [`FlakyStore::land_late`] or [`RandomFaults::land_late`] in
    /// the wrapped store, in the order they were made; answers how many calls landed.
    pub async fn land_held(&self) -> usize {
        let held = std::mem::take(&mut self.faults().held);
        let landed = held.len();
        for call in held {
            match call {
                HeldCall::Claim(claims, now) => drop(self.inner.claim(&claims, now).await),
                HeldCall::Complete(completions) => drop(self.inner.complete(&completions).await),
                HeldCall::Release(releases) => drop(self.inner.release(&releases).await),
            }
        }
        landed
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

    /// Decides the fate of a call of `op`, consuming the faults it uses.
    fn plan<T: Request>(&self, op: StoreOp, items: &[T]) -> Plan {
        let mut faults = self.faults();
        faults.calls[op.index()] += 1;
        if let Some(error) = &faults.outage {
            return Plan::FailAll(error.clone());
        }
        if let Some(plan) = faults.next_call_fault(op) {
            return plan;
        }
        if let Some(plan) = faults.late_landing_aimed_at(op, items) {
            return plan;
        }
        let mask: Vec<Option<StoreError>> = items
            .iter()
            .map(|item| faults.record_fault(op, item.key()))
            .collect();
        if mask.iter().all(Option::is_none)
            && let Some(plan) = faults.draw()
        {
            return plan;
        }
        Plan::PerRecord(mask)
    }

    /// Runs one call of `op` on `items` by its plan: `forward` sends records to the wrapped
    /// store, `hold` keeps a call that lands late.
    async fn serve<T, R, F, Fut>(
        &self,
        op: StoreOp,
        items: &[T],
        forward: F,
        hold: impl FnOnce(Vec<T>) -> HeldCall,
    ) -> Vec<Result<R, StoreError>>
    where
        T: Request,
        F: Fn(Vec<T>) -> Fut,
        Fut: Future<Output = Vec<Result<R, StoreError>>>,
    {
        match self.plan(op, items) {
            Plan::FailAll(error) => fail_all(items.len(), &error),
            Plan::ApplyThenFail(error) => {
                forward(items.to_vec()).await;
                fail_all(items.len(), &error)
            }
            Plan::LandLate(error) => {
                self.faults().held.push(hold(items.to_vec()));
                fail_all(items.len(), &error)
            }
            Plan::Slow(delay) => {
                tokio::time::sleep(delay).await;
                forward(items.to_vec()).await
            }
            Plan::PerRecord(mask) => {
                let passed = forwarded(items, &mask);
                let answers = if passed.is_empty() {
                    Vec::new()
                } else {
                    forward(passed).await
                };
                merge(mask, answers)
            }
        }
    }
}

impl Faults {
    /// The queued fault of `op` that decides a whole call, if the queue's front is one.
    fn next_call_fault(&mut self, op: StoreOp) -> Option<Plan> {
        let queue = &mut self.queues[op.index()];
        let fault = queue.front_mut().filter(|f| f.kind != FaultKind::Record)?;
        let kind = fault.kind;
        let error = fault.error.clone();
        fault.remaining -= 1;
        if fault.remaining == 0 {
            queue.pop_front();
        }
        Some(match kind {
            FaultKind::Call => Plan::FailAll(error),
            FaultKind::AnswerLost => Plan::ApplyThenFail(error),
            FaultKind::LandsLate => Plan::LandLate(error),
            FaultKind::Slow(delay) => Plan::Slow(delay),
            FaultKind::Record => unreachable!("filtered above"),
        })
    }

    /// A late landing aimed at one of the keys of a call of `op`, if any.
    fn late_landing_aimed_at<T: Request>(&mut self, op: StoreOp, items: &[T]) -> Option<Plan> {
        let index = self.targeted.iter().position(|t| {
            t.lands_late
                && t.op == op
                && items
                    .iter()
                    .any(|item| item.key().contains(&t.key_contains))
        })?;
        let target = &mut self.targeted[index];
        let error = target.error.clone();
        target.remaining -= 1;
        if target.remaining == 0 {
            self.targeted.remove(index);
        }
        Some(Plan::LandLate(error))
    }

    /// The fault of one record of `op` with `key`: a targeted one first, then a queued one.
    fn record_fault(&mut self, op: StoreOp, key: &str) -> Option<StoreError> {
        if let Some(index) = self
            .targeted
            .iter()
            .position(|t| !t.lands_late && t.op == op && key.contains(&t.key_contains))
        {
            let target = &mut self.targeted[index];
            let error = target.error.clone();
            target.remaining -= 1;
            if target.remaining == 0 {
                self.targeted.remove(index);
            }
            return Some(error);
        }
        let queue = &mut self.queues[op.index()];
        let fault = queue.front_mut().filter(|f| f.kind == FaultKind::Record)?;
        let error = fault.error.clone();
        fault.remaining -= 1;
        if fault.remaining == 0 {
            queue.pop_front();
        }
        Some(error)
    }

    /// A random fault for a call, when random faults are on and the draw hits one.
    fn draw(&mut self) -> Option<Plan> {
        let (faults, state) = self.random.as_mut()?;
        let roll = unit(splitmix64(state));
        let timed_out = || StoreError::Unavailable("injected: the request timed out".to_owned());
        let mut edge = faults.fail;
        if roll < edge {
            return Some(Plan::FailAll(StoreError::Unavailable(
                "injected: the store could not be reached".to_owned(),
            )));
        }
        edge += faults.lose_answer;
        if roll < edge {
            return Some(Plan::ApplyThenFail(timed_out()));
        }
        edge += faults.land_late;
        if roll < edge {
            return Some(Plan::LandLate(timed_out()));
        }
        edge += faults.slow;
        if roll < edge {
            return Some(Plan::Slow(faults.slow_by));
        }
        if faults.jitter.is_zero() {
            return None;
        }
        let jitter = faults.jitter.as_micros() as f64 * unit(splitmix64(state));
        Some(Plan::Slow(Duration::from_micros(jitter as u64)))
    }
}

/// The next number of a SplitMix64 sequence: small, fast and good enough for fault draws.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A draw in [0, 1).
fn unit(bits: u64) -> f64 {
    (bits >> 11) as f64 / (1u64 << 53) as f64
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
        let forward = |claims: Vec<Claim>| async move { self.inner.claim(&claims, now).await };
        // A claim lands with the time it was made at: that is what its lock is judged by.
        let hold = |claims| HeldCall::Claim(claims, now);
        self.serve(StoreOp::Claim, claims, forward, hold).await
    }

    async fn complete(&self, completions: &[Completion]) -> Vec<Result<(), StoreError>> {
        let forward =
            |completions: Vec<Completion>| async move { self.inner.complete(&completions).await };
        self.serve(StoreOp::Complete, completions, forward, HeldCall::Complete)
            .await
    }

    async fn release(&self, releases: &[Release]) -> Vec<Result<(), StoreError>> {
        let forward = |releases: Vec<Release>| async move { self.inner.release(&releases).await };
        self.serve(StoreOp::Release, releases, forward, HeldCall::Release)
            .await
    }
}
