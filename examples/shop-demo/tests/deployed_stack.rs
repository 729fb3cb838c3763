//! The shop's `template.yaml`, deployed on the local AWS-API server that `scripts/test`
//! starts (`scripts/deploy_local.py`: packaged, translated by the SAM translator, created as
//! a CloudFormation stack, its SNS subscriptions made from the template's own properties),
//! then driven end to end through the resources the stack created: an event of every type
//! published to the stack's topics (the events topic, and the FIFO payments topic), each
//! consumer's queue polled as its event source mapping says (batch size,
//! partial batch responses), on the stack's table, dead-lettering to the queue its function's
//! environment names. The test creates no resource of its own, so a template mistake (a wrong
//! filter policy, a missing redrive, a queue without its dead-letter queue, an event source
//! without partial batch responses) fails it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use shop::MemoryServices;
use shop_events::{OrderCancelled, OrderPlaced, PaymentCaptured, StockReserved};
use tidings::codegen::{accepted_types, handlers_of_crate};
use tidings::dead_letter::SqsDeadLetterQueue;
use tidings::local::QueuePoller;
use tidings::{
    BatchResult, Destination, DynamoDbStore, Envelope, Event, Outcome, Publisher, RecordResult,
};

/// The consumers subscribed to order events on the events topic, which the poison message
/// (typed as an order) reaches; payments reads only the FIFO payments topic.
const ORDER_CONSUMERS: [&str; 3] = ["Analytics", "Email", "Inventory"];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn endpoint() -> String {
    match std::env::var("TIDINGS_AWS_ENDPOINT") {
        Ok(endpoint) if !endpoint.trim().is_empty() => endpoint,
        _ => panic!(
            "TIDINGS_AWS_ENDPOINT is not set: run scripts/test, which starts the local AWS \
             server (or `source scripts/lib.sh; ensure_dev_tools; start_aws_server` first)"
        ),
    }
}

/// Deploys the template and returns what the stack created.
fn deploy(endpoint: &str) -> Value {
    let stack = format!("shop-e2e-{}", std::process::id());
    let out = std::env::temp_dir().join(format!("{stack}.json"));
    // The project's venv holds boto3 and the SAM translator the script needs.
    let python = repo_root().join(".venv/bin/python");
    let output = Command::new(&python)
        .arg(repo_root().join("scripts/deploy_local.py"))
        .args(["--endpoint", endpoint, "--stack", &stack])
        .arg("--template")
        .arg(repo_root().join("template.yaml"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {}: {e}; scripts/test sets up the venv (or `source scripts/lib.sh; \
                 ensure_dev_tools`)",
                python.display()
            )
        });
    assert!(
        output.status.success(),
        "deploying template.yaml failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(&out).expect("the deployment is described");
    std::fs::remove_file(&out).ok();
    serde_json::from_str(&text).expect("the description is JSON")
}

/// A consumer as the stack wired it.
struct Wired {
    queue_url: String,
    dead_letter_url: String,
    batch_size: i32,
}

/// Reads a consumer's wiring from the stack, failing on any piece the template left out.
fn wiring(deployed: &Value, consumer: &str) -> Wired {
    let function = &deployed["functions"][format!("{consumer}Function")];
    assert!(function.is_object(), "the stack has no {consumer}Function");
    let sources = function["eventSources"].as_array().expect("event sources");
    assert_eq!(
        sources.len(),
        1,
        "{consumer}Function has one SQS event source"
    );
    let source = &sources[0];
    assert!(
        source["functionResponseTypes"]
            .as_array()
            .is_some_and(|types| types.iter().any(|t| t == "ReportBatchItemFailures")),
        "{consumer}Function's event source does not report batch item failures: one failed \
         record would fail its whole batch"
    );
    let queues = deployed["queues"].as_object().expect("queues");
    let queue = queues
        .values()
        .find(|q| q["arn"] == source["queueArn"])
        .unwrap_or_else(|| panic!("{consumer}Function reads a queue the stack did not create"));
    let redrive = &queue["redrivePolicy"];
    assert!(
        redrive.is_object(),
        "{consumer}'s queue has no redrive policy: a message that always fails would be \
         retried until it expires"
    );
    let dead_letter = queues
        .values()
        .find(|q| q["arn"] == redrive["deadLetterTargetArn"])
        .unwrap_or_else(|| panic!("{consumer}'s queue redrives to a queue the stack lacks"));
    let dead_letter_url = function["environment"]["TIDINGS_DEAD_LETTER_QUEUE_URL"]
        .as_str()
        .unwrap_or_else(|| panic!("{consumer}Function names no dead-letter queue"));
    assert_eq!(
        dead_letter_url, dead_letter["url"],
        "{consumer}Function dead-letters to another queue than its queue's redrive target"
    );
    Wired {
        queue_url: queue["url"].as_str().expect("queue url").to_owned(),
        dead_letter_url: dead_letter_url.to_owned(),
        batch_size: source["batchSize"].as_i64().unwrap_or(10) as i32,
    }
}

/// Polls `wired`'s queue through the pipeline of the shop's handler `consumer` (the demo's
/// own, on the stack's table and dead-letter queue) until it is empty, as its event source
/// would; every record's result.
async fn drain(
    consumer: &str,
    wired: &Wired,
    sdk: &aws_config::SdkConfig,
    table: &str,
) -> Vec<RecordResult> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let shop = MemoryServices::demo();
    let pipeline = shop_demo::consumer::pipeline(
        &consumer.to_lowercase(),
        shop.services(),
        Arc::new(DynamoDbStore::new(
            aws_sdk_dynamodb::Client::new(sdk),
            table,
        )),
        Arc::new(SqsDeadLetterQueue::new(sdk, &wired.dead_letter_url)),
    )
    .unwrap_or_else(|| panic!("the shop has a consumer `{consumer}`"));
    let poller = QueuePoller::new(sqs, &wired.queue_url)
        .await
        .expect("the stack's queue answers")
        .with_batch_size(wired.batch_size);
    let mut outcomes = Vec::new();
    while let Some(batch) = pipeline
        .poll(&poller, Duration::from_millis(500))
        .await
        .expect("the batch runs")
    {
        let BatchResult { records } = batch;
        outcomes.extend(records);
    }
    outcomes
}

async fn messages_in(sdk: &aws_config::SdkConfig, url: &str) -> usize {
    let received = aws_sdk_sqs::Client::new(sdk)
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await
        .expect("receive from the dead-letter queue");
    received.messages().len()
}

#[tokio::test(flavor = "current_thread")]
async fn the_deployed_template_delivers_each_event_to_its_consumers_and_dead_letters_poison() {
    let endpoint = endpoint();
    let deployed = deploy(&endpoint);
    let sdk = shop_demo::sdk_config(&endpoint)
        .await
        .expect("local SDK config");
    let wired: BTreeMap<&str, Wired> = ORDER_CONSUMERS
        .iter()
        .chain(["Payments"].iter())
        .map(|consumer| (*consumer, wiring(&deployed, consumer)))
        .collect();
    let topic = deployed["topics"]["EventsTopic"]
        .as_str()
        .expect("the stack has the events topic");
    let table = deployed["tables"]["IdempotencyTable"]
        .as_str()
        .expect("the stack has the idempotency table");

    // One event of every type the shop publishes, each on the topic its producer uses
    // (payment captures on the FIFO topic, grouped by order), and a poison message.
    let payments_topic = deployed["topics"]["PaymentsTopic"]
        .as_str()
        .expect("the stack has the payments topic");
    let publisher = Publisher::new(&sdk, "shop/e2e");
    // The examples share an order as their subject: each comes later in its sequence, as
    // they would in the order's life, so latest-wins handlers take every one.
    publish_example::<OrderPlaced>(&publisher, topic, 1).await;
    publish_example::<StockReserved>(&publisher, topic, 2).await;
    publish_example::<PaymentCaptured>(&publisher, payments_topic, 3).await;
    publish_example::<OrderCancelled>(&publisher, topic, 4).await;
    let published = [
        OrderPlaced::TYPE,
        OrderCancelled::TYPE,
        StockReserved::TYPE,
        PaymentCaptured::TYPE,
    ];
    aws_sdk_sns::Client::new(&sdk)
        .publish()
        .topic_arn(topic)
        .message("{ this is no envelope")
        .message_attributes(
            "type",
            aws_sdk_sns::types::MessageAttributeValue::builder()
                .data_type("String")
                .string_value("shop.order.placed")
                .build()
                .expect("attribute"),
        )
        .send()
        .await
        .expect("publish the poison message");

    let mut results = BTreeMap::new();
    for (consumer, wired) in &wired {
        results.insert(*consumer, drain(consumer, wired, &sdk, table).await);
    }

    for (consumer, got) in &results {
        // What the subscriptions delivered must be exactly what the handler accepts of what
        // was published, once each: a filter policy that lets a type through or holds one
        // back shows here.
        let handler = consumer.to_lowercase();
        let accepted = handlers_of_crate("shop")
            .into_iter()
            .find(|h| h.name == handler)
            .map(accepted_types)
            .unwrap_or_else(|| panic!("the shop has a handler `{handler}`"));
        let expected: Vec<&str> = published
            .iter()
            .copied()
            .filter(|t| accepted.contains(t))
            .collect();
        let mut delivered: Vec<&str> = got.iter().filter_map(|r| r.event_type.as_deref()).collect();
        delivered.sort_unstable();
        let mut expected_sorted = expected.clone();
        expected_sorted.sort_unstable();
        assert_eq!(
            delivered, expected_sorted,
            "{consumer} should receive exactly the published types its handler accepts; \
             got {got:?}"
        );
        // Each is handled: processed, or stale where a later event of its order came in the
        // same batch to a latest-wins handler.
        for record in got.iter().filter(|r| r.event_type.is_some()) {
            assert!(
                matches!(record.outcome, Outcome::Processed | Outcome::Stale { .. }),
                "{consumer} did not handle {:?}: {:?}",
                record.event_type,
                record.outcome
            );
        }
        let poisoned = ORDER_CONSUMERS.contains(consumer);
        let dead_lettered = got
            .iter()
            .filter(|r| {
                matches!(
                    r.outcome,
                    Outcome::Rejected {
                        dead_lettered: true,
                        ..
                    }
                )
            })
            .count();
        assert_eq!(
            (dead_lettered, got.len()),
            (
                usize::from(poisoned),
                expected.len() + usize::from(poisoned)
            ),
            "{consumer} should dead-letter the poison message if subscribed to order events, \
             and nothing else; got {got:?}"
        );
        assert_eq!(
            messages_in(&sdk, &wired[*consumer].dead_letter_url).await,
            usize::from(poisoned),
            "{consumer}'s dead-letter queue holds the poison message, if it reads order events"
        );
    }
}

/// Publishes the first schema example of `T` to `topic` with `sequence`, as its producer
/// would.
async fn publish_example<T: Event + Serialize + DeserializeOwned>(
    publisher: &Publisher,
    topic: &str,
    sequence: u64,
) {
    let example = tidings::events::schema::data_schema::<T>()["examples"][0].clone();
    let data: T = serde_json::from_value(example)
        .unwrap_or_else(|e| panic!("the example of {} decodes: {e}", T::TYPE));
    publisher
        .publish_envelope(
            &Destination::topic(topic),
            Envelope::new("shop/e2e", data).with_sequence(sequence),
        )
        .await
        .unwrap_or_else(|e| panic!("publish {} to {topic}: {e}", T::TYPE));
}
