//! Cold start: from process spawn to the first `GET /runtime/invocation/next`, for the
//! handler binary `#[tidings::event_handler]` generates against a bare `lambda_runtime`
//! binary, both built in the bench profile.
//!
//! Each spawn gets its own Runtime API on loopback, which timestamps the poll as soon as its
//! request head is read. The binaries are spawned alternately, which one first changing each
//! round, so that a change in the machine's load reaches both; one spawn of each before the
//! measured ones warms the page cache.

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

/// Spawns `binary` against a fresh Runtime API and returns the time to its first poll.
fn time_to_first_poll(binary: &str) -> Duration {
    let api = RuntimeApi::start().expect("the Runtime API starts");
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", api.runtime_api())
        .env("AWS_LAMBDA_FUNCTION_NAME", "cold-start")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
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
    let binaries = [
        ("bare lambda_runtime", env!("CARGO_BIN_EXE_bare_lambda")),
        ("tidings echo_handler", env!("CARGO_BIN_EXE_echo_handler")),
    ];
    for (_, binary) in binaries {
        time_to_first_poll(binary);
    }
    let mut times = [Vec::with_capacity(SPAWNS), Vec::with_capacity(SPAWNS)];
    for round in 0..SPAWNS {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for side in order {
            times[side].push(time_to_first_poll(binaries[side].1));
        }
    }
    for side in &mut times {
        side.sort();
    }

    println!(
        "cold start: process spawn to first Runtime API poll, {SPAWNS} interleaved spawns each"
    );
    for ((name, binary), side) in binaries.iter().zip(&times) {
        let size = std::fs::metadata(binary).map_or(0, |m| m.len());
        println!(
            "  {name:<22} median {}  p90 {}  min {}  ({:.1} MB binary)",
            millis(percentile(side, 0.5)),
            millis(percentile(side, 0.9)),
            millis(side[0]),
            size as f64 / 1e6
        );
    }
    let bare = percentile(&times[0], 0.5);
    let tidings = percentile(&times[1], 0.5);
    let difference = tidings.as_secs_f64() - bare.as_secs_f64();
    println!(
        "  difference of medians (tidings - bare): {:+.2} ms, ratio {:.2}x (goal: within {} ms) -> {}",
        difference * 1e3,
        tidings.as_secs_f64() / bare.as_secs_f64(),
        GOAL.as_millis(),
        if difference <= GOAL.as_secs_f64() {
            "met"
        } else {
            "NOT met"
        }
    );
}
