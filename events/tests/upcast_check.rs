//! The compatibility check of a new version that upcasts from a published one: proven by
//! running the upcaster on the published examples, not by comparing schemas.
//!
//! The published registry holds version 1 of each type; the current types add version 2,
//! as the README's versioning pattern does: a new required field, `upcast_from` the old type
//! and a `From` impl.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tidings_events::compat::{
    LinkedUpcasts, Mode, Policy, Rule, Violation, check_registry, check_registry_with_upcasts,
};
use tidings_events::{Event, Registry};

fn example_invoice() -> InvoiceIssuedV1 {
    InvoiceIssuedV1 {
        invoice_id: "inv-1".into(),
        total_cents: 1200,
    }
}

/// Version 1, published.
#[derive(Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.invoice.issued", version = 1)]
#[schemars(example = example_invoice())]
pub struct InvoiceIssuedV1 {
    #[event(subject)]
    pub invoice_id: String,
    pub total_cents: i64,
}

/// Version 2: a new required field, filled in by the upcaster.
#[derive(Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.invoice.issued", version = 2, upcast_from = InvoiceIssuedV1)]
pub struct InvoiceIssued {
    #[event(subject)]
    pub invoice_id: String,
    pub total_cents: i64,
    /// When the invoice is due, as a date.
    #[schemars(length(min = 10))]
    pub due_date: String,
}

impl From<InvoiceIssuedV1> for InvoiceIssued {
    fn from(v1: InvoiceIssuedV1) -> Self {
        Self {
            invoice_id: v1.invoice_id,
            total_cents: v1.total_cents,
            // Version 1 invoices were due at the end of the month they were issued in.
            due_date: "2026-01-31".into(),
        }
    }
}

fn example_refund() -> RefundIssuedV1 {
    RefundIssuedV1 {
        refund_id: "ref-1".into(),
    }
}

/// Version 1 of a type whose version 2 has a broken upcaster.
#[derive(Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.refund.issued", version = 1)]
#[schemars(example = example_refund())]
pub struct RefundIssuedV1 {
    #[event(subject)]
    pub refund_id: String,
}

/// Version 2, whose upcaster leaves the new field empty, which its schema forbids.
#[derive(Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.refund.issued", version = 2, upcast_from = RefundIssuedV1)]
pub struct RefundIssued {
    #[event(subject)]
    pub refund_id: String,
    #[schemars(length(min = 1))]
    pub reason: String,
}

impl From<RefundIssuedV1> for RefundIssued {
    fn from(v1: RefundIssuedV1) -> Self {
        Self {
            refund_id: v1.refund_id,
            reason: String::new(),
        }
    }
}

/// The published registry: version 1 of `event_type`, from the linked types.
fn published(event_type: &str) -> Registry {
    let linked = Registry::linked().expect("no duplicates");
    let mut published = Registry::new();
    let entry = linked.get(event_type, 1).expect("version 1 is linked");
    published.insert(event_type, 1, entry.clone());
    published
}

/// The current registry: versions 1 and 2 of `event_type`.
fn current(event_type: &str) -> Registry {
    let linked = Registry::linked().expect("no duplicates");
    let mut current = Registry::new();
    for version in [1, 2] {
        let entry = linked.get(event_type, version).expect("linked");
        current.insert(event_type, version, entry.clone());
    }
    current
}

/// The check with its defaults (backward, lenient), running the linked upcasters.
fn default_check(published: &Registry, current: &Registry) -> Vec<Violation> {
    check_registry_with_upcasts(
        published,
        current,
        Mode::default(),
        Policy::default(),
        &LinkedUpcasts,
    )
}

#[test]
fn the_readme_upcast_pattern_passes_the_default_check() {
    let (published, current) = (
        published("test.invoice.issued"),
        current("test.invoice.issued"),
    );
    let found = default_check(&published, &current);
    assert_eq!(found, Vec::<Violation>::new());
    // By schema alone the same change breaks backward compatibility: what the check said
    // before it ran upcasters, and still says without their code.
    let by_schema = check_registry(&published, &current, Mode::default(), Policy::default());
    assert_eq!(by_schema.len(), 1, "{by_schema:?}");
    assert_eq!(by_schema[0].rule, Rule::RequiredPropertyAdded);
}

#[test]
fn a_broken_upcaster_fails_naming_the_example_and_the_pointer() {
    let (published, current) = (
        published("test.refund.issued"),
        current("test.refund.issued"),
    );
    let found = default_check(&published, &current);
    // The published example, and the sample made from the schema, each upcast into data the
    // new schema rejects.
    assert_eq!(found.len(), 2, "{found:?}");
    for violation in &found {
        assert_eq!(violation.rule, Rule::UpcastOutputInvalid);
        assert_eq!(
            (
                violation.event_type.as_str(),
                violation.version,
                violation.against_version
            ),
            ("test.refund.issued", 2, Some(1))
        );
        assert_eq!(violation.pointer, "/reason");
    }
    assert!(
        found[0]
            .detail
            .starts_with("example 1 of v1, upcast to v2, fails its schema"),
        "{}",
        found[0].detail
    );
    assert!(
        found[1]
            .detail
            .starts_with("a sample of v1 made from its schema, upcast to v2"),
        "{}",
        found[1].detail
    );
    assert!(
        found[0]
            .to_string()
            .starts_with("test.refund.issued v2 /reason: upcast-output-invalid: example 1 of v1"),
        "{}",
        found[0]
    );
}

#[test]
fn a_chain_that_misses_a_published_version_fails() {
    // Published: versions 1 and 2 of a type whose current version 3 is said to upcast from
    // 2, while the current registry lost version 2's link to version 1.
    let mut published = Registry::new();
    let mut current = Registry::new();
    let schema = json!({"type": "object"});
    let entry = |upcast_from| tidings_events::RegistryEntry {
        data_schema: schema.clone(),
        envelope_schema: json!({}),
        rust_type: None,
        upcast_from,
    };
    published.insert("test.thing.done", 1, entry(None));
    published.insert("test.thing.done", 2, entry(None));
    current.insert("test.thing.done", 1, entry(None));
    current.insert("test.thing.done", 2, entry(None));
    current.insert("test.thing.done", 3, entry(Some(2)));
    let found = default_check(&published, &current);
    let incomplete: Vec<&Violation> = found
        .iter()
        .filter(|v| v.rule == Rule::UpcastChainIncomplete)
        .collect();
    assert_eq!(incomplete.len(), 1, "{found:?}");
    assert_eq!(incomplete[0].against_version, Some(1));
    assert!(
        incomplete[0].detail.contains("v2 → v3"),
        "{}",
        incomplete[0].detail
    );
}

/// Version 1 of a type whose version 2 upcaster panics.
#[derive(Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.credit.issued", version = 1)]
pub struct CreditIssuedV1 {
    pub credit_id: String,
}

/// Version 2, whose upcaster cannot handle version 1 data.
#[derive(Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.credit.issued", version = 2, upcast_from = CreditIssuedV1)]
pub struct CreditIssued {
    pub credit_id: String,
    pub currency: String,
}

impl From<CreditIssuedV1> for CreditIssued {
    fn from(_: CreditIssuedV1) -> Self {
        panic!("credits of version 1 have no currency")
    }
}

#[test]
fn a_panicking_upcaster_fails_the_check_instead_of_the_command() {
    let (published, current) = (
        published("test.credit.issued"),
        current("test.credit.issued"),
    );
    let found = default_check(&published, &current);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule, Rule::UpcasterFailed);
    assert_eq!(
        found[0].detail,
        "a sample of v1 made from its schema did not decode and upcast to v2: the upcaster \
         panicked: credits of version 1 have no currency"
    );
}
