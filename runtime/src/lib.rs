//! tidings: typed, idempotent, versioned event handlers for AWS Lambda, fed by SNS and SQS.
//!
//! Write one `async fn` over your event type and mark it `#[tidings::event_handler]`; tidings
//! generates the Lambda entrypoint and runs every record through one pipeline:
//!
//! ```text
//! decode transport → parse envelope → route by type → check version (upcast or reject)
//! → idempotency claim → stale check → call handler (panic- and deadline-guarded)
//! → complete / release → outcome
//! ```
//!
//! The crate root holds what a handler's author uses: the attribute, the event and handler
//! types, the [`Pipeline`] with its outcomes, the stores and the dead-letter queues. A few
//! modules stay public because they are a topic of their own:
//!
//! - [`lambda`]: running a handler as a Lambda function, and its configuration;
//! - [`store`]: the [`Store`] contract, for writing a backend of your own;
//! - [`transport`]: how SQS and SNS records are read, for custom entrypoints;
//! - [`dead_letter`], `publish` (feature `publisher`) and `aws` (features `dynamodb` or
//!   `publisher`): the message attributes and limits of those backends;
//! - `testing` (feature `testing`), `local` (feature `local`) and `codegen` (feature
//!   `codegen`): tooling for tests, local runs and generated artifacts, which a deployed
//!   function does not need.
//!
//! Source layout: `handler/` is what users write against, `pipeline/` the steps every
//! record goes through, `transport/` the SQS and SNS readers, `backends/` the stores, queues
//! and publisher, `entry/` the Lambda boundary, `tooling/` the features above.

#![warn(missing_docs)]

// The macros name this crate `::tidings`; its own unit tests use them too.
#[cfg(test)]
extern crate self as tidings;

mod backends;
mod entry;
mod handler;
mod pipeline;
mod tooling;

pub mod transport;

#[cfg(any(feature = "dynamodb", feature = "publisher"))]
pub use backends::aws;
#[cfg(feature = "publisher")]
pub use backends::publish;
pub use backends::{dead_letter, store};
pub use entry::lambda;
#[cfg(feature = "codegen")]
pub use tooling::codegen;
#[cfg(feature = "local")]
pub use tooling::local;
#[cfg(feature = "testing")]
pub use tooling::testing;

#[cfg(feature = "publisher")]
pub use dead_letter::SqsDeadLetterQueue;
pub use dead_letter::{DeadLetter, DeadLetterQueue, MemoryDeadLetterQueue};
pub use entry::invoke::Answer;
pub use handler::causation::{Cause, current_cause, with_cause};
pub use handler::context::Context;
pub use handler::error::HandlerError;
pub use handler::event_set::{AcceptedType, EventSet};
pub use handler::options::{HandlerOptions, OnUnknownType, SubjectOrdering, Trigger};
pub use handler::{EventHandler, HandlerRegistration};
pub use pipeline::outcome::{Outcome, OutcomeKind, Reason, ReasonCode};
pub use pipeline::{BatchResult, InvocationError, Pipeline, RecordResult, Response};
#[cfg(feature = "publisher")]
pub use publish::{Destination, PublishError, Publisher, Receipt};
#[cfg(feature = "dynamodb")]
pub use store::DynamoDbStore;
pub use store::{MemoryStore, Store};
pub use tidings_events as events;
pub use tidings_events::__private::Event;
pub use tidings_events::{Attributes, Envelope};
pub use tidings_macros::TidingsEvent as Event;
pub use tidings_macros::{EventSet, event_handler};
pub use transport::Invocation;

// The rules `#[event_handler]` checks through the type system, at the crate root so that a
// compile error names them `tidings::HasSubject` and `tidings::SingleEvent`. Not used
// directly.
#[doc(hidden)]
pub use handler::event_set::{SingleEvent, require_subject, single_event};
#[doc(hidden)]
pub use tidings_events::HasSubject;

/// Items the macros expand to. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::handler::accepted_by;
    pub use crate::handler::event_set::NoEvents;
    pub use inventory;
    pub use tidings_events::__private::HasSubject;
}
