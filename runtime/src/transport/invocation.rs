//! [`Invocation`]: the payload of one Lambda invocation by SQS or SNS, each record kept as
//! raw JSON so that it can fail on its own.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::{Delivery, TransportError, decode_sns_record, json_string, sns, sqs};

/// The payload of an invocation by an SQS event source mapping or an SNS subscription.
///
/// Deserializing it (as `lambda_runtime` does with `LambdaEvent<Invocation>`) only reads the
/// `Records` array and which service sent it; the records themselves stay raw until
/// [`Invocation::deliveries`] decodes each on its own. So one bad record, even one that is
/// not valid Unicode, never fails the invocation: a typed `SqsEvent` would, before any record
/// could be reported in `batchItemFailures`.
#[derive(Debug, Clone)]
pub enum Invocation {
    /// Records of an SQS event source mapping (`"eventSource": "aws:sqs"`). An empty
    /// `Records` array is an empty SQS batch.
    Sqs(Vec<Box<RawValue>>),
    /// Records of SNS invoking the function (`"EventSource": "aws:sns"`).
    Sns(Vec<Box<RawValue>>),
}

impl Invocation {
    /// Reads an invocation payload from JSON, as the Lambda runtime would.
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// The raw records, in order.
    pub fn records(&self) -> &[Box<RawValue>] {
        match self {
            Self::Sqs(records) | Self::Sns(records) => records,
        }
    }

    /// The number of records.
    pub fn len(&self) -> usize {
        self.records().len()
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.records().is_empty()
    }

    /// Decodes every record: one result per record, in the order of `Records`.
    pub fn deliveries(&self) -> Vec<Result<Delivery, TransportError>> {
        match self {
            Self::Sqs(records) => sqs::decode_sqs_records(records),
            Self::Sns(records) => records.iter().map(|raw| decode_sns_record(raw)).collect(),
        }
    }
}

impl<'de> Deserialize<'de> for Invocation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(InvocationVisitor)
    }
}

struct InvocationVisitor;

impl<'de> Visitor<'de> for InvocationVisitor {
    type Value = Invocation;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an SQS or SNS invocation: a JSON object with a `Records` array")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Invocation, A::Error> {
        let mut records: Option<Vec<Box<RawValue>>> = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "Records" {
                if records.is_some() {
                    return Err(de::Error::duplicate_field("Records"));
                }
                records = Some(map.next_value()?);
            } else {
                // Other keys are not ours to judge: tools that replay events add their own.
                map.next_value::<IgnoredAny>()?;
            }
        }
        let records = records.ok_or_else(|| {
            de::Error::custom(
                "the payload is neither an SQS nor an SNS invocation: it has no `Records` array",
            )
        })?;
        classify(records).map_err(de::Error::custom)
    }
}

/// The keys that name a record's service: SQS spells it in camel case, SNS in Pascal case.
#[derive(serde::Deserialize)]
struct SourceProbe<'a> {
    #[serde(rename = "eventSource", borrow, default)]
    sqs: Option<&'a RawValue>,
    #[serde(rename = "EventSource", borrow, default)]
    sns: Option<&'a RawValue>,
}

/// Tells SQS from SNS by the first record that names its source, so that an unreadable
/// first record still leaves the batch to be decoded, and reported, record by record.
fn classify(records: Vec<Box<RawValue>>) -> Result<Invocation, String> {
    let mut source = None;
    for record in &records {
        let Ok(probe) = serde_json::from_str::<SourceProbe<'_>>(record.get()) else {
            continue;
        };
        let named = probe
            .sqs
            .or(probe.sns)
            .and_then(|raw| json_string(raw).ok());
        if let Some(named) = named {
            source = Some(named);
            break;
        }
    }
    match source.as_deref() {
        None if records.is_empty() => Ok(Invocation::Sqs(records)),
        Some(sqs::EVENT_SOURCE) => Ok(Invocation::Sqs(records)),
        Some(sns::EVENT_SOURCE) => Ok(Invocation::Sns(records)),
        Some(other) => Err(format!(
            "the payload is neither an SQS nor an SNS invocation: its records come from `{other}`"
        )),
        None => Err(
            "the payload is neither an SQS nor an SNS invocation: no record names its source (`eventSource` or `EventSource`)"
                .to_owned(),
        ),
    }
}
