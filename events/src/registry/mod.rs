//! [`Registry`]: the schemas of a set of event types and versions, either those a program
//! links or those a published registry directory holds.

pub mod asyncapi;
pub mod consumers;
pub mod dir;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::schema::{DuplicateEvent, EventRegistration, check_unique, registrations};

pub use tidings_naming::{SCHEMA_SUFFIX, envelope_schema_file, schema_file};

/// The schemas of one event type and version.
#[derive(Debug, Clone, PartialEq)]
pub struct RegistryEntry {
    /// The JSON Schema of the event's `data`.
    pub data_schema: Value,
    /// The JSON Schema of the whole envelope, with the data schema embedded.
    pub envelope_schema: Value,
    /// The Rust type that defines it, when it comes from code.
    pub rust_type: Option<String>,
    /// The version it upcasts from, when it comes from code or the index says so.
    pub upcast_from: Option<u32>,
}

/// Event schemas keyed by event type and version, in that order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Registry {
    entries: BTreeMap<(String, u32), RegistryEntry>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every event type linked into this program; an error when two Rust types declare the
    /// same type and version.
    pub fn linked() -> Result<Self, DuplicateEvent> {
        Self::from_registrations(registrations())
    }

    /// The event types defined by the crate `crate_name` (as in `module_path!`, with
    /// underscores), among those linked into this program; an error when two of them
    /// declare the same type and version.
    pub fn of_crate(crate_name: &str) -> Result<Self, DuplicateEvent> {
        Self::from_registrations(
            registrations()
                .into_iter()
                .filter(|r| r.crate_name() == crate_name)
                .collect::<Vec<_>>(),
        )
    }

    fn from_registrations(regs: Vec<&EventRegistration>) -> Result<Self, DuplicateEvent> {
        check_unique(regs.iter().copied())?;
        let mut registry = Self::new();
        for reg in regs {
            registry.insert(
                reg.event_type,
                reg.version,
                RegistryEntry {
                    data_schema: (reg.data_schema)(),
                    envelope_schema: reg.envelope_schema(),
                    rust_type: Some(reg.rust_type.to_owned()),
                    upcast_from: reg.upcast_from,
                },
            );
        }
        Ok(registry)
    }

    /// Adds or replaces the schemas of one type and version.
    pub fn insert(&mut self, event_type: &str, version: u32, entry: RegistryEntry) {
        self.entries.insert((event_type.to_owned(), version), entry);
    }

    /// The schemas of one type and version.
    pub fn get(&self, event_type: &str, version: u32) -> Option<&RegistryEntry> {
        self.entries.get(&(event_type.to_owned(), version))
    }

    /// Every (type, version, entry), sorted by type then version.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u32, &RegistryEntry)> {
        self.entries
            .iter()
            .map(|((event_type, version), entry)| (event_type.as_str(), *version, entry))
    }

    /// The event types, sorted.
    pub fn event_types(&self) -> Vec<&str> {
        let mut types: Vec<&str> = self.entries.keys().map(|(t, _)| t.as_str()).collect();
        types.dedup();
        types
    }

    /// The versions of one event type, ascending.
    pub fn versions_of(&self, event_type: &str) -> Vec<u32> {
        self.iter()
            .filter(|(t, _, _)| *t == event_type)
            .map(|(_, version, _)| version)
            .collect()
    }

    /// How many type-version pairs the registry holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the registry holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
