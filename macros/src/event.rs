//! `#[derive(Event)]`: parses the `#[event(...)]` attributes, checks them, and emits the
//! `Event` impl, compile-time checks of the upcast chain, and the registry entry.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, LitInt, LitStr, Member, Path, Type};

/// What `#[event(...)]` on the type says.
struct EventAttrs {
    event_type: LitStr,
    version: u32,
    upcast_from: Option<Path>,
    schema_base: Option<LitStr>,
    krate: Path,
}

/// The field marked `#[event(subject)]`.
struct SubjectField {
    member: Member,
    ty: Type,
}

pub fn expand(input: DeriveInput) -> syn::Result<TokenStream> {
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new(
            input.generics.span(),
            "#[derive(Event)] does not support generic types: an event type is one concrete \
             payload with one schema; define a concrete struct per event",
        ));
    }
    let attrs = parse_type_attrs(&input)?;
    let subject = find_subject(&input)?;
    Ok(emit(&input, &attrs, subject.as_ref()))
}

fn parse_type_attrs(input: &DeriveInput) -> syn::Result<EventAttrs> {
    let mut event_type = None;
    let mut version = None;
    let mut upcast_from = None;
    let mut schema_base = None;
    let mut krate = None;
    let mut seen_attr = false;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("event")) {
        seen_attr = true;
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("type") {
                let lit: LitStr = meta.value()?.parse()?;
                check_type_name(&lit)?;
                event_type = Some(lit);
            } else if meta.path.is_ident("version") {
                let lit: LitInt = meta.value()?.parse()?;
                let value: u32 = lit.base10_parse().map_err(|_| {
                    syn::Error::new(lit.span(), "event version must be an integer from 1 to 4294967295")
                })?;
                if value == 0 {
                    return Err(syn::Error::new(
                        lit.span(),
                        "event versions start at 1: write `version = 1` for the first version of a type",
                    ));
                }
                version = Some(value);
            } else if meta.path.is_ident("upcast_from") {
                upcast_from = Some(meta.value()?.parse::<Path>()?);
            } else if meta.path.is_ident("schema_base") {
                let lit: LitStr = meta.value()?.parse()?;
                if lit.value().is_empty() || lit.value().ends_with('/') {
                    return Err(syn::Error::new(
                        lit.span(),
                        "`schema_base` is a URI without a trailing slash, e.g. \"https://schemas.example.com/shop\"",
                    ));
                }
                schema_base = Some(lit);
            } else if meta.path.is_ident("crate") {
                let lit: LitStr = meta.value()?.parse()?;
                krate = Some(lit.parse::<Path>()?);
            } else if meta.path.is_ident("subject") {
                return Err(meta.error(
                    "`subject` goes on a field, not on the type: put #[event(subject)] on the field \
                     that holds the entity id",
                ));
            } else {
                return Err(meta.error(
                    "unknown `event` option; expected `type`, `version`, `upcast_from`, `schema_base` or `crate`",
                ));
            }
            Ok(())
        })?;
    }
    let missing = |what: &str, example: &str| {
        syn::Error::new(
            input.ident.span(),
            format!(
                "#[derive(Event)] needs the event {what}: add #[event({example})] to `{}`",
                input.ident
            ),
        )
    };
    if !seen_attr {
        return Err(missing(
            "type and version",
            "type = \"domain.entity.happened\", version = 1",
        ));
    }
    Ok(EventAttrs {
        event_type: event_type
            .ok_or_else(|| missing("type", "type = \"domain.entity.happened\""))?,
        version: version.ok_or_else(|| missing("version", "version = 1"))?,
        upcast_from,
        schema_base,
        krate: krate.unwrap_or_else(|| syn::parse_quote!(::tidings_events)),
    })
}

/// Event type names are what filter policies and registries key on: keep them to a
/// portable alphabet.
fn check_type_name(lit: &LitStr) -> syn::Result<()> {
    let name = lit.value();
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        && !name.starts_with('.')
        && !name.ends_with('.');
    if valid {
        Ok(())
    } else {
        Err(syn::Error::new(
            lit.span(),
            "event type names are dotted ASCII words such as \"shop.order.placed\" \
             (letters, digits, '.', '-', '_'; not empty, no leading or trailing dot)",
        ))
    }
}

fn find_subject(input: &DeriveInput) -> syn::Result<Option<SubjectField>> {
    let fields = match &input.data {
        Data::Struct(data) => &data.fields,
        Data::Enum(data) => {
            for variant in &data.variants {
                for field in &variant.fields {
                    if let Some(attr) = field.attrs.iter().find(|a| a.path().is_ident("event")) {
                        return Err(syn::Error::new(
                            attr.span(),
                            "#[event(subject)] is only supported on struct fields; for an enum \
                             payload set the subject on the envelope with `with_subject`",
                        ));
                    }
                }
            }
            return Ok(None);
        }
        Data::Union(data) => {
            return Err(syn::Error::new(
                data.union_token.span(),
                "#[derive(Event)] supports structs and enums, not unions",
            ));
        }
    };
    let mut subject: Option<SubjectField> = None;
    for (index, field) in fields.iter().enumerate() {
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("event")) {
            attr.parse_nested_meta(|meta| {
                if !meta.path.is_ident("subject") {
                    return Err(meta.error("the only field option is #[event(subject)]"));
                }
                if let Some(first) = &subject {
                    let first_name = match &first.member {
                        Member::Named(ident) => ident.to_string(),
                        Member::Unnamed(index) => index.index.to_string(),
                    };
                    return Err(syn::Error::new(
                        attr.span(),
                        format!(
                            "an event has one subject, and field `{first_name}` is already marked \
                             #[event(subject)]; remove one of the two markers"
                        ),
                    ));
                }
                let member = match &field.ident {
                    Some(ident) => Member::Named(ident.clone()),
                    None => Member::Unnamed(syn::Index {
                        index: index as u32,
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
    if let Fields::Unit = fields {
        return Ok(None);
    }
    Ok(subject)
}

fn schema_ids(attrs: &EventAttrs) -> (String, String) {
    let (name, version) = (attrs.event_type.value(), attrs.version);
    match &attrs.schema_base {
        Some(base) => {
            let base = base.value();
            (
                format!("{base}/{name}/v{version}.schema.json"),
                format!("{base}/{name}/v{version}.envelope.schema.json"),
            )
        }
        None => (
            format!("urn:tidings:schema:{name}:v{version}"),
            format!("urn:tidings:envelope:{name}:v{version}"),
        ),
    }
}

fn emit(input: &DeriveInput, attrs: &EventAttrs, subject: Option<&SubjectField>) -> TokenStream {
    let ident = &input.ident;
    let krate = &attrs.krate;
    let event_type = &attrs.event_type;
    let version = attrs.version;
    let (schema_id, envelope_schema_id) = schema_ids(attrs);

    let subject_body = match subject {
        Some(SubjectField { member, ty }) => quote_spanned! {ty.span()=>
            <#ty as #krate::SubjectField>::as_subject(&self.#member)
        },
        None => quote!(::core::option::Option::None),
    };

    let (versions_body, older_versions, upcast_check) = match &attrs.upcast_from {
        None => (
            quote!(::std::vec![#version]),
            TokenStream::new(),
            TokenStream::new(),
        ),
        Some(prev) => {
            let prev_name = quote!(#prev).to_string().replace(' ', "");
            let type_message = format!(
                "`upcast_from = {prev_name}` must name an older version of the same event type, \
                 but `{prev_name}` has a different `type` than `{}`",
                event_type.value()
            );
            let version_message = format!(
                "`upcast_from = {prev_name}` must name an older version of `{}`, but its version \
                 is not lower than {version}",
                event_type.value()
            );
            let span = prev.span();
            (
                quote! {{
                    let mut versions = <#prev as #krate::Event>::versions();
                    versions.push(#version);
                    versions
                }},
                quote_spanned! {span=>
                    if <#prev as #krate::Event>::versions().contains(&version) {
                        return <#prev as #krate::Event>::decode_data(version, data)
                            .map(<Self as ::core::convert::From<#prev>>::from);
                    }
                },
                quote_spanned! {span=>
                    const _: () = {
                        ::core::assert!(
                            #krate::__private::const_str_eq(<#prev as #krate::Event>::TYPE, #event_type),
                            #type_message
                        );
                        ::core::assert!(<#prev as #krate::Event>::VERSION < #version, #version_message);
                    };
                },
            )
        }
    };
    let upcast_from_version = match &attrs.upcast_from {
        Some(prev) => quote!(::core::option::Option::Some(<#prev as #krate::Event>::VERSION)),
        None => quote!(::core::option::Option::None),
    };

    quote! {
        impl #krate::Event for #ident {
            const TYPE: &'static str = #event_type;
            const VERSION: u32 = #version;
            const SCHEMA_ID: &'static str = #schema_id;

            fn subject(&self) -> ::core::option::Option<&str> {
                #subject_body
            }

            fn versions() -> ::std::vec::Vec<u32> {
                #versions_body
            }

            fn decode_data(
                version: u32,
                data: &#krate::__private::RawValue,
            ) -> ::core::result::Result<Self, #krate::DataError> {
                if version == #version {
                    return #krate::__private::decode_exact::<Self>(data);
                }
                #older_versions
                ::core::result::Result::Err(#krate::DataError::UnsupportedVersion {
                    event_type: #event_type,
                    found: version,
                    supported: <Self as #krate::Event>::versions(),
                })
            }
        }

        #upcast_check

        #krate::__private::inventory::submit! {
            #krate::__private::EventRegistration {
                event_type: #event_type,
                version: #version,
                schema_id: #schema_id,
                envelope_schema_id: #envelope_schema_id,
                rust_type: ::core::concat!(::core::module_path!(), "::", ::core::stringify!(#ident)),
                upcast_from: #upcast_from_version,
                data_schema: #krate::schema::data_schema::<#ident>,
            }
        }
    }
}
