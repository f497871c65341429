//! The trading service: one paper account on a replayed market, kept in the ledger.
//!
//! Every command restores the exchange from the ledger (balances from balance changes,
//! positions from fills, open orders from orders + their latest events + their locks), acts,
//! and writes what happened in one ledger transaction **before** reporting it: an order is
//! acknowledged only once its row is committed; fills are committed before they are shown.
//!
//! The replay session (which candle files, how far the market has gone) lives in the ledger's
//! `meta` table and is committed in the same transaction as the fills of each bar, so after a
//! crash the market resumes exactly where the committed state says and no bar is applied twice.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use papermemes_core::event::{Candle, MarketEvent};
use papermemes_core::exchange::{Exchange, ExchangeConfig, ExecEvent, NextIds};
use papermemes_core::instrument::Instruments;
use papermemes_core::order::{
    OcoRequest, Order, OrderRequest, OrderStatus, OrderType, Side, TimeInForce,
};
use papermemes_core::portfolio::{Fill, Portfolio};
use papermemes_core::TimeMs;
use papermemes_market::candles::read_candles;
use papermemes_market::replay::CaptureEvents;
use papermemes_market::sim::{Calibration, SimMarket};
use papermemes_store as store;
use papermemes_store::Ledger;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::settings::Settings;
use crate::AppError;

/// Which paper account and market session a [`Trading`] works on.
///
/// The CLI has one account and one replay session (`Cli`). The desktop app keeps one account
/// per kind of market — recorded replay, the simulator, live data — because each has its own
/// clock: a replay of 2024 cannot continue where a live session of today stopped, and orders
/// resting in one market make no sense in another. Switching the market switches the slot;
/// each slot's account, orders and session are kept in the ledger and resume where they were.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Slot {
    Cli,
    Replay,
    Sim,
    Live,
}

impl Slot {
    /// The `meta` key holding this slot's market session.
    pub fn session_key(self) -> &'static str {
        match self {
            Slot::Cli => "replay.session",
            Slot::Replay => "desk.replay.session",
            Slot::Sim => "desk.sim.session",
            Slot::Live => "desk.live.session",
        }
    }

    /// The `meta` key holding this slot's account id.
    pub fn account_key(self) -> &'static str {
        match self {
            Slot::Cli => "slot.cli.account",
            Slot::Replay => "desk.replay.account",
            Slot::Sim => "desk.sim.account",
            Slot::Live => "desk.live.account",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Slot::Cli => "cli",
            Slot::Replay => "replay",
            Slot::Sim => "sim",
            Slot::Live => "live",
        }
    }
}

/// The account a slot trades, if it has one yet.
///
/// A ledger written before slots existed has no `slot.cli.account`: the CLI's account is then
/// the newest account that no desktop slot claims (what "the active account" used to mean).
pub fn slot_account(ledger: &Ledger, slot: Slot) -> Result<Option<store::AccountRow>, AppError> {
    if let Some(v) = ledger.meta(slot.account_key()).wait()? {
        let id: i64 = v.parse().map_err(|_| {
            AppError::Config(format!(
                "ledger meta {} is not an account id: {v:?}",
                slot.account_key()
            ))
        })?;
        return ledger.account(id).wait()?.map(Some).ok_or_else(|| {
            AppError::Config(format!(
                "ledger meta {} names account {id}, which does not exist",
                slot.account_key()
            ))
        });
    }
    if slot != Slot::Cli {
        return Ok(None);
    }
    let mut claimed = Vec::new();
    for other in [Slot::Replay, Slot::Sim, Slot::Live] {
        if let Some(v) = ledger.meta(other.account_key()).wait()? {
            if let Ok(id) = v.parse::<i64>() {
                claimed.push(id);
            }
        }
    }
    match ledger.active_account().wait()? {
        Some(a) if !claimed.contains(&a.id) => Ok(Some(a)),
        Some(_) => {
            // The newest account belongs to the desktop: look for an older unclaimed one.
            let mut id = claimed.iter().copied().max().unwrap_or(0);
            while id > 0 {
                id -= 1;
                if claimed.contains(&id) {
                    continue;
                }
                if let Some(a) = ledger.account(id).wait()? {
                    return Ok(Some(a));
                }
            }
            Ok(None)
        }
        None => Ok(None),
    }
}

/// Sees every market event the exchange is given (to draw charts, feed a UI).
pub type MarketTap = Box<dyn FnMut(&MarketEvent) + Send>;

struct Tap(Option<MarketTap>);

impl std::fmt::Debug for Tap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Tap(set)"
        } else {
            "Tap(none)"
        })
    }
}

impl Tap {
    fn see(&mut self, e: &MarketEvent) {
        if let Some(t) = self.0.as_mut() {
            t(e);
        }
    }
}

/// A strategy hook for [`Trading::step`]: sees each applied bar (symbol, bar, the exchange's
/// events for it, the exchange) and returns orders to submit at that bar's close.
pub type OnBar<'a> = dyn FnMut(&str, &Candle, &[ExecEvent], &Exchange) -> Vec<OrderRequest> + 'a;

/// Which recorded data the market replays and how far it has got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplaySession {
    /// `(symbol, candle file)` for a candle replay.
    pub files: Vec<(String, PathBuf)>,
    /// Market time: the close of the last bar applied, or the time of the last capture event.
    pub cursor_ms: TimeMs,
    pub start_ms: TimeMs,
    pub end_ms: TimeMs,
    /// A recorded WebSocket capture replayed through the real order book (instead of candles).
    #[serde(default)]
    pub capture: Option<PathBuf>,
    /// The seeded simulator instead of recorded data.
    #[serde(default)]
    pub sim: Option<SimSpec>,
    /// Capture or simulator events applied so far.
    #[serde(default)]
    pub events_applied: u64,
    /// Live exchange data for these symbols (the market time is the exchange's event time).
    #[serde(default)]
    pub live: Option<Vec<String>>,
}

/// A simulated market: which pairs (calibrated from which candle files), the seed, the start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimSpec {
    pub calibrate_from: Vec<(String, PathBuf)>,
    pub seed: u64,
    pub start_ms: TimeMs,
}

type BoxedEvents = Box<dyn Iterator<Item = Result<MarketEvent, String>> + Send>;

/// The events still to come from a capture or the simulator.
enum CaptureCursor {
    /// A recorded capture, read as it goes.
    Events(std::iter::Peekable<BoxedEvents>),
    /// The simulator, kept as a value so its state can be saved with each commit.
    Sim {
        market: Box<SimMarket>,
        peeked: Option<MarketEvent>,
    },
}

impl std::fmt::Debug for CaptureCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CaptureCursor::Events(_) => "CaptureCursor::Events",
            CaptureCursor::Sim { .. } => "CaptureCursor::Sim",
        })
    }
}

impl CaptureCursor {
    /// Time of the next event; `Some(Err)` when the next record is unreadable.
    fn peek_time(&mut self) -> Option<Result<TimeMs, String>> {
        match self {
            CaptureCursor::Events(it) => it.peek().map(|r| match r {
                Ok(e) => Ok(e.time_ms()),
                Err(e) => Err(e.clone()),
            }),
            CaptureCursor::Sim { market, peeked } => {
                if peeked.is_none() {
                    *peeked = market.next();
                }
                peeked.as_ref().map(|e| Ok(e.time_ms()))
            }
        }
    }

    fn next_event(&mut self) -> Option<Result<MarketEvent, String>> {
        match self {
            CaptureCursor::Events(it) => it.next(),
            CaptureCursor::Sim { market, peeked } => {
                peeked.take().or_else(|| market.next()).map(Ok)
            }
        }
    }
}

/// A simulator session's state at a commit: the simulator and the exchange's market, so a
/// restart resumes at once instead of simulating the whole session again.
#[derive(Debug, Serialize, Deserialize)]
struct SimCheckpoint {
    events_applied: u64,
    market: SimMarket,
    peeked: Option<MarketEvent>,
    exchange: papermemes_core::exchange::MarketState,
    #[serde(default)]
    queues: Vec<(u64, Decimal)>,
}

/// [`SimCheckpoint`] by reference (what a commit writes).
#[derive(Serialize)]
struct SimCheckpointRef<'a> {
    events_applied: u64,
    market: &'a SimMarket,
    peeked: &'a Option<MarketEvent>,
    exchange: papermemes_core::exchange::MarketState,
    queues: Vec<(u64, Decimal)>,
}

/// Build a session's simulator at its start.
fn sim_market(spec: &SimSpec, instruments: &Instruments) -> Result<SimMarket, AppError> {
    let calibrate = |(sym, path): &(String, PathBuf)| -> Result<Calibration, AppError> {
        let candles = read_candles(path)?;
        Calibration::from_candles(sym, &candles.candles)
            .map_err(|e| AppError::invalid("replay.sim", e.to_string()))
    };
    // Reading and calibrating months of candles per pair takes a while: the pairs in parallel.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = spec.calibrate_from.len().div_ceil(threads).max(1);
    let cals: Vec<Result<Calibration, AppError>> = std::thread::scope(|scope| {
        let jobs: Vec<_> = spec
            .calibrate_from
            .chunks(per)
            .map(|chunk| scope.spawn(move || chunk.iter().map(calibrate).collect::<Vec<_>>()))
            .collect();
        jobs.into_iter()
            .flat_map(|j| j.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut pairs = Vec::new();
    for ((sym, _), cal) in spec.calibrate_from.iter().zip(cals) {
        pairs.push((instruments.get(sym)?, cal?));
    }
    SimMarket::new(pairs, spec.seed, spec.start_ms)
        .map_err(|e| AppError::invalid("replay.sim", e.to_string()))
}

/// Every market event of `session` (a capture or the simulator) from its start up to and
/// including market time `until_ms`, given to `f` (to draw a chart of a restored session).
pub fn session_history(
    session: &ReplaySession,
    instruments: &Instruments,
    until_ms: TimeMs,
    f: &mut dyn FnMut(&MarketEvent),
) -> Result<(), AppError> {
    let Some(mut src) = open_source(session, instruments)? else {
        return Ok(());
    };
    while let Some(Ok(t)) = src.peek_time() {
        if t > until_ms {
            break;
        }
        match src.next_event() {
            Some(Ok(e)) => f(&e),
            _ => break,
        }
    }
    Ok(())
}

/// Open the event source of a time-stepped replay (capture or simulator), at its beginning.
fn open_source(
    session: &ReplaySession,
    instruments: &Instruments,
) -> Result<Option<CaptureCursor>, AppError> {
    if let Some(path) = &session.capture {
        let it = CaptureEvents::open(path)
            .map_err(|e| AppError::invalid("replay.capture", e.to_string()))?
            .map(|r| r.map(|(_, e)| e).map_err(|e| e.to_string()));
        let boxed: BoxedEvents = Box::new(it);
        return Ok(Some(CaptureCursor::Events(boxed.peekable())));
    }
    if let Some(spec) = &session.sim {
        return Ok(Some(CaptureCursor::Sim {
            market: Box::new(sim_market(spec, instruments)?),
            peeked: None,
        }));
    }
    Ok(None)
}

/// One line of the portfolio view.
#[derive(Debug, Clone, Serialize)]
pub struct PositionView {
    pub symbol: String,
    pub quantity: Decimal,
    pub avg_cost: Decimal,
    pub mark: Option<Decimal>,
    pub unrealized_pnl: Decimal,
    pub realized_pnl: Decimal,
    pub fees_paid: Decimal,
}

#[derive(Debug, Clone, Serialize)]
pub struct BalanceView {
    pub asset: String,
    pub free: Decimal,
    pub locked: Decimal,
}

#[derive(Debug, Clone, Serialize)]
pub struct PortfolioView {
    pub account_id: i64,
    pub market_time_ms: Option<TimeMs>,
    pub balances: Vec<BalanceView>,
    pub positions: Vec<PositionView>,
    pub equity: Decimal,
    pub initial_cash: Decimal,
    pub realized_pnl: Decimal,
    pub unrealized_pnl: Decimal,
    pub fees_paid: Decimal,
}

/// What one replay step did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StepSummary {
    pub bars: u64,
    pub fills: Vec<Fill>,
    pub finished_orders: Vec<(u64, OrderStatus)>,
    pub market_time_ms: TimeMs,
    pub at_end: bool,
}

#[derive(Debug)]
pub struct Trading {
    ledger: Ledger,
    slot: Slot,
    account: store::AccountRow,
    ex: Exchange,
    settings: Settings,
    session: Option<ReplaySession>,
    series: BTreeMap<String, Vec<Candle>>,
    capture: Option<CaptureCursor>,
    tap: Tap,
    /// Equity points sampled since the last commit (written with the next one).
    pending_equity: Vec<store::EquityPoint>,
    /// Market state (cursor, events applied) moved since the last commit.
    dirty: bool,
    /// Time of the newest equity point written or pending.
    last_equity_ms: TimeMs,
}

impl Trading {
    /// Open the account in `ledger` (creating the first account if there is none).
    pub fn open(
        ledger: Ledger,
        instruments: Instruments,
        settings: Settings,
    ) -> Result<Trading, AppError> {
        Trading::open_slot(ledger, instruments, settings, Slot::Cli, None)
    }

    /// Open the account and market session of `slot` (creating the account if the slot has
    /// none). `tap` sees every market event given to the exchange, including those replayed
    /// to restore the market state of a capture or simulator session.
    pub fn open_slot(
        ledger: Ledger,
        instruments: Instruments,
        settings: Settings,
        slot: Slot,
        tap: Option<MarketTap>,
    ) -> Result<Trading, AppError> {
        let account = match slot_account(&ledger, slot)? {
            Some(a) => a,
            None => ledger
                .create_account_keyed(new_account(&settings, 0), slot.account_key().into())
                .wait()?,
        };
        let mut tap = Tap(tap);
        let session = match ledger.meta(slot.session_key()).wait()? {
            Some(json) => Some(serde_json::from_str::<ReplaySession>(&json).map_err(|e| {
                AppError::Config(format!("stored replay session is unreadable ({e}); start a new one with `papermemes replay start`"))
            })?),
            None => None,
        };
        let (ex, capture) = restore_exchange(
            &ledger,
            &account,
            instruments,
            &settings,
            session.as_ref(),
            Some(&format!("{}.state", slot.session_key())),
            &mut tap,
        )?;
        let mut t = Trading {
            ledger,
            slot,
            account,
            ex,
            settings,
            session,
            series: BTreeMap::new(),
            capture,
            tap,
            pending_equity: Vec::new(),
            dirty: false,
            last_equity_ms: TimeMs::MIN / 2,
        };
        t.prime_marks()?;
        Ok(t)
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }
    pub fn slot(&self) -> Slot {
        self.slot
    }
    /// The `meta` key of the saved simulator state that goes with the session.
    fn state_key(&self) -> String {
        format!("{}.state", self.slot.session_key())
    }
    /// Give every market event the exchange sees from now on to `tap` as well.
    pub fn set_tap(&mut self, tap: Option<MarketTap>) {
        self.tap = Tap(tap);
    }
    /// The candles of a candle replay, if this session is one (all bars, also future ones).
    pub fn candle_series(&self) -> &BTreeMap<String, Vec<Candle>> {
        &self.series
    }
    pub fn account(&self) -> &store::AccountRow {
        &self.account
    }
    pub fn exchange(&self) -> &Exchange {
        &self.ex
    }
    pub fn session(&self) -> Option<&ReplaySession> {
        self.session.as_ref()
    }
    pub fn market_time(&self) -> Option<TimeMs> {
        self.session.as_ref().map(|s| s.cursor_ms)
    }

    /// Start (or restart) the replay over the given candle files, at their beginning or at
    /// `from_ms`. Open orders stay open.
    pub fn start_replay(
        &mut self,
        files: Vec<(String, PathBuf)>,
        from_ms: Option<TimeMs>,
    ) -> Result<&ReplaySession, AppError> {
        self.start_replay_at(files, from_ms, 0)
    }

    /// [`Trading::start_replay`]; without `from_ms` the replay begins `lead_ms` after the
    /// start of the data, so that much history is already there (charts, prices).
    pub fn start_replay_at(
        &mut self,
        files: Vec<(String, PathBuf)>,
        from_ms: Option<TimeMs>,
        lead_ms: TimeMs,
    ) -> Result<&ReplaySession, AppError> {
        if files.is_empty() {
            return Err(AppError::invalid(
                "replay.no_data",
                "no candle files to replay",
            ));
        }
        let mut series = BTreeMap::new();
        let (mut start, mut end) = (i64::MAX, i64::MIN);
        for (symbol, path) in &files {
            self.ex.instruments().get(symbol)?;
            let s = read_candles(path)?;
            if let (Some(f), Some(l)) = (s.candles.first(), s.candles.last()) {
                start = start.min(f.open_time_ms);
                end = end.max(l.close_time_ms());
            }
            series.insert(symbol.clone(), s.candles);
        }
        if start > end {
            return Err(AppError::invalid(
                "replay.no_data",
                "the candle files have no rows",
            ));
        }
        let cursor = from_ms
            .unwrap_or(start.saturating_add(lead_ms.max(0)))
            .clamp(start, end);
        let cursor = cursor.max(self.ex.now()).min(end);
        let session = ReplaySession {
            files,
            cursor_ms: cursor,
            start_ms: start,
            end_ms: end,
            capture: None,
            sim: None,
            events_applied: 0,
            live: None,
        };
        let json = serde_json::to_string(&session)
            .map_err(|e| AppError::Config(format!("cannot encode replay session: {e}")))?;
        self.ledger
            .append(store::Batch {
                meta: vec![(self.slot.session_key().into(), json)],
                ..Default::default()
            })
            .wait()?;
        self.series = series;
        self.session = Some(session);
        self.capture = None;
        self.prime_marks()?;
        self.session
            .as_ref()
            .ok_or_else(|| AppError::invalid("replay.none", "no replay session"))
    }

    /// Start replaying a recorded WebSocket capture: orders fill against the real order book
    /// it rebuilds (the L2 fill model), not against candles. Open orders stay open.
    pub fn start_capture_replay(&mut self, path: PathBuf) -> Result<&ReplaySession, AppError> {
        let bad = |e: papermemes_market::capture::CaptureError| {
            AppError::invalid("replay.capture", e.to_string())
        };
        let (mut start, mut end, mut n) = (i64::MAX, i64::MIN, 0u64);
        for item in CaptureEvents::open(&path).map_err(bad)? {
            let (_, e) = item.map_err(bad)?;
            self.ex.instruments().get(e.symbol())?;
            start = start.min(e.time_ms());
            end = end.max(e.time_ms());
            n += 1;
        }
        if n == 0 {
            return Err(AppError::invalid(
                "replay.no_data",
                format!("{} holds no replayable market data", path.display()),
            ));
        }
        let session = ReplaySession {
            files: Vec::new(),
            cursor_ms: start.max(self.ex.now().min(end)),
            start_ms: start,
            end_ms: end,
            capture: Some(path),
            sim: None,
            events_applied: 0,
            live: None,
        };
        let json = serde_json::to_string(&session)
            .map_err(|e| AppError::Config(format!("cannot encode replay session: {e}")))?;
        self.ledger
            .append(store::Batch {
                meta: vec![(self.slot.session_key().into(), json)],
                ..Default::default()
            })
            .wait()?;
        self.session = Some(session);
        let (ex, capture) = restore_exchange(
            &self.ledger,
            &self.account,
            self.ex.instruments().clone(),
            &self.settings,
            self.session.as_ref(),
            None,
            &mut self.tap,
        )?;
        self.ex = ex;
        self.capture = capture;
        self.session
            .as_ref()
            .ok_or_else(|| AppError::invalid("replay.none", "no replay session"))
    }

    /// Start the seeded simulator (calibrated from the given candle files) as the market,
    /// beginning at `start_ms`. Same seed, same market, byte for byte.
    pub fn start_sim_replay(
        &mut self,
        calibrate_from: Vec<(String, PathBuf)>,
        seed: u64,
        start_ms: TimeMs,
    ) -> Result<&ReplaySession, AppError> {
        if calibrate_from.is_empty() {
            return Err(AppError::invalid(
                "replay.sim",
                "name at least one symbol to simulate",
            ));
        }
        let start = start_ms.max(self.ex.now());
        let session = ReplaySession {
            files: Vec::new(),
            cursor_ms: start,
            start_ms: start,
            // The simulator never ends; a year is what the status line shows.
            end_ms: start + 365 * 86_400_000,
            capture: None,
            sim: Some(SimSpec {
                calibrate_from,
                seed,
                start_ms: start,
            }),
            events_applied: 0,
            live: None,
        };
        // Calibrate and build it before saving, so a bad file is refused up front.
        let source = open_source(&session, self.ex.instruments())?;
        let json = serde_json::to_string(&session)
            .map_err(|e| AppError::Config(format!("cannot encode replay session: {e}")))?;
        self.ledger
            .append(store::Batch {
                meta: vec![(self.slot.session_key().into(), json)],
                ..Default::default()
            })
            .wait()?;
        // Nothing of the new session is applied yet: the exchange starts from the account
        // alone, and the simulator just built is its market (not calibrated a second time).
        let (ex, _) = restore_exchange(
            &self.ledger,
            &self.account,
            self.ex.instruments().clone(),
            &self.settings,
            None,
            None,
            &mut self.tap,
        )?;
        self.session = Some(session);
        self.ex = ex;
        self.capture = source;
        self.session
            .as_ref()
            .ok_or_else(|| AppError::invalid("replay.none", "no replay session"))
    }

    /// Advance a capture replay by `millis` of market time, feeding every event to the
    /// exchange. Fills are committed (with the replay position) before `on_committed` sees them.
    pub fn step_capture(
        &mut self,
        millis: i64,
        on_committed: &mut dyn FnMut(&[ExecEvent]),
    ) -> Result<StepSummary, AppError> {
        let start = self.timed_cursor()?;
        let summary = self.capture_until(start.saturating_add(millis.max(0)), on_committed)?;
        self.checkpoint()?;
        Ok(summary)
    }

    /// The cursor of a capture or simulator session (which advance by time).
    fn timed_cursor(&self) -> Result<TimeMs, AppError> {
        self.session
            .as_ref()
            .filter(|s| s.capture.is_some() || s.sim.is_some())
            .map(|s| s.cursor_ms)
            .ok_or_else(|| {
                AppError::invalid(
                    "replay.not_capture",
                    "the running replay is made of candles: step it by bars (`replay step --bars N`)",
                )
            })
    }

    /// Feed capture/simulator events up to market time `target`. Fills are committed (with the
    /// replay position) before `on_committed` sees them; market time that passes without a fill
    /// is only committed by [`Trading::checkpoint`].
    fn capture_until(
        &mut self,
        target: TimeMs,
        on_committed: &mut dyn FnMut(&[ExecEvent]),
    ) -> Result<StepSummary, AppError> {
        let start = self.timed_cursor()?;
        let mut summary = StepSummary {
            market_time_ms: start,
            ..Default::default()
        };
        let mut last_t = start;
        while let Some(it) = self.capture.as_mut() {
            let next_t = match it.peek_time() {
                None => {
                    summary.at_end = true;
                    break;
                }
                Some(Ok(t)) => t,
                Some(Err(e)) => return Err(AppError::invalid("replay.capture", e)),
            };
            if next_t > target {
                break;
            }
            let Some(Ok(event)) = it.next_event() else {
                break;
            };
            let events = self.ex.on_event(&event);
            self.tap.see(&event);
            last_t = last_t.max(event.time_ms());
            summary.bars += 1;
            self.dirty = true;
            if let Some(s) = self.session.as_mut() {
                s.events_applied += 1;
                s.cursor_ms = s.cursor_ms.max(last_t);
            }
            if !events.is_empty() {
                self.sample_equity(last_t);
                self.commit(&events, Vec::new(), Some(last_t))?;
                collect(&events, &mut summary);
                on_committed(&events);
            }
        }
        let end_t = if summary.at_end {
            last_t
        } else {
            target.max(last_t)
        };
        // Pending orders whose latency elapsed by now reach the market even without an event.
        let events = self.ex.advance_to(end_t);
        if let Some(s) = self.session.as_mut() {
            if s.cursor_ms != end_t {
                s.cursor_ms = end_t;
                self.dirty = true;
            }
        }
        self.sample_equity(end_t);
        if !events.is_empty() {
            self.commit(&events, Vec::new(), Some(end_t))?;
            collect(&events, &mut summary);
            on_committed(&events);
        }
        summary.market_time_ms = end_t;
        Ok(summary)
    }

    /// Record an equity point at `t` if the last one is at least a market minute older (the
    /// curve of a fast replay stays a reasonable size), to be written with the next commit.
    fn sample_equity(&mut self, t: TimeMs) {
        const EVERY_MS: TimeMs = 60_000;
        let due = match self.pending_equity.last() {
            Some(p) => t - p.time_ms >= EVERY_MS,
            None => t - self.last_equity_ms >= EVERY_MS,
        };
        if due {
            self.pending_equity.push(store::EquityPoint {
                account_id: self.account.id,
                time_ms: t,
                equity: self.ex.equity(),
            });
            self.last_equity_ms = t;
            self.dirty = true;
        }
    }

    /// Commit the market position (and sampled equity) if it moved since the last commit. The
    /// desktop calls this every second or so; a crash loses at most the market time since, never
    /// an order or a fill (those are committed as they happen, with the position).
    pub fn checkpoint(&mut self) -> Result<(), AppError> {
        if !self.dirty {
            return Ok(());
        }
        let cursor = self.market_time();
        self.commit(&[], Vec::new(), cursor)
    }

    /// Run a simulator session that has not started yet (nothing applied) up to market time
    /// `until_ms` in one go: the pairs are simulated in parallel, and the events in between
    /// reach neither the exchange nor the market tap (there can be no orders to fill: the
    /// session has just started). The exchange then gets each pair's last candle, last trade
    /// and book as of `until_ms`, as from a snapshot: the same books, prices and clock as after
    /// applying every event, and the market goes on with the very same events. (What it does not
    /// carry over, as with any snapshot, is the tally of prints at levels the book has not
    /// updated since, which only moves the queue place of orders resting there.) Used for the
    /// day simulated before trading starts; the chart's bars for it are worked out apart (see
    /// [`session_history`]).
    pub fn preroll_sim(&mut self, until_ms: TimeMs) -> Result<(), AppError> {
        let fresh = self
            .session
            .as_ref()
            .is_some_and(|s| s.sim.is_some() && s.events_applied == 0 && s.live.is_none());
        let Some(CaptureCursor::Sim { market, peeked }) = self.capture.as_mut() else {
            return Err(AppError::invalid(
                "replay.not_sim",
                "the market is not the simulator",
            ));
        };
        if !fresh || peeked.is_some() {
            return Err(AppError::invalid(
                "replay.sim_started",
                "the simulator has already started: advance it instead",
            ));
        }
        // Checked before anything moves: skipped events could not fill an order.
        if self.ex.has_open_orders() {
            return Err(AppError::invalid(
                "replay.sim_started",
                "orders are open: the simulator can skip ahead only before any order",
            ));
        }
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let ff = market.fast_forward(until_ms, threads);
        for e in ff.last_prints.iter().chain(&ff.books) {
            self.ex.on_event(e);
        }
        // Only the clock moves: no order is open.
        let events = self.ex.advance_to(until_ms);
        debug_assert!(events.is_empty(), "no order was open");
        if let Some(s) = self.session.as_mut() {
            s.events_applied = ff.events;
            s.cursor_ms = s.cursor_ms.max(until_ms);
        }
        self.dirty = true;
        self.sample_equity(until_ms);
        Ok(())
    }

    /// Advance whatever market this session replays (candles, a capture, the simulator) to
    /// market time `until_ms`, without committing the time that passes unless something
    /// trades ([`Trading::checkpoint`] does that). Returns what happened.
    pub fn advance_to(
        &mut self,
        until_ms: TimeMs,
        on_committed: &mut dyn FnMut(&[ExecEvent]),
    ) -> Result<StepSummary, AppError> {
        let Some(session) = self.session.as_ref() else {
            return Err(AppError::invalid("replay.none", "no market session"));
        };
        if session.live.is_some() {
            return Err(AppError::invalid(
                "replay.live",
                "a live session advances with the exchange's data",
            ));
        }
        if session.capture.is_some() || session.sim.is_some() {
            self.capture_until(until_ms, on_committed)
        } else {
            self.step_impl(
                u64::MAX,
                Some(until_ms),
                false,
                &mut |_, _, _, _| Vec::new(),
                on_committed,
            )
        }
    }

    /// Start a live session on `symbols`: from now on the market is what the caller feeds
    /// with [`Trading::apply_live`] (the exchange's own data; market time is its event time).
    pub fn start_live(
        &mut self,
        symbols: Vec<String>,
        now_ms: TimeMs,
    ) -> Result<&ReplaySession, AppError> {
        if symbols.is_empty() {
            return Err(AppError::invalid(
                "live.no_symbols",
                "name at least one symbol",
            ));
        }
        for s in &symbols {
            self.ex.instruments().get(s)?;
        }
        let start = now_ms.max(self.ex.now());
        let session = ReplaySession {
            files: Vec::new(),
            cursor_ms: start,
            start_ms: start,
            end_ms: i64::MAX,
            capture: None,
            sim: None,
            events_applied: 0,
            live: Some(symbols),
        };
        let json = serde_json::to_string(&session)
            .map_err(|e| AppError::Config(format!("cannot encode market session: {e}")))?;
        self.ledger
            .append(store::Batch {
                meta: vec![(self.slot.session_key().into(), json)],
                ..Default::default()
            })
            .wait()?;
        self.session = Some(session);
        self.series.clear();
        self.capture = None;
        self.session
            .as_ref()
            .ok_or_else(|| AppError::invalid("replay.none", "no market session"))
    }

    /// Give live market events to the exchange (in the order received). Fills are committed
    /// with the market time before `on_committed` sees them.
    pub fn apply_live(
        &mut self,
        events: &[MarketEvent],
        on_committed: &mut dyn FnMut(&[ExecEvent]),
    ) -> Result<StepSummary, AppError> {
        if self.session.as_ref().is_none_or(|s| s.live.is_none()) {
            return Err(AppError::invalid(
                "replay.not_live",
                "no live session is running",
            ));
        }
        let mut summary = StepSummary::default();
        for event in events {
            let t = event.time_ms();
            let mut out = self.ex.advance_to(t.max(self.ex.now()));
            out.extend(self.ex.on_event(event));
            self.tap.see(event);
            summary.bars += 1;
            if let Some(s) = self.session.as_mut() {
                if t > s.cursor_ms {
                    s.cursor_ms = t;
                    self.dirty = true;
                }
            }
            let now = self.market_time().unwrap_or(t);
            self.sample_equity(now);
            if !out.is_empty() {
                self.commit(&out, Vec::new(), Some(now))?;
                collect(&out, &mut summary);
                on_committed(&out);
            }
        }
        summary.market_time_ms = self.market_time().unwrap_or(0);
        Ok(summary)
    }

    fn load_series(&mut self, symbol: &str) -> Result<bool, AppError> {
        if self.series.contains_key(symbol) {
            return Ok(true);
        }
        let Some(path) = self.session.as_ref().and_then(|s| {
            s.files
                .iter()
                .find(|(sym, _)| sym == symbol)
                .map(|(_, p)| p.clone())
        }) else {
            return Ok(false);
        };
        let s = read_candles(&path)?;
        self.series.insert(symbol.to_string(), s.candles);
        Ok(true)
    }

    /// Give the exchange the last close at the market time for every symbol that needs a
    /// price (without matching: those bars were applied before).
    fn prime_marks(&mut self) -> Result<(), AppError> {
        let Some(cursor) = self.market_time() else {
            return Ok(());
        };
        let mut wanted: Vec<String> = self.series.keys().cloned().collect();
        for (asset, b) in &self.ex.portfolio().balances {
            if !b.total().is_zero() && *asset != self.account.quote_asset {
                wanted.push(format!("{asset}{}", self.account.quote_asset));
            }
        }
        for o in self.ex.open_orders() {
            wanted.push(o.symbol.clone());
        }
        wanted.sort();
        wanted.dedup();
        for sym in wanted {
            self.prime_symbol(&sym, cursor)?;
        }
        Ok(())
    }

    fn prime_symbol(&mut self, symbol: &str, cursor: TimeMs) -> Result<(), AppError> {
        if !self.load_series(symbol)? {
            return Ok(());
        }
        if let Some(bars) = self.series.get(symbol) {
            let n = bars.partition_point(|c| c.close_time_ms() <= cursor);
            if n > 0 {
                self.ex.prime_close(symbol, bars[n - 1].close);
            }
        }
        Ok(())
    }

    /// Submit an order; returns it once committed (acknowledged). With zero order-entry
    /// latency and a book, a marketable order fills here and then: `on_committed` sees those
    /// events once they are in the ledger (as `advance_to`'s callback does for later fills).
    pub fn submit(
        &mut self,
        req: OrderRequest,
        on_committed: &mut dyn FnMut(&[ExecEvent]),
    ) -> Result<Order, AppError> {
        let now = self.now()?;
        if let Some(c) = self.market_time() {
            self.prime_symbol(&req.symbol, c)?;
        }
        let (order, events) = self.ex.submit(req, now)?;
        self.commit(&events, Vec::new(), None)?;
        on_committed(&events);
        Ok(order)
    }

    /// Submit both legs of an OCO; `on_committed` as for [`Trading::submit`].
    pub fn submit_oco(
        &mut self,
        req: OcoRequest,
        on_committed: &mut dyn FnMut(&[ExecEvent]),
    ) -> Result<Vec<Order>, AppError> {
        let now = self.now()?;
        if let Some(c) = self.market_time() {
            self.prime_symbol(&req.symbol, c)?;
        }
        let (orders, events) = self.ex.submit_oco(req, now)?;
        self.commit(&events, Vec::new(), None)?;
        on_committed(&events);
        Ok(orders)
    }

    pub fn cancel(&mut self, order_id: u64) -> Result<Vec<ExecEvent>, AppError> {
        let now = self.now()?;
        let events = self.ex.cancel(order_id, now)?;
        self.commit(&events, Vec::new(), None)?;
        Ok(events)
    }

    pub fn cancel_all(&mut self, symbol: Option<&str>) -> Result<usize, AppError> {
        let now = self.now()?;
        let events = self.ex.cancel_all(symbol, now);
        self.commit(&events, Vec::new(), None)?;
        Ok(events
            .iter()
            .filter(|e| matches!(e, ExecEvent::OrderUpdate(_)))
            .count())
    }

    fn now(&self) -> Result<TimeMs, AppError> {
        self.market_time().ok_or_else(|| {
            AppError::invalid(
                "replay.none",
                "no market is running: start one with `papermemes replay start` first",
            )
        })
    }

    /// Advance the replay by up to `bars` bar closes (of all symbols together), applying each
    /// to the exchange. `on_bar` sees each bar's events after they are committed; it returns
    /// orders to submit at that bar's close (a strategy), which are committed before the next
    /// bar. Returns what happened.
    pub fn step(
        &mut self,
        bars: u64,
        on_bar: &mut OnBar<'_>,
        on_committed: &mut dyn FnMut(&[ExecEvent]),
    ) -> Result<StepSummary, AppError> {
        self.step_impl(bars, None, true, on_bar, on_committed)
    }

    /// [`Trading::step`], stopping also before the first bar that closes after `until`; with
    /// `commit_idle` false, bars without a fill are committed only by the next commit.
    fn step_impl(
        &mut self,
        bars: u64,
        until: Option<TimeMs>,
        commit_idle: bool,
        on_bar: &mut OnBar<'_>,
        on_committed: &mut dyn FnMut(&[ExecEvent]),
    ) -> Result<StepSummary, AppError> {
        let Some(session) = self.session.clone() else {
            return Err(AppError::invalid(
                "replay.none",
                "no replay session: start one with `papermemes replay start`",
            ));
        };
        if session.capture.is_some() || session.sim.is_some() {
            return Err(AppError::invalid(
                "replay.by_time",
                "the running replay is a capture or the simulator: step it by time (`replay step --seconds N`)",
            ));
        }
        for (sym, _) in &session.files {
            self.load_series(sym)?;
        }
        // Per-symbol position of the next bar to apply.
        let mut next: BTreeMap<String, usize> = self
            .series
            .iter()
            .filter(|(s, _)| session.files.iter().any(|(f, _)| f == *s))
            .map(|(s, c)| {
                (
                    s.clone(),
                    c.partition_point(|b| b.close_time_ms() <= session.cursor_ms),
                )
            })
            .collect();
        let mut summary = StepSummary {
            market_time_ms: session.cursor_ms,
            ..Default::default()
        };
        let mut equity_buf: Vec<store::EquityPoint> = Vec::new();
        let mut cursor = session.cursor_ms;
        while summary.bars < bars {
            // The earliest next close among symbols.
            let t = next
                .iter()
                .filter_map(|(s, i)| {
                    self.series
                        .get(s)
                        .and_then(|c| c.get(*i))
                        .map(|b| b.close_time_ms())
                })
                .min();
            let Some(t) = t else {
                summary.at_end = true;
                break;
            };
            if until.is_some_and(|u| t > u) {
                break;
            }
            let mut events_all: Vec<ExecEvent> = Vec::new();
            let mut new_orders: Vec<OrderRequest> = Vec::new();
            let symbols: Vec<String> = next.keys().cloned().collect();
            for sym in symbols {
                let Some(i) = next.get(&sym).copied() else {
                    continue;
                };
                let Some(bar) = self.series.get(&sym).and_then(|c| c.get(i)).cloned() else {
                    continue;
                };
                if bar.close_time_ms() != t {
                    continue;
                }
                let events = self.ex.on_candle(&sym, &bar);
                if self.tap.0.is_some() {
                    self.tap.see(&MarketEvent::Candle {
                        symbol: sym.clone(),
                        candle: bar.clone(),
                    });
                }
                new_orders.extend(on_bar(&sym, &bar, &events, &self.ex));
                events_all.extend(events);
                next.insert(sym, i + 1);
            }
            cursor = t;
            summary.bars += 1;
            summary.market_time_ms = t;
            equity_buf.push(store::EquityPoint {
                account_id: self.account.id,
                time_ms: t,
                equity: self.ex.equity(),
            });
            if !events_all.is_empty() {
                self.commit(&events_all, std::mem::take(&mut equity_buf), Some(cursor))?;
                collect(&events_all, &mut summary);
                on_committed(&events_all);
            }
            for req in new_orders {
                match self.ex.submit(req, t) {
                    Ok((_, events)) => {
                        self.commit(&events, std::mem::take(&mut equity_buf), Some(cursor))?;
                        collect(&events, &mut summary);
                        on_committed(&events);
                    }
                    Err(e) => tracing::info!("strategy order refused: {e}"),
                }
            }
        }
        if commit_idle {
            // Market time and the equity series are committed even when nothing traded.
            self.commit(&[], equity_buf, Some(cursor))?;
        } else {
            if let Some(u) = until {
                // Market time moves on to `until` even between bars.
                cursor = cursor.max(u);
            }
            if let Some(s) = self.session.as_mut() {
                if s.cursor_ms != cursor {
                    s.cursor_ms = cursor;
                    self.dirty = true;
                }
            }
            if !equity_buf.is_empty() {
                self.pending_equity.append(&mut equity_buf);
                self.dirty = true;
            }
        }
        if next
            .iter()
            .all(|(s, i)| self.series.get(s).is_none_or(|c| *i >= c.len()))
        {
            summary.at_end = true;
        }
        Ok(summary)
    }

    /// Write events (and equity points, and the market time) in one transaction.
    fn commit(
        &mut self,
        events: &[ExecEvent],
        equity: Vec<store::EquityPoint>,
        cursor: Option<TimeMs>,
    ) -> Result<(), AppError> {
        let mut batch = to_batch(self.account.id, events);
        batch.equity = std::mem::take(&mut self.pending_equity);
        batch.equity.extend(equity);
        if let (Some(c), Some(s)) = (cursor, self.session.as_mut()) {
            s.cursor_ms = c;
            let json = serde_json::to_string(&*s)
                .map_err(|e| AppError::Config(format!("cannot encode replay session: {e}")))?;
            batch.meta.push((self.slot.session_key().into(), json));
            // A simulator's state goes with its position, in the same transaction.
            if let Some(CaptureCursor::Sim { market, peeked }) = &self.capture {
                let cp = serde_json::to_string(&SimCheckpointRef {
                    events_applied: s.events_applied,
                    market,
                    peeked,
                    exchange: self.ex.market_state(),
                    queues: self.ex.queue_positions(),
                })
                .map_err(|e| AppError::Config(format!("cannot encode the simulator: {e}")))?;
                batch
                    .meta
                    .push((format!("{}.state", self.slot.session_key()), cp));
            }
        }
        if batch.is_empty() {
            return Ok(());
        }
        if let Some(p) = batch.equity.last() {
            self.last_equity_ms = self.last_equity_ms.max(p.time_ms);
        }
        if let Err(e) = self.ledger.append(batch).wait() {
            // The engine ran ahead of the ledger: rebuild it from what is committed.
            tracing::error!("ledger write failed, restoring from the ledger: {e}");
            if let Ok(Some(json)) = self.ledger.meta(self.slot.session_key()).wait() {
                self.session = serde_json::from_str(&json).ok();
            }
            if let Ok((ex, capture)) = restore_exchange(
                &self.ledger,
                &self.account,
                self.ex.instruments().clone(),
                &self.settings,
                self.session.as_ref(),
                Some(&self.state_key()),
                &mut self.tap,
            ) {
                self.ex = ex;
                self.capture = capture;
            }
            return Err(e.into());
        }
        self.dirty = false;
        Ok(())
    }

    /// Balances, positions with average cost and PnL at the current marks, and equity.
    pub fn portfolio(&mut self) -> Result<PortfolioView, AppError> {
        self.prime_marks()?;
        let p = self.ex.portfolio();
        let balances = p
            .balances
            .iter()
            .filter(|(_, b)| !b.total().is_zero())
            .map(|(a, b)| BalanceView {
                asset: a.clone(),
                free: b.free,
                locked: b.locked,
            })
            .collect();
        let mut positions = Vec::new();
        let mut unrealized = Decimal::ZERO;
        for (sym, pos) in &p.positions {
            let mark = self.ex.mark(sym);
            let u = mark.map_or(Decimal::ZERO, |m| pos.unrealized_pnl(m));
            unrealized += u;
            positions.push(PositionView {
                symbol: sym.clone(),
                quantity: pos.quantity,
                avg_cost: pos.avg_cost().round_dp(12),
                mark,
                unrealized_pnl: u,
                realized_pnl: pos.realized_pnl,
                fees_paid: pos.fees_paid,
            });
        }
        Ok(PortfolioView {
            account_id: self.account.id,
            market_time_ms: self.market_time(),
            balances,
            positions,
            equity: self.ex.equity(),
            initial_cash: self.account.initial_cash,
            realized_pnl: p.realized_pnl(),
            unrealized_pnl: unrealized,
            fees_paid: p.fees_paid(),
        })
    }

    /// Start a fresh account (the old one's history stays in the ledger).
    pub fn reset_account(&mut self, cash: Option<Decimal>) -> Result<&store::AccountRow, AppError> {
        let mut s = self.settings.clone();
        if let Some(c) = cash {
            if c <= Decimal::ZERO {
                return Err(AppError::invalid(
                    "account.bad_cash",
                    format!("starting cash must be positive, got {c}"),
                ));
            }
            s.account.starting_cash = c;
        }
        let now = self.market_time().unwrap_or(0);
        // Cancel what the old account had open so its locks are released in the ledger.
        let events = self.ex.cancel_all(None, now);
        self.commit(&events, Vec::new(), None)?;
        self.account = self
            .ledger
            .create_account_keyed(new_account(&s, now), self.slot.account_key().into())
            .wait()?;
        // The market itself is unchanged: whoever watches it has seen it already.
        let (ex, capture) = restore_exchange(
            &self.ledger,
            &self.account,
            self.ex.instruments().clone(),
            &self.settings,
            self.session.as_ref(),
            Some(&self.state_key()),
            &mut Tap(None),
        )?;
        self.ex = ex;
        self.capture = capture;
        self.prime_marks()?;
        Ok(&self.account)
    }

    /// A fresh account for this slot before a new market session is started in it: open
    /// orders of the old account are cancelled (their locks released), the old session is
    /// dropped without rebuilding its market, and the new account starts at market time 0.
    pub fn begin_fresh_account(&mut self) -> Result<&store::AccountRow, AppError> {
        let now = self.market_time().unwrap_or(0);
        let events = self.ex.cancel_all(None, now);
        self.commit(&events, Vec::new(), None)?;
        self.account = self
            .ledger
            .create_account_keyed(
                new_account(&self.settings, now),
                self.slot.account_key().into(),
            )
            .wait()?;
        self.session = None;
        self.series.clear();
        let (ex, capture) = restore_exchange(
            &self.ledger,
            &self.account,
            self.ex.instruments().clone(),
            &self.settings,
            None,
            None,
            &mut Tap(None),
        )?;
        self.ex = ex;
        self.capture = capture;
        self.pending_equity.clear();
        self.dirty = false;
        Ok(&self.account)
    }
}

fn collect(events: &[ExecEvent], summary: &mut StepSummary) {
    for e in events {
        match e {
            ExecEvent::Fill(f) => summary.fills.push(f.clone()),
            ExecEvent::OrderUpdate(u) if u.status.is_terminal() => {
                summary.finished_orders.push((u.order_id, u.status))
            }
            _ => {}
        }
    }
}

fn new_account(s: &Settings, now: TimeMs) -> store::NewAccount {
    store::NewAccount {
        name: "paper".into(),
        quote_asset: s.account.quote_asset.clone(),
        created_ms: now,
        maker_fee_bps: s.exchange.maker_fee_bps,
        taker_fee_bps: s.exchange.taker_fee_bps,
        initial_cash: s.account.starting_cash,
    }
}

fn side_to_store(s: Side) -> store::Side {
    match s {
        Side::Buy => store::Side::Buy,
        Side::Sell => store::Side::Sell,
    }
}

fn side_from_store(s: store::Side) -> Side {
    match s {
        store::Side::Buy => Side::Buy,
        store::Side::Sell => Side::Sell,
    }
}

fn status_to_store(s: OrderStatus) -> store::OrderStatus {
    match s {
        OrderStatus::New => store::OrderStatus::New,
        OrderStatus::PartiallyFilled => store::OrderStatus::PartiallyFilled,
        OrderStatus::Filled => store::OrderStatus::Filled,
        OrderStatus::Canceled => store::OrderStatus::Canceled,
        OrderStatus::Rejected => store::OrderStatus::Rejected,
        OrderStatus::Expired => store::OrderStatus::Expired,
    }
}

fn status_from_store(s: store::OrderStatus) -> OrderStatus {
    match s {
        store::OrderStatus::New => OrderStatus::New,
        store::OrderStatus::PartiallyFilled => OrderStatus::PartiallyFilled,
        store::OrderStatus::Filled => OrderStatus::Filled,
        store::OrderStatus::Canceled => OrderStatus::Canceled,
        store::OrderStatus::Rejected => OrderStatus::Rejected,
        store::OrderStatus::Expired => OrderStatus::Expired,
    }
}

fn id_i64(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

/// Map engine events to one ledger batch.
pub fn to_batch(account_id: i64, events: &[ExecEvent]) -> store::Batch {
    let mut b = store::Batch::default();
    for e in events {
        match e {
            ExecEvent::OrderNew(o) => {
                b.orders.push(store::OrderRow {
                    id: id_i64(o.id),
                    account_id,
                    client_order_id: o.client_order_id.clone(),
                    symbol: o.symbol.clone(),
                    side: side_to_store(o.side),
                    order_type: o.order_type.as_str().into(),
                    time_in_force: o.time_in_force.map(|t| t.as_str().to_string()),
                    quantity: o.quantity,
                    quote_quantity: o.quote_quantity,
                    price: o.price,
                    stop_price: o.stop_price,
                    list_id: o.list_id.map(id_i64),
                    created_ms: o.created_ms,
                });
                b.events.push(store::NewOrderEvent {
                    order_id: id_i64(o.id),
                    time_ms: o.created_ms,
                    status: store::OrderStatus::New,
                    executed_qty: Decimal::ZERO,
                    cumulative_quote_qty: Decimal::ZERO,
                    reason: None,
                });
            }
            ExecEvent::OrderUpdate(u) => b.events.push(store::NewOrderEvent {
                order_id: id_i64(u.order_id),
                time_ms: u.time_ms,
                status: status_to_store(u.status),
                executed_qty: u.executed_qty,
                cumulative_quote_qty: u.cumulative_quote_qty,
                reason: u.reason.clone(),
            }),
            ExecEvent::Fill(f) => b.fills.push(store::FillRow {
                id: id_i64(f.id),
                order_id: id_i64(f.order_id),
                account_id,
                symbol: f.symbol.clone(),
                side: side_to_store(f.side),
                price: f.price,
                quantity: f.quantity,
                quote_quantity: f.quote_quantity,
                fee: f.fee,
                fee_asset: f.fee_asset.clone(),
                is_maker: f.is_maker,
                time_ms: f.time_ms,
            }),
            ExecEvent::Balance(c) => b.balance_changes.push(store::NewBalanceChange {
                account_id,
                asset: c.asset.clone(),
                free_delta: c.free_delta,
                locked_delta: c.locked_delta,
                reason: c.reason.as_str().into(),
                order_id: c.order_id.map(id_i64),
                fill_id: c.fill_id.map(id_i64),
                time_ms: c.time_ms,
            }),
        }
    }
    b
}

pub fn fill_from_row(f: &store::FillRow) -> Fill {
    Fill {
        id: f.id.max(0) as u64,
        order_id: f.order_id.max(0) as u64,
        symbol: f.symbol.clone(),
        side: side_from_store(f.side),
        price: f.price,
        quantity: f.quantity,
        quote_quantity: f.quote_quantity,
        fee: f.fee,
        fee_asset: f.fee_asset.clone(),
        is_maker: f.is_maker,
        time_ms: f.time_ms,
    }
}

/// Rebuild the exchange state of `account` from the ledger.
fn restore_exchange(
    ledger: &Ledger,
    account: &store::AccountRow,
    instruments: Instruments,
    settings: &Settings,
    session: Option<&ReplaySession>,
    state_key: Option<&str>,
    tap: &mut Tap,
) -> Result<(Exchange, Option<CaptureCursor>), AppError> {
    let mut config: ExchangeConfig = settings.exchange.clone();
    config.maker_fee_bps = account.maker_fee_bps;
    config.taker_fee_bps = account.taker_fee_bps;
    let mut portfolio = Portfolio::default();
    for b in ledger.balances(account.id).wait()? {
        portfolio.balances.insert(
            b.asset.clone(),
            papermemes_core::portfolio::Balance {
                free: b.free,
                locked: b.locked,
            },
        );
    }
    for f in ledger.fills(account.id, None).wait()? {
        portfolio.apply_fill(&fill_from_row(&f));
    }
    // Locks per order, from the balance changes that reference it.
    let mut locks: BTreeMap<i64, (String, Decimal)> = BTreeMap::new();
    for c in ledger.balance_changes(account.id).wait()? {
        if let Some(oid) = c.order_id {
            if !c.locked_delta.is_zero() {
                let e = locks
                    .entry(oid)
                    .or_insert_with(|| (c.asset.clone(), Decimal::ZERO));
                e.0 = c.asset.clone();
                e.1 += c.locked_delta;
            }
        }
    }
    let now = session.map_or(0, |s| s.cursor_ms);
    let all = ledger.orders(account.id, store::OrderFilter::All).wait()?;
    let max_list = all
        .iter()
        .filter_map(|o| o.order.list_id)
        .max()
        .unwrap_or(0);
    let mut open = Vec::new();
    for o in all {
        let Some(latest) = o.latest.as_ref() else {
            continue;
        };
        if latest.status.is_terminal() {
            continue;
        }
        let r = &o.order;
        let order_type: OrderType = r
            .order_type
            .parse()
            .map_err(|e: String| AppError::Config(format!("order {} in the ledger: {e}", r.id)))?;
        let tif: Option<TimeInForce> = match &r.time_in_force {
            Some(t) => Some(t.parse().map_err(|e: String| {
                AppError::Config(format!("order {} in the ledger: {e}", r.id))
            })?),
            None => None,
        };
        let side = side_from_store(r.side);
        let (locked_asset, locked) = locks.get(&r.id).cloned().unwrap_or_else(|| {
            let inst = instruments.get(&r.symbol).ok();
            let asset = match (side, inst) {
                (Side::Buy, Some(i)) => i.quote_asset.clone(),
                (Side::Sell, Some(i)) => i.base_asset.clone(),
                _ => String::new(),
            };
            (asset, Decimal::ZERO)
        });
        let arrival = r.created_ms + config.latency_ms.max(0);
        open.push(Order {
            id: r.id.max(0) as u64,
            list_id: r.list_id.map(|l| l.max(0) as u64),
            client_order_id: r.client_order_id.clone(),
            symbol: r.symbol.clone(),
            side,
            order_type,
            time_in_force: tif,
            quantity: r.quantity,
            quote_quantity: r.quote_quantity,
            price: r.price,
            stop_price: r.stop_price,
            status: status_from_store(latest.status),
            executed_qty: latest.executed_qty,
            cumulative_quote_qty: latest.cumulative_quote_qty,
            created_ms: r.created_ms,
            arrival_ms: arrival,
            locked_asset,
            locked,
            // An order whose latency elapsed before the committed market time reached the
            // matching engine already (its arrival bar was applied and committed).
            working: arrival < now,
            triggered: latest.reason.as_deref() == Some("stop triggered"),
            queue_ahead: None,
        });
    }
    let max = ledger.max_ids().wait()?;
    let next = NextIds {
        order: max.max_order_id.max(0) as u64 + 1,
        fill: max.max_fill_id.max(0) as u64 + 1,
        list: max_list.max(0) as u64 + 1,
    };
    let mut ex = Exchange::restore(
        instruments,
        config,
        &account.quote_asset,
        portfolio,
        Vec::new(),
        next,
        now,
    );
    // A capture replay: rebuild the market (books, last trades) from the events already applied,
    // with no orders in the exchange so nothing can match twice; then reinstate the orders.
    let mut cursor = None;
    let mut queues = Vec::new();
    if let Some(session) = session {
        // A simulator session saved with its last commit resumes at once.
        let saved = match (&session.sim, state_key) {
            (Some(_), Some(key)) => match ledger.meta(key).wait()? {
                Some(json) => serde_json::from_str::<SimCheckpoint>(&json)
                    .ok()
                    .filter(|c| c.events_applied == session.events_applied),
                None => None,
            },
            _ => None,
        };
        if let Some(cp) = saved {
            ex.restore_market_state(cp.exchange);
            queues = cp.queues;
            cursor = Some(CaptureCursor::Sim {
                market: Box::new(cp.market),
                peeked: cp.peeked,
            });
        } else if let Some(mut it) = open_source(session, ex.instruments())? {
            for _ in 0..session.events_applied {
                match it.next_event() {
                    Some(Ok(e)) => {
                        ex.on_event(&e);
                        tap.see(&e);
                    }
                    Some(Err(e)) => return Err(AppError::invalid("replay.capture", e)),
                    None => break,
                }
            }
            cursor = Some(it);
        }
    }
    ex.reinstate_orders(open);
    ex.restore_queue_positions(&queues);
    Ok((ex, cursor))
}

/// Resolve replay files from symbols and an interval in the bundled assets.
pub fn bundled_files(
    assets: &Path,
    symbols: &[String],
    interval: &str,
) -> Result<Vec<(String, PathBuf)>, AppError> {
    symbols
        .iter()
        .map(|s| {
            let s = s.trim().to_ascii_uppercase();
            crate::assets::bundled_candles(assets, &s, interval).map(|p| (s, p))
        })
        .collect()
}
