//! The command line of `shop-demo`: `shop-demo [--seed N] [--endpoint URL]`.
//!
//! Without `--endpoint` everything runs in this process ([`super::run_embedded`]); with it,
//! against a local AWS-API server (needs the `aws` feature).

use std::process::ExitCode;
use std::time::Duration;

use super::{DemoError, Options, ProgressMode, Report};

/// The help text.
pub const USAGE: &str = "\
usage: shop-demo [--seed N] [--endpoint URL] [--pace MS] [--progress auto|live|plain|off]

  --seed N         the scenario and the transport's mischief (default 7); a seed always
                   gives the same embedded run
  --endpoint URL   run against a local AWS-API server at URL (http on loopback) through real
                   SNS, SQS and DynamoDB calls; needs the shop built with --features aws
  --pace MS        embedded mode: real milliseconds per 100 ms of the demo's clock
                   (default 25; 0 runs flat out)
  --progress MODE  how progress is shown on standard error (default auto: redrawn in place
                   on a terminal, a block per second otherwise)";

/// The command line, read.
#[derive(Debug, PartialEq, Eq)]
pub struct Args {
    /// How the demo runs.
    pub options: Options,
    /// The local AWS-API server to run against, if any.
    pub endpoint: Option<String>,
}

/// Reads the arguments (without the program name); `None` when help was asked for.
pub fn parse(args: &[String]) -> Result<Option<Args>, String> {
    let mut options = Options::default();
    let mut endpoint = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--seed" => {
                let seed = value("--seed")?;
                options.seed = seed
                    .parse()
                    .map_err(|_| format!("--seed takes a whole number, not `{seed}`"))?;
            }
            "--endpoint" => endpoint = Some(value("--endpoint")?),
            "--pace" => {
                let pace = value("--pace")?;
                let ms: u64 = pace
                    .parse()
                    .map_err(|_| format!("--pace takes milliseconds, not `{pace}`"))?;
                options.pace = Duration::from_millis(ms);
            }
            "--progress" => {
                options.progress = match value("--progress")?.as_str() {
                    "auto" => ProgressMode::Auto,
                    "live" => ProgressMode::Live,
                    "plain" => ProgressMode::Plain,
                    "off" => ProgressMode::Off,
                    other => {
                        return Err(format!(
                            "--progress is one of auto, live, plain, off; not `{other}`"
                        ));
                    }
                }
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(Some(Args { options, endpoint }))
}

/// Runs the demo as the command line `args` (without the program name) asks: the intro and
/// the report on standard output, progress and errors on standard error.
pub async fn main(args: &[String]) -> ExitCode {
    let args = match parse(args) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args).await {
        Ok(report) => {
            print!("\n{report}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<Report, DemoError> {
    match &args.endpoint {
        None => {
            print!("{}", super::intro("embedded", args.options.seed)?);
            super::run_embedded(&shop::MemoryServices::demo(), &args.options).await
        }
        Some(endpoint) => run_endpoint(endpoint, &args.options).await,
    }
}

#[cfg(feature = "aws")]
async fn run_endpoint(endpoint: &str, options: &Options) -> Result<Report, DemoError> {
    print!(
        "{}",
        super::intro(&format!("local AWS-API server at {endpoint}"), options.seed)?
    );
    super::run_endpoint(endpoint, &shop::MemoryServices::demo(), options).await
}

#[cfg(not(feature = "aws"))]
async fn run_endpoint(_endpoint: &str, _options: &Options) -> Result<Report, DemoError> {
    Err(DemoError::Endpoint(
        "--endpoint needs the shop built with the `aws` feature: \
         cargo run -p shop-demo --features aws -- --endpoint URL"
            .to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn options_are_read() {
        let parsed = parse(&args(&[
            "--seed",
            "42",
            "--endpoint",
            "http://127.0.0.1:5000",
            "--pace",
            "0",
            "--progress",
            "off",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            parsed,
            Args {
                options: Options {
                    seed: 42,
                    progress: ProgressMode::Off,
                    pace: Duration::ZERO,
                },
                endpoint: Some("http://127.0.0.1:5000".into()),
            }
        );
        assert_eq!(
            parse(&[]).unwrap().unwrap(),
            Args {
                options: Options::default(),
                endpoint: None
            }
        );
        assert_eq!(parse(&args(&["--help"])).unwrap(), None);
    }

    #[test]
    fn bad_options_say_what_is_wrong() {
        assert_eq!(
            parse(&args(&["--seed", "x"])).unwrap_err(),
            "--seed takes a whole number, not `x`"
        );
        assert_eq!(
            parse(&args(&["--endpoint"])).unwrap_err(),
            "--endpoint needs a value"
        );
        assert_eq!(
            parse(&args(&["--fast"])).unwrap_err(),
            "unknown argument `--fast`"
        );
    }
}
