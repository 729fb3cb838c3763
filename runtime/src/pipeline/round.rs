//! One round of records through the store and the handler: claim them all at once, run the
//! handlers of those whose lock was acquired (concurrently, bounded), then complete the
//! successes and release the failures at once.
//!
//! A standard-queue batch is one round of all its ready records, so a remote store costs a
//! constant number of sequential round trips whatever the batch size. A FIFO message group
//! is a round per record, in order, since a group stops at its first failure. Both run this
//! same code.

use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::future::join_all;
use futures_util::stream;
use tidings_events::Envelope;
use tracing::Instrument;

use super::deadline::DeadlineStore;
use super::prepare::{Ready, Record, Stage};
use super::run;
use crate::Context;
use crate::handler::EventHandler;
use crate::handler::causation::Cause;
use crate::pipeline::Pipeline;
use crate::pipeline::outcome::{Outcome, ReasonCode};
use crate::store::{Claim, ClaimOutcome, Completion, EpochMillis, Release, StoreError, now_millis};

/// A record taken out of its batch for a round: its claim, how far it got, and the record
/// its outcome goes back to.
struct Attempt<'r, E> {
    record: &'r mut Record<E>,
    claim: Claim,
    progress: Progress<E>,
}

/// How far an attempt got.
// The call is large and the outcomes small, but attempts live in one vector for one round:
// boxing the call would cost an allocation per record for nothing.
#[allow(clippy::large_enum_variant)]
enum Progress<E> {
    /// Its lock is held; the handler has not run.
    Held(Call<E>),
    /// Its handler is running; the call went to it.
    Running,
    /// It ran (or was stopped from starting) while holding its lock, which must now be
    /// completed or released.
    Ran(Outcome),
    /// It ended without the lock (a duplicate, a stale event, a busy key, a store error):
    /// nothing to settle.
    Ended(Outcome),
}

/// What the handler call takes.
struct Call<E> {
    envelope: Envelope<E>,
    ctx: Context,
    cause: Arc<Cause>,
}

/// A ready record taken out of its batch for a round, before its claim is answered.
struct Taken<'r, E> {
    record: &'r mut Record<E>,
    call: Call<E>,
}

/// Takes a ready record out of its batch, with its claim; `None` for a record that is not
/// ready.
fn take<E>(record: &mut Record<E>) -> Option<(Claim, Taken<'_, E>)> {
    if !matches!(record.stage, Stage::Ready(_)) {
        return None;
    }
    let Stage::Ready(ready) = std::mem::replace(&mut record.stage, Stage::InRound) else {
        unreachable!("the stage was just matched as ready");
    };
    let Ready {
        envelope,
        claim,
        ctx,
        cause,
    } = *ready;
    let call = Call {
        envelope,
        ctx,
        cause,
    };
    Some((claim, Taken { record, call }))
}

impl<'r, E> Attempt<'r, E> {
    /// The attempt of a taken record once the store answered its claim.
    fn claimed(
        taken: Taken<'r, E>,
        claim: Claim,
        answer: Result<ClaimOutcome, StoreError>,
    ) -> Self {
        let progress = match interpret_claim(answer, &claim) {
            None => Progress::Held(taken.call),
            Some(outcome) => Progress::Ended(outcome),
        };
        Self {
            record: taken.record,
            claim,
            progress,
        }
    }

    fn is_held(&self) -> bool {
        matches!(self.progress, Progress::Held(_))
    }
}

impl<H: EventHandler> Pipeline<H> {
    /// Claims, runs and settles every ready record of `records` as one round, and gives each
    /// its outcome; records that are not ready are left as they are.
    pub(super) async fn run_round<'r>(
        &self,
        records: impl IntoIterator<Item = &'r mut Record<H::Events>>,
        store: &DeadlineStore<'_>,
    ) where
        H::Events: 'r,
    {
        // The claims go to the store as one slice, answered in the same order. Sized up
        // front: a batch's records are few and large, and growing would copy them.
        let records = records.into_iter();
        let most = records.size_hint().1.unwrap_or(0);
        let mut claims = Vec::with_capacity(most);
        let mut taken: Vec<Taken<'r, H::Events>> = Vec::with_capacity(most);
        for (claim, record) in records.filter_map(take) {
            claims.push(claim);
            taken.push(record);
        }
        if claims.is_empty() {
            return;
        }
        let mut answers = store.claim(&claims, now_millis()).await.into_iter();
        let mut attempts: Vec<Attempt<'r, H::Events>> = claims
            .into_iter()
            .zip(taken)
            // A store that answers fewer claims than it was asked leaves those unlocked.
            .map(|(claim, taken)| {
                Attempt::claimed(taken, claim, answers.next().unwrap_or_else(no_answer))
            })
            .collect();
        if !attempts.iter().any(Attempt::is_held) {
            // Nothing to run: no clock read for the deadline.
        } else if store.may_start_handler() {
            self.run_held(&mut attempts).await;
        } else {
            // The claims came back inside the deadline margin: no handler may start now.
            for attempt in attempts.iter_mut().filter(|a| a.is_held()) {
                attempt.progress = Progress::Ran(claimed_too_late());
            }
        }
        self.settle(attempts, store).await;
    }

    /// Runs the handler of every held attempt, at most `concurrency` at once.
    async fn run_held(&self, attempts: &mut [Attempt<'_, H::Events>]) {
        let limit = self.options.concurrency.max(1);
        let margin = self.options.deadline_margin;
        let handler = &self.handler;
        let state = &*self.state;
        // Each run owns its call and nothing else, which keeps its future small (the batch
        // allocates them side by side) and `Send` (a future borrowing the attempts, which
        // borrow their records, is one the compiler cannot prove `Send`).
        let mut runs = Vec::with_capacity(attempts.len());
        for attempt in attempts.iter_mut().filter(|a| a.is_held()) {
            let Progress::Held(call) = std::mem::replace(&mut attempt.progress, Progress::Running)
            else {
                unreachable!("only held attempts are taken to run");
            };
            runs.push(
                run_call(handler, state, margin, call).instrument(attempt.record.span.clone()),
            );
        }
        let outcomes: Vec<Outcome> = if runs.len() <= limit {
            // Within the bound every call runs at once, as `buffered` would run them; a small
            // join keeps them in one allocation rather than a task each.
            join_all(runs).await
        } else {
            stream::iter(runs).buffered(limit).collect().await
        };
        let running = attempts
            .iter_mut()
            .filter(|a| matches!(a.progress, Progress::Running));
        for (attempt, outcome) in running.zip(outcomes) {
            attempt.progress = Progress::Ran(outcome);
        }
    }

    /// Completes the attempts whose handler succeeded and releases the locks of those that
    /// did not, in one store call each, then gives every record its outcome.
    async fn settle(&self, attempts: Vec<Attempt<'_, H::Events>>, store: &DeadlineStore<'_>) {
        // One clock read serves the round: its records complete together.
        let expires_at = self.completion_expiry();
        let mut completions = Vec::with_capacity(attempts.len());
        let mut releases = Vec::new();
        let mut finished = Vec::with_capacity(attempts.len());
        for Attempt {
            record,
            claim,
            progress,
        } in attempts
        {
            let outcome = match progress {
                Progress::Ran(Outcome::Processed) => {
                    completions.push(completion_of(claim, expires_at));
                    Outcome::Processed
                }
                Progress::Ran(outcome) => {
                    releases.push(release_of(claim));
                    outcome
                }
                Progress::Ended(outcome) => outcome,
                Progress::Held(_) | Progress::Running => {
                    unreachable!("every held attempt of a round runs before it settles")
                }
            };
            finished.push((record, outcome));
        }
        let (completed, released) =
            futures_util::future::join(store.complete(&completions), store.release(&releases))
                .await;
        // The completions are in the order of the processed records.
        let processed = finished
            .iter()
            .filter(|(_, outcome)| *outcome == Outcome::Processed);
        for (((record, _), completion), answer) in processed.zip(&completions).zip(completed) {
            if let Err(error) = answer {
                warn_not_completed(record, &completion.key, &error);
            }
        }
        warn_unreleased(released);
        for (record, outcome) in finished {
            record.stage = Stage::Done(outcome);
        }
    }

    /// When a record completed now may be forgotten.
    fn completion_expiry(&self) -> EpochMillis {
        now_millis() + self.options.idempotency_ttl.as_millis() as u64
    }
}

/// Runs the handler on one call. A named async fn rather than a closure: see `run_held`.
async fn run_call<H: EventHandler>(
    handler: &H,
    state: &H::State,
    margin: std::time::Duration,
    call: Call<H::Events>,
) -> Outcome {
    run::call(handler, state, call.envelope, call.cause, &call.ctx, margin).await
}

fn release_of(claim: Claim) -> Release {
    Release {
        key: claim.key,
        owner: claim.owner,
        subject: claim.ordering.map(|o| o.subject),
    }
}

fn completion_of(claim: Claim, expires_at: EpochMillis) -> Completion {
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
        // The key answered first, so a subject mark at this very sequence was set by another
        // event: a sequence conflict, which can never take effect either (see
        // `Outcome::Stale`).
        Ok(ClaimOutcome::NotNewer { newest }) => Some(Outcome::Stale { sequence, newest }),
        Err(error) => Some(Outcome::retry(ReasonCode::Store, error.to_string())),
    }
}

/// The rejection of a record whose idempotency key was used for a different payload.
pub(super) fn key_reused(key: &str) -> Outcome {
    Outcome::rejected(
        ReasonCode::KeyReused,
        format!(
            "idempotency key `{key}` was already used for a different payload; keys must be \
             unique per event (publish each event with a new id, or pick another key field)"
        ),
    )
}

/// The answer for a claim the store left unanswered: no record runs without its lock.
fn no_answer() -> Result<ClaimOutcome, StoreError> {
    Err(StoreError::Unavailable("no answer".into()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{LockOwner, SubjectSequence};

    fn claim(sequence: Option<u64>) -> Claim {
        Claim {
            key: "h#event-1".into(),
            payload_hash: "hash".into(),
            owner: LockOwner::new(),
            lock_expires_at: 0,
            ordering: sequence.map(|sequence| SubjectSequence {
                subject: "h#subject#order-1".into(),
                sequence,
            }),
        }
    }

    #[test]
    fn an_acquired_claim_runs_and_every_other_answer_is_an_outcome() {
        assert_eq!(
            interpret_claim(Ok(ClaimOutcome::Acquired), &claim(None)),
            None
        );
        assert_eq!(
            interpret_claim(Ok(ClaimOutcome::Completed), &claim(None)),
            Some(Outcome::Duplicate)
        );
        let busy = interpret_claim(Ok(ClaimOutcome::InProgress { until: 5 }), &claim(None));
        assert!(
            matches!(busy, Some(Outcome::Retry(reason)) if reason.code == ReasonCode::InProgress)
        );
        let reused = interpret_claim(Ok(ClaimOutcome::KeyReused), &claim(None));
        assert!(
            matches!(reused, Some(Outcome::Rejected { reason, .. }) if reason.code == ReasonCode::KeyReused)
        );
        let down = interpret_claim(Err(StoreError::Unavailable("down".into())), &claim(None));
        assert!(matches!(down, Some(Outcome::Retry(reason)) if reason.code == ReasonCode::Store));
    }

    #[test]
    fn a_subject_mark_makes_older_and_equal_sequences_stale() {
        // Another event at the mark's own sequence: a conflict, stale like an older one.
        let at_mark = interpret_claim(Ok(ClaimOutcome::NotNewer { newest: 3 }), &claim(Some(3)));
        assert_eq!(
            at_mark,
            Some(Outcome::Stale {
                sequence: 3,
                newest: 3
            })
        );
        let older = interpret_claim(Ok(ClaimOutcome::NotNewer { newest: 5 }), &claim(Some(3)));
        assert_eq!(
            older,
            Some(Outcome::Stale {
                sequence: 3,
                newest: 5
            })
        );
    }

    #[test]
    fn completions_and_releases_carry_the_claims_owner_and_subject() {
        let claim = claim(Some(2));
        let owner = claim.owner.clone();
        let completion = completion_of(claim.clone(), 99);
        assert_eq!(
            (
                completion.key.as_str(),
                &completion.owner,
                completion.expires_at
            ),
            ("h#event-1", &owner, 99)
        );
        assert_eq!(completion.subject.as_deref(), Some("h#subject#order-1"));
        let release = release_of(claim);
        assert_eq!(
            (release.key.as_str(), &release.owner),
            ("h#event-1", &owner)
        );
        assert_eq!(release.subject.as_deref(), Some("h#subject#order-1"));
    }
}
