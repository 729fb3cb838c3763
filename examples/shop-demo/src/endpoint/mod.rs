//! The endpoint mode: the same scenario against a local AWS-API server, through real SNS,
//! SQS and DynamoDB calls, on the wall clock.
//!
//! The demo creates the shop's resources (see [`resources`]); what the API and the handlers
//! publish is sent to the topics through tidings' `Publisher` ([`bridge`]); each consumer is
//! fed by a `QueuePoller` (Lambda's SQS event source mapping, locally) and runs on the
//! `DynamoDbStore`, dead-lettering to its queue's dead-letter queue with
//! `SqsDeadLetterQueue`. The poison message is sent to the email queue with `SendMessage`.

mod bridge;
pub(crate) mod config;
mod resources;

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::QueueAttributeName;
use tidings::DynamoDbStore;
use tidings::local::QueuePoller;
use tidings::testing::FlakyStore;
use tidings::{Publisher, SqsDeadLetterQueue, Store};

use self::bridge::Bridge;
use self::resources::{MAX_RECEIVE_COUNT, Resources, failed};
use super::consumer::{self, Consume};
use super::progress::{ConsumerStatus, Progress, Snapshot};
use super::report::{ConsumerReport, LetterSummary, Report};
use super::rng::Rng;
use super::scenario::Scenario;
use super::script::{Happening, Script, throttle};
use super::tally::Tally;
use super::topology::{self, Consumer, Topic};
use super::{DemoError, Options};

/// Batches a consumer may take per round.
const BATCHES_PER_ROUND: usize = 2;
/// The pause between rounds in which no consumer found anything.
const IDLE_PAUSE: Duration = Duration::from_millis(50);
/// When the demo gives up waiting for the queues to drain.
const GIVE_UP: Duration = Duration::from_secs(90);

/// The consumers, their pollers and what they did.
struct Fleet {
    consumers: Vec<Consumer>,
    pollers: Vec<QueuePoller>,
    pipelines: Vec<Box<dyn Consume>>,
    tallies: Vec<Tally>,
    waiting: Vec<usize>,
    sqs: aws_sdk_sqs::Client,
    resources: Resources,
    analytics_store: Arc<FlakyStore<DynamoDbStore>>,
}

/// Runs the demo against the local AWS-API server at `endpoint` (http on loopback) and
/// reports what happened. Every resource is new, named `shop-demo-…` after this process and
/// the time, so runs against the same server never meet.
///
/// The API and the handlers share `memory`, the in-memory services of the run; the store,
/// topics and queues are the server's.
pub async fn run(
    endpoint: &str,
    memory: &shop::MemoryServices,
    options: &Options,
) -> Result<Report, DemoError> {
    let config = config::sdk_config(endpoint).await?;
    let consumers = topology::consumers()?;
    let prefix = format!(
        "shop-demo-{}-{}",
        std::process::id(),
        tidings::store::now_millis() % 1_000_000_000
    );
    let resources = resources::create(&config, &consumers, &prefix).await?;

    let mut rng = Rng::new(options.seed);
    let scenario = Scenario::build(&mut rng.fork());
    let mut script = Script::new(scenario, memory.services(), memory.stock.clone());
    let mut bridge = Bridge::new(
        Publisher::new(&config, "shop/demo"),
        &resources.topics,
        consumers.clone(),
        rng.fork(),
    );
    let mut fleet = Fleet::new(&config, consumers, resources, &memory.services()).await?;
    // Whatever an earlier use of the services left unrouted is not part of this run.
    memory.events.take();
    let mut progress = Progress::new(options.progress);
    let start = Instant::now();

    loop {
        let now = start.elapsed().as_millis() as u64;
        while let Some(happening) = script.next(now).await {
            match happening {
                Happening::Answered { late } => {
                    bridge
                        .send(Topic::Events, memory.events.take(), now, late)
                        .await?;
                }
                Happening::Captured(envelope) => {
                    let envelope = (*envelope)
                        .map(|d| serde_json::to_value(d).expect("the shop's events serialize"));
                    bridge
                        .send(Topic::Payments, vec![envelope], now, false)
                        .await?;
                }
                Happening::Poison(body) => {
                    fleet.send_poison(body).await?;
                    bridge.stats.poison += 1;
                }
                Happening::Throttle => {
                    throttle(&fleet.analytics_store);
                    bridge.stats.throttles += 1;
                }
            }
        }
        bridge.release_due(now).await?;

        let mut busy = false;
        for i in 0..fleet.consumers.len() {
            for _ in 0..BATCHES_PER_ROUND {
                if !fleet.run_batch(i).await? {
                    break;
                }
                busy = true;
                // What the handler published (inventory's StockReserved) goes out now.
                bridge
                    .send(Topic::Events, memory.events.take(), now, false)
                    .await?;
            }
        }
        fleet.count_waiting().await?;
        let clock_ms = start.elapsed().as_millis() as u64;
        progress.update(&fleet.snapshot(clock_ms, &script));
        if script.is_done() && bridge.holding() == 0 && fleet.waiting.iter().all(|&n| n == 0) {
            break;
        }
        if start.elapsed() > GIVE_UP {
            progress.finish(&fleet.snapshot(clock_ms, &script));
            let report = fleet
                .report(endpoint, options.seed, start, &script, &bridge)
                .await?;
            return Err(DemoError::NotDrained {
                seconds: GIVE_UP.as_secs(),
                left: fleet.waiting.iter().sum(),
                report: Box::new(report),
            });
        }
        if !busy {
            tokio::time::sleep(IDLE_PAUSE).await;
        }
    }
    let clock_ms = start.elapsed().as_millis() as u64;
    progress.finish(&fleet.snapshot(clock_ms, &script));
    fleet
        .report(endpoint, options.seed, start, &script, &bridge)
        .await
}

impl Fleet {
    async fn new(
        config: &aws_config::SdkConfig,
        consumers: Vec<Consumer>,
        resources: Resources,
        services: &shop::Services,
    ) -> Result<Self, DemoError> {
        let sqs = aws_sdk_sqs::Client::new(config);
        let analytics_store = Arc::new(FlakyStore::new(resources.store.clone()));
        let mut pollers = Vec::new();
        let mut pipelines = Vec::new();
        for (consumer, queues) in consumers.iter().zip(&resources.queues) {
            pollers.push(
                QueuePoller::new(sqs.clone(), queues.url.clone())
                    .await
                    .map_err(|e| DemoError::Endpoint(e.to_string()))?
                    .with_retry_delay(Duration::from_secs(1)),
            );
            let store: Arc<dyn Store> = if consumer.name == "analytics" {
                analytics_store.clone()
            } else {
                Arc::new(resources.store.clone())
            };
            let dead_letters = Arc::new(SqsDeadLetterQueue::from_client(
                sqs.clone(),
                queues.dead_letter_url.clone(),
            ));
            pipelines.push(
                consumer::pipeline(consumer.name, services.clone(), store, dead_letters)
                    .expect("every consumer of the topology is a shop handler"),
            );
        }
        Ok(Self {
            tallies: vec![Tally::default(); consumers.len()],
            waiting: vec![0; consumers.len()],
            consumers,
            pollers,
            pipelines,
            sqs,
            resources,
            analytics_store,
        })
    }

    /// Sends the poison to the email queue, straight, as a misconfigured producer would.
    async fn send_poison(&self, body: String) -> Result<(), DemoError> {
        let email = self
            .consumers
            .iter()
            .position(|c| c.name == "email")
            .expect("the shop has an email consumer");
        self.sqs
            .send_message()
            .queue_url(&self.resources.queues[email].url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| failed("SendMessage", e))?;
        Ok(())
    }

    /// Polls consumer `i`'s queue once and runs what came; `false` when nothing did.
    async fn run_batch(&mut self, i: usize) -> Result<bool, DemoError> {
        let result = self.pipelines[i]
            .poll(&self.pollers[i], Duration::ZERO)
            .await
            .map_err(|e| DemoError::Endpoint(e.to_string()))?;
        let Some(result) = result else {
            return Ok(false);
        };
        self.tallies[i].add(&result, |record| record.age);
        Ok(true)
    }

    /// Asks each queue how many messages it holds: visible, in flight or delayed.
    async fn count_waiting(&mut self) -> Result<(), DemoError> {
        for (i, queues) in self.resources.queues.iter().enumerate() {
            let attributes = self
                .sqs
                .get_queue_attributes()
                .queue_url(&queues.url)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
                .send()
                .await
                .map_err(|e| failed("GetQueueAttributes", e))?
                .attributes
                .unwrap_or_default();
            self.waiting[i] = attributes
                .values()
                .filter_map(|v| v.parse::<usize>().ok())
                .sum();
        }
        Ok(())
    }

    fn snapshot<'a>(&'a self, clock_ms: u64, script: &Script) -> Snapshot<'a> {
        Snapshot {
            clock_ms,
            requests_sent: script.api.requests,
            requests_total: script.total_requests(),
            consumers: self
                .consumers
                .iter()
                .enumerate()
                .map(|(i, c)| ConsumerStatus {
                    name: c.name,
                    tally: &self.tallies[i],
                    waiting: self.waiting[i],
                })
                .collect(),
        }
    }

    /// Reads the dead-letter queues and writes the report.
    async fn report(
        &mut self,
        endpoint: &str,
        seed: u64,
        start: Instant,
        script: &Script,
        bridge: &Bridge,
    ) -> Result<Report, DemoError> {
        let mut letters = Vec::new();
        for i in 0..self.consumers.len() {
            let found = self.dead_letters(i).await?;
            self.tallies[i].redriven = found.iter().filter(|l| l.code == REDRIVEN).count();
            letters.extend(found);
        }
        let mut transport = bridge.stats;
        transport.deliveries = self.tallies.iter().map(|t| t.finished() + t.redriven).sum();
        Ok(Report {
            mode: format!("local AWS-API server at {endpoint}, seed {seed}"),
            clock: start.elapsed(),
            api: script.api.clone(),
            transport,
            consumers: self
                .consumers
                .iter()
                .enumerate()
                .map(|(i, c)| ConsumerReport {
                    name: c.name.to_owned(),
                    queue: c.queue.to_owned(),
                    tally: self.tallies[i],
                    left: self.waiting[i],
                })
                .collect(),
            letters,
            max_receive_count: MAX_RECEIVE_COUNT,
        })
    }

    /// The letters in consumer `i`'s dead-letter queue: tidings' (with their reason
    /// attributes) and the redrive policy's (without).
    async fn dead_letters(&self, i: usize) -> Result<Vec<LetterSummary>, DemoError> {
        let url = &self.resources.queues[i].dead_letter_url;
        let mut letters = Vec::new();
        loop {
            let messages = self
                .sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .message_attribute_names("All")
                .send()
                .await
                .map_err(|e| failed("ReceiveMessage", e))?
                .messages
                .unwrap_or_default();
            if messages.is_empty() {
                return Ok(letters);
            }
            for message in messages {
                let attribute = |name: &str| {
                    message
                        .message_attributes()
                        .and_then(|a| a.get(name))
                        .and_then(|v| v.string_value())
                        .map(str::to_owned)
                };
                let code = attribute(tidings::dead_letter::attribute::REASON_CODE);
                letters.push(LetterSummary {
                    consumer: self.consumers[i].name.to_owned(),
                    reason: attribute(tidings::dead_letter::attribute::REASON).unwrap_or_else(
                        || {
                            format!(
                                "received {MAX_RECEIVE_COUNT} times without success; the \
                                 queue's redrive policy moved it"
                            )
                        },
                    ),
                    code: code.unwrap_or_else(|| REDRIVEN.to_owned()),
                });
            }
        }
    }
}

/// The code of a letter the queue's redrive policy moved (it carries no tidings reason).
const REDRIVEN: &str = "max-receive-count";
