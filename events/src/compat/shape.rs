//! [`Shape`]: one schema node with its `$ref`, `allOf` and const-only `oneOf` resolved, so
//! that the rules compare what a schema accepts rather than how schemars spelled it.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::keywords::{self, BOUNDS, UNCHECKED};
use super::pointer;
use super::types::Types;

/// Beyond this many nested `$ref`s or `allOf`s a node is treated as accepting anything,
/// which stops reference cycles that never reach a structural keyword.
const MAX_DEPTH: usize = 64;

/// A schema that accepts every value; stands in for absent `items` and the like.
pub(super) static ANY: Value = Value::Bool(true);

/// A subschema and the JSON pointer of where it lives in its document.
#[derive(Debug, Clone)]
pub(super) struct Sub<'a> {
    pub(super) value: &'a Value,
    pub(super) ptr: String,
}

/// A keyword's value and the pointer of the keyword.
#[derive(Debug, Clone)]
pub(super) struct Keyword<'a> {
    pub(super) value: &'a Value,
    pub(super) ptr: String,
}

/// What an object does with properties it does not declare.
#[derive(Debug, Clone)]
pub(super) enum Extra<'a> {
    /// Accepts them (no `additionalProperties`, or `true`); `ptr` is the keyword's pointer
    /// when it is written out.
    Open { ptr: Option<String> },
    /// Rejects them (`additionalProperties: false`).
    Closed { ptr: String },
    /// Accepts them when they match a schema, as maps do.
    Schema(Sub<'a>),
}

/// A schema node normalized for comparison.
#[derive(Debug, Clone)]
pub(super) struct Shape<'a> {
    /// The document the node belongs to, for resolving references inside it.
    pub(super) root: &'a Value,
    /// The node's pointer (not its `$ref` target's).
    pub(super) ptr: String,
    /// The `false` schema: no value is valid.
    pub(super) never: bool,
    /// The `type` keyword; `None` when absent.
    pub(super) types: Option<Types>,
    /// The values of `enum` or `const`, or of every member of a `oneOf` of constants.
    pub(super) values: Option<Vec<Keyword<'a>>>,
    /// The pointer of the keyword the values come from.
    pub(super) values_ptr: String,
    /// The members of `oneOf` / `anyOf`, each with this node's other keywords merged in.
    pub(super) variants: Option<Vec<Shape<'a>>>,
    pub(super) properties: BTreeMap<&'a str, Sub<'a>>,
    pub(super) required: BTreeSet<&'a str>,
    pub(super) extra: Extra<'a>,
    pub(super) items: Option<Sub<'a>>,
    pub(super) prefix_items: Option<Vec<Sub<'a>>>,
    /// Bound keywords (see [`BOUNDS`]) by name.
    pub(super) bounds: BTreeMap<&'static str, Keyword<'a>>,
    /// Keywords the rules do not model (see [`UNCHECKED`]) by name.
    pub(super) unchecked: BTreeMap<&'static str, Keyword<'a>>,
    /// Whether the node declares a `default`, which serde fills in when it is absent.
    pub(super) has_default: bool,
    /// The name of the definition a `$ref` led to, e.g. `OrderLine`.
    pub(super) ref_name: Option<String>,
}

impl<'a> Shape<'a> {
    /// Normalizes the node `sub` of the document `root`.
    pub(super) fn of(root: &'a Value, sub: &Sub<'a>) -> Self {
        build(root, sub.value, &sub.ptr, 0)
    }

    fn any(root: &'a Value, ptr: &str) -> Self {
        Shape {
            root,
            ptr: ptr.to_owned(),
            never: false,
            types: None,
            values: None,
            values_ptr: ptr.to_owned(),
            variants: None,
            properties: BTreeMap::new(),
            required: BTreeSet::new(),
            extra: Extra::Open { ptr: None },
            items: None,
            prefix_items: None,
            bounds: BTreeMap::new(),
            unchecked: BTreeMap::new(),
            has_default: false,
            ref_name: None,
        }
    }

    /// Whether the node accepts every value.
    pub(super) fn is_any(&self) -> bool {
        !self.never
            && self.types.is_none_or(Types::is_all)
            && self.values.is_none()
            && self.variants.is_none()
            && self.accepts_any_structure()
    }

    /// Whether the node constrains nothing but `type`, `enum` and `const`.
    fn accepts_any_structure(&self) -> bool {
        self.properties.is_empty()
            && self.required.is_empty()
            && matches!(self.extra, Extra::Open { .. })
            && self.items.is_none()
            && self.prefix_items.is_none()
            && self.bounds.is_empty()
            && self.unchecked.is_empty()
    }

    /// The types of the values the node accepts, narrowed by its values when it lists them.
    pub(super) fn effective_types(&self) -> Types {
        if self.never {
            return Types::NONE;
        }
        let declared = self.types.unwrap_or(Types::ALL);
        match &self.values {
            Some(values) => values
                .iter()
                .map(|v| Types::of_value(v.value))
                .fold(Types::NONE, Types::union)
                .intersect(declared),
            None => match &self.variants {
                Some(variants) => variants
                    .iter()
                    .map(Shape::effective_types)
                    .fold(Types::NONE, Types::union)
                    .intersect(declared),
                None => declared,
            },
        }
    }

    /// The same node restricted to the values of type `only`, for matching one type of a
    /// multi-type node against the members of a union.
    pub(super) fn restricted_to(&self, only: Types) -> Self {
        let mut part = self.clone();
        part.types = Some(self.types.unwrap_or(Types::ALL).intersect(only));
        if let Some(values) = &mut part.values {
            values.retain(|v| Types::of_value(v.value).overlaps(only));
        }
        part
    }

    /// What names this node among the members of a union: its single constant, the
    /// constant of a required tag property (internally or adjacently tagged enums), or the
    /// only property of a closed object (externally tagged enums).
    pub(super) fn tag(&self) -> Option<String> {
        if let Some(values) = &self.values {
            return match values.as_slice() {
                [only] => Some(only.value.to_string()),
                _ => None,
            };
        }
        for name in &self.required {
            if let Some(property) = self.properties.get(name) {
                let property = Shape::of(self.root, property);
                if let Some([only]) = property.values.as_deref() {
                    return Some(only.value.to_string());
                }
            }
        }
        if matches!(self.extra, Extra::Closed { .. })
            && self.required.len() == 1
            && self.properties.len() == 1
        {
            return self
                .properties
                .keys()
                .next()
                .map(|k| Value::from(*k).to_string());
        }
        None
    }

    /// Adds the constraints of `other`, which applies to the same values (`allOf`, or the
    /// keywords beside a `oneOf`); where both set a keyword, `self` wins.
    fn merge(&mut self, other: &Shape<'a>) {
        self.never |= other.never;
        self.types = match (self.types, other.types) {
            (Some(a), Some(b)) => Some(a.intersect(b)),
            (a, b) => a.or(b),
        };
        if self.values.is_none() {
            self.values.clone_from(&other.values);
            self.values_ptr.clone_from(&other.values_ptr);
        }
        if self.variants.is_none() {
            self.variants.clone_from(&other.variants);
        }
        for (name, sub) in &other.properties {
            self.properties.entry(name).or_insert_with(|| sub.clone());
        }
        self.required.extend(other.required.iter().copied());
        self.extra = match (&self.extra, &other.extra) {
            (Extra::Open { .. }, theirs) => theirs.clone(),
            (ours @ Extra::Schema(_), Extra::Open { .. } | Extra::Schema(_)) => ours.clone(),
            (_, closed @ Extra::Closed { .. }) | (closed @ Extra::Closed { .. }, _) => {
                closed.clone()
            }
        };
        if self.items.is_none() {
            self.items.clone_from(&other.items);
        }
        if self.prefix_items.is_none() {
            self.prefix_items.clone_from(&other.prefix_items);
        }
        for (name, keyword) in &other.bounds {
            self.bounds.entry(name).or_insert_with(|| keyword.clone());
        }
        for (name, keyword) in &other.unchecked {
            self.unchecked
                .entry(name)
                .or_insert_with(|| keyword.clone());
        }
        self.has_default |= other.has_default;
        // `ref_name` stays: the members of a union must not all take the union's name.
    }
}

fn build<'a>(root: &'a Value, value: &'a Value, ptr: &str, depth: usize) -> Shape<'a> {
    let mut shape = Shape::any(root, ptr);
    let map = match value {
        Value::Bool(accepts) => {
            shape.never = !accepts;
            return shape;
        }
        Value::Object(map) if depth <= MAX_DEPTH => map,
        _ => return shape,
    };
    if let Some(reference) = map.get("$ref") {
        let target = reference
            .as_str()
            .and_then(pointer::local_ref)
            .and_then(|target_ptr| root.pointer(&target_ptr).map(|t| (target_ptr, t)));
        match target {
            Some((target_ptr, target)) => {
                shape = build(root, target, &target_ptr, depth + 1);
                shape.ref_name = Some(pointer::last_token(&target_ptr).to_owned());
                // A change reached through a reference is reported where it is used: the
                // definition's own keywords carry their own pointers.
                shape.ptr = ptr.to_owned();
            }
            None => {
                shape.unchecked.insert(
                    "$ref",
                    Keyword {
                        value: reference,
                        ptr: pointer::child(ptr, "$ref"),
                    },
                );
            }
        }
    }
    if let Some(Value::Array(members)) = map.get("allOf") {
        let at = pointer::child(ptr, "allOf");
        for (i, member) in members.iter().enumerate() {
            let member = build(root, member, &pointer::index(&at, i), depth + 1);
            shape.merge(&member);
        }
    }
    apply(&mut shape, map, ptr);
    let union = ["oneOf", "anyOf"]
        .into_iter()
        .find_map(|k| Some((k, map.get(k)?.as_array()?)));
    if let Some((keyword, members)) = union {
        let at = pointer::child(ptr, keyword);
        let mut variants: Vec<Shape<'a>> = members
            .iter()
            .enumerate()
            .map(|(i, m)| build(root, m, &pointer::index(&at, i), depth + 1))
            .collect();
        if variants
            .iter()
            .all(|v| v.values.is_some() && v.variants.is_none() && v.accepts_any_structure())
        {
            // A documented unit enum is a `oneOf` of constants: the same value set as an
            // `enum`, so compare it as one.
            let values = variants
                .iter_mut()
                .flat_map(|v| v.values.take().unwrap_or_default());
            shape.values = Some(values.collect());
            shape.values_ptr = at;
        } else {
            for variant in &mut variants {
                variant.merge(&shape);
            }
            shape.variants = Some(variants);
        }
    }
    shape
}

/// Applies the node's own keywords over what `$ref` and `allOf` brought.
fn apply<'a>(shape: &mut Shape<'a>, map: &'a Map<String, Value>, ptr: &str) {
    for (keyword, value) in map {
        let at = pointer::child(ptr, keyword);
        match keyword.as_str() {
            "type" => {
                let declared = Types::from_keyword(value);
                shape.types = Some(shape.types.map_or(declared, |t| t.intersect(declared)));
            }
            "enum" => {
                if let Value::Array(values) = value {
                    let values = values.iter().enumerate().map(|(i, value)| Keyword {
                        value,
                        ptr: pointer::index(&at, i),
                    });
                    shape.values = Some(values.collect());
                    shape.values_ptr = at;
                }
            }
            "const" => {
                // The value is named by its schema, so that a member of a `oneOf` of
                // constants is reported as that member, like a tagged variant.
                shape.values = Some(vec![Keyword {
                    value,
                    ptr: ptr.to_owned(),
                }]);
                shape.values_ptr = at;
            }
            "properties" => {
                if let Value::Object(properties) = value {
                    for (name, schema) in properties {
                        let sub = Sub {
                            value: schema,
                            ptr: pointer::child(&at, name),
                        };
                        shape.properties.insert(name, sub);
                    }
                }
            }
            "required" => {
                if let Value::Array(names) = value {
                    shape
                        .required
                        .extend(names.iter().filter_map(Value::as_str));
                }
            }
            "additionalProperties" => shape.extra = extra(value, at),
            "unevaluatedProperties" if value == &Value::Bool(false) => {
                if !map.contains_key("additionalProperties") {
                    shape.extra = Extra::Closed { ptr: at };
                }
            }
            "items" => match value {
                // Draft 7 wrote tuples as an array of `items`.
                Value::Array(items) => shape.prefix_items = Some(subs(items, &at)),
                _ => shape.items = Some(Sub { value, ptr: at }),
            },
            "prefixItems" => {
                if let Value::Array(items) = value {
                    shape.prefix_items = Some(subs(items, &at));
                }
            }
            "default" => shape.has_default = true,
            other => {
                if let Some(name) = BOUNDS.iter().find(|b| **b == other) {
                    shape.bounds.insert(name, Keyword { value, ptr: at });
                } else if let Some(name) = UNCHECKED.iter().find(|u| **u == other) {
                    shape.unchecked.insert(name, Keyword { value, ptr: at });
                }
            }
        }
    }
}

fn extra(value: &Value, ptr: String) -> Extra<'_> {
    match value {
        Value::Bool(false) => Extra::Closed { ptr },
        Value::Object(map) if map.keys().any(|k| !keywords::is_annotation(k)) => {
            Extra::Schema(Sub { value, ptr })
        }
        _ => Extra::Open { ptr: Some(ptr) },
    }
}

fn subs<'a>(items: &'a [Value], at: &str) -> Vec<Sub<'a>> {
    items
        .iter()
        .enumerate()
        .map(|(i, value)| Sub {
            value,
            ptr: pointer::index(at, i),
        })
        .collect()
}
