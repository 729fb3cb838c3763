//! CloudWatch Embedded Metric Format: one JSON line per batch with a count per outcome and
//! the oldest event's age, which CloudWatch turns into metrics without any API call.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::pipeline::BatchResult;
use crate::pipeline::outcome::OutcomeKind;

/// The metric definitions, the same for every batch: the record count, a count per outcome,
/// the oldest event's age. Each names a field of [`Document`].
const METRICS: [Metric; 8] = [
    Metric::count("Records"),
    Metric::count("Processed"),
    Metric::count("Duplicates"),
    Metric::count("Stale"),
    Metric::count("Ignored"),
    Metric::count("Retried"),
    Metric::count("Rejected"),
    Metric {
        name: "OldestEventAgeMs",
        unit: "Milliseconds",
    },
];

/// The EMF line of one batch: a JSON object on one line, without the line break.
///
/// Written from plain structs rather than a `serde_json::Value`, which would allocate a map
/// entry for every field of every batch.
pub(crate) fn emf_line(
    namespace: &str,
    handler: &str,
    result: &BatchResult,
    at: SystemTime,
) -> String {
    let document = Document {
        handler,
        records: result.records.len(),
        processed: result.count(OutcomeKind::Processed),
        duplicates: result.count(OutcomeKind::Duplicate),
        stale: result.count(OutcomeKind::Stale),
        ignored: result.count(OutcomeKind::Ignored),
        retried: result.count(OutcomeKind::Retry),
        rejected: result.count(OutcomeKind::Rejected),
        oldest_event_age_ms: result
            .oldest_age()
            .map_or(0, |age| u64::try_from(age.as_millis()).unwrap_or(u64::MAX)),
        aws: Directive {
            timestamp: at.duration_since(UNIX_EPOCH).map_or(0, |since| {
                u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
            }),
            cloud_watch_metrics: [MetricSet {
                namespace,
                dimensions: [["Handler"]],
                metrics: &METRICS,
            }],
        },
    };
    serde_json::to_string(&document).expect("an EMF document of strings and numbers serializes")
}

/// The EMF document of a batch: the metric values by name, then the directive that declares
/// them.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Document<'a> {
    handler: &'a str,
    records: usize,
    processed: usize,
    duplicates: usize,
    stale: usize,
    ignored: usize,
    retried: usize,
    rejected: usize,
    oldest_event_age_ms: u64,
    #[serde(rename = "_aws")]
    aws: Directive<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Directive<'a> {
    timestamp: u64,
    cloud_watch_metrics: [MetricSet<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MetricSet<'a> {
    namespace: &'a str,
    dimensions: [[&'static str; 1]; 1],
    metrics: &'static [Metric],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Metric {
    name: &'static str,
    unit: &'static str,
}

impl Metric {
    const fn count(name: &'static str) -> Self {
        Self {
            name,
            unit: "Count",
        }
    }
}
