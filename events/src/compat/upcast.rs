//! The check of a new version that upcasts from older ones: its backward compatibility is
//! proven by running its code, not by comparing schemas.
//!
//! A consumer built with the new version never reads older data as the new type: it decodes
//! it as the older type and upcasts it through the chain of `From` impls. So for every
//! published version below the new one, the chain must reach it, and the chain's output for
//! every example of that version (those published in its schema, and a sample made from the
//! schema) must decode, upcast and validate against the new version's schema.

use std::panic::AssertUnwindSafe;

use serde_json::Value;
use serde_json::value::RawValue;

use super::rule::Rule;
use super::violation::Violation;
use crate::schema::registrations;
use crate::{Registry, RegistryEntry};

/// The upcast chains that the check can run: the code of the event types.
pub trait Upcasts {
    /// Whether this code has the type of version `version` of `event_type`.
    fn knows(&self, event_type: &str, version: u32) -> bool;

    /// Decodes `data`, written at version `from` of `event_type`, as the type of version
    /// `to` (upcasting through its chain) and writes it back as JSON. `None` when this code
    /// has no type for version `to`; an error when decoding or upcasting fails.
    fn upcast(
        &self,
        event_type: &str,
        from: u32,
        to: u32,
        data: &Value,
    ) -> Option<Result<Value, String>>;
}

/// The upcast chains of the event types linked into this program.
#[derive(Debug, Clone, Copy, Default)]
pub struct LinkedUpcasts;

impl Upcasts for LinkedUpcasts {
    fn knows(&self, event_type: &str, version: u32) -> bool {
        registrations()
            .into_iter()
            .any(|r| r.event_type == event_type && r.version == version)
    }

    fn upcast(
        &self,
        event_type: &str,
        from: u32,
        to: u32,
        data: &Value,
    ) -> Option<Result<Value, String>> {
        let registration = registrations()
            .into_iter()
            .find(|r| r.event_type == event_type && r.version == to)?;
        let text = data.to_string();
        let raw = match RawValue::from_string(text) {
            Ok(raw) => raw,
            Err(error) => return Some(Err(error.to_string())),
        };
        // An upcaster is user code: a panic in it is a failed check, not a failed command.
        let upcast =
            std::panic::catch_unwind(AssertUnwindSafe(|| (registration.upcast)(from, &raw)));
        Some(
            upcast.unwrap_or_else(|panic| {
                Err(format!("the upcaster panicked: {}", message(&*panic)))
            }),
        )
    }
}

fn message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(a non-string panic payload)")
}

/// The versions of `event_type` that the chain of `version` decodes, from `current`: the
/// version, the one it upcasts from, and so on down.
pub(super) fn chain(current: &Registry, event_type: &str, version: u32) -> Vec<u32> {
    let mut versions = vec![version];
    let mut at = current.get(event_type, version);
    while let Some(older) = at.and_then(|entry| entry.upcast_from) {
        if versions.contains(&older) {
            break;
        }
        versions.push(older);
        at = current.get(event_type, older);
    }
    versions
}

/// Checks the new `version` of `event_type` (`entry`, which upcasts from an older version)
/// against every published version below it, by running `code`'s upcast chain.
pub(super) fn check_upcasts(
    published: &Registry,
    current: &Registry,
    event_type: &str,
    version: u32,
    entry: &RegistryEntry,
    code: &dyn Upcasts,
) -> Vec<Violation> {
    let chain = chain(current, event_type, version);
    let mut violations = Vec::new();
    let violation = |against: u32, pointer: String, rule: Rule, detail: String| Violation {
        event_type: event_type.to_owned(),
        version,
        against_version: Some(against),
        direction: None,
        pointer,
        rule,
        detail,
    };
    for older in published.versions_of(event_type) {
        if older >= version {
            continue;
        }
        if !chain.contains(&older) {
            let reaches: Vec<String> = chain.iter().rev().map(|v| format!("v{v}")).collect();
            violations.push(violation(
                older,
                String::new(),
                Rule::UpcastChainIncomplete,
                format!(
                    "v{older} is published, but the upcast chain of v{version} ({}) does not \
                     reach it: consumers built with v{version} would reject its data",
                    reaches.join(" → ")
                ),
            ));
            continue;
        }
        let Some(old) = published.get(event_type, older) else {
            continue;
        };
        if !code.knows(event_type, version) {
            // Registries without this version's code (built by hand, or loaded from files):
            // nothing to run.
            continue;
        }
        let validator = match jsonschema::validator_for(&entry.data_schema) {
            Ok(validator) => validator,
            Err(error) => {
                violations.push(violation(
                    older,
                    String::new(),
                    Rule::UpcastOutputInvalid,
                    format!("the schema of v{version} does not compile, so no upcast can be checked against it: {error}"),
                ));
                return violations;
            }
        };
        let examples = examples_of(&old.data_schema, older, |sample| {
            // A sample is the check's own making: kept only when it is data of the older
            // version, so that its failures are the upcaster's.
            matches!(code.upcast(event_type, older, older, sample), Some(Ok(_)))
        });
        if examples.is_empty() {
            violations.push(violation(
                older,
                String::new(),
                Rule::UpcasterFailed,
                format!(
                    "v{older} has no published example and no sample could be made from its \
                     schema, so its upcast to v{version} cannot be checked: give v{older} a \
                     schema example (#[schemars(example = ...)])"
                ),
            ));
        }
        for (name, example) in examples {
            let output = match code.upcast(event_type, older, version, &example) {
                None => continue,
                Some(Ok(output)) => output,
                Some(Err(error)) => {
                    violations.push(violation(
                        older,
                        String::new(),
                        Rule::UpcasterFailed,
                        format!("{name} did not decode and upcast to v{version}: {error}"),
                    ));
                    continue;
                }
            };
            for error in validator.iter_errors(&output) {
                violations.push(violation(
                    older,
                    error.instance_path().to_string(),
                    Rule::UpcastOutputInvalid,
                    format!("{name}, upcast to v{version}, fails its schema: {error}"),
                ));
            }
        }
    }
    violations
}

/// The data the check upcasts for a published version: each example of its schema, and a
/// sample made from the schema (every required property with a value of its type), named
/// for the report.
fn examples_of(
    schema: &Value,
    version: u32,
    is_data: impl Fn(&Value) -> bool,
) -> Vec<(String, Value)> {
    let mut examples: Vec<(String, Value)> = schema
        .get("examples")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, example)| (format!("example {} of v{version}", i + 1), example.clone()))
        .collect();
    if let Some(sample) = sample(schema, schema, 0)
        && !examples.iter().any(|(_, example)| *example == sample)
        && is_data(&sample)
    {
        examples.push((
            format!("a sample of v{version} made from its schema"),
            sample,
        ));
    }
    examples
}

/// How deep a sample follows nested schemas and references, so that a recursive type ends.
const SAMPLE_DEPTH: usize = 16;

/// A small value valid against `schema` (within `root`, for references): the first enum or
/// constant value, the lower bound of a number, a string of the minimum length, an empty
/// array or one of the minimum length, every required property. `None` where the schema
/// asks for something this cannot make, e.g. a `pattern`.
fn sample(schema: &Value, root: &Value, depth: usize) -> Option<Value> {
    if depth > SAMPLE_DEPTH {
        return None;
    }
    let schema = match schema {
        Value::Bool(true) => return Some(Value::Null),
        Value::Object(map) => map,
        _ => return None,
    };
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let target = reference
            .strip_prefix('#')
            .and_then(|pointer| root.pointer(pointer))?;
        return sample(target, root, depth + 1);
    }
    if let Some(value) = schema.get("const") {
        return Some(value.clone());
    }
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|v| v.first())
    {
        return Some(first.clone());
    }
    for keyword in ["oneOf", "anyOf"] {
        if let Some(options) = schema.get(keyword).and_then(Value::as_array) {
            return options
                .iter()
                .find_map(|option| sample(option, root, depth + 1));
        }
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        let mut merged = serde_json::Map::new();
        for part in all {
            match sample(part, root, depth + 1)? {
                Value::Object(fields) => merged.extend(fields),
                other if all.len() == 1 => return Some(other),
                _ => return None,
            }
        }
        return Some(Value::Object(merged));
    }
    let ty = match schema.get("type") {
        Some(Value::String(ty)) => ty.as_str(),
        // `["string", "null"]`: the first type that is not null, else null.
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|ty| *ty != "null")
            .unwrap_or("null"),
        _ if schema.contains_key("properties") => "object",
        _ => return Some(Value::Null),
    };
    let number = |key: &str| schema.get(key).and_then(Value::as_f64);
    match ty {
        "null" => Some(Value::Null),
        "boolean" => Some(Value::Bool(false)),
        "integer" => {
            let low = number("minimum")
                .or_else(|| number("exclusiveMinimum").map(|m| m.floor() + 1.0))
                .unwrap_or(0.0);
            Some(Value::from(low.ceil() as i64))
        }
        "number" => {
            let low = number("minimum")
                .or_else(|| number("exclusiveMinimum").map(|m| m + 1.0))
                .unwrap_or(0.0);
            serde_json::Number::from_f64(low).map(Value::Number)
        }
        "string" => {
            if schema.contains_key("pattern") {
                return None;
            }
            let text = match schema.get("format").and_then(Value::as_str) {
                Some("date-time") => "2026-01-01T00:00:00Z".to_owned(),
                Some("date") => "2026-01-01".to_owned(),
                Some("uuid") => "00000000-0000-7000-8000-000000000000".to_owned(),
                Some("email") => "someone@example.com".to_owned(),
                Some("uri") => "urn:example".to_owned(),
                _ => "x".repeat(number("minLength").unwrap_or(0.0) as usize),
            };
            Some(Value::String(text))
        }
        "array" => {
            let items = number("minItems").unwrap_or(0.0) as usize;
            if items == 0 {
                return Some(Value::Array(Vec::new()));
            }
            let item = sample(
                schema.get("items").unwrap_or(&Value::Bool(true)),
                root,
                depth + 1,
            )?;
            Some(Value::Array(vec![item; items]))
        }
        "object" => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let mut object = serde_json::Map::new();
            for name in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                let property = properties
                    .and_then(|p| p.get(name))
                    .unwrap_or(&Value::Bool(true));
                object.insert(name.to_owned(), sample(property, root, depth + 1)?);
            }
            Some(Value::Object(object))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_sample_holds_every_required_property_with_a_value_of_its_type() {
        let schema = json!({
            "type": "object",
            "properties": {
                "id": {"type": "string", "minLength": 3},
                "count": {"type": "integer", "minimum": 2},
                "state": {"$ref": "#/$defs/State"},
                "note": {"type": ["string", "null"]},
                "lines": {"type": "array", "items": {"type": "integer"}, "minItems": 1}
            },
            "required": ["id", "count", "state", "lines"],
            "$defs": {"State": {"type": "string", "enum": ["open", "closed"]}}
        });
        assert_eq!(
            sample(&schema, &schema, 0),
            Some(json!({"id": "xxx", "count": 2, "state": "open", "lines": [0]}))
        );
    }

    #[test]
    fn a_pattern_cannot_be_sampled() {
        let schema = json!({"type": "object", "properties": {"sku": {"type": "string",
            "pattern": "^[A-Z]{3}$"}}, "required": ["sku"]});
        assert_eq!(sample(&schema, &schema, 0), None);
    }

    #[test]
    fn a_chain_follows_upcast_from_down() {
        let mut current = Registry::new();
        for (version, from) in [(1, None), (2, Some(1)), (3, Some(2))] {
            current.insert(
                "t.x.y",
                version,
                RegistryEntry {
                    data_schema: json!({}),
                    envelope_schema: json!({}),
                    rust_type: None,
                    upcast_from: from,
                },
            );
        }
        assert_eq!(chain(&current, "t.x.y", 3), [3, 2, 1]);
        assert_eq!(chain(&current, "t.x.y", 1), [1]);
    }
}
