//! The local demo of the whole shop: `shop-demo [--seed N] [--endpoint URL]` (see
//! [`shop_demo`]; `--help` lists the options).

use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    shop_demo::cli::main(&args).await
}
