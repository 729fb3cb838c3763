use tidings_events::{Envelope, Event};

// The attribute is wrong; the code that uses the type as an event reports nothing more.
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "shop.order.placed", version = "2")]
pub struct OrderPlaced {
    pub order_id: String,
}

fn versions_of<E: Event>() -> Vec<u32> {
    E::versions()
}

fn main() {
    let placed = Envelope::new(
        "orders",
        OrderPlaced {
            order_id: "order-1".into(),
        },
    );
    let _ = placed.to_json();
    let _ = versions_of::<OrderPlaced>();
}
