//! [`Mode`] and [`Policy`]: what a compatibility check asks for.

use std::fmt;
use std::str::FromStr;

/// Which readers must keep working when a new version of an event type is published, as in
/// the compatibility types of established schema registries.
///
/// `Backward` is the default: consumers upgrade first (or read an older version's data after
/// upgrading), which is what a queue holding messages written before a deploy demands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// A reader using the new schema can read data written with the previous version.
    #[default]
    Backward,
    /// A reader using the previous version's schema can read data written with the new one.
    Forward,
    /// Both [`Mode::Backward`] and [`Mode::Forward`] against the previous version.
    Full,
    /// [`Mode::Backward`] against every earlier published version.
    BackwardTransitive,
    /// [`Mode::Forward`] against every earlier published version.
    ForwardTransitive,
    /// [`Mode::Full`] against every earlier published version.
    FullTransitive,
}

/// The two directions data can flow between an older and a newer schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The new schema reads data written with the old one.
    Backward,
    /// The old schema reads data written with the new one.
    Forward,
}

impl Mode {
    /// Every mode, in the order the documentation lists them.
    pub const ALL: [Mode; 6] = [
        Mode::Backward,
        Mode::Forward,
        Mode::Full,
        Mode::BackwardTransitive,
        Mode::ForwardTransitive,
        Mode::FullTransitive,
    ];

    /// Whether the new version is checked against every earlier version rather than only the
    /// latest one below it.
    pub fn is_transitive(self) -> bool {
        matches!(
            self,
            Mode::BackwardTransitive | Mode::ForwardTransitive | Mode::FullTransitive
        )
    }

    /// The directions this mode checks, backward first.
    pub fn directions(self) -> &'static [Direction] {
        match self {
            Mode::Backward | Mode::BackwardTransitive => &[Direction::Backward],
            Mode::Forward | Mode::ForwardTransitive => &[Direction::Forward],
            Mode::Full | Mode::FullTransitive => &[Direction::Backward, Direction::Forward],
        }
    }

    /// The name `FromStr` reads and `Display` writes, e.g. `full-transitive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Backward => "backward",
            Mode::Forward => "forward",
            Mode::Full => "full",
            Mode::BackwardTransitive => "backward-transitive",
            Mode::ForwardTransitive => "forward-transitive",
            Mode::FullTransitive => "full-transitive",
        }
    }
}

impl Direction {
    /// `backward` or `forward`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Backward => "backward",
            Direction::Forward => "forward",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A mode name that is none of those [`Mode`] knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown compatibility mode `{0}`; use backward, forward, full, backward-transitive, \
     forward-transitive or full-transitive"
)]
pub struct ParseModeError(String);

impl FromStr for Mode {
    type Err = ParseModeError;

    /// Reads a mode name case-insensitively, with `-` or `_` between words, so that the
    /// spellings of other registries (`BACKWARD_TRANSITIVE`) work too.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        Mode::ALL
            .into_iter()
            .find(|mode| mode.as_str() == wanted)
            .ok_or_else(|| ParseModeError(s.to_owned()))
    }
}

/// How to treat properties that appear or disappear on objects that accept unknown
/// properties (no `additionalProperties: false`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Policy {
    /// Confluent's default for JSON Schema: a schema is the set of documents it accepts, so an
    /// open object may already carry any property under any name, and declaring one is a
    /// change of type for it.
    Strict,
    /// Readers ignore properties they do not know and writers write only the properties they
    /// declare, as serde does: an optional property may come and go on an open object.
    #[default]
    Lenient,
}

impl Policy {
    /// Both policies.
    pub const ALL: [Policy; 2] = [Policy::Strict, Policy::Lenient];

    /// `strict` or `lenient`.
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Strict => "strict",
            Policy::Lenient => "lenient",
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A policy name that is neither `strict` nor `lenient`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown compatibility policy `{0}`; use lenient or strict")]
pub struct ParsePolicyError(String);

impl FromStr for Policy {
    type Err = ParsePolicyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Policy::ALL
            .into_iter()
            .find(|policy| policy.as_str() == wanted)
            .ok_or_else(|| ParsePolicyError(s.to_owned()))
    }
}

// Command lines report parse failures as strings; these let `?` turn the errors into one.
impl From<ParseModeError> for String {
    fn from(error: ParseModeError) -> Self {
        error.to_string()
    }
}

impl From<ParsePolicyError> for String {
    fn from(error: ParsePolicyError) -> Self {
        error.to_string()
    }
}
