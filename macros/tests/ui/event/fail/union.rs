use tidings_events::Event;

#[derive(Event)]
#[event(type = "shop.order.placed", version = 1)]
pub union OrderPlaced {
    pub id: u64,
    pub total_cents: i64,
}

fn main() {}
