//! What the envelope costs: encoding, full decoding and header-only decoding of a realistic
//! ~1 KiB order event, against a baseline measured in the same run: plain serde_json on a
//! struct with the same attributes as plain fields, which is what a consumer without tidings
//! would write by hand.
//!
//! Run with `cargo bench -p tidings-events --bench envelope`. After criterion's own report,
//! a summary prints each figure and its ratio to the matching baseline. The figures are
//! computed from the very batches criterion timed in this run, so the two reports agree.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion};
use schemars::JsonSchema;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use tidings_events::{Attributes, Envelope, Event};

/// Samples criterion takes per benchmark. Set on the group, so it also fixes how many of the
/// recorded batches (the last ones; warm-up batches come first) are measurement samples.
const SAMPLE_SIZE: usize = 60;

/// A line of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
struct OrderLine {
    sku: String,
    name: String,
    quantity: u32,
    unit_price_cents: i64,
}

/// Where an order goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
struct Address {
    name: String,
    street: String,
    city: String,
    postcode: String,
    country: String,
}

/// A customer placed an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Event)]
#[event(type = "shop.order.placed", version = 2)]
struct OrderPlaced {
    #[event(subject)]
    order_id: String,
    customer_id: String,
    currency: String,
    lines: Vec<OrderLine>,
    shipping_address: Address,
    shipping_cents: i64,
    total_cents: i64,
    notes: Option<String>,
}

/// The envelope as a hand-written consumer would model it: the attributes as plain fields.
/// `dataversion` is a JSON number on the wire, so it is the one field that is not a String.
#[derive(Debug, Serialize, Deserialize)]
struct PlainEnvelope<D> {
    specversion: String,
    id: String,
    source: String,
    #[serde(rename = "type")]
    event_type: String,
    time: String,
    subject: String,
    datacontenttype: String,
    dataschema: String,
    dataversion: u32,
    sequence: String,
    correlationid: String,
    causationid: String,
    traceparent: String,
    data: D,
}

fn line(sku: &str, name: &str, quantity: u32, unit_price_cents: i64) -> OrderLine {
    OrderLine {
        sku: sku.into(),
        name: name.into(),
        quantity,
        unit_price_cents,
    }
}

fn order() -> OrderPlaced {
    let lines = vec![
        line(
            "MUG-CER-350-BLU",
            "Ceramic mug, 350 ml, harbour blue",
            2,
            1_450,
        ),
        line(
            "TEA-ERL-250G",
            "Earl Grey loose leaf tea, 250 g tin",
            1,
            895,
        ),
        line("KTL-STL-17L", "Stainless steel kettle, 1.7 l", 1, 4_999),
    ];
    let goods: i64 = lines
        .iter()
        .map(|l| l.unit_price_cents * i64::from(l.quantity))
        .sum();
    OrderPlaced {
        order_id: "order-2026-000042".into(),
        customer_id: "cust-7f3a9c21".into(),
        currency: "EUR".into(),
        lines,
        shipping_address: Address {
            name: "Ada Lovelace".into(),
            street: "12 Harbour Street, Flat 3".into(),
            city: "Edinburgh".into(),
            postcode: "EH6 6LP".into(),
            country: "GB".into(),
        },
        shipping_cents: 495,
        total_cents: goods + 495,
        notes: Some("Leave it with the neighbour at number 14.".into()),
    }
}

fn envelope() -> Envelope<OrderPlaced> {
    let mut envelope = Envelope::new("https://shop.example.com/orders", order())
        .with_sequence(7)
        .with_correlation_id("0193f4a2-6b0d-7a29-8c1d-4e5f6a7b8c9d");
    envelope.attributes.id = "0193f4a2-7c1e-7b3a-9d2e-5f6a7b8c9d0e".into();
    envelope.attributes.time = Some(Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap());
    envelope.attributes.causation_id = Some("0193f4a2-5a9c-7918-8b0c-3d4e5f6a7b8c".into());
    envelope.attributes.traceparent =
        Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into());
    envelope
}

/// Every batch criterion timed, per benchmark, in the order it timed them.
static BATCHES: Mutex<BTreeMap<&'static str, Vec<(u64, Duration)>>> = Mutex::new(BTreeMap::new());

/// Benchmarks `routine`, recording each batch criterion times so the summary can be computed
/// from the same measurements criterion reports.
fn bench<O>(group: &mut BenchmarkGroup<'_, WallTime>, name: &'static str, routine: impl Fn() -> O) {
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(routine());
            }
            let elapsed = start.elapsed();
            BATCHES
                .lock()
                .unwrap()
                .entry(name)
                .or_default()
                .push((iters, elapsed));
            elapsed
        })
    });
}

const ENCODE: &str = "encode/tidings to_json";
const ENCODE_BASELINE: &str = "encode/serde baseline";
const DECODE: &str = "decode/tidings Envelope::decode";
const DECODE_BASELINE: &str = "decode/serde baseline";
const HEADER: &str = "header-only/tidings Attributes::decode";
const HEADER_BASELINE: &str = "header-only/serde baseline";

fn benchmarks(criterion: &mut Criterion, json: &str) {
    let envelope = envelope();
    let plain: PlainEnvelope<OrderPlaced> = serde_json::from_str(json).unwrap();

    let mut group = criterion.benchmark_group("envelope");
    group
        .sample_size(SAMPLE_SIZE)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    bench(&mut group, ENCODE, || {
        black_box(&envelope).to_json().unwrap()
    });
    bench(&mut group, ENCODE_BASELINE, || {
        serde_json::to_string(black_box(&plain)).unwrap()
    });
    bench(&mut group, DECODE, || {
        Envelope::<OrderPlaced>::decode(black_box(json)).unwrap()
    });
    bench(&mut group, DECODE_BASELINE, || {
        serde_json::from_str::<PlainEnvelope<OrderPlaced>>(black_box(json)).unwrap()
    });
    bench(&mut group, HEADER, || {
        Attributes::decode(black_box(json)).unwrap()
    });
    bench(&mut group, HEADER_BASELINE, || {
        serde_json::from_str::<PlainEnvelope<IgnoredAny>>(black_box(json)).unwrap()
    });
    group.finish();
}

/// Time per call of one benchmark: the least-squares slope through the origin of elapsed time
/// against iterations over its measurement batches (criterion's own estimator for linear
/// sampling). `None` when the benchmark did not run or ran too little to be a figure (as
/// under `cargo test --benches`).
fn per_call(name: &str) -> Option<Duration> {
    let batches = BATCHES.lock().unwrap();
    let all = batches.get(name)?;
    let measured = &all[all.len().saturating_sub(SAMPLE_SIZE)..];
    let iterations: u64 = measured.iter().map(|(n, _)| n).sum();
    if iterations < 1_000 {
        return None;
    }
    let (mut xy, mut xx) = (0.0, 0.0);
    for (n, elapsed) in measured {
        let n = *n as f64;
        xy += n * elapsed.as_secs_f64();
        xx += n * n;
    }
    Some(Duration::from_secs_f64(xy / xx))
}

fn format_time(time: Duration) -> String {
    let nanos = time.as_secs_f64() * 1e9;
    if nanos < 1_000.0 {
        format!("{nanos:.0} ns")
    } else if nanos < 1_000_000.0 {
        format!("{:.2} µs", nanos / 1e3)
    } else {
        format!("{:.2} ms", nanos / 1e6)
    }
}

fn print_summary(body_bytes: usize) {
    let figure = |label: &str, name: &str, against: &[(&str, &str)]| {
        let Some(time) = per_call(name) else {
            println!("  {label:<22} not measured in this run");
            return;
        };
        let ratios: Vec<String> = against
            .iter()
            .filter_map(|(what, other)| {
                let other = per_call(other)?;
                Some(format!(
                    "{:.2}x {what}",
                    time.as_secs_f64() / other.as_secs_f64()
                ))
            })
            .collect();
        let throughput = body_bytes as f64 / time.as_secs_f64() / (1024.0 * 1024.0);
        let line = format!(
            "  {label:<22} {:>9}  {throughput:>5.0} MiB/s  {}",
            format_time(time),
            ratios.join(", ")
        );
        println!("{}", line.trim_end());
    };
    println!();
    println!(
        "Envelope summary: a {body_bytes}-byte order event; time per call from the batches \
         criterion timed above"
    );
    figure("encode", ENCODE, &[("serde baseline", ENCODE_BASELINE)]);
    figure(
        "full decode",
        DECODE,
        &[("serde baseline", DECODE_BASELINE)],
    );
    figure(
        "header-only decode",
        HEADER,
        &[
            ("full decode", DECODE),
            ("serde header-only baseline", HEADER_BASELINE),
        ],
    );
    figure("baseline encode", ENCODE_BASELINE, &[]);
    figure("baseline decode", DECODE_BASELINE, &[]);
    figure(
        "baseline header-only",
        HEADER_BASELINE,
        &[("serde baseline decode", DECODE_BASELINE)],
    );
}

fn main() {
    let json = envelope().to_json().expect("the event serializes");
    // The baseline must do the same work: it reads the same bytes and writes them back exactly.
    let plain: PlainEnvelope<OrderPlaced> =
        serde_json::from_str(&json).expect("the baseline reads the envelope");
    assert_eq!(serde_json::to_string(&plain).unwrap(), json);
    assert_eq!(
        Envelope::<OrderPlaced>::decode(&json).unwrap().data,
        plain.data
    );

    let mut criterion = Criterion::default().configure_from_args();
    benchmarks(&mut criterion, &json);
    criterion.final_summary();
    print_summary(json.len());
}
