//! Shared set-up for the integration tests that talk to the local AWS-API servers that
//! `scripts/test` starts on loopback: moto's server for SNS and SQS, and Amazon's DynamoDB
//! Local for DynamoDB (moto is not atomic under concurrent transactions, so a concurrency bug
//! in the DynamoDB store would pass against it).

// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sqs::config::Credentials;

/// The variable that holds the local SNS/SQS server's endpoint, e.g. `http://127.0.0.1:43125`.
pub const ENDPOINT_VAR: &str = "TIDINGS_AWS_ENDPOINT";

/// The variable that holds DynamoDB Local's endpoint.
pub const DYNAMODB_ENDPOINT_VAR: &str = "TIDINGS_DYNAMODB_ENDPOINT";

/// The region used when `AWS_REGION` is not set; scripts/test sets the same.
pub const DEFAULT_REGION: &str = "eu-west-1";

/// The endpoint of the local AWS-API server.
///
/// Panics when it is not set, saying how to get one, and when it is not a loopback http
/// address, so that no test can reach a real AWS account by accident.
pub fn endpoint() -> String {
    loopback_endpoint(
        ENDPOINT_VAR,
        "`source scripts/lib.sh; ensure_venv; start_aws_server`",
    )
}

/// The endpoint of DynamoDB Local, checked like [`endpoint`].
pub fn dynamodb_endpoint() -> String {
    loopback_endpoint(
        DYNAMODB_ENDPOINT_VAR,
        "`source scripts/lib.sh; ensure_dynamodb_local; start_dynamodb_local`",
    )
}

fn loopback_endpoint(var: &str, by_hand: &str) -> String {
    let endpoint = match std::env::var(var) {
        Ok(endpoint) if !endpoint.trim().is_empty() => endpoint,
        _ => panic!(
            "{var} is not set: run scripts/test, which starts the local AWS servers (or \
             {by_hand} in this shell first)"
        ),
    };
    let host = endpoint
        .strip_prefix("http://")
        .and_then(|rest| rest.split([':', '/']).next())
        .unwrap_or_default();
    assert!(
        matches!(host, "127.0.0.1" | "localhost" | "[::1]"),
        "{var} is `{endpoint}`: the tests only talk to a local server on loopback over http"
    );
    endpoint
}

/// An SDK config for the local server: its endpoint, the region and credentials from the
/// environment (dummy ones when unset; the local server accepts any), and a plain-http
/// client, so that nothing is looked up beyond the local server.
pub async fn sdk_config() -> SdkConfig {
    sdk_config_for(endpoint()).await
}

/// An SDK config for DynamoDB Local, like [`sdk_config`].
pub async fn dynamodb_config() -> SdkConfig {
    sdk_config_for(dynamodb_endpoint()).await
}

async fn sdk_config_for(endpoint: String) -> SdkConfig {
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| DEFAULT_REGION.to_owned());
    let key_id = std::env::var("AWS_ACCESS_KEY_ID").unwrap_or_else(|_| "testing".to_owned());
    let secret = std::env::var("AWS_SECRET_ACCESS_KEY").unwrap_or_else(|_| "testing".to_owned());
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(region))
        .credentials_provider(Credentials::new(
            key_id,
            secret,
            None,
            None,
            "tidings-tests",
        ))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        // A server that stopped answering fails the test in seconds, not after the SDK's
        // default timeouts. A few retries ride out a local server's occasional 500 under
        // load.
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_timeout(Duration::from_secs(20))
                .build(),
        )
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(4))
        .load()
        .await
}

/// A name no other test run against the same server has used, for queues, topics and
/// tables: `prefix`, the process id, a counter and the time.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis())
        .unwrap_or_default();
    format!(
        "{prefix}-{}-{}-{millis}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
