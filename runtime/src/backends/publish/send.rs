//! One batch request to SNS (`PublishBatch`) or SQS (`SendMessageBatch`), answered per
//! message.

use std::collections::HashMap;

use aws_sdk_sqs::error::DisplayErrorContext;

use super::Receipt;
use super::error::PublishError;
use super::message::Message;

/// What the service said about one entry of a batch.
enum Answer {
    Sent {
        message_id: String,
        sequence_number: Option<String>,
    },
    Refused {
        code: String,
        message: String,
        sender_fault: bool,
    },
}

/// Publishes `messages` (at most ten, within the batch size limit) to the SNS topic `arn`.
pub(crate) async fn sns_batch(
    client: &aws_sdk_sns::Client,
    arn: &str,
    destination: &str,
    messages: &[&Message],
) -> Vec<Result<Receipt, PublishError>> {
    use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};

    let entries: Result<Vec<_>, _> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let attributes = m
                .attributes
                .iter()
                .map(|a| {
                    MessageAttributeValue::builder()
                        .data_type(a.data_type)
                        .string_value(&a.value)
                        .build()
                        .map(|value| (a.name.clone(), value))
                })
                .collect::<Result<HashMap<_, _>, _>>()?;
            PublishBatchRequestEntry::builder()
                .id(i.to_string())
                .message(&m.body)
                .set_message_attributes(Some(attributes))
                .set_message_group_id(m.group_id.clone())
                .set_message_deduplication_id(m.deduplication_id.clone())
                .build()
        })
        .collect();
    let entries = match entries {
        Ok(entries) => entries,
        Err(error) => return all_failed(messages, destination, &DisplayErrorContext(&error)),
    };
    let sent = client
        .publish_batch()
        .topic_arn(arn)
        .set_publish_batch_request_entries(Some(entries))
        .send()
        .await;
    match sent {
        Ok(output) => {
            let mut answers = HashMap::new();
            for entry in output.successful() {
                if let (Some(id), Some(message_id)) = (entry.id(), entry.message_id()) {
                    answers.insert(
                        id.to_owned(),
                        Answer::Sent {
                            message_id: message_id.to_owned(),
                            sequence_number: entry.sequence_number().map(str::to_owned),
                        },
                    );
                }
            }
            for entry in output.failed() {
                answers.insert(
                    entry.id().to_owned(),
                    Answer::Refused {
                        code: entry.code().to_owned(),
                        message: entry.message().unwrap_or_default().to_owned(),
                        sender_fault: entry.sender_fault(),
                    },
                );
            }
            per_message(messages, destination, answers)
        }
        Err(error) => all_failed(messages, destination, &DisplayErrorContext(&error)),
    }
}

/// Sends `messages` (at most ten, within the batch size limit) to the SQS queue at `url`.
pub(crate) async fn sqs_batch(
    client: &aws_sdk_sqs::Client,
    url: &str,
    destination: &str,
    messages: &[&Message],
) -> Vec<Result<Receipt, PublishError>> {
    use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};

    let entries: Result<Vec<_>, _> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let attributes = m
                .attributes
                .iter()
                .map(|a| {
                    MessageAttributeValue::builder()
                        .data_type(a.data_type)
                        .string_value(&a.value)
                        .build()
                        .map(|value| (a.name.clone(), value))
                })
                .collect::<Result<HashMap<_, _>, _>>()?;
            SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(&m.body)
                .set_message_attributes(Some(attributes))
                .set_message_group_id(m.group_id.clone())
                .set_message_deduplication_id(m.deduplication_id.clone())
                .build()
        })
        .collect();
    let entries = match entries {
        Ok(entries) => entries,
        Err(error) => return all_failed(messages, destination, &DisplayErrorContext(&error)),
    };
    let sent = client
        .send_message_batch()
        .queue_url(url)
        .set_entries(Some(entries))
        .send()
        .await;
    match sent {
        Ok(output) => {
            let mut answers = HashMap::new();
            for entry in output.successful() {
                answers.insert(
                    entry.id().to_owned(),
                    Answer::Sent {
                        message_id: entry.message_id().to_owned(),
                        sequence_number: entry.sequence_number().map(str::to_owned),
                    },
                );
            }
            for entry in output.failed() {
                answers.insert(
                    entry.id().to_owned(),
                    Answer::Refused {
                        code: entry.code().to_owned(),
                        message: entry.message().unwrap_or_default().to_owned(),
                        sender_fault: entry.sender_fault(),
                    },
                );
            }
            per_message(messages, destination, answers)
        }
        Err(error) => all_failed(messages, destination, &DisplayErrorContext(&error)),
    }
}

/// The result of each message, in order, from the answers keyed by entry id (the index).
fn per_message(
    messages: &[&Message],
    destination: &str,
    mut answers: HashMap<String, Answer>,
) -> Vec<Result<Receipt, PublishError>> {
    messages
        .iter()
        .enumerate()
        .map(|(i, m)| match answers.remove(&i.to_string()) {
            Some(Answer::Sent {
                message_id,
                sequence_number,
            }) => Ok(Receipt {
                event_id: m.id.clone(),
                message_id,
                sequence_number,
            }),
            Some(Answer::Refused {
                code,
                message,
                sender_fault,
            }) => Err(PublishError::Refused {
                event_id: m.id.clone(),
                destination: destination.to_owned(),
                code,
                message,
                sender_fault,
            }),
            // The service must answer every entry; one it skipped may or may not be there.
            None => Err(PublishError::Request {
                event_id: m.id.clone(),
                destination: destination.to_owned(),
                message: "the service's answer did not mention this entry".to_owned(),
            }),
        })
        .collect()
}

/// The same failure for every message of a request that failed as a whole.
fn all_failed(
    messages: &[&Message],
    destination: &str,
    error: &dyn std::fmt::Display,
) -> Vec<Result<Receipt, PublishError>> {
    let message = error.to_string();
    messages
        .iter()
        .map(|m| {
            Err(PublishError::Request {
                event_id: m.id.clone(),
                destination: destination.to_owned(),
                message: message.clone(),
            })
        })
        .collect()
}
