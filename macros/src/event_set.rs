//! `#[derive(EventSet)]`: an enum with one variant per event type becomes the set of types
//! one handler accepts.
//!
//! The shape (an enum, one unnamed field a variant) is checked here. That each variant's type
//! is an `Event`, and that no two variants hold the same event type, need the types: they are
//! emitted as code spanned at the variant's type, so the compiler reports them there.

use proc_macro2::{Ident, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, Data, DataEnum, DeriveInput, Fields, Path, Type, Variant};

use crate::attr::{crate_path, set_once};

/// The example every message about the shape refers to.
const EXAMPLE: &str = "enum OrderEvent { Placed(OrderPlaced), Cancelled(OrderCancelled) }";

/// One variant: its name and the event type it wraps.
struct Member<'a> {
    variant: &'a Ident,
    ty: &'a Type,
}

/// Expands `#[derive(EventSet)]` on `input`, or explains everything wrong with it.
pub fn expand(input: DeriveInput) -> syn::Result<TokenStream> {
    let data = check_shape(&input)?;
    // Attribute and variant mistakes are independent: report all of them in one build.
    let mut errors: Option<syn::Error> = None;
    let mut report = |error: syn::Error| match &mut errors {
        Some(first) => first.combine(error),
        None => errors = Some(error),
    };
    let krate = parse_attrs(&input.attrs).unwrap_or_else(|error| {
        report(error);
        syn::parse_quote!(::tidings)
    });
    let mut members = Vec::new();
    for variant in &data.variants {
        match member_of(variant) {
            Ok(member) => members.push(member),
            Err(error) => report(error),
        }
    }
    if let Err(error) = check_distinct(&members) {
        report(error);
    }
    match errors {
        Some(error) => Err(error),
        None => Ok(emit(&input.ident, &krate, &members)),
    }
}

/// Rejects what cannot be an event set before looking at any variant.
fn check_shape(input: &DeriveInput) -> syn::Result<&DataEnum> {
    let ident = &input.ident;
    let not_enum = |span| {
        syn::Error::new(
            span,
            format!(
                "#[derive(EventSet)] goes on an enum with one variant per event type, e.g. \
                 `{EXAMPLE}`; a single event type is already a set of one: derive `Event` on \
                 `{ident}` and take `Envelope<{ident}>`"
            ),
        )
    };
    let data = match &input.data {
        Data::Enum(data) => data,
        Data::Struct(data) => return Err(not_enum(data.struct_token.span())),
        Data::Union(data) => return Err(not_enum(data.union_token.span())),
    };
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "an event set cannot be generic: the types a handler accepts are fixed at compile \
             time, so that they can become subscription filters; remove the parameters and \
             name each event type in a variant",
        ));
    }
    if data.variants.is_empty() {
        return Err(syn::Error::new(
            data.brace_token.span.join(),
            format!(
                "`{ident}` has no variants, so its handler would accept no event; add one \
                 variant per event type, e.g. `{EXAMPLE}`"
            ),
        ));
    }
    Ok(data)
}

/// Reads `#[event_set(crate = "path::to::tidings")]`.
fn parse_attrs(attrs: &[Attribute]) -> syn::Result<Path> {
    let mut krate: Option<Path> = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("event_set")) {
        attr.parse_nested_meta(|meta| {
            if !meta.path.is_ident("crate") {
                return Err(meta.error(format!(
                    "unknown option `{}` of #[event_set]; the only one is `crate`",
                    meta.path.to_token_stream()
                )));
            }
            let path = crate_path(&meta, "tidings", "my_platform::tidings")?;
            set_once(&mut krate, path, &meta)
        })?;
    }
    Ok(krate.unwrap_or_else(|| syn::parse_quote!(::tidings)))
}

/// The event type a variant wraps, or what to write instead.
fn member_of(variant: &Variant) -> syn::Result<Member<'_>> {
    let name = &variant.ident;
    let stray = variant
        .attrs
        .iter()
        .chain(variant.fields.iter().flat_map(|f| &f.attrs))
        .find(|a| a.path().is_ident("event_set"));
    if let Some(attr) = stray {
        return Err(syn::Error::new_spanned(
            attr,
            "#[event_set] goes on the enum, not on a variant or field",
        ));
    }
    match &variant.fields {
        Fields::Unnamed(fields) if fields.unnamed.len() == 1 => Ok(Member {
            variant: name,
            ty: &fields.unnamed[0].ty,
        }),
        Fields::Unit => Err(syn::Error::new_spanned(
            name,
            format!(
                "variant `{name}` holds no event: write `{name}(SomeEvent)` with the event type \
                 it stands for"
            ),
        )),
        Fields::Named(fields) if fields.named.len() == 1 => {
            let ty = fields.named[0].ty.to_token_stream().to_string();
            Err(syn::Error::new_spanned(
                fields,
                format!(
                    "a variant of an event set wraps its event type unnamed: write \
                     `{name}({ty})`"
                ),
            ))
        }
        fields => Err(syn::Error::new_spanned(
            fields,
            format!(
                "variant `{name}` holds {} values, and a variant of an event set wraps exactly \
                 one event type: write `{name}(SomeEvent)`, and put what else you need in the \
                 event type",
                fields.len()
            ),
        )),
    }
}

/// Refuses two variants of the same type as written; two types of the same event type are
/// refused at compile time by the code `emit` adds.
fn check_distinct(members: &[Member<'_>]) -> syn::Result<()> {
    let mut errors: Option<syn::Error> = None;
    for (i, later) in members.iter().enumerate() {
        let written = |m: &Member<'_>| m.ty.to_token_stream().to_string();
        if let Some(earlier) = members[..i].iter().find(|m| written(m) == written(later)) {
            let error = syn::Error::new_spanned(
                later.ty,
                format!(
                    "`{}` is already wrapped by variant `{}`: an event set has one variant per \
                     event type, so that each event is routed to one variant; remove one of the \
                     two",
                    written(later).replace(' ', ""),
                    earlier.variant
                ),
            );
            match &mut errors {
                Some(first) => first.combine(error),
                None => errors = Some(error),
            }
        }
    }
    errors.map_or(Ok(()), Err)
}

/// Emits the impl. Every path is absolute and the locals carry a prefix, so the code means the
/// same whatever the user's module imports or defines; every use of a variant's type is
/// spanned at it, so a type that is not an `Event` is reported once, there.
fn emit(ident: &Ident, krate: &Path, members: &[Member<'_>]) -> TokenStream {
    let events = quote!(#krate::events);
    let envelope = format_ident!("__tidings_envelope");
    let event_type = format_ident!("__tidings_event_type");
    let event = format_ident!("__tidings_event");

    let accepted = members.iter().map(|Member { ty, .. }| {
        quote_spanned! {ty.span()=>
            #krate::AcceptedType {
                event_type: <#ty as #events::Event>::TYPE,
                versions: <#ty as #events::Event>::versions(),
            }
        }
    });
    let accepts = members.iter().map(|Member { ty, .. }| {
        quote_spanned! {ty.span()=> #event_type == <#ty as #events::Event>::TYPE }
    });
    let decode = members.iter().map(|Member { variant, ty }| {
        quote_spanned! {ty.span()=>
            if #envelope.attributes.event_type == <#ty as #events::Event>::TYPE {
                return <#ty as #events::Event>::decode_data(
                    #envelope.attributes.data_version,
                    &#envelope.data,
                )
                .map(Self::#variant);
            }
        }
    });
    let subject = members.iter().map(|Member { variant, ty }| {
        quote_spanned! {ty.span()=>
            Self::#variant(#event) => <#ty as #events::Event>::subject(#event)
        }
    });

    let has_subject = members.iter().map(|Member { ty, .. }| ty);

    // Two variants of one event type (two versions of it, say) would make routing ambiguous:
    // refuse at compile time, at the later variant's type.
    let mut distinct = Vec::new();
    for (i, earlier) in members.iter().enumerate() {
        for later in &members[i + 1..] {
            let (a, b) = (earlier.ty, later.ty);
            let message = format!(
                "variants `{}` and `{}` of `{ident}` wrap the same event type; an event set \
                 has one variant per event type: keep the newest version, and let it upcast \
                 the older ones with `upcast_from`",
                earlier.variant, later.variant
            )
            .replace('{', "{{")
            .replace('}', "}}");
            distinct.push(quote_spanned! {b.span()=>
                ::core::assert!(
                    !#events::__private::const_str_eq(
                        <#a as #events::Event>::TYPE,
                        <#b as #events::Event>::TYPE,
                    ),
                    #message
                );
            });
        }
    }

    quote! {
        #[automatically_derived]
        impl #krate::EventSet for #ident {
            fn accepted() -> ::std::vec::Vec<#krate::AcceptedType> {
                ::std::vec![#(#accepted),*]
            }

            fn accepts(#event_type: &::core::primitive::str) -> ::core::primitive::bool {
                #(#accepts)||*
            }

            fn decode(
                #envelope: &#events::RawEnvelope,
            ) -> ::core::result::Result<Self, #events::DataError> {
                #(#decode)*
                ::core::unreachable!("EventSet::decode is only called for accepted types")
            }

            fn subject(&self) -> ::core::option::Option<&::core::primitive::str> {
                match self {
                    #(#subject,)*
                }
            }
        }

        // Each variant's type with a subject makes the set one: bounds under a `for<'_>`, so
        // that a variant without a subject is an error only where a subject is required
        // (`latest_wins`), not at this impl.
        #[automatically_derived]
        impl #events::__private::HasSubject for #ident
        where
            #(for<'__tidings> #has_subject: #events::__private::HasSubject,)*
        {
        }

        const _: () = {
            #(#distinct)*
        };
    }
}
