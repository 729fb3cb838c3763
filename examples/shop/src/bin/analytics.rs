//! The analytics Lambda function: [`shop::analytics::analytics`] behind the tidings pipeline.

fn main() -> Result<(), tidings::lambda::Error> {
    shop::install_from_env()?;
    tidings::lambda::run(shop::analytics::analytics)
}
