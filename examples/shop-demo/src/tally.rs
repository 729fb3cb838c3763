//! [`Tally`]: what one consumer did with the records it received.

use std::time::Duration;

use tidings::{BatchResult, Outcome, RecordResult};

/// The outcomes of every record one consumer received, and the oldest event it saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Records received (every delivery, copies and redeliveries included).
    pub received: usize,
    /// Records whose handler ran and succeeded.
    pub processed: usize,
    /// Copies of events already processed: acknowledged, not run again.
    pub duplicates: usize,
    /// Events older than the newest processed for their subject: acknowledged, not run.
    pub stale: usize,
    /// Types the handler does not take and was told to ignore.
    pub ignored: usize,
    /// Records handed back to the queue to be delivered again.
    pub retried: usize,
    /// Records the handler rejected and tidings sent to the dead-letter queue at once.
    pub dead_lettered: usize,
    /// Records the queue moved to its dead-letter queue after too many receives.
    pub redriven: usize,
    /// The age of the oldest event handled, from when it happened to when it was handled:
    /// the consumer's lag.
    pub oldest_age: Option<Duration>,
}

impl Tally {
    /// Counts every record of `result`; `age` tells how old a record's event was.
    pub fn add(&mut self, result: &BatchResult, age: impl Fn(&RecordResult) -> Option<Duration>) {
        for record in &result.records {
            self.received += 1;
            match &record.outcome {
                Outcome::Processed => self.processed += 1,
                Outcome::Duplicate => self.duplicates += 1,
                Outcome::Stale { .. } => self.stale += 1,
                Outcome::Ignored => self.ignored += 1,
                Outcome::Rejected {
                    dead_lettered: true,
                    ..
                } => self.dead_lettered += 1,
                // A rejection that reached no dead-letter queue is reported to SQS as a
                // failure, like a retry: the queue delivers it again until its redrive.
                Outcome::Retry(_)
                | Outcome::Rejected {
                    dead_lettered: false,
                    ..
                } => self.retried += 1,
            }
            if let Some(age) = age(record) {
                self.oldest_age = Some(self.oldest_age.map_or(age, |oldest| oldest.max(age)));
            }
        }
    }

    /// Records that left the queue for a dead-letter queue, either way.
    pub fn all_dead_lettered(&self) -> usize {
        self.dead_lettered + self.redriven
    }

    /// Records finished for good (every outcome but a retry).
    pub fn finished(&self) -> usize {
        self.received - self.retried
    }
}

#[cfg(test)]
mod tests {
    use tidings::ReasonCode;

    use super::*;

    fn record(outcome: Outcome, age_ms: u64) -> RecordResult {
        RecordResult {
            message_id: Some("m".into()),
            event_id: None,
            event_type: None,
            subject: None,
            outcome,
            age: Some(Duration::from_millis(age_ms)),
        }
    }

    #[test]
    fn every_outcome_lands_in_its_column() {
        let result = BatchResult {
            records: vec![
                record(Outcome::Processed, 10),
                record(Outcome::Duplicate, 20),
                record(
                    Outcome::Stale {
                        sequence: 1,
                        newest: 2,
                    },
                    300,
                ),
                record(Outcome::Ignored, 5),
                record(Outcome::retry(ReasonCode::Store, "throttled"), 1),
                record(
                    Outcome::Rejected {
                        reason: tidings::Reason::new(ReasonCode::UnsupportedVersion, "v3"),
                        dead_lettered: true,
                    },
                    2,
                ),
                record(Outcome::rejected(ReasonCode::Envelope, "bad"), 3),
            ],
        };
        let mut tally = Tally::default();
        tally.add(&result, |r| r.age);
        tally.redriven = 2;
        assert_eq!(
            tally,
            Tally {
                received: 7,
                processed: 1,
                duplicates: 1,
                stale: 1,
                ignored: 1,
                retried: 2,
                dead_lettered: 1,
                redriven: 2,
                oldest_age: Some(Duration::from_millis(300)),
            }
        );
        assert_eq!(tally.all_dead_lettered(), 3);
        assert_eq!(tally.finished(), 5);
    }
}
