//! [`SchemaViolation`] and [`Violation`]: what the check reports.

use std::fmt;

use super::mode::Direction;
use super::rule::Rule;

/// A breaking change between two data schemas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaViolation {
    /// JSON pointer (RFC 6901) into the new schema, or into the older one when what it
    /// names exists only there (a removed property, enum value or keyword). `""` is the
    /// root.
    pub pointer: String,
    /// The rule broken.
    pub rule: Rule,
    /// The direction in which data no longer flows.
    pub direction: Direction,
    /// What changed, e.g. `integer became string`.
    pub detail: String,
}

/// A breaking change of one event type and version, found by
/// [`check_registry`](super::check_registry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The event type, e.g. `shop.order.placed`.
    pub event_type: String,
    /// The version whose schema breaks the rule.
    pub version: u32,
    /// The version it was compared with, for compatibility rules.
    pub against_version: Option<u32>,
    /// The direction checked, for compatibility rules; `None` for the rules about published
    /// versions, which hold in every mode.
    pub direction: Option<Direction>,
    /// JSON pointer into the new data schema, or into the published one when what it names
    /// exists only there. `""` is the root.
    pub pointer: String,
    /// The rule broken.
    pub rule: Rule,
    /// What changed, e.g. `integer became string`.
    pub detail: String,
}

impl Violation {
    /// What to do about it.
    pub fn advice(&self) -> &'static str {
        self.rule.advice(self.direction)
    }
}

impl SchemaViolation {
    /// What to do about it.
    pub fn advice(&self) -> &'static str {
        self.rule.advice(Some(self.direction))
    }
}

/// The root pointer is empty, which reads as nothing in a report line.
fn shown(pointer: &str) -> &str {
    if pointer.is_empty() {
        "(root)"
    } else {
        pointer
    }
}

impl fmt::Display for SchemaViolation {
    /// One line: `/properties/total_cents: type-changed: integer became string (backward)
    /// — <advice>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {} ({}) — {}",
            shown(&self.pointer),
            self.rule,
            self.detail,
            self.direction,
            self.advice()
        )
    }
}

impl fmt::Display for Violation {
    /// One line: `shop.order.placed v2 /properties/total_cents: type-changed: integer became
    /// string (checked against v1, backward) — <advice>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} v{} {}: {}: {}",
            self.event_type,
            self.version,
            shown(&self.pointer),
            self.rule,
            self.detail
        )?;
        match (self.against_version, self.direction) {
            (Some(against), Some(direction)) => {
                write!(f, " (checked against v{against}, {direction})")?
            }
            (Some(against), None) => write!(f, " (checked against v{against})")?,
            (None, Some(direction)) => write!(f, " ({direction})")?,
            (None, None) => {}
        }
        write!(f, " — {}", self.advice())
    }
}
