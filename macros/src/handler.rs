//! `#[event_handler]`: checks the function's shape and options, then emits a unit struct of
//! the function's name implementing `tidings::EventHandler`, its registration, and `main`.
//!
//! What the syntax alone can tell (the shape of the signature, the options) is checked here,
//! with an error at the offending token. What needs types (the event type is an `Event` or an
//! `EventSet`, the key field exists, the future is `Send`, the return type) is left to the
//! compiler, through code spanned at the token that asked for it, and the
//! `#[diagnostic::on_unimplemented]` messages of the traits in `tidings`.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{
    Attribute, Expr, ExprLit, ExprUnary, FnArg, GenericArgument, GenericParam, Ident, Item, ItemFn,
    Lit, LitBool, LitInt, Pat, Path, PathArguments, ReturnType, Signature, Type, UnOp,
};

use crate::attr::{crate_path, set_once};

/// The signature every message about the shape refers to.
const SHAPE: &str =
    "async fn name(event: Envelope<YourEvent>, ctx: &Context) -> Result<(), HandlerError>";

/// The options of the attribute, as written; `None` for an option left out. An option with
/// a fixed set of values holds the `tidings` enum variant its value maps to.
#[derive(Default)]
struct Options {
    trigger: Option<Ident>,
    ordering: Option<Ident>,
    idempotency_key: Option<Ident>,
    concurrency: Option<LitInt>,
    on_unknown_type: Option<Ident>,
    main: Option<LitBool>,
    /// The async fn that builds the handler's state in the generated `main`.
    state: Option<Path>,
    krate: Option<Path>,
}

/// An option with a fixed set of values: its accepted values, and the `tidings` enum variant
/// each maps to.
struct Choices {
    values: &'static [(&'static str, &'static str)],
}

const TRIGGERS: Choices = Choices {
    values: &[("sqs", "Sqs"), ("sns", "Sns"), ("auto", "Auto")],
};
const ORDERINGS: Choices = Choices {
    values: &[("none", "None"), ("latest_wins", "LatestWins")],
};
const ON_UNKNOWN: Choices = Choices {
    values: &[("reject", "Reject"), ("ignore", "Ignore")],
};

/// The option names, for the message about an unknown one.
const OPTION_NAMES: &str = "`trigger`, `ordering`, `idempotency_key`, `concurrency`, \
                            `on_unknown_type`, `main`, `state` and `crate`";

/// Expands `#[event_handler(attr)]` on `item`, or explains everything wrong with it.
///
/// With an error, a best-effort expansion is emitted beside it (see [`fallback`]): the
/// handler's name still names a handler, so code that serves or tests it reports nothing
/// more, and the function's imports stay used. One mistake, one error.
pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let Ok(item_fn) = syn::parse2::<ItemFn>(item.clone()) else {
        let mut tokens = not_a_fn(item.clone()).into_compile_error();
        tokens.extend(quote!(#[allow(dead_code)] #item));
        return tokens;
    };
    match try_expand(attr.clone(), &item_fn) {
        Ok(expanded) => expanded,
        Err(error) => {
            let mut tokens = error.into_compile_error();
            tokens.extend(fallback(attr, &item_fn));
            tokens
        }
    }
}

fn try_expand(attr: TokenStream, item: &ItemFn) -> syn::Result<TokenStream> {
    // Option and signature mistakes are independent: report both in one build.
    match (parse_options(attr), check_signature(&item.sig)) {
        (Ok(options), Ok(signature)) => {
            check_state_builder(&item.sig, &signature, &options)?;
            Ok(emit(item, &signature, &options))
        }
        (Err(mut first), Err(second)) => {
            first.combine(second);
            Err(first)
        }
        (Err(error), Ok(_)) | (Ok(_), Err(error)) => Err(error),
    }
}

/// What is emitted beside an error: the handler as well as it can be made out.
///
/// With a valid signature, the full expansion, with the options that parsed (the defaults
/// when they did not) and a generated `main` only where the attribute did not leave it out
/// and no state needs building. With an invalid one, the handler struct whose `handle` is
/// never run, accepting the event type when the first parameter names one.
fn fallback(attr: TokenStream, item: &ItemFn) -> TokenStream {
    let parsed = parse_options(attr.clone()).ok();
    let krate: Path = parsed
        .as_ref()
        .and_then(|options| options.krate.clone())
        .unwrap_or_else(|| syn::parse_quote!(::tidings));
    let Ok(signature) = check_signature(&item.sig) else {
        return stand_in(item, &krate);
    };
    let mut options = parsed.unwrap_or_default();
    // `main` as written when it parsed; left out when the attribute names `main` at all but
    // the options did not parse, so that a `main` of the user's own is not defined twice.
    let wants_main = match &options.main {
        Some(main) => main.value,
        None => !names_main(&attr),
    };
    let builds_state = signature.state.is_some() && options.state.is_some();
    if !wants_main || (signature.state.is_some() && !builds_state) {
        options.main = Some(LitBool::new(false, Span::call_site()));
    }
    if !builds_state || !wants_main {
        options.state = None;
    }
    options.krate = Some(krate);
    emit(item, &signature, &options)
}

/// Whether the attribute has a `main` option, read from its tokens: used when the options as
/// a whole did not parse.
fn names_main(attr: &TokenStream) -> bool {
    attr.clone()
        .into_iter()
        .any(|token| matches!(&token, TokenTree::Ident(ident) if ident == "main"))
}

/// The handler of a function whose signature is not a handler's: the struct, the function
/// as written (so its imports and items stay used), and an `EventHandler` impl that is never
/// run, since the build fails on the error beside it.
fn stand_in(item: &ItemFn, krate: &Path) -> TokenStream {
    // A method (inside an impl block) or a function called `main` cannot become a struct of
    // its name there: it is left as written.
    if item.sig.receiver().is_some() || item.sig.ident == "main" {
        return quote!(#[allow(dead_code)] #item);
    }
    let name = &item.sig.ident;
    let name_text = name.to_string();
    let vis = &item.vis;
    let block = &item.block;
    let call_sig = call_signature(&item.sig);
    let handler_struct = handler_struct(vis, name);
    let typed: Vec<&Type> = item
        .sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(typed) => Some(&*typed.ty),
            FnArg::Receiver(_) => None,
        })
        .collect();
    let events = typed
        .first()
        .and_then(|ty| envelope_argument(ty))
        .map_or_else(|| quote!(#krate::__private::NoEvents), |ty| quote!(#ty));
    let state = match typed.get(2) {
        Some(Type::Reference(reference)) if reference.mutability.is_none() => {
            let elem = &reference.elem;
            quote!(#elem)
        }
        _ => quote!(()),
    };
    quote! {
        #handler_struct

        impl #name {
            #[allow(dead_code, clippy::all)]
            #vis #call_sig #block
        }

        impl #krate::EventHandler for #name {
            type Events = #events;
            type State = #state;
            const OPTIONS: #krate::HandlerOptions = #krate::HandlerOptions::new(#name_text);

            fn handle<'a>(
                &'a self,
                _: #krate::Envelope<Self::Events>,
                _: &'a #krate::Context,
                _: &'a Self::State,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<(), #krate::HandlerError>,
            > + ::core::marker::Send + 'a {
                async { ::core::unreachable!("a handler whose #[event_handler] failed never runs") }
            }
        }
    }
}

/// A handler with state needs a way for the generated `main` to build it, and `state = ...`
/// needs state to build.
fn check_state_builder(
    sig: &Signature,
    signature: &HandlerSignature,
    options: &Options,
) -> syn::Result<()> {
    let generates_main = options.main.as_ref().is_none_or(|main| main.value);
    match (&signature.state, &options.state) {
        (Some((ty, span)), None) if generates_main => Err(syn::Error::new(
            *span,
            format!(
                "`{}` takes state that the generated `main` cannot build: add `state = \
                 build` to the attribute, naming an `async fn build() -> Result<{}, E>`, or \
                 `main = false` and serve it with `tidings::lambda::run_with_state`",
                sig.ident,
                ty.to_token_stream().to_string().replace(' ', "")
            ),
        )),
        (None, Some(path)) => Err(syn::Error::new_spanned(
            path,
            format!(
                "`state` builds the handler's state, but `{}` takes none: add a third \
                 parameter `state: &YourState`, or remove the option",
                sig.ident
            ),
        )),
        (Some(_), Some(path)) if !generates_main => Err(syn::Error::new_spanned(
            path,
            "`state` builds the state in the generated `main`, and `main = false` leaves it \
             out: remove one of the two",
        )),
        _ => Ok(()),
    }
}

/// The error for an attribute on something other than a function, at the keyword that says
/// what it is instead.
fn not_a_fn(item: TokenStream) -> syn::Error {
    let message = format!("#[event_handler] goes on an async fn: `{SHAPE}`");
    let keyword = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Struct(item)) => Some(item.struct_token.span),
        Ok(Item::Enum(item)) => Some(item.enum_token.span),
        Ok(Item::Impl(item)) => Some(item.impl_token.span),
        Ok(Item::Mod(item)) => Some(item.mod_token.span),
        Ok(Item::Static(item)) => Some(item.static_token.span),
        Ok(Item::Const(item)) => Some(item.const_token.span),
        Ok(Item::Trait(item)) => Some(item.trait_token.span),
        Ok(Item::Type(item)) => Some(item.type_token.span),
        _ => None,
    };
    match keyword {
        Some(span) => syn::Error::new(span, message),
        None => syn::Error::new_spanned(item, message),
    }
}

fn parse_options(attr: TokenStream) -> syn::Result<Options> {
    let mut options = Options::default();
    let parser = syn::meta::parser(|meta| options.parse(&meta));
    syn::parse::Parser::parse2(parser, attr)?;
    Ok(options)
}

impl Options {
    /// Parses one `name = value` option.
    fn parse(&mut self, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
        let name = meta
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        match name.as_str() {
            "trigger" => {
                let value = TRIGGERS.parse(meta)?;
                set_once(&mut self.trigger, value, meta)
            }
            "source" => Err(meta.error(
                "`source` is now `trigger` (the CloudEvents `source` is the producer): write \
                 `trigger = \"sqs\"`, `\"sns\"` or `\"auto\"`",
            )),
            "ordering" => {
                let value = ORDERINGS.parse(meta)?;
                set_once(&mut self.ordering, value, meta)
            }
            "on_unknown_type" => {
                let value = ON_UNKNOWN.parse(meta)?;
                set_once(&mut self.on_unknown_type, value, meta)
            }
            "idempotency_key" => {
                let field = parse_key_field(meta)?;
                set_once(&mut self.idempotency_key, field, meta)
            }
            "concurrency" => {
                let value = parse_concurrency(meta)?;
                set_once(&mut self.concurrency, value, meta)
            }
            "main" => {
                let value = meta.value()?.parse::<LitBool>().map_err(|error| {
                    syn::Error::new(
                        error.span(),
                        "`main` takes `true` or `false`: write `main = false` to leave out \
                         the generated `fn main`",
                    )
                })?;
                set_once(&mut self.main, value, meta)
            }
            "state" => {
                let path = parse_state_builder(meta)?;
                set_once(&mut self.state, path, meta)
            }
            "crate" => {
                let path = crate_path(meta, "tidings", "my_platform::tidings")?;
                set_once(&mut self.krate, path, meta)
            }
            _ => Err(meta.error(format!(
                "unknown option `{}` of #[event_handler]; the options are {OPTION_NAMES}",
                meta.path.to_token_stream().to_string().replace(' ', "")
            ))),
        }
    }
}

impl Choices {
    /// Parses `= "value"` where the value is one of these choices, into its variant, spanned
    /// at the literal.
    fn parse(&self, meta: &ParseNestedMeta<'_>) -> syn::Result<Ident> {
        let option = meta.path.to_token_stream().to_string();
        let allowed = self
            .values
            .iter()
            .map(|(name, _)| format!("\"{name}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let expr: Expr = meta.value()?.parse()?;
        let lit = match &expr {
            Expr::Lit(ExprLit {
                lit: Lit::Str(lit), ..
            }) => lit,
            _ => {
                return Err(syn::Error::new_spanned(
                    &expr,
                    format!(
                        "`{option}` takes a string: one of {allowed}, e.g. `{option} = \"{}\"`",
                        self.values[0].0
                    ),
                ));
            }
        };
        let value = lit.value();
        match self.values.iter().find(|(name, _)| *name == value) {
            Some((_, variant)) => Ok(Ident::new(variant, lit.span())),
            None => Err(syn::Error::new(
                lit.span(),
                format!("`{option}` must be one of {allowed}, not \"{value}\""),
            )),
        }
    }
}

/// Parses `idempotency_key = "field"` (or the bare `idempotency_key = field`) into the field's
/// identifier, spanned at the value so that the compiler reports a field the event lacks
/// there, listing the fields or suggesting the one meant. Either form is accepted so that
/// the compiler's suggestion, which writes the field bare, is right as it stands.
fn parse_key_field(meta: &ParseNestedMeta<'_>) -> syn::Result<Ident> {
    let usage = "`idempotency_key` names a field of the event data whose value identifies \
                 the work, e.g. `idempotency_key = \"order_id\"`; leave it out to key by \
                 event id";
    let expr: Expr = meta.value()?.parse()?;
    let lit = match &expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => lit,
        Expr::Path(path) if path.qself.is_none() && path.path.get_ident().is_some() => {
            let field = path.path.get_ident().expect("checked");
            return Ok(field.clone());
        }
        _ => return Err(syn::Error::new_spanned(&expr, usage)),
    };
    let value = lit.value();
    match syn::parse_str::<Ident>(&value) {
        Ok(field) => Ok(Ident::new(&field.to_string(), lit.span())),
        Err(_) => Err(syn::Error::new(
            lit.span(),
            format!(
                "\"{}\" is not a field name: {usage}",
                value.escape_default()
            ),
        )),
    }
}

/// Parses `concurrency = N`, a whole number from 1. Any expression is read, so that a string
/// or a negative number gets a message saying what to write.
fn parse_concurrency(meta: &ParseNestedMeta<'_>) -> syn::Result<LitInt> {
    let usage = "`concurrency` is how many records of a standard-queue batch run at once: a \
                 whole number from 1, e.g. `concurrency = 4`";
    let expr: Expr = meta.value()?.parse()?;
    match &expr {
        Expr::Lit(ExprLit {
            lit: Lit::Int(lit), ..
        }) => match lit.base10_parse::<u32>() {
            // Emitted without any suffix the user wrote, so that it is always a `usize`.
            Ok(n) if n >= 1 => Ok(LitInt::new(&n.to_string(), lit.span())),
            Ok(_) => Err(syn::Error::new(
                lit.span(),
                format!("a concurrency of 0 would never run a record; {usage}"),
            )),
            Err(_) => Err(syn::Error::new(
                lit.span(),
                format!("a concurrency of {lit} is more than can run at once; {usage}"),
            )),
        },
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_), ..
        }) => Err(syn::Error::new_spanned(
            &expr,
            format!("a concurrency cannot be negative; {usage}"),
        )),
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) if lit.value().trim().parse::<u32>().is_ok_and(|n| n >= 1) => Err(syn::Error::new(
            lit.span(),
            format!(
                "write the number without quotes: `concurrency = {}`",
                lit.value().trim()
            ),
        )),
        _ => Err(syn::Error::new_spanned(&expr, usage)),
    }
}

/// Parses `state = path::to::build`, the async fn the generated `main` calls to build the
/// handler's state.
fn parse_state_builder(meta: &ParseNestedMeta<'_>) -> syn::Result<Path> {
    let usage = "`state` names the async fn that builds the handler's state in the generated \
                 `main`, e.g. `state = Services::from_env`, where `async fn from_env() -> \
                 Result<Services, E>`";
    let expr: Expr = meta.value()?.parse()?;
    match expr {
        Expr::Path(path) if path.qself.is_none() => Ok(path.path),
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => match lit.parse::<Path>() {
            Ok(path) => Err(syn::Error::new(
                lit.span(),
                format!(
                    "write the path without quotes: `state = {}`",
                    path.to_token_stream().to_string().replace(' ', "")
                ),
            )),
            Err(_) => Err(syn::Error::new(lit.span(), usage)),
        },
        other => Err(syn::Error::new_spanned(other, usage)),
    }
}

/// What the signature tells the expansion.
struct HandlerSignature {
    /// `E` of `Envelope<E>`.
    event_type: Type,
    /// Where a first parameter that is not tidings' `Envelope` is reported: at `Envelope`.
    event_span: Span,
    /// Where a second parameter that is not tidings' `Context` is reported: at `Context`.
    ctx_span: Span,
    /// `S` of a third parameter `&S`, the handler's state, with the parameter's span.
    state: Option<(Type, Span)>,
}

/// Checks `async fn name(event: Envelope<E>, ctx: &Context) -> Result<(), HandlerError>`.
///
/// Each check errs at the token to change. Types are only checked for their shape here;
/// whether `Envelope` and `Context` are tidings' is left to the compiler, at the same tokens.
fn check_signature(sig: &Signature) -> syn::Result<HandlerSignature> {
    if let Some(receiver) = sig.receiver() {
        return Err(syn::Error::new_spanned(
            receiver,
            format!(
                "an event handler is a free function, not a method: remove `self` and move the \
                 function out of the impl block, as `{SHAPE}`"
            ),
        ));
    }
    if let Some(unsafety) = &sig.unsafety {
        return Err(syn::Error::new(
            unsafety.span(),
            "an event handler cannot be `unsafe`: the runtime calls it with no way to uphold \
             its safety conditions; remove `unsafe` and use an `unsafe` block inside",
        ));
    }
    if let Some(abi) = &sig.abi {
        return Err(syn::Error::new_spanned(
            abi,
            "an event handler is called from Rust by the runtime: remove the `extern` ABI",
        ));
    }
    if sig.ident == "main" {
        return Err(syn::Error::new(
            sig.ident.span(),
            "an event handler cannot be called `main`: the attribute generates `fn main` \
             beside it; name the handler after what it does, e.g. `reserve_stock`",
        ));
    }
    if sig.asyncness.is_none() {
        return Err(syn::Error::new(
            sig.fn_token.span(),
            format!(
                "an event handler is an async fn: write `async fn {}`",
                sig.ident
            ),
        ));
    }
    // Lifetimes are harmless; type and const parameters would leave the event type open.
    if let Some(param) = sig
        .generics
        .params
        .iter()
        .find(|p| !matches!(p, GenericParam::Lifetime(_)))
    {
        return Err(syn::Error::new_spanned(
            param,
            "an event handler cannot be generic: it is the entrypoint of one Lambda function, \
             for concrete event types; name the event type, or an enum of several types with \
             #[derive(EventSet)]",
        ));
    }
    let ReturnType::Type(..) = &sig.output else {
        return Err(syn::Error::new(
            sig.paren_token.span.close(),
            "an event handler returns `Result<(), HandlerError>`, so the runtime learns whether \
             to acknowledge, retry or reject the record: add `-> Result<(), HandlerError>`",
        ));
    };
    let params: Vec<_> = sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(typed) => Some(typed),
            FnArg::Receiver(_) => None,
        })
        .collect();
    let (event, ctx, state) = match params.as_slice() {
        [event, ctx] => (event, ctx, None),
        [event, ctx, state] => (event, ctx, Some(state)),
        [] => {
            return Err(syn::Error::new(
                sig.paren_token.span.join(),
                format!(
                    "an event handler takes two parameters, the event and its context: `{SHAPE}`"
                ),
            ));
        }
        [only] => {
            return Err(syn::Error::new_spanned(
                only,
                format!(
                    "an event handler takes two parameters, and the context is missing: add \
                     `, ctx: &Context` (an unused one can be `_ctx: &Context`), as `{SHAPE}`"
                ),
            ));
        }
        [_, _, _, extras @ ..] => {
            let names: Vec<String> = extras
                .iter()
                .map(|extra| {
                    let name = pattern_name(&extra.pat)
                        .unwrap_or_else(|| extra.pat.to_token_stream().to_string());
                    format!("`{name}`")
                })
                .collect();
            let extras = sig.inputs.iter().skip(3);
            return Err(syn::Error::new_spanned(
                quote!(#(#extras),*),
                format!(
                    "an event handler takes the event, its context and at most one more \
                     parameter, its state: remove {}, and put what the handler needs into one \
                     state type (a struct of its clients and config), taken as `state: &S`",
                    names.join(", ")
                ),
            ));
        }
    };
    let state = match state {
        None => None,
        Some(state) => match &*state.ty {
            Type::Reference(reference) if reference.mutability.is_none() => {
                Some(((*reference.elem).clone(), state.span()))
            }
            Type::Reference(reference) => {
                return Err(syn::Error::new_spanned(
                    reference,
                    "the state is shared by every call of the handler: take it by shared \
                     reference, without `mut` (hold what changes behind a lock or a client)",
                ));
            }
            other => {
                return Err(syn::Error::new_spanned(
                    other,
                    format!(
                        "the third parameter is the handler's state, by shared reference: write \
                         `{}: &{}`",
                        pattern_name(&state.pat).as_deref().unwrap_or("state"),
                        other.to_token_stream().to_string().replace(' ', "")
                    ),
                ));
            }
        },
    };
    let event_type = envelope_argument(&event.ty).ok_or_else(|| {
        syn::Error::new_spanned(
            &event.ty,
            "the first parameter is the event in its envelope: `event: Envelope<YourEvent>`, \
             where YourEvent derives `Event` (or is an enum of events with #[derive(EventSet)])",
        )
    })?;
    match &*ctx.ty {
        Type::Reference(reference) if reference.mutability.is_none() => {}
        Type::Reference(reference) => {
            return Err(syn::Error::new_spanned(
                reference,
                "the context is shared, not exclusive: write `ctx: &Context`, without `mut`",
            ));
        }
        other => {
            return Err(syn::Error::new_spanned(
                other,
                format!(
                    "the second parameter is the context, by shared reference: write `{}: \
                     &Context`",
                    pattern_name(&ctx.pat).as_deref().unwrap_or("ctx")
                ),
            ));
        }
    }
    Ok(HandlerSignature {
        event_type,
        event_span: name_span(&event.ty),
        ctx_span: name_span(&ctx.ty),
        state,
    })
}

/// The name a parameter pattern binds, for messages, when it is a plain name.
fn pattern_name(pat: &Pat) -> Option<String> {
    match pat {
        Pat::Ident(ident) => Some(ident.ident.to_string()),
        _ => None,
    }
}

/// The span of the name of a type, through references: `Context` of `&tidings::Context`. The
/// compiler reports a type mismatch at one token, and the name is the one that tells.
fn name_span(ty: &Type) -> Span {
    match ty {
        Type::Reference(reference) => name_span(&reference.elem),
        Type::Path(path) => path
            .path
            .segments
            .last()
            .map_or_else(|| ty.span(), |segment| segment.ident.span()),
        _ => ty.span(),
    }
}

/// `E` from `Envelope<E>` (any path ending in `Envelope`, e.g. `tidings::Envelope<E>`).
fn envelope_argument(ty: &Type) -> Option<Type> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
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

/// The user's attributes, sorted by the generated item they belong on.
struct Attrs<'a> {
    /// `#[cfg]`: on every generated item, so that they come and go together.
    cfg: Vec<&'a Attribute>,
    /// Doc comments: on the struct, which is what the function's name now denotes.
    docs: Vec<&'a Attribute>,
    /// Everything else (`#[allow]`, `#[tracing::instrument]`, ...): on the function.
    other: Vec<&'a Attribute>,
}

fn sort_attrs(attrs: &[Attribute]) -> Attrs<'_> {
    let mut sorted = Attrs {
        cfg: Vec::new(),
        docs: Vec::new(),
        other: Vec::new(),
    };
    for attr in attrs {
        if attr.path().is_ident("cfg") {
            sorted.cfg.push(attr);
        } else if attr.path().is_ident("doc") {
            sorted.docs.push(attr);
        } else {
            sorted.other.push(attr);
        }
    }
    sorted
}

/// Emits the handler. Every path is absolute and the locals carry a prefix, so the code means
/// the same whatever the user's module imports or defines (a `const event` would turn a
/// binding named `event` into a pattern).
fn emit(item: &ItemFn, signature: &HandlerSignature, options: &Options) -> TokenStream {
    let krate = options
        .krate
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(::tidings));
    let name = &item.sig.ident;
    let name_text = name.to_string();
    let vis = &item.vis;
    let Attrs { cfg, docs, other } = sort_attrs(&item.attrs);
    let HandlerSignature {
        event_type,
        event_span,
        ctx_span,
        state,
    } = signature;

    let sig = &item.sig;
    let block = &item.block;
    let call_sig = call_signature(sig);
    let handler_struct = handler_struct(vis, name);

    // Each set option becomes a field of a struct-update expression over the defaults.
    let mut fields = Vec::new();
    let choice = |field: &str, ty: &str, value: &Option<Ident>| {
        value.as_ref().map(|variant| {
            let field = Ident::new(field, Span::call_site());
            let ty = Ident::new(ty, Span::call_site());
            quote!(#field: #krate::#ty::#variant)
        })
    };
    fields.extend(choice("trigger", "Trigger", &options.trigger));
    fields.extend(choice("ordering", "SubjectOrdering", &options.ordering));
    fields.extend(choice(
        "on_unknown_type",
        "OnUnknownType",
        &options.on_unknown_type,
    ));
    if let Some(n) = &options.concurrency {
        fields.push(quote!(concurrency: #n));
    }
    if let Some(field) = &options.idempotency_key {
        let text = field.to_string();
        fields.push(quote!(idempotency_key: ::core::option::Option::Some(#text)));
    }

    let event_var = format_ident!("__tidings_event");
    let ctx_var = format_ident!("__tidings_ctx");
    let state_var = format_ident!("__tidings_state");

    // Spanned at the key literal: an event set, a field the event lacks or a field that is not
    // `Display` is reported there.
    let key_fn = options.idempotency_key.as_ref().map(|field| {
        let span = field.span();
        let data = respan(quote!(#krate::single_event(&#event_var.data)), span);
        quote_spanned! {span=>
            fn idempotency_key(
                #event_var: &#krate::Envelope<Self::Events>,
            ) -> ::core::option::Option<::std::string::String> {
                ::core::option::Option::Some(
                    ::std::string::ToString::to_string(&#data.#field),
                )
            }
        }
    });

    // The call of the user's function, its arguments spanned at the parameter types so that a
    // foreign `Envelope` or `Context` is reported there.
    let event_arg = respan(event_var.to_token_stream(), *event_span);
    let ctx_arg = respan(ctx_var.to_token_stream(), *ctx_span);
    let args = match state {
        Some((_, span)) => {
            let state_arg = respan(state_var.to_token_stream(), *span);
            quote!(#event_arg, #ctx_arg, #state_arg)
        }
        None => quote!(#event_arg, #ctx_arg),
    };
    let call = call_spanned(quote!(#name::call), args, name.span());
    let state_type = match state {
        Some((ty, span)) => respan(quote!(type State = #ty;), *span),
        None => quote!(
            type State = ();
        ),
    };
    // The compiler checks the call's future against the return type of `handle` (its output,
    // and that it is `Send`) at the span of that type and of the call: both at the function's
    // name, so that each problem is reported once, at the function.
    let future_type = respan(
        quote! {
            impl ::core::future::Future<
                Output = ::core::result::Result<(), #krate::HandlerError>,
            > + ::core::marker::Send + 'a
        },
        name.span(),
    );

    // Spanned at the event type, so that a type that is not an event set, or one more private
    // than the handler, is reported there.
    let events_item = respan(quote!(type Events = #event_type;), name_span(event_type));

    // `latest_wins` orders each subject's events, so every accepted type needs a subject:
    // checked at the `"latest_wins"` literal, where an event type without one is reported.
    let subject_check = options
        .ordering
        .as_ref()
        .filter(|variant| *variant == "LatestWins")
        .map(|variant| {
            let check = call_spanned(
                quote!(#krate::require_subject::<#event_type>),
                TokenStream::new(),
                variant.span(),
            );
            quote! {
                #(#cfg)*
                const _: () = {
                    #[allow(dead_code)]
                    fn __tidings_requires_subject() {
                        #check;
                    }
                };
            }
        });

    let serve = match &options.state {
        Some(build) => quote!(#krate::lambda::run_with_state(#name, #build())),
        None => quote!(#krate::lambda::run(#name)),
    };
    let main = options
        .main
        .as_ref()
        .is_none_or(|main| main.value)
        .then(|| {
            quote! {
                #(#cfg)*
                /// The Lambda entrypoint generated by `#[event_handler]`: serves the handler with
                /// the configuration of the environment.
                #[allow(dead_code)]
                fn main() -> ::core::result::Result<(), #krate::lambda::Error> {
                    #serve
                }
            }
        });

    quote! {
        #(#cfg)*
        #(#docs)*
        #handler_struct

        #(#cfg)*
        impl #name {
            /// The handler function as written: calling it runs none of the pipeline (no
            /// decoding, idempotency or ordering checks).
            #(#other)*
            #vis #call_sig #block
        }

        #(#cfg)*
        impl #krate::EventHandler for #name {
            #events_item

            #state_type

            const OPTIONS: #krate::HandlerOptions = #krate::HandlerOptions {
                #(#fields,)*
                ..#krate::HandlerOptions::new(#name_text)
            };

            #key_fn

            fn handle<'a>(
                &'a self,
                #event_var: #krate::Envelope<Self::Events>,
                #ctx_var: &'a #krate::Context,
                #state_var: &'a Self::State,
            ) -> #future_type {
                #call
            }
        }

        #(#cfg)*
        #krate::__private::inventory::submit! {
            #krate::HandlerRegistration {
                name: #name_text,
                module_path: ::core::module_path!(),
                options: <#name as #krate::EventHandler>::OPTIONS,
                accepted: #krate::__private::accepted_by::<#name>,
            }
        }

        #subject_check

        #main
    }
}

/// The unit struct a handler's name becomes: a value to hand to the pipeline and `main`.
fn handler_struct(vis: &syn::Visibility, name: &Ident) -> TokenStream {
    quote! {
        #[allow(non_camel_case_types)]
        #[derive(
            ::core::fmt::Debug,
            ::core::clone::Clone,
            ::core::marker::Copy,
            ::core::default::Default,
        )]
        #vis struct #name;
    }
}

/// The handler function's signature under the name `call`, the associated function it is
/// kept as.
fn call_signature(sig: &Signature) -> Signature {
    Signature {
        ident: Ident::new("call", sig.ident.span()),
        ..sig.clone()
    }
}

/// `tokens` with every span set to `span`, so that the compiler reports an error in them at
/// `span`. (Interpolated tokens keep their own spans in `quote_spanned!`, and an expression
/// whose tokens come from different places is reported at the first of them.)
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|token| match token {
            TokenTree::Group(group) => {
                let mut respanned = Group::new(group.delimiter(), respan(group.stream(), span));
                respanned.set_span(span);
                TokenTree::Group(respanned)
            }
            mut other => {
                other.set_span(span);
                other
            }
        })
        .collect()
}

/// `function(args)`, with the function's path and the parentheses spanned at `span` and the
/// arguments keeping theirs, so that the compiler reports a bound of `function` at `span`.
fn call_spanned(function: TokenStream, args: TokenStream, span: Span) -> TokenStream {
    let mut parens = Group::new(Delimiter::Parenthesis, args);
    parens.set_span(span);
    let mut call = respan(function, span);
    call.extend([TokenTree::Group(parens)]);
    call
}
