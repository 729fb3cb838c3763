//! Cold start: from process spawn to the first `GET /runtime/invocation/next`, for the
//! binaries below, built in the bench profile:
//!
//! - `bare_lambda`: a bare `lambda_runtime` handler, the baseline;
//! - `echo_handler`: the handler binary `#[tidings::event_handler]` generates, memory store;
//! - `shop_inventory`: the example shop's inventory function (its handler and `Services`),
//!   memory store and in-memory event sink, as it runs locally;
//! - `aws_handler`: a tidings handler with the DynamoDB store, an SQS dead-letter queue and an
//!   SNS publisher configured from the environment;
//! - `shop_inventory` again with the environment the template gives it: DynamoDB store, SQS
//!   dead-letter queue and the topic of its events (the shop builds that SNS publisher on
//!   first publish, so this row has the store's and the queue's clients, not the publisher).
//!
//! `tests/no_network_at_init.rs` checks that no AWS client calls out during init, so their
//! endpoint here is a closed loopback port.
//!
//! Each spawn gets its own Runtime API on loopback, which timestamps the poll as soon as its
//! request head is read. The binaries are spawned in turn, the order rotating each round, so
//! that a change in the machine's load reaches all of them; one spawn of each before the
//! measured ones warms the page cache.
//!
//! With the package's default `aws` feature, cargo builds every binary of the package against
//! tidings with its AWS features, so `echo_handler` then links the SDK it never calls; run
//! with `--no-default-features` for `echo_handler` and the shop as the plain crates build them
//! (the rows with AWS clients are left out then).

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use tidings_tests::runtime_api::RuntimeApi;

/// Measured spawns of each binary.
const SPAWNS: usize = 30;
/// The goal of a binary on the memory store: within this much of the bare binary
/// (difference of medians).
const MEMORY_GOAL: Duration = Duration::from_millis(1);
/// The goal of a binary with its AWS clients configured.
#[cfg(feature = "aws")]
const AWS_GOAL: Duration = Duration::from_millis(2);
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

/// One binary under test, the environment it needs beyond what Lambda sets, and how far
/// behind the baseline it may start (`None` for the baseline).
struct Contestant {
    name: &'static str,
    binary: &'static str,
    env: Vec<(&'static str, String)>,
    goal: Option<Duration>,
}

/// The contestants, the baseline first.
fn contestants() -> Vec<Contestant> {
    #[cfg_attr(not(feature = "aws"), allow(unused_mut))]
    let mut contestants = vec![
        Contestant {
            name: "bare lambda_runtime",
            binary: env!("CARGO_BIN_EXE_bare_lambda"),
            env: Vec::new(),
            goal: None,
        },
        Contestant {
            name: "echo_handler",
            binary: env!("CARGO_BIN_EXE_echo_handler"),
            env: Vec::new(),
            goal: Some(MEMORY_GOAL),
        },
        Contestant {
            name: "shop inventory, memory",
            binary: env!("CARGO_BIN_EXE_shop_inventory"),
            env: Vec::new(),
            goal: Some(MEMORY_GOAL),
        },
    ];
    #[cfg(feature = "aws")]
    {
        let mut aws_handler = aws_env();
        aws_handler.push((
            "ECHO_TOPIC_ARN",
            "arn:aws:sns:eu-west-1:000000000000:tidings-cold-start".to_owned(),
        ));
        contestants.push(Contestant {
            name: "aws_handler",
            binary: env!("CARGO_BIN_EXE_aws_handler"),
            env: aws_handler,
            goal: Some(AWS_GOAL),
        });
        let mut shop = aws_env();
        shop.push((
            shop::EVENTS_TOPIC_VAR,
            "arn:aws:sns:eu-west-1:000000000000:shop-events".to_owned(),
        ));
        contestants.push(Contestant {
            name: "shop inventory, AWS",
            binary: env!("CARGO_BIN_EXE_shop_inventory"),
            env: shop,
            goal: Some(AWS_GOAL),
        });
    }
    contestants
}

/// The environment of a binary with tidings' AWS clients configured (the DynamoDB store and
/// the SQS dead-letter queue), all pointing at a loopback port nothing listens on, since init
/// must not call them (a call would fail at once rather than wait).
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
    let mut command = api.command(binary, "cold-start");
    command
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
    let baseline = percentile(&times[0], 0.5);
    println!("  difference of medians, against {}:", contestants[0].name);
    for (contestant, side) in contestants.iter().zip(&times).skip(1) {
        let median = percentile(side, 0.5);
        let difference = median.as_secs_f64() - baseline.as_secs_f64();
        let verdict = contestant.goal.map_or(String::new(), |goal| {
            let met = difference <= goal.as_secs_f64();
            format!(
                " (goal: within {} ms) -> {}",
                goal.as_millis(),
                if met { "met" } else { "NOT met" }
            )
        });
        println!(
            "    {:<22} {:+.2} ms, ratio {:.2}x{verdict}",
            contestant.name,
            difference * 1e3,
            median.as_secs_f64() / baseline.as_secs_f64()
        );
    }
}
