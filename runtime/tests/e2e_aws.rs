//! End to end on local AWS-API servers (moto for SNS and SQS, DynamoDB Local for the store, both started by scripts/test), through the real
//! AWS SDK: the publisher sends to an SNS topic; subscribed SQS queues (raw and wrapped
//! delivery, filtered by type) receive; their messages become the invocation Lambda would
//! send to a macro-generated handler running on the DynamoDB store.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tidings::local::QueuePoller;
use tidings::store::{DynamoDbStore, StoreError};
use tidings::testing::FlakyStore;
use tidings::{
    BatchResult, Context, Destination, Envelope, Event, EventSet, HandlerError, Outcome, Pipeline,
    Publisher, ReasonCode, SqsDeadLetterQueue,
};

/// Money was credited to an account: the balance after it, at the account's sequence.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "e2e.account.credited", version = 1)]
struct AccountCredited {
    #[event(subject)]
    account: String,
    balance: i64,
    /// Hang on the first attempt, as a Lambda that is killed mid-record would.
    #[serde(default)]
    hang_once: bool,
}

/// A note on an account: not in the consumer's filter policy.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "e2e.account.noted", version = 1)]
struct AccountNoted {
    #[event(subject)]
    account: String,
}

#[derive(Debug, EventSet)]
enum AccountEvent {
    Credited(AccountCredited),
}

/// What the handler did, its state: runs per event id, and each account's balance and
/// sequence; one per test.
#[derive(Default)]
struct Ledger {
    records: Mutex<Records>,
    /// How many handler calls met an event that hangs once.
    hangs: AtomicUsize,
}

#[derive(Default)]
struct Records {
    runs: HashMap<String, usize>,
    balances: HashMap<String, (u64, i64)>,
}

impl Ledger {
    fn runs_of(&self, id: &str) -> usize {
        let records = self.records.lock().expect("ledger");
        records.runs.get(id).copied().unwrap_or_default()
    }

    fn balance_of(&self, account: &str) -> Option<(u64, i64)> {
        let records = self.records.lock().expect("ledger");
        records.balances.get(account).copied()
    }
}

#[tidings::event_handler(ordering = "latest_wins", trigger = "sqs", main = false)]
async fn apply_balance(
    event: Envelope<AccountEvent>,
    _ctx: &Context,
    ledger: &Ledger,
) -> Result<(), HandlerError> {
    let AccountEvent::Credited(credited) = &event.data;
    if credited.hang_once && ledger.hangs.fetch_add(1, AtomicOrdering::SeqCst) == 0 {
        std::future::pending::<()>().await;
    }
    let sequence = event.sequence().unwrap_or_default();
    let mut records = ledger.records.lock().expect("ledger");
    *records.runs.entry(event.id().to_owned()).or_default() += 1;
    records
        .balances
        .insert(credited.account.clone(), (sequence, credited.balance));
    Ok(())
}

/// The deployed shape of one consumer: a topic, a raw and a wrapped queue subscribed with
/// the handler's filter policy, a dead-letter queue, and the table.
struct Shop {
    sqs: aws_sdk_sqs::Client,
    publisher: Publisher,
    topic: Destination,
    raw: QueuePoller,
    wrapped: QueuePoller,
    dead_letters: String,
    store: DynamoDbStore,
    ledger: Arc<Ledger>,
}

async fn shop() -> Shop {
    let config = common::sdk_config().await;
    let sns = aws_sdk_sns::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let topic_arn = sns
        .create_topic()
        .name(common::unique_name("e2e-events"))
        .send()
        .await
        .expect("create topic")
        .topic_arn
        .expect("topic arn");
    let policy = tidings::codegen::filter_policy(
        tidings::HandlerRegistration::all()
            .into_iter()
            .find(|h| h.name == "apply_balance")
            .expect("the handler is registered"),
    );
    let mut pollers = Vec::new();
    for raw in [true, false] {
        let url = create_queue(&sqs, if raw { "e2e-raw" } else { "e2e-wrapped" }).await;
        let arn = queue_arn(&sqs, &url).await;
        sns.subscribe()
            .topic_arn(&topic_arn)
            .protocol("sqs")
            .endpoint(arn)
            .attributes("RawMessageDelivery", raw.to_string())
            .attributes("FilterPolicy", policy.to_string())
            .send()
            .await
            .expect("subscribe");
        pollers.push(
            QueuePoller::new(sqs.clone(), url)
                .await
                .expect("poller")
                .with_retry_delay(Duration::from_secs(1)),
        );
    }
    let wrapped = pollers.pop().expect("wrapped");
    let raw = pollers.pop().expect("raw");
    // DynamoDB Local serves the table: unlike moto, it is atomic under concurrent
    // transactions, as DynamoDB is.
    let store = DynamoDbStore::new(
        aws_sdk_dynamodb::Client::new(&common::dynamodb_config().await),
        common::unique_name("e2e-table"),
    );
    store.create_table_if_missing().await.expect("table");
    Shop {
        dead_letters: create_queue(&sqs, "e2e-dlq").await,
        publisher: Publisher::new(&config, "e2e/accounts"),
        topic: Destination::topic(topic_arn),
        sqs,
        raw,
        wrapped,
        store,
        ledger: Arc::default(),
    }
}

async fn create_queue(sqs: &aws_sdk_sqs::Client, prefix: &str) -> String {
    sqs.create_queue()
        .queue_name(common::unique_name(prefix))
        // A crashed invocation's messages come back after a second, not after 30.
        .attributes(QueueAttributeName::VisibilityTimeout, "1")
        .send()
        .await
        .expect("create queue")
        .queue_url
        .expect("queue url")
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> String {
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("queue attributes")
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .expect("queue arn")
}

impl Shop {
    fn pipeline(&self) -> Pipeline<apply_balance> {
        self.processor_on(Arc::new(self.store.clone()))
    }

    /// The handler, with this shop's ledger, on `store`.
    fn processor_on(&self, store: Arc<dyn tidings::Store>) -> Pipeline<apply_balance> {
        Pipeline::with_shared_state(apply_balance, Arc::clone(&self.ledger)).with_store(store)
    }

    async fn publish(&self, envelope: Envelope<AccountCredited>) -> String {
        let id = envelope.id().to_owned();
        self.publisher
            .publish_envelope(&self.topic, envelope)
            .await
            .expect("published");
        id
    }
}

/// Polls until a batch arrives (SNS to SQS delivery is asynchronous), and returns it.
async fn next_batch(poller: &QueuePoller, pipeline: &Pipeline<apply_balance>) -> BatchResult {
    // Messages arrive, or come back from a retry, within a second or two.
    for _ in 0..40 {
        if let Some(result) = poller
            .poll_once(pipeline, Duration::ZERO)
            .await
            .expect("poll")
        {
            return result;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("no message arrived on {}", poller.queue_url());
}

async fn assert_empty(poller: &QueuePoller) {
    let left = poller
        .receive(Duration::from_secs(1))
        .await
        .expect("receive");
    assert!(
        left.is_empty(),
        "the queue still holds {} message(s)",
        left.len()
    );
}

fn credited(account: &str, balance: i64, sequence: u64) -> Envelope<AccountCredited> {
    Envelope::new(
        "e2e/accounts",
        AccountCredited {
            account: account.to_owned(),
            balance,
            hang_once: false,
        },
    )
    .with_sequence(sequence)
}

#[tokio::test(flavor = "current_thread")]
async fn filtered_raw_and_wrapped_deliveries_run_once_and_a_redelivered_duplicate_is_skipped() {
    let shop = shop().await;
    let pipeline = shop.pipeline();
    let account = common::unique_name("acct");
    let event = credited(&account, 100, 1);
    let id = shop.publish(event.clone()).await;
    // A type outside the filter policy reaches neither queue.
    shop.publisher
        .publish(
            &shop.topic,
            AccountNoted {
                account: account.clone(),
            },
        )
        .await
        .expect("published");

    let raw = next_batch(&shop.raw, &pipeline).await;
    assert_eq!(raw.outcomes(), [&Outcome::Processed]);
    // The wrapped queue got the same event inside an SNS notification: same id, so it is
    // a duplicate for this handler.
    let wrapped = next_batch(&shop.wrapped, &pipeline).await;
    assert_eq!(wrapped.outcomes(), [&Outcome::Duplicate]);

    // Delivered again after success (SNS and SQS both may): acknowledged, not re-run.
    shop.publish(event).await;
    assert_eq!(
        next_batch(&shop.raw, &pipeline).await.outcomes(),
        [&Outcome::Duplicate]
    );
    assert_eq!(shop.ledger.runs_of(&id), 1);
    assert_eq!(shop.ledger.balance_of(&account), Some((1, 100)));
    assert_empty(&shop.raw).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_crash_between_claim_and_completion_runs_once_after_the_lock_lapses() {
    let shop = shop().await;
    let account = common::unique_name("acct");
    let mut event = credited(&account, 7, 1);
    event.data.hang_once = true;
    let id = shop.publish(event).await;

    // The first invocation claims the record, then dies mid-handler: its future is dropped
    // without completing or releasing, as when Lambda kills the process.
    let lock = Duration::from_secs(4);
    let crashing = shop.raw.clone().with_invocation_timeout(lock);
    let started = std::time::Instant::now();
    let crash = tokio::time::timeout(
        Duration::from_millis(1500),
        next_batch(&crashing, &shop.pipeline()),
    )
    .await;
    assert!(crash.is_err(), "the first attempt hangs until it is killed");
    assert_eq!(shop.ledger.runs_of(&id), 0);

    // Redelivered while the dead invocation's lock holds: retried, not run.
    let early = next_batch(&shop.raw, &shop.pipeline()).await;
    match early.outcomes()[0] {
        Outcome::Retry(reason) => assert_eq!(reason.code, ReasonCode::InProgress),
        other => panic!("expected a retry while the lock holds, got {other:?}"),
    }
    assert!(
        started.elapsed() < lock,
        "the early redelivery came while the lock held"
    );
    // Once the lock lapsed (the dead invocation's deadline passed), the next delivery runs.
    tokio::time::sleep((lock + Duration::from_millis(200)).saturating_sub(started.elapsed())).await;
    let later = next_batch(&shop.raw, &shop.pipeline()).await;
    assert_eq!(later.outcomes(), [&Outcome::Processed]);
    assert_eq!(shop.ledger.runs_of(&id), 1);
    assert_empty(&shop.raw).await;
}

#[tokio::test(flavor = "current_thread")]
async fn out_of_order_delivery_skips_stale_events_and_keeps_the_newest_state() {
    let shop = shop().await;
    let pipeline = shop.pipeline();
    let account = common::unique_name("acct");
    let newest = shop.publish(credited(&account, 300, 3)).await;
    assert_eq!(
        next_batch(&shop.raw, &pipeline).await.outcomes(),
        [&Outcome::Processed]
    );
    let first = shop.publish(credited(&account, 100, 1)).await;
    assert_eq!(
        next_batch(&shop.raw, &pipeline).await.outcomes(),
        [&Outcome::Stale {
            sequence: 1,
            newest: 3
        }]
    );
    let second = shop.publish(credited(&account, 200, 2)).await;
    assert_eq!(
        next_batch(&shop.raw, &pipeline).await.outcomes(),
        [&Outcome::Stale {
            sequence: 2,
            newest: 3
        }]
    );
    assert_eq!(shop.ledger.balance_of(&account), Some((3, 300)));
    assert_eq!(
        (
            shop.ledger.runs_of(&newest),
            shop.ledger.runs_of(&first),
            shop.ledger.runs_of(&second)
        ),
        (1, 0, 0)
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_poison_message_lands_in_the_dead_letter_queue_with_its_reason() {
    let shop = shop().await;
    let pipeline =
        shop.pipeline()
            .with_dead_letter_queue(Arc::new(SqsDeadLetterQueue::from_client(
                shop.sqs.clone(),
                shop.dead_letters.clone(),
            )));
    let poison = "{\"specversion\":\"1.0\",\"id\":\"p-1\",\"source\":\"x\",\"type\":\"e2e.account.credited\",\"dataversion\":9,\"data\":{}}";
    shop.sqs
        .send_message()
        .queue_url(shop.raw.queue_url())
        .message_body(poison)
        .send()
        .await
        .expect("send poison");

    let result = next_batch(&shop.raw, &pipeline).await;
    match result.outcomes()[0] {
        Outcome::Rejected {
            reason,
            dead_lettered: true,
        } => {
            assert_eq!(reason.code, ReasonCode::UnsupportedVersion)
        }
        other => panic!("expected a dead-lettered rejection, got {other:?}"),
    }
    assert!(
        result
            .sqs_response()
            .expect("identified")
            .batch_item_failures
            .is_empty()
    );
    assert_empty(&shop.raw).await;

    let letters = shop
        .sqs
        .receive_message()
        .queue_url(&shop.dead_letters)
        .message_attribute_names("All")
        .wait_time_seconds(2)
        .send()
        .await
        .expect("receive dead letters")
        .messages
        .unwrap_or_default();
    assert_eq!(letters.len(), 1);
    assert_eq!(
        letters[0].body(),
        Some(poison),
        "the original body, byte for byte"
    );
    let attributes = letters[0].message_attributes().expect("attributes");
    assert_eq!(
        attributes["tidings.reason-code"].string_value(),
        Some("unsupported-version")
    );
    assert!(
        attributes["tidings.reason"]
            .string_value()
            .is_some_and(|r| r.contains("version 9")),
        "{attributes:?}"
    );
    assert_eq!(
        attributes["tidings.handler"].string_value(),
        Some("apply_balance")
    );
    assert_eq!(attributes["tidings.event-id"].string_value(), Some("p-1"));
}

#[tokio::test(flavor = "current_thread")]
async fn a_throttled_then_unreachable_store_retries_and_after_recovery_each_event_runs_once() {
    let shop = shop().await;
    let account = common::unique_name("acct");
    let ids: Vec<String> = publish_three(&shop, &account).await;

    // Throttled: every record of the batch is retried, nothing runs.
    let flaky = Arc::new(FlakyStore::new(shop.store.clone()));
    flaky.outage(StoreError::Throttled(
        "ProvisionedThroughputExceededException".into(),
    ));
    let throttled = shop.processor_on(flaky.clone());
    let mut retried = 0;
    while retried < ids.len() {
        let result = next_batch(&shop.raw, &throttled).await;
        for outcome in result.outcomes() {
            match outcome {
                Outcome::Retry(reason) => assert_eq!(reason.code, ReasonCode::Store),
                other => panic!("expected a retry, got {other:?}"),
            }
        }
        retried += result.records.len();
    }

    // Unreachable: the SDK cannot connect at all.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let dead_config = common::dynamodb_config()
        .await
        .into_builder()
        .endpoint_url(dead)
        .build();
    let unreachable = shop.processor_on(Arc::new(DynamoDbStore::new(
        aws_sdk_dynamodb::Client::new(&dead_config),
        shop.store.table(),
    )));
    let result = next_batch(&shop.raw, &unreachable).await;
    assert!(
        result
            .outcomes()
            .iter()
            .all(|o| matches!(o, Outcome::Retry(r) if r.code == ReasonCode::Store))
    );

    // Recovered: every event runs exactly once, in the end.
    flaky.recover();
    let healthy = shop.pipeline();
    let mut processed = 0;
    while processed < ids.len() {
        let result = next_batch(&shop.raw, &healthy).await;
        processed += result.count(tidings::OutcomeKind::Processed);
    }
    for id in &ids {
        assert_eq!(shop.ledger.runs_of(id), 1, "event {id}");
    }
    assert_empty(&shop.raw).await;
}

/// Three events of three accounts, published.
async fn publish_three(shop: &Shop, account: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(
            shop.publish(credited(&format!("{account}-{n}"), n, 1))
                .await,
        );
    }
    ids
}
