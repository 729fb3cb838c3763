//! `#[derive(EventSet)]`: an enum with one variant per event type becomes the set of types
//! one handler accepts.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Path};

pub fn expand(input: DeriveInput) -> syn::Result<TokenStream> {
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new(
            input.ident.span(),
            "#[derive(EventSet)] goes on an enum with one variant per event type, e.g. \
             `enum OrderEvent { Placed(OrderPlaced), Cancelled(OrderCancelled) }`; a single \
             event type needs no derive",
        ));
    };
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new(
            input.generics.span(),
            "#[derive(EventSet)] does not support generic enums",
        ));
    }
    if data.variants.is_empty() {
        return Err(syn::Error::new(
            input.ident.span(),
            "an event set needs at least one variant, one per event type",
        ));
    }
    let mut krate: Path = syn::parse_quote!(::tidings);
    for attr in input
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("event_set"))
    {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                krate = meta.value()?.parse::<syn::LitStr>()?.parse()?;
                Ok(())
            } else {
                Err(meta.error("the only event_set option is `crate = \"path::to::tidings\"`"))
            }
        })?;
    }
    let mut variants = Vec::new();
    for variant in &data.variants {
        let ty = match &variant.fields {
            Fields::Unnamed(fields) if fields.unnamed.len() == 1 => &fields.unnamed[0].ty,
            _ => {
                return Err(syn::Error::new(
                    variant.span(),
                    format!(
                        "each variant of an event set wraps exactly one event type: write `{}(SomeEvent)`",
                        variant.ident
                    ),
                ));
            }
        };
        variants.push((&variant.ident, ty));
    }
    let ident = &input.ident;
    let events = quote!(#krate::events);
    let accepted = variants.iter().map(|(_, ty)| {
        quote_spanned! {ty.span()=>
            #krate::AcceptedType {
                event_type: <#ty as #events::Event>::TYPE,
                versions: <#ty as #events::Event>::versions(),
            }
        }
    });
    let accepts = variants
        .iter()
        .map(|(_, ty)| quote!(event_type == <#ty as #events::Event>::TYPE));
    let decode = variants.iter().map(|(variant, ty)| {
        quote! {
            if envelope.attributes.event_type == <#ty as #events::Event>::TYPE {
                return <#ty as #events::Event>::decode_data(envelope.attributes.data_version, &envelope.data)
                    .map(#ident::#variant);
            }
        }
    });
    let subject = variants.iter().map(
        |(variant, ty)| quote!(#ident::#variant(event) => <#ty as #events::Event>::subject(event)),
    );
    // Two variants of one event type would make routing ambiguous: refuse at compile time.
    let mut distinct = Vec::new();
    for (i, (a_variant, a)) in variants.iter().enumerate() {
        for (b_variant, b) in &variants[i + 1..] {
            let message = format!(
                "variants `{a_variant}` and `{b_variant}` of `{ident}` wrap the same event type; \
                 an event set has one variant per type (versions of one type are one variant, \
                 through `upcast_from`)"
            );
            distinct.push(quote_spanned! {b.span()=>
                ::core::assert!(
                    !#events::__private::const_str_eq(<#a as #events::Event>::TYPE, <#b as #events::Event>::TYPE),
                    #message
                );
            });
        }
    }
    Ok(quote! {
        impl #krate::EventSet for #ident {
            fn accepted() -> ::std::vec::Vec<#krate::AcceptedType> {
                ::std::vec![#(#accepted),*]
            }

            fn accepts(event_type: &str) -> bool {
                #(#accepts)||*
            }

            fn decode(
                envelope: &#events::RawEnvelope,
            ) -> ::core::result::Result<Self, #events::DataError> {
                #(#decode)*
                ::core::unreachable!("EventSet::decode is only called for accepted types")
            }

            fn subject(&self) -> ::core::option::Option<&str> {
                match self {
                    #(#subject,)*
                }
            }
        }

        const _: () = {
            #(#distinct)*
        };
    })
}
