//! A lock-free latency histogram for the hot path: recording is two relaxed atomic adds, so a
//! feed can time every message it publishes without a lock or an allocation.
//!
//! Buckets are log-linear: values under 32 µs have 1 µs buckets, and every power of two above
//! that is split into 16 equal buckets, so a quantile read back is within 1/16 (6.25 %) of the
//! true value (it reports the bucket's upper edge: never an underestimate). Values are kept up
//! to about 67 s; anything longer counts in the last bucket.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const LINEAR: u64 = 32; // 1 µs buckets below this
const SUB: u64 = 16; // buckets per power of two above it
const POWERS: u64 = 21; // 32 µs · 2^21 ≈ 67 s
const BUCKETS: usize = (LINEAR + SUB * POWERS) as usize;

/// Counts of durations in microsecond buckets; see the module docs.
#[derive(Debug)]
pub struct LatencyHistogram {
    buckets: Box<[AtomicU64]>,
    count: AtomicU64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
        }
    }
}

fn bucket_of(us: u64) -> usize {
    if us < LINEAR {
        return us as usize;
    }
    // The power of two at or below `us`, counted from LINEAR (2^5).
    let log = 63 - u64::from(us.leading_zeros()); // >= 5
    let power = log - 5;
    if power >= POWERS {
        return BUCKETS - 1;
    }
    let base = 1u64 << log;
    let sub = (us - base) * SUB / base;
    (LINEAR + power * SUB + sub) as usize
}

/// The largest value (µs) that falls in bucket `i`.
fn upper_edge(i: usize) -> u64 {
    let i = i as u64;
    if i < LINEAR {
        return i;
    }
    let power = (i - LINEAR) / SUB;
    let sub = (i - LINEAR) % SUB;
    let base = LINEAR << power;
    base + (sub + 1) * base / SUB - 1
}

impl LatencyHistogram {
    pub fn record(&self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.buckets[bucket_of(us)].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// The `q` quantile (0..=1) in microseconds, as its bucket's upper edge; `None` when
    /// nothing was recorded.
    pub fn quantile_us(&self, q: f64) -> Option<u64> {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return None;
        }
        // The rank of the wanted value, 1-based, as in "the k-th smallest".
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(upper_edge(i));
            }
        }
        Some(upper_edge(BUCKETS - 1))
    }

    /// Forget everything recorded so far.
    pub fn clear(&self) {
        for b in self.buckets.iter() {
            b.store(0, Ordering::Relaxed);
        }
        self.count.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn quantiles_of_a_known_distribution() {
        let h = LatencyHistogram::default();
        assert_eq!(h.quantile_us(0.5), None, "nothing recorded yet");
        // 1..=1000 µs, once each.
        for us in 1..=1000 {
            h.record(Duration::from_micros(us));
        }
        assert_eq!(h.count(), 1000);
        let p50 = h.quantile_us(0.5).unwrap_or(0);
        let p99 = h.quantile_us(0.99).unwrap_or(0);
        assert!((500..=532).contains(&p50), "p50 {p50}");
        assert!((990..=1055).contains(&p99), "p99 {p99}");
        assert_eq!(h.quantile_us(0.0), Some(1));
        h.clear();
        assert_eq!(h.quantile_us(0.99), None);
    }

    #[test]
    fn huge_values_land_in_the_last_bucket() {
        let h = LatencyHistogram::default();
        h.record(Duration::from_secs(3600));
        assert_eq!(h.quantile_us(1.0), Some(upper_edge(BUCKETS - 1)));
    }

    proptest! {
        #[test]
        fn a_value_reads_back_within_a_sixteenth_and_never_lower(us in 0u64..60_000_000) {
            let b = bucket_of(us);
            prop_assert!(b < BUCKETS);
            let edge = upper_edge(b);
            prop_assert!(edge >= us, "bucket {b} edge {edge} < {us}");
            prop_assert!(edge as f64 <= us as f64 * (1.0 + 1.0 / 16.0) + 1.0, "edge {edge} for {us}");
            // Buckets are ordered: the next value never lands in an earlier bucket.
            prop_assert!(bucket_of(us + 1) >= b);
        }
    }
}
