//! What batching the store calls buys with the DynamoDB store: one SQS batch of 10 records
//! through [`Pipeline::process`], against the same records processed one at a time, in
//! sequence (10 invocations of one record each), on the local AWS-API server.
//!
//! The handler uses `ordering = "latest_wins"`, the costlier path: each record's claim and
//! completion is a `TransactWriteItems` over its idempotency record and its subject. Every
//! record carries a fresh event id and a sequence above all before it, so every record is
//! claimed and completed for real, never answered as a duplicate or as stale.
//!
//! Counted, per batch of 10 records:
//! - store calls: each [`Store`] call is one sequential round trip, the requests for its
//!   records in flight together;
//! - SDK requests: every HTTP request the DynamoDB client sends (retries included), counted
//!   by an SDK interceptor;
//! - request waves: requests sent while none was in flight start a new wave; waves are the
//!   sequential round trips as the wire sees them, and confirm the store-call count;
//! - the most requests in flight at once;
//! - server errors: answers of 5xx, which the SDK retries (each retry is one more request).
//!
//! Timed: the wall time per 10 records, from the invocation's JSON bytes to the partial batch
//! response, the two sides interleaved so that a change in the server's load reaches both.
//!
//! What the local server can and cannot show: DynamoDB Local (Amazon's, on Java, with an
//! in-memory SQLite) serves requests largely one after another, so its own time per request
//! dominates the wall time; the ratio of wall times therefore understates what fewer
//! sequential round trips gain against DynamoDB, where the round trip, not the server's
//! processing, dominates. The round-trip and request counts carry over unchanged. Each round
//! gets a fresh table, so the cost per request stays flat across rounds.
//!
//! Needs `TIDINGS_DYNAMODB_ENDPOINT` (DynamoDB Local's endpoint); `scripts/bench` starts the
//! server and sets it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use aws_config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::config::interceptors::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Credentials, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use tidings::store::{
    Claim, ClaimOutcome, Completion, DynamoDbStore, EpochMillis, Release, Store, StoreError,
};
use tidings::testing::Batch;
use tidings::transport::Invocation;
use tidings::{Context, Envelope, HandlerError, Outcome, Pipeline, Response};
use tidings_tests::{Behaviour, Echo, SOURCE};
use tokio::runtime::Runtime;

/// The variable that holds DynamoDB Local's endpoint, as in the runtime's AWS tests.
const ENDPOINT_VAR: &str = "TIDINGS_DYNAMODB_ENDPOINT";
/// Records per batch: the SQS event source mapping's default batch size.
const RECORDS: usize = 10;
/// The size of each record's body.
const BODY_BYTES: usize = 1024;
/// Unmeasured rounds first: the table, the connection pool and the server's caches warm up.
const WARM_UP: usize = 3;
/// Measured rounds; each processes 10 records batched and 10 one at a time.
const ROUNDS: usize = 41;

/// The handler of the benchmark: `latest_wins`, so every claim and completion is a
/// transaction over the record and its subject.
#[tidings::event_handler(main = false, ordering = "latest_wins")]
async fn latest(event: Envelope<Echo>, _ctx: &Context) -> Result<(), HandlerError> {
    tidings_tests::respond(&event.data)
}

/// What the store and the SDK did, counted across the whole run; a side's figures are the
/// difference of two snapshots.
#[derive(Debug, Default)]
struct Counters {
    store_calls: AtomicUsize,
    requests: AtomicUsize,
    in_flight: AtomicUsize,
    waves: AtomicUsize,
    peak_in_flight: AtomicUsize,
    server_errors: AtomicUsize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Snapshot {
    store_calls: usize,
    requests: usize,
    waves: usize,
    server_errors: usize,
}

impl Counters {
    fn snapshot(&self) -> Snapshot {
        Snapshot {
            store_calls: self.store_calls.load(Ordering::SeqCst),
            requests: self.requests.load(Ordering::SeqCst),
            waves: self.waves.load(Ordering::SeqCst),
            server_errors: self.server_errors.load(Ordering::SeqCst),
        }
    }

    /// Starts measuring the most requests in flight anew.
    fn reset_peak(&self) -> usize {
        self.peak_in_flight.swap(0, Ordering::SeqCst)
    }
}

impl std::ops::Sub for Snapshot {
    type Output = Snapshot;

    fn sub(self, before: Snapshot) -> Snapshot {
        Snapshot {
            store_calls: self.store_calls - before.store_calls,
            requests: self.requests - before.requests,
            waves: self.waves - before.waves,
            server_errors: self.server_errors - before.server_errors,
        }
    }
}

/// Counts the DynamoDB client's HTTP requests, and how many are in flight together.
#[derive(Debug)]
struct CountRequests(Arc<Counters>);

impl Intercept for CountRequests {
    fn name(&self) -> &'static str {
        "CountRequests"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let counters = &self.0;
        counters.requests.fetch_add(1, Ordering::SeqCst);
        let before = counters.in_flight.fetch_add(1, Ordering::SeqCst);
        if before == 0 {
            counters.waves.fetch_add(1, Ordering::SeqCst);
        }
        counters
            .peak_in_flight
            .fetch_max(before + 1, Ordering::SeqCst);
        Ok(())
    }

    fn read_after_transmit(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // A request that fails in transit never gets here and would stay counted in flight;
        // the benchmark stops at the first record not processed, so it never matters.
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        if context.response().status().is_server_error() {
            self.0.server_errors.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }
}

/// The DynamoDB store, counting its calls.
struct CountingStore {
    inner: DynamoDbStore,
    counters: Arc<Counters>,
}

#[async_trait::async_trait]
impl Store for CountingStore {
    async fn claim(
        &self,
        claims: &[Claim],
        now: EpochMillis,
    ) -> Vec<Result<ClaimOutcome, StoreError>> {
        self.counters.store_calls.fetch_add(1, Ordering::SeqCst);
        self.inner.claim(claims, now).await
    }

    async fn complete(&self, completions: &[Completion]) -> Vec<Result<(), StoreError>> {
        self.counters.store_calls.fetch_add(1, Ordering::SeqCst);
        self.inner.complete(completions).await
    }

    async fn release(&self, releases: &[Release]) -> Vec<Result<(), StoreError>> {
        self.counters.store_calls.fetch_add(1, Ordering::SeqCst);
        self.inner.release(releases).await
    }
}

/// The local server's endpoint; exits with a message saying how to get one when it is not
/// set, and refuses anything but loopback, so the benchmark never reaches a real account.
fn endpoint() -> String {
    let Some(endpoint) = std::env::var(ENDPOINT_VAR)
        .ok()
        .filter(|e| !e.trim().is_empty())
    else {
        eprintln!(
            "error: {ENDPOINT_VAR} is not set. This benchmark needs DynamoDB Local: run \
             scripts/bench, which starts it (or `source scripts/lib.sh; ensure_dynamodb_local; \
             start_dynamodb_local` in this shell first)."
        );
        std::process::exit(2);
    };
    let host = endpoint
        .strip_prefix("http://")
        .and_then(|rest| rest.split([':', '/']).next())
        .unwrap_or_default();
    if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        eprintln!(
            "error: {ENDPOINT_VAR} is `{endpoint}`: this benchmark only talks to a local \
             server on loopback over http"
        );
        std::process::exit(2);
    }
    endpoint
}

/// A DynamoDB client for the local server whose requests `counters` counts. Dummy
/// credentials (the local server accepts any) keep the SDK from looking for real ones.
async fn client(endpoint: String, counters: &Arc<Counters>) -> aws_sdk_dynamodb::Client {
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "eu-west-1".to_owned());
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        // Plain HTTP: the endpoint is a local server.
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .region(Region::new(region))
        .credentials_provider(Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "tidings-bench",
        ))
        .load()
        .await;
    let config = aws_sdk_dynamodb::config::Builder::from(&sdk)
        .interceptor(CountRequests(Arc::clone(counters)))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// Fresh events about `entity-0` .. `entity-9`, each with a new id and a sequence above every
/// one before it, their envelopes padded to `BODY_BYTES`.
fn fresh_events(sequence: &AtomicU64) -> Vec<Envelope<Echo>> {
    (0..RECORDS)
        .map(|i| {
            let mut envelope = Envelope::new(
                SOURCE,
                Echo::new(format!("entity-{i}"), Behaviour::Succeed, String::new()),
            )
            .with_sequence(sequence.fetch_add(1, Ordering::SeqCst));
            let bare = envelope.to_json().expect("envelopes serialize").len();
            envelope.data.note = "n".repeat(BODY_BYTES.saturating_sub(bare));
            envelope
        })
        .collect()
}

fn invocation_bytes<'a>(events: impl IntoIterator<Item = &'a Envelope<Echo>>) -> Vec<u8> {
    let batch = events.into_iter().fold(Batch::sqs(), Batch::event);
    serde_json::to_vec(&batch.to_json()).expect("a batch serializes")
}

/// Runs one invocation from its bytes to its serialized response; panics unless every
/// record was processed, so no figure comes from records that failed or were skipped.
fn process(runtime: &Runtime, pipeline: &Pipeline<latest>, bytes: &[u8]) -> Vec<u8> {
    let invocation: Invocation = serde_json::from_slice(bytes).expect("an invocation");
    let event = tidings::lambda::event(
        invocation,
        "bench",
        SystemTime::now() + Duration::from_secs(30),
    );
    let answer = runtime.block_on(pipeline.invoke(event));
    let outcomes = answer.batch.outcomes();
    assert!(
        outcomes.iter().all(|o| matches!(o, Outcome::Processed)),
        "every record must be processed, got {outcomes:?}"
    );
    let Ok(Response::Sqs(response)) = answer.response else {
        panic!("an SQS batch is answered: {:?}", answer.response);
    };
    serde_json::to_vec(&response).expect("a response serializes")
}

/// What one side did for one batch's worth of records.
struct Run {
    time: Duration,
    counts: Snapshot,
    peak_in_flight: usize,
}

/// Times `invocations` processed in sequence and counts what they cost.
fn run(
    runtime: &Runtime,
    pipeline: &Pipeline<latest>,
    counters: &Counters,
    invocations: &[Vec<u8>],
) -> Run {
    counters.reset_peak();
    let before = counters.snapshot();
    let start = Instant::now();
    for bytes in invocations {
        std::hint::black_box(process(runtime, pipeline, bytes));
    }
    let time = start.elapsed();
    Run {
        time,
        counts: counters.snapshot() - before,
        peak_in_flight: counters.reset_peak(),
    }
}

/// The value at percentile `p` (nearest rank) of sorted `values`.
fn percentile<T: Copy>(values: &[T], p: f64) -> T {
    let rank = (p * values.len() as f64).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1]
}

fn millis(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1e3)
}

/// A count that should be the same every round: its single value, or its range.
fn count(values: impl IntoIterator<Item = usize>) -> String {
    let mut values: Vec<usize> = values.into_iter().collect();
    values.sort_unstable();
    let (low, high) = (values[0], values[values.len() - 1]);
    if low == high {
        low.to_string()
    } else {
        format!("{low}..{high} (median {})", percentile(&values, 0.5))
    }
}

/// A new, empty table for `round`, named so no other run against the same server uses it.
async fn table(client: &aws_sdk_dynamodb::Client, round: usize) -> DynamoDbStore {
    let name = format!(
        "tidings-bench-{}-{}-{round}",
        std::process::id(),
        tidings::store::now_millis()
    );
    let store = DynamoDbStore::new(client.clone(), name);
    store
        .create_table_if_missing()
        .await
        .expect("the table is created on the local server");
    store
}

fn main() {
    let endpoint = endpoint();
    // The runtime tidings' generated `main` runs on.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    let counters = Arc::new(Counters::default());
    let client = runtime.block_on(client(endpoint, &counters));
    let sequence = AtomicU64::new(1);
    let body_bytes = fresh_events(&sequence)[0]
        .to_json()
        .expect("envelopes serialize")
        .len();

    let mut batched = Vec::with_capacity(ROUNDS);
    let mut one_at_a_time = Vec::with_capacity(ROUNDS);
    for round in 0..WARM_UP + ROUNDS {
        // A fresh table each round: the local server copies a whole table for every
        // transaction (to roll it back), so its cost would grow with the run, which
        // DynamoDB's does not. Made and dropped outside the timed and counted sections.
        let store = runtime.block_on(table(&client, round));
        let table_name = store.table().to_owned();
        let pipeline = Pipeline::new(latest).with_store(Arc::new(CountingStore {
            inner: store,
            counters: Arc::clone(&counters),
        }));
        // Each side's events are made just before it runs, so that their sequences are above
        // those of the side that ran before.
        let time_batch = || {
            let batch = [invocation_bytes(&fresh_events(&sequence))];
            run(&runtime, &pipeline, &counters, &batch)
        };
        let time_singles = || {
            let singles: Vec<Vec<u8>> = fresh_events(&sequence)
                .iter()
                .map(|event| invocation_bytes([event]))
                .collect();
            run(&runtime, &pipeline, &counters, &singles)
        };
        // Which side goes first alternates, so drift in the server's load hits both alike.
        let (b, s) = if round % 2 == 0 {
            let b = time_batch();
            (b, time_singles())
        } else {
            let s = time_singles();
            (time_batch(), s)
        };
        if round >= WARM_UP {
            batched.push(b);
            one_at_a_time.push(s);
        }
        runtime
            .block_on(client.delete_table().table_name(table_name).send())
            .expect("the round's table is deleted");
    }

    let times = |runs: &[Run]| {
        let mut times: Vec<Duration> = runs.iter().map(|r| r.time).collect();
        times.sort();
        times
    };
    let (batched_times, single_times) = (times(&batched), times(&one_at_a_time));
    let batched_median = percentile(&batched_times, 0.5);
    let single_median = percentile(&single_times, 0.5);

    println!(
        "dynamodb_batch: {RECORDS} records of {body_bytes} bytes, ordering = latest_wins \
         (a transaction per claim and per completion), DynamoDB store on the local server; \
         {ROUNDS} interleaved rounds after {WARM_UP} to warm up"
    );
    println!("                              batched (1 x 10)   one at a time (10 x 1)");
    let row = |name: &str, of: &dyn Fn(&Run) -> usize| {
        println!(
            "  {name:<28}{:<19}{}",
            count(batched.iter().map(of)),
            count(one_at_a_time.iter().map(of))
        );
    };
    row("store round trips per batch", &|r| r.counts.store_calls);
    row("SDK requests per batch", &|r| r.counts.requests);
    row("request waves per batch", &|r| r.counts.waves);
    row("most requests in flight", &|r| r.peak_in_flight);
    row("server errors (retried)", &|r| r.counts.server_errors);
    println!(
        "  {:<28}{:<19}{}",
        "median wall time",
        millis(batched_median),
        millis(single_median)
    );
    println!(
        "  {:<28}{:<19}{}",
        "p90 wall time",
        millis(percentile(&batched_times, 0.9)),
        millis(percentile(&single_times, 0.9))
    );
    println!(
        "  ratio of medians (one at a time / batched): {:.2}x",
        single_median.as_secs_f64() / batched_median.as_secs_f64()
    );
}
