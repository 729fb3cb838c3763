//! The inventory Lambda function: [`shop::inventory::inventory`] behind the tidings pipeline.

fn main() -> Result<(), tidings::lambda::Error> {
    tidings::lambda::run_with_state(shop::inventory::inventory, async {
        shop::Services::from_env()
    })
}
