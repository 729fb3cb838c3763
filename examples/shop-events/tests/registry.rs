//! The committed registry under `schemas/` is what this crate publishes: it must say exactly
//! what the code says, and every document in it must be valid.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

// Linking the crate is what brings its registered event types into this test.
use shop_events as _;

use serde_json::Value;
use tidings_events::Registry;
use tidings_events::registry::asyncapi::AsyncApiInfo;

const REGENERATE: &str = "regenerate it with `cargo run -p shop-events -- export --out examples/shop-events/schemas` and commit the result";

fn registry_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

fn info() -> AsyncApiInfo {
    AsyncApiInfo {
        title: env!("CARGO_PKG_NAME").to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        description: Some(env!("CARGO_PKG_DESCRIPTION").to_owned()),
    }
}

fn current() -> Registry {
    let registry =
        Registry::of_crate("shop_events").expect("no two types declare one type and version");
    assert_eq!(registry.len(), 6, "the shop defines six event versions");
    registry
}

fn committed_files(dir: &Path) -> BTreeSet<String> {
    let mut files = BTreeSet::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).expect("the registry directory is readable") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(dir).expect("inside the registry");
                files.insert(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    files
}

#[test]
fn committed_registry_matches_the_code() {
    let dir = registry_dir();
    let expected = current().files(&info());
    let expected_names: BTreeSet<String> = expected.iter().map(|(name, _)| name.clone()).collect();
    let committed = committed_files(&dir);
    let missing: Vec<_> = expected_names.difference(&committed).collect();
    let extra: Vec<_> = committed.difference(&expected_names).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the committed registry is stale (missing {missing:?}, extra {extra:?}); {REGENERATE}"
    );
    for (name, content) in expected {
        let on_disk = std::fs::read_to_string(dir.join(&name)).expect("registry file readable");
        assert!(
            on_disk == content,
            "`{name}` differs from what the code generates; {REGENERATE}"
        );
    }
}

#[test]
fn committed_registry_loads_back_as_the_code_registry() {
    let loaded = Registry::load(&registry_dir()).expect("the committed registry loads");
    let current = current();
    for (event_type, version, entry) in current.iter() {
        let published = loaded
            .get(event_type, version)
            .expect("every version is published");
        assert_eq!(
            published.data_schema, entry.data_schema,
            "{event_type} v{version}"
        );
        assert_eq!(
            published.upcast_from, entry.upcast_from,
            "{event_type} v{version}"
        );
    }
    assert_eq!(loaded.len(), current.len());
}

#[test]
fn every_schema_is_valid_2020_12_and_its_examples_validate() {
    for (event_type, version, entry) in current().iter() {
        for (what, schema) in [
            ("data", &entry.data_schema),
            ("envelope", &entry.envelope_schema),
        ] {
            jsonschema::meta::validate(schema).unwrap_or_else(|e| {
                panic!("{event_type} v{version} {what} schema is not valid 2020-12: {e}")
            });
        }
        let validator =
            jsonschema::validator_for(&entry.data_schema).expect("data schema compiles");
        let examples = entry.data_schema["examples"].as_array().unwrap_or_else(|| {
            panic!("{event_type} v{version} has no example: add #[schemars(example = ...)]")
        });
        assert!(!examples.is_empty());
        for example in examples {
            let errors: Vec<String> = validator
                .iter_errors(example)
                .map(|e| e.to_string())
                .collect();
            assert!(
                errors.is_empty(),
                "{event_type} v{version} example is invalid: {errors:?}"
            );
        }
    }
}

#[test]
fn asyncapi_document_is_valid_against_the_asyncapi_3_schema() {
    let path = std::env::var("TIDINGS_ASYNCAPI_SCHEMA").expect(
        "TIDINGS_ASYNCAPI_SCHEMA is not set: run scripts/test, which fetches the AsyncAPI 3.0.0 \
         JSON Schema, or point the variable at that file",
    );
    let spec: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("AsyncAPI schema readable"))
            .expect("AsyncAPI schema is JSON");
    let validator = jsonschema::validator_for(&spec).expect("AsyncAPI schema compiles");
    let document: Value = serde_json::from_str(
        &std::fs::read_to_string(registry_dir().join("asyncapi.json"))
            .expect("asyncapi.json readable"),
    )
    .expect("asyncapi.json is JSON");
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "asyncapi.json breaks the AsyncAPI 3.0.0 schema: {errors:#?}"
    );
    // Every payload reference resolves to a file of the registry.
    for message in document["components"]["messages"]
        .as_object()
        .expect("messages")
        .values()
    {
        assert_eq!(
            message["payload"]["schemaFormat"],
            "application/schema+json;version=draft-2020-12"
        );
        let file = message["payload"]["schema"]["$ref"]
            .as_str()
            .expect("payload $ref");
        assert!(
            registry_dir().join(file).is_file(),
            "payload reference `{file}` resolves"
        );
    }
}

/// The manifests of the services that consume the shop's events: the shop's own.
fn consumer_manifests() -> Vec<tidings_events::registry::consumers::ConsumerManifest> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shop/consumers");
    tidings_events::registry::consumers::ConsumerManifest::load_dir(&dir)
        .expect("examples/shop/consumers holds the shop's consumer manifest")
}

/// The release check the shop runs before shipping its events: every subscribed handler
/// accepts the version of each type that the code publishes.
#[test]
fn every_consumer_accepts_the_versions_the_shop_publishes() {
    use tidings_events::registry::consumers::check_consumers;
    assert_eq!(check_consumers(&current(), &consumer_manifests()), []);
}

/// Shipping a version no consumer knows yet is caught before it is published, naming each
/// consumer that would dead-letter it and the order to deploy in.
#[test]
fn a_version_the_consumers_do_not_know_names_them_and_the_rollout_order() {
    use tidings_events::registry::consumers::{check_consumers, rollout_order};
    let mut next = current();
    let v2 = next
        .get("shop.order.placed", 2)
        .expect("the shop publishes shop.order.placed v2")
        .clone();
    next.insert(
        "shop.order.placed",
        3,
        tidings_events::RegistryEntry {
            upcast_from: Some(2),
            ..v2
        },
    );
    let unready = check_consumers(&next, &consumer_manifests());
    let handlers: Vec<&str> = unready.iter().map(|u| u.handler.as_str()).collect();
    assert_eq!(handlers, ["analytics", "email", "inventory"]);
    assert!(
        unready
            .iter()
            .all(|u| u.version == 3 && u.accepts == [1, 2])
    );
    assert_eq!(
        rollout_order(&unready, "shop-events"),
        [
            "deploy consumer `shop` accepting shop.order.placed v3",
            "then deploy the producers built with `shop-events`, which publish them"
        ]
    );
}
