//! [`PublishError`]: why one event was not published, and what to do about it.

/// Why one event was not published.
///
/// Every variant names the event and the destination. The first four are found before any
/// call to AWS, so nothing was sent; [`Refused`](Self::Refused) and
/// [`Request`](Self::Request) come from the service.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// The message (body plus message attributes, as AWS counts them) is over the
    /// destination's size limit. Nothing was sent.
    #[error(
        "event {event_id} is {size} bytes as a message to {destination}, over its limit of \
         {limit} bytes, so it was not sent: make the event smaller (keep large data elsewhere, \
         e.g. in S3, and publish a reference to it), or, if the destination accepts more (an SQS \
         queue's or SNS topic's MaximumMessageSize, at most 1 MiB), say so with \
         Destination::with_max_bytes"
    )]
    TooLarge {
        /// The event id.
        event_id: String,
        /// The destination, e.g. `SQS queue https://…`.
        destination: String,
        /// The message size in bytes: the body plus every attribute's name, type and value.
        size: usize,
        /// The destination's limit in bytes.
        limit: usize,
    },
    /// The destination is FIFO and the event has no subject to use as its message group.
    /// Nothing was sent.
    #[error(
        "event {event_id} has no subject, but {destination} is FIFO and tidings uses the subject \
         as the message group id, so it was not sent: mark the field that names the entity with \
         #[event(subject)], or set the subject with Envelope::with_subject"
    )]
    MissingSubject {
        /// The event id.
        event_id: String,
        /// The destination.
        destination: String,
    },
    /// The destination is FIFO and the subject (the message group id) or the event id (the
    /// deduplication id) is not a valid FIFO id. Nothing was sent.
    #[error(
        "event {event_id} was not sent to FIFO {destination}: its {field} {value:?} is not a valid \
         FIFO id, which is 1 to 128 characters, each an ASCII letter, digit or punctuation mark \
         (no spaces); {fix}"
    )]
    InvalidFifoId {
        /// The event id.
        event_id: String,
        /// The destination.
        destination: String,
        /// Which field: the subject (message group id) or the id (deduplication id).
        field: &'static str,
        /// The offending value.
        value: String,
        /// What to change.
        fix: &'static str,
    },
    /// The event could not be written as JSON (its `Serialize` impl failed). Nothing was sent.
    #[error(
        "event {event_id} could not be written as JSON, so it was not sent to {destination}: \
         {message}; fix the event type's Serialize implementation"
    )]
    Encode {
        /// The event id.
        event_id: String,
        /// The destination.
        destination: String,
        /// The serializer's message.
        message: String,
    },
    /// The destination is FIFO and an earlier event of the same message group in this batch
    /// was not published; sending this one would put the group out of order. Nothing was
    /// sent for it.
    #[error(
        "event {event_id} was not sent to {destination}: event {earlier} of the same FIFO message \
         group (subject {group:?}) was not published before it, and sending this one would put \
         the group out of order; publish both again, in order"
    )]
    GroupBlocked {
        /// The event id.
        event_id: String,
        /// The destination.
        destination: String,
        /// The message group (the subject).
        group: String,
        /// The id of the earlier event that was not published.
        earlier: String,
    },
    /// The service answered the batch but refused this entry.
    #[error(
        "{destination} refused event {event_id}: {code}: {message} ({advice})",
        advice = if *sender_fault {
            "the service blames the message: fix it before publishing it again"
        } else {
            "the service blames itself: publishing the same envelope again may succeed"
        }
    )]
    Refused {
        /// The event id.
        event_id: String,
        /// The destination.
        destination: String,
        /// The service's error code, e.g. `InvalidParameter`.
        code: String,
        /// The service's message.
        message: String,
        /// Whether the service blames the message (true) or itself (false).
        sender_fault: bool,
    },
    /// The request carrying this event failed as a whole (network, credentials, permissions,
    /// throttling, a missing topic or queue). The event may or may not have arrived.
    #[error(
        "event {event_id} may not have reached {destination}: the request failed: {message}; \
         check the destination's name, region and permissions, then publish the same envelope \
         again (consumers drop the copy by its event id if the first one did arrive)"
    )]
    Request {
        /// The event id.
        event_id: String,
        /// The destination.
        destination: String,
        /// The SDK's error, with its causes.
        message: String,
    },
}

impl PublishError {
    /// The id of the event that was not published.
    pub fn event_id(&self) -> &str {
        match self {
            Self::TooLarge { event_id, .. }
            | Self::MissingSubject { event_id, .. }
            | Self::InvalidFifoId { event_id, .. }
            | Self::Encode { event_id, .. }
            | Self::GroupBlocked { event_id, .. }
            | Self::Refused { event_id, .. }
            | Self::Request { event_id, .. } => event_id,
        }
    }

    /// Whether nothing about the message has to change for publishing it again to succeed:
    /// the request failed, the service blamed itself, or an earlier event of its group was
    /// not published. A handler that returns such an error with `?` is retried, which is
    /// right; the others need the event or the destination fixed.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Request { .. } | Self::GroupBlocked { .. } => true,
            Self::Refused { sender_fault, .. } => !sender_fault,
            Self::TooLarge { .. }
            | Self::MissingSubject { .. }
            | Self::InvalidFifoId { .. }
            | Self::Encode { .. } => false,
        }
    }
}
