//! The local demo of the whole shop (`shop-demo`, run by `scripts/demo`).
//!
//! Orders come in through the orders API function, called in-process with the requests API
//! Gateway sends it; the events it publishes fan out to the consumers (inventory, email,
//! analytics, payments), each run through its tidings pipeline, while the transport does
//! what SNS and SQS do in production: duplicates, delays, reordering, redelivery. A
//! [`Scenario`](scenario::Scenario) drawn from the seed adds what goes wrong on purpose: a
//! few placements delivered after their cancellation, one poison message, one throttled
//! store. At the end, a [`Report`] says what each consumer did and what that shows.
//!
//! Two modes run the same scenario:
//! - [`run_embedded`]: everything in this process, on a simulated clock — topics and queues
//!   in memory, routed by the handlers' own filter policies, on `MemoryStore` and
//!   `MemoryDeadLetterQueue`. Deterministic for a seed, and done in a few seconds.
//! - `run_endpoint` (feature `aws`): against a local AWS-API server, through real SNS, SQS and
//!   DynamoDB calls: tidings' publisher, `QueuePoller`, `DynamoDbStore` and
//!   `SqsDeadLetterQueue`.

pub mod api;
pub mod cli;
pub mod consumer;
mod embedded;
#[cfg(feature = "aws")]
mod endpoint;
pub mod progress;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod script;
pub mod tally;
pub mod topology;

use std::time::Duration;

pub use embedded::run as run_embedded;
/// The SDK configuration for a local AWS-API server (feature `aws`).
#[cfg(feature = "aws")]
pub use endpoint::config::sdk_config;
#[cfg(feature = "aws")]
pub use endpoint::run as run_endpoint;
pub use progress::ProgressMode;
pub use report::Report;
pub use topology::TopologyError;

/// The seed of a run when none is given.
pub const DEFAULT_SEED: u64 = 7;

/// How the demo runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The seed of the scenario and of the transport's mischief.
    pub seed: u64,
    /// How progress is shown.
    pub progress: ProgressMode,
    /// Embedded mode: the real time one step (100 ms) of the simulated clock takes, so the
    /// progress can be watched; zero runs as fast as the machine allows.
    pub pace: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            seed: DEFAULT_SEED,
            progress: ProgressMode::Auto,
            pace: Duration::from_millis(25),
        }
    }
}

/// Why the demo could not run to its end.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The consumers could not be derived from the handlers.
    #[error(transparent)]
    Topology(#[from] TopologyError),
    /// The queues did not drain in time.
    #[error(
        "the queues did not drain within {seconds} s of the demo's clock ({left} messages left); \
         the report so far:\n{report}"
    )]
    NotDrained {
        /// How long the demo waited.
        seconds: u64,
        /// Messages left.
        left: usize,
        /// What happened until then.
        report: Box<Report>,
    },
    /// A call to the local AWS-API server failed.
    #[error("{0}")]
    Endpoint(String),
}

/// What the demo prints before it starts: where it runs, and the subscriptions it routes by.
pub fn intro(mode: &str, seed: u64) -> Result<String, TopologyError> {
    Ok(format!(
        "shop demo: {mode}, seed {seed}\n\
         subscriptions (filter policies from the handlers' metadata, as template.yaml deploys \
         them):\n{}\n",
        topology::describe(&topology::consumers()?)
    ))
}
