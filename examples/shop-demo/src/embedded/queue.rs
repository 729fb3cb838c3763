//! [`SimQueue`]: an SQS queue in memory, as a consumer's event source mapping sees it.
//!
//! What it keeps of SQS is what the handlers' guarantees are about: a received message is
//! invisible for the visibility timeout and comes back unless deleted; each receive counts;
//! after `maxReceiveCount` receives the queue moves the message to its dead-letter queue
//! (redrive). A standard queue hands out a sample of its visible messages in no particular
//! order; a FIFO queue hands out each message group in order, and none of a group while a
//! message of it is in flight.

use std::collections::{BTreeMap, BTreeSet};

use super::super::rng::Rng;

/// The visibility timeout, on the demo's clock. Deployed, it is at least six times the
/// function timeout (`template.yaml`); the demo scales it down with everything else.
pub const VISIBILITY_TIMEOUT_MS: u64 = 1_500;
/// Receives after which a message is moved to the dead-letter queue, as in `template.yaml`.
pub const MAX_RECEIVE_COUNT: u32 = 5;
/// The most messages one receive returns (a Lambda batch).
pub const BATCH_SIZE: usize = 10;

/// A message in a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimMessage {
    /// The SQS message id.
    pub id: String,
    /// The body: an envelope, or the poison.
    pub body: String,
    /// The message attributes (raw delivery copies the SNS ones).
    pub attributes: BTreeMap<String, String>,
    /// The FIFO message group.
    pub group: Option<String>,
    /// When the event happened, on the demo's clock.
    pub born_ms: u64,
    /// When the message entered the queue.
    pub sent_ms: u64,
    /// How often it was received, this receive included.
    pub receive_count: u32,
    visible_at: u64,
    seq: u64,
}

impl SimMessage {
    /// A message about to enter a queue at `sent_ms`.
    pub fn new(
        id: String,
        body: String,
        attributes: BTreeMap<String, String>,
        group: Option<String>,
        born_ms: u64,
        sent_ms: u64,
    ) -> Self {
        Self {
            id,
            body,
            attributes,
            group,
            born_ms,
            sent_ms,
            receive_count: 0,
            visible_at: sent_ms,
            seq: 0,
        }
    }
}

/// A queue and its dead-letter queue.
#[derive(Debug)]
pub struct SimQueue {
    fifo: bool,
    messages: Vec<SimMessage>,
    /// What the redrive policy moved to the dead-letter queue.
    pub redriven: Vec<SimMessage>,
    rng: Rng,
    next_seq: u64,
}

impl SimQueue {
    /// An empty queue, FIFO or standard; `rng` picks a standard queue's samples.
    pub fn new(fifo: bool, rng: Rng) -> Self {
        Self {
            fifo,
            messages: Vec::new(),
            redriven: Vec::new(),
            rng,
            next_seq: 0,
        }
    }

    /// Adds `message`, visible from its `sent_ms`.
    pub fn send(&mut self, mut message: SimMessage) {
        message.seq = self.next_seq;
        self.next_seq += 1;
        self.messages.push(message);
    }

    /// Messages in the queue, visible or in flight.
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// Whether the queue holds nothing.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Receives up to [`BATCH_SIZE`] messages visible at `now_ms`, making them invisible for
    /// the visibility timeout. Messages received [`MAX_RECEIVE_COUNT`] times already are
    /// moved to the dead-letter queue instead.
    pub fn receive(&mut self, now_ms: u64) -> Vec<SimMessage> {
        self.redrive(now_ms);
        let chosen = if self.fifo {
            self.fifo_choice(now_ms)
        } else {
            self.standard_choice(now_ms)
        };
        chosen
            .into_iter()
            .map(|i| {
                let message = &mut self.messages[i];
                message.receive_count += 1;
                message.visible_at = now_ms + VISIBILITY_TIMEOUT_MS;
                message.clone()
            })
            .collect()
    }

    /// Deletes the messages with these ids (they were handled).
    pub fn delete(&mut self, ids: &BTreeSet<&str>) {
        self.messages.retain(|m| !ids.contains(m.id.as_str()));
    }

    fn redrive(&mut self, now_ms: u64) {
        let (spent, kept): (Vec<SimMessage>, Vec<SimMessage>) = std::mem::take(&mut self.messages)
            .into_iter()
            .partition(|m| m.visible_at <= now_ms && m.receive_count >= MAX_RECEIVE_COUNT);
        self.messages = kept;
        self.redriven.extend(spent);
    }

    /// A standard queue answers from a sample of its servers: some of the visible messages,
    /// the longer-waiting ones more likely, in no particular order.
    fn standard_choice(&mut self, now_ms: u64) -> Vec<usize> {
        let mut visible: Vec<usize> = (0..self.messages.len())
            .filter(|&i| self.messages[i].visible_at <= now_ms)
            .collect();
        visible.sort_by_key(|&i| (self.messages[i].visible_at, self.messages[i].seq));
        visible.truncate(BATCH_SIZE + BATCH_SIZE / 2);
        self.rng.shuffle(&mut visible);
        visible.truncate(BATCH_SIZE);
        visible
    }

    /// A FIFO queue answers in send order, skipping groups with a message in flight.
    fn fifo_choice(&self, now_ms: u64) -> Vec<usize> {
        let in_flight = |m: &SimMessage| m.receive_count > 0 && m.visible_at > now_ms;
        let busy: BTreeSet<&Option<String>> = self
            .messages
            .iter()
            .filter(|m| in_flight(m))
            .map(|m| &m.group)
            .collect();
        let mut order: Vec<usize> = (0..self.messages.len()).collect();
        order.sort_by_key(|&i| self.messages[i].seq);
        order
            .into_iter()
            .filter(|&i| {
                let message = &self.messages[i];
                message.visible_at <= now_ms && !busy.contains(&message.group)
            })
            .take(BATCH_SIZE)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str, group: Option<&str>, sent_ms: u64) -> SimMessage {
        SimMessage::new(
            id.into(),
            "{}".into(),
            BTreeMap::new(),
            group.map(str::to_owned),
            sent_ms,
            sent_ms,
        )
    }

    fn ids(messages: &[SimMessage]) -> Vec<&str> {
        messages.iter().map(|m| m.id.as_str()).collect()
    }

    #[test]
    fn a_message_not_deleted_comes_back_after_the_visibility_timeout_with_a_higher_count() {
        let mut queue = SimQueue::new(false, Rng::new(1));
        queue.send(message("a", None, 0));
        assert_eq!(queue.receive(0)[0].receive_count, 1);
        assert!(queue.receive(VISIBILITY_TIMEOUT_MS - 1).is_empty());
        let again = queue.receive(VISIBILITY_TIMEOUT_MS);
        assert_eq!(again[0].receive_count, 2);
        queue.delete(&BTreeSet::from(["a"]));
        assert!(queue.is_empty());
    }

    #[test]
    fn a_message_is_not_received_before_it_arrives() {
        let mut queue = SimQueue::new(false, Rng::new(1));
        queue.send(message("late", None, 500));
        assert!(queue.receive(499).is_empty());
        assert_eq!(ids(&queue.receive(500)), ["late"]);
    }

    #[test]
    fn after_max_receive_count_receives_the_message_is_redriven() {
        let mut queue = SimQueue::new(false, Rng::new(1));
        queue.send(message("poison", None, 0));
        let mut now = 0;
        for count in 1..=MAX_RECEIVE_COUNT {
            assert_eq!(queue.receive(now)[0].receive_count, count);
            now += VISIBILITY_TIMEOUT_MS;
        }
        assert!(queue.receive(now).is_empty());
        assert!(queue.is_empty());
        assert_eq!(ids(&queue.redriven), ["poison"]);
    }

    #[test]
    fn a_standard_queue_reorders_and_a_fifo_queue_keeps_each_group_in_order() {
        let mut standard = SimQueue::new(false, Rng::new(4));
        let mut fifo = SimQueue::new(true, Rng::new(4));
        for i in 0..8 {
            standard.send(message(&format!("m{i}"), None, 0));
            let group = if i % 2 == 0 { "even" } else { "odd" };
            fifo.send(message(&format!("m{i}"), Some(group), 0));
        }
        let sent: Vec<String> = (0..8).map(|i| format!("m{i}")).collect();
        assert_ne!(ids(&standard.receive(0)), sent);
        assert_eq!(ids(&fifo.receive(0)), sent);
    }

    #[test]
    fn a_fifo_group_with_a_message_in_flight_waits() {
        let mut fifo = SimQueue::new(true, Rng::new(1));
        fifo.send(message("a1", Some("a"), 0));
        fifo.send(message("b1", Some("b"), 0));
        assert_eq!(ids(&fifo.receive(0)), ["a1", "b1"]);
        fifo.send(message("a2", Some("a"), 10));
        fifo.send(message("c1", Some("c"), 10));
        fifo.delete(&BTreeSet::from(["b1"]));
        // a1 failed and is still invisible: a2 waits behind it, c1 goes.
        assert_eq!(ids(&fifo.receive(10)), ["c1"]);
        assert_eq!(ids(&fifo.receive(VISIBILITY_TIMEOUT_MS)), ["a1", "a2"]);
    }
}
