//! Runs a built Lambda function (`bootstrap`, as `sam build` leaves it) against a Lambda
//! Runtime API on loopback. First it starts it with a deployment-like environment (the
//! DynamoDB store, a dead-letter queue, as the template sets them), which must reach its first
//! poll: a binary built without the features those need stops at start. Then it starts it on the embedded
//! defaults and sends it each fixture its handler's `outcomes.json` lists, one invocation
//! each, checking that it ends as promised by three things the function says:
//!
//! - its answer: no failed record for an outcome that acknowledges the record (`processed`,
//!   `duplicate`, `stale`, `ignored`), the record's message id for `retry` and `rejected` (no
//!   dead-letter queue is configured here, so a rejected record is reported);
//! - its EMF metrics line for the batch: one record, counted under that outcome;
//! - for `rejected (CODE)` and `retry (CODE)`, its JSON log line for the record, with that
//!   reason code; a retry and a rejection give the same answer, and the reason tells apart two
//!   rejections.
//!
//!     check_bootstrap BOOTSTRAP FIXTURES_DIR
//!
//! Exits 0 when every fixture ended as promised, 1 otherwise; `scripts/test` and
//! `scripts/sam-build` run it on each consumer's bootstrap after `sam build`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

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
            println!("{bootstrap}: {count} fixtures ended as promised");
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
    starts_as_deployed(bootstrap)?;
    let api = RuntimeApi::start().map_err(|e| format!("cannot start the Runtime API: {e}"))?;
    let mut function = in_lambda(bootstrap, &api)
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start it: {e}"))?;
    let lines = {
        let stdout = function.stdout.take().expect("stdout is piped");
        let (send, receive) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    return;
                }
            }
        });
        receive
    };
    let result = invoke_all(&api, fixtures, &outcomes, &lines);
    let _ = function.kill();
    let _ = function.wait();
    result.map(|()| outcomes.len())
}

/// A command that runs `bootstrap` as Lambda would against `api`, in a region.
fn in_lambda(bootstrap: &Path, api: &RuntimeApi) -> Command {
    let mut command = api.command(bootstrap, "sam-build-check");
    command.env("AWS_REGION", "eu-west-1");
    command
}

/// Starts `bootstrap` with the variables a deployment sets, its AWS endpoint a closed
/// loopback port (init makes no AWS call), and waits for its first poll.
fn starts_as_deployed(bootstrap: &Path) -> Result<(), String> {
    let api = RuntimeApi::start().map_err(|e| format!("cannot start the Runtime API: {e}"))?;
    let closed = "http://127.0.0.1:9";
    let mut function = in_lambda(bootstrap, &api)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_ENDPOINT_URL", closed)
        .env("TIDINGS_STORE", "dynamodb")
        .env("TIDINGS_TABLE", "sam-build-check")
        .env(
            "TIDINGS_DEAD_LETTER_QUEUE_URL",
            format!("{closed}/000000000000/sam-build-check-dlq"),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start it: {e}"))?;
    // Poll for the first request in short steps, so that a function that stops at start
    // (the case this is for) is seen at once rather than after the whole patience.
    let deadline = Instant::now() + PATIENCE;
    let polled = loop {
        if api.first_poll(Duration::from_millis(50)).is_some() {
            break true;
        }
        if Instant::now() > deadline || matches!(function.try_wait(), Ok(Some(_))) {
            break false;
        }
    };
    let _ = function.kill();
    let output = function
        .wait_with_output()
        .map_err(|e| format!("cannot wait for it: {e}"))?;
    if polled {
        return Ok(());
    }
    Err(format!(
        "with a deployment's environment (TIDINGS_STORE=dynamodb, a dead-letter queue) it \
         stopped before its first poll; init errors: {:?}; stderr:\n{}",
        api.init_errors(),
        String::from_utf8_lossy(&output.stderr)
    ))
}

fn invoke_all(
    api: &RuntimeApi,
    fixtures: &Path,
    outcomes: &BTreeMap<String, String>,
    lines: &Receiver<String>,
) -> Result<(), String> {
    for (file, expected) in outcomes {
        let text = std::fs::read_to_string(fixtures.join(file))
            .map_err(|e| format!("cannot read fixture {file}: {e}"))?;
        let payload: Value =
            serde_json::from_str(&text).map_err(|e| format!("{file} is not JSON: {e}"))?;
        let Some(message_id) = payload["Records"][0]["messageId"].as_str() else {
            return Err(format!(
                "{file} is not an SQS batch with a message id; only SQS fixtures can be checked"
            ));
        };
        let promise = Promise::read(expected).map_err(|e| format!("{file}: {e}"))?;
        let failures = if promise.acknowledged() {
            json!([])
        } else {
            json!([{ "itemIdentifier": message_id }])
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
        let (logs, metrics) = batch_output(lines)?;
        if metrics["Records"] != 1 || metrics[promise.metric()] != 1 {
            return Err(format!(
                "{file} should end {expected}, but the batch's metrics say {metrics}"
            ));
        }
        if let Some(code) = promise.code
            && !logs.iter().any(|log| names_record(log, message_id, code))
        {
            return Err(format!(
                "{file} should end {expected}, but no log line gives message {message_id} the \
                 reason code `{code}`; the batch logged:\n{}",
                logs.iter()
                    .map(Value::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
        }
    }
    Ok(())
}

/// An outcome as `outcomes.json` words it: `processed`, `rejected (envelope)`, ...
struct Promise<'a> {
    outcome: &'a str,
    code: Option<&'a str>,
}

impl<'a> Promise<'a> {
    fn read(word: &'a str) -> Result<Self, String> {
        let (outcome, code) = match word.split_once(" (") {
            Some((outcome, code)) => match code.strip_suffix(')') {
                Some(code) => (outcome, Some(code)),
                None => return Err(format!("outcome `{word}` misses its closing `)`")),
            },
            None => (word, None),
        };
        let known = [
            "processed",
            "duplicate",
            "stale",
            "ignored",
            "retry",
            "rejected",
        ];
        if !known.contains(&outcome) {
            return Err(format!(
                "unknown outcome `{word}`; expected one of {known:?}"
            ));
        }
        Ok(Self { outcome, code })
    }

    /// Whether the function acknowledges the record (an empty list of failures).
    fn acknowledged(&self) -> bool {
        !matches!(self.outcome, "retry" | "rejected")
    }

    /// The field of the EMF line that counts this outcome.
    fn metric(&self) -> &'static str {
        match self.outcome {
            "processed" => "Processed",
            "duplicate" => "Duplicates",
            "stale" => "Stale",
            "ignored" => "Ignored",
            "retry" => "Retried",
            _ => "Rejected",
        }
    }
}

/// The JSON lines the function wrote for one batch: its log lines, then its EMF line, which
/// ends the batch (it is written before the answer is sent).
fn batch_output(lines: &Receiver<String>) -> Result<(Vec<Value>, Value), String> {
    let deadline = Instant::now() + PATIENCE;
    let mut logs = Vec::new();
    loop {
        let wait = deadline.saturating_duration_since(Instant::now());
        let line = match lines.recv_timeout(wait) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => {
                return Err("the function wrote no EMF metrics line for the batch".to_owned());
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err("the function closed its output before the batch's metrics".into());
            }
        };
        let Ok(value) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if value.get("_aws").is_some() {
            return Ok((logs, value));
        }
        logs.push(value);
    }
}

/// Whether `log`, anywhere in its fields, names the record `message_id` with `code`.
fn names_record(log: &Value, message_id: &str, code: &str) -> bool {
    match log {
        Value::Object(fields) => {
            (fields.get("message_id").and_then(Value::as_str) == Some(message_id)
                && fields.get("code").and_then(Value::as_str) == Some(code))
                || fields.values().any(|v| names_record(v, message_id, code))
        }
        Value::Array(items) => items.iter().any(|v| names_record(v, message_id, code)),
        _ => false,
    }
}
