//! The JSON Schemas tidings generates: each is a valid draft 2020-12 schema, accepts what the
//! Rust types and the envelope encoder actually write, and rejects what they never write.

use jsonschema::Validator;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tidings_events::schema::{DIALECT, TYPE_KEYWORD, VERSION_KEYWORD, data_schema};
use tidings_events::{Envelope, Event, Registry, RegistryEntry};

/// A postal address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
struct Address {
    street: String,
    city: String,
    postcode: String,
    /// ISO 3166-1 alpha-2 country code.
    country: String,
}

/// How a customer agreed to be contacted.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Channel {
    Email,
    Sms,
    Post,
}

/// What brought the customer in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Referral {
    Friend { customer_id: String },
    Campaign { code: String, discount_percent: u8 },
    Organic,
}

/// A customer registered (first version: a name and an email).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.customer.registered", version = 1)]
struct CustomerRegisteredV1 {
    #[event(subject)]
    customer_id: String,
    name: String,
    email: String,
}

/// A customer registered, with an optional address and contact channels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Event)]
#[event(
    type = "test.customer.registered",
    version = 2,
    upcast_from = CustomerRegisteredV1
)]
struct CustomerRegisteredV2 {
    #[event(subject)]
    customer_id: String,
    name: String,
    email: String,
    address: Option<Address>,
    channels: Vec<Channel>,
}

impl From<CustomerRegisteredV1> for CustomerRegisteredV2 {
    fn from(v1: CustomerRegisteredV1) -> Self {
        Self {
            customer_id: v1.customer_id,
            name: v1.name,
            email: v1.email,
            address: None,
            channels: vec![Channel::Email],
        }
    }
}

/// A customer registered: billing and shipping addresses, channels, tags and referral.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Event)]
#[event(
    type = "test.customer.registered",
    version = 3,
    upcast_from = CustomerRegisteredV2,
    schema_base = "https://schemas.example.com/test"
)]
#[serde(deny_unknown_fields)]
struct CustomerRegistered {
    #[event(subject)]
    customer_id: String,
    display_name: String,
    email: String,
    billing: Address,
    shipping: Option<Address>,
    channels: Vec<Channel>,
    tags: Vec<String>,
    referral: Option<Referral>,
    loyalty_points: u32,
}

impl From<CustomerRegisteredV2> for CustomerRegistered {
    fn from(v2: CustomerRegisteredV2) -> Self {
        let billing = v2.address.unwrap_or(Address {
            street: String::new(),
            city: String::new(),
            postcode: String::new(),
            country: String::new(),
        });
        Self {
            customer_id: v2.customer_id,
            display_name: v2.name,
            email: v2.email,
            billing,
            shipping: None,
            channels: v2.channels,
            tags: Vec::new(),
            referral: None,
            loyalty_points: 0,
        }
    }
}

// No doc comment on purpose: the schema must still get a description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "test.account.changed", version = 1)]
#[serde(tag = "change", rename_all = "snake_case")]
enum AccountChanged {
    Opened {
        account_id: String,
        currency: String,
    },
    Closed {
        account_id: String,
        reason: Option<String>,
    },
    Suspended {
        account_id: String,
        until: Option<String>,
    },
}

fn address(city: &str) -> Address {
    Address {
        street: "12 Harbour Street".into(),
        city: city.into(),
        postcode: "EH6 6LP".into(),
        country: "GB".into(),
    }
}

fn customer() -> CustomerRegistered {
    CustomerRegistered {
        customer_id: "cust-1001".into(),
        display_name: "Ada Lovelace".into(),
        email: "ada@example.com".into(),
        billing: address("Edinburgh"),
        shipping: Some(address("Leith")),
        channels: vec![Channel::Email, Channel::Post],
        tags: vec!["vip".into(), "newsletter".into()],
        referral: Some(Referral::Campaign {
            code: "SPRING26".into(),
            discount_percent: 15,
        }),
        loyalty_points: 120,
    }
}

/// Values of the newest type covering every Option, Vec and enum shape.
fn customers() -> Vec<CustomerRegistered> {
    let full = customer();
    let bare = CustomerRegistered {
        shipping: None,
        channels: Vec::new(),
        tags: Vec::new(),
        referral: None,
        loyalty_points: 0,
        ..full.clone()
    };
    let friend = CustomerRegistered {
        referral: Some(Referral::Friend {
            customer_id: "cust-7".into(),
        }),
        channels: vec![Channel::Sms],
        ..full.clone()
    };
    let organic = CustomerRegistered {
        referral: Some(Referral::Organic),
        ..full.clone()
    };
    vec![full, bare, friend, organic]
}

fn accounts() -> Vec<AccountChanged> {
    vec![
        AccountChanged::Opened {
            account_id: "acct-1".into(),
            currency: "EUR".into(),
        },
        AccountChanged::Closed {
            account_id: "acct-1".into(),
            reason: Some("customer request".into()),
        },
        AccountChanged::Closed {
            account_id: "acct-1".into(),
            reason: None,
        },
        AccountChanged::Suspended {
            account_id: "acct-1".into(),
            until: None,
        },
    ]
}

/// Checks a schema against the draft 2020-12 metaschema and compiles it.
fn compile(schema: &Value) -> Validator {
    assert_eq!(schema["$schema"], json!(DIALECT));
    if let Err(error) = jsonschema::draft202012::meta::validate(schema) {
        panic!(
            "{} is not a valid 2020-12 schema: {error} at {}\n{schema:#}",
            schema["$id"],
            error.instance_path()
        );
    }
    jsonschema::draft202012::new(schema)
        .unwrap_or_else(|error| panic!("{} does not compile: {error}", schema["$id"]))
}

fn assert_valid(validator: &Validator, instance: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{instance:#}\nis rejected: {errors:#?}");
}

/// Asserts the instance is rejected, and that one of the errors is at `pointer`.
fn assert_rejected_at(validator: &Validator, instance: &Value, pointer: &str) {
    let paths: Vec<String> = validator
        .iter_errors(instance)
        .map(|error| error.instance_path().to_string())
        .collect();
    assert!(
        paths.iter().any(|path| path == pointer),
        "expected an error at {pointer:?}, got errors at {paths:?} for\n{instance:#}"
    );
}

fn entry<E: Event>() -> RegistryEntry {
    Registry::linked()
        .expect("no two types declare one type and version")
        .get(E::TYPE, E::VERSION)
        .unwrap_or_else(|| panic!("{} v{} is not in the linked registry", E::TYPE, E::VERSION))
        .clone()
}

fn envelope_json<E: Event>(envelope: &Envelope<E>) -> Value {
    serde_json::from_str(&envelope.to_json().unwrap()).unwrap()
}

#[test]
fn data_schemas_carry_their_identity() {
    let schema = data_schema::<CustomerRegistered>();
    assert_eq!(schema["$schema"], json!(DIALECT));
    assert_eq!(
        schema["$schema"],
        json!("https://json-schema.org/draft/2020-12/schema")
    );
    assert_eq!(schema["$id"], json!(CustomerRegistered::SCHEMA_ID));
    assert_eq!(
        schema["$id"],
        json!("https://schemas.example.com/test/test.customer.registered/v3.schema.json")
    );
    assert_eq!(
        schema["title"],
        json!("test.customer.registered v3 (CustomerRegistered)")
    );
    assert_eq!(
        schema["description"],
        json!(
            "A customer registered: billing and shipping addresses, channels, tags and referral."
        )
    );
    assert_eq!(schema[TYPE_KEYWORD], json!("test.customer.registered"));
    assert_eq!(schema[VERSION_KEYWORD], json!(3));
    assert_eq!(TYPE_KEYWORD, "x-tidings-type");
    assert_eq!(VERSION_KEYWORD, "x-tidings-version");

    let v1 = data_schema::<CustomerRegisteredV1>();
    assert_eq!(
        v1["$id"],
        json!("urn:tidings:schema:test.customer.registered:v1")
    );
    assert_eq!(v1[VERSION_KEYWORD], json!(1));
    assert_eq!(
        v1["description"],
        json!("A customer registered (first version: a name and an email).")
    );
}

#[test]
fn an_undocumented_type_still_gets_a_description() {
    let schema = data_schema::<AccountChanged>();
    assert_eq!(
        schema["$id"],
        json!("urn:tidings:schema:test.account.changed:v1")
    );
    assert_eq!(
        schema["title"],
        json!("test.account.changed v1 (AccountChanged)")
    );
    assert_eq!(
        schema["description"],
        json!("Data of the `test.account.changed` event, version 1.")
    );
    assert_eq!(schema[TYPE_KEYWORD], json!("test.account.changed"));
    assert_eq!(schema[VERSION_KEYWORD], json!(1));
}

#[test]
fn every_schema_is_a_valid_2020_12_schema() {
    let schemas = [
        data_schema::<CustomerRegisteredV1>(),
        data_schema::<CustomerRegisteredV2>(),
        data_schema::<CustomerRegistered>(),
        data_schema::<AccountChanged>(),
        entry::<CustomerRegisteredV1>().envelope_schema,
        entry::<CustomerRegisteredV2>().envelope_schema,
        entry::<CustomerRegistered>().envelope_schema,
        entry::<AccountChanged>().envelope_schema,
    ];
    for schema in &schemas {
        compile(schema);
    }
}

#[test]
fn the_registry_holds_what_data_schema_generates() {
    let registry = Registry::linked().expect("no two types declare one type and version");
    assert_eq!(
        registry.versions_of("test.customer.registered"),
        vec![1, 2, 3]
    );
    assert_eq!(registry.versions_of("test.account.changed"), vec![1]);
    let v3 = entry::<CustomerRegistered>();
    assert_eq!(v3.data_schema, data_schema::<CustomerRegistered>());
    assert_eq!(v3.upcast_from, Some(2));
    assert_eq!(entry::<CustomerRegisteredV2>().upcast_from, Some(1));
    assert_eq!(entry::<CustomerRegisteredV1>().upcast_from, None);
    assert_eq!(v3.rust_type.as_deref(), Some("schemas::CustomerRegistered"));

    let envelope = &v3.envelope_schema;
    assert_eq!(envelope["$schema"], json!(DIALECT));
    assert_eq!(
        envelope["$id"],
        json!("https://schemas.example.com/test/test.customer.registered/v3.envelope.schema.json")
    );
    assert_eq!(envelope[TYPE_KEYWORD], json!("test.customer.registered"));
    assert_eq!(envelope[VERSION_KEYWORD], json!(3));
    assert_eq!(envelope["$defs"]["data"], v3.data_schema);
}

#[test]
fn data_schemas_accept_every_shape_the_types_serialize() {
    let v3 = compile(&data_schema::<CustomerRegistered>());
    for value in customers() {
        assert_valid(&v3, &serde_json::to_value(&value).unwrap());
    }
    let account = compile(&data_schema::<AccountChanged>());
    for value in accounts() {
        assert_valid(&account, &serde_json::to_value(&value).unwrap());
    }
    let v2 = compile(&data_schema::<CustomerRegisteredV2>());
    let v2_value = CustomerRegisteredV2 {
        customer_id: "cust-9".into(),
        name: "Grace Hopper".into(),
        email: "grace@example.com".into(),
        address: Some(address("Arlington")),
        channels: vec![Channel::Sms, Channel::Email],
    };
    assert_valid(&v2, &serde_json::to_value(&v2_value).unwrap());
    let v1 = compile(&data_schema::<CustomerRegisteredV1>());
    let v1_value = serde_json::to_value(CustomerRegisteredV1 {
        customer_id: "cust-9".into(),
        name: "Grace Hopper".into(),
        email: "grace@example.com".into(),
    })
    .unwrap();
    assert_valid(&v1, &v1_value);
    // The versions differ in shape: v1 data is not v3 data.
    assert_rejected_at(&v3, &v1_value, "");
}

#[test]
fn data_schemas_reject_what_the_types_would_not_read() {
    let v3 = compile(&data_schema::<CustomerRegistered>());
    let good = serde_json::to_value(customer()).unwrap();
    let broken = |change: &dyn Fn(&mut Value)| {
        let mut value = good.clone();
        change(&mut value);
        // The schema and serde agree: neither accepts it.
        assert!(
            serde_json::from_value::<CustomerRegistered>(value.clone()).is_err(),
            "serde accepts {value:#}"
        );
        value
    };
    let no_email = broken(&|v| {
        v.as_object_mut().unwrap().remove("email");
    });
    assert_rejected_at(&v3, &no_email, "");
    let bad_channel = broken(&|v| v["channels"] = json!(["pigeon"]));
    assert_rejected_at(&v3, &bad_channel, "/channels/0");
    let bad_nested = broken(&|v| v["billing"]["city"] = json!(7));
    assert_rejected_at(&v3, &bad_nested, "/billing/city");
    let bad_referral = broken(&|v| v["referral"] = json!({"kind": "campaign", "code": "X"}));
    assert_rejected_at(&v3, &bad_referral, "/referral");
    let negative = broken(&|v| v["loyalty_points"] = json!(-1));
    assert_rejected_at(&v3, &negative, "/loyalty_points");
    // deny_unknown_fields closes the schema.
    let unknown = broken(&|v| v["nickname"] = json!("Ada"));
    assert_rejected_at(&v3, &unknown, "");
}

#[test]
fn envelope_schemas_accept_envelopes_the_encoder_writes() {
    let v3 = compile(&entry::<CustomerRegistered>().envelope_schema);
    let cause = Envelope::new("crm", customer()).with_correlation_id("flow-1");
    for (index, value) in customers().into_iter().enumerate() {
        let envelope = Envelope::new("https://crm.example.com/customers", value)
            .with_sequence(index as u64 + 1)
            .caused_by(&cause.attributes);
        assert_valid(&v3, &envelope_json(&envelope));
    }
    // The least an envelope carries is valid too.
    let mut minimal = Envelope::new("crm", customer());
    minimal.attributes.time = None;
    minimal.attributes.subject = None;
    minimal.attributes.data_content_type = None;
    minimal.attributes.data_schema = None;
    assert_valid(&v3, &envelope_json(&minimal));
    // Extensions the schema cannot know are allowed, as CloudEvents allows them.
    let mut extended = envelope_json(&Envelope::new("crm", customer()));
    extended["region"] = json!("eu-west-1");
    extended["attempt"] = json!(2);
    extended["replayed"] = json!(false);
    assert_valid(&v3, &extended);

    let account = compile(&entry::<AccountChanged>().envelope_schema);
    for value in accounts() {
        let envelope = Envelope::new("ledger", value)
            .with_subject("acct-1")
            .with_sequence(u64::MAX);
        assert_valid(&account, &envelope_json(&envelope));
    }
    let v1 = compile(&entry::<CustomerRegisteredV1>().envelope_schema);
    let v1_envelope = Envelope::new(
        "crm",
        CustomerRegisteredV1 {
            customer_id: "cust-2".into(),
            name: "Alan Turing".into(),
            email: "alan@example.com".into(),
        },
    );
    assert_valid(&v1, &envelope_json(&v1_envelope));
}

#[test]
fn envelope_schemas_reject_broken_envelopes() {
    let validator = compile(&entry::<CustomerRegistered>().envelope_schema);
    let good = envelope_json(&Envelope::new("crm", customer()).with_sequence(3));
    assert_valid(&validator, &good);
    let broken = |change: &dyn Fn(&mut Value)| {
        let mut value = good.clone();
        change(&mut value);
        value
    };

    for required in ["specversion", "id", "source", "type", "dataversion", "data"] {
        let missing = broken(&|v| {
            v.as_object_mut().unwrap().remove(required);
        });
        let errors: Vec<String> = validator
            .iter_errors(&missing)
            .map(|e| e.to_string())
            .collect();
        assert!(
            errors
                .iter()
                .any(|e| e.contains(&format!("\"{required}\" is a required property"))),
            "removing {required}: {errors:?}"
        );
    }
    let no_field = broken(&|v| {
        v["data"].as_object_mut().unwrap().remove("billing");
    });
    assert_rejected_at(&validator, &no_field, "/data");
    assert_rejected_at(&validator, &broken(&|v| v["id"] = json!(5)), "/id");
    assert_rejected_at(&validator, &broken(&|v| v["id"] = json!("")), "/id");
    assert_rejected_at(
        &validator,
        &broken(&|v| v["data"]["tags"] = json!("vip")),
        "/data/tags",
    );
    // An Option is an anyOf of the type and null: the error is reported at the option.
    assert_rejected_at(
        &validator,
        &broken(&|v| v["data"]["shipping"]["postcode"] = json!(null)),
        "/data/shipping",
    );
    assert_rejected_at(
        &validator,
        &broken(&|v| v["dataversion"] = json!(2)),
        "/dataversion",
    );
    assert_rejected_at(
        &validator,
        &broken(&|v| v["dataversion"] = json!("3")),
        "/dataversion",
    );
    assert_rejected_at(
        &validator,
        &broken(&|v| v["type"] = json!("test.account.changed")),
        "/type",
    );
    assert_rejected_at(
        &validator,
        &broken(&|v| v["specversion"] = json!("0.3")),
        "/specversion",
    );
    assert_rejected_at(
        &validator,
        &broken(&|v| v["sequence"] = json!("-1")),
        "/sequence",
    );
    assert_rejected_at(
        &validator,
        &broken(&|v| v["sequence"] = json!(3)),
        "/sequence",
    );
    assert_rejected_at(
        &validator,
        &broken(&|v| v["datacontenttype"] = json!("text/xml")),
        "/datacontenttype",
    );
    assert_rejected_at(
        &validator,
        &broken(&|v| v["tenant"] = json!({"id": 1})),
        "/tenant",
    );
    // Extension names follow the CloudEvents naming rule.
    let upper = broken(&|v| v["tenantId"] = json!("t-1"));
    assert!(
        !validator.is_valid(&upper),
        "an uppercase extension name passes"
    );
}

#[test]
fn the_envelope_schema_of_one_version_rejects_another_version() {
    let v2 = compile(&entry::<CustomerRegisteredV2>().envelope_schema);
    let v3_envelope = envelope_json(&Envelope::new("crm", customer()));
    assert_rejected_at(&v2, &v3_envelope, "/dataversion");
    assert_rejected_at(&v2, &v3_envelope, "/data");
}
