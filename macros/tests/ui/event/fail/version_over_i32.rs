use tidings_events::Event;

// One more than i32::MAX: it fits a u32, but not the CloudEvents integer `dataversion` is.
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "shop.order.placed", version = 2147483648)]
pub struct OrderPlaced {
    pub order_id: String,
}

fn main() {}
