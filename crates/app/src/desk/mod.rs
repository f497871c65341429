//! The desk: PaperMemes running as a desktop app. One engine thread owns the paper exchange and
//! its ledger and moves the market (a replay, the simulator, or live data) forward in real time;
//! the UI talks to it through [`Desk`]'s methods (each answered once committed) and watches the
//! market through the [`FeedHub`] (high rate, batched per frame by [`frames::FrameBuilder`]) and
//! [`Notice`]s (low rate: fills, order changes, source changes).
//!
//! Each kind of market (replay, simulator, live) has its own paper account and clock (see
//! [`crate::trading::Slot`]); switching the market switches the account, and each resumes where
//! it was. Starting a different replay (other data, or from the beginning again) starts a fresh
//! replay account; the old one's history stays in the ledger.
//!
//! Nothing here knows Tauri: the shell forwards commands and channels.

pub mod bars;
mod engine;
pub mod frames;
pub mod views;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use crossbeam_channel::{bounded, Sender};
use papermemes_core::instrument::Instruments;
use papermemes_market::hub::FeedHub;
use rust_decimal::Decimal;
use tokio::sync::broadcast;

use crate::paths::{AppPaths, DataLock};
use crate::settings::Settings;
use crate::AppError;
use bars::MarketBars;
use views::{
    CandleView, DeskStatus, DesktopSettings, EquityPointView, Estimate, FillView, InstrumentView,
    Notice, OcoTicket, OrderTicket, OrderView, PortfolioSummary, SourceSpec,
};

/// What the desk needs to start.
#[derive(Debug, Clone)]
pub struct DeskConfig {
    pub paths: AppPaths,
    pub settings: Settings,
    /// The bundled data folder (holds `market/candles/` and `market/captures/`).
    pub assets: PathBuf,
    pub instruments: Instruments,
    /// The market to open on; `None`: the one the settings name (`desktop.market`).
    pub source: Option<SourceSpec>,
}

/// State the engine thread shares with readers (frame builders, status polls).
#[derive(Debug)]
pub(crate) struct Shared {
    hub: FeedHub,
    bars: Mutex<MarketBars>,
    status: Mutex<DeskStatus>,
    epoch: AtomicU32,
    /// Bumped when background chart history joins the bars (views reload their chart).
    history: AtomicU32,
    /// A background job is working out the chart history.
    history_pending: std::sync::atomic::AtomicBool,
    /// The window has shown its first prices (background work waits for it; see
    /// [`Desk::ui_ready`]).
    ui_ready: (Mutex<bool>, std::sync::Condvar),
    /// Bumped each time the bars are replaced (a background job for older bars checks it).
    bars_gen: std::sync::atomic::AtomicU64,
    notices: broadcast::Sender<Notice>,
    settings: Mutex<Settings>,
    paths: AppPaths,
    instruments: Instruments,
    assets: PathBuf,
}

/// How long background work waits for [`Desk::ui_ready`] before it goes ahead anyway.
pub const UI_READY_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

impl Shared {
    /// Wait until the UI has shown its first prices, or [`UI_READY_WAIT`] has passed.
    fn wait_for_ui(&self) {
        let (m, cv) = &self.ui_ready;
        let deadline = std::time::Instant::now() + UI_READY_WAIT;
        let mut ready = lock(m);
        while !*ready {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return;
            }
            ready = match cv.wait_timeout(ready, left) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl Shared {
    /// Store the engine's status and push it to the UI (which does not poll it), with the live
    /// "history pending" flag, which the engine does not own.
    fn set_status(&self, mut s: DeskStatus) {
        s.history_pending = self.history_pending.load(Ordering::Acquire);
        *lock(&self.status) = s.clone();
        let _ = self.notices.send(Notice::Status { status: s });
    }
    /// Push the stored status again (after a change the engine does not make itself).
    fn republish_status(&self) {
        let s = lock(&self.status).clone();
        self.set_status(s);
    }
    fn notice(&self, n: Notice) {
        let _ = self.notices.send(n);
    }
}

type Answer<T> = Sender<Result<T, AppError>>;

#[derive(Debug)]
enum Cmd {
    SetSource(SourceSpec, bool, Answer<DeskStatus>),
    SwitchMarket(views::MarketKind, Answer<DeskStatus>),
    Pause(bool, Answer<DeskStatus>),
    Speed(f64, Answer<DeskStatus>),
    Step(i64, Answer<DeskStatus>),
    Submit(OrderTicket, Answer<OrderView>),
    SubmitOco(OcoTicket, Answer<Vec<OrderView>>),
    Cancel(i64, Answer<OrderView>),
    CancelAll(Option<String>, Answer<u32>),
    Portfolio(Answer<PortfolioSummary>),
    OpenOrders(Answer<Vec<OrderView>>),
    OrderHistory(u32, Answer<Vec<OrderView>>),
    Fills(u32, Answer<Vec<FillView>>),
    Equity(Answer<Vec<EquityPointView>>),
    Estimate(OrderTicket, Answer<Estimate>),
    Reset(Option<Decimal>, Answer<PortfolioSummary>),
    Shutdown,
}

/// The running desktop app core. Dropping it checkpoints and stops the engine.
#[derive(Debug)]
pub struct Desk {
    tx: Sender<Cmd>,
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    _lock: DataLock,
}

impl Desk {
    /// Lock the data folder (one PaperMemes at a time), open the ledger, restore the market
    /// the settings name (or `config.source`) and start the engine thread.
    pub fn start(config: DeskConfig) -> Result<Desk, AppError> {
        config.paths.create()?;
        // A relaunch right after quitting may find the old process still committing its last
        // state: wait for it a moment rather than refuse.
        let data_lock = config
            .paths
            .lock_waiting(std::time::Duration::from_secs(10))?;
        let (notices, _) = broadcast::channel(256);
        let shared = Arc::new(Shared {
            hub: FeedHub::new(4096),
            bars: Mutex::new(MarketBars::new(60_000, true, 2)),
            status: Mutex::new(engine::initial_status(&config)),
            epoch: AtomicU32::new(0),
            history: AtomicU32::new(0),
            history_pending: std::sync::atomic::AtomicBool::new(false),
            ui_ready: (Mutex::new(false), std::sync::Condvar::new()),
            bars_gen: std::sync::atomic::AtomicU64::new(0),
            notices,
            settings: Mutex::new(config.settings.clone()),
            paths: config.paths.clone(),
            instruments: config.instruments.clone(),
            assets: config.assets.clone(),
        });
        let (tx, rx) = crossbeam_channel::unbounded();
        let (ready_tx, ready_rx) = bounded(1);
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("papermemes-engine".into())
            .spawn(move || engine::run(config, thread_shared, rx, ready_tx))
            .map_err(|e| AppError::Io {
                message: format!("cannot start the engine thread: {e}"),
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(e);
            }
            Err(_) => {
                let _ = thread.join();
                return Err(AppError::Io {
                    message: "the engine thread stopped while starting".into(),
                });
            }
        }
        Ok(Desk {
            tx,
            shared,
            thread: Mutex::new(Some(thread)),
            _lock: data_lock,
        })
    }

    fn ask<T>(&self, make: impl FnOnce(Answer<T>) -> Cmd) -> Result<T, AppError> {
        let (tx, rx) = bounded(1);
        self.tx.send(make(tx)).map_err(|_| stopped())?;
        rx.recv().map_err(|_| stopped())?
    }

    /// The feed of market events (for frame builders).
    pub fn hub(&self) -> &FeedHub {
        &self.shared.hub
    }

    /// Bumped each time the market source changes (views start over).
    pub fn epoch(&self) -> u32 {
        self.shared.epoch.load(Ordering::Acquire)
    }

    /// The UI has shown its first prices. Background work that would compete with the window
    /// as it opens (working out a simulator's chart history takes a core for a second or two)
    /// waits for this, or for [`UI_READY_WAIT`] if no UI says so. Measured on 2 cores (Xvfb,
    /// release builds, alternating, 6 starts each), a start that resumes the simulator reached
    /// its prices in 749 ms (median) with the history held back, 863 ms without.
    pub fn ui_ready(&self) {
        let (lock_ready, cv) = &self.shared.ui_ready;
        *lock(lock_ready) = true;
        cv.notify_all();
    }

    /// Bumped when background chart history becomes available.
    pub fn history_version(&self) -> u32 {
        self.shared.history.load(Ordering::Acquire)
    }

    /// Read the current candles and statistics.
    pub fn with_bars<R>(&self, f: impl FnOnce(&MarketBars) -> R) -> R {
        f(&lock(&self.shared.bars))
    }

    pub fn status(&self) -> DeskStatus {
        let mut s = lock(&self.shared.status).clone();
        s.history_pending = self.shared.history_pending.load(Ordering::Acquire);
        s
    }

    pub fn notices(&self) -> broadcast::Receiver<Notice> {
        self.shared.notices.subscribe()
    }

    pub fn paths(&self) -> &AppPaths {
        &self.shared.paths
    }

    /// The bundled assets folder (market data, fonts, templates).
    pub fn assets(&self) -> &std::path::Path {
        &self.shared.assets
    }

    /// Recorded captures to replay: the bundled ones and those in the data folder's
    /// `captures/` (where `papermemes record --out` files can be put), newest name first.
    pub fn captures(&self) -> Vec<views::CaptureFile> {
        let mut out = Vec::new();
        for (dir, bundled) in [
            (self.shared.assets.join("market/captures"), true),
            (self.shared.paths.data_dir.join("captures"), false),
        ] {
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut files: Vec<_> = rd
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .filter(|p| {
                    let n = p
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    !n.starts_with('.')
                        && (n.ends_with(".gz") || n.ends_with(".txt") || n.ends_with(".jsonl"))
                })
                .collect();
            files.sort();
            files.reverse();
            for p in files {
                out.push(views::CaptureFile {
                    name: p
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    size_bytes: std::fs::metadata(&p).map_or(0.0, |m| m.len() as f64),
                    path: p.display().to_string(),
                    bundled,
                });
            }
        }
        out
    }

    pub fn instruments(&self) -> Vec<InstrumentView> {
        let status = self.status();
        self.shared
            .instruments
            .by_symbol
            .values()
            .filter(|i| status.symbols.is_empty() || status.symbols.contains(&i.symbol))
            .map(InstrumentView::from)
            .collect()
    }

    /// The newest `limit` candles of `symbol` at `interval` (oldest first).
    pub fn candles(
        &self,
        symbol: &str,
        interval: &str,
        limit: u32,
    ) -> Result<Vec<CandleView>, AppError> {
        let ms = bars::interval_ms(interval).ok_or_else(|| {
            AppError::invalid(
                "view.bad_interval",
                format!("unknown chart interval {interval:?}: use 1m, 5m, 15m, 1h, 4h or 1d"),
            )
        })?;
        if limit == 0 || limit > 5000 {
            return Err(AppError::invalid(
                "view.bad_limit",
                format!("ask for 1 to 5000 candles, not {limit}"),
            ));
        }
        let symbol = symbol.trim().to_ascii_uppercase();
        Ok(self.with_bars(|b| b.candles(&symbol, ms.max(b.base_ms()), limit as usize)))
    }

    /// Switch the market (or restart it with `fresh` = a new account for that market).
    pub fn set_source(&self, spec: SourceSpec, fresh: bool) -> Result<DeskStatus, AppError> {
        self.ask(|a| Cmd::SetSource(spec, fresh, a))
    }
    /// Switch to a kind of market, resuming the source it last ran (or its default).
    pub fn switch_market(&self, kind: views::MarketKind) -> Result<DeskStatus, AppError> {
        self.ask(|a| Cmd::SwitchMarket(kind, a))
    }
    pub fn pause(&self, paused: bool) -> Result<DeskStatus, AppError> {
        self.ask(|a| Cmd::Pause(paused, a))
    }
    /// Market-time multiplier (1 = real time, 0 = as fast as possible).
    pub fn set_speed(&self, speed: f64) -> Result<DeskStatus, AppError> {
        self.ask(|a| Cmd::Speed(speed, a))
    }
    /// Advance a paused replay or simulator by `millis` of market time.
    pub fn step(&self, millis: i64) -> Result<DeskStatus, AppError> {
        self.ask(|a| Cmd::Step(millis, a))
    }
    /// Place an order; it is returned once committed to the ledger.
    pub fn submit(&self, ticket: OrderTicket) -> Result<OrderView, AppError> {
        self.ask(|a| Cmd::Submit(ticket, a))
    }
    pub fn submit_oco(&self, ticket: OcoTicket) -> Result<Vec<OrderView>, AppError> {
        self.ask(|a| Cmd::SubmitOco(ticket, a))
    }
    pub fn cancel(&self, order_id: i64) -> Result<OrderView, AppError> {
        self.ask(|a| Cmd::Cancel(order_id, a))
    }
    pub fn cancel_all(&self, symbol: Option<String>) -> Result<u32, AppError> {
        self.ask(|a| Cmd::CancelAll(symbol, a))
    }
    pub fn portfolio(&self) -> Result<PortfolioSummary, AppError> {
        self.ask(Cmd::Portfolio)
    }
    pub fn open_orders(&self) -> Result<Vec<OrderView>, AppError> {
        self.ask(Cmd::OpenOrders)
    }
    /// The newest `limit` orders of the account (any status), newest first.
    pub fn order_history(&self, limit: u32) -> Result<Vec<OrderView>, AppError> {
        self.ask(|a| Cmd::OrderHistory(limit, a))
    }
    /// The newest `limit` fills, newest first.
    pub fn fills(&self, limit: u32) -> Result<Vec<FillView>, AppError> {
        self.ask(|a| Cmd::Fills(limit, a))
    }
    pub fn equity(&self) -> Result<Vec<EquityPointView>, AppError> {
        self.ask(Cmd::Equity)
    }
    /// What an order would cost now (walks the current book).
    pub fn estimate(&self, ticket: OrderTicket) -> Result<Estimate, AppError> {
        self.ask(|a| Cmd::Estimate(ticket, a))
    }
    /// A fresh account for the current market (the old one's history is kept).
    pub fn reset_account(&self, cash: Option<Decimal>) -> Result<PortfolioSummary, AppError> {
        self.ask(|a| Cmd::Reset(cash, a))
    }

    pub fn desktop_settings(&self) -> DesktopSettings {
        lock(&self.shared.settings).desktop.clone()
    }

    /// Save the page's preferences in the settings file and return the settings as saved.
    ///
    /// The market the app opens on and its speed are the engine's to remember: it saves them
    /// itself when the user switches market or speed (`switch_market`, `set_speed`). What the page
    /// sends for those two is ignored and the saved values are kept, so a page holding settings it
    /// read before such a switch cannot undo it (a theme toggle used to put the previous market
    /// back). Other settings files sections are kept as they are.
    pub fn update_desktop_settings(&self, d: DesktopSettings) -> Result<DesktopSettings, AppError> {
        d.validate()?;
        let mut s = lock(&self.shared.settings);
        let mut next = s.clone();
        next.desktop = DesktopSettings {
            market: s.desktop.market,
            speed: s.desktop.speed,
            ..d
        };
        next.save(&self.shared.paths.config_file)?;
        let saved = next.desktop.clone();
        *s = next;
        Ok(saved)
    }

    /// Checkpoint the market and stop the engine (also done on drop).
    pub fn shutdown(&self) {
        let handle = lock(&self.thread).take();
        if let Some(h) = handle {
            let _ = self.tx.send(Cmd::Shutdown);
            if h.join().is_err() {
                tracing::error!("the engine thread panicked");
            }
        }
    }
}

impl Drop for Desk {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn stopped() -> AppError {
    AppError::Io {
        message: "the trading engine has stopped; restart PaperMemes".into(),
    }
}
