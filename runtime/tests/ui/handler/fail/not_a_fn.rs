#[tidings::event_handler]
pub struct ReserveStock;

fn main() {}
