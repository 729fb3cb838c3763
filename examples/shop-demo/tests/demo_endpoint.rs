//! The demo against the local AWS-API server that `scripts/test` starts: the same scenario
//! through real SNS, SQS and DynamoDB calls (`TIDINGS_AWS_ENDPOINT`).

mod demo_support;

use std::time::Duration;

use shop_demo::{Options, ProgressMode, run_endpoint};

#[tokio::test(flavor = "current_thread")]
async fn the_demo_on_the_local_aws_server_handles_each_event_once_and_dead_letters_the_poison() {
    let endpoint = match std::env::var("TIDINGS_AWS_ENDPOINT") {
        Ok(endpoint) if !endpoint.trim().is_empty() => endpoint,
        _ => panic!(
            "TIDINGS_AWS_ENDPOINT is not set: run scripts/test, which starts the local AWS \
             server (or `source scripts/lib.sh; ensure_venv; start_aws_server` in this shell \
             first)"
        ),
    };
    let options = Options {
        seed: 7,
        progress: ProgressMode::Off,
        pace: Duration::ZERO,
    };
    let shop = shop::MemoryServices::demo();
    let report = run_endpoint(&endpoint, &shop, &options)
        .await
        .expect("the demo runs to its end on the local server");
    assert!(
        report
            .mode
            .starts_with(&format!("local AWS-API server at {endpoint}")),
        "{report}"
    );
    demo_support::check_run(&report, &shop);
}
