//! [`Progress`]: what the consumers are doing while the demo runs, one line per consumer.
//!
//! On a terminal the lines are redrawn in place; anywhere else (a pipe, a CI log) a block of
//! plain lines is written once per second of the demo's clock, so a log stays readable and,
//! in the embedded mode, the same for the same seed.

use std::io::{IsTerminal, Write};

use super::tally::Tally;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProgressMode {
    /// Redrawn in place when standard error is a terminal, plain lines otherwise.
    #[default]
    Auto,
    /// Redrawn in place.
    Live,
    /// A block of plain lines once per second of the demo's clock.
    Plain,
    /// Nothing.
    Off,
}

/// One consumer's line.
#[derive(Debug, Clone, Copy)]
pub struct ConsumerStatus<'a> {
    /// The consumer.
    pub name: &'a str,
    /// What it did so far.
    pub tally: &'a Tally,
    /// Messages waiting for it: queued, in flight or still in transit.
    pub waiting: usize,
}

/// Where the run stands.
#[derive(Debug, Clone)]
pub struct Snapshot<'a> {
    /// The demo's clock, in milliseconds from the start.
    pub clock_ms: u64,
    /// API requests sent so far.
    pub requests_sent: usize,
    /// API requests the scenario sends in all.
    pub requests_total: usize,
    /// Every consumer.
    pub consumers: Vec<ConsumerStatus<'a>>,
}

/// The width of a consumer's bar, in characters.
const BAR_WIDTH: usize = 20;
/// How often plain progress is written, on the demo's clock.
const PLAIN_EVERY_MS: u64 = 1_000;

/// Writes progress to standard error (or a writer of the caller's).
pub struct Progress {
    style: ProgressMode,
    out: Box<dyn Write + Send>,
    /// Lines drawn by the last live frame, to move back over.
    drawn: usize,
    next_plain_ms: u64,
}

impl Progress {
    /// Progress on standard error in `mode`.
    pub fn new(mode: ProgressMode) -> Self {
        let style = match mode {
            ProgressMode::Auto if std::io::stderr().is_terminal() => ProgressMode::Live,
            ProgressMode::Auto => ProgressMode::Plain,
            other => other,
        };
        Self::to_writer(style, Box::new(std::io::stderr()))
    }

    /// Progress written to `out` in `style` (`Auto` counts as plain).
    pub fn to_writer(style: ProgressMode, out: Box<dyn Write + Send>) -> Self {
        Self {
            style: if style == ProgressMode::Auto {
                ProgressMode::Plain
            } else {
                style
            },
            out,
            drawn: 0,
            next_plain_ms: 0,
        }
    }

    /// Shows `snapshot`: a live frame, or a plain block when one is due.
    pub fn update(&mut self, snapshot: &Snapshot<'_>) {
        match self.style {
            ProgressMode::Live => self.draw_live(snapshot),
            ProgressMode::Plain if snapshot.clock_ms >= self.next_plain_ms => {
                self.next_plain_ms =
                    snapshot.clock_ms - snapshot.clock_ms % PLAIN_EVERY_MS + PLAIN_EVERY_MS;
                self.draw_plain(snapshot);
            }
            _ => {}
        }
    }

    /// Shows the last state and leaves it on screen.
    pub fn finish(&mut self, snapshot: &Snapshot<'_>) {
        match self.style {
            ProgressMode::Live => self.draw_live(snapshot),
            ProgressMode::Plain => self.draw_plain(snapshot),
            _ => {}
        }
        self.drawn = 0;
    }

    fn draw_live(&mut self, snapshot: &Snapshot<'_>) {
        let lines = lines(snapshot);
        let mut frame = String::new();
        if self.drawn > 0 {
            // Back to the first line of the previous frame, then overwrite each line.
            frame.push_str(&format!("\x1b[{}A", self.drawn));
        }
        for line in &lines {
            frame.push_str("\r\x1b[2K");
            frame.push_str(line);
            frame.push('\n');
        }
        self.drawn = lines.len();
        // Progress is a courtesy: a closed terminal must not stop the demo.
        let _ = self.out.write_all(frame.as_bytes());
        let _ = self.out.flush();
    }

    fn draw_plain(&mut self, snapshot: &Snapshot<'_>) {
        let block = lines(snapshot).join("\n") + "\n";
        let _ = self.out.write_all(block.as_bytes());
        let _ = self.out.flush();
    }
}

/// The lines of a frame: the clock and the API, then one line per consumer.
pub fn lines(snapshot: &Snapshot<'_>) -> Vec<String> {
    let mut lines = vec![format!(
        "t={:>5.1}s  orders API {}/{} requests",
        snapshot.clock_ms as f64 / 1000.0,
        snapshot.requests_sent,
        snapshot.requests_total
    )];
    for consumer in &snapshot.consumers {
        let tally = consumer.tally;
        let done = tally.finished();
        lines.push(format!(
            "  {:<10} {} {:>4} done {:>3} waiting  dup {:>2}  stale {:>2}  retry {:>2}  dlq {:>2}",
            consumer.name,
            bar(done, done + consumer.waiting),
            done,
            consumer.waiting,
            tally.duplicates,
            tally.stale,
            tally.retried,
            tally.all_dead_lettered(),
        ));
    }
    lines
}

/// A bar `done` parts of `total` full.
fn bar(done: usize, total: usize) -> String {
    let full = (done * BAR_WIDTH).checked_div(total).unwrap_or(0);
    format!("[{}{}]", "#".repeat(full), "-".repeat(BAR_WIDTH - full))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A writer the test can read back.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn snapshot(clock_ms: u64, tally: &Tally) -> Snapshot<'_> {
        Snapshot {
            clock_ms,
            requests_sent: 3,
            requests_total: 10,
            consumers: vec![ConsumerStatus {
                name: "email",
                tally,
                waiting: 5,
            }],
        }
    }

    #[test]
    fn a_line_shows_the_bar_and_the_counts() {
        let tally = Tally {
            received: 6,
            processed: 4,
            duplicates: 1,
            retried: 1,
            ..Tally::default()
        };
        assert_eq!(
            lines(&snapshot(2_500, &tally)),
            [
                "t=  2.5s  orders API 3/10 requests",
                "  email      [##########----------]    5 done   5 waiting  dup  1  stale  0  retry  1  dlq  0",
            ]
        );
    }

    #[test]
    fn plain_progress_writes_a_block_once_per_second_of_the_clock() {
        let out = Shared::default();
        let mut progress = Progress::to_writer(ProgressMode::Plain, Box::new(out.clone()));
        let tally = Tally::default();
        for clock_ms in [0, 100, 900, 1_000, 1_100, 2_300] {
            progress.update(&snapshot(clock_ms, &tally));
        }
        let headers: Vec<String> = out
            .text()
            .lines()
            .filter(|l| l.starts_with("t="))
            .map(str::to_owned)
            .collect();
        assert_eq!(
            headers,
            [
                "t=  0.0s  orders API 3/10 requests",
                "t=  1.0s  orders API 3/10 requests",
                "t=  2.3s  orders API 3/10 requests",
            ]
        );
        assert!(!out.text().contains('\x1b'));
    }

    #[test]
    fn live_progress_moves_back_over_its_last_frame() {
        let out = Shared::default();
        let mut progress = Progress::to_writer(ProgressMode::Live, Box::new(out.clone()));
        let tally = Tally::default();
        progress.update(&snapshot(0, &tally));
        assert!(!out.text().contains("\x1b[2A"));
        progress.update(&snapshot(100, &tally));
        assert_eq!(out.text().matches("\x1b[2A").count(), 1);
    }

    #[test]
    fn off_writes_nothing() {
        let out = Shared::default();
        let mut progress = Progress::to_writer(ProgressMode::Off, Box::new(out.clone()));
        let tally = Tally::default();
        progress.update(&snapshot(0, &tally));
        progress.finish(&snapshot(0, &tally));
        assert_eq!(out.text(), "");
    }
}
