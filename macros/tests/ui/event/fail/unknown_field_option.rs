use tidings_events::Event;

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "shop.order.placed", version = 1)]
pub struct OrderPlaced {
    #[event(sequence)]
    pub revision: u64,
}

fn main() {}
