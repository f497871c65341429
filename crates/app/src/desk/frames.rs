//! Frames for one market view (a symbol and a chart interval): the UI receives at most one
//! small batch per display frame with only what changed — the book's top levels, new trades,
//! the forming candle, changed watchlist lines — however fast the market runs. A view that
//! falls behind the feed gets the current book instead of a backlog.

use std::collections::{BTreeMap, VecDeque};

use papermemes_core::book::OrderBook;
use papermemes_core::event::MarketEvent;
use papermemes_market::hub::Update;

use super::bars::{interval_ms, MarketBars};
use super::views::{BookView, Frame, TickerView, TradeView, ViewSpec};
use crate::AppError;

/// Trades sent per frame at most (the tape shows fewer; older ones are dropped).
pub const MAX_TRADES_PER_FRAME: usize = 40;
pub const MAX_DEPTH: u32 = 50;

#[derive(Debug)]
pub struct FrameBuilder {
    spec: ViewSpec,
    interval_ms: i64,
    book: Option<OrderBook>,
    book_dirty: bool,
    trades: VecDeque<TradeView>,
    /// Bars version of the view's symbol when its candles were last sent.
    candles_version: u64,
    /// Watchlist lines as last sent.
    tickers: BTreeMap<String, TickerView>,
    reset: bool,
    seq: u32,
    epoch: u32,
    /// Book events up to this feed sequence number are already in the seeded book.
    seeded_seq: u64,
    history_version: u32,
    history_changed: bool,
}

impl FrameBuilder {
    pub fn new(spec: ViewSpec) -> Result<FrameBuilder, AppError> {
        let interval_ms = interval_ms(&spec.interval).ok_or_else(|| {
            AppError::invalid(
                "view.bad_interval",
                format!(
                    "unknown chart interval {:?}: use 1m, 5m, 15m, 1h, 4h or 1d",
                    spec.interval
                ),
            )
        })?;
        if spec.depth == 0 || spec.depth > MAX_DEPTH {
            return Err(AppError::invalid(
                "view.bad_depth",
                format!("book depth must be 1 to {MAX_DEPTH}, got {}", spec.depth),
            ));
        }
        let symbol = spec.symbol.trim().to_ascii_uppercase();
        if symbol.is_empty() || !symbol.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(AppError::invalid(
                "view.bad_symbol",
                format!("invalid symbol {:?}", spec.symbol),
            ));
        }
        Ok(FrameBuilder {
            spec: ViewSpec { symbol, ..spec },
            interval_ms,
            book: None,
            book_dirty: false,
            trades: VecDeque::new(),
            candles_version: u64::MAX,
            tickers: BTreeMap::new(),
            reset: true,
            seq: 0,
            epoch: 0,
            seeded_seq: 0,
            history_version: 0,
            history_changed: false,
        })
    }

    pub fn spec(&self) -> &ViewSpec {
        &self.spec
    }

    /// The market source changed (`epoch` is the desk's source counter): start over (then
    /// [`FrameBuilder::seed`] with the new books).
    pub fn set_epoch(&mut self, epoch: u32) {
        if epoch != self.epoch {
            self.epoch = epoch;
            self.book = None;
            self.seeded_seq = 0;
            self.book_dirty = true;
            self.trades.clear();
            self.candles_version = u64::MAX;
            self.tickers.clear();
            self.reset = true;
        }
    }

    /// The desk's chart-history counter: when it moves, the next frame says so.
    pub fn set_history_version(&mut self, v: u32) {
        if v != self.history_version {
            self.history_version = v;
            self.history_changed = true;
        }
    }

    /// Start from the feed's current books (`FeedHub::book_snapshots`, taken right after
    /// subscribing): book events the snapshot already holds (sequence ≤ `seq`) are skipped.
    pub fn seed(&mut self, books: &[MarketEvent], seq: u64) {
        for b in books {
            self.on_event(b);
        }
        self.seeded_seq = seq;
    }

    /// Take one update from the feed.
    pub fn on_update(&mut self, u: &Update) {
        match u {
            Update::Event(m) => {
                let is_book = matches!(
                    m.event,
                    MarketEvent::BookSnapshot { .. } | MarketEvent::BookDelta { .. }
                );
                if !(is_book && m.seq <= self.seeded_seq) {
                    self.on_event(&m.event);
                }
            }
            Update::Resync { books, .. } => {
                for b in books {
                    self.on_event(b);
                }
            }
        }
    }

    pub fn on_event(&mut self, e: &MarketEvent) {
        if e.symbol() != self.spec.symbol {
            return;
        }
        match e {
            MarketEvent::BookSnapshot {
                bids,
                asks,
                last_update_id,
                ..
            } => {
                let b = self.book.get_or_insert_with(OrderBook::new);
                b.reset(bids, asks, *last_update_id);
                self.book_dirty = true;
            }
            MarketEvent::BookDelta {
                bids,
                asks,
                final_update_id,
                ..
            } => {
                // Diffs before the first snapshot cannot be placed; the hub's resync or the
                // source's next snapshot brings the book.
                if let Some(b) = self.book.as_mut() {
                    b.apply(bids, asks);
                    b.last_update_id = *final_update_id;
                    self.book_dirty = true;
                }
            }
            MarketEvent::Trade {
                time_ms,
                price,
                quantity,
                buyer_is_maker,
                ..
            } => {
                self.trades.push_back(TradeView {
                    time_ms: *time_ms,
                    price: *price,
                    quantity: *quantity,
                    buy: !buyer_is_maker,
                });
                while self.trades.len() > MAX_TRADES_PER_FRAME {
                    self.trades.pop_front();
                }
            }
            MarketEvent::BookTicker { .. } | MarketEvent::Candle { .. } => {}
        }
    }

    /// The next frame, or `None` when nothing changed. `with_tickers`: also look at the
    /// watchlist (the caller does that a few times a second, not every frame).
    pub fn frame(
        &mut self,
        bars: &MarketBars,
        symbols: &[String],
        market_time_ms: Option<i64>,
        with_tickers: bool,
    ) -> Option<Frame> {
        let mut f = Frame {
            market_time_ms,
            reset: std::mem::take(&mut self.reset),
            history: std::mem::take(&mut self.history_changed),
            ..Frame::default()
        };
        if self.book_dirty {
            self.book_dirty = false;
            let depth = self.spec.depth as usize;
            f.book = Some(match &self.book {
                Some(b) => BookView::new(
                    &self.spec.symbol,
                    b.bids().take(depth).collect(),
                    b.asks().take(depth).collect(),
                    b.last_update_id,
                ),
                None => BookView::new(&self.spec.symbol, Vec::new(), Vec::new(), 0),
            });
        }
        f.trades = self.trades.drain(..).collect();
        let v = bars.version(&self.spec.symbol);
        if v != self.candles_version {
            let fresh = self.candles_version == u64::MAX;
            self.candles_version = v;
            // The forming candle and the one before (it may just have closed).
            f.candles = bars.candles(
                &self.spec.symbol,
                self.interval_ms,
                if fresh { 1 } else { 2 },
            );
        }
        if with_tickers {
            let now = market_time_ms.unwrap_or(0);
            for s in symbols {
                let t = bars.ticker(s, now);
                if self.tickers.get(s) != Some(&t) {
                    self.tickers.insert(s.clone(), t.clone());
                    f.tickers.push(t);
                }
            }
        }
        let empty = !f.reset
            && !f.history
            && f.book.is_none()
            && f.trades.is_empty()
            && f.candles.is_empty()
            && f.tickers.is_empty();
        if empty {
            return None;
        }
        self.seq = self.seq.wrapping_add(1);
        f.seq = self.seq;
        Some(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use papermemes_market::hub::FeedHub;
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;

    fn spec() -> ViewSpec {
        ViewSpec {
            symbol: "pepeusdt".into(),
            interval: "1m".into(),
            depth: 20,
        }
    }

    fn delta(i: u64) -> MarketEvent {
        MarketEvent::BookDelta {
            symbol: "PEPEUSDT".into(),
            time_ms: i as i64,
            final_update_id: i,
            bids: vec![(Decimal::from(100 + i % 30), Decimal::from(i))],
            asks: vec![(Decimal::from(200 + i % 30), Decimal::from(i))],
        }
    }

    #[test]
    fn bad_views_are_refused() {
        for (sym, iv, depth, code) in [
            ("PEPEUSDT", "2m", 20, "view.bad_interval"),
            ("PEPEUSDT", "1m", 0, "view.bad_depth"),
            ("PEPEUSDT", "1m", 51, "view.bad_depth"),
            ("PEPE/USDT", "1m", 20, "view.bad_symbol"),
        ] {
            let e = FrameBuilder::new(ViewSpec {
                symbol: sym.into(),
                interval: iv.into(),
                depth,
            })
            .expect_err("bad view");
            assert_eq!(e.code(), code);
        }
    }

    #[test]
    fn a_busy_market_gives_small_frames_with_the_exact_book() {
        let hub = FeedHub::new(64);
        let mut sub = hub.subscribe();
        let mut fb = FrameBuilder::new(spec()).expect("view");
        let bars = MarketBars::new(60_000, true, 100);
        hub.publish(MarketEvent::BookSnapshot {
            symbol: "PEPEUSDT".into(),
            time_ms: 0,
            last_update_id: 0,
            bids: (0..100).map(|i| (Decimal::from(i), dec!(1))).collect(),
            asks: (0..100)
                .map(|i| (Decimal::from(1000 + i), dec!(1)))
                .collect(),
        });
        let mut truth = OrderBook::new();
        truth.reset(
            &(0..100)
                .map(|i| (Decimal::from(i), dec!(1)))
                .collect::<Vec<_>>(),
            &(0..100)
                .map(|i| (Decimal::from(1000 + i), dec!(1)))
                .collect::<Vec<_>>(),
            0,
        );
        let mut frames = 0;
        let mut last_book = None;
        for i in 1..=5_000u64 {
            let d = delta(i);
            if let MarketEvent::BookDelta { bids, asks, .. } = &d {
                truth.apply(bids, asks);
            }
            hub.publish(d);
            hub.publish(MarketEvent::Trade {
                symbol: "PEPEUSDT".into(),
                time_ms: i as i64,
                price: dec!(150),
                quantity: dec!(1),
                buyer_is_maker: i % 2 == 0,
            });
            // The UI takes a frame every 100 updates (it is slower than the feed).
            if i % 100 == 0 {
                while let Ok(Some(u)) = sub.try_recv() {
                    fb.on_update(&u);
                }
                if let Some(f) = fb.frame(&bars, &[], Some(i as i64), false) {
                    frames += 1;
                    assert!(f.trades.len() <= MAX_TRADES_PER_FRAME);
                    let json = serde_json::to_string(&f).expect("json");
                    assert!(json.len() < 8 * 1024, "frame of {} bytes", json.len());
                    if let Some(b) = f.book {
                        last_book = Some(b);
                    }
                }
            }
        }
        assert_eq!(frames, 50);
        let b = last_book.expect("book sent");
        assert_eq!(b.bids.len(), 20);
        let want: Vec<_> = truth.bids().take(20).collect();
        assert_eq!(b.bids, want, "the top 20 levels equal the feed's book");
        let want: Vec<_> = truth.asks().take(20).collect();
        assert_eq!(b.asks, want);
        // Nothing new: no frame.
        assert!(fb.frame(&bars, &[], Some(1), false).is_none());
    }

    #[test]
    fn a_new_source_resets_the_view() {
        let mut fb = FrameBuilder::new(spec()).expect("view");
        let bars = MarketBars::new(60_000, true, 100);
        let first = fb.frame(&bars, &[], None, false).expect("first frame");
        assert!(first.reset, "the first frame tells the UI to start clean");
        assert!(fb.frame(&bars, &[], None, false).is_none());
        fb.set_epoch(3);
        let f = fb.frame(&bars, &[], None, false).expect("frame");
        assert!(f.reset);
        assert_eq!(
            f.book.map(|b| b.bids.len()),
            Some(0),
            "the old book is gone"
        );
    }
}
