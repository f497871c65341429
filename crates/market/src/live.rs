//! Live Binance spot public streams: one combined-stream WebSocket for all symbols
//! (`<sym>@depth@100ms`, `@trade`, `@bookTicker`, `@kline_1m`), REST depth snapshots, and a
//! local order book per symbol kept by the documented procedure ([`LocalBook`]). Everything
//! is published to a [`FeedHub`].
//!
//! Manners, as Binance documents them:
//! * pings are answered with a pong carrying the same payload;
//! * a dropped connection is re-opened with exponential backoff and jitter; books resync;
//! * REST 429/418 are honoured: the snapshot waits for `Retry-After`;
//! * control messages (SUBSCRIBE/UNSUBSCRIBE) are sent at most `max_control_per_sec` a second
//!   (the limit is 5 incoming messages a second per connection);
//! * the connection is replaced before the 24-hour cut-off. The new one is opened while the
//!   old one still publishes, and the switch happens when the new one's depth stream continues
//!   the current book, so consumers see no gap;
//! * symbols can be added and removed while running.
//!
//! Base URLs are settings, so tests run the real code against a local server.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use papermemes_core::event::MarketEvent;
use papermemes_core::TimeMs;
use thiserror::Error;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{sleep, Instant};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::binance::{decode, DepthSnapshot, Payload};
use crate::hub::{FeedHub, FeedState};
use crate::localbook::{LocalBook, NeedSnapshot, Step};
use crate::rest::{RestClient, RestError};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// e.g. `wss://stream.binance.com:9443`
    pub ws_base: String,
    /// e.g. `https://api.binance.com`
    pub rest_base: String,
    pub symbols: Vec<String>,
    /// Levels in the REST depth snapshot (Binance allows up to 5000).
    pub depth_limit: u32,
    /// Replace the connection after this long (Binance cuts at 24 h).
    pub rotate_after: Duration,
    pub reconnect_min: Duration,
    pub reconnect_max: Duration,
    /// No message for this long → status `stale`.
    pub stale_after: Duration,
    pub max_control_per_sec: u32,
    pub rest_timeout: Duration,
    /// Every frame received on the active connection and every REST depth snapshot, as
    /// `(receive time in ns, raw JSON)`: what a recorder writes as a capture.
    pub raw_tap: Option<mpsc::UnboundedSender<(i64, String)>>,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            ws_base: "wss://stream.binance.com:9443".into(),
            rest_base: "https://api.binance.com".into(),
            symbols: Vec::new(),
            depth_limit: 1000,
            rotate_after: Duration::from_secs(23 * 3600 + 30 * 60),
            reconnect_min: Duration::from_millis(500),
            reconnect_max: Duration::from_secs(30),
            stale_after: Duration::from_secs(10),
            max_control_per_sec: 4,
            rest_timeout: Duration::from_secs(10),
            raw_tap: None,
        }
    }
}

#[derive(Debug, Error)]
pub enum LiveError {
    #[error(transparent)]
    Rest(#[from] RestError),
    #[error("invalid symbol '{0}': letters and digits only, e.g. PEPEUSDT")]
    BadSymbol(String),
}

#[derive(Debug)]
enum Command {
    Subscribe(String),
    Unsubscribe(String),
    Stop,
}

/// A running live feed. Dropping it does not stop it; call [`LiveFeed::stop`].
#[derive(Debug)]
pub struct LiveFeed {
    hub: FeedHub,
    tx: mpsc::UnboundedSender<Command>,
    task: JoinHandle<()>,
}

fn check_symbol(s: &str) -> Result<String, LiveError> {
    let up = s.trim().to_ascii_uppercase();
    if up.is_empty() || !up.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(LiveError::BadSymbol(s.to_string()));
    }
    Ok(up)
}

impl LiveFeed {
    /// Start on the current tokio runtime.
    pub fn start(config: LiveConfig, hub: FeedHub) -> Result<LiveFeed, LiveError> {
        let symbols: BTreeSet<String> = config
            .symbols
            .iter()
            .map(|s| check_symbol(s))
            .collect::<Result<_, _>>()?;
        let rest = RestClient::new(&config.rest_base, config.rest_timeout)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(config, rest, hub.clone(), symbols, rx));
        Ok(LiveFeed { hub, tx, task })
    }

    pub fn hub(&self) -> &FeedHub {
        &self.hub
    }

    pub fn subscribe(&self, symbol: &str) -> Result<(), LiveError> {
        let s = check_symbol(symbol)?;
        let _ = self.tx.send(Command::Subscribe(s));
        Ok(())
    }

    pub fn unsubscribe(&self, symbol: &str) -> Result<(), LiveError> {
        let s = check_symbol(symbol)?;
        let _ = self.tx.send(Command::Unsubscribe(s));
        Ok(())
    }

    /// Close the connection and wait for the feed to finish.
    pub async fn stop(self) {
        let _ = self.tx.send(Command::Stop);
        let _ = self.task.await;
    }
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// A depth snapshot in the REST body's shape (decimals keep their scale, as received).
fn snapshot_json(s: &DepthSnapshot) -> String {
    let side = |levels: &[papermemes_core::event::Level]| {
        levels
            .iter()
            .map(|(p, q)| format!("[\"{p}\",\"{q}\"]"))
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        "{{\"lastUpdateId\":{},\"bids\":[{}],\"asks\":[{}]}}",
        s.last_update_id,
        side(&s.bids),
        side(&s.asks)
    )
}

fn now_ms() -> TimeMs {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as TimeMs)
}

fn streams(symbol: &str) -> [String; 4] {
    let s = symbol.to_ascii_lowercase();
    [
        format!("{s}@depth@100ms"),
        format!("{s}@trade"),
        format!("{s}@bookTicker"),
        format!("{s}@kline_1m"),
    ]
}

/// Exponential backoff with ±25% jitter.
fn backoff(config: &LiveConfig, attempt: u32) -> Duration {
    let base = config.reconnect_min.as_millis() as u64;
    let exp = base.saturating_mul(1u64 << attempt.min(16));
    let capped = exp.min(config.reconnect_max.as_millis() as u64).max(1);
    // Jitter from the clock's nanoseconds: spreads clients apart; no need for a CSPRNG.
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos()) as u64;
    let jitter = (nanos % (capped / 2 + 1)) as i64 - (capped / 4) as i64;
    Duration::from_millis((capped as i64 + jitter).max(1) as u64)
}

enum Outcome {
    Stop,
    Dropped(String),
}

async fn connect(config: &LiveConfig, symbols: &BTreeSet<String>) -> Result<Ws, String> {
    let list: Vec<String> = symbols.iter().flat_map(|s| streams(s)).collect();
    let url = format!(
        "{}/stream?streams={}",
        config.ws_base.trim_end_matches('/'),
        list.join("/")
    );
    // Small frames (pongs, subscriptions) go out at once: no Nagle delay.
    match tokio_tungstenite::connect_async_with_config(url.as_str(), None, true).await {
        Ok((ws, _)) => Ok(ws),
        Err(e) => Err(format!("cannot connect to {}: {e}", config.ws_base)),
    }
}

async fn run(
    config: LiveConfig,
    rest: RestClient,
    hub: FeedHub,
    mut symbols: BTreeSet<String>,
    mut rx: mpsc::UnboundedReceiver<Command>,
) {
    let mut attempt: u32 = 0;
    loop {
        hub.set_status(
            FeedState::Connecting,
            format!("connecting to {}", config.ws_base),
            now_ms(),
        );
        let ws = tokio::select! {
            r = connect(&config, &symbols) => r,
            cmd = rx.recv() => {
                match cmd {
                    None | Some(Command::Stop) => {
                        hub.set_status(FeedState::Stopped, "stopped", now_ms());
                        return;
                    }
                    Some(Command::Subscribe(s)) => { symbols.insert(s); }
                    Some(Command::Unsubscribe(s)) => { symbols.remove(&s); hub.drop_book(&s); }
                }
                continue;
            }
        };
        let outcome = match ws {
            Ok(ws) => {
                attempt = 0;
                let mut session = Session::new(&config, &rest, &hub, &symbols);
                let o = session.run(ws, &mut rx).await;
                symbols = session.symbols.clone();
                o
            }
            Err(e) => Outcome::Dropped(e),
        };
        match outcome {
            Outcome::Stop => {
                hub.set_status(FeedState::Stopped, "stopped", now_ms());
                return;
            }
            Outcome::Dropped(reason) => {
                hub.counters()
                    .reconnects
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let wait = backoff(&config, attempt);
                attempt = attempt.saturating_add(1);
                tracing::warn!("live feed: {reason}; reconnecting in {wait:?}");
                hub.set_status(
                    FeedState::Connecting,
                    format!("{reason}; reconnecting in {:.1}s", wait.as_secs_f64()),
                    now_ms(),
                );
                tokio::select! {
                    _ = sleep(wait) => {}
                    cmd = rx.recv() => match cmd {
                        None | Some(Command::Stop) => {
                            hub.set_status(FeedState::Stopped, "stopped", now_ms());
                            return;
                        }
                        Some(Command::Subscribe(s)) => { symbols.insert(s); }
                        Some(Command::Unsubscribe(s)) => { symbols.remove(&s); hub.drop_book(&s); }
                    },
                }
            }
        }
    }
}

/// One connection's life (plus, during a rotation, its successor).
struct Session<'a> {
    config: &'a LiveConfig,
    rest: &'a RestClient,
    hub: &'a FeedHub,
    symbols: BTreeSet<String>,
    books: BTreeMap<String, LocalBook>,
    /// Per symbol: last trade id and last bookTicker update id published (rotation overlap).
    last_trade: BTreeMap<String, u64>,
    last_ticker: BTreeMap<String, u64>,
    snapshots: JoinSet<(String, Result<DepthSnapshot, RestError>)>,
    fetching: BTreeSet<String>,
    control: Vec<String>,
    next_id: i64,
    out: Vec<MarketEvent>,
    /// When the message being handled was read off the socket.
    received: Option<std::time::Instant>,
}

impl<'a> Session<'a> {
    fn new(
        config: &'a LiveConfig,
        rest: &'a RestClient,
        hub: &'a FeedHub,
        symbols: &BTreeSet<String>,
    ) -> Self {
        Session {
            config,
            rest,
            hub,
            symbols: symbols.clone(),
            books: BTreeMap::new(),
            last_trade: BTreeMap::new(),
            last_ticker: BTreeMap::new(),
            snapshots: JoinSet::new(),
            fetching: BTreeSet::new(),
            control: Vec::new(),
            next_id: 1,
            out: Vec::new(),
            received: None,
        }
    }

    fn fetch_snapshot(&mut self, symbol: &str, delay: Duration) {
        if !self.fetching.insert(symbol.to_string()) {
            return;
        }
        let rest = self.rest.clone();
        let limit = self.config.depth_limit;
        let sym = symbol.to_string();
        self.snapshots.spawn(async move {
            // A short wait lets the stream buffer some diffs first, as the procedure asks.
            sleep(delay).await;
            let r = rest.depth(&sym, limit).await;
            (sym, r)
        });
    }

    fn publish_out(&mut self) {
        for e in self.out.drain(..) {
            self.hub.publish_at(e, self.received);
        }
    }

    fn update_status(&self) {
        if self.symbols.is_empty() {
            self.hub
                .set_status(FeedState::Live, "connected, no symbols", now_ms());
            return;
        }
        let waiting: Vec<&str> = self
            .symbols
            .iter()
            .filter(|s| self.books.get(*s).is_none_or(|b| !b.is_synced()))
            .map(String::as_str)
            .collect();
        if waiting.is_empty() {
            self.hub
                .set_status(FeedState::Live, "all books in sync", now_ms());
        } else if self.hub.status().state != FeedState::Resyncing {
            self.hub.set_status(
                FeedState::Syncing,
                format!("waiting for depth snapshots: {}", waiting.join(", ")),
                now_ms(),
            );
        }
    }

    async fn run(&mut self, mut ws: Ws, rx: &mut mpsc::UnboundedReceiver<Command>) -> Outcome {
        let symbols: Vec<String> = self.symbols.iter().cloned().collect();
        for s in &symbols {
            self.books.insert(s.clone(), LocalBook::new(s.clone()));
            self.fetch_snapshot(s, Duration::from_millis(200));
        }
        self.update_status();
        let mut rotate_at = Instant::now() + self.config.rotate_after;
        let mut next: Option<(Ws, BTreeMap<String, Vec<crate::binance::DepthUpdate>>)> = None;
        let mut last_msg = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_millis(
            (1000 / self.config.max_control_per_sec.max(1)) as u64,
        ));
        loop {
            tokio::select! {
                msg = ws.next() => {
                    match msg {
                        Some(Ok(WsMessage::Text(t))) => {
                            last_msg = Instant::now();
                            self.received = Some(last_msg.into_std());
                            self.on_text(t.as_str());
                        }
                        Some(Ok(WsMessage::Binary(b))) => {
                            last_msg = Instant::now();
                            self.received = Some(last_msg.into_std());
                            match std::str::from_utf8(&b) {
                                Ok(t) => self.on_text(t),
                                Err(_) => {
                                    self.hub.counters().decode_errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                    tracing::warn!("live feed: binary frame that is not UTF-8 skipped");
                                }
                            }
                        }
                        Some(Ok(WsMessage::Ping(p))) => {
                            last_msg = Instant::now();
                            if let Err(e) = ws.send(WsMessage::Pong(p)).await {
                                return Outcome::Dropped(format!("cannot answer ping: {e}"));
                            }
                        }
                        Some(Ok(WsMessage::Pong(_))) | Some(Ok(WsMessage::Frame(_))) => {}
                        Some(Ok(WsMessage::Close(frame))) => {
                            let why = frame.map(|f| f.reason.to_string()).unwrap_or_default();
                            return Outcome::Dropped(format!("server closed the connection {why}").trim_end().to_string());
                        }
                        Some(Err(e)) => return Outcome::Dropped(format!("connection error: {e}")),
                        None => return Outcome::Dropped("connection ended".into()),
                    }
                }
                msg = async { match next.as_mut() { Some((n, _)) => n.next().await, None => std::future::pending().await } } => {
                    // The successor connection during a rotation.
                    match msg {
                        Some(Ok(WsMessage::Text(t))) => {
                            if self.on_successor_text(t.as_str(), &mut next) {
                                if let Some((n, _)) = next.take() {
                                    let _ = ws.close(None).await;
                                    ws = n;
                                    rotate_at = Instant::now() + self.config.rotate_after;
                                    tracing::info!("live feed: rotated to a new connection");
                                }
                            }
                        }
                        Some(Ok(WsMessage::Ping(p))) => {
                            if let Some((n, _)) = next.as_mut() { let _ = n.send(WsMessage::Pong(p)).await; }
                        }
                        Some(Ok(_)) => {}
                        Some(Err(_)) | None => { next = None; rotate_at = Instant::now() + Duration::from_secs(5); }
                    }
                }
                Some(done) = self.snapshots.join_next(), if !self.snapshots.is_empty() => {
                    let Ok((sym, result)) = done else { continue };
                    self.fetching.remove(&sym);
                    self.on_snapshot(sym, result);
                }
                cmd = rx.recv() => {
                    match cmd {
                        None | Some(Command::Stop) => {
                            let _ = ws.close(None).await;
                            return Outcome::Stop;
                        }
                        Some(Command::Subscribe(s)) => {
                            if self.symbols.insert(s.clone()) {
                                self.queue_control("SUBSCRIBE", &s);
                                self.books.insert(s.clone(), LocalBook::new(s.clone()));
                                self.fetch_snapshot(&s, Duration::from_millis(500));
                                self.update_status();
                            }
                        }
                        Some(Command::Unsubscribe(s)) => {
                            if self.symbols.remove(&s) {
                                self.queue_control("UNSUBSCRIBE", &s);
                                self.books.remove(&s);
                                self.hub.drop_book(&s);
                                self.update_status();
                            }
                        }
                    }
                }
                _ = tick.tick() => {
                    if !self.control.is_empty() {
                        let m = self.control.remove(0);
                        if let Err(e) = ws.send(WsMessage::Text(m.into())).await {
                            return Outcome::Dropped(format!("cannot send a subscription change: {e}"));
                        }
                    }
                    if last_msg.elapsed() > self.config.stale_after && self.hub.status().state == FeedState::Live {
                        self.hub.set_status(FeedState::Stale, format!("no data for {}s", last_msg.elapsed().as_secs()), now_ms());
                    } else if last_msg.elapsed() <= self.config.stale_after && self.hub.status().state == FeedState::Stale {
                        self.update_status();
                    }
                    if next.is_none() && Instant::now() >= rotate_at {
                        match connect(self.config, &self.symbols).await {
                            Ok(n) => next = Some((n, BTreeMap::new())),
                            Err(e) => {
                                tracing::warn!("live feed: rotation connect failed: {e}");
                                rotate_at = Instant::now() + Duration::from_secs(5);
                            }
                        }
                    }
                }
            }
        }
    }

    fn queue_control(&mut self, method: &str, symbol: &str) {
        let params: Vec<String> = streams(symbol).to_vec();
        let msg = serde_json::json!({"method": method, "params": params, "id": self.next_id});
        self.next_id += 1;
        self.control.push(msg.to_string());
    }

    fn on_snapshot(&mut self, sym: String, result: Result<DepthSnapshot, RestError>) {
        let Some(book) = self.books.get_mut(&sym) else {
            return;
        };
        match result {
            Ok(snap) => {
                if let Some(tap) = &self.config.raw_tap {
                    let _ = tap.send((now_ns(), snapshot_json(&snap)));
                }
                let step = book.on_snapshot(snap, now_ms(), &mut self.out);
                self.publish_out();
                match step {
                    Step::NeedSnapshot(why) => {
                        tracing::info!(
                            "live feed {sym}: snapshot too old ({why:?}); fetching another"
                        );
                        self.hub
                            .counters()
                            .stale_snapshots
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let detail = match why {
                            NeedSnapshot::SnapshotTooOld {
                                last_update_id,
                                first_update_id,
                            } => format!(
                                " (lastUpdateId {last_update_id}, first buffered update {first_update_id})"
                            ),
                            NeedSnapshot::Gap { .. } => String::new(),
                        };
                        self.hub.set_status(
                            FeedState::Resyncing,
                            format!("{sym}: depth snapshot older than the stream{detail}; fetching another"),
                            now_ms(),
                        );
                        self.fetch_snapshot(&sym, Duration::from_millis(250));
                    }
                    _ => {
                        if self.hub.status().state == FeedState::Resyncing {
                            self.hub
                                .set_status(FeedState::Syncing, "book resynced", now_ms());
                        }
                        self.hub.counters().resyncs.store(
                            self.books.values().map(|b| b.counters().resyncs).sum(),
                            std::sync::atomic::Ordering::Relaxed,
                        );
                    }
                }
            }
            Err(RestError::RateLimited {
                status,
                retry_after,
                ..
            }) => {
                self.hub.set_status(
                    FeedState::Resyncing,
                    format!(
                        "depth snapshot rate limited (HTTP {status}); retrying after {}s",
                        retry_after.as_secs()
                    ),
                    now_ms(),
                );
                self.fetch_snapshot(&sym, retry_after);
            }
            Err(e) => {
                tracing::warn!("live feed {sym}: snapshot failed: {e}");
                self.fetch_snapshot(&sym, Duration::from_secs(2));
            }
        }
        self.update_status();
    }

    fn on_text(&mut self, text: &str) {
        if let Some(tap) = &self.config.raw_tap {
            let _ = tap.send((now_ns(), text.to_string()));
        }
        let msg = match decode(text) {
            Ok(m) => m,
            Err(e) => {
                self.hub
                    .counters()
                    .decode_errors
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::warn!("live feed: undecodable message skipped: {e}");
                return;
            }
        };
        match msg.payload {
            Payload::DepthUpdate(d) => {
                let lag = now_ms() - d.event_time_ms;
                self.hub
                    .counters()
                    .lag_ms
                    .store(lag, std::sync::atomic::Ordering::Relaxed);
                let sym = d.symbol.clone();
                let Some(book) = self.books.get_mut(&sym) else {
                    return;
                };
                let step = book.on_diff(d, &mut self.out);
                self.publish_out();
                if let Step::NeedSnapshot(why) = step {
                    self.hub
                        .counters()
                        .gaps
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    self.hub.drop_book(&sym);
                    self.hub.set_status(
                        FeedState::Resyncing,
                        format!("{sym}: {why:?}; resyncing the book"),
                        now_ms(),
                    );
                    self.fetch_snapshot(&sym, Duration::from_millis(250));
                }
            }
            p @ (Payload::BookTicker(_) | Payload::Trade(_)) => {
                self.on_decoded(crate::binance::Message {
                    stream: None,
                    payload: p,
                });
            }
            Payload::Kline(k) => {
                if let Some(e) = k.into_event() {
                    self.hub.publish_at(e, self.received);
                }
            }
            Payload::Reply(r) => {
                if let Some((code, m)) = r.error {
                    tracing::warn!("live feed: request {:?} refused: {code} {m}", r.id);
                }
            }
            Payload::DepthSnapshot(_) | Payload::Unknown { .. } => {}
        }
    }

    /// A message from the successor connection during a rotation. Trades and tickers are
    /// published (deduplicated by id); depth diffs are held until one continues the current
    /// book for every symbol. Returns true when the switch can happen.
    fn on_successor_text(
        &mut self,
        text: &str,
        next: &mut Option<(Ws, BTreeMap<String, Vec<crate::binance::DepthUpdate>>)>,
    ) -> bool {
        let Ok(msg) = decode(text) else { return false };
        let Some((_, held)) = next.as_mut() else {
            return false;
        };
        match msg.payload {
            Payload::DepthUpdate(d) => {
                held.entry(d.symbol.clone()).or_default().push(d);
            }
            other => {
                // Same handling as the main connection (dedupe keeps it gap- and repeat-free).
                let m = crate::binance::Message {
                    stream: None,
                    payload: other,
                };
                self.on_decoded(m);
                return false;
            }
        }
        // Ready when, for every synced symbol, some held diff brackets the book's next id.
        let ready = self.books.iter().all(|(sym, b)| match b.last_update_id() {
            None => true,
            Some(last) => held.get(sym).is_some_and(|v| {
                v.iter()
                    .any(|d| d.first_update_id <= last + 1 && d.final_update_id > last)
            }),
        });
        if !ready {
            return false;
        }
        // Re-seed each book from its own state (identical to what consumers hold) and continue
        // with the successor's diffs: the first bracketing diff is accepted by the procedure.
        let held = std::mem::take(held);
        for (sym, diffs) in held {
            let Some(b) = self.books.get_mut(&sym) else {
                continue;
            };
            let Some(book) = b.book().cloned() else {
                continue;
            };
            let snap = DepthSnapshot {
                last_update_id: book.last_update_id,
                bids: book.bids().collect(),
                asks: book.asks().collect(),
            };
            b.reset();
            let mut scratch = Vec::new();
            b.on_snapshot(snap, now_ms(), &mut scratch);
            for d in diffs {
                b.on_diff(d, &mut self.out);
            }
            // The snapshot equals the state consumers already have; only the diffs are news.
            self.publish_out();
        }
        true
    }

    fn on_decoded(&mut self, msg: crate::binance::Message) {
        match msg.payload {
            Payload::BookTicker(t) => {
                let last = self.last_ticker.entry(t.symbol.clone()).or_insert(0);
                if t.update_id <= *last {
                    return;
                }
                *last = t.update_id;
                self.hub.publish_at(t.into_event(now_ms()), self.received);
            }
            Payload::Trade(t) => {
                let last = self.last_trade.entry(t.symbol.clone()).or_insert(0);
                if t.trade_id <= *last {
                    return;
                }
                *last = t.trade_id;
                self.hub.publish_at(t.into_event(), self.received);
            }
            _ => {}
        }
    }
}
