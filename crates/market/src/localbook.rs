//! A local order book kept in sync from Binance diff-depth events and REST snapshots, by the
//! documented procedure ("How to manage a local order book correctly"). The same state machine
//! serves a live feed and a recorded capture:
//!
//! 1. Until a snapshot arrives, diffs are buffered ([`Step::Buffered`]).
//! 2. On a snapshot with `lastUpdateId = L`, buffered diffs with `u <= L` are dropped. The first
//!    diff to apply must bracket `L + 1` (`U <= L + 1 <= u`); if it starts later, the snapshot is
//!    too old and [`Step::NeedSnapshot`] asks for another one (the buffer is kept).
//! 3. After that, each diff's `U` must be the previous `u + 1`. Anything else is a gap: the book
//!    is discarded (it would be silently wrong), and [`Step::NeedSnapshot`] asks for a new
//!    snapshot; diffs are buffered again meanwhile. Diffs entirely at or before the book's id
//!    (`u <= last_update_id`) are duplicates or stale and are dropped.
//!
//! Applied data comes out as [`MarketEvent::BookSnapshot`] and [`MarketEvent::BookDelta`] events,
//! pushed to the caller's `out` vector (the diff's level vectors are moved, not copied).

use std::collections::VecDeque;

use papermemes_core::book::OrderBook;
use papermemes_core::event::MarketEvent;
use papermemes_core::TimeMs;
use serde::Serialize;

use crate::binance::{DepthSnapshot, DepthUpdate};

/// How many diffs are kept while waiting for a snapshot (oldest dropped beyond this).
pub const DEFAULT_MAX_BUFFER: usize = 10_000;

/// Where the book stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// No usable book: buffering diffs until a snapshot.
    WaitingForSnapshot,
    /// A snapshot is applied but no diff yet: the next diff must bracket `last_update_id + 1`.
    SnapshotApplied,
    /// Snapshot and at least one diff applied, no gap since.
    InSync,
}

/// Why a new snapshot is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum NeedSnapshot {
    /// The first diff to apply after the snapshot starts after `last_update_id + 1`: updates
    /// between the snapshot and the stream are missing.
    SnapshotTooOld {
        last_update_id: u64,
        first_update_id: u64,
    },
    /// A diff did not continue the previous one (`U != previous u + 1`); the book was discarded.
    Gap {
        expected_first_update_id: u64,
        first_update_id: u64,
        final_update_id: u64,
    },
}

/// What one call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// No book yet: the diff waits for a snapshot.
    Buffered,
    /// Nothing changed: a stale or duplicate diff (`u <= last_update_id`), a diff for another
    /// symbol, or a snapshot while already in sync.
    Dropped,
    /// The diff was applied.
    Applied,
    /// The snapshot was applied, then `applied` buffered diffs.
    Synced { applied: usize },
    /// The book is not (or no longer) usable until a newer snapshot.
    NeedSnapshot(NeedSnapshot),
}

/// Counters since creation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BookCounters {
    /// Diffs applied to the book.
    pub applied: u64,
    /// Diffs ignored: stale/duplicate ones, those older than an applied snapshot, other
    /// symbols', and the oldest buffered ones when the buffer overflowed.
    pub dropped: u64,
    /// Sequence breaks after the book was in sync (each discarded the book).
    pub gaps: u64,
    /// Snapshots rejected as too old for the buffered/arriving diffs.
    pub stale_snapshots: u64,
    /// Snapshots accepted.
    pub snapshots: u64,
    /// Snapshots accepted after the book had been lost to a gap (or a stale snapshot).
    pub resyncs: u64,
    /// Snapshots ignored because the book was already in sync.
    pub snapshots_ignored: u64,
}

/// A locally maintained L2 book for one symbol.
#[derive(Debug, Clone)]
pub struct LocalBook {
    symbol: String,
    book: OrderBook,
    state: SyncState,
    buffer: VecDeque<DepthUpdate>,
    max_buffer: usize,
    /// The book was lost (gap or stale snapshot) and not yet recovered.
    lost: bool,
    counters: BookCounters,
}

impl LocalBook {
    pub fn new(symbol: impl Into<String>) -> Self {
        Self::with_max_buffer(symbol, DEFAULT_MAX_BUFFER)
    }

    pub fn with_max_buffer(symbol: impl Into<String>, max_buffer: usize) -> Self {
        LocalBook {
            symbol: symbol.into(),
            book: OrderBook::new(),
            state: SyncState::WaitingForSnapshot,
            buffer: VecDeque::new(),
            max_buffer: max_buffer.max(1),
            lost: false,
            counters: BookCounters::default(),
        }
    }

    pub fn symbol(&self) -> &str {
        &self.symbol
    }

    pub fn state(&self) -> SyncState {
        self.state
    }

    /// The book is usable (a snapshot applied and no gap since).
    pub fn is_synced(&self) -> bool {
        self.state != SyncState::WaitingForSnapshot
    }

    /// The book, only while it is usable.
    pub fn book(&self) -> Option<&OrderBook> {
        self.is_synced().then_some(&self.book)
    }

    /// The update id the book reflects, only while it is usable.
    pub fn last_update_id(&self) -> Option<u64> {
        self.is_synced().then_some(self.book.last_update_id)
    }

    pub fn counters(&self) -> BookCounters {
        self.counters
    }

    /// Diffs waiting for a snapshot.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// The `U` of the oldest buffered diff: a snapshot must have `lastUpdateId >= U - 1`.
    pub fn first_buffered_update_id(&self) -> Option<u64> {
        self.buffer.front().map(|d| d.first_update_id)
    }

    /// Forget the book and the buffer (e.g. on reconnect); counters are kept.
    pub fn reset(&mut self) {
        if self.is_synced() {
            self.lost = true;
        }
        self.book = OrderBook::new();
        self.buffer.clear();
        self.state = SyncState::WaitingForSnapshot;
    }

    /// Feed one diff.
    pub fn on_diff(&mut self, diff: DepthUpdate, out: &mut Vec<MarketEvent>) -> Step {
        self.on_diff_observed(diff, out, |_| {})
    }

    /// [`LocalBook::on_diff`], calling `observe` with the book after it changed.
    pub fn on_diff_observed(
        &mut self,
        diff: DepthUpdate,
        out: &mut Vec<MarketEvent>,
        mut observe: impl FnMut(&OrderBook),
    ) -> Step {
        if diff.symbol != self.symbol {
            self.counters.dropped += 1;
            return Step::Dropped;
        }
        if self.state == SyncState::WaitingForSnapshot {
            if self.buffer.len() >= self.max_buffer {
                self.buffer.pop_front();
                self.counters.dropped += 1;
            }
            self.buffer.push_back(diff);
            return Step::Buffered;
        }
        let step = self.apply(diff, out);
        if step == Step::Applied {
            observe(&self.book);
        }
        step
    }

    /// Feed a snapshot taken at `time_ms`. Applies it and the buffered diffs that follow it,
    /// or reports that it is too old. While the book is in sync a snapshot is ignored (call
    /// [`LocalBook::reset`] first to force one).
    pub fn on_snapshot(
        &mut self,
        snapshot: DepthSnapshot,
        time_ms: TimeMs,
        out: &mut Vec<MarketEvent>,
    ) -> Step {
        self.on_snapshot_observed(snapshot, time_ms, out, |_| {})
    }

    /// [`LocalBook::on_snapshot`], calling `observe` with the book after the snapshot and
    /// after each buffered diff applied.
    pub fn on_snapshot_observed(
        &mut self,
        snapshot: DepthSnapshot,
        time_ms: TimeMs,
        out: &mut Vec<MarketEvent>,
        mut observe: impl FnMut(&OrderBook),
    ) -> Step {
        if self.is_synced() {
            self.counters.snapshots_ignored += 1;
            return Step::Dropped;
        }
        let last = snapshot.last_update_id;
        while self
            .buffer
            .front()
            .is_some_and(|d| d.final_update_id <= last)
        {
            self.buffer.pop_front();
            self.counters.dropped += 1;
        }
        if let Some(first) = self.buffer.front() {
            if first.first_update_id > last.saturating_add(1) {
                self.counters.stale_snapshots += 1;
                self.lost = true;
                return Step::NeedSnapshot(NeedSnapshot::SnapshotTooOld {
                    last_update_id: last,
                    first_update_id: first.first_update_id,
                });
            }
        }
        self.book.reset(&snapshot.bids, &snapshot.asks, last);
        self.state = SyncState::SnapshotApplied;
        self.counters.snapshots += 1;
        if std::mem::take(&mut self.lost) {
            self.counters.resyncs += 1;
        }
        out.push(MarketEvent::BookSnapshot {
            symbol: self.symbol.clone(),
            time_ms,
            last_update_id: last,
            bids: snapshot.bids,
            asks: snapshot.asks,
        });
        observe(&self.book);
        let mut applied = 0;
        while let Some(diff) = self.buffer.pop_front() {
            match self.apply(diff, out) {
                Step::Applied => {
                    applied += 1;
                    observe(&self.book);
                }
                Step::NeedSnapshot(n) => return Step::NeedSnapshot(n),
                Step::Dropped | Step::Buffered | Step::Synced { .. } => {}
            }
        }
        Step::Synced { applied }
    }

    /// Apply one diff to a usable book, following the sequencing rules.
    fn apply(&mut self, diff: DepthUpdate, out: &mut Vec<MarketEvent>) -> Step {
        let last = self.book.last_update_id;
        if diff.final_update_id <= last {
            self.counters.dropped += 1;
            return Step::Dropped;
        }
        let expected = last.saturating_add(1);
        let fits = match self.state {
            // The first diff after a snapshot may start before it: U <= L+1 <= u.
            SyncState::SnapshotApplied => diff.first_update_id <= expected,
            SyncState::InSync => diff.first_update_id == expected,
            SyncState::WaitingForSnapshot => false,
        };
        if !fits {
            let need = if self.state == SyncState::SnapshotApplied {
                self.counters.stale_snapshots += 1;
                NeedSnapshot::SnapshotTooOld {
                    last_update_id: last,
                    first_update_id: diff.first_update_id,
                }
            } else {
                self.counters.gaps += 1;
                NeedSnapshot::Gap {
                    expected_first_update_id: expected,
                    first_update_id: diff.first_update_id,
                    final_update_id: diff.final_update_id,
                }
            };
            // Discard the book; keep this diff (and those after it) for the next snapshot.
            self.book = OrderBook::new();
            self.state = SyncState::WaitingForSnapshot;
            self.lost = true;
            self.buffer.push_front(diff);
            return Step::NeedSnapshot(need);
        }
        self.book.apply(&diff.bids, &diff.asks);
        self.book.last_update_id = diff.final_update_id;
        self.state = SyncState::InSync;
        self.counters.applied += 1;
        out.push(diff.into_event());
        Step::Applied
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn diff(first: u64, last: u64, bid: (i64, i64)) -> DepthUpdate {
        DepthUpdate {
            event_time_ms: 1,
            symbol: "X".into(),
            first_update_id: first,
            final_update_id: last,
            bids: vec![(bid.0.into(), bid.1.into())],
            asks: vec![],
        }
    }

    fn snap(last: u64) -> DepthSnapshot {
        DepthSnapshot {
            last_update_id: last,
            bids: vec![(dec!(10), dec!(1))],
            asks: vec![(dec!(11), dec!(1))],
        }
    }

    #[test]
    fn documented_procedure() {
        let mut b = LocalBook::new("X");
        let mut out = Vec::new();
        assert_eq!(b.on_diff(diff(1, 5, (9, 1)), &mut out), Step::Buffered);
        assert_eq!(b.on_diff(diff(6, 9, (9, 2)), &mut out), Step::Buffered);
        assert_eq!(b.on_diff(diff(10, 12, (9, 3)), &mut out), Step::Buffered);
        assert!(b.book().is_none());
        // Snapshot at 7: diff 1..5 dropped, 6..9 brackets 8, then 10..12.
        assert_eq!(
            b.on_snapshot(snap(7), 0, &mut out),
            Step::Synced { applied: 2 }
        );
        assert_eq!(out.len(), 3);
        assert_eq!(b.last_update_id(), Some(12));
        let book = b.book().expect("synced");
        assert_eq!(book.best_bid(), Some((dec!(10), dec!(1))));
        assert_eq!(
            book.qty_at(papermemes_core::order::Side::Buy, dec!(9)),
            dec!(3)
        );
        assert_eq!(b.on_diff(diff(11, 12, (9, 4)), &mut out), Step::Dropped);
        assert_eq!(b.on_diff(diff(13, 13, (9, 4)), &mut out), Step::Applied);
        // Gap: 15 instead of 14.
        assert!(matches!(
            b.on_diff(diff(15, 16, (9, 5)), &mut out),
            Step::NeedSnapshot(NeedSnapshot::Gap {
                expected_first_update_id: 14,
                ..
            })
        ));
        assert!(b.book().is_none() && b.last_update_id().is_none());
        assert_eq!(b.on_diff(diff(17, 18, (9, 6)), &mut out), Step::Buffered);
        assert_eq!(
            b.on_snapshot(snap(16), 0, &mut out),
            Step::Synced { applied: 1 }
        );
        let c = b.counters();
        assert_eq!((c.applied, c.gaps, c.snapshots, c.resyncs), (4, 1, 2, 1));
        assert_eq!(
            c.dropped, 3,
            "1..5, the duplicate 11..12, and 15..16 at resync"
        );
    }

    #[test]
    fn snapshot_older_than_first_buffered_diff() {
        let mut b = LocalBook::new("X");
        let mut out = Vec::new();
        b.on_diff(diff(100, 110, (9, 1)), &mut out);
        assert_eq!(
            b.on_snapshot(snap(50), 0, &mut out),
            Step::NeedSnapshot(NeedSnapshot::SnapshotTooOld {
                last_update_id: 50,
                first_update_id: 100
            })
        );
        assert!(!b.is_synced());
        assert!(out.is_empty());
        assert_eq!(b.buffered(), 1, "the diff is kept for the next snapshot");
        assert_eq!(
            b.on_snapshot(snap(105), 0, &mut out),
            Step::Synced { applied: 1 }
        );
        assert_eq!(b.counters().resyncs, 1);
        // Snapshot before any diff, then a diff that starts too late.
        let mut b = LocalBook::new("X");
        assert_eq!(
            b.on_snapshot(snap(50), 0, &mut out),
            Step::Synced { applied: 0 }
        );
        assert!(matches!(
            b.on_diff(diff(60, 70, (9, 1)), &mut out),
            Step::NeedSnapshot(NeedSnapshot::SnapshotTooOld { .. })
        ));
        assert!(!b.is_synced());
    }
}
