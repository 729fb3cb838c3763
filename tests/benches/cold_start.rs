//! Cold start: from process spawn to the first `GET /runtime/invocation/next`, for three
//! binaries built in the bench profile:
//!
//! - `bare_lambda`: a bare `lambda_runtime` handler, the baseline;
//! - `echo_handler`: the handler binary `#[tidings::event_handler]` generates, memory store;
//! - `aws_handler`: a tidings handler with the DynamoDB store, an SQS dead-letter queue and an
//!   SNS publisher configured from the environment (`tests/no_network_at_init.rs` checks that
//!   none of them calls out during init, so their endpoint here is a closed loopback port).
//!
//! Each spawn gets its own Runtime API on loopback, which timestamps the poll as soon as its
//! request head is read. The binaries are spawned in turn, the order rotating each round, so
//! that a change in the machine's load reaches all of them; one spawn of each before the
//! measured ones warms the page cache.
//!
//! With the package's default `aws` feature, cargo builds every binary of the package against
//! tidings with its AWS features, so `echo_handler` then links the SDK it never calls; run
//! with `--no-default-features` for `echo_handler` as the plain crate builds it (the
//! `aws_handler` row is left out then).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tidings_tests::runtime_api::RuntimeApi;

/// Measured spawns of each binary.
const SPAWNS: usize = 30;
/// The goal: tidings starts within this much of the bare binary (difference of medians).
const GOAL: Duration = Duration::from_millis(5);
/// How long a binary may take to poll before the benchmark gives up on it.
const PATIENCE: Duration = Duration::from_secs(30);

/// Kills and reaps the process when dropped, so no binary outlives its measurement.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One binary under test and the environment it needs beyond what Lambda sets.
struct Contestant {
    name: &'static str,
    binary: &'static str,
    env: Vec<(&'static str, String)>,
}

/// The contestants, the baseline first and plain tidings second.
fn contestants() -> Vec<Contestant> {
    #[cfg_attr(not(feature = "aws"), allow(unused_mut))]
    let mut contestants = vec![
        Contestant {
            name: "bare lambda_runtime",
            binary: env!("CARGO_BIN_EXE_bare_lambda"),
            env: Vec::new(),
        },
        Contestant {
            name: "tidings echo_handler",
            binary: env!("CARGO_BIN_EXE_echo_handler"),
            env: Vec::new(),
        },
    ];
    #[cfg(feature = "aws")]
    contestants.push(Contestant {
        name: "tidings aws_handler",
        binary: env!("CARGO_BIN_EXE_aws_handler"),
        env: aws_env(),
    });
    contestants
}

/// The environment of `aws_handler`: every client configured, all pointing at a loopback
/// port nothing listens on, since init must not call them (a call would fail at once rather
/// than wait).
#[cfg(feature = "aws")]
fn aws_env() -> Vec<(&'static str, String)> {
    let closed_port = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("a loopback port")
        .port();
    let endpoint = format!("http://127.0.0.1:{closed_port}");
    vec![
        ("TIDINGS_STORE", "dynamodb".to_owned()),
        ("TIDINGS_TABLE", "tidings-cold-start".to_owned()),
        (
            "TIDINGS_DEAD_LETTER_QUEUE_URL",
            format!("{endpoint}/000000000000/tidings-cold-start-dlq"),
        ),
        (
            "ECHO_TOPIC_ARN",
            "arn:aws:sns:eu-west-1:000000000000:tidings-cold-start".to_owned(),
        ),
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_REGION", "eu-west-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ]
}

/// Spawns `contestant` against a fresh Runtime API and returns the time to its first poll.
fn time_to_first_poll(contestant: &Contestant) -> Duration {
    let binary = contestant.binary;
    let api = RuntimeApi::start().expect("the Runtime API starts");
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", api.runtime_api())
        .env("AWS_LAMBDA_FUNCTION_NAME", "cold-start")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .envs(contestant.env.iter().map(|(name, value)| (name, value)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let spawned_at = Instant::now();
    let _running = Running(command.spawn().expect("the binary starts"));
    let polled_at = api
        .first_poll(PATIENCE)
        .unwrap_or_else(|| panic!("{binary} did not poll within {PATIENCE:?}"));
    polled_at.duration_since(spawned_at)
}

/// The value at percentile `p` (nearest rank) of sorted `values`.
fn percentile(values: &[Duration], p: f64) -> Duration {
    let rank = (p * values.len() as f64).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1]
}

fn millis(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1e3)
}

/// The difference of two medians in seconds, and a line saying it with their ratio.
fn compare(name: &str, median: Duration, base_name: &str, base: Duration) -> (f64, String) {
    let difference = median.as_secs_f64() - base.as_secs_f64();
    let line = format!(
        "  {name} - {base_name}: {:+.2} ms, ratio {:.2}x",
        difference * 1e3,
        median.as_secs_f64() / base.as_secs_f64()
    );
    (difference, line)
}

fn main() {
    let contestants = contestants();
    for contestant in &contestants {
        time_to_first_poll(contestant);
    }
    let mut times: Vec<Vec<Duration>> = contestants
        .iter()
        .map(|_| Vec::with_capacity(SPAWNS))
        .collect();
    for round in 0..SPAWNS {
        // Each round starts with the next contestant, so none always follows the same one.
        for turn in 0..contestants.len() {
            let side = (round + turn) % contestants.len();
            times[side].push(time_to_first_poll(&contestants[side]));
        }
    }
    for side in &mut times {
        side.sort();
    }

    println!(
        "cold start: process spawn to first Runtime API poll, {SPAWNS} interleaved spawns each"
    );
    for (contestant, side) in contestants.iter().zip(&times) {
        let size = std::fs::metadata(contestant.binary).map_or(0, |m| m.len());
        println!(
            "  {:<22} median {}  p90 {}  min {}  ({:.1} MB binary)",
            contestant.name,
            millis(percentile(side, 0.5)),
            millis(percentile(side, 0.9)),
            millis(side[0]),
            size as f64 / 1e6
        );
    }
    let medians: Vec<Duration> = times.iter().map(|side| percentile(side, 0.5)).collect();
    println!("  difference of medians:");
    let (difference, line) = compare("echo_handler", medians[1], "bare", medians[0]);
    println!(
        "{line} (goal: within {} ms) -> {}",
        GOAL.as_millis(),
        if difference <= GOAL.as_secs_f64() {
            "met"
        } else {
            "NOT met"
        }
    );
    if let Some(&aws) = medians.get(2) {
        println!("{}", compare("aws_handler", aws, "bare", medians[0]).1);
        println!(
            "{}",
            compare("aws_handler", aws, "echo_handler", medians[1]).1
        );
    }
}
