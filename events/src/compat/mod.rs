//! The compatibility check: whether the current schemas of event types can replace the
//! published ones without breaking the teams that consume them.
//!
//! A published version is immutable, and a new version must be readable in the
//! directions a [`Mode`] asks for, as in established schema registries:
//!
//! ```
//! use serde_json::json;
//! use tidings_events::compat::{Mode, Policy, Rule, check_schema};
//!
//! let old = json!({"type": "object", "properties": {"total": {"type": "integer"}},
//!                  "required": ["total"]});
//! let new = json!({"type": "object", "properties": {"total": {"type": "string"}},
//!                  "required": ["total"]});
//! let found = check_schema(&old, &new, Mode::Backward, Policy::Lenient);
//! assert_eq!(found.len(), 1);
//! assert_eq!(found[0].rule, Rule::TypeChanged);
//! assert_eq!(found[0].pointer, "/properties/total");
//! ```
//!
//! The rules, modes and policies are documented with examples in `docs/compatibility.md`.

mod finding;
mod keywords;
mod mode;
mod pointer;
mod published;
mod registry_check;
mod rule;
mod shape;
mod types;
mod upcast;
mod violation;
mod walk;

pub use mode::{Direction, Mode, ParseModeError, ParsePolicyError, Policy};
pub use registry_check::{check_registry, check_registry_with_upcasts};
pub use rule::Rule;
pub use upcast::{LinkedUpcasts, Upcasts};
pub use violation::{SchemaViolation, Violation};

use serde_json::Value;

/// Checks one pair of data schemas: `old` is the earlier version, `new` the one that
/// replaces it. A transitive mode checks the pair as its plain form does; comparing with
/// every earlier version is [`check_registry`]'s part.
///
/// Returns every violation, backward ones first, each once per pointer and rule.
pub fn check_schema(old: &Value, new: &Value, mode: Mode, policy: Policy) -> Vec<SchemaViolation> {
    let mut found: Vec<SchemaViolation> = Vec::new();
    for &direction in mode.directions() {
        for finding in walk::compare(old, new, direction, policy) {
            let violation = finding.into_violation(direction);
            // A definition used in several places is reached once per use.
            let seen = found.iter().any(|v| {
                v.rule == violation.rule
                    && v.pointer == violation.pointer
                    && v.direction == violation.direction
            });
            if !seen {
                found.push(violation);
            }
        }
    }
    found
}
