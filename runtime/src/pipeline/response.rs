//! What a batch answers Lambda: the [`Response`], or the [`InvocationError`] that makes
//! Lambda retry the whole invocation.

use aws_lambda_events::sqs::SqsBatchResponse;
use lambda_runtime::Diagnostic;
use serde::Serialize;

use crate::Trigger;
use crate::pipeline::outcome::Reason;

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

/// Why an invocation as a whole failed: Lambda then retries all of it (SQS redelivers the
/// batch, SNS retries the asynchronous invocation). Each variant is its own `errorType` in
/// the function's error response and log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvocationError {
    /// The invocation came from a service the handler is not declared for.
    #[error(
        "`{handler}` is declared with trigger = \"{}\" but was invoked by {}; fix the event \
         source or the handler's `trigger` option",
        trigger_name(*declared), service_name(*invoked_by)
    )]
    WrongTrigger {
        /// The handler's name.
        handler: &'static str,
        /// The trigger its attribute declares.
        declared: Trigger,
        /// The service that invoked it.
        invoked_by: Trigger,
    },
    /// Failed records without a message id: SQS cannot be told which records failed.
    #[error(
        "{count} record(s) failed and could not be identified (no messageId); the whole batch \
         is retried so that nothing is lost"
    )]
    UnidentifiedRecords {
        /// How many such records.
        count: usize,
    },
    /// An SNS record must be retried, and SNS retries only a failed invocation.
    #[error("record {message_id} must be retried: {reason}")]
    SnsRetry {
        /// The SNS message id, `(unknown)` when the record could not be read.
        message_id: String,
        /// Why it is retried.
        reason: Reason,
    },
}

impl InvocationError {
    /// The `errorType` Lambda reports for this error: stable names to alarm or filter on.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::WrongTrigger { .. } => "tidings.WrongTrigger",
            Self::UnidentifiedRecords { .. } => "tidings.UnidentifiedRecords",
            Self::SnsRetry { .. } => "tidings.SnsRetry",
        }
    }
}

impl From<InvocationError> for Diagnostic {
    fn from(error: InvocationError) -> Self {
        Diagnostic {
            error_type: error.error_type().to_owned(),
            error_message: error.to_string(),
        }
    }
}

fn trigger_name(trigger: Trigger) -> &'static str {
    match trigger {
        Trigger::Sqs => "sqs",
        Trigger::Sns => "sns",
        Trigger::Auto => "auto",
    }
}

fn service_name(trigger: Trigger) -> &'static str {
    match trigger {
        Trigger::Sns => "SNS",
        _ => "SQS",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_invocation_error_has_its_own_error_type() {
        let wrong = InvocationError::WrongTrigger {
            handler: "h",
            declared: Trigger::Sqs,
            invoked_by: Trigger::Sns,
        };
        let diagnostic = Diagnostic::from(wrong);
        assert_eq!(diagnostic.error_type, "tidings.WrongTrigger");
        assert_eq!(
            diagnostic.error_message,
            "`h` is declared with trigger = \"sqs\" but was invoked by SNS; fix the event source \
             or the handler's `trigger` option"
        );
        let unidentified = Diagnostic::from(InvocationError::UnidentifiedRecords { count: 2 });
        assert_eq!(unidentified.error_type, "tidings.UnidentifiedRecords");
    }
}
