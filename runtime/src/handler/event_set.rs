//! [`EventSet`]: the event types one handler accepts, either one [`Event`] type or an enum
//! with one variant per type (`#[derive(EventSet)]`).

use tidings_events::__private::HasSubject;
use tidings_events::{DataError, Event, RawEnvelope};

/// One accepted event type and the versions this code decodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedType {
    /// The CloudEvents `type`.
    pub event_type: &'static str,
    /// Every version decoded (older ones upcast), ascending.
    pub versions: Vec<u32>,
}

/// The event types a handler accepts.
///
/// Every [`Event`] type is one; an enum with one variant per event type becomes one with
/// `#[derive(EventSet)]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is neither an event type nor an event set",
    label = "a handler's `Envelope<..>` holds an event type, or an enum of event types",
    note = "for one event type, derive `Event` on it with #[event(type = \"domain.entity.happened\", version = 1)]; \
            for several, write an enum with one variant per type, e.g. \
            `enum OrderEvent {{ Placed(OrderPlaced), Cancelled(OrderCancelled) }}`, and derive `EventSet` on it"
)]
pub trait EventSet: Sized + Send + Sync + 'static {
    /// Every accepted type with its versions.
    fn accepted() -> Vec<AcceptedType>;

    /// Whether `event_type` is one of the accepted types.
    fn accepts(event_type: &str) -> bool;

    /// Decodes the data of an envelope whose type [`EventSet::accepts`].
    fn decode(envelope: &RawEnvelope) -> Result<Self, DataError>;

    /// The subject of the decoded event, from its data, when the envelope has none.
    fn subject(&self) -> Option<&str>;
}

#[diagnostic::do_not_recommend]
impl<E: Event> EventSet for E {
    fn accepted() -> Vec<AcceptedType> {
        vec![AcceptedType {
            event_type: E::TYPE,
            versions: E::versions(),
        }]
    }

    fn accepts(event_type: &str) -> bool {
        event_type == E::TYPE
    }

    fn decode(envelope: &RawEnvelope) -> Result<Self, DataError> {
        E::decode_data(envelope.attributes.data_version, &envelope.data)
    }

    fn subject(&self) -> Option<&str> {
        Event::subject(self)
    }
}

/// A single event type, as opposed to an enum of several: what `idempotency_key` reads a
/// field of. Not public API: `#[event_handler]` expands to it.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`idempotency_key` reads a field of one event type, but `{Self}` is not one",
    label = "the key field is named here",
    note = "the types of an event set need not share a field: remove `idempotency_key` to \
            key by event id, or give each event type its own handler with its own key"
)]
pub trait SingleEvent {}

#[diagnostic::do_not_recommend]
impl<E: Event> SingleEvent for E {}

/// The event data `idempotency_key` reads its field from, refusing an event set. Not public
/// API: `#[event_handler]` expands to it.
#[doc(hidden)]
pub fn single_event<E: SingleEvent>(data: &E) -> &E {
    data
}

/// Requires every event type of `E` to have a subject: what `ordering = "latest_wins"` needs.
/// Not public API: `#[event_handler]` expands to a call of it.
#[doc(hidden)]
pub fn require_subject<E: HasSubject>() {}

/// The event set of a handler whose `#[event_handler]` failed and whose first parameter names
/// no event type: it accepts nothing, and is never used, since the build fails. Not public
/// API.
#[doc(hidden)]
#[derive(Debug)]
pub enum NoEvents {}

impl EventSet for NoEvents {
    fn accepted() -> Vec<AcceptedType> {
        Vec::new()
    }

    fn accepts(_: &str) -> bool {
        false
    }

    fn decode(_: &RawEnvelope) -> Result<Self, DataError> {
        unreachable!("`NoEvents` accepts no type")
    }

    fn subject(&self) -> Option<&str> {
        match *self {}
    }
}
