//! `#[event_handler]`: checks the function's shape and options, then emits a unit struct of
//! the function's name implementing `tidings::EventHandler`, its registration, and `main`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{
    FnArg, GenericArgument, Ident, ItemFn, LitBool, LitInt, LitStr, Path, PathArguments,
    ReturnType, Type,
};

/// The options of the attribute, as written.
struct Options {
    source: Option<Ident>,
    ordering: Option<Ident>,
    idempotency_key: Option<Ident>,
    concurrency: Option<LitInt>,
    on_unknown_type: Option<Ident>,
    main: bool,
    krate: Path,
}

/// Each option's accepted values, and the `tidings` item each value maps to.
const SOURCES: &[(&str, &str)] = &[("sqs", "Sqs"), ("sns", "Sns"), ("auto", "Auto")];
const ORDERINGS: &[(&str, &str)] = &[("none", "None"), ("latest_wins", "LatestWins")];
const ON_UNKNOWN: &[(&str, &str)] = &[("reject", "Reject"), ("ignore", "Ignore")];

pub fn expand(attr: TokenStream, item: ItemFn) -> syn::Result<TokenStream> {
    let options = parse_options(attr)?;
    let event_type = check_signature(&item)?;
    Ok(emit(&item, &event_type, &options))
}

fn parse_options(attr: TokenStream) -> syn::Result<Options> {
    let mut options = Options {
        source: None,
        ordering: None,
        idempotency_key: None,
        concurrency: None,
        on_unknown_type: None,
        main: true,
        krate: syn::parse_quote!(::tidings),
    };
    let parser = syn::meta::parser(|meta| {
        let name = meta
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        match name.as_str() {
            "source" => options.source = Some(choice(&meta, SOURCES)?),
            "ordering" => options.ordering = Some(choice(&meta, ORDERINGS)?),
            "on_unknown_type" => options.on_unknown_type = Some(choice(&meta, ON_UNKNOWN)?),
            "idempotency_key" => {
                let lit: LitStr = meta.value()?.parse()?;
                let field = syn::parse_str::<Ident>(&lit.value()).map_err(|_| {
                    syn::Error::new(
                        lit.span(),
                        "`idempotency_key` names a field of the event data, e.g. \
                         idempotency_key = \"order_id\"; leave it out to key by event id",
                    )
                })?;
                options.idempotency_key = Some(Ident::new(&field.to_string(), lit.span()));
            }
            "concurrency" => {
                let lit: LitInt = meta.value()?.parse()?;
                match lit.base10_parse::<u32>() {
                    Ok(n) if n >= 1 => options.concurrency = Some(lit),
                    _ => {
                        return Err(syn::Error::new(
                            lit.span(),
                            "`concurrency` is how many records of a batch run at once: a whole number from 1 up",
                        ));
                    }
                }
            }
            "main" => options.main = meta.value()?.parse::<LitBool>()?.value,
            "crate" => options.krate = meta.value()?.parse::<LitStr>()?.parse()?,
            _ => {
                return Err(meta.error(
                    "unknown event_handler option; expected `source`, `ordering`, \
                     `idempotency_key`, `concurrency`, `on_unknown_type`, `main` or `crate`",
                ));
            }
        }
        Ok(())
    });
    syn::parse::Parser::parse2(parser, attr)?;
    Ok(options)
}

/// Reads `option = "value"` where value is one of `choices`, as the matching variant name.
fn choice(meta: &ParseNestedMeta<'_>, choices: &[(&str, &str)]) -> syn::Result<Ident> {
    let option = meta
        .path
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default();
    let lit: LitStr = meta.value()?.parse()?;
    let value = lit.value();
    match choices.iter().find(|(name, _)| *name == value) {
        Some((_, variant)) => Ok(Ident::new(variant, lit.span())),
        None => {
            let names: Vec<String> = choices.iter().map(|(n, _)| format!("\"{n}\"")).collect();
            Err(syn::Error::new(
                lit.span(),
                format!(
                    "`{option}` must be one of {}, not \"{value}\"",
                    names.join(", ")
                ),
            ))
        }
    }
}

/// Checks `async fn name(event: Envelope<E>, ctx: &Context) -> Result<(), HandlerError>` and
/// returns `E`.
fn check_signature(item: &ItemFn) -> syn::Result<Type> {
    let sig = &item.sig;
    let shape =
        "async fn name(event: Envelope<YourEvent>, ctx: &Context) -> Result<(), HandlerError>";
    if sig.asyncness.is_none() {
        return Err(syn::Error::new(
            sig.fn_token.span(),
            format!(
                "an event handler is an async fn: write `async fn {}`",
                sig.ident
            ),
        ));
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            sig.generics.span(),
            "an event handler cannot be generic: it is one Lambda entrypoint for concrete event types",
        ));
    }
    if let ReturnType::Default = sig.output {
        return Err(syn::Error::new(
            sig.paren_token.span.close(),
            "an event handler returns `Result<(), HandlerError>`: add `-> Result<(), HandlerError>`",
        ));
    }
    let params: Vec<&FnArg> = sig.inputs.iter().collect();
    if let Some(FnArg::Receiver(receiver)) = params.first() {
        return Err(syn::Error::new(
            receiver.span(),
            "an event handler is a free function, not a method: remove `self`",
        ));
    }
    if params.len() != 2 {
        let span = if params.is_empty() {
            sig.paren_token.span.join()
        } else {
            sig.inputs.span()
        };
        return Err(syn::Error::new(
            span,
            format!("an event handler takes two parameters, the event and the context: `{shape}`"),
        ));
    }
    let FnArg::Typed(event) = params[0] else {
        unreachable!("receivers were rejected above")
    };
    let event_type = envelope_argument(&event.ty).ok_or_else(|| {
        syn::Error::new(
            event.ty.span(),
            "the first parameter is the event in its envelope: `event: Envelope<YourEvent>`, where \
             YourEvent derives `Event` (or `EventSet` for several types)",
        )
    })?;
    let FnArg::Typed(ctx) = params[1] else {
        unreachable!("receivers were rejected above")
    };
    if !matches!(&*ctx.ty, Type::Reference(r) if r.mutability.is_none()) {
        return Err(syn::Error::new(
            ctx.ty.span(),
            "the second parameter is the context, by shared reference: `ctx: &Context`",
        ));
    }
    Ok(event_type)
}

/// `E` from `Envelope<E>` (any path ending in `Envelope`).
fn envelope_argument(ty: &Type) -> Option<Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Envelope" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.iter().collect::<Vec<_>>().as_slice() {
        [GenericArgument::Type(inner)] => Some(inner.clone()),
        _ => None,
    }
}

fn emit(item: &ItemFn, event_type: &Type, options: &Options) -> TokenStream {
    let krate = &options.krate;
    let name = &item.sig.ident;
    let name_text = name.to_string();
    let vis = &item.vis;
    let attrs = &item.attrs;
    let mut inner = item.clone();
    inner.sig.ident = format_ident!("call");
    inner.vis = syn::Visibility::Inherited;
    inner.attrs.clear();

    let set = |field: &str, value: Option<TokenStream>| -> TokenStream {
        let field = Ident::new(field, Span::call_site());
        value
            .map(|value| quote!(options.#field = #value;))
            .unwrap_or_default()
    };
    let source = set(
        "source",
        options.source.as_ref().map(|v| quote!(#krate::Source::#v)),
    );
    let ordering = set(
        "ordering",
        options
            .ordering
            .as_ref()
            .map(|v| quote!(#krate::Ordering::#v)),
    );
    let on_unknown = set(
        "on_unknown_type",
        options
            .on_unknown_type
            .as_ref()
            .map(|v| quote!(#krate::OnUnknownType::#v)),
    );
    let concurrency = set(
        "concurrency",
        options.concurrency.as_ref().map(|n| quote!(#n)),
    );
    let key_field = set(
        "idempotency_key",
        options.idempotency_key.as_ref().map(|f| {
            let text = f.to_string();
            quote!(::core::option::Option::Some(#text))
        }),
    );
    let key_fn = options.idempotency_key.as_ref().map(|field| {
        quote_spanned! {field.span()=>
            fn idempotency_key(
                event: &#krate::Envelope<Self::Events>,
            ) -> ::core::option::Option<::std::string::String> {
                ::core::option::Option::Some(::std::string::ToString::to_string(&event.data.#field))
            }
        }
    });
    let main = options.main.then(|| {
        quote! {
            /// The Lambda entrypoint generated by `#[event_handler]`.
            #[allow(dead_code)]
            fn main() -> ::core::result::Result<(), #krate::lambda::Error> {
                #krate::lambda::run(#name)
            }
        }
    });
    let event_span = event_type.span();
    let events_bound = quote_spanned! {event_span=> #event_type};

    quote! {
        #(#attrs)*
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy, Default)]
        #vis struct #name;

        impl #name {
            #[allow(clippy::needless_lifetimes)]
            #inner
        }

        impl #krate::EventHandler for #name {
            type Events = #events_bound;

            const OPTIONS: #krate::HandlerOptions = {
                #[allow(unused_mut)]
                let mut options = #krate::HandlerOptions::new(#name_text);
                #source
                #ordering
                #on_unknown
                #concurrency
                #key_field
                options
            };

            #key_fn

            fn handle<'a>(
                &'a self,
                event: #krate::Envelope<Self::Events>,
                ctx: &'a #krate::Context,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<(), #krate::HandlerError>,
            > + ::core::marker::Send + 'a {
                #name::call(event, ctx)
            }
        }

        #krate::__private::inventory::submit! {
            #krate::handler::HandlerRegistration {
                name: #name_text,
                module_path: ::core::module_path!(),
                options: <#name as #krate::EventHandler>::OPTIONS,
                accepted: <#event_type as #krate::EventSet>::accepted,
            }
        }

        #main
    }
}
