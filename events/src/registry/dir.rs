//! The registry on disk: what a team publishes to other teams.
//!
//! ```text
//! schemas/
//!   index.json                                   every type and version, with file names
//!   asyncapi.json                                AsyncAPI 3.0: channels, messages, operations
//!   shop.order.placed/v2.schema.json             JSON Schema of `data`
//!   shop.order.placed/v2.envelope.schema.json    JSON Schema of the whole message body
//! ```
//!
//! Files are pretty-printed JSON with sorted keys and a final newline, so an export is
//! byte-identical on re-run and diffs well in review.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::asyncapi::{self, AsyncApiInfo};
use super::{Registry, RegistryEntry, SCHEMA_SUFFIX, envelope_schema_file, schema_file};

/// The name of the index file.
pub const INDEX_FILE: &str = "index.json";
/// The name of the AsyncAPI document.
pub const ASYNCAPI_FILE: &str = "asyncapi.json";
/// The format tag written into the index, bumped if the layout ever changes.
pub const INDEX_FORMAT: &str = "tidings-registry/1";

/// Why a registry directory could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// A file or directory could not be read or written.
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        /// What was being done: "read", "write", "create", "remove", "list".
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A file is not the JSON it should be.
    #[error("`{}` is not valid registry JSON: {source}; re-export the registry or restore the file", path.display())]
    Json {
        /// The path.
        path: PathBuf,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// The index is readable but wrong.
    #[error("`{}` is not a tidings registry index: {problem}", path.display())]
    Index {
        /// The path of the index.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
}

/// One line of the index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IndexEntry {
    /// The event type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The version.
    pub version: u32,
    /// The `$id` of the data schema.
    pub schema_id: String,
    /// The data schema file, relative to the registry directory.
    pub schema: String,
    /// The envelope schema file, relative to the registry directory.
    pub envelope_schema: String,
    /// The version this one upcasts from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upcast_from: Option<u32>,
}

/// The index file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Index {
    /// Always [`INDEX_FORMAT`].
    pub format: String,
    /// Every type and version, sorted.
    pub events: Vec<IndexEntry>,
}

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportSummary {
    /// Files whose content changed or that are new.
    pub written: Vec<PathBuf>,
    /// Files that already had the right content.
    pub unchanged: usize,
    /// Schema files of types or versions no longer in the registry, removed.
    pub removed: Vec<PathBuf>,
}

/// JSON as the registry writes it: pretty, sorted keys, final newline.
pub fn to_registry_json(value: &impl Serialize) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("registry values serialize");
    text.push('\n');
    text
}

impl Registry {
    /// The index of this registry.
    pub fn index(&self) -> Index {
        Index {
            format: INDEX_FORMAT.to_owned(),
            events: self
                .iter()
                .map(|(event_type, version, entry)| IndexEntry {
                    event_type: event_type.to_owned(),
                    version,
                    schema_id: entry
                        .data_schema
                        .get("$id")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    schema: schema_file(event_type, version),
                    envelope_schema: envelope_schema_file(event_type, version),
                    upcast_from: entry.upcast_from,
                })
                .collect(),
        }
    }

    /// Every file of the exported registry, by relative path, with its content.
    pub fn files(&self, info: &AsyncApiInfo) -> Vec<(String, String)> {
        let mut files = vec![
            (INDEX_FILE.to_owned(), to_registry_json(&self.index())),
            (
                ASYNCAPI_FILE.to_owned(),
                to_registry_json(&asyncapi::document(self, info)),
            ),
        ];
        for (event_type, version, entry) in self.iter() {
            files.push((
                schema_file(event_type, version),
                to_registry_json(&entry.data_schema),
            ));
            files.push((
                envelope_schema_file(event_type, version),
                to_registry_json(&entry.envelope_schema),
            ));
        }
        files
    }

    /// Writes the registry into `dir`: the index, the AsyncAPI document, and two schema files
    /// per type and version. Files that already hold the right bytes are left untouched;
    /// schema files of versions no longer in the registry are removed, so the directory
    /// always says exactly what the code says.
    pub fn export(&self, dir: &Path, info: &AsyncApiInfo) -> Result<ExportSummary, RegistryError> {
        let mut summary = ExportSummary::default();
        let files = self.files(info);
        let wanted: BTreeSet<PathBuf> = files.iter().map(|(path, _)| dir.join(path)).collect();
        for (relative, content) in &files {
            let path = dir.join(relative);
            if fs::read_to_string(&path).is_ok_and(|old| old == *content) {
                summary.unchanged += 1;
                continue;
            }
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(io("create", parent))?;
            }
            fs::write(&path, content).map_err(io("write", &path))?;
            summary.written.push(path);
        }
        for path in stale_schema_files(dir, &wanted)? {
            fs::remove_file(&path).map_err(io("remove", &path))?;
            if let Some(parent) = path.parent() {
                // Only succeeds when the type's directory is now empty, which is the intent.
                let _ = fs::remove_dir(parent);
            }
            summary.removed.push(path);
        }
        Ok(summary)
    }

    /// Reads a registry directory written by [`Registry::export`].
    pub fn load(dir: &Path) -> Result<Self, RegistryError> {
        let index_path = dir.join(INDEX_FILE);
        let index: Index = read_json(&index_path)?;
        if index.format != INDEX_FORMAT {
            return Err(RegistryError::Index {
                path: index_path,
                problem: format!(
                    "format is \"{}\", this version of tidings reads \"{INDEX_FORMAT}\"",
                    index.format
                ),
            });
        }
        let mut registry = Registry::new();
        for line in index.events {
            if registry.get(&line.event_type, line.version).is_some() {
                return Err(RegistryError::Index {
                    path: index_path,
                    problem: format!("`{}` v{} is listed twice", line.event_type, line.version),
                });
            }
            let entry = RegistryEntry {
                data_schema: read_json(&dir.join(&line.schema))?,
                envelope_schema: read_json(&dir.join(&line.envelope_schema))?,
                rust_type: None,
                upcast_from: line.upcast_from,
            };
            registry.insert(&line.event_type, line.version, entry);
        }
        Ok(registry)
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, RegistryError> {
    let text = fs::read_to_string(path).map_err(io("read", path))?;
    serde_json::from_str(&text).map_err(|source| RegistryError::Json {
        path: path.to_owned(),
        source,
    })
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> RegistryError {
    let path = path.to_owned();
    move |source| RegistryError::Io {
        action,
        path,
        source,
    }
}

/// `*.schema.json` files one level below `dir` that the registry no longer has.
fn stale_schema_files(
    dir: &Path,
    wanted: &BTreeSet<PathBuf>,
) -> Result<Vec<PathBuf>, RegistryError> {
    let mut stale = Vec::new();
    for type_dir in fs::read_dir(dir).map_err(io("list", dir))? {
        let type_dir = type_dir.map_err(io("list", dir))?.path();
        if !type_dir.is_dir() {
            continue;
        }
        for file in fs::read_dir(&type_dir).map_err(io("list", &type_dir))? {
            let file = file.map_err(io("list", &type_dir))?.path();
            let is_schema = file
                .file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.ends_with(SCHEMA_SUFFIX));
            if is_schema && !wanted.contains(&file) {
                stale.push(file);
            }
        }
    }
    stale.sort();
    Ok(stale)
}
