//! The in-memory store: the embedded default for local runs and tests.

/// Idempotency records and subject sequences held in process memory.
#[derive(Debug, Default)]
pub struct MemoryStore {}
