//! A team that does not write Rust consumes the shop's events: it generates Python types from
//! the published registry with `datamodel-code-generator` (a well-kept generator from PyPI)
//! and reads envelopes that tidings published. Their data must validate as the generated
//! types; data that breaks the schema must not.
//!
//! `scripts/test` installs the generator (and pydantic, which its models use) into the
//! project's venv and puts it on PATH.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use shop_events::{
    CustomerProfileUpdated, OrderCancelled, OrderPlaced, OrderPlacedV1, PaymentCaptured,
    StockReserved,
};
use tidings_events::{Envelope, Event};

/// The Python consumer: for each case, import the generated module, read the envelope as a
/// CloudEvents JSON message, check its type and version, and validate its data with the
/// generated model; print one line per case, fail on any surprise.
const CONSUMER: &str = r#"
import importlib, json, sys
import pydantic

cases = json.load(open(sys.argv[1]))
for case in cases:
    model = getattr(importlib.import_module(case["module"]), case["class"])
    with open(case["envelope"]) as f:
        envelope = json.load(f)
    assert envelope["specversion"] == "1.0", envelope
    assert envelope["type"] == case["type"], envelope["type"]
    assert envelope["dataversion"] == case["version"], envelope["dataversion"]
    try:
        model.model_validate(envelope["data"])
        valid = True
    except pydantic.ValidationError as error:
        valid = False
        reason = str(error).splitlines()[0]
    if valid != case["valid"]:
        print(f"FAIL {case['envelope']}: valid={valid}, expected {case['valid']}")
        sys.exit(1)
    print(f"{'read' if valid else 'refused'} {case['type']} v{case['version']}")
"#;

fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

/// A tool the test needs, from PATH, or a message saying how to get it.
fn tool(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "`{name}` is not on PATH: run scripts/test, which installs datamodel-code-generator \
             into .venv and puts .venv/bin on PATH (or `pip install datamodel-code-generator`)"
        )
    })
}

/// What tidings publishes for `E`: the envelope of its schema's first example.
fn published<E: Event>() -> Envelope<E> {
    let schema = tidings_events::schema::data_schema::<E>();
    let example = schema["examples"][0].clone();
    let data: E = serde_json::from_value(example).expect("the schema example is valid data");
    Envelope::new("shop/python-consumer-test", data).with_sequence(1)
}

/// The JSON of `envelope` with `data` replaced by what `break_data` makes of it.
fn with_data(envelope: &str, break_data: impl FnOnce(&mut Value)) -> String {
    let mut value: Value = serde_json::from_str(envelope).expect("an envelope is JSON");
    break_data(&mut value["data"]);
    value.to_string()
}

#[test]
fn a_python_consumer_reads_what_tidings_publishes_with_types_generated_from_the_registry() {
    let work = tempfile::tempdir().expect("a temporary directory");
    let codegen = tool("datamodel-codegen");
    let python = tool("python3");

    // Each published type and version, its envelope as tidings writes it, and the class the
    // generator names after it.
    let envelopes = [
        (
            "shop.order.placed",
            1,
            "OrderPlacedV1",
            published::<OrderPlacedV1>().to_json(),
        ),
        (
            "shop.order.placed",
            2,
            "OrderPlaced",
            published::<OrderPlaced>().to_json(),
        ),
        (
            "shop.order.cancelled",
            1,
            "OrderCancelled",
            published::<OrderCancelled>().to_json(),
        ),
        (
            "shop.payment.captured",
            1,
            "PaymentCaptured",
            published::<PaymentCaptured>().to_json(),
        ),
        (
            "shop.stock.reserved",
            1,
            "StockReserved",
            published::<StockReserved>().to_json(),
        ),
        (
            "shop.customer.profile.updated",
            1,
            "CustomerProfileUpdated",
            published::<CustomerProfileUpdated>().to_json(),
        ),
    ];

    let mut cases = Vec::new();
    for (event_type, version, class, envelope) in envelopes {
        let envelope = envelope.expect("tidings writes the envelope");
        let module = format!("{}_v{version}", event_type.replace('.', "_"));
        let schema = schemas_dir()
            .join(event_type)
            .join(format!("v{version}.schema.json"));
        let output = Command::new(&codegen)
            .arg("--input")
            .arg(&schema)
            .args(["--input-file-type", "jsonschema"])
            .args(["--output-model-type", "pydantic_v2.BaseModel"])
            .args(["--class-name", class])
            .args(["--formatters", "black"])
            .arg("--output")
            .arg(work.path().join(format!("{module}.py")))
            .output()
            .expect("datamodel-codegen runs");
        assert!(
            output.status.success(),
            "datamodel-codegen failed on {}:\n{}",
            schema.display(),
            String::from_utf8_lossy(&output.stderr)
        );

        let good = work.path().join(format!("{module}.json"));
        std::fs::write(&good, &envelope).expect("write the envelope");
        cases.push(json!({"module": module, "class": class, "envelope": good,
                          "type": event_type, "version": version, "valid": true}));

        // The same envelope with its data stripped of every required property: refused.
        let broken = work.path().join(format!("{module}.broken.json"));
        std::fs::write(&broken, with_data(&envelope, |data| *data = json!({})))
            .expect("write the broken envelope");
        cases.push(json!({"module": module, "class": class, "envelope": broken,
                          "type": event_type, "version": version, "valid": false}));
    }

    let cases_file = work.path().join("cases.json");
    std::fs::write(&cases_file, serde_json::to_string(&cases).expect("json")).expect("write");
    let consumer = work.path().join("consumer.py");
    std::fs::write(&consumer, CONSUMER).expect("write the consumer");
    let output = Command::new(&python)
        .arg(&consumer)
        .arg(&cases_file)
        .current_dir(work.path())
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the Python consumer failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("read ")).count(),
        6,
        "{stdout}"
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("refused ")).count(),
        6,
        "{stdout}"
    );
}
