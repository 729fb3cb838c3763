//! [`HandlerOptions`]: how a handler is fed and what it guarantees. The `#[event_handler]`
//! attribute sets them; each has a documented default.

use std::time::Duration;

/// Where a handler's invocations come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Trigger {
    /// SQS event source mapping; records may be raw envelopes or SNS notifications.
    Sqs,
    /// SNS invoking the function directly (one record per invocation).
    Sns,
    /// Either, told apart by the invocation's shape. The default.
    #[default]
    Auto,
}

/// What the handler guarantees about the order of events of one subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SubjectOrdering {
    /// No ordering: every new event is processed. The default.
    #[default]
    None,
    /// Only events newer (by `sequence`) than the last processed for their subject run;
    /// older ones are acknowledged as stale.
    LatestWins,
}

/// What to do with an event whose type the handler does not accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnUnknownType {
    /// Reject it (dead-letter it when a dead-letter queue is configured). The default: a
    /// subscription that delivers types nobody handles is a configuration error to surface.
    #[default]
    Reject,
    /// Acknowledge it without running the handler, for consumers of a shared topic that
    /// only care about some types.
    Ignore,
}

/// The options of one handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerOptions {
    /// The handler's name: the function name, used in idempotency keys, logs and
    /// dead-letter attributes.
    pub name: &'static str,
    /// Where invocations come from.
    pub trigger: Trigger,
    /// What the handler guarantees about the order of each subject's events.
    pub ordering: SubjectOrdering,
    /// The field of the event data that is the idempotency key, or `None` for the event id.
    pub idempotency_key: Option<&'static str>,
    /// How many records of a standard-queue batch run at once.
    pub concurrency: usize,
    /// What to do with event types the handler does not accept.
    pub on_unknown_type: OnUnknownType,
    /// How long a completed record is remembered, to recognise late duplicates.
    pub idempotency_ttl: Duration,
    /// How long before the Lambda deadline the handler is cancelled, leaving time to
    /// release its lock and answer.
    pub deadline_margin: Duration,
    /// The largest message body accepted, in bytes (SQS allows up to 1 MiB).
    pub max_body_bytes: usize,
}

impl HandlerOptions {
    /// The default concurrency for standard queues: a batch has at most 10 records by
    /// default, and most handlers wait on I/O.
    pub const DEFAULT_CONCURRENCY: usize = 10;
    /// The default time completed records are remembered: one day, longer than any SQS
    /// redelivery of a processed message is likely to take.
    pub const DEFAULT_IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 60 * 60);
    /// The default margin before the deadline.
    pub const DEFAULT_DEADLINE_MARGIN: Duration = Duration::from_millis(500);
    /// The default body limit: the SQS maximum message size.
    pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

    /// The defaults, for a handler called `name`.
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            trigger: Trigger::Auto,
            ordering: SubjectOrdering::None,
            idempotency_key: None,
            concurrency: Self::DEFAULT_CONCURRENCY,
            on_unknown_type: OnUnknownType::Reject,
            idempotency_ttl: Self::DEFAULT_IDEMPOTENCY_TTL,
            deadline_margin: Self::DEFAULT_DEADLINE_MARGIN,
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
        }
    }
}
