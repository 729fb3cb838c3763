//! Shared set-up for the integration tests that talk to the local AWS-API server that
//! `scripts/test` starts (moto's server, on loopback).

// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sqs::config::Credentials;

/// The variable that holds the local server's endpoint, e.g. `http://127.0.0.1:43125`.
pub const ENDPOINT_VAR: &str = "TIDINGS_AWS_ENDPOINT";

/// The region used when `AWS_REGION` is not set; scripts/test sets the same.
pub const DEFAULT_REGION: &str = "eu-west-1";

/// The endpoint of the local AWS-API server.
///
/// Panics when it is not set, saying how to get one, and when it is not a loopback http
/// address, so that no test can reach a real AWS account by accident.
pub fn endpoint() -> String {
    let endpoint = match std::env::var(ENDPOINT_VAR) {
        Ok(endpoint) if !endpoint.trim().is_empty() => endpoint,
        _ => panic!(
            "{ENDPOINT_VAR} is not set: run scripts/test, which starts the local AWS server \
             (or `source scripts/lib.sh; ensure_venv; start_aws_server` in this shell first)"
        ),
    };
    let host = endpoint
        .strip_prefix("http://")
        .and_then(|rest| rest.split([':', '/']).next())
        .unwrap_or_default();
    assert!(
        matches!(host, "127.0.0.1" | "localhost" | "[::1]"),
        "{ENDPOINT_VAR} is `{endpoint}`: the tests only talk to a local server on loopback over http"
    );
    endpoint
}

/// An SDK config for the local server: its endpoint, the region and credentials from the
/// environment (dummy ones when unset; the local server accepts any), and a plain-http
/// client, so that nothing is looked up beyond the local server.
pub async fn sdk_config() -> SdkConfig {
    let endpoint = endpoint();
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
        // default timeouts. A few retries ride out the local server's occasional 500 when
        // concurrent DynamoDB transactions race inside it.
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
