//! Event types, handlers and a ledger of what the handlers did, shared by the pipeline's
//! tests (bad_inputs, pipeline, exactly_once).
//!
//! Every handler writes to its state, a [`Ledger`] each test builds for itself and hands to the
//! pipeline ([`pipeline`]), keyed by event id and by subject: tests share nothing.
//!
//! What a handler does with an event is written in the event itself: `script` lists what to do
//! on the first, second, ... attempt for that event id, and every later attempt succeeds.

// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

pub mod regressions;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, MutexGuard, Once, PoisonError};
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tidings::{Context, Envelope, Event, EventHandler, EventSet, HandlerError, Pipeline};

/// The source every test event claims.
pub const SOURCE: &str = "tidings-tests";

/// The type of [`ItemChanged`] and its older version.
pub const ITEM_TYPE: &str = "test.item.changed";

/// What the handler does on one attempt at an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Succeed.
    Succeed,
    /// Return a transient error: the record is retried.
    Fail,
    /// Panic.
    Panic,
    /// Sleep this long, then succeed (cancelled first if the deadline comes).
    Sleep { ms: u64 },
    /// Return a permanent error: the record is rejected.
    Reject,
    /// Count this attempt in the gauge `name` while it sleeps `ms`, then succeed: measures how
    /// many handlers run at once.
    Gauge { name: String, ms: u64 },
    /// Apply the side effect, then return a transient error: a handler whose effect landed
    /// before it failed.
    FailAfterEffect,
    /// Apply the side effect, then panic.
    PanicAfterEffect,
    /// Apply the side effect, then sleep this long (cancelled first if the deadline comes).
    SleepAfterEffect { ms: u64 },
}

/// The message of the transient error of [`Step::Fail`], on attempt `n`.
pub fn fail_message(attempt: u32) -> String {
    format!("the item service is unavailable (attempt {attempt})")
}

/// The panic message of [`Step::Panic`], on attempt `n`.
pub fn panic_message(attempt: u32) -> String {
    format!("{PLANNED_PANIC} on attempt {attempt}")
}

/// The message of the permanent error of [`Step::Reject`].
pub const REJECT_MESSAGE: &str = "items with a negative value are refused by policy";

/// Every planned panic message starts with this, so the panic hook can keep them quiet.
pub const PLANNED_PANIC: &str = "planned test panic";

/// Version 1 of the item event: no script.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.item.changed", version = 1)]
pub struct ItemChangedV1 {
    /// The item: the subject.
    #[event(subject)]
    pub item: String,
    /// The item's new value.
    pub value: i64,
}

/// Version 2 of the item event, the one the handlers decode into.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.item.changed", version = 2, upcast_from = ItemChangedV1)]
pub struct ItemChanged {
    /// The item: the subject.
    #[event(subject)]
    pub item: String,
    /// The item's new value.
    pub value: i64,
    /// What to do on each attempt; attempts past its end succeed.
    #[serde(default)]
    pub script: Vec<Step>,
}

impl From<ItemChangedV1> for ItemChanged {
    fn from(older: ItemChangedV1) -> Self {
        Self {
            item: older.item,
            value: older.value,
            script: Vec::new(),
        }
    }
}

/// An event whose producers set the subject on the envelope: one published without it
/// cannot be ordered by `latest_wins`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.ping", version = 1, envelope_subject)]
pub struct Ping {
    /// Anything.
    pub note: String,
}

/// The event types the test handlers accept.
#[derive(Debug, EventSet)]
pub enum TestEvent {
    /// An item changed.
    Changed(ItemChanged),
    /// A ping.
    Ping(Ping),
}

/// A handler with no ordering: every new event runs.
#[tidings::event_handler(main = false)]
pub async fn record_items(
    event: Envelope<TestEvent>,
    ctx: &Context,
    ledger: &Ledger,
) -> Result<(), HandlerError> {
    perform(event, ctx, ledger).await
}

/// A handler that only runs events newer than its subject's last one.
#[tidings::event_handler(ordering = "latest_wins", main = false)]
pub async fn latest_items(
    event: Envelope<TestEvent>,
    ctx: &Context,
    ledger: &Ledger,
) -> Result<(), HandlerError> {
    perform(event, ctx, ledger).await
}

/// A handler that acknowledges types it does not accept instead of rejecting them.
#[tidings::event_handler(on_unknown_type = "ignore", main = false)]
pub async fn ignore_others(
    event: Envelope<TestEvent>,
    ctx: &Context,
    ledger: &Ledger,
) -> Result<(), HandlerError> {
    perform(event, ctx, ledger).await
}

/// The body shared by the test handlers: count the attempt, follow the script, and on success
/// record the side effect.
async fn perform(
    event: Envelope<TestEvent>,
    ctx: &Context,
    ledger: &Ledger,
) -> Result<(), HandlerError> {
    let id = event.attributes.id.clone();
    let attempt = {
        let mut records = ledger.records();
        let attempts = records.attempts.entry(id.clone()).or_default();
        *attempts += 1;
        *attempts
    };
    let script = match &event.data {
        TestEvent::Changed(changed) => changed.script.clone(),
        TestEvent::Ping(_) => Vec::new(),
    };
    let step = script
        .get(attempt as usize - 1)
        .cloned()
        .unwrap_or(Step::Succeed);
    match step {
        Step::Succeed => {}
        Step::Fail => return Err(HandlerError::transient(fail_message(attempt))),
        Step::Panic => panic!("{}", panic_message(attempt)),
        Step::Sleep { ms } => tokio::time::sleep(Duration::from_millis(ms)).await,
        Step::Reject => return Err(HandlerError::permanent(REJECT_MESSAGE)),
        Step::FailAfterEffect => {
            record_effect(&event, ctx, ledger, false);
            return Err(HandlerError::transient(fail_message(attempt)));
        }
        Step::PanicAfterEffect => {
            record_effect(&event, ctx, ledger, false);
            panic!("{}", panic_message(attempt));
        }
        Step::SleepAfterEffect { ms } => {
            record_effect(&event, ctx, ledger, false);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            // Its effect is counted; if it gets here, the run succeeded after all.
            *ledger
                .records()
                .successes_by_request
                .entry(ctx.request_id().to_owned())
                .or_default() += 1;
            return Ok(());
        }
        Step::Gauge { name, ms } => {
            {
                let mut records = ledger.records();
                let gauge = records.gauges.entry(name.clone()).or_default();
                gauge.current += 1;
                gauge.max = gauge.max.max(gauge.current);
            }
            tokio::time::sleep(Duration::from_millis(ms)).await;
            ledger.records().gauges.entry(name).or_default().current -= 1;
        }
    }
    record_effect(&event, ctx, ledger, true);
    Ok(())
}

/// The side effect: what must happen exactly once per event; `success` when the handler
/// returns `Ok` right after it.
fn record_effect(event: &Envelope<TestEvent>, ctx: &Context, ledger: &Ledger, success: bool) {
    let id = event.attributes.id.clone();
    let mut ledger = ledger.records();
    *ledger.effects.entry(id.clone()).or_default() += 1;
    if success {
        *ledger
            .successes_by_request
            .entry(ctx.request_id().to_owned())
            .or_default() += 1;
    }
    if let (Some(subject), Some(sequence)) = (event.subject(), event.sequence()) {
        ledger
            .applied
            .entry(subject.to_owned())
            .or_default()
            .push(sequence);
    }
}

/// What the test handlers did: their state, one per test.
#[derive(Debug, Default)]
pub struct Ledger {
    records: Mutex<Records>,
}

#[derive(Debug, Default)]
struct Records {
    /// Handler calls per event id.
    attempts: HashMap<String, u32>,
    /// Runs that applied the side effect, per event id.
    effects: HashMap<String, u32>,
    /// Handler runs that applied the effect and returned `Ok`, per Lambda request id: what
    /// each invocation's metrics must count as processed.
    successes_by_request: HashMap<String, u32>,
    /// Per subject, the sequences whose side effects happened, in the order they happened.
    applied: HashMap<String, Vec<u64>>,
    /// Handlers running at once, per gauge name.
    gauges: HashMap<String, Gauge>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Gauge {
    current: u32,
    max: u32,
}

impl Ledger {
    /// The records; a test that failed while holding them must not fail the rest of it too.
    fn records(&self) -> MutexGuard<'_, Records> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many times a handler was called for event `id`.
    pub fn attempts(&self, id: &str) -> u32 {
        self.records().attempts.get(id).copied().unwrap_or(0)
    }

    /// How many times the side effect of event `id` happened.
    pub fn effects(&self, id: &str) -> u32 {
        self.records().effects.get(id).copied().unwrap_or(0)
    }

    /// How many handler runs of the invocation with `request_id` applied their effect and
    /// succeeded.
    pub fn successes_of_request(&self, request_id: &str) -> u32 {
        self.records()
            .successes_by_request
            .get(request_id)
            .copied()
            .unwrap_or(0)
    }

    /// The sequences of `subject` whose side effects happened, in order.
    pub fn applied(&self, subject: &str) -> Vec<u64> {
        self.records()
            .applied
            .get(subject)
            .cloned()
            .unwrap_or_default()
    }

    /// The most handlers that were inside gauge `name` at once.
    pub fn max_in_flight(&self, name: &str) -> u32 {
        self.records().gauges.get(name).map_or(0, |gauge| gauge.max)
    }
}

/// A pipeline of `handler` with a new [`Ledger`] as its state, and that ledger.
pub fn pipeline<H: EventHandler<State = Ledger>>(handler: H) -> (Pipeline<H>, Arc<Ledger>) {
    let ledger = Arc::new(Ledger::default());
    (
        Pipeline::with_shared_state(handler, Arc::clone(&ledger)),
        ledger,
    )
}

/// A name no other test of this process uses, for subjects and gauges.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("{prefix}-{}", NEXT.fetch_add(1, AtomicOrdering::Relaxed))
}

/// An item event for `subject` at `sequence`, following `script`.
pub fn item(subject: &str, sequence: u64, script: Vec<Step>) -> Envelope<ItemChanged> {
    Envelope::new(
        SOURCE,
        ItemChanged {
            item: subject.to_owned(),
            value: sequence as i64 * 10,
            script,
        },
    )
    .with_sequence(sequence)
}

/// An item event that succeeds at once.
pub fn ok_item(subject: &str, sequence: u64) -> Envelope<ItemChanged> {
    item(subject, sequence, Vec::new())
}

/// The payload hash the pipeline stores with an event's idempotency record: XXH3-128 of the
/// `data` JSON as the body carries it, as 32 lowercase hex digits. Tests that claim a key in the store
/// themselves need it to be taken for the same payload.
pub fn payload_hash<T: Serialize>(envelope: &Envelope<T>) -> String {
    let data = serde_json::to_string(&envelope.data).expect("test data serializes");
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(data.as_bytes()))
}

/// Keeps the planned panics of [`Step::Panic`] out of the test output, so that a real
/// failure's panic stands out; every other panic is reported as usual.
pub fn quiet_planned_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let message = info
                .payload()
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| info.payload().downcast_ref::<&str>().copied())
                .unwrap_or_default();
            if !message.starts_with(PLANNED_PANIC) {
                report(info);
            }
        }));
    });
}
