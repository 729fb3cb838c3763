//! [`SqsDeadLetterQueue`]: rejected records go to an SQS queue (cargo feature `publisher`).

use aws_config::SdkConfig;

use super::{DeadLetter, DeadLetterQueue};
use crate::publish::{
    Attribute, Message, PublishError, SQS_MAX_BYTES, chunks, is_fifo_id, sqs_batch, text_for_aws,
};

/// The body sent for a record that had none (one whose JSON could not be read at all): SQS
/// refuses empty bodies, and the letter's attributes say what went wrong.
pub const EMPTY_BODY: &str = "(the record had no readable body)";

/// The longest rejection reason written into the `tidings.reason` attribute, in bytes;
/// longer ones are cut (at a character boundary) and end in `…`. A reason is a sentence;
/// this keeps a runaway one from pushing the letter over the queue's limit.
pub const MAX_REASON_BYTES: usize = 4096;

/// A dead-letter queue on SQS, sent to with `SendMessageBatch`.
///
/// Each letter is the record's original body, byte for byte, with the attributes of
/// [`DeadLetter::message_attributes`]: `tidings.reason-code`, `tidings.reason`,
/// `tidings.handler`, `tidings.receive-count`, `tidings.event-id` (when the envelope could
/// be read), then as many of the record's own attributes as the limit of ten leaves room
/// for. To a FIFO queue, each letter is its own message group (dead letters need no order,
/// and one stuck letter must not hold up the others) and is deduplicated by the record's
/// message id.
///
/// A letter the queue does not take (over its size limit, refused, or the request failed)
/// is answered with an error, which makes its record a retry: it is never lost, and after
/// the source queue's `maxReceiveCount` it lands in that queue's own dead-letter queue.
#[derive(Debug, Clone)]
pub struct SqsDeadLetterQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
    fifo: bool,
    max_bytes: usize,
}

impl SqsDeadLetterQueue {
    /// The queue at `queue_url`, reached with `sdk_config`. Makes no network call.
    pub fn new(sdk_config: &SdkConfig, queue_url: impl Into<String>) -> Self {
        Self::from_client(aws_sdk_sqs::Client::new(sdk_config), queue_url)
    }

    /// The queue at `queue_url`, reached with a client configured by hand.
    pub fn from_client(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        let queue_url = queue_url.into();
        Self {
            client,
            fifo: queue_url.trim_end_matches('/').ends_with(".fifo"),
            queue_url,
            max_bytes: SQS_MAX_BYTES,
        }
    }

    /// Sets the queue's `MaximumMessageSize` (default: SQS's 1 MiB), so a letter over it is
    /// answered with an error that says so, without a call.
    pub fn with_max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// The queue URL.
    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    fn message_of(&self, letter: &DeadLetter) -> Result<Message, String> {
        let attributes = letter
            .message_attributes()
            .into_iter()
            // SQS refuses empty attribute values.
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| {
                let value = if name == crate::dead_letter::attribute::REASON {
                    shorten(&value, MAX_REASON_BYTES)
                } else {
                    value
                };
                Attribute::string(name, text_for_aws(&value).into_owned())
            })
            .collect();
        let body = if letter.body.is_empty() {
            EMPTY_BODY.to_owned()
        } else {
            letter.body.clone()
        };
        let (group_id, deduplication_id) = if self.fifo {
            if !is_fifo_id(&letter.message_id) {
                return Err(format!(
                    "message id {:?} cannot be the group and deduplication id of a letter to a \
                     FIFO dead-letter queue (1 to 128 ASCII letters, digits or punctuation); use \
                     a standard queue as the dead-letter queue",
                    letter.message_id
                ));
            }
            (
                Some(letter.message_id.clone()),
                Some(letter.message_id.clone()),
            )
        } else {
            (None, None)
        };
        let message = Message {
            id: letter.message_id.clone(),
            body,
            attributes,
            group_id,
            deduplication_id,
        };
        let size = message.size();
        if size > self.max_bytes {
            return Err(format!(
                "the letter is {size} bytes (the original body plus the tidings.* attributes), \
                 over the dead-letter queue's limit of {} bytes; raise the queue's \
                 MaximumMessageSize (at most 1 MiB) and the limit set with with_max_bytes",
                self.max_bytes
            ));
        }
        Ok(message)
    }
}

#[async_trait::async_trait]
impl DeadLetterQueue for SqsDeadLetterQueue {
    async fn send(&self, letters: &[DeadLetter]) -> Vec<Result<(), String>> {
        let mut results: Vec<Option<Result<(), String>>> = Vec::with_capacity(letters.len());
        let mut ready: Vec<(usize, Message)> = Vec::new();
        for (i, letter) in letters.iter().enumerate() {
            match self.message_of(letter) {
                Ok(message) => {
                    results.push(None);
                    ready.push((i, message));
                }
                Err(error) => results.push(Some(Err(error))),
            }
        }
        let sizes: Vec<usize> = ready.iter().map(|(_, m)| m.size()).collect();
        let destination = format!("SQS dead-letter queue {}", self.queue_url);
        // Requests go one after another: dead letters are rare, and a batch of them is at
        // most one Lambda batch.
        for range in chunks(&sizes, SQS_MAX_BYTES) {
            let part = &ready[range];
            let messages: Vec<&Message> = part.iter().map(|(_, m)| m).collect();
            let answers = sqs_batch(&self.client, &self.queue_url, &destination, &messages).await;
            for ((i, _), answer) in part.iter().zip(answers) {
                results[*i] = Some(answer.map(|_| ()).map_err(|error| letter_error(&error)));
            }
        }
        results
            .into_iter()
            .map(|r| r.expect("every letter is answered"))
            .collect()
    }
}

/// What went wrong with a letter, in the dead-letter queue's terms (the publisher's errors
/// speak of events).
fn letter_error(error: &PublishError) -> String {
    match error {
        PublishError::Refused {
            destination,
            code,
            message,
            ..
        } => format!("{destination} refused the letter: {code}: {message}"),
        PublishError::Request {
            destination,
            message,
            ..
        } => format!(
            "the request to {destination} failed: {message}; check the queue URL, region and \
             the function's sqs:SendMessage permission"
        ),
        other => other.to_string(),
    }
}

/// `text` cut to at most `max` bytes at a character boundary, ending in `…` when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let ellipsis = '…';
    let mut end = max.saturating_sub(ellipsis.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut short = text[..end].to_owned();
    short.push(ellipsis);
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_reasons_are_cut_at_a_character_boundary() {
        assert_eq!(shorten("short", 10), "short");
        let cut = shorten(&"é".repeat(10), 9);
        assert!(cut.len() <= 9, "{cut}");
        assert_eq!(cut, "ééé…");
    }
}
