//! The shop's inventory Lambda function, as `examples/shop/src/bin/inventory.rs` writes it: a
//! benchmark can only spawn binaries of its own package, so the cold-start benchmark times
//! the shop's start-up (its handler, its `Services` and, with `TIDINGS_STORE=dynamodb`, a
//! dead-letter queue and `SHOP_EVENTS_TOPIC_ARN`, the AWS clients it builds at start; its SNS
//! publisher is built on first publish) through this copy of its `main`.

fn main() -> Result<(), tidings::lambda::Error> {
    tidings::lambda::run_with_state(shop::inventory::inventory, async {
        shop::Services::from_env()
    })
}
