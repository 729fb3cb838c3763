#![deny(warnings)]

use tidings_events::Event;

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(
    type = "shop.order.placed",
    version = 2,
    schema_base = "https://schemas.example.com/shop"
)]
pub struct OrderPlaced {
    #[event(subject)]
    pub order_id: String,
}

fn main() {
    assert_eq!(
        OrderPlaced::SCHEMA_ID,
        "https://schemas.example.com/shop/shop.order.placed/v2.schema.json"
    );
}
