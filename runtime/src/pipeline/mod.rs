//! The pipeline: every record of a batch, from delivery to [`Outcome`].
//!
//! Standard queues run a batch in phases, so a remote store costs a constant number of
//! sequential round trips whatever the batch size: claim every record at once, run the
//! handlers concurrently (bounded), then complete the successes and release the failures at
//! once. FIFO queues run each message group in order and stop a group at its first failure,
//! as SQS ordering requires; groups run concurrently.

mod deadline;
pub mod outcome;
mod prepare;
mod response;
mod result;
mod run;

pub(crate) use prepare::InvocationInfo;
pub use response::{InvocationError, Response};
pub use result::{BatchResult, RecordResult};

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::future::join_all;
use futures_util::stream;
use tracing::Instrument;

use crate::dead_letter::{DeadLetter, DeadLetterQueue};
use crate::handler::EventHandler;
use crate::pipeline::outcome::{Outcome, ReasonCode};
use crate::store::{
    Claim, ClaimOutcome, Completion, KeyHashing, MemoryStore, Release, Store, StoreError,
    now_millis,
};
use crate::transport::{Delivery, TransportError};
use crate::{HandlerOptions, SubjectOrdering};
use deadline::DeadlineStore;
use prepare::{FollowKind, PrepareParams, Ready, Record, Stage, prepare};

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
            let result = BatchResult::new(&mut records, self.dead_letters.is_some());
            result.log(&records);
            result
        }
        .instrument(batch_span)
        .await
    }

    /// Standard queues (and SNS): claim all, run all, complete all.
    async fn process_standard(&self, records: &mut [Record<H::Events>], store: &DeadlineStore<'_>) {
        assign_leaders(records, self.options.ordering);
        // The store takes the claims and the handlers consume their envelopes: take the
        // ready records out of the batch; each one's stage is set again with its outcome.
        let mut claims = Vec::with_capacity(records.len());
        let mut pending = Vec::with_capacity(records.len());
        for (i, record) in records.iter_mut().enumerate() {
            if matches!(record.stage, Stage::Ready(_)) {
                let ready = take_ready(record);
                claims.push(ready.claim);
                pending.push((i, ready.envelope, ready.ctx, ready.cause));
            }
        }
        if claims.is_empty() {
            resolve_followers(records);
            return;
        }
        let mut claimed = store.claim(&claims, now_millis()).await.into_iter();

        let mut held = Vec::with_capacity(claims.len());
        let mut calls = Vec::with_capacity(claims.len());
        for (claim, (i, envelope, ctx, cause)) in claims.into_iter().zip(pending) {
            // A store that answers fewer claims than it was asked leaves those unlocked.
            let answer = claimed.next().unwrap_or_else(no_answer);
            match interpret_claim(answer, &claim) {
                None => {
                    calls.push((envelope, cause, ctx, records[i].span.clone()));
                    held.push((i, claim));
                }
                Some(outcome) => records[i].stage = Stage::Done(outcome),
            }
        }
        if !held.is_empty() && !store.may_start_handler() {
            // The claims came back inside the deadline margin: no handler may start now.
            let releases: Vec<Release> = held.iter().map(|(_, claim)| release_of(claim)).collect();
            warn_unreleased(store.release(&releases).await);
            for (i, _) in held {
                records[i].stage = Stage::Done(claimed_too_late());
            }
            resolve_followers(records);
            return;
        }
        let margin = self.options.deadline_margin;
        let limit = self.options.concurrency.max(1);
        let handler = &self.handler;
        let state = &*self.state;
        // Each call owns its context, so that the calls' futures borrow nothing but the
        // handler, and the batch's future stays `Send` (a closure over borrowed contexts
        // makes the compiler ask for a lifetime-generic closure it cannot prove `Send`).
        let runs = calls.into_iter().map(|(envelope, cause, ctx, span)| {
            async move { run::call(handler, state, envelope, cause, &ctx, margin).await }
                .instrument(span)
        });
        let runs: Vec<Outcome> = if held.len() <= limit {
            // Within the bound every call runs at once, as `buffered` would run them; a
            // small join keeps them in one allocation rather than a task each.
            join_all(runs).await
        } else {
            stream::iter(runs).buffered(limit).collect().await
        };

        // One clock read serves the batch: its records complete together.
        let expires_at = self.completion_expiry();
        let mut completions = Vec::with_capacity(held.len());
        let mut completed = Vec::with_capacity(held.len());
        let mut releases = Vec::new();
        let mut ran = Vec::with_capacity(held.len());
        for ((i, claim), outcome) in held.into_iter().zip(&runs) {
            if *outcome == Outcome::Processed {
                completed.push(i);
                completions.push(completion_of(claim, expires_at));
            } else {
                releases.push(release_of(&claim));
            }
            ran.push(i);
        }
        let (completed_answers, released) =
            futures_util::future::join(store.complete(&completions), store.release(&releases))
                .await;
        for ((i, completion), answer) in completed
            .into_iter()
            .zip(&completions)
            .zip(completed_answers)
        {
            if let Err(error) = answer {
                warn_not_completed(&records[i], &completion.key, &error);
            }
        }
        warn_unreleased(released);
        for (i, outcome) in ran.into_iter().zip(runs) {
            records[i].stage = Stage::Done(outcome);
        }
        resolve_followers(records);
    }

    /// FIFO queues: each message group in order, stopping at its first failure.
    async fn process_fifo(&self, records: &mut [Record<H::Events>], store: &DeadlineStore<'_>) {
        // The records of each message group, in order. Groups hold disjoint records, so they
        // run concurrently while each runs in order.
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

    /// One FIFO message group: its records one after the other, stopping at the first
    /// failure, whose later records are retried after it.
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
            self.process_one(record, store).await;
            if let Stage::Done(Outcome::Rejected { .. }) = record.stage {
                self.dead_letter(std::slice::from_mut(record)).await;
            }
            blocked = record_fails(record, self.dead_letters.is_some());
        }
    }

    /// One record on its own: claim, run, complete or release.
    async fn process_one(&self, record: &mut Record<H::Events>, store: &DeadlineStore<'_>) {
        let Stage::Ready(ready) = &record.stage else {
            return;
        };
        let answer = store
            .claim(std::slice::from_ref(&ready.claim), now_millis())
            .await
            .pop()
            .unwrap_or_else(no_answer);
        if let Some(outcome) = interpret_claim(answer, &ready.claim) {
            record.stage = Stage::Done(outcome);
            return;
        }
        let ready = take_ready(record);
        if !store.may_start_handler() {
            warn_unreleased(store.release(&[release_of(&ready.claim)]).await);
            record.stage = Stage::Done(claimed_too_late());
            return;
        }
        let outcome = run::call(
            &self.handler,
            &self.state,
            ready.envelope,
            ready.cause,
            &ready.ctx,
            self.options.deadline_margin,
        )
        .instrument(record.span.clone())
        .await;
        if outcome == Outcome::Processed {
            let completion = completion_of(ready.claim, self.completion_expiry());
            if let Some(Err(error)) = store
                .complete(std::slice::from_ref(&completion))
                .await
                .pop()
            {
                warn_not_completed(record, &completion.key, &error);
            }
        } else {
            warn_unreleased(store.release(&[release_of(&ready.claim)]).await);
        }
        record.stage = Stage::Done(outcome);
    }

    /// When a record completed now may be forgotten.
    fn completion_expiry(&self) -> crate::store::EpochMillis {
        now_millis() + self.options.idempotency_ttl.as_millis() as u64
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

/// Takes a ready record's envelope, claim and context out of the batch to run it; the
/// record's stage is set again once the outcome is known.
fn take_ready<E>(record: &mut Record<E>) -> Ready<E> {
    match std::mem::replace(&mut record.stage, Stage::Done(Outcome::Processed)) {
        Stage::Ready(ready) => *ready,
        _ => unreachable!("only ready records are run"),
    }
}

fn release_of(claim: &Claim) -> Release {
    Release {
        key: claim.key.clone(),
        owner: claim.owner.clone(),
        subject: claim.ordering.as_ref().map(|o| o.subject.clone()),
    }
}

fn completion_of(claim: Claim, expires_at: crate::store::EpochMillis) -> Completion {
    Completion {
        key: claim.key,
        owner: claim.owner,
        expires_at,
        subject: claim.ordering.map(|o| o.subject),
    }
}

/// The outcome of a record whose claim came back inside the deadline margin: its lock is
/// released and its handler never started.
fn claimed_too_late() -> Outcome {
    Outcome::retry(
        ReasonCode::DeadlineExceeded,
        "the lock was taken too close to the Lambda deadline to run the handler; released and \
         retried by a later delivery",
    )
}

/// Logs a success whose completion the store did not take. The side effect happened, so the
/// record is acknowledged (a retry would run it again); its in-progress record lapses at its
/// lock expiry, after which a later copy of the event could run again (README: Limits).
fn warn_not_completed<E>(record: &Record<E>, key: &str, error: &StoreError) {
    let event_id = record.event.as_ref().map(|e| e.cause.id.as_str());
    if let StoreError::LockLost(_) = error {
        // Not a store outage: another delivery took this record's lock while it ran, so the
        // effect may have run twice. It means the handler outlived its lock.
        record.span.in_scope(|| {
            tracing::error!(
                %error,
                event_id,
                idempotency_key = key,
                "handler succeeded but its lock had been taken over: the effect may have run \
                 twice"
            )
        });
        return;
    }
    record.span.in_scope(|| {
        tracing::warn!(
            %error,
            event_id,
            idempotency_key = key,
            "handler succeeded but its completion was not stored; acknowledged, since a retry \
             would run the effect again"
        )
    });
}

/// Logs the releases the store did not take: those locks lapse at their expiry instead.
fn warn_unreleased(answers: Vec<Result<(), StoreError>>) {
    for answer in answers {
        if let Err(error) = answer {
            tracing::warn!(%error, "lock not released; it lapses at the invocation deadline");
        }
    }
}

/// The answer for a claim the store left unanswered: no record runs without its lock.
fn no_answer() -> Result<ClaimOutcome, StoreError> {
    Err(StoreError::Unavailable("no answer".into()))
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

/// What a claim answer means for a record: `None` to run it, or its outcome.
fn interpret_claim(answer: Result<ClaimOutcome, StoreError>, claim: &Claim) -> Option<Outcome> {
    let sequence = claim.ordering.as_ref().map_or(0, |o| o.sequence);
    match answer {
        Ok(ClaimOutcome::Acquired) => None,
        Ok(ClaimOutcome::Completed) => Some(Outcome::Duplicate),
        Ok(ClaimOutcome::KeyReused) => Some(key_reused(&claim.key)),
        Ok(ClaimOutcome::InProgress { until }) => Some(Outcome::retry(
            ReasonCode::InProgress,
            format!(
                "another delivery of this event is being processed (its lock lapses at {until} ms)"
            ),
        )),
        Ok(ClaimOutcome::SubjectBusy { until }) => Some(Outcome::retry(
            ReasonCode::InProgress,
            format!(
                "another event of the same subject is being processed (its lock lapses at {until} ms)"
            ),
        )),
        Ok(ClaimOutcome::NotNewer { newest }) if newest == sequence => Some(Outcome::Duplicate),
        Ok(ClaimOutcome::NotNewer { newest }) => Some(Outcome::Stale { sequence, newest }),
        Err(error) => Some(Outcome::retry(ReasonCode::Store, error.to_string())),
    }
}

/// The rejection of a record whose idempotency key was used for a different payload.
fn key_reused(key: &str) -> Outcome {
    Outcome::rejected(
        ReasonCode::KeyReused,
        format!(
            "idempotency key `{key}` was already used for a different payload; keys must be \
             unique per event (publish each event with a new id, or pick another key field)"
        ),
    )
}

/// Makes later copies of an event, and (under `latest_wins`) older events of a subject that
/// a newer event of the same batch supersedes, follow that record instead of running.
fn assign_leaders<E>(records: &mut [Record<E>], ordering: SubjectOrdering) {
    // The decisions are taken on the claims as they stand, borrowing their keys, and
    // applied afterwards.
    let mut decisions: Vec<(usize, Stage<E>)> = Vec::new();
    {
        let claims: Vec<(usize, &Claim)> = records
            .iter()
            .enumerate()
            .filter_map(|(i, record)| match &record.stage {
                Stage::Ready(ready) => Some((i, &ready.claim)),
                _ => None,
            })
            .collect();
        // Each key's first record, with its payload hash.
        let mut by_key: HashMap<&str, (usize, &str), KeyHashing> =
            HashMap::with_capacity_and_hasher(claims.len(), KeyHashing::default());
        let mut by_subject: HashMap<&str, (usize, u64), KeyHashing> = HashMap::default();
        let mut leading = Vec::with_capacity(claims.len());
        for &(i, claim) in &claims {
            if let Some(&(leader, hash)) = by_key.get(claim.key.as_str()) {
                // A key reused for other data within one batch is caught here, as the store
                // catches it across batches: such a record is no copy of the one it would
                // follow.
                let stage = if hash == claim.payload_hash {
                    Stage::Follows {
                        leader,
                        kind: FollowKind::SameKey,
                    }
                } else {
                    Stage::Done(key_reused(&claim.key))
                };
                decisions.push((i, stage));
                continue;
            }
            by_key.insert(&claim.key, (i, &claim.payload_hash));
            leading.push((i, claim));
            if ordering == SubjectOrdering::LatestWins
                && let Some(order) = &claim.ordering
            {
                by_subject
                    .entry(&order.subject)
                    .and_modify(|best| {
                        if order.sequence > best.1 {
                            *best = (i, order.sequence);
                        }
                    })
                    .or_insert((i, order.sequence));
            }
        }
        for (i, claim) in leading {
            let Some(order) = &claim.ordering else {
                continue;
            };
            let (leader, newest) = by_subject[order.subject.as_str()];
            if leader != i {
                decisions.push((
                    i,
                    Stage::Follows {
                        leader,
                        kind: FollowKind::Superseded {
                            sequence: order.sequence,
                            by: newest,
                        },
                    },
                ));
            }
        }
    }
    for (i, stage) in decisions {
        records[i].stage = stage;
    }
}

/// Gives every follower its outcome from its leader's.
///
/// A copy of an event follows the event's first record, which may itself follow a newer
/// event of its subject; a newer event never follows. Resolving in batch order therefore
/// finishes every leader before its followers: a copy comes after the record it follows,
/// and that record's own leader is done once the batch has run.
fn resolve_followers<E>(records: &mut [Record<E>]) {
    for i in 0..records.len() {
        let Stage::Follows { leader, kind } = records[i].stage else {
            continue;
        };
        let Stage::Done(leader_outcome) = &records[leader].stage else {
            unreachable!("a leader is resolved before its followers");
        };
        let outcome = follower_outcome(leader_outcome, kind);
        records[i].stage = Stage::Done(outcome);
    }
}

/// The outcome of a record that followed a leader with `leader_outcome`.
fn follower_outcome(leader_outcome: &Outcome, kind: FollowKind) -> Outcome {
    match (leader_outcome, kind) {
        (Outcome::Retry(_), FollowKind::SameKey) => Outcome::retry(
            ReasonCode::BatchSibling,
            "another copy of this event in the same batch failed; retried with it",
        ),
        (Outcome::Retry(_) | Outcome::Rejected { .. }, FollowKind::Superseded { .. }) => {
            Outcome::retry(
                ReasonCode::BatchSibling,
                "a newer event of the same subject in this batch failed; retried with it",
            )
        }
        (_, FollowKind::SameKey) => Outcome::Duplicate,
        (leader_outcome, FollowKind::Superseded { sequence, by }) => {
            let newest = match leader_outcome {
                Outcome::Stale { newest, .. } => (*newest).max(by),
                _ => by,
            };
            if newest == sequence {
                Outcome::Duplicate
            } else {
                Outcome::Stale { sequence, newest }
            }
        }
    }
}
