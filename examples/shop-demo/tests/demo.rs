//! The embedded demo end to end: the whole shop in one process, on a fixed seed.

mod demo_support;

use std::process::Command;
use std::time::Duration;

use shop::MemoryServices;
use shop_demo::{Options, ProgressMode, run_embedded};

const SEED: u64 = 7;

fn options(seed: u64) -> Options {
    Options {
        seed,
        progress: ProgressMode::Off,
        pace: Duration::ZERO,
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_embedded_demo_handles_each_event_once_and_dead_letters_only_the_poison() {
    let shop = MemoryServices::demo();
    let first = run_embedded(&shop, &options(SEED))
        .await
        .expect("the demo runs to its end");
    demo_support::check_run(&first, &shop);

    // The same seed runs the same again, in the same process: same API answers, transport
    // and outcomes (only the order ids, made by the API, are new).
    let shop = MemoryServices::demo();
    let second = run_embedded(&shop, &options(SEED))
        .await
        .expect("the demo runs to its end a second time");
    demo_support::check_run(&second, &shop);
    assert_eq!(second.consumers, first.consumers);
    assert_eq!(second.transport, first.transport);
    assert_eq!(second.api.refused, first.api.refused);
    assert_eq!(second.letters, first.letters);
    assert_eq!(second.clock, first.clock);
}

#[test]
fn the_binary_prints_the_same_report_for_the_same_seed() {
    let run = || {
        let output = Command::new(env!("CARGO_BIN_EXE_shop-demo"))
            .args(["--seed", "3", "--pace", "0", "--progress", "plain"])
            .output()
            .expect("shop-demo runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        (
            String::from_utf8(output.stdout).expect("UTF-8 report"),
            String::from_utf8(output.stderr).expect("UTF-8 progress"),
        )
    };
    let (report, progress) = run();
    assert!(
        report.starts_with("shop demo: embedded, seed 3\n"),
        "{report}"
    );
    for queue in [
        "shop-inventory",
        "shop-email",
        "shop-analytics",
        "shop-payments.fifo",
    ] {
        assert!(report.contains(&format!("-> {queue}")), "{report}");
    }
    assert!(report.contains("every queue drained"), "{report}");
    for name in ["inventory", "email", "analytics", "payments"] {
        assert!(
            report.lines().any(|l| l.starts_with(&format!("{name} "))),
            "no row for {name}:\n{report}"
        );
        assert!(
            progress
                .lines()
                .any(|l| l.starts_with(&format!("  {name} "))),
            "no progress for {name}:\n{progress}"
        );
    }
    assert!(!progress.contains('\x1b'), "plain progress has no escapes");
    assert_eq!(run(), (report, progress));
}

#[test]
fn the_binary_refuses_an_endpoint_that_is_not_local() {
    let output = Command::new(env!("CARGO_BIN_EXE_shop-demo"))
        .args(["--endpoint", "https://sqs.eu-west-1.amazonaws.com"])
        .output()
        .expect("shop-demo runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("needs the shop built with the `aws` feature")
            || stderr.contains("is not a local server"),
        "{stderr}"
    );
}
