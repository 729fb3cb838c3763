//! The payments Lambda function: [`shop::payments::payments`] behind the tidings pipeline.

fn main() -> Result<(), tidings::lambda::Error> {
    shop::install_from_env()?;
    tidings::lambda::run(shop::payments::payments)
}
