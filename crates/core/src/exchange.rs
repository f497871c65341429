//! The deterministic paper exchange: one spot account, many symbols.
//!
//! It consumes [`MarketEvent`]s and order requests and produces [`ExecEvent`]s (new orders,
//! status updates, fills, balance changes) that the ledger records. It reads no clock: every
//! time is market time passed in, so the same events and orders give byte-identical output.
//!
//! # Fill models (documented in `docs/fill-model.md`)
//!
//! The model depends on what the market gives for a symbol:
//!
//! * **L2 book** (depth snapshot + diffs, or a one-level book from `bookTicker`): market orders
//!   walk the book level by level; the price is the real book's (that is the slippage) and
//!   what runs out expires, as on Binance. Liquidity you took stays consumed: a level you took
//!   from is reduced by what you took until the exchange's own updates reduce it by as much
//!   (two orders cannot fill from the same size). With a one-level `bookTicker` book the
//!   consumption lives only as long as the touch price: when the best price moves away, the
//!   level (and what we took from it) leaves the book.
//! * **Resting limit orders** fill when a trade prints *through* their price (fully: everything
//!   at a better price for the aggressor traded first), or *at* their price once the queue
//!   ahead of them is gone: the queue is the book size at the price when the order arrived;
//!   trades at the price eat it; size that leaves the level without a trade (cancels) moves the
//!   order up proportionally to its place (`ahead -= cancelled × ahead / level`). If the
//!   opposite side of the book crosses a resting price, the order fills at its own price as
//!   maker against the crossing size. Known optimism: a paper order does not exist in the real
//!   queue, so nobody reacts to it, and a cancel is assumed uniformly spread over the queue.
//! * **Order-entry latency**: an order reaches the matching engine `latency_ms` of market time
//!   after it was submitted (default 50 ms); it matches against the market as it is then.
//! * **Candles only**: market orders fill at the open of the bar in which they arrive (the next
//!   bar after a signal at a close) moved against you by `slippage_bps` and rounded to the tick
//!   against you; a limit order marketable at that open fills at the open (taker), otherwise it
//!   rests and fills at its limit when a later range trades strictly through it (a touch is
//!   not enough); stops trigger when the bar's low/high reaches them and fill at the stop (or at
//!   the open when the bar gapped past it: below a falling stop, above a rising one) with
//!   slippage; a stop-limit trades at that same price if it is within its limit, else rests at
//!   its limit; when one bar reaches both legs of an OCO the pessimistic leg (the stop) wins.
//!   Candle fills assume unlimited size at the price.
//! * **Stops** (book and trades) trigger on the last trade price. A trigger is reported as an
//!   order update with the unchanged status and the reason [`STOP_TRIGGERED`].
//!
//! # Fees
//! Maker when the order rested and was hit, taker when it took. Fees are charged in the quote
//! asset (USDT), like paying commission from the quote balance, so a bought quantity is exactly
//! the quantity you asked for and can be sold in full; every fill records fee and fee asset.
//!
//! # Funds
//! Orders reserve ("lock") what they may spend when accepted: limit buys `qty × price × (1 +
//! max fee)`, sells their base quantity, market buys an estimate at the current price (or the
//! quote amount for quote orders). A fill takes from the order's lock first and from free
//! balance after; a market order whose cost exceeds what it can pay fills what it can and
//! expires the rest. Balances never go negative.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::book::OrderBook;
use crate::error::Reject;
use crate::event::{Candle, Level, MarketEvent};
use crate::instrument::{Instrument, Instruments};
use crate::num::{bps, ceil_to_step, floor_to_step};
use crate::order::{OcoRequest, Order, OrderRequest, OrderStatus, OrderType, Side, TimeInForce};
use crate::portfolio::{BalanceChange, ChangeReason, Fill, Portfolio};
use crate::TimeMs;

mod state;
pub use state::MarketState;

/// Exchange settings for one account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExchangeConfig {
    /// Maker fee in basis points (Binance's standard spot rate is 10).
    pub maker_fee_bps: Decimal,
    pub taker_fee_bps: Decimal,
    /// Order-entry latency in milliseconds of market time.
    pub latency_ms: i64,
    /// Candle fills: how far market and stop fills move against you, in basis points.
    pub slippage_bps: Decimal,
}

impl Default for ExchangeConfig {
    fn default() -> Self {
        ExchangeConfig {
            maker_fee_bps: Decimal::TEN,
            taker_fee_bps: Decimal::TEN,
            latency_ms: 50,
            slippage_bps: Decimal::ZERO,
        }
    }
}

/// A change of an order's state, as recorded in the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderUpdate {
    pub order_id: u64,
    pub status: OrderStatus,
    pub executed_qty: Decimal,
    pub cumulative_quote_qty: Decimal,
    pub reason: Option<String>,
    pub time_ms: TimeMs,
}

/// What the exchange reports. The ledger records these in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ExecEvent {
    /// A newly accepted order (status NEW).
    OrderNew(Order),
    OrderUpdate(OrderUpdate),
    Fill(Fill),
    Balance(BalanceChange),
}

/// Which [`ExecEvent`]s the exchange reports. Either way every order, fill and balance change
/// takes effect exactly the same; only which records are built differs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Report {
    /// Every event (what the ledger records).
    #[default]
    All,
    /// Fills only: for a backtest, which builds its trades from fills and reads balances from
    /// the portfolio, so order and balance records would be built only to be dropped.
    Fills,
}

/// How a symbol's market is known to the exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Nothing yet.
    None,
    /// An L2 book (depth or bookTicker).
    Book,
    /// Trades but no book: fills at the last trade price with slippage.
    Trades,
    /// Candles only.
    Candles,
}

#[derive(Debug, Clone, Default)]
struct Market {
    book: OrderBook,
    has_book: bool,
    last_trade: Option<Decimal>,
    last_close: Option<Decimal>,
    /// Our own consumption of book levels, by (book side, price).
    consumed: BTreeMap<(Side, Decimal), Decimal>,
    /// Traded size at a level since the level's last book update, by (book side, price).
    traded: BTreeMap<(Side, Decimal), Decimal>,
}

impl Market {
    fn mode(&self) -> Mode {
        if self.has_book && !self.book.is_empty() {
            Mode::Book
        } else if self.last_trade.is_some() {
            Mode::Trades
        } else if self.last_close.is_some() {
            Mode::Candles
        } else {
            Mode::None
        }
    }

    /// Mark price: book mid, else last trade, else last close.
    fn mark(&self) -> Option<Decimal> {
        if self.has_book {
            if let Some(m) = self.book.mid() {
                return Some(m);
            }
        }
        self.last_trade.or(self.last_close)
    }

    /// Best price a taker on `side` would get now.
    fn touch(&self, side: Side) -> Option<Decimal> {
        if self.has_book {
            let lvl = match side {
                Side::Buy => self.book.best_ask(),
                Side::Sell => self.book.best_bid(),
            };
            if let Some((p, _)) = lvl {
                return Some(p);
            }
        }
        self.last_trade.or(self.last_close)
    }

    fn available(&self, book_side: Side, price: Decimal, qty: Decimal) -> Decimal {
        let used = self
            .consumed
            .get(&(book_side, price))
            .copied()
            .unwrap_or_default();
        (qty - used).max(Decimal::ZERO)
    }

    /// Replace the one-level book of a `bookTicker` feed. Our consumption survives only at a
    /// best price that did not move, reduced by any drop of its size (as a diff would); levels
    /// that left the one-level book take their consumption with them.
    fn apply_ticker(&mut self, bid: Level, ask: Level) {
        for (side, (price, qty)) in [(Side::Buy, bid), (Side::Sell, ask)] {
            let old_best = match side {
                Side::Buy => self.book.best_bid(),
                Side::Sell => self.book.best_ask(),
            };
            let kept = match old_best {
                Some((p, old)) if p == price => self
                    .consumed
                    .get(&(side, price))
                    .map(|c| *c - (old - qty).max(Decimal::ZERO))
                    .filter(|c| *c > Decimal::ZERO),
                _ => None,
            };
            self.consumed.retain(|(s, _), _| *s != side);
            self.traded.retain(|(s, _), _| *s != side);
            if let Some(c) = kept {
                self.consumed.insert((side, price), c);
            }
        }
        self.book.reset(&[bid], &[ask], 0);
    }

    /// Set one book level, keeping our consumption and the queue bookkeeping consistent.
    /// Returns the previous quantity.
    fn set_level(&mut self, book_side: Side, price: Decimal, qty: Decimal) -> Decimal {
        let old = self.book.replace_level(book_side, price, qty);
        // Nearly always empty (we rarely take liquidity that the book has not refilled yet).
        if self.consumed.is_empty() {
            return old;
        }
        let key = (book_side, price);
        if qty.is_zero() {
            self.consumed.remove(&key);
        } else if qty < old {
            if let Some(c) = self.consumed.get_mut(&key) {
                *c -= old - qty;
                if *c <= Decimal::ZERO {
                    self.consumed.remove(&key);
                }
            }
        }
        old
    }
}

/// Open orders in id order. A vector rather than a map: only a few orders are open at a time
/// (Binance allows 200 per symbol), ids only grow so a new order goes at the end, and an order
/// (a few hundred bytes) is not moved in and out of tree nodes as it is accepted and finished.
#[derive(Debug, Clone, Default)]
struct OpenOrders(Vec<Order>);

impl OpenOrders {
    fn find(&self, id: u64) -> Result<usize, usize> {
        self.0.binary_search_by_key(&id, |o| o.id)
    }
    fn get(&self, id: &u64) -> Option<&Order> {
        self.find(*id).ok().map(|i| &self.0[i])
    }
    fn get_mut(&mut self, id: &u64) -> Option<&mut Order> {
        self.find(*id).ok().map(|i| &mut self.0[i])
    }
    /// Add (or replace) the order with id `id`.
    fn insert(&mut self, id: u64, order: Order) {
        debug_assert_eq!(id, order.id);
        match self.find(id) {
            Ok(i) => self.0[i] = order,
            Err(i) if i == self.0.len() => self.0.push(order),
            Err(i) => self.0.insert(i, order),
        }
    }
    fn remove(&mut self, id: &u64) -> Option<Order> {
        self.find(*id).ok().map(|i| self.0.remove(i))
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn values(&self) -> std::slice::Iter<'_, Order> {
        self.0.iter()
    }
    fn values_mut(&mut self) -> std::slice::IterMut<'_, Order> {
        self.0.iter_mut()
    }
    /// The orders with ids from `from` on.
    fn starting_at(&self, from: u64) -> &[Order] {
        let i = self.find(from).unwrap_or_else(|i| i);
        &self.0[i..]
    }
}

/// The paper exchange for one account.
#[derive(Debug, Clone)]
pub struct Exchange {
    instruments: Instruments,
    config: ExchangeConfig,
    quote_asset: String,
    portfolio: Portfolio,
    markets: BTreeMap<String, Market>,
    open: OpenOrders,
    /// Fees paid per order (not part of `Order`, which mirrors what Binance reports).
    order_fees: BTreeMap<u64, Decimal>,
    next_order_id: u64,
    next_fill_id: u64,
    next_list_id: u64,
    now: TimeMs,
    /// Some resting order's queue position is unknown (restored); see [`Exchange::restore`].
    queues_unknown: bool,
    /// `config`'s basis points as fractions, worked out once (`config` never changes).
    rates: Rates,
    report: Report,
}

#[derive(Debug, Clone, Copy)]
struct Rates {
    maker_fee: Decimal,
    taker_fee: Decimal,
    /// `1 + taker_fee`.
    one_plus_taker_fee: Decimal,
    max_fee: Decimal,
    slippage: Decimal,
}

impl Rates {
    fn new(config: &ExchangeConfig) -> Self {
        let taker_fee = bps(config.taker_fee_bps);
        Rates {
            maker_fee: bps(config.maker_fee_bps),
            taker_fee,
            one_plus_taker_fee: Decimal::ONE + taker_fee,
            max_fee: bps(config.maker_fee_bps.max(config.taker_fee_bps)),
            slippage: bps(config.slippage_bps),
        }
    }
}

/// Counters to continue numbering after a restart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextIds {
    pub order: u64,
    pub fill: u64,
    pub list: u64,
}

impl Exchange {
    /// A new account holding `initial` of the quote asset. The deposit is returned as the
    /// first balance change so the ledger records it.
    pub fn new(instruments: Instruments, config: ExchangeConfig, quote_asset: &str) -> Self {
        Exchange {
            instruments,
            rates: Rates::new(&config),
            report: Report::All,
            config,
            quote_asset: quote_asset.to_string(),
            portfolio: Portfolio::default(),
            markets: BTreeMap::new(),
            open: OpenOrders::default(),
            order_fees: BTreeMap::new(),
            next_order_id: 1,
            next_fill_id: 1,
            next_list_id: 1,
            now: 0,
            queues_unknown: false,
        }
    }

    /// Rebuild an exchange from what the ledger holds: the portfolio (balances and positions),
    /// the open orders and the id counters. Restored orders keep their `working` flag; a resting
    /// order's queue position restarts at the back of the level it rests on as soon as the
    /// level is known (the conservative choice); a stop order that executed anything counts as
    /// triggered.
    pub fn restore(
        instruments: Instruments,
        config: ExchangeConfig,
        quote_asset: &str,
        portfolio: Portfolio,
        open_orders: Vec<Order>,
        next: NextIds,
        now: TimeMs,
    ) -> Self {
        let mut ex = Exchange::new(instruments, config, quote_asset);
        ex.portfolio = portfolio;
        ex.reinstate_orders(open_orders);
        ex.next_order_id = next.order.max(1);
        ex.next_fill_id = next.fill.max(1);
        ex.next_list_id = next.list.max(1);
        ex.now = now;
        ex
    }

    /// Put back open orders read from the ledger (see [`Exchange::restore`]). A caller that
    /// rebuilt the market state first (by feeding past events to an exchange without orders,
    /// so nothing could match twice) reinstates the orders afterwards: resting orders then
    /// join the back of their level's queue at once.
    pub fn reinstate_orders(&mut self, orders: Vec<Order>) {
        for mut o in orders {
            o.queue_ahead = None;
            if o.order_type.has_stop() && o.executed_qty > Decimal::ZERO {
                // Only a triggered stop can have executed anything.
                o.triggered = true;
            }
            self.queues_unknown |= o.working && o.working_limit().is_some();
            self.open.insert(o.id, o);
        }
        if self.queues_unknown {
            self.init_unknown_queues();
        }
    }

    /// Credit `amount` of `asset` (an account's starting cash).
    pub fn deposit(&mut self, asset: &str, amount: Decimal, now: TimeMs) -> Vec<ExecEvent> {
        let change = BalanceChange {
            asset: asset.to_string(),
            free_delta: amount,
            locked_delta: Decimal::ZERO,
            reason: ChangeReason::Deposit,
            order_id: None,
            fill_id: None,
            time_ms: now,
        };
        self.portfolio.apply_change(&change);
        vec![ExecEvent::Balance(change)]
    }

    pub fn instruments(&self) -> &Instruments {
        &self.instruments
    }
    pub fn config(&self) -> &ExchangeConfig {
        &self.config
    }
    pub fn portfolio(&self) -> &Portfolio {
        &self.portfolio
    }
    pub fn quote_asset(&self) -> &str {
        &self.quote_asset
    }
    pub fn now(&self) -> TimeMs {
        self.now
    }
    pub fn next_ids(&self) -> NextIds {
        NextIds {
            order: self.next_order_id,
            fill: self.next_fill_id,
            list: self.next_list_id,
        }
    }
    pub fn open_orders(&self) -> impl Iterator<Item = &Order> {
        self.open.values()
    }
    /// Which events the exchange reports from now on (see [`Report`]; [`Report::All`] unless
    /// set). [`Exchange::submit`] and [`Exchange::submit_oco`] always report everything, as
    /// they describe the new orders from their events.
    pub fn set_report(&mut self, report: Report) {
        self.report = report;
    }
    pub fn report(&self) -> Report {
        self.report
    }
    fn reports_all(&self) -> bool {
        self.report == Report::All
    }
    /// Whether any order is open (cheaper than asking [`Exchange::open_orders`]).
    pub fn has_open_orders(&self) -> bool {
        !self.open.is_empty()
    }
    pub fn order(&self, id: u64) -> Option<&Order> {
        self.open.get(&id)
    }
    pub fn book(&self, symbol: &str) -> Option<&OrderBook> {
        self.markets
            .get(symbol)
            .filter(|m| m.has_book)
            .map(|m| &m.book)
    }

    /// Set a symbol's last known close without matching anything (used when restoring the
    /// market state of a replay that already processed that bar).
    pub fn prime_close(&mut self, symbol: &str, close: Decimal) {
        match self.markets.get_mut(symbol) {
            Some(m) => m.last_close = Some(close),
            None => {
                self.markets.insert(
                    symbol.to_string(),
                    Market {
                        last_close: Some(close),
                        ..Market::default()
                    },
                );
            }
        }
    }

    /// Mark price of a symbol (book mid, else last trade, else last close).
    pub fn mark(&self, symbol: &str) -> Option<Decimal> {
        self.markets.get(symbol).and_then(Market::mark)
    }

    /// Equity in the quote asset: quote balances plus every other asset at its mark against the
    /// quote (assets without a mark count at zero).
    pub fn equity(&self) -> Decimal {
        let mut eq = Decimal::ZERO;
        for (asset, bal) in &self.portfolio.balances {
            if *asset == self.quote_asset {
                eq += bal.total();
            } else if !bal.total().is_zero() {
                let symbol = format!("{asset}{}", self.quote_asset);
                if let Some(m) = self.mark(&symbol) {
                    eq += bal.total() * m;
                }
            }
        }
        eq
    }

    /// Unrealized PnL of one symbol's position at its mark.
    pub fn unrealized_pnl(&self, symbol: &str) -> Decimal {
        match (self.portfolio.position(symbol), self.mark(symbol)) {
            (Some(p), Some(m)) => p.unrealized_pnl(m),
            _ => Decimal::ZERO,
        }
    }

    fn fee_rate(&self, maker: bool) -> Decimal {
        if maker {
            self.rates.maker_fee
        } else {
            self.rates.taker_fee
        }
    }

    fn max_fee_rate(&self) -> Decimal {
        self.rates.max_fee
    }

    // ----------------------------------------------------------------------------------------
    // Order entry
    // ----------------------------------------------------------------------------------------

    /// Submit an order at market time `now`. On success the order is acknowledged (status NEW)
    /// and reaches the matching engine after the configured latency (or at once with zero
    /// latency and a book). On refusal nothing changes.
    pub fn submit(
        &mut self,
        req: OrderRequest,
        now: TimeMs,
    ) -> Result<(Order, Vec<ExecEvent>), Reject> {
        let mut out = Vec::new();
        let report = std::mem::replace(&mut self.report, Report::All);
        let id = self.submit_into(req, now, &mut out);
        self.report = report;
        let order = self.snapshot(id?, &out);
        Ok((order, out))
    }

    /// [`Exchange::submit`] for loops: appends the events (as [`Exchange::set_report`] says) to
    /// `out`, which can be reused, and returns the new order's id instead of a copy of the
    /// order. On refusal nothing changes, `out` included.
    pub fn submit_into(
        &mut self,
        req: OrderRequest,
        now: TimeMs,
        out: &mut Vec<ExecEvent>,
    ) -> Result<u64, Reject> {
        let lock = {
            // Borrowed, not cloned: an instrument carries dozens of strings.
            let inst = self.instruments.get(&req.symbol)?;
            self.validate(inst, &req)?
        };
        // Accepted: only now does anything change (a refusal leaves even the clock alone).
        self.now = self.now.max(now);
        let id = self.next_order_id;
        self.next_order_id += 1;
        let order = self.new_order(id, None, req, lock);
        self.accept(order, out);
        if self.config.latency_ms <= 0 {
            self.process_arrivals(self.now, out);
        }
        Ok(id)
    }

    /// Submit a one-cancels-the-other pair; returns both legs (limit maker first).
    pub fn submit_oco(
        &mut self,
        req: OcoRequest,
        now: TimeMs,
    ) -> Result<(Vec<Order>, Vec<ExecEvent>), Reject> {
        let report = std::mem::replace(&mut self.report, Report::All);
        let r = self.submit_oco_all(req, now);
        self.report = report;
        r
    }

    fn submit_oco_all(
        &mut self,
        req: OcoRequest,
        now: TimeMs,
    ) -> Result<(Vec<Order>, Vec<ExecEvent>), Reject> {
        let inst = self.instruments.get(&req.symbol)?.clone();
        if !inst.oco_allowed && !inst.order_types.is_empty() {
            return Err(Reject::OrderTypeNotSupported {
                symbol: inst.symbol.clone(),
                order_type: "OCO".into(),
            });
        }
        let last = self
            .markets
            .get(&req.symbol)
            .and_then(|m| m.last_trade.or(m.last_close).or(m.mark()));
        let Some(last) = last else {
            return Err(Reject::NoMarketData(req.symbol.clone()));
        };
        let ok = match req.side {
            Side::Sell => req.price > last && last > req.stop_price,
            Side::Buy => req.price < last && last < req.stop_price,
        };
        if !ok {
            return Err(Reject::OcoPrices(match req.side {
                Side::Sell => format!(
                    "a sell OCO needs limit price {} > last price {last} > stop price {}",
                    req.price, req.stop_price
                ),
                Side::Buy => format!(
                    "a buy OCO needs limit price {} < last price {last} < stop price {}",
                    req.price, req.stop_price
                ),
            }));
        }
        let limit_leg = OrderRequest {
            symbol: req.symbol.clone(),
            side: req.side,
            order_type: OrderType::LimitMaker,
            quantity: Some(req.quantity),
            quote_quantity: None,
            price: Some(req.price),
            stop_price: None,
            time_in_force: None,
            client_order_id: None,
        };
        let stop_leg = OrderRequest {
            order_type: if req.stop_limit_price.is_some() {
                OrderType::StopLossLimit
            } else {
                OrderType::StopLoss
            },
            price: req.stop_limit_price,
            stop_price: Some(req.stop_price),
            time_in_force: req.stop_limit_price.map(|_| TimeInForce::Gtc),
            ..limit_leg.clone()
        };
        // Validate both; the pair locks once (the larger of the two reservations), on the
        // limit leg; it moves to the stop leg if that one triggers.
        let lock_a = self.validate_with_free(&inst, &limit_leg, None)?;
        let lock_b = self.validate_with_free(&inst, &stop_leg, None)?;
        let stop_asset = lock_b.0.clone();
        let lock = if lock_a.1 >= lock_b.1 { lock_a } else { lock_b };
        let free = self.portfolio.free(&lock.0);
        if free < lock.1 {
            return Err(Reject::InsufficientBalance {
                asset: lock.0.clone(),
                needed: lock.1,
                available: free,
            });
        }
        self.now = self.now.max(now);
        let list_id = self.next_list_id;
        self.next_list_id += 1;
        let a_id = self.next_order_id;
        let b_id = a_id + 1;
        self.next_order_id += 2;
        let a = self.new_order(a_id, Some(list_id), limit_leg, lock);
        let b = self.new_order(b_id, Some(list_id), stop_leg, (stop_asset, Decimal::ZERO));
        let mut out = Vec::new();
        self.accept(a, &mut out);
        self.accept(b, &mut out);
        if self.config.latency_ms <= 0 {
            self.process_arrivals(self.now, &mut out);
        }
        let legs = vec![self.snapshot(a_id, &out), self.snapshot(b_id, &out)];
        Ok((legs, out))
    }

    /// The order as it stands now (open) or as its last update left it (finished at once).
    fn snapshot(&self, id: u64, out: &[ExecEvent]) -> Order {
        if let Some(o) = self.open.get(&id) {
            return o.clone();
        }
        let mut base = None;
        for e in out {
            match e {
                ExecEvent::OrderNew(o) if o.id == id => base = Some(o.clone()),
                ExecEvent::OrderUpdate(u) if u.order_id == id => {
                    if let Some(o) = base.as_mut() {
                        o.status = u.status;
                        o.executed_qty = u.executed_qty;
                        o.cumulative_quote_qty = u.cumulative_quote_qty;
                        o.locked = Decimal::ZERO;
                    }
                }
                _ => {}
            }
        }
        base.unwrap_or_else(|| unreachable_order(id))
    }

    fn new_order(
        &self,
        id: u64,
        list_id: Option<u64>,
        req: OrderRequest,
        lock: (String, Decimal),
    ) -> Order {
        let tif = match req.order_type {
            OrderType::Limit | OrderType::StopLossLimit | OrderType::TakeProfitLimit => {
                Some(req.time_in_force.unwrap_or(TimeInForce::Gtc))
            }
            _ => None,
        };
        Order {
            id,
            list_id,
            client_order_id: req.client_order_id,
            symbol: req.symbol,
            side: req.side,
            order_type: req.order_type,
            time_in_force: tif,
            quantity: req.quantity,
            quote_quantity: req.quote_quantity,
            price: if req.order_type.has_price() {
                req.price
            } else {
                None
            },
            stop_price: if req.order_type.has_stop() {
                req.stop_price
            } else {
                None
            },
            status: OrderStatus::New,
            executed_qty: Decimal::ZERO,
            cumulative_quote_qty: Decimal::ZERO,
            created_ms: self.now,
            arrival_ms: self.now + self.config.latency_ms.max(0),
            locked_asset: lock.0,
            locked: lock.1,
            working: false,
            triggered: false,
            queue_ahead: None,
        }
    }

    fn accept(&mut self, order: Order, out: &mut Vec<ExecEvent>) {
        let id = order.id;
        let amount = order.locked;
        if self.reports_all() {
            out.push(ExecEvent::OrderNew(order.clone()));
        }
        if amount > Decimal::ZERO {
            self.change(
                &order.locked_asset,
                -amount,
                amount,
                ChangeReason::Lock,
                Some(id),
                None,
                out,
            );
        }
        self.open.insert(id, order);
    }

    /// Validate a request and work out what it must lock: `(asset, amount)`.
    fn validate(&self, inst: &Instrument, req: &OrderRequest) -> Result<(String, Decimal), Reject> {
        let lock = self.validate_with_free(inst, req, None)?;
        let free = self.portfolio.free(&lock.0);
        if free < lock.1 {
            return Err(Reject::InsufficientBalance {
                asset: lock.0,
                needed: lock.1,
                available: free,
            });
        }
        Ok(lock)
    }

    fn validate_with_free(
        &self,
        inst: &Instrument,
        req: &OrderRequest,
        _unused: Option<()>,
    ) -> Result<(String, Decimal), Reject> {
        use Reject::InvalidParameter as Invalid;
        if inst.status != "TRADING" {
            return Err(Reject::SymbolNotTrading {
                symbol: inst.symbol.clone(),
                status: inst.status.clone(),
            });
        }
        let ty = req.order_type;
        if !inst.supports(ty.as_str()) {
            return Err(Reject::OrderTypeNotSupported {
                symbol: inst.symbol.clone(),
                order_type: ty.as_str().into(),
            });
        }
        if let Some(id) = &req.client_order_id {
            let ok = !id.is_empty()
                && id.len() <= 36
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-:/".contains(c));
            if !ok {
                return Err(Invalid(
                    "client order id must be 1-36 characters of letters, digits and . _ - : /"
                        .into(),
                ));
            }
        }
        let market = self.markets.get(&inst.symbol);
        let mark = market.and_then(Market::mark);
        let last = market.and_then(|m| m.last_trade.or(m.last_close)).or(mark);
        // Parameter shape.
        match ty {
            OrderType::Market => {
                if req.price.is_some() || req.stop_price.is_some() {
                    return Err(Invalid(
                        "a market order takes no price or stop price".into(),
                    ));
                }
                match (req.quantity, req.quote_quantity) {
                    (Some(_), None) | (None, Some(_)) => {}
                    _ => {
                        return Err(Invalid(
                            "a market order takes exactly one of quantity or quote quantity".into(),
                        ))
                    }
                }
                if req.quote_quantity.is_some()
                    && !inst.quote_order_qty_market_allowed
                    && !inst.order_types.is_empty()
                {
                    return Err(Invalid(format!(
                        "{} does not allow market orders by quote quantity",
                        inst.symbol
                    )));
                }
            }
            _ => {
                if req.quote_quantity.is_some() {
                    return Err(Invalid("only market orders take a quote quantity".into()));
                }
                if req.quantity.is_none() {
                    return Err(Invalid(format!("a {} order needs a quantity", ty.as_str())));
                }
                if ty.has_price() && req.price.is_none() {
                    return Err(Invalid(format!("a {} order needs a price", ty.as_str())));
                }
                if !ty.has_price() && req.price.is_some() {
                    return Err(Invalid(format!(
                        "a {} order takes no limit price",
                        ty.as_str()
                    )));
                }
                if ty.has_stop() && req.stop_price.is_none() {
                    return Err(Invalid(format!(
                        "a {} order needs a stop price",
                        ty.as_str()
                    )));
                }
                if !ty.has_stop() && req.stop_price.is_some() {
                    return Err(Invalid(format!(
                        "a {} order takes no stop price",
                        ty.as_str()
                    )));
                }
            }
        }
        if req.time_in_force.is_some()
            && !matches!(
                ty,
                OrderType::Limit | OrderType::StopLossLimit | OrderType::TakeProfitLimit
            )
        {
            return Err(Invalid(format!(
                "a {} order takes no time in force",
                ty.as_str()
            )));
        }
        if let Some(q) = req.quote_quantity {
            if q <= Decimal::ZERO {
                return Err(Invalid(format!("quote quantity must be positive, got {q}")));
            }
        }
        // Filters.
        if let Some(p) = req.price {
            inst.check_price(p)?;
            inst.check_percent_price(req.side, p, mark)?;
        }
        if let Some(s) = req.stop_price {
            inst.check_price(s)?;
        }
        if let Some(q) = req.quantity {
            inst.check_quantity(q, ty.is_market_like())?;
        }
        let market_ref = match req.side {
            Side::Buy => market.and_then(|m| m.touch(Side::Buy)),
            Side::Sell => market.and_then(|m| m.touch(Side::Sell)),
        };
        let notional_price = req.price.or(req.stop_price).or(market_ref);
        match (req.quantity, req.quote_quantity) {
            (Some(q), _) => {
                if let Some(p) = notional_price {
                    inst.check_notional(p * q, ty.is_market_like())?;
                } else if ty == OrderType::Market {
                    return Err(Reject::NoMarketData(inst.symbol.clone()));
                }
            }
            (None, Some(quote)) => inst.check_notional(quote, true)?,
            (None, None) => {}
        }
        // Stops must not trigger at once; post-only must not take.
        if let (Some(stop), Some(last)) = (req.stop_price, last) {
            if stop_triggered(ty, req.side, stop, last) {
                return Err(Reject::StopWouldTrigger { stop, last });
            }
        }
        if ty == OrderType::LimitMaker {
            if let (Some(p), Some(m)) = (req.price, market) {
                if would_take(m, req.side, p) {
                    return Err(Reject::WouldTake);
                }
            }
        }
        // What to reserve.
        let base = inst.base_asset.as_str();
        let quote = inst.quote_asset.as_str();
        let fee = self.max_fee_rate();
        let lock = match (req.side, ty) {
            (Side::Sell, OrderType::Market) => match (req.quantity, req.quote_quantity) {
                (Some(q), _) => (base, q),
                (None, Some(quote_amt)) => {
                    let Some(p) = market_ref else {
                        return Err(Reject::NoMarketData(inst.symbol.clone()));
                    };
                    let est =
                        ceil_to_step(quote_amt / (p * (Decimal::ONE - fee)), inst.market_step());
                    let free = self.portfolio.free(base);
                    if free * p * (Decimal::ONE - fee) < quote_amt {
                        return Err(Reject::InsufficientBalance {
                            asset: base.to_string(),
                            needed: est,
                            available: free,
                        });
                    }
                    (base, est.min(free))
                }
                (None, None) => (base, Decimal::ZERO),
            },
            (Side::Sell, _) => (base, req.quantity.unwrap_or_default()),
            (Side::Buy, OrderType::Market) => match (req.quantity, req.quote_quantity) {
                (Some(q), _) => {
                    let Some(m) = market else {
                        return Err(Reject::NoMarketData(inst.symbol.clone()));
                    };
                    let Some(cost) = estimate_buy_cost(m, q) else {
                        return Err(Reject::NoMarketData(inst.symbol.clone()));
                    };
                    (quote, cost * (Decimal::ONE + fee))
                }
                (None, Some(amount)) => (quote, amount),
                (None, None) => (quote, Decimal::ZERO),
            },
            (Side::Buy, _) => {
                let q = req.quantity.unwrap_or_default();
                let p = req.price.or(req.stop_price).unwrap_or_default();
                (quote, q * p * (Decimal::ONE + fee))
            }
        };
        Ok((lock.0.to_string(), lock.1))
    }

    /// Cancel an open order (both legs for an OCO).
    pub fn cancel(&mut self, order_id: u64, now: TimeMs) -> Result<Vec<ExecEvent>, Reject> {
        let Some(order) = self.open.get(&order_id) else {
            return Err(Reject::UnknownOrder(order_id));
        };
        self.now = self.now.max(now);
        let ids: Vec<u64> = match order.list_id {
            Some(list) => self
                .open
                .values()
                .filter(|o| o.list_id == Some(list))
                .map(|o| o.id)
                .collect(),
            None => vec![order_id],
        };
        let mut out = Vec::new();
        for id in ids {
            self.finish(
                id,
                OrderStatus::Canceled,
                Some("canceled by user"),
                &mut out,
            );
        }
        Ok(out)
    }

    /// Cancel every open order, or those of one symbol.
    pub fn cancel_all(&mut self, symbol: Option<&str>, now: TimeMs) -> Vec<ExecEvent> {
        self.now = self.now.max(now);
        let ids: Vec<u64> = self
            .open
            .values()
            .filter(|o| symbol.is_none_or(|s| o.symbol == s))
            .map(|o| o.id)
            .collect();
        let mut out = Vec::new();
        for id in ids {
            self.finish(
                id,
                OrderStatus::Canceled,
                Some("canceled by user"),
                &mut out,
            );
        }
        out
    }

    /// Let market time pass with no market event (orders whose latency elapsed arrive).
    pub fn advance_to(&mut self, now: TimeMs) -> Vec<ExecEvent> {
        let mut out = Vec::new();
        if now > self.now {
            self.now = now;
        }
        self.process_arrivals(self.now, &mut out);
        out
    }

    // ----------------------------------------------------------------------------------------
    // Market events
    // ----------------------------------------------------------------------------------------

    /// Feed one market event; returns what happened to the account's orders.
    pub fn on_event(&mut self, event: &MarketEvent) -> Vec<ExecEvent> {
        let mut out = Vec::new();
        let t = event.time_ms();
        if t > self.now {
            self.now = t;
        }
        let symbol = event.symbol();
        // Orders that reached the matching engine before this event match the market as it was.
        if !self.open.is_empty() && !matches!(event, MarketEvent::Candle { .. }) {
            self.process_arrivals(t, &mut out);
        }
        if self.queues_unknown {
            self.init_unknown_queues();
        }
        if !self.markets.contains_key(symbol) {
            self.markets.insert(symbol.to_string(), Market::default());
        }
        match event {
            MarketEvent::BookSnapshot {
                bids,
                asks,
                last_update_id,
                ..
            } => {
                if let Some(m) = self.markets.get_mut(symbol) {
                    m.book.reset(bids, asks, *last_update_id);
                    m.has_book = true;
                    m.consumed.clear();
                    m.traded.clear();
                }
                self.reset_queues(symbol);
                self.match_crossed(symbol, t, &mut out);
            }
            MarketEvent::BookDelta {
                bids,
                asks,
                final_update_id,
                ..
            } => {
                self.apply_levels(symbol, Side::Buy, bids);
                self.apply_levels(symbol, Side::Sell, asks);
                if let Some(m) = self.markets.get_mut(symbol) {
                    m.book.last_update_id = *final_update_id;
                    m.has_book = true;
                }
                self.match_crossed(symbol, t, &mut out);
            }
            MarketEvent::BookTicker {
                bid,
                bid_qty,
                ask,
                ask_qty,
                ..
            } => {
                let Some(m) = self.markets.get_mut(symbol) else {
                    return out;
                };
                if m.has_book && m.book.last_update_id > 0 {
                    // A depth-driven book is authoritative; the ticker adds nothing.
                } else {
                    m.apply_ticker((*bid, *bid_qty), (*ask, *ask_qty));
                    m.has_book = true;
                    self.match_crossed(symbol, t, &mut out);
                }
            }
            MarketEvent::Trade {
                price,
                quantity,
                buyer_is_maker,
                ..
            } => {
                self.on_trade(symbol, *price, *quantity, *buyer_is_maker, t, &mut out);
            }
            MarketEvent::Candle { candle, .. } => {
                self.on_candle_into(symbol, candle, &mut out);
            }
        }
        out
    }

    /// Feed one closed candle of `symbol` (the same as [`Exchange::on_event`] with
    /// [`MarketEvent::Candle`], without building the event).
    pub fn on_candle(&mut self, symbol: &str, candle: &Candle) -> Vec<ExecEvent> {
        let mut out = Vec::new();
        self.on_candle_into(symbol, candle, &mut out);
        out
    }

    /// [`Exchange::on_candle`] for loops: appends the events to `out` (which can be reused).
    pub fn on_candle_into(&mut self, symbol: &str, candle: &Candle, out: &mut Vec<ExecEvent>) {
        let t = candle.close_time_ms();
        if t > self.now {
            self.now = t;
        }
        let market = match self.markets.get_mut(symbol) {
            Some(m) => m,
            None => self.markets.entry(symbol.to_string()).or_default(),
        };
        if market.mode() == Mode::Book {
            market.last_close = Some(candle.close);
            if !self.open.is_empty() {
                self.process_arrivals(t, out);
            }
        } else if self.open.is_empty() {
            // Nothing to match: the bar only moves the price.
            market.last_close = Some(candle.close);
        } else {
            self.candle_fills(symbol, candle, out);
        }
    }

    fn apply_levels(&mut self, symbol: &str, book_side: Side, levels: &[Level]) {
        let Some(m) = self.markets.get_mut(symbol) else {
            return;
        };
        for &(price, qty) in levels {
            let old = m.set_level(book_side, price, qty);
            let traded = if m.traded.is_empty() {
                Decimal::ZERO
            } else {
                m.traded.remove(&(book_side, price)).unwrap_or_default()
            };
            if qty >= old || self.open.is_empty() {
                continue;
            }
            // Size left the level: what did not trade was cancelled; resting orders of ours at
            // this price move up in proportion to their place in the queue.
            let cancelled = (old - qty - traded).max(Decimal::ZERO);
            if cancelled.is_zero() {
                continue;
            }
            for o in self.open.values_mut() {
                if o.symbol != symbol || !o.working || o.side != book_side {
                    continue;
                }
                if o.working_limit() != Some(price) || (o.order_type.has_stop() && !o.triggered) {
                    continue;
                }
                if let Some(ahead) = o.queue_ahead.as_mut() {
                    if *ahead > Decimal::ZERO && old > Decimal::ZERO {
                        *ahead -= cancelled * *ahead / old;
                        if *ahead < Decimal::ZERO {
                            *ahead = Decimal::ZERO;
                        }
                    }
                }
            }
        }
    }

    /// Restored resting orders join the back of their level once the level is known.
    fn init_unknown_queues(&mut self) {
        let mut still_unknown = false;
        for o in self.open.values_mut() {
            if o.queue_ahead.is_some() || !o.working {
                continue;
            }
            let Some(p) = o.working_limit() else { continue };
            match self.markets.get(&o.symbol).filter(|m| m.has_book) {
                Some(m) => o.queue_ahead = Some(m.book.qty_at(o.side, p)),
                None => still_unknown = true,
            }
        }
        self.queues_unknown = still_unknown;
    }

    fn reset_queues(&mut self, symbol: &str) {
        let Some(m) = self.markets.get(symbol) else {
            return;
        };
        for o in self.open.values_mut() {
            if o.symbol == symbol && o.working {
                if let Some(p) = o.working_limit() {
                    o.queue_ahead = Some(m.book.qty_at(o.side, p));
                }
            }
        }
    }

    /// Resting orders whose price the opposite side of the book now crosses fill at their own
    /// price (as maker) against the crossing size.
    fn match_crossed(&mut self, symbol: &str, now: TimeMs, out: &mut Vec<ExecEvent>) {
        if self.open.is_empty() {
            return;
        }
        let ids: Vec<u64> = self
            .open
            .values()
            .filter(|o| o.symbol == symbol && self.is_resting(o))
            .map(|o| o.id)
            .collect();
        for id in ids {
            let Some(o) = self.open.get(&id) else {
                continue;
            };
            let (side, Some(limit)) = (o.side, o.working_limit()) else {
                continue;
            };
            let Some(m) = self.markets.get(symbol) else {
                return;
            };
            let levels: Vec<Level> = m
                .book
                .levels_for_taker(side)
                .take_while(|(p, _)| crosses(side, *p, limit))
                .map(|(p, q)| (p, m.available(side.opposite(), p, q)))
                .filter(|(_, q)| *q > Decimal::ZERO)
                .collect();
            if levels.is_empty() {
                continue;
            }
            for (p, avail) in levels {
                let Some(rem) = self.open.get(&id).and_then(Order::remaining) else {
                    break;
                };
                if rem <= Decimal::ZERO {
                    break;
                }
                let q = rem.min(avail);
                let filled = self.fill(id, limit, q, true, now, out);
                if let Some(m) = self.markets.get_mut(symbol) {
                    *m.consumed.entry((side.opposite(), p)).or_default() += filled;
                }
            }
            self.settle_resting(id, now, out);
        }
    }

    fn is_resting(&self, o: &Order) -> bool {
        o.working && o.working_limit().is_some() && (!o.order_type.has_stop() || o.triggered)
    }

    fn on_trade(
        &mut self,
        symbol: &str,
        price: Decimal,
        qty: Decimal,
        buyer_is_maker: bool,
        now: TimeMs,
        out: &mut Vec<ExecEvent>,
    ) {
        // The maker side of the print: buyer is maker → the bids were hit.
        let maker_side = if buyer_is_maker {
            Side::Buy
        } else {
            Side::Sell
        };
        if let Some(m) = self.markets.get_mut(symbol) {
            m.last_trade = Some(price);
            if m.has_book {
                // Only a book's diffs consume this (without a book it would only grow).
                *m.traded.entry((maker_side, price)).or_default() += qty;
            }
        }
        if self.open.is_empty() {
            return;
        }
        // Resting limits: through prints fill fully, prints at the price go through the queue.
        let ids: Vec<u64> = self
            .open
            .values()
            .filter(|o| o.symbol == symbol && self.is_resting(o))
            .map(|o| o.id)
            .collect();
        let mut given_at_price = Decimal::ZERO;
        for id in ids {
            let Some(o) = self.open.get(&id) else {
                continue;
            };
            let Some(limit) = o.working_limit() else {
                continue;
            };
            let Some(rem) = o.remaining() else { continue };
            let through = match o.side {
                Side::Buy => price < limit,
                Side::Sell => price > limit,
            };
            let fill_qty = if through {
                rem
            } else if price == limit && o.side == maker_side {
                let ahead = o.queue_ahead.unwrap_or_default();
                let past_queue = (qty - ahead - given_at_price).max(Decimal::ZERO);
                if let Some(o) = self.open.get_mut(&id) {
                    o.queue_ahead = Some((ahead - qty).max(Decimal::ZERO));
                }
                let q = rem.min(past_queue);
                given_at_price += q;
                q
            } else {
                Decimal::ZERO
            };
            if fill_qty > Decimal::ZERO {
                self.fill(id, limit, fill_qty, true, now, out);
                self.settle_resting(id, now, out);
            }
        }
        // Stops trigger on the last price.
        self.trigger_stops(symbol, price, price, None, now, out);
    }

    /// Trigger stop orders of `symbol` whose stop lies within `[low, high]` of the last price
    /// path. With a candle, triggered market-like stops fill at the stop or the gapped open.
    fn trigger_stops(
        &mut self,
        symbol: &str,
        low: Decimal,
        high: Decimal,
        candle: Option<&Candle>,
        now: TimeMs,
        out: &mut Vec<ExecEvent>,
    ) {
        let mut hits: Vec<u64> = self
            .open
            .values()
            .filter(|o| o.symbol == symbol && o.working && o.order_type.has_stop() && !o.triggered)
            .filter(|o| {
                o.stop_price.is_some_and(|s| {
                    stop_triggered(o.order_type, o.side, s, low)
                        || stop_triggered(o.order_type, o.side, s, high)
                })
            })
            .map(|o| o.id)
            .collect();
        // Pessimistic first: stop-losses before take-profits.
        hits.sort_by_key(|id| {
            let sl = self
                .open
                .get(id)
                .is_some_and(|o| o.order_type.is_stop_loss());
            (!sl, *id)
        });
        for id in hits {
            let Some(o) = self.open.get_mut(&id) else {
                continue;
            }; // expired by an OCO sibling
            o.triggered = true;
            let (ty, side, stop, list) = (o.order_type, o.side, o.stop_price, o.list_id);
            let (status, executed, cum_quote) = (o.status, o.executed_qty, o.cumulative_quote_qty);
            // Recorded so that a restored exchange knows the order is working (the app reads
            // this reason back from the ledger).
            if self.report == Report::All {
                out.push(ExecEvent::OrderUpdate(OrderUpdate {
                    order_id: id,
                    status,
                    executed_qty: executed,
                    cumulative_quote_qty: cum_quote,
                    reason: Some(STOP_TRIGGERED.to_string()),
                    time_ms: now,
                }));
            }
            if let Some(list) = list {
                self.expire_siblings(id, list, now, out);
            }
            match candle {
                Some(c) => {
                    // The price path reached the stop from the open: it trades at the stop, or
                    // at the open when the bar gapped past it (in the direction of the trigger).
                    let stop = stop.unwrap_or(c.open);
                    let falling = matches!(
                        (ty.is_stop_loss(), side),
                        (true, Side::Sell) | (false, Side::Buy)
                    );
                    let base = if falling {
                        stop.min(c.open)
                    } else {
                        stop.max(c.open)
                    };
                    let px = self.slipped(symbol, side, base);
                    if ty.is_market_like() {
                        self.take_at(id, px, now, out);
                    } else {
                        let limit = self.open.get(&id).and_then(Order::working_limit);
                        match limit {
                            Some(l) if crosses(side, px, l) => self.take_at(id, px, now, out),
                            _ => self.rest_or_expire(id, now, out),
                        }
                        // The bar continues past the trigger: a stop-limit may rest and be
                        // crossed.
                        self.candle_rest_check(id, c, now, out);
                    }
                }
                None => self.take(id, now, out),
            }
        }
    }

    fn expire_siblings(&mut self, id: u64, list: u64, _now: TimeMs, out: &mut Vec<ExecEvent>) {
        let siblings: Vec<u64> = self
            .open
            .values()
            .filter(|o| o.list_id == Some(list) && o.id != id)
            .map(|o| o.id)
            .collect();
        for s in siblings {
            // The list's reservation moves to the leg that is now working.
            let moved = self
                .open
                .get(&s)
                .map(|o| (o.locked_asset.clone(), o.locked));
            self.finish(
                s,
                OrderStatus::Expired,
                Some("other leg of the OCO executed"),
                out,
            );
            if let Some((asset, amt)) = moved {
                let need = self.open.get(&id).map_or(Decimal::ZERO, |o| {
                    // The working leg must be able to pay for itself.
                    match o.side {
                        Side::Sell => o.remaining().unwrap_or_default(),
                        Side::Buy => {
                            let p = o.price.or(o.stop_price).unwrap_or_default();
                            o.remaining().unwrap_or_default()
                                * p
                                * (Decimal::ONE + self.max_fee_rate())
                        }
                    }
                });
                let amount = amt
                    .min(need)
                    .min(self.portfolio.free(&asset))
                    .max(Decimal::ZERO);
                if amount > Decimal::ZERO {
                    if let Some(o) = self.open.get_mut(&id) {
                        o.locked += amount;
                        o.locked_asset = asset.clone();
                    }
                    self.change(
                        &asset,
                        -amount,
                        amount,
                        ChangeReason::Lock,
                        Some(id),
                        None,
                        out,
                    );
                }
            }
        }
    }

    fn candle_fills(&mut self, symbol: &str, c: &Candle, out: &mut Vec<ExecEvent>) {
        let close_time = c.close_time_ms();
        if let Some(m) = self.markets.get_mut(symbol) {
            m.last_close = Some(c.close);
        }
        if self.open.is_empty() {
            return;
        }
        // 1. Orders that arrive during this bar meet it at its open, in id order. (Found one at a
        // time rather than collected first: handling one never makes another arrive.)
        let mut from = 0;
        while let Some(id) = self
            .open
            .starting_at(from)
            .iter()
            .find(|o| o.symbol == symbol && !o.working && o.arrival_ms < close_time)
            .map(|o| o.id)
        {
            from = id + 1;
            let id = &id;
            let Some(o) = self.open.get_mut(id) else {
                continue;
            };
            o.working = true;
            let (ty, side, limit) = (o.order_type, o.side, o.price);
            match ty {
                OrderType::Market => {
                    let px = self.slipped(symbol, side, c.open);
                    self.take_at(*id, px, c.open_time_ms, out);
                }
                OrderType::Limit | OrderType::LimitMaker => {
                    let Some(limit) = limit else { continue };
                    if crosses(side, c.open, limit) {
                        if ty == OrderType::LimitMaker {
                            self.finish(
                                *id,
                                OrderStatus::Rejected,
                                Some("LIMIT_MAKER would immediately match and take"),
                                out,
                            );
                        } else {
                            self.take_at(*id, c.open, c.open_time_ms, out);
                        }
                    } else {
                        self.rest_or_expire(*id, close_time, out);
                    }
                }
                _ => {
                    // Stops: a stop already beyond the open triggers at the open.
                }
            }
        }
        // 2. The bar's range: stops first (pessimistic), then resting limits.
        self.trigger_stops(symbol, c.low, c.high, Some(c), close_time, out);
        let resting: Vec<u64> = self
            .open
            .values()
            .filter(|o| o.symbol == symbol && self.is_resting(o))
            .map(|o| o.id)
            .collect();
        for id in resting {
            self.candle_rest_check(id, c, close_time, out);
        }
    }

    /// A resting limit in a candle: fills at its limit if the bar traded strictly through it.
    fn candle_rest_check(&mut self, id: u64, c: &Candle, now: TimeMs, out: &mut Vec<ExecEvent>) {
        let Some(o) = self.open.get(&id) else { return };
        if !self.is_resting(o) {
            return;
        }
        let (Some(limit), Some(rem)) = (o.working_limit(), o.remaining()) else {
            return;
        };
        let through = match o.side {
            Side::Buy => c.low < limit,
            Side::Sell => c.high > limit,
        };
        if through && rem > Decimal::ZERO {
            if let Some(list) = o.list_id {
                self.expire_siblings(id, list, now, out);
            }
            self.fill(id, limit, rem, true, now, out);
            self.settle_resting(id, now, out);
        }
    }

    /// Price moved against the taker by the configured slippage, rounded to the tick against it.
    fn slipped(&self, symbol: &str, side: Side, price: Decimal) -> Decimal {
        let s = self.rates.slippage;
        if s.is_zero() {
            return price;
        }
        let tick = self
            .instruments
            .get(symbol)
            .map(Instrument::tick)
            .unwrap_or_default();
        match side {
            Side::Buy => ceil_to_step(price * (Decimal::ONE + s), tick),
            Side::Sell => floor_to_step(price * (Decimal::ONE - s), tick).max(tick),
        }
    }

    // ----------------------------------------------------------------------------------------
    // Matching
    // ----------------------------------------------------------------------------------------

    /// Orders whose latency has elapsed by `now` reach the matching engine, in id order.
    fn process_arrivals(&mut self, now: TimeMs, out: &mut Vec<ExecEvent>) {
        let arriving: Vec<u64> = self
            .open
            .values()
            .filter(|o| !o.working && o.arrival_ms <= now)
            .filter(|o| {
                // In candle mode, orders meet the next bar instead.
                self.markets
                    .get(&o.symbol)
                    .is_some_and(|m| matches!(m.mode(), Mode::Book | Mode::Trades))
            })
            .map(|o| o.id)
            .collect();
        for id in arriving {
            let Some(o) = self.open.get_mut(&id) else {
                continue;
            };
            o.working = true;
            let (ty, side, symbol, limit) = (o.order_type, o.side, o.symbol.clone(), o.price);
            if ty.has_stop() {
                // Binance checks stops against the last price; one that is already beyond
                // its stop by the time it arrives triggers at once.
                let last = self.markets.get(&symbol).and_then(|m| m.last_trade);
                if let Some(last) = last {
                    self.trigger_stops(&symbol, last, last, None, now, out);
                }
                continue;
            }
            if ty == OrderType::LimitMaker {
                let takes = match (limit, self.markets.get(&symbol)) {
                    (Some(p), Some(m)) => would_take(m, side, p),
                    _ => false,
                };
                if takes {
                    self.finish(
                        id,
                        OrderStatus::Rejected,
                        Some("LIMIT_MAKER would immediately match and take"),
                        out,
                    );
                    continue;
                }
                self.rest_or_expire(id, now, out);
                continue;
            }
            self.take(id, now, out);
        }
    }

    /// Run an order against current liquidity as a taker, then rest or finish it.
    fn take(&mut self, id: u64, now: TimeMs, out: &mut Vec<ExecEvent>) {
        let Some(o) = self.open.get(&id) else { return };
        let symbol = o.symbol.clone();
        let side = o.side;
        let limit = o.working_limit();
        let mode = self.markets.get(&symbol).map_or(Mode::None, Market::mode);
        match mode {
            Mode::Book => {
                let Some(m) = self.markets.get(&symbol) else {
                    return;
                };
                // Levels within the limit, net of what we already consumed.
                let need = o.remaining();
                let quote_qty = o.quote_quantity;
                let tif = o.time_in_force;
                let mut levels: Vec<Level> = Vec::new();
                let mut cum_qty = Decimal::ZERO;
                let mut cum_quote = Decimal::ZERO;
                for (p, q) in m.book.levels_for_taker(side) {
                    if let Some(l) = limit {
                        if !crosses(side, p, l) {
                            break;
                        }
                    }
                    let avail = m.available(side.opposite(), p, q);
                    if avail.is_zero() {
                        continue;
                    }
                    levels.push((p, avail));
                    cum_qty += avail;
                    cum_quote += avail * p;
                    let enough = match (need, quote_qty) {
                        (Some(n), _) => cum_qty >= n,
                        (None, Some(qq)) => cum_quote >= qq,
                        (None, None) => true,
                    };
                    if enough {
                        break;
                    }
                }
                if tif == Some(TimeInForce::Fok) {
                    let fillable = need.is_some_and(|n| cum_qty >= n);
                    if !fillable {
                        self.finish(
                            id,
                            OrderStatus::Expired,
                            Some("FOK: not enough liquidity to fill completely"),
                            out,
                        );
                        return;
                    }
                }
                for (p, avail) in levels {
                    let filled = self.take_level(id, p, avail, now, out);
                    if let Some(m) = self.markets.get_mut(&symbol) {
                        if filled > Decimal::ZERO {
                            *m.consumed.entry((side.opposite(), p)).or_default() += filled;
                        }
                    }
                    if filled.is_zero() || self.open.get(&id).is_none_or(|o| self.done_taking(o)) {
                        break;
                    }
                }
            }
            Mode::Trades | Mode::Candles => {
                let Some(last) = self
                    .markets
                    .get(&symbol)
                    .and_then(|m| m.last_trade.or(m.last_close))
                else {
                    return;
                };
                let px = self.slipped(&symbol, side, last);
                let crosses_limit = limit.is_none_or(|l| crosses(side, px, l));
                if crosses_limit {
                    let px = match limit {
                        Some(l) => match side {
                            Side::Buy => px.min(l),
                            Side::Sell => px.max(l),
                        },
                        None => px,
                    };
                    self.take_level(id, px, Decimal::MAX, now, out);
                } else if o.time_in_force == Some(TimeInForce::Fok) {
                    self.finish(
                        id,
                        OrderStatus::Expired,
                        Some("FOK: price not available"),
                        out,
                    );
                    return;
                }
            }
            Mode::None => {}
        }
        self.after_take(id, now, out);
    }

    /// Execute as a taker at a single price with unlimited size (candle and trade fills).
    fn take_at(&mut self, id: u64, price: Decimal, now: TimeMs, out: &mut Vec<ExecEvent>) {
        self.take_level(id, price, Decimal::MAX, now, out);
        self.after_take(id, now, out);
    }

    /// What is left after taking: market-like orders finish; limits rest (GTC) or expire.
    fn after_take(&mut self, id: u64, now: TimeMs, out: &mut Vec<ExecEvent>) {
        let Some(o) = self.open.get(&id) else { return };
        if o.order_type.is_market_like() {
            let done_ok = match o.remaining() {
                Some(r) => r.is_zero(),
                None => o.executed_qty > Decimal::ZERO,
            };
            if done_ok {
                self.finish(id, OrderStatus::Filled, None, out);
            } else {
                let reason = if o.executed_qty.is_zero() && o.quote_quantity.is_none() {
                    "no liquidity or balance to fill the market order"
                } else {
                    "market order could not fill completely (liquidity or balance ran out)"
                };
                self.finish(id, OrderStatus::Expired, Some(reason), out);
            }
            return;
        }
        if o.remaining().is_some_and(|r| r.is_zero()) {
            self.finish(id, OrderStatus::Filled, None, out);
            return;
        }
        self.rest_or_expire(id, now, out);
    }

    fn rest_or_expire(&mut self, id: u64, _now: TimeMs, out: &mut Vec<ExecEvent>) {
        let Some(o) = self.open.get(&id) else { return };
        match o.time_in_force {
            Some(TimeInForce::Ioc) | Some(TimeInForce::Fok) => {
                self.finish(
                    id,
                    OrderStatus::Expired,
                    Some("IOC: remainder expired"),
                    out,
                );
            }
            _ => {
                let ahead = match (o.working_limit(), self.markets.get(&o.symbol)) {
                    (Some(p), Some(m)) if m.has_book => m.book.qty_at(o.side, p),
                    _ => Decimal::ZERO,
                };
                if let Some(o) = self.open.get_mut(&id) {
                    o.queue_ahead = Some(ahead);
                }
            }
        }
    }

    /// After a resting order filled: done when nothing remains.
    fn settle_resting(&mut self, id: u64, _now: TimeMs, out: &mut Vec<ExecEvent>) {
        if self
            .open
            .get(&id)
            .and_then(Order::remaining)
            .is_some_and(|r| r.is_zero())
        {
            self.finish(id, OrderStatus::Filled, None, out);
        }
    }

    fn done_taking(&self, o: &Order) -> bool {
        match o.remaining() {
            Some(r) => r.is_zero(),
            None => false,
        }
    }

    /// Take up to `avail` at `price` as a taker, within what the order still wants and can pay.
    /// Returns the quantity filled.
    fn take_level(
        &mut self,
        id: u64,
        price: Decimal,
        avail: Decimal,
        now: TimeMs,
        out: &mut Vec<ExecEvent>,
    ) -> Decimal {
        let Some(o) = self.open.get(&id) else {
            return Decimal::ZERO;
        };
        let Ok(inst) = self.instruments.get(&o.symbol) else {
            return Decimal::ZERO;
        };
        let step = if o.order_type.is_market_like() {
            inst.market_step()
        } else {
            inst.step()
        };
        let fee = self.fee_rate(false);
        let one_plus_fee = self.rates.one_plus_taker_fee;
        // A buy's cost of one unit with the fee (used twice below).
        let buy_unit = match o.side {
            Side::Buy => price * one_plus_fee,
            Side::Sell => Decimal::ZERO,
        };
        // `(left, its quantity)` of a buy by quote amount, to reuse below.
        let mut quote_sized: Option<(Decimal, Decimal)> = None;
        let mut q = match (o.remaining(), o.quote_quantity) {
            (Some(r), _) => r,
            (None, Some(qq)) => {
                let spent_fees = self.order_fees.get(&id).copied().unwrap_or_default();
                let left = match o.side {
                    Side::Buy => qq - o.cumulative_quote_qty - spent_fees,
                    Side::Sell => qq - (o.cumulative_quote_qty - spent_fees),
                };
                if !positive(left) {
                    return Decimal::ZERO;
                }
                match o.side {
                    Side::Buy => {
                        let q = floor_to_step(left / buy_unit, step);
                        quote_sized = Some((left, q));
                        q
                    }
                    Side::Sell => floor_to_step(left / (price * (Decimal::ONE - fee)), step),
                }
            }
            (None, None) => Decimal::ZERO,
        };
        q = q.min(avail);
        if let Some(max) = inst.market_lot_size.as_ref().map(|m| m.max_qty) {
            if o.order_type.is_market_like() && positive(max) {
                // (`x.max(0)` is 0 unless x > 0.)
                let room = max - o.executed_qty;
                q = q.min(room);
                if !positive(q) {
                    q = Decimal::ZERO;
                }
            }
        }
        // What the account can pay: the order's own lock plus free balance.
        let (pay_asset, unit_cost) = match o.side {
            Side::Buy => (inst.quote_asset.as_str(), buy_unit),
            Side::Sell => (inst.base_asset.as_str(), Decimal::ONE),
        };
        let own = if o.locked_asset == pay_asset {
            o.locked
        } else {
            Decimal::ZERO
        };
        let funds = own + self.portfolio.free(pay_asset);
        let affordable = match quote_sized {
            // The same division as above (same operands, bit for bit): reuse its result.
            Some((left, q_left)) if same_repr(left, funds) => q_left,
            _ => floor_to_step(funds / unit_cost, step),
        };
        q = q.min(affordable);
        if o.side == Side::Buy {
            // Exactness: cost with the fee must not exceed the funds.
            while positive(q) && q * price * one_plus_fee > funds {
                q -= if step.is_zero() { q } else { step };
            }
        }
        if !positive(q) {
            return Decimal::ZERO;
        }
        self.fill(id, price, q, false, now, out)
    }

    /// Book one fill: balances, position, order progress. Returns the quantity.
    fn fill(
        &mut self,
        id: u64,
        price: Decimal,
        qty: Decimal,
        maker: bool,
        now: TimeMs,
        out: &mut Vec<ExecEvent>,
    ) -> Decimal {
        let Some(o) = self.open.get(&id) else {
            return Decimal::ZERO;
        };
        let Ok(inst) = self.instruments.get(&o.symbol) else {
            return Decimal::ZERO;
        };
        // Borrowed, not cloned: the events below take the only copies they need.
        let (base, quote) = (inst.base_asset.as_str(), inst.quote_asset.as_str());
        let market_step = inst.market_step();
        let side = o.side;
        let notional = price * qty;
        let fee = notional * self.fee_rate(maker);
        let fill_id = self.next_fill_id;
        self.next_fill_id += 1;
        let fill = Fill {
            id: fill_id,
            order_id: id,
            symbol: o.symbol.clone(),
            side,
            price,
            quantity: qty,
            quote_quantity: notional,
            fee,
            fee_asset: quote.to_string(),
            is_maker: maker,
            time_ms: now,
        };
        // Positions and balances are separate maps: the position can be booked first, so the
        // fill moves into the event list instead of being copied.
        self.portfolio.apply_fill(&fill);
        out.push(ExecEvent::Fill(fill));
        // Pay from the order's lock first, then free balance.
        let pay_asset = match side {
            Side::Buy => quote,
            Side::Sell => base,
        };
        let mut locked_left = if o.locked_asset == pay_asset {
            o.locked
        } else {
            Decimal::ZERO
        };
        let (portfolio, t, all) = (&mut self.portfolio, self.now, self.report == Report::All);
        let mut change = |asset: &str, free: Decimal, locked: Decimal, reason: ChangeReason| {
            if free.is_zero() && locked.is_zero() {
                return; // moves nothing: neither applied nor reported, in both modes
            }
            if !all {
                portfolio.apply_delta(asset, free, locked);
                return;
            }
            record_change(
                portfolio,
                out,
                BalanceChange {
                    asset: asset.to_string(),
                    free_delta: free,
                    locked_delta: locked,
                    reason,
                    order_id: Some(id),
                    fill_id: Some(fill_id),
                    time_ms: t,
                },
            )
        };
        let mut used_lock = Decimal::ZERO;
        // What a payment takes from free and from locked (both as negative deltas).
        let mut pay = |amount: Decimal| {
            let from_lock = amount.min(locked_left);
            locked_left -= from_lock;
            used_lock += from_lock;
            (-(amount - from_lock), -from_lock)
        };
        match side {
            Side::Buy => {
                let (f, l) = pay(notional);
                change(quote, f, l, ChangeReason::Fill);
                let (f, l) = pay(fee);
                change(quote, f, l, ChangeReason::Fee);
                change(base, qty, Decimal::ZERO, ChangeReason::Fill);
            }
            Side::Sell => {
                let (f, l) = pay(qty);
                change(base, f, l, ChangeReason::Fill);
                change(quote, notional, Decimal::ZERO, ChangeReason::Fill);
                change(quote, -fee, Decimal::ZERO, ChangeReason::Fee);
            }
        }
        *self.order_fees.entry(id).or_default() += fee;
        if let Some(o) = self.open.get_mut(&id) {
            o.locked -= used_lock;
            o.executed_qty += qty;
            o.cumulative_quote_qty += notional;
            let complete = match (o.remaining(), o.quote_quantity) {
                (Some(r), _) => r.is_zero(),
                // An order for a quote amount is complete once what is left of the amount is
                // less than one lot at this price: this was its last fill (it then finishes
                // FILLED without passing through PARTIALLY_FILLED, as on Binance). Only the
                // reported status depends on it: such a market order finishes within this
                // call either way, so when nothing but fills is reported it is not worked out.
                (None, Some(amount)) if self.report == Report::All => {
                    let fees = self.order_fees.get(&id).copied().unwrap_or_default();
                    let (left, per_unit) = match o.side {
                        Side::Buy => (
                            amount - o.cumulative_quote_qty - fees,
                            price * self.rates.one_plus_taker_fee,
                        ),
                        Side::Sell => (
                            amount - (o.cumulative_quote_qty - fees),
                            price * (Decimal::ONE - self.rates.taker_fee),
                        ),
                    };
                    !positive(left)
                        || !positive(per_unit)
                        || !positive(floor_to_step(left / per_unit, market_step))
                }
                (None, _) => false,
            };
            if !complete {
                o.status = OrderStatus::PartiallyFilled;
            }
            if !complete && self.report == Report::All {
                out.push(ExecEvent::OrderUpdate(OrderUpdate {
                    order_id: id,
                    status: OrderStatus::PartiallyFilled,
                    executed_qty: o.executed_qty,
                    cumulative_quote_qty: o.cumulative_quote_qty,
                    reason: None,
                    time_ms: now,
                }));
            }
        }
        if let Some(list) = self.open.get(&id).and_then(|o| o.list_id) {
            self.expire_siblings(id, list, now, out);
        }
        qty
    }

    /// Move an order to a terminal status and release what it still holds.
    fn finish(
        &mut self,
        id: u64,
        status: OrderStatus,
        reason: Option<&str>,
        out: &mut Vec<ExecEvent>,
    ) {
        let Some(mut o) = self.open.remove(&id) else {
            return;
        };
        self.order_fees.remove(&id);
        o.status = status;
        if self.reports_all() {
            out.push(ExecEvent::OrderUpdate(OrderUpdate {
                order_id: id,
                status,
                executed_qty: o.executed_qty,
                cumulative_quote_qty: o.cumulative_quote_qty,
                reason: reason.map(str::to_string),
                time_ms: self.now,
            }));
        }
        if positive(o.locked) {
            self.change(
                &o.locked_asset,
                o.locked,
                -o.locked,
                ChangeReason::Unlock,
                Some(id),
                None,
                out,
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn change(
        &mut self,
        asset: &str,
        free_delta: Decimal,
        locked_delta: Decimal,
        reason: ChangeReason,
        order_id: Option<u64>,
        fill_id: Option<u64>,
        out: &mut Vec<ExecEvent>,
    ) {
        // A change that moves nothing is neither applied nor reported, whatever is reported,
        // so both modes end with the same portfolio.
        if free_delta.is_zero() && locked_delta.is_zero() {
            return;
        }
        if !self.reports_all() {
            self.portfolio.apply_delta(asset, free_delta, locked_delta);
            return;
        }
        let change = BalanceChange {
            asset: asset.to_string(),
            free_delta,
            locked_delta,
            reason,
            order_id,
            fill_id,
            time_ms: self.now,
        };
        record_change(&mut self.portfolio, out, change);
    }
}

/// Apply a balance change to the portfolio and report it. Callers skip changes that move
/// nothing (in both reporting modes); a zero delta is reported as `0`, never the `-0` that
/// negating a zero decimal gives (it would show in the ledger's CSV exports).
fn record_change(portfolio: &mut Portfolio, out: &mut Vec<ExecEvent>, mut change: BalanceChange) {
    if change.free_delta.is_zero() {
        change.free_delta = Decimal::ZERO;
    }
    if change.locked_delta.is_zero() {
        change.locked_delta = Decimal::ZERO;
    }
    portfolio.apply_change(&change);
    out.push(ExecEvent::Balance(change));
}

/// The reason recorded on the order update emitted when a stop order triggers.
pub const STOP_TRIGGERED: &str = "stop triggered";

fn unreachable_order(id: u64) -> Order {
    // `snapshot` is only called for ids accepted in the same call; keep a harmless fallback
    // instead of a panic.
    Order {
        id,
        list_id: None,
        client_order_id: None,
        symbol: String::new(),
        side: Side::Buy,
        order_type: OrderType::Market,
        time_in_force: None,
        quantity: None,
        quote_quantity: None,
        price: None,
        stop_price: None,
        status: OrderStatus::Rejected,
        executed_qty: Decimal::ZERO,
        cumulative_quote_qty: Decimal::ZERO,
        created_ms: 0,
        arrival_ms: 0,
        locked_asset: String::new(),
        locked: Decimal::ZERO,
        working: false,
        triggered: false,
        queue_ahead: None,
    }
}

/// `d > 0`, without a general decimal comparison.
fn positive(d: Decimal) -> bool {
    !d.is_sign_negative() && !d.is_zero()
}

/// The same decimal, digit for digit (`==` compares values: 1.0 == 1.00).
fn same_repr(a: Decimal, b: Decimal) -> bool {
    a.serialize() == b.serialize()
}

/// Whether a taker on `side` at level price `p` is within limit `limit`.
fn crosses(side: Side, p: Decimal, limit: Decimal) -> bool {
    match side {
        Side::Buy => p <= limit,
        Side::Sell => p >= limit,
    }
}

/// Whether a post-only order at `price` would take liquidity now.
fn would_take(m: &Market, side: Side, price: Decimal) -> bool {
    match m.touch(side) {
        Some(t) => crosses(side, t, price),
        None => false,
    }
}

/// Binance's stop rules: STOP_LOSS sells when the price falls to the stop, buys when it rises
/// to it; TAKE_PROFIT the other way round.
fn stop_triggered(ty: OrderType, side: Side, stop: Decimal, last: Decimal) -> bool {
    match (ty.is_stop_loss(), side) {
        (true, Side::Sell) | (false, Side::Buy) => last <= stop,
        (true, Side::Buy) | (false, Side::Sell) => last >= stop,
    }
}

/// Cost of buying `qty` now: walking the book, or at the last price.
fn estimate_buy_cost(m: &Market, qty: Decimal) -> Option<Decimal> {
    if m.has_book && m.book.best_ask().is_some() {
        let mut left = qty;
        let mut cost = Decimal::ZERO;
        let mut last_p = Decimal::ZERO;
        for (p, q) in m.book.levels_for_taker(Side::Buy) {
            let take = left.min(m.available(Side::Sell, p, q));
            cost += take * p;
            left -= take;
            last_p = p;
            if left.is_zero() {
                break;
            }
        }
        // Whatever the book cannot cover is estimated at its worst level.
        Some(cost + left * last_p)
    } else {
        m.last_trade.or(m.last_close).map(|p| p * qty)
    }
}
