//! From a Lambda invocation to its answer: [`Pipeline::invoke`](crate::Pipeline::invoke),
//! the one path every caller takes, and the process around it in a deployed function
//! ([`lambda`]: configuration, logging, the runtime loop).

pub mod config;
pub mod invoke;
pub mod lambda;
pub mod metrics;
pub mod telemetry;
