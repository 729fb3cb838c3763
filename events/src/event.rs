//! The [`Event`] trait: what makes a Rust type an event of the shared contract.

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

/// A versioned event type of the shared contract.
///
/// Implement it with `#[derive(Event)]`, never by hand:
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use schemars::JsonSchema;
/// use tidings_events::Event;
///
/// /// A customer placed an order.
/// #[derive(Serialize, Deserialize, JsonSchema, Event)]
/// #[event(type = "shop.order.placed", version = 1)]
/// pub struct OrderPlaced {
///     #[event(subject)]
///     pub order_id: String,
///     pub total_cents: i64,
/// }
///
/// assert_eq!(OrderPlaced::TYPE, "shop.order.placed");
/// assert_eq!(OrderPlaced::VERSION, 1);
/// ```
///
/// Every version of an event type is its own Rust type. A newer version names the one before
/// it with `upcast_from = OlderType` and implements `From<OlderType>`; data written at any
/// version of the chain then decodes into the newest type (see [`Event::decode_data`]).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an event type",
    label = "`{Self}` does not implement `Event`",
    note = "derive it: add `Event` to the type's #[derive(...)] with \
            #[event(type = \"domain.entity.happened\", version = 1)]"
)]
pub trait Event: Serialize + DeserializeOwned + JsonSchema + Send + Sync + 'static {
    /// The CloudEvents `type`, e.g. `shop.order.placed`. Shared by every version.
    const TYPE: &'static str;
    /// The schema version of this Rust type (the `dataversion` attribute), at least 1.
    const VERSION: u32;
    /// The `$id` of this type's JSON Schema, also written as the envelope's `dataschema`.
    const SCHEMA_ID: &'static str;

    /// The entity this event is about (the CloudEvents `subject`), from the field marked
    /// `#[event(subject)]`; `None` when the type has no such field.
    fn subject(&self) -> Option<&str>;

    /// Every version this type can be decoded from, oldest first: the versions of its
    /// `upcast_from` chain, then [`Event::VERSION`].
    fn versions() -> Vec<u32>;

    /// Decodes `data` written at `version`, upcasting older versions through the chain.
    ///
    /// A version outside [`Event::versions`] is [`DataError::UnsupportedVersion`]; data that
    /// does not match the schema of its version is [`DataError::Invalid`].
    fn decode_data(version: u32, data: &RawValue) -> Result<Self, DataError>;
}

/// Why the `data` of an envelope could not be turned into a typed event.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The envelope's `dataversion` is not one this type knows.
    #[error(
        "`{event_type}` version {found} is not supported here (this code knows versions {supported:?}); \
         deploy a consumer built with the newer event types, or have the producer publish a version listed"
    )]
    UnsupportedVersion {
        /// The event type.
        event_type: &'static str,
        /// The version found in the envelope.
        found: u32,
        /// The versions this code can decode.
        supported: Vec<u32>,
    },
    /// The data does not deserialize into the type of its version.
    #[error("`data` of `{event_type}` version {version} does not match its schema: {source}")]
    Invalid {
        /// The event type.
        event_type: &'static str,
        /// The version whose schema the data was read with.
        version: u32,
        /// The deserializer's error, with the line and column of the problem.
        #[source]
        source: serde_json::Error,
    },
}

/// An event type with a field marked `#[event(subject)]`, or an event set whose every type
/// has one: what `ordering = "latest_wins"` needs, since it orders the events of each
/// subject. `#[derive(Event)]` and `#[derive(EventSet)]` implement it. Not public API.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no subject, and `ordering = \"latest_wins\"` orders the events of each subject",
    label = "needs every event type to mark its subject",
    note = "mark the field that identifies the entity with #[event(subject)], e.g. \
            `#[event(subject)] pub order_id: String`, or leave out `ordering = \"latest_wins\"`"
)]
pub trait HasSubject {}

/// A field type that can serve as the subject of an event: a string-like value.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an event subject: the subject must be string-like",
    label = "this field is marked #[event(subject)]",
    note = "use String, Box<str>, Arc<str>, Cow<str> or an Option of one; \
            or format the key into a String field and mark that field"
)]
pub trait SubjectField {
    /// The subject as a string slice.
    fn as_subject(&self) -> Option<&str>;
}

impl SubjectField for String {
    fn as_subject(&self) -> Option<&str> {
        Some(self)
    }
}

impl SubjectField for Box<str> {
    fn as_subject(&self) -> Option<&str> {
        Some(self)
    }
}

impl SubjectField for std::sync::Arc<str> {
    fn as_subject(&self) -> Option<&str> {
        Some(self)
    }
}

impl SubjectField for std::borrow::Cow<'_, str> {
    fn as_subject(&self) -> Option<&str> {
        Some(self)
    }
}

impl<T: SubjectField> SubjectField for Option<T> {
    fn as_subject(&self) -> Option<&str> {
        self.as_ref().and_then(SubjectField::as_subject)
    }
}

/// Turns an older version of an event into this one; the generated [`Event::decode_data`]
/// calls it for each `upcast_from` step.
///
/// It exists for its message: it is implemented for every `From` impl, and a missing one is
/// reported as the `From` impl to write rather than as an unsatisfied bound.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` says `upcast_from = {Older}` but has no `From<{Older}>` impl",
    label = "needs `impl From<{Older}> for {Self}` to upcast",
    note = "write `impl From<{Older}> for {Self} {{ fn from(older: {Older}) -> Self {{ .. }} }}`, \
            filling the fields this version added or changed"
)]
pub trait UpcastFrom<Older>: Sized {
    /// Converts `older` with its `From` impl.
    fn upcast(older: Older) -> Self;
}

impl<Older, T: From<Older>> UpcastFrom<Older> for T {
    fn upcast(older: Older) -> Self {
        T::from(older)
    }
}

/// Decodes `data` as exactly `E::VERSION`; the generated [`Event::decode_data`] calls this.
#[doc(hidden)]
pub fn decode_exact<E: Event>(data: &RawValue) -> Result<E, DataError> {
    serde_json::from_str(data.get()).map_err(|source| DataError::Invalid {
        event_type: E::TYPE,
        version: E::VERSION,
        source,
    })
}

/// Compares two strings in a const context; the derive uses it to check `upcast_from` at
/// compile time.
#[doc(hidden)]
pub const fn const_str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}
