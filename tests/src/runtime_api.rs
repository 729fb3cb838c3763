//! [`RuntimeApi`]: the Lambda Runtime API on a random loopback port, enough of it to run a
//! real function process the way Lambda does.
//!
//! It speaks HTTP/1.1 with keep-alive on plain `std::net` sockets, one thread per
//! connection, and serves the four endpoints `lambda_runtime` 1.5 calls outside SnapStart:
//!
//! - `GET  /2018-06-01/runtime/invocation/next`: blocks until an invocation is queued, then
//!   answers with its payload and the headers the runtime requires
//!   (`lambda-runtime-aws-request-id`, `lambda-runtime-deadline-ms`) or reads
//!   (`lambda-runtime-invoked-function-arn`, `lambda-runtime-trace-id`);
//! - `POST /2018-06-01/runtime/invocation/{id}/response`: the function's result;
//! - `POST /2018-06-01/runtime/invocation/{id}/error`: the function's error, a diagnostic
//!   `{"errorType", "errorMessage"}` with a `lambda-runtime-function-error-type` header;
//! - `POST /2018-06-01/runtime/init/error`: a failure before the first poll.
//!
//! Every poll is timestamped, so a benchmark can measure process start to first poll.

use std::collections::{HashMap, VecDeque};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// The path prefix of every Runtime API endpoint.
const PREFIX: &str = "/2018-06-01/runtime";

/// The ARN the invocations name as the invoked function.
pub const FUNCTION_ARN: &str = "arn:aws:lambda:eu-west-1:000000000000:function:tidings-test";

/// The X-Ray trace header handed to each invocation.
pub const TRACE_ID: &str =
    "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0";

/// How long each invocation may run, as told by `lambda-runtime-deadline-ms`.
pub const INVOCATION_TIMEOUT: Duration = Duration::from_secs(30);

/// How the function answered an invocation (or its initialisation).
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// `POST .../response`: the function's result, as JSON.
    Response(Value),
    /// `POST .../error` or `/init/error`: the diagnostic the runtime sent.
    Error {
        /// The `lambda-runtime-function-error-type` header, if sent.
        error_type: Option<String>,
        /// The body: `{"errorType": ..., "errorMessage": ...}`.
        diagnostic: Value,
    },
}

/// A Lambda Runtime API served on `127.0.0.1` at a port the system picks. Dropping it stops
/// the server and closes every connection.
pub struct RuntimeApi {
    address: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// Signalled on every change of `state`: a queued invocation, an answer, a poll, closing.
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// Invocations not yet handed out: request id and payload.
    pending: VecDeque<(String, Vec<u8>)>,
    /// Answers by request id.
    answers: HashMap<String, Answer>,
    /// When each `GET /next` arrived, in order.
    polls: Vec<Instant>,
    /// Reports sent to `/init/error`.
    init_errors: Vec<Answer>,
    /// A handle on every accepted connection, to shut them down when the server stops.
    connections: Vec<TcpStream>,
    /// Numbers the request ids.
    invocations: u64,
    /// Set when the server stops.
    closed: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking connection thread must not hide the answers of the others.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until `ready` returns a value, or `timeout` passes.
    fn wait_for<T>(
        &self,
        timeout: Duration,
        mut ready: impl FnMut(&mut State) -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + timeout;
        let mut state = self.lock();
        loop {
            if let Some(value) = ready(&mut state) {
                return Some(value);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

impl RuntimeApi {
    /// Starts the server.
    pub fn start() -> io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let acceptor = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name("runtime-api-accept".into())
                .spawn(move || accept(&listener, &shared))?
        };
        Ok(Self {
            address,
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API` that points a function at this server.
    pub fn runtime_api(&self) -> String {
        self.address.to_string()
    }

    /// A command that runs `binary` as Lambda runs a function named `function_name` against
    /// this server: only the variables the Lambda runtime sets, nothing inherited.
    pub fn command(&self, binary: impl AsRef<std::ffi::OsStr>, function_name: &str) -> Command {
        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", self.runtime_api())
            .env("AWS_LAMBDA_FUNCTION_NAME", function_name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
        command
    }

    /// Queues an invocation with `payload` and returns its request id.
    pub fn invoke(&self, payload: impl Into<Vec<u8>>) -> String {
        let mut state = self.shared.lock();
        state.invocations += 1;
        let request_id = format!("request-{:04}", state.invocations);
        state
            .pending
            .push_back((request_id.clone(), payload.into()));
        self.shared.changed.notify_all();
        request_id
    }

    /// The answer to invocation `request_id`, waiting up to `timeout` for it.
    pub fn answer(&self, request_id: &str, timeout: Duration) -> Option<Answer> {
        self.shared
            .wait_for(timeout, |state| state.answers.get(request_id).cloned())
    }

    /// When the first `GET /next` arrived, waiting up to `timeout` for it.
    pub fn first_poll(&self, timeout: Duration) -> Option<Instant> {
        self.nth_poll(1, timeout)
    }

    /// When the `n`th `GET /next` (counting from 1) arrived, waiting up to `timeout` for it.
    pub fn nth_poll(&self, n: usize, timeout: Duration) -> Option<Instant> {
        let index = n.checked_sub(1)?;
        self.shared
            .wait_for(timeout, |state| state.polls.get(index).copied())
    }

    /// How many times the function has polled for an invocation.
    pub fn polls(&self) -> usize {
        self.shared.lock().polls.len()
    }

    /// The reports sent to `/init/error`.
    pub fn init_errors(&self) -> Vec<Answer> {
        self.shared.lock().init_errors.clone()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        {
            let mut state = self.shared.lock();
            state.closed = true;
            for connection in state.connections.drain(..) {
                // Unblocks a connection thread waiting on a read; its client sees the
                // connection close.
                let _ = connection.shutdown(Shutdown::Both);
            }
            self.shared.changed.notify_all();
        }
        // `accept` only returns on a connection: make one so the acceptor sees `closed`.
        let _ = TcpStream::connect(self.address);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn accept(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let registered = {
            let mut state = shared.lock();
            if state.closed {
                return;
            }
            stream
                .try_clone()
                .map(|handle| state.connections.push(handle))
        };
        if registered.is_err() {
            continue;
        }
        let _ = stream.set_nodelay(true);
        let shared = Arc::clone(shared);
        let _ = thread::Builder::new()
            .name("runtime-api-conn".into())
            .spawn(move || serve(stream, &shared));
    }
}

/// One request as read off the wire.
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// When its head was read.
    at: Instant,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Serves the requests of one connection until the client closes it or the server stops.
fn serve(stream: TcpStream, shared: &Shared) {
    let mut reader = BufReader::new(stream);
    while let Ok(Some(request)) = read_request(&mut reader) {
        let answered = route(&request, shared, reader.get_mut());
        if answered.is_err() {
            return;
        }
    }
}

fn route(request: &Request, shared: &Shared, out: &mut TcpStream) -> io::Result<()> {
    let Some(endpoint) = request.path.strip_prefix(PREFIX) else {
        return respond(out, "404 Not Found", &[], b"{}");
    };
    match (request.method.as_str(), endpoint) {
        ("GET", "/invocation/next") => {
            let Some((request_id, payload)) = next_invocation(shared, request.at) else {
                // The server is stopping: close the connection without an answer.
                return Err(io::ErrorKind::ConnectionAborted.into());
            };
            let deadline = SystemTime::now() + INVOCATION_TIMEOUT;
            let deadline_ms = deadline
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis()
                .to_string();
            respond(
                out,
                "200 OK",
                &[
                    ("content-type", "application/json"),
                    ("lambda-runtime-aws-request-id", &request_id),
                    ("lambda-runtime-deadline-ms", &deadline_ms),
                    ("lambda-runtime-invoked-function-arn", FUNCTION_ARN),
                    ("lambda-runtime-trace-id", TRACE_ID),
                ],
                &payload,
            )
        }
        ("POST", "/init/error") => {
            let report = error_answer(request);
            let mut state = shared.lock();
            state.init_errors.push(report);
            shared.changed.notify_all();
            drop(state);
            accepted(out)
        }
        ("POST", path) => {
            let Some(rest) = path.strip_prefix("/invocation/") else {
                return respond(out, "404 Not Found", &[], b"{}");
            };
            let (request_id, answer) = if let Some(id) = rest.strip_suffix("/response") {
                (id, Answer::Response(json_body(&request.body)))
            } else if let Some(id) = rest.strip_suffix("/error") {
                (id, error_answer(request))
            } else {
                return respond(out, "404 Not Found", &[], b"{}");
            };
            let mut state = shared.lock();
            state.answers.insert(request_id.to_owned(), answer);
            shared.changed.notify_all();
            drop(state);
            accepted(out)
        }
        _ => respond(out, "404 Not Found", &[], b"{}"),
    }
}

/// Records a poll at `at`, then waits for an invocation; `None` once the server stops.
fn next_invocation(shared: &Shared, at: Instant) -> Option<(String, Vec<u8>)> {
    let mut state = shared.lock();
    state.polls.push(at);
    shared.changed.notify_all();
    loop {
        if state.closed {
            return None;
        }
        if let Some(next) = state.pending.pop_front() {
            return Some(next);
        }
        state = shared
            .changed
            .wait(state)
            .unwrap_or_else(PoisonError::into_inner);
    }
}

fn error_answer(request: &Request) -> Answer {
    Answer::Error {
        error_type: request
            .header("lambda-runtime-function-error-type")
            .map(str::to_owned),
        diagnostic: json_body(&request.body),
    }
}

/// The body as JSON; a body that is not JSON is kept as a string so a test can show it.
fn json_body(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

/// The answer RAPID gives to every accepted post.
fn accepted(out: &mut TcpStream) -> io::Result<()> {
    respond(
        out,
        "202 Accepted",
        &[("content-type", "application/json")],
        br#"{"status":"OK"}"#,
    )
}

fn respond(
    out: &mut TcpStream,
    status: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    // One write per response: the head and body in separate small writes would each wait
    // on the client's delayed acknowledgement.
    let mut message = head.into_bytes();
    message.extend_from_slice(body);
    out.write_all(&message)?;
    out.flush()
}

/// Reads one request; `None` when the client closed the connection between requests.
fn read_request(reader: &mut BufReader<TcpStream>) -> io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(path)) = (parts.next(), parts.next()) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not an HTTP request line: {line:?}"),
        ));
    };
    let (method, path) = (method.to_owned(), path.to_owned());
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let at = Instant::now();
    let mut request = Request {
        method,
        path,
        headers,
        body: Vec::new(),
        at,
    };
    if request
        .header("transfer-encoding")
        .is_some_and(|te| te.eq_ignore_ascii_case("chunked"))
    {
        request.body = read_chunked(reader)?;
    } else if let Some(length) = request.header("content-length") {
        let length: usize = length.parse().map_err(|_| {
            io::Error::new(io::ErrorKind::InvalidData, "content-length is not a number")
        })?;
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        request.body = body;
    }
    Ok(Some(request))
}

/// Reads a chunked body (hyper sends one when a body's length is not known up front).
fn read_chunked(reader: &mut BufReader<TcpStream>) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size_line = String::new();
        reader.read_line(&mut size_line)?;
        let size = size_line.trim().split(';').next().unwrap_or_default();
        let size = usize::from_str_radix(size, 16)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
        if size == 0 {
            // Trailers, if any, up to the blank line that ends the message.
            loop {
                let mut trailer = String::new();
                if reader.read_line(&mut trailer)? == 0 || trailer.trim_end().is_empty() {
                    return Ok(body);
                }
            }
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        let mut crlf = [0; 2];
        reader.read_exact(&mut crlf)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends raw HTTP and reads one response: status line, headers, body.
    fn exchange(stream: &mut TcpStream, request: &str) -> (String, Vec<(String, String)>, String) {
        stream.write_all(request.as_bytes()).unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap();
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
        let length: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .unwrap()
            .1
            .parse()
            .unwrap();
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        (
            status.trim_end().to_owned(),
            headers,
            String::from_utf8(body).unwrap(),
        )
    }

    const WAIT: Duration = Duration::from_secs(10);

    #[test]
    fn hands_out_an_invocation_and_records_the_answers() {
        let api = RuntimeApi::start().unwrap();
        let id = api.invoke(&b"{\"Records\":[]}"[..]);
        let mut stream = TcpStream::connect(api.runtime_api()).unwrap();

        let (status, headers, body) = exchange(
            &mut stream,
            "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nhost: x\r\n\r\n",
        );
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert_eq!(body, "{\"Records\":[]}");
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(header("lambda-runtime-aws-request-id"), Some(id.clone()));
        assert_eq!(
            header("lambda-runtime-invoked-function-arn").as_deref(),
            Some(FUNCTION_ARN)
        );
        assert_eq!(header("lambda-runtime-trace-id").as_deref(), Some(TRACE_ID));
        let deadline: u128 = header("lambda-runtime-deadline-ms")
            .unwrap()
            .parse()
            .unwrap();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis();
        assert!(deadline > now && deadline <= now + INVOCATION_TIMEOUT.as_millis());
        assert_eq!(api.polls(), 1);

        // The same connection is kept alive for the answer, as hyper's pool does.
        let (status, _, body) = exchange(
            &mut stream,
            &format!(
                "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\ncontent-length: 2\r\n\r\n{{}}"
            ),
        );
        assert_eq!(status, "HTTP/1.1 202 Accepted");
        assert_eq!(body, r#"{"status":"OK"}"#);
        assert_eq!(
            api.answer(&id, WAIT),
            Some(Answer::Response(serde_json::json!({})))
        );
    }

    #[test]
    fn records_errors_with_chunked_bodies_and_init_errors() {
        let api = RuntimeApi::start().unwrap();
        let mut stream = TcpStream::connect(api.runtime_api()).unwrap();
        let diagnostic = r#"{"errorType":"E","errorMessage":"m"}"#;
        let (first, second) = diagnostic.split_at(10);
        let (status, _, _) = exchange(
            &mut stream,
            &format!(
                "POST /2018-06-01/runtime/invocation/request-7/error HTTP/1.1\r\n\
                 lambda-runtime-function-error-type: unhandled\r\ntransfer-encoding: chunked\r\n\r\n\
                 {:x}\r\n{first}\r\n{:x}\r\n{second}\r\n0\r\n\r\n",
                first.len(),
                second.len()
            ),
        );
        assert_eq!(status, "HTTP/1.1 202 Accepted");
        assert_eq!(
            api.answer("request-7", WAIT),
            Some(Answer::Error {
                error_type: Some("unhandled".into()),
                diagnostic: serde_json::json!({"errorType": "E", "errorMessage": "m"}),
            })
        );

        let (status, _, _) = exchange(
            &mut stream,
            "POST /2018-06-01/runtime/init/error HTTP/1.1\r\ncontent-length: 2\r\n\r\n{}",
        );
        assert_eq!(status, "HTTP/1.1 202 Accepted");
        assert_eq!(
            api.init_errors(),
            [Answer::Error {
                error_type: None,
                diagnostic: serde_json::json!({}),
            }]
        );

        let (status, _, _) = exchange(&mut stream, "GET /elsewhere HTTP/1.1\r\n\r\n");
        assert_eq!(status, "HTTP/1.1 404 Not Found");
    }

    #[test]
    fn a_poll_waits_for_an_invocation_and_stopping_closes_it() {
        let api = RuntimeApi::start().unwrap();
        let mut stream = TcpStream::connect(api.runtime_api()).unwrap();
        stream
            .write_all(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n")
            .unwrap();
        assert!(api.first_poll(WAIT).is_some());
        assert_eq!(api.answer("request-0001", Duration::ZERO), None);
        drop(api);
        // The waiting poll gets no invocation: the connection just closes.
        let mut rest = Vec::new();
        assert_eq!(stream.read_to_end(&mut rest).unwrap_or(0), 0);
    }
}
