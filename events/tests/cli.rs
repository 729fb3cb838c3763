//! The registry command line: argument parsing, export (byte-identical on re-run, stale
//! files removed) and check (exit status and one line per violation).

use std::ffi::OsString;
use std::process::ExitCode;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tidings_events::cli::{Command, Package, execute, parse};
use tidings_events::compat::{Mode, Policy};
use tidings_events::{Event, Registry};

/// A widget was made.
#[derive(Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "cli.widget.made", version = 1)]
struct WidgetMade {
    #[event(subject)]
    id: String,
    size: i64,
}

const PACKAGE: Package = Package {
    name: "widget-events",
    crate_name: "cli",
    version: "1.2.3",
    description: "Widgets.",
};

fn args(line: &str) -> Vec<OsString> {
    line.split_whitespace().map(OsString::from).collect()
}

fn run(command: &Command, registry: Registry) -> (ExitCode, String) {
    let mut out = Vec::new();
    let code = execute(command, PACKAGE, || registry, &mut out).expect("command runs");
    (code, String::from_utf8(out).expect("utf-8 output"))
}

#[test]
fn parses_every_command_and_option() {
    assert_eq!(
        parse(args("export --out schemas")),
        Ok(Command::Export {
            out: "schemas".into()
        })
    );
    assert_eq!(
        parse(args("export --out=schemas")),
        Ok(Command::Export {
            out: "schemas".into()
        })
    );
    assert_eq!(
        parse(args(
            "check --against old --current new --mode full-transitive --policy strict"
        )),
        Ok(Command::Check {
            against: "old".into(),
            current: Some("new".into()),
            mode: Mode::FullTransitive,
            policy: Policy::Strict,
            consumers: Vec::new(),
        })
    );
    assert_eq!(
        parse(args("check --against old")),
        Ok(Command::Check {
            against: "old".into(),
            current: None,
            mode: Mode::Backward,
            policy: Policy::Lenient,
            consumers: Vec::new(),
        })
    );
    assert_eq!(
        parse(args("check --against old --consumers a --consumers b")),
        Ok(Command::Check {
            against: "old".into(),
            current: None,
            mode: Mode::Backward,
            policy: Policy::Lenient,
            consumers: vec!["a".into(), "b".into()],
        })
    );
    assert_eq!(parse(args("list")), Ok(Command::List));
    assert_eq!(parse(args("check --help")), Ok(Command::Help));
}

#[test]
fn usage_errors_say_what_is_missing() {
    let error = |line: &str| parse(args(line)).expect_err(line);
    assert_eq!(error(""), "no command given");
    assert!(error("export").contains("`export` needs `--out DIR`"));
    assert!(error("check").contains("`check` needs `--against DIR`"));
    assert!(error("check --against x --mode sideways").contains("sideways"));
    assert!(error("check --against x --policy loose").contains("loose"));
    assert_eq!(error("publish"), "unknown command `publish`");
    assert_eq!(
        error("export --out x --force y"),
        "unknown option `--force` for `export`"
    );
    assert_eq!(error("export --out"), "`--out` needs a value");
    assert_eq!(error("export stray"), "unexpected argument `stray`");
}

#[test]
fn export_is_byte_identical_on_rerun_and_removes_stale_versions() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("schemas");
    let export = Command::Export { out: out.clone() };

    let (code, report) = run(
        &export,
        Registry::of_crate("cli").expect("no two types declare one type and version"),
    );
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(
        report.trim(),
        format!(
            "exported 1 event versions to {}: 4 files written, 0 unchanged, 0 removed",
            out.display()
        )
    );
    let first = std::fs::read(out.join("cli.widget.made/v1.schema.json")).expect("schema written");

    let (_, report) = run(
        &export,
        Registry::of_crate("cli").expect("no two types declare one type and version"),
    );
    assert!(
        report.contains("0 files written, 4 unchanged, 0 removed"),
        "{report}"
    );
    assert_eq!(
        std::fs::read(out.join("cli.widget.made/v1.schema.json")).expect("schema"),
        first
    );

    // A version that is no longer in the code disappears from the directory.
    std::fs::write(out.join("cli.widget.made/v9.schema.json"), "{}").expect("write stale file");
    let (_, report) = run(
        &export,
        Registry::of_crate("cli").expect("no two types declare one type and version"),
    );
    assert!(report.contains("1 removed"), "{report}");
    assert!(!out.join("cli.widget.made/v9.schema.json").exists());

    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("index.json")).expect("index"))
            .expect("json");
    assert_eq!(index["events"][0]["type"], "cli.widget.made");
    let asyncapi: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("asyncapi.json")).expect("asyncapi"),
    )
    .expect("json");
    assert_eq!(asyncapi["info"]["version"], "1.2.3");
    assert_eq!(asyncapi["info"]["title"], "widget-events");
}

#[test]
fn check_passes_an_unchanged_registry_and_fails_an_edited_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let published = dir.path().join("published");
    run(
        &Command::Export {
            out: published.clone(),
        },
        Registry::of_crate("cli").expect("no two types declare one type and version"),
    );
    let check = |current: Option<std::path::PathBuf>| Command::Check {
        against: published.clone(),
        current,
        mode: Mode::Backward,
        policy: Policy::Lenient,
        consumers: Vec::new(),
    };

    let (code, report) = run(
        &check(None),
        Registry::of_crate("cli").expect("no two types declare one type and version"),
    );
    assert_eq!(code, ExitCode::SUCCESS, "{report}");
    assert_eq!(
        report.trim(),
        "compatible: 1 event versions checked against 1 published (backward, lenient)"
    );

    // Edit the published version in place in a copy, and check the copy.
    let edited = dir.path().join("edited");
    run(
        &Command::Export {
            out: edited.clone(),
        },
        Registry::of_crate("cli").expect("no two types declare one type and version"),
    );
    let schema_path = edited.join("cli.widget.made/v1.schema.json");
    let mut schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&schema_path).expect("schema"))
            .expect("json");
    schema["properties"]["size"]["type"] = "string".into();
    std::fs::write(
        &schema_path,
        serde_json::to_string_pretty(&schema).expect("json"),
    )
    .expect("write");

    let (code, report) = run(&check(Some(edited)), Registry::new());
    assert_eq!(code, ExitCode::from(1));
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines.len(), 2, "{report}");
    assert!(
        lines[0]
            .starts_with("cli.widget.made v1 /properties/size/type: published-version-modified"),
        "{report}"
    );
    assert_eq!(lines[1], "incompatible: 1 violation (backward, lenient)");
}

#[test]
fn check_of_a_missing_directory_is_a_clear_error() {
    let command = Command::Check {
        against: "does-not-exist".into(),
        current: None,
        mode: Mode::Backward,
        policy: Policy::Lenient,
        consumers: Vec::new(),
    };
    let mut out = Vec::new();
    let error = execute(&command, PACKAGE, Registry::new, &mut out).expect_err("missing dir");
    assert!(
        error.starts_with("cannot read `does-not-exist/index.json`"),
        "{error}"
    );
}
