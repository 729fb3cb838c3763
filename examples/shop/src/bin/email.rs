//! The email Lambda function: [`shop::email::email`] behind the tidings pipeline.

fn main() -> Result<(), tidings::lambda::Error> {
    tidings::lambda::run_with_state(shop::email::email, async { shop::Services::from_env() })
}
