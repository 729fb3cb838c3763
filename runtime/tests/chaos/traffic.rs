//! The traffic of one chaos run, from a seed: item events over many subjects, some published
//! as version 1 (the upcast path), handler faults written into the events' scripts, poison of
//! every kind, and duplicates — half redelivered with the same message id, half republished
//! with a new one.

use tidings::Envelope;

use crate::queue::Message;
use crate::rng::Rng;
use crate::support::{ItemChanged, ItemChangedV1, SOURCE, Step};

/// How a run feeds and orders its handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A standard queue, no ordering.
    Standard,
    /// A standard queue, `ordering = "latest_wins"`.
    LatestWins,
    /// A FIFO queue (one message group per subject), no ordering.
    Fifo,
}

/// The handler's deadline margin in the chaos runs.
pub const MARGIN_MS: u64 = 60;
/// How long each invocation has before its deadline.
pub const INVOCATION_MS: u64 = 300;

/// A valid event of the run.
#[derive(Debug, Clone)]
pub struct PlannedEvent {
    pub id: String,
    pub subject: String,
    pub sequence: u64,
    /// Fails once and then runs slowly: the target of a late-landing release.
    pub slow_retry: bool,
}

/// A poison message: it must be rejected and dead-lettered, never block others.
#[derive(Debug, Clone)]
pub struct Poison {
    pub message_id: String,
    pub kind: &'static str,
    /// The event id, when the body has one the handler could run.
    pub event_id: Option<String>,
}

/// What a run sends.
#[derive(Debug, Default)]
pub struct Traffic {
    pub events: Vec<PlannedEvent>,
    pub poison: Vec<Poison>,
    /// Every message, in the order sent.
    pub messages: Vec<Message>,
    /// How many messages are duplicates of another.
    pub duplicates: usize,
    /// How many events were published as version 1.
    pub upcast: usize,
}

/// Makes the traffic of `events` events for `mode`, every subject prefixed with `run`.
pub fn traffic(run: &str, mode: Mode, events: usize, rng: &mut Rng) -> Traffic {
    let mut traffic = Traffic::default();
    let mut next_message = 0u64;
    let mut message_id = || {
        next_message += 1;
        format!("{run}-m{next_message}")
    };
    // Per subject, its events in sequence order.
    let mut by_subject: Vec<Vec<(Message, bool)>> = Vec::new();
    let mut made = 0;
    let mut subject_number = 0;
    while made < events {
        subject_number += 1;
        let subject = format!("{run}-s{subject_number}");
        let count = rng.between(1, 6).min((events - made) as u64);
        let mut sequence = 0;
        let mut messages = Vec::new();
        for _ in 0..count {
            sequence += rng.between(1, 3);
            let mut slow_retry = false;
            let (body, id, upcast) = if rng.chance(0.1) {
                let envelope = Envelope::new(
                    SOURCE,
                    ItemChangedV1 {
                        item: subject.clone(),
                        value: sequence as i64,
                    },
                )
                .with_sequence(sequence);
                (json(&envelope), envelope.id().to_owned(), true)
            } else {
                let envelope = Envelope::new(
                    SOURCE,
                    ItemChanged {
                        item: subject.clone(),
                        value: sequence as i64,
                        script: {
                            let script = script(rng);
                            slow_retry =
                                matches!(script.as_slice(), [Step::Fail, Step::Sleep { .. }]);
                            script
                        },
                    },
                )
                .with_sequence(sequence);
                (json(&envelope), envelope.id().to_owned(), false)
            };
            traffic.upcast += usize::from(upcast);
            traffic.events.push(PlannedEvent {
                id,
                subject: subject.clone(),
                sequence,
                slow_retry,
            });
            let message = Message {
                id: message_id(),
                body,
                group: (mode == Mode::Fifo).then(|| subject.clone()),
                receives: 0,
                receipt: 0,
            };
            let duplicate = rng.chance(0.3);
            messages.push((message, duplicate));
        }
        made += count as usize;
        by_subject.push(messages);
    }

    // Poison, about 0.5 % of the events, of every kind in turn; each on a subject of its own,
    // so that none takes part in a subject's ordering.
    let kinds = poison_kinds(mode);
    let poison_count = (events / 200).max(kinds.len());
    for n in 0..poison_count {
        let kind = kinds[n % kinds.len()];
        let subject = format!("{run}-poison{n}");
        let (body, event_id) = poison_body(kind, &subject);
        let message = Message {
            id: message_id(),
            body,
            group: (mode == Mode::Fifo).then(|| subject.clone()),
            receives: 0,
            receipt: 0,
        };
        traffic.poison.push(Poison {
            message_id: message.id.clone(),
            kind,
            event_id,
        });
        by_subject.push(vec![(message, false)]);
    }

    // Originals first (FIFO keeps each group's order), duplicates after them.
    let mut originals = Vec::new();
    let mut copies = Vec::new();
    for messages in by_subject {
        for (message, duplicate) in messages {
            if duplicate {
                // FIFO never has one message in flight twice: its duplicates are republished
                // copies (after the deduplication window), with new message ids.
                let mut copy = message.clone();
                if mode == Mode::Fifo || rng.chance(0.5) {
                    copy.id = message_id();
                }
                copies.push(copy);
            }
            originals.push(message);
        }
    }
    if mode != Mode::Fifo {
        rng.shuffle(&mut originals);
    }
    rng.shuffle(&mut copies);
    traffic.duplicates = copies.len();
    traffic.messages = originals;
    traffic.messages.extend(copies);
    traffic
}

/// What the handler does on its first attempts at an event: mostly nothing special; some
/// transient errors, panics, and runs past the deadline.
fn script(rng: &mut Rng) -> Vec<Step> {
    let overrun = Step::Sleep {
        ms: INVOCATION_MS + 100,
    };
    let roll = rng.next_u64() % 1000;
    match roll {
        0..50 => vec![Step::Fail],
        50..60 => vec![Step::Fail, Step::Fail],
        60..70 => vec![Step::Panic],
        70..80 => vec![overrun],
        // The effect lands, then the handler fails: the retry runs it again, as the README's
        // Limits say; under `latest_wins`, no older event may run after it.
        80..90 => vec![Step::FailAfterEffect],
        // Fails, then runs slowly on its retry: with its first release landing late (main.rs
        // aims one at it), the release may land while the retry holds the lock.
        100..140 => vec![Step::Fail, Step::Sleep { ms: 180 }],
        90..95 => vec![Step::PanicAfterEffect],
        95..100 => vec![Step::SleepAfterEffect {
            ms: INVOCATION_MS + 100,
        }],
        _ => Vec::new(),
    }
}

/// The kinds of poison a run sends.
fn poison_kinds(mode: Mode) -> Vec<&'static str> {
    let mut kinds = vec![
        "malformed-json",
        "not-an-envelope",
        "unknown-type",
        "unsupported-version",
        "invalid-data",
        "handler-rejected",
    ];
    if mode == Mode::LatestWins {
        kinds.push("missing-sequence");
    }
    kinds
}

/// The body of a poison message of `kind`, and the event id a handler would see.
fn poison_body(kind: &str, subject: &str) -> (String, Option<String>) {
    let valid = Envelope::new(
        SOURCE,
        ItemChanged {
            item: subject.to_owned(),
            value: 1,
            // Rejected on every attempt, also on a redelivery after a killed invocation.
            script: if kind == "handler-rejected" {
                vec![Step::Reject; 50]
            } else {
                Vec::new()
            },
        },
    )
    .with_sequence(1);
    let id = valid.id().to_owned();
    let mut value: serde_json::Value = serde_json::from_str(&json(&valid)).expect("json");
    match kind {
        "malformed-json" => return ("{\"specversion\":\"1.0\",".to_owned(), None),
        "not-an-envelope" => return (r#"{"order":42}"#.to_owned(), None),
        "unknown-type" => value["type"] = "test.unknown.happened".into(),
        "unsupported-version" => value["dataversion"] = 9.into(),
        "invalid-data" => value["data"]["value"] = "not a number".into(),
        "missing-sequence" => {
            value.as_object_mut().expect("object").remove("sequence");
        }
        "handler-rejected" => return (json(&valid), Some(id)),
        other => unreachable!("no poison of kind {other}"),
    }
    (value.to_string(), None)
}

fn json<T: serde::Serialize>(envelope: &Envelope<T>) -> String {
    serde_json::to_string(envelope).expect("test events serialize")
}
