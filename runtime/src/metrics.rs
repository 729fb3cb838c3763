//! CloudWatch Embedded Metric Format: one JSON line per batch with a count per outcome and
//! the oldest event's age, which CloudWatch turns into metrics without any API call.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::pipeline::BatchResult;

/// The default metric namespace; `TIDINGS_METRICS_NAMESPACE` overrides it.
pub const DEFAULT_NAMESPACE: &str = "tidings";

/// The outcome counts reported, by metric name and outcome name.
pub const OUTCOME_METRICS: [(&str, &str); 6] = [
    ("Processed", "processed"),
    ("Duplicates", "duplicate"),
    ("Stale", "stale"),
    ("Ignored", "ignored"),
    ("Retried", "retry"),
    ("Rejected", "rejected"),
];

/// The EMF document of one batch.
pub fn emf_document(namespace: &str, handler: &str, result: &BatchResult, at: SystemTime) -> Value {
    let timestamp = at
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64;
    let mut metrics = vec![json!({"Name": "Records", "Unit": "Count"})];
    let mut document = json!({
        "Handler": handler,
        "Records": result.records.len(),
    });
    for (metric, outcome) in OUTCOME_METRICS {
        metrics.push(json!({"Name": metric, "Unit": "Count"}));
        document[metric] = result.count(outcome).into();
    }
    metrics.push(json!({"Name": "OldestEventAgeMs", "Unit": "Milliseconds"}));
    document["OldestEventAgeMs"] = result
        .oldest_age()
        .map_or(0, |age| age.as_millis() as u64)
        .into();
    document["_aws"] = json!({
        "Timestamp": timestamp,
        "CloudWatchMetrics": [{
            "Namespace": namespace,
            "Dimensions": [["Handler"]],
            "Metrics": metrics,
        }],
    });
    document
}

/// Prints the EMF line of a batch on stdout, where Lambda hands it to CloudWatch Logs.
pub fn emit(handler: &str, result: &BatchResult, at: SystemTime) {
    let namespace =
        std::env::var("TIDINGS_METRICS_NAMESPACE").unwrap_or_else(|_| DEFAULT_NAMESPACE.to_owned());
    println!("{}", emf_document(&namespace, handler, result, at));
}
