//! The DynamoDB store on Amazon's DynamoDB Local (on loopback, started by scripts/test),
//! through the real AWS SDK: the store conformance suite (with its concurrency checks, which
//! an unfaithful server fails), the Powertools attribute layout, constant round trips per
//! batch, and store failures becoming retries.

mod common;
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};

use aws_sdk_dynamodb::types::AttributeValue;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tidings::store::{
    Claim, ClaimOutcome, Completion, DynamoDbStore, EpochMillis, LockOwner, Release, Store,
    StoreError, now_millis,
};
use tidings::testing::{Batch, conformance, invoke};
use tidings::{Context, Envelope, Event, HandlerError, Outcome, Pipeline, ReasonCode};

async fn store(prefix: &str) -> DynamoDbStore {
    let config = common::dynamodb_config().await;
    let store = DynamoDbStore::new(
        aws_sdk_dynamodb::Client::new(&config),
        common::unique_name(prefix),
    );
    store
        .create_table_if_missing()
        .await
        .expect("the table is created on the local server");
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_store_conformance_suite() {
    let store = Arc::new(store("conformance").await);
    conformance::run_all(store, "dynamodb").await;
}

#[tokio::test(flavor = "current_thread")]
async fn writes_the_powertools_attribute_layout() {
    let store = store("layout").await;
    let now = now_millis();
    let claim = Claim {
        key: "fn#handler#event-1".into(),
        payload_hash: "abc".into(),
        owner: LockOwner::from_text("owner-1"),
        lock_expires_at: now + 30_000,
        ordering: None,
    };
    assert_eq!(
        store.claim(std::slice::from_ref(&claim), now).await,
        [Ok(ClaimOutcome::Acquired)]
    );
    let item = get(&store, "fn#handler#event-1").await;
    assert_eq!(item["status"], AttributeValue::S("INPROGRESS".into()));
    assert_eq!(
        item["in_progress_expiration"],
        AttributeValue::N((now + 30_000).to_string())
    );
    assert_eq!(item["validation"], AttributeValue::S("abc".into()));
    assert_eq!(item["lock_owner"], AttributeValue::S("owner-1".into()));
    assert!(
        item.contains_key("expiration"),
        "in-progress items carry a TTL too"
    );

    let expires_at = now + 3_600_000;
    let completion = Completion {
        key: claim.key.clone(),
        owner: claim.owner.clone(),
        expires_at,
        subject: None,
    };
    assert_eq!(store.complete(&[completion]).await, [Ok(())]);
    let item = get(&store, "fn#handler#event-1").await;
    assert_eq!(item["status"], AttributeValue::S("COMPLETED".into()));
    assert_eq!(
        item["expiration"],
        AttributeValue::N((expires_at / 1000).to_string())
    );
}

async fn get(
    store: &DynamoDbStore,
    key: &str,
) -> std::collections::HashMap<String, AttributeValue> {
    store
        .client()
        .get_item()
        .table_name(store.table())
        .key("id", AttributeValue::S(key.into()))
        .consistent_read(true)
        .send()
        .await
        .expect("get_item")
        .item
        .expect("the item exists")
}

/// A store that counts the calls made to it: each call is one sequential round trip,
/// however many records it carries.
struct Counting<S> {
    inner: S,
    calls: AtomicUsize,
}

#[async_trait::async_trait]
impl<S: Store> Store for Counting<S> {
    async fn claim(
        &self,
        claims: &[Claim],
        now: EpochMillis,
    ) -> Vec<Result<ClaimOutcome, StoreError>> {
        self.calls.fetch_add(1, AtomicOrdering::SeqCst);
        self.inner.claim(claims, now).await
    }
    async fn complete(&self, completions: &[Completion]) -> Vec<Result<(), StoreError>> {
        self.calls.fetch_add(1, AtomicOrdering::SeqCst);
        self.inner.complete(completions).await
    }
    async fn release(&self, releases: &[Release]) -> Vec<Result<(), StoreError>> {
        self.calls.fetch_add(1, AtomicOrdering::SeqCst);
        self.inner.release(releases).await
    }
}

/// Stock of an item changed.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.stock.changed", version = 1)]
struct StockChanged {
    #[event(subject)]
    sku: String,
    level: i64,
}

/// Records each stock level it applied, in its state.
#[tidings::event_handler(ordering = "latest_wins", main = false)]
async fn track_stock(
    event: Envelope<StockChanged>,
    _ctx: &Context,
    applied: &std::sync::Mutex<Vec<(String, i64)>>,
) -> Result<(), HandlerError> {
    applied
        .lock()
        .expect("applied")
        .push((event.data.sku.clone(), event.data.level));
    Ok(())
}

#[tokio::test(flavor = "current_thread")]
async fn a_batch_costs_a_constant_number_of_round_trips_and_duplicates_and_stale_events_are_skipped()
 {
    let counting = Arc::new(Counting {
        inner: store("batch").await,
        calls: AtomicUsize::new(0),
    });
    let pipeline =
        Pipeline::with_state(track_stock, Default::default()).with_store(counting.clone());
    let sku = common::unique_name("sku");
    let events: Vec<_> = (1..=10)
        .map(|n| {
            Envelope::new(
                "test",
                StockChanged {
                    sku: format!("{sku}-{n}"),
                    level: n,
                },
            )
            .with_sequence(1)
        })
        .collect();
    let batch = events
        .iter()
        .fold(Batch::sqs(), |batch, event| batch.event(event));

    let result = invoke(&pipeline, &batch).await;
    assert!(
        result.outcomes().iter().all(|o| **o == Outcome::Processed),
        "{:?}",
        result.outcomes()
    );
    assert_eq!(
        counting.calls.load(AtomicOrdering::SeqCst),
        2,
        "one claim call and one completion call for 10 records"
    );

    // The same batch again is all duplicates, at one round trip.
    let again = invoke(&pipeline, &batch).await;
    assert!(
        again.outcomes().iter().all(|o| **o == Outcome::Duplicate),
        "{:?}",
        again.outcomes()
    );
    assert_eq!(counting.calls.load(AtomicOrdering::SeqCst), 3);

    // An older event of a subject that moved on is stale, across invocations.
    let newer = Envelope::new(
        "test",
        StockChanged {
            sku: format!("{sku}-1"),
            level: 50,
        },
    )
    .with_sequence(5);
    let older = Envelope::new(
        "test",
        StockChanged {
            sku: format!("{sku}-1"),
            level: 40,
        },
    )
    .with_sequence(4);
    assert_eq!(
        invoke(&pipeline, &Batch::sqs().event(&newer))
            .await
            .outcomes(),
        [&Outcome::Processed]
    );
    assert_eq!(
        invoke(&pipeline, &Batch::sqs().event(&older))
            .await
            .outcomes(),
        [&Outcome::Stale {
            sequence: 4,
            newest: 5
        }]
    );
    let applied = pipeline.state().lock().expect("applied").clone();
    assert!(applied.contains(&(format!("{sku}-1"), 50)));
    assert!(
        !applied.contains(&(format!("{sku}-1"), 40)),
        "the stale event did not run"
    );
}

/// Handled, and counted, once per event id.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.note.taken", version = 1)]
struct NoteTaken {
    text: String,
}

/// Records each note it took, in its state.
#[tidings::event_handler(main = false)]
async fn take_note(
    event: Envelope<NoteTaken>,
    _ctx: &Context,
    notes: &std::sync::Mutex<Vec<String>>,
) -> Result<(), HandlerError> {
    notes.lock().expect("notes").push(event.data.text);
    Ok(())
}

#[tokio::test(flavor = "current_thread")]
async fn an_unreachable_store_gives_retry_and_after_recovery_each_event_runs_once() {
    let healthy = store("recovery").await;
    // A client of the same table through a port where nothing listens.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead_endpoint = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let dead_config = common::dynamodb_config()
        .await
        .into_builder()
        .endpoint_url(dead_endpoint)
        .build();
    let unreachable =
        DynamoDbStore::new(aws_sdk_dynamodb::Client::new(&dead_config), healthy.table());

    let marker = common::unique_name("note");
    let notes: Vec<_> = (0..3)
        .map(|n| {
            Envelope::new(
                "test",
                NoteTaken {
                    text: format!("{marker}-{n}"),
                },
            )
        })
        .collect();
    let batch = notes
        .iter()
        .fold(Batch::sqs(), |batch, note| batch.event(note));

    let down = invoke(
        &Pipeline::with_state(take_note, Default::default()).with_store(Arc::new(unreachable)),
        &batch,
    )
    .await;
    for outcome in down.outcomes() {
        match outcome {
            Outcome::Retry(reason) => {
                assert_eq!(reason.code, ReasonCode::Store);
                assert!(reason.message.contains("unreachable"), "{}", reason.message);
            }
            other => panic!("expected a retry, got {other:?}"),
        }
    }
    assert_eq!(
        down.sqs_response()
            .expect("identified")
            .batch_item_failures
            .len(),
        3
    );

    let up = Pipeline::with_state(take_note, Default::default()).with_store(Arc::new(healthy));
    let first = invoke(&up, &batch).await;
    assert!(
        first.outcomes().iter().all(|o| **o == Outcome::Processed),
        "{:?}",
        first.outcomes()
    );
    let redelivered = invoke(&up, &batch).await;
    assert!(
        redelivered
            .outcomes()
            .iter()
            .all(|o| **o == Outcome::Duplicate)
    );
    let ran: Vec<String> = up
        .state()
        .lock()
        .expect("notes")
        .iter()
        .filter(|n| n.starts_with(&marker))
        .cloned()
        .collect();
    assert_eq!(ran.len(), 3, "each event ran exactly once: {ran:?}");
}

/// The two guarantees a hostile SQS once broke, on DynamoDB Local.
mod regressions {
    use super::*;
    use tidings::testing::FlakyStore;

    #[tokio::test(flavor = "current_thread")]
    async fn a_failed_completion_never_lets_latest_wins_go_back() {
        let store = Arc::new(FlakyStore::new(store("regress-mark").await));
        support::regressions::failed_completion_never_lets_latest_wins_go_back(store).await;
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_late_release_never_frees_the_next_holder() {
        let store = Arc::new(FlakyStore::new(store("regress-fence").await));
        support::regressions::late_release_never_frees_the_next_holder(store).await;
    }
}
