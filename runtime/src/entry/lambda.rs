//! The Lambda entrypoint `#[event_handler]` generates a call to: [`run`].

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use lambda_runtime::service_fn;

pub use super::config::{AwsSettings, Config, ConfigError, StoreKind, TlsRoots};
pub use super::telemetry::init as init_telemetry;
pub use crate::pipeline::DEFAULT_METRICS_NAMESPACE;
pub use lambda_runtime::LambdaEvent;

use crate::handler::EventHandler;
use crate::pipeline::Pipeline;
use crate::transport::Invocation;

/// The error type of the Lambda runtime.
pub type Error = lambda_runtime::Error;

/// Why a function could not start serving invocations. It ends the process before the first
/// poll, with this message in the function's log.
#[derive(thiserror::Error)]
pub enum StartError {
    /// The process runs outside a Lambda Runtime API.
    #[error(
        "{} not set: this binary is a Lambda function and needs the Lambda runtime \
         environment; deploy it, run it under `cargo lambda watch`, or call the handler \
         in-process with tidings::testing",
        missing.join(", ")
    )]
    NotInLambda {
        /// The variables the Lambda runtime sets that are missing.
        missing: Vec<&'static str>,
    },
    /// A `TIDINGS_*` variable is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Two event types linked into the function declare the same type and version.
    #[error(transparent)]
    DuplicateEvent(#[from] tidings_events::schema::DuplicateEvent),
    /// The environment asks for a backend this build of tidings leaves out.
    #[error(
        "{variable} needs tidings built with the `{feature}` feature: add it to tidings' \
         features in Cargo.toml"
    )]
    FeatureMissing {
        /// The variable that asks for it.
        variable: &'static str,
        /// The cargo feature of `tidings` that brings it.
        feature: &'static str,
    },
}

/// The message: a `main` that returns the error prints it with `{:?}`, and the message is
/// what says what to do.
impl std::fmt::Debug for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// Runs `handler` as a Lambda function: reads the configuration from the environment, then
/// answers invocations until the runtime stops.
///
/// A current-thread Tokio runtime serves: one invocation runs at a time, and records of a
/// batch run concurrently on it. Nothing here makes a network call before the first
/// invocation, which keeps cold starts short.
pub fn run<H: EventHandler<State = ()>>(handler: H) -> Result<(), Error> {
    run_with_state(handler, async { Ok::<(), Error>(()) })
}

/// [`run`] for a handler with state: `state` builds it once, on the same runtime, after
/// logging is set up and before the configuration is read; every invocation of this
/// container then shares it. `#[event_handler(state = build)]` generates a `main` that calls
/// this with `build()`.
///
/// Like the rest of init, building the state should make no network call (build clients,
/// don't call them): calls during init lengthen every cold start. An error ends the process
/// before the first poll, with its message in the function's log.
///
/// ```no_run
/// # use tidings::{Context, Envelope, HandlerError};
/// # #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
/// # #[event(type = "example.note.taken", version = 1)]
/// # struct NoteTaken { text: String }
/// struct Notes {
///     prefix: String,
/// }
///
/// async fn notes() -> Result<Notes, tidings::lambda::Error> {
///     Ok(Notes { prefix: std::env::var("NOTE_PREFIX")? })
/// }
///
/// #[tidings::event_handler(main = false)]
/// async fn take_note(
///     event: Envelope<NoteTaken>,
///     _ctx: &Context,
///     notes: &Notes,
/// ) -> Result<(), HandlerError> {
///     println!("{}{}", notes.prefix, event.data.text);
///     Ok(())
/// }
///
/// fn main() -> Result<(), tidings::lambda::Error> {
///     tidings::lambda::run_with_state(take_note, notes())
/// }
/// ```
pub fn run_with_state<H, E>(
    handler: H,
    state: impl Future<Output = Result<H::State, E>>,
) -> Result<(), Error>
where
    H: EventHandler,
    E: Into<Error>,
{
    // A current-thread runtime: a multi-thread one would cost cold-start time for nothing.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async {
            super::telemetry::init();
            let state = state.await.map_err(Into::into)?;
            serve_with_state(handler, state).await
        })
}

/// [`run`] inside an existing Tokio runtime.
pub async fn serve<H: EventHandler<State = ()>>(handler: H) -> Result<(), Error> {
    serve_with_state(handler, ()).await
}

/// [`run_with_state`] inside an existing Tokio runtime, with the state already built.
pub async fn serve_with_state<H: EventHandler>(handler: H, state: H::State) -> Result<(), Error> {
    super::telemetry::init();
    check_lambda_environment(|name| std::env::var_os(name).is_some())?;
    let pipeline = Arc::new(pipeline_from_env(handler, state).await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Invocation>| {
        let pipeline = Arc::clone(&pipeline);
        async move {
            let answer = pipeline.invoke(event).await;
            if let Err(error) = answer.write_metrics(&mut std::io::stdout()) {
                // The batch's outcome stands: its records ran. Only the metrics are missing.
                tracing::warn!(%error, "the batch's EMF metrics line could not be written");
            }
            answer.response
        }
    }))
    .await
}

/// The event the Lambda runtime hands a function for `invocation`, with a request id and
/// the invocation's deadline: what a caller outside Lambda (a test, a local poller, an
/// emulator) gives [`Pipeline::invoke`].
pub fn event(
    invocation: Invocation,
    request_id: impl Into<String>,
    deadline: SystemTime,
) -> LambdaEvent<Invocation> {
    let mut context = lambda_runtime::Context::default();
    context.request_id = request_id.into();
    context.deadline = deadline.duration_since(UNIX_EPOCH).map_or(0, |since| {
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    });
    LambdaEvent::new(invocation, context)
}

/// The variables the Lambda runtime sets and `lambda_runtime` needs; without them it
/// panics, so a binary started by hand gets this message instead.
const LAMBDA_VARIABLES: [&str; 4] = [
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
];

/// Fails with a clear message when the process is not running where a Lambda Runtime API
/// serves it.
pub fn check_lambda_environment(is_set: impl Fn(&str) -> bool) -> Result<(), StartError> {
    let missing: Vec<&'static str> = LAMBDA_VARIABLES
        .into_iter()
        .filter(|name| !is_set(name))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(StartError::NotInLambda { missing })
}

/// Builds the pipeline the environment describes, handing `state` to the handler.
pub async fn pipeline_from_env<H: EventHandler>(
    handler: H,
    state: H::State,
) -> Result<Pipeline<H>, StartError> {
    // Two Rust types for one type and version would make schemas and fixtures lie about
    // what this function decodes: refuse to start, naming both.
    let events = tidings_events::schema::registrations();
    tidings_events::schema::check_unique(events.iter().copied())?;
    let config = Config::from_env(H::OPTIONS)?;
    // One SDK configuration for the store and the dead-letter queue: clients built from it
    // share its HTTPS client, so the trusted roots are parsed once per container.
    #[cfg(any(feature = "dynamodb", feature = "publisher"))]
    let sdk = tokio::sync::OnceCell::new();
    #[cfg(any(feature = "dynamodb", feature = "publisher"))]
    let sdk = || sdk.get_or_init(|| crate::aws::sdk_config_with(&config.aws));
    #[cfg_attr(not(feature = "dynamodb"), allow(unused_mut))]
    let mut pipeline = Pipeline::with_state(handler, state)
        .with_options(config.options.clone())
        .with_function_name(&config.function_name)
        .with_metrics_namespace(config.metrics_namespace);
    match config.store {
        StoreKind::Memory => {
            if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
                tracing::warn!(
                    "TIDINGS_STORE is `memory`: duplicates are only caught within one Lambda \
                     container; set TIDINGS_STORE=dynamodb for production"
                );
            }
        }
        #[cfg(feature = "dynamodb")]
        StoreKind::DynamoDb { table } => {
            let client = aws_sdk_dynamodb::Client::new(sdk().await);
            pipeline =
                pipeline.with_store(Arc::new(crate::store::DynamoDbStore::new(client, table)));
        }
        #[cfg(not(feature = "dynamodb"))]
        StoreKind::DynamoDb { .. } => {
            return Err(StartError::FeatureMissing {
                variable: "TIDINGS_STORE=dynamodb",
                feature: "dynamodb",
            });
        }
    }
    let pipeline = match config.dead_letter_queue_url {
        None => pipeline,
        #[cfg(feature = "publisher")]
        Some(url) => {
            // Loading the SDK configuration reads the environment only; the queue is first
            // called when a record is rejected.
            pipeline.with_dead_letter_queue(Arc::new(crate::dead_letter::SqsDeadLetterQueue::new(
                sdk().await,
                url,
            )))
        }
        #[cfg(not(feature = "publisher"))]
        Some(_) => {
            return Err(StartError::FeatureMissing {
                variable: "TIDINGS_DEAD_LETTER_QUEUE_URL",
                feature: "publisher",
            });
        }
    };
    Ok(pipeline)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_lambda_variable_is_named_with_what_to_do() {
        let all = check_lambda_environment(|_| true);
        assert!(all.is_ok());
        let error = check_lambda_environment(|name| name != "AWS_LAMBDA_RUNTIME_API")
            .expect_err("the Runtime API address is missing")
            .to_string();
        assert!(
            error.starts_with("AWS_LAMBDA_RUNTIME_API not set: this binary is a Lambda function"),
            "{error}"
        );
        assert!(error.contains("cargo lambda watch"), "{error}");
        let none = check_lambda_environment(|_| false)
            .expect_err("nothing set")
            .to_string();
        assert!(none.starts_with(&LAMBDA_VARIABLES.join(", ")), "{none}");
    }
}
