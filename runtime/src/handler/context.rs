//! [`Context`]: what a handler knows about the invocation and the record it is handling.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The invocation and delivery a record came with.
#[derive(Debug, Clone)]
pub struct Context {
    pub(crate) handler: &'static str,
    /// Shared by the records of an invocation.
    pub(crate) request_id: Arc<str>,
    pub(crate) deadline: SystemTime,
    pub(crate) message_id: String,
    pub(crate) receive_count: u32,
}

impl Context {
    /// A context for calling a handler directly, e.g. from a unit test; `tidings::testing`
    /// builds these for you.
    pub fn new(handler: &'static str, request_id: impl Into<String>, deadline: SystemTime) -> Self {
        Self {
            handler,
            request_id: Arc::from(request_id.into()),
            deadline,
            message_id: String::new(),
            receive_count: 1,
        }
    }

    /// The handler's name.
    pub fn handler(&self) -> &'static str {
        self.handler
    }

    /// The Lambda request id of the invocation.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// The SQS message id or SNS message id of the record.
    pub fn message_id(&self) -> &str {
        &self.message_id
    }

    /// How many times the record has been received, this time included (1 for SNS).
    pub fn receive_count(&self) -> u32 {
        self.receive_count
    }

    /// When Lambda stops the invocation.
    pub fn deadline(&self) -> SystemTime {
        self.deadline
    }

    /// The time left before the deadline.
    pub fn remaining(&self) -> Duration {
        self.deadline
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO)
    }
}
