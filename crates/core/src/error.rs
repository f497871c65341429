//! Why the exchange refused something. Every variant has a stable machine code (used across IPC,
//! HTTP and the CLI's JSON), the Binance error code it mirrors, and a message that says what was
//! wrong and what to do.

use rust_decimal::Decimal;
use thiserror::Error;

/// A refused order or cancel. Refusals change nothing: no order id is used, no balance moves.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Reject {
    #[error("unknown symbol {0}: use one of the listed instruments (e.g. PEPEUSDT)")]
    UnknownSymbol(String),
    #[error("{symbol} is not trading (status {status})")]
    SymbolNotTrading { symbol: String, status: String },
    #[error("{order_type} orders are not supported on {symbol}")]
    OrderTypeNotSupported { symbol: String, order_type: String },
    #[error("invalid order: {0}")]
    InvalidParameter(String),
    #[error("Filter failure: PRICE_FILTER: price {price} must be between {min} and {max} and a multiple of the tick size {tick}")]
    PriceFilter {
        price: Decimal,
        min: Decimal,
        max: Decimal,
        tick: Decimal,
    },
    #[error("Filter failure: {filter}: quantity {quantity} must be between {min} and {max} and a multiple of the step size {step}")]
    LotSize {
        filter: &'static str,
        quantity: Decimal,
        min: Decimal,
        max: Decimal,
        step: Decimal,
    },
    #[error("Filter failure: NOTIONAL: order value {notional} is below the minimum of {min}; increase the quantity")]
    MinNotional { notional: Decimal, min: Decimal },
    #[error("Filter failure: NOTIONAL: order value {notional} is above the maximum of {max}")]
    MaxNotional { notional: Decimal, max: Decimal },
    #[error("Filter failure: PERCENT_PRICE_BY_SIDE: price {price} must be between {low} and {high} for a {side} near the average price")]
    PercentPriceBySide {
        side: &'static str,
        price: Decimal,
        low: Decimal,
        high: Decimal,
    },
    #[error("Account has insufficient balance for requested action: needs {needed} {asset}, {available} {asset} available")]
    InsufficientBalance {
        asset: String,
        needed: Decimal,
        available: Decimal,
    },
    #[error("Order would immediately match and take: a post-only (LIMIT_MAKER) order must rest on the book")]
    WouldTake,
    #[error("Stop price would trigger immediately: stop {stop} vs last price {last}")]
    StopWouldTrigger { stop: Decimal, last: Decimal },
    #[error("The relationship of the prices for the orders is not correct: {0}")]
    OcoPrices(String),
    #[error(
        "no market price for {0} yet: start a market source (replay, simulator or live) first"
    )]
    NoMarketData(String),
    #[error("Unknown order sent: no open order {0}")]
    UnknownOrder(u64),
}

impl Reject {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Reject::UnknownSymbol(_) => "unknown_symbol",
            Reject::SymbolNotTrading { .. } => "symbol_not_trading",
            Reject::OrderTypeNotSupported { .. } => "order_type_not_supported",
            Reject::InvalidParameter(_) => "invalid_parameter",
            Reject::PriceFilter { .. } => "filter_price",
            Reject::LotSize { .. } => "filter_lot_size",
            Reject::MinNotional { .. } => "filter_min_notional",
            Reject::MaxNotional { .. } => "filter_max_notional",
            Reject::PercentPriceBySide { .. } => "filter_percent_price",
            Reject::InsufficientBalance { .. } => "insufficient_balance",
            Reject::WouldTake => "would_take",
            Reject::StopWouldTrigger { .. } => "stop_would_trigger",
            Reject::OcoPrices(_) => "oco_prices",
            Reject::NoMarketData(_) => "no_market_data",
            Reject::UnknownOrder(_) => "unknown_order",
        }
    }

    /// The Binance error code this refusal mirrors.
    pub fn binance_code(&self) -> i32 {
        match self {
            Reject::UnknownSymbol(_) => -1121,
            Reject::SymbolNotTrading { .. } => -1013,
            Reject::OrderTypeNotSupported { .. } => -1116,
            Reject::InvalidParameter(_) => -1102,
            Reject::PriceFilter { .. }
            | Reject::LotSize { .. }
            | Reject::MinNotional { .. }
            | Reject::MaxNotional { .. }
            | Reject::PercentPriceBySide { .. } => -1013,
            Reject::InsufficientBalance { .. }
            | Reject::WouldTake
            | Reject::StopWouldTrigger { .. }
            | Reject::OcoPrices(_)
            | Reject::NoMarketData(_) => -2010,
            Reject::UnknownOrder(_) => -2011,
        }
    }
}

/// A malformed instrument snapshot (`exchangeInfo`).
#[derive(Debug, Error)]
pub enum InstrumentError {
    #[error("exchangeInfo is not valid JSON of the expected shape: {0}")]
    Json(#[from] serde_json::Error),
    #[error("symbol {symbol}: {message}")]
    Invalid { symbol: String, message: String },
}
