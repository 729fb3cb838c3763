//! The cost of the tidings pipeline per SQS batch, against a hand-written handler.
//!
//! Both sides start from the invocation's JSON bytes, as `lambda_runtime` hands them over, and
//! end with the serialized `SqsBatchResponse`:
//!
//! - baseline: a hand-written `lambda_runtime` handler that deserializes `SqsEvent`, parses
//!   each body with serde_json into `Envelope<Echo>`, calls [`tidings_tests::respond`], and
//!   reports failures;
//! - tidings: deserializes [`Invocation`] and runs [`Processor::process`] with the memory
//!   store: transport decoding, envelope and version checks, an idempotency claim per record,
//!   the guarded handler call (the same `respond`), completion.
//!
//! Every batch holds 10 records of about 1 KiB, each with a fresh event id, so every record
//! is claimed and completed for real, never answered as a duplicate.
//!
//! Criterion measures each side on its own; then both are timed in interleaved rounds, so
//! that the printed ratio compares figures taken under the same machine load.

use std::cell::RefCell;
use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use criterion::{BatchSize, Criterion};
use tidings::lambda::Error;
use tidings::testing::Batch;
use tidings::transport::Invocation;
use tidings::{Context, Envelope, HandlerError, InvocationInfo, Processor};
use tidings_tests::{Behaviour, Echo, SOURCE};
use tokio::runtime::Runtime;

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

fn invocation_info() -> InvocationInfo {
    InvocationInfo {
        request_id: "bench".to_owned(),
        deadline: SystemTime::now() + Duration::from_secs(30),
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

fn baseline(runtime: &Runtime, bytes: &[u8]) -> Vec<u8> {
    let event: SqsEvent = serde_json::from_slice(bytes).expect("an SQS event");
    let response = runtime
        .block_on(hand_written(event))
        .expect("the handler answers");
    serde_json::to_vec(&response).expect("a response serializes")
}

fn tidings(runtime: &Runtime, processor: &Processor<echo>, bytes: &[u8]) -> Vec<u8> {
    let invocation: Invocation = serde_json::from_slice(bytes).expect("an invocation");
    let info = invocation_info();
    let result = runtime.block_on(processor.process(invocation.deliveries(), &info));
    let response = result.sqs_response().expect("every record is identified");
    serde_json::to_vec(&response).expect("a response serializes")
}

/// The processor, replaced by one with an empty store every `BATCHES_PER_STORE` batches,
/// outside the timed section.
struct Tidings {
    processor: RefCell<Processor<echo>>,
    batches: RefCell<usize>,
}

impl Tidings {
    fn new() -> Self {
        Self {
            processor: RefCell::new(Processor::new(echo)),
            batches: RefCell::new(0),
        }
    }

    /// Counts a batch about to run, renewing the store when it is due.
    fn before_batch(&self) {
        let mut batches = self.batches.borrow_mut();
        *batches += 1;
        if *batches > BATCHES_PER_STORE {
            *batches = 1;
            *self.processor.borrow_mut() = Processor::new(echo);
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

fn main() {
    let runtime = current_thread_runtime();
    let side = Tidings::new();

    // Both sides must give the same answer, or the comparison means nothing.
    let sample = invocation_bytes();
    let expected = br#"{"batchItemFailures":[]}"#.to_vec();
    assert_eq!(baseline(&runtime, &sample), expected);
    assert_eq!(
        tidings(&runtime, &side.processor.borrow(), &sample),
        expected
    );
    let body_bytes = event(0).to_json().expect("envelopes serialize").len();

    let mut criterion = Criterion::default().configure_from_args();
    {
        let mut group = criterion.benchmark_group("sqs_batch_10x1KiB");
        group.bench_function("baseline", |b| {
            b.iter_batched(
                invocation_bytes,
                |bytes| baseline(&runtime, &bytes),
                BatchSize::SmallInput,
            )
        });
        group.bench_function("tidings", |b| {
            b.iter_batched(
                || {
                    side.before_batch();
                    invocation_bytes()
                },
                |bytes| tidings(&runtime, &side.processor.borrow(), &bytes),
                BatchSize::SmallInput,
            )
        });
        group.finish();
    }

    // Interleaved rounds: each round times both sides on batches built for it, alternating
    // which goes first, so drift in the machine's load hits both alike.
    let mut base_times = Vec::with_capacity(ROUNDS);
    let mut tidings_times = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        let base_inputs: Vec<Vec<u8>> =
            (0..BATCHES_PER_ROUND).map(|_| invocation_bytes()).collect();
        let tidings_inputs: Vec<Vec<u8>> =
            (0..BATCHES_PER_ROUND).map(|_| invocation_bytes()).collect();
        let processor = Processor::new(echo);
        let time_base = || time_batches(&base_inputs, |bytes| baseline(&runtime, bytes));
        let time_tidings = || {
            time_batches(&tidings_inputs, |bytes| {
                tidings(&runtime, &processor, bytes)
            })
        };
        if round % 2 == 0 {
            base_times.push(time_base());
            tidings_times.push(time_tidings());
        } else {
            tidings_times.push(time_tidings());
            base_times.push(time_base());
        }
    }
    let base = median(base_times);
    let with_tidings = median(tidings_times);
    let ratio = with_tidings.as_secs_f64() / base.as_secs_f64();

    println!();
    println!(
        "pipeline: one SQS batch of {RECORDS} records, {body_bytes}-byte bodies, fresh event ids, \
         memory store; medians of {ROUNDS} interleaved rounds of {BATCHES_PER_ROUND} batches"
    );
    println!(
        "  baseline (SqsEvent + serde_json + respond):       {} per batch",
        micros(base)
    );
    println!(
        "  tidings  (Invocation + Processor::process):       {} per batch",
        micros(with_tidings)
    );
    println!(
        "  ratio tidings / baseline: {ratio:.2}x (goal: at most {GOAL}x) -> {}",
        if ratio <= GOAL { "met" } else { "NOT met" }
    );
}
