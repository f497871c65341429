//! The event generator (see `docs/simulator.md` for the model).

use std::collections::VecDeque;

use papermemes_core::event::{Candle, Level, MarketEvent};
use papermemes_core::instrument::Instrument;
use papermemes_core::TimeMs;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::calibrate::{hour_of, Calibration};
use super::rng::Rng;
use super::SimError;

/// Length of the candles the simulator closes (aligned to multiples of it since the epoch).
pub const CANDLE_MS: i64 = 300_000;

/// Largest quantity, in lots, of one level or trade.
const MAX_LOTS: f64 = 1e15;

/// Book levels whose size is redrawn at each step (a little churn away from the touch).
const REFRESH_PER_STEP: usize = 2;

/// Tunables that are not calibrated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimConfig {
    /// Internal time step in ms (1 to 300 000, dividing 300 000). Events carry step times.
    pub step_ms: i64,
    /// Price levels on each side of the book (1 to 1000).
    pub depth_levels: usize,
    /// Mean number of public trades per minute (Poisson).
    pub trades_per_minute: f64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            step_ms: 1_000,
            depth_levels: 20,
            trades_per_minute: 30.0,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Bar {
    open_ms: TimeMs,
    open: i64,
    high: i64,
    low: i64,
    close: i64,
    volume_lots: i64,
    /// Mean trade size in lots for this bar (from its drawn target volume).
    mean_trade_lots: f64,
}

/// A trade at the touch, before it is made an event.
#[derive(Debug, Clone, Copy)]
struct Print {
    time_ms: TimeMs,
    price_ticks: i64,
    lots: i64,
    buy: bool,
}

/// What quiet steps went past (see [`Simulator::skip_until`]).
#[derive(Debug, Default)]
struct QuietTally {
    events: u64,
    last_bar: Option<Bar>,
    last_print: Option<Print>,
}

/// What [`Simulator::skip_until`] went past and where it left the pair.
#[derive(Debug, Clone)]
pub struct Skip {
    /// Events skipped: what [`Simulator::next_event`] would have handed out up to the target.
    pub events: u64,
    /// The last candle closed and the last trade at or before the target (those there were).
    pub last_candle: Option<MarketEvent>,
    pub last_trade: Option<MarketEvent>,
    /// The order book as of the target, as a snapshot event.
    pub book: MarketEvent,
}

/// A deterministic synthetic market for one pair. See the module docs.
///
/// Serde: its whole state (random generator included) round-trips exactly, so a simulator
/// saved mid-stream and restored continues with the very same events.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Simulator {
    symbol: String,
    tick: Decimal,
    lot: Decimal,
    cal: Calibration,
    cfg: SimConfig,
    rng: Rng,
    /// Time of the last step taken (the snapshot's time before the first step).
    t_ms: TimeMs,
    tick_f: f64,
    lot_f: f64,
    log_price: f64,
    min_log_price: f64,
    /// Slow volatility factor `x` and its per-step AR(1) coefficients.
    sv_x: f64,
    sv_a: f64,
    sv_b: f64,
    sv_shift: f64,
    /// Step length as a fraction of the calibration bar.
    step_frac: f64,
    spread: i64,
    /// Touch prices in ticks; level `i` of a side is `touch -/+ i` ticks.
    bid: i64,
    ask: i64,
    bids: Vec<i64>,
    asks: Vec<i64>,
    update_id: u64,
    bar: Bar,
    last_trade: i64,
    queue: VecDeque<MarketEvent>,
}

impl Simulator {
    /// A simulator with the default [`SimConfig`] (1 s steps, 20 levels, 30 trades a minute).
    pub fn new(
        instrument: &Instrument,
        calibration: Calibration,
        seed: u64,
        start_ms: TimeMs,
    ) -> Result<Simulator, SimError> {
        Simulator::with_config(
            instrument,
            calibration,
            seed,
            start_ms,
            SimConfig::default(),
        )
    }

    pub fn with_config(
        instrument: &Instrument,
        calibration: Calibration,
        seed: u64,
        start_ms: TimeMs,
        config: SimConfig,
    ) -> Result<Simulator, SimError> {
        calibration.validate()?;
        let bad_inst = |message: &str| SimError::BadInstrument {
            symbol: instrument.symbol.clone(),
            message: message.to_string(),
        };
        let tick = instrument.tick();
        let lot = instrument.step();
        if tick <= Decimal::ZERO {
            return Err(bad_inst("needs a PRICE_FILTER with a positive tick size"));
        }
        if lot <= Decimal::ZERO {
            return Err(bad_inst("needs a LOT_SIZE with a positive step size"));
        }
        let tick_f = tick.to_f64().unwrap_or(0.0);
        let lot_f = lot.to_f64().unwrap_or(0.0);
        if !(tick_f > 0.0 && lot_f > 0.0) {
            return Err(bad_inst("tick or step not representable"));
        }
        if config.step_ms < 1 || config.step_ms > CANDLE_MS || CANDLE_MS % config.step_ms != 0 {
            return Err(SimError::BadConfig(format!(
                "step_ms {} must be between 1 and {CANDLE_MS} and divide {CANDLE_MS}",
                config.step_ms
            )));
        }
        if config.depth_levels == 0 || config.depth_levels > 1000 {
            return Err(SimError::BadConfig(format!(
                "depth_levels {} must be between 1 and 1000",
                config.depth_levels
            )));
        }
        if !(config.trades_per_minute.is_finite() && config.trades_per_minute >= 0.0) {
            return Err(SimError::BadConfig(
                "trades_per_minute must be finite and non-negative".into(),
            ));
        }
        let start_price = calibration.start_price.to_f64().unwrap_or(0.0);
        if !(start_price > 0.0 && start_price.is_finite()) {
            return Err(SimError::BadCalibration {
                symbol: calibration.symbol.clone(),
                message: "start_price not representable".into(),
            });
        }
        let mut rng = Rng::new(seed);
        let spread = i64::from(calibration.spread_ticks);
        let dt = config.step_ms as f64;
        let sv = &calibration.stochastic_vol;
        let sv_a = (-dt / sv.tau_ms).exp();
        let sv_b = sv.log_std * (1.0 - sv_a * sv_a).max(0.0).sqrt();
        let sv_x = sv.log_std * rng.normal();
        let sv_shift = sv.log_std * sv.log_std;
        let step_frac = dt / calibration.interval_ms as f64;
        // Keep every bid level at a positive price.
        let min_log_price = (tick_f * (config.depth_levels as f64 + spread as f64 + 1.0)).ln();
        let log_price = start_price.ln().max(min_log_price);
        let bar_open = start_ms.div_euclid(CANDLE_MS) * CANDLE_MS;
        let levels = config.depth_levels;
        let mut sim = Simulator {
            symbol: instrument.symbol.clone(),
            tick,
            lot,
            cal: calibration,
            cfg: config,
            rng,
            t_ms: start_ms,
            tick_f,
            lot_f,
            log_price,
            min_log_price,
            sv_x,
            sv_a,
            sv_b,
            sv_shift,
            step_frac,
            spread,
            bid: 0,
            ask: 0,
            bids: Vec::with_capacity(levels),
            asks: Vec::with_capacity(levels),
            update_id: 1,
            bar: Bar {
                open_ms: bar_open,
                open: 0,
                high: 0,
                low: 0,
                close: 0,
                volume_lots: 0,
                mean_trade_lots: 1.0,
            },
            last_trade: 0,
            queue: VecDeque::new(),
        };
        let (bid, ask) = sim.touch_for_price();
        sim.bid = bid;
        sim.ask = ask;
        for i in 0..levels {
            let b = sim.level_size(i);
            sim.bids.push(b);
            let a = sim.level_size(i);
            sim.asks.push(a);
        }
        sim.last_trade = bid;
        sim.open_bar(bar_open);
        // No step taken yet: the book at `start_ms`.
        let snapshot = sim.book_snapshot();
        sim.queue.push_back(snapshot);
        Ok(sim)
    }

    /// The order book after the steps taken so far, as a snapshot event at their time.
    fn book_snapshot(&self) -> MarketEvent {
        MarketEvent::BookSnapshot {
            symbol: self.symbol.clone(),
            time_ms: self.t_ms,
            last_update_id: self.update_id,
            bids: self.side_levels(true),
            asks: self.side_levels(false),
        }
    }

    /// Like [`Simulator::for_each_until`], and return the order book as of `until_ms` (what
    /// applying every book event handed to `f` gives), as a snapshot event. Closing a candle
    /// due by `until_ms` can take one step past it; the book returned is the one before that
    /// step.
    pub fn run_until(&mut self, until_ms: TimeMs, mut f: impl FnMut(MarketEvent)) -> MarketEvent {
        let mut before_overstep = None;
        loop {
            while let Some(e) = self.queue.front() {
                if e.time_ms() > until_ms {
                    return before_overstep.unwrap_or_else(|| self.book_snapshot());
                }
                if let Some(e) = self.queue.pop_front() {
                    f(e);
                }
            }
            let next = self.t_ms + self.cfg.step_ms;
            if next > until_ms {
                if self.bar.open_ms + CANDLE_MS > until_ms {
                    return before_overstep.unwrap_or_else(|| self.book_snapshot());
                }
                if before_overstep.is_none() {
                    before_overstep = Some(self.book_snapshot());
                }
            }
            self.step();
        }
    }

    /// Go past every event up to and including `until_ms` without making them, and say what
    /// was skipped: the same count, last candle, last trade and book as taking them one by one
    /// ([`Simulator::run_until`]) would give, and the simulator goes on with the very same
    /// events. Steps whose events all fall at or before the target are taken quietly (their
    /// state moves and their random draws are taken, but no event, price or size is built);
    /// the last few, around the target, the usual way.
    pub fn skip_until(&mut self, until_ms: TimeMs) -> Skip {
        let mut events = 0;
        let mut last: [Option<MarketEvent>; 2] = [None, None];
        // What is already made (the first snapshot, a step's events not yet handed out).
        while self.queue.front().is_some_and(|e| e.time_ms() <= until_ms) {
            if let Some(e) = self.queue.pop_front() {
                keep_last(&mut events, &mut last, e);
            }
        }
        if self.queue.is_empty() {
            // A step's events carry its time (a candle closes at or before the step that
            // closes it), so every step up to the target is skipped whole.
            let mut quiet = QuietTally::default();
            while self.t_ms + self.cfg.step_ms <= until_ms {
                self.advance(Some(&mut quiet));
            }
            events += quiet.events;
            if let Some(b) = &quiet.last_bar {
                last[0] = Some(self.candle_event(b));
            }
            if let Some(p) = &quiet.last_print {
                last[1] = Some(self.trade_event(p));
            }
        }
        // The rest (a candle due by the target can need a step past it) the usual way.
        let book = self.run_until(until_ms, |e| keep_last(&mut events, &mut last, e));
        let [last_candle, last_trade] = last;
        Skip {
            events,
            last_candle,
            last_trade,
            book,
        }
    }

    pub fn symbol(&self) -> &str {
        &self.symbol
    }

    pub fn calibration(&self) -> &Calibration {
        &self.cal
    }

    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// Time of the last simulated step.
    pub fn time_ms(&self) -> TimeMs {
        self.t_ms
    }

    /// Current best bid and ask.
    pub fn touch(&self) -> (Decimal, Decimal) {
        (self.price(self.bid), self.price(self.ask))
    }

    /// The next event (the stream never ends; the first event is the book snapshot).
    pub fn next_event(&mut self) -> MarketEvent {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return e;
            }
            self.step();
        }
    }

    /// All events with a time at or before `until_ms`, in order (possibly none).
    pub fn events_until(&mut self, until_ms: TimeMs) -> Vec<MarketEvent> {
        let mut out = Vec::new();
        self.for_each_until(until_ms, |e| out.push(e));
        out
    }

    /// Like [`Simulator::events_until`], handing each event to `f` instead of collecting them.
    pub fn for_each_until(&mut self, until_ms: TimeMs, mut f: impl FnMut(MarketEvent)) {
        loop {
            if let Some(e) = self.queue.front() {
                if e.time_ms() <= until_ms {
                    if let Some(e) = self.queue.pop_front() {
                        f(e);
                    }
                    continue;
                }
                return;
            }
            let next = self.t_ms + self.cfg.step_ms;
            if next > until_ms && self.bar.open_ms + CANDLE_MS > until_ms {
                return;
            }
            self.step();
        }
    }

    fn price(&self, ticks: i64) -> Decimal {
        times(ticks, self.tick)
    }

    fn qty(&self, lots: i64) -> Decimal {
        times(lots, self.lot)
    }

    fn side_levels(&self, bids: bool) -> Vec<Level> {
        let (touch, sizes, dir) = if bids {
            (self.bid, &self.bids, -1)
        } else {
            (self.ask, &self.asks, 1)
        };
        sizes
            .iter()
            .enumerate()
            .map(|(i, &q)| (self.price(touch + dir * i as i64), self.qty(q)))
            .collect()
    }

    /// Touch (bid, ask) in ticks for the current latent price.
    fn touch_for_price(&self) -> (i64, i64) {
        let p = self.log_price.exp() / self.tick_f;
        let bid = (p - (self.spread - 1) as f64 / 2.0).floor();
        let floor = self.cfg.depth_levels as i64;
        let bid = if bid.is_finite() {
            (bid as i64).max(floor)
        } else {
            floor
        };
        (bid, bid + self.spread)
    }

    fn hour_volume_lots(&self, hour: usize) -> f64 {
        let v = &self.cal.volume_by_hour[hour];
        v.mean * CANDLE_MS as f64 / self.cal.interval_ms as f64 / self.lot_f
    }

    /// A fresh size for level `i` (0 = touch): about a twentieth of an average bar's volume,
    /// growing away from the touch, log-normal noise.
    fn level_size(&mut self, i: usize) -> i64 {
        let hour = hour_of(self.t_ms);
        let unit = self.hour_volume_lots(hour) / 20.0;
        let noise = (0.5 * self.rng.normal() - 0.125).exp();
        to_lots(unit * (1.0 + 0.1 * i as f64) * noise)
    }

    fn open_bar(&mut self, open_ms: TimeMs) {
        let hour = hour_of(open_ms);
        let v = self.cal.volume_by_hour[hour];
        let s = v.log_std;
        let target = self.hour_volume_lots(hour) * (s * self.rng.normal() - 0.5 * s * s).exp();
        let per_bar = self.cfg.trades_per_minute * CANDLE_MS as f64 / 60_000.0;
        let mean_trade_lots = if per_bar > 0.0 {
            (target / per_bar).max(1.0)
        } else {
            1.0
        };
        let p = self.last_trade;
        self.bar = Bar {
            open_ms,
            open: p,
            high: p,
            low: p,
            close: p,
            volume_lots: 0,
            mean_trade_lots,
        };
    }

    fn candle_event(&self, b: &Bar) -> MarketEvent {
        MarketEvent::Candle {
            symbol: self.symbol.clone(),
            candle: Candle {
                open_time_ms: b.open_ms,
                interval_ms: CANDLE_MS,
                open: self.price(b.open),
                high: self.price(b.high),
                low: self.price(b.low),
                close: self.price(b.close),
                volume: self.qty(b.volume_lots),
            },
        }
    }

    fn trade_event(&self, p: &Print) -> MarketEvent {
        MarketEvent::Trade {
            symbol: self.symbol.clone(),
            time_ms: p.time_ms,
            price: self.price(p.price_ticks),
            quantity: self.qty(p.lots),
            buyer_is_maker: !p.buy,
        }
    }

    fn close_bar(&mut self, quiet: Option<&mut QuietTally>) {
        match quiet {
            Some(q) => {
                q.events += 1;
                q.last_bar = Some(self.bar.clone());
            }
            None => {
                let e = self.candle_event(&self.bar);
                self.queue.push_back(e);
            }
        }
    }

    /// Advance one step: close a finished candle, move the price, shift and churn the book,
    /// trade at the touch.
    fn step(&mut self) {
        self.advance(None);
    }

    /// One step. With `quiet`, the step's events are only counted there (and its last candle
    /// and trade kept) instead of being made: the state moves, and the random draws are taken,
    /// exactly as when they are made.
    fn advance(&mut self, mut quiet: Option<&mut QuietTally>) {
        let t = self.t_ms + self.cfg.step_ms;
        self.t_ms = t;
        while t >= self.bar.open_ms + CANDLE_MS {
            self.close_bar(quiet.as_deref_mut());
            let next = self.bar.open_ms + CANDLE_MS;
            self.open_bar(next);
        }

        // Price: diffusion with hour-of-day and slow stochastic volatility, plus jumps.
        self.sv_x = self.sv_a * self.sv_x + self.sv_b * self.rng.normal();
        let m = (self.sv_x - self.sv_shift).exp();
        let hour = hour_of(t);
        let local = self.cal.vol_by_hour[hour] * m; // per calibration bar
        let var = local * local * self.cal.diffusion_share * self.step_frac;
        let shock = var.sqrt() * self.rng.normal();
        let mut dlog = shock - 0.5 * var;
        let jumps = &self.cal.jumps;
        let jp = jumps.prob_per_bar * self.step_frac;
        let n_jumps = if jp < 0.1 {
            u64::from(self.rng.bernoulli(jp))
        } else {
            self.rng.poisson(jp)
        };
        for _ in 0..n_jumps {
            let up = self.rng.bernoulli(jumps.up_fraction);
            let size = jumps.size(self.rng.uniform()) * local;
            dlog += if up { size } else { -size };
        }
        self.log_price = (self.log_price + dlog).max(self.min_log_price);

        // Book: shift to the new touch, then churn a few levels.
        let (bid, ask) = self.touch_for_price();
        let emit = quiet.is_none();
        let mut dbids: Vec<Level> = Vec::new();
        let mut dasks: Vec<Level> = Vec::new();
        let mut changed = 0;
        if bid != self.bid {
            changed += self.shift_side(true, bid, emit.then_some(&mut dbids));
        }
        if ask != self.ask {
            changed += self.shift_side(false, ask, emit.then_some(&mut dasks));
        }
        let levels = self.cfg.depth_levels;
        for _ in 0..REFRESH_PER_STEP {
            let on_bid = self.rng.bernoulli(0.5);
            let i = ((self.rng.uniform() * levels as f64) as usize).min(levels - 1);
            let q = self.level_size(i);
            changed += 1;
            if on_bid {
                self.bids[i] = q;
                if emit {
                    set_level(&mut dbids, self.price(self.bid - i as i64), self.qty(q));
                }
            } else {
                self.asks[i] = q;
                if emit {
                    set_level(&mut dasks, self.price(self.ask + i as i64), self.qty(q));
                }
            }
        }
        match quiet.as_deref_mut() {
            Some(q) if changed > 0 => {
                self.update_id += 1;
                q.events += 1;
            }
            Some(_) => {}
            None => self.push_delta(t, dbids, dasks),
        }

        // Trades at the touch; the aggressor leans with the move.
        let n_trades = self
            .rng
            .poisson(self.cfg.trades_per_minute * self.cfg.step_ms as f64 / 60_000.0);
        if n_trades == 0 {
            return;
        }
        let lean = if var > 0.0 {
            (0.2 * shock / var.sqrt()).clamp(-0.3, 0.3)
        } else {
            0.0
        };
        for _ in 0..n_trades {
            let buy = self.rng.bernoulli(0.5 + lean);
            let want = to_lots(self.bar.mean_trade_lots * self.rng.exp1());
            let (price_ticks, available) = if buy {
                (self.ask, self.asks[0])
            } else {
                (self.bid, self.bids[0])
            };
            let lots = want.min(available).max(1);
            let mut left = available - lots;
            if left <= 0 {
                left = self.level_size(0); // the level is refilled at the same price
            }
            let b = &mut self.bar;
            b.high = b.high.max(price_ticks);
            b.low = b.low.min(price_ticks);
            b.close = price_ticks;
            b.volume_lots = b.volume_lots.saturating_add(lots);
            self.last_trade = price_ticks;
            let print = Print {
                time_ms: t,
                price_ticks,
                lots,
                buy,
            };
            if buy {
                self.asks[0] = left;
            } else {
                self.bids[0] = left;
            }
            match quiet.as_deref_mut() {
                Some(q) => {
                    // The trade, and the touch after it as its own diff.
                    self.update_id += 1;
                    q.events += 2;
                    q.last_print = Some(print);
                }
                None => {
                    let e = self.trade_event(&print);
                    self.queue.push_back(e);
                    // The touch after the trade, as its own diff.
                    let level = vec![(self.price(price_ticks), self.qty(left))];
                    if buy {
                        self.push_delta(t, Vec::new(), level);
                    } else {
                        self.push_delta(t, level, Vec::new());
                    }
                }
            }
        }
    }

    fn push_delta(&mut self, t: TimeMs, bids: Vec<Level>, asks: Vec<Level>) {
        if bids.is_empty() && asks.is_empty() {
            return;
        }
        self.update_id += 1;
        self.queue.push_back(MarketEvent::BookDelta {
            symbol: self.symbol.clone(),
            time_ms: t,
            final_update_id: self.update_id,
            bids,
            asks,
        });
    }

    /// Move one side's touch to `new_touch`, keeping sizes of prices that stay in range,
    /// drawing sizes for new prices and removing prices that fall out of range. The levels that
    /// change go to `out` (when given); returns how many changed.
    fn shift_side(
        &mut self,
        bids: bool,
        new_touch: i64,
        mut out: Option<&mut Vec<Level>>,
    ) -> usize {
        let mut changed = 0;
        let n = self.cfg.depth_levels;
        let dir: i64 = if bids { -1 } else { 1 };
        let old_touch = if bids { self.bid } else { self.ask };
        let old = if bids {
            std::mem::take(&mut self.bids)
        } else {
            std::mem::take(&mut self.asks)
        };
        // Level index of a price relative to a touch: (price - touch) * dir.
        let mut new = Vec::with_capacity(n);
        for i in 0..n {
            let price = new_touch + dir * i as i64;
            let j = (price - old_touch) * dir;
            if j >= 0 && (j as usize) < old.len() {
                new.push(old[j as usize]);
            } else {
                let q = self.level_size(i);
                new.push(q);
                changed += 1;
                if let Some(out) = out.as_deref_mut() {
                    out.push((self.price(price), self.qty(q)));
                }
            }
        }
        for (j, _) in old.iter().enumerate() {
            let price = old_touch + dir * j as i64;
            let i = (price - new_touch) * dir;
            if !(i >= 0 && (i as usize) < n) && price > 0 {
                changed += 1;
                if let Some(out) = out.as_deref_mut() {
                    out.push((self.price(price), Decimal::ZERO));
                }
            }
        }
        if bids {
            self.bids = new;
            self.bid = new_touch;
        } else {
            self.asks = new;
            self.ask = new_touch;
        }
        changed
    }
}

impl Iterator for Simulator {
    type Item = MarketEvent;

    /// Never `None`: the market runs forever.
    fn next(&mut self) -> Option<MarketEvent> {
        Some(self.next_event())
    }
}

/// Count a skipped event, and keep it if it is a candle (`last[0]`) or a trade (`last[1]`).
pub(crate) fn keep_last(events: &mut u64, last: &mut [Option<MarketEvent>; 2], e: MarketEvent) {
    *events += 1;
    match e {
        MarketEvent::Candle { .. } => last[0] = Some(e),
        MarketEvent::Trade { .. } => last[1] = Some(e),
        _ => {}
    }
}

/// `n × unit`, built from the unit's digits: the same value and scale as `Decimal::from(n) *
/// unit`, without a general multiplication (this runs for every level of every simulated book
/// update).
fn times(n: i64, unit: Decimal) -> Decimal {
    if n == 0 {
        return Decimal::ZERO; // what the multiplication gives: no scale
    }
    Decimal::try_from_i128_with_scale(i128::from(n) * unit.mantissa(), unit.scale())
        .unwrap_or_else(|_| Decimal::from(n) * unit)
}

fn to_lots(x: f64) -> i64 {
    if x.is_finite() {
        x.round().clamp(1.0, MAX_LOTS) as i64
    } else {
        1
    }
}

/// Set (or overwrite) a level in a delta being built.
fn set_level(levels: &mut Vec<Level>, price: Decimal, qty: Decimal) {
    if let Some(l) = levels.iter_mut().find(|l| l.0 == price) {
        l.1 = qty;
    } else {
        levels.push((price, qty));
    }
}

#[cfg(test)]
mod tests {
    use super::times;
    use rust_decimal::Decimal;
    use std::str::FromStr;

    /// Prices and sizes written into the simulator's events (and into saved sessions) must be
    /// the very decimals the general multiplication gives: same value and same scale.
    #[test]
    fn times_matches_the_multiplication_digit_for_digit() {
        let units = ["0.00000001", "0.0001", "0.01", "1", "0.10", "10", "0.00100"];
        let counts = [0i64, 1, 7, 123_456, -3, 999_999_999_999, i64::MAX / 2];
        for u in units {
            let unit = Decimal::from_str(u).expect("a decimal");
            for n in counts {
                let want = Decimal::from(n) * unit;
                let got = times(n, unit);
                assert_eq!(got, want, "{n} × {u}");
                assert_eq!(
                    got.to_string(),
                    want.to_string(),
                    "{n} × {u} keeps the scale"
                );
            }
        }
    }
}
