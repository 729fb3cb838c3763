//! Every kind of bad input a handler can be sent, each with its documented outcome, reason
//! code and message, and the answer SQS gets for it with and without a dead-letter queue.
//!
//! Without a dead-letter queue a rejected record is reported in `batchItemFailures`, so that
//! the queue's own redrive policy moves it aside after `maxReceiveCount`. With one, it is
//! dead-lettered at once, with its original body and the reason, and acknowledged.

mod support;

use std::sync::Arc;

use serde_json::{Value, json};
use tidings::testing::{Batch, TestRecord, invoke, invoke_raw};
use tidings::transport::Invocation;
use tidings::{BatchResult, EventHandler, InvocationError, Outcome, ReasonCode};
use tidings::{DeadLetter, DeadLetterQueue, MemoryDeadLetterQueue};

use support::{Ping, SOURCE, ignore_others, latest_items, ok_item, record_items, unique};

/// Which of the test handlers a row is sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    /// `record_items`: no ordering, rejects unknown types.
    Plain,
    /// `latest_items`: `latest_wins`.
    Latest,
    /// `ignore_others`: acknowledges unknown types.
    Ignoring,
}

/// What a row sends.
enum Input {
    /// A batch built with `tidings::testing`.
    Batch(Batch),
    /// An invocation payload as Lambda would send it, for records `Batch` cannot express.
    Json(String),
}

/// The message id a record is expected to have.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Id {
    /// `msg-N` by position, as `tidings::testing` numbers records.
    Position,
    /// None: the record's id could not be read.
    Missing,
}

/// The expected outcome of one record.
#[derive(Debug, Clone)]
struct Expect {
    /// `Outcome::name` of the outcome.
    outcome: &'static str,
    /// The reason code, for rejections.
    code: Option<ReasonCode>,
    /// A part of the reason's message that says what went wrong.
    message: &'static str,
    /// The body a dead letter of this record carries: the original body, byte for byte.
    letter_body: String,
    /// The record's message id.
    id: Id,
}

impl Expect {
    fn processed() -> Self {
        Self {
            outcome: "processed",
            code: None,
            message: "",
            letter_body: String::new(),
            id: Id::Position,
        }
    }

    fn ignored() -> Self {
        Self {
            outcome: "ignored",
            ..Self::processed()
        }
    }

    /// Rejected with `code` and a message containing `message`; dead-lettered with
    /// `letter_body`.
    fn rejected(code: ReasonCode, message: &'static str, letter_body: impl Into<String>) -> Self {
        Self {
            outcome: "rejected",
            code: Some(code),
            message,
            letter_body: letter_body.into(),
            id: Id::Position,
        }
    }

    /// The record has no readable message id.
    fn unidentified(mut self) -> Self {
        self.id = Id::Missing;
        self
    }
}

/// One bad input and what must become of it.
struct Row {
    name: &'static str,
    which: Which,
    input: Input,
    expect: Vec<Expect>,
}

impl Row {
    /// An SQS batch of one record with `body` (raw delivery), rejected with `code`; its dead
    /// letter carries `body` unchanged.
    fn sqs(
        name: &'static str,
        body: impl Into<String>,
        code: ReasonCode,
        message: &'static str,
    ) -> Self {
        let body = body.into();
        Self {
            name,
            which: Which::Plain,
            input: Input::Batch(Batch::sqs().record(TestRecord::raw(body.clone()))),
            expect: vec![Expect::rejected(code, message, body)],
        }
    }

    fn to(mut self, which: Which) -> Self {
        self.which = which;
        self
    }
}

/// A valid envelope of `test.item.changed` version 2 with a fresh id, as a JSON object to
/// break in one place.
fn envelope() -> Value {
    let subject = unique("bad-item");
    json!({
        "specversion": "1.0",
        "id": unique("bad-event"),
        "source": SOURCE,
        "type": "test.item.changed",
        "time": "2026-11-22T10:00:00Z",
        "subject": subject,
        "datacontenttype": "application/json",
        "dataschema": "urn:tidings:schema:test.item.changed:v2",
        "dataversion": 2,
        "sequence": "00000000000000000001",
        "data": {"item": subject, "value": 10},
    })
}

/// The valid envelope changed by `change`, as a body.
fn envelope_with(change: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
    let mut envelope = envelope();
    change(envelope.as_object_mut().expect("an object"));
    envelope.to_string()
}

/// The payload of `batch` as Lambda sends it, changed by `change`, as text. The text
/// `LONE_SURROGATE` is replaced by a JSON escape of a lone surrogate, which no `Value` can
/// hold.
fn invocation_with(batch: &Batch, change: impl FnOnce(&mut Value)) -> String {
    let mut payload = batch.to_json();
    change(&mut payload);
    payload.to_string().replace("LONE_SURROGATE", "\\ud800")
}

/// The SNS notification SNS writes to an SQS queue for a control message of `kind`.
fn sns_control_body(kind: &str) -> String {
    json!({
        "Type": kind,
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736",
        "TopicArn": tidings::testing::TEST_TOPIC_ARN,
        "Message": "You have chosen to subscribe to the topic arn:aws:sns:eu-west-1:000000000000:tidings-test.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
        "SubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:eu-west-1:000000000000:tidings-test&Token=2336412f37fb",
        "Timestamp": "2026-11-22T10:00:00.000Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
        "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/cert.pem",
    })
    .to_string()
}

const CONFIRM_MESSAGE: &str = "an SNS SubscriptionConfirmation of topic arn:aws:sns:eu-west-1:000000000000:tidings-test, not an event: confirm the subscription through the message's SubscribeURL (or ConfirmSubscription with its Token)";

fn rows() -> Vec<Row> {
    use ReasonCode::*;
    let good = ok_item(&unique("good"), 1).to_json().expect("serializes");
    let mut rows = vec![
        // The body is not a CloudEvents envelope at all.
        Row::sqs(
            "non-JSON body",
            "order 42 changed",
            Envelope,
            "body is not valid JSON (expected value at line 1 column 1); tidings messages carry a CloudEvents 1.0 JSON envelope",
        ),
        Row::sqs(
            "whitespace-only body",
            " \n ",
            Envelope,
            "body is not valid JSON (EOF while parsing a value at line 2 column 1)",
        ),
        Row::sqs(
            "byte-order mark before the JSON",
            format!("\u{feff}{good}"),
            Envelope,
            "body is not valid JSON (expected value at line 1 column 1)",
        ),
        Row::sqs(
            "truncated JSON",
            good[..good.len() / 2].to_owned(),
            Envelope,
            "body is not valid JSON (EOF while parsing",
        ),
        Row::sqs(
            "a JSON array",
            "[1, 2, 3]",
            Envelope,
            "body is JSON but not an object (invalid type: sequence, expected a CloudEvents JSON object",
        ),
        Row::sqs(
            "a JSON string",
            "\"order 42 changed\"",
            Envelope,
            "body is JSON but not an object (invalid type: string \"order 42 changed\", expected a CloudEvents JSON object",
        ),
        Row::sqs(
            "JSON that is not CloudEvents",
            r#"{"orderId": 42, "status": "paid"}"#,
            Envelope,
            "required CloudEvents attribute `specversion` is missing",
        ),
        // A JSON escape of half a UTF-16 pair: valid JSON syntax, but no text.
        Row::sqs(
            "a lone surrogate escape in an envelope attribute",
            envelope_with(|e| e["subject"] = "LONE_SURROGATE".into())
                .replace("LONE_SURROGATE", "\\ud800"),
            Envelope,
            "body is not valid JSON (unexpected end of hex escape",
        ),
        Row::sqs(
            "a lone surrogate escape in the data",
            envelope_with(|e| e["data"]["item"] = "LONE_SURROGATE".into())
                .replace("LONE_SURROGATE", "\\ud800"),
            InvalidData,
            "`data` of `test.item.changed` version 2 does not match its schema",
        ),
        // CloudEvents attributes that break the spec or tidings' rules.
        Row::sqs(
            "wrong specversion",
            envelope_with(|e| e["specversion"] = "0.3".into()),
            Envelope,
            "`specversion` is \"0.3\" but tidings reads CloudEvents \"1.0\" only",
        ),
        Row::sqs(
            "specversion as a number",
            envelope_with(|e| e["specversion"] = json!(1.0)),
            Envelope,
            "CloudEvents attribute `specversion` is invalid: it must be a JSON string",
        ),
        Row::sqs(
            "missing id",
            envelope_with(|e| {
                e.remove("id");
            }),
            Envelope,
            "required CloudEvents attribute `id` is missing",
        ),
        Row::sqs(
            "id as a number",
            envelope_with(|e| e["id"] = json!(42)),
            Envelope,
            "CloudEvents attribute `id` is invalid: it must be a JSON string",
        ),
        Row::sqs(
            "empty source",
            envelope_with(|e| e["source"] = "".into()),
            Envelope,
            "CloudEvents attribute `source` is invalid: it must not be an empty string",
        ),
        Row::sqs(
            "missing type",
            envelope_with(|e| {
                e.remove("type");
            }),
            Envelope,
            "required CloudEvents attribute `type` is missing",
        ),
        Row::sqs(
            "time not RFC 3339",
            envelope_with(|e| e["time"] = "22/11/2026 10:00".into()),
            Envelope,
            "CloudEvents attribute `time` is invalid: it must be an RFC 3339 timestamp such as 2026-11-22T10:00:00Z",
        ),
        Row::sqs(
            "datacontenttype not JSON",
            envelope_with(|e| e["datacontenttype"] = "text/plain".into()),
            Envelope,
            "CloudEvents attribute `datacontenttype` is invalid: it must be application/json or a +json media type, since tidings events carry JSON data",
        ),
        Row::sqs(
            "relative dataschema",
            envelope_with(|e| e["dataschema"] = "schemas/item.json".into()),
            Envelope,
            "CloudEvents attribute `dataschema` is invalid: it must be an absolute URI (with a scheme)",
        ),
        Row::sqs(
            "missing dataversion",
            envelope_with(|e| {
                e.remove("dataversion");
            }),
            Envelope,
            "required CloudEvents attribute `dataversion` is missing",
        ),
        Row::sqs(
            "dataversion zero",
            envelope_with(|e| e["dataversion"] = json!(0)),
            Envelope,
            "CloudEvents attribute `dataversion` is invalid: it must be an integer from 1 to 2147483647",
        ),
        Row::sqs(
            "negative sequence",
            envelope_with(|e| e["sequence"] = "-3".into()),
            Envelope,
            "CloudEvents attribute `sequence` is invalid: it must be a string of decimal digits that fits in 64 bits",
        ),
        Row::sqs(
            "an attribute twice",
            envelope_with(|_| {}).replacen("{", "{\"id\":\"first\",", 1),
            Envelope,
            "CloudEvents attribute `id` appears more than once; each attribute may appear once",
        ),
        Row::sqs(
            "binary data",
            envelope_with(|e| {
                e.remove("data");
                e.insert("data_base64".into(), "aGVsbG8=".into());
            }),
            Envelope,
            "the envelope carries `data_base64`; tidings events carry JSON in `data`",
        ),
        Row::sqs(
            "missing data",
            envelope_with(|e| {
                e.remove("data");
            }),
            Envelope,
            "the envelope has no `data` (or it is null); tidings events always carry their state in `data`",
        ),
        Row::sqs(
            "null data",
            envelope_with(|e| e["data"] = Value::Null),
            Envelope,
            "the envelope has no `data` (or it is null)",
        ),
        Row::sqs(
            "extension name with capitals",
            envelope_with(|e| {
                e.insert("TraceId".into(), "abc".into());
            }),
            Envelope,
            "CloudEvents attribute `TraceId` is invalid: it must be named with lowercase ASCII letters and digits only (the CloudEvents naming rule)",
        ),
        Row::sqs(
            "extension value an object",
            envelope_with(|e| {
                e.insert("tenant".into(), json!({"id": 7}));
            }),
            Envelope,
            "CloudEvents attribute `tenant` is invalid: it must be a string, an integer or a boolean, as extension values are",
        ),
        // Routing and versions.
        Row::sqs(
            "unknown type",
            envelope_with(|e| e["type"] = "test.parcel.lost".into()),
            UnknownType,
            "event type `test.parcel.lost` is not handled by `record_items` (it accepts [\"test.item.changed\", \"test.ping\"]); fix the subscription's filter policy or set on_unknown_type = \"ignore\"",
        ),
        Row::sqs(
            "newer version",
            envelope_with(|e| e["dataversion"] = json!(3)),
            UnsupportedVersion,
            "`test.item.changed` version 3 is not supported here (this code knows versions [1, 2]); deploy a consumer built with the newer event types",
        ),
        Row::sqs(
            "missing data field",
            envelope_with(|e| {
                e["data"].as_object_mut().expect("object").remove("value");
            }),
            InvalidData,
            "`data` of `test.item.changed` version 2 does not match its schema: missing field `value`",
        ),
        Row::sqs(
            "mistyped data field",
            envelope_with(|e| e["data"]["value"] = "ten".into()),
            InvalidData,
            "`data` of `test.item.changed` version 2 does not match its schema: invalid type: string \"ten\", expected i64",
        ),
        Row::sqs(
            "data not an object",
            envelope_with(|e| e["data"] = json!(7)),
            InvalidData,
            "`data` of `test.item.changed` version 2 does not match its schema: invalid type: integer `7`",
        ),
        Row::sqs(
            "older version with mistyped data",
            envelope_with(|e| {
                e["dataversion"] = json!(1);
                e["data"]["value"] = json!(true);
            }),
            InvalidData,
            "`data` of `test.item.changed` version 1 does not match its schema: invalid type: boolean `true`, expected i64",
        ),
        Row::sqs(
            "body over the size limit",
            format!("{{\"padding\":\"{}\"}}", "x".repeat(1024 * 1024)),
            Oversized,
            "body is 1048590 bytes, over this handler's limit of 1048576 bytes; publish large payloads by reference or raise `max_body_bytes`",
        ),
        // SubjectOrdering needs a subject and a sequence.
        Row::sqs(
            "no sequence under latest_wins",
            envelope_with(|e| {
                e.remove("sequence");
            }),
            MissingOrdering,
            "`latest_items` uses ordering = \"latest_wins\", which needs a sequence on every event; publish with `.with_sequence(n)` and a subject field",
        )
        .to(Which::Latest),
        Row::sqs(
            "no subject under latest_wins",
            tidings::Envelope::new(SOURCE, Ping { note: "hi".into() })
                .with_sequence(4)
                .to_json()
                .expect("serializes"),
            MissingOrdering,
            "`latest_items` uses ordering = \"latest_wins\", which needs a subject on every event",
        )
        .to(Which::Latest),
        Row::sqs(
            "neither subject nor sequence under latest_wins",
            tidings::Envelope::new(SOURCE, Ping { note: "hi".into() })
                .to_json()
                .expect("serializes"),
            MissingOrdering,
            "which needs a subject and a sequence on every event",
        )
        .to(Which::Latest),
        // Transport: records that carry no envelope.
        Row::sqs(
            "empty body",
            "",
            Transport,
            "empty body: the message carries no envelope",
        ),
        Row::sqs(
            "SNS SubscriptionConfirmation in an SQS body",
            sns_control_body("SubscriptionConfirmation"),
            NotAnEvent,
            // The body is SNS JSON, so raw delivery is off: say to turn it on too.
            "confirm the subscription through the message's SubscribeURL (or ConfirmSubscription with its Token), and enable raw message delivery on the subscription so that bodies are envelopes",
        ),
        Row::sqs(
            "SNS UnsubscribeConfirmation in an SQS body",
            sns_control_body("UnsubscribeConfirmation"),
            NotAnEvent,
            "an SNS UnsubscribeConfirmation of topic arn:aws:sns:eu-west-1:000000000000:tidings-test, not an event: the subscription was deleted",
        ),
    ];

    // SNS notifications in SQS bodies: the letter carries the envelope SNS wrapped.
    let wrapped_bad = envelope_with(|e| e["dataversion"] = json!(9));
    rows.push(Row {
        name: "newer version in an SNS notification in an SQS body",
        which: Which::Plain,
        input: Input::Batch(Batch::sns_via_sqs().raw(wrapped_bad.clone())),
        expect: vec![Expect::rejected(
            UnsupportedVersion,
            "`test.item.changed` version 9 is not supported here",
            wrapped_bad,
        )],
    });
    rows.push(Row {
        name: "empty Message in an SNS notification in an SQS body",
        which: Which::Plain,
        input: Input::Batch(Batch::sns_via_sqs().raw("")),
        expect: vec![Expect::rejected(
            Transport,
            "empty body: the message carries no envelope",
            "",
        )],
    });
    // SNS invoking the function.
    let sns_bad = "not an envelope".to_owned();
    rows.push(Row {
        name: "non-JSON Message of an SNS record",
        which: Which::Plain,
        input: Input::Batch(Batch::sns().raw(sns_bad.clone())),
        expect: vec![Expect::rejected(
            Envelope,
            "body is not valid JSON (expected ident at line 1 column 2)",
            sns_bad,
        )],
    });
    let confirmation = Batch::sns().raw("You have chosen to subscribe to the topic.");
    rows.push(Row {
        name: "SNS SubscriptionConfirmation as an SNS record",
        which: Which::Plain,
        input: Input::Json(invocation_with(&confirmation, |payload| {
            payload["Records"][0]["Sns"]["Type"] = "SubscriptionConfirmation".into();
        })),
        expect: vec![Expect::rejected(
            NotAnEvent,
            CONFIRM_MESSAGE,
            "You have chosen to subscribe to the topic.",
        )],
    });
    rows.push(Row {
        name: "record from another service in an SNS invocation",
        which: Which::Plain,
        input: Input::Json(invocation_with(
            &Batch::sns().raw(good.clone()).raw(good.clone()),
            |payload| payload["Records"][1]["EventSource"] = "aws:kinesis".into(),
        )),
        expect: vec![
            Expect::processed(),
            Expect::rejected(
                Transport,
                "the record's EventSource is `aws:kinesis`, not `aws:sns`: an SNS invocation holds only SNS records",
                good.clone(),
            ),
        ],
    });
    rows.push(Row {
        name: "lone surrogate in the Message of an SNS record",
        which: Which::Plain,
        input: Input::Json(invocation_with(&Batch::sns().raw("x"), |payload| {
            payload["Records"][0]["Sns"]["Message"] = "LONE_SURROGATE".into();
        })),
        expect: vec![Expect::rejected(
            Transport,
            "the SNS Message is not valid UTF-8/Unicode text",
            // No text can hold the body, so the letter has none.
            "",
        )],
    });

    // SQS records that are not what an SQS event source mapping sends.
    rows.push(Row {
        name: "lone surrogate in an SQS body",
        which: Which::Plain,
        input: Input::Json(invocation_with(&Batch::sqs().raw("x"), |payload| {
            payload["Records"][0]["body"] = "{\"note\":\"LONE_SURROGATE\"}".into();
        })),
        expect: vec![Expect::rejected(
            Transport,
            "the body is not valid UTF-8/Unicode text",
            "",
        )],
    });
    let wrapped = Batch::sns_via_sqs().raw("x").to_json()["Records"][0]["body"]
        .as_str()
        .expect("a string body")
        .to_owned();
    let wrapped_surrogate = wrapped.replace("\"Message\":\"x\"", "\"Message\":\"\\ud800\"");
    assert_ne!(
        wrapped, wrapped_surrogate,
        "the notification has a Message to replace"
    );
    rows.push(Row {
        name: "lone surrogate in the Message of an SNS notification in an SQS body",
        which: Which::Plain,
        input: Input::Batch(Batch::sqs().raw(wrapped_surrogate.clone())),
        expect: vec![Expect::rejected(
            Transport,
            "the Message of the SNS notification in the body is not valid UTF-8/Unicode text",
            wrapped_surrogate,
        )],
    });
    rows.push(Row {
        name: "record from another service in an SQS invocation",
        which: Which::Plain,
        input: Input::Json(invocation_with(
            &Batch::sqs().raw(good.clone()).raw(good.clone()),
            |payload| payload["Records"][1]["eventSource"] = "aws:kinesis".into(),
        )),
        expect: vec![
            Expect::processed(),
            Expect::rejected(
                Transport,
                "the record's eventSource is `aws:kinesis`, not `aws:sqs`: an SQS invocation holds only SQS records",
                good.clone(),
            ),
        ],
    });
    rows.push(Row {
        name: "SQS record without a body",
        which: Which::Plain,
        input: Input::Json(invocation_with(&Batch::sqs().raw("x"), |payload| {
            payload["Records"][0]
                .as_object_mut()
                .expect("object")
                .remove("body");
        })),
        expect: vec![Expect::rejected(
            Transport,
            "empty body: the message carries no envelope",
            "",
        )],
    });
    rows.push(Row {
        name: "SQS record without a messageId",
        which: Which::Plain,
        input: Input::Json(invocation_with(
            &Batch::sqs().raw(good.clone()).raw("x"),
            |payload| {
                payload["Records"][1]
                    .as_object_mut()
                    .expect("object")
                    .remove("messageId");
            },
        )),
        expect: vec![
            Expect::processed(),
            Expect::rejected(Transport, "the SQS record has no messageId", "x").unidentified(),
        ],
    });
    rows.push(Row {
        name: "SQS record with an empty messageId",
        which: Which::Plain,
        input: Input::Json(invocation_with(&Batch::sqs().raw("x"), |payload| {
            payload["Records"][0]["messageId"] = "".into();
        })),
        expect: vec![
            Expect::rejected(Transport, "the SQS record has no messageId", "x").unidentified(),
        ],
    });
    rows.push(Row {
        name: "SQS record that is not an object",
        which: Which::Plain,
        input: Input::Json(invocation_with(&Batch::sqs().raw("x"), |payload| {
            payload["Records"]
                .as_array_mut()
                .expect("array")
                .push(json!(42));
        })),
        expect: vec![
            Expect::rejected(
                Envelope,
                "body is not valid JSON (expected value at line 1 column 1)",
                "x",
            ),
            Expect::rejected(Transport, "the SQS record is not a JSON object", "").unidentified(),
        ],
    });

    // Unknown types for a handler that ignores them, and good records amid bad ones.
    let other_type = envelope_with(|e| e["type"] = "test.parcel.lost".into());
    rows.push(Row {
        name: "unknown type, ignored by a handler told to",
        which: Which::Ignoring,
        input: Input::Batch(Batch::sqs().raw(other_type.clone())),
        expect: vec![Expect::ignored()],
    });
    let ping = tidings::Envelope::new(SOURCE, Ping { note: "hi".into() });
    let second_good = ok_item(&unique("good"), 1);
    rows.push(Row {
        name: "good records amid bad ones",
        which: Which::Plain,
        input: Input::Batch(
            Batch::sqs()
                .raw("garbage")
                .raw(good.clone())
                .raw(other_type.clone())
                .event(&ping)
                .raw("")
                .event(&second_good),
        ),
        expect: vec![
            Expect::rejected(Envelope, "body is not valid JSON", "garbage"),
            Expect::processed(),
            Expect::rejected(
                UnknownType,
                "event type `test.parcel.lost` is not handled",
                other_type,
            ),
            Expect::processed(),
            Expect::rejected(Transport, "empty body", ""),
            Expect::processed(),
        ],
    });
    rows
}

/// Runs `input` through a fresh pipeline of `handler`, with a dead-letter queue if `dlq`.
async fn run<H: EventHandler<State = support::Ledger>>(
    handler: H,
    input: &Input,
    dlq: Option<Arc<MemoryDeadLetterQueue>>,
) -> BatchResult {
    let mut pipeline = support::pipeline(handler).0;
    if let Some(queue) = dlq {
        pipeline = pipeline.with_dead_letter_queue(queue);
    }
    match input {
        Input::Batch(batch) => invoke(&pipeline, batch).await,
        Input::Json(payload) => {
            let invocation =
                Invocation::from_json(payload).expect("the row's payload is an invocation");
            invoke_raw(&pipeline, invocation).await
        }
    }
}

/// What is wrong with `result` for `row`, one line per problem.
fn check(row: &Row, result: &BatchResult, letters: Option<&[DeadLetter]>) -> Vec<String> {
    let mode = if letters.is_some() {
        "with DLQ"
    } else {
        "without DLQ"
    };
    let mut problems = Vec::new();
    let mut problem = |text: String| problems.push(format!("{} ({mode}): {text}", row.name));
    if result.records.len() != row.expect.len() {
        problem(format!(
            "{} records, expected {}: {:?}",
            result.records.len(),
            row.expect.len(),
            result.outcomes()
        ));
        return problems;
    }
    let mut failures = Vec::new();
    let mut unidentified = 0;
    let mut expected_letters = Vec::new();
    for (index, (record, expect)) in result.records.iter().zip(&row.expect).enumerate() {
        let id = match expect.id {
            Id::Position => Some(format!("msg-{index}")),
            Id::Missing => None,
        };
        if record.message_id != id {
            problem(format!(
                "record {index}: message id {:?}, expected {id:?}",
                record.message_id
            ));
        }
        if record.outcome.name() != expect.outcome {
            problem(format!(
                "record {index}: {:?}, expected {}",
                record.outcome, expect.outcome
            ));
            continue;
        }
        let Outcome::Rejected {
            reason,
            dead_lettered,
        } = &record.outcome
        else {
            continue;
        };
        if Some(reason.code) != expect.code || !reason.message.contains(expect.message) {
            problem(format!(
                "record {index}: {reason:?}, expected {:?} with message containing {:?}",
                expect.code, expect.message
            ));
        }
        // Only a record with an id can be dead-lettered: its letter must name it.
        let lettered = letters.is_some() && id.is_some();
        if *dead_lettered != lettered {
            problem(format!(
                "record {index}: dead_lettered = {dead_lettered}, expected {lettered}"
            ));
        }
        if lettered {
            expected_letters.push((id.clone().unwrap_or_default(), expect));
        } else if let Some(id) = id {
            failures.push(id);
        } else {
            unidentified += 1;
        }
    }

    let response = result.sqs_response();
    if unidentified > 0 {
        match response {
            Err(error @ InvocationError::UnidentifiedRecords { count })
                if count == unidentified =>
            {
                let text = error.to_string();
                if !text
                    .contains("could not be identified (no messageId); the whole batch is retried")
                {
                    problem(format!("unidentified-record error says {text:?}"));
                }
            }
            other => problem(format!(
                "sqs_response() = {other:?}, expected {unidentified} unidentified"
            )),
        }
    } else {
        match response {
            Ok(response) => {
                let reported: Vec<String> = response
                    .batch_item_failures
                    .iter()
                    .map(|failure| failure.item_identifier.clone())
                    .collect();
                if reported != failures {
                    problem(format!(
                        "batchItemFailures {reported:?}, expected {failures:?}"
                    ));
                }
            }
            Err(error) => problem(format!("sqs_response() failed: {error}")),
        }
    }
    // No row is retried, so an SNS invocation acknowledges all of them.
    if let Err(error) = result.sns_result() {
        problem(format!("sns_result() = Err({error:?}), expected Ok"));
    }

    if let Some(letters) = letters {
        if letters.len() != expected_letters.len() {
            problem(format!(
                "{} dead letters, expected {}: {letters:?}",
                letters.len(),
                expected_letters.len()
            ));
        }
        for (letter, (id, expect)) in letters.iter().zip(&expected_letters) {
            if letter.message_id != *id
                || letter.body != expect.letter_body
                || Some(letter.reason.code) != expect.code
                || !letter.reason.message.contains(expect.message)
                || letter.handler != handler_name(row.which)
            {
                problem(format!(
                    "dead letter {:?} (body {:?}, reason {}, handler {}), expected {id:?} with body {:?}",
                    letter.message_id,
                    truncate(&letter.body),
                    letter.reason,
                    letter.handler,
                    truncate(&expect.letter_body),
                ));
            }
        }
    }
    problems
}

fn handler_name(which: Which) -> &'static str {
    match which {
        Which::Plain => <record_items as EventHandler>::OPTIONS.name,
        Which::Latest => <latest_items as EventHandler>::OPTIONS.name,
        Which::Ignoring => <ignore_others as EventHandler>::OPTIONS.name,
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(200).collect()
}

async fn run_row(row: &Row, dlq: Option<Arc<MemoryDeadLetterQueue>>) -> BatchResult {
    match row.which {
        Which::Plain => run(record_items, &row.input, dlq).await,
        Which::Latest => run(latest_items, &row.input, dlq).await,
        Which::Ignoring => run(ignore_others, &row.input, dlq).await,
    }
}

#[tokio::test]
async fn every_bad_input_has_its_documented_outcome_with_and_without_a_dead_letter_queue() {
    let rows = rows();
    assert!(rows.len() >= 25, "the table has {} rows", rows.len());
    let mut problems = Vec::new();
    for row in &rows {
        let result = run_row(row, None).await;
        problems.extend(check(row, &result, None));

        let queue = Arc::new(MemoryDeadLetterQueue::new());
        let result = run_row(row, Some(Arc::clone(&queue))).await;
        problems.extend(check(row, &result, Some(&queue.letters())));
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[tokio::test]
async fn an_empty_batch_has_no_records_and_an_empty_response() {
    let pipeline = support::pipeline(record_items).0;
    for result in [
        invoke(&pipeline, &Batch::sqs()).await,
        invoke(&pipeline, &Batch::sns()).await,
        {
            let invocation = Invocation::from_json(r#"{"Records": []}"#).expect("an empty batch");
            invoke_raw(&pipeline, invocation).await
        },
    ] {
        assert!(result.records.is_empty());
        let response = result.sqs_response().expect("nothing to identify");
        assert!(response.batch_item_failures.is_empty());
        assert_eq!(result.sns_result(), Ok(()));
    }
}

#[tokio::test]
async fn a_record_without_a_message_id_fails_the_whole_sqs_batch() {
    let good = ok_item(&unique("good"), 1).to_json().expect("serializes");
    let payload = invocation_with(&Batch::sqs().raw(good).raw("x").raw("y"), |payload| {
        for index in [1, 2] {
            payload["Records"][index]
                .as_object_mut()
                .expect("object")
                .remove("messageId");
        }
    });
    let invocation = Invocation::from_json(&payload).expect("an SQS invocation");
    let queue = Arc::new(MemoryDeadLetterQueue::new());
    let pipeline = support::pipeline(record_items)
        .0
        .with_dead_letter_queue(queue.clone());
    let result = invoke_raw(&pipeline, invocation).await;
    assert_eq!(result.records[0].outcome, Outcome::Processed);
    let error = result
        .sqs_response()
        .expect_err("two records cannot be named");
    assert_eq!(error, InvocationError::UnidentifiedRecords { count: 2 });
    assert_eq!(
        error.to_string(),
        "2 record(s) failed and could not be identified (no messageId); the whole batch is \
         retried so that nothing is lost"
    );
    // A dead letter must name its message, so these cannot be dead-lettered either.
    assert!(queue.letters().is_empty());
}

#[test]
fn payloads_that_are_not_sqs_or_sns_invocations_fail_as_a_whole() {
    let cases = [
        (
            r#"{"detail-type": "Scheduled Event"}"#,
            "the payload is neither an SQS nor an SNS invocation: it has no `Records` array",
        ),
        (
            r#"{"Records": [{"eventSource": "aws:kinesis", "kinesis": {}}]}"#,
            "the payload is neither an SQS nor an SNS invocation: its records come from `aws:kinesis`",
        ),
        (
            r#"{"Records": [{"s3": {}}]}"#,
            "the payload is neither an SQS nor an SNS invocation: no record names its source",
        ),
    ];
    for (payload, message) in cases {
        let error = Invocation::from_json(payload).expect_err(payload);
        assert!(
            error.to_string().contains(message),
            "{payload}: {error}, expected {message:?}"
        );
    }
}

/// A dead-letter queue that refuses everything, as a full or unreachable queue would.
struct RefusingQueue;

#[async_trait::async_trait]
impl DeadLetterQueue for RefusingQueue {
    async fn send(&self, letters: &[DeadLetter]) -> Vec<Result<(), String>> {
        letters
            .iter()
            .map(|_| Err("the queue is over its size quota".to_owned()))
            .collect()
    }
}

#[tokio::test]
async fn a_rejected_record_the_dead_letter_queue_refuses_is_retried() {
    let pipeline = support::pipeline(record_items)
        .0
        .with_dead_letter_queue(Arc::new(RefusingQueue));
    let result = invoke(&pipeline, &Batch::sqs().raw("garbage")).await;
    let Outcome::Retry(reason) = &result.records[0].outcome else {
        panic!("expected a retry, got {:?}", result.records[0].outcome);
    };
    assert_eq!(reason.code, ReasonCode::DeadLetterFailed);
    assert!(
        reason
            .message
            .starts_with("rejected (envelope: body is not valid JSON")
            && reason.message.ends_with(
                "but the dead-letter queue did not take it: the queue is over its size quota"
            ),
        "{}",
        reason.message
    );
    let failures = result
        .sqs_response()
        .expect("identified")
        .batch_item_failures;
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].item_identifier, "msg-0");
}
