//! The SQS dead-letter queue against the local AWS-API server, through the real AWS SDK:
//! rejected records arrive with their original body, byte for byte, and the tidings.*
//! attributes, and are acknowledged; a letter the queue cannot take makes its record a retry.

#![cfg(feature = "publisher")]

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::{Message, MessageSystemAttributeName, QueueAttributeName};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tidings::testing::{Batch, TestRecord, invoke, invoke_raw};
use tidings::transport::Invocation;
use tidings::{
    BatchResult, Context, Envelope, Event, HandlerError, Outcome, Pipeline, ReasonCode,
    SqsDeadLetterQueue,
};

const REFUSAL: &str = "damaged parcels are refused by policy";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.parcel.received", version = 1)]
struct ParcelReceived {
    #[event(subject)]
    parcel: String,
    damaged: bool,
}

#[tidings::event_handler(main = false)]
async fn refuse_damaged(
    event: Envelope<ParcelReceived>,
    _ctx: &Context,
) -> Result<(), HandlerError> {
    if event.data.damaged {
        return Err(HandlerError::permanent(REFUSAL));
    }
    Ok(())
}

/// A poison envelope as a producer might have written it: spacing, key order and escapes
/// that re-serializing would change, so "byte for byte" is tested, not "equal as JSON".
fn poison_body(id: &str) -> String {
    format!(
        "{{ \"specversion\" : \"1.0\",\n  \"type\":\"test.parcel.received\", \"id\":\"{id}\",\
         \"source\":\"dock-7\", \"subject\":\"parcel-9\", \"dataversion\":1,\n\
         \"data\":{{\"damaged\":true, \"parcel\":\"parcel-9\", \"note\":\"na\\u00efve \u{2713} \\\"q\\\"\"}} }}"
    )
}

async fn sqs() -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(&common::sdk_config().await)
}

async fn create_queue(sqs: &aws_sdk_sqs::Client, prefix: &str, fifo: bool) -> String {
    let mut name = common::unique_name(prefix);
    let mut create = sqs.create_queue();
    if fifo {
        name.push_str(".fifo");
        create = create.attributes(QueueAttributeName::FifoQueue, "true");
    }
    create
        .queue_name(name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap()
}

/// Receives everything in the queue: waits for `expected` messages (at most 10 s), then
/// checks for a second that no other arrives.
async fn receive(sqs: &aws_sdk_sqs::Client, url: &str, expected: usize) -> Vec<Message> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut messages = Vec::new();
    loop {
        let wait = if messages.len() >= expected { 1 } else { 2 };
        let received = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .wait_time_seconds(wait)
            .visibility_timeout(60)
            .send()
            .await
            .unwrap()
            .messages
            .unwrap_or_default();
        let done = received.is_empty()
            && (messages.len() >= expected || std::time::Instant::now() > deadline);
        messages.extend(received);
        if done {
            break;
        }
    }
    assert_eq!(messages.len(), expected, "messages in {url}: {messages:#?}");
    messages
}

fn string_attributes(message: &Message) -> HashMap<String, String> {
    message
        .message_attributes()
        .unwrap_or(&Default::default())
        .iter()
        .map(|(name, value)| {
            assert_eq!(value.data_type(), "String", "{name}");
            (name.clone(), value.string_value().unwrap().to_owned())
        })
        .collect()
}

fn pairs(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

/// Runs `batch` through `pipeline` with an extra message attribute on record `index`, as
/// an SQS record carries the attributes its producer set.
async fn invoke_with_attribute(
    pipeline: &Pipeline<refuse_damaged>,
    batch: &Batch,
    index: usize,
    name: &str,
    value: &str,
) -> BatchResult {
    let mut payload = batch.to_json();
    payload["Records"][index]["messageAttributes"][name] = json!({
        "stringValue": value, "stringListValues": [], "binaryListValues": [], "dataType": "String"
    });
    let invocation: Invocation = serde_json::from_value(payload).unwrap();
    invoke_raw(pipeline, invocation).await
}

#[tokio::test]
async fn rejected_records_arrive_with_their_original_body_and_the_reason() {
    let sqs = sqs().await;
    let url = create_queue(&sqs, "dlq", false).await;
    let config = common::sdk_config().await;
    let pipeline = Pipeline::new(refuse_damaged)
        .with_dead_letter_queue(Arc::new(SqsDeadLetterQueue::new(&config, &url)));

    let good = Envelope::new(
        "dock-7",
        ParcelReceived {
            parcel: "parcel-1".into(),
            damaged: false,
        },
    );
    let poison_id = "0193a5b2-7c1d-7e3f-8a9b-0c1d2e3f4a5b";
    let poison = poison_body(poison_id);
    let garbage = "not an envelope \u{2717} {";
    let batch = Batch::sqs()
        .event(&good)
        .record(
            TestRecord::raw(poison.clone())
                .message_id("poison-1")
                .receive_count(3),
        )
        .record(TestRecord::raw(garbage).message_id("garbage-1"));
    let result = invoke_with_attribute(&pipeline, &batch, 1, "origin", "dock-7").await;

    let outcomes = result.outcomes();
    assert_eq!(outcomes[0], &Outcome::Processed);
    let Outcome::Rejected {
        reason: poison_reason,
        dead_lettered: true,
    } = outcomes[1]
    else {
        panic!("the poison record was not dead-lettered: {:?}", outcomes[1]);
    };
    assert_eq!(poison_reason.code, ReasonCode::HandlerRejected);
    assert_eq!(poison_reason.message, REFUSAL);
    let Outcome::Rejected {
        reason: garbage_reason,
        dead_lettered: true,
    } = outcomes[2]
    else {
        panic!(
            "the unreadable record was not dead-lettered: {:?}",
            outcomes[2]
        );
    };
    // Dead-lettered records are acknowledged: nothing is reported for redelivery.
    assert!(
        result
            .sqs_response()
            .unwrap()
            .batch_item_failures
            .is_empty()
    );

    let letters = receive(&sqs, &url, 2).await;
    let letter = |body: &str| {
        letters
            .iter()
            .find(|m| m.body() == Some(body))
            .unwrap_or_else(|| panic!("no letter with body {body:?} in {letters:#?}"))
    };
    assert_eq!(
        string_attributes(letter(&poison)),
        pairs(&[
            ("tidings.reason-code", "handler-rejected"),
            ("tidings.reason", REFUSAL),
            ("tidings.handler", "refuse_damaged"),
            ("tidings.event-id", poison_id),
            ("tidings.receive-count", "3"),
            ("origin", "dock-7"),
        ])
    );
    assert_eq!(
        string_attributes(letter(garbage)),
        pairs(&[
            ("tidings.reason-code", garbage_reason.code.as_str()),
            ("tidings.reason", &garbage_reason.message),
            ("tidings.handler", "refuse_damaged"),
            ("tidings.receive-count", "1"),
        ])
    );
}

#[tokio::test]
async fn a_fifo_dead_letter_queue_gets_each_letter_in_its_own_group() {
    let sqs = sqs().await;
    let url = create_queue(&sqs, "dlq-fifo", true).await;
    let config = common::sdk_config().await;
    let pipeline = Pipeline::new(refuse_damaged)
        .with_dead_letter_queue(Arc::new(SqsDeadLetterQueue::new(&config, &url)));
    let poison = poison_body("0193a5b2-0000-7e3f-8a9b-0c1d2e3f4a5b");
    let batch = Batch::sqs().record(TestRecord::raw(poison.clone()).message_id("poison-fifo"));
    let result = invoke(&pipeline, &batch).await;
    assert!(matches!(
        result.outcomes()[0],
        Outcome::Rejected {
            dead_lettered: true,
            ..
        }
    ));
    let letters = receive(&sqs, &url, 1).await;
    assert_eq!(letters[0].body(), Some(poison.as_str()));
    let system = letters[0].attributes().unwrap();
    assert_eq!(
        system[&MessageSystemAttributeName::MessageGroupId],
        "poison-fifo"
    );
    assert_eq!(
        system[&MessageSystemAttributeName::MessageDeduplicationId],
        "poison-fifo"
    );
}

#[tokio::test]
async fn a_letter_the_queue_cannot_take_makes_its_record_a_retry() {
    let sqs = sqs().await;
    let url = create_queue(&sqs, "dlq-small", false).await;
    let config = common::sdk_config().await;
    let poison = poison_body("0193a5b2-1111-7e3f-8a9b-0c1d2e3f4a5b");

    // Over the queue's limit: answered without a call, nothing arrives.
    let small = Pipeline::new(refuse_damaged).with_dead_letter_queue(Arc::new(
        SqsDeadLetterQueue::new(&config, &url).with_max_bytes(256),
    ));
    let result = invoke(&small, &Batch::sqs().raw(poison.clone())).await;
    let Outcome::Retry(reason) = result.outcomes()[0] else {
        panic!("expected a retry, got {:?}", result.outcomes()[0]);
    };
    assert_eq!(reason.code, ReasonCode::DeadLetterFailed);
    assert!(
        reason
            .message
            .contains("over the dead-letter queue's limit of 256 bytes"),
        "{}",
        reason.message
    );
    assert_eq!(result.sqs_response().unwrap().batch_item_failures.len(), 1);
    receive(&sqs, &url, 0).await;

    // A queue that does not exist: the request fails, the record is retried.
    let missing = format!("{url}-gone");
    let lost = Pipeline::new(refuse_damaged)
        .with_dead_letter_queue(Arc::new(SqsDeadLetterQueue::new(&config, &missing)));
    let result = invoke(&lost, &Batch::sqs().raw(poison)).await;
    let Outcome::Retry(reason) = result.outcomes()[0] else {
        panic!("expected a retry, got {:?}", result.outcomes()[0]);
    };
    assert_eq!(reason.code, ReasonCode::DeadLetterFailed);
    assert!(
        reason.message.contains(&format!(
            "the request to SQS dead-letter queue {missing} failed"
        )) && reason.message.contains("NonExistentQueue"),
        "{}",
        reason.message
    );
}

/// Set in the child process of the test below.
const CHILD_VAR: &str = "TIDINGS_TEST_DLQ_FROM_ENV_CHILD";

/// `pipeline_from_env` reads `TIDINGS_DEAD_LETTER_QUEUE_URL` and the AWS settings from the
/// environment. Changing the environment of this multi-threaded test process is unsound, so
/// the test runs itself again as a child process with the variables set: the child builds
/// the pipeline and rejects a record; the parent checks what reached the queue.
#[tokio::test]
async fn processor_from_env_sends_rejected_records_to_the_configured_queue() {
    if std::env::var_os(CHILD_VAR).is_some() {
        let pipeline = tidings::lambda::pipeline_from_env(refuse_damaged, ())
            .await
            .expect("pipeline_from_env");
        let poison = poison_body("0193a5b2-2222-7e3f-8a9b-0c1d2e3f4a5b");
        let result = invoke(
            &pipeline,
            &Batch::sqs().record(TestRecord::raw(poison).message_id("from-env")),
        )
        .await;
        assert!(
            matches!(
                result.outcomes()[0],
                Outcome::Rejected {
                    dead_lettered: true,
                    ..
                }
            ),
            "{:?}",
            result.outcomes()
        );
        return;
    }

    let endpoint = common::endpoint();
    let sqs = sqs().await;
    let url = create_queue(&sqs, "dlq-env", false).await;
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "processor_from_env_sends_rejected_records_to_the_configured_queue",
            "--nocapture",
        ])
        .env(CHILD_VAR, "1")
        .env("TIDINGS_DEAD_LETTER_QUEUE_URL", &url)
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_REGION", common::DEFAULT_REGION)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("TIDINGS_STORE")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the child failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let letters = receive(&sqs, &url, 1).await;
    assert_eq!(
        string_attributes(&letters[0])["tidings.handler"],
        "refuse_damaged"
    );
    assert_eq!(
        string_attributes(&letters[0])["tidings.event-id"],
        "0193a5b2-2222-7e3f-8a9b-0c1d2e3f4a5b"
    );
}
