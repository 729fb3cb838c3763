//! A Lambda function with every AWS client tidings offers configured from the environment:
//! the DynamoDB store (`TIDINGS_STORE=dynamodb`, `TIDINGS_TABLE`), an SQS dead-letter queue
//! (`TIDINGS_DEAD_LETTER_QUEUE_URL`), both read by `processor_from_env`, and an SNS
//! [`Publisher`] that `main` builds before serving, which forwards each handled echo to the
//! topic `ECHO_TOPIC_ARN`.
//!
//! The cold-start benchmark times it against `echo_handler` and `bare_lambda`, and
//! `tests/no_network_at_init.rs` checks that none of these clients calls out before the first
//! poll.

use std::sync::OnceLock;

use tidings::lambda::Error;
use tidings::{Context, Destination, Envelope, HandlerError, Publisher};
use tidings_tests::{Echo, SOURCE};

/// The variable naming the SNS topic the handler forwards each echo to.
const TOPIC_VAR: &str = "ECHO_TOPIC_ARN";

/// Where the handler forwards echoes: set by `main` before the first invocation, because
/// the generated handler is a free function that cannot be handed anything.
static FORWARD: OnceLock<Forward> = OnceLock::new();

struct Forward {
    publisher: Publisher,
    topic: Destination,
}

/// Answers each [`Echo`] as its data says, then forwards the successful ones to the topic.
#[tidings::event_handler(main = false)]
async fn aws_handler(event: Envelope<Echo>, _ctx: &Context) -> Result<(), HandlerError> {
    tidings_tests::respond(&event.data)?;
    let forward = FORWARD
        .get()
        .ok_or_else(|| HandlerError::permanent("the publisher was not set up before serving"))?;
    // Published inside the handler, so the new envelope joins the flow of the handled one.
    forward
        .publisher
        .publish(&forward.topic, event.data)
        .await
        .map_err(HandlerError::transient)?;
    Ok(())
}

fn main() -> Result<(), Error> {
    tidings::lambda::run_with(aws_handler, async {
        let topic = std::env::var(TOPIC_VAR)
            .ok()
            .filter(|arn| !arn.is_empty())
            .ok_or_else(|| format!("{TOPIC_VAR} must name the SNS topic to forward echoes to"))?;
        // Reads the environment only: no call reaches AWS until a record needs one.
        let sdk = tidings::aws::sdk_config().await;
        let forward = Forward {
            publisher: Publisher::new(&sdk, SOURCE),
            topic: Destination::topic(topic),
        };
        if FORWARD.set(forward).is_err() {
            return Err("the publisher was set up twice".into());
        }
        Ok(())
    })
}
