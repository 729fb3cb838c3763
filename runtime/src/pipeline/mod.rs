//! The pipeline: every record of a batch, from delivery to [`Outcome`].
//!
//! Standard queues run a batch in phases, so a remote store costs a constant number of
//! sequential round trips whatever the batch size: claim every record at once, run the
//! handlers concurrently (bounded), then complete the successes and release the failures at
//! once. FIFO queues run each message group in order and stop a group at its first failure,
//! as SQS ordering requires; groups run concurrently.

mod deadline;
mod followers;
pub mod outcome;
mod prepare;
mod response;
mod result;
mod round;
mod run;

pub(crate) use prepare::InvocationInfo;
pub use response::{InvocationError, Response};
pub use result::{BatchResult, RecordResult};

use std::sync::Arc;

use futures_util::future::join_all;
use tracing::Instrument;

use crate::HandlerOptions;
use crate::dead_letter::{DeadLetter, DeadLetterQueue};
use crate::handler::EventHandler;
use crate::pipeline::outcome::{Outcome, ReasonCode};
use crate::store::{MemoryStore, Store};
use crate::transport::{Delivery, TransportError};
use deadline::DeadlineStore;
use followers::{assign_leaders, resolve_followers};
use prepare::{PrepareParams, Record, Stage, prepare};

/// The CloudWatch namespace of the per-batch EMF metrics unless configured otherwise;
/// `TIDINGS_METRICS_NAMESPACE` overrides it.
pub const DEFAULT_METRICS_NAMESPACE: &str = "tidings";

/// A FIFO message group id (`None` for records without one) and its records, in order.
type MessageGroup<'a, E> = (Option<String>, Vec<&'a mut Record<E>>);

/// Runs batches of records through a handler, with a store and an optional dead-letter
/// queue.
pub struct Pipeline<H: EventHandler> {
    handler: H,
    state: Arc<H::State>,
    options: HandlerOptions,
    store: Arc<dyn Store>,
    dead_letters: Option<Arc<dyn DeadLetterQueue>>,
    key_prefix: String,
    metrics_namespace: String,
}

impl<H: EventHandler<State = ()>> Pipeline<H> {
    /// A pipeline of a handler that takes no state, with the handler's options, the
    /// in-memory store and no dead-letter queue.
    pub fn new(handler: H) -> Self {
        Self::with_state(handler, ())
    }
}

impl<H: EventHandler> Pipeline<H> {
    /// A pipeline handing `state` to every call of `handler`, with the handler's options,
    /// the in-memory store and no dead-letter queue.
    pub fn with_state(handler: H, state: H::State) -> Self {
        Self::with_shared_state(handler, Arc::new(state))
    }

    /// [`Pipeline::with_state`] with state the caller keeps a handle on too: a test that
    /// inspects what the handler did, or several pipelines sharing one set of clients.
    pub fn with_shared_state(handler: H, state: Arc<H::State>) -> Self {
        let options = H::OPTIONS;
        Self {
            handler,
            state,
            key_prefix: options.name.to_owned(),
            options,
            store: Arc::new(MemoryStore::new()),
            dead_letters: None,
            metrics_namespace: DEFAULT_METRICS_NAMESPACE.to_owned(),
        }
    }

    /// Uses `store` for idempotency records and subject sequences.
    pub fn with_store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = store;
        self
    }

    /// Sends rejected records to `queue` at once, acknowledging them.
    pub fn with_dead_letter_queue(mut self, queue: Arc<dyn DeadLetterQueue>) -> Self {
        self.dead_letters = Some(queue);
        self
    }

    /// Replaces the options (e.g. with values from the environment).
    pub fn with_options(mut self, options: HandlerOptions) -> Self {
        self.options = options;
        self
    }

    /// Prefixes idempotency keys and subjects with `function` and the handler name, so that
    /// two functions (or two handlers) sharing a table never see each other's records.
    pub fn with_function_name(mut self, function: &str) -> Self {
        self.key_prefix = format!("{function}#{}", self.options.name);
        self
    }

    /// Reports the per-batch EMF metrics under `namespace` rather than
    /// [`lambda::DEFAULT_METRICS_NAMESPACE`](crate::lambda::DEFAULT_METRICS_NAMESPACE).
    pub fn with_metrics_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.metrics_namespace = namespace.into();
        self
    }

    /// The CloudWatch namespace of the per-batch EMF metrics.
    pub fn metrics_namespace(&self) -> &str {
        &self.metrics_namespace
    }

    /// The state handed to every call of the handler.
    pub fn state(&self) -> &H::State {
        &self.state
    }

    /// The options in force.
    pub fn options(&self) -> &HandlerOptions {
        &self.options
    }

    /// Runs one invocation's records through the pipeline.
    pub(crate) async fn process(
        &self,
        deliveries: Vec<Result<Delivery, TransportError>>,
        invocation: &InvocationInfo,
    ) -> BatchResult {
        let batch_span = tracing::info_span!(
            "batch",
            handler = self.options.name,
            request_id = invocation.request_id.as_str(),
            records = deliveries.len(),
        );
        async {
            let params = PrepareParams {
                options: &self.options,
                key_prefix: &self.key_prefix,
                invocation,
                request_id: Arc::from(invocation.request_id.as_str()),
            };
            let fifo = deliveries
                .iter()
                .any(|d| d.as_ref().is_ok_and(Delivery::is_fifo));
            let mut records: Vec<Record<H::Events>> = deliveries
                .into_iter()
                .map(|delivered| prepare::<H>(delivered, &params))
                .collect();
            let store = DeadlineStore {
                store: &*self.store,
                deadline: invocation.deadline,
                margin: self.options.deadline_margin,
            };
            if fifo {
                self.process_fifo(&mut records, &store).await;
            } else {
                self.process_standard(&mut records, &store).await;
                self.dead_letter(&mut records).await;
            }
            BatchResult::from_records(records)
        }
        .instrument(batch_span)
        .await
    }

    /// Standard queues (and SNS): every ready record in one round (claim all, run all,
    /// settle all); copies and superseded events of the batch follow their leader.
    async fn process_standard(&self, records: &mut [Record<H::Events>], store: &DeadlineStore<'_>) {
        assign_leaders(records, self.options.ordering);
        self.run_round(records.iter_mut(), store).await;
        resolve_followers(records);
    }

    /// FIFO queues: each message group in order, stopping at its first failure. Groups hold
    /// disjoint records, so they run concurrently while each runs in order.
    async fn process_fifo(&self, records: &mut [Record<H::Events>], store: &DeadlineStore<'_>) {
        let mut groups: Vec<MessageGroup<'_, H::Events>> = Vec::new();
        for record in records.iter_mut() {
            let group = record.delivery.as_ref().and_then(|d| d.group_id.clone());
            match groups.iter_mut().find(|(g, _)| *g == group) {
                Some((_, members)) => members.push(record),
                None => groups.push((group, vec![record])),
            }
        }
        join_all(
            groups
                .into_iter()
                .map(|(_, members)| self.process_group(members, store)),
        )
        .await;
    }

    /// One FIFO message group: a round per record, in order, stopping at the first failure,
    /// whose later records are retried after it.
    async fn process_group(&self, members: Vec<&mut Record<H::Events>>, store: &DeadlineStore<'_>) {
        let mut blocked = false;
        for record in members {
            if blocked {
                record.stage = Stage::Done(Outcome::retry(
                    ReasonCode::GroupBlocked,
                    "an earlier message of this FIFO message group failed; retried after it to keep the group's order",
                ));
                continue;
            }
            self.run_round(std::iter::once(&mut *record), store).await;
            if let Stage::Done(Outcome::Rejected { .. }) = record.stage {
                self.dead_letter(std::slice::from_mut(record)).await;
            }
            blocked = record_fails(record, self.dead_letters.is_some());
        }
    }

    /// Sends the rejected records among `records` to the dead-letter queue, if one is
    /// configured; a record the queue does not take becomes a retry.
    async fn dead_letter(&self, records: &mut [Record<H::Events>]) {
        let Some(queue) = &self.dead_letters else {
            return;
        };
        let mut letters = Vec::new();
        let mut indices = Vec::new();
        for (i, record) in records.iter().enumerate() {
            if let Stage::Done(Outcome::Rejected {
                reason,
                dead_lettered: false,
            }) = &record.stage
            {
                let Some(letter) = letter_of(record, reason.clone(), self.options.name) else {
                    continue;
                };
                letters.push(letter);
                indices.push(i);
            }
        }
        if letters.is_empty() {
            return;
        }
        let answers = queue.send(&letters).await;
        for ((i, letter), answer) in indices.into_iter().zip(letters).zip(answers) {
            records[i].stage = Stage::Done(match answer {
                Ok(()) => Outcome::Rejected {
                    reason: letter.reason,
                    dead_lettered: true,
                },
                Err(error) => Outcome::retry(
                    ReasonCode::DeadLetterFailed,
                    format!(
                        "rejected ({}), but the dead-letter queue did not take it: {error}",
                        letter.reason
                    ),
                ),
            });
        }
    }
}

fn letter_of<E>(
    record: &Record<E>,
    reason: crate::pipeline::outcome::Reason,
    handler: &'static str,
) -> Option<DeadLetter> {
    let delivery = record.delivery.as_ref();
    Some(DeadLetter {
        message_id: record.message_id.clone()?,
        body: delivery
            .map(|d| d.body.clone())
            .or_else(|| record.unread_body.clone())
            .unwrap_or_default(),
        attributes: delivery.map(|d| d.attributes.clone()).unwrap_or_default(),
        reason,
        handler,
        event_id: record.event.as_ref().map(|e| e.cause.id.clone()),
        receive_count: delivery.map_or(1, |d| d.receive_count),
    })
}

/// Whether a finished record counts as a failure of its batch (reported to the queue).
fn record_fails<E>(record: &Record<E>, has_dead_letter_queue: bool) -> bool {
    match &record.stage {
        Stage::Done(Outcome::Retry(_)) => true,
        Stage::Done(Outcome::Rejected { dead_lettered, .. }) => {
            !dead_lettered && !has_dead_letter_queue
        }
        _ => false,
    }
}
