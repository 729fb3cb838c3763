//! [`Network`]: SNS in memory — the two topics fanning messages out to the subscribed queues,
//! through the subscriptions' filter policies, with the delays and duplicates of the real
//! thing.
//!
//! A standard topic delivers at least once, each subscription on its own: most deliveries
//! take tens of milliseconds, some take much longer (SNS retries a delivery), and some are
//! delivered twice. A FIFO topic delivers in order and drops a message whose deduplication
//! id it saw in the last five minutes.

use std::collections::BTreeMap;

use serde_json::Value;
use tidings::Envelope;
use tidings::transport::message_attribute;

use super::super::report::TransportStats;
use super::super::rng::Rng;
use super::super::scenario::{DUPLICATE_PERCENT, LATE_BY_MS};
use super::super::topology::{Consumer, Topic};
use super::queue::{SimMessage, SimQueue};

/// How long a FIFO topic remembers a deduplication id.
pub const FIFO_DEDUPLICATION_WINDOW_MS: u64 = 5 * 60 * 1_000;
/// The share of standard deliveries SNS retries, arriving much later, in percent.
const SLOW_PERCENT: u64 = 10;

/// A message on its way to a queue.
#[derive(Debug)]
struct Transit {
    arrive_ms: u64,
    /// Publish order, so messages arriving at the same time keep it.
    order: u64,
    queue: usize,
    message: SimMessage,
}

/// The topics and their subscriptions.
#[derive(Debug)]
pub struct Network {
    rng: Rng,
    in_transit: Vec<Transit>,
    /// The last arrival at each FIFO queue, which later messages may not overtake.
    last_fifo_arrival: BTreeMap<usize, u64>,
    /// Deduplication ids a FIFO topic saw, with when.
    fifo_seen: BTreeMap<String, u64>,
    next_id: u64,
    next_order: u64,
    /// What the transport did so far.
    pub stats: TransportStats,
}

impl Network {
    /// Topics with nothing in transit; `rng` draws the delays and duplicates.
    pub fn new(rng: Rng) -> Self {
        Self {
            rng,
            in_transit: Vec::new(),
            last_fifo_arrival: BTreeMap::new(),
            fifo_seen: BTreeMap::new(),
            next_id: 0,
            next_order: 0,
            stats: TransportStats::default(),
        }
    }

    /// Publishes `envelope` to `topic` at `now_ms`, with the message attributes tidings'
    /// publisher sets; every queue of `consumers` whose subscription's filter policy matches
    /// gets it. `late` holds every delivery back by [`LATE_BY_MS`].
    pub fn publish(
        &mut self,
        consumers: &[Consumer],
        topic: Topic,
        envelope: &Envelope<Value>,
        now_ms: u64,
        late: bool,
    ) {
        let body = envelope.to_json().expect("envelopes of the shop serialize");
        if topic.is_fifo() {
            let id = envelope.id().to_owned();
            if let Some(seen) = self.fifo_seen.get(&id)
                && now_ms < seen + FIFO_DEDUPLICATION_WINDOW_MS
            {
                self.stats.fifo_dropped += 1;
                return;
            }
            self.fifo_seen.insert(id, now_ms);
        }
        self.stats.published += 1;
        self.stats.late += usize::from(late);
        let attributes = BTreeMap::from([
            (
                message_attribute::TYPE.to_owned(),
                envelope.attributes.event_type.clone(),
            ),
            (
                message_attribute::DATA_VERSION.to_owned(),
                envelope.attributes.data_version.to_string(),
            ),
        ]);
        let hold = if late { LATE_BY_MS } else { 0 };
        for (queue, consumer) in consumers.iter().enumerate() {
            if !consumer.topics.contains(&topic) || !consumer.accepts(&attributes) {
                continue;
            }
            let group = consumer
                .is_fifo()
                .then(|| envelope.subject().unwrap_or("default").to_owned());
            let copies = if !topic.is_fifo() && self.rng.chance(DUPLICATE_PERCENT) {
                2
            } else {
                1
            };
            for copy in 0..copies {
                let delay = if topic.is_fifo() {
                    self.rng.between(5, 60)
                } else if copy > 0 {
                    self.rng.between(100, 1_500)
                } else if self.rng.chance(SLOW_PERCENT) {
                    self.rng.between(300, 900)
                } else {
                    self.rng.between(5, 120)
                };
                let mut arrive_ms = now_ms + hold + delay;
                if consumer.is_fifo() {
                    let last = self.last_fifo_arrival.entry(queue).or_default();
                    arrive_ms = arrive_ms.max(*last);
                    *last = arrive_ms;
                }
                self.stats.duplicates += usize::from(copy > 0);
                let message = SimMessage::new(
                    self.message_id(),
                    body.clone(),
                    attributes.clone(),
                    group.clone(),
                    now_ms,
                    arrive_ms,
                );
                self.enqueue(queue, arrive_ms, message);
            }
        }
    }

    /// Sends `body` straight to queue number `queue` (SendMessage, no topic), at `now_ms`.
    pub fn send_to(&mut self, queue: usize, body: String, now_ms: u64) {
        let message = SimMessage::new(
            self.message_id(),
            body,
            BTreeMap::new(),
            None,
            now_ms,
            now_ms,
        );
        self.enqueue(queue, now_ms, message);
    }

    /// Puts every message that has arrived by `now_ms` into its queue, in arrival order.
    pub fn deliver(&mut self, now_ms: u64, queues: &mut [SimQueue]) {
        let (mut due, waiting): (Vec<Transit>, Vec<Transit>) = std::mem::take(&mut self.in_transit)
            .into_iter()
            .partition(|t| t.arrive_ms <= now_ms);
        self.in_transit = waiting;
        due.sort_by_key(|t| (t.arrive_ms, t.order));
        for transit in due {
            self.stats.deliveries += 1;
            queues[transit.queue].send(transit.message);
        }
    }

    /// Messages on their way to queue number `queue`.
    pub fn in_transit_to(&self, queue: usize) -> usize {
        self.in_transit.iter().filter(|t| t.queue == queue).count()
    }

    /// Whether nothing is on its way.
    pub fn is_idle(&self) -> bool {
        self.in_transit.is_empty()
    }

    fn enqueue(&mut self, queue: usize, arrive_ms: u64, message: SimMessage) {
        self.in_transit.push(Transit {
            arrive_ms,
            order: self.next_order,
            queue,
            message,
        });
        self.next_order += 1;
    }

    fn message_id(&mut self) -> String {
        self.next_id += 1;
        format!("demo-msg-{:05}", self.next_id)
    }
}

#[cfg(test)]
mod tests {
    use shop_events::{Money, PaymentCaptured, sources};

    use super::super::super::topology::consumers;
    use super::*;

    fn captured(order_id: &str) -> Envelope<Value> {
        let envelope = Envelope::new(
            sources::PAYMENTS,
            PaymentCaptured {
                order_id: order_id.into(),
                payment_id: "pay-1".into(),
                amount: Money::eur(100),
            },
        );
        envelope.map(|data| serde_json::to_value(data).unwrap())
    }

    fn queues(n: usize) -> Vec<SimQueue> {
        (0..n)
            .map(|i| SimQueue::new(i == 3, Rng::new(i as u64)))
            .collect()
    }

    #[test]
    fn a_capture_reaches_payments_and_analytics_once_however_often_it_is_published() {
        let consumers = consumers().unwrap();
        let mut network = Network::new(Rng::new(1));
        let event = captured("order-1");
        network.publish(&consumers, Topic::Payments, &event, 0, false);
        network.publish(&consumers, Topic::Payments, &event, 10, false);
        let mut queues = queues(consumers.len());
        network.deliver(10_000, &mut queues);
        let lengths: Vec<usize> = queues.iter().map(SimQueue::len).collect();
        // inventory, email, analytics, payments
        assert_eq!(lengths, [0, 0, 1, 1]);
        assert_eq!(network.stats.fifo_dropped, 1);
        assert_eq!(network.stats.published, 1);
        assert!(network.is_idle());
    }

    #[test]
    fn a_late_message_waits_in_transit() {
        let consumers = consumers().unwrap();
        let mut network = Network::new(Rng::new(1));
        network.publish(&consumers, Topic::Payments, &captured("order-2"), 0, true);
        let mut queues = queues(consumers.len());
        network.deliver(LATE_BY_MS - 1, &mut queues);
        assert_eq!(network.in_transit_to(3), 1);
        assert!(queues.iter().all(SimQueue::is_empty));
        network.deliver(LATE_BY_MS + 60, &mut queues);
        assert_eq!(queues[3].len(), 1);
        assert_eq!(network.stats.late, 1);
    }

    #[test]
    fn a_fifo_queue_receives_in_publish_order() {
        let consumers = consumers().unwrap();
        let mut network = Network::new(Rng::new(2));
        let events: Vec<Envelope<Value>> =
            (0..20).map(|i| captured(&format!("order-{i}"))).collect();
        for event in &events {
            network.publish(&consumers, Topic::Payments, event, 0, false);
        }
        let mut queues = queues(consumers.len());
        network.deliver(10_000, &mut queues);
        let mut received = Vec::new();
        loop {
            let batch = queues[3].receive(10_000);
            if batch.is_empty() {
                break;
            }
            let ids: std::collections::BTreeSet<&str> =
                batch.iter().map(|m| m.id.as_str()).collect();
            received.extend(batch.iter().map(|m| m.body.clone()));
            queues[3].delete(&ids);
        }
        let sent: Vec<String> = events.iter().map(|e| e.to_json().unwrap()).collect();
        assert_eq!(received, sent);
    }
}
