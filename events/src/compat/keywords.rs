//! Which JSON Schema keywords constrain data, which only describe it, and which hold
//! subschemas.

/// Keywords that describe data without constraining it. They may change freely, even in a
/// published version. `$id` and `$schema` are here because they name the document, not
/// the data.
const ANNOTATIONS: &[&str] = &[
    "title",
    "description",
    "examples",
    "$comment",
    "default",
    "deprecated",
    "readOnly",
    "writeOnly",
    "$id",
    "$schema",
    "$anchor",
    "$dynamicAnchor",
    "$vocabulary",
    "contentEncoding",
    "contentMediaType",
    "contentSchema",
];

/// Whether `keyword` is an annotation, including any `x-` extension keyword.
pub(super) fn is_annotation(keyword: &str) -> bool {
    keyword.starts_with("x-") || ANNOTATIONS.contains(&keyword)
}

/// How a keyword's value relates to subschemas, for walking a schema document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Holds {
    /// One subschema, e.g. `items`.
    Schema,
    /// An array of subschemas, e.g. `anyOf`.
    SchemaArray,
    /// An object whose values are subschemas, e.g. `properties`.
    SchemaMap,
    /// An unordered set of values, e.g. `required`: order carries no meaning.
    ValueSet,
    /// A plain value, e.g. `maximum`.
    Value,
}

/// What the value of `keyword` holds.
pub(super) fn holds(keyword: &str) -> Holds {
    match keyword {
        "additionalProperties"
        | "items"
        | "additionalItems"
        | "not"
        | "if"
        | "then"
        | "else"
        | "contains"
        | "propertyNames"
        | "unevaluatedProperties"
        | "unevaluatedItems" => Holds::Schema,
        "prefixItems" | "anyOf" | "oneOf" | "allOf" => Holds::SchemaArray,
        "properties" | "patternProperties" | "$defs" | "definitions" | "dependentSchemas" => {
            Holds::SchemaMap
        }
        "required" | "enum" | "type" => Holds::ValueSet,
        _ => Holds::Value,
    }
}

/// Validation keywords the compatibility rules do not model. A change to one of them is
/// reported as unchecked rather than silently passed.
pub(super) const UNCHECKED: &[&str] = &[
    "not",
    "if",
    "then",
    "else",
    "dependentRequired",
    "dependentSchemas",
    "dependencies",
    "patternProperties",
    "propertyNames",
    "contains",
    "minContains",
    "maxContains",
    "unevaluatedItems",
    "unevaluatedProperties",
    "additionalItems",
    "$dynamicRef",
    "$recursiveRef",
];

/// Bound keywords the rules compare: numeric, string, array and object bounds, plus
/// `format`, `pattern` and `uniqueItems`.
pub(super) const BOUNDS: &[&str] = &[
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
];

/// The range of an integer `format` as schemars writes it for Rust integer types; other
/// formats imply no range.
pub(super) fn integer_format_range(format: &str) -> Option<(f64, f64)> {
    Some(match format {
        "int8" => (i8::MIN as f64, i8::MAX as f64),
        "int16" => (i16::MIN as f64, i16::MAX as f64),
        "int32" => (i32::MIN as f64, i32::MAX as f64),
        "int64" | "int" => (i64::MIN as f64, i64::MAX as f64),
        "int128" => (i128::MIN as f64, i128::MAX as f64),
        "uint8" => (0.0, u8::MAX as f64),
        "uint16" => (0.0, u16::MAX as f64),
        "uint32" => (0.0, u32::MAX as f64),
        "uint64" | "uint" => (0.0, u64::MAX as f64),
        "uint128" => (0.0, u128::MAX as f64),
        _ => return None,
    })
}

/// Whether `format` describes a number rather than a string.
pub(super) fn is_numeric_format(format: &str) -> bool {
    integer_format_range(format).is_some() || matches!(format, "float" | "double")
}
