//! A controllable replay: plays a recorded capture or candle series into a [`FeedHub`] in the
//! background, with pause, resume, step (by events or by market time), speed changes and a
//! status to show — what a desktop app's replay controls drive.
//!
//! ```no_run
//! # async fn demo() -> Result<(), papermemes_market::player::ReplayError> {
//! use std::time::Duration;
//! use papermemes_market::hub::FeedHub;
//! use papermemes_market::player::{ReplayHandle, ReplayOptions, ReplaySource};
//!
//! let hub = FeedHub::new(65_536);
//! let replay = ReplayHandle::start(
//!     ReplaySource::Capture("capture.gz".into()),
//!     hub.clone(),
//!     ReplayOptions { speed: Some(10.0), start_paused: true },
//! )?;
//! replay.step_events(100).await;                    // exactly 100 events, then paused
//! replay.step_time(Duration::from_secs(5)).await;  // 5 s of market time, then paused
//! replay.set_speed(None).await?;                   // as fast as possible
//! replay.resume().await;
//! let summary = replay.wait().await?;
//! # Ok(()) }
//! ```
//!
//! Pacing is by market time: at speed `x`, an event `d` of market time after the previous one
//! is published `d / x` later. Pausing, stepping and speed changes re-anchor the pacing at the
//! current market time, so resuming never bursts through the time spent paused.
//!
//! Captures are read and decoded on a blocking thread (the same [`CaptureEvents`] code, so the
//! same local-book procedure as live); candle series and event lists are in memory and are read
//! on the replay task itself.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use papermemes_core::event::{Candle, MarketEvent};
use papermemes_core::TimeMs;
use serde::Serialize;
use thiserror::Error;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::candles::{read_candles, CandleError};
use crate::capture::CaptureError;
use crate::hub::{FeedHub, FeedState};
use crate::replay::{CaptureEvents, ReplaySummary};

#[derive(Debug, Error)]
pub enum ReplayError {
    #[error(transparent)]
    Capture(#[from] CaptureError),
    #[error("replay speed {0} is not a positive number (None plays as fast as possible)")]
    BadSpeed(f64),
    #[error("the replay task failed: {0}")]
    Task(String),
}

impl ReplayError {
    pub fn code(&self) -> &'static str {
        match self {
            ReplayError::Capture(e) => e.code(),
            ReplayError::BadSpeed(_) => "replay.bad_speed",
            ReplayError::Task(_) => "replay.task",
        }
    }
}

/// Synthetic events derived from candles, so a view can show a price between bars. They are
/// a display aid: an exchange should consume the candles themselves, not these.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DerivedEvents {
    /// One `Trade` per bar at its close: price = close, quantity = the bar's volume,
    /// `buyer_is_maker` when the bar closed below its open (sellers drove it).
    pub trade: bool,
    /// One `BookTicker` per bar at its close: bid = ask = close, quantities zero (a price
    /// marker, not liquidity).
    pub book_ticker: bool,
}

/// What to replay.
#[derive(Debug, Clone)]
pub enum ReplaySource {
    /// A recorded capture (`<receive_ns> <raw JSON>` lines, gzip or plain); paced by receive
    /// time.
    Capture(PathBuf),
    /// Candle series per symbol (e.g. from [`crate::candles::read_candles`]), merged by close
    /// time; each bar is a `Candle` event at its close (plus [`DerivedEvents`]). Bars opening
    /// before `from_ms` are skipped.
    Candles {
        series: Vec<(String, Vec<Candle>)>,
        from_ms: Option<TimeMs>,
        derive: DerivedEvents,
    },
    /// Any events with their market time in ns, in time order.
    Events(Vec<(u64, MarketEvent)>),
}

impl ReplaySource {
    /// Candle CSV files (plain or gzip) named like `binance_PEPE_USDT-5m.csv.gz`, each read
    /// and checked whole; the symbol comes from the file name.
    pub fn candle_files(
        files: &[PathBuf],
        from_ms: Option<TimeMs>,
        derive: DerivedEvents,
    ) -> Result<ReplaySource, CandleError> {
        let mut series = Vec::new();
        for f in files {
            let s = read_candles(f)?;
            let symbol = s.symbol.ok_or_else(|| CandleError::File {
                path: f.clone(),
                message: "cannot tell the symbol from the file name; name it like binance_PEPE_USDT-5m.csv.gz".into(),
            })?;
            series.push((symbol, s.candles));
        }
        Ok(ReplaySource::Candles {
            series,
            from_ms,
            derive,
        })
    }

    fn describe(&self) -> String {
        match self {
            ReplaySource::Capture(p) => format!("capture {}", p.display()),
            ReplaySource::Candles { series, .. } => format!(
                "candles of {}",
                series
                    .iter()
                    .map(|(s, _)| s.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            ReplaySource::Events(e) => format!("{} events", e.len()),
        }
    }

    fn end_reason(&self) -> &'static str {
        match self {
            ReplaySource::Capture(_) => "end of the capture",
            ReplaySource::Candles { .. } => "end of the candles",
            ReplaySource::Events(_) => "end of the events",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ReplayOptions {
    /// `Some(1.0)` real time, `Some(10.0)` ten times faster, `None` as fast as possible.
    pub speed: Option<f64>,
    /// Start paused (nothing published until resume or step).
    pub start_paused: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplayState {
    Playing,
    Paused,
    /// Every event was published.
    Finished,
    /// Stopped by [`ReplayHandle::stop`] (or the handle was dropped).
    Stopped,
    /// Reading the source failed (see `error`).
    Failed,
}

/// Where a replay stands, for the UI and the CLI.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplayStatus {
    pub state: ReplayState,
    /// `None`: as fast as possible.
    pub speed: Option<f64>,
    /// Events published so far.
    pub events: u64,
    /// Market time reached (of the last event published, or the end of the last time step).
    pub market_time_ms: Option<TimeMs>,
    /// What is being replayed.
    pub source: String,
    pub error: Option<String>,
}

impl ReplayStatus {
    /// Still running (playing or paused).
    pub fn is_active(&self) -> bool {
        matches!(self.state, ReplayState::Playing | ReplayState::Paused)
    }
}

#[derive(Debug, Clone, Copy)]
enum Goal {
    Events(u64),
    MarketTime(Duration),
}

#[derive(Debug)]
enum Ctl {
    Pause(oneshot::Sender<ReplayStatus>),
    Resume(oneshot::Sender<ReplayStatus>),
    Step(Goal, oneshot::Sender<ReplayStatus>),
    Speed(Option<f64>, oneshot::Sender<ReplayStatus>),
    Stop(oneshot::Sender<ReplayStatus>),
}

/// A running replay. Dropping the handle stops it.
#[derive(Debug)]
pub struct ReplayHandle {
    tx: mpsc::UnboundedSender<Ctl>,
    status: watch::Receiver<ReplayStatus>,
    task: JoinHandle<Result<ReplaySummary, ReplayError>>,
}

fn check_speed(speed: Option<f64>) -> Result<Option<f64>, ReplayError> {
    match speed {
        Some(x) if !(x.is_finite() && x > 0.0) => Err(ReplayError::BadSpeed(x)),
        s => Ok(s),
    }
}

impl ReplayHandle {
    /// Start replaying `source` into `hub` on the current tokio runtime.
    pub fn start(
        source: ReplaySource,
        hub: FeedHub,
        options: ReplayOptions,
    ) -> Result<ReplayHandle, ReplayError> {
        let speed = check_speed(options.speed)?;
        let description = source.describe();
        let end_reason = source.end_reason();
        let feed = Feed::open(source)?;
        let (status_tx, status) = watch::channel(ReplayStatus {
            state: if options.start_paused {
                ReplayState::Paused
            } else {
                ReplayState::Playing
            },
            speed,
            events: 0,
            market_time_ms: None,
            source: description.clone(),
            error: None,
        });
        let (tx, rx) = mpsc::unbounded_channel();
        let player = Player {
            hub,
            feed,
            rx,
            status: status_tx,
            description,
            end_reason,
            paused: options.start_paused,
            speed,
            anchor: None,
            clock_ns: None,
            pending: None,
            done: false,
            step: None,
            events: 0,
        };
        let task = tokio::spawn(player.run());
        Ok(ReplayHandle { tx, status, task })
    }

    /// The status now.
    pub fn status(&self) -> ReplayStatus {
        self.status.borrow().clone()
    }

    /// Status changes, to show them as they happen.
    pub fn watch_status(&self) -> watch::Receiver<ReplayStatus> {
        self.status.clone()
    }

    async fn ask(&self, make: impl FnOnce(oneshot::Sender<ReplayStatus>) -> Ctl) -> ReplayStatus {
        let (ack, answer) = oneshot::channel();
        if self.tx.send(make(ack)).is_err() {
            return self.status();
        }
        match answer.await {
            Ok(s) => s,
            // The replay ended meanwhile.
            Err(_) => self.status(),
        }
    }

    /// Stop publishing; returns once paused.
    pub async fn pause(&self) -> ReplayStatus {
        self.ask(Ctl::Pause).await
    }

    /// Play on from the current market time at the current speed.
    pub async fn resume(&self) -> ReplayStatus {
        self.ask(Ctl::Resume).await
    }

    /// Publish the next `n` events at once, then stay paused; returns when done.
    pub async fn step_events(&self, n: u64) -> ReplayStatus {
        self.ask(|a| Ctl::Step(Goal::Events(n), a)).await
    }

    /// Publish every event up to `market` more market time (from the current market time, or
    /// from the first event when nothing was published yet), then stay paused.
    pub async fn step_time(&self, market: Duration) -> ReplayStatus {
        self.ask(|a| Ctl::Step(Goal::MarketTime(market), a)).await
    }

    /// Change the speed (`None`: as fast as possible); applies from the next event.
    pub async fn set_speed(&self, speed: Option<f64>) -> Result<ReplayStatus, ReplayError> {
        let speed = check_speed(speed)?;
        Ok(self.ask(|a| Ctl::Speed(speed, a)).await)
    }

    /// Stop the replay and return what it did.
    pub async fn stop(self) -> Result<ReplaySummary, ReplayError> {
        let _ = self.ask(Ctl::Stop).await;
        self.join().await
    }

    /// Wait until the replay ends (finished, failed, or stopped elsewhere).
    pub async fn wait(self) -> Result<ReplaySummary, ReplayError> {
        self.join().await
    }

    async fn join(self) -> Result<ReplaySummary, ReplayError> {
        // Keep the command channel open while waiting: dropping it would stop the replay.
        let ReplayHandle { tx, task, .. } = self;
        let r = task.await;
        drop(tx);
        match r {
            Ok(r) => r,
            Err(e) => Err(ReplayError::Task(e.to_string())),
        }
    }
}

type Item = Result<(u64, MarketEvent), CaptureError>;

/// Where events come from.
enum Feed {
    /// A capture decoded on a blocking thread; the thread returns the gaps it saw.
    Channel {
        rx: mpsc::Receiver<Item>,
        reader: Option<JoinHandle<u64>>,
    },
    /// In memory, read on the replay task.
    Iter(Box<dyn Iterator<Item = (u64, MarketEvent)> + Send>),
}

impl Feed {
    fn open(source: ReplaySource) -> Result<Feed, ReplayError> {
        Ok(match source {
            ReplaySource::Capture(path) => {
                // Open here so a missing file is an error from `start`, not a failed replay.
                let mut it = CaptureEvents::open(&path)?;
                let (tx, rx) = mpsc::channel::<Item>(4096);
                let reader = tokio::task::spawn_blocking(move || {
                    for item in it.by_ref() {
                        if tx.blocking_send(item).is_err() {
                            break;
                        }
                    }
                    it.gaps
                });
                Feed::Channel {
                    rx,
                    reader: Some(reader),
                }
            }
            ReplaySource::Candles {
                series,
                from_ms,
                derive,
            } => Feed::Iter(Box::new(CandleEvents::new(series, from_ms, derive))),
            ReplaySource::Events(events) => Feed::Iter(Box::new(events.into_iter())),
        })
    }

    async fn next(&mut self) -> Option<Item> {
        match self {
            Feed::Channel { rx, .. } => rx.recv().await,
            Feed::Iter(it) => it.next().map(Ok),
        }
    }

    async fn gaps(&mut self) -> u64 {
        match self {
            Feed::Channel { rx, reader } => {
                rx.close();
                match reader.take() {
                    Some(r) => r.await.unwrap_or(0),
                    None => 0,
                }
            }
            Feed::Iter(_) => 0,
        }
    }
}

struct Step {
    goal: Goal,
    /// Events published by this step so far.
    published: u64,
    /// For a time step: publish events up to this market time (ns), resolved at the first look.
    until_ns: Option<u64>,
    ack: oneshot::Sender<ReplayStatus>,
}

struct Player {
    hub: FeedHub,
    feed: Feed,
    rx: mpsc::UnboundedReceiver<Ctl>,
    status: watch::Sender<ReplayStatus>,
    description: String,
    end_reason: &'static str,
    paused: bool,
    speed: Option<f64>,
    /// Pacing reference: this instant corresponds to this market time (ns).
    anchor: Option<(Instant, u64)>,
    /// Market time reached (ns).
    clock_ns: Option<u64>,
    pending: Option<(u64, MarketEvent)>,
    done: bool,
    step: Option<Step>,
    events: u64,
}

/// What a command asks of the loop.
enum Flow {
    Continue,
    Stop(oneshot::Sender<ReplayStatus>),
    /// The handle is gone.
    Abandon,
}

impl Player {
    fn snapshot(&self) -> ReplayStatus {
        let state = if self.paused {
            ReplayState::Paused
        } else {
            ReplayState::Playing
        };
        self.status.send_modify(|s| {
            s.state = state;
            s.speed = self.speed;
            s.events = self.events;
            s.market_time_ms = self.clock_ns.map(ns_to_ms);
        });
        self.status.borrow().clone()
    }

    fn playing_reason(&self) -> String {
        match (self.paused, self.speed) {
            (true, _) => format!("replay of {} paused", self.description),
            (false, None) => format!("replaying {} as fast as possible", self.description),
            (false, Some(x)) => format!("replaying {} at {x}x", self.description),
        }
    }

    fn hub_status(&self) {
        let state = if self.events == 0 {
            FeedState::Syncing
        } else {
            FeedState::Live
        };
        let now = self.clock_ns.map_or(0, ns_to_ms);
        self.hub.set_status(state, self.playing_reason(), now);
    }

    fn on_command(&mut self, cmd: Option<Ctl>) -> Flow {
        let Some(cmd) = cmd else {
            return Flow::Abandon;
        };
        match cmd {
            Ctl::Pause(ack) => {
                self.paused = true;
                self.anchor = None;
                self.hub_status();
                let _ = ack.send(self.snapshot());
            }
            Ctl::Resume(ack) => {
                self.paused = false;
                self.anchor = None;
                self.hub_status();
                let _ = ack.send(self.snapshot());
            }
            Ctl::Speed(speed, ack) => {
                self.speed = speed;
                self.anchor = None;
                self.hub_status();
                let _ = ack.send(self.snapshot());
            }
            Ctl::Step(goal, ack) => {
                self.paused = true;
                self.anchor = None;
                if let Some(old) = self.step.take() {
                    let _ = old.ack.send(self.snapshot());
                }
                self.step = Some(Step {
                    goal,
                    published: 0,
                    until_ns: None,
                    ack,
                });
                self.hub_status();
            }
            Ctl::Stop(ack) => return Flow::Stop(ack),
        }
        Flow::Continue
    }

    fn publish(&mut self, t: u64, event: MarketEvent) {
        self.hub.publish(event);
        self.events += 1;
        self.clock_ns = Some(self.clock_ns.map_or(t, |c| c.max(t)));
        if self.events == 1 {
            self.hub_status();
        }
        let (events, clock) = (self.events, self.clock_ns.map(ns_to_ms));
        self.status.send_modify(|s| {
            s.events = events;
            s.market_time_ms = clock;
        });
    }

    /// Finish the current step if its goal is reached by the next event `t` (or the end).
    /// Returns true when the next event belongs to the step.
    fn step_takes(&mut self, next_t: Option<u64>) -> bool {
        let Some(step) = self.step.as_mut() else {
            return false;
        };
        let takes = match step.goal {
            Goal::Events(n) => step.published < n && next_t.is_some(),
            Goal::MarketTime(d) => {
                let until = *step.until_ns.get_or_insert_with(|| {
                    let from = self.clock_ns.or(next_t).unwrap_or(0);
                    from.saturating_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
                });
                next_t.is_some_and(|t| t <= until)
            }
        };
        if takes {
            step.published += 1;
            return true;
        }
        if let Some(step) = self.step.take() {
            if let Some(until) = step.until_ns {
                // The market clock moves to the end of the step even where no event was.
                if next_t.is_some() {
                    self.clock_ns = Some(self.clock_ns.map_or(until, |c| c.max(until)));
                }
            }
            let _ = step.ack.send(self.snapshot());
        }
        false
    }

    async fn run(mut self) -> Result<ReplaySummary, ReplayError> {
        self.hub_status();
        let mut since_yield = 0u32;
        let outcome: Result<Option<oneshot::Sender<ReplayStatus>>, ReplayError> = loop {
            // 1. Have the next event at hand (or know there is none), answering commands.
            if self.pending.is_none() && !self.done {
                tokio::select! {
                    biased;
                    cmd = self.rx.recv() => match self.on_command(cmd) {
                        Flow::Continue => continue,
                        Flow::Stop(ack) => break Ok(Some(ack)),
                        Flow::Abandon => break Ok(None),
                    },
                    item = self.feed.next() => match item {
                        Some(Ok(x)) => self.pending = Some(x),
                        Some(Err(e)) => break Err(ReplayError::Capture(e)),
                        None => self.done = true,
                    },
                }
                continue;
            }
            let next_t = self.pending.as_ref().map(|(t, _)| *t);
            // 2. A step in progress publishes without pacing.
            if self.step.is_some() {
                if self.step_takes(next_t) {
                    if let Some((t, e)) = self.pending.take() {
                        self.publish(t, e);
                    }
                    since_yield += 1;
                    if since_yield >= 512 {
                        since_yield = 0;
                        tokio::task::yield_now().await;
                    }
                }
                continue;
            }
            let Some(t) = next_t else {
                // The end.
                break Ok(None);
            };
            // 3. Paused: wait for a command.
            if self.paused {
                let cmd = self.rx.recv().await;
                match self.on_command(cmd) {
                    Flow::Continue => continue,
                    Flow::Stop(ack) => break Ok(Some(ack)),
                    Flow::Abandon => break Ok(None),
                }
            }
            // 4. Playing.
            match self.speed {
                None => {
                    if let Some((t, e)) = self.pending.take() {
                        self.publish(t, e);
                    }
                    since_yield += 1;
                    if since_yield >= 512 {
                        since_yield = 0;
                        // Let commands and subscribers in.
                        tokio::task::yield_now().await;
                        match self.rx.try_recv() {
                            Ok(cmd) => match self.on_command(Some(cmd)) {
                                Flow::Continue => {}
                                Flow::Stop(ack) => break Ok(Some(ack)),
                                Flow::Abandon => break Ok(None),
                            },
                            Err(mpsc::error::TryRecvError::Empty) => {}
                            Err(mpsc::error::TryRecvError::Disconnected) => break Ok(None),
                        }
                    }
                }
                Some(x) => {
                    let (at, from) = *self
                        .anchor
                        .get_or_insert_with(|| (Instant::now(), self.clock_ns.unwrap_or(t)));
                    let due = at + Duration::from_secs_f64(t.saturating_sub(from) as f64 / 1e9 / x);
                    tokio::select! {
                        biased;
                        cmd = self.rx.recv() => match self.on_command(cmd) {
                            Flow::Continue => {}
                            Flow::Stop(ack) => break Ok(Some(ack)),
                            Flow::Abandon => break Ok(None),
                        },
                        _ = tokio::time::sleep_until(due) => {
                            if let Some((t, e)) = self.pending.take() {
                                self.publish(t, e);
                            }
                        }
                    }
                }
            }
        };
        let gaps = self.feed.gaps().await;
        let summary = ReplaySummary {
            events: self.events,
            gaps,
        };
        let clock = self.clock_ns.map(ns_to_ms);
        match outcome {
            Ok(stop_ack) => {
                let (state, reason) = if self.done && self.pending.is_none() {
                    (ReplayState::Finished, self.end_reason.to_string())
                } else {
                    (ReplayState::Stopped, "replay stopped".to_string())
                };
                self.status.send_modify(|s| {
                    s.state = state;
                    s.events = summary.events;
                    s.market_time_ms = clock;
                });
                self.hub
                    .set_status(FeedState::Stopped, reason, clock.unwrap_or(0));
                let final_status = self.status.borrow().clone();
                if let Some(step) = self.step.take() {
                    let _ = step.ack.send(final_status.clone());
                }
                if let Some(ack) = stop_ack {
                    let _ = ack.send(final_status);
                }
                Ok(summary)
            }
            Err(e) => {
                let msg = e.to_string();
                self.status.send_modify(|s| {
                    s.state = ReplayState::Failed;
                    s.error = Some(msg.clone());
                });
                self.hub.set_status(
                    FeedState::Stopped,
                    format!("replay failed: {msg}"),
                    clock.unwrap_or(0),
                );
                if let Some(step) = self.step.take() {
                    let _ = step.ack.send(self.status.borrow().clone());
                }
                Err(e)
            }
        }
    }
}

fn ns_to_ms(ns: u64) -> TimeMs {
    i64::try_from(ns / 1_000_000).unwrap_or(i64::MAX)
}

fn ms_to_ns(ms: TimeMs) -> u64 {
    u64::try_from(ms).unwrap_or(0).saturating_mul(1_000_000)
}

/// Candle series merged into one event stream by close time (ties in symbol order), with the
/// [`DerivedEvents`] asked for right after each bar. Times are in ns.
#[derive(Debug)]
pub struct CandleEvents {
    /// Per symbol: its bars and the index of the next one.
    series: BTreeMap<String, (Vec<Candle>, usize)>,
    derive: DerivedEvents,
    queue: std::collections::VecDeque<(u64, MarketEvent)>,
}

impl CandleEvents {
    pub fn new(
        series: Vec<(String, Vec<Candle>)>,
        from_ms: Option<TimeMs>,
        derive: DerivedEvents,
    ) -> Self {
        let series = series
            .into_iter()
            .map(|(s, mut bars)| {
                bars.sort_by_key(|c| c.open_time_ms);
                let start = from_ms.map_or(0, |f| bars.partition_point(|c| c.open_time_ms < f));
                (s, (bars, start))
            })
            .collect();
        CandleEvents {
            series,
            derive,
            queue: std::collections::VecDeque::new(),
        }
    }
}

impl Iterator for CandleEvents {
    type Item = (u64, MarketEvent);

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(x) = self.queue.pop_front() {
            return Some(x);
        }
        let (symbol, (bars, i)) = self
            .series
            .iter_mut()
            .filter(|(_, (bars, i))| *i < bars.len())
            .min_by_key(|(_, (bars, i))| bars[*i].close_time_ms())?;
        let c = bars[*i].clone();
        *i += 1;
        let t = ms_to_ns(c.close_time_ms());
        let time_ms = c.close_time_ms();
        if self.derive.trade {
            self.queue.push_back((
                t,
                MarketEvent::Trade {
                    symbol: symbol.clone(),
                    time_ms,
                    price: c.close,
                    quantity: c.volume,
                    buyer_is_maker: c.close < c.open,
                },
            ));
        }
        if self.derive.book_ticker {
            self.queue.push_back((
                t,
                MarketEvent::BookTicker {
                    symbol: symbol.clone(),
                    time_ms,
                    bid: c.close,
                    bid_qty: rust_decimal::Decimal::ZERO,
                    ask: c.close,
                    ask_qty: rust_decimal::Decimal::ZERO,
                },
            ));
        }
        Some((
            t,
            MarketEvent::Candle {
                symbol: symbol.clone(),
                candle: c,
            },
        ))
    }
}
