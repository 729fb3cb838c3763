//! [`Outcome`]: what happened to one record.

use std::fmt;

/// What happened to one record of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The handler ran and succeeded.
    Processed,
    /// The event was already processed (or is another copy of one in this batch):
    /// acknowledged, not run again.
    Duplicate,
    /// The event is not newer than the last one processed for its subject
    /// (`ordering = "latest_wins"`): acknowledged, not run.
    ///
    /// With `sequence == newest` it is a *sequence conflict*: another event (another id or
    /// key) already took this sequence of the subject. Only one event can be a subject's
    /// version `n`, so it cannot take effect either; it is logged at WARN, since it means a
    /// producer gave two events one sequence. A copy of the same event is a
    /// [`Outcome::Duplicate`] instead.
    Stale {
        /// The event's sequence.
        sequence: u64,
        /// The newest sequence already processed (or in this batch) for the subject.
        newest: u64,
    },
    /// The event's type is not one the handler accepts and the handler was told to ignore
    /// such types (`on_unknown_type = "ignore"`): acknowledged, not run.
    Ignored,
    /// A transient failure: reported in `batchItemFailures` so the queue delivers it again.
    Retry(Reason),
    /// A permanent failure: never retried; dead-lettered when a dead-letter queue is
    /// configured.
    Rejected {
        /// Why.
        reason: Reason,
        /// Whether the record was sent to the dead-letter queue.
        dead_lettered: bool,
    },
}

impl Outcome {
    /// Whether this is a sequence conflict: a stale event at its subject's own sequence.
    pub fn is_sequence_conflict(&self) -> bool {
        matches!(self, Self::Stale { sequence, newest } if sequence == newest)
    }

    /// A retry for `code`, with a message.
    pub fn retry(code: ReasonCode, message: impl Into<String>) -> Self {
        Self::Retry(Reason::new(code, message))
    }

    /// A rejection for `code`, with a message (not yet dead-lettered).
    pub fn rejected(code: ReasonCode, message: impl Into<String>) -> Self {
        Self::Rejected {
            reason: Reason::new(code, message),
            dead_lettered: false,
        }
    }

    /// The reason of a retry or rejection.
    pub fn reason(&self) -> Option<&Reason> {
        match self {
            Self::Retry(reason) | Self::Rejected { reason, .. } => Some(reason),
            _ => None,
        }
    }

    /// Which of the outcomes this is, without its details.
    pub fn kind(&self) -> OutcomeKind {
        match self {
            Self::Processed => OutcomeKind::Processed,
            Self::Duplicate => OutcomeKind::Duplicate,
            Self::Stale { .. } => OutcomeKind::Stale,
            Self::Ignored => OutcomeKind::Ignored,
            Self::Retry(_) => OutcomeKind::Retry,
            Self::Rejected { .. } => OutcomeKind::Rejected,
        }
    }

    /// The name of the outcome, as used in logs and metrics.
    pub fn name(&self) -> &'static str {
        self.kind().as_str()
    }
}

/// The kinds of [`Outcome`], without their details: what a batch's figures count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutcomeKind {
    /// [`Outcome::Processed`].
    Processed,
    /// [`Outcome::Duplicate`].
    Duplicate,
    /// [`Outcome::Stale`].
    Stale,
    /// [`Outcome::Ignored`].
    Ignored,
    /// [`Outcome::Retry`].
    Retry,
    /// [`Outcome::Rejected`].
    Rejected,
}

impl OutcomeKind {
    /// The name, as used in logs: `processed`, `duplicate`, `stale`, `ignored`, `retry`,
    /// `rejected`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Processed => "processed",
            Self::Duplicate => "duplicate",
            Self::Stale => "stale",
            Self::Ignored => "ignored",
            Self::Retry => "retry",
            Self::Rejected => "rejected",
        }
    }
}

impl fmt::Display for OutcomeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a record was retried or rejected: a stable code for dashboards and dead-letter
/// attributes, and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// What kind of failure.
    pub code: ReasonCode,
    /// What went wrong, and what to do about it.
    pub message: String,
}

impl Reason {
    /// A reason.
    pub fn new(code: ReasonCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// The kinds of failure a record can meet, each with a stable kebab-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReasonCode {
    /// The transport record (SQS message, SNS notification) could not be read.
    Transport,
    /// An SNS control message (subscription or unsubscribe confirmation), not an event.
    NotAnEvent,
    /// The body is larger than the handler accepts.
    Oversized,
    /// The body is not a valid CloudEvents envelope.
    Envelope,
    /// The event type is not one the handler accepts.
    UnknownType,
    /// The event's version is newer (or otherwise unknown) to this code.
    UnsupportedVersion,
    /// The data does not match the schema of its version.
    InvalidData,
    /// The idempotency key was used before for a different payload.
    KeyReused,
    /// `latest_wins` needs a subject and a sequence, and the event lacks one.
    MissingOrdering,
    /// Another delivery of the same event, or another event of the same subject, holds the
    /// lock.
    InProgress,
    /// The idempotency store failed (throttled, unreachable, timed out).
    Store,
    /// The handler returned a transient error.
    HandlerFailed,
    /// The handler returned a permanent error.
    HandlerRejected,
    /// The handler panicked.
    HandlerPanicked,
    /// The handler did not finish before the Lambda deadline margin.
    DeadlineExceeded,
    /// An earlier message of the same FIFO message group failed, so this one must wait.
    GroupBlocked,
    /// Another record of the batch (a copy of this event, or a newer event of its
    /// subject) failed, so this one is retried with it.
    BatchSibling,
    /// The record was rejected but the dead-letter queue could not take it.
    DeadLetterFailed,
}

impl ReasonCode {
    /// The stable name, e.g. `unknown-type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Transport => "transport",
            Self::NotAnEvent => "not-an-event",
            Self::Oversized => "oversized",
            Self::Envelope => "envelope",
            Self::UnknownType => "unknown-type",
            Self::UnsupportedVersion => "unsupported-version",
            Self::InvalidData => "invalid-data",
            Self::KeyReused => "key-reused",
            Self::MissingOrdering => "missing-ordering",
            Self::InProgress => "in-progress",
            Self::Store => "store",
            Self::HandlerFailed => "handler-failed",
            Self::HandlerRejected => "handler-rejected",
            Self::HandlerPanicked => "handler-panicked",
            Self::DeadlineExceeded => "deadline-exceeded",
            Self::GroupBlocked => "group-blocked",
            Self::BatchSibling => "batch-sibling",
            Self::DeadLetterFailed => "dead-letter-failed",
        }
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
