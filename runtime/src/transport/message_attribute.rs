//! The message attributes tidings sets on every message it publishes, beside the envelope in
//! the body: few, because SQS and raw SNS delivery allow at most ten, and enough for SNS
//! subscription filter policies to route by type without reading bodies.

/// The event type (`String`), e.g. `shop.order.placed`: what filter policies match on.
pub const TYPE: &str = "type";
/// The schema version of the data (`Number`).
pub const DATA_VERSION: &str = "dataversion";
