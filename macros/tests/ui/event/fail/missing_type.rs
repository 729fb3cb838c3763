use tidings_events::Event;

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(version = 1)]
pub struct OrderPlaced {
    pub order_id: String,
}

fn main() {}
