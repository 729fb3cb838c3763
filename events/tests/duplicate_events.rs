//! Two Rust types declaring the same event type and version: the registry refuses to be
//! built, naming both, rather than letting one silently stand for the other. In a test
//! binary of its own, since every registry of this binary sees the duplicate.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tidings_events::Event;
use tidings_events::Registry;
use tidings_events::schema::{DuplicateEvent, check_unique, registrations};

mod billing {
    use super::*;

    /// One team's invoice event.
    #[derive(Serialize, Deserialize, JsonSchema, Event)]
    #[event(type = "test.invoice.issued", version = 1)]
    pub struct InvoiceIssued {
        pub invoice_id: String,
    }
}

mod payments {
    use super::*;

    /// Another module declaring the same type and version by mistake.
    #[derive(Serialize, Deserialize, JsonSchema, Event)]
    #[event(type = "test.invoice.issued", version = 1)]
    pub struct InvoiceIssued {
        pub number: u64,
    }
}

/// A type of its own, which alone is fine.
#[derive(Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.invoice.paid", version = 1)]
pub struct InvoicePaid {
    pub invoice_id: String,
}

fn expected() -> DuplicateEvent {
    DuplicateEvent {
        event_type: "test.invoice.issued",
        version: 1,
        first: "duplicate_events::billing::InvoiceIssued",
        second: "duplicate_events::payments::InvoiceIssued",
    }
}

#[test]
fn the_registry_of_the_program_names_both_types() {
    assert_eq!(Registry::linked(), Err(expected()));
    assert_eq!(Registry::of_crate("duplicate_events"), Err(expected()));
    assert_eq!(
        expected().to_string(),
        "`duplicate_events::billing::InvoiceIssued` and `duplicate_events::payments::InvoiceIssued` \
         both declare `test.invoice.issued` version 1; each version of an event type is one Rust \
         type: give one of them the next free version (or its own type name), or remove one"
    );
}

#[test]
fn registrations_without_the_duplicate_pass() {
    let all = registrations();
    let without: Vec<_> = all
        .iter()
        .copied()
        .filter(|r| r.rust_type != "duplicate_events::payments::InvoiceIssued")
        .collect();
    assert_eq!(check_unique(without), Ok(()));
    assert_eq!(check_unique(all), Err(expected()));
}
