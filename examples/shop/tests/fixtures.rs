//! Every committed fixture, run in-process through the handler it is for, ends with the
//! outcome its handler's `outcomes.json` says: each version of each accepted type processed
//! (older ones upcast), an unknown version and a malformed body rejected with their reason.
//! `cargo lambda invoke` sends the same files to the built functions (tests/cargo_lambda.rs).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::Value;
use shop::MemoryServices;
use tidings::codegen::expected_outcome;
use tidings::{EventHandler, Invocation, Outcome, Pipeline};

const CONSUMERS: &[&str] = &["analytics", "email", "inventory", "payments"];

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Runs every fixture of `outcomes`, one after the other, through one pipeline of
/// `handler` on one shop, as `cargo lambda invoke` does against one running function: each
/// has its own event id, subject and key, so none is a duplicate or stale, and each must
/// end as promised.
async fn check_in_sequence<H: EventHandler<State = shop::Services>>(
    consumer: &str,
    handler: H,
    dir: &Path,
    outcomes: &BTreeMap<String, String>,
) {
    let shop = MemoryServices::demo();
    let pipeline = Pipeline::with_state(handler, shop.services());
    for (file, expected) in outcomes {
        let payload: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(file)).expect("the fixture is readable"),
        )
        .expect("the fixture is JSON");
        let invocation: Invocation =
            serde_json::from_value(payload).expect("a fixture is an invocation Lambda sends");
        let event = tidings::lambda::event(
            invocation,
            "fixture",
            SystemTime::now() + Duration::from_secs(60),
        );
        let answer = pipeline.invoke(event).await;
        assert!(
            answer.response.is_ok(),
            "{consumer}/{file}: {:?}",
            answer.response
        );
        assert_eq!(answer.batch.records.len(), 1, "a fixture holds one record");
        let outcome: &Outcome = &answer.batch.records[0].outcome;
        assert_eq!(
            &expected_outcome(outcome),
            expected,
            "{consumer}/{file} ended {outcome:?}"
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn every_fixture_ends_with_the_outcome_it_promises() {
    for consumer in CONSUMERS {
        let dir = fixtures_dir().join(consumer);
        let outcomes: BTreeMap<String, String> = serde_json::from_str(
            &std::fs::read_to_string(dir.join("outcomes.json"))
                .unwrap_or_else(|e| panic!("examples/shop/fixtures/{consumer}/outcomes.json: {e}")),
        )
        .expect("outcomes.json maps fixture files to outcomes");
        let expected_kinds: Vec<&str> = outcomes.values().map(String::as_str).collect();
        for kind in [
            "processed",
            "rejected (unsupported-version)",
            "rejected (envelope)",
        ] {
            assert!(
                expected_kinds.contains(&kind),
                "{consumer} has no fixture that ends {kind}"
            );
        }
        match *consumer {
            "analytics" => {
                check_in_sequence(consumer, shop::analytics::analytics, &dir, &outcomes).await
            }
            "email" => check_in_sequence(consumer, shop::email::email, &dir, &outcomes).await,
            "inventory" => {
                check_in_sequence(consumer, shop::inventory::inventory, &dir, &outcomes).await
            }
            "payments" => {
                check_in_sequence(consumer, shop::payments::payments, &dir, &outcomes).await
            }
            other => unreachable!("no consumer {other}"),
        }
    }
}

/// A handler fed by SQS gets no fixture of an SNS invocation, which it would refuse.
#[test]
fn fixtures_match_the_deliveries_each_trigger_takes() {
    for consumer in CONSUMERS {
        for entry in std::fs::read_dir(fixtures_dir().join(consumer)).expect("fixtures") {
            let name = entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            assert!(
                !name.ends_with(".sns.json"),
                "{consumer} is triggered by SQS but has the SNS fixture {name}"
            );
        }
    }
}
