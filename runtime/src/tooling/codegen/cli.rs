//! The codegen command line a crate of handlers exposes with [`codegen_main!`]:
//!
//! ```text
//! cargo run -p shop --features codegen --bin shop-codegen -- handlers
//! cargo run -p shop --features codegen --bin shop-codegen -- filter-policy [HANDLER]
//! cargo run -p shop --features codegen --bin shop-codegen -- asyncapi
//! cargo run -p shop --features codegen --bin shop-codegen -- fixtures --out DIR
//! cargo run -p shop --features codegen --bin shop-codegen -- sam payments --fifo payments --fifo-topic PaymentsTopic
//! ```
//!
//! [`codegen_main!`]: crate::codegen_main

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::{Map, Value};
use tidings_events::Registry;
use tidings_events::registry::asyncapi::AsyncApiInfo;
use tidings_events::registry::dir::to_registry_json;

use tidings_events::registry::consumers::manifest_file;

use super::sam::{SamFunction, function_resources, to_yaml};

use super::{
    accepted_types, asyncapi_document, consumer_manifest, filter_policy, fixtures,
    handlers_of_crate,
};
use crate::handler::HandlerRegistration;

/// Defines `main` for a codegen binary over the handlers of a crate:
///
/// ```no_run
/// # extern crate tidings as shop; // stands for the crate of handlers, e.g. the shop's library
/// tidings::codegen_main!(shop);
/// ```
///
/// Naming the crate links it, which brings its handlers and event types into the program.
#[macro_export]
macro_rules! codegen_main {
    ($handlers_crate:ident) => {
        #[allow(unused_imports)]
        use $handlers_crate as _;

        fn main() -> ::std::process::ExitCode {
            let args: ::std::vec::Vec<::std::string::String> = ::std::env::args().skip(1).collect();
            $crate::codegen::cli::run(
                ::core::stringify!($handlers_crate),
                ::core::env!("CARGO_PKG_NAME"),
                ::core::env!("CARGO_PKG_VERSION"),
                &args,
            )
        }
    };
}

/// Runs the command line over the handlers of `crate_name`; output on stdout, errors on
/// stderr; exit status 0 on success, 2 on bad usage or a file error.
pub fn run(crate_name: &str, package: &str, version: &str, args: &[String]) -> ExitCode {
    let handlers = handlers_of_crate(crate_name);
    let mut out = std::io::stdout().lock();
    match execute(&handlers, package, version, args, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}\n\n{}", usage(package));
            ExitCode::from(2)
        }
    }
}

/// Runs one command over `handlers`, writing to `out`.
pub fn execute(
    handlers: &[&HandlerRegistration],
    package: &str,
    version: &str,
    args: &[String],
    out: &mut impl Write,
) -> Result<(), String> {
    let write = |e: std::io::Error| format!("cannot write output: {e}");
    if handlers.is_empty() {
        return Err("no handlers are linked: mark functions with #[tidings::event_handler]".into());
    }
    let find = |name: &str| {
        handlers
            .iter()
            .copied()
            .find(|h| h.name == name)
            .ok_or_else(|| {
                let names: Vec<&str> = handlers.iter().map(|h| h.name).collect();
                format!("no handler called `{name}`; the handlers are {names:?}")
            })
    };
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["handlers"] => {
            for handler in handlers {
                let versions: Vec<String> = (handler.accepted)()
                    .iter()
                    .map(|a| format!("{} v{:?}", a.event_type, a.versions))
                    .collect();
                writeln!(
                    out,
                    "{}\ttrigger={:?} ordering={:?} on_unknown_type={:?}\t{}",
                    handler.name,
                    handler.options.trigger,
                    handler.options.ordering,
                    handler.options.on_unknown_type,
                    versions.join(", ")
                )
                .map_err(write)?;
            }
            Ok(())
        }
        ["filter-policy"] => {
            let policies: Map<String, Value> = handlers
                .iter()
                .map(|h| (h.name.to_owned(), filter_policy(h)))
                .collect();
            write!(out, "{}", to_registry_json(&policies)).map_err(write)
        }
        ["filter-policy", name] => {
            write!(out, "{}", to_registry_json(&filter_policy(find(name)?))).map_err(write)
        }
        ["asyncapi"] => {
            let info = AsyncApiInfo {
                title: package.to_owned(),
                version: version.to_owned(),
                description: Some(format!("The events {package} sends and receives.")),
            };
            let registry = Registry::linked().map_err(|duplicate| duplicate.to_string())?;
            let document = asyncapi_document(&registry, handlers, &info);
            write!(out, "{}", to_registry_json(&document)).map_err(write)
        }
        ["sam", rest @ ..] => {
            let args = SamArgs::parse(rest)?;
            let chosen: Vec<&HandlerRegistration> = if args.names.is_empty() {
                handlers.to_vec()
            } else {
                args.names
                    .iter()
                    .map(|name| find(name))
                    .collect::<Result<_, _>>()?
            };
            for name in &args.fifo {
                let handler = find(name)?;
                if !chosen.iter().any(|h| h.name == handler.name) {
                    return Err(format!(
                        "`--fifo {name}` names a handler whose resources are not asked for; \
                         add `{name}` to the handler names"
                    ));
                }
            }
            let mut resources = Map::new();
            for handler in chosen {
                let mut function = SamFunction::new(handler);
                if let Some(topic) = args.topic {
                    function.topic = topic.to_owned();
                }
                if args.fifo.contains(&handler.name) {
                    function.fifo = true;
                    // Checked by `parse`: a FIFO function comes with its FIFO topic.
                    function.topic = args.fifo_topic.unwrap_or_default().to_owned();
                }
                resources.extend(function_resources(handler, &function));
            }
            write!(out, "{}", to_yaml(&Value::Object(resources), 2)).map_err(write)
        }
        ["consumers", "--out", dir] => {
            let manifest = consumer_manifest(package, handlers);
            let dir = Path::new(dir);
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
            let path = dir.join(manifest_file(package));
            std::fs::write(&path, manifest.to_json())
                .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
            writeln!(
                out,
                "wrote the consumer manifest of {package} to {}",
                path.display()
            )
            .map_err(write)
        }
        ["fixtures", "--out", dir] => {
            let written = write_fixtures(handlers, Path::new(dir))?;
            writeln!(out, "wrote {written} fixtures to {dir}").map_err(write)
        }
        ["help"] | ["--help"] | ["-h"] => writeln!(out, "{}", usage(package)).map_err(write),
        [] => Err("no command given".into()),
        other => Err(format!("unknown command `{}`", other.join(" "))),
    }
}

/// The words of `sam`: which handlers, which of them read a FIFO queue, and the logical ids
/// of the topics their queues subscribe to.
struct SamArgs<'a> {
    names: Vec<&'a str>,
    fifo: Vec<&'a str>,
    topic: Option<&'a str>,
    fifo_topic: Option<&'a str>,
}

impl<'a> SamArgs<'a> {
    /// Reads `[NAME].. [--fifo NAME].. [--topic ID] [--fifo-topic ID]`.
    fn parse(words: &[&'a str]) -> Result<Self, String> {
        let mut args = SamArgs {
            names: Vec::new(),
            fifo: Vec::new(),
            topic: None,
            fifo_topic: None,
        };
        let mut words = words.iter();
        while let Some(&word) = words.next() {
            let mut value = || match words.next().copied() {
                Some(value) if !value.starts_with("--") => Ok(value),
                Some(option) => Err(format!("`{word}` needs a value before `{option}`")),
                None => Err(format!("`{word}` needs a value")),
            };
            let once = |slot: &mut Option<&'a str>, value: &'a str| match slot.replace(value) {
                None => Ok(()),
                Some(_) => Err(format!("`{word}` is given twice")),
            };
            match word {
                "--fifo" => args.fifo.push(value()?),
                "--topic" => once(&mut args.topic, value()?)?,
                "--fifo-topic" => once(&mut args.fifo_topic, value()?)?,
                flag if flag.starts_with("--") => {
                    return Err(format!("`sam` has no option `{flag}`"));
                }
                name => args.names.push(name),
            }
        }
        match (args.fifo.is_empty(), args.fifo_topic) {
            // SNS refuses to subscribe a FIFO queue to a standard topic, so a FIFO function
            // on the default topic would fail to deploy.
            (false, None) => {
                return Err(
                    "a FIFO queue can only subscribe to a FIFO topic: name your \
                            template's FIFO topic with `--fifo-topic LOGICAL_ID`"
                        .to_owned(),
                );
            }
            (true, Some(_)) => {
                return Err("`--fifo-topic` names the topic of FIFO functions, but no \
                            `--fifo NAME` asks for one"
                    .to_owned());
            }
            _ => {}
        }
        Ok(args)
    }
}

/// The file beside each handler's fixtures that says what each must come to.
pub const OUTCOMES_FILE: &str = "outcomes.json";

/// Writes every fixture of `handlers` under `dir`, one directory per handler, with the
/// outcome each must produce in its [`OUTCOMES_FILE`]; returns how many fixtures. A
/// handler's directory is generated whole: the JSON files already in it are replaced.
pub fn write_fixtures(handlers: &[&HandlerRegistration], dir: &Path) -> Result<usize, String> {
    let mut count = 0;
    for handler in handlers {
        let generated = fixtures(handler);
        if generated.is_empty() {
            return Err(format!(
                "handler `{}` accepts {:?} but none has a schema example; add \
                 #[schemars(example = ...)] to the event types",
                handler.name,
                accepted_types(handler)
            ));
        }
        let handler_dir = dir.join(handler.name);
        clear_json_files(&handler_dir)?;
        std::fs::create_dir_all(&handler_dir)
            .map_err(|e| format!("cannot create `{}`: {e}", handler_dir.display()))?;
        let mut outcomes = Map::new();
        for fixture in generated {
            let path: PathBuf = dir.join(&fixture.name);
            std::fs::write(&path, to_registry_json(&fixture.payload))
                .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
            let file = path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            outcomes.insert(file, Value::String(fixture.expected));
            count += 1;
        }
        let path = handler_dir.join(OUTCOMES_FILE);
        std::fs::write(&path, to_registry_json(&outcomes))
            .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    }
    Ok(count)
}

/// Removes the `.json` files of `dir`, if it exists: an earlier generation's fixtures.
fn clear_json_files(dir: &Path) -> Result<(), String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "json") {
            std::fs::remove_file(&path)
                .map_err(|e| format!("cannot remove `{}`: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// The usage text.
pub fn usage(program: &str) -> String {
    format!(
        "usage: {program}-codegen <command>\n\
         \n\
         commands:\n  \
           handlers               list the handlers with their options and accepted types\n  \
           filter-policy [NAME]   the SNS subscription filter policy of every handler, or of one\n  \
           asyncapi               the AsyncAPI 3.0 document: the event channels, send and receive operations\n  \
           sam [NAME].. [--fifo NAME.. --fifo-topic ID] [--topic ID]\n                         \
                                  the SAM resources of each (or the named) handler's function: queue,\n                         \
                                  dead-letter queue, subscription with its filter policy, role, function;\n                         \
                                  indented to paste under `Resources:`. Queues subscribe to the topic\n                         \
                                  --topic (EventsTopic by default), FIFO ones (--fifo) to --fifo-topic;\n                         \
                                  the table is IdempotencyTable\n  \
           consumers --out DIR    write what every handler accepts (types, versions, upcasts) as\n                         \
                                  DIR/{program}.consumers.json, for producers' `check --consumers`\n  \
           fixtures --out DIR     write sample invocations of every handler for the deliveries its\n                         \
                                  trigger takes (each version, an unknown one, a malformed body),\n                         \
                                  with the outcome each must produce in HANDLER/outcomes.json"
    )
}
