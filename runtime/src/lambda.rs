//! The Lambda entrypoint `#[event_handler]` generates a call to: [`run`].

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lambda_events::sqs::SqsBatchResponse;
use lambda_runtime::{LambdaEvent, service_fn};
use serde::Serialize;

use crate::config::{Config, StoreKind};
use crate::handler::EventHandler;
use crate::pipeline::{InvocationInfo, Processor};
use crate::transport::Invocation;
use crate::{Source, metrics};

/// The error type of the Lambda runtime.
pub type Error = lambda_runtime::Error;

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
            crate::telemetry::init();
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
    crate::telemetry::init();
    check_lambda_environment(|name| std::env::var_os(name).is_some())?;
    let processor = Arc::new(processor_from_env(handler, state).await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Invocation>| {
        let processor = Arc::clone(&processor);
        async move { answer(&processor, event).await }
    }))
    .await
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
pub fn check_lambda_environment(is_set: impl Fn(&str) -> bool) -> Result<(), Error> {
    let missing: Vec<&str> = LAMBDA_VARIABLES
        .into_iter()
        .filter(|name| !is_set(name))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{} not set: this binary is a Lambda function and needs the Lambda runtime environment; \
         deploy it, run it under `cargo lambda watch`, or call the handler in-process with \
         tidings::testing",
        missing.join(", ")
    )
    .into())
}

/// Builds the processor the environment describes, handing `state` to the handler.
pub async fn processor_from_env<H: EventHandler>(
    handler: H,
    state: H::State,
) -> Result<Processor<H>, Error> {
    let config = Config::from_env(H::OPTIONS)?;
    #[cfg_attr(not(feature = "dynamodb"), allow(unused_mut))]
    let mut processor = Processor::with_state(handler, state)
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
            let sdk = crate::aws::sdk_config().await;
            let client = aws_sdk_dynamodb::Client::new(&sdk);
            processor =
                processor.with_store(Arc::new(crate::store::DynamoDbStore::new(client, table)));
        }
        #[cfg(not(feature = "dynamodb"))]
        StoreKind::DynamoDb { .. } => {
            return Err(
                "TIDINGS_STORE=dynamodb needs tidings built with the `dynamodb` feature".into(),
            );
        }
    }
    let processor = match config.dead_letter_queue_url {
        None => processor,
        #[cfg(feature = "publisher")]
        Some(url) => {
            // Loading the SDK configuration reads the environment only; the queue is first
            // called when a record is rejected.
            let sdk = crate::aws::sdk_config().await;
            processor.with_dead_letter_queue(Arc::new(
                crate::sqs_dead_letter::SqsDeadLetterQueue::new(&sdk, url),
            ))
        }
        #[cfg(not(feature = "publisher"))]
        Some(_) => {
            return Err(
                "TIDINGS_DEAD_LETTER_QUEUE_URL needs tidings built with the `publisher` feature"
                    .into(),
            );
        }
    };
    Ok(processor)
}

/// Answers one invocation for the Lambda runtime: [`answer_invocation`], with the metrics
/// line on stdout.
pub async fn answer<H: EventHandler>(
    processor: &Processor<H>,
    event: LambdaEvent<Invocation>,
) -> Result<Response, Error> {
    let (invocation, context) = event.into_parts();
    let info = InvocationInfo {
        request_id: context.request_id,
        deadline: deadline_of(context.deadline, SystemTime::now()),
    };
    answer_invocation(processor, invocation, &info, &mut std::io::stdout()).await
}

/// The longest a Lambda invocation may run: what a deadline that cannot be real is taken as.
const LONGEST_INVOCATION: Duration = Duration::from_secs(15 * 60);

/// The invocation's deadline from the Runtime API's `lambda-runtime-deadline-ms`.
///
/// Lambda always sends a time in the future. A local emulator may not: `cargo lambda watch`
/// sends a fixed 600000, which is January 1970. A deadline more than a day in the past
/// cannot be an invocation's, so it is taken as the longest Lambda allows from now, with a
/// warning; a deadline that passed recently is kept, so a late invocation does no work.
pub fn deadline_of(deadline_ms: u64, now: SystemTime) -> SystemTime {
    let deadline = UNIX_EPOCH + Duration::from_millis(deadline_ms);
    let day = Duration::from_secs(24 * 60 * 60);
    if deadline + day < now {
        tracing::warn!(
            deadline_ms,
            "the Runtime API sent a deadline long past (local emulators such as cargo lambda \
             watch send a fixed one); using 15 minutes from now"
        );
        return now + LONGEST_INVOCATION;
    }
    deadline
}

/// What a function answers the Lambda runtime: the partial batch response for SQS, `null`
/// for SNS.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Response {
    /// The records an SQS event source mapping must deliver again.
    Sqs(SqsBatchResponse),
    /// SNS reads no response: a failure is an error, which makes it retry.
    Sns,
}

/// Answers one invocation: checks that its source is the handler's, runs its records, writes
/// the batch's EMF line to `metrics`, and returns the response, or the error that makes
/// Lambda retry the whole invocation (a failed SNS record, a failed SQS record without a
/// message id).
pub async fn answer_invocation<H: EventHandler>(
    processor: &Processor<H>,
    invocation: Invocation,
    info: &InvocationInfo,
    metrics: &mut (impl Write + Send),
) -> Result<Response, Error> {
    let expected = processor.options().source;
    let is_sns = matches!(invocation, Invocation::Sns(_));
    if (expected == Source::Sqs && is_sns) || (expected == Source::Sns && !is_sns) {
        return Err(format!(
            "`{}` is declared with source = \"{}\" but was invoked by {}; fix the event source \
             or the handler's `source` option",
            processor.options().name,
            if expected == Source::Sqs {
                "sqs"
            } else {
                "sns"
            },
            if is_sns { "SNS" } else { "SQS" }
        )
        .into());
    }
    let result = processor.process(invocation.deliveries(), info).await;
    let emitted = metrics::emit(
        metrics,
        processor.metrics_namespace(),
        processor.options().name,
        &result,
        SystemTime::now(),
    );
    if let Err(error) = emitted {
        // The batch's outcome stands: its records ran. Only the metrics are missing.
        tracing::warn!(%error, "the batch's EMF metrics line could not be written");
    }
    if is_sns {
        result.sns_result()?;
        Ok(Response::Sns)
    } else {
        Ok(Response::Sqs(result.sqs_response()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_long_past_is_taken_as_the_longest_invocation() {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        // What cargo lambda watch sends.
        assert_eq!(deadline_of(600_000, now), now + LONGEST_INVOCATION);
        let real = 1_800_000_000_000 + 30_000;
        assert_eq!(
            deadline_of(real, now),
            UNIX_EPOCH + Duration::from_millis(real)
        );
        // Passed a moment ago: kept, so the late invocation does no work.
        let passed = 1_800_000_000_000 - 5_000;
        assert_eq!(
            deadline_of(passed, now),
            UNIX_EPOCH + Duration::from_millis(passed)
        );
    }

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
