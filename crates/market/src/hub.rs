//! Fan-out of one feed to many subscribers (engine, UI, recorder, charts).
//!
//! Events go through a bounded broadcast ring, so the publisher never waits and memory never
//! grows with a slow reader. The hub also keeps its own copy of every symbol's book. A subscriber
//! that fell behind by more than the ring holds gets the **latest book state** (one conflated
//! snapshot per symbol) and then continues with newer events; book events older than that
//! snapshot are skipped so they cannot roll the book back. Trades it missed are counted, not
//! replayed.
//!
//! Each feed also reports its [`FeedStatus`] (connecting, syncing, live, stale, resyncing,
//! stopped, with the reason) and [`FeedCounters`] that the CLI and UI can show.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use papermemes_core::book::OrderBook;
use papermemes_core::event::MarketEvent;
use papermemes_core::TimeMs;

use crate::latency::LatencyHistogram;
use serde::Serialize;
use tokio::sync::{broadcast, watch};

/// One published event with its place in the feed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedMsg {
    /// Strictly increasing per hub.
    pub seq: u64,
    pub event: MarketEvent,
    /// When the source read the message that carried this event off its socket (live feeds),
    /// for end-to-end latency figures; `None` for sources without a socket.
    pub received: Option<std::time::Instant>,
}

/// What a subscriber receives.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    Event(Arc<FeedMsg>),
    /// The subscriber fell behind: here is every book as it is now (as `BookSnapshot`
    /// events), and how many messages were skipped.
    Resync {
        books: Vec<MarketEvent>,
        skipped: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedState {
    Connecting,
    Syncing,
    Live,
    Stale,
    Resyncing,
    Stopped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedStatus {
    pub state: FeedState,
    /// Why it is in that state, for people ("gap in depth updates: expected U=5, got 7").
    pub reason: String,
    pub since_ms: TimeMs,
}

/// Counters a feed keeps; read with [`FeedCounters::snapshot`].
#[derive(Debug, Default)]
pub struct FeedCounters {
    pub messages: AtomicU64,
    pub resyncs: AtomicU64,
    pub reconnects: AtomicU64,
    pub gaps: AtomicU64,
    /// Receive time minus exchange event time of the latest event, in ms.
    pub lag_ms: AtomicI64,
    /// Messages skipped by subscribers that fell behind (sum over subscribers).
    pub skipped_by_slow_subscribers: AtomicU64,
    /// Messages that could not be decoded (malformed JSON, a known field of the wrong type)
    /// and were skipped.
    pub decode_errors: AtomicU64,
    /// Depth snapshots that were older than the stream (another one was fetched).
    pub stale_snapshots: AtomicU64,
    /// For events from a socket: from the source reading the message off the socket to the
    /// hub's book updated and every subscriber notified (the broadcast sent).
    pub path_latency: LatencyHistogram,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CountersSnapshot {
    pub messages: u64,
    pub resyncs: u64,
    pub reconnects: u64,
    pub gaps: u64,
    pub lag_ms: i64,
    pub skipped_by_slow_subscribers: u64,
    pub decode_errors: u64,
    pub stale_snapshots: u64,
    /// Median and 99th percentile of [`FeedCounters::path_latency`], µs (`None` before the
    /// first socket message).
    pub path_p50_us: Option<u64>,
    pub path_p99_us: Option<u64>,
}

impl FeedCounters {
    pub fn snapshot(&self) -> CountersSnapshot {
        CountersSnapshot {
            messages: self.messages.load(Ordering::Relaxed),
            resyncs: self.resyncs.load(Ordering::Relaxed),
            reconnects: self.reconnects.load(Ordering::Relaxed),
            gaps: self.gaps.load(Ordering::Relaxed),
            lag_ms: self.lag_ms.load(Ordering::Relaxed),
            skipped_by_slow_subscribers: self.skipped_by_slow_subscribers.load(Ordering::Relaxed),
            decode_errors: self.decode_errors.load(Ordering::Relaxed),
            stale_snapshots: self.stale_snapshots.load(Ordering::Relaxed),
            path_p50_us: self.path_latency.quantile_us(0.5),
            path_p99_us: self.path_latency.quantile_us(0.99),
        }
    }
}

#[derive(Debug, Default)]
struct Books {
    /// Sequence number of the last message applied to the books.
    seq: u64,
    by_symbol: BTreeMap<String, (OrderBook, TimeMs)>,
}

/// The fan-out point of one feed. Cheap to clone (shared inside).
#[derive(Debug, Clone)]
pub struct FeedHub {
    tx: broadcast::Sender<Arc<FeedMsg>>,
    books: Arc<Mutex<Books>>,
    status: Arc<watch::Sender<FeedStatus>>,
    counters: Arc<FeedCounters>,
}

impl FeedHub {
    /// A hub whose ring holds `capacity` messages per subscriber before it falls behind.
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity.max(16));
        let (status, _) = watch::channel(FeedStatus {
            state: FeedState::Connecting,
            reason: "starting".into(),
            since_ms: 0,
        });
        FeedHub {
            tx,
            books: Arc::new(Mutex::new(Books::default())),
            status: Arc::new(status),
            counters: Arc::new(FeedCounters::default()),
        }
    }

    /// Publish one event. Never blocks; book events also update the hub's copy of the book.
    pub fn publish(&self, event: MarketEvent) -> u64 {
        self.publish_at(event, None)
    }

    /// [`FeedHub::publish`] with the time the source received it (see [`FeedMsg::received`]).
    pub fn publish_at(&self, event: MarketEvent, received: Option<std::time::Instant>) -> u64 {
        // The book copy and the sequence number move together under the lock, so a snapshot
        // always says exactly which messages it already contains.
        let msg = {
            let mut books = match self.books.lock() {
                Ok(b) => b,
                Err(poisoned) => poisoned.into_inner(),
            };
            books.seq += 1;
            let seq = books.seq;
            match &event {
                MarketEvent::BookSnapshot {
                    symbol,
                    time_ms,
                    last_update_id,
                    bids,
                    asks,
                } => {
                    let e = book_of(&mut books.by_symbol, symbol);
                    e.0.reset(bids, asks, *last_update_id);
                    e.1 = *time_ms;
                }
                MarketEvent::BookDelta {
                    symbol,
                    time_ms,
                    final_update_id,
                    bids,
                    asks,
                } => {
                    let e = book_of(&mut books.by_symbol, symbol);
                    e.0.apply(bids, asks);
                    e.0.last_update_id = *final_update_id;
                    e.1 = *time_ms;
                }
                _ => {}
            }
            Arc::new(FeedMsg {
                seq,
                event,
                received,
            })
        };
        self.counters.messages.fetch_add(1, Ordering::Relaxed);
        let seq = msg.seq;
        // No subscribers is fine: the books are still kept.
        let _ = self.tx.send(msg);
        if let Some(r) = received {
            self.counters.path_latency.record(r.elapsed());
        }
        seq
    }

    /// Forget a symbol's book (e.g. it is being resynced and must not be served stale).
    pub fn drop_book(&self, symbol: &str) {
        if let Ok(mut b) = self.books.lock() {
            b.by_symbol.remove(symbol);
        }
    }

    pub fn subscribe(&self) -> Subscription {
        Subscription {
            rx: self.tx.subscribe(),
            books: self.books.clone(),
            counters: self.counters.clone(),
            skip_books_until: 0,
        }
    }

    /// Every book as it is now, as `BookSnapshot` events, and the sequence number they include.
    pub fn book_snapshots(&self) -> (Vec<MarketEvent>, u64) {
        snapshots(&self.books)
    }

    pub fn set_status(&self, state: FeedState, reason: impl Into<String>, now_ms: TimeMs) {
        let reason = reason.into();
        self.status.send_if_modified(|s| {
            if s.state == state && s.reason == reason {
                return false;
            }
            *s = FeedStatus {
                state,
                reason,
                since_ms: now_ms,
            };
            true
        });
    }

    pub fn status(&self) -> FeedStatus {
        self.status.borrow().clone()
    }

    pub fn watch_status(&self) -> watch::Receiver<FeedStatus> {
        self.status.subscribe()
    }

    pub fn counters(&self) -> &FeedCounters {
        &self.counters
    }

    pub fn subscriber_count(&self) -> usize {
        self.tx.receiver_count()
    }
}

/// A symbol's book, created when missing (no String allocation when it exists: every event).
fn book_of<'a>(
    map: &'a mut BTreeMap<String, (OrderBook, TimeMs)>,
    symbol: &str,
) -> &'a mut (OrderBook, TimeMs) {
    if !map.contains_key(symbol) {
        map.insert(symbol.to_string(), Default::default());
    }
    match map.get_mut(symbol) {
        Some(b) => b,
        None => unreachable!("inserted above"),
    }
}

fn snapshots(books: &Mutex<Books>) -> (Vec<MarketEvent>, u64) {
    let books = match books.lock() {
        Ok(b) => b,
        Err(poisoned) => poisoned.into_inner(),
    };
    let events = books
        .by_symbol
        .iter()
        .map(|(symbol, (book, t))| MarketEvent::BookSnapshot {
            symbol: symbol.clone(),
            time_ms: *t,
            last_update_id: book.last_update_id,
            bids: book.bids().collect(),
            asks: book.asks().collect(),
        })
        .collect();
    (events, books.seq)
}

/// One subscriber's view of the feed. It holds no publisher handle: once every [`FeedHub`]
/// clone is dropped and the queue is read, `recv` returns `None`.
#[derive(Debug)]
pub struct Subscription {
    rx: broadcast::Receiver<Arc<FeedMsg>>,
    books: Arc<Mutex<Books>>,
    counters: Arc<FeedCounters>,
    skip_books_until: u64,
}

impl Subscription {
    /// The next update; `None` once the feed has stopped and everything was read.
    pub async fn recv(&mut self) -> Option<Update> {
        loop {
            match self.rx.recv().await {
                Ok(msg) => {
                    if let Some(u) = self.filter(msg) {
                        return Some(u);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(skipped)) => {
                    return Some(self.resync(skipped))
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// Like [`Subscription::recv`] without waiting: `Ok(None)` when nothing is queued.
    pub fn try_recv(&mut self) -> Result<Option<Update>, Closed> {
        loop {
            match self.rx.try_recv() {
                Ok(msg) => {
                    if let Some(u) = self.filter(msg) {
                        return Ok(Some(u));
                    }
                }
                Err(broadcast::error::TryRecvError::Empty) => return Ok(None),
                Err(broadcast::error::TryRecvError::Lagged(skipped)) => {
                    return Ok(Some(self.resync(skipped)))
                }
                Err(broadcast::error::TryRecvError::Closed) => return Err(Closed),
            }
        }
    }

    fn filter(&mut self, msg: Arc<FeedMsg>) -> Option<Update> {
        let is_book = matches!(
            msg.event,
            MarketEvent::BookSnapshot { .. } | MarketEvent::BookDelta { .. }
        );
        if is_book && msg.seq <= self.skip_books_until {
            None // already contained in the snapshot this subscriber got
        } else {
            Some(Update::Event(msg))
        }
    }

    fn resync(&mut self, skipped: u64) -> Update {
        self.counters
            .skipped_by_slow_subscribers
            .fetch_add(skipped, Ordering::Relaxed);
        let (books, seq) = snapshots(&self.books);
        self.skip_books_until = seq;
        Update::Resync { books, skipped }
    }
}

/// The feed has stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn delta(i: i64) -> MarketEvent {
        // The bid level at price 100+i%50 gets quantity i; level 100 toggles.
        MarketEvent::BookDelta {
            symbol: "BTCUSDT".into(),
            time_ms: i,
            final_update_id: i as u64,
            bids: vec![(Decimal::from(100 + i % 50), Decimal::from(i))],
            asks: vec![(Decimal::from(1000 + i % 7), Decimal::from(i % 3))],
        }
    }

    fn apply(book: &mut OrderBook, e: &MarketEvent) {
        match e {
            MarketEvent::BookSnapshot {
                bids,
                asks,
                last_update_id,
                ..
            } => book.reset(bids, asks, *last_update_id),
            MarketEvent::BookDelta {
                bids,
                asks,
                final_update_id,
                ..
            } => {
                book.apply(bids, asks);
                book.last_update_id = *final_update_id;
            }
            _ => {}
        }
    }

    #[test]
    fn a_subscriber_that_stops_reading_gets_the_latest_book_and_memory_stays_bounded() {
        let hub = FeedHub::new(64);
        let mut fast = hub.subscribe();
        let mut slow = hub.subscribe();
        let mut fast_book = OrderBook::new();
        for i in 1..=10_000 {
            hub.publish(delta(i));
            // The fast one keeps up.
            while let Ok(Some(u)) = fast.try_recv() {
                match u {
                    Update::Event(m) => apply(&mut fast_book, &m.event),
                    Update::Resync { .. } => panic!("a subscriber that keeps up never resyncs"),
                }
            }
        }
        // The slow one wakes up: one resync with the current book, then nothing stale.
        let mut slow_book = OrderBook::new();
        let mut resyncs = 0;
        while let Ok(Some(u)) = slow.try_recv() {
            match u {
                Update::Resync { books, skipped } => {
                    resyncs += 1;
                    assert!(skipped > 9_000, "it skipped what the ring could not hold");
                    for b in &books {
                        apply(&mut slow_book, b);
                    }
                }
                Update::Event(m) => apply(&mut slow_book, &m.event),
            }
        }
        assert_eq!(resyncs, 1);
        assert_eq!(
            slow_book, fast_book,
            "the slow subscriber ends with the exact book"
        );
        assert_eq!(slow_book.last_update_id, 10_000);
        assert!(hub.counters().snapshot().skipped_by_slow_subscribers > 9_000);
        assert_eq!(hub.counters().snapshot().messages, 10_000);
    }

    #[test]
    fn status_reports_state_and_reason() {
        let hub = FeedHub::new(16);
        let mut w = hub.watch_status();
        hub.set_status(FeedState::Resyncing, "gap in depth updates", 5);
        assert!(w.has_changed().unwrap_or(false));
        let s = w.borrow_and_update().clone();
        assert_eq!(
            (s.state, s.reason.as_str(), s.since_ms),
            (FeedState::Resyncing, "gap in depth updates", 5)
        );
    }

    #[tokio::test]
    async fn recv_ends_when_the_feed_stops() {
        let hub = FeedHub::new(16);
        let mut s = hub.subscribe();
        hub.publish(delta(1));
        drop(hub);
        assert!(matches!(s.recv().await, Some(Update::Event(_))));
        assert_eq!(
            s.recv().await,
            None,
            "the queue is read and the publisher is gone"
        );
    }
}
