//! Market events. Every source (live Binance, recorded captures, candles, the simulator) is
//! turned into these, and the exchange and every other consumer sees only these.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::TimeMs;

/// One price level: `(price, quantity)`; a zero quantity removes the level.
pub type Level = (Decimal, Decimal);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candle {
    pub open_time_ms: TimeMs,
    /// Bar length; the bar covers `[open_time_ms, open_time_ms + interval_ms)`.
    pub interval_ms: i64,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
    pub volume: Decimal,
}

impl Candle {
    pub fn close_time_ms(&self) -> TimeMs {
        self.open_time_ms + self.interval_ms
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MarketEvent {
    /// A full book (REST depth snapshot): replaces the book.
    BookSnapshot {
        symbol: String,
        time_ms: TimeMs,
        last_update_id: u64,
        bids: Vec<Level>,
        asks: Vec<Level>,
    },
    /// A diff (`depthUpdate`): absolute quantities for changed levels. Sequencing (U/u) is the
    /// feed's job; the exchange receives only diffs that apply.
    BookDelta {
        symbol: String,
        time_ms: TimeMs,
        final_update_id: u64,
        bids: Vec<Level>,
        asks: Vec<Level>,
    },
    /// Best bid/ask only (`bookTicker`). Used as a one-level book when no depth is streamed.
    BookTicker {
        symbol: String,
        time_ms: TimeMs,
        bid: Decimal,
        bid_qty: Decimal,
        ask: Decimal,
        ask_qty: Decimal,
    },
    /// A public trade. `buyer_is_maker` means the seller was the aggressor (it hit the bids).
    Trade {
        symbol: String,
        time_ms: TimeMs,
        price: Decimal,
        quantity: Decimal,
        buyer_is_maker: bool,
    },
    /// A closed candle; its time is the bar's close.
    Candle { symbol: String, candle: Candle },
}

impl MarketEvent {
    pub fn symbol(&self) -> &str {
        match self {
            MarketEvent::BookSnapshot { symbol, .. }
            | MarketEvent::BookDelta { symbol, .. }
            | MarketEvent::BookTicker { symbol, .. }
            | MarketEvent::Trade { symbol, .. }
            | MarketEvent::Candle { symbol, .. } => symbol,
        }
    }

    /// Market time at which the event is known.
    pub fn time_ms(&self) -> TimeMs {
        match self {
            MarketEvent::BookSnapshot { time_ms, .. }
            | MarketEvent::BookDelta { time_ms, .. }
            | MarketEvent::BookTicker { time_ms, .. }
            | MarketEvent::Trade { time_ms, .. } => *time_ms,
            MarketEvent::Candle { candle, .. } => candle.close_time_ms(),
        }
    }
}
