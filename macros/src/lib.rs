//! Procedural macros of tidings. They parse, check and emit calls into the libraries
//! (`tidings-events`, `tidings`); all behaviour lives there.

#![warn(missing_docs)]

mod attr;
mod event;
mod event_set;
mod handler;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives `tidings_events::Event` for a struct or enum that also implements `Serialize`,
/// `Deserialize` and `JsonSchema`.
///
/// ```
/// use schemars::JsonSchema;
/// use serde::{Deserialize, Serialize};
/// use tidings_events::Event;
///
/// #[derive(Serialize, Deserialize, JsonSchema, Event)]
/// #[event(type = "shop.order.placed", version = 1)]
/// pub struct OrderPlacedV1 {
///     #[event(subject)]
///     pub order_id: String,
/// }
///
/// #[derive(Serialize, Deserialize, JsonSchema, Event)]
/// #[event(type = "shop.order.placed", version = 2, upcast_from = OrderPlacedV1)]
/// pub struct OrderPlaced {
///     #[event(subject)]
///     pub order_id: String,
///     pub currency: String,
/// }
///
/// impl From<OrderPlacedV1> for OrderPlaced {
///     fn from(v1: OrderPlacedV1) -> Self {
///         Self { order_id: v1.order_id, currency: "EUR".into() }
///     }
/// }
///
/// assert_eq!(OrderPlaced::versions(), [1, 2]);
/// let placed = OrderPlaced { order_id: "order-42".into(), currency: "SEK".into() };
/// assert_eq!(placed.subject(), Some("order-42"));
/// ```
///
/// On the type, in one or more `#[event(...)]` attributes:
/// - `type = "shop.order.placed"` (required): the CloudEvents `type`, shared by every version
///   of the event. Dotted words of ASCII letters, digits, `-` and `_`.
/// - `version = 2` (required): this type's schema version, a whole number from 1 to
///   2147483647 (the envelope's `dataversion` is a CloudEvents integer, signed 32-bit).
/// - `upcast_from = OrderPlacedV1`: the previous version of the same event type. This type
///   must implement `From<OrderPlacedV1>`; data of any version of the chain then decodes into
///   this type. That the older type is an event of the same `type` with the version just
///   before this one (a chain has no gaps) is checked at compile time.
/// - `schema_base = "https://schemas.example.com/shop"`: where the published schemas live; the
///   schema `$id` becomes `{base}/{type}/v{version}.schema.json`. Without it the id is
///   `urn:tidings:schema:{type}:v{version}`.
/// - `crate = "tidings::events"`: the path of the `tidings_events` crate, when it is reached
///   through a re-export.
///
/// On at most one field of a struct: `#[event(subject)]` marks the id of the entity the event
/// is about. Its type is `String`, `Box<str>`, `Arc<str>`, `Cow<str>`, or an `Option` of one.
/// An enum event has no subject field; set it on the envelope instead.
///
/// `envelope_subject`, on a type without a subject field: its producers set the subject on
/// the envelope (`Envelope::with_subject`). A handler with `ordering = "latest_wins"` accepts
/// only event types that have a subject one of these two ways, since it orders each
/// subject's events: anything else is a compile error at `"latest_wins"`.
///
/// Each misuse is a compile error at the offending attribute, field or type that says what to
/// write instead. The type is also registered, so that
/// `tidings_events::schema::registrations()` lists it.
#[proc_macro_derive(Event, attributes(event))]
pub fn derive_event(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    event::expand(input, syn::parse_quote!(::tidings_events)).into()
}

/// `#[derive(Event)]` as `tidings` re-exports it (`tidings::Event`): the same derive, naming
/// the contract crate through `::tidings::events`, so that a crate depending on `tidings`
/// alone needs no `tidings-events` dependency of its own. Not used directly.
#[doc(hidden)]
#[proc_macro_derive(TidingsEvent, attributes(event))]
pub fn derive_tidings_event(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    event::expand(input, syn::parse_quote!(::tidings::events)).into()
}

/// Turns `async fn name(event: Envelope<E>, ctx: &Context) -> Result<(), HandlerError>` into
/// a Lambda event handler, where `E` is one event type (`#[derive(Event)]`) or an enum of
/// several (`#[derive(EventSet)]`).
///
/// ```
/// use tidings::{Context, Envelope, EventHandler, HandlerError};
///
/// #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
/// #[event(type = "shop.order.placed", version = 1)]
/// pub struct OrderPlaced {
///     #[event(subject)]
///     pub order_id: String,
/// }
///
/// #[tidings::event_handler(ordering = "latest_wins", main = false)]
/// async fn reserve_stock(event: Envelope<OrderPlaced>, ctx: &Context) -> Result<(), HandlerError> {
///     println!("reserving stock for {} ({})", event.data.order_id, ctx.message_id());
///     Ok(())
/// }
///
/// assert_eq!(reserve_stock::OPTIONS.name, "reserve_stock");
/// ```
///
/// It emits:
/// - a unit struct `name` implementing `tidings::EventHandler`, to pass to
///   `tidings::Pipeline::new` or run in-process with `tidings::testing`; it carries the
///   function's doc comments and visibility. Being a unit struct, the name is also a value,
///   so a local binding of the same name is a pattern: name locals differently;
/// - the function itself, unchanged, as `name::call(event, &ctx)`, for unit tests that want
///   none of the pipeline; attributes other than docs and `#[cfg]` (which goes on every
///   emitted item) stay on it;
/// - `<name as EventHandler>::OPTIONS`, the options below over their defaults;
/// - a registration listed by `tidings::HandlerRegistration::all()`: name, module, options and
///   the accepted types and versions, for codegen;
/// - `fn main`, which runs the handler on Lambda (`tidings::lambda::run`) with the
///   configuration of the environment; `main = false` leaves it out.
///
/// Options, all optional, each at most once:
/// - `trigger = "sqs" | "sns" | "auto"` (default `"auto"`): where invocations come from; an
///   invocation from the other one is refused.
/// - `ordering = "none" | "latest_wins"` (default `"none"`): with `"latest_wins"`, an event
///   whose `sequence` is not newer than the last processed for its subject is acknowledged
///   as stale and not run.
/// - `idempotency_key = "field"` (default: the event id): duplicates are recognised by this
///   field of the event data, whose type implements `Display`; for one event type only, not
///   an event set. The field may also be written bare, `idempotency_key = field`, as the
///   compiler's suggestion for a misspelt one writes it; a field the event lacks is reported
///   at the name, with the event's fields or the one meant.
/// - `concurrency = N` (default 10): how many records of a standard-queue batch run at once,
///   from 1.
/// - `on_unknown_type = "reject" | "ignore"` (default `"reject"`): what happens to an event
///   of a type the handler does not accept.
/// - `main = true | false` (default `true`).
/// - `crate = "path"`: the path of the `tidings` crate, when it is reached through a
///   re-export.
///
/// The function's future must be `Send`, as the runtime may move it between threads: hold
/// no `Rc` or `RefCell` guard across an `.await`. Each misuse is a compile error at the
/// offending token that says what to write instead.
#[proc_macro_attribute]
pub fn event_handler(attr: TokenStream, item: TokenStream) -> TokenStream {
    handler::expand(attr.into(), item.into()).into()
}

/// Derives `tidings::EventSet` for an enum with one variant per event type, so one handler
/// can accept several types:
///
/// ```
/// # use tidings::EventSet;
/// # #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
/// # #[event(type = "shop.order.placed", version = 1)]
/// # pub struct OrderPlaced { #[event(subject)] pub order_id: String }
/// # #[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, tidings::Event)]
/// # #[event(type = "shop.order.cancelled", version = 1)]
/// # pub struct OrderCancelled { #[event(subject)] pub order_id: String }
/// #[derive(tidings::EventSet)]
/// enum OrderEvent {
///     Placed(OrderPlaced),
///     Cancelled(OrderCancelled),
/// }
///
/// assert!(OrderEvent::accepts("shop.order.cancelled"));
/// ```
///
/// Each variant wraps exactly one event type, unnamed. An event is decoded into the variant of
/// its type; the versions of one event type are one variant (the newest type, which upcasts
/// the older ones), and two variants of one event type are a compile error. A single event
/// type needs no derive: it is an event set of one.
///
/// `#[event_set(crate = "path")]` on the enum gives the path of the `tidings` crate, when it
/// is reached through a re-export.
#[proc_macro_derive(EventSet, attributes(event_set))]
pub fn derive_event_set(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    event_set::expand(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
