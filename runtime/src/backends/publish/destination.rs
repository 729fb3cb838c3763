//! [`Destination`]: an SNS topic or SQS queue, whether it is FIFO, and its size limit.

use std::fmt;

/// SNS's message size limit unless the topic's `MaximumMessageSize` was raised: 256 KiB.
pub const SNS_DEFAULT_MAX_BYTES: usize = 256 * 1024;

/// SQS's largest message, and the default limit of a queue: 1 MiB. A queue's
/// `MaximumMessageSize` can lower it.
pub const SQS_MAX_BYTES: usize = 1024 * 1024;

/// SQS's limit on the sum of the messages of one `SendMessageBatch`, whatever the queue's
/// `MaximumMessageSize`.
pub(crate) const SQS_BATCH_MAX_BYTES: usize = 1024 * 1024;

/// Where events are published: an SNS topic or an SQS queue.
///
/// FIFO is known from the name, which AWS requires to end in `.fifo`. The size limit
/// defaults to the service's (SNS 256 KiB, SQS 1 MiB); set the one the topic or queue was
/// given with [`with_max_bytes`](Self::with_max_bytes), so that a message it would refuse is
/// refused here, before any call, with an error that says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    target: Target,
    fifo: bool,
    max_bytes: usize,
}

/// The service and address of a [`Destination`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An SNS topic, by ARN.
    Topic(String),
    /// An SQS queue, by URL.
    Queue(String),
}

impl Destination {
    /// The SNS topic with ARN `arn`, with SNS's default limit of 256 KiB.
    pub fn topic(arn: impl Into<String>) -> Self {
        let arn = arn.into();
        Self {
            fifo: arn.ends_with(".fifo"),
            target: Target::Topic(arn),
            max_bytes: SNS_DEFAULT_MAX_BYTES,
        }
    }

    /// The SQS queue at `url`, with SQS's limit of 1 MiB.
    pub fn queue(url: impl Into<String>) -> Self {
        let url = url.into();
        Self {
            fifo: url.trim_end_matches('/').ends_with(".fifo"),
            target: Target::Queue(url),
            max_bytes: SQS_MAX_BYTES,
        }
    }

    /// Sets the size limit in bytes: the queue's `MaximumMessageSize`, or the topic's when
    /// it was raised (up to 1 MiB, allowed when all its subscriptions are SQS, Lambda or
    /// Firehose).
    pub fn with_max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// The service and address.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Whether this is a FIFO topic or queue.
    pub fn is_fifo(&self) -> bool {
        self.fifo
    }

    /// The largest message accepted, in bytes: the body plus every message attribute's name,
    /// data type and value, as AWS counts them.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// The largest sum of message sizes in one batch request. SNS holds a batch to the
    /// topic's limit; SQS holds it to 1 MiB whatever the queue's limit.
    pub(crate) fn batch_max_bytes(&self) -> usize {
        match self.target {
            Target::Topic(_) => self.max_bytes,
            Target::Queue(_) => SQS_BATCH_MAX_BYTES,
        }
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            Target::Topic(arn) => write!(f, "SNS topic {arn}"),
            Target::Queue(url) => write!(f, "SQS queue {url}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_is_read_from_the_name() {
        assert!(Destination::topic("arn:aws:sns:eu-west-1:123456789012:orders.fifo").is_fifo());
        assert!(!Destination::topic("arn:aws:sns:eu-west-1:123456789012:orders").is_fifo());
        assert!(
            Destination::queue("https://sqs.eu-west-1.amazonaws.com/123456789012/orders.fifo")
                .is_fifo()
        );
        assert!(
            !Destination::queue("https://sqs.eu-west-1.amazonaws.com/123456789012/fifo-orders")
                .is_fifo()
        );
    }

    #[test]
    fn limits_default_to_the_services_and_can_be_set() {
        let topic = Destination::topic("arn:aws:sns:eu-west-1:123456789012:orders");
        assert_eq!(topic.max_bytes(), 262_144);
        assert_eq!(topic.batch_max_bytes(), 262_144);
        let raised = topic.with_max_bytes(1_048_576);
        assert_eq!(raised.batch_max_bytes(), 1_048_576);

        let queue = Destination::queue("https://sqs.eu-west-1.amazonaws.com/1/q");
        assert_eq!(queue.max_bytes(), 1_048_576);
        let lowered = queue.with_max_bytes(65_536);
        assert_eq!(lowered.max_bytes(), 65_536);
        assert_eq!(lowered.batch_max_bytes(), 1_048_576);
    }

    #[test]
    fn displays_service_and_address() {
        assert_eq!(
            Destination::queue("https://sqs.eu-west-1.amazonaws.com/1/q").to_string(),
            "SQS queue https://sqs.eu-west-1.amazonaws.com/1/q"
        );
        assert_eq!(
            Destination::topic("arn:aws:sns:eu-west-1:1:t").to_string(),
            "SNS topic arn:aws:sns:eu-west-1:1:t"
        );
    }
}
