//! The baseline of the cold-start benchmark: a Lambda function written by hand against
//! `lambda_runtime`, doing the minimum a partial-batch SQS consumer does (acknowledge every
//! record), set up the way the runtime's own examples are.
//!
//! It shares the choices tidings makes at start-up, so that the benchmark measures what
//! tidings adds rather than a different set-up: a current-thread Tokio runtime, and the
//! runtime's default log subscriber.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, service_fn};

async fn handle(event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
    // Every record succeeds: an empty list of failures acknowledges the whole batch.
    let _records = event.payload.records.len();
    Ok(SqsBatchResponse::default())
}

fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(lambda_runtime::run(service_fn(handle)))
}
