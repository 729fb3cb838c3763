use tidings_events::Event;

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "shop.order.placed", version = 1, envelope_subject = true)]
pub struct OrderPlaced {
    pub order_id: String,
}

fn main() {}
