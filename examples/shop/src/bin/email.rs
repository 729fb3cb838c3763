//! The email Lambda function: [`shop::email::email`] behind the tidings pipeline.

fn main() -> Result<(), tidings::lambda::Error> {
    shop::install_from_env()?;
    tidings::lambda::run(shop::email::email)
}
