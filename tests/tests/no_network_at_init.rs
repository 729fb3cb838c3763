//! A function with the DynamoDB store, an SQS dead-letter queue and an SNS publisher
//! configured makes no network call before its first Runtime API poll: init reads the
//! environment only, and every AWS client connects on first use.
//!
//! The `aws_handler` binary runs against the loopback Runtime API with every AWS endpoint
//! (`AWS_ENDPOINT_URL`, the dead-letter queue URL) pointing at a loopback listener that
//! counts the connections it accepts. None may arrive before the first poll; once the
//! function is handed a batch, its store must connect, which shows the listener would have
//! seen a call made during init.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use tidings::Envelope;
use tidings::testing::{Batch, TestRecord};
use tidings_tests::runtime_api::{Answer, RuntimeApi};
use tidings_tests::{Behaviour, Echo, SOURCE};

/// How long to wait for the function before failing: only a guard against a hang, never a
/// measure of speed.
const PATIENCE: Duration = Duration::from_secs(60);

/// How long to keep watching after the first poll, so that a connection some task of init
/// started just before the poll still arrives before the count is taken again.
const SETTLE: Duration = Duration::from_millis(300);

/// A loopback listener standing in for every AWS service: it accepts connections, counts
/// them and closes them unanswered, so a client that reaches it fails at once.
struct Recorder {
    address: SocketAddr,
    connections: Arc<AtomicUsize>,
    closed: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl Recorder {
    fn start() -> Self {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a loopback port");
        let address = listener.local_addr().expect("the listener's address");
        let connections = Arc::new(AtomicUsize::new(0));
        let closed = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let connections = Arc::clone(&connections);
            let closed = Arc::clone(&closed);
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if closed.load(Ordering::SeqCst) {
                        return;
                    }
                    if stream.is_ok() {
                        connections.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        };
        Self {
            address,
            connections,
            closed,
            acceptor: Some(acceptor),
        }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.closed.store(true, Ordering::SeqCst);
        // `accept` only returns on a connection: make one so the acceptor sees `closed`.
        let _ = std::net::TcpStream::connect(self.address);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// The function process, killed and reaped when dropped, even when an assertion fails.
struct Function(Child);

impl Function {
    /// The function's stderr, after killing it: for the message of a failed assertion.
    fn stop(mut self) -> String {
        let _ = self.0.kill();
        let mut text = String::new();
        if let Some(mut stderr) = self.0.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        }
        text
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_aws_clients_connect_only_when_a_record_needs_them() {
    let aws = Recorder::start();
    let api = RuntimeApi::start().expect("the Runtime API starts");
    let endpoint = aws.endpoint();
    let function = Function(
        api.command(env!("CARGO_BIN_EXE_aws_handler"), "tidings-no-network")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("TIDINGS_STORE", "dynamodb")
            .env("TIDINGS_TABLE", "tidings-no-network")
            .env(
                "TIDINGS_DEAD_LETTER_QUEUE_URL",
                format!("{endpoint}/000000000000/tidings-no-network-dlq"),
            )
            .env(
                "ECHO_TOPIC_ARN",
                "arn:aws:sns:eu-west-1:000000000000:tidings-no-network",
            )
            // One attempt's timeout: the unanswered calls of the second half fail in seconds.
            .env("TIDINGS_AWS_TIMEOUT_MS", "2000")
            .env("AWS_ENDPOINT_URL", &endpoint)
            .env("AWS_REGION", "eu-west-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            // Were the credentials ever looked up past the environment, the chain would end
            // at the instance metadata service, which is not on loopback.
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the aws_handler binary starts"),
    );

    if api.first_poll(PATIENCE).is_none() {
        panic!(
            "aws_handler did not poll within {PATIENCE:?}; init errors: {:?}; stderr:\n{}",
            api.init_errors(),
            function.stop()
        );
    }
    assert_eq!(aws.connections(), 0, "a connection was made during init");
    thread::sleep(SETTLE);
    assert_eq!(
        aws.connections(),
        0,
        "a connection was made by a task started during init"
    );

    // A record needs the store: the claim connects, finds no answer, and the record is
    // reported for redelivery.
    let envelope = Envelope::new(SOURCE, Echo::new("key-1", Behaviour::Succeed, "no network"));
    let message_id = "no-network-1";
    let batch = Batch::sqs().record(TestRecord::event(&envelope).message_id(message_id));
    let request_id = api.invoke(batch.to_json().to_string());
    let Some(answer) = api.answer(&request_id, PATIENCE) else {
        panic!(
            "no answer to the batch within {PATIENCE:?}; stderr:\n{}",
            function.stop()
        );
    };
    assert_eq!(
        answer,
        Answer::Response(serde_json::json!({
            "batchItemFailures": [{"itemIdentifier": message_id}]
        })),
        "the record whose store call failed is reported for redelivery"
    );
    assert!(
        aws.connections() > 0,
        "the store never connected to the AWS endpoint, so the check above proves nothing"
    );
}
