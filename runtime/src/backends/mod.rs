//! What the pipeline talks to outside the process: the idempotency and ordering stores, the
//! dead-letter queues and the publisher, and the AWS SDK configuration they share.

#[cfg(any(feature = "dynamodb", feature = "publisher"))]
pub mod aws;
pub mod dead_letter;
#[cfg(feature = "publisher")]
pub mod publish;
pub mod store;
