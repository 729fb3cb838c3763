//! placeholder
/// A Lambda invocation payload.
#[derive(Debug)]
pub struct Invocation;
