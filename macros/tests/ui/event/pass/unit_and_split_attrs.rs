//! Options may be split over several #[event] attributes; a unit struct has no subject.
#![deny(warnings)]

use tidings_events::Event;

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema, Event)]
#[event(type = "ops.cache-flush_requested")]
#[event(version = 0x10)]
pub struct CacheFlushRequested;

fn main() {
    assert_eq!(CacheFlushRequested.subject(), None);
    assert_eq!(CacheFlushRequested::TYPE, "ops.cache-flush_requested");
    assert_eq!(CacheFlushRequested::VERSION, 16);
}
