//! What the generated `main` does around the pipeline: the configuration it reads from the
//! environment, and the answer it gives the Lambda runtime for each invocation (response,
//! error, metrics line).

mod support;

use std::collections::HashMap;
use std::time::Duration;

use tidings::lambda::{AwsSettings, Config, StartError, StoreKind, TlsRoots};
use tidings::testing::Batch;
use tidings::{Context, Envelope, EventHandler, HandlerError, InvocationError, Pipeline, Response};

use support::{Step, TestEvent, item, ok_item, record_items, unique};

/// A handler that only SQS may invoke.
#[tidings::event_handler(trigger = "sqs", main = false)]
async fn sqs_only(_event: Envelope<TestEvent>, _ctx: &Context) -> Result<(), HandlerError> {
    Ok(())
}

/// Answers `batch` and returns the response with the metrics as the generated `main` writes
/// them.
async fn answer<H: EventHandler>(
    pipeline: &Pipeline<H>,
    batch: &Batch,
) -> (Result<Response, InvocationError>, String) {
    let answer = tidings::testing::answer(pipeline, batch).await;
    let mut metrics = Vec::new();
    answer
        .write_metrics(&mut metrics)
        .expect("a Vec takes the metrics");
    (
        answer.response,
        String::from_utf8(metrics).expect("metrics are UTF-8"),
    )
}

/// The one EMF line of `metrics`, parsed.
fn metrics_line(metrics: &str) -> serde_json::Value {
    let line = metrics
        .strip_suffix('\n')
        .expect("the metrics line ends with a line break");
    assert!(!line.contains('\n'), "exactly one line: {metrics}");
    serde_json::from_str(line).expect("the metrics line is JSON")
}

#[tokio::test]
async fn an_sqs_invocation_answers_its_failed_records_and_writes_one_metrics_line() {
    let pipeline = support::pipeline(record_items)
        .0
        .with_metrics_namespace("shop");
    let subject = unique("answer");
    let batch = Batch::sqs().event(&ok_item(&subject, 1)).event(&item(
        &subject,
        2,
        vec![Step::Fail, Step::Succeed],
    ));
    let (response, metrics) = answer(&pipeline, &batch).await;

    let response = response.expect("an SQS batch is answered");
    assert_eq!(
        serde_json::to_value(&response).expect("the response serializes"),
        serde_json::json!({"batchItemFailures": [{"itemIdentifier": "msg-1"}]})
    );
    let line = metrics_line(&metrics);
    assert_eq!(line["Handler"], "record_items");
    assert_eq!(line["Records"], 2);
    assert_eq!(line["Processed"], 1);
    assert_eq!(line["Retried"], 1);
    assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], "shop");
}

#[tokio::test]
async fn an_sns_invocation_answers_null_or_an_error_that_makes_sns_retry() {
    let pipeline = support::pipeline(record_items).0;
    let subject = unique("answer-sns");

    let (response, metrics) = answer(&pipeline, &Batch::sns().event(&ok_item(&subject, 1))).await;
    let response = response.expect("a processed SNS record is answered");
    assert_eq!(response, Response::Sns);
    assert_eq!(
        serde_json::to_string(&response).expect("the response serializes"),
        "null"
    );
    assert_eq!(metrics_line(&metrics)["Processed"], 1);

    let failing = Batch::sns().event(&item(&subject, 2, vec![Step::Fail, Step::Succeed]));
    let (response, metrics) = answer(&pipeline, &failing).await;
    let error = response.expect_err("a retried SNS record fails the invocation");
    assert_eq!(error.error_type(), "tidings.SnsRetry");
    let message = error.to_string();
    assert!(
        message.starts_with("record msg-0 must be retried: "),
        "{message}"
    );
    // The batch ran, so its metrics are written even though the invocation fails.
    let line = metrics_line(&metrics);
    assert_eq!(line["Retried"], 1);
    assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], "tidings");
}

#[tokio::test]
async fn an_invocation_from_the_wrong_source_is_refused_before_any_record_runs() {
    let pipeline = Pipeline::new(sqs_only);
    let batch = Batch::sns().event(&ok_item(&unique("wrong-source"), 1));
    let (response, metrics) = answer(&pipeline, &batch).await;
    let error = response.expect_err("SNS may not invoke an SQS handler");
    // A typed error: Lambda's errorType names what went wrong.
    let diagnostic = lambda_runtime::Diagnostic::from(error.clone());
    assert_eq!(diagnostic.error_type, "tidings.WrongTrigger");
    assert_eq!(
        error.to_string(),
        "`sqs_only` is declared with trigger = \"sqs\" but was invoked by SNS; fix the event \
         source or the handler's `trigger` option"
    );
    assert!(metrics.is_empty(), "no batch ran: {metrics}");
}

/// The configuration read from `variables` for `record_items`.
fn config(variables: &[(&str, &str)]) -> Result<Config, String> {
    let variables: HashMap<String, String> = variables
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    Config::from_lookup(record_items::OPTIONS, |name| variables.get(name).cloned())
        .map_err(|error| error.to_string())
}

#[test]
fn an_empty_environment_gives_the_embedded_defaults() {
    let config = config(&[]).expect("no variable is needed");
    assert_eq!(config.store, StoreKind::Memory);
    assert_eq!(config.dead_letter_queue_url, None);
    assert_eq!(config.function_name, "record_items");
    assert_eq!(config.metrics_namespace, "tidings");
    assert_eq!(config.options, record_items::OPTIONS);
    assert_eq!(
        config.aws,
        AwsSettings {
            attempt_timeout: Duration::from_secs(3),
            tls_roots: TlsRoots::Amazon,
        }
    );
}

#[test]
fn variables_override_the_options() {
    let config = config(&[
        ("TIDINGS_STORE", "dynamodb"),
        ("TIDINGS_TABLE", "idempotency"),
        (
            "TIDINGS_DEAD_LETTER_QUEUE_URL",
            "http://127.0.0.1:1/000000000000/dlq",
        ),
        ("TIDINGS_CONCURRENCY", "3"),
        ("TIDINGS_IDEMPOTENCY_TTL_SECS", "60"),
        ("TIDINGS_DEADLINE_MARGIN_MS", "250"),
        ("TIDINGS_MAX_BODY_BYTES", "2048"),
        ("TIDINGS_METRICS_NAMESPACE", "shop"),
        ("AWS_LAMBDA_FUNCTION_NAME", "shop-email"),
        ("TIDINGS_AWS_TIMEOUT_MS", "1500"),
        ("TIDINGS_TLS_ROOTS", "system"),
    ])
    .expect("every variable is valid");
    assert_eq!(config.aws.attempt_timeout, Duration::from_millis(1500));
    assert_eq!(config.aws.tls_roots, TlsRoots::System);
    assert_eq!(
        config.store,
        StoreKind::DynamoDb {
            table: "idempotency".to_owned()
        }
    );
    assert_eq!(
        config.dead_letter_queue_url.as_deref(),
        Some("http://127.0.0.1:1/000000000000/dlq")
    );
    assert_eq!(config.function_name, "shop-email");
    assert_eq!(config.metrics_namespace, "shop");
    assert_eq!(config.options.concurrency, 3);
    assert_eq!(config.options.idempotency_ttl, Duration::from_secs(60));
    assert_eq!(config.options.deadline_margin, Duration::from_millis(250));
    assert_eq!(config.options.max_body_bytes, 2048);
}

#[test]
fn an_invalid_variable_is_named_with_what_it_should_be() {
    let cases: [(&[(&str, &str)], &str); 8] = [
        (
            &[("TIDINGS_STORE", "redis")],
            "environment variable TIDINGS_STORE=\"redis\" is invalid: `memory` or `dynamodb`",
        ),
        (
            &[("TIDINGS_STORE", "dynamodb")],
            "environment variable TIDINGS_TABLE=\"\" is invalid: the name of the DynamoDB \
             table, required with TIDINGS_STORE=dynamodb",
        ),
        (
            &[("TIDINGS_CONCURRENCY", "0")],
            "environment variable TIDINGS_CONCURRENCY=\"0\" is invalid: a whole number from 1 up",
        ),
        (
            &[("TIDINGS_IDEMPOTENCY_TTL_SECS", "1h")],
            "environment variable TIDINGS_IDEMPOTENCY_TTL_SECS=\"1h\" is invalid: seconds, a \
             whole number from 1 up",
        ),
        (
            &[("TIDINGS_DEADLINE_MARGIN_MS", "-5")],
            "environment variable TIDINGS_DEADLINE_MARGIN_MS=\"-5\" is invalid: milliseconds, a \
             whole number from 1 up",
        ),
        (
            &[("TIDINGS_MAX_BODY_BYTES", "")],
            "environment variable TIDINGS_MAX_BODY_BYTES=\"\" is invalid: bytes, a whole number \
             from 1 up",
        ),
        // Read at start, though only the AWS clients use them: a typo must not fall back to
        // the defaults and show up as failed calls in the middle of a batch.
        (
            &[("TIDINGS_AWS_TIMEOUT_MS", "0")],
            "environment variable TIDINGS_AWS_TIMEOUT_MS=\"0\" is invalid: milliseconds, a \
             whole number from 1 up",
        ),
        (
            &[("TIDINGS_TLS_ROOTS", "System")],
            "environment variable TIDINGS_TLS_ROOTS=\"System\" is invalid: `amazon` (the roots \
             AWS endpoints chain to) or `system` (the system's certificate files)",
        ),
    ];
    for (variables, expected) in cases {
        assert_eq!(config(variables).expect_err(expected), expected);
    }
}

#[test]
fn a_start_error_prints_its_message_where_main_prints_it() {
    // A `main` returning the error prints it with `{:?}`: that must be the message, which says
    // what to do, not the variant's fields.
    let error: tidings::lambda::Error = Box::new(StartError::FeatureMissing {
        variable: "TIDINGS_STORE=dynamodb",
        feature: "dynamodb",
    });
    assert_eq!(
        format!("{error:?}"),
        "TIDINGS_STORE=dynamodb needs tidings built with the `dynamodb` feature: add it to \
         tidings' features in Cargo.toml"
    );
}
