//! Cutting a batch into requests that SNS `PublishBatch` and SQS `SendMessageBatch` accept:
//! at most ten entries, and at most the batch size limit in total.

use std::ops::Range;

/// The most entries one `PublishBatch` or `SendMessageBatch` request takes.
pub(crate) const MAX_ENTRIES: usize = 10;

/// A request being filled: how many entries it holds and their total size.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Fill {
    entries: usize,
    bytes: usize,
}

impl Fill {
    /// Whether a message of `size` bytes fits in this request. An empty request takes any
    /// message, so that one over the batch limit still goes out (alone) and the service,
    /// not an endless loop, answers for it.
    pub(crate) fn fits(&self, size: usize, max_bytes: usize) -> bool {
        self.entries == 0
            || (self.entries < MAX_ENTRIES && self.bytes.saturating_add(size) <= max_bytes)
    }

    /// Adds a message of `size` bytes.
    pub(crate) fn add(&mut self, size: usize) {
        self.entries += 1;
        self.bytes = self.bytes.saturating_add(size);
    }
}

/// Cuts messages of the given sizes, in order, into consecutive runs of at most
/// [`MAX_ENTRIES`] whose sizes add up to at most `max_bytes`. Greedy: each request takes as
/// many of the next messages as fit, which keeps the number of requests minimal for
/// messages that must stay in order.
pub(crate) fn chunks(sizes: &[usize], max_bytes: usize) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    let mut fill = Fill::default();
    for (i, &size) in sizes.iter().enumerate() {
        if !fill.fits(size, max_bytes) {
            ranges.push(start..i);
            start = i;
            fill = Fill::default();
        }
        fill.add(size);
    }
    if start < sizes.len() {
        ranges.push(start..sizes.len());
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_by_count() {
        let sizes = vec![100; 25];
        assert_eq!(chunks(&sizes, 1_000_000), vec![0..10, 10..20, 20..25]);
        assert_eq!(chunks(&sizes[..10], 1_000_000), vec![0..10]);
        assert_eq!(chunks(&[], 1_000_000), Vec::<Range<usize>>::new());
    }

    #[test]
    fn cuts_by_size_exactly_at_the_limit() {
        // 400 + 600 = 1000 fits exactly; the next 1 does not.
        assert_eq!(chunks(&[400, 600, 1, 999], 1000), vec![0..2, 2..4]);
        assert_eq!(chunks(&[400, 601], 1000), vec![0..1, 1..2]);
    }

    #[test]
    fn an_oversized_message_goes_alone() {
        assert_eq!(chunks(&[10, 5000, 10], 1000), vec![0..1, 1..2, 2..3]);
    }

    #[test]
    fn every_chunk_respects_both_limits_and_order_is_kept() {
        // A deterministic spread of sizes: every run is contiguous, covers all messages
        // once, has at most ten entries and fits the limit unless it is a lone message.
        let sizes: Vec<usize> = (0..200).map(|i| (i * 7919) % 300 + 1).collect();
        let ranges = chunks(&sizes, 1024);
        let mut next = 0;
        for range in &ranges {
            assert_eq!(range.start, next);
            assert!(!range.is_empty() && range.len() <= MAX_ENTRIES);
            let total: usize = sizes[range.clone()].iter().sum();
            assert!(
                total <= 1024 || range.len() == 1,
                "{range:?} holds {total} bytes"
            );
            // Greedy: the next message would not have fit.
            if range.end < sizes.len() {
                assert!(range.len() == MAX_ENTRIES || total + sizes[range.end] > 1024);
            }
            next = range.end;
        }
        assert_eq!(next, sizes.len());
    }
}
