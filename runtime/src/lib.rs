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

pub mod context;
pub mod error;
pub mod event_set;
pub mod options;
pub mod outcome;
pub mod store;
pub mod transport;

pub use context::Context;
pub use error::HandlerError;
pub use event_set::{AcceptedType, EventSet};
pub use options::{HandlerOptions, OnUnknownType, Ordering, Source};
pub use outcome::{Outcome, Reason, ReasonCode};
pub use store::{MemoryStore, Store};
pub use tidings_events as events;
pub use tidings_events::{Attributes, Envelope, Event};
