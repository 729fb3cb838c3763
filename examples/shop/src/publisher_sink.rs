//! [`PublisherSink`]: the event sink on AWS, tidings' publisher to one SNS topic or SQS queue.

use async_trait::async_trait;
use serde_json::Value;
use tidings::{Destination, Envelope, Publisher};
use tokio::sync::OnceCell;

use crate::{BackendError, EventSink};

/// Publishes to one destination through [`tidings::Publisher`], which sets the filter
/// attributes SNS subscriptions route on and, for a FIFO destination, the message group and
/// deduplication id.
#[derive(Debug)]
pub struct PublisherSink {
    destination: Destination,
    /// Made on first use: loading the SDK configuration is async, and a Lambda's init should
    /// make no call it can put off.
    publisher: OnceCell<Publisher>,
}

impl PublisherSink {
    /// A sink publishing to `destination` with the SDK configuration of the environment.
    pub fn new(destination: Destination) -> Self {
        Self {
            destination,
            publisher: OnceCell::new(),
        }
    }
}

#[async_trait]
impl EventSink for PublisherSink {
    async fn publish(&self, envelope: Envelope<Value>) -> Result<(), BackendError> {
        let publisher = self
            .publisher
            .get_or_init(|| async {
                // The envelopes come complete with their source; this one is never written.
                Publisher::new(&tidings::aws::sdk_config().await, "shop")
            })
            .await;
        publisher
            .publish_envelope(&self.destination, envelope)
            .await
            .map(|_receipt| ())
            .map_err(|error| BackendError::new("event sink", error.to_string()))
    }
}
