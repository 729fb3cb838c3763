#![deny(warnings)]

use tidings_events::Event;

// The largest version a CloudEvents integer holds, i32::MAX.
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "shop.order.placed", version = 2147483647)]
pub struct OrderPlaced {
    pub order_id: String,
}

fn main() {
    assert_eq!(OrderPlaced::VERSION, 2_147_483_647);
    assert_eq!(OrderPlaced::versions(), [2_147_483_647]);
}
