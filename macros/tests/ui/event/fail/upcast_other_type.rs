use tidings_events::Event;

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "shop.order.cancelled", version = 1)]
pub struct OrderCancelled {
    pub order_id: String,
}

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "shop.order.placed", version = 2, upcast_from = crate::OrderCancelled)]
pub struct OrderPlaced {
    pub order_id: String,
}

impl From<OrderCancelled> for OrderPlaced {
    fn from(older: OrderCancelled) -> Self {
        Self {
            order_id: older.order_id,
        }
    }
}

fn main() {}
