//! The AWS SDK configuration shared by the store, the dead-letter queue and the publisher.

use std::time::Duration;

use aws_config::environment::region::EnvironmentVariableRegionProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

/// The default timeout of one AWS call: a dependency that does not answer must not hold a
/// batch until the Lambda deadline. `TIDINGS_AWS_TIMEOUT_MS` overrides it.
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(3);

/// The SDK configuration from the environment, as Lambda provides it (region, credentials;
/// `AWS_ENDPOINT_URL` points every client at a local AWS-API server).
///
/// Loading reads the environment only: the region from `AWS_REGION`, credentials on the
/// first call, so a cold start makes no network call here.
pub async fn sdk_config() -> SdkConfig {
    let timeout = std::env::var("TIDINGS_AWS_TIMEOUT_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(DEFAULT_OPERATION_TIMEOUT, Duration::from_millis);
    // HTTPS through rustls on ring (see the `dynamodb` feature). The trusted roots are
    // loaded when a client first needs them, not here.
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https)
        // The region comes from the environment only (Lambda always sets AWS_REGION): the
        // default chain would fall back to the instance metadata service, a network call.
        .region(EnvironmentVariableRegionProvider::new())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(timeout)
                .operation_timeout(timeout * 2)
                .build(),
        )
        .load()
        .await
}
