//! PaperMemes market data. Every source turns its input into [`papermemes_core::event`]
//! events, so the exchange, the CLI and the UI see one event model.
//!
//! Sources: candle CSV files (plain or gzip, as shipped in `assets/market/candles/`), recorded
//! captures ([`capture`], [`replay`], [`player`]), the simulator ([`sim`]) and live Binance
//! ([`live`], [`rest`]); all fan out through a [`hub::FeedHub`].

pub mod binance;
pub mod candles;
pub mod capture;
pub mod hub;
pub mod latency;
pub mod live;
pub mod localbook;
pub mod player;
pub mod record;
pub mod replay;
pub mod rest;
pub mod sim;
