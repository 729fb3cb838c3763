//! The pipeline's central promise, as a property: whatever the queue does — duplicates,
//! reordering, redeliveries of failed records — and whatever the handler does on its first
//! attempts — transient errors, panics — each event's side effect happens exactly once, and
//! under `latest_wins` each subject ends at its newest event without ever going backwards.
//!
//! Each case makes events over a few subjects, a schedule of deliveries (every event one to
//! three times, shuffled), and cuts it into batches of varying size and delivery shape. The
//! simulated queue then invokes batch after batch, putting every record the invocation
//! reports as failed back at the end of the queue with a higher receive count, as SQS does;
//! an SNS invocation that fails is retried whole, as Lambda retries asynchronous invocations.

mod support;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::Config;
use tidings::store::StoreError;
use tidings::testing::{Batch, BatchKind, TestRecord, invoke};
use tidings::testing::{FlakyStore, StoreOp};
use tidings::{Envelope, EventHandler, MemoryStore, Outcome, SubjectOrdering};

use support::{
    ItemChanged, Ledger, Step, item, latest_items, quiet_planned_panics, record_items, unique,
};

/// Enough rounds for every failure to be retried away: each event fails at most twice, and
/// every batch acknowledges at least the records that succeed.
const MAX_ROUNDS: usize = 400;

/// One case: the events, how often and in which order they are delivered, and how the
/// deliveries are cut into invocations.
#[derive(Debug, Clone)]
struct Scenario {
    /// Per subject, per event in sequence order: the gap to the previous sequence and what
    /// the handler does on its first attempts.
    subjects: Vec<Vec<(u64, Vec<Step>)>>,
    /// Per delivery, in queue order: which event (by index in `subjects` flattened).
    deliveries: Vec<usize>,
    /// Batch sizes, used in turn.
    sizes: Vec<usize>,
    /// Delivery shapes, used in turn.
    shapes: Vec<BatchKind>,
    /// Per invocation, for the first few: whether the store throttles its first claim call.
    throttled: Vec<bool>,
}

fn script() -> impl Strategy<Value = Vec<Step>> {
    prop_oneof![
        3 => Just(Vec::new()),
        2 => prop::collection::vec(prop_oneof![Just(Step::Fail), Just(Step::Panic)], 1..=2),
    ]
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let subjects = prop::collection::vec(prop::collection::vec((1..=3u64, script()), 1..=4), 1..=3);
    subjects
        .prop_flat_map(|subjects| {
            let events: usize = subjects.iter().map(Vec::len).sum();
            let copies = prop::collection::vec(1..=3usize, events);
            (Just(subjects), copies)
        })
        .prop_flat_map(|(subjects, copies)| {
            let deliveries: Vec<usize> = copies
                .iter()
                .enumerate()
                .flat_map(|(event, &count)| std::iter::repeat_n(event, count))
                .collect();
            (
                Just(subjects),
                Just(deliveries).prop_shuffle(),
                prop::collection::vec(1..=10usize, 1..=6),
                prop::collection::vec(
                    prop::sample::select(vec![
                        BatchKind::Sqs,
                        BatchKind::SnsViaSqs,
                        BatchKind::SqsFifo,
                        BatchKind::Sns,
                    ]),
                    1..=6,
                ),
                prop::collection::vec(prop::bool::weighted(0.15), 1..=6),
            )
        })
        .prop_map(
            |(subjects, deliveries, sizes, shapes, throttled)| Scenario {
                subjects,
                deliveries,
                sizes,
                shapes,
                throttled,
            },
        )
}

/// One event of a case.
struct CaseEvent {
    subject: String,
    sequence: u64,
    envelope: Envelope<ItemChanged>,
}

/// What became of each delivery of each event.
#[derive(Default)]
struct Outcomes {
    per_event: HashMap<usize, Vec<Outcome>>,
}

/// Runs `scenario` through `handler`; returns the events and every outcome they met.
async fn run<H: EventHandler<State = Ledger>>(
    handler: H,
    scenario: &Scenario,
) -> (Vec<CaseEvent>, Outcomes, Arc<Ledger>) {
    let mut events = Vec::new();
    for scripts in &scenario.subjects {
        let subject = unique("subject");
        let mut sequence = 0;
        for (gap, script) in scripts {
            sequence += gap;
            events.push(CaseEvent {
                subject: subject.clone(),
                sequence,
                envelope: item(&subject, sequence, script.clone()),
            });
        }
    }

    let store = Arc::new(FlakyStore::new(MemoryStore::new()));
    let (pipeline, ledger) = support::pipeline(handler);
    let pipeline = pipeline.with_store(store.clone());
    // (event, receive count, delivery number), in queue order.
    let mut queue: VecDeque<(usize, u32, usize)> = scenario
        .deliveries
        .iter()
        .enumerate()
        .map(|(number, &event)| (event, 1, number))
        .collect();
    let mut next_number = queue.len();
    let mut outcomes = Outcomes::default();

    let mut round = 0;
    while !queue.is_empty() {
        assert!(
            round < MAX_ROUNDS,
            "the queue never drained: {} left",
            queue.len()
        );
        let size = scenario.sizes[round % scenario.sizes.len()];
        let shape = scenario.shapes[round % scenario.shapes.len()];
        // Only early invocations are throttled: a store that never recovers would never
        // drain the queue.
        if scenario.throttled.get(round).copied().unwrap_or(false) {
            store.fail_calls(
                StoreOp::Claim,
                1,
                StoreError::Throttled("rate of requests exceeded".into()),
            );
        }
        round += 1;

        let taken: Vec<(usize, u32, usize)> = queue.drain(..size.min(queue.len())).collect();
        let batch = taken
            .iter()
            .fold(Batch::new(shape), |batch, &(event, receives, number)| {
                batch.record(
                    TestRecord::event(&events[event].envelope)
                        .message_id(format!("delivery-{number}"))
                        .receive_count(receives),
                )
            });
        let result = invoke(&pipeline, &batch).await;
        assert_eq!(result.records.len(), taken.len());
        for (record, &(event, _, _)) in result.records.iter().zip(&taken) {
            assert_eq!(
                record.event_id.as_deref(),
                Some(events[event].envelope.id())
            );
            outcomes
                .per_event
                .entry(event)
                .or_default()
                .push(record.outcome.clone());
        }

        // What the transport delivers again.
        let again: Vec<&(usize, u32, usize)> = if shape == BatchKind::Sns {
            match result.sns_result() {
                Ok(()) => Vec::new(),
                Err(_) => taken.iter().collect(),
            }
        } else {
            let failed: Vec<String> = result
                .sqs_response()
                .expect("every record has a message id")
                .batch_item_failures
                .into_iter()
                .map(|failure| failure.item_identifier)
                .collect();
            taken
                .iter()
                .filter(|(_, _, number)| failed.contains(&format!("delivery-{number}")))
                .collect()
        };
        for &(event, receives, _) in again {
            // SQS gives a redelivered message the same id; a fresh one here keeps each
            // delivery's outcome apart.
            queue.push_back((event, receives + 1, next_number));
            next_number += 1;
        }
    }
    (events, outcomes, ledger)
}

/// Asserts what must hold after every delivery was acknowledged.
fn check(
    ledger: &Ledger,
    ordering: SubjectOrdering,
    events: &[CaseEvent],
    outcomes: &Outcomes,
) -> Result<(), TestCaseError> {
    let mut newest: HashMap<&str, u64> = HashMap::new();
    let mut sequences: HashMap<&str, Vec<u64>> = HashMap::new();
    for event in events {
        let entry = newest.entry(&event.subject).or_default();
        *entry = (*entry).max(event.sequence);
        sequences
            .entry(&event.subject)
            .or_default()
            .push(event.sequence);
    }

    for (index, event) in events.iter().enumerate() {
        let id = event.envelope.id();
        let met = outcomes
            .per_event
            .get(&index)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let processed = met.iter().filter(|o| **o == Outcome::Processed).count();
        let ran = ledger.effects(id);
        // Nothing in these schedules is permanent: no record may be rejected or ignored.
        for outcome in met {
            prop_assert!(
                matches!(
                    outcome,
                    Outcome::Processed
                        | Outcome::Duplicate
                        | Outcome::Stale { .. }
                        | Outcome::Retry(_)
                ),
                "event {index} met {outcome:?}"
            );
        }
        // Each run that succeeded is reported once as processed, and never more than once.
        prop_assert_eq!(processed as u32, ran, "event {} outcomes {:?}", index, met);
        prop_assert!(ran <= 1, "event {index} ran {ran} times");

        match ordering {
            SubjectOrdering::None => {
                prop_assert_eq!(ran, 1, "event {} outcomes {:?}", index, met);
                prop_assert!(
                    met.iter().all(|o| !matches!(o, Outcome::Stale { .. })),
                    "event {index} was stale without ordering: {met:?}"
                );
            }
            SubjectOrdering::LatestWins => {
                let subject_newest = newest[event.subject.as_str()];
                if event.sequence == subject_newest {
                    // The newest event of a subject is never skipped.
                    prop_assert_eq!(ran, 1, "newest event {} outcomes {:?}", index, met);
                } else if ran == 0 {
                    // An event skipped was skipped for a newer one that ran.
                    prop_assert!(
                        met.iter().any(|o| matches!(o, Outcome::Stale { .. })),
                        "event {index} never ran and was never stale: {met:?}"
                    );
                }
                let ran_sequences = ledger.applied(&event.subject);
                for outcome in met {
                    if let Outcome::Stale { sequence, newest } = outcome {
                        prop_assert_eq!(*sequence, event.sequence);
                        prop_assert!(newest > sequence, "{outcome:?}");
                        // The mark moves at claim time, so `newest` may be an event that
                        // failed and was then itself superseded; but something at least that
                        // new must have run in the end.
                        prop_assert!(
                            ran_sequences.iter().any(|ran| ran >= newest),
                            "stale for {newest}, but nothing that new ever ran: {ran_sequences:?}"
                        );
                    }
                }
            }
        }
    }

    for (subject, all) in &sequences {
        let ran = ledger.applied(subject);
        match ordering {
            SubjectOrdering::None => {
                // Without ordering, events run in delivery order: each runs once, in any order.
                let mut sorted = ran.clone();
                sorted.sort_unstable();
                prop_assert_eq!(&sorted, all, "subject {}", subject);
            }
            SubjectOrdering::LatestWins => {
                // Never backwards, and the final state is the newest event's.
                prop_assert!(
                    ran.windows(2).all(|pair| pair[0] < pair[1]),
                    "subject {subject} went backwards: {ran:?}"
                );
                prop_assert_eq!(ran.last(), Some(&newest[*subject]), "subject {}", subject);
            }
        }
    }
    Ok(())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a test runtime")
}

fn config() -> Config {
    Config {
        cases: 64,
        // A failing case is printed with its scenario; no regression file is left behind.
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn each_event_runs_exactly_once_without_ordering(scenario in scenario()) {
        quiet_planned_panics();
        let (events, outcomes, ledger) = runtime().block_on(run(record_items, &scenario));
        check(&ledger, SubjectOrdering::None, &events, &outcomes)?;
    }

    #[test]
    fn each_subject_ends_at_its_newest_event_under_latest_wins(scenario in scenario()) {
        quiet_planned_panics();
        let (events, outcomes, ledger) = runtime().block_on(run(latest_items, &scenario));
        check(&ledger, SubjectOrdering::LatestWins, &events, &outcomes)?;
    }
}
