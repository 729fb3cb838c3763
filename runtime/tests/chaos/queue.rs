//! A simulated SQS queue at its worst: messages come back in any order (standard) or in
//! group order (FIFO), a failed record or a failed invocation returns after a delay, each
//! receive raises the message's receive count, and a message received too often moves to the
//! redrive dead-letter queue, as a `maxReceiveCount` would.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::rng::Rng;

/// One message in the queue.
#[derive(Debug, Clone)]
pub struct Message {
    /// The SQS message id: a redelivery keeps it, a republished copy gets a new one.
    pub id: String,
    /// The body.
    pub body: String,
    /// The FIFO message group, if any.
    pub group: Option<String>,
    /// How many times it was received.
    pub receives: u32,
    /// Which copy in the queue this is (a receipt handle): copies may share a message id.
    pub receipt: u64,
}

#[derive(Debug)]
struct Slot {
    message: Message,
    visible_at: Instant,
    in_flight: bool,
}

/// The queue, shared by every simulated container.
#[derive(Debug)]
pub struct Queue {
    fifo: bool,
    max_receives: u32,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Standard: every message; FIFO: per group, in order.
    slots: Vec<Slot>,
    groups: HashMap<String, VecDeque<Slot>>,
    redriven: Vec<Message>,
    acknowledged: usize,
    next_receipt: u64,
}

impl Queue {
    /// An empty queue; `max_receives` is the redrive policy's `maxReceiveCount`.
    pub fn new(fifo: bool, max_receives: u32) -> Self {
        Self {
            fifo,
            max_receives,
            state: Mutex::default(),
        }
    }

    /// Appends a message, visible at once.
    pub fn send(&self, mut message: Message) {
        let mut state = self.state.lock().expect("queue");
        state.next_receipt += 1;
        message.receipt = state.next_receipt;
        let slot = Slot {
            message,
            visible_at: Instant::now(),
            in_flight: false,
        };
        match (&slot.message.group, self.fifo) {
            (Some(group), true) => state
                .groups
                .entry(group.clone())
                .or_default()
                .push_back(slot),
            _ => state.slots.push(slot),
        }
    }

    /// Receives up to `max` visible messages, marking them in flight. Standard: any visible
    /// ones, drawn at random. FIFO: from the heads of groups with nothing in flight, in order.
    pub fn receive(&self, max: usize, rng: &mut Rng) -> Vec<Message> {
        let now = Instant::now();
        let mut state = self.state.lock().expect("queue");
        let mut taken = Vec::new();
        if self.fifo {
            let mut names: Vec<String> = state.groups.keys().cloned().collect();
            names.sort();
            rng.shuffle(&mut names);
            for name in names {
                let group = state.groups.get_mut(&name).expect("group");
                if group.iter().any(|slot| slot.in_flight) {
                    continue;
                }
                for slot in group.iter_mut() {
                    if taken.len() == max || slot.visible_at > now {
                        break;
                    }
                    slot.in_flight = true;
                    slot.message.receives += 1;
                    taken.push(slot.message.clone());
                }
                if taken.len() == max {
                    break;
                }
            }
        } else {
            let mut visible: Vec<usize> = (0..state.slots.len())
                .filter(|&i| !state.slots[i].in_flight && state.slots[i].visible_at <= now)
                .collect();
            rng.shuffle(&mut visible);
            for i in visible.into_iter().take(max) {
                let slot = &mut state.slots[i];
                slot.in_flight = true;
                slot.message.receives += 1;
                taken.push(slot.message.clone());
            }
        }
        taken
    }

    /// Ends the receipt of `messages`: those in `failed` become visible again after `delay`
    /// (or move to the redrive queue past the receive cap), the rest are deleted.
    pub fn settle(&self, messages: &[Message], failed: &[String], delay: Duration) {
        let visible_at = Instant::now() + delay;
        let mut state = self.state.lock().expect("queue");
        let State {
            slots,
            groups,
            redriven,
            acknowledged,
            ..
        } = &mut *state;
        let mut settle = |slots: &mut dyn Iterator<Item = &mut Slot>| {
            let mut gone = Vec::new();
            for (index, slot) in slots.enumerate() {
                let received =
                    slot.in_flight && messages.iter().any(|m| m.receipt == slot.message.receipt);
                if !received {
                    continue;
                }
                slot.in_flight = false;
                if failed.contains(&slot.message.id) {
                    if slot.message.receives >= self.max_receives {
                        redriven.push(slot.message.clone());
                        gone.push(index);
                    } else {
                        slot.visible_at = visible_at;
                    }
                } else {
                    *acknowledged += 1;
                    gone.push(index);
                }
            }
            gone
        };
        let gone = settle(&mut slots.iter_mut());
        for index in gone.into_iter().rev() {
            slots.remove(index);
        }
        for group in groups.values_mut() {
            let gone = settle(&mut group.iter_mut());
            for index in gone.into_iter().rev() {
                group.remove(index);
            }
        }
        groups.retain(|_, group| !group.is_empty());
    }

    /// Whether every message was deleted or redriven.
    pub fn is_drained(&self) -> bool {
        let state = self.state.lock().expect("queue");
        state.slots.is_empty() && state.groups.is_empty()
    }

    /// How many messages are still in the queue.
    pub fn len(&self) -> usize {
        let state = self.state.lock().expect("queue");
        state.slots.len() + state.groups.values().map(VecDeque::len).sum::<usize>()
    }

    /// The messages moved to the redrive dead-letter queue.
    pub fn redriven(&self) -> Vec<Message> {
        self.state.lock().expect("queue").redriven.clone()
    }
}
