//! Backtests: a strategy trades candles through the same [`Exchange`] as live and replay.
//!
//! At each bar's close the strategy sees the bar and may ask to enter (buy with all free quote)
//! or exit (sell the whole position). Orders are market orders submitted at the close; with the
//! exchange's latency they arrive during the next bar and fill at its open ± slippage (the
//! candle fill model in [`crate::exchange`]). A signal on the last bar has no next bar and does
//! nothing. An open position at the end is valued at the last close.

use std::fmt;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::event::Candle;
use crate::exchange::{Exchange, ExchangeConfig, ExecEvent, Report};
use crate::instrument::Instruments;
use crate::order::{OrderRequest, Side};
use crate::TimeMs;

#[derive(Debug, Error, PartialEq)]
pub enum BacktestError {
    #[error("unknown strategy '{0}' (available: sma-cross, rsi-reversion)")]
    UnknownStrategy(String),
    #[error("strategy {strategy}: unknown parameter '{param}' (accepted: {accepted})")]
    UnknownParam {
        strategy: String,
        param: String,
        accepted: String,
    },
    #[error("strategy {strategy}: parameter {param}={value} is invalid: {why}")]
    BadParam {
        strategy: String,
        param: String,
        value: String,
        why: String,
    },
    #[error("{0}")]
    Setup(String),
}

impl BacktestError {
    pub fn code(&self) -> &'static str {
        match self {
            BacktestError::UnknownStrategy(_) => "unknown_strategy",
            BacktestError::UnknownParam { .. } => "unknown_param",
            BacktestError::BadParam { .. } => "bad_param",
            BacktestError::Setup(_) => "backtest_setup",
        }
    }
}

/// What a strategy wants after seeing a bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Buy with all free quote if flat.
    Enter,
    /// Sell the whole position if long.
    Exit,
}

/// A trading strategy over closed bars. Implementations must be deterministic.
pub trait Strategy: Send + fmt::Debug {
    fn name(&self) -> &'static str;
    /// The bar just closed; `long` says whether a position is held.
    fn on_bar(&mut self, bar: &Candle, long: bool) -> Option<Signal>;
}

/// Build a strategy by name with `key=value` parameters.
pub fn build_strategy(
    name: &str,
    params: &[(String, String)],
) -> Result<Box<dyn Strategy>, BacktestError> {
    match name {
        "sma-cross" => {
            let mut p = Params::new("sma-cross", params, &["fast", "slow"])?;
            let fast = p.usize("fast", 20)?;
            let slow = p.usize("slow", 50)?;
            // Name the parameter that is wrong: the one given, or the one out of range.
            if slow < 2 {
                return Err(p.bad("slow", &slow.to_string(), "need slow >= 2"));
            }
            if fast == 0 || fast >= slow {
                let (param, value) = if p.given("fast") || !p.given("slow") {
                    ("fast", fast)
                } else {
                    ("slow", slow)
                };
                return Err(p.bad(
                    param,
                    &value.to_string(),
                    &format!("need 0 < fast < slow (fast={fast}, slow={slow})"),
                ));
            }
            Ok(Box::new(SmaCross::new(fast, slow)))
        }
        "rsi-reversion" => {
            let mut p = Params::new("rsi-reversion", params, &["period", "lower", "upper"])?;
            let period = p.usize("period", 14)?;
            let lower = p.f64("lower", 30.0)?;
            let upper = p.f64("upper", 70.0)?;
            if period < 2 {
                return Err(p.bad("period", &period.to_string(), "need period >= 2"));
            }
            if !(0.0..=100.0).contains(&upper) {
                return Err(p.bad(
                    "upper",
                    &upper.to_string(),
                    "need 0 <= lower < upper <= 100",
                ));
            }
            if !(0.0..100.0).contains(&lower) || lower >= upper {
                let (param, value) = if p.given("lower") || !p.given("upper") {
                    ("lower", lower)
                } else {
                    ("upper", upper)
                };
                return Err(p.bad(
                    param,
                    &value.to_string(),
                    &format!("need 0 <= lower < upper <= 100 (lower={lower}, upper={upper})"),
                ));
            }
            Ok(Box::new(RsiReversion::new(period, lower, upper)))
        }
        other => Err(BacktestError::UnknownStrategy(other.to_string())),
    }
}

struct Params<'a> {
    strategy: &'static str,
    given: &'a [(String, String)],
}

impl<'a> Params<'a> {
    fn new(
        strategy: &'static str,
        given: &'a [(String, String)],
        accepted: &[&str],
    ) -> Result<Self, BacktestError> {
        for (k, _) in given {
            if !accepted.contains(&k.as_str()) {
                return Err(BacktestError::UnknownParam {
                    strategy: strategy.into(),
                    param: k.clone(),
                    accepted: accepted.join(", "),
                });
            }
        }
        Ok(Params { strategy, given })
    }
    fn given(&self, key: &str) -> bool {
        self.given.iter().any(|(k, _)| k == key)
    }
    fn raw(&mut self, key: &str) -> Option<&'a str> {
        self.given
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    fn bad(&self, param: &str, value: &str, why: &str) -> BacktestError {
        BacktestError::BadParam {
            strategy: self.strategy.into(),
            param: param.into(),
            value: value.into(),
            why: why.into(),
        }
    }
    fn usize(&mut self, key: &str, default: usize) -> Result<usize, BacktestError> {
        match self.raw(key) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| self.bad(key, v, "expected a whole number")),
        }
    }
    fn f64(&mut self, key: &str, default: f64) -> Result<f64, BacktestError> {
        match self.raw(key) {
            None => Ok(default),
            Some(v) => match v.trim().parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(x),
                _ => Err(self.bad(key, v, "expected a number")),
            },
        }
    }
}

/// Decimal → integer with 18 decimals (exact for any price with up to 18 decimals; beyond
/// that, rounded — no exchange quotes such prices).
fn scaled(d: Decimal) -> i128 {
    const S: u32 = 18;
    const P: [i128; 19] = {
        let mut p = [1i128; 19];
        let mut i = 1;
        while i < 19 {
            p[i] = p[i - 1] * 10;
            i += 1;
        }
        p
    };
    let (m, s) = (d.mantissa(), d.scale());
    if s <= S {
        m * P[(S - s) as usize]
    } else {
        m / 10i128.pow(s - S)
    }
}

/// Moving-average crossover. A cross up happens at a close where fast > slow and at the
/// previous close fast <= slow; a cross down mirrors it. Compared exactly
/// (`fast_sum × slow_n` vs `slow_sum × fast_n` over closes scaled to integers), so ties are
/// real ties.
#[derive(Debug, Clone)]
pub struct SmaCross {
    fast_n: usize,
    slow_n: usize,
    /// The last `slow_n` closes (zeros before that), a ring; the fast window is its newest
    /// `fast_n` entries.
    ring: Vec<i128>,
    /// Where the next close goes (and the close leaving the slow window sits).
    pos: usize,
    /// Where the close leaving the fast window sits (`pos - fast_n`, wrapped).
    fast_out: usize,
    fast_sum: i128,
    slow_sum: i128,
    /// Closes seen, counted up to `slow_n`.
    seen: usize,
    prev: Option<std::cmp::Ordering>,
}

impl SmaCross {
    /// `0 < fast < slow` (as [`build_strategy`] checks).
    pub fn new(fast: usize, slow: usize) -> Self {
        let slow = slow.max(1);
        let fast = fast.clamp(1, slow);
        SmaCross {
            fast_n: fast,
            slow_n: slow,
            ring: vec![0; slow],
            pos: 0,
            fast_out: slow - fast,
            fast_sum: 0,
            slow_sum: 0,
            seen: 0,
            prev: None,
        }
    }
}

impl Strategy for SmaCross {
    fn name(&self) -> &'static str {
        "sma-cross"
    }
    fn on_bar(&mut self, bar: &Candle, long: bool) -> Option<Signal> {
        let x = scaled(bar.close);
        let n = self.slow_n;
        // Slots not yet written hold 0, so both sums are plain sums until their window fills.
        self.fast_sum += x - self.ring[self.fast_out];
        self.slow_sum += x - self.ring[self.pos];
        self.ring[self.pos] = x;
        self.pos = if self.pos + 1 == n { 0 } else { self.pos + 1 };
        self.fast_out = if self.fast_out + 1 == n {
            0
        } else {
            self.fast_out + 1
        };
        if self.seen < n {
            self.seen += 1;
            if self.seen < n {
                return None;
            }
        }
        let lhs = self.fast_sum * n as i128;
        let rhs = self.slow_sum * self.fast_n as i128;
        let now = lhs.cmp(&rhs);
        let prev = self.prev.replace(now);
        use std::cmp::Ordering::*;
        match (prev, now) {
            (Some(Less | Equal), Greater) if !long => Some(Signal::Enter),
            (Some(Greater | Equal), Less) if long => Some(Signal::Exit),
            _ => None,
        }
    }
}

/// RSI mean reversion (Wilder's RSI on closes): buy when flat and RSI < lower, sell when long
/// and RSI > upper. The indicator is a ratio, computed in f64; orders and money stay exact.
#[derive(Debug, Clone)]
pub struct RsiReversion {
    period: usize,
    lower: f64,
    upper: f64,
    prev_close: Option<f64>,
    avg_gain: f64,
    avg_loss: f64,
    seen: usize,
}

impl RsiReversion {
    pub fn new(period: usize, lower: f64, upper: f64) -> Self {
        RsiReversion {
            period,
            lower,
            upper,
            prev_close: None,
            avg_gain: 0.0,
            avg_loss: 0.0,
            seen: 0,
        }
    }
}

impl Strategy for RsiReversion {
    fn name(&self) -> &'static str {
        "rsi-reversion"
    }
    fn on_bar(&mut self, bar: &Candle, long: bool) -> Option<Signal> {
        let close = bar.close.to_f64()?;
        let prev = self.prev_close.replace(close)?;
        let change = close - prev;
        let (gain, loss) = (change.max(0.0), (-change).max(0.0));
        self.seen += 1;
        let n = self.period as f64;
        if self.seen <= self.period {
            self.avg_gain += gain / n;
            self.avg_loss += loss / n;
            if self.seen < self.period {
                return None;
            }
        } else {
            self.avg_gain = (self.avg_gain * (n - 1.0) + gain) / n;
            self.avg_loss = (self.avg_loss * (n - 1.0) + loss) / n;
        }
        let rsi = if self.avg_loss == 0.0 {
            100.0
        } else {
            100.0 - 100.0 / (1.0 + self.avg_gain / self.avg_loss)
        };
        if !long && rsi < self.lower {
            Some(Signal::Enter)
        } else if long && rsi > self.upper {
            Some(Signal::Exit)
        } else {
            None
        }
    }
}

/// One round trip (or an open position at the end).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trade {
    pub entry_time_ms: TimeMs,
    pub exit_time_ms: Option<TimeMs>,
    /// Average entry fill price.
    pub entry_price: Decimal,
    /// Average exit fill price, or the last close for a position still open.
    pub exit_price: Decimal,
    pub quantity: Decimal,
    /// Net of the fees of both legs (an open position: valued at the last close, no exit fee).
    pub pnl: Decimal,
    pub fees: Decimal,
    pub open: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestSettings {
    pub symbol: String,
    pub cash: Decimal,
    pub exchange: ExchangeConfig,
    /// Keep the per-bar equity curve (for a CSV). Metrics are computed either way.
    pub keep_equity_curve: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestReport {
    pub symbol: String,
    pub strategy: String,
    pub bars: u64,
    pub start_ms: Option<TimeMs>,
    pub end_ms: Option<TimeMs>,
    pub initial_cash: Decimal,
    pub final_equity: Decimal,
    /// Percent.
    pub total_return_pct: Decimal,
    /// Percent, peak to trough of the per-bar equity (at closes).
    pub max_drawdown_pct: f64,
    /// Annualized from per-bar returns (365-day year of bars, risk-free 0).
    pub sharpe: f64,
    pub fees_paid: Decimal,
    /// Percent of bars that ended holding a position.
    pub exposure_pct: f64,
    pub trades: Vec<Trade>,
    pub win_rate_pct: f64,
    #[serde(skip)]
    pub equity_curve: Vec<(TimeMs, Decimal)>,
}

/// Run `strategy` over `candles` (one symbol, ascending, equal intervals).
/// `progress` is called with the number of bars done every 65,536 bars and at the end.
pub fn run_backtest(
    instruments: &Instruments,
    settings: &BacktestSettings,
    candles: &[Candle],
    strategy: &mut dyn Strategy,
    progress: &mut dyn FnMut(u64),
) -> Result<BacktestReport, BacktestError> {
    let inst = instruments
        .get(&settings.symbol)
        .map_err(|e| BacktestError::Setup(e.to_string()))?;
    let (base, quote) = (inst.base_asset.clone(), inst.quote_asset.clone());
    if settings.cash <= Decimal::ZERO {
        return Err(BacktestError::Setup(format!(
            "cash must be positive, got {}",
            settings.cash
        )));
    }
    // The exchange only ever consults the traded symbol's rules, so it gets just those (no copy
    // of every instrument, and each lookup is one comparison).
    let only = Instruments {
        by_symbol: [(settings.symbol.clone(), inst.clone())].into(),
        as_of: instruments.as_of.clone(),
    };
    let mut ex = Exchange::new(only, settings.exchange.clone(), &quote);
    let start = candles.first().map(|c| c.open_time_ms);
    ex.deposit(&quote, settings.cash, start.unwrap_or(0));
    // Trades are built from fills; nothing reads the order and balance records.
    ex.set_report(Report::Fills);

    let mut book = TradeBook::default();
    let mut curve = Vec::new();
    if settings.keep_equity_curve {
        curve.reserve(candles.len());
    }
    let mut stats = Stats::new(fast_f64(settings.cash));
    let mut long_bars: u64 = 0;
    // The account as the loop needs it, refreshed only when the exchange reports something.
    let mut held = Decimal::ZERO;
    let mut cash = settings.cash;
    let (mut held_f, mut cash_f) = (0.0f64, fast_f64(cash));
    let mut long = false;
    // Whether the exchange has seen the latest bar. A bar on which the exchange holds no
    // order only moves its price and clock (`Exchange::on_candle` does nothing else then), so
    // such bars are not fed one by one: right before an order is submitted, and after the last
    // bar, the exchange is brought to the latest bar's close and clock, the state the bars
    // would have left it in.
    let mut fed = true;
    let catch_up = |ex: &mut Exchange, bar: &Candle| {
        ex.prime_close(&settings.symbol, bar.close);
        ex.advance_to(bar.close_time_ms());
    };
    // One event buffer for the whole run.
    let mut events = Vec::with_capacity(16);
    let n = candles.len();
    for (i, bar) in candles.iter().enumerate() {
        if ex.has_open_orders() {
            events.clear();
            ex.on_candle_into(&settings.symbol, bar, &mut events);
            book.record(&events);
            // (Balances may have moved without a fill: an order can expire and unlock.)
            held = ex.portfolio().balance(&base).total();
            cash = ex.portfolio().balance(&quote).total();
            (held_f, cash_f) = (fast_f64(held), fast_f64(cash));
            long = held > Decimal::ZERO;
            fed = true;
        } else {
            fed = false;
        }
        let equity_f = if long {
            long_bars += 1;
            cash_f + held_f * fast_f64(bar.close)
        } else {
            cash_f
        };
        stats.push(equity_f);
        if settings.keep_equity_curve {
            curve.push((
                bar.close_time_ms(),
                if long { cash + held * bar.close } else { cash },
            ));
        }
        if i + 1 < n {
            if let Some(sig) = strategy.on_bar(bar, long) {
                let t = bar.close_time_ms();
                let req = match sig {
                    Signal::Enter if !long => {
                        let cash = ex.portfolio().free(&quote);
                        Some(OrderRequest::market_quote(
                            &settings.symbol,
                            Side::Buy,
                            cash,
                        ))
                    }
                    Signal::Exit if long => {
                        let qty = ex.portfolio().free(&base);
                        Some(OrderRequest::market(&settings.symbol, Side::Sell, qty))
                    }
                    _ => None,
                };
                if let Some(req) = req {
                    if !fed {
                        catch_up(&mut ex, bar);
                        fed = true;
                    }
                    // A refused order (e.g. below the minimum notional) simply does not trade.
                    events.clear();
                    if ex.submit_into(req, t, &mut events).is_ok() {
                        book.record(&events);
                        // While the order is open (on candles, until the next bar) the next
                        // bar's step re-reads the account before anything uses it.
                        if !ex.has_open_orders() {
                            held = ex.portfolio().balance(&base).total();
                            cash = ex.portfolio().balance(&quote).total();
                            (held_f, cash_f) = (fast_f64(held), fast_f64(cash));
                            long = held > Decimal::ZERO;
                        }
                    }
                }
            }
        }
        if (i + 1) % 65_536 == 0 {
            progress((i + 1) as u64);
        }
    }
    progress(n as u64);
    if let (false, Some(last)) = (fed, candles.last()) {
        catch_up(&mut ex, last);
    }

    let last_close = candles.last().map(|c| c.close).unwrap_or_default();
    let final_equity = ex.equity();
    let mut trades = book.finish(last_close);
    trades.shrink_to_fit();
    let wins = trades.iter().filter(|t| t.pnl > Decimal::ZERO).count();
    let fees_paid = ex.portfolio().fees_paid();
    Ok(BacktestReport {
        symbol: settings.symbol.clone(),
        strategy: strategy.name().to_string(),
        bars: n as u64,
        start_ms: start,
        end_ms: candles.last().map(Candle::close_time_ms),
        initial_cash: settings.cash,
        total_return_pct: ((final_equity - settings.cash) / settings.cash * Decimal::ONE_HUNDRED)
            .round_dp(4),
        final_equity,
        max_drawdown_pct: stats.max_drawdown * 100.0,
        sharpe: stats.sharpe(bars_per_year(candles)),
        fees_paid,
        exposure_pct: if n == 0 {
            0.0
        } else {
            long_bars as f64 * 100.0 / n as f64
        },
        win_rate_pct: if trades.is_empty() {
            0.0
        } else {
            wins as f64 * 100.0 / trades.len() as f64
        },
        trades,
        equity_curve: curve,
    })
}

fn bars_per_year(candles: &[Candle]) -> f64 {
    let interval = candles.first().map_or(0, |c| c.interval_ms);
    if interval <= 0 {
        return 0.0;
    }
    365.0 * 24.0 * 3_600_000.0 / interval as f64
}

/// A Decimal as f64 for statistics (not for money): mantissa over a power of ten.
fn fast_f64(d: Decimal) -> f64 {
    const P: [f64; 29] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28,
    ];
    let m = d.mantissa();
    // i64 → f64 is one instruction and rounds exactly like i128 → f64 (a library call).
    let m = match i64::try_from(m) {
        Ok(m) => m as f64,
        Err(_) => wide_to_f64(m),
    };
    m / P[(d.scale() as usize).min(28)]
}

#[cold]
#[inline(never)]
fn wide_to_f64(m: i128) -> f64 {
    m as f64
}

/// Running drawdown and return statistics over per-bar equity.
struct Stats {
    peak: f64,
    prev: f64,
    max_drawdown: f64,
    n: u64,
    mean: f64,
    m2: f64,
}

impl Stats {
    fn new(initial: f64) -> Self {
        Stats {
            peak: initial,
            prev: initial,
            max_drawdown: 0.0,
            n: 0,
            mean: 0.0,
            m2: 0.0,
        }
    }
    fn push(&mut self, e: f64) {
        if e > self.peak {
            self.peak = e;
        } else if e != self.prev && self.peak > 0.0 {
            // (Equity unchanged since the last bar: same peak, same drawdown as then.)
            let dd = (self.peak - e) / self.peak;
            if dd > self.max_drawdown {
                self.max_drawdown = dd;
            }
        }
        let r = if self.prev > 0.0 && e != self.prev {
            e / self.prev - 1.0
        } else {
            0.0
        };
        self.prev = e;
        self.n += 1;
        let d = r - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (r - self.mean);
    }
    fn sharpe(&self, periods_per_year: f64) -> f64 {
        if self.n < 2 {
            return 0.0;
        }
        let var = self.m2 / (self.n - 1) as f64;
        if var <= 0.0 {
            return 0.0;
        }
        self.mean / var.sqrt() * periods_per_year.sqrt()
    }
}

/// Builds round trips from fills: a position opens on the first buy fill when flat and closes
/// when sells bring it back to zero.
#[derive(Debug, Default)]
struct TradeBook {
    trades: Vec<Trade>,
    cur: Option<OpenTrade>,
}

#[derive(Debug)]
struct OpenTrade {
    entry_time_ms: TimeMs,
    qty: Decimal,
    bought: Decimal,
    buy_quote: Decimal,
    sold: Decimal,
    sell_quote: Decimal,
    fees: Decimal,
    exit_time_ms: TimeMs,
}

impl TradeBook {
    fn record(&mut self, events: &[ExecEvent]) {
        for e in events {
            let ExecEvent::Fill(f) = e else { continue };
            match f.side {
                Side::Buy => {
                    let t = self.cur.get_or_insert(OpenTrade {
                        entry_time_ms: f.time_ms,
                        qty: Decimal::ZERO,
                        bought: Decimal::ZERO,
                        buy_quote: Decimal::ZERO,
                        sold: Decimal::ZERO,
                        sell_quote: Decimal::ZERO,
                        fees: Decimal::ZERO,
                        exit_time_ms: f.time_ms,
                    });
                    t.qty += f.quantity;
                    t.bought += f.quantity;
                    t.buy_quote += f.quote_quantity;
                    t.fees += f.fee;
                }
                Side::Sell => {
                    let Some(t) = self.cur.as_mut() else { continue };
                    t.qty -= f.quantity;
                    t.sold += f.quantity;
                    t.sell_quote += f.quote_quantity;
                    t.fees += f.fee;
                    t.exit_time_ms = f.time_ms;
                    if t.qty <= Decimal::ZERO {
                        if let Some(t) = self.cur.take() {
                            self.trades.push(Trade {
                                entry_time_ms: t.entry_time_ms,
                                exit_time_ms: Some(t.exit_time_ms),
                                entry_price: t.buy_quote / t.bought,
                                exit_price: t.sell_quote / t.sold,
                                quantity: t.bought,
                                pnl: t.sell_quote - t.buy_quote - t.fees,
                                fees: t.fees,
                                open: false,
                            });
                        }
                    }
                }
            }
        }
    }

    fn finish(mut self, last_close: Decimal) -> Vec<Trade> {
        if let Some(t) = self.cur.take() {
            let exit_price = if t.sold.is_zero() {
                last_close
            } else {
                t.sell_quote / t.sold
            };
            self.trades.push(Trade {
                entry_time_ms: t.entry_time_ms,
                exit_time_ms: None,
                entry_price: t.buy_quote / t.bought,
                exit_price,
                quantity: t.bought,
                pnl: t.sell_quote + t.qty * last_close - t.buy_quote - t.fees,
                fees: t.fees,
                open: true,
            });
        }
        self.trades
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn bar(i: i64, close: Decimal) -> Candle {
        Candle {
            open_time_ms: i * 60_000,
            interval_ms: 60_000,
            open: close,
            high: close,
            low: close,
            close,
            volume: dec!(1),
        }
    }

    /// A deterministic random walk of 5-minute bars, with closes written with varying numbers
    /// of decimals (trailing zeros kept or not), as candle files have them.
    fn walk(n: usize, seed: u64, start: i64, scale: u32) -> Vec<Candle> {
        let mut x = seed | 1;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut price = start;
        let dec = |v: i64, r: u64| {
            let d = Decimal::new(v, scale);
            if r.is_multiple_of(3) {
                d.normalize()
            } else {
                d
            }
        };
        (0..n)
            .map(|i| {
                let open = price;
                price = (price + (next() % 41) as i64 - 20).max(50);
                let hi = open.max(price) + (next() % 7) as i64;
                let lo = (open.min(price) - (next() % 7) as i64).max(1);
                Candle {
                    open_time_ms: 1_700_000_000_000 + i as i64 * 300_000,
                    interval_ms: 300_000,
                    open: dec(open, next()),
                    high: dec(hi, next()),
                    low: dec(lo, next()),
                    close: dec(price, next()),
                    volume: dec!(1000),
                }
            })
            .collect()
    }

    fn instruments() -> Instruments {
        Instruments::from_exchange_info_json(include_str!(
            "../../../assets/market/instruments.json"
        ))
        .expect("the shipped instruments parse")
    }

    /// The backtest loop as it was before it fed the exchange lazily and asked for fills only:
    /// every bar goes through `Exchange::on_candle` with every event reported, and the account
    /// is re-read whenever events came back.
    fn reference_run(
        instruments: &Instruments,
        settings: &BacktestSettings,
        candles: &[Candle],
        strategy: &mut dyn Strategy,
    ) -> BacktestReport {
        let inst = instruments.get(&settings.symbol).expect("symbol");
        let (base, quote) = (inst.base_asset.clone(), inst.quote_asset.clone());
        let mut ex = Exchange::new(instruments.clone(), settings.exchange.clone(), &quote);
        let start = candles.first().map(|c| c.open_time_ms);
        ex.deposit(&quote, settings.cash, start.unwrap_or(0));
        let mut book = TradeBook::default();
        let mut curve = Vec::new();
        let mut stats = Stats::new(fast_f64(settings.cash));
        let mut long_bars: u64 = 0;
        let (mut held, mut cash) = (Decimal::ZERO, settings.cash);
        let (mut held_f, mut cash_f) = (0.0f64, fast_f64(cash));
        let mut long = false;
        let n = candles.len();
        for (i, bar) in candles.iter().enumerate() {
            let events = ex.on_candle(&settings.symbol, bar);
            if !events.is_empty() {
                book.record(&events);
                held = ex.portfolio().balance(&base).total();
                cash = ex.portfolio().balance(&quote).total();
                (held_f, cash_f) = (fast_f64(held), fast_f64(cash));
                long = held > Decimal::ZERO;
            }
            let equity_f = if long {
                long_bars += 1;
                cash_f + held_f * fast_f64(bar.close)
            } else {
                cash_f
            };
            stats.push(equity_f);
            if settings.keep_equity_curve {
                curve.push((
                    bar.close_time_ms(),
                    if long { cash + held * bar.close } else { cash },
                ));
            }
            if i + 1 < n {
                if let Some(sig) = strategy.on_bar(bar, long) {
                    let t = bar.close_time_ms();
                    let req = match sig {
                        Signal::Enter if !long => Some(OrderRequest::market_quote(
                            &settings.symbol,
                            Side::Buy,
                            ex.portfolio().free(&quote),
                        )),
                        Signal::Exit if long => Some(OrderRequest::market(
                            &settings.symbol,
                            Side::Sell,
                            ex.portfolio().free(&base),
                        )),
                        _ => None,
                    };
                    if let Some(req) = req {
                        if let Ok((_, events)) = ex.submit(req, t) {
                            book.record(&events);
                            held = ex.portfolio().balance(&base).total();
                            cash = ex.portfolio().balance(&quote).total();
                            (held_f, cash_f) = (fast_f64(held), fast_f64(cash));
                            long = held > Decimal::ZERO;
                        }
                    }
                }
            }
        }
        let last_close = candles.last().map(|c| c.close).unwrap_or_default();
        let final_equity = ex.equity();
        let trades = book.finish(last_close);
        let wins = trades.iter().filter(|t| t.pnl > Decimal::ZERO).count();
        BacktestReport {
            symbol: settings.symbol.clone(),
            strategy: strategy.name().to_string(),
            bars: n as u64,
            start_ms: start,
            end_ms: candles.last().map(Candle::close_time_ms),
            initial_cash: settings.cash,
            total_return_pct: ((final_equity - settings.cash) / settings.cash
                * Decimal::ONE_HUNDRED)
                .round_dp(4),
            final_equity,
            max_drawdown_pct: stats.max_drawdown * 100.0,
            sharpe: stats.sharpe(bars_per_year(candles)),
            fees_paid: ex.portfolio().fees_paid(),
            exposure_pct: if n == 0 {
                0.0
            } else {
                long_bars as f64 * 100.0 / n as f64
            },
            win_rate_pct: if trades.is_empty() {
                0.0
            } else {
                wins as f64 * 100.0 / trades.len() as f64
            },
            trades,
            equity_curve: curve,
        }
    }

    /// The backtest decides, fills and reports exactly as the plain loop over the exchange
    /// does: same trades, equity curve, fees and statistics, to the last digit and bit.
    #[test]
    fn the_fast_loop_matches_the_plain_loop_exactly() {
        let instruments = instruments();
        struct Case {
            symbol: &'static str,
            start: i64,
            decimals: u32,
            strategy: &'static str,
            params: &'static [(&'static str, &'static str)],
            cash: &'static str,
            fee_bps: &'static str,
            slippage_bps: &'static str,
        }
        let case = |symbol, start, decimals, strategy, params, cash, fee_bps, slippage_bps| Case {
            symbol,
            start,
            decimals,
            strategy,
            params,
            cash,
            fee_bps,
            slippage_bps,
        };
        let sma = "sma-cross";
        let cases = [
            case(
                "DOGEUSDT",
                9_000,
                5,
                sma,
                &[("fast", "5"), ("slow", "12")],
                "10000",
                "10",
                "0",
            ),
            // Little cash: orders near the minimum notional, some refused.
            case(
                "DOGEUSDT",
                9_000,
                5,
                sma,
                &[("fast", "3"), ("slow", "7")],
                "7.5",
                "10",
                "3",
            ),
            case(
                "PEPEUSDT",
                1_300,
                8,
                sma,
                &[("fast", "2"), ("slow", "9")],
                "2500.5",
                "7.5",
                "1",
            ),
            case(
                "BTCUSDT",
                4_200_000,
                2,
                sma,
                &[("fast", "4"), ("slow", "10")],
                "10000",
                "10",
                "5",
            ),
            case(
                "WIFUSDT",
                25_000,
                4,
                "rsi-reversion",
                &[("period", "6"), ("lower", "40"), ("upper", "60")],
                "123.456",
                "0",
                "2",
            ),
        ];
        let mut trades = 0;
        for (k, c) in cases.iter().enumerate() {
            let candles = walk(6_000, 0x9E37_79B9 + k as u64, c.start, c.decimals);
            let params: Vec<(String, String)> = c
                .params
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect();
            let settings = BacktestSettings {
                symbol: c.symbol.to_string(),
                cash: c.cash.parse().expect("cash"),
                exchange: ExchangeConfig {
                    maker_fee_bps: c.fee_bps.parse().expect("fee"),
                    taker_fee_bps: c.fee_bps.parse().expect("fee"),
                    latency_ms: 50,
                    slippage_bps: c.slippage_bps.parse().expect("slippage"),
                },
                keep_equity_curve: true,
            };
            let mut a = build_strategy(c.strategy, &params).expect("strategy");
            let mut b = build_strategy(c.strategy, &params).expect("strategy");
            let fast = run_backtest(&instruments, &settings, &candles, a.as_mut(), &mut |_| {})
                .expect("run");
            let plain = reference_run(&instruments, &settings, &candles, b.as_mut());
            assert_eq!(
                serde_json::to_string(&fast).expect("json"),
                serde_json::to_string(&plain).expect("json"),
                "case {k}"
            );
            assert_eq!(fast.equity_curve, plain.equity_curve, "case {k}");
            assert_eq!(fast.sharpe.to_bits(), plain.sharpe.to_bits(), "case {k}");
            trades += fast.trades.len();
        }
        assert!(trades > 100, "the cases trade ({trades} trades)");
    }

    /// The ring-buffer SMAs decide exactly like sums recomputed from scratch every bar.
    #[test]
    fn sma_cross_matches_recomputed_averages() {
        for (fast, slow, seed) in [(1, 2, 1u64), (3, 7, 2), (20, 50, 3), (7, 8, 4)] {
            let candles = walk(3_000, seed, 1_000, 3);
            let mut s = SmaCross::new(fast, slow);
            let mut closes: Vec<Decimal> = Vec::new();
            let mut prev = None;
            let mut long = false;
            let mut signals = 0;
            for bar in &candles {
                closes.push(bar.close);
                let expected = if closes.len() >= slow {
                    let sum =
                        |k: usize| closes[closes.len() - k..].iter().copied().sum::<Decimal>();
                    let now =
                        (sum(fast) * Decimal::from(slow)).cmp(&(sum(slow) * Decimal::from(fast)));
                    let p = prev.replace(now);
                    use std::cmp::Ordering::*;
                    match (p, now) {
                        (Some(Less | Equal), Greater) if !long => Some(Signal::Enter),
                        (Some(Greater | Equal), Less) if long => Some(Signal::Exit),
                        _ => None,
                    }
                } else {
                    None
                };
                let got = s.on_bar(bar, long);
                assert_eq!(
                    got, expected,
                    "fast {fast} slow {slow} at {}",
                    bar.open_time_ms
                );
                if let Some(sig) = got {
                    long = sig == Signal::Enter;
                    signals += 1;
                }
            }
            assert!(signals > 10, "fast {fast} slow {slow}: {signals} signals");
        }
    }

    #[test]
    fn sma_cross_uses_le_on_the_previous_bar() {
        // fast=1, slow=2: fast > slow exactly when the close rises.
        let mut s = SmaCross::new(1, 2);
        let closes = [dec!(10), dec!(10), dec!(10), dec!(11), dec!(12), dec!(11)];
        let sigs: Vec<_> = closes
            .iter()
            .enumerate()
            .map(|(i, c)| s.on_bar(&bar(i as i64, *c), i >= 4))
            .collect();
        // bar1: equal (prev none); bar2: equal; bar3: up from equal -> Enter; bar5: down -> Exit
        assert_eq!(
            sigs,
            vec![
                None,
                None,
                None,
                Some(Signal::Enter),
                None,
                Some(Signal::Exit)
            ]
        );
    }

    #[test]
    fn unknown_strategy_and_params_are_clear_errors() {
        assert_eq!(
            build_strategy("moon", &[])
                .map(|_| ())
                .map_err(|e| e.code()),
            Err("unknown_strategy")
        );
        let e = build_strategy("sma-cross", &[("fastt".into(), "3".into())])
            .map(|_| ())
            .expect_err("must fail");
        assert!(
            e.to_string().contains("fastt") && e.to_string().contains("fast, slow"),
            "{e}"
        );
        assert!(build_strategy("sma-cross", &[("fast".into(), "x".into())]).is_err());
        assert!(build_strategy("sma-cross", &[("fast".into(), "60".into())]).is_err());
    }

    /// A refused parameter is named as the one that is wrong, not a neighbour.
    #[test]
    fn bad_parameters_are_named() {
        let param = |strategy: &str, given: &[(&str, &str)]| {
            let given: Vec<(String, String)> = given
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            match build_strategy(strategy, &given) {
                Err(BacktestError::BadParam { param, value, .. }) => (param, value),
                other => panic!("{strategy} {given:?}: expected a bad parameter, got {other:?}"),
            }
        };
        let owned = |p: &str, v: &str| (p.to_string(), v.to_string());
        assert_eq!(param("sma-cross", &[("slow", "0")]), owned("slow", "0"));
        assert_eq!(param("sma-cross", &[("slow", "10")]), owned("slow", "10"));
        assert_eq!(param("sma-cross", &[("fast", "60")]), owned("fast", "60"));
        assert_eq!(
            param("sma-cross", &[("fast", "0"), ("slow", "9")]),
            owned("fast", "0")
        );
        assert_eq!(
            param("rsi-reversion", &[("upper", "20")]),
            owned("upper", "20")
        );
        assert_eq!(
            param("rsi-reversion", &[("upper", "120")]),
            owned("upper", "120")
        );
        assert_eq!(
            param("rsi-reversion", &[("lower", "80")]),
            owned("lower", "80")
        );
        assert_eq!(
            param("rsi-reversion", &[("period", "1")]),
            owned("period", "1")
        );
    }
}
