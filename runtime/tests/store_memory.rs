//! `MemoryStore` through the store conformance suite, its own guarantees (exact expiry,
//! purging, subjects never moving back), and `FlakyStore`'s fault injection.

use std::sync::{Arc, Barrier};

use tidings::store::{
    Claim, ClaimOutcome, Completion, EpochMillis, LockOwner, MemoryStore, Release, Store,
    StoreError, SubjectSequence,
};
use tidings::testing::{FlakyStore, StoreOp, conformance};

const T: EpochMillis = 1_800_000_000_000;
const LOCK: EpochMillis = 30_000;
const TTL: EpochMillis = 3_600_000;

/// Every claim is a new delivery with an owner of its own; a completion or release of a key
/// is made by the owner of the latest claim of that key on this thread (each test runs on a
/// thread of its own, so tests never see each other's owners).
fn new_owner(key: &str) -> LockOwner {
    let owner = LockOwner::new();
    LATEST_OWNERS.with(|owners| owners.borrow_mut().insert(key.to_owned(), owner.clone()));
    owner
}

/// The owner of the latest claim of `key` made on this thread.
fn owner(key: &str) -> LockOwner {
    LATEST_OWNERS
        .with(|owners| owners.borrow().get(key).cloned())
        .unwrap_or_else(|| LockOwner::from_text(format!("never-claimed-{key}")))
}

thread_local! {
    static LATEST_OWNERS: std::cell::RefCell<std::collections::HashMap<String, LockOwner>> =
        Default::default();
}

fn plain(key: &str, hash: &str, lock_expires_at: EpochMillis) -> Claim {
    Claim {
        key: key.to_owned(),
        payload_hash: hash.to_owned(),
        owner: new_owner(key),
        lock_expires_at,
        ordering: None,
    }
}

fn ordered(key: &str, lock_expires_at: EpochMillis, subject: &str, sequence: u64) -> Claim {
    Claim {
        ordering: Some(SubjectSequence {
            subject: subject.to_owned(),
            sequence,
        }),
        ..plain(key, "h1", lock_expires_at)
    }
}

fn done(key: &str, expires_at: EpochMillis, subject: Option<&str>) -> Completion {
    Completion {
        key: key.to_owned(),
        owner: owner(key),
        expires_at,
        subject: subject.map(str::to_owned),
    }
}

fn release(key: &str, subject: Option<&str>) -> Release {
    Release {
        key: key.to_owned(),
        owner: owner(key),
        subject: subject.map(str::to_owned),
    }
}

async fn claim_one(store: &impl Store, claim: Claim, now: EpochMillis) -> ClaimOutcome {
    let mut answers = store.claim(&[claim], now).await;
    assert_eq!(answers.len(), 1, "one answer per claim");
    answers.remove(0).expect("the memory store does not fail")
}

mod conformance_suite {
    use super::*;

    macro_rules! check {
        ($($check:ident),* $(,)?) => {$(
            #[tokio::test]
            async fn $check() {
                conformance::$check(&MemoryStore::new(), stringify!($check)).await;
            }
        )*};
    }

    check!(
        acquires_absent_key,
        answers_completed_key,
        completed_key_expires,
        lapsed_lock_is_taken_over,
        key_reused_in_both_states,
        orders_by_subject_sequence,
        subject_lock_lapses,
        subject_never_moves_backwards,
        claim_is_atomic,
        same_batch_collisions,
        completion_requires_lock,
        completion_frees_subject,
        release_is_idempotent,
        answers_in_order,
        late_release_after_takeover,
        late_completion_after_takeover,
        mark_moves_at_claim,
        release_keeps_the_mark,
        repeated_claim_is_acquired,
    );

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_claims_have_one_winner() {
        conformance::concurrent_claims_have_one_winner(Arc::new(MemoryStore::new()), "race").await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_subject_claims_have_one_winner() {
        let store = Arc::new(MemoryStore::new());
        conformance::concurrent_subject_claims_have_one_winner(store, "race").await;
    }

    /// All checks against one store, as a backend sharing one table runs them.
    #[tokio::test]
    async fn run_all_on_one_store() {
        let store = Arc::new(MemoryStore::new());
        conformance::run_all(Arc::clone(&store), "first").await;
        conformance::run_all(store, "second").await;
    }

    /// The suite also runs through a `FlakyStore` with no fault pending: the wrapper is
    /// transparent.
    #[tokio::test]
    async fn run_all_through_an_idle_flaky_store() {
        conformance::run_all(Arc::new(FlakyStore::new(MemoryStore::new())), "flaky").await;
    }
}

#[tokio::test]
async fn completed_record_expires_to_the_millisecond() {
    let store = MemoryStore::new();
    assert_eq!(
        claim_one(&store, plain("k", "h1", T + LOCK), T).await,
        ClaimOutcome::Acquired
    );
    assert_eq!(
        store.complete(&[done("k", T + TTL, None)]).await,
        vec![Ok(())]
    );
    let again = plain("k", "h1", T + TTL + LOCK);
    assert_eq!(
        claim_one(&store, again.clone(), T + TTL).await,
        ClaimOutcome::Completed
    );
    assert_eq!(
        claim_one(&store, again, T + TTL + 1).await,
        ClaimOutcome::Acquired
    );
}

#[tokio::test]
async fn lock_lapses_to_the_millisecond() {
    let store = MemoryStore::new();
    assert_eq!(
        claim_one(&store, plain("k", "h1", T + LOCK), T).await,
        ClaimOutcome::Acquired
    );
    let other = plain("k", "h2", T + 2 * LOCK);
    assert_eq!(
        claim_one(&store, other.clone(), T + LOCK).await,
        ClaimOutcome::KeyReused
    );
    assert_eq!(
        claim_one(&store, other, T + LOCK + 1).await,
        ClaimOutcome::Acquired
    );
}

#[tokio::test]
async fn the_mark_moves_at_claim_and_never_back() {
    let store = MemoryStore::new();
    assert_eq!(store.newest("s"), None);
    assert_eq!(
        claim_one(&store, ordered("a", T + LOCK, "s", 3), T).await,
        ClaimOutcome::Acquired
    );
    assert_eq!(
        store.newest("s"),
        Some(3),
        "a claim moves the mark: its effect may be applied from now on"
    );

    // `a` runs past its lock; `b` takes the subject and completes; `a`'s late completion is
    // refused and moves nothing.
    let after = T + LOCK + 1;
    let b = ordered("b", after + LOCK, "s", 10);
    assert_eq!(claim_one(&store, b, after).await, ClaimOutcome::Acquired);
    assert_eq!(
        store.complete(&[done("b", T + TTL, Some("s"))]).await,
        vec![Ok(())]
    );
    assert_eq!(store.newest("s"), Some(10));
    assert_eq!(
        store.complete(&[done("a", T + TTL, Some("s"))]).await,
        vec![Err(StoreError::LockLost("a".to_owned()))]
    );
    assert_eq!(store.newest("s"), Some(10));
}

#[tokio::test]
async fn lost_lock_completion_changes_nothing() {
    let store = MemoryStore::new();
    let answer = store.complete(&[done("ghost", T + TTL, Some("s"))]).await;
    assert_eq!(answer, vec![Err(StoreError::LockLost("ghost".to_owned()))]);
    assert_eq!(store.newest("s"), None);
    assert_eq!(store.record_count(), 0);
}

#[tokio::test]
async fn completion_advances_one_subject_in_the_same_call_as_others() {
    let store = MemoryStore::new();
    let claims = [
        ordered("a", T + LOCK, "s", 1),
        ordered("b", T + LOCK, "t", 7),
    ];
    let acquired = vec![Ok(ClaimOutcome::Acquired), Ok(ClaimOutcome::Acquired)];
    assert_eq!(store.claim(&claims, T).await, acquired);
    let completions = [done("a", T + TTL, Some("s")), done("b", T + TTL, Some("t"))];
    assert_eq!(store.complete(&completions).await, vec![Ok(()), Ok(())]);
    assert_eq!((store.newest("s"), store.newest("t")), (Some(1), Some(7)));
}

#[tokio::test]
async fn release_drops_only_in_progress_records() {
    let store = MemoryStore::new();
    let claims = [
        plain("running", "h1", T + LOCK),
        plain("done", "h1", T + LOCK),
    ];
    store.claim(&claims, T).await;
    store.complete(&[done("done", T + TTL, None)]).await;
    assert_eq!(store.record_count(), 2);
    let releases = [
        release("running", None),
        release("done", None),
        release("none", None),
    ];
    let refused = Err(StoreError::LockLost("done".to_owned()));
    assert_eq!(
        store.release(&releases).await,
        vec![Ok(()), refused, Ok(())]
    );
    assert_eq!(store.record_count(), 1, "only the completed record remains");
}

/// Fills a store with `count` completed records expiring at `T + 10`.
async fn fill(store: &MemoryStore, count: usize) {
    let claims: Vec<_> = (0..count)
        .map(|i| plain(&format!("old-{i}"), "h1", T + LOCK))
        .collect();
    let completions: Vec<_> = (0..count)
        .map(|i| done(&format!("old-{i}"), T + 10, None))
        .collect();
    store.claim(&claims, T).await;
    assert!(store.complete(&completions).await.iter().all(Result::is_ok));
    assert_eq!(store.record_count(), count);
}

#[tokio::test]
async fn claims_purge_expired_records_once_the_store_has_grown() {
    let store = MemoryStore::new();
    fill(&store, 1500).await;
    let later = T + 10 + MemoryStore::PURGE_GRACE_MS + 1;
    assert_eq!(
        claim_one(&store, plain("new", "h1", later + LOCK), later).await,
        ClaimOutcome::Acquired
    );
    assert_eq!(
        store.record_count(),
        1,
        "every expired record is purged, the new one kept"
    );
}

#[tokio::test]
async fn purge_keeps_records_within_the_grace_period() {
    let store = MemoryStore::new();
    fill(&store, 1500).await;
    // Expired for the caller whose clock is ahead, but within the grace period: a caller a
    // little behind must still find them.
    let ahead = T + 10 + MemoryStore::PURGE_GRACE_MS;
    assert_eq!(
        claim_one(&store, plain("new", "h1", ahead + LOCK), ahead).await,
        ClaimOutcome::Acquired
    );
    assert_eq!(store.record_count(), 1501);
    assert_eq!(
        claim_one(&store, plain("old-7", "h1", T + LOCK), T + 5).await,
        ClaimOutcome::Completed
    );
}

#[tokio::test]
async fn purge_keeps_live_records_and_subject_sequences() {
    let store = MemoryStore::new();
    let live = ordered("live", T + TTL, "s", 5);
    assert_eq!(claim_one(&store, live, T).await, ClaimOutcome::Acquired);
    assert_eq!(
        claim_one(&store, ordered("done", T + LOCK, "u", 2), T).await,
        ClaimOutcome::Acquired
    );
    store.complete(&[done("done", T + 10, Some("u"))]).await;
    store.purge_expired(T + 10 + MemoryStore::PURGE_GRACE_MS + 1);
    assert_eq!(
        store.record_count(),
        1,
        "the completed record expired, the lock did not"
    );
    assert_eq!(
        store.newest("u"),
        Some(2),
        "a subject's newest sequence is never purged"
    );
    let late = T + 10 + MemoryStore::PURGE_GRACE_MS + 2;
    let stale = ordered("stale", late + LOCK, "u", 1);
    assert_eq!(
        claim_one(&store, stale, late).await,
        ClaimOutcome::NotNewer { newest: 2 }
    );
    let busy = ordered("other", late + LOCK, "s", 6);
    assert_eq!(
        claim_one(&store, busy, late).await,
        ClaimOutcome::SubjectBusy { until: T + TTL }
    );
}

/// Threads with their own runtimes race on one store for real, whatever tokio features the
/// crate enables.
#[test]
fn parallel_threads_claiming_one_key_have_one_winner() {
    const THREADS: usize = 8;
    let store = Arc::new(MemoryStore::new());
    let start = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let store = Arc::clone(&store);
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap();
                start.wait();
                runtime.block_on(async {
                    let mut outcomes = Vec::new();
                    for round in 0..100 {
                        let key = format!("key-{round}");
                        outcomes.push(claim_one(&*store, plain(&key, "h1", T + LOCK), T).await);
                    }
                    outcomes
                })
            })
        })
        .collect();
    let answers: Vec<Vec<ClaimOutcome>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    for round in 0..100 {
        let winners = answers
            .iter()
            .filter(|outcomes| outcomes[round] == ClaimOutcome::Acquired)
            .count();
        let waiting = answers
            .iter()
            .filter(|outcomes| outcomes[round] == ClaimOutcome::InProgress { until: T + LOCK })
            .count();
        assert_eq!((winners, waiting), (1, THREADS - 1), "round {round}");
    }
}

mod flaky {
    use super::*;

    fn throttled() -> StoreError {
        StoreError::Throttled("slow down".to_owned())
    }

    fn unreachable() -> StoreError {
        StoreError::Unavailable("timed out".to_owned())
    }

    #[tokio::test]
    async fn failed_calls_never_reach_the_store() {
        let store = FlakyStore::new(MemoryStore::new());
        store.fail_calls(StoreOp::Claim, 2, throttled());
        let claims = [plain("a", "h1", T + LOCK), plain("b", "h1", T + LOCK)];
        for _ in 0..2 {
            let answer = store.claim(&claims, T).await;
            assert_eq!(answer, vec![Err(throttled()), Err(throttled())]);
        }
        assert_eq!(store.inner().record_count(), 0);
        let acquired = vec![Ok(ClaimOutcome::Acquired), Ok(ClaimOutcome::Acquired)];
        assert_eq!(store.claim(&claims, T).await, acquired);
        assert_eq!(store.calls(StoreOp::Claim), 3);
        assert_eq!(store.calls(StoreOp::Complete), 0);
    }

    #[tokio::test]
    async fn lost_answers_keep_their_effect() {
        let store = FlakyStore::new(MemoryStore::new());
        store.lose_answers(StoreOp::Complete, 1, unreachable());
        assert_eq!(
            claim_one(&store, ordered("a", T + LOCK, "s", 4), T).await,
            ClaimOutcome::Acquired
        );
        let answer = store.complete(&[done("a", T + TTL, Some("s"))]).await;
        assert_eq!(answer, vec![Err(unreachable())]);
        assert_eq!(store.inner().newest("s"), Some(4), "the completion landed");
        // The redelivery finds the event done: its handler does not run again.
        let again = ordered("a", T + 2 * LOCK, "s", 4);
        assert_eq!(
            claim_one(&store, again, T + 1).await,
            ClaimOutcome::Completed
        );
    }

    #[tokio::test]
    async fn failed_records_are_counted_across_calls() {
        let store = FlakyStore::new(MemoryStore::new());
        store.fail_records(StoreOp::Claim, 3, throttled());
        let first = [plain("a", "h1", T + LOCK), plain("b", "h1", T + LOCK)];
        assert_eq!(
            store.claim(&first, T).await,
            vec![Err(throttled()), Err(throttled())]
        );
        let second = [plain("c", "h1", T + LOCK), plain("d", "h1", T + LOCK)];
        let answer = store.claim(&second, T).await;
        assert_eq!(answer, vec![Err(throttled()), Ok(ClaimOutcome::Acquired)]);
        assert_eq!(
            store.inner().record_count(),
            1,
            "only `d` reached the store"
        );
        // Delivered again: new claims of the same keys.
        let all: Vec<Claim> = ["a", "b", "c", "d"]
            .map(|key| plain(key, "h1", T + LOCK))
            .into();
        let answer = store.claim(&all, T).await;
        let expected = vec![
            Ok(ClaimOutcome::Acquired),
            Ok(ClaimOutcome::Acquired),
            Ok(ClaimOutcome::Acquired),
            Ok(ClaimOutcome::InProgress { until: T + LOCK }),
        ];
        assert_eq!(answer, expected);
    }

    #[tokio::test]
    async fn faults_apply_in_the_order_queued() {
        let store = FlakyStore::new(MemoryStore::new());
        store.fail_calls(StoreOp::Release, 1, throttled());
        store.fail_records(StoreOp::Release, 1, unreachable());
        let releases = [release("a", None), release("b", None)];
        assert_eq!(
            store.release(&releases).await,
            vec![Err(throttled()), Err(throttled())]
        );
        assert_eq!(
            store.release(&releases).await,
            vec![Err(unreachable()), Ok(())]
        );
        assert_eq!(store.release(&releases).await, vec![Ok(()), Ok(())]);
    }

    #[tokio::test]
    async fn outage_fails_everything_until_recovery() {
        let store = FlakyStore::new(MemoryStore::new());
        store.fail_calls(StoreOp::Claim, 1, throttled());
        store.outage(unreachable());
        let claim = plain("a", "h1", T + LOCK);
        for _ in 0..3 {
            assert_eq!(
                store.claim(std::slice::from_ref(&claim), T).await,
                vec![Err(unreachable())]
            );
        }
        assert_eq!(
            store.complete(&[done("a", T + TTL, None)]).await,
            vec![Err(unreachable())]
        );
        assert_eq!(
            store.release(&[release("a", None)]).await,
            vec![Err(unreachable())]
        );
        store.recover();
        // The fault queued before the outage is still pending.
        assert_eq!(
            store.claim(std::slice::from_ref(&claim), T).await,
            vec![Err(throttled())]
        );
        assert_eq!(claim_one(&store, claim, T).await, ClaimOutcome::Acquired);
        assert_eq!(store.calls(StoreOp::Claim), 5);
    }

    /// The story the pipeline tests tell: a throttled claim is retried, a completion whose
    /// answer is lost is not run again, and each event ends completed exactly once.
    #[tokio::test]
    async fn retries_through_faults_complete_each_event_once() {
        let store = FlakyStore::new(MemoryStore::new());
        let events = ["e1", "e2", "e3"];
        let mut runs = std::collections::HashMap::<&str, usize>::new();
        store.fail_calls(StoreOp::Claim, 1, throttled());
        store.fail_records(StoreOp::Claim, 1, throttled());
        store.lose_answers(StoreOp::Complete, 1, unreachable());
        let mut pending: Vec<&str> = events.to_vec();
        for delivery in 0..5 {
            let now = T + delivery * 1000;
            let claims: Vec<_> = pending
                .iter()
                .map(|key| plain(key, "h1", now + LOCK))
                .collect();
            let answers = store.claim(&claims, now).await;
            let mut retry = Vec::new();
            for (key, answer) in pending.iter().zip(answers) {
                match answer {
                    Ok(ClaimOutcome::Acquired) => {
                        *runs.entry(*key).or_default() += 1;
                        let completed = store.complete(&[done(key, now + TTL, None)]).await;
                        if completed != vec![Ok(())] {
                            retry.push(*key);
                        }
                    }
                    Ok(ClaimOutcome::Completed) => {}
                    Ok(other) => panic!("unexpected {other:?} for {key}"),
                    Err(_) => retry.push(*key),
                }
            }
            pending = retry;
        }
        assert!(pending.is_empty(), "still pending: {pending:?}");
        let once: std::collections::HashMap<&str, usize> = events.map(|key| (key, 1)).into();
        assert_eq!(runs, once);
    }
}
