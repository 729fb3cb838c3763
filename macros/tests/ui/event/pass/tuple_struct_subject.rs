#![deny(warnings)]

use tidings_events::Event;

/// A stock level changed for one SKU.
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "shop.stock.changed", version = 1)]
pub struct StockChanged(pub i32, #[event(subject)] pub String);

fn main() {
    let event = StockChanged(-3, "sku-7".to_owned());
    assert_eq!(event.subject(), Some("sku-7"));
}
