//! Whether a published version's schema was edited: every place where two schemas differ
//! in anything but annotations.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::keywords::{self, Holds};
use super::pointer;

/// Every place where `new` constrains data differently from `old`, as a pointer and what
/// differs there; empty when they differ at most in annotations (titles, descriptions,
/// examples, defaults, `x-` keywords, `$id`, `$schema`) or in the order of `required`,
/// `enum` and `type`.
pub(super) fn differences(old: &Value, new: &Value) -> Vec<(String, String)> {
    let mut found = Vec::new();
    schema(old, new, "", &mut found);
    found
}

fn schema(old: &Value, new: &Value, ptr: &str, found: &mut Vec<(String, String)>) {
    let empty = Map::new();
    let (Some(a), Some(b)) = (as_map(old, &empty), as_map(new, &empty)) else {
        if old != new {
            found.push((ptr.to_owned(), changed("the schema", old, new)));
        }
        return;
    };
    let names: BTreeSet<&String> = a
        .keys()
        .chain(b.keys())
        .filter(|k| !keywords::is_annotation(k))
        .collect();
    for name in names {
        let at = pointer::child(ptr, name);
        match (a.get(name), b.get(name)) {
            (Some(x), Some(y)) => keyword(name, x, y, &at, found),
            (Some(x), None) => found.push((at, format!("`{name}` {} removed", brief(x)))),
            (None, Some(y)) => found.push((at, format!("`{name}` {} added", brief(y)))),
            (None, None) => {}
        }
    }
}

/// The keywords of a schema; `true` is the schema with none.
fn as_map<'a>(schema: &'a Value, empty: &'a Map<String, Value>) -> Option<&'a Map<String, Value>> {
    match schema {
        Value::Object(map) => Some(map),
        Value::Bool(true) => Some(empty),
        _ => None,
    }
}

fn keyword(name: &str, old: &Value, new: &Value, ptr: &str, found: &mut Vec<(String, String)>) {
    match (keywords::holds(name), old, new) {
        (Holds::Schema, _, _) => schema(old, new, ptr, found),
        (Holds::SchemaArray, Value::Array(a), Value::Array(b)) => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                schema(x, y, &pointer::index(ptr, i), found);
            }
            if a.len() != b.len() {
                let detail = format!("`{name}` had {} members, now {}", a.len(), b.len());
                found.push((ptr.to_owned(), detail));
            }
        }
        (Holds::SchemaMap, Value::Object(a), Value::Object(b)) => {
            let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for entry in names {
                let at = pointer::child(ptr, entry);
                match (a.get(entry), b.get(entry)) {
                    (Some(x), Some(y)) => schema(x, y, &at, found),
                    (Some(_), None) => found.push((at, format!("`{entry}` removed from `{name}`"))),
                    (None, Some(_)) => found.push((at, format!("`{entry}` added to `{name}`"))),
                    (None, None) => {}
                }
            }
        }
        (Holds::ValueSet, _, _) => {
            if as_set(old) != as_set(new) {
                found.push((ptr.to_owned(), changed(&format!("`{name}`"), old, new)));
            }
        }
        _ => {
            if old != new {
                found.push((ptr.to_owned(), changed(&format!("`{name}`"), old, new)));
            }
        }
    }
}

/// The members of a set-like keyword in a canonical order; a single name stands for a
/// one-member set, as `type` allows.
fn as_set(value: &Value) -> BTreeSet<String> {
    match value {
        Value::Array(items) => items.iter().map(Value::to_string).collect(),
        other => BTreeSet::from([other.to_string()]),
    }
}

fn changed(what: &str, old: &Value, new: &Value) -> String {
    format!("{what} changed from {} to {}", brief(old), brief(new))
}

/// A value as JSON, shortened to stay on one report line.
fn brief(value: &Value) -> String {
    const MAX: usize = 60;
    let text = value.to_string();
    if text.chars().count() <= MAX {
        text
    } else {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn annotations_and_set_order_do_not_count() {
        let old = json!({"title": "a", "type": ["string", "null"], "required": ["a", "b"],
                         "properties": {"description": {"type": "string", "description": "x"}}});
        let new = json!({"title": "b", "type": ["null", "string"], "required": ["b", "a"],
                         "properties": {"description": {"type": "string"}}, "x-note": 1});
        assert_eq!(differences(&old, &new), []);
    }

    #[test]
    fn a_property_named_like_an_annotation_is_still_a_property() {
        let old = json!({"properties": {"title": {"type": "string"}}});
        let new = json!({"properties": {"title": {"type": "integer"}}});
        let found = differences(&old, &new);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "/properties/title/type");
    }

    #[test]
    fn true_and_an_annotation_only_object_are_the_same_schema() {
        let old = json!({"properties": {"v": true}});
        let new = json!({"properties": {"v": {"description": "anything"}}});
        assert_eq!(differences(&old, &new), []);
    }

    #[test]
    fn every_difference_is_reported() {
        let old = json!({"properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
                         "required": ["a"]});
        let new = json!({"properties": {"a": {"type": "integer"}, "c": {"type": "string"}},
                         "required": ["a", "c"]});
        let pointers: Vec<String> = differences(&old, &new)
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(
            pointers,
            [
                "/properties/a/type",
                "/properties/b",
                "/properties/c",
                "/required"
            ]
        );
    }
}
