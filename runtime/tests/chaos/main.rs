//! The chaos suite: SQS at its worst against generated handlers, through the entry the Lambda
//! binary uses (`tidings::Pipeline::invoke`), checking effects, not just outcomes.
//!
//! Traffic (traffic.rs): item events over many subjects, batches of 1–10, ~30 % duplicates
//! (half redelivered with the same message id, half republished), shuffled across batches,
//! ~10 % published as version 1 (upcast), ~0.5 % poison of every kind.
//!
//! Faults: transient handler errors, panics and runs past the deadline, before or after the
//! handler's effect (in the events' scripts); invocations killed mid-batch at chosen points
//! of their store calls (witness.rs: after claims, before or after completions, after
//! releases; the future dropped there, as a process dies); store calls that fail, lose their answer, are slow, or land after the caller
//! gave up (`FlakyStore`'s random faults, and faults aimed at single keys); several containers
//! polling at once. Redelivery as SQS does it (queue.rs): failed records and failed
//! invocations come back after a delay, with a receive cap.
//!
//! Invariants, each counted and printed: nothing lost (every valid event took effect, or
//! under `latest_wins` was superseded by a newer one that did; nothing hit the receive cap);
//! mutual exclusion (witness.rs: no lock granted to a second live holder or after a
//! confirmed completion, no write refused as `LockLost`, no effect without a grant), so that
//! every double is one the README's Limits allow;
//! `latest_wins`: each subject ends at its newest event and never went back; FIFO: no record
//! of a group acknowledged after a failed one, and each group's effects in order; poison
//! rejected, dead-lettered, and never blocking; per invocation, the response, the EMF line
//! and the effects agree.
//!
//! Size and seeds: `TIDINGS_CHAOS_EVENTS` (memory store, default 2000),
//! `TIDINGS_CHAOS_DYNAMODB_EVENTS` (default 300), `TIDINGS_CHAOS_SEEDS` (comma-separated,
//! default 1). `scripts/chaos` runs the long version.

#[path = "../common/mod.rs"]
mod common;
mod queue;
mod rng;
#[path = "../support/mod.rs"]
mod support;
mod traffic;
mod witness;

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering as AtomicOrdering};
use std::time::{Duration, Instant, SystemTime};

use tidings::Response;
use tidings::store::{Store, StoreError};
use tidings::testing::{Batch, BatchKind, TestRecord};
use tidings::testing::{FlakyStore, RandomFaults, StoreOp};
use tidings::transport::Invocation;
use tidings::{EventHandler, HandlerOptions, MemoryDeadLetterQueue, Pipeline};

use queue::{Message, Queue};
use rng::Rng;
use traffic::{INVOCATION_MS, MARGIN_MS, Mode, Traffic};
use witness::{KILL_AT, Kill, KillPoint, Witness};

/// Seeds that once failed, kept as regression cases; run with every configured seed.
const REGRESSION_SEEDS: &[u64] = &[];

/// Containers polling the queue at once.
const CONTAINERS: usize = 4;
/// The redrive policy's receive cap: far above what any record needs here.
const MAX_RECEIVES: u32 = 60;
/// Chance that an invocation is killed mid-batch, at one of the [`KillPoint`]s.
const KILL: f64 = 0.05;
/// How long a killed invocation's messages stay invisible: the visibility timeout.
const VISIBILITY_MS: u64 = INVOCATION_MS + 50;
/// The longest a run may take before it is declared stuck.
const STUCK_AFTER: Duration = Duration::from_secs(900);

/// What one run counted.
#[derive(Debug, Default)]
struct Report {
    events: usize,
    messages: usize,
    duplicates: usize,
    upcast: usize,
    poison: usize,
    deliveries: usize,
    invocations: usize,
    killed: usize,
    outcomes: HashMap<String, u64>,
    late_writes_landed: usize,
    elapsed: Duration,
    /// Broken invariants, each a line; empty when the run passed.
    broken: Vec<String>,
    allowed_doubles: usize,
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn seeds() -> Vec<u64> {
    let mut seeds: Vec<u64> = std::env::var("TIDINGS_CHAOS_SEEDS")
        .ok()
        .map(|list| {
            list.split(',')
                .filter_map(|seed| seed.trim().parse().ok())
                .collect()
        })
        .unwrap_or_else(|| vec![1]);
    seeds.extend(REGRESSION_SEEDS);
    seeds
}

/// A name no other run against the same store has used.
fn run_name(store: &str, mode: Mode, seed: u64) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let millis = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    format!(
        "{store}-{mode:?}-{seed}-{}-{millis}-{}",
        std::process::id(),
        NEXT.fetch_add(1, AtomicOrdering::Relaxed)
    )
    .to_lowercase()
}

/// One chaos run of `handler` in `mode` on `store`, from `seed`.
async fn run<H, S>(handler: H, mode: Mode, store: S, events: usize, seed: u64, label: &str)
where
    H: EventHandler<State = support::Ledger>,
    S: Store,
{
    support::quiet_planned_panics();
    let name = run_name(label, mode, seed);
    let mut rng = Rng::new(seed);
    let traffic = traffic::traffic(&name, mode, events, &mut rng);

    let flaky = Arc::new(FlakyStore::new(store));
    flaky.random_faults(RandomFaults {
        seed: rng.next_u64(),
        fail: 0.01,
        lose_answer: 0.005,
        land_late: 0.01,
        slow: 0.01,
        slow_by: Duration::from_millis(120),
        jitter: Duration::from_millis(3),
    });
    // Faults aimed at single events: their claims throttled, their completions lost.
    for event in traffic.events.iter().step_by(97) {
        let throttled = StoreError::Throttled("injected: aimed at this key".into());
        flaky.fail_key(StoreOp::Claim, event.id.clone(), 2, throttled.clone());
        flaky.fail_key(StoreOp::Complete, event.id.clone(), 1, throttled);
    }
    // Releases aimed at events that fail once and retry slowly land late: the moment a
    // release without an owner would free the retry's lock.
    for event in traffic.events.iter().filter(|e| e.slow_retry) {
        let late = StoreError::Unavailable("injected: the release timed out".into());
        flaky.land_key_late(StoreOp::Release, event.id.clone(), 1, late);
    }
    let witness = Arc::new(Witness::new(Arc::clone(&flaky)));
    let dead_letters = Arc::new(MemoryDeadLetterQueue::new());
    let (pipeline, ledger) = support::pipeline(handler);
    let pipeline = pipeline
        .with_store(witness.clone())
        .with_dead_letter_queue(dead_letters.clone())
        .with_function_name(&name);
    let options = HandlerOptions {
        deadline_margin: Duration::from_millis(MARGIN_MS),
        ..pipeline.options().clone()
    };
    let pipeline = Arc::new(pipeline.with_options(options));

    let queue = Arc::new(Queue::new(mode == Mode::Fifo, MAX_RECEIVES));
    for message in &traffic.messages {
        queue.send(message.clone());
    }

    let started = Instant::now();
    let shared = Arc::new(Shared::default());
    let mut containers = Vec::new();
    for _ in 0..CONTAINERS {
        let container = Container {
            pipeline: Arc::clone(&pipeline),
            queue: Arc::clone(&queue),
            shared: Arc::clone(&shared),
            fifo: mode == Mode::Fifo,
            rng: rng.fork(),
            name: name.clone(),
        };
        containers.push(tokio::spawn(container.poll_until_drained(started)));
    }
    // Late writes land while invocations are in flight, not only between them, and often
    // long after they were sent: past their lock's lapse, when another delivery may hold it.
    let lander = {
        let flaky = Arc::clone(&flaky);
        let shared = Arc::clone(&shared);
        let queue = Arc::clone(&queue);
        let mut rng = rng.fork();
        tokio::spawn(async move {
            while !queue.is_drained() {
                tokio::time::sleep(Duration::from_millis(7)).await;
                if !rng.chance(0.03) {
                    continue;
                }
                let landed = flaky.land_held().await;
                shared.landed.fetch_add(landed, AtomicOrdering::Relaxed);
            }
        })
    };
    for container in containers {
        container.await.expect("a container panicked");
    }
    lander.await.expect("the lander panicked");
    let late = flaky.land_held().await;
    shared.landed.fetch_add(late, AtomicOrdering::Relaxed);
    let elapsed = started.elapsed();

    let mut report = check(
        mode,
        &ledger,
        &traffic,
        &queue,
        &witness,
        &dead_letters,
        &shared,
    );
    report.elapsed = elapsed;
    print_report(label, mode, seed, &report);
    assert!(
        report.broken.is_empty(),
        "chaos run {label} {mode:?} seed {seed} broke {} invariant(s):\n{}",
        report.broken.len(),
        report.broken.join("\n")
    );
}

/// What the containers of a run share.
#[derive(Default)]
struct Shared {
    invocations: AtomicUsize,
    deliveries: AtomicUsize,
    landed: AtomicUsize,
    state: std::sync::Mutex<SharedState>,
}

#[derive(Default)]
struct SharedState {
    killed: usize,
    /// Per message id: how many of its deliveries were in a killed invocation.
    killed_deliveries: HashMap<String, usize>,
    outcomes: HashMap<String, u64>,
    broken: Vec<String>,
}

/// One simulated Lambda container: polls the queue, invokes, settles.
struct Container<H: EventHandler<State = support::Ledger>> {
    pipeline: Arc<Pipeline<H>>,
    queue: Arc<Queue>,
    shared: Arc<Shared>,
    fifo: bool,
    rng: Rng,
    name: String,
}

impl<H: EventHandler<State = support::Ledger>> Container<H> {
    async fn poll_until_drained(mut self, started: Instant) {
        while !self.queue.is_drained() {
            assert!(
                started.elapsed() < STUCK_AFTER,
                "chaos run stuck: {} messages still queued after {STUCK_AFTER:?}",
                self.queue.len()
            );
            let size = self.rng.between(1, 10) as usize;
            let messages = self.queue.receive(size, &mut self.rng);
            if messages.is_empty() {
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
            self.invoke(&messages).await;
        }
    }

    async fn invoke(&mut self, messages: &[Message]) {
        let number = self
            .shared
            .invocations
            .fetch_add(1, AtomicOrdering::Relaxed);
        self.shared
            .deliveries
            .fetch_add(messages.len(), AtomicOrdering::Relaxed);
        let request_id = format!("{}-r{number}", self.name);
        let mut batch = Batch::new(if self.fifo {
            BatchKind::SqsFifo
        } else {
            BatchKind::Sqs
        });
        for message in messages {
            let mut record = TestRecord::raw(message.body.clone())
                .message_id(message.id.clone())
                .receive_count(message.receives);
            if let Some(group) = &message.group {
                record = record.group(group.clone());
            }
            batch = batch.record(record);
        }
        let invocation =
            Invocation::from_json(&batch.to_json().to_string()).expect("a valid invocation");
        let event = tidings::lambda::event(
            invocation,
            request_id.clone(),
            SystemTime::now() + Duration::from_millis(INVOCATION_MS),
        );
        let died = Arc::new(tokio::sync::Notify::new());
        let kill = self.rng.chance(KILL).then(|| Kill {
            point: KillPoint::ALL[self.rng.between(0, 3) as usize],
            died: Arc::clone(&died),
        });
        let answer = KILL_AT.scope(kill, self.pipeline.invoke(event));
        // An invocation that reaches its kill point is dropped there, as a process that
        // died: whatever it wrote stays written, nothing after it happens.
        let answered = tokio::select! {
            answered = answer => Some(answered),
            () = died.notified() => None,
        };
        let Some(answered) = answered else {
            // The process died: no response; every message returns after the visibility
            // timeout, and whatever the invocation wrote stays written.
            {
                let mut state = self.shared.state.lock().expect("shared");
                state.killed += 1;
                for message in messages {
                    *state
                        .killed_deliveries
                        .entry(message.id.clone())
                        .or_default() += 1;
                }
            }
            let all: Vec<String> = messages.iter().map(|m| m.id.clone()).collect();
            self.queue
                .settle(messages, &all, Duration::from_millis(VISIBILITY_MS));
            return;
        };
        let mut metrics = Vec::new();
        answered
            .write_metrics(&mut metrics)
            .expect("a Vec takes the metrics line");
        let failed: Vec<String> = match answered.response {
            Ok(Response::Sqs(response)) => response
                .batch_item_failures
                .into_iter()
                .map(|f| f.item_identifier)
                .collect(),
            Ok(Response::Sns) => unreachable!("SQS invocations get SQS responses"),
            Err(error) => {
                self.note(format!(
                    "invocation {request_id} failed as a whole: {error}"
                ));
                messages.iter().map(|m| m.id.clone()).collect()
            }
        };
        self.check_invocation(&request_id, messages, &failed, &metrics);
        let delay = Duration::from_millis(self.rng.between(10, 80));
        self.queue.settle(messages, &failed, delay);
    }

    /// The response, the EMF line and the effects of one invocation agree; under FIFO, no
    /// record of a group is acknowledged after a failed one.
    fn check_invocation(
        &self,
        request_id: &str,
        messages: &[Message],
        failed: &[String],
        metrics: &[u8],
    ) {
        let line: serde_json::Value = match serde_json::from_slice(metrics) {
            Ok(line) => line,
            Err(error) => {
                self.note(format!("{request_id}: no EMF line ({error})"));
                return;
            }
        };
        let count = |name: &str| line[name].as_u64().unwrap_or(0);
        let effects = u64::from(self.pipeline.state().successes_of_request(request_id));
        if count("Processed") != effects {
            self.note(format!(
                "{request_id}: EMF says {} processed, the handler succeeded {effects} times",
                count("Processed")
            ));
        }
        if count("Retried") != failed.len() as u64 {
            self.note(format!(
                "{request_id}: EMF says {} retried, the response reports {} failures",
                count("Retried"),
                failed.len()
            ));
        }
        if count("Records") != messages.len() as u64 {
            self.note(format!(
                "{request_id}: EMF counts {} records of {}",
                count("Records"),
                messages.len()
            ));
        }
        if self.fifo {
            let mut blocked: HashSet<&str> = HashSet::new();
            for message in messages {
                let group = message.group.as_deref().unwrap_or_default();
                let did_fail = failed.contains(&message.id);
                if blocked.contains(group) && !did_fail {
                    self.note(format!(
                        "{request_id}: message {} of group {group} acknowledged after a failed one",
                        message.id
                    ));
                }
                if did_fail {
                    blocked.insert(group);
                }
            }
        }
        let mut state = self.shared.state.lock().expect("shared");
        for name in [
            "Processed",
            "Duplicates",
            "Stale",
            "Ignored",
            "Retried",
            "Rejected",
        ] {
            *state.outcomes.entry(name.to_owned()).or_default() += count(name);
        }
    }

    fn note(&self, broken: String) {
        self.shared
            .state
            .lock()
            .expect("shared")
            .broken
            .push(broken);
    }
}

/// The invariants over the whole run.
fn check<S: Store>(
    mode: Mode,
    ledger: &support::Ledger,
    traffic: &Traffic,
    queue: &Queue,
    witness: &Witness<S>,
    dead_letters: &MemoryDeadLetterQueue,
    shared: &Shared,
) -> Report {
    let state = shared.state.lock().expect("shared");
    let mut report = Report {
        events: traffic.events.len(),
        messages: traffic.messages.len(),
        duplicates: traffic.duplicates,
        upcast: traffic.upcast,
        poison: traffic.poison.len(),
        deliveries: shared.deliveries.load(AtomicOrdering::Relaxed),
        invocations: shared.invocations.load(AtomicOrdering::Relaxed),
        killed: state.killed,
        outcomes: state.outcomes.clone(),
        late_writes_landed: shared.landed.load(AtomicOrdering::Relaxed),
        elapsed: Duration::ZERO,
        broken: state.broken.clone(),
        allowed_doubles: 0,
    };
    let broken = &mut report.broken;

    // Nothing lost to the receive cap.
    for message in queue.redriven() {
        broken.push(format!(
            "message {} hit the receive cap ({MAX_RECEIVES}) and was redriven",
            message.id
        ));
    }

    // Mutual exclusion: no lock granted to a second live holder, no write refused as
    // LockLost. With it, each run of an event held the event's lock alone, after every
    // earlier holder failed, died or let its lock lapse: the doubles the README's Limits
    // allow. Each grant runs the handler at most once.
    let mut newest: HashMap<&str, u64> = HashMap::new();
    for event in &traffic.events {
        let entry = newest.entry(&event.subject).or_default();
        *entry = (*entry).max(event.sequence);
    }
    let mut applied_subjects: HashMap<&str, Vec<u64>> = HashMap::new();
    broken.extend(witness.violations());
    for event in &traffic.events {
        let ran = ledger.effects(&event.id) as usize;
        let grants = witness.grants(&event.id);
        if ran > grants {
            broken.push(format!(
                "event {} (subject {}, sequence {}) applied {ran} times with {grants} grants of \
                 its lock: a handler ran without the lock",
                event.id, event.subject, event.sequence
            ));
        }
        report.allowed_doubles += ran.saturating_sub(1);
        applied_subjects
            .entry(&event.subject)
            .or_insert_with(|| ledger.applied(&event.subject));
        let superseded =
            mode == Mode::LatestWins && event.sequence < newest[event.subject.as_str()];
        if ran == 0 && !superseded {
            broken.push(format!(
                "event {} (subject {}, sequence {}) was lost: it never took effect",
                event.id, event.subject, event.sequence
            ));
        }
    }

    // Order per subject. Under `latest_wins` an allowed double can only repeat the event
    // that just ran (a newer claim makes the older one stale), so repeats are adjacent; on a
    // FIFO queue without ordering, a republished copy of an unconfirmed event may run again
    // later, so only first runs are held to the group's order.
    for (subject, applied) in &applied_subjects {
        let mut seen = HashSet::new();
        let distinct: Vec<u64> = match mode {
            Mode::LatestWins => {
                let mut distinct = applied.clone();
                distinct.dedup();
                distinct
            }
            _ => applied
                .iter()
                .copied()
                .filter(|s| seen.insert(*s))
                .collect(),
        };
        if mode == Mode::Standard {
            continue;
        }
        if !distinct.windows(2).all(|pair| pair[0] < pair[1]) {
            broken.push(format!("subject {subject} went backwards: {applied:?}"));
        }
        if distinct.last() != Some(&newest[subject]) {
            broken.push(format!(
                "subject {subject} ended at {:?}, not at its newest event {}",
                distinct.last(),
                newest[subject]
            ));
        }
    }

    // Poison: rejected, dead-lettered at least once, more only after a killed invocation,
    // and never run.
    let letters = dead_letters.letters();
    for poison in &traffic.poison {
        let sent = letters
            .iter()
            .filter(|l| l.message_id == poison.message_id)
            .count();
        let killed = state
            .killed_deliveries
            .get(&poison.message_id)
            .copied()
            .unwrap_or(0);
        if sent == 0 || sent > 1 + killed {
            broken.push(format!(
                "poison {} ({}) was dead-lettered {sent} times (allowed 1..={})",
                poison.message_id,
                poison.kind,
                1 + killed
            ));
        }
        if let Some(id) = &poison.event_id
            && ledger.effects(id) > 0
        {
            broken.push(format!(
                "poison {} ({}) took effect",
                poison.message_id, poison.kind
            ));
        }
    }
    let valid_ids: HashSet<&str> = traffic
        .poison
        .iter()
        .map(|p| p.message_id.as_str())
        .collect();
    for letter in &letters {
        if !valid_ids.contains(letter.message_id.as_str()) {
            broken.push(format!(
                "a valid message {} was dead-lettered: {}",
                letter.message_id, letter.reason
            ));
        }
    }
    report
}

fn print_report(label: &str, mode: Mode, seed: u64, report: &Report) {
    let mut out = String::new();
    let records_per_s = report.deliveries as f64 / report.elapsed.as_secs_f64();
    let _ = writeln!(
        out,
        "chaos {label} {mode:?} seed {seed}: {} events ({} as v1), {} poison, {} duplicates, \
         {} messages; {} deliveries in {} invocations ({} killed); {} late writes landed",
        report.events,
        report.upcast,
        report.poison,
        report.duplicates,
        report.messages,
        report.deliveries,
        report.invocations,
        report.killed,
        report.late_writes_landed
    );
    let mut outcomes: Vec<_> = report.outcomes.iter().collect();
    outcomes.sort();
    let outcomes: Vec<String> = outcomes.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(
        out,
        "  outcomes: {}; lost 0 checked; doubles allowed by the limits {}; broken {}; \
         {:.1} s, {records_per_s:.0} records/s",
        outcomes.join(", "),
        report.allowed_doubles,
        report.broken.len(),
        report.elapsed.as_secs_f64()
    );
    eprint!("{out}");
}

/// Handlers made by `#[event_handler]` are `Copy` unit structs: each run takes its own.
async fn memory_run<H: EventHandler<State = support::Ledger> + Copy>(handler: H, mode: Mode) {
    let events = env_number("TIDINGS_CHAOS_EVENTS", 2000);
    for seed in seeds() {
        let store = tidings::MemoryStore::new();
        run(handler, mode, store, events, seed, "memory").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_standard() {
    memory_run(support::record_items, Mode::Standard).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_latest_wins() {
    memory_run(support::latest_items, Mode::LatestWins).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_fifo() {
    memory_run(support::record_items, Mode::Fifo).await;
}

#[cfg(feature = "dynamodb")]
mod dynamodb {
    use super::*;
    use tidings::store::DynamoDbStore;

    async fn dynamodb_run<H: EventHandler<State = support::Ledger> + Default>(mode: Mode) {
        let events = env_number("TIDINGS_CHAOS_DYNAMODB_EVENTS", 300);
        let config = common::dynamodb_config().await;
        for seed in seeds() {
            let store = DynamoDbStore::new(
                aws_sdk_dynamodb::Client::new(&config),
                common::unique_name("chaos"),
            );
            store
                .create_table_if_missing()
                .await
                .expect("the table is created on DynamoDB Local");
            run(H::default(), mode, store, events, seed, "dynamodb").await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dynamodb_standard() {
        dynamodb_run::<support::record_items>(Mode::Standard).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dynamodb_latest_wins() {
        dynamodb_run::<support::latest_items>(Mode::LatestWins).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dynamodb_fifo() {
        dynamodb_run::<support::record_items>(Mode::Fifo).await;
    }
}
