//! [`Rule`]: the kinds of breaking change the check reports.

use std::fmt;

use super::mode::Direction;

/// One kind of breaking change. Each has a stable kebab-case [`id`](Rule::id) that the
/// report prints and that `docs/compatibility.md` documents.
///
/// Rules are named after the change from the older schema to the newer one; which mode a
/// change breaks is part of each rule's documentation. A change that breaks a reader in
/// one direction only is reported only when the mode checks that direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// A published version's schema was edited: consumers pinned to it by `dataschema` would
    /// read data that no longer matches what they were promised.
    PublishedVersionModified,
    /// A published version no longer exists in the current types.
    PublishedVersionRemoved,
    /// A property was removed, and either a closed new object rejects the older data that
    /// still carries it (backward) or older readers require it (forward).
    PropertyRemoved,
    /// A required property was added: older data does not carry it (backward).
    RequiredPropertyAdded,
    /// A property was added while the older object is closed: older readers reject it
    /// (forward).
    PropertyAddedToClosedObject,
    /// An optional property became required: older data may lack it (backward).
    PropertyMadeRequired,
    /// A required property became optional: older readers need it (forward).
    PropertyMadeOptional,
    /// Strict policy: an optional property was declared on an object that was open, where
    /// older data may already carry that name with another type (backward).
    OptionalPropertyAdded,
    /// Strict policy: an optional property was removed from an object that stays open, so
    /// newer data may carry that name with another type (forward).
    OptionalPropertyRemoved,
    /// An open object became closed (`additionalProperties: false`): properties that older
    /// data may carry are now rejected (backward).
    AdditionalPropertiesClosed,
    /// A closed object became open: newer data may carry properties that older, closed
    /// readers reject (forward).
    AdditionalPropertiesOpened,
    /// The type changed to one that shares no value with the old one.
    TypeChanged,
    /// The new schema accepts fewer types (e.g. `null` no longer allowed, number became
    /// integer, a string became an enum): older data may not fit (backward).
    TypeNarrowed,
    /// The new schema accepts more types (e.g. `null` now allowed, an enum became a free
    /// string): older readers may not read newer data (forward).
    TypeWidened,
    /// An integer became a number: older integer readers cannot read `1.5` (forward).
    IntegerWidenedToNumber,
    /// An enum value or a tagged variant was removed: older data may hold it (backward).
    EnumValueRemoved,
    /// An enum value or a tagged variant was added: older readers do not know it (forward).
    EnumValueAdded,
    /// A bound was tightened or added (`minimum`, `maximum`, `exclusiveMinimum`,
    /// `exclusiveMaximum`, `multipleOf`, `minLength`, `maxLength`, `pattern`, `minItems`,
    /// `maxItems`, `uniqueItems`, `minProperties`, `maxProperties`, or a smaller integer
    /// `format`): older data may fall outside it (backward).
    BoundTightened,
    /// A bound was loosened or removed: newer data may fall outside what older readers
    /// accept (forward).
    BoundLoosened,
    /// A string `pattern` was replaced by a different one; the check cannot compare regular
    /// expressions, so it breaks both directions.
    PatternChanged,
    /// A string `format` (e.g. `date-time`, `uuid`) was added or changed (backward), or
    /// changed or removed (forward).
    FormatChanged,
    /// A keyword the check does not model (e.g. `not`, `if`, `patternProperties`) changed;
    /// the check cannot prove the change safe.
    UncheckedKeywordChanged,
    /// A new version upcasts from older ones, but its chain does not reach a published
    /// version below it: consumers built with it would reject that version's data.
    UpcastChainIncomplete,
    /// A published example (or a sample) of an older version did not decode as that
    /// version's type or its upcast failed (an error or a panic).
    UpcasterFailed,
    /// The upcast of a published example (or a sample) of an older version does not
    /// validate against the new version's schema.
    UpcastOutputInvalid,
}

impl Rule {
    /// Every rule, in the order the documentation lists them.
    pub const ALL: [Rule; 25] = [
        Rule::PublishedVersionModified,
        Rule::PublishedVersionRemoved,
        Rule::PropertyRemoved,
        Rule::RequiredPropertyAdded,
        Rule::PropertyAddedToClosedObject,
        Rule::PropertyMadeRequired,
        Rule::PropertyMadeOptional,
        Rule::OptionalPropertyAdded,
        Rule::OptionalPropertyRemoved,
        Rule::AdditionalPropertiesClosed,
        Rule::AdditionalPropertiesOpened,
        Rule::TypeChanged,
        Rule::TypeNarrowed,
        Rule::TypeWidened,
        Rule::IntegerWidenedToNumber,
        Rule::EnumValueRemoved,
        Rule::EnumValueAdded,
        Rule::BoundTightened,
        Rule::BoundLoosened,
        Rule::PatternChanged,
        Rule::FormatChanged,
        Rule::UncheckedKeywordChanged,
        Rule::UpcastChainIncomplete,
        Rule::UpcasterFailed,
        Rule::UpcastOutputInvalid,
    ];

    /// The stable kebab-case id, e.g. `property-removed`.
    pub fn id(&self) -> &'static str {
        match self {
            Rule::PublishedVersionModified => "published-version-modified",
            Rule::PublishedVersionRemoved => "published-version-removed",
            Rule::PropertyRemoved => "property-removed",
            Rule::RequiredPropertyAdded => "required-property-added",
            Rule::PropertyAddedToClosedObject => "property-added-to-closed-object",
            Rule::PropertyMadeRequired => "property-made-required",
            Rule::PropertyMadeOptional => "property-made-optional",
            Rule::OptionalPropertyAdded => "optional-property-added",
            Rule::OptionalPropertyRemoved => "optional-property-removed",
            Rule::AdditionalPropertiesClosed => "additional-properties-closed",
            Rule::AdditionalPropertiesOpened => "additional-properties-opened",
            Rule::TypeChanged => "type-changed",
            Rule::TypeNarrowed => "type-narrowed",
            Rule::TypeWidened => "type-widened",
            Rule::IntegerWidenedToNumber => "integer-widened-to-number",
            Rule::EnumValueRemoved => "enum-value-removed",
            Rule::EnumValueAdded => "enum-value-added",
            Rule::BoundTightened => "bound-tightened",
            Rule::BoundLoosened => "bound-loosened",
            Rule::PatternChanged => "pattern-changed",
            Rule::FormatChanged => "format-changed",
            Rule::UncheckedKeywordChanged => "unchecked-keyword-changed",
            Rule::UpcastChainIncomplete => "upcast-chain-incomplete",
            Rule::UpcasterFailed => "upcaster-failed",
            Rule::UpcastOutputInvalid => "upcast-output-invalid",
        }
    }

    /// What to do about a violation of this rule found in `direction` (`None` for the
    /// rules about published versions, which hold in every mode).
    pub fn advice(&self, direction: Option<Direction>) -> &'static str {
        let forward = direction == Some(Direction::Forward);
        match self {
            Rule::PublishedVersionModified => {
                "published versions are immutable: restore this version's schema and put the \
                 change in a new version with `upcast_from` the old one"
            }
            Rule::PublishedVersionRemoved => {
                "consumers and stored messages still use this version: keep its type, or \
                 keep it readable through `upcast_from`"
            }
            Rule::PropertyRemoved if forward => {
                "older readers require this property: keep writing it (it may be deprecated) \
                 until every reader has upgraded"
            }
            Rule::PropertyRemoved => {
                "the closed new object rejects older data that carries it: keep the property \
                 (unused) or drop `deny_unknown_fields`"
            }
            Rule::RequiredPropertyAdded => {
                "older data lacks it: make it an `Option` or give it `#[serde(default)]`"
            }
            Rule::PropertyAddedToClosedObject => {
                "older readers use `deny_unknown_fields` and reject it: open the older type \
                 first, or publish a new event type"
            }
            Rule::PropertyMadeRequired => {
                "older data may lack it: keep it optional or give it `#[serde(default)]`"
            }
            Rule::PropertyMadeOptional => {
                "older readers require it: keep it required until every reader has upgraded"
            }
            Rule::OptionalPropertyAdded => {
                "under the strict policy an open object may already carry this name with \
                 another type: close the object first, or check with the lenient policy"
            }
            Rule::OptionalPropertyRemoved => {
                "under the strict policy newer data may carry this name with another type: \
                 close the new object, or check with the lenient policy"
            }
            Rule::AdditionalPropertiesClosed => {
                "older data may carry properties this object now rejects: drop \
                 `deny_unknown_fields`"
            }
            Rule::AdditionalPropertiesOpened => {
                "older readers reject unknown properties: keep `deny_unknown_fields` until \
                 every reader has upgraded"
            }
            Rule::TypeChanged => {
                "a type cannot change in place: add a new property with the new type and \
                 deprecate the old one"
            }
            Rule::TypeNarrowed => {
                "older data may hold values the new type rejects: keep the wider type"
            }
            Rule::TypeWidened => {
                "older readers reject the values the wider type allows: keep the narrower \
                 type until every reader has upgraded"
            }
            Rule::IntegerWidenedToNumber => {
                "older readers parse an integer and fail on a fraction: keep the integer, or \
                 add a new number property"
            }
            Rule::EnumValueRemoved => {
                "older data may hold this value: keep the variant (it may be deprecated)"
            }
            Rule::EnumValueAdded => {
                "older readers fail on an unknown value: give readers a `#[serde(other)]` \
                 fallback first, or publish the value in a new event type"
            }
            Rule::BoundTightened => {
                "older data may fall outside the new bound: keep the old bound and validate \
                 new values in code"
            }
            Rule::BoundLoosened => {
                "older readers reject values outside their bound: keep the old bound until \
                 every reader has upgraded"
            }
            Rule::PatternChanged => {
                "a changed pattern cannot be proven compatible: keep the old pattern"
            }
            Rule::FormatChanged => {
                "readers parse by format: keep the old format, or add a new property"
            }
            Rule::UncheckedKeywordChanged => {
                "this keyword is not modelled by the check: review the change by hand and \
                 keep the old keyword if unsure"
            }
            Rule::UpcastChainIncomplete => {
                "every published version must stay readable: make the chain reach it \
                 (`upcast_from` the version just below, down to the oldest published)"
            }
            Rule::UpcasterFailed => {
                "fix the `From` impl (or the older type) so that every published example \
                 of the older version upcasts"
            }
            Rule::UpcastOutputInvalid => {
                "the `From` impl builds data the new schema rejects: fill the new fields with \
                 values the schema allows, or loosen its constraint"
            }
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}
