use tidings_events::Event;

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "shop.order.placed", version = 2)]
pub struct OrderPlacedV2 {
    pub order_id: String,
}

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "shop.order.placed", version = 2, upcast_from = OrderPlacedV2)]
pub struct OrderPlaced {
    pub order_id: String,
}

impl From<OrderPlacedV2> for OrderPlaced {
    fn from(older: OrderPlacedV2) -> Self {
        Self {
            order_id: older.order_id,
        }
    }
}

fn main() {}
