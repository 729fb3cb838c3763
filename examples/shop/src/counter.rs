//! [`EventCounter`]: the analytics figures, events counted by type.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;

use crate::BackendError;

/// Counts events by type, and by type per subject (for figures such as "events per order").
#[async_trait]
pub trait EventCounter: Send + Sync {
    /// Counts one event of `event_type` about `subject`, if it has one.
    async fn count(&self, event_type: &str, subject: Option<&str>) -> Result<(), BackendError>;
}

/// The in-memory counter.
#[derive(Debug, Default)]
pub struct MemoryEventCounter {
    counts: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    by_type: HashMap<String, u64>,
    by_subject: HashMap<(String, String), u64>,
}

impl MemoryEventCounter {
    /// A counter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many events of `event_type` were counted.
    pub fn total(&self, event_type: &str) -> u64 {
        self.counts().by_type.get(event_type).copied().unwrap_or(0)
    }

    /// How many events of `event_type` about `subject` were counted.
    pub fn for_subject(&self, event_type: &str, subject: &str) -> u64 {
        self.counts()
            .by_subject
            .get(&(event_type.to_owned(), subject.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    fn counts(&self) -> MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl EventCounter for MemoryEventCounter {
    async fn count(&self, event_type: &str, subject: Option<&str>) -> Result<(), BackendError> {
        let mut counts = self.counts();
        *counts.by_type.entry(event_type.to_owned()).or_default() += 1;
        if let Some(subject) = subject {
            *counts
                .by_subject
                .entry((event_type.to_owned(), subject.to_owned()))
                .or_default() += 1;
        }
        Ok(())
    }
}
