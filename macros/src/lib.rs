//! Procedural macros of tidings. They parse, check and emit calls into the libraries
//! (`tidings-events`, `tidings`); all behaviour lives there.

mod event;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives `tidings_events::Event` for a struct or enum.
///
/// On the type:
/// - `#[event(type = "shop.order.placed")]` (required): the CloudEvents `type`, shared by
///   every version of the event.
/// - `#[event(version = 2)]` (required): this type's schema version, 1 or more.
/// - `#[event(upcast_from = OrderPlacedV1)]`: the previous version of the same type; this type
///   must implement `From<OrderPlacedV1>`. Checked at compile time.
/// - `#[event(schema_base = "https://schemas.example.com/shop")]`: where the published schemas
///   live; the schema `$id` becomes `{base}/{type}/v{version}.schema.json`. Without it the id is
///   `urn:tidings:schema:{type}:v{version}`.
/// - `#[event(crate = "tidings::events")]`: the path of the `tidings_events` crate, when it is
///   reached through a re-export.
///
/// On one field: `#[event(subject)]` marks the entity id (string-like) the event is about.
#[proc_macro_derive(Event, attributes(event))]
pub fn derive_event(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    event::expand(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
