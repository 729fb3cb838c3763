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

#![warn(missing_docs)]

#[cfg(any(feature = "dynamodb", feature = "publisher"))]
pub mod aws;
pub mod causation;
pub mod codegen;
pub mod context;
pub mod dead_letter;
mod entry;
pub use entry::{config, lambda, telemetry};
pub mod error;
pub mod event_set;
pub mod handler;
#[cfg(feature = "publisher")]
pub mod local;
pub mod message_attribute;
pub mod options;
pub mod outcome;
pub mod pipeline;
#[cfg(feature = "publisher")]
pub mod publish;
#[cfg(feature = "publisher")]
pub mod sqs_dead_letter;
pub mod store;
pub mod testing;
pub mod transport;

pub use context::Context;
pub use dead_letter::{DeadLetter, DeadLetterQueue, MemoryDeadLetterQueue};
pub use entry::invoke::Answer;
pub use error::HandlerError;
pub use event_set::{AcceptedType, EventSet};
pub use handler::EventHandler;
pub use options::{HandlerOptions, OnUnknownType, Ordering, Source};
pub use outcome::{Outcome, OutcomeKind, Reason, ReasonCode};
pub use pipeline::{BatchResult, InvocationError, Pipeline, RecordResult, Response};
#[cfg(feature = "publisher")]
pub use publish::{Destination, PublishError, Publisher, Receipt};
#[cfg(feature = "publisher")]
pub use sqs_dead_letter::SqsDeadLetterQueue;
pub use store::{MemoryStore, Store};
pub use tidings_events as events;
pub use tidings_events::{Attributes, Envelope, Event};
pub use tidings_macros::{EventSet, event_handler};

/// Items the macros expand to. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::event_set::{SingleEvent, single_event};
    pub use crate::handler::accepted_by;
    pub use inventory;
}
