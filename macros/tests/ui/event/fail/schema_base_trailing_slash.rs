use tidings_events::Event;

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(
    type = "shop.order.placed",
    version = 1,
    schema_base = "https://schemas.example.com/shop/"
)]
pub struct OrderPlaced {
    pub order_id: String,
}

fn main() {}
