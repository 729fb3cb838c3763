//! The payments Lambda function: [`shop::payments::payments`] behind the tidings pipeline.

fn main() -> Result<(), tidings::lambda::Error> {
    tidings::lambda::run_with_state(shop::payments::payments, async {
        shop::Services::from_env()
    })
}
