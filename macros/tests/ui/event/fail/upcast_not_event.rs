use tidings_events::Event;

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct LegacyOrder {
    pub order_id: String,
}

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "shop.order.placed", version = 2, upcast_from = crate::LegacyOrder)]
pub struct OrderPlaced {
    pub order_id: String,
}

impl From<LegacyOrder> for OrderPlaced {
    fn from(older: LegacyOrder) -> Self {
        Self {
            order_id: older.order_id,
        }
    }
}

fn main() {}
