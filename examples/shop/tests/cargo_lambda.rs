//! The local workflow, driven for real: `cargo lambda watch` serves the shop's consumers on a
//! loopback port and `cargo lambda invoke --data-file` sends them the committed fixtures,
//! exactly as a developer would; the answers are the partial batch responses tidings writes.
//!
//! cargo-lambda comes from the project venv (`scripts/test` installs the pinned version and
//! puts `.venv/bin` on PATH). Watch builds each binary with `cargo run` in the workspace, so
//! it is given this test's features: it then finds the binaries `cargo test` built, in the
//! same target directory and profile, instead of building the shop a second time.

use std::fs::File;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The consumers. Their fixtures are for the deliveries their SQS trigger takes: raw
/// envelopes, or SNS notifications when a subscription is not raw.
const CONSUMERS: &[&str] = &["analytics", "email", "inventory", "payments"];

/// How long one invocation may take: the first one of each function waits for `cargo run`.
const INVOKE_DEADLINE: Duration = Duration::from_secs(600);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Fails the test, saying how to get cargo-lambda, when it is not on PATH.
fn require_cargo_lambda() {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path).any(|dir| dir.join("cargo-lambda").is_file());
    assert!(
        found,
        "cargo-lambda is not on PATH. Run scripts/test, which installs the pinned cargo-lambda \
         into .venv and puts .venv/bin on PATH; once it is installed, this test alone runs \
         with `PATH=$PWD/.venv/bin:$PATH cargo test -p shop --test cargo_lambda`."
    );
}

/// The features this test was built with, passed on to watch so that its `cargo run` builds
/// the shop exactly as `cargo test` did (`aws` is the shop's only feature).
fn feature_args() -> Vec<&'static str> {
    if cfg!(feature = "aws") {
        vec!["--features", "aws"]
    } else {
        vec!["--no-default-features"]
    }
}

fn free_loopback_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A running `cargo lambda watch`, stopped with everything it started (cargo, the function
/// binaries) when dropped, however the test ends.
struct Watch {
    child: Child,
    port: u16,
    log: PathBuf,
    dir: tempfile::TempDir,
}

impl Watch {
    fn start() -> Self {
        use std::os::unix::process::CommandExt;

        let dir = tempfile::tempdir().expect("a temporary directory");
        let log = dir.path().join("watch.log");
        let port = free_loopback_port();
        let output = File::create(&log).expect("a log file");
        let mut command = Command::new(env!("CARGO"));
        command
            .args(["lambda", "watch", "--invoke-address", "127.0.0.1"])
            .args(["--invoke-port", &port.to_string()])
            // The work tree may change while the test runs; a reload would restart the
            // function between the two invocations and forget what it processed.
            .arg("--ignore-changes")
            .args(["--package", "shop"])
            .args(feature_args())
            .current_dir(repo_root())
            // The in-memory backends and store, whatever the calling shell points at.
            .env_remove("TIDINGS_STORE")
            .env_remove("TIDINGS_TABLE")
            .env_remove("TIDINGS_DEAD_LETTER_QUEUE_URL")
            .env_remove("SHOP_EVENTS_TOPIC_ARN")
            .stdin(Stdio::null())
            .stdout(output.try_clone().expect("a second handle on the log"))
            .stderr(output)
            // Its own process group, so that dropping the guard stops cargo and the
            // function binaries watch starts, not only watch itself.
            .process_group(0);
        let child = command.spawn().expect("cargo lambda watch starts");
        let mut watch = Self {
            child,
            port,
            log,
            dir,
        };
        watch.wait_until_listening(Duration::from_secs(60));
        watch
    }

    fn log(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = File::open(&self.log) {
            let _ = file.read_to_string(&mut text);
        }
        text
    }

    /// How many times watch has reported a function's process (`cargo run` or the binary)
    /// exiting.
    fn function_exits(&self) -> usize {
        self.log().matches("ERROR command exited").count()
    }

    fn wait_until_listening(&mut self, within: Duration) {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + within;
        loop {
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "cargo lambda watch exited ({status}) before listening on {address}:\n{}",
                    self.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "cargo lambda watch did not listen on {address} within {within:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `cargo lambda invoke <function> --data-file <payload>`: the function's JSON answer.
    fn invoke(&self, function: &str, payload: &Path) -> Value {
        let mut child = Command::new(env!("CARGO"))
            .args(["lambda", "invoke", "--invoke-address", "127.0.0.1"])
            .args(["--invoke-port", &self.port.to_string()])
            .arg("--data-file")
            .arg(payload)
            .args(["--output-format", "json", function])
            .current_dir(repo_root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cargo lambda invoke starts");
        let deadline = Instant::now() + INVOKE_DEADLINE;
        let exits_before = self.function_exits();
        let status = loop {
            if let Some(status) = child.try_wait().expect("waiting for cargo lambda invoke") {
                break status;
            }
            if self.function_exits() > exits_before {
                // Watch keeps the invocation waiting for a function that failed to build or
                // to start: say so now rather than at the deadline.
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the {function} function exited while cargo lambda invoke waited for it; \
                     watch log:\n{}",
                    self.log()
                );
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "cargo lambda invoke {function} got no answer within {INVOKE_DEADLINE:?}; \
                     watch log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let mut stdout = String::new();
        let mut stderr = String::new();
        child
            .stdout
            .take()
            .expect("piped stdout")
            .read_to_string(&mut stdout)
            .expect("readable stdout");
        child
            .stderr
            .take()
            .expect("piped stderr")
            .read_to_string(&mut stderr)
            .expect("readable stderr");
        assert!(
            status.success(),
            "cargo lambda invoke {function} --data-file {} failed ({status}): {stderr}{stdout}\n\
             watch log:\n{}",
            payload.display(),
            self.log()
        );
        serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!("cargo lambda invoke {function} printed no JSON ({e}): {stdout}")
        })
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let signal = |name: &str| {
            let _ = Command::new("kill")
                .args([name, "--", &group])
                .stderr(Stdio::null())
                .status();
        };
        signal("-TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                // Watch is gone; its children may linger a moment longer.
                signal("-KILL");
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        signal("-KILL");
        let _ = self.child.wait();
    }
}

/// The committed SQS fixture of `function` for `event_type`, with a second record whose
/// body is no envelope at all, identified by `bad_id`.
fn with_bad_record(fixture: &Path, bad_id: &str) -> Value {
    let mut payload: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture).expect("the fixture is readable"))
            .expect("the fixture is JSON");
    let records = payload["Records"].as_array_mut().expect("an SQS event");
    let mut bad = records[0].clone();
    bad["messageId"] = json!(bad_id);
    bad["body"] = json!("this is not a CloudEvents envelope");
    records.push(bad);
    payload
}

#[test]
fn cargo_lambda_watch_serves_every_consumer_with_its_fixtures() {
    require_cargo_lambda();
    let fixtures = fixtures_dir();
    let watch = Watch::start();

    // One consumer end to end: a valid fixture is processed, and a batch with a bad record
    // reports exactly that record, while its valid neighbour (already processed: a
    // duplicate) is acknowledged.
    let fixture = fixtures.join("analytics/shop.order.placed.v2.sqs.json");
    assert_eq!(
        watch.invoke("analytics", &fixture),
        json!({"batchItemFailures": []}),
        "watch log:\n{}",
        watch.log()
    );
    let bad_batch = watch.dir.path().join("analytics-bad-record.json");
    std::fs::write(
        &bad_batch,
        with_bad_record(&fixture, "bad-record-1").to_string(),
    )
    .expect("the payload is written");
    assert_eq!(
        watch.invoke("analytics", &bad_batch),
        json!({"batchItemFailures": [{"itemIdentifier": "bad-record-1"}]})
    );

    // Watch ran the binary `cargo test` built: the workspace's target directory, the dev
    // profile (this test's executable lives in <target>/debug/deps).
    let built_dir = std::env::current_exe()
        .expect("the test's path")
        .parent()
        .and_then(Path::parent)
        .expect("<target>/debug")
        .canonicalize()
        .expect("the target directory exists");
    let log = watch.log();
    let ran = log
        .lines()
        .find_map(|line| line.trim().strip_prefix("Running `"))
        .and_then(|rest| rest.split('`').next())
        .unwrap_or_else(|| panic!("watch's log names no binary it ran:\n{log}"));
    let ran = repo_root()
        .join(ran)
        .canonicalize()
        .expect("the binary watch ran exists");
    assert_eq!(ran, built_dir.join("analytics"));

    // Every consumer, with each of its fixtures: each ends as its outcomes.json says, a
    // rejected record reported as failed (no dead-letter queue is configured here).
    for consumer in CONSUMERS {
        let dir = fixtures.join(consumer);
        let outcomes: std::collections::BTreeMap<String, String> = serde_json::from_str(
            &std::fs::read_to_string(dir.join("outcomes.json"))
                .unwrap_or_else(|e| panic!("examples/shop/fixtures/{consumer}/outcomes.json: {e}")),
        )
        .expect("outcomes.json maps fixtures to outcomes");
        assert!(!outcomes.is_empty(), "{consumer} has no fixtures");
        for (file, expected) in outcomes {
            let fixture = dir.join(&file);
            let payload: Value = serde_json::from_str(
                &std::fs::read_to_string(&fixture).expect("the fixture is readable"),
            )
            .expect("the fixture is JSON");
            let message_id = payload["Records"][0]["messageId"].clone();
            let failures = if expected == "processed" {
                json!([])
            } else {
                json!([{"itemIdentifier": message_id}])
            };
            assert_eq!(
                watch.invoke(consumer, &fixture),
                json!({"batchItemFailures": failures}),
                "{consumer} did not end {file} as {expected}"
            );
        }
    }
}
