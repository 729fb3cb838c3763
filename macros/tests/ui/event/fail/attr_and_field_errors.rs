use tidings_events::Event;

// A mistake on the type and one on a field are both reported by one build.
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "shop.order.placed", version = 0)]
pub struct OrderPlaced {
    #[event(subject)]
    pub order_id: String,
    #[event(subject)]
    pub customer_id: String,
}

fn main() {}
