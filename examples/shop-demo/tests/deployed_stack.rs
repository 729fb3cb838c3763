//! The shop's `template.yaml`, deployed on the local AWS-API server that `scripts/test`
//! starts (`scripts/deploy_local.py`: packaged, translated by the SAM translator, created as
//! a CloudFormation stack, its SNS subscriptions made from the template's own properties),
//! then driven end to end through the resources the stack created: events published to the
//! stack's topic, each consumer's queue polled as its event source mapping says (batch size,
//! partial batch responses), on the stack's table, dead-lettering to the queue its function's
//! environment names. The test creates no resource of its own, so a template mistake (a wrong
//! filter policy, a missing redrive, a queue without its dead-letter queue, an event source
//! without partial batch responses) fails it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use shop::MemoryServices;
use shop_events::OrderPlaced;
use tidings::dead_letter::SqsDeadLetterQueue;
use tidings::local::QueuePoller;
use tidings::{BatchResult, Destination, DynamoDbStore, Envelope, EventHandler, Outcome};
use tidings::{Pipeline, Publisher};

/// The consumers subscribed to the events topic, and the one that is not (payments reads
/// the FIFO payments topic).
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

/// Polls `wired`'s queue through `handler` until it is empty, as its event source would.
async fn drain<H: EventHandler<State = shop::Services>>(
    handler: H,
    wired: &Wired,
    sdk: &aws_config::SdkConfig,
    table: &str,
) -> Vec<Outcome> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let shop = MemoryServices::demo();
    let pipeline = Pipeline::with_state(handler, shop.services())
        .with_store(std::sync::Arc::new(DynamoDbStore::new(
            aws_sdk_dynamodb::Client::new(sdk),
            table,
        )))
        .with_dead_letter_queue(std::sync::Arc::new(SqsDeadLetterQueue::new(
            sdk,
            &wired.dead_letter_url,
        )));
    let poller = QueuePoller::new(sqs, &wired.queue_url)
        .await
        .expect("the stack's queue answers")
        .with_batch_size(wired.batch_size);
    let mut outcomes = Vec::new();
    while let Some(batch) = poller
        .poll_once(&pipeline, Duration::from_millis(500))
        .await
        .expect("the batch runs")
    {
        let BatchResult { records } = batch;
        outcomes.extend(records.into_iter().map(|r| r.outcome));
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

    // A placed order, as the orders API publishes it, and a poison message of the same type.
    let example = tidings::events::schema::data_schema::<OrderPlaced>()["examples"][0].clone();
    let order: OrderPlaced = serde_json::from_value(example).expect("the example is an order");
    let publisher = Publisher::new(&sdk, "shop/orders");
    publisher
        .publish_envelope(
            &Destination::topic(topic),
            Envelope::new("shop/orders", order).with_sequence(1),
        )
        .await
        .expect("publish to the stack's topic");
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

    let mut outcomes = BTreeMap::new();
    outcomes.insert(
        "Analytics",
        drain(shop::analytics::analytics, &wired["Analytics"], &sdk, table).await,
    );
    outcomes.insert(
        "Email",
        drain(shop::email::email, &wired["Email"], &sdk, table).await,
    );
    outcomes.insert(
        "Inventory",
        drain(shop::inventory::inventory, &wired["Inventory"], &sdk, table).await,
    );
    outcomes.insert(
        "Payments",
        drain(shop::payments::payments, &wired["Payments"], &sdk, table).await,
    );

    for consumer in ORDER_CONSUMERS {
        let got = &outcomes[consumer];
        let processed = got.iter().filter(|o| **o == Outcome::Processed).count();
        let dead_lettered = got
            .iter()
            .filter(|o| {
                matches!(
                    o,
                    Outcome::Rejected {
                        dead_lettered: true,
                        ..
                    }
                )
            })
            .count();
        assert_eq!(
            (processed, dead_lettered, got.len()),
            (1, 1, 2),
            "{consumer} should process the order and dead-letter the poison message, got {got:?}"
        );
        assert_eq!(
            messages_in(&sdk, &wired[consumer].dead_letter_url).await,
            1,
            "{consumer}'s dead-letter queue holds the poison message"
        );
    }
    assert!(
        outcomes["Payments"].is_empty(),
        "payments is not subscribed to order events, got {:?}",
        outcomes["Payments"]
    );
}
