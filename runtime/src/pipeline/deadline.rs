//! Store calls bounded by the invocation's deadline.
//!
//! Lambda stops an invocation at its deadline, wherever it is: a store call still waiting then
//! takes the whole batch with it, and the records that had finished lose their outcomes. So
//! every store call gets the time that is left, less what must still happen after it:
//! - a claim gets the time left less the deadline margin, since a record claimed after that
//!   could not run its handler anyway;
//! - a completion or release gets the time left less a quarter of the margin, the time kept
//!   to send the response.
//!
//! A call that runs out of time answers `Unavailable` for each of its records. Its request
//! may still land in the store later: that is why locks are fenced by their owner.

use std::future::Future;
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, SystemTime};

use crate::store::{Claim, ClaimOutcome, Completion, Release, Store, StoreError};

/// The store, with every call bounded by the time left before a deadline.
pub(crate) struct DeadlineStore<'a> {
    pub store: &'a dyn Store,
    pub deadline: SystemTime,
    /// The handler's deadline margin.
    pub margin: Duration,
}

impl DeadlineStore<'_> {
    /// The time left before the deadline, less `reserve`; zero once it has passed.
    pub fn time_left(&self, reserve: Duration) -> Duration {
        self.deadline
            .duration_since(SystemTime::now())
            .unwrap_or_default()
            .saturating_sub(reserve)
    }

    /// Whether a handler may still start: more than the margin is left.
    pub fn may_start_handler(&self) -> bool {
        !self.time_left(self.margin).is_zero()
    }

    fn settle_reserve(&self) -> Duration {
        self.margin / 4
    }

    /// [`Store::claim`], within the time left less the margin.
    pub async fn claim(
        &self,
        claims: &[Claim],
        now: crate::store::EpochMillis,
    ) -> Vec<Result<ClaimOutcome, StoreError>> {
        let budget = self.time_left(self.margin);
        bounded(budget, claims.len(), self.store.claim(claims, now)).await
    }

    /// [`Store::complete`], within the time left less the response reserve.
    pub async fn complete(&self, completions: &[Completion]) -> Vec<Result<(), StoreError>> {
        let budget = self.time_left(self.settle_reserve());
        bounded(budget, completions.len(), self.store.complete(completions)).await
    }

    /// [`Store::release`], within the time left less the response reserve.
    pub async fn release(&self, releases: &[Release]) -> Vec<Result<(), StoreError>> {
        let budget = self.time_left(self.settle_reserve());
        bounded(budget, releases.len(), self.store.release(releases)).await
    }
}

/// Runs `call` for at most `budget`; past it, every one of its `len` records answers
/// `Unavailable`. An empty call is not made at all.
async fn bounded<T>(
    budget: Duration,
    len: usize,
    call: impl Future<Output = Vec<Result<T, StoreError>>>,
) -> Vec<Result<T, StoreError>> {
    if len == 0 {
        return Vec::new();
    }
    if budget.is_zero() {
        return out_of_time(len, budget);
    }
    // A store that answers on its first poll (the memory store) needs no timer: polling once
    // first costs nothing, and tokio's timeout would poll it first anyway.
    let mut call = pin!(call);
    if let Poll::Ready(answers) =
        std::future::poll_fn(|cx| Poll::Ready(call.as_mut().poll(cx))).await
    {
        return answers;
    }
    match tokio::time::timeout(budget, call).await {
        Ok(answers) => answers,
        Err(_) => out_of_time(len, budget),
    }
}

fn out_of_time<T>(len: usize, budget: Duration) -> Vec<Result<T, StoreError>> {
    let message = if budget.is_zero() {
        "not called: no time was left before the Lambda deadline".to_owned()
    } else {
        format!(
            "no answer within the {} ms left before the Lambda deadline; the write may still \
             land, and its lock is fenced so a late write cannot end another delivery's lock",
            budget.as_millis()
        )
    };
    (0..len)
        .map(|_| Err(StoreError::Unavailable(message.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{LockOwner, MemoryStore};

    struct SlowStore;

    #[async_trait::async_trait]
    impl Store for SlowStore {
        async fn claim(
            &self,
            claims: &[Claim],
            _now: crate::store::EpochMillis,
        ) -> Vec<Result<ClaimOutcome, StoreError>> {
            tokio::time::sleep(Duration::from_secs(60)).await;
            claims.iter().map(|_| Ok(ClaimOutcome::Acquired)).collect()
        }
        async fn complete(&self, completions: &[Completion]) -> Vec<Result<(), StoreError>> {
            tokio::time::sleep(Duration::from_secs(60)).await;
            completions.iter().map(|_| Ok(())).collect()
        }
        async fn release(&self, releases: &[Release]) -> Vec<Result<(), StoreError>> {
            releases.iter().map(|_| Ok(())).collect()
        }
    }

    fn claim() -> Claim {
        Claim {
            key: "k".into(),
            payload_hash: "h".into(),
            owner: LockOwner::new(),
            lock_expires_at: u64::MAX,
            ordering: None,
        }
    }

    #[tokio::test]
    async fn a_slow_claim_ends_at_the_margin_before_the_deadline() {
        let store = SlowStore;
        let deadline = SystemTime::now() + Duration::from_millis(700);
        let bounded = DeadlineStore {
            store: &store,
            deadline,
            margin: Duration::from_millis(500),
        };
        let answers = bounded.claim(&[claim(), claim()], 0).await;
        let left = deadline
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        assert!(
            left >= Duration::from_millis(250),
            "the claim must give up at the margin, not at the deadline ({left:?} left)"
        );
        assert_eq!(answers.len(), 2);
        for answer in answers {
            let Err(StoreError::Unavailable(message)) = answer else {
                panic!("expected Unavailable, got {answer:?}");
            };
            assert!(message.contains("before the Lambda deadline"), "{message}");
        }
    }

    #[tokio::test]
    async fn no_call_is_made_once_the_deadline_has_passed() {
        let store = MemoryStore::new();
        let bounded = DeadlineStore {
            store: &store,
            deadline: SystemTime::now(),
            margin: Duration::from_millis(500),
        };
        assert!(!bounded.may_start_handler());
        let answers = bounded.claim(&[claim()], 0).await;
        assert!(matches!(
            answers.as_slice(),
            [Err(StoreError::Unavailable(_))]
        ));
        assert_eq!(
            store.record_count(),
            0,
            "the claim must not reach the store"
        );
    }

    #[tokio::test]
    async fn a_store_that_answers_in_time_is_passed_through() {
        let store = MemoryStore::new();
        let bounded = DeadlineStore {
            store: &store,
            deadline: SystemTime::now() + Duration::from_secs(10),
            margin: Duration::from_millis(500),
        };
        assert!(bounded.may_start_handler());
        assert_eq!(
            bounded.claim(&[claim()], 0).await,
            vec![Ok(ClaimOutcome::Acquired)]
        );
        assert!(bounded.complete(&[]).await.is_empty());
    }
}
