//! A Lambda function with every AWS client tidings offers configured from the environment:
//! the DynamoDB store (`TIDINGS_STORE=dynamodb`, `TIDINGS_TABLE`), an SQS dead-letter queue
//! (`TIDINGS_DEAD_LETTER_QUEUE_URL`), both read by `pipeline_from_env`, and an SNS
//! [`Publisher`] in the handler's state, built before serving, which forwards each handled
//! echo to the topic `ECHO_TOPIC_ARN`.
//!
//! The cold-start benchmark times it against `echo_handler` and `bare_lambda`, and
//! `tests/no_network_at_init.rs` checks that none of these clients calls out before the first
//! poll.

use tidings::lambda::Error;
use tidings::{Context, Destination, Envelope, HandlerError, Publisher};
use tidings_tests::{Echo, SOURCE};

/// The variable naming the SNS topic the handler forwards each echo to.
const TOPIC_VAR: &str = "ECHO_TOPIC_ARN";

/// Where the handler forwards echoes: its state, built once before the first invocation.
struct Forward {
    publisher: Publisher,
    topic: Destination,
}

impl Forward {
    /// The publisher and topic the environment names. Reads the environment only: no call
    /// reaches AWS until a record needs one.
    async fn from_env() -> Result<Self, Error> {
        let topic = std::env::var(TOPIC_VAR)
            .ok()
            .filter(|arn| !arn.is_empty())
            .ok_or_else(|| format!("{TOPIC_VAR} must name the SNS topic to forward echoes to"))?;
        let sdk = tidings::aws::sdk_config().await;
        Ok(Self {
            publisher: Publisher::new(&sdk, SOURCE),
            topic: Destination::topic(topic),
        })
    }
}

/// Answers each [`Echo`] as its data says, then forwards the successful ones to the topic.
#[tidings::event_handler(state = Forward::from_env)]
async fn aws_handler(
    event: Envelope<Echo>,
    _ctx: &Context,
    forward: &Forward,
) -> Result<(), HandlerError> {
    tidings_tests::respond(&event.data)?;
    // Published inside the handler, so the new envelope joins the flow of the handled one.
    forward
        .publisher
        .publish(&forward.topic, event.data)
        .await
        .map_err(HandlerError::transient)?;
    Ok(())
}
