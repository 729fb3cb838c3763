//! The SDK configuration of the endpoint mode: every client pointed at one local AWS-API
//! server, and nothing else.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sqs::config::Credentials;

use super::super::DemoError;

/// The region used when `AWS_REGION` is not set.
pub const DEFAULT_REGION: &str = "eu-west-1";

/// Checks that `endpoint` is plain http on loopback: the demo creates topics, queues and a
/// table, which it must never do in a real account by a mistyped URL.
pub fn check_local(endpoint: &str) -> Result<(), DemoError> {
    let host = endpoint
        .strip_prefix("http://")
        .map(|rest| {
            if rest.starts_with("[::1]") {
                "[::1]"
            } else {
                rest.split([':', '/']).next().unwrap_or_default()
            }
        })
        .unwrap_or_default();
    if matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        Ok(())
    } else {
        Err(DemoError::Endpoint(format!(
            "`{endpoint}` is not a local server: the demo creates topics, queues and a table, \
             so it only talks to http://127.0.0.1, http://localhost or http://[::1] (start one \
             with `scripts/demo --aws-local`)"
        )))
    }
}

/// The SDK configuration for the local server at `endpoint`: its region and credentials from
/// the environment when set, dummy ones otherwise (a local server takes any), and short
/// timeouts, so a server that stopped answering fails the demo in seconds.
pub async fn sdk_config(endpoint: &str) -> Result<SdkConfig, DemoError> {
    check_local(endpoint)?;
    let var = |name: &str, default: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| default.to_owned())
    };
    Ok(aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        // Plain HTTP: the endpoint is a local server.
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .region(Region::new(var("AWS_REGION", DEFAULT_REGION)))
        .credentials_provider(Credentials::new(
            var("AWS_ACCESS_KEY_ID", "demo"),
            var("AWS_SECRET_ACCESS_KEY", "demo"),
            None,
            None,
            "shop-demo",
        ))
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_timeout(Duration::from_secs(20))
                .build(),
        )
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(4))
        .load()
        .await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_on_loopback_is_accepted() {
        for local in [
            "http://127.0.0.1:4566",
            "http://localhost:5000/",
            "http://[::1]:8000",
        ] {
            assert!(check_local(local).is_ok(), "{local}");
        }
        for remote in [
            "https://sqs.eu-west-1.amazonaws.com",
            "http://10.0.0.2:4566",
            "http://localhost.example.com",
            "127.0.0.1:4566",
        ] {
            assert!(check_local(remote).is_err(), "{remote}");
        }
    }
}
