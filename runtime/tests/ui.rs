//! Compile-time behaviour of `#[event_handler]` and `#[derive(EventSet)]`: every misuse fails
//! to compile with the message in the `.stderr` file beside it, and every supported form
//! compiles and runs.
//!
//! After changing a message, regenerate with `TRYBUILD=overwrite cargo test -p tidings --test
//! ui` and read the diff.
//!
//! trybuild runs each pass case as a binary. In `handler/pass/bin_main.rs` the generated
//! `main` is that binary's entrypoint: it starts the Lambda runtime, which polls the Runtime
//! API named by the environment. This test serves a stand-in of that API on loopback, with one
//! SQS batch per poll, and the case's handler ends the process with success when it receives
//! the batch's event: the case passes only if the generated `main` served the handler.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tidings::testing::Batch;
use tidings::{Envelope, Event};

/// The event `bin_main.rs` handles, as that case defines it.
#[derive(Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "ui.order.placed", version = 1)]
struct OrderPlaced {
    #[event(subject)]
    order_id: String,
}

#[test]
fn ui() {
    let address = serve_runtime_api();
    // SAFETY: this is the only test of this binary, and no other thread of it reads the
    // environment; the variables are set before trybuild spawns the processes that inherit
    // them.
    unsafe {
        std::env::set_var("AWS_LAMBDA_RUNTIME_API", address);
        std::env::set_var("AWS_LAMBDA_FUNCTION_NAME", "ui-reserve-stock");
        std::env::set_var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128");
        std::env::set_var("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
    }

    // One `TestCases` builds every case in one cargo invocation.
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/handler/pass/*.rs");
    cases.pass("tests/ui/event_set/pass/*.rs");
    cases.compile_fail("tests/ui/handler/fail/*.rs");
    cases.compile_fail("tests/ui/event_set/fail/*.rs");
}

/// Serves the Lambda Runtime API on a loopback port, and returns its `host:port`.
///
/// Each poll for the next invocation is answered with a new SQS batch holding one
/// `OrderPlaced` for `order-ui-1`. A handler that received it and still returned lets the
/// runtime post a response and poll again: that poll is answered by closing the connection,
/// which makes the runtime, and so the process, fail instead of looping.
fn serve_runtime_api() -> String {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a loopback port");
    let address = listener.local_addr().expect("a bound address").to_string();
    thread::spawn(move || {
        let requests = AtomicU32::new(0);
        let answered = AtomicBool::new(false);
        for stream in listener.incoming().flatten() {
            // One connection at a time: the processes that poll run one after another.
            serve_connection(stream, &requests, &answered);
        }
    });
    address
}

/// Answers the requests of one keep-alive connection until it closes.
fn serve_connection(stream: TcpStream, requests: &AtomicU32, answered: &AtomicBool) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone the connection"));
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut content_length = 0;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                content_length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; content_length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let response = if request_line.starts_with("GET /2018-06-01/runtime/invocation/next") {
            if answered.swap(false, Ordering::SeqCst) {
                return;
            }
            next_invocation(requests.fetch_add(1, Ordering::SeqCst) + 1)
        } else {
            // The function answered an invocation, so its handler did not end the process.
            answered.store(true, Ordering::SeqCst);
            "HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n".to_owned()
        };
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// The HTTP response to a poll: invocation `n`, an SQS batch of one `OrderPlaced`.
fn next_invocation(n: u32) -> String {
    let placed = Envelope::new(
        "ui-tests",
        OrderPlaced {
            order_id: "order-ui-1".into(),
        },
    );
    let body = Batch::sqs().event(&placed).to_json().to_string();
    let deadline = SystemTime::now() + Duration::from_secs(30);
    let deadline_ms = deadline
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_millis();
    format!(
        "HTTP/1.1 200 OK\r\n\
         content-type: application/json\r\n\
         lambda-runtime-aws-request-id: ui-invocation-{n}\r\n\
         lambda-runtime-deadline-ms: {deadline_ms}\r\n\
         lambda-runtime-invoked-function-arn: arn:aws:lambda:eu-west-1:000000000000:function:ui-reserve-stock\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    )
}
