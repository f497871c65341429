//! Replay of recorded captures: the same event types and the same local-book code as live.
//!
//! [`CaptureEvents`] turns a capture into [`MarketEvent`]s: depth diffs go through a
//! [`LocalBook`] per symbol (so the book is exactly what a live client would have built), trades,
//! tickers and closed klines pass through. The shared capture format's snapshot lines name no
//! symbol; a snapshot is given to the waiting book whose buffered diffs it precedes
//! (update ids are per-symbol sequences far apart, so this is unambiguous in practice).
//! [`replay_to_hub`] plays a capture into a [`FeedHub`] at 1×, N× or as fast as possible;
//! [`crate::player::ReplayHandle`] does the same with pause, step and speed changes.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;

use papermemes_core::event::MarketEvent;
use serde::Serialize;

use crate::binance::Payload;
use crate::capture::{record_events, CaptureError, FileReader};
use crate::hub::FeedHub;
use crate::localbook::{LocalBook, Step};
use crate::player::{ReplayError, ReplayHandle, ReplayOptions, ReplaySource};

/// A capture as a stream of `(receive_ns, event)`.
pub struct CaptureEvents {
    reader: FileReader,
    books: BTreeMap<String, LocalBook>,
    /// Snapshots that arrived before any depth diff named their symbol.
    orphan_snapshots: Vec<(u64, crate::binance::DepthSnapshot)>,
    out: Vec<MarketEvent>,
    queue: VecDeque<(u64, MarketEvent)>,
    pub gaps: u64,
}

impl std::fmt::Debug for CaptureEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureEvents")
            .field("source", &self.reader.source_name())
            .field("symbols", &self.books.keys().collect::<Vec<_>>())
            .field("gaps", &self.gaps)
            .finish()
    }
}

impl CaptureEvents {
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        Ok(CaptureEvents {
            reader: FileReader::open(path)?,
            books: BTreeMap::new(),
            orphan_snapshots: Vec::new(),
            out: Vec::new(),
            queue: VecDeque::new(),
            gaps: 0,
        })
    }

    /// Symbols whose book is in sync now.
    pub fn synced_symbols(&self) -> Vec<String> {
        self.books
            .iter()
            .filter(|(_, b)| b.is_synced())
            .map(|(s, _)| s.clone())
            .collect()
    }

    fn give_snapshot(&mut self, ns: u64, snap: crate::binance::DepthSnapshot) {
        let target = self
            .books
            .iter()
            .filter(|(_, b)| !b.is_synced())
            .filter(|(_, b)| {
                b.first_buffered_update_id()
                    .is_some_and(|first| first <= snap.last_update_id.saturating_add(1))
            })
            .map(|(s, _)| s.clone())
            .next();
        match target {
            Some(sym) => {
                if let Some(b) = self.books.get_mut(&sym) {
                    let time_ms = i64::try_from(ns / 1_000_000).unwrap_or(i64::MAX);
                    b.on_snapshot(snap, time_ms, &mut self.out);
                }
                for e in self.out.drain(..) {
                    self.queue.push_back((ns, e));
                }
            }
            None => self.orphan_snapshots.push((ns, snap)),
        }
    }
}

impl Iterator for CaptureEvents {
    type Item = Result<(u64, MarketEvent), CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(x) = self.queue.pop_front() {
                return Some(Ok(x));
            }
            let rec = match self.reader.next()? {
                Ok(r) => r,
                Err(e) => return Some(Err(e)),
            };
            let ns = rec.receive_ns;
            match rec.message.payload {
                Payload::DepthUpdate(d) => {
                    let sym = d.symbol.clone();
                    let fresh = !self.books.contains_key(&sym);
                    let book = self
                        .books
                        .entry(sym.clone())
                        .or_insert_with(|| LocalBook::new(sym.clone()));
                    if let Step::NeedSnapshot(_) = book.on_diff(d, &mut self.out) {
                        self.gaps += 1;
                    }
                    for e in self.out.drain(..) {
                        self.queue.push_back((ns, e));
                    }
                    if fresh && !self.orphan_snapshots.is_empty() {
                        // A snapshot recorded just before this symbol's first diff.
                        for (sns, s) in std::mem::take(&mut self.orphan_snapshots) {
                            self.give_snapshot(sns.max(ns), s);
                        }
                    }
                }
                Payload::DepthSnapshot(s) => self.give_snapshot(ns, s),
                payload => {
                    let rec = crate::capture::CaptureRecord {
                        line: rec.line,
                        receive_ns: ns,
                        message: crate::binance::Message {
                            stream: rec.message.stream,
                            payload,
                        },
                    };
                    if let Some(e) = record_events(rec) {
                        return Some(Ok((ns, e)));
                    }
                }
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplaySummary {
    pub events: u64,
    pub gaps: u64,
}

/// Play a capture into `hub` to its end. `speed`: `Some(1.0)` real time, `Some(10.0)` ten
/// times faster, `None` (or a speed that is not a positive number) as fast as possible. For
/// pause, step and speed changes while it plays, use [`crate::player::ReplayHandle`].
pub async fn replay_to_hub(
    path: &Path,
    hub: FeedHub,
    speed: Option<f64>,
) -> Result<ReplaySummary, CaptureError> {
    let speed = speed.filter(|x| x.is_finite() && *x > 0.0);
    let options = ReplayOptions {
        speed,
        start_paused: false,
    };
    let to_capture = |e: ReplayError| match e {
        ReplayError::Capture(c) => c,
        other => CaptureError::Io {
            source_name: path.display().to_string(),
            source: std::io::Error::other(other.to_string()),
        },
    };
    ReplayHandle::start(ReplaySource::Capture(path.to_path_buf()), hub, options)
        .map_err(to_capture)?
        .wait()
        .await
        .map_err(to_capture)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shared_capture_replays_into_a_synced_book() {
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../assets/market/captures/spot_btcusdt_20240808.gz"
        ));
        let mut it = CaptureEvents::open(path).expect("open");
        let (mut snaps, mut deltas, mut trades) = (0, 0, 0);
        for item in it.by_ref() {
            match item.expect("event").1 {
                MarketEvent::BookSnapshot { .. } => snaps += 1,
                MarketEvent::BookDelta { .. } => deltas += 1,
                MarketEvent::Trade { .. } => trades += 1,
                _ => {}
            }
        }
        assert_eq!(snaps, 1);
        assert_eq!(deltas, 3449, "every diff after the snapshot applies");
        assert_eq!(trades, 9757);
        assert_eq!(it.gaps, 0);
        assert_eq!(it.synced_symbols(), vec!["BTCUSDT".to_string()]);
    }
}
