//! The cost of the tidings pipeline per SQS batch, against a hand-written handler.
//!
//! Both sides start from the invocation's JSON bytes, as the Runtime API hands them to
//! `lambda_runtime`, and end with the serialized `SqsBatchResponse`:
//!
//! - baseline: a hand-written `lambda_runtime` handler of `LambdaEvent<SqsEvent>` that
//!   parses each body with serde_json into `Envelope<Echo>`, calls
//!   [`tidings_tests::respond`], and reports failures;
//! - tidings: the generated handler's path, `LambdaEvent<Invocation>` and
//!   [`Pipeline::invoke`], which the generated `main` calls for every invocation: transport
//!   decoding, envelope and version checks, an idempotency claim per record in the memory
//!   store, the guarded handler call (the same `respond`), completion, and the batch's EMF
//!   metrics line, formatted and written to a sink. No log subscriber is installed, as none
//!   is for the baseline: this is the goal's figure, the work of the pipeline itself;
//! - tidings as deployed: the same with what the SAM template's functions add, which the
//!   baseline does not do at all: `lambda_runtime`'s default subscriber with JSON logs at
//!   INFO (formatting every batch and record span), and the logs and metrics line written
//!   to a pipe, as Lambda's stdout is (a system call and a wake-up of the reader per line).
//!
//! `lambda_runtime` deserializes the payload of every handler through `serde_path_to_error`
//! (to name the failing field in its error), which costs each value of the payload some
//! bookkeeping; both sides pay it here as they do in Lambda. The ratio without it, both
//! sides reading with plain `serde_json::from_slice`, is printed too: it charges tidings for
//! everything it does beyond parsing, with nothing of `lambda_runtime` around it.
//!
//! Every batch holds 10 records of about 1 KiB, each with a fresh event id, so every record
//! is claimed and completed for real, never answered as a duplicate.
//!
//! Criterion measures each side on its own; then all are timed in interleaved rounds, so
//! that the printed ratios compare figures taken under the same machine load.

use std::cell::RefCell;
use std::hint::black_box;
use std::io::{PipeWriter, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use criterion::{BatchSize, Criterion};
use serde::de::DeserializeOwned;
use tidings::lambda::Error;
use tidings::testing::Batch;
use tidings::transport::Invocation;
use tidings::{Context, Envelope, HandlerError, Pipeline};
use tidings_tests::{Behaviour, Echo, SOURCE};
use tokio::runtime::Runtime;
use tracing::Dispatch;
use tracing::subscriber::NoSubscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Records per batch: the SQS event source mapping's default batch size.
const RECORDS: usize = 10;
/// The size of each record's body.
const BODY_BYTES: usize = 1024;
/// A long-lived container keeps every completed record for the idempotency TTL; a fresh
/// store after this many batches keeps the benchmark's memory bounded while the store still
/// holds thousands of records, as a warm container does.
const BATCHES_PER_STORE: usize = 500;
/// Interleaved rounds, and batches per round and side, for the printed ratio.
const ROUNDS: usize = 41;
const BATCHES_PER_ROUND: usize = 300;
/// The goal: tidings costs at most this multiple of the hand-written handler.
const GOAL: f64 = 1.3;

/// The generated handler of the benchmark: the same business function as the baseline.
#[tidings::event_handler(main = false)]
async fn echo(event: Envelope<Echo>, _ctx: &Context) -> Result<(), HandlerError> {
    tidings_tests::respond(&event.data)
}

/// An event whose envelope is `BODY_BYTES` long.
fn event(index: usize) -> Envelope<Echo> {
    let mut envelope = Envelope::new(
        SOURCE,
        Echo::new(format!("entity-{index}"), Behaviour::Succeed, String::new()),
    );
    let bare = envelope.to_json().expect("envelopes serialize").len();
    envelope.data.note = "n".repeat(BODY_BYTES.saturating_sub(bare));
    envelope
}

/// The invocation bytes of a batch of fresh events.
fn invocation_bytes() -> Vec<u8> {
    let batch = (0..RECORDS).fold(Batch::sqs(), |batch, i| batch.event(&event(i)));
    serde_json::to_vec(&batch.to_json()).expect("a batch serializes")
}

/// How a side turns the invocation's bytes into its event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// As `lambda_runtime` 1.x reads the payload of a `LambdaEvent<T>` handler (its
    /// crate-private `deserializer::deserialize`): serde_json through `serde_path_to_error`.
    LambdaRuntime,
    /// `serde_json::from_slice` alone.
    PlainSerde,
}

impl Reading {
    fn read<T: DeserializeOwned>(self, bytes: &[u8]) -> T {
        match self {
            Self::LambdaRuntime => {
                let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
                serde_path_to_error::deserialize(deserializer).expect("the payload deserializes")
            }
            Self::PlainSerde => serde_json::from_slice(bytes).expect("the payload deserializes"),
        }
    }
}

/// The hand-written handler: what a team writes without tidings.
async fn hand_written(event: SqsEvent) -> Result<SqsBatchResponse, Error> {
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let handled = record
            .body
            .as_deref()
            .and_then(|body| serde_json::from_str::<Envelope<Echo>>(body).ok())
            .is_some_and(|envelope| tidings_tests::respond(&envelope.data).is_ok());
        if !handled && let Some(id) = record.message_id {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    Ok(response)
}

fn baseline(runtime: &Runtime, reading: Reading, bytes: &[u8]) -> Vec<u8> {
    let event: SqsEvent = reading.read(bytes);
    let response = runtime
        .block_on(hand_written(event))
        .expect("the handler answers");
    serde_json::to_vec(&response).expect("a response serializes")
}

fn tidings(
    runtime: &Runtime,
    pipeline: &Pipeline<echo>,
    reading: Reading,
    bytes: &[u8],
    metrics: &mut (impl Write + Send),
) -> Vec<u8> {
    let invocation: Invocation = reading.read(bytes);
    // What the generated `main` does with each invocation.
    let event = tidings::lambda::event(
        invocation,
        "bench",
        SystemTime::now() + Duration::from_secs(30),
    );
    let answer = runtime.block_on(pipeline.invoke(event));
    answer
        .write_metrics(metrics)
        .expect("the metrics line is written");
    let response = answer.response.expect("the batch is answered");
    serde_json::to_vec(&response).expect("a response serializes")
}

/// The write end of a pipe whose other end a thread drains, as Lambda's log agent drains a
/// function's stdout: each line costs a real write.
fn drained_pipe() -> PipeWriter {
    let (mut reader, writer) = std::io::pipe().expect("a pipe");
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    writer
}

/// The pipeline, replaced by one with an empty store every `BATCHES_PER_STORE` batches,
/// outside the timed section.
struct Tidings {
    pipeline: RefCell<Pipeline<echo>>,
    batches: RefCell<usize>,
}

impl Tidings {
    fn new() -> Self {
        Self {
            pipeline: RefCell::new(Pipeline::new(echo)),
            batches: RefCell::new(0),
        }
    }

    /// Counts a batch about to run, renewing the store when it is due.
    fn before_batch(&self) {
        let mut batches = self.batches.borrow_mut();
        *batches += 1;
        if *batches > BATCHES_PER_STORE {
            *batches = 1;
            *self.pipeline.borrow_mut() = Pipeline::new(echo);
        }
    }
}

fn current_thread_runtime() -> Runtime {
    // The runtime tidings' generated `main` runs on.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime")
}

/// Mean time per batch of `run` over `inputs`.
fn time_batches(inputs: &[Vec<u8>], mut run: impl FnMut(&[u8]) -> Vec<u8>) -> Duration {
    let start = Instant::now();
    for input in inputs {
        black_box(run(black_box(input)));
    }
    start.elapsed() / inputs.len() as u32
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn micros(duration: Duration) -> String {
    format!("{:.1} µs", duration.as_secs_f64() * 1e6)
}

/// What a side runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The hand-written handler.
    Baseline,
    /// tidings with no log subscriber, its metrics line formatted and written to a sink.
    Tidings,
    /// tidings as the SAM template deploys it: `lambda_runtime`'s default subscriber with
    /// JSON logs at INFO, logs and metrics written to a pipe, as Lambda's stdout is.
    TidingsDeployed,
}

/// One timed side: a name, what it runs and how it reads the payload.
struct Side {
    name: &'static str,
    kind: Kind,
    reading: Reading,
}

const SIDES: [Side; 5] = [
    Side {
        name: "baseline",
        kind: Kind::Baseline,
        reading: Reading::LambdaRuntime,
    },
    Side {
        name: "tidings",
        kind: Kind::Tidings,
        reading: Reading::LambdaRuntime,
    },
    Side {
        name: "tidings_deployed",
        kind: Kind::TidingsDeployed,
        reading: Reading::LambdaRuntime,
    },
    Side {
        name: "baseline_plain_serde",
        kind: Kind::Baseline,
        reading: Reading::PlainSerde,
    },
    Side {
        name: "tidings_plain_serde",
        kind: Kind::Tidings,
        reading: Reading::PlainSerde,
    },
];

/// The subscriber `lambda_runtime::tracing::init_default_subscriber` installs for
/// `AWS_LAMBDA_LOG_FORMAT=JSON` at the default level, writing to `out` instead of stdout.
fn lambda_json_subscriber<W>(out: W) -> Dispatch
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    let subscriber = tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_env_filter(EnvFilter::new("info"))
        .with_writer(out)
        .json()
        .finish();
    Dispatch::new(subscriber)
}

/// Checks that the deployed side's subscriber sees the pipeline's spans: a failed record's
/// line, written within its record span, carries the span's event id.
fn check_deployed_logging(runtime: &Runtime) {
    let captured = Arc::new(Mutex::new(Vec::new()));
    let writer = {
        let captured = Arc::clone(&captured);
        move || Captured(Arc::clone(&captured))
    };
    let failing = Envelope::new(
        SOURCE,
        Echo::new("entity-failing", Behaviour::Fail, String::new()),
    );
    let bytes = serde_json::to_vec(&Batch::sqs().event(&failing).to_json()).expect("a batch");
    let logs = lambda_json_subscriber(writer);
    tracing::dispatcher::with_default(&logs, || {
        tidings(
            runtime,
            &Pipeline::new(echo),
            Reading::LambdaRuntime,
            &bytes,
            &mut std::io::sink(),
        )
    });
    let logs = String::from_utf8(captured.lock().expect("not poisoned").clone()).expect("UTF-8");
    let id_in_span = format!("\"event_id\":\"{}\"", failing.id());
    assert!(
        logs.contains("\"level\":\"WARN\"") && logs.contains(&id_in_span),
        "the deployed subscriber did not log the failed record within its span: {logs}"
    );
}

/// A writer into a shared buffer.
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("not poisoned")
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn main() {
    let runtime = current_thread_runtime();
    let state = Tidings::new();
    let metrics_sink = RefCell::new(std::io::sink());
    let metrics_pipe = RefCell::new(drained_pipe());
    let deployed_logs = lambda_json_subscriber(Mutex::new(drained_pipe()));
    // The other sides run under a subscriber that takes nothing, as with none at all. Two
    // registered subscribers also make tracing judge each span against the current one:
    // with a single one, it caches the interest of the subscriber current at a callsite's
    // first use for every later use.
    let quiet = Dispatch::new(NoSubscriber::default());
    let run = |side: &Side, pipeline: &Pipeline<echo>, bytes: &[u8]| match side.kind {
        Kind::Baseline => {
            tracing::dispatcher::with_default(&quiet, || baseline(&runtime, side.reading, bytes))
        }
        Kind::Tidings => tracing::dispatcher::with_default(&quiet, || {
            tidings(
                &runtime,
                pipeline,
                side.reading,
                bytes,
                &mut *metrics_sink.borrow_mut(),
            )
        }),
        Kind::TidingsDeployed => tracing::dispatcher::with_default(&deployed_logs, || {
            tidings(
                &runtime,
                pipeline,
                side.reading,
                bytes,
                &mut *metrics_pipe.borrow_mut(),
            )
        }),
    };

    check_deployed_logging(&runtime);

    // Every side must give the same answer, or the comparison means nothing.
    let sample = invocation_bytes();
    let expected = br#"{"batchItemFailures":[]}"#.to_vec();
    for side in &SIDES {
        let answer = run(side, &Pipeline::new(echo), &sample);
        assert_eq!(answer, expected, "{}", side.name);
    }
    let body_bytes = event(0).to_json().expect("envelopes serialize").len();

    let mut criterion = Criterion::default().configure_from_args();
    {
        let mut group = criterion.benchmark_group("sqs_batch_10x1KiB");
        for side in &SIDES {
            group.bench_function(side.name, |b| {
                b.iter_batched(
                    || {
                        if side.kind != Kind::Baseline {
                            state.before_batch();
                        }
                        invocation_bytes()
                    },
                    |bytes| run(side, &state.pipeline.borrow(), &bytes),
                    BatchSize::SmallInput,
                )
            });
        }
        group.finish();
    }

    // Interleaved rounds: each round times every side on batches built for it, starting
    // with a different side each round, so drift in the machine's load hits all alike.
    let mut times: Vec<Vec<Duration>> = SIDES.iter().map(|_| Vec::new()).collect();
    for round in 0..ROUNDS {
        let pipeline = Pipeline::new(echo);
        for turn in 0..SIDES.len() {
            let index = (round + turn) % SIDES.len();
            let side = &SIDES[index];
            let inputs: Vec<Vec<u8>> = (0..BATCHES_PER_ROUND).map(|_| invocation_bytes()).collect();
            times[index].push(time_batches(&inputs, |bytes| run(side, &pipeline, bytes)));
        }
    }
    let medians: Vec<Duration> = times.into_iter().map(median).collect();
    let [base, with_tidings, deployed, plain_base, plain_tidings] = medians[..] else {
        unreachable!("one median per side");
    };
    let ratio = |side: Duration, baseline: Duration| side.as_secs_f64() / baseline.as_secs_f64();
    let goal_ratio = ratio(with_tidings, base);

    println!();
    println!(
        "pipeline: one SQS batch of {RECORDS} records, {body_bytes}-byte bodies, fresh event ids, \
         memory store; medians of {ROUNDS} interleaved rounds of {BATCHES_PER_ROUND} batches"
    );
    println!("  payload read as lambda_runtime reads it (serde_json + serde_path_to_error):");
    println!(
        "    baseline (LambdaEvent<SqsEvent> + serde_json + respond):  {} per batch",
        micros(base)
    );
    println!(
        "    tidings  (LambdaEvent<Invocation> + Pipeline::invoke):   {} per batch",
        micros(with_tidings)
    );
    println!(
        "    ratio tidings / baseline: {goal_ratio:.2}x (goal: at most {GOAL}x) -> {}",
        if goal_ratio <= GOAL { "met" } else { "NOT met" }
    );
    println!(
        "    tidings as deployed (JSON logs at INFO, logs and metrics to a pipe): {} per batch, \
         {:.2}x the baseline",
        micros(deployed),
        ratio(deployed, base)
    );
    println!("  payload read with serde_json::from_slice alone, for reference:");
    println!(
        "    baseline {}, tidings {} per batch: ratio {:.2}x",
        micros(plain_base),
        micros(plain_tidings),
        ratio(plain_tidings, plain_base)
    );
}
