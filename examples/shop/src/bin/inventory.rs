//! The inventory Lambda function: [`shop::inventory::inventory`] behind the tidings pipeline.

fn main() -> Result<(), tidings::lambda::Error> {
    shop::install_from_env()?;
    tidings::lambda::run(shop::inventory::inventory)
}
