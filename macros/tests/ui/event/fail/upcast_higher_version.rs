use tidings_events::Event;

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "shop.order.placed", version = 3)]
pub struct OrderPlacedV3 {
    pub order_id: String,
}

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "shop.order.placed", version = 2, upcast_from = OrderPlacedV3)]
pub struct OrderPlaced {
    pub order_id: String,
}

impl From<OrderPlacedV3> for OrderPlaced {
    fn from(older: OrderPlacedV3) -> Self {
        Self {
            order_id: older.order_id,
        }
    }
}

fn main() {}
