//! Consumer manifests: what a service's handlers accept, published beside the schemas, and
//! the release check that reads them.
//!
//! A schema registry knows event types; tidings also knows who reads them, because every
//! handler declares the types and versions it decodes (older ones through its upcast
//! chain). A consuming service exports that as one manifest file, and a producer checks
//! the versions it is about to publish against the manifests of every consumer: a version
//! that a subscribed consumer does not accept would be rejected there (unsupported
//! version, to its dead-letter queue), so that consumer must be deployed first.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Registry;

/// The format tag of a consumer manifest, bumped if its layout ever changes.
pub const CONSUMERS_FORMAT: &str = "tidings-consumers/1";

/// The file name of a service's manifest in a directory of manifests.
pub fn manifest_file(service: &str) -> String {
    format!("{service}.consumers.json")
}

/// What the handlers of one service accept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerManifest {
    /// [`CONSUMERS_FORMAT`].
    pub format: String,
    /// The consuming service (its package), e.g. `shop`.
    pub service: String,
    /// Its handlers, by name.
    pub handlers: Vec<ConsumerHandler>,
}

/// One handler of a consuming service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerHandler {
    /// The handler's name.
    pub name: String,
    /// The event types it accepts.
    pub accepts: Vec<AcceptedVersions>,
}

/// One accepted event type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcceptedVersions {
    /// The CloudEvents `type`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Every version the handler decodes, ascending: its type's version and those it
    /// upcasts from.
    pub versions: Vec<u32>,
    /// The version older ones are upcast to: the newest the handler knows.
    pub upcasts_to: u32,
}

impl ConsumerManifest {
    /// A manifest of `service`'s handlers, sorted by handler name and type.
    pub fn new(service: impl Into<String>, mut handlers: Vec<ConsumerHandler>) -> Self {
        handlers.sort_by(|a, b| a.name.cmp(&b.name));
        for handler in &mut handlers {
            handler
                .accepts
                .sort_by(|a, b| a.event_type.cmp(&b.event_type));
        }
        Self {
            format: CONSUMERS_FORMAT.to_owned(),
            service: service.into(),
            handlers,
        }
    }

    /// Reads the manifest in `path`.
    pub fn load(path: &Path) -> Result<Self, ConsumersError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConsumersError::Read {
            path: path.to_owned(),
            source,
        })?;
        let manifest: Self =
            serde_json::from_str(&text).map_err(|source| ConsumersError::Invalid {
                path: path.to_owned(),
                source,
            })?;
        if manifest.format != CONSUMERS_FORMAT {
            return Err(ConsumersError::Format {
                path: path.to_owned(),
                found: manifest.format,
            });
        }
        Ok(manifest)
    }

    /// Reads every `*.consumers.json` in `dir`, sorted by service.
    pub fn load_dir(dir: &Path) -> Result<Vec<Self>, ConsumersError> {
        let entries = std::fs::read_dir(dir).map_err(|source| ConsumersError::Read {
            path: dir.to_owned(),
            source,
        })?;
        let mut manifests = Vec::new();
        for entry in entries {
            let path = entry
                .map_err(|source| ConsumersError::Read {
                    path: dir.to_owned(),
                    source,
                })?
                .path();
            if path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".consumers.json"))
            {
                manifests.push(Self::load(&path)?);
            }
        }
        if manifests.is_empty() {
            return Err(ConsumersError::Empty {
                dir: dir.to_owned(),
            });
        }
        manifests.sort_by(|a, b| a.service.cmp(&b.service));
        Ok(manifests)
    }

    /// The manifest as it is written to a file: pretty JSON, final newline.
    pub fn to_json(&self) -> String {
        crate::registry::dir::to_registry_json(self)
    }
}

/// Why manifests could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConsumersError {
    /// A file or directory could not be read.
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A manifest is not valid JSON of the expected shape.
    #[error("`{}` is not a consumer manifest: {source}", path.display())]
    Invalid {
        /// The path.
        path: PathBuf,
        /// The JSON error, with its line and column.
        source: serde_json::Error,
    },
    /// A manifest of another format.
    #[error(
        "`{}` has format `{found}`, this tool reads `{CONSUMERS_FORMAT}`: regenerate it with \
         the consuming service's codegen `consumers` command",
        path.display()
    )]
    Format {
        /// The path.
        path: PathBuf,
        /// The format it declares.
        found: String,
    },
    /// A directory without manifests.
    #[error(
        "`{}` holds no `*.consumers.json` manifest: point --consumers at the directory a \
         consuming service's codegen `consumers --out DIR` wrote",
        dir.display()
    )]
    Empty {
        /// The directory.
        dir: PathBuf,
    },
}

/// A consumer that would reject a version the producer is about to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unready {
    /// The consuming service.
    pub service: String,
    /// Its handler.
    pub handler: String,
    /// The event type.
    pub event_type: String,
    /// The version the producer will publish.
    pub version: u32,
    /// The versions the handler accepts.
    pub accepts: Vec<u32>,
}

impl fmt::Display for Unready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let accepts: Vec<String> = self.accepts.iter().map(|v| format!("v{v}")).collect();
        write!(
            f,
            "{} v{}: consumer `{}` (handler `{}`) accepts {} only, and would reject v{} as an \
             unsupported version (to its dead-letter queue) — deploy `{}` with event types \
             that accept v{} before publishing it",
            self.event_type,
            self.version,
            self.service,
            self.handler,
            accepts.join(", "),
            self.version,
            self.service,
            self.version,
        )
    }
}

/// The release check: for each event type of `current`, its newest version (the one the
/// producer publishes) against every consumer in `manifests` that accepts the type. Returns
/// each consumer that would reject it, sorted by type, service and handler; empty when every
/// subscribed consumer is ready.
pub fn check_consumers(current: &Registry, manifests: &[ConsumerManifest]) -> Vec<Unready> {
    let mut newest: BTreeMap<&str, u32> = BTreeMap::new();
    for (event_type, version, _) in current.iter() {
        let slot = newest.entry(event_type).or_insert(version);
        *slot = (*slot).max(version);
    }
    let mut unready = Vec::new();
    for (event_type, version) in newest {
        for manifest in manifests {
            for handler in &manifest.handlers {
                for accepted in handler
                    .accepts
                    .iter()
                    .filter(|a| a.event_type == event_type)
                {
                    if !accepted.versions.contains(&version) {
                        unready.push(Unready {
                            service: manifest.service.clone(),
                            handler: handler.name.clone(),
                            event_type: event_type.to_owned(),
                            version,
                            accepts: accepted.versions.clone(),
                        });
                    }
                }
            }
        }
    }
    unready
}

/// The safe order to ship in when `unready` is not empty: the consuming services to deploy
/// first (each once, in order of name), then the services that publish the types of
/// `contract` (the events crate the versions come from).
pub fn rollout_order(unready: &[Unready], contract: &str) -> Vec<String> {
    let mut services: Vec<String> = unready.iter().map(|u| u.service.clone()).collect();
    services.sort();
    services.dedup();
    let mut steps: Vec<String> = services
        .into_iter()
        .map(|service| {
            let versions: Vec<String> = unready
                .iter()
                .filter(|u| u.service == service)
                .map(|u| format!("{} v{}", u.event_type, u.version))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            format!(
                "deploy consumer `{service}` accepting {}",
                versions.join(", ")
            )
        })
        .collect();
    steps.push(format!(
        "then deploy the producers built with `{contract}`, which publish them"
    ));
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RegistryEntry;
    use serde_json::json;

    fn registry(versions: &[(&str, u32)]) -> Registry {
        let mut registry = Registry::new();
        for (event_type, version) in versions {
            registry.insert(
                event_type,
                *version,
                RegistryEntry {
                    data_schema: json!({}),
                    envelope_schema: json!({}),
                    rust_type: None,
                    upcast_from: None,
                },
            );
        }
        registry
    }

    fn manifest(
        service: &str,
        handler: &str,
        event_type: &str,
        versions: &[u32],
    ) -> ConsumerManifest {
        ConsumerManifest::new(
            service,
            vec![ConsumerHandler {
                name: handler.into(),
                accepts: vec![AcceptedVersions {
                    event_type: event_type.into(),
                    versions: versions.to_vec(),
                    upcasts_to: *versions.iter().max().unwrap(),
                }],
            }],
        )
    }

    #[test]
    fn the_newest_version_must_be_accepted_by_every_subscribed_consumer() {
        let current = registry(&[("shop.order.placed", 1), ("shop.order.placed", 2)]);
        let manifests = [
            manifest("billing", "invoice", "shop.order.placed", &[1]),
            manifest("shipping", "ship", "shop.order.placed", &[1, 2]),
            manifest("mail", "welcome", "shop.customer.joined", &[1]),
        ];
        let unready = check_consumers(&current, &manifests);
        assert_eq!(
            unready,
            [Unready {
                service: "billing".into(),
                handler: "invoice".into(),
                event_type: "shop.order.placed".into(),
                version: 2,
                accepts: vec![1],
            }]
        );
        assert_eq!(
            rollout_order(&unready, "orders"),
            [
                "deploy consumer `billing` accepting shop.order.placed v2",
                "then deploy the producers built with `orders`, which publish them"
            ]
        );
        assert!(unready[0].to_string().starts_with(
            "shop.order.placed v2: consumer `billing` (handler `invoice`) accepts v1 only"
        ));
    }

    #[test]
    fn a_manifest_reads_back_as_written() {
        let written = manifest("billing", "invoice", "shop.order.placed", &[1, 2]);
        let dir = std::env::temp_dir().join(format!("tidings-consumers-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(manifest_file("billing")), written.to_json()).unwrap();
        assert_eq!(ConsumerManifest::load_dir(&dir).unwrap(), [written]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
