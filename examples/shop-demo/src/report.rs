//! [`Report`]: what the demo shows at the end — the API's answers, what the transport did,
//! a row per consumer, the dead letters, and what the numbers mean in plain words.

use std::fmt;
use std::time::Duration;

use super::api::ApiTally;
use super::tally::Tally;

/// One consumer's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerReport {
    /// The handler, e.g. `inventory`.
    pub name: String,
    /// Its queue.
    pub queue: String,
    /// What it did.
    pub tally: Tally,
    /// Messages still in its queue at the end.
    pub left: usize,
}

/// What the transport did to the events on their way to the queues.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransportStats {
    /// Events published to the topics.
    pub published: usize,
    /// Messages that reached a queue (copies included).
    pub deliveries: usize,
    /// Extra copies the transport delivered.
    pub duplicates: usize,
    /// Copies a FIFO topic dropped by their deduplication id.
    pub fifo_dropped: usize,
    /// Placements delivered after their order's cancellation.
    pub late: usize,
    /// Messages no consumer can read, sent to a queue.
    pub poison: usize,
    /// Times an idempotency store throttled.
    pub throttles: usize,
}

/// A record in a dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterSummary {
    /// The consumer whose queue it came from.
    pub consumer: String,
    /// The reason code, e.g. `unsupported-version`.
    pub code: String,
    /// The reason, for people.
    pub reason: String,
}

/// The end of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Where it ran, e.g. `embedded, seed 7`.
    pub mode: String,
    /// How long the run took on the demo's clock.
    pub clock: Duration,
    /// The API's answers.
    pub api: ApiTally,
    /// The transport's doings.
    pub transport: TransportStats,
    /// One row per consumer.
    pub consumers: Vec<ConsumerReport>,
    /// Every dead letter.
    pub letters: Vec<LetterSummary>,
    /// The receives after which a queue moves a message to its dead-letter queue.
    pub max_receive_count: u32,
}

impl Report {
    /// The row of `name`.
    pub fn consumer(&self, name: &str) -> Option<&ConsumerReport> {
        self.consumers.iter().find(|c| c.name == name)
    }

    /// Whether every queue is empty.
    pub fn drained(&self) -> bool {
        self.consumers.iter().all(|c| c.left == 0)
    }

    fn sum(&self, column: impl Fn(&Tally) -> usize) -> usize {
        self.consumers.iter().map(|c| column(&c.tally)).sum()
    }
}

/// `duration` for people: `840 ms`, `3.52 s`.
pub fn age(duration: Option<Duration>) -> String {
    match duration {
        None => "-".to_owned(),
        Some(d) if d < Duration::from_secs(1) => format!("{} ms", d.as_millis()),
        Some(d) => format!("{:.2} s", d.as_secs_f64()),
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "== the shop after the demo ({}; {:.1} s on the demo's clock) ==",
            self.mode,
            self.clock.as_secs_f64()
        )?;
        self.write_api(f)?;
        self.write_transport(f)?;
        self.write_table(f)?;
        self.write_letters(f)?;
        self.write_explanation(f)
    }
}

impl Report {
    fn write_api(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let api = &self.api;
        let mut parts = vec![
            format!("{} placed (201)", api.placed.len()),
            format!("{} cancelled (200)", api.cancelled.len()),
        ];
        let mut kinds: Vec<(u16, &str)> = api
            .refused
            .iter()
            .map(|r| (r.status, r.code.as_str()))
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        for (status, code) in kinds {
            let count = api
                .refused
                .iter()
                .filter(|r| r.status == status && r.code == code)
                .count();
            parts.push(format!("{count} {code} ({status})"));
        }
        writeln!(
            f,
            "\norders API: {} requests: {}",
            api.requests,
            parts.join(", ")
        )?;
        for refusal in &api.refused {
            writeln!(
                f,
                "  {} {}: {}",
                refusal.status, refusal.code, refusal.message
            )?;
        }
        Ok(())
    }

    fn write_transport(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.transport;
        writeln!(
            f,
            "\ntransport: {} published, {} reached the queues",
            count(t.published, "event", "events"),
            count(t.deliveries, "message", "messages")
        )?;
        // Only what happened: a mode that cannot do a kind of mischief shows none of it.
        let detail: Vec<String> = [
            (t.duplicates, "duplicate copy", "duplicate copies"),
            (
                t.late,
                "placement delivered after its cancellation",
                "placements delivered after their cancellation",
            ),
            (
                t.fifo_dropped,
                "re-published capture dropped by the FIFO topic",
                "re-published captures dropped by the FIFO topic",
            ),
            (
                t.poison,
                "poison message sent straight to a queue",
                "poison messages sent straight to a queue",
            ),
            (t.throttles, "store throttle", "store throttles"),
        ]
        .into_iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, one, many)| count(n, one, many))
        .collect();
        if detail.is_empty() {
            return Ok(());
        }
        write!(f, "{}", wrap(&detail.join(", "), WIDTH, "  ", "  "))
    }

    fn write_table(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "\n{:<10} {:<19} {:>8} {:>9} {:>10} {:>5} {:>7} {:>7} {:>13} {:>12}",
            "consumer",
            "queue",
            "received",
            "processed",
            "duplicates",
            "stale",
            "ignored",
            "retried",
            "dead-lettered",
            "oldest event"
        )?;
        for c in &self.consumers {
            let t = &c.tally;
            writeln!(
                f,
                "{:<10} {:<19} {:>8} {:>9} {:>10} {:>5} {:>7} {:>7} {:>13} {:>12}",
                c.name,
                c.queue,
                t.received,
                t.processed,
                t.duplicates,
                t.stale,
                t.ignored,
                t.retried,
                t.all_dead_lettered(),
                age(t.oldest_age)
            )?;
        }
        let left: usize = self.consumers.iter().map(|c| c.left).sum();
        if left == 0 {
            writeln!(f, "every queue drained: no message left")
        } else {
            writeln!(f, "NOT drained: {left} messages left in the queues")
        }
    }

    fn write_letters(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.letters.is_empty() {
            return writeln!(f, "\ndead-letter queues: empty");
        }
        writeln!(f, "\ndead-letter queues:")?;
        for letter in &self.letters {
            let line = format!("{}: {}: {}", letter.consumer, letter.code, letter.reason);
            write!(f, "{}", wrap(&line, WIDTH, "  ", "    "))?;
        }
        Ok(())
    }

    fn write_explanation(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "\nwhat the numbers show:")?;
        let mut points = Vec::new();
        if let (Some(email), Some(payments)) = (self.consumer("email"), self.consumer("payments")) {
            points.push(format!(
                "{} placed: email sent {} and payments recorded {}. Each handler ran once per \
                 event, whatever the transport did.",
                count(self.api.placed.len(), "order was", "orders were"),
                count(email.tally.processed, "confirmation", "confirmations"),
                count(payments.tally.processed, "capture", "captures")
            ));
        }
        points.push(format!(
            "The transport delivered {}; the consumers skipped {} as duplicates instead of \
             running their handler again (email keys on the order id, so a customer never gets \
             two confirmations).",
            count(self.transport.duplicates, "extra copy", "extra copies"),
            count(self.sum(|t| t.duplicates), "delivery", "deliveries")
        ));
        if self.transport.fifo_dropped > 0 {
            points.push(format!(
                "The payment provider published {} twice; the FIFO topic dropped the copies by \
                 their deduplication id (the event id) before they reached a queue.",
                count(self.transport.fifo_dropped, "capture", "captures")
            ));
        }
        if let Some(inventory) = self.consumer("inventory") {
            points.push(format!(
                "{} after their order's cancellation; inventory (ordering = latest_wins) \
                 skipped {} as stale, so no stock is held again for a cancelled order.",
                count(
                    self.transport.late,
                    "placement arrived",
                    "placements arrived"
                ),
                count(inventory.tally.stale, "delivery", "deliveries")
            ));
        }
        points.push(format!(
            "The idempotency store throttled {}: {} went back to their queue, came back after \
             the visibility timeout and were handled then.",
            count(self.transport.throttles, "time", "times"),
            count(self.sum(|t| t.retried), "record", "records")
        ));
        points.push(format!(
            "{} to a dead-letter queue at once, with the reason, rather than failing a batch or \
             coming back {} times.",
            count(
                self.sum(Tally::all_dead_lettered),
                "message went",
                "messages went"
            ),
            self.max_receive_count
        ));
        points.push(if self.drained() {
            "Nothing was lost or stuck: every queue drained, and each delivery ended in one of \
             the columns above."
                .to_owned()
        } else {
            "Some messages were still waiting when the demo stopped (see above).".to_owned()
        });
        points.push(
            "The oldest event is each consumer's lag: from the moment an event happened to \
             when it was handled."
                .to_owned(),
        );
        for point in points {
            write!(f, "{}", wrap(&point, WIDTH, "- ", "  "))?;
        }
        Ok(())
    }
}

/// The width the explanation is wrapped to.
const WIDTH: usize = 92;

/// `n` followed by `one` or `many`, as English needs: `1 time`, `3 times`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `text` wrapped at `width`, the first line after `first`, the others after `rest`.
fn wrap(text: &str, width: usize, first: &str, rest: &str) -> String {
    let mut out = String::new();
    let mut line = first.to_owned();
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            line = rest.to_owned();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(&line);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_as_english() {
        assert_eq!(count(1, "time", "times"), "1 time");
        assert_eq!(count(3, "time", "times"), "3 times");
        assert_eq!(count(0, "copy", "copies"), "0 copies");
    }

    #[test]
    fn wrapping_keeps_every_word_and_the_width() {
        let text = "one two three four five six seven eight nine ten";
        let wrapped = wrap(text, 14, "- ", "  ");
        assert_eq!(
            wrapped,
            "- one two\n  three four\n  five six\n  seven eight\n  nine ten\n"
        );
        assert!(wrapped.lines().all(|l| l.chars().count() <= 14));
    }
}
