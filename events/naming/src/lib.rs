//! The naming rules of the event contract, written once for the two places that apply them:
//! `tidings-macros` checks them at compile time (with an error at the attribute) and
//! `tidings-events` at run time (on envelopes, in the registry). A proc-macro crate cannot
//! export plain functions and the events crate depends on the macros, so the rules live in
//! this crate, which has no dependencies.

#![warn(missing_docs)]

/// What is wrong with an event type name, if anything: event type names are what
/// subscription filter policies and schema registries key on, so they are dotted words of
/// ASCII letters, digits, `-` and `_`.
pub fn event_type_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("is empty".to_owned());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
    {
        return Some(format!("contains {c:?}"));
    }
    if name.split('.').any(str::is_empty) {
        return Some("has an empty segment (a leading, trailing or doubled '.')".to_owned());
    }
    None
}

/// Whether `text` starts with a URI scheme (`https:`, `urn:`): what makes a URI absolute.
pub fn has_uri_scheme(text: &str) -> bool {
    text.split_once(':').is_some_and(|(scheme, _)| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    })
}

/// Whether `text` is an absolute URI as CloudEvents requires of `dataschema`: a scheme, and
/// no whitespace.
pub fn is_absolute_uri(text: &str) -> bool {
    has_uri_scheme(text) && !text.chars().any(char::is_whitespace)
}

/// What is wrong with a `schema_base`, if anything: the schema ids are
/// `{base}/{type}/v{version}.schema.json`, and a schema `$id` must be an absolute URI.
pub fn schema_base_problem(base: &str) -> Option<&'static str> {
    if !has_uri_scheme(base) {
        Some("is not an absolute URI (it needs a scheme such as `https:`)")
    } else if base.chars().any(char::is_whitespace) {
        Some("contains whitespace")
    } else if base.contains(['?', '#']) {
        Some("has a query or fragment, which would end up in the middle of every schema id")
    } else if base.ends_with('/') {
        Some("ends with '/', and the type name is appended after a '/' of its own")
    } else {
        None
    }
}

/// The ending of every schema file of a registry directory.
pub const SCHEMA_SUFFIX: &str = ".schema.json";

/// The data schema file of a type and version, relative to a registry directory (or a
/// schema base).
pub fn schema_file(event_type: &str, version: u32) -> String {
    format!("{event_type}/v{version}{SCHEMA_SUFFIX}")
}

/// The envelope schema file of a type and version, relative to a registry directory (or a
/// schema base).
pub fn envelope_schema_file(event_type: &str, version: u32) -> String {
    format!("{event_type}/v{version}.envelope{SCHEMA_SUFFIX}")
}

/// The `$id` of the data schema of a type and version: its file under `schema_base`, or a
/// `urn:tidings:schema:` name without one.
pub fn schema_id(schema_base: Option<&str>, event_type: &str, version: u32) -> String {
    match schema_base {
        Some(base) => format!("{base}/{}", schema_file(event_type, version)),
        None => format!("urn:tidings:schema:{event_type}:v{version}"),
    }
}

/// The `$id` of the envelope schema of a type and version, as [`schema_id`] for the data.
pub fn envelope_schema_id(schema_base: Option<&str>, event_type: &str, version: u32) -> String {
    match schema_base {
        Some(base) => format!("{base}/{}", envelope_schema_file(event_type, version)),
        None => format!("urn:tidings:envelope:{event_type}:v{version}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_type_names_are_dotted_portable_words() {
        assert_eq!(event_type_problem("shop.order-v2.placed_x"), None);
        assert_eq!(event_type_problem("").as_deref(), Some("is empty"));
        assert_eq!(
            event_type_problem("shop order").as_deref(),
            Some("contains ' '")
        );
        assert!(
            event_type_problem("shop..order")
                .unwrap()
                .starts_with("has an empty segment")
        );
    }

    #[test]
    fn a_schema_base_is_an_absolute_uri_without_a_trailing_slash() {
        assert_eq!(
            schema_base_problem("https://schemas.example.com/shop"),
            None
        );
        assert!(schema_base_problem("schemas.example.com").is_some());
        assert!(schema_base_problem("https://x.example/a/").is_some());
        assert!(schema_base_problem("https://x.example/a?b").is_some());
        assert!(is_absolute_uri("urn:tidings:schema:a.b:v1"));
        assert!(!is_absolute_uri("/relative/path"));
        assert!(!is_absolute_uri("https://a b"));
    }

    #[test]
    fn ids_and_files_follow_one_layout() {
        assert_eq!(
            schema_file("shop.order.placed", 2),
            "shop.order.placed/v2.schema.json"
        );
        assert_eq!(
            envelope_schema_file("shop.order.placed", 2),
            "shop.order.placed/v2.envelope.schema.json"
        );
        assert_eq!(
            schema_id(Some("https://s.example/shop"), "shop.order.placed", 2),
            "https://s.example/shop/shop.order.placed/v2.schema.json"
        );
        assert_eq!(
            envelope_schema_id(None, "shop.order.placed", 2),
            "urn:tidings:envelope:shop.order.placed:v2"
        );
    }
}
