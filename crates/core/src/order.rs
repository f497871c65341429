//! Orders: what a user asks for ([`OrderRequest`], [`OcoRequest`]), what the exchange keeps
//! ([`Order`]) and Binance's status machine ([`OrderStatus`]).

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::TimeMs;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "BUY",
            Side::Sell => "SELL",
        }
    }
    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderType {
    Market,
    Limit,
    /// Post-only: rejected if it would take.
    LimitMaker,
    /// Market order once the last price reaches the stop (sell: falls to, buy: rises to).
    StopLoss,
    StopLossLimit,
    /// Market order once the last price reaches the target (sell: rises to, buy: falls to).
    TakeProfit,
    TakeProfitLimit,
}

impl OrderType {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderType::Market => "MARKET",
            OrderType::Limit => "LIMIT",
            OrderType::LimitMaker => "LIMIT_MAKER",
            OrderType::StopLoss => "STOP_LOSS",
            OrderType::StopLossLimit => "STOP_LOSS_LIMIT",
            OrderType::TakeProfit => "TAKE_PROFIT",
            OrderType::TakeProfitLimit => "TAKE_PROFIT_LIMIT",
        }
    }
    pub fn has_stop(self) -> bool {
        matches!(
            self,
            OrderType::StopLoss
                | OrderType::StopLossLimit
                | OrderType::TakeProfit
                | OrderType::TakeProfitLimit
        )
    }
    /// Whether the order carries a limit price.
    pub fn has_price(self) -> bool {
        matches!(
            self,
            OrderType::Limit
                | OrderType::LimitMaker
                | OrderType::StopLossLimit
                | OrderType::TakeProfitLimit
        )
    }
    /// Whether, once working (triggered), the order executes as a market order.
    pub fn is_market_like(self) -> bool {
        matches!(
            self,
            OrderType::Market | OrderType::StopLoss | OrderType::TakeProfit
        )
    }
    pub fn is_stop_loss(self) -> bool {
        matches!(self, OrderType::StopLoss | OrderType::StopLossLimit)
    }
}

macro_rules! str_enum_parse {
    ($t:ty, $what:literal, [$($v:ident),*]) => {
        impl FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let up = s.trim().to_ascii_uppercase().replace('-', "_");
                $( if up == <$t>::$v.as_str() { return Ok(<$t>::$v); } )*
                Err(format!(concat!("unknown ", $what, " '{}' (expected one of: {})"), s,
                    [$(<$t>::$v.as_str()),*].join(", ")))
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

str_enum_parse!(Side, "side", [Buy, Sell]);
str_enum_parse!(
    OrderType,
    "order type",
    [
        Market,
        Limit,
        LimitMaker,
        StopLoss,
        StopLossLimit,
        TakeProfit,
        TakeProfitLimit
    ]
);
str_enum_parse!(TimeInForce, "time in force", [Gtc, Ioc, Fok]);
str_enum_parse!(
    OrderStatus,
    "order status",
    [New, PartiallyFilled, Filled, Canceled, Rejected, Expired]
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TimeInForce {
    /// Good till cancelled.
    Gtc,
    /// Immediate or cancel: whatever does not fill at once expires.
    Ioc,
    /// Fill or kill: fills completely at once or expires without any fill.
    Fok,
}

impl TimeInForce {
    pub fn as_str(self) -> &'static str {
        match self {
            TimeInForce::Gtc => "GTC",
            TimeInForce::Ioc => "IOC",
            TimeInForce::Fok => "FOK",
        }
    }
}

/// Binance's order status machine:
/// `NEW → PARTIALLY_FILLED → FILLED`, and from NEW/PARTIALLY_FILLED to `CANCELED` (by you),
/// `EXPIRED` (IOC/FOK remainder, market order out of liquidity, the other leg of an OCO) or
/// `REJECTED` (refused by the matching engine after it was acknowledged, e.g. a LIMIT_MAKER
/// that would take by the time it arrives).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    New,
    PartiallyFilled,
    Filled,
    Canceled,
    Rejected,
    Expired,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::New => "NEW",
            OrderStatus::PartiallyFilled => "PARTIALLY_FILLED",
            OrderStatus::Filled => "FILLED",
            OrderStatus::Canceled => "CANCELED",
            OrderStatus::Rejected => "REJECTED",
            OrderStatus::Expired => "EXPIRED",
        }
    }
    pub fn is_terminal(self) -> bool {
        !matches!(self, OrderStatus::New | OrderStatus::PartiallyFilled)
    }
}

/// A new order, as a user (or a strategy) submits it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderRequest {
    pub symbol: String,
    pub side: Side,
    pub order_type: OrderType,
    /// Base quantity. Required except for market orders given by `quote_quantity`.
    pub quantity: Option<Decimal>,
    /// Market orders only: the total quote (e.g. USDT) to spend or receive, fees included
    /// (like Binance's `quoteOrderQty`).
    pub quote_quantity: Option<Decimal>,
    pub price: Option<Decimal>,
    pub stop_price: Option<Decimal>,
    pub time_in_force: Option<TimeInForce>,
    pub client_order_id: Option<String>,
}

impl OrderRequest {
    pub fn market(symbol: &str, side: Side, quantity: Decimal) -> Self {
        Self::new(symbol, side, OrderType::Market, Some(quantity), None, None)
    }
    pub fn market_quote(symbol: &str, side: Side, quote: Decimal) -> Self {
        let mut r = Self::new(symbol, side, OrderType::Market, None, None, None);
        r.quote_quantity = Some(quote);
        r
    }
    pub fn limit(symbol: &str, side: Side, quantity: Decimal, price: Decimal) -> Self {
        let mut r = Self::new(
            symbol,
            side,
            OrderType::Limit,
            Some(quantity),
            Some(price),
            None,
        );
        r.time_in_force = Some(TimeInForce::Gtc);
        r
    }
    pub fn new(
        symbol: &str,
        side: Side,
        order_type: OrderType,
        quantity: Option<Decimal>,
        price: Option<Decimal>,
        stop_price: Option<Decimal>,
    ) -> Self {
        OrderRequest {
            symbol: symbol.to_string(),
            side,
            order_type,
            quantity,
            quote_quantity: None,
            price,
            stop_price,
            time_in_force: None,
            client_order_id: None,
        }
    }
    pub fn with_tif(mut self, tif: TimeInForce) -> Self {
        self.time_in_force = Some(tif);
        self
    }
}

/// A one-cancels-the-other pair (Binance's classic OCO): a LIMIT_MAKER leg at `price` and a
/// STOP_LOSS (or STOP_LOSS_LIMIT at `stop_limit_price`) leg at `stop_price`. For a sell,
/// `price > last > stop_price`; for a buy, `price < last < stop_price`. When either leg fills or
/// triggers, the other expires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OcoRequest {
    pub symbol: String,
    pub side: Side,
    pub quantity: Decimal,
    pub price: Decimal,
    pub stop_price: Decimal,
    pub stop_limit_price: Option<Decimal>,
}

/// An order the exchange accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub id: u64,
    /// Set on both legs of an OCO.
    pub list_id: Option<u64>,
    pub client_order_id: Option<String>,
    pub symbol: String,
    pub side: Side,
    pub order_type: OrderType,
    pub time_in_force: Option<TimeInForce>,
    pub quantity: Option<Decimal>,
    pub quote_quantity: Option<Decimal>,
    pub price: Option<Decimal>,
    pub stop_price: Option<Decimal>,
    pub status: OrderStatus,
    pub executed_qty: Decimal,
    pub cumulative_quote_qty: Decimal,
    pub created_ms: TimeMs,
    /// When the order reaches the matching engine (`created_ms` + order-entry latency).
    pub arrival_ms: TimeMs,
    /// The asset and amount reserved for this order and not yet spent.
    pub locked_asset: String,
    pub locked: Decimal,
    /// The matching engine has the order (it arrived).
    pub working: bool,
    /// A stop order whose stop was reached: it now works as a market or limit order.
    pub triggered: bool,
    /// Queue model: base quantity ahead of this order at its price level.
    pub queue_ahead: Option<Decimal>,
}

impl Order {
    /// Base quantity still to fill (None for quote-quantity market orders).
    pub fn remaining(&self) -> Option<Decimal> {
        self.quantity.map(|q| q - self.executed_qty)
    }
    pub fn is_open(&self) -> bool {
        !self.status.is_terminal()
    }
    /// The limit price the order works at now, if any.
    pub fn working_limit(&self) -> Option<Decimal> {
        if self.order_type.has_price() {
            self.price
        } else {
            None
        }
    }
}
