//! Runs a built Lambda function (`bootstrap`, as `sam build` leaves it) against a Lambda
//! Runtime API on loopback and sends it each fixture its handler's `outcomes.json` lists,
//! checking the answer: no failed record for a fixture that must be processed, the record's
//! message id for one that must be rejected (no dead-letter queue is configured here).
//!
//!     check_bootstrap BOOTSTRAP FIXTURES_DIR
//!
//! Exits 0 when every fixture got the answer it promises, 1 otherwise; `scripts/sam-build`
//! runs it on every function it built.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use tidings_tests::runtime_api::{Answer, RuntimeApi};

/// Only a guard against a hang, never a measure of speed.
const PATIENCE: Duration = Duration::from_secs(60);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [bootstrap, fixtures] = args.as_slice() else {
        eprintln!("usage: check_bootstrap BOOTSTRAP FIXTURES_DIR");
        return ExitCode::from(2);
    };
    match check(Path::new(bootstrap), Path::new(fixtures)) {
        Ok(count) => {
            println!("{bootstrap}: {count} fixtures answered as promised");
            ExitCode::SUCCESS
        }
        Err(problem) => {
            eprintln!("{bootstrap}: {problem}");
            ExitCode::from(1)
        }
    }
}

fn check(bootstrap: &Path, fixtures: &Path) -> Result<usize, String> {
    let outcomes: BTreeMap<String, String> = serde_json::from_str(
        &std::fs::read_to_string(fixtures.join("outcomes.json"))
            .map_err(|e| format!("cannot read {}/outcomes.json: {e}", fixtures.display()))?,
    )
    .map_err(|e| format!("outcomes.json is not a map of fixtures to outcomes: {e}"))?;
    let api = RuntimeApi::start().map_err(|e| format!("cannot start the Runtime API: {e}"))?;
    let mut function = Command::new(bootstrap)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", api.runtime_api())
        .env("AWS_LAMBDA_FUNCTION_NAME", "sam-build-check")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "eu-west-1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start it: {e}"))?;
    let result = invoke_all(&api, fixtures, &outcomes);
    let _ = function.kill();
    let _ = function.wait();
    result.map(|()| outcomes.len())
}

fn invoke_all(
    api: &RuntimeApi,
    fixtures: &Path,
    outcomes: &BTreeMap<String, String>,
) -> Result<(), String> {
    for (file, expected) in outcomes {
        let text = std::fs::read_to_string(fixtures.join(file))
            .map_err(|e| format!("cannot read fixture {file}: {e}"))?;
        let payload: Value =
            serde_json::from_str(&text).map_err(|e| format!("{file} is not JSON: {e}"))?;
        let failures = if expected == "processed" {
            json!([])
        } else {
            json!([{"itemIdentifier": payload["Records"][0]["messageId"]}])
        };
        let request = api.invoke(text);
        match api.answer(&request, PATIENCE) {
            Some(Answer::Response(answer)) if answer == json!({"batchItemFailures": failures}) => {}
            other => {
                return Err(format!(
                    "{file} should end {expected}, but the function answered {other:?}"
                ));
            }
        }
    }
    Ok(())
}
