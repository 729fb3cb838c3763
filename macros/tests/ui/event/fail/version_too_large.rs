use tidings_events::Event;

// One more than u32::MAX.
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "shop.order.placed", version = 4294967296)]
pub struct OrderPlaced {
    pub order_id: String,
}

fn main() {}
