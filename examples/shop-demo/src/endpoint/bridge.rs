//! [`Bridge`]: what the shop's services published, sent on to the real topics through
//! tidings' `Publisher` — with the transport's mischief the local server does not make by
//! itself: some events published twice (SNS delivers duplicates), and the placements of the
//! scenario's late orders held back until after their cancellation.

use std::collections::BTreeMap;

use serde_json::Value;
use tidings::transport::message_attribute;
use tidings::{Destination, Envelope, Publisher};

use super::super::DemoError;
use super::super::report::TransportStats;
use super::super::rng::Rng;
use super::super::scenario::{DUPLICATE_PERCENT, LATE_BY_MS};
use super::super::topology::{Consumer, Topic};

/// Publishes to the topics, duplicating and holding back as the scenario asks.
pub struct Bridge {
    publisher: Publisher,
    topics: BTreeMap<Topic, Destination>,
    consumers: Vec<Consumer>,
    rng: Rng,
    /// Events held back, with when they go out.
    held: Vec<(u64, Envelope<Value>)>,
    /// What the transport did so far.
    pub stats: TransportStats,
}

impl Bridge {
    /// A bridge publishing with `publisher` to the topics of `arns`, routed to `consumers`.
    pub fn new(
        publisher: Publisher,
        arns: &BTreeMap<Topic, String>,
        consumers: Vec<Consumer>,
        rng: Rng,
    ) -> Self {
        Self {
            publisher,
            topics: arns
                .iter()
                .map(|(topic, arn)| (*topic, Destination::topic(arn.clone())))
                .collect(),
            consumers,
            rng,
            held: Vec::new(),
            stats: TransportStats::default(),
        }
    }

    /// Sends `events` to `topic` at `now_ms`, or holds them for [`LATE_BY_MS`] when `late`.
    pub async fn send(
        &mut self,
        topic: Topic,
        events: Vec<Envelope<Value>>,
        now_ms: u64,
        late: bool,
    ) -> Result<(), DemoError> {
        for event in events {
            if late {
                self.stats.late += 1;
                self.held.push((now_ms + LATE_BY_MS, event));
            } else {
                self.publish(topic, event).await?;
            }
        }
        Ok(())
    }

    /// Sends the held events whose time came, to the events topic.
    pub async fn release_due(&mut self, now_ms: u64) -> Result<(), DemoError> {
        let (due, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|(at, _)| *at <= now_ms);
        self.held = waiting;
        for (_, event) in due {
            self.publish(Topic::Events, event).await?;
        }
        Ok(())
    }

    /// Events held back, still to go out.
    pub fn holding(&self) -> usize {
        self.held.len()
    }

    async fn publish(&mut self, topic: Topic, event: Envelope<Value>) -> Result<(), DemoError> {
        // A FIFO topic would drop a second copy by its deduplication id; only the standard
        // topic's duplicates reach consumers.
        let twice = !topic.is_fifo() && self.rng.chance(DUPLICATE_PERCENT);
        if twice {
            self.stats.duplicates += self.subscribers(topic, &event);
            self.publish_once(topic, event.clone()).await?;
        }
        self.stats.published += 1;
        self.publish_once(topic, event).await
    }

    async fn publish_once(&self, topic: Topic, event: Envelope<Value>) -> Result<(), DemoError> {
        let event_type = event.attributes.event_type.clone();
        self.publisher
            .publish_envelope(&self.topics[&topic], event)
            .await
            .map(|_| ())
            .map_err(|error| {
                DemoError::Endpoint(format!(
                    "publishing {event_type} to {}: {error}",
                    topic.name()
                ))
            })
    }

    /// How many queues a message of `event` on `topic` reaches.
    fn subscribers(&self, topic: Topic, event: &Envelope<Value>) -> usize {
        let attributes = BTreeMap::from([(
            message_attribute::TYPE.to_owned(),
            event.attributes.event_type.clone(),
        )]);
        self.consumers
            .iter()
            .filter(|c| c.topics.contains(&topic) && c.accepts(&attributes))
            .count()
    }
}
