//! A store wrapper that watches what the pipeline asked and what it was told, so that a chaos
//! run can tell the double effects the documented limits allow from those they do not.
//!
//! An effect may run again only after an earlier run of the same event whose success was
//! never confirmed by the store: its completion failed or timed out, or its invocation died
//! before completing. A completion refused as `LockLost` while its lock should still have been
//! its own means a lock was taken from a live holder: a fencing failure.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tidings::store::{
    Claim, ClaimOutcome, Completion, EpochMillis, LockOwner, Release, Store, StoreError,
};

/// Where an invocation dies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillPoint {
    /// After its claims landed, before it learns the answer: locks held, nothing run.
    AfterClaim,
    /// After its handlers ran, before their completions reach the store.
    BeforeCompletion,
    /// After its completions landed, before it answers: done, but redelivered.
    AfterCompletion,
    /// After its releases landed.
    AfterRelease,
}

impl KillPoint {
    /// Every point, to draw from.
    pub const ALL: [KillPoint; 4] = [
        KillPoint::AfterClaim,
        KillPoint::BeforeCompletion,
        KillPoint::AfterCompletion,
        KillPoint::AfterRelease,
    ];
}

/// A death planned for one invocation: where, and how the harness learns it happened.
#[derive(Debug, Clone)]
pub struct Kill {
    pub point: KillPoint,
    pub died: Arc<tokio::sync::Notify>,
}

tokio::task_local! {
    /// The death planned for the current invocation, if any.
    pub static KILL_AT: Option<Kill>;
}

/// When the current invocation is to die at `point`: tells the harness, which drops the
/// invocation at once, and hangs until it does.
async fn die_at(point: KillPoint) {
    let died = KILL_AT
        .try_with(|kill| {
            kill.as_ref()
                .filter(|kill| kill.point == point)
                .map(|kill| Arc::clone(&kill.died))
        })
        .ok()
        .flatten();
    if let Some(died) = died {
        died.notify_one();
        std::future::pending::<()>().await;
    }
}

/// What the witness saw for one idempotency key.
#[derive(Debug, Default, Clone)]
pub struct KeyHistory {
    /// Owners whose claims were acquired.
    pub acquired: Vec<LockOwner>,
    /// Owners whose completions the store confirmed.
    pub confirmed: HashSet<LockOwner>,
    /// Owners that released (their handler failed: no effect).
    pub released: HashSet<LockOwner>,
    /// Completions refused as `LockLost`.
    pub fenced: usize,
}

impl KeyHistory {
    /// Acquisitions that may have run the handler and were never confirmed.
    pub fn unconfirmed_runs(&self) -> usize {
        self.acquired
            .iter()
            .filter(|owner| !self.confirmed.contains(*owner) && !self.released.contains(*owner))
            .count()
    }
}

/// Wraps a store, recording per key what happened.
pub struct Witness<S> {
    inner: Arc<S>,
    seen: Mutex<HashMap<String, KeyHistory>>,
}

impl<S: Store> Witness<S> {
    pub fn new(inner: Arc<S>) -> Self {
        Self {
            inner,
            seen: Mutex::default(),
        }
    }

    /// The history of the key ending in `#{event_id}`.
    pub fn history(&self, event_id: &str) -> KeyHistory {
        let suffix = format!("#{event_id}");
        self.seen
            .lock()
            .expect("witness")
            .iter()
            .find(|(key, _)| key.ends_with(&suffix))
            .map(|(_, history)| history.clone())
            .unwrap_or_default()
    }

    /// Completions refused as `LockLost`, over every key.
    pub fn fenced(&self) -> usize {
        self.seen
            .lock()
            .expect("witness")
            .values()
            .map(|h| h.fenced)
            .sum()
    }
}

#[async_trait::async_trait]
impl<S: Store> Store for Witness<S> {
    async fn claim(
        &self,
        claims: &[Claim],
        now: EpochMillis,
    ) -> Vec<Result<ClaimOutcome, StoreError>> {
        let answers = self.inner.claim(claims, now).await;
        {
            let mut seen = self.seen.lock().expect("witness");
            for (claim, answer) in claims.iter().zip(&answers) {
                if let Ok(ClaimOutcome::Acquired) = answer {
                    let history = seen.entry(claim.key.clone()).or_default();
                    history.acquired.push(claim.owner.clone());
                }
            }
        }
        die_at(KillPoint::AfterClaim).await;
        answers
    }

    async fn complete(&self, completions: &[Completion]) -> Vec<Result<(), StoreError>> {
        die_at(KillPoint::BeforeCompletion).await;
        let answers = self.inner.complete(completions).await;
        {
            let mut seen = self.seen.lock().expect("witness");
            for (completion, answer) in completions.iter().zip(&answers) {
                let history = seen.entry(completion.key.clone()).or_default();
                match answer {
                    Ok(()) => {
                        history.confirmed.insert(completion.owner.clone());
                    }
                    Err(StoreError::LockLost(_)) => history.fenced += 1,
                    Err(_) => {}
                }
            }
        }
        die_at(KillPoint::AfterCompletion).await;
        answers
    }

    async fn release(&self, releases: &[Release]) -> Vec<Result<(), StoreError>> {
        {
            let mut seen = self.seen.lock().expect("witness");
            for release in releases {
                let history = seen.entry(release.key.clone()).or_default();
                history.released.insert(release.owner.clone());
            }
        }
        let answers = self.inner.release(releases).await;
        die_at(KillPoint::AfterRelease).await;
        answers
    }
}
