//! The embedded mode: the deployed topology simulated in this process, on a clock of its own.
//!
//! Each step of the clock (100 ms): the scenario's requests due reach the orders API; what
//! it publishes goes to the topics; messages that arrived enter their queues; each consumer
//! receives up to two batches and runs them through its tidings `Pipeline`, and what its
//! handler publishes goes out in turn. The run ends when the scenario is over and every
//! queue is drained. Nothing depends on the wall clock, so a seed always gives the same run.

mod invocation;
mod network;
mod queue;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::Value;
use tidings::testing::FlakyStore;
use tidings::{Answer, Response};
use tidings::{Envelope, MemoryDeadLetterQueue, MemoryStore, Store};

use self::invocation::invocation;
use self::network::Network;
use self::queue::{MAX_RECEIVE_COUNT, SimMessage, SimQueue};
use super::consumer::{self, Consume};
use super::progress::{ConsumerStatus, Progress, Snapshot};
use super::report::{ConsumerReport, LetterSummary, Report};
use super::rng::Rng;
use super::scenario::{DUPLICATE_PERCENT, Scenario};
use super::script::{Happening, Script, throttle};
use super::tally::Tally;
use super::topology::{self, Consumer, Topic};
use super::{DemoError, Options};

/// One step of the simulated clock.
const TICK_MS: u64 = 100;
/// Batches a consumer may take per step: Lambda scales out when a queue fills.
const BATCHES_PER_TICK: usize = 2;
/// When the demo gives up waiting for the queues to drain, on its clock.
const GIVE_UP_MS: u64 = 60_000;

/// The consumers, their queues and what they did.
struct Fleet {
    consumers: Vec<Consumer>,
    queues: Vec<SimQueue>,
    pipelines: Vec<Box<dyn Consume>>,
    dead_letters: Vec<Arc<MemoryDeadLetterQueue>>,
    tallies: Vec<Tally>,
    /// The analytics consumer's store, which the scenario makes throttle once.
    analytics_store: Arc<FlakyStore<MemoryStore>>,
}

/// Runs the demo in this process and reports what happened.
///
/// The API and the handlers share `memory`, the in-memory services of the run, which the
/// caller keeps to look at afterwards; what they publish collects in its event sink until the
/// demo routes it.
pub async fn run(memory: &shop::MemoryServices, options: &Options) -> Result<Report, DemoError> {
    let services = memory.services();
    let mut rng = Rng::new(options.seed);
    let scenario = Scenario::build(&mut rng.fork());
    let mut script = Script::new(scenario, services, memory.stock.clone());
    let mut network = Network::new(rng.fork());
    let mut provider = rng.fork();
    let mut fleet = Fleet::new(topology::consumers()?, &memory.services(), &mut rng);
    // Whatever an earlier use of the services left unrouted is not part of this run.
    memory.events.take();
    let epoch_ms = tidings::store::now_millis();
    let mut progress = Progress::new(options.progress);

    let mut now = 0;
    loop {
        while let Some(happening) = script.next(now).await {
            match happening {
                Happening::Answered { late } => {
                    publish(
                        &mut network,
                        &fleet.consumers,
                        memory.events.take(),
                        now,
                        late,
                    );
                }
                Happening::Captured(envelope) => {
                    let envelope = as_value(*envelope);
                    network.publish(&fleet.consumers, Topic::Payments, &envelope, now, false);
                    // The provider sometimes retries a publish it got no answer to.
                    if provider.chance(DUPLICATE_PERCENT) {
                        network.publish(&fleet.consumers, Topic::Payments, &envelope, now, false);
                    }
                }
                Happening::Poison(body) => {
                    network.send_to(fleet.index("email"), body, now);
                    network.stats.poison += 1;
                }
                Happening::Throttle => {
                    throttle(&fleet.analytics_store);
                    network.stats.throttles += 1;
                }
            }
        }
        network.deliver(now, &mut fleet.queues);
        for i in 0..fleet.consumers.len() {
            for _ in 0..BATCHES_PER_TICK {
                if !fleet.run_batch(i, now, epoch_ms).await {
                    break;
                }
                // What the handler published (inventory's StockReserved) goes out now.
                publish(
                    &mut network,
                    &fleet.consumers,
                    memory.events.take(),
                    now,
                    false,
                );
            }
        }
        progress.update(&fleet.snapshot(now, &script, &network));
        let drained = fleet.queues.iter().all(SimQueue::is_empty) && network.is_idle();
        if script.is_done() && drained {
            break;
        }
        if now >= GIVE_UP_MS {
            progress.finish(&fleet.snapshot(now, &script, &network));
            let report = fleet.report(options.seed, now, &script, &network);
            return Err(DemoError::NotDrained {
                seconds: GIVE_UP_MS / 1000,
                left: report.consumers.iter().map(|c| c.left).sum(),
                report: Box::new(report),
            });
        }
        now += TICK_MS;
        if !options.pace.is_zero() {
            tokio::time::sleep(options.pace).await;
        }
    }
    progress.finish(&fleet.snapshot(now, &script, &network));
    Ok(fleet.report(options.seed, now, &script, &network))
}

/// Publishes `events` to the events topic, in an order that does not depend on the order
/// concurrent handlers happened to finish in: by subject (order ids grow with time), type
/// and sequence.
fn publish(
    network: &mut Network,
    consumers: &[Consumer],
    mut events: Vec<Envelope<Value>>,
    now: u64,
    late: bool,
) {
    events.sort_by(|a, b| {
        let key = |e: &Envelope<Value>| {
            (
                e.attributes.subject.clone(),
                e.attributes.event_type.clone(),
                e.attributes.sequence,
            )
        };
        key(a).cmp(&key(b))
    });
    for event in &events {
        network.publish(consumers, Topic::Events, event, now, late);
    }
}

/// A typed envelope with its data as JSON, as the event sink keeps them.
fn as_value<T: serde::Serialize>(envelope: Envelope<T>) -> Envelope<Value> {
    envelope.map(|data| serde_json::to_value(data).expect("the shop's events serialize"))
}

impl Fleet {
    fn new(consumers: Vec<Consumer>, services: &shop::Services, rng: &mut Rng) -> Self {
        let analytics_store = Arc::new(FlakyStore::new(MemoryStore::new()));
        let dead_letters: Vec<Arc<MemoryDeadLetterQueue>> = consumers
            .iter()
            .map(|_| Arc::new(MemoryDeadLetterQueue::new()))
            .collect();
        let pipelines = consumers
            .iter()
            .zip(&dead_letters)
            .map(|(consumer, letters)| {
                let store: Arc<dyn Store> = if consumer.name == "analytics" {
                    analytics_store.clone()
                } else {
                    Arc::new(MemoryStore::new())
                };
                consumer::pipeline(consumer.name, services.clone(), store, letters.clone())
                    .expect("every consumer of the topology is a shop handler")
            })
            .collect();
        Self {
            queues: consumers
                .iter()
                .map(|c| SimQueue::new(c.is_fifo(), rng.fork()))
                .collect(),
            tallies: vec![Tally::default(); consumers.len()],
            consumers,
            pipelines,
            dead_letters,
            analytics_store,
        }
    }

    fn index(&self, name: &str) -> usize {
        self.consumers
            .iter()
            .position(|c| c.name == name)
            .expect("the shop has this consumer")
    }

    /// Receives one batch for consumer `i` and runs it; `false` when its queue had nothing.
    async fn run_batch(&mut self, i: usize, now: u64, epoch_ms: u64) -> bool {
        let batch = self.queues[i].receive(now);
        self.tallies[i].redriven = self.queues[i].redriven.len();
        if batch.is_empty() {
            return false;
        }
        let consumer = &self.consumers[i];
        let event = tidings::lambda::event(
            invocation(consumer.queue, &batch, epoch_ms),
            format!("demo-{}-{now}", consumer.name),
            SystemTime::now() + Duration::from_secs(30),
        );
        let answer = self.pipelines[i].invoke(event).await;
        settle(&mut self.queues[i], &batch, &answer);
        let result = answer.batch;
        self.tallies[i].add(&result, |record| {
            let message = batch
                .iter()
                .find(|m| Some(&m.id) == record.message_id.as_ref())?;
            Some(Duration::from_millis(now - message.born_ms))
        });
        true
    }

    fn snapshot<'a>(&'a self, now: u64, script: &Script, network: &Network) -> Snapshot<'a> {
        Snapshot {
            clock_ms: now,
            requests_sent: script.api.requests,
            requests_total: script.total_requests(),
            consumers: self
                .consumers
                .iter()
                .enumerate()
                .map(|(i, c)| ConsumerStatus {
                    name: c.name,
                    tally: &self.tallies[i],
                    waiting: self.queues[i].len() + network.in_transit_to(i),
                })
                .collect(),
        }
    }

    fn report(&self, seed: u64, now: u64, script: &Script, network: &Network) -> Report {
        let mut letters = Vec::new();
        for (i, consumer) in self.consumers.iter().enumerate() {
            for letter in self.dead_letters[i].letters() {
                letters.push(LetterSummary {
                    consumer: consumer.name.to_owned(),
                    code: letter.reason.code.to_string(),
                    reason: letter.reason.message,
                });
            }
            for message in &self.queues[i].redriven {
                letters.push(LetterSummary {
                    consumer: consumer.name.to_owned(),
                    code: "max-receive-count".to_owned(),
                    reason: format!(
                        "message {} was received {} times without success; the queue's redrive \
                         policy moved it",
                        message.id, message.receive_count
                    ),
                });
            }
        }
        Report {
            mode: format!("embedded, seed {seed}"),
            clock: Duration::from_millis(now),
            api: script.api.clone(),
            transport: network.stats,
            consumers: self
                .consumers
                .iter()
                .enumerate()
                .map(|(i, c)| ConsumerReport {
                    name: c.name.to_owned(),
                    queue: c.queue.to_owned(),
                    tally: self.tallies[i],
                    left: self.queues[i].len() + network.in_transit_to(i),
                })
                .collect(),
            letters,
            max_receive_count: MAX_RECEIVE_COUNT,
        }
    }
}

/// Does what the event source mapping does with a batch's answer: deletes what succeeded,
/// and leaves the failures to come back after the visibility timeout. A batch failed as a
/// whole (a failure SQS cannot be told about) keeps every message.
fn settle(queue: &mut SimQueue, batch: &[SimMessage], answer: &Answer) {
    let Ok(Response::Sqs(response)) = &answer.response else {
        return;
    };
    let failed: BTreeSet<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    let done: BTreeSet<&str> = batch
        .iter()
        .map(|m| m.id.as_str())
        .filter(|id| !failed.contains(id))
        .collect();
    queue.delete(&done);
}
