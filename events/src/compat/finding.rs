//! [`Finding`]: an incompatibility as the walk sees it, between a writer's schema and a
//! reader's, before it is named as a change from the old schema to the new one.

use super::mode::Direction;
use super::rule::Rule;
use super::violation::SchemaViolation;

/// What the reader cannot read. Each becomes one of two [`Rule`]s, depending on whether
/// the writer is the older schema (backward) or the newer one (forward).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Issue {
    /// The writer declares a property that the reader's closed object rejects.
    PropertyRejected,
    /// The reader requires a property the writer does not declare.
    RequiredPropertyMissing,
    /// Strict policy: the reader declares an optional property that the writer's open
    /// object may carry with any value.
    OpenPropertyUnknown,
    /// The reader requires a property the writer may leave out.
    PropertyMayBeMissing,
    /// The reader's object is closed, the writer's is not.
    ObjectClosed,
    /// The types share no value.
    TypeDisjoint,
    /// The writer's types include some the reader rejects; `fraction` when that is only
    /// the non-integral numbers.
    TypeNotAccepted { fraction: bool },
    /// A value or tagged variant the writer may write is not one the reader knows.
    ValueUnknown,
    /// A bound of the reader excludes values the writer allows.
    OutsideBound,
    /// The `pattern`s differ.
    PatternDiffers,
    /// The string `format`s differ.
    FormatDiffers,
    /// A keyword the rules do not model differs.
    Unchecked,
}

impl Issue {
    /// The rule this issue breaks when found in `direction`.
    pub(super) fn rule(self, direction: Direction) -> Rule {
        let backward = direction == Direction::Backward;
        let pick = |b: Rule, f: Rule| if backward { b } else { f };
        match self {
            Issue::PropertyRejected => {
                pick(Rule::PropertyRemoved, Rule::PropertyAddedToClosedObject)
            }
            Issue::RequiredPropertyMissing => {
                pick(Rule::RequiredPropertyAdded, Rule::PropertyRemoved)
            }
            Issue::OpenPropertyUnknown => {
                pick(Rule::OptionalPropertyAdded, Rule::OptionalPropertyRemoved)
            }
            Issue::PropertyMayBeMissing => {
                pick(Rule::PropertyMadeRequired, Rule::PropertyMadeOptional)
            }
            Issue::ObjectClosed => pick(
                Rule::AdditionalPropertiesClosed,
                Rule::AdditionalPropertiesOpened,
            ),
            Issue::TypeDisjoint => Rule::TypeChanged,
            Issue::TypeNotAccepted { fraction: true } => {
                pick(Rule::TypeNarrowed, Rule::IntegerWidenedToNumber)
            }
            Issue::TypeNotAccepted { fraction: false } => {
                pick(Rule::TypeNarrowed, Rule::TypeWidened)
            }
            Issue::ValueUnknown => pick(Rule::EnumValueRemoved, Rule::EnumValueAdded),
            Issue::OutsideBound => pick(Rule::BoundTightened, Rule::BoundLoosened),
            Issue::PatternDiffers => Rule::PatternChanged,
            Issue::FormatDiffers => Rule::FormatChanged,
            Issue::Unchecked => Rule::UncheckedKeywordChanged,
        }
    }
}

/// An incompatibility with the pointers of what it is about on each side, where that
/// thing exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Finding {
    pub(super) issue: Issue,
    pub(super) writer_at: Option<String>,
    pub(super) reader_at: Option<String>,
    /// Already phrased as a change from the old schema to the new one.
    pub(super) detail: String,
}

impl Finding {
    /// The violation: the pointer is into the new schema when the thing exists there, and
    /// into the old one otherwise (a removed property, value or keyword).
    pub(super) fn into_violation(self, direction: Direction) -> SchemaViolation {
        let (old_at, new_at) = match direction {
            Direction::Backward => (self.writer_at, self.reader_at),
            Direction::Forward => (self.reader_at, self.writer_at),
        };
        SchemaViolation {
            pointer: new_at.or(old_at).unwrap_or_default(),
            rule: self.issue.rule(direction),
            direction,
            detail: self.detail,
        }
    }
}
