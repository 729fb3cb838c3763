//! The pipeline's outcomes through every delivery shape (SQS, SNS via SQS, SNS, SQS FIFO):
//! what the handler is asked to do, what the record's outcome is, and what the queue or SNS
//! is told.

mod support;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tidings::store::{
    Claim, ClaimOutcome, LockOwner, Release, StoreError, SubjectSequence, now_millis,
};
use tidings::testing::{Batch, BatchKind, FlakyStore, StoreOp, TestRecord, invoke, invoke_with};
use tidings::{
    BatchResult, Envelope, Event, EventHandler, HandlerOptions, InvocationError,
    MemoryDeadLetterQueue, MemoryStore, Outcome, Pipeline, Reason, ReasonCode, Store,
};

use support::{
    ItemChangedV1, Ledger, Ping, REJECT_MESSAGE, SOURCE, Step, fail_message, ignore_others, item,
    latest_items, ok_item, panic_message, payload_hash, quiet_planned_panics, record_items, unique,
};

/// Every way records reach a handler.
const SHAPES: [BatchKind; 4] = [
    BatchKind::Sqs,
    BatchKind::SnsViaSqs,
    BatchKind::Sns,
    BatchKind::SqsFifo,
];

/// A type none of the test handlers accept.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.parcel.lost", version = 1)]
struct ParcelLost {
    #[event(subject)]
    parcel: String,
}

/// The reason of a retry, or a panic that says what the outcome was instead.
fn retried(outcome: &Outcome) -> &Reason {
    match outcome {
        Outcome::Retry(reason) => reason,
        other => panic!("expected a retry, got {other:?}"),
    }
}

/// Asserts that `outcome` is a retry for `code` whose message is exactly `message`.
fn assert_retry(outcome: &Outcome, code: ReasonCode, message: &str) {
    let reason = retried(outcome);
    assert_eq!(reason.code, code, "{reason}");
    assert_eq!(reason.message, message);
}

/// Asserts what the transport is told: for SQS shapes, exactly `failed` in
/// `batchItemFailures`; for SNS, an error naming the first retried record if any (a rejection
/// alone is acknowledged).
fn assert_answer(shape: BatchKind, result: &BatchResult, failed: &[&str]) {
    if shape == BatchKind::Sns {
        let retried = result
            .records
            .iter()
            .find(|record| matches!(record.outcome, Outcome::Retry(_)));
        match retried {
            None => assert_eq!(result.sns_result(), Ok(())),
            Some(record) => {
                let reason = record.outcome.reason().expect("a retry has a reason");
                assert_eq!(
                    result.sns_result(),
                    Err(InvocationError::SnsRetry {
                        message_id: record.message_id.clone().expect("an SNS record has an id"),
                        reason: reason.clone(),
                    })
                );
            }
        }
    } else {
        let reported: Vec<String> = result
            .sqs_response()
            .expect("every record has an id")
            .batch_item_failures
            .into_iter()
            .map(|failure| failure.item_identifier)
            .collect();
        assert_eq!(reported, failed, "{shape:?}: {:?}", result.outcomes());
    }
}

fn batch(shape: BatchKind) -> Batch {
    Batch::new(shape)
}

/// The deadline of an invocation that ends `after` from now.
fn invocation_ending_in(after: Duration) -> SystemTime {
    SystemTime::now() + after
}

// ---------------------------------------------------------------------------------------
// Processed, Duplicate, Stale, Ignored

#[tokio::test]
async fn a_new_event_is_processed_once_in_every_shape() {
    let ledger = Arc::new(Ledger::default());
    for shape in SHAPES {
        let pipeline = Pipeline::with_shared_state(record_items, ledger.clone());
        let event = ok_item(&unique("item"), 1);
        let result = invoke(&pipeline, &batch(shape).event(&event)).await;
        assert_eq!(result.outcomes(), [&Outcome::Processed], "{shape:?}");
        assert_eq!(result.records[0].event_id.as_deref(), Some(event.id()));
        assert_eq!(
            result.records[0].event_type.as_deref(),
            Some("test.item.changed")
        );
        assert_eq!(result.records[0].subject.as_deref(), event.subject());
        assert_eq!(ledger.effects(event.id()), 1, "{shape:?}");
        assert_answer(shape, &result, &[]);
    }
}

#[tokio::test]
async fn an_older_version_is_upcast_and_another_type_of_the_set_is_routed() {
    let ledger = Arc::new(Ledger::default());
    for shape in SHAPES {
        let pipeline = Pipeline::with_shared_state(record_items, ledger.clone());
        let older = Envelope::new(
            SOURCE,
            ItemChangedV1 {
                item: unique("item"),
                value: 3,
            },
        );
        let ping = Envelope::new(SOURCE, Ping { note: "hi".into() });
        let result = invoke(&pipeline, &batch(shape).event(&older).event(&ping)).await;
        assert_eq!(
            result.outcomes(),
            [&Outcome::Processed, &Outcome::Processed],
            "{shape:?}"
        );
        assert_eq!(ledger.effects(older.id()), 1);
        assert_eq!(ledger.effects(ping.id()), 1);
    }
}

#[tokio::test]
async fn a_copy_in_the_same_batch_and_a_later_redelivery_are_duplicates() {
    let ledger = Arc::new(Ledger::default());
    for shape in SHAPES {
        let pipeline = Pipeline::with_shared_state(record_items, ledger.clone());
        let event = ok_item(&unique("item"), 1);
        let result = invoke(&pipeline, &batch(shape).event(&event).duplicate(0)).await;
        assert_eq!(
            result.outcomes(),
            [&Outcome::Processed, &Outcome::Duplicate],
            "{shape:?}"
        );
        assert_answer(shape, &result, &[]);

        let again = invoke(&pipeline, &batch(shape).event(&event)).await;
        assert_eq!(again.outcomes(), [&Outcome::Duplicate], "{shape:?}");
        assert_answer(shape, &again, &[]);
        assert_eq!(ledger.attempts(event.id()), 1, "{shape:?}");
        assert_eq!(ledger.effects(event.id()), 1, "{shape:?}");
    }
}

#[tokio::test]
async fn an_older_event_after_a_newer_one_is_stale_under_latest_wins() {
    let ledger = Arc::new(Ledger::default());
    for shape in SHAPES {
        let pipeline = Pipeline::with_shared_state(latest_items, ledger.clone());

        // In one batch.
        let subject = unique("item");
        let (older, newer) = (ok_item(&subject, 1), ok_item(&subject, 2));
        let result = invoke(&pipeline, &batch(shape).event(&newer).event(&older)).await;
        assert_eq!(
            result.outcomes(),
            [
                &Outcome::Processed,
                &Outcome::Stale {
                    sequence: 1,
                    newest: 2
                }
            ],
            "{shape:?}"
        );
        assert_answer(shape, &result, &[]);
        assert_eq!(ledger.applied(&subject), [2]);

        // Across batches.
        let subject = unique("item");
        let (older, newer) = (ok_item(&subject, 4), ok_item(&subject, 7));
        let first = invoke(&pipeline, &batch(shape).event(&newer)).await;
        assert_eq!(first.outcomes(), [&Outcome::Processed], "{shape:?}");
        let late = invoke(&pipeline, &batch(shape).event(&older)).await;
        assert_eq!(
            late.outcomes(),
            [&Outcome::Stale {
                sequence: 4,
                newest: 7
            }],
            "{shape:?}"
        );
        assert_answer(shape, &late, &[]);
        assert_eq!(ledger.applied(&subject), [7]);
        assert_eq!(ledger.attempts(older.id()), 0);
    }
}

#[tokio::test]
async fn another_event_at_the_same_sequence_is_a_stale_sequence_conflict_under_latest_wins() {
    let ledger = Arc::new(Ledger::default());
    for shape in SHAPES {
        let pipeline = Pipeline::with_shared_state(latest_items, ledger.clone());
        let subject = unique("item");
        let (first, twin, late_twin) = (
            ok_item(&subject, 3),
            ok_item(&subject, 3),
            ok_item(&subject, 3),
        );
        assert_ne!(first.id(), twin.id());
        let result = invoke(&pipeline, &batch(shape).event(&first).event(&twin)).await;
        // Only one event can be the subject's version 3: the other one, in the same batch or
        // a later one, is a sequence conflict, acknowledged and not run.
        let conflict = Outcome::Stale {
            sequence: 3,
            newest: 3,
        };
        assert_eq!(
            result.outcomes(),
            [&Outcome::Processed, &conflict],
            "{shape:?}"
        );
        assert!(result.outcomes()[1].is_sequence_conflict());
        let later = invoke(&pipeline, &batch(shape).event(&late_twin)).await;
        assert_eq!(later.outcomes(), [&conflict], "{shape:?}");
        // A copy of the first event is still a duplicate.
        let copy = invoke(&pipeline, &batch(shape).event(&first)).await;
        assert_eq!(copy.outcomes(), [&Outcome::Duplicate], "{shape:?}");
        assert_eq!(ledger.applied(&subject), [3]);
    }
}

#[tokio::test]
async fn events_in_order_in_one_batch_skip_to_the_newest_except_on_fifo() {
    let ledger = Arc::new(Ledger::default());
    for shape in SHAPES {
        let pipeline = Pipeline::with_shared_state(latest_items, ledger.clone());
        let subject = unique("item");
        let events: Vec<_> = (1..=3)
            .map(|sequence| ok_item(&subject, sequence))
            .collect();
        let result = invoke(
            &pipeline,
            &batch(shape)
                .event(&events[0])
                .event(&events[1])
                .event(&events[2]),
        )
        .await;
        if shape == BatchKind::SqsFifo {
            // A FIFO group runs in order, one message at a time: each is newest when it runs.
            assert_eq!(result.outcomes(), [&Outcome::Processed; 3]);
            assert_eq!(ledger.applied(&subject), [1, 2, 3]);
        } else {
            // A standard batch runs only the newest of a subject; the older ones are stale.
            assert_eq!(
                result.outcomes(),
                [
                    &Outcome::Stale {
                        sequence: 1,
                        newest: 3
                    },
                    &Outcome::Stale {
                        sequence: 2,
                        newest: 3
                    },
                    &Outcome::Processed,
                ],
                "{shape:?}"
            );
            assert_eq!(ledger.applied(&subject), [3]);
        }
    }
}

#[tokio::test]
async fn a_type_the_handler_ignores_is_acknowledged_without_running() {
    let ledger = Arc::new(Ledger::default());
    for shape in SHAPES {
        let queue = Arc::new(MemoryDeadLetterQueue::new());
        let pipeline = Pipeline::with_shared_state(ignore_others, ledger.clone())
            .with_dead_letter_queue(queue.clone());
        let lost = Envelope::new(
            SOURCE,
            ParcelLost {
                parcel: unique("parcel"),
            },
        );
        let result = invoke(&pipeline, &batch(shape).event(&lost)).await;
        assert_eq!(result.outcomes(), [&Outcome::Ignored], "{shape:?}");
        assert_answer(shape, &result, &[]);
        assert_eq!(ledger.attempts(lost.id()), 0);
        assert!(queue.letters().is_empty());
    }
}

// ---------------------------------------------------------------------------------------
// Retry: transient errors, panics, deadlines; the lock is released each time

#[tokio::test]
async fn a_transient_error_is_retried_and_the_next_delivery_runs() {
    let ledger = Arc::new(Ledger::default());
    for shape in SHAPES {
        let pipeline = Pipeline::with_shared_state(record_items, ledger.clone());
        let event = item(&unique("item"), 1, vec![Step::Fail]);
        let result = invoke(&pipeline, &batch(shape).event(&event)).await;
        assert_retry(
            result.outcomes()[0],
            ReasonCode::HandlerFailed,
            &fail_message(1),
        );
        assert_answer(shape, &result, &["msg-0"]);
        assert_eq!(ledger.effects(event.id()), 0);

        let again = invoke(&pipeline, &batch(shape).event(&event)).await;
        assert_eq!(again.outcomes(), [&Outcome::Processed], "{shape:?}");
        assert_eq!(ledger.attempts(event.id()), 2);
        assert_eq!(ledger.effects(event.id()), 1);
    }
}

#[tokio::test]
async fn a_panic_is_retried_and_the_next_delivery_runs() {
    let ledger = Arc::new(Ledger::default());
    quiet_planned_panics();
    for shape in SHAPES {
        let pipeline = Pipeline::with_shared_state(record_items, ledger.clone());
        let event = item(&unique("item"), 1, vec![Step::Panic]);
        let result = invoke(&pipeline, &batch(shape).event(&event)).await;
        assert_retry(
            result.outcomes()[0],
            ReasonCode::HandlerPanicked,
            &format!("the handler panicked: {}", panic_message(1)),
        );
        assert_answer(shape, &result, &["msg-0"]);

        let again = invoke(&pipeline, &batch(shape).event(&event)).await;
        assert_eq!(again.outcomes(), [&Outcome::Processed], "{shape:?}");
        assert_eq!(ledger.attempts(event.id()), 2);
        assert_eq!(ledger.effects(event.id()), 1);
    }
}

#[tokio::test]
async fn a_handler_past_the_deadline_margin_is_cancelled_and_retried() {
    let ledger = Arc::new(Ledger::default());
    for shape in SHAPES {
        let mut options = <record_items as EventHandler>::OPTIONS;
        // 100 ms of budget; the lock it holds lasts until the deadline, 5 s away, so the
        // next delivery can only run if the lock was released.
        options.deadline_margin = Duration::from_millis(4_900);
        let pipeline =
            Pipeline::with_shared_state(record_items, ledger.clone()).with_options(options);
        let event = item(&unique("item"), 1, vec![Step::Sleep { ms: 60_000 }]);
        let result = invoke_with(
            &pipeline,
            &batch(shape).event(&event),
            invocation_ending_in(Duration::from_secs(5)),
        )
        .await;
        assert_retry(
            result.outcomes()[0],
            ReasonCode::DeadlineExceeded,
            "the handler did not finish 4900 ms before the Lambda deadline and was cancelled; \
             its lock was released so a later delivery can run",
        );
        assert_answer(shape, &result, &["msg-0"]);
        assert_eq!(ledger.effects(event.id()), 0);

        let again = invoke(&pipeline, &batch(shape).event(&event)).await;
        assert_eq!(again.outcomes(), [&Outcome::Processed], "{shape:?}");
        assert_eq!(ledger.attempts(event.id()), 2);
        assert_eq!(ledger.effects(event.id()), 1);
    }
}

// ---------------------------------------------------------------------------------------
// Rejected, KeyReused, InProgress

#[tokio::test]
async fn a_permanent_error_is_rejected_and_dead_lettered_when_a_queue_is_configured() {
    let ledger = Arc::new(Ledger::default());
    for shape in SHAPES {
        let event = item(&unique("item"), 1, vec![Step::Reject]);
        let rejected = Outcome::Rejected {
            reason: Reason::new(ReasonCode::HandlerRejected, REJECT_MESSAGE),
            dead_lettered: false,
        };

        let pipeline = Pipeline::with_shared_state(record_items, ledger.clone());
        let result = invoke(&pipeline, &batch(shape).event(&event)).await;
        assert_eq!(result.outcomes(), [&rejected], "{shape:?}");
        // Without a dead-letter queue SQS must redeliver it (and redrive it after
        // maxReceiveCount); SNS has nowhere better to put it, so it is acknowledged.
        assert_answer(shape, &result, &["msg-0"]);

        let queue = Arc::new(MemoryDeadLetterQueue::new());
        let pipeline = Pipeline::with_shared_state(record_items, ledger.clone())
            .with_dead_letter_queue(queue.clone());
        let event = item(&unique("item"), 1, vec![Step::Reject]);
        let result = invoke(&pipeline, &batch(shape).event(&event)).await;
        assert_eq!(
            result.outcomes(),
            [&Outcome::Rejected {
                reason: Reason::new(ReasonCode::HandlerRejected, REJECT_MESSAGE),
                dead_lettered: true,
            }],
            "{shape:?}"
        );
        assert_answer(shape, &result, &[]);
        let letters = queue.letters();
        assert_eq!(letters.len(), 1);
        assert_eq!(letters[0].message_id, "msg-0");
        assert_eq!(letters[0].body, event.to_json().expect("serializes"));
        assert_eq!(letters[0].reason.code, ReasonCode::HandlerRejected);
        assert_eq!(letters[0].event_id.as_deref(), Some(event.id()));
        assert_eq!(letters[0].handler, "record_items");
    }
}

#[tokio::test]
async fn an_event_id_reused_for_other_data_is_rejected() {
    let ledger = Arc::new(Ledger::default());
    for shape in SHAPES {
        let pipeline = Pipeline::with_shared_state(record_items, ledger.clone());
        let original = ok_item(&unique("item"), 1);
        let mut reused = original.clone();
        reused.data.value += 1;
        let message = |id: &str| {
            format!(
                "idempotency key `record_items#{id}` was already used for a different payload; \
                 keys must be unique per event (publish each event with a new id, or pick \
                 another key field)"
            )
        };

        // Across batches.
        let first = invoke(&pipeline, &batch(shape).event(&original)).await;
        assert_eq!(first.outcomes(), [&Outcome::Processed], "{shape:?}");
        let second = invoke(&pipeline, &batch(shape).event(&reused)).await;
        assert_eq!(
            second.outcomes(),
            [&Outcome::rejected(
                ReasonCode::KeyReused,
                message(original.id())
            )],
            "{shape:?}"
        );

        // In one batch.
        let original = ok_item(&unique("item"), 1);
        let mut reused = original.clone();
        reused.data.value += 1;
        let result = invoke(&pipeline, &batch(shape).event(&original).event(&reused)).await;
        assert_eq!(
            result.outcomes(),
            [
                &Outcome::Processed,
                &Outcome::rejected(ReasonCode::KeyReused, message(original.id()))
            ],
            "{shape:?}"
        );
        assert_eq!(ledger.attempts(original.id()), 1);
    }
}

#[tokio::test]
async fn an_event_claimed_by_another_invocation_is_retried_until_released() {
    let ledger = Arc::new(Ledger::default());
    for shape in SHAPES {
        let store = Arc::new(MemoryStore::new());
        let pipeline =
            Pipeline::with_shared_state(record_items, ledger.clone()).with_store(store.clone());
        let event = ok_item(&unique("item"), 1);
        let key = format!("record_items#{}", event.id());
        let until = now_millis() + 60_000;
        let claim = Claim {
            key: key.clone(),
            payload_hash: payload_hash(&event),
            owner: LockOwner::new(),
            lock_expires_at: until,
            ordering: None,
        };
        assert_eq!(
            store
                .claim(std::slice::from_ref(&claim), now_millis())
                .await,
            [Ok(ClaimOutcome::Acquired)]
        );

        let result = invoke(&pipeline, &batch(shape).event(&event)).await;
        assert_retry(
            result.outcomes()[0],
            ReasonCode::InProgress,
            &format!(
                "another delivery of this event is being processed (its lock lapses at {until} ms)"
            ),
        );
        assert_answer(shape, &result, &["msg-0"]);
        assert_eq!(ledger.attempts(event.id()), 0);

        // The other invocation fails and lets go.
        let release = Release {
            key,
            owner: claim.owner,
            subject: None,
        };
        assert_eq!(store.release(&[release]).await, [Ok(())]);
        let again = invoke(&pipeline, &batch(shape).event(&event)).await;
        assert_eq!(again.outcomes(), [&Outcome::Processed], "{shape:?}");
        assert_eq!(ledger.effects(event.id()), 1);
    }
}

#[tokio::test]
async fn an_event_whose_subject_another_event_holds_is_retried_under_latest_wins() {
    let ledger = Arc::new(Ledger::default());
    for shape in SHAPES {
        let store = Arc::new(MemoryStore::new());
        let pipeline =
            Pipeline::with_shared_state(latest_items, ledger.clone()).with_store(store.clone());
        let subject = unique("item");
        let running = ok_item(&subject, 5);
        let event = ok_item(&subject, 6);
        let until = now_millis() + 60_000;
        let subject_key = format!("latest_items#subject#{subject}");
        let claim = Claim {
            key: format!("latest_items#{}", running.id()),
            payload_hash: payload_hash(&running),
            owner: LockOwner::new(),
            lock_expires_at: until,
            ordering: Some(SubjectSequence {
                subject: subject_key.clone(),
                sequence: 5,
            }),
        };
        assert_eq!(
            store
                .claim(std::slice::from_ref(&claim), now_millis())
                .await,
            [Ok(ClaimOutcome::Acquired)]
        );

        let result = invoke(&pipeline, &batch(shape).event(&event)).await;
        assert_retry(
            result.outcomes()[0],
            ReasonCode::InProgress,
            &format!(
                "another event of the same subject is being processed (its lock lapses at {until} ms)"
            ),
        );
        assert_answer(shape, &result, &["msg-0"]);

        store
            .release(&[Release {
                key: claim.key,
                owner: claim.owner,
                subject: Some(subject_key.clone()),
            }])
            .await;
        let again = invoke(&pipeline, &batch(shape).event(&event)).await;
        assert_eq!(again.outcomes(), [&Outcome::Processed], "{shape:?}");
        assert_eq!(store.newest(&subject_key), Some(6));
    }
}

// ---------------------------------------------------------------------------------------
// Store failures

/// The shapes whose store calls differ: standard batches claim all records in one call,
/// FIFO groups claim one record at a time.
const STORE_SHAPES: [BatchKind; 2] = [BatchKind::Sqs, BatchKind::SqsFifo];

fn flaky() -> Arc<FlakyStore<MemoryStore>> {
    Arc::new(FlakyStore::new(MemoryStore::new()))
}

#[tokio::test]
async fn a_throttled_claim_is_retried_and_processed_once_after_recovery() {
    let ledger = Arc::new(Ledger::default());
    for shape in STORE_SHAPES {
        let store = flaky();
        let pipeline =
            Pipeline::with_shared_state(record_items, ledger.clone()).with_store(store.clone());
        let event = ok_item(&unique("item"), 1);
        store.fail_calls(
            StoreOp::Claim,
            1,
            StoreError::Throttled("rate of requests exceeded".into()),
        );
        let result = invoke(&pipeline, &batch(shape).event(&event)).await;
        assert_retry(
            result.outcomes()[0],
            ReasonCode::Store,
            "the idempotency store throttled the request: rate of requests exceeded",
        );
        assert_answer(shape, &result, &["msg-0"]);
        assert_eq!(
            ledger.attempts(event.id()),
            0,
            "no handler runs without its lock"
        );

        let again = invoke(&pipeline, &batch(shape).event(&event)).await;
        assert_eq!(again.outcomes(), [&Outcome::Processed], "{shape:?}");
        let late = invoke(&pipeline, &batch(shape).event(&event)).await;
        assert_eq!(late.outcomes(), [&Outcome::Duplicate], "{shape:?}");
        assert_eq!(ledger.effects(event.id()), 1);
    }
}

#[tokio::test]
async fn an_outage_retries_the_whole_batch_and_each_event_runs_once_after_it() {
    let ledger = Arc::new(Ledger::default());
    for shape in STORE_SHAPES {
        let store = flaky();
        let pipeline =
            Pipeline::with_shared_state(latest_items, ledger.clone()).with_store(store.clone());
        let events: Vec<_> = (0..3).map(|_| ok_item(&unique("item"), 1)).collect();
        let delivered = events
            .iter()
            .fold(batch(shape), |batch, event| batch.event(event));
        store.outage(StoreError::Unavailable("connection refused".into()));
        let result = invoke(&pipeline, &delivered).await;
        for outcome in result.outcomes() {
            assert_retry(
                outcome,
                ReasonCode::Store,
                "the idempotency store is unreachable: connection refused",
            );
        }
        assert_answer(shape, &result, &["msg-0", "msg-1", "msg-2"]);

        store.recover();
        let again = invoke(&pipeline, &delivered).await;
        assert_eq!(again.outcomes(), [&Outcome::Processed; 3], "{shape:?}");
        let late = invoke(&pipeline, &delivered).await;
        assert_eq!(late.outcomes(), [&Outcome::Duplicate; 3], "{shape:?}");
        for event in &events {
            assert_eq!(ledger.effects(event.id()), 1);
        }
    }
}

#[tokio::test]
async fn a_claim_whose_answer_was_lost_holds_its_lock_until_the_deadline() {
    let ledger = Arc::new(Ledger::default());
    for shape in STORE_SHAPES {
        let store = flaky();
        // A short invocation: the margin must leave the claim time to be made.
        let pipeline =
            Pipeline::with_shared_state(record_items, ledger.clone()).with_store(store.clone());
        let options = HandlerOptions {
            deadline_margin: Duration::from_millis(50),
            ..pipeline.options().clone()
        };
        let pipeline = pipeline.with_options(options);
        let event = ok_item(&unique("item"), 1);
        store.lose_answers(
            StoreOp::Claim,
            1,
            StoreError::Unavailable("the request timed out".into()),
        );
        let deadline = invocation_ending_in(Duration::from_millis(300));
        let result = invoke_with(&pipeline, &batch(shape).event(&event), deadline).await;
        assert_retry(
            result.outcomes()[0],
            ReasonCode::Store,
            "the idempotency store is unreachable: the request timed out",
        );

        // The claim landed: until its invocation's deadline, nobody else may run the event.
        let blocked = invoke(&pipeline, &batch(shape).event(&event)).await;
        assert_eq!(retried(blocked.outcomes()[0]).code, ReasonCode::InProgress);
        assert_eq!(ledger.attempts(event.id()), 0);

        // Past that deadline the lock has lapsed and the next delivery runs it, once.
        let lapse = deadline
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        tokio::time::sleep(lapse + Duration::from_millis(20)).await;
        let again = invoke(&pipeline, &batch(shape).event(&event)).await;
        assert_eq!(again.outcomes(), [&Outcome::Processed], "{shape:?}");
        assert_eq!(ledger.effects(event.id()), 1);
    }
}

#[tokio::test]
async fn a_failed_completion_acknowledges_the_record_and_blocks_a_prompt_duplicate() {
    let ledger = Arc::new(Ledger::default());
    for shape in STORE_SHAPES {
        let store = flaky();
        let pipeline =
            Pipeline::with_shared_state(record_items, ledger.clone()).with_store(store.clone());
        let event = ok_item(&unique("item"), 1);
        store.fail_calls(
            StoreOp::Complete,
            1,
            StoreError::Unavailable("connection reset".into()),
        );
        // The side effect happened: retrying would run it twice.
        let result = invoke(&pipeline, &batch(shape).event(&event)).await;
        assert_eq!(result.outcomes(), [&Outcome::Processed], "{shape:?}");
        assert_answer(shape, &result, &[]);

        let duplicate = invoke(&pipeline, &batch(shape).event(&event)).await;
        assert_eq!(
            retried(duplicate.outcomes()[0]).code,
            ReasonCode::InProgress
        );
        assert_eq!(ledger.effects(event.id()), 1);
    }
}

#[tokio::test]
async fn a_failed_release_keeps_the_lock_until_the_deadline_then_the_event_runs() {
    let ledger = Arc::new(Ledger::default());
    for shape in STORE_SHAPES {
        let store = flaky();
        let pipeline =
            Pipeline::with_shared_state(record_items, ledger.clone()).with_store(store.clone());
        let event = item(&unique("item"), 1, vec![Step::Fail]);
        store.fail_calls(
            StoreOp::Release,
            1,
            StoreError::Unavailable("connection reset".into()),
        );
        let deadline = invocation_ending_in(Duration::from_millis(800));
        let result = invoke_with(&pipeline, &batch(shape).event(&event), deadline).await;
        assert_retry(
            result.outcomes()[0],
            ReasonCode::HandlerFailed,
            &fail_message(1),
        );
        assert_eq!(store.calls(StoreOp::Release), 1);

        let blocked = invoke(&pipeline, &batch(shape).event(&event)).await;
        assert_eq!(retried(blocked.outcomes()[0]).code, ReasonCode::InProgress);

        let lapse = deadline
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        tokio::time::sleep(lapse + Duration::from_millis(20)).await;
        let again = invoke(&pipeline, &batch(shape).event(&event)).await;
        assert_eq!(again.outcomes(), [&Outcome::Processed], "{shape:?}");
        assert_eq!(ledger.attempts(event.id()), 2);
        assert_eq!(ledger.effects(event.id()), 1);
    }
}

#[tokio::test]
async fn a_store_failing_one_record_retries_only_that_record() {
    let ledger = Arc::new(Ledger::default());
    for shape in STORE_SHAPES {
        let store = flaky();
        let pipeline =
            Pipeline::with_shared_state(record_items, ledger.clone()).with_store(store.clone());
        let (first, second) = (ok_item(&unique("item"), 1), ok_item(&unique("item"), 1));
        store.fail_records(
            StoreOp::Claim,
            1,
            StoreError::Throttled("item throttled".into()),
        );
        let result = invoke(&pipeline, &batch(shape).event(&first).event(&second)).await;
        assert_retry(
            result.outcomes()[0],
            ReasonCode::Store,
            "the idempotency store throttled the request: item throttled",
        );
        assert_eq!(result.outcomes()[1], &Outcome::Processed, "{shape:?}");
        assert_answer(shape, &result, &["msg-0"]);
        assert_eq!(ledger.effects(first.id()), 0);
        assert_eq!(ledger.effects(second.id()), 1);
    }
}

// ---------------------------------------------------------------------------------------
// FIFO groups

const GROUP_BLOCKED: &str = "an earlier message of this FIFO message group failed; retried after it to keep the group's order";

#[tokio::test]
async fn a_failure_in_a_fifo_group_blocks_its_later_records_while_other_groups_proceed() {
    let ledger = Arc::new(Ledger::default());
    let pipeline = Pipeline::with_shared_state(record_items, ledger.clone());
    let (a, b) = (unique("group-a"), unique("group-b"));
    let a1 = item(&a, 1, vec![Step::Fail]);
    let (a2, a3) = (ok_item(&a, 2), ok_item(&a, 3));
    let (b1, b2) = (ok_item(&b, 1), ok_item(&b, 2));
    let interleaved = Batch::sqs_fifo()
        .event(&a1)
        .event(&b1)
        .event(&a2)
        .event(&b2)
        .event(&a3);
    let result = invoke(&pipeline, &interleaved).await;
    let outcomes = result.outcomes();
    assert_retry(outcomes[0], ReasonCode::HandlerFailed, &fail_message(1));
    assert_eq!(outcomes[1], &Outcome::Processed);
    assert_retry(outcomes[2], ReasonCode::GroupBlocked, GROUP_BLOCKED);
    assert_eq!(outcomes[3], &Outcome::Processed);
    assert_retry(outcomes[4], ReasonCode::GroupBlocked, GROUP_BLOCKED);
    assert_answer(BatchKind::SqsFifo, &result, &["msg-0", "msg-2", "msg-4"]);
    assert_eq!(ledger.attempts(a2.id()), 0);
    assert_eq!(ledger.attempts(a3.id()), 0);
    assert_eq!(ledger.applied(&b), [1, 2]);

    // SQS redelivers group A, in order.
    let redelivery = Batch::sqs_fifo().event(&a1).event(&a2).event(&a3);
    let again = invoke(&pipeline, &redelivery).await;
    assert_eq!(again.outcomes(), [&Outcome::Processed; 3]);
    assert_eq!(ledger.applied(&a), [1, 2, 3]);
}

#[tokio::test]
async fn a_rejected_fifo_record_blocks_its_group_only_without_a_dead_letter_queue() {
    let ledger = Arc::new(Ledger::default());
    let group = unique("group");
    let refused = item(&group, 1, vec![Step::Reject]);
    let next = ok_item(&group, 2);
    let fifo = Batch::sqs_fifo()
        .event(&refused)
        .record(TestRecord::raw("not an envelope").group(&group))
        .event(&next);

    // Without one, the rejection stays in the queue, and the group must wait behind it.
    let result = invoke(
        &Pipeline::with_shared_state(record_items, ledger.clone()),
        &fifo,
    )
    .await;
    assert_eq!(result.outcomes()[0].name(), "rejected");
    assert_retry(
        result.outcomes()[1],
        ReasonCode::GroupBlocked,
        GROUP_BLOCKED,
    );
    assert_retry(
        result.outcomes()[2],
        ReasonCode::GroupBlocked,
        GROUP_BLOCKED,
    );
    assert_answer(BatchKind::SqsFifo, &result, &["msg-0", "msg-1", "msg-2"]);
    assert_eq!(ledger.attempts(next.id()), 0);

    // With one, rejections leave the group at once and the rest of it runs. (New events:
    // the ones above have used up their scripted rejection.)
    let group = unique("group");
    let refused = item(&group, 1, vec![Step::Reject]);
    let next = ok_item(&group, 2);
    let fifo = Batch::sqs_fifo()
        .event(&refused)
        .record(TestRecord::raw("not an envelope").group(&group))
        .event(&next);
    let queue = Arc::new(MemoryDeadLetterQueue::new());
    let pipeline = Pipeline::with_shared_state(record_items, ledger.clone())
        .with_dead_letter_queue(queue.clone());
    let result = invoke(&pipeline, &fifo).await;
    assert_eq!(
        result.outcomes()[0],
        &Outcome::Rejected {
            reason: Reason::new(ReasonCode::HandlerRejected, REJECT_MESSAGE),
            dead_lettered: true,
        }
    );
    assert!(matches!(
        result.outcomes()[1],
        Outcome::Rejected { reason, dead_lettered: true } if reason.code == ReasonCode::Envelope
    ));
    assert_eq!(result.outcomes()[2], &Outcome::Processed);
    assert_answer(BatchKind::SqsFifo, &result, &[]);
    let letters = queue.letters();
    assert_eq!(letters.len(), 2);
    assert_eq!(letters[1].body, "not an envelope");
    assert_eq!(letters[0].body, refused.to_json().expect("serializes"));
}

// ---------------------------------------------------------------------------------------
// Concurrency and batch siblings

#[tokio::test]
async fn a_standard_batch_runs_its_records_concurrently_up_to_the_limit() {
    let ledger = Arc::new(Ledger::default());
    for (concurrency, expected) in [(10, 10), (3, 3), (1, 1)] {
        let gauge = unique("gauge");
        let slow = Step::Gauge {
            name: gauge.clone(),
            ms: 100,
        };
        let mut options = <record_items as EventHandler>::OPTIONS;
        options.concurrency = concurrency;
        let pipeline =
            Pipeline::with_shared_state(record_items, ledger.clone()).with_options(options);
        let delivered = (0..10).fold(Batch::sqs(), |batch, _| {
            batch.event(&item(&unique("item"), 1, vec![slow.clone()]))
        });
        let result = invoke(&pipeline, &delivered).await;
        assert_eq!(result.outcomes(), [&Outcome::Processed; 10]);
        assert_eq!(
            ledger.max_in_flight(&gauge),
            expected,
            "concurrency {concurrency}"
        );
    }
}

#[tokio::test]
async fn fifo_groups_run_concurrently_and_each_group_one_record_at_a_time() {
    let ledger = Arc::new(Ledger::default());
    // Ten groups of one record each run at once.
    let gauge = unique("gauge");
    let slow = Step::Gauge {
        name: gauge.clone(),
        ms: 100,
    };
    let pipeline = Pipeline::with_shared_state(record_items, ledger.clone());
    let delivered = (0..10).fold(Batch::sqs_fifo(), |batch, _| {
        batch.event(&item(&unique("group"), 1, vec![slow.clone()]))
    });
    let result = invoke(&pipeline, &delivered).await;
    assert_eq!(result.outcomes(), [&Outcome::Processed; 10]);
    assert_eq!(ledger.max_in_flight(&gauge), 10);

    // One group of ten runs one at a time.
    let gauge = unique("gauge");
    let slow = Step::Gauge {
        name: gauge.clone(),
        ms: 20,
    };
    let group = unique("group");
    let delivered = (1..=10).fold(Batch::sqs_fifo(), |batch, sequence| {
        batch.event(&item(&group, sequence, vec![slow.clone()]))
    });
    let result = invoke(&pipeline, &delivered).await;
    assert_eq!(result.outcomes(), [&Outcome::Processed; 10]);
    assert_eq!(ledger.max_in_flight(&gauge), 1);
}

const SIBLING_NEWER_FAILED: &str =
    "a newer event of the same subject in this batch failed; retried with it";

#[tokio::test]
async fn superseded_events_follow_the_newest_of_their_subject_in_a_batch() {
    let ledger = Arc::new(Ledger::default());
    let pipeline = Pipeline::with_shared_state(latest_items, ledger.clone());

    // The newest succeeds: the older ones are stale, and never run.
    let subject = unique("item");
    let (e1, e2, e3) = (
        ok_item(&subject, 1),
        ok_item(&subject, 2),
        ok_item(&subject, 3),
    );
    let result = invoke(&pipeline, &Batch::sqs().event(&e1).event(&e3).event(&e2)).await;
    assert_eq!(
        result.outcomes(),
        [
            &Outcome::Stale {
                sequence: 1,
                newest: 3
            },
            &Outcome::Processed,
            &Outcome::Stale {
                sequence: 2,
                newest: 3
            },
        ]
    );
    assert_eq!(ledger.attempts(e1.id()) + ledger.attempts(e2.id()), 0);

    // The newest fails: the older ones are retried with it, so that nothing is lost if it
    // never succeeds.
    let subject = unique("item");
    let (e1, e2) = (ok_item(&subject, 1), ok_item(&subject, 2));
    let e3 = item(&subject, 3, vec![Step::Fail]);
    let delivered = Batch::sqs().event(&e1).event(&e3).event(&e2);
    let result = invoke(&pipeline, &delivered).await;
    let outcomes = result.outcomes();
    assert_retry(outcomes[0], ReasonCode::BatchSibling, SIBLING_NEWER_FAILED);
    assert_retry(outcomes[1], ReasonCode::HandlerFailed, &fail_message(1));
    assert_retry(outcomes[2], ReasonCode::BatchSibling, SIBLING_NEWER_FAILED);
    assert_answer(BatchKind::Sqs, &result, &["msg-0", "msg-1", "msg-2"]);

    let again = invoke(&pipeline, &delivered).await;
    assert_eq!(
        again.outcomes(),
        [
            &Outcome::Stale {
                sequence: 1,
                newest: 3
            },
            &Outcome::Processed,
            &Outcome::Stale {
                sequence: 2,
                newest: 3
            },
        ]
    );
    assert_eq!(ledger.applied(&subject), [3]);

    // A rejected newest event took the subject's mark with its claim: the older ones can
    // never take effect, so they are stale now rather than retried to be stale later.
    let subject = unique("item");
    let (e1, e2) = (ok_item(&subject, 1), item(&subject, 2, vec![Step::Reject]));
    let result = invoke(&pipeline, &Batch::sqs().event(&e1).event(&e2)).await;
    assert_eq!(
        result.outcomes()[0],
        &Outcome::Stale {
            sequence: 1,
            newest: 2
        }
    );
    assert_eq!(result.outcomes()[1].name(), "rejected");
    let again = invoke(&pipeline, &Batch::sqs().event(&e1)).await;
    assert_eq!(again.outcomes()[0], result.outcomes()[0]);
}

#[tokio::test]
async fn a_copy_of_a_failed_event_in_the_same_batch_is_retried_with_it() {
    let ledger = Arc::new(Ledger::default());
    let pipeline = Pipeline::with_shared_state(record_items, ledger.clone());
    let event = item(&unique("item"), 1, vec![Step::Fail]);
    let result = invoke(&pipeline, &Batch::sqs().event(&event).duplicate(0)).await;
    assert_retry(
        result.outcomes()[0],
        ReasonCode::HandlerFailed,
        &fail_message(1),
    );
    assert_retry(
        result.outcomes()[1],
        ReasonCode::BatchSibling,
        "another copy of this event in the same batch failed; retried with it",
    );
    assert_answer(BatchKind::Sqs, &result, &["msg-0", "msg-1"]);
    assert_eq!(ledger.attempts(event.id()), 1);
}

// ---------------------------------------------------------------------------------------
// Metrics

#[tokio::test]
async fn the_metrics_document_counts_each_outcome_of_a_mixed_batch() {
    let ledger = Arc::new(Ledger::default());
    let pipeline =
        Pipeline::with_shared_state(latest_items, ledger.clone()).with_metrics_namespace("shop");
    let subject = unique("item");
    let newer = ok_item(&subject, 2);
    let mixed = Batch::sqs()
        .event(&newer)
        .duplicate(0)
        .event(&ok_item(&subject, 1))
        .event(&item(&unique("item"), 1, vec![Step::Fail]))
        .event(&item(&unique("item"), 1, vec![Step::Reject]))
        .raw("garbage")
        .event(&ok_item(&unique("item"), 1));
    let before = now_millis();
    let answer = tidings::testing::answer(&pipeline, &mixed).await;
    let after = now_millis();
    let result = answer.batch;
    let names: Vec<&str> = result.outcomes().iter().map(|o| o.name()).collect();
    assert_eq!(
        names,
        [
            "processed",
            "duplicate",
            "stale",
            "retry",
            "rejected",
            "rejected",
            "processed"
        ]
    );

    let line = answer.metrics.expect("a batch that ran has a metrics line");
    assert!(!line.contains('\n'), "one line: {line}");
    let document: serde_json::Value = serde_json::from_str(&line).expect("the line is JSON");
    assert_eq!(document["Handler"], "latest_items");
    assert_eq!(document["Records"], 7);
    assert_eq!(document["Processed"], 2);
    assert_eq!(document["Duplicates"], 1);
    assert_eq!(document["Stale"], 1);
    assert_eq!(document["Ignored"], 0);
    assert_eq!(document["Retried"], 1);
    assert_eq!(document["Rejected"], 2);
    assert!(document["OldestEventAgeMs"].is_u64());
    let aws = &document["_aws"];
    let stamped = aws["Timestamp"]
        .as_u64()
        .expect("a timestamp in epoch milliseconds");
    assert!(
        (before..=after).contains(&stamped),
        "{stamped} not in {before}..={after}"
    );
    let directive = &aws["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], "shop");
    assert_eq!(directive["Dimensions"], serde_json::json!([["Handler"]]));
    let metric_names: Vec<&str> = directive["Metrics"]
        .as_array()
        .expect("a list of metrics")
        .iter()
        .map(|metric| metric["Name"].as_str().expect("a name"))
        .collect();
    assert_eq!(
        metric_names,
        [
            "Records",
            "Processed",
            "Duplicates",
            "Stale",
            "Ignored",
            "Retried",
            "Rejected",
            "OldestEventAgeMs"
        ]
    );

    let ignored = tidings::testing::answer(
        &Pipeline::with_shared_state(ignore_others, ledger.clone()),
        &Batch::sqs().event(&Envelope::new(
            SOURCE,
            ParcelLost {
                parcel: unique("parcel"),
            },
        )),
    )
    .await;
    let document: serde_json::Value =
        serde_json::from_str(&ignored.metrics.expect("the batch ran")).expect("the line is JSON");
    assert_eq!(document["Ignored"], 1);
    assert_eq!(document["Processed"], 0);
}

#[tokio::test]
async fn a_copy_of_a_superseded_event_follows_it() {
    let ledger = Arc::new(Ledger::default());
    // The copy follows the event's first record, which itself follows the newer event.
    let pipeline = Pipeline::with_shared_state(latest_items, ledger.clone());
    let subject = unique("item");
    let (older, newer) = (ok_item(&subject, 1), ok_item(&subject, 2));
    let result = invoke(
        &pipeline,
        &Batch::sqs().event(&older).duplicate(0).event(&newer),
    )
    .await;
    assert_eq!(
        result.outcomes(),
        [
            &Outcome::Stale {
                sequence: 1,
                newest: 2
            },
            &Outcome::Duplicate,
            &Outcome::Processed,
        ]
    );

    let subject = unique("item");
    let older = ok_item(&subject, 1);
    let newer = item(&subject, 2, vec![Step::Fail]);
    let result = invoke(
        &pipeline,
        &Batch::sqs().event(&older).duplicate(0).event(&newer),
    )
    .await;
    let outcomes = result.outcomes();
    assert_retry(outcomes[0], ReasonCode::BatchSibling, SIBLING_NEWER_FAILED);
    assert_retry(
        outcomes[1],
        ReasonCode::BatchSibling,
        "another copy of this event in the same batch failed; retried with it",
    );
    assert_retry(outcomes[2], ReasonCode::HandlerFailed, &fail_message(1));
    assert_eq!(ledger.attempts(older.id()), 0);
}

// ---------------------------------------------------------------------------------------
// The two guarantees a hostile SQS once broke, on the memory store (store_dynamodb runs the
// same cases on DynamoDB Local).

#[tokio::test]
async fn regression_a_failed_completion_never_lets_latest_wins_go_back() {
    support::regressions::failed_completion_never_lets_latest_wins_go_back(flaky()).await;
}

#[tokio::test]
async fn regression_a_late_release_never_frees_the_next_holder() {
    support::regressions::late_release_never_frees_the_next_holder(flaky()).await;
}
