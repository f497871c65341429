//! The engine thread: owns the [`Trading`] service of the current market, moves the market
//! forward (replay and simulator by wall-clock time × speed; live as the exchange's data
//! arrives), answers the UI's commands, and checkpoints the market position every second.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use papermemes_core::event::MarketEvent;
use papermemes_core::exchange::ExecEvent;
use papermemes_core::order::{OcoRequest, OrderRequest, OrderType, Side};
use papermemes_core::TimeMs;
use papermemes_market::hub::{FeedState, Subscription, Update};
use papermemes_market::live::{LiveConfig, LiveFeed};
use papermemes_store as store;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::bars::{intervals_from, MarketBars, DAY_MS};
use super::views::{
    avg, id64, BalanceLine, DeskStatus, EquityPointView, Estimate, FeedStateView, FillView,
    MarketKind, Notice, OrderStatusView, OrderTicket, OrderView, PortfolioSummary, PositionLine,
    SourceSpec,
};
use super::{lock, Cmd, DeskConfig, Shared};
use crate::assets::DEFAULT_SYMBOLS;
use crate::trading::{bundled_files, MarketTap, Slot, Trading};
use crate::AppError;

/// How often the engine moves a running market forward.
const TICK: Duration = Duration::from_millis(16);
/// How often the market position is committed when nothing trades.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// Where the simulator's clock starts (2025-01-01 00:00 UTC): fixed, so a seed is a market.
pub const SIM_EPOCH_MS: TimeMs = 1_735_689_600_000;
/// Simulated history made before trading starts, for the chart and 24 h statistics.
const SIM_PREROLL_MS: TimeMs = DAY_MS;
/// 1-minute bars kept per symbol (3 days) for trade-built charts; candle replays keep more.
const TRADE_BARS: usize = 3 * 1440;
const CANDLE_BARS: usize = 20_000;
/// History a candle replay shows when it starts at the beginning of its data.
const REPLAY_HISTORY_MS: TimeMs = 3 * DAY_MS;
/// Replay work per tick when running "as fast as possible".
const MAX_SPEED_STEP_MS: TimeMs = 30_000;

fn now_ms() -> TimeMs {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn slot_of(kind: MarketKind) -> Slot {
    match kind {
        MarketKind::Replay => Slot::Replay,
        MarketKind::Sim => Slot::Sim,
        MarketKind::Live => Slot::Live,
    }
}

/// The source to open on when none is given: the settings' market with its usual data.
pub(crate) fn default_source(config: &DeskConfig) -> SourceSpec {
    if let Some(s) = &config.source {
        return s.clone();
    }
    match config.settings.desktop.market {
        MarketKind::Replay => SourceSpec::Candles {
            symbols: DEFAULT_SYMBOLS.iter().map(|s| s.to_string()).collect(),
            interval: "5m".into(),
            from_ms: None,
        },
        MarketKind::Sim => SourceSpec::Sim { seed: 1 },
        MarketKind::Live => SourceSpec::Live {
            symbols: DEFAULT_SYMBOLS.iter().map(|s| s.to_string()).collect(),
        },
    }
}

fn default_speed(spec: &SourceSpec) -> f64 {
    match spec {
        // A 5-minute bar every 5 seconds.
        SourceSpec::Candles { .. } => 60.0,
        _ => 1.0,
    }
}

fn label(spec: &SourceSpec) -> String {
    match spec {
        SourceSpec::Candles { interval, .. } => format!("Replay · Binance {interval} candles"),
        SourceSpec::Capture { path } => {
            let name = Path::new(path)
                .file_name()
                .map_or_else(|| path.clone(), |n| n.to_string_lossy().into_owned());
            format!("Replay · capture {name}")
        }
        SourceSpec::Sim { seed } => format!("Simulator · seed {seed}"),
        SourceSpec::Live { .. } => "Live · Binance".into(),
    }
}

pub(crate) fn initial_status(config: &DeskConfig) -> DeskStatus {
    let spec = default_source(config);
    DeskStatus {
        kind: spec.kind(),
        source_label: label(&spec),
        speed: default_speed(&spec),
        source: spec,
        state: FeedStateView::Loading,
        reason: "starting".into(),
        paused: false,
        market_time_ms: None,
        start_ms: None,
        end_ms: None,
        symbols: Vec::new(),
        intervals: Vec::new(),
        has_book: false,
        has_trades: false,
        account_id: 0,
        data_dir: config.paths.data_dir.display().to_string(),
        events_per_sec: 0.0,
        lag_ms: None,
        reconnects: 0,
        resyncs: 0,
        history_pending: false,
    }
}

struct Live {
    rt: tokio::runtime::Runtime,
    feed: Option<LiveFeed>,
    sub: Subscription,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Live")
    }
}

struct Engine {
    config: DeskConfig,
    shared: Arc<Shared>,
    ledger: store::Ledger,
    trading: Trading,
    spec: SourceSpec,
    paused: bool,
    speed: f64,
    at_end: bool,
    live: Option<Live>,
    last_tick: Instant,
    last_checkpoint: Instant,
    rate_window: (Instant, u64),
    events_per_sec: f64,
    /// Events published by taps (shared with them).
    published: Arc<std::sync::atomic::AtomicU64>,
}

pub(crate) fn run(
    config: DeskConfig,
    shared: Arc<Shared>,
    rx: Receiver<Cmd>,
    ready: Sender<Result<(), AppError>>,
) {
    let mut engine = match Engine::open(config, shared) {
        Ok(e) => {
            let _ = ready.send(Ok(()));
            e
        }
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    loop {
        let timeout = if engine.running() {
            TICK
        } else {
            Duration::from_millis(250)
        };
        match rx.recv_timeout(timeout) {
            Ok(Cmd::Shutdown) => break,
            Ok(cmd) => engine.handle(cmd),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        // Answer everything queued before moving the market again.
        let mut stop = false;
        while let Ok(cmd) = rx.try_recv() {
            if matches!(cmd, Cmd::Shutdown) {
                stop = true;
                break;
            }
            engine.handle(cmd);
        }
        if stop {
            break;
        }
        engine.tick();
    }
    engine.close();
}

impl Engine {
    fn open(config: DeskConfig, shared: Arc<Shared>) -> Result<Engine, AppError> {
        let ledger = store::Ledger::open(&config.paths.db_file())?;
        let spec = match &config.source {
            Some(s) => s.clone(),
            None => last_spec(&ledger, &config, config.settings.desktop.market)?,
        };
        let published = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (trading, at_end, live) =
            open_market(&config, &shared, &ledger, &spec, false, &published)?;
        // The speed the user last chose for this market, else the source's usual one.
        let speed = match config.settings.desktop.speed {
            Some(saved)
                if spec.kind() == config.settings.desktop.market
                    && spec.kind() != MarketKind::Live
                    && (0.0..=100_000.0).contains(&saved) =>
            {
                saved
            }
            _ => default_speed(&spec),
        };
        let mut e = Engine {
            speed,
            config,
            shared,
            ledger,
            trading,
            spec,
            paused: false,
            at_end,
            live,
            last_tick: Instant::now(),
            last_checkpoint: Instant::now(),
            rate_window: (Instant::now(), 0),
            events_per_sec: 0.0,
            published,
        };
        e.after_switch();
        Ok(e)
    }

    fn running(&self) -> bool {
        self.live.is_some() || (!self.paused && !self.at_end)
    }

    fn close(&mut self) {
        if let Err(e) = self.trading.checkpoint() {
            tracing::error!("final checkpoint failed: {e}");
        }
        self.stop_live();
        let _ = self.ledger.close();
    }

    fn stop_live(&mut self) {
        if let Some(mut l) = self.live.take() {
            if let Some(feed) = l.feed.take() {
                l.rt.block_on(feed.stop());
            }
        }
    }

    /// Publish the books the exchange holds (after a restore or a switch) and tell views to
    /// start over.
    fn after_switch(&mut self) {
        let ex = self.trading.exchange();
        let symbols: Vec<String> = self.symbols();
        for s in &symbols {
            if let Some(b) = ex.book(s) {
                self.shared.hub.publish(MarketEvent::BookSnapshot {
                    symbol: s.clone(),
                    time_ms: ex.now(),
                    last_update_id: b.last_update_id,
                    bids: b.bids().collect(),
                    asks: b.asks().collect(),
                });
            }
        }
        self.shared.epoch.fetch_add(1, Ordering::AcqRel);
        self.last_tick = Instant::now();
        self.publish_status();
    }

    fn symbols(&self) -> Vec<String> {
        match &self.spec {
            SourceSpec::Candles { symbols, .. } | SourceSpec::Live { symbols } => symbols.clone(),
            SourceSpec::Sim { .. } => DEFAULT_SYMBOLS.iter().map(|s| s.to_string()).collect(),
            SourceSpec::Capture { .. } => {
                let mut v: Vec<String> = lock(&self.shared.bars)
                    .symbols()
                    .map(str::to_string)
                    .collect();
                for s in self.trading.exchange().instruments().symbols() {
                    if self.trading.exchange().book(s).is_some() && !v.iter().any(|x| x == s) {
                        v.push(s.to_string());
                    }
                }
                v
            }
        }
    }

    fn status(&self) -> DeskStatus {
        let session = self.trading.session();
        let base_ms = lock(&self.shared.bars).base_ms();
        let (state, reason) = if let Some(_l) = &self.live {
            let s = self.shared.hub.status();
            let st = match s.state {
                FeedState::Connecting => FeedStateView::Connecting,
                FeedState::Syncing => FeedStateView::Syncing,
                FeedState::Live => FeedStateView::Live,
                FeedState::Stale => FeedStateView::Stale,
                FeedState::Resyncing => FeedStateView::Resyncing,
                FeedState::Stopped => FeedStateView::Stopped,
            };
            (st, s.reason)
        } else if self.at_end {
            (
                FeedStateView::Finished,
                "the recorded data has ended; restart it or pick another".into(),
            )
        } else if self.paused {
            (FeedStateView::Paused, "paused".into())
        } else {
            let why = if self.speed == 0.0 {
                "replaying as fast as possible".to_string()
            } else {
                format!("running at {}×", self.speed)
            };
            (FeedStateView::Live, why)
        };
        let counters = self.shared.hub.counters().snapshot();
        let is_live = self.live.is_some();
        DeskStatus {
            kind: self.spec.kind(),
            source: self.spec.clone(),
            source_label: label(&self.spec),
            state,
            reason,
            paused: self.paused,
            speed: self.speed,
            market_time_ms: self.trading.market_time(),
            start_ms: session.map(|s| s.start_ms),
            end_ms: session.map(|s| s.end_ms).filter(|e| *e < i64::MAX / 2),
            symbols: self.symbols(),
            intervals: intervals_from(base_ms),
            has_book: !matches!(self.spec, SourceSpec::Candles { .. }),
            has_trades: !matches!(self.spec, SourceSpec::Candles { .. }),
            account_id: self.trading.account().id,
            data_dir: self.config.paths.data_dir.display().to_string(),
            events_per_sec: (self.events_per_sec * 10.0).round() / 10.0,
            lag_ms: is_live.then_some(counters.lag_ms),
            reconnects: counters.reconnects,
            resyncs: counters.resyncs,
            history_pending: false, // the shared flag: `Shared::set_status` and `Desk::status` read it
        }
    }

    fn publish_status(&self) {
        self.shared.set_status(self.status());
    }

    fn handle(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::SetSource(spec, fresh, a) => {
                let r = self.switch(spec, fresh).map(|_| self.status());
                let _ = a.send(r);
            }
            Cmd::SwitchMarket(kind, a) => {
                let r = self
                    .last_spec(kind)
                    .and_then(|spec| self.switch(spec, false))
                    .map(|_| self.status());
                let _ = a.send(r);
            }
            Cmd::Pause(p, a) => {
                if self.live.is_none() {
                    self.paused = p;
                    self.last_tick = Instant::now();
                    self.publish_status();
                    let _ = a.send(Ok(self.status()));
                } else {
                    let _ = a.send(Err(AppError::invalid(
                        "market.live",
                        "live data cannot be paused",
                    )));
                }
            }
            Cmd::Speed(s, a) => {
                let r = if !(0.0..=100_000.0).contains(&s) || s.is_nan() {
                    Err(AppError::invalid(
                        "market.bad_speed",
                        format!(
                            "speed must be between 0 (as fast as possible) and 100000, got {s}"
                        ),
                    ))
                } else if self.live.is_some() {
                    Err(AppError::invalid(
                        "market.live",
                        "live data runs at the exchange's pace",
                    ))
                } else {
                    self.speed = s;
                    self.save_settings(|d| d.speed = Some(s));
                    self.publish_status();
                    Ok(self.status())
                };
                let _ = a.send(r);
            }
            Cmd::Step(ms, a) => {
                let r = if self.live.is_some() {
                    Err(AppError::invalid(
                        "market.live",
                        "live data cannot be stepped",
                    ))
                } else if !(1..=DAY_MS).contains(&ms) {
                    Err(AppError::invalid(
                        "market.bad_step",
                        format!("step by 1 ms to one day of market time, not {ms} ms"),
                    ))
                } else {
                    let target = self.trading.market_time().unwrap_or(0).saturating_add(ms);
                    self.advance(target).map(|_| {
                        self.publish_status();
                        self.status()
                    })
                };
                let _ = a.send(r);
            }
            Cmd::Submit(t, a) => {
                // A fill at submit (zero latency) is announced like any other fill.
                let shared = self.shared.clone();
                let mut on_committed = |ev: &[ExecEvent]| notify(&shared, ev);
                let r =
                    ticket_request(&t).and_then(|req| self.trading.submit(req, &mut on_committed));
                let r = r.map(|o| OrderView::from(&o));
                self.after_orders(r.is_ok());
                let _ = a.send(r);
            }
            Cmd::SubmitOco(t, a) => {
                let req = OcoRequest {
                    symbol: t.symbol.trim().to_ascii_uppercase(),
                    side: t.side.into(),
                    quantity: t.quantity,
                    price: t.price,
                    stop_price: t.stop_price,
                    stop_limit_price: t.stop_limit_price,
                };
                let shared = self.shared.clone();
                let mut on_committed = |ev: &[ExecEvent]| notify(&shared, ev);
                let r = self
                    .trading
                    .submit_oco(req, &mut on_committed)
                    .map(|v| v.iter().map(OrderView::from).collect());
                self.after_orders(r.is_ok());
                let _ = a.send(r);
            }
            Cmd::Cancel(id, a) => {
                let r = self.cancel(id);
                self.after_orders(r.is_ok());
                let _ = a.send(r);
            }
            Cmd::CancelAll(sym, a) => {
                let sym = sym.map(|s| s.trim().to_ascii_uppercase());
                let r = self
                    .trading
                    .cancel_all(sym.as_deref())
                    .map(|n| u32::try_from(n).unwrap_or(u32::MAX));
                self.after_orders(r.is_ok());
                let _ = a.send(r);
            }
            Cmd::Portfolio(a) => {
                let _ = a.send(self.portfolio());
            }
            Cmd::OpenOrders(a) => {
                let mut v: Vec<OrderView> = self
                    .trading
                    .exchange()
                    .open_orders()
                    .map(OrderView::from)
                    .collect();
                v.sort_by_key(|o| std::cmp::Reverse(o.id));
                let _ = a.send(Ok(v));
            }
            Cmd::OrderHistory(limit, a) => {
                let _ = a.send(self.order_history(limit));
            }
            Cmd::Fills(limit, a) => {
                let r = self
                    .ledger
                    .fills(
                        self.trading.account().id,
                        Some(limit.clamp(1, 10_000) as usize),
                    )
                    .wait()
                    .map_err(AppError::from)
                    .map(|rows| {
                        rows.iter()
                            .rev()
                            .map(|f| FillView::from(&crate::trading::fill_from_row(f)))
                            .collect()
                    });
                let _ = a.send(r);
            }
            Cmd::Equity(a) => {
                let r = self
                    .ledger
                    .equity_points(self.trading.account().id)
                    .wait()
                    .map_err(AppError::from)
                    .map(|pts| thin(pts.iter().map(|p| (p.time_ms, p.equity)).collect(), 2000));
                let _ = a.send(r);
            }
            Cmd::Estimate(t, a) => {
                let _ = a.send(self.estimate(&t));
            }
            Cmd::Reset(cash, a) => {
                let r = self
                    .trading
                    .reset_account(cash)
                    .map(|_| ())
                    .and_then(|()| self.portfolio());
                self.publish_status();
                let _ = a.send(r);
            }
            Cmd::Shutdown => {}
        }
    }

    fn last_spec(&self, kind: MarketKind) -> Result<SourceSpec, AppError> {
        last_spec(&self.ledger, &self.config, kind)
    }

    fn after_orders(&mut self, changed: bool) {
        if changed {
            self.last_checkpoint = Instant::now();
        }
    }

    fn cancel(&mut self, id: i64) -> Result<OrderView, AppError> {
        let oid = u64::try_from(id)
            .map_err(|_| AppError::invalid("order.unknown_order", format!("no order {id}")))?;
        let mut view = self
            .trading
            .exchange()
            .order(oid)
            .map(OrderView::from)
            .ok_or_else(|| {
                AppError::invalid(
                    "order.unknown_order",
                    format!("order {id} is not open (it may have filled or been cancelled)"),
                )
            })?;
        let events = self.trading.cancel(oid)?;
        for e in &events {
            if let ExecEvent::OrderUpdate(u) = e {
                if u.order_id == oid {
                    view.status = u.status.into();
                    view.updated_ms = u.time_ms;
                    view.reason = u.reason.clone();
                }
            }
        }
        Ok(view)
    }

    fn portfolio(&mut self) -> Result<PortfolioSummary, AppError> {
        let p = self.trading.portfolio()?;
        let quote = self.trading.account().quote_asset.clone();
        let ex = self.trading.exchange();
        let balances = p
            .balances
            .iter()
            .map(|b| {
                let value = if b.asset == quote {
                    Some(b.free + b.locked)
                } else {
                    ex.mark(&format!("{}{quote}", b.asset))
                        .map(|m| ((b.free + b.locked) * m).round_dp(8))
                };
                BalanceLine {
                    asset: b.asset.clone(),
                    free: b.free,
                    locked: b.locked,
                    value,
                }
            })
            .collect();
        let positions = p
            .positions
            .iter()
            .filter(|x| !x.quantity.is_zero() || !x.realized_pnl.is_zero())
            .map(|x| {
                let cost = x.avg_cost * x.quantity;
                PositionLine {
                    symbol: x.symbol.clone(),
                    quantity: x.quantity,
                    avg_cost: x.avg_cost.normalize(),
                    mark: x.mark,
                    value: x.mark.map(|m| (m * x.quantity).round_dp(8)),
                    unrealized_pnl: x.unrealized_pnl.round_dp(8),
                    unrealized_pct: if cost.is_zero() {
                        None
                    } else {
                        (x.unrealized_pnl / cost).to_f64().map(|r| r * 100.0)
                    },
                    realized_pnl: x.realized_pnl.round_dp(8),
                    fees_paid: x.fees_paid,
                }
            })
            .collect();
        let ret = if p.initial_cash.is_zero() {
            0.0
        } else {
            ((p.equity - p.initial_cash) / p.initial_cash)
                .to_f64()
                .unwrap_or(0.0)
                * 100.0
        };
        Ok(PortfolioSummary {
            account_id: p.account_id,
            quote_asset: quote,
            market_time_ms: p.market_time_ms,
            balances,
            positions,
            equity: p.equity.round_dp(8),
            initial_cash: p.initial_cash,
            return_pct: ret,
            realized_pnl: p.realized_pnl.round_dp(8),
            unrealized_pnl: p.unrealized_pnl.round_dp(8),
            fees_paid: p.fees_paid,
            open_orders: u32::try_from(ex.open_orders().count()).unwrap_or(u32::MAX),
        })
    }

    fn order_history(&self, limit: u32) -> Result<Vec<OrderView>, AppError> {
        let rows = self
            .ledger
            .orders(self.trading.account().id, store::OrderFilter::All)
            .wait()?;
        let mut out = Vec::new();
        for o in rows.iter().rev().take(limit.clamp(1, 10_000) as usize) {
            let r = &o.order;
            let order_type: OrderType = r.order_type.parse().map_err(|e: String| {
                AppError::Config(format!("order {} in the ledger: {e}", r.id))
            })?;
            let tif = match &r.time_in_force {
                Some(t) => Some(
                    t.parse::<papermemes_core::order::TimeInForce>()
                        .map_err(|e| {
                            AppError::Config(format!("order {} in the ledger: {e}", r.id))
                        })?
                        .into(),
                ),
                None => None,
            };
            let latest = o.latest.as_ref();
            let executed = latest.map_or(Decimal::ZERO, |l| l.executed_qty);
            let cum = latest.map_or(Decimal::ZERO, |l| l.cumulative_quote_qty);
            out.push(OrderView {
                id: r.id,
                list_id: r.list_id,
                symbol: r.symbol.clone(),
                side: match r.side {
                    store::Side::Buy => Side::Buy.into(),
                    store::Side::Sell => Side::Sell.into(),
                },
                order_type: order_type.into(),
                time_in_force: tif,
                quantity: r.quantity,
                quote_quantity: r.quote_quantity,
                price: r.price,
                stop_price: r.stop_price,
                status: latest.map_or(OrderStatusView::New, |l| status_view(l.status)),
                executed_qty: executed,
                cumulative_quote_qty: cum,
                avg_price: avg(cum, executed),
                created_ms: r.created_ms,
                updated_ms: latest.map_or(r.created_ms, |l| l.time_ms),
                reason: latest.and_then(|l| l.reason.clone()),
            });
        }
        Ok(out)
    }

    fn estimate(&self, t: &OrderTicket) -> Result<Estimate, AppError> {
        let req = ticket_request(t)?;
        let ex = self.trading.exchange();
        let inst = ex.instruments().get(&req.symbol)?;
        let cfg = ex.config();
        let bps = Decimal::from(10_000);
        let side: Side = t.side.into();
        let book = ex.book(&req.symbol);
        let mark = ex.mark(&req.symbol);
        let market_like = matches!(req.order_type, OrderType::Market);
        let crosses = |best: Option<Decimal>| match (req.price, best) {
            (Some(p), Some(b)) => match side {
                Side::Buy => p >= b,
                Side::Sell => p <= b,
            },
            _ => false,
        };
        let best_opposite = book.and_then(|b| match side {
            Side::Buy => b.best_ask().map(|l| l.0),
            Side::Sell => b.best_bid().map(|l| l.0),
        });
        let taker = market_like
            || (matches!(req.order_type, OrderType::Limit) && crosses(best_opposite.or(mark)));
        let fee_rate = if taker {
            cfg.taker_fee_bps
        } else {
            cfg.maker_fee_bps
        } / bps;
        let quote = inst.quote_asset.clone();
        if !taker {
            // A resting order fills at its own price (if the market comes to it).
            let price = req.price.or(req.stop_price).or(mark);
            let qty = req.quantity.unwrap_or(Decimal::ZERO);
            let notional = price.map_or(Decimal::ZERO, |p| p * qty);
            return Ok(Estimate {
                quantity: qty,
                avg_price: price,
                reference_price: price,
                slippage_bps: Some(0.0),
                notional: notional.round_dp(8),
                fee: (notional * fee_rate).round_dp(8),
                fee_asset: quote,
                taker: false,
                partial: false,
                basis: "rests on the book: fills at its price, maker fee".into(),
            });
        }
        let limit = if market_like { None } else { req.price };
        let (levels, basis): (Vec<(Decimal, Decimal)>, String) = match book {
            Some(b) => {
                let lv: Vec<_> = match side {
                    Side::Buy => b.asks().collect(),
                    Side::Sell => b.bids().collect(),
                };
                (lv, "walks the current order book, taker fee".into())
            }
            None => {
                // A candle replay: the next bar's open ± the configured slippage; the last close
                // is the best guess of that open.
                let Some(m) = mark else {
                    return Err(AppError::invalid(
                        "order.no_market_data",
                        format!("no price for {} yet", req.symbol),
                    ));
                };
                let slip = cfg.slippage_bps / bps;
                let p = match side {
                    Side::Buy => m * (Decimal::ONE + slip),
                    Side::Sell => m * (Decimal::ONE - slip),
                };
                (
                    vec![(p, Decimal::MAX)],
                    format!(
                        "candle replay: next bar's open (last close {m}) ± {} bps slippage, taker fee",
                        cfg.slippage_bps
                    ),
                )
            }
        };
        let reference = levels.first().map(|l| l.0);
        let (mut qty, mut notional) = (Decimal::ZERO, Decimal::ZERO);
        let mut left_qty = req.quantity;
        let mut left_quote = req.quote_quantity.map(|q| q / (Decimal::ONE + fee_rate));
        for (p, q) in levels {
            if limit.is_some_and(|l| match side {
                Side::Buy => p > l,
                Side::Sell => p < l,
            }) {
                break;
            }
            let take = match (left_qty, left_quote) {
                (Some(lq), _) => lq.min(q),
                (None, Some(lq)) => {
                    if p.is_zero() {
                        break;
                    }
                    inst.floor_market_qty((lq / p).min(q))
                }
                (None, None) => break,
            };
            if take <= Decimal::ZERO {
                break;
            }
            qty += take;
            notional += take * p;
            if let Some(lq) = left_qty.as_mut() {
                *lq -= take;
                if lq.is_zero() {
                    break;
                }
            }
            if let Some(lq) = left_quote.as_mut() {
                *lq -= take * p;
                if *lq <= Decimal::ZERO {
                    break;
                }
            }
        }
        let avg_price = avg(notional, qty);
        let slippage = match (avg_price, reference) {
            (Some(a), Some(r)) if !r.is_zero() => ((a - r).abs() / r * bps).to_f64(),
            _ => None,
        };
        let partial = match (req.quantity, req.quote_quantity) {
            (Some(q), _) => qty < q,
            (None, Some(qq)) => notional * (Decimal::ONE + fee_rate) < qq * Decimal::new(99, 2),
            _ => false,
        };
        Ok(Estimate {
            quantity: qty,
            avg_price,
            reference_price: reference,
            slippage_bps: slippage,
            notional: notional.round_dp(8),
            fee: (notional * fee_rate).round_dp(8),
            fee_asset: quote,
            taker: true,
            partial,
            basis,
        })
    }

    fn switch(&mut self, spec: SourceSpec, fresh: bool) -> Result<(), AppError> {
        validate_spec(&spec, &self.config)?;
        // Commit where the current market is before leaving it.
        self.trading.checkpoint()?;
        self.stop_live();
        let (trading, at_end, live) = match open_market(
            &self.config,
            &self.shared,
            &self.ledger,
            &spec,
            fresh,
            &self.published,
        ) {
            Ok(x) => x,
            Err(e) => {
                // Back to the market we had.
                let (t, end, live) = open_market(
                    &self.config,
                    &self.shared,
                    &self.ledger,
                    &self.spec,
                    false,
                    &self.published,
                )?;
                self.trading = t;
                self.at_end = end;
                self.live = live;
                self.after_switch();
                return Err(e);
            }
        };
        self.trading = trading;
        self.at_end = at_end;
        self.live = live;
        self.speed = default_speed(&spec);
        self.paused = false;
        self.spec = spec;
        let (kind, speed) = (self.spec.kind(), self.speed);
        self.save_settings(|d| {
            d.market = kind;
            d.speed = Some(speed);
        });
        self.after_switch();
        Ok(())
    }

    /// Remember a preference in the settings file (a failure is logged, not fatal).
    fn save_settings(&self, f: impl FnOnce(&mut super::views::DesktopSettings)) {
        let mut s = lock(&self.shared.settings);
        let before = s.desktop.clone();
        f(&mut s.desktop);
        if s.desktop != before {
            if let Err(e) = s.save(&self.config.paths.config_file) {
                tracing::warn!("cannot save the settings: {e}");
            }
        }
    }

    fn advance(&mut self, target: TimeMs) -> Result<(), AppError> {
        let shared = self.shared.clone();
        let mut on_committed = |events: &[ExecEvent]| notify(&shared, events);
        let summary = self.trading.advance_to(target, &mut on_committed)?;
        if summary.at_end && !self.at_end {
            self.at_end = true;
            self.trading.checkpoint()?;
            self.publish_status();
        }
        Ok(())
    }

    fn tick(&mut self) {
        let now = Instant::now();
        let dt = now.duration_since(self.last_tick);
        self.last_tick = now;
        if let Some(l) = self.live.as_mut() {
            let mut events = Vec::new();
            loop {
                match l.sub.try_recv() {
                    Ok(Some(Update::Event(m))) => events.push(m.event.clone()),
                    Ok(Some(Update::Resync { books, .. })) => events.extend(books),
                    Ok(None) | Err(_) => break,
                }
                if events.len() >= 5000 {
                    break;
                }
            }
            if !events.is_empty() {
                self.published
                    .fetch_add(events.len() as u64, Ordering::Relaxed);
                let shared = self.shared.clone();
                let mut on_committed = |ev: &[ExecEvent]| notify(&shared, ev);
                if let Err(e) = self.trading.apply_live(&events, &mut on_committed) {
                    tracing::error!("live market: {e}");
                    self.shared.notice(Notice::Error {
                        code: e.code(),
                        message: e.to_string(),
                    });
                }
            }
        } else if !self.paused && !self.at_end {
            let cursor = self.trading.market_time().unwrap_or(0);
            let step = if self.speed == 0.0 {
                MAX_SPEED_STEP_MS
            } else {
                (dt.as_secs_f64() * 1000.0 * self.speed).round() as TimeMs
            };
            if step > 0 {
                if let Err(e) = self.advance(cursor.saturating_add(step)) {
                    tracing::error!("market: {e}");
                    self.paused = true;
                    self.shared.notice(Notice::Error {
                        code: e.code(),
                        message: format!("the market stopped: {e}"),
                    });
                    self.publish_status();
                }
            }
        }
        if self.last_checkpoint.elapsed() >= CHECKPOINT_EVERY {
            self.last_checkpoint = Instant::now();
            if let Err(e) = self.trading.checkpoint() {
                tracing::error!("checkpoint: {e}");
            }
            let n = self.published.load(Ordering::Relaxed);
            let (t0, n0) = self.rate_window;
            let secs = t0.elapsed().as_secs_f64();
            if secs > 0.0 {
                self.events_per_sec = (n - n0) as f64 / secs;
            }
            self.rate_window = (Instant::now(), n);
            self.publish_status();
        }
    }
}

/// Tell the UI about committed fills and order changes.
fn notify(shared: &Shared, events: &[ExecEvent]) {
    for e in events {
        match e {
            ExecEvent::Fill(f) => shared.notice(Notice::Fill {
                fill: FillView::from(f),
            }),
            ExecEvent::OrderUpdate(u) => shared.notice(Notice::Order {
                order_id: id64(u.order_id),
                status: u.status.into(),
                reason: u.reason.clone(),
            }),
            ExecEvent::OrderNew(_) | ExecEvent::Balance(_) => {}
        }
    }
}

fn status_view(s: store::OrderStatus) -> OrderStatusView {
    match s {
        store::OrderStatus::New => OrderStatusView::New,
        store::OrderStatus::PartiallyFilled => OrderStatusView::PartiallyFilled,
        store::OrderStatus::Filled => OrderStatusView::Filled,
        store::OrderStatus::Canceled => OrderStatusView::Canceled,
        store::OrderStatus::Rejected => OrderStatusView::Rejected,
        store::OrderStatus::Expired => OrderStatusView::Expired,
    }
}

/// At most `max` points, evenly spaced, always keeping the last.
fn thin(points: Vec<(TimeMs, Decimal)>, max: usize) -> Vec<EquityPointView> {
    let n = points.len();
    let every = n.div_ceil(max.max(1)).max(1);
    points
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0 || *i + 1 == n)
        .map(|(_, (t, e))| EquityPointView {
            time_ms: *t,
            equity: e.round_dp(8),
        })
        .collect()
}

pub(crate) fn ticket_request(t: &OrderTicket) -> Result<OrderRequest, AppError> {
    let symbol = t.symbol.trim().to_ascii_uppercase();
    if symbol.is_empty() {
        return Err(AppError::invalid(
            "order.invalid_parameter",
            "choose a symbol",
        ));
    }
    let mut req = OrderRequest::new(
        &symbol,
        t.side.into(),
        t.order_type.into(),
        t.quantity,
        t.price,
        t.stop_price,
    );
    req.quote_quantity = t.quote_quantity;
    req.time_in_force = t.time_in_force.map(Into::into);
    if req.time_in_force.is_none()
        && matches!(
            req.order_type,
            OrderType::Limit | OrderType::StopLossLimit | OrderType::TakeProfitLimit
        )
    {
        req.time_in_force = Some(papermemes_core::order::TimeInForce::Gtc);
    }
    Ok(req)
}

fn validate_spec(spec: &SourceSpec, config: &DeskConfig) -> Result<(), AppError> {
    let check_symbols = |symbols: &[String]| -> Result<(), AppError> {
        if symbols.is_empty() {
            return Err(AppError::invalid(
                "market.no_symbols",
                "choose at least one symbol",
            ));
        }
        for s in symbols {
            config.instruments.get(&s.trim().to_ascii_uppercase())?;
        }
        Ok(())
    };
    match spec {
        SourceSpec::Candles {
            symbols, interval, ..
        } => {
            check_symbols(symbols)?;
            if interval != "5m" && interval != "1h" {
                return Err(AppError::invalid(
                    "market.bad_interval",
                    format!("the bundled candles are 5m and 1h, not {interval:?}"),
                ));
            }
        }
        SourceSpec::Capture { path } => {
            let p = PathBuf::from(path);
            if !p.is_file() {
                return Err(AppError::invalid(
                    "market.no_capture",
                    format!("{path} is not a file; pick a capture made with `papermemes record`"),
                ));
            }
        }
        SourceSpec::Sim { .. } => {}
        SourceSpec::Live { symbols } => check_symbols(symbols)?,
    }
    Ok(())
}

/// The desk's stored description of a slot's source (to tell "resume" from "start anew").
fn spec_key(kind: MarketKind) -> &'static str {
    match kind {
        MarketKind::Replay => "desk.replay.spec",
        MarketKind::Sim => "desk.sim.spec",
        MarketKind::Live => "desk.live.spec",
    }
}

fn tap(
    shared: &Arc<Shared>,
    publish: bool,
    counter: &Arc<std::sync::atomic::AtomicU64>,
) -> MarketTap {
    let shared = shared.clone();
    let counter = counter.clone();
    Box::new(move |e: &MarketEvent| {
        lock(&shared.bars).on_event(e);
        if publish {
            shared.hub.publish(e.clone());
            counter.fetch_add(1, Ordering::Relaxed);
        }
    })
}

/// The source a kind of market last ran (stored with its account), or its default.
fn last_spec(
    ledger: &store::Ledger,
    config: &DeskConfig,
    kind: MarketKind,
) -> Result<SourceSpec, AppError> {
    if let Some(json) = ledger.meta(spec_key(kind)).wait()? {
        if let Ok(spec) = serde_json::from_str::<SourceSpec>(&json) {
            if validate_spec(&spec, config).is_ok() {
                return Ok(spec);
            }
        }
    }
    let mut c = config.clone();
    c.source = None;
    c.settings.desktop.market = kind;
    Ok(default_source(&c))
}

type Opened = (Trading, bool, Option<Live>);

/// Open (resume, or start) the market `spec` in its slot.
fn open_market(
    config: &DeskConfig,
    shared: &Arc<Shared>,
    ledger: &store::Ledger,
    spec: &SourceSpec,
    fresh: bool,
    counter: &Arc<std::sync::atomic::AtomicU64>,
) -> Result<Opened, AppError> {
    validate_spec(spec, config)?;
    let kind = spec.kind();
    let slot = slot_of(kind);
    let from_trades = !matches!(spec, SourceSpec::Candles { .. });
    let base_ms = match spec {
        SourceSpec::Candles { interval, .. } => {
            papermemes_market::candles::parse_interval(interval).unwrap_or(300_000)
        }
        _ => 60_000,
    };
    *lock(&shared.bars) = MarketBars::new(
        base_ms,
        from_trades,
        if from_trades { TRADE_BARS } else { CANDLE_BARS },
    );
    let bars_gen = shared.bars_gen.fetch_add(1, Ordering::AcqRel) + 1;
    let spec_json = serde_json::to_string(spec)
        .map_err(|e| AppError::Config(format!("cannot encode the market source: {e}")))?;
    let stored = ledger.meta(spec_key(kind)).wait()?;
    let same = stored.as_deref() == Some(spec_json.as_str());
    let settings = lock(&shared.settings).clone();
    let mut trading = Trading::open_slot(
        ledger.clone(),
        config.instruments.clone(),
        settings,
        slot,
        Some(tap(shared, false, counter)),
    )?;
    let resume = same && !fresh && trading.session().is_some();
    let mut live = None;
    if !resume {
        // A different market (or a restart) in this slot: a fresh account with its own clock
        // (the old one's history stays in the ledger).
        if trading.session().is_some() {
            trading.begin_fresh_account()?;
        }
        match spec {
            SourceSpec::Candles {
                symbols,
                interval,
                from_ms,
            } => {
                let files = bundled_files(&config.assets, symbols, interval)?;
                // From the beginning: with three days of history on the chart (and prices).
                trading.start_replay_at(files, *from_ms, REPLAY_HISTORY_MS)?;
            }
            SourceSpec::Capture { path } => {
                trading.start_capture_replay(PathBuf::from(path))?;
            }
            SourceSpec::Sim { seed } => {
                let files = bundled_files(
                    &config.assets,
                    &DEFAULT_SYMBOLS
                        .iter()
                        .map(|s| s.to_string())
                        .collect::<Vec<_>>(),
                    "5m",
                )?;
                trading.start_sim_replay(files, u64::from(*seed), SIM_EPOCH_MS)?;
                // A day of market before trading starts (charts, 24 h change), simulated in
                // one go; its chart is worked out in the background below.
                trading.preroll_sim(SIM_EPOCH_MS + SIM_PREROLL_MS)?;
                trading.checkpoint()?;
            }
            SourceSpec::Live { .. } => {}
        }
        ledger
            .append(store::Batch {
                meta: vec![(spec_key(kind).into(), spec_json)],
                ..Default::default()
            })
            .wait()?;
    }
    // Candle replays: the chart shows the bars up to the market time.
    if let (SourceSpec::Candles { .. }, Some(now)) = (spec, trading.market_time()) {
        let mut b = lock(&shared.bars);
        for (sym, series) in trading.candle_series() {
            let n = series.partition_point(|c| c.close_time_ms() <= now);
            for c in &series[n.saturating_sub(CANDLE_BARS)..n] {
                b.push_candle(sym, c);
            }
        }
    }
    if let SourceSpec::Live { symbols } = spec {
        let symbols: Vec<String> = symbols
            .iter()
            .map(|s| s.trim().to_ascii_uppercase())
            .collect();
        trading.start_live(symbols.clone(), now_ms())?;
        live = Some(start_live(config, shared, ledger, &symbols)?);
    }
    // A simulator resumed from its saved state has no chart yet: work the history out in the
    // background (the market is usable meanwhile) and put it in front of what arrives.
    if let Some(session) = trading.session().filter(|s| s.sim.is_some()).cloned() {
        let empty = lock(&shared.bars).symbols().next().is_none();
        if empty {
            spawn_history(
                shared.clone(),
                session,
                config.instruments.clone(),
                bars_gen,
            );
        }
    }
    let at_end = trading
        .session()
        .is_some_and(|s| s.live.is_none() && s.cursor_ms >= s.end_ms);
    // From now on the UI sees what the exchange sees (live data reaches it directly).
    trading.set_tap(Some(tap(shared, live.is_none(), counter)));
    Ok((trading, at_end, live))
}

fn spawn_history(
    shared: Arc<Shared>,
    session: crate::trading::ReplaySession,
    instruments: papermemes_core::instrument::Instruments,
    bars_gen: u64,
) {
    /// Clears the "history pending" flag however the job ends.
    struct Pending(Arc<Shared>);
    impl Drop for Pending {
        fn drop(&mut self) {
            self.0.history_pending.store(false, Ordering::Release);
            self.0.republish_status();
        }
    }
    shared.history_pending.store(true, Ordering::Release);
    shared.republish_status();
    let pending = Pending(shared.clone());
    let job = move || {
        let _pending = pending;
        // Not while the window is still opening (it needs the cores more).
        shared.wait_for_ui();
        let started = Instant::now();
        let mut bars = MarketBars::new(60_000, true, TRADE_BARS);
        // Only the last few days are kept; older events are skipped quickly.
        let keep_from = session.cursor_ms - (TRADE_BARS as i64) * 60_000;
        let r =
            crate::trading::session_history(&session, &instruments, session.cursor_ms, &mut |e| {
                if e.time_ms() >= keep_from {
                    bars.on_event(e);
                }
            });
        if let Err(e) = r {
            tracing::warn!("chart history of the simulator: {e}");
            return;
        }
        if shared.bars_gen.load(Ordering::Acquire) != bars_gen {
            return; // the market changed meanwhile
        }
        lock(&shared.bars).merge_older(bars);
        shared.history.fetch_add(1, Ordering::AcqRel);
        tracing::info!(
            "chart history of the simulator ready in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    };
    if let Err(e) = std::thread::Builder::new()
        .name("papermemes-history".into())
        .spawn(job)
    {
        tracing::warn!("cannot compute the chart history: {e}");
    }
}

fn start_live(
    config: &DeskConfig,
    shared: &Arc<Shared>,
    ledger: &store::Ledger,
    symbols: &[String],
) -> Result<Live, AppError> {
    let settings = lock(&shared.settings).clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("papermemes-live")
        .enable_all()
        .build()
        .map_err(|e| AppError::Io {
            message: format!("cannot start the network runtime: {e}"),
        })?;
    let sub = shared.hub.subscribe();
    let live_config = LiveConfig {
        ws_base: settings.live.ws_base.clone(),
        rest_base: settings.live.rest_base.clone(),
        symbols: symbols.to_vec(),
        ..LiveConfig::default()
    };
    let feed = {
        let _guard = rt.enter();
        LiveFeed::start(live_config, shared.hub.clone())
            .map_err(|e| AppError::invalid("live.start", e.to_string()))?
    };
    // Chart history: the last day of 1-minute klines (cached in the ledger), fetched in the
    // background so the app is usable at once.
    let rest = settings.live.rest_base.clone();
    let ledger = ledger.clone();
    let shared_bg = shared.clone();
    let syms = symbols.to_vec();
    let _ = config;
    rt.spawn(async move {
        let to = now_ms();
        for s in syms {
            match crate::chart::candles(&ledger, Some(&rest), &s, "1m", to - DAY_MS, to).await {
                Ok(range) => lock(&shared_bg.bars).backfill(&s, &range.candles),
                Err(e) => tracing::warn!("chart history for {s}: {e}"),
            }
        }
    });
    Ok(Live {
        rt,
        feed: Some(feed),
        sub,
    })
}
