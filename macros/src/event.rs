//! `#[derive(Event)]`: parses the `#[event(...)]` attributes, checks what the syntax alone can
//! tell, and emits the `Event` impl, compile-time checks of the upcast chain, and the registry
//! entry.
//!
//! Checks that need another type (the older version's event type and version, the `From`
//! impl, a string-like subject) cannot run here: they are emitted as code spanned at the
//! attribute or field that asked for them, so the compiler reports them there, with the
//! `#[diagnostic::on_unimplemented]` messages of the traits in `tidings-events`.

use proc_macro2::{Ident, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{
    Attribute, Data, DeriveInput, Expr, ExprLit, ExprUnary, Fields, Lit, LitStr, Member, Meta,
    Path, Token, Type, UnOp,
};

use crate::attr::{crate_path, set_once, string_value};

/// An example type name for messages that ask for one.
const TYPE_EXAMPLE: &str = "type = \"shop.order.placed\"";
/// An example schema base for messages that ask for one.
const SCHEMA_BASE_EXAMPLE: &str = "schema_base = \"https://schemas.example.com/shop\"";

/// What `#[event(...)]` on the type says.
struct EventAttrs {
    event_type: LitStr,
    version: u32,
    upcast_from: Option<Path>,
    schema_base: Option<LitStr>,
    krate: Path,
    /// `envelope_subject`: producers set the subject on the envelope, not in a field.
    envelope_subject: Option<Path>,
}

/// The field marked `#[event(subject)]`.
struct SubjectField {
    member: Member,
    ty: Type,
}

/// Expands `#[derive(Event)]` on `input`, or explains what is wrong with it.
///
/// With an error, a stand-in impl is emitted beside it (see [`fallback`]), so that the code
/// that uses the type as an event reports nothing more: one mistake, one error.
///
/// `default_crate` is the path of `tidings_events` unless the attributes say `crate = ...`:
/// `::tidings_events`, or `::tidings::events` for the derive `tidings` re-exports.
pub fn expand(input: DeriveInput, default_crate: Path) -> TokenStream {
    let input = &input;
    if let Err(error) = check_shape(input) {
        // A union or a generic type cannot have the impl at all.
        return error.into_compile_error();
    }
    // Type and field mistakes are independent: report both in one build.
    let error = match (parse_type_attrs(input, &default_crate), find_subject(input)) {
        (Ok(attrs), Ok(Some(_))) if attrs.envelope_subject.is_some() => {
            let flag = attrs.envelope_subject.as_ref().expect("checked");
            syn::Error::new_spanned(
                flag,
                "a field is marked #[event(subject)], so the subject is in the data: remove \
                 `envelope_subject`, which is for types whose producers set the subject on the \
                 envelope",
            )
        }
        (Ok(attrs), Ok(subject)) => return emit(input, &attrs, subject.as_ref()),
        (Err(mut first), Err(second)) => {
            first.combine(second);
            first
        }
        (Err(error), Ok(_)) | (Ok(_), Err(error)) => error,
    };
    let mut tokens = error.into_compile_error();
    tokens.extend(fallback(input, default_crate));
    tokens
}

/// The impl emitted beside an error: `Event` with placeholder constants and bodies that are
/// never run (the build fails on the error), and no registration. It keeps uses of the type
/// (`Envelope<T>`, handlers, `upcast_from = T`) from adding errors of their own.
fn fallback(input: &DeriveInput, default_crate: Path) -> TokenStream {
    let ident = &input.ident;
    let krate = explicit_crate(&input.attrs).unwrap_or(default_crate);
    quote! {
        #[automatically_derived]
        impl #krate::Event for #ident {
            const TYPE: &'static ::core::primitive::str = "";
            const VERSION: ::core::primitive::u32 = 0;
            const SCHEMA_ID: &'static ::core::primitive::str = "";

            fn subject(&self) -> ::core::option::Option<&::core::primitive::str> {
                ::core::option::Option::None
            }

            fn versions() -> ::std::vec::Vec<::core::primitive::u32> {
                ::std::vec::Vec::new()
            }

            fn decode_data(
                _: ::core::primitive::u32,
                _: &#krate::__private::RawValue,
            ) -> ::core::result::Result<Self, #krate::DataError> {
                ::core::unreachable!("a type whose #[derive(Event)] failed is never decoded")
            }
        }

        impl #krate::__private::HasSubject for #ident {}
    }
}

/// The `crate = ...` option of the type's attributes, if one parses: the path the fallback
/// impl names the trait by.
fn explicit_crate(attrs: &[Attribute]) -> Option<Path> {
    let mut krate = None;
    for attr in attrs.iter().filter(is_event_attr) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                let lit: LitStr = meta.value()?.parse()?;
                krate = lit.parse().ok();
            } else if meta.input.peek(Token![=]) {
                // Skip the value of any other option.
                let _: Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
    }
    krate
}

/// Rejects the kinds of type an event cannot be, before looking at any attribute.
fn check_shape(input: &DeriveInput) -> syn::Result<()> {
    if let Data::Union(data) = &input.data {
        return Err(syn::Error::new(
            data.union_token.span(),
            "#[derive(Event)] supports structs and enums, not unions: event data is JSON that \
             serde reads into a struct or an enum; use one of those",
        ));
    }
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "#[derive(Event)] does not support generic parameters: each event type and version \
             has exactly one schema; remove the parameters and define one concrete type per event",
        ));
    }
    Ok(())
}

/// Whether `attr` is one of ours; shaped for `Iterator::filter` over `&Attribute`.
fn is_event_attr(attr: &&Attribute) -> bool {
    attr.path().is_ident("event")
}

/// The options of the #[event] attributes on the type, as written, before the required ones
/// are checked for.
#[derive(Default)]
struct TypeOptions {
    event_type: Option<LitStr>,
    version: Option<u32>,
    upcast_from: Option<Path>,
    schema_base: Option<LitStr>,
    krate: Option<Path>,
    envelope_subject: Option<Path>,
}

impl TypeOptions {
    /// Parses one `name = value` option.
    fn parse(&mut self, meta: &ParseNestedMeta) -> syn::Result<()> {
        if meta.path.is_ident("type") {
            let lit = string_value(meta, TYPE_EXAMPLE)?;
            check_type_name(&lit)?;
            set_once(&mut self.event_type, lit, meta)
        } else if meta.path.is_ident("version") {
            let version = parse_version(meta)?;
            set_once(&mut self.version, version, meta)
        } else if meta.path.is_ident("upcast_from") {
            let value = meta.value()?;
            if let Ok(lit) = value.fork().parse::<LitStr>() {
                return Err(syn::Error::new(
                    lit.span(),
                    format!(
                        "`upcast_from` takes a type, not a string: write `upcast_from = {}`",
                        lit.value()
                    ),
                ));
            }
            let older: Path = value.parse()?;
            set_once(&mut self.upcast_from, older, meta)
        } else if meta.path.is_ident("schema_base") {
            let lit = string_value(meta, SCHEMA_BASE_EXAMPLE)?;
            check_schema_base(&lit)?;
            set_once(&mut self.schema_base, lit, meta)
        } else if meta.path.is_ident("crate") {
            let path = crate_path(meta, "tidings_events", "tidings::events")?;
            set_once(&mut self.krate, path, meta)
        } else if meta.path.is_ident("envelope_subject") {
            if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
                return Err(meta.error(
                    "`envelope_subject` takes no value: write #[event(envelope_subject)] when \
                     producers set the subject with `Envelope::with_subject`",
                ));
            }
            set_once(&mut self.envelope_subject, meta.path.clone(), meta)
        } else if meta.path.is_ident("subject") {
            Err(meta.error(
                "`subject` goes on a field, not on the type: put #[event(subject)] on the field \
                 that holds the id of the entity the event is about (or write \
                 #[event(envelope_subject)] when producers set it on the envelope)",
            ))
        } else {
            Err(meta.error(format!(
                "unknown option `{}` of #[event] on a type; the options are `type`, `version`, \
                 `upcast_from`, `schema_base`, `envelope_subject` and `crate`",
                meta.path.to_token_stream()
            )))
        }
    }
}

fn parse_type_attrs(input: &DeriveInput, default_crate: &Path) -> syn::Result<EventAttrs> {
    let mut options = TypeOptions::default();
    for attr in input.attrs.iter().filter(is_event_attr) {
        require_list(attr, "#[event(type = \"shop.order.placed\", version = 1)]")?;
        attr.parse_nested_meta(|meta| options.parse(&meta))?;
    }

    // A missing option is reported at the #[event] attribute that should hold it, or at the
    // type's name when there is no such attribute at all.
    let Some(first_attr) = input.attrs.iter().find(is_event_attr) else {
        return Err(syn::Error::new(
            input.ident.span(),
            format!(
                "#[derive(Event)] needs the event type and version: add \
                 #[event({TYPE_EXAMPLE}, version = 1)] to `{}`",
                input.ident
            ),
        ));
    };
    let (event_type, version) = match (options.event_type, options.version) {
        (Some(event_type), Some(version)) => (event_type, version),
        (None, Some(_)) => {
            return Err(syn::Error::new_spanned(
                first_attr,
                format!(
                    "missing the event type: add `{TYPE_EXAMPLE}` to #[event(...)], the \
                     CloudEvents `type` shared by every version of this event"
                ),
            ));
        }
        (Some(_), None) => {
            return Err(syn::Error::new_spanned(
                first_attr,
                "missing the schema version: add `version = 1` to #[event(...)], or the next \
                 number when this type replaces an older version",
            ));
        }
        (None, None) => {
            return Err(syn::Error::new_spanned(
                first_attr,
                format!(
                    "missing the event type and version: add `{TYPE_EXAMPLE}, version = 1` to \
                     #[event(...)]"
                ),
            ));
        }
    };
    Ok(EventAttrs {
        event_type,
        version,
        upcast_from: options.upcast_from,
        schema_base: options.schema_base,
        krate: options.krate.unwrap_or_else(|| default_crate.clone()),
        envelope_subject: options.envelope_subject,
    })
}

/// Rejects a bare `#[event]`, whose options would all be missing, with an example to copy.
fn require_list(attr: &Attribute, example: &str) -> syn::Result<()> {
    match &attr.meta {
        Meta::List(_) => Ok(()),
        _ => Err(syn::Error::new_spanned(
            attr,
            format!("#[event] needs options in parentheses, e.g. {example}"),
        )),
    }
}

/// The largest version: `dataversion` is a CloudEvents integer, a signed 32-bit number, and
/// the envelope decoder refuses anything above it.
const MAX_VERSION: u32 = i32::MAX as u32;

/// Parses `version = N`. It reads any expression, not just an integer literal, so that the
/// common mistakes (a string, a negative number) get a message saying what to write.
fn parse_version(meta: &ParseNestedMeta) -> syn::Result<u32> {
    let expr: Expr = meta.value()?.parse()?;
    let usage = format!("versions are whole numbers from 1 to {MAX_VERSION}, e.g. `version = 2`");
    match &expr {
        Expr::Lit(ExprLit {
            lit: Lit::Int(lit), ..
        }) => {
            if !lit.suffix().is_empty() {
                return Err(syn::Error::new(
                    lit.span(),
                    format!(
                        "write the version without a type suffix: `version = {}`",
                        lit.base10_digits()
                    ),
                ));
            }
            match lit.base10_parse::<u32>() {
                Ok(0) => Err(syn::Error::new(
                    lit.span(),
                    "event versions start at 1: write `version = 1` for the first version of a \
                     type",
                )),
                Ok(value) if value <= MAX_VERSION => Ok(value),
                // A CloudEvents integer attribute is 32-bit signed: a larger version could
                // never be published or read.
                _ => Err(syn::Error::new(
                    lit.span(),
                    format!(
                        "version {} is too large: `dataversion` is a CloudEvents integer, a \
                         signed 32-bit number; {usage}",
                        lit.base10_digits()
                    ),
                )),
            }
        }
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Err(syn::Error::new(
            lit.span(),
            match lit.value().trim().parse::<u32>() {
                Ok(value) if (1..=MAX_VERSION).contains(&value) => {
                    format!("write the version as a number, without quotes: `version = {value}`")
                }
                _ => format!("the version is a number, not a string; {usage}"),
            },
        )),
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_), ..
        }) => Err(syn::Error::new_spanned(
            &expr,
            format!("an event version cannot be negative; {usage}"),
        )),
        _ => Err(syn::Error::new_spanned(
            &expr,
            format!("expected an integer literal; {usage}"),
        )),
    }
}

/// Refuses an event type name that breaks the contract's naming rule (`tidings-naming`).
fn check_type_name(lit: &LitStr) -> syn::Result<()> {
    match tidings_naming::event_type_problem(&lit.value()) {
        None => Ok(()),
        Some(problem) => Err(syn::Error::new(
            lit.span(),
            format!(
                "the event type {problem}; write dotted words of ASCII letters, digits, '-' and \
                 '_', e.g. `{TYPE_EXAMPLE}`"
            ),
        )),
    }
}

/// Refuses a `schema_base` from which the schema ids would not be absolute URIs.
fn check_schema_base(lit: &LitStr) -> syn::Result<()> {
    match tidings_naming::schema_base_problem(&lit.value()) {
        None => Ok(()),
        Some(problem) => Err(syn::Error::new(
            lit.span(),
            format!(
                "`schema_base` {problem}; write the URI of the schema directory without a \
                 trailing slash, e.g. `{SCHEMA_BASE_EXAMPLE}`"
            ),
        )),
    }
}

/// The field marked `#[event(subject)]`, refusing the marker where it cannot work.
fn find_subject(input: &DeriveInput) -> syn::Result<Option<SubjectField>> {
    match &input.data {
        Data::Struct(data) => subject_of_fields(&data.fields),
        Data::Enum(data) => {
            for variant in &data.variants {
                if let Some(attr) = variant.attrs.iter().find(is_event_attr) {
                    return Err(syn::Error::new_spanned(
                        attr,
                        "#[event] does not go on an enum variant: put the event options on the \
                         enum itself",
                    ));
                }
                let fields = variant.fields.iter();
                if let Some(attr) = fields.flat_map(|f| &f.attrs).find(is_event_attr) {
                    return Err(syn::Error::new_spanned(
                        attr,
                        "#[event(subject)] is only supported on struct fields: remove it, and set \
                         the subject of an enum event with `Envelope::with_subject` when \
                         publishing",
                    ));
                }
            }
            Ok(None)
        }
        // `check_shape` has rejected unions.
        Data::Union(_) => Ok(None),
    }
}

/// The one field of a struct marked `#[event(subject)]`, if any.
fn subject_of_fields(fields: &Fields) -> syn::Result<Option<SubjectField>> {
    let mut subject: Option<SubjectField> = None;
    for (index, field) in fields.iter().enumerate() {
        for attr in field.attrs.iter().filter(is_event_attr) {
            require_list(attr, "#[event(subject)]")?;
            attr.parse_nested_meta(|meta| {
                if !meta.path.is_ident("subject") {
                    return Err(meta.error(format!(
                        "unknown option `{}` of #[event] on a field; the only one is `subject`",
                        meta.path.to_token_stream()
                    )));
                }
                if !(meta.input.is_empty() || meta.input.peek(Token![,])) {
                    return Err(meta.error("`subject` takes no value: write #[event(subject)]"));
                }
                if let Some(first) = &subject {
                    let first = match &first.member {
                        Member::Named(ident) => format!("field `{ident}`"),
                        Member::Unnamed(index) => format!("field {}", index.index),
                    };
                    return Err(syn::Error::new_spanned(
                        attr,
                        format!(
                            "an event has one subject, and {first} is already marked \
                             #[event(subject)]; remove one of the two markers"
                        ),
                    ));
                }
                let member = match &field.ident {
                    Some(ident) => Member::Named(ident.clone()),
                    None => Member::Unnamed(syn::Index {
                        index: u32::try_from(index).expect("a struct has fewer than 2^32 fields"),
                        span: field.span(),
                    }),
                };
                subject = Some(SubjectField {
                    member,
                    ty: field.ty.clone(),
                });
                Ok(())
            })?;
        }
    }
    Ok(subject)
}

/// The `$id`s of the data schema and of the envelope schema, in the contract's layout.
fn schema_ids(attrs: &EventAttrs) -> (String, String) {
    let (name, version) = (attrs.event_type.value(), attrs.version);
    let base = attrs.schema_base.as_ref().map(LitStr::value);
    (
        tidings_naming::schema_id(base.as_deref(), &name, version),
        tidings_naming::envelope_schema_id(base.as_deref(), &name, version),
    )
}

/// Emits the impl and its checks. Every path is absolute and every primitive is spelled
/// through `::core::primitive`, so the code means the same whatever the user's module
/// imports or defines.
fn emit(input: &DeriveInput, attrs: &EventAttrs, subject: Option<&SubjectField>) -> TokenStream {
    let ident = &input.ident;
    let krate = &attrs.krate;
    let event_type = &attrs.event_type;
    let version = attrs.version;
    let (schema_id, envelope_schema_id) = schema_ids(attrs);
    let locals = Locals::new();
    let (version_var, data_var) = (&locals.version, &locals.data);

    let subject_body = if let Some(SubjectField { member, ty }) = subject {
        // Spanned at the field's type: a type that is not string-like is reported there.
        quote_spanned! {ty.span()=>
            <#ty as #krate::SubjectField>::as_subject(&self.#member)
        }
    } else {
        quote!(::core::option::Option::None)
    };

    // Only a type with a subject can be ordered per subject (`latest_wins`).
    let has_subject = (subject.is_some() || attrs.envelope_subject.is_some()).then(|| {
        quote! {
            #[automatically_derived]
            impl #krate::__private::HasSubject for #ident {}
        }
    });

    let Upcast {
        versions_body,
        decode_older,
        checks,
        from_version,
    } = match &attrs.upcast_from {
        Some(older) => upcast(attrs, older, &locals),
        None => Upcast {
            versions_body: quote!(::std::vec![#version]),
            decode_older: TokenStream::new(),
            checks: TokenStream::new(),
            from_version: quote!(::core::option::Option::None),
        },
    };

    quote! {
        #[automatically_derived]
        impl #krate::Event for #ident {
            const TYPE: &'static ::core::primitive::str = #event_type;
            const VERSION: ::core::primitive::u32 = #version;
            const SCHEMA_ID: &'static ::core::primitive::str = #schema_id;

            fn subject(&self) -> ::core::option::Option<&::core::primitive::str> {
                #subject_body
            }

            fn versions() -> ::std::vec::Vec<::core::primitive::u32> {
                #versions_body
            }

            fn decode_data(
                #version_var: ::core::primitive::u32,
                #data_var: &#krate::__private::RawValue,
            ) -> ::core::result::Result<Self, #krate::DataError> {
                if #version_var == #version {
                    return #krate::__private::decode_exact::<Self>(#data_var);
                }
                #decode_older
                ::core::result::Result::Err(#krate::DataError::UnsupportedVersion {
                    event_type: #event_type,
                    found: #version_var,
                    supported: <Self as #krate::Event>::versions(),
                })
            }
        }

        #has_subject

        #checks

        #krate::__private::inventory::submit! {
            #krate::__private::EventRegistration {
                event_type: #event_type,
                version: #version,
                schema_id: #schema_id,
                envelope_schema_id: #envelope_schema_id,
                rust_type: ::core::concat!(::core::module_path!(), "::", ::core::stringify!(#ident)),
                upcast_from: #from_version,
                data_schema: #krate::schema::data_schema::<#ident>,
                subject_of: #krate::schema::subject_of_json::<#ident>,
                upcast: #krate::schema::upcast_json::<#ident>,
            }
        }
    }
}

/// The names of the locals of the generated functions.
///
/// Constants in the user's module are visible to the expansion, and a binding with a
/// constant's name is a constant pattern, whatever its span's hygiene: the prefix keeps an
/// ordinary `const version` from breaking the impl.
struct Locals {
    version: Ident,
    data: Ident,
    versions: Ident,
}

impl Locals {
    fn new() -> Self {
        Self {
            version: format_ident!("__tidings_version"),
            data: format_ident!("__tidings_data"),
            versions: format_ident!("__tidings_versions"),
        }
    }
}

/// The parts of the expansion that depend on `upcast_from`.
struct Upcast {
    /// The body of `Event::versions`.
    versions_body: TokenStream,
    /// Statements of `Event::decode_data` that hand older versions down the chain.
    decode_older: TokenStream,
    /// Compile-time checks that the older type is an older version of the same event type.
    checks: TokenStream,
    /// The registration's `upcast_from` version.
    from_version: TokenStream,
}

fn upcast(attrs: &EventAttrs, older: &Path, locals: &Locals) -> Upcast {
    let krate = &attrs.krate;
    let event_type = &attrs.event_type;
    let version = attrs.version;
    let Locals {
        version: version_var,
        data: data_var,
        versions: versions_var,
    } = locals;
    // Spanned at the `upcast_from` type's name, so that every failure below points at it: a
    // type that is not an `Event`, a missing `From` impl, a failed check. (A span cannot cover
    // a whole multi-segment path on stable Rust; the last segment is the informative one.)
    let span = older
        .segments
        .last()
        .map_or_else(|| older.span(), |segment| segment.ident.span());
    let older_name = older.to_token_stream().to_string().replace(' ', "");
    let name = event_type.value();
    // The messages become `assert!` format strings: escape the braces a path may hold.
    let type_message = format!(
        "`upcast_from = {older_name}` must name an older version of `{name}`, but \
         `{older_name}` has a different event type; upcast only between versions of one event \
         type"
    )
    .replace('{', "{{")
    .replace('}', "}}");
    let version_message = format!(
        "`upcast_from = {older_name}` must name an older version of `{name}`, but the version of \
         `{older_name}` is not lower than {version}; name the version before this one, or raise \
         this type's version"
    )
    .replace('{', "{{")
    .replace('}', "}}");
    let previous = version - 1;
    let gap_message = format!(
        "`upcast_from = {older_name}` must name version {previous} of `{name}`, the one just \
         before {version}, but `{older_name}` is older: a version chain has no gaps, so that \
         data of every version decodes; upcast from the version {previous} type, which upcasts \
         from the older ones"
    )
    .replace('{', "{{")
    .replace('}', "}}");
    Upcast {
        versions_body: quote_spanned! {span=>
            let mut #versions_var = <#older as #krate::Event>::versions();
            #versions_var.push(#version);
            #versions_var
        },
        // Only versions the older type knows go down the chain, so that a version outside
        // it is refused with this type's list of versions.
        decode_older: quote_spanned! {span=>
            if <#older as #krate::Event>::versions().contains(&#version_var) {
                return <#older as #krate::Event>::decode_data(#version_var, #data_var)
                    .map(<Self as #krate::__private::UpcastFrom<#older>>::upcast);
            }
        },
        checks: quote_spanned! {span=>
            const _: () = {
                // Version 0 is the stand-in of a type whose own derive failed (see
                // `fallback`): that error is reported there, and these stay quiet.
                const __TIDINGS_OLDER_FAILED: bool = <#older as #krate::Event>::VERSION == 0;
                ::core::assert!(
                    __TIDINGS_OLDER_FAILED
                        || #krate::__private::const_str_eq(<#older as #krate::Event>::TYPE, #event_type),
                    #type_message
                );
                ::core::assert!(
                    __TIDINGS_OLDER_FAILED || <#older as #krate::Event>::VERSION < #version,
                    #version_message
                );
                ::core::assert!(
                    __TIDINGS_OLDER_FAILED || <#older as #krate::Event>::VERSION + 1 == #version,
                    #gap_message
                );
            };
        },
        from_version: quote_spanned! {span=>
            ::core::option::Option::Some(<#older as #krate::Event>::VERSION)
        },
    }
}
