//! Minimal, deterministic regression cases of the two guarantees a hostile SQS once broke,
//! through the pipeline, for any store: each test binary runs them on its own backend.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tidings::store::{Store, StoreError};
use tidings::testing::{Batch, invoke_with};
use tidings::testing::{FlakyStore, StoreOp};
use tidings::{HandlerOptions, Outcome, ReasonCode};

use super::{latest_items, ok_item, record_items, unique};

/// The deadline of an invocation with `millis` to go: its locks lapse then.
fn short_invocation(millis: u64) -> SystemTime {
    SystemTime::now() + Duration::from_millis(millis)
}

/// A short margin, so that short invocations still leave their claims time.
fn short_margin(options: &HandlerOptions) -> HandlerOptions {
    HandlerOptions {
        deadline_margin: Duration::from_millis(50),
        ..options.clone()
    }
}

async fn until_lapsed(deadline: SystemTime) {
    let left = deadline
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    tokio::time::sleep(left + Duration::from_millis(20)).await;
}

/// Defect 1: sequence 2 of a subject runs and succeeds, its completion write fails, the
/// record is acknowledged; after its lock lapses, sequence 1 arrives. It must be stale: the
/// subject never goes back.
pub async fn failed_completion_never_lets_latest_wins_go_back<S: Store>(store: Arc<FlakyStore<S>>) {
    let (pipeline, ledger) = super::pipeline(latest_items);
    let pipeline = pipeline.with_store(store.clone());
    let options = short_margin(pipeline.options());
    let pipeline = pipeline.with_options(options);
    let subject = unique("regression-item");
    let newer = ok_item(&subject, 2);
    let older = ok_item(&subject, 1);
    store.fail_calls(
        StoreOp::Complete,
        1,
        StoreError::Unavailable("injected: connection reset".into()),
    );
    let first = short_invocation(400);
    let result = invoke_with(&pipeline, &Batch::sqs().event(&newer), first).await;
    assert_eq!(result.outcomes(), [&Outcome::Processed]);
    until_lapsed(first).await;

    let late = short_invocation(5_000);
    let result = invoke_with(&pipeline, &Batch::sqs().event(&older), late).await;
    assert_eq!(
        result.outcomes(),
        [&Outcome::Stale {
            sequence: 1,
            newest: 2
        }],
        "an older event after a newer one whose completion failed"
    );
    assert_eq!(ledger.applied(&subject), [2], "the subject never went back");
}

/// Defect 2: delivery A claims an event and fails; its release times out but lands later,
/// after B took the lapsed lock over. The late release must be refused, so that C, another
/// copy, cannot run beside B: the effect happens once.
pub async fn late_release_never_frees_the_next_holder<S: Store>(store: Arc<FlakyStore<S>>) {
    let (pipeline, ledger) = super::pipeline(record_items);
    let pipeline = pipeline.with_store(store.clone());
    let options = short_margin(pipeline.options());
    let pipeline = pipeline.with_options(options);
    let event = super::item(&unique("regression-item"), 1, vec![super::Step::Fail]);
    let batch = Batch::sqs().event(&event);

    // A: the handler fails; the release leaves but lands only later.
    store.land_late(
        StoreOp::Release,
        1,
        StoreError::Unavailable("injected: the request timed out".into()),
    );
    let a = short_invocation(400);
    let result = invoke_with(&pipeline, &batch, a).await;
    assert!(matches!(result.outcomes()[0], Outcome::Retry(_)));
    until_lapsed(a).await;

    // B takes the lapsed lock and is still running (its claim holds) when A's release lands.
    // B's run is simulated by its claim alone: a claim through the pipeline would run the
    // handler at once, so B is the store call the pipeline makes, by hand.
    let b = tidings::store::Claim {
        key: format!("record_items#{}", event.id()),
        payload_hash: super::payload_hash(&event),
        owner: tidings::store::LockOwner::new(),
        lock_expires_at: tidings::store::now_millis() + 60_000,
        ordering: None,
    };
    let answer = store
        .claim(std::slice::from_ref(&b), tidings::store::now_millis())
        .await;
    assert_eq!(answer, [Ok(tidings::store::ClaimOutcome::Acquired)]);
    assert_eq!(store.land_held().await, 1, "A's release landed");

    // C, a republished copy, must find B's lock.
    let c = short_invocation(5_000);
    let result = invoke_with(&pipeline, &batch, c).await;
    match result.outcomes()[0] {
        Outcome::Retry(reason) => assert_eq!(reason.code, ReasonCode::InProgress),
        other => panic!("C ran beside B: {other:?}"),
    }
    assert_eq!(
        ledger.effects(event.id()),
        0,
        "nothing ran while B holds the lock"
    );
}
