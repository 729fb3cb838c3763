//! The shop's topics, queues, subscriptions and table, created on the local AWS-API server as
//! `template.yaml` declares them: a queue per consumer with a dead-letter queue after five
//! receives, raw-delivery subscriptions with the handlers' filter policies, the FIFO pair
//! for payments, and the idempotency table.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::json;
use tidings::store::DynamoDbStore;

use super::super::DemoError;
use super::super::topology::{Consumer, Topic};

/// The receives after which a queue moves a message to its dead-letter queue.
pub const MAX_RECEIVE_COUNT: u32 = 5;
/// The queues' visibility timeout, in seconds. The poller makes a failed message visible
/// again after a second; this only covers a demo that stopped mid-batch.
const VISIBILITY_TIMEOUT_S: u32 = 30;

/// A consumer's queue and its dead-letter queue.
#[derive(Debug, Clone)]
pub struct QueuePair {
    /// The queue's URL.
    pub url: String,
    /// The dead-letter queue's URL.
    pub dead_letter_url: String,
}

/// Everything the demo created.
#[derive(Debug, Clone)]
pub struct Resources {
    /// The topics' ARNs.
    pub topics: BTreeMap<Topic, String>,
    /// One queue pair per consumer, in the consumers' order.
    pub queues: Vec<QueuePair>,
    /// The idempotency store on the table.
    pub store: DynamoDbStore,
}

/// Creates the resources, every name starting with `prefix` so that runs never meet.
pub async fn create(
    config: &SdkConfig,
    consumers: &[Consumer],
    prefix: &str,
) -> Result<Resources, DemoError> {
    let sns = aws_sdk_sns::Client::new(config);
    let sqs = aws_sdk_sqs::Client::new(config);

    let mut topics = BTreeMap::new();
    for topic in Topic::ALL {
        let mut request = sns
            .create_topic()
            .name(format!("{prefix}-{}", topic.name()));
        if topic.is_fifo() {
            request = request
                .attributes("FifoTopic", "true")
                .attributes("ContentBasedDeduplication", "false");
        }
        let arn = request
            .send()
            .await
            .map_err(|e| failed("CreateTopic", e))?
            .topic_arn
            .ok_or_else(|| DemoError::Endpoint("CreateTopic answered no ARN".into()))?;
        topics.insert(topic, arn);
    }

    let mut queues = Vec::new();
    for consumer in consumers {
        let fifo = consumer.is_fifo();
        let base = consumer.queue.trim_end_matches(".fifo");
        let suffix = if fifo { ".fifo" } else { "" };
        let dead_letter_url = create_queue(
            &sqs,
            &format!("{prefix}-{base}-dead-letter{suffix}"),
            fifo,
            None,
        )
        .await?;
        let dead_letter_arn = queue_arn(&sqs, &dead_letter_url).await?;
        let redrive = json!({
            "deadLetterTargetArn": dead_letter_arn,
            "maxReceiveCount": MAX_RECEIVE_COUNT,
        });
        let url = create_queue(
            &sqs,
            &format!("{prefix}-{}", consumer.queue),
            fifo,
            Some(redrive.to_string()),
        )
        .await?;
        let arn = queue_arn(&sqs, &url).await?;
        // A queue policy letting the topics send is what AWS needs; a local server does not
        // check it, and template.yaml is where it is declared.
        for topic in consumer.topics {
            sns.subscribe()
                .topic_arn(&topics[topic])
                .protocol("sqs")
                .endpoint(&arn)
                .attributes("RawMessageDelivery", "true")
                .attributes("FilterPolicyScope", "MessageAttributes")
                .attributes("FilterPolicy", consumer.filter_policy.to_string())
                .send()
                .await
                .map_err(|e| failed("Subscribe", e))?;
        }
        queues.push(QueuePair {
            url,
            dead_letter_url,
        });
    }

    let store = DynamoDbStore::new(
        aws_sdk_dynamodb::Client::new(config),
        format!("{prefix}-idempotency"),
    );
    store
        .create_table_if_missing()
        .await
        .map_err(|e| DemoError::Endpoint(format!("creating the idempotency table: {e}")))?;
    Ok(Resources {
        topics,
        queues,
        store,
    })
}

async fn create_queue(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    fifo: bool,
    redrive_policy: Option<String>,
) -> Result<String, DemoError> {
    let mut request = sqs.create_queue().queue_name(name).attributes(
        QueueAttributeName::VisibilityTimeout,
        VISIBILITY_TIMEOUT_S.to_string(),
    );
    if fifo {
        request = request
            .attributes(QueueAttributeName::FifoQueue, "true")
            .attributes(QueueAttributeName::ContentBasedDeduplication, "false");
    }
    if let Some(policy) = redrive_policy {
        request = request.attributes(QueueAttributeName::RedrivePolicy, policy);
    }
    request
        .send()
        .await
        .map_err(|e| failed("CreateQueue", e))?
        .queue_url
        .ok_or_else(|| DemoError::Endpoint(format!("CreateQueue of {name} answered no URL")))
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<String, DemoError> {
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| failed("GetQueueAttributes", e))?
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .ok_or_else(|| DemoError::Endpoint(format!("{url} has no QueueArn")))
}

/// The error of a failed call, with the SDK's whole context.
pub fn failed<E: std::error::Error + 'static>(operation: &str, error: E) -> DemoError {
    DemoError::Endpoint(format!(
        "{operation} failed: {}",
        aws_sdk_sqs::error::DisplayErrorContext(&error)
    ))
}
