//! Candles and 24-hour statistics per symbol, built from what the market shows: trades
//! (simulator, captures, live) or the source's own candles (candle replays). The chart and the
//! watchlist read from here; the engine writes as events arrive.

use std::collections::{BTreeMap, VecDeque};

use papermemes_core::event::{Candle, MarketEvent};
use papermemes_core::TimeMs;
use rust_decimal::Decimal;

use super::views::{CandleView, TickerView};

/// The chart intervals the UI offers, with their length.
pub const INTERVALS: [(&str, i64); 6] = [
    ("1m", 60_000),
    ("5m", 300_000),
    ("15m", 900_000),
    ("1h", 3_600_000),
    ("4h", 14_400_000),
    ("1d", 86_400_000),
];

pub const DAY_MS: i64 = 86_400_000;

/// Length of an interval name ("5m" → 300 000), if it is one the UI offers.
pub fn interval_ms(name: &str) -> Option<i64> {
    INTERVALS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, ms)| *ms)
}

/// The interval names a source whose base bars are `base_ms` long can draw.
pub fn intervals_from(base_ms: i64) -> Vec<String> {
    INTERVALS
        .iter()
        .filter(|(_, ms)| *ms >= base_ms && ms % base_ms == 0)
        .map(|(n, _)| (*n).to_string())
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
struct Bar {
    open_ms: TimeMs,
    open: Decimal,
    high: Decimal,
    low: Decimal,
    close: Decimal,
    volume: Decimal,
    quote_volume: Decimal,
}

impl Bar {
    fn from_candle(c: &Candle) -> Bar {
        Bar {
            open_ms: c.open_time_ms,
            open: c.open,
            high: c.high,
            low: c.low,
            close: c.close,
            volume: c.volume,
            // A candle file has no quote volume: its typical price times its volume.
            quote_volume: c.volume * (c.high + c.low + c.close) / Decimal::from(3),
        }
    }

    fn view(&self) -> CandleView {
        CandleView {
            time_ms: self.open_ms,
            open: self.open,
            high: self.high,
            low: self.low,
            close: self.close,
            volume: self.volume,
        }
    }
}

#[derive(Debug, Default)]
struct Series {
    bars: VecDeque<Bar>,
    last: Option<Decimal>,
    /// Bumped on every change, so readers can tell what is new.
    version: u64,
}

/// Bars of every symbol of one market source.
#[derive(Debug)]
pub struct MarketBars {
    base_ms: i64,
    from_trades: bool,
    cap: usize,
    by_symbol: BTreeMap<String, Series>,
}

impl MarketBars {
    /// `base_ms`: length of the stored bars; `from_trades`: build them from trades (else take the
    /// source's candles as they are); `cap`: bars kept per symbol (oldest dropped).
    pub fn new(base_ms: i64, from_trades: bool, cap: usize) -> MarketBars {
        MarketBars {
            base_ms: base_ms.max(1),
            from_trades,
            cap: cap.max(2),
            by_symbol: BTreeMap::new(),
        }
    }

    pub fn base_ms(&self) -> i64 {
        self.base_ms
    }

    pub fn on_event(&mut self, e: &MarketEvent) {
        match e {
            MarketEvent::Trade {
                symbol,
                time_ms,
                price,
                quantity,
                ..
            } if self.from_trades => self.on_trade(symbol, *time_ms, *price, *quantity),
            MarketEvent::Candle { symbol, candle } if !self.from_trades => {
                self.push_candle(symbol, candle)
            }
            _ => {}
        }
    }

    fn series(&mut self, symbol: &str) -> &mut Series {
        // No String allocation on the hot path (every trade): look up first.
        if !self.by_symbol.contains_key(symbol) {
            self.by_symbol.insert(symbol.to_string(), Series::default());
        }
        match self.by_symbol.get_mut(symbol) {
            Some(s) => s,
            None => unreachable!("inserted above"),
        }
    }

    fn on_trade(&mut self, symbol: &str, t: TimeMs, price: Decimal, qty: Decimal) {
        let base = self.base_ms;
        let cap = self.cap;
        let open_ms = t.div_euclid(base) * base;
        let s = self.series(symbol);
        s.last = Some(price);
        s.version += 1;
        match s.bars.back_mut() {
            Some(b) if b.open_ms == open_ms => {
                b.high = b.high.max(price);
                b.low = b.low.min(price);
                b.close = price;
                b.volume += qty;
                b.quote_volume += price * qty;
            }
            Some(b) if b.open_ms > open_ms => {
                // A late trade (reordered feed): count it in the newest bar.
                b.volume += qty;
                b.quote_volume += price * qty;
            }
            _ => {
                s.bars.push_back(Bar {
                    open_ms,
                    open: price,
                    high: price,
                    low: price,
                    close: price,
                    volume: qty,
                    quote_volume: price * qty,
                });
                while s.bars.len() > cap {
                    s.bars.pop_front();
                }
            }
        }
    }

    /// Add (or replace, same open time) a closed candle.
    pub fn push_candle(&mut self, symbol: &str, c: &Candle) {
        let cap = self.cap;
        let s = self.series(symbol);
        s.last = Some(c.close);
        s.version += 1;
        let bar = Bar::from_candle(c);
        match s.bars.back_mut() {
            Some(b) if b.open_ms == bar.open_ms => *b = bar,
            Some(b) if b.open_ms > bar.open_ms => {}
            _ => {
                s.bars.push_back(bar);
                while s.bars.len() > cap {
                    s.bars.pop_front();
                }
            }
        }
    }

    /// History that precedes live data (e.g. exchange klines): bars older than what is held
    /// are added in front; newer or equal ones are ignored.
    pub fn backfill(&mut self, symbol: &str, candles: &[Candle]) {
        let cap = self.cap;
        let s = self.series(symbol);
        let first = s.bars.front().map(|b| b.open_ms);
        let mut older: Vec<Bar> = candles
            .iter()
            .filter(|c| first.is_none_or(|f| c.open_time_ms < f))
            .map(Bar::from_candle)
            .collect();
        older.sort_by_key(|b| b.open_ms);
        older.dedup_by_key(|b| b.open_ms);
        if older.is_empty() {
            return;
        }
        if s.last.is_none() {
            s.last = older.last().map(|b| b.close);
        }
        for b in older.into_iter().rev() {
            s.bars.push_front(b);
        }
        while s.bars.len() > cap {
            s.bars.pop_front();
        }
        s.version += 1;
    }

    /// Put `older`'s bars in front of this store's (per symbol, only bars older than the first
    /// one here): history computed in the background joins what arrived meanwhile.
    pub fn merge_older(&mut self, older: MarketBars) {
        let cap = self.cap;
        for (symbol, o) in older.by_symbol {
            let s = self.series(&symbol);
            let first = s.bars.front().map(|b| b.open_ms);
            let mut front: Vec<Bar> = o
                .bars
                .into_iter()
                .filter(|b| first.is_none_or(|f| b.open_ms < f))
                .collect();
            if front.is_empty() {
                continue;
            }
            if s.last.is_none() {
                s.last = o.last;
            }
            while let Some(b) = front.pop() {
                s.bars.push_front(b);
            }
            while s.bars.len() > cap {
                s.bars.pop_front();
            }
            s.version += 1;
        }
    }

    pub fn symbols(&self) -> impl Iterator<Item = &str> {
        self.by_symbol.keys().map(String::as_str)
    }

    pub fn last_price(&self, symbol: &str) -> Option<Decimal> {
        self.by_symbol.get(symbol).and_then(|s| s.last)
    }

    /// Closing prices of the base-interval bars of `symbol` that end after `from_ms`, oldest
    /// first (a sparkline of the price since then).
    pub fn closes_since(&self, symbol: &str, from_ms: i64) -> Vec<f64> {
        self.closes_between(symbol, from_ms, i64::MAX)
    }

    /// Closes of the bars that overlap `[from_ms, to_ms]`, oldest first.
    pub fn closes_between(&self, symbol: &str, from_ms: i64, to_ms: i64) -> Vec<f64> {
        let Some(s) = self.by_symbol.get(symbol) else {
            return Vec::new();
        };
        s.bars
            .iter()
            .filter(|b| b.open_ms + self.base_ms > from_ms && b.open_ms <= to_ms)
            .filter_map(|b| b.close.to_string().parse::<f64>().ok())
            .collect()
    }

    pub fn version(&self, symbol: &str) -> u64 {
        self.by_symbol.get(symbol).map_or(0, |s| s.version)
    }

    /// The newest `limit` candles of `symbol` at `interval_ms` (a multiple of the base),
    /// oldest first.
    pub fn candles(&self, symbol: &str, interval_ms: i64, limit: usize) -> Vec<CandleView> {
        let Some(s) = self.by_symbol.get(symbol) else {
            return Vec::new();
        };
        if interval_ms <= self.base_ms {
            let skip = s.bars.len().saturating_sub(limit);
            return s.bars.iter().skip(skip).map(Bar::view).collect();
        }
        let mut out: Vec<CandleView> = Vec::new();
        // Walk from the newest bar back until `limit` aggregated candles are complete.
        for b in s.bars.iter().rev() {
            let open = b.open_ms.div_euclid(interval_ms) * interval_ms;
            match out.last_mut() {
                Some(c) if c.time_ms == open => {
                    c.open = b.open;
                    c.high = c.high.max(b.high);
                    c.low = c.low.min(b.low);
                    c.volume += b.volume;
                }
                _ => {
                    if out.len() == limit {
                        break;
                    }
                    let mut c = b.view();
                    c.time_ms = open;
                    out.push(c);
                }
            }
        }
        out.reverse();
        out
    }

    /// The watchlist line of `symbol` at market time `now_ms`: change, high, low and quote
    /// volume over the last 24 hours (or the history there is, if shorter).
    pub fn ticker(&self, symbol: &str, now_ms: TimeMs) -> TickerView {
        let mut t = TickerView {
            symbol: symbol.to_string(),
            last: None,
            change_pct: None,
            change_window_ms: 0,
            high: None,
            low: None,
            quote_volume: Decimal::ZERO,
        };
        let Some(s) = self.by_symbol.get(symbol) else {
            return t;
        };
        t.last = s.last;
        let Some(last) = s.last else {
            return t;
        };
        let from = now_ms - DAY_MS;
        // Bars that close after `from` are in the window; the price 24 h ago is the close of
        // the bar before them (or, with less history, the first open).
        let start = s.bars.partition_point(|b| b.open_ms + self.base_ms <= from);
        let (reference, window_ms) = match start.checked_sub(1).and_then(|i| s.bars.get(i)) {
            Some(before) => (before.close, DAY_MS),
            None => match s.bars.front() {
                Some(first) => (first.open, (now_ms - first.open_ms).clamp(0, DAY_MS)),
                None => return t,
            },
        };
        let (mut hi, mut lo, mut qv) = (last, last, Decimal::ZERO);
        for b in s.bars.range(start..) {
            hi = hi.max(b.high);
            lo = lo.min(b.low);
            qv += b.quote_volume;
        }
        t.high = Some(hi);
        t.low = Some(lo);
        t.quote_volume = qv.round_dp(2);
        t.change_window_ms = window_ms;
        if !reference.is_zero() {
            let ratio = (last - reference) / reference;
            t.change_pct = rust_decimal::prelude::ToPrimitive::to_f64(&ratio).map(|r| r * 100.0);
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn trade(t: i64, p: Decimal, q: Decimal) -> MarketEvent {
        MarketEvent::Trade {
            symbol: "PEPEUSDT".into(),
            time_ms: t,
            price: p,
            quantity: q,
            buyer_is_maker: false,
        }
    }

    #[test]
    fn trades_make_minute_bars_and_aggregate_to_longer_ones() {
        let mut b = MarketBars::new(60_000, true, 1000);
        b.on_event(&trade(0, dec!(10), dec!(1)));
        b.on_event(&trade(30_000, dec!(12), dec!(2)));
        b.on_event(&trade(61_000, dec!(9), dec!(1)));
        b.on_event(&trade(299_999, dec!(11), dec!(1)));
        b.on_event(&trade(300_000, dec!(13), dec!(1)));
        let m1 = b.candles("PEPEUSDT", 60_000, 10);
        assert_eq!(m1.len(), 4);
        assert_eq!(
            (m1[0].open, m1[0].high, m1[0].low, m1[0].close, m1[0].volume),
            (dec!(10), dec!(12), dec!(10), dec!(12), dec!(3))
        );
        let m5 = b.candles("PEPEUSDT", 300_000, 10);
        assert_eq!(m5.len(), 2);
        assert_eq!(
            (
                m5[0].time_ms,
                m5[0].open,
                m5[0].high,
                m5[0].low,
                m5[0].close,
                m5[0].volume
            ),
            (0, dec!(10), dec!(12), dec!(9), dec!(11), dec!(5))
        );
        assert_eq!((m5[1].time_ms, m5[1].close), (300_000, dec!(13)));
        // `limit` counts aggregated candles, newest kept.
        let last = b.candles("PEPEUSDT", 300_000, 1);
        assert_eq!(last.len(), 1);
        assert_eq!(last[0].time_ms, 300_000);
    }

    #[test]
    fn the_ticker_covers_24_hours_or_the_history_there_is() {
        let mut b = MarketBars::new(60_000, true, 10_000);
        b.on_event(&trade(0, dec!(100), dec!(1)));
        b.on_event(&trade(3_600_000, dec!(110), dec!(1)));
        let t = b.ticker("PEPEUSDT", 3_600_000);
        assert_eq!(t.last, Some(dec!(110)));
        assert_eq!(t.change_window_ms, 3_600_000);
        let pct = t.change_pct.unwrap_or(f64::NAN);
        assert!((pct - 10.0).abs() < 1e-9, "{pct}");
        // A day later the first bar has left the window.
        b.on_event(&trade(DAY_MS + 7_200_000, dec!(121), dec!(1)));
        let t = b.ticker("PEPEUSDT", DAY_MS + 7_200_000);
        assert_eq!(t.change_window_ms, DAY_MS);
        let pct = t.change_pct.unwrap_or(f64::NAN);
        assert!((pct - 10.0).abs() < 1e-9, "from 110 to 121: {pct}");
        assert_eq!(
            (t.high, t.low),
            (Some(dec!(121)), Some(dec!(121))),
            "only what traded in the window"
        );
    }

    #[test]
    fn memory_is_bounded_and_backfill_goes_in_front() {
        let mut b = MarketBars::new(60_000, true, 3);
        for i in 0..10 {
            b.on_event(&trade(i * 60_000, Decimal::from(i + 1), dec!(1)));
        }
        let c = b.candles("PEPEUSDT", 60_000, 100);
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].time_ms, 7 * 60_000);
        let mut b = MarketBars::new(60_000, true, 100);
        b.on_event(&trade(600_000, dec!(5), dec!(1)));
        let old: Vec<Candle> = (0..10)
            .map(|i| Candle {
                open_time_ms: i * 60_000,
                interval_ms: 60_000,
                open: dec!(1),
                high: dec!(2),
                low: dec!(1),
                close: dec!(2),
                volume: dec!(1),
            })
            .collect();
        b.backfill("PEPEUSDT", &old);
        let c = b.candles("PEPEUSDT", 60_000, 100);
        assert_eq!(c.len(), 11);
        assert_eq!(c[10].close, dec!(5), "live data stays newest");
        assert_eq!(b.last_price("PEPEUSDT"), Some(dec!(5)));
    }

    #[test]
    fn candle_sources_use_their_own_bars() {
        let mut b = MarketBars::new(300_000, false, 100);
        b.on_event(&trade(0, dec!(1), dec!(1)));
        assert!(
            b.candles("PEPEUSDT", 300_000, 10).is_empty(),
            "trades are ignored"
        );
        b.on_event(&MarketEvent::Candle {
            symbol: "PEPEUSDT".into(),
            candle: Candle {
                open_time_ms: 0,
                interval_ms: 300_000,
                open: dec!(1),
                high: dec!(3),
                low: dec!(1),
                close: dec!(2),
                volume: dec!(7),
            },
        });
        let c = b.candles("PEPEUSDT", 300_000, 10);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].volume, dec!(7));
        assert_eq!(intervals_from(300_000), vec!["5m", "15m", "1h", "4h", "1d"]);
    }
}
