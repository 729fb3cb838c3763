//! The HTTPS client tidings configures for the AWS SDK trusts the roots compiled into the
//! binary (or, with `TIDINGS_TLS_ROOTS=system`, the system's): building its TLS connector
//! parses every one of them (a root that did not parse would panic there), so a call to an
//! HTTPS endpoint gets as far as connecting.

use std::time::Duration;

use aws_sdk_dynamodb::config::Credentials;
use tidings::aws::{AwsSettings, TlsRoots};

#[tokio::test(flavor = "current_thread")]
async fn the_compiled_in_roots_parse_and_a_call_reaches_the_network() {
    reaches_the_network(TlsRoots::Amazon).await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_system_roots_parse_and_a_call_reaches_the_network() {
    reaches_the_network(TlsRoots::System).await;
}

async fn reaches_the_network(tls_roots: TlsRoots) {
    let settings = AwsSettings {
        tls_roots,
        ..AwsSettings::default()
    };
    let sdk = tidings::aws::sdk_config_with(&settings).await;
    let config = aws_sdk_dynamodb::config::Builder::from(&sdk)
        // Nothing listens on port 1 of loopback: the call fails to connect, after the
        // connector (and its trust store) was built.
        .endpoint_url("https://127.0.0.1:1")
        .region(aws_sdk_dynamodb::config::Region::new("eu-west-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    let called = tokio::time::timeout(Duration::from_secs(20), client.list_tables().send())
        .await
        .expect("the call ends");
    let error = called.expect_err("nothing listens on port 1");
    let text = format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&error));
    assert!(
        text.contains("dispatch failure") || text.contains("connect"),
        "with {tls_roots:?} roots, the call should fail to connect, not before: {text}"
    );
}
