//! The event contract of tidings.
//!
//! This crate is what teams share: event types ([`Event`], `#[derive(Event)]`), the
//! CloudEvents 1.0 [`Envelope`] every message body is, the JSON Schemas of the types, the
//! schema registry a team publishes, and the compatibility check that keeps a producer from
//! breaking its consumers. It has no Lambda or AWS dependency, so any producer or consumer
//! can depend on it.

#![warn(missing_docs)]

pub mod attributes;
pub mod cli;

pub mod compat;
mod envelope;
mod error;
mod event;
pub mod registry;
pub mod schema;

pub use attributes::{Attributes, ExtensionValue};
pub use envelope::{Envelope, JSON_CONTENT_TYPE, RawEnvelope};
pub use error::EnvelopeError;
pub use event::{DataError, Event, SubjectField};
// What `ordering = "latest_wins"` requires of an event type, at the crate root so that a
// compile error names it plainly. Not used directly.
#[doc(hidden)]
pub use event::HasSubject;
pub use registry::dir::RegistryError;
pub use registry::{Registry, RegistryEntry};
pub use tidings_macros::Event;

/// Items the derive macro expands to. Not public API.
#[doc(hidden)]
pub mod __private {
    // The trait alone (not the derive beside it at the crate root), for `tidings` to re-export
    // with a derive of its own.
    pub use crate::event::Event;
    pub use crate::event::{HasSubject, UpcastFrom, const_str_eq, decode_exact};
    pub use crate::schema::EventRegistration;
    pub use inventory;
    pub use serde_json::value::RawValue;
}
