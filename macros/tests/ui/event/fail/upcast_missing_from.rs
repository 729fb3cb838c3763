use tidings_events::Event;

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "shop.order.placed", version = 1)]
pub struct OrderPlacedV1 {
    pub order_id: String,
}

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "shop.order.placed", version = 2, upcast_from = self::OrderPlacedV1)]
pub struct OrderPlaced {
    pub order_id: String,
    pub currency: String,
}

fn main() {}
