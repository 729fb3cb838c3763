//! [`EventSet`]: the event types one handler accepts, either one [`Event`] type or an enum
//! with one variant per type (`#[derive(EventSet)]`).

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
