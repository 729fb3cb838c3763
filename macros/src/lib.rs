//! Procedural macros of tidings. They parse, check and emit calls into the libraries
//! (`tidings-events`, `tidings`); all behaviour lives there.

mod event;
mod event_set;
mod handler;

use proc_macro::TokenStream;
use syn::{DeriveInput, ItemFn, parse_macro_input};

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
/// - `version = 2` (required): this type's schema version, a whole number from 1.
/// - `upcast_from = OrderPlacedV1`: the previous version of the same event type. This type
///   must implement `From<OrderPlacedV1>`; data of any version of the chain then decodes into
///   this type. That the older type is an event of the same `type` with a lower version is
///   checked at compile time.
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
/// Each misuse is a compile error at the offending attribute, field or type that says what to
/// write instead. The type is also registered, so that
/// `tidings_events::schema::registrations()` lists it.
#[proc_macro_derive(Event, attributes(event))]
pub fn derive_event(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    event::expand(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Turns `async fn name(event: Envelope<E>, ctx: &Context) -> Result<(), HandlerError>` into
/// a Lambda event handler.
///
/// `name` becomes a unit struct implementing `tidings::EventHandler` (pass it to
/// `tidings::Processor::new` or `tidings::testing`), the handler is registered for codegen,
/// and a `fn main` running it on Lambda is emitted (`main = false` leaves it out).
///
/// Options, all optional:
/// - `source = "sqs" | "sns" | "auto"` (default `auto`): where invocations come from.
/// - `ordering = "none" | "latest_wins"` (default `none`): with `latest_wins`, an event whose
///   `sequence` is not newer than the last processed for its subject is acknowledged as
///   stale and not run.
/// - `idempotency_key = "field"`: key duplicates by a field of the event data instead of
///   the event id.
/// - `concurrency = N` (default 10): records of a standard-queue batch run at once.
/// - `on_unknown_type = "reject" | "ignore"` (default `reject`).
/// - `main = false`: do not emit `fn main`.
/// - `crate = "path"`: the path of the `tidings` crate, when re-exported.
#[proc_macro_attribute]
pub fn event_handler(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = parse_macro_input!(item as ItemFn);
    handler::expand(attr.into(), item)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Derives `tidings::EventSet` for an enum with one variant per event type, so one handler
/// can accept several types:
///
/// ```ignore
/// #[derive(tidings::EventSet)]
/// enum OrderEvent {
///     Placed(OrderPlaced),
///     Cancelled(OrderCancelled),
/// }
/// ```
///
/// Versions of one event type are one variant (the newest type; older versions upcast).
/// Two variants of the same event type are a compile error.
#[proc_macro_derive(EventSet, attributes(event_set))]
pub fn derive_event_set(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    event_set::expand(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
