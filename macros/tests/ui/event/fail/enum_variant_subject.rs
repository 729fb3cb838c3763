use tidings_events::Event;

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "shop.order.changed", version = 1)]
pub enum OrderChanged {
    Placed {
        #[event(subject)]
        order_id: String,
    },
    Cancelled {
        order_id: String,
    },
}

fn main() {}
