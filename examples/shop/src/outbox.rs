//! [`Outbox`]: where email to customers goes.

use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;

use crate::BackendError;

/// An email to a customer about an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The customer it goes to; the mail service knows their address, so the shop's events
    /// need not carry it.
    pub customer_id: String,
    /// The order it is about.
    pub order_id: String,
    /// The subject line.
    pub subject: String,
    /// The text.
    pub body: String,
}

/// Sends email.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Sends `email`. An error means it was not sent and may be tried again.
    async fn send(&self, email: Email) -> Result<(), BackendError>;
}

/// An outbox that records what it is asked to send, for tests and the local demo.
#[derive(Debug, Default)]
pub struct MemoryOutbox {
    sent: Mutex<Vec<Email>>,
}

impl MemoryOutbox {
    /// An empty outbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every email sent, in order.
    pub fn sent(&self) -> Vec<Email> {
        self.emails().clone()
    }

    /// The email sent about `order_id`, in order.
    pub fn sent_for(&self, order_id: &str) -> Vec<Email> {
        self.emails()
            .iter()
            .filter(|email| email.order_id == order_id)
            .cloned()
            .collect()
    }

    fn emails(&self) -> MutexGuard<'_, Vec<Email>> {
        self.sent.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl Outbox for MemoryOutbox {
    async fn send(&self, email: Email) -> Result<(), BackendError> {
        self.emails().push(email);
        Ok(())
    }
}
