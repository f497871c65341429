//! PaperMemes core: the trading domain with no I/O.
//!
//! * [`instrument`]: instruments and Binance spot filters (parsed from the `exchangeInfo` shape).
//! * [`book`]: an L2 order book (price levels, absolute quantities).
//! * [`event`]: the market events every source (live, replay, simulator, candles) produces.
//! * [`order`]: order requests, orders, Binance's status machine.
//! * [`exchange`]: the deterministic paper exchange (matching, fees, slippage, latency).
//! * [`portfolio`]: balances, positions, PnL.
//! * [`backtest`]: strategies and the backtest report, run through the same exchange.
//!
//! Money and quantities are [`rust_decimal::Decimal`] everywhere; time is milliseconds since the
//! Unix epoch of *market* time (never the wall clock), so the same inputs give the same outputs.

pub mod backtest;
pub mod book;
pub mod error;
pub mod event;
pub mod exchange;
pub mod instrument;
pub mod num;
pub mod order;
pub mod portfolio;

pub use rust_decimal::Decimal;

/// Milliseconds since the Unix epoch, in market time.
pub type TimeMs = i64;
