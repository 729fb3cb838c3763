//! The registry command line that any events crate exposes with [`registry_main!`]:
//!
//! ```text
//! cargo run -p shop-events -- export --out schemas/
//! cargo run -p shop-events -- check --against published-schemas/ [--current DIR]
//!                                   [--mode backward|forward|full[-transitive]]
//!                                   [--policy lenient|strict]
//!                                   [--consumers DIR]...
//! cargo run -p shop-events -- list
//! ```
//!
//! Exit status: 0 success, 1 incompatible changes found, 2 bad usage or unreadable files.
//!
//! [`registry_main!`]: crate::registry_main

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::Registry;
use crate::compat::{self, LinkedUpcasts, Mode, Policy};
use crate::registry::asyncapi::AsyncApiInfo;
use crate::registry::consumers::{ConsumerManifest, check_consumers, rollout_order};

/// The events crate the command line serves, as Cargo describes it.
#[derive(Debug, Clone, Copy)]
pub struct Package {
    /// The package name, e.g. `shop-events`.
    pub name: &'static str,
    /// The crate name, e.g. `shop_events`: which linked event types belong to it.
    pub crate_name: &'static str,
    /// The package version, written as the AsyncAPI `info.version`.
    pub version: &'static str,
    /// The package description, written as the AsyncAPI `info.description`.
    pub description: &'static str,
}

/// Defines `main` for an events crate's binary: the registry command line over the event
/// types of that crate.
///
/// In `src/main.rs` of the events crate `shop-events`:
///
/// ```no_run
/// # extern crate tidings_events as shop_events; // stands for the events library crate
/// tidings_events::registry_main!(shop_events);
/// ```
///
/// The argument is the library crate whose event types are exported; naming it also makes
/// sure the library is linked, which is what brings its types into the registry.
#[macro_export]
macro_rules! registry_main {
    ($events_crate:ident) => {
        #[allow(unused_imports)]
        use $events_crate as _;

        fn main() -> ::std::process::ExitCode {
            $crate::cli::run(
                $crate::cli::Package {
                    name: ::core::env!("CARGO_PKG_NAME"),
                    crate_name: ::core::stringify!($events_crate),
                    version: ::core::env!("CARGO_PKG_VERSION"),
                    description: ::core::env!("CARGO_PKG_DESCRIPTION"),
                },
                ::std::env::args_os().skip(1),
            )
        }
    };
}

/// What the command line was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Write the registry of the crate's types into a directory.
    Export {
        /// The directory.
        out: PathBuf,
    },
    /// Compare current schemas with a published registry.
    Check {
        /// The published registry directory.
        against: PathBuf,
        /// A registry directory to check instead of the crate's types.
        current: Option<PathBuf>,
        /// The compatibility mode.
        mode: Mode,
        /// The JSON Schema policy.
        policy: Policy,
        /// Directories of consumer manifests: the release check of the versions to publish.
        consumers: Vec<PathBuf>,
    },
    /// Print every type and version.
    List,
    /// Print the usage.
    Help,
}

/// Runs the command line and returns the exit status; output goes to stdout and stderr.
pub fn run(package: Package, args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let command = match parse(args) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("error: {message}\n\n{}", usage(package.name));
            return ExitCode::from(2);
        }
    };
    // Built only by the commands that need it; two types declaring one type and version
    // end the command, since every report would be wrong.
    let registry = || {
        Registry::of_crate(package.crate_name).unwrap_or_else(|duplicate| {
            eprintln!("error: {duplicate}");
            std::process::exit(2)
        })
    };
    let mut out = std::io::stdout().lock();
    match execute(&command, package, registry, &mut out) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// Runs one parsed command, writing its report to `out`.
pub fn execute(
    command: &Command,
    package: Package,
    registry: impl FnOnce() -> Registry,
    out: &mut impl Write,
) -> Result<ExitCode, String> {
    let write_err = |e: std::io::Error| format!("cannot write output: {e}");
    match command {
        Command::Help => {
            writeln!(out, "{}", usage(package.name)).map_err(write_err)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::List => {
            for (event_type, version, entry) in registry().iter() {
                let rust_type = entry.rust_type.as_deref().unwrap_or("-");
                writeln!(out, "{event_type} v{version}\t{rust_type}").map_err(write_err)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { out: dir } => {
            let registry = registry();
            if registry.is_empty() {
                return Err(format!(
                    "crate `{}` defines no event types: derive `Event` on its types, and make \
                     sure this binary links the library",
                    package.crate_name
                ));
            }
            let info = AsyncApiInfo {
                title: package.name.to_owned(),
                version: package.version.to_owned(),
                description: Some(package.description.to_owned()).filter(|d| !d.is_empty()),
            };
            let summary = registry.export(dir, &info).map_err(|e| e.to_string())?;
            writeln!(
                out,
                "exported {} event versions to {}: {} files written, {} unchanged, {} removed",
                registry.len(),
                dir.display(),
                summary.written.len(),
                summary.unchanged,
                summary.removed.len()
            )
            .map_err(write_err)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check {
            against,
            current,
            mode,
            policy,
            consumers,
        } => {
            let published = Registry::load(against).map_err(|e| e.to_string())?;
            let (current, violations) = match current {
                Some(dir) => {
                    let current = Registry::load(dir).map_err(|e| e.to_string())?;
                    note_unchecked_upcasters(&published, &current, out).map_err(write_err)?;
                    let found = compat::check_registry(&published, &current, *mode, *policy);
                    (current, found)
                }
                None => {
                    let current = registry();
                    let found = compat::check_registry_with_upcasts(
                        &published,
                        &current,
                        *mode,
                        *policy,
                        &LinkedUpcasts,
                    );
                    (current, found)
                }
            };
            for violation in &violations {
                writeln!(out, "{violation}").map_err(write_err)?;
            }
            let mut failed = !violations.is_empty();
            if failed {
                writeln!(
                    out,
                    "incompatible: {} ({mode}, {policy})",
                    count(violations.len(), "violation")
                )
                .map_err(write_err)?;
            } else {
                writeln!(
                    out,
                    "compatible: {} event versions checked against {} published ({mode}, {policy})",
                    current.len(),
                    published.len()
                )
                .map_err(write_err)?;
            }
            if !consumers.is_empty() {
                let mut manifests = Vec::new();
                for dir in consumers {
                    manifests.extend(ConsumerManifest::load_dir(dir).map_err(|e| e.to_string())?);
                }
                let unready = check_consumers(&current, &manifests);
                for consumer in &unready {
                    writeln!(out, "{consumer}").map_err(write_err)?;
                }
                if unready.is_empty() {
                    writeln!(
                        out,
                        "consumers ready: every subscribed handler of {} accepts the newest \
                         version of each type",
                        count(manifests.len(), "service")
                    )
                    .map_err(write_err)?;
                } else {
                    failed = true;
                    writeln!(
                        out,
                        "consumers not ready: {}; safe rollout order:",
                        count(unready.len(), "handler")
                    )
                    .map_err(write_err)?;
                    for (i, step) in rollout_order(&unready, package.name).iter().enumerate() {
                        writeln!(out, "  {}. {step}", i + 1).map_err(write_err)?;
                    }
                }
            }
            Ok(if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}

/// `n thing`, or `n things` for any other number than one.
fn count(n: usize, thing: &str) -> String {
    if n == 1 {
        format!("1 {thing}")
    } else {
        format!("{n} {thing}s")
    }
}

/// Says which new versions upcast from older ones: checking a registry directory, the check
/// has no code to run their upcasters, and compares their schemas instead.
fn note_unchecked_upcasters(
    published: &Registry,
    current: &Registry,
    out: &mut impl Write,
) -> std::io::Result<()> {
    for (event_type, version, entry) in current.iter() {
        let (Some(from), None) = (entry.upcast_from, published.get(event_type, version)) else {
            continue;
        };
        if published.versions_of(event_type).is_empty() {
            continue;
        }
        writeln!(
            out,
            "note: {event_type} v{version} upcasts from v{from}, but a registry directory \
             (--current) holds no code to run its upcasters: it is checked by schema instead; \
             run the check from the events crate's own binary to check its upcasters"
        )?;
    }
    Ok(())
}

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, String> {
    let mut args = args.into_iter().map(|arg| {
        arg.into_string()
            .map_err(|arg| format!("argument {arg:?} is not valid UTF-8"))
    });
    let Some(name) = args.next().transpose()? else {
        return Err("no command given".into());
    };
    let mut options = Vec::new();
    while let Some(arg) = args.next().transpose()? {
        let (key, inline) = match arg.split_once('=') {
            Some((key, value)) => (key.to_owned(), Some(value.to_owned())),
            None => (arg, None),
        };
        if matches!(key.as_str(), "-h" | "--help") {
            return Ok(Command::Help);
        }
        if !key.starts_with("--") {
            return Err(format!("unexpected argument `{key}`"));
        }
        let value = match inline {
            Some(value) => value,
            None => args
                .next()
                .transpose()?
                .ok_or_else(|| format!("`{key}` needs a value"))?,
        };
        options.push((key, value));
    }
    let mut take = |name: &str| -> Option<String> {
        let index = options.iter().position(|(key, _)| key == name)?;
        Some(options.remove(index).1)
    };
    let command = match name.as_str() {
        "help" | "-h" | "--help" => Command::Help,
        "list" => Command::List,
        "export" => Command::Export {
            out: take("--out")
                .ok_or("`export` needs `--out DIR`, the directory to write the registry into")?
                .into(),
        },
        "check" => Command::Check {
            against: take("--against")
                .ok_or("`check` needs `--against DIR`, the published registry to compare with")?
                .into(),
            current: take("--current").map(PathBuf::from),
            mode: take("--mode")
                .map(|m| m.parse().map_err(|e: compat::ParseModeError| e.to_string()))
                .transpose()?
                .unwrap_or_default(),
            policy: take("--policy")
                .map(|p| {
                    p.parse()
                        .map_err(|e: compat::ParsePolicyError| e.to_string())
                })
                .transpose()?
                .unwrap_or_default(),
            consumers: std::iter::from_fn(|| take("--consumers"))
                .map(PathBuf::from)
                .collect(),
        },
        other => return Err(format!("unknown command `{other}`")),
    };
    if let Some((key, _)) = options.first() {
        return Err(format!("unknown option `{key}` for `{name}`"));
    }
    Ok(command)
}

/// The usage text.
pub fn usage(program: &str) -> String {
    format!(
        "usage: {program} <command> [options]\n\
         \n\
         commands:\n  \
           export --out DIR        write the schema registry of this crate's event types into DIR\n  \
           check --against DIR     compare this crate's event types with a published registry\n      \
               [--current DIR]     compare another registry directory instead\n      \
               [--mode MODE]       backward (default), forward, full, or one of them with -transitive\n      \
               [--policy POLICY]   lenient (default: optional properties may come and go) or strict\n      \
               [--consumers DIR]   also check that every consumer manifest in DIR accepts the\n      \
                                   newest version of each type (repeatable)\n  \
           list                    print every event type and version\n\
         \n\
         exit status: 0 ok, 1 incompatible changes found, 2 usage or file error"
    )
}
