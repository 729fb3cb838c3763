//! [`Config`]: what a deployed handler reads from its environment.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `TIDINGS_STORE` | `memory` or `dynamodb` | `memory` |
//! | `TIDINGS_TABLE` | the DynamoDB table, with `TIDINGS_STORE=dynamodb` (feature `dynamodb`) | required then |
//! | `TIDINGS_AWS_TIMEOUT_MS` | timeout of one AWS call attempt | 3000 |
//! | `TIDINGS_TLS_ROOTS` | roots the AWS clients trust: `amazon` or `system` | `amazon` |
//! | `TIDINGS_DEAD_LETTER_QUEUE_URL` | SQS queue for rejected records (feature `publisher`) | none: rejected records are reported as failures |
//! | `TIDINGS_CONCURRENCY` | records of a standard batch run at once | the handler's `concurrency` |
//! | `TIDINGS_IDEMPOTENCY_TTL_SECS` | how long completed records are remembered | 86400 |
//! | `TIDINGS_DEADLINE_MARGIN_MS` | cancel the handler this long before the deadline | 500 |
//! | `TIDINGS_MAX_BODY_BYTES` | largest body accepted | 1048576 |
//! | `TIDINGS_METRICS_NAMESPACE` | CloudWatch namespace of the EMF metrics | `tidings` |
//! | `AWS_LAMBDA_FUNCTION_NAME` | prefixes idempotency keys (set by Lambda) | the handler name |

use std::time::Duration;

use crate::HandlerOptions;

/// Which store backend to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreKind {
    /// In process memory: duplicates are only caught within one container.
    Memory,
    /// A DynamoDB table (feature `dynamodb`), named by `TIDINGS_TABLE`.
    DynamoDb {
        /// The table name.
        table: String,
    },
}

/// The environment's configuration of a handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The options, with the environment's overrides applied.
    pub options: HandlerOptions,
    /// The store backend.
    pub store: StoreKind,
    /// The dead-letter queue URL, if any.
    pub dead_letter_queue_url: Option<String>,
    /// The function name that prefixes keys.
    pub function_name: String,
    /// The CloudWatch namespace of the per-batch EMF metrics.
    pub metrics_namespace: String,
    /// How the AWS clients call out: read here too, so that an invalid value stops the
    /// function at start rather than at its first AWS call.
    pub aws: AwsSettings,
}

/// How tidings' AWS clients call out (`tidings::aws::sdk_config`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AwsSettings {
    /// The timeout of one call attempt (`TIDINGS_AWS_TIMEOUT_MS`); a call with its retries
    /// gets twice as long.
    pub attempt_timeout: Duration,
    /// The roots the HTTPS client trusts (`TIDINGS_TLS_ROOTS`).
    pub tls_roots: TlsRoots,
}

/// Which certificate roots the AWS clients' HTTPS trusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsRoots {
    /// The roots AWS service endpoints chain to (Amazon Root CA 1 to 4, Starfield Services
    /// Root G2), compiled in. The default: parsing only these keeps cold starts short.
    #[default]
    Amazon,
    /// The system's certificate files, for an endpoint with another certificate (behind a
    /// private authority, say); parsing them costs a few milliseconds of every cold start.
    System,
}

impl Default for AwsSettings {
    /// A 3-second attempt timeout, trusting the roots AWS endpoints chain to.
    fn default() -> Self {
        Self {
            attempt_timeout: Self::DEFAULT_ATTEMPT_TIMEOUT,
            tls_roots: TlsRoots::default(),
        }
    }
}

impl AwsSettings {
    /// The default timeout of one AWS call attempt: a dependency that does not answer must
    /// not hold a batch until the Lambda deadline.
    pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);

    /// Reads the settings from the environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let attempt_timeout = number(
            &lookup,
            "TIDINGS_AWS_TIMEOUT_MS",
            "milliseconds, a whole number from 1 up",
        )?
        .map_or(Self::DEFAULT_ATTEMPT_TIMEOUT, Duration::from_millis);
        let tls_roots = match lookup("TIDINGS_TLS_ROOTS").as_deref() {
            None | Some("") | Some("amazon") => TlsRoots::Amazon,
            Some("system") => TlsRoots::System,
            Some(other) => {
                return Err(ConfigError {
                    name: "TIDINGS_TLS_ROOTS",
                    value: other.to_owned(),
                    expected: "`amazon` (the roots AWS endpoints chain to) or `system` (the \
                               system's certificate files)",
                });
            }
        };
        Ok(Self {
            attempt_timeout,
            tls_roots,
        })
    }
}

/// A variable of the environment that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {name}={value:?} is invalid: {expected}")]
pub struct ConfigError {
    /// The variable.
    pub name: &'static str,
    /// Its value.
    pub value: String,
    /// What it should be.
    pub expected: &'static str,
}

impl Config {
    /// Reads the configuration of a handler whose attribute options are `options`.
    pub fn from_env(options: HandlerOptions) -> Result<Self, ConfigError> {
        Self::from_lookup(options, |name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(
        mut options: HandlerOptions,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let store = match lookup("TIDINGS_STORE").as_deref() {
            None | Some("") | Some("memory") => StoreKind::Memory,
            Some("dynamodb") => match lookup("TIDINGS_TABLE").filter(|t| !t.is_empty()) {
                Some(table) => StoreKind::DynamoDb { table },
                None => {
                    return Err(ConfigError {
                        name: "TIDINGS_TABLE",
                        value: String::new(),
                        expected: "the name of the DynamoDB table, required with TIDINGS_STORE=dynamodb",
                    });
                }
            },
            Some(other) => {
                return Err(ConfigError {
                    name: "TIDINGS_STORE",
                    value: other.to_owned(),
                    expected: "`memory` or `dynamodb`",
                });
            }
        };
        if let Some(n) = number(&lookup, "TIDINGS_CONCURRENCY", "a whole number from 1 up")? {
            options.concurrency = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(secs) = number(
            &lookup,
            "TIDINGS_IDEMPOTENCY_TTL_SECS",
            "seconds, a whole number from 1 up",
        )? {
            options.idempotency_ttl = Duration::from_secs(secs);
        }
        if let Some(ms) = number(
            &lookup,
            "TIDINGS_DEADLINE_MARGIN_MS",
            "milliseconds, a whole number from 1 up",
        )? {
            options.deadline_margin = Duration::from_millis(ms);
        }
        if let Some(bytes) = number(
            &lookup,
            "TIDINGS_MAX_BODY_BYTES",
            "bytes, a whole number from 1 up",
        )? {
            options.max_body_bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
        }
        let aws = AwsSettings::from_lookup(&lookup)?;
        Ok(Self {
            aws,
            function_name: lookup("AWS_LAMBDA_FUNCTION_NAME")
                .filter(|name| !name.is_empty())
                .unwrap_or_else(|| options.name.to_owned()),
            options,
            store,
            dead_letter_queue_url: lookup("TIDINGS_DEAD_LETTER_QUEUE_URL")
                .filter(|url| !url.is_empty()),
            metrics_namespace: lookup("TIDINGS_METRICS_NAMESPACE")
                .filter(|namespace| !namespace.is_empty())
                .unwrap_or_else(|| crate::pipeline::DEFAULT_METRICS_NAMESPACE.to_owned()),
        })
    }
}

fn number(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    expected: &'static str,
) -> Result<Option<u64>, ConfigError> {
    match lookup(name) {
        None => Ok(None),
        Some(value) => match value.trim().parse::<u64>() {
            Ok(n) if n >= 1 => Ok(Some(n)),
            _ => Err(ConfigError {
                name,
                value,
                expected,
            }),
        },
    }
}
