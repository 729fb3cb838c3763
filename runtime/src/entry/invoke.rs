//! [`Pipeline::invoke`]: the one path from a Lambda invocation to its answer. The generated
//! `main`, `tidings::testing`, the local poller and the benchmarks all call it, so a test
//! runs exactly what a deployed function runs.

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lambda_runtime::LambdaEvent;

use super::metrics;
use crate::Trigger;
use crate::handler::EventHandler;
use crate::pipeline::{BatchResult, InvocationError, InvocationInfo, Pipeline, Response};
use crate::transport::Invocation;

/// What one invocation came to: the answer for Lambda, every record's result, and the
/// batch's metrics line.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// What the function answers: the response, or the error that makes Lambda retry the
    /// whole invocation.
    pub response: Result<Response, InvocationError>,
    /// Every record's result, in order; empty when the invocation was refused before any
    /// record ran.
    pub batch: BatchResult,
    /// The batch's CloudWatch EMF line, without its line break; `None` when no record ran.
    pub metrics: Option<String>,
}

impl Answer {
    /// Writes the metrics line with its line break in one write, as a deployed function
    /// writes it to stdout (where Lambda hands it to CloudWatch Logs).
    pub fn write_metrics(&self, out: &mut impl Write) -> std::io::Result<()> {
        let Some(line) = &self.metrics else {
            return Ok(());
        };
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        out.write_all(&bytes)?;
        out.flush()
    }
}

impl<H: EventHandler> Pipeline<H> {
    /// Answers one invocation: checks that it comes from the service the handler's trigger names, runs its
    /// records, and returns the response with every record's result and the metrics line.
    ///
    /// This is what the generated `main` runs for every invocation; write
    /// [`Answer::metrics`] where the metrics go (stdout in Lambda) and hand
    /// [`Answer::response`] to the runtime.
    pub async fn invoke(&self, event: LambdaEvent<Invocation>) -> Answer {
        let (invocation, context) = event.into_parts();
        if let Err(error) = self.check_trigger(&invocation) {
            return Answer {
                response: Err(error),
                batch: BatchResult::default(),
                metrics: None,
            };
        }
        let info = InvocationInfo {
            request_id: context.request_id,
            deadline: deadline_of(context.deadline, SystemTime::now()),
        };
        let is_sns = matches!(invocation, Invocation::Sns(_));
        let batch = self.process(invocation.deliveries(), &info).await;
        let metrics = metrics::emf_line(
            self.metrics_namespace(),
            self.options().name,
            &batch,
            SystemTime::now(),
        );
        let response = if is_sns {
            batch.sns_result().map(|()| Response::Sns)
        } else {
            batch.sqs_response().map(Response::Sqs)
        };
        Answer {
            response,
            batch,
            metrics: Some(metrics),
        }
    }

    /// Refuses an invocation by a service the handler's trigger does not name.
    fn check_trigger(&self, invocation: &Invocation) -> Result<(), InvocationError> {
        let declared = self.options().trigger;
        let invoked_by = match invocation {
            Invocation::Sns(_) => Trigger::Sns,
            Invocation::Sqs(_) => Trigger::Sqs,
        };
        if declared == Trigger::Auto || declared == invoked_by {
            return Ok(());
        }
        Err(InvocationError::WrongTrigger {
            handler: self.options().name,
            declared,
            invoked_by,
        })
    }
}

/// The longest a Lambda invocation may run: what a deadline that cannot be real is taken as.
const LONGEST_INVOCATION: Duration = Duration::from_secs(15 * 60);

/// The invocation's deadline from the Runtime API's `lambda-runtime-deadline-ms`.
///
/// Lambda always sends a time in the future. A local emulator may not: `cargo lambda watch`
/// sends a fixed 600000, which is January 1970. A deadline more than a day in the past
/// cannot be an invocation's, so it is taken as the longest Lambda allows from now, with a
/// warning; a deadline that passed recently is kept, so a late invocation does no work.
fn deadline_of(deadline_ms: u64, now: SystemTime) -> SystemTime {
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
}
