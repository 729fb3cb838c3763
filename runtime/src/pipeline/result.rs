//! [`BatchResult`]: the outcome of every record of an invocation, and the answers Lambda
//! expects from it.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse};

use super::prepare::{Record, Stage};
use super::response::InvocationError;
use crate::pipeline::outcome::{Outcome, OutcomeKind};

/// What happened to one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordResult {
    /// The SQS or SNS message id, when the record could be read.
    pub message_id: Option<String>,
    /// The event id, when the envelope could be read.
    pub event_id: Option<String>,
    /// The event type, when the envelope could be read.
    pub event_type: Option<String>,
    /// The subject, when the envelope has one.
    pub subject: Option<String>,
    /// The outcome.
    pub outcome: Outcome,
    /// How old the event was when the batch finished (from its `time`, else the time it
    /// was sent).
    pub age: Option<Duration>,
}

impl RecordResult {
    /// The result of a finished record, at `now`, logged inside the record's span.
    fn of<E>(record: Record<E>, now: SystemTime) -> Self {
        let Record {
            message_id,
            delivery,
            event,
            stage,
            span,
            ..
        } = record;
        let Stage::Done(outcome) = stage else {
            unreachable!("every record is done when the batch ends");
        };
        let born = event
            .as_ref()
            .and_then(|e| e.time)
            .map(SystemTime::from)
            .or_else(|| {
                delivery.as_ref().and_then(|d| {
                    d.sent_at
                        .map(|ms| SystemTime::UNIX_EPOCH + Duration::from_millis(ms))
                })
            });
        // The handler's share of the cause ended with its run, so its id is usually the
        // record's alone to take.
        let (event_id, event_type, subject) = match event {
            None => (None, None, None),
            Some(event) => {
                let id = Arc::try_unwrap(event.cause)
                    .map_or_else(|shared| shared.id.clone(), |cause| cause.id);
                (Some(id), Some(event.event_type), event.subject)
            }
        };
        let result = Self {
            message_id,
            event_id,
            event_type,
            subject,
            age: born.map(|t| now.duration_since(t).unwrap_or_default()),
            outcome,
        };
        span.in_scope(|| result.log());
        result
    }

    /// Logs the outcome: debug for a record that ended well, warn for a retry, error for a
    /// rejection. Written inside the record's span, so that it carries the span's event id,
    /// type and correlation id beside its outcome; logged from the batch span alone, no line
    /// would tie an outcome to its event's flow.
    fn log(&self) {
        let message_id = self.message_id.as_deref().unwrap_or("-");
        let event_id = self.event_id.as_deref().unwrap_or("-");
        match &self.outcome {
            Outcome::Retry(reason) => tracing::warn!(
                message_id, event_id, outcome = "retry", code = %reason.code, reason = %reason.message,
                "record will be retried"
            ),
            Outcome::Rejected {
                reason,
                dead_lettered,
            } => tracing::error!(
                message_id, event_id, outcome = "rejected", code = %reason.code, reason = %reason.message,
                dead_lettered, "record rejected"
            ),
            Outcome::Stale { sequence, .. } if self.outcome.is_sequence_conflict() => {
                tracing::warn!(
                    message_id,
                    event_id,
                    outcome = "stale",
                    sequence,
                    "sequence conflict: another event already took sequence {sequence} of this \
                     subject; acknowledged, not run (a producer gave two events one sequence, \
                     or this is a copy of an event whose idempotency record has expired)"
                )
            }
            // A record that ended well is worth a line only when asked for: at INFO, a line
            // per record would cost every batch a write to stdout per record (and its log
            // ingestion), and the batch's metrics line counts these anyway.
            outcome => tracing::debug!(
                message_id,
                event_id,
                outcome = outcome.name(),
                "record done"
            ),
        }
    }

    /// Whether the queue must deliver this record again: every retry, and rejections that
    /// did not reach a dead-letter queue (SQS then redrives them after `maxReceiveCount`).
    pub fn is_failure(&self) -> bool {
        matches!(
            self.outcome,
            Outcome::Retry(_)
                | Outcome::Rejected {
                    dead_lettered: false,
                    ..
                }
        )
    }
}

/// The outcome of every record of an invocation, in the order of the invocation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BatchResult {
    /// One result per record.
    pub records: Vec<RecordResult>,
}

impl BatchResult {
    /// The results of a finished batch, each record's outcome logged inside its span.
    pub(crate) fn from_records<E>(records: Vec<Record<E>>) -> Self {
        let now = SystemTime::now();
        let records = records
            .into_iter()
            .map(|record| RecordResult::of(record, now))
            .collect();
        Self { records }
    }

    /// The outcomes, in order.
    pub fn outcomes(&self) -> Vec<&Outcome> {
        self.records.iter().map(|r| &r.outcome).collect()
    }

    /// How many records had an outcome of `kind`.
    pub fn count(&self, kind: OutcomeKind) -> usize {
        self.records
            .iter()
            .filter(|r| r.outcome.kind() == kind)
            .count()
    }

    /// The age of the oldest event of the batch.
    pub fn oldest_age(&self) -> Option<Duration> {
        self.records.iter().filter_map(|r| r.age).max()
    }

    /// The partial batch response for SQS: exactly the records the queue must deliver
    /// again.
    pub fn sqs_response(&self) -> Result<SqsBatchResponse, InvocationError> {
        let failed: Vec<&RecordResult> = self.records.iter().filter(|r| r.is_failure()).collect();
        let unidentified = failed.iter().filter(|r| r.message_id.is_none()).count();
        if unidentified > 0 {
            return Err(InvocationError::UnidentifiedRecords {
                count: unidentified,
            });
        }
        let mut response = SqsBatchResponse::default();
        response.batch_item_failures = failed
            .into_iter()
            .filter_map(|r| r.message_id.clone())
            .map(|id| {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                failure
            })
            .collect();
        Ok(response)
    }

    /// The answer for an SNS invocation: an error when a record must be retried (Lambda then
    /// retries the asynchronous invocation); rejections are acknowledged.
    pub fn sns_result(&self) -> Result<(), InvocationError> {
        let retried = self.records.iter().find_map(|r| match &r.outcome {
            Outcome::Retry(reason) => Some((r, reason)),
            _ => None,
        });
        match retried {
            Some((record, reason)) => Err(InvocationError::SnsRetry {
                message_id: record
                    .message_id
                    .clone()
                    .unwrap_or_else(|| "(unknown)".to_owned()),
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }
}
