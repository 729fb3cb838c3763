//! What a handler's author writes against: [`EventHandler`] (what `#[event_handler]`
//! implements for the user's function), its options, the [`Context`] and [`HandlerError`] of
//! a call, the event sets it accepts, and the cause it passes on to the events it publishes.

pub mod causation;
pub mod context;
pub mod error;
pub mod event_set;
pub mod options;

use std::future::Future;

use tidings_events::Envelope;

use crate::{Context, EventSet, HandlerError, HandlerOptions};

/// A typed event handler.
///
/// `#[tidings::event_handler]` turns an `async fn(Envelope<E>, &Context) -> Result<(),
/// HandlerError>` into a unit struct of the same name implementing this trait, so the
/// function's name is a value that tests hand to [`crate::testing`] and `main` hands to
/// [`crate::lambda::run`]. A third parameter, `&S`, is the handler's state: its clients and
/// configuration, built once per container and handed to every call, as axum's `State` or the
/// closure of `lambda_runtime::service_fn` are.
pub trait EventHandler: Send + Sync + 'static {
    /// The event types accepted: one [`tidings_events::Event`] type or an enum of them.
    type Events: EventSet;

    /// What the handler is given besides the event: its dependencies (clients, config). `()`
    /// for a handler that takes none.
    type State: Send + Sync + 'static;

    /// The handler's options, as written in the attribute.
    const OPTIONS: HandlerOptions;

    /// The idempotency key taken from the event data, when the attribute names a field
    /// (`idempotency_key = "order_id"`); `None` keys by event id.
    fn idempotency_key(_event: &Envelope<Self::Events>) -> Option<String> {
        None
    }

    /// Handles one event.
    fn handle<'a>(
        &'a self,
        event: Envelope<Self::Events>,
        ctx: &'a Context,
        state: &'a Self::State,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send + 'a;
}

/// A handler as `#[event_handler]` registers it, so tools can list every handler a program
/// links: the types it accepts become SNS filter policies, AsyncAPI operations and fixtures.
#[derive(Debug)]
pub struct HandlerRegistration {
    /// The handler's name.
    pub name: &'static str,
    /// The module that defines it.
    pub module_path: &'static str,
    /// Its options.
    pub options: HandlerOptions,
    /// The event types and versions it accepts.
    pub accepted: fn() -> Vec<crate::AcceptedType>,
}

inventory::collect!(HandlerRegistration);

/// The types and versions `H` accepts: the registration's `accepted`. Not public API:
/// `#[event_handler]` expands to it, so that an event type that is not an `EventSet` is
/// reported once, at `type Events`.
#[doc(hidden)]
pub fn accepted_by<H: EventHandler>() -> Vec<crate::AcceptedType> {
    H::Events::accepted()
}

impl HandlerRegistration {
    /// Every handler linked into this program, sorted by name.
    pub fn all() -> Vec<&'static Self> {
        let mut all: Vec<_> = inventory::iter::<Self>.into_iter().collect();
        all.sort_by_key(|r| (r.name, r.module_path));
        all
    }
}
