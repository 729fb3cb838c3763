//! [`QueuePoller`]: what Lambda's SQS event source mapping does, for local runs against a
//! local AWS-API server (feature `publisher`): receive a batch, hand it to the handler as the
//! same invocation Lambda would send, delete what succeeded, and make each failure visible
//! again after a delay, so SQS delivers it again and its receive count grows until the
//! queue's redrive policy moves it to the dead-letter queue.

use std::time::{Duration, SystemTime};

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName, QueueAttributeName,
};
use serde_json::{Map, Value, json};

use crate::handler::EventHandler;
use crate::pipeline::{BatchResult, Pipeline, Response};
use crate::transport::Invocation;

/// Why polling failed.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    /// An SQS call failed.
    #[error("SQS {operation} on `{queue_url}` failed: {message}")]
    Sqs {
        /// The operation.
        operation: &'static str,
        /// The queue.
        queue_url: String,
        /// The SDK's error, with its context.
        message: String,
    },
    /// The batch could not be answered per record (a failed record without a message id):
    /// Lambda would retry the whole batch, so nothing is deleted.
    #[error("the batch failed as a whole: {0}")]
    WholeBatch(String),
}

/// Polls one queue and feeds its messages to a handler, as Lambda's event source mapping
/// does with `ReportBatchItemFailures`.
#[derive(Debug, Clone)]
pub struct QueuePoller {
    sqs: Client,
    queue_url: String,
    queue_arn: String,
    region: String,
    batch_size: i32,
    retry_delay: Duration,
    invocation_timeout: Duration,
}

impl QueuePoller {
    /// A poller of `queue_url`; looks the queue's ARN up once.
    pub async fn new(sqs: Client, queue_url: impl Into<String>) -> Result<Self, PollError> {
        let queue_url = queue_url.into();
        let attributes = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| sqs_error("GetQueueAttributes", &queue_url, e))?;
        let queue_arn = attributes
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::QueueArn))
            .cloned()
            .unwrap_or_default();
        let region = queue_arn
            .split(':')
            .nth(3)
            .unwrap_or("us-east-1")
            .to_owned();
        Ok(Self {
            sqs,
            queue_url,
            queue_arn,
            region,
            batch_size: 10,
            retry_delay: Duration::from_secs(1),
            invocation_timeout: Duration::from_secs(30),
        })
    }

    /// Receives at most `size` (1–10) messages per batch (default 10).
    pub fn with_batch_size(mut self, size: i32) -> Self {
        self.batch_size = size.clamp(1, 10);
        self
    }

    /// Failed records become visible again after `delay` (default one second; in AWS, the
    /// queue's visibility timeout).
    pub fn with_retry_delay(mut self, delay: Duration) -> Self {
        self.retry_delay = delay;
        self
    }

    /// The invocation deadline handed to the handler (default 30 seconds).
    pub fn with_invocation_timeout(mut self, timeout: Duration) -> Self {
        self.invocation_timeout = timeout;
        self
    }

    /// The queue's URL.
    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    /// Receives one batch (waiting at most `wait` for messages to arrive); `None` when the
    /// queue had nothing.
    pub async fn receive(&self, wait: Duration) -> Result<Vec<Message>, PollError> {
        let received = self
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(self.batch_size)
            .wait_time_seconds(wait.as_secs().min(20) as i32)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| sqs_error("ReceiveMessage", &self.queue_url, e))?;
        Ok(received.messages.unwrap_or_default())
    }

    /// The SQS invocation Lambda would send for `messages`.
    pub fn invocation_json(&self, messages: &[Message]) -> Value {
        let records: Vec<Value> = messages.iter().map(|m| self.record_json(m)).collect();
        json!({ "Records": records })
    }

    fn record_json(&self, message: &Message) -> Value {
        let system: Map<String, Value> = message
            .attributes()
            .map(|attributes| {
                attributes
                    .iter()
                    .map(|(name, value)| (name.as_str().to_owned(), Value::from(value.as_str())))
                    .collect()
            })
            .unwrap_or_default();
        let user: Map<String, Value> = message
            .message_attributes()
            .map(|attributes| {
                attributes
                    .iter()
                    .map(|(name, value)| {
                        (
                            name.clone(),
                            json!({
                                "stringValue": value.string_value(),
                                "stringListValues": [],
                                "binaryListValues": [],
                                "dataType": value.data_type(),
                            }),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        json!({
            "messageId": message.message_id(),
            "receiptHandle": message.receipt_handle(),
            "body": message.body(),
            "attributes": system,
            "messageAttributes": user,
            "md5OfBody": message.md5_of_body(),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        })
    }

    /// Receives one batch and runs it through `pipeline`: deletes the records that
    /// succeeded and schedules the failures for redelivery. `None` when the queue was empty.
    pub async fn poll_once<H: EventHandler>(
        &self,
        pipeline: &Pipeline<H>,
        wait: Duration,
    ) -> Result<Option<BatchResult>, PollError> {
        let messages = self.receive(wait).await?;
        if messages.is_empty() {
            return Ok(None);
        }
        let invocation: Invocation = serde_json::from_value(self.invocation_json(&messages))
            .map_err(|e| PollError::WholeBatch(e.to_string()))?;
        let event = crate::lambda::event(
            invocation,
            format!("local-{}", request_suffix()),
            SystemTime::now() + self.invocation_timeout,
        );
        let answer = pipeline.invoke(event).await;
        let response = match answer.response {
            Ok(Response::Sqs(response)) => response,
            Ok(Response::Sns) => {
                return Err(PollError::WholeBatch(
                    "an SQS batch was answered as an SNS invocation".to_owned(),
                ));
            }
            Err(error) => return Err(PollError::WholeBatch(error.to_string())),
        };
        let result = answer.batch;
        let failed: Vec<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        let mut done = Vec::new();
        for message in &messages {
            let id = message.message_id().unwrap_or_default();
            let handle = message.receipt_handle().unwrap_or_default();
            if failed.contains(&id) {
                self.sqs
                    .change_message_visibility()
                    .queue_url(&self.queue_url)
                    .receipt_handle(handle)
                    .visibility_timeout(self.retry_delay.as_secs() as i32)
                    .send()
                    .await
                    .map_err(|e| sqs_error("ChangeMessageVisibility", &self.queue_url, e))?;
            } else {
                done.push(
                    DeleteMessageBatchRequestEntry::builder()
                        .id(format!("m{}", done.len()))
                        .receipt_handle(handle)
                        .build()
                        .map_err(|e| PollError::WholeBatch(e.to_string()))?,
                );
            }
        }
        if !done.is_empty() {
            self.sqs
                .delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(done))
                .send()
                .await
                .map_err(|e| sqs_error("DeleteMessageBatch", &self.queue_url, e))?;
        }
        Ok(Some(result))
    }
}

fn sqs_error<E: std::error::Error + 'static>(
    operation: &'static str,
    queue_url: &str,
    error: E,
) -> PollError {
    PollError::Sqs {
        operation,
        queue_url: queue_url.to_owned(),
        message: aws_sdk_sqs::error::DisplayErrorContext(&error).to_string(),
    }
}

fn request_suffix() -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!("{nanos:x}")
}
