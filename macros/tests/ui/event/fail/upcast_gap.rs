use tidings_events::Event;

// Version 3 upcasting straight from version 1 leaves version 2 data with no way to decode.
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "shop.order.placed", version = 1)]
pub struct OrderPlacedV1 {
    pub order_id: String,
}

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "shop.order.placed", version = 3, upcast_from = OrderPlacedV1)]
pub struct OrderPlaced {
    pub order_id: String,
}

impl From<OrderPlacedV1> for OrderPlaced {
    fn from(older: OrderPlacedV1) -> Self {
        Self {
            order_id: older.order_id,
        }
    }
}

fn main() {}
