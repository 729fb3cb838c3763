use tidings_events::Event;

// The older type's attribute is wrong; the newer type that upcasts from it reports nothing
// more.
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "shop.order.placed", version = "1")]
pub struct OrderPlacedV1 {
    pub order_id: String,
}

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "shop.order.placed", version = 2, upcast_from = OrderPlacedV1)]
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
