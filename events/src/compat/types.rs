//! [`Types`]: the set of JSON types a schema accepts.

use serde_json::Value;

/// A set of JSON Schema types. `integer` is a subset of `number`, which the set operations
/// account for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Types(u8);

// Null last, so that descriptions read "string or null".
const NAMES: [&str; 7] = [
    "boolean", "object", "array", "number", "integer", "string", "null",
];
const NUMBER: u8 = 1 << 3;
const INTEGER: u8 = 1 << 4;

impl Types {
    pub(super) const ALL: Types = Types(0b111_1111);
    pub(super) const NONE: Types = Types(0);
    pub(super) const BOOLEAN: Types = Types(1);
    pub(super) const OBJECT: Types = Types(1 << 1);
    pub(super) const ARRAY: Types = Types(1 << 2);
    pub(super) const NUMBER: Types = Types(NUMBER);
    pub(super) const INTEGER: Types = Types(INTEGER);
    pub(super) const STRING: Types = Types(1 << 5);
    pub(super) const NULL: Types = Types(1 << 6);

    /// The types named by a `type` keyword (a name or an array of names); unknown names are
    /// ignored.
    pub(super) fn from_keyword(value: &Value) -> Types {
        let one = |name: &str| {
            NAMES
                .iter()
                .position(|n| *n == name)
                .map_or(Types::NONE, |i| Types(1 << i))
        };
        match value {
            Value::String(name) => one(name),
            Value::Array(names) => names
                .iter()
                .filter_map(Value::as_str)
                .fold(Types::NONE, |acc, name| acc.union(one(name))),
            _ => Types::ALL,
        }
    }

    /// The type of one JSON value; integral numbers count as `integer`.
    pub(super) fn of_value(value: &Value) -> Types {
        match value {
            Value::Null => Types::NULL,
            Value::Bool(_) => Types::BOOLEAN,
            Value::Object(_) => Types::OBJECT,
            Value::Array(_) => Types::ARRAY,
            Value::Number(n) if n.is_i64() || n.is_u64() => Types::INTEGER,
            Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => Types::INTEGER,
            Value::Number(_) => Types::NUMBER,
            Value::String(_) => Types::STRING,
        }
    }

    pub(super) fn union(self, other: Types) -> Types {
        Types(self.0 | other.0)
    }

    /// `number` widened to include `integer`, so that bit tests match JSON's value sets.
    fn expanded(self) -> u8 {
        if self.0 & NUMBER != 0 {
            self.0 | INTEGER
        } else {
            self.0
        }
    }

    /// The values both sets accept.
    pub(super) fn intersect(self, other: Types) -> Types {
        let bits = self.expanded() & other.expanded();
        // `number` ∩ `integer` is `integer`, not `number`.
        if self.0 & NUMBER != 0 && other.0 & NUMBER != 0 {
            Types(bits)
        } else {
            Types(bits & !NUMBER)
        }
    }

    /// The types of `self` that `other` does not accept. `number` minus `integer` is
    /// `number` (the fractional values).
    pub(super) fn minus(self, other: Types) -> Types {
        Types(self.0 & !other.expanded())
    }

    pub(super) fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub(super) fn is_all(self) -> bool {
        self.expanded() == Types::ALL.0
    }

    pub(super) fn contains(self, other: Types) -> bool {
        other.minus(self).is_empty()
    }

    pub(super) fn overlaps(self, other: Types) -> bool {
        !self.intersect(other).is_empty()
    }

    /// Whether these are numeric types and only integers.
    pub(super) fn integers_only(self) -> bool {
        self.0 & NUMBER == 0 && self.0 & INTEGER != 0
    }

    /// Each type of the set on its own, for splitting a multi-type schema.
    pub(super) fn each(self) -> impl Iterator<Item = Types> {
        (0..NAMES.len())
            .map(|i| Types(1 << i))
            .filter(move |t| self.0 & t.0 != 0)
    }

    /// `integer`, `string or null`, `any type`.
    pub(super) fn describe(self) -> String {
        if self.is_all() {
            return "any type".to_owned();
        }
        if self.is_empty() {
            return "no type".to_owned();
        }
        let names: Vec<&str> = (0..NAMES.len())
            .filter(|i| self.0 & (1 << i) != 0)
            .map(|i| NAMES[i])
            .collect();
        names.join(" or ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integer_is_a_number_but_not_the_other_way() {
        assert!(Types::NUMBER.contains(Types::INTEGER));
        assert!(!Types::INTEGER.contains(Types::NUMBER));
        assert_eq!(Types::NUMBER.minus(Types::INTEGER), Types::NUMBER);
        assert!(Types::NUMBER.overlaps(Types::INTEGER));
        assert_eq!(Types::NUMBER.intersect(Types::INTEGER), Types::INTEGER);
    }

    #[test]
    fn keyword_arrays_and_describe() {
        let t = Types::from_keyword(&json!(["string", "null"]));
        assert_eq!(t, Types::STRING.union(Types::NULL));
        assert_eq!(t.describe(), "string or null");
        assert_eq!(t.minus(Types::STRING), Types::NULL);
    }
}
