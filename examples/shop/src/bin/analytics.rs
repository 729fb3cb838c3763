//! The analytics Lambda function: [`shop::analytics::analytics`] behind the tidings pipeline.

fn main() -> Result<(), tidings::lambda::Error> {
    tidings::lambda::run_with_state(shop::analytics::analytics, async {
        shop::Services::from_env()
    })
}
