//! What the desktop UI sends and receives. Decimals cross as strings (exact); times are
//! milliseconds since the Unix epoch. With the `ipc-types` feature every type also derives
//! `specta::Type`, from which the shell generates the UI's TypeScript bindings.

use papermemes_core::event::Level;
use papermemes_core::instrument::Instrument;
use papermemes_core::order::{Order, OrderStatus, OrderType, Side, TimeInForce};
use papermemes_core::portfolio::Fill;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The three kinds of market, each with its own paper account and clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum MarketKind {
    /// Recorded real market history (bundled candles or a recorded capture).
    Replay,
    /// The seeded simulator (no data, no network).
    Sim,
    /// Binance public streams.
    Live,
}

/// A market source to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceSpec {
    /// Bundled real candles of these symbols at `interval` ("5m" or "1h"), from `from_ms`
    /// (or the beginning).
    Candles {
        symbols: Vec<String>,
        interval: String,
        from_ms: Option<i64>,
    },
    /// A recorded WebSocket capture (the bundled one or one made with `papermemes record`).
    Capture { path: String },
    /// The simulator, seeded.
    Sim { seed: u32 },
    /// Live Binance public data for these symbols.
    Live { symbols: Vec<String> },
}

impl SourceSpec {
    pub fn kind(&self) -> MarketKind {
        match self {
            SourceSpec::Candles { .. } | SourceSpec::Capture { .. } => MarketKind::Replay,
            SourceSpec::Sim { .. } => MarketKind::Sim,
            SourceSpec::Live { .. } => MarketKind::Live,
        }
    }
}

/// A recorded capture the Replay source can play.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct CaptureFile {
    pub name: String,
    pub path: String,
    pub size_bytes: f64,
    /// Shipped with the app (else found in the data folder's `captures/`).
    pub bundled: bool,
}

/// Feed state as the status bar shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum FeedStateView {
    Connecting,
    Syncing,
    Live,
    Stale,
    Resyncing,
    Stopped,
    Paused,
    Finished,
    Loading,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct DeskStatus {
    pub kind: MarketKind,
    pub source: SourceSpec,
    /// A human name for the source ("Simulator (seed 1)", "Replay: 5m candles", …).
    pub source_label: String,
    pub state: FeedStateView,
    pub reason: String,
    pub paused: bool,
    /// Market-time multiplier (1 = real time); 0 = as fast as possible.
    pub speed: f64,
    pub market_time_ms: Option<i64>,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub symbols: Vec<String>,
    /// Chart intervals this source can draw ("1m", "5m", …).
    pub intervals: Vec<String>,
    /// Whether the source has an L2 order book (candle replays do not).
    pub has_book: bool,
    pub has_trades: bool,
    pub account_id: i64,
    pub data_dir: String,
    /// Market events per second over the last few seconds.
    pub events_per_sec: f64,
    /// Exchange event time to local receive time, for live data.
    pub lag_ms: Option<i64>,
    pub reconnects: u64,
    pub resyncs: u64,
    /// The chart's history of this market is being worked out in the background (a simulator
    /// that has just started or resumed); the chart fills in when it is done.
    pub history_pending: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct InstrumentView {
    pub symbol: String,
    pub base_asset: String,
    pub quote_asset: String,
    pub tick_size: Decimal,
    pub min_price: Decimal,
    pub max_price: Decimal,
    pub step_size: Decimal,
    pub min_qty: Decimal,
    pub max_qty: Decimal,
    pub market_step_size: Decimal,
    pub market_min_qty: Decimal,
    pub market_max_qty: Decimal,
    pub min_notional: Decimal,
    pub max_notional: Option<Decimal>,
    /// Decimal places of a price (from the tick) and of a quantity (from the step).
    pub price_decimals: u32,
    pub qty_decimals: u32,
    /// PERCENT_PRICE_BY_SIDE multipliers: bid up/down, ask up/down.
    pub percent_price: Option<[Decimal; 4]>,
    pub order_types: Vec<String>,
    /// Filter values that are estimates, not read from the exchange.
    pub estimated: Vec<String>,
}

fn decimals(d: Decimal) -> u32 {
    d.normalize().scale()
}

impl From<&Instrument> for InstrumentView {
    fn from(i: &Instrument) -> Self {
        let lot = i.lot_size.clone();
        let mlot = i.market_lot_size.clone().or_else(|| lot.clone());
        let tick = i.tick();
        let step = i.step();
        InstrumentView {
            symbol: i.symbol.clone(),
            base_asset: i.base_asset.clone(),
            quote_asset: i.quote_asset.clone(),
            tick_size: tick,
            min_price: i
                .price_filter
                .as_ref()
                .map_or(Decimal::ZERO, |p| p.min_price),
            max_price: i
                .price_filter
                .as_ref()
                .map_or(Decimal::ZERO, |p| p.max_price),
            step_size: step,
            min_qty: lot.as_ref().map_or(Decimal::ZERO, |l| l.min_qty),
            max_qty: lot.as_ref().map_or(Decimal::ZERO, |l| l.max_qty),
            market_step_size: i.market_step(),
            market_min_qty: mlot.as_ref().map_or(Decimal::ZERO, |l| l.min_qty),
            market_max_qty: mlot.as_ref().map_or(Decimal::ZERO, |l| l.max_qty),
            min_notional: i
                .notional
                .as_ref()
                .map_or(Decimal::ZERO, |n| n.min_notional),
            max_notional: i
                .notional
                .as_ref()
                .map(|n| n.max_notional)
                .filter(|m| !m.is_zero()),
            price_decimals: decimals(tick),
            qty_decimals: decimals(step),
            percent_price: i.percent_price_by_side.as_ref().map(|p| {
                [
                    p.bid_multiplier_up,
                    p.bid_multiplier_down,
                    p.ask_multiplier_up,
                    p.ask_multiplier_down,
                ]
            }),
            order_types: i.order_types.clone(),
            estimated: i.estimated.clone(),
        }
    }
}

/// A watchlist line.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct TickerView {
    pub symbol: String,
    pub last: Option<Decimal>,
    /// Change of the last price over the window, in percent.
    pub change_pct: Option<f64>,
    /// The window the change covers: 24 h once that much history exists, less before.
    pub change_window_ms: i64,
    pub high: Option<Decimal>,
    pub low: Option<Decimal>,
    /// Quote volume over the window.
    pub quote_volume: Decimal,
}

/// One side's level: price and quantity.
pub type LevelView = (Decimal, Decimal);

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct BookView {
    pub symbol: String,
    /// Best first.
    pub bids: Vec<LevelView>,
    pub asks: Vec<LevelView>,
    pub last_update_id: i64,
}

impl BookView {
    pub fn new(symbol: &str, bids: Vec<Level>, asks: Vec<Level>, id: u64) -> Self {
        BookView {
            symbol: symbol.to_string(),
            bids,
            asks,
            last_update_id: i64::try_from(id).unwrap_or(i64::MAX),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct TradeView {
    pub time_ms: i64,
    pub price: Decimal,
    pub quantity: Decimal,
    /// The aggressor bought (the trade lifted an ask).
    pub buy: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct CandleView {
    /// Open time.
    pub time_ms: i64,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
    pub volume: Decimal,
}

/// What a market view asks to receive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct ViewSpec {
    pub symbol: String,
    /// Chart interval, e.g. "1m", "5m", "15m", "1h", "4h", "1d".
    pub interval: String,
    /// Book levels per side (1 to 50).
    pub depth: u32,
}

/// One frame of market data for a view: only what changed since the previous frame.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct Frame {
    pub seq: u32,
    pub market_time_ms: Option<i64>,
    pub tickers: Vec<TickerView>,
    pub book: Option<BookView>,
    /// New trades of the view's symbol, oldest first (at most a screenful per frame).
    pub trades: Vec<TradeView>,
    /// Candles of the view's symbol and interval that changed (the forming one, and the one
    /// that just closed), oldest first.
    pub candles: Vec<CandleView>,
    /// The source changed or the view fell behind: drop what you have and reload.
    pub reset: bool,
    /// More chart history is available (computed in the background): reload the chart.
    pub history: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub enum SideView {
    #[serde(rename = "BUY")]
    Buy,
    #[serde(rename = "SELL")]
    Sell,
}

impl From<SideView> for Side {
    fn from(s: SideView) -> Side {
        match s {
            SideView::Buy => Side::Buy,
            SideView::Sell => Side::Sell,
        }
    }
}

impl From<Side> for SideView {
    fn from(s: Side) -> SideView {
        match s {
            Side::Buy => SideView::Buy,
            Side::Sell => SideView::Sell,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderTypeView {
    Market,
    Limit,
    LimitMaker,
    StopLoss,
    StopLossLimit,
    TakeProfit,
    TakeProfitLimit,
}

impl From<OrderTypeView> for OrderType {
    fn from(t: OrderTypeView) -> OrderType {
        match t {
            OrderTypeView::Market => OrderType::Market,
            OrderTypeView::Limit => OrderType::Limit,
            OrderTypeView::LimitMaker => OrderType::LimitMaker,
            OrderTypeView::StopLoss => OrderType::StopLoss,
            OrderTypeView::StopLossLimit => OrderType::StopLossLimit,
            OrderTypeView::TakeProfit => OrderType::TakeProfit,
            OrderTypeView::TakeProfitLimit => OrderType::TakeProfitLimit,
        }
    }
}

impl From<OrderType> for OrderTypeView {
    fn from(t: OrderType) -> OrderTypeView {
        match t {
            OrderType::Market => OrderTypeView::Market,
            OrderType::Limit => OrderTypeView::Limit,
            OrderType::LimitMaker => OrderTypeView::LimitMaker,
            OrderType::StopLoss => OrderTypeView::StopLoss,
            OrderType::StopLossLimit => OrderTypeView::StopLossLimit,
            OrderType::TakeProfit => OrderTypeView::TakeProfit,
            OrderType::TakeProfitLimit => OrderTypeView::TakeProfitLimit,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub enum TifView {
    #[serde(rename = "GTC")]
    Gtc,
    #[serde(rename = "IOC")]
    Ioc,
    #[serde(rename = "FOK")]
    Fok,
}

impl From<TifView> for TimeInForce {
    fn from(t: TifView) -> TimeInForce {
        match t {
            TifView::Gtc => TimeInForce::Gtc,
            TifView::Ioc => TimeInForce::Ioc,
            TifView::Fok => TimeInForce::Fok,
        }
    }
}

impl From<TimeInForce> for TifView {
    fn from(t: TimeInForce) -> TifView {
        match t {
            TimeInForce::Gtc => TifView::Gtc,
            TimeInForce::Ioc => TifView::Ioc,
            TimeInForce::Fok => TifView::Fok,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatusView {
    New,
    PartiallyFilled,
    Filled,
    Canceled,
    Rejected,
    Expired,
}

impl From<OrderStatus> for OrderStatusView {
    fn from(s: OrderStatus) -> OrderStatusView {
        match s {
            OrderStatus::New => OrderStatusView::New,
            OrderStatus::PartiallyFilled => OrderStatusView::PartiallyFilled,
            OrderStatus::Filled => OrderStatusView::Filled,
            OrderStatus::Canceled => OrderStatusView::Canceled,
            OrderStatus::Rejected => OrderStatusView::Rejected,
            OrderStatus::Expired => OrderStatusView::Expired,
        }
    }
}

/// An order as the ticket sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct OrderTicket {
    pub symbol: String,
    pub side: SideView,
    pub order_type: OrderTypeView,
    /// Base quantity (all types except a market order by quote amount).
    pub quantity: Option<Decimal>,
    /// Market orders only: the USDT to spend (buy) or receive (sell), fees included.
    pub quote_quantity: Option<Decimal>,
    pub price: Option<Decimal>,
    pub stop_price: Option<Decimal>,
    pub time_in_force: Option<TifView>,
}

/// A one-cancels-the-other pair: a limit-maker leg at `price` and a stop leg at `stop_price`
/// (a stop-limit at `stop_limit_price` when given, else a stop-market).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct OcoTicket {
    pub symbol: String,
    pub side: SideView,
    pub quantity: Decimal,
    pub price: Decimal,
    pub stop_price: Decimal,
    pub stop_limit_price: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct OrderView {
    pub id: i64,
    pub list_id: Option<i64>,
    pub symbol: String,
    pub side: SideView,
    pub order_type: OrderTypeView,
    pub time_in_force: Option<TifView>,
    pub quantity: Option<Decimal>,
    pub quote_quantity: Option<Decimal>,
    pub price: Option<Decimal>,
    pub stop_price: Option<Decimal>,
    pub status: OrderStatusView,
    pub executed_qty: Decimal,
    pub cumulative_quote_qty: Decimal,
    /// Average fill price so far.
    pub avg_price: Option<Decimal>,
    pub created_ms: i64,
    /// Time of the latest status change.
    pub updated_ms: i64,
    /// Why it ended, when it did not fill ("expired: no more liquidity", …).
    pub reason: Option<String>,
}

pub(crate) fn id64(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

pub(crate) fn avg(cum_quote: Decimal, qty: Decimal) -> Option<Decimal> {
    if qty.is_zero() {
        None
    } else {
        Some((cum_quote / qty).round_dp(12).normalize())
    }
}

impl From<&Order> for OrderView {
    fn from(o: &Order) -> Self {
        OrderView {
            id: id64(o.id),
            list_id: o.list_id.map(id64),
            symbol: o.symbol.clone(),
            side: o.side.into(),
            order_type: o.order_type.into(),
            time_in_force: o.time_in_force.map(Into::into),
            quantity: o.quantity,
            quote_quantity: o.quote_quantity,
            price: o.price,
            stop_price: o.stop_price,
            status: o.status.into(),
            executed_qty: o.executed_qty,
            cumulative_quote_qty: o.cumulative_quote_qty,
            avg_price: avg(o.cumulative_quote_qty, o.executed_qty),
            created_ms: o.created_ms,
            updated_ms: o.created_ms,
            reason: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct FillView {
    pub id: i64,
    pub order_id: i64,
    pub symbol: String,
    pub side: SideView,
    pub price: Decimal,
    pub quantity: Decimal,
    pub quote_quantity: Decimal,
    pub fee: Decimal,
    pub fee_asset: String,
    pub is_maker: bool,
    pub time_ms: i64,
}

impl From<&Fill> for FillView {
    fn from(f: &Fill) -> Self {
        FillView {
            id: id64(f.id),
            order_id: id64(f.order_id),
            symbol: f.symbol.clone(),
            side: f.side.into(),
            price: f.price,
            quantity: f.quantity,
            quote_quantity: f.quote_quantity,
            fee: f.fee,
            fee_asset: f.fee_asset.clone(),
            is_maker: f.is_maker,
            time_ms: f.time_ms,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct BalanceLine {
    pub asset: String,
    pub free: Decimal,
    pub locked: Decimal,
    /// Value in the quote asset at the current mark (the quote asset itself at 1).
    pub value: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct PositionLine {
    pub symbol: String,
    pub quantity: Decimal,
    pub avg_cost: Decimal,
    pub mark: Option<Decimal>,
    pub value: Option<Decimal>,
    pub unrealized_pnl: Decimal,
    /// Unrealized PnL against the cost of the position, in percent.
    pub unrealized_pct: Option<f64>,
    pub realized_pnl: Decimal,
    pub fees_paid: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct PortfolioSummary {
    pub account_id: i64,
    pub quote_asset: String,
    pub market_time_ms: Option<i64>,
    pub balances: Vec<BalanceLine>,
    pub positions: Vec<PositionLine>,
    pub equity: Decimal,
    pub initial_cash: Decimal,
    pub return_pct: f64,
    pub realized_pnl: Decimal,
    pub unrealized_pnl: Decimal,
    pub fees_paid: Decimal,
    pub open_orders: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct EquityPointView {
    pub time_ms: i64,
    pub equity: Decimal,
}

/// What an order would cost if it were sent now (walking the current book for market orders).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct Estimate {
    /// Quantity that would fill now (a market order may fill less when depth runs out).
    pub quantity: Decimal,
    pub avg_price: Option<Decimal>,
    /// The reference price the slippage is measured from (best opposite price, or the last
    /// close on a candle replay).
    pub reference_price: Option<Decimal>,
    /// Cost of the walk beyond the reference, in basis points (always ≥ 0).
    pub slippage_bps: Option<f64>,
    pub notional: Decimal,
    pub fee: Decimal,
    pub fee_asset: String,
    /// Taker (takes liquidity) or maker (rests).
    pub taker: bool,
    /// The book could not fill all of it.
    pub partial: bool,
    /// How the estimate was made, for people.
    pub basis: String,
}

/// A low-rate notice for the UI (fills, order changes, source changes, problems).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    Fill {
        fill: FillView,
    },
    /// An order changed status (filled, cancelled, expired, …).
    Order {
        order_id: i64,
        status: OrderStatusView,
        reason: Option<String>,
    },
    /// The market source, its state or the account changed: refresh what you show.
    Status {
        status: DeskStatus,
    },
    Error {
        code: String,
        message: String,
    },
}

/// UI preferences kept in the settings file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
#[serde(default, deny_unknown_fields)]
pub struct DesktopSettings {
    /// "dark" or "light".
    pub theme: String,
    /// The market the app opens on: "replay", "sim" or "live".
    pub market: MarketKind,
    /// The replay/simulator speed last chosen for that market (none: the source's usual speed).
    pub speed: Option<f64>,
    pub symbol: String,
    pub interval: String,
    /// Orders worth more than this (USDT) ask for confirmation.
    pub confirm_above: Decimal,
    /// Native notification when an order fills.
    pub notify_fills: bool,
}

impl DesktopSettings {
    /// Refuse values the app cannot use (nothing is saved then).
    pub fn validate(&self) -> Result<(), crate::AppError> {
        if self.theme != "dark" && self.theme != "light" {
            return Err(crate::AppError::invalid(
                "settings.bad_theme",
                format!("theme must be \"dark\" or \"light\", not {:?}", self.theme),
            ));
        }
        if let Some(speed) = self.speed {
            if !(0.0..=100_000.0).contains(&speed) {
                return Err(crate::AppError::invalid(
                    "settings.bad_speed",
                    format!("speed must be between 0 and 100000, not {speed}"),
                ));
            }
        }
        if super::bars::interval_ms(&self.interval).is_none() {
            return Err(crate::AppError::invalid(
                "settings.bad_interval",
                format!("unknown chart interval {:?}", self.interval),
            ));
        }
        if self.symbol.is_empty() || !self.symbol.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(crate::AppError::invalid(
                "settings.bad_symbol",
                format!("invalid symbol {:?}", self.symbol),
            ));
        }
        if self.confirm_above < Decimal::ZERO {
            return Err(crate::AppError::invalid(
                "settings.bad_confirm",
                "the confirmation threshold cannot be negative",
            ));
        }
        Ok(())
    }
}

impl Default for DesktopSettings {
    fn default() -> Self {
        DesktopSettings {
            theme: "dark".into(),
            market: MarketKind::Sim,
            speed: None,
            symbol: "PEPEUSDT".into(),
            interval: "1m".into(),
            confirm_above: Decimal::from(1000),
            notify_fills: true,
        }
    }
}
