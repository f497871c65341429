//! A local server on 127.0.0.1 that speaks Binance's public protocol (`/stream?streams=`
//! WebSocket with SUBSCRIBE/UNSUBSCRIBE replies and pings, `/api/v3/depth`,
//! `/api/v3/exchangeInfo`, `/api/v3/klines`) and replays real recorded data: stream messages
//! from the bundled BTCUSDT capture, trading rules from `assets/market/instruments.json`, and
//! klines from the bundled candles `assets/market/candles/*.csv.gz`. It keeps its own book from
//! the recorded stream ("the exchange's book") and serves it as the REST snapshot. Shared by
//! the live tests, the app's cache tests and the latency bench.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{BufRead, BufReader};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use papermemes_core::book::OrderBook;
use papermemes_market::binance::{decode, Payload};
use papermemes_market::localbook::LocalBook;

pub const CAPTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../assets/market/captures/spot_btcusdt_20240808.gz"
);
pub const INSTRUMENTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../assets/market/instruments.json"
);
pub const CANDLES_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/market/candles");

/// The first `n` stream messages of the capture (raw JSON) and its snapshot line.
pub fn recorded(n: usize) -> (Vec<String>, String) {
    let (lines, _, snapshot) = recorded_with_times(n);
    (lines, snapshot)
}

/// Like [`recorded`], with each line's recorded receive time in ns.
pub fn recorded_with_times(n: usize) -> (Vec<String>, Vec<u64>, String) {
    let f = std::fs::File::open(CAPTURE).expect("capture");
    let r = BufReader::new(flate2::read::GzDecoder::new(f));
    let mut lines = Vec::new();
    let mut times = Vec::new();
    let mut snapshot = String::new();
    for line in r.lines() {
        let line = line.expect("line");
        let Some((ns, json)) = line.split_once(' ') else {
            continue;
        };
        if json.starts_with("{\"lastUpdateId\"") {
            snapshot = json.to_string();
        } else if lines.len() < n {
            lines.push(json.to_string());
            times.push(ns.parse().unwrap_or(0));
        }
    }
    (lines, times, snapshot)
}

#[derive(Default)]
pub struct Knobs {
    /// Close the connection after sending this many messages (once).
    pub drop_after: Option<usize>,
    /// Never send this stream line (a lost depth event).
    pub skip_line: Option<usize>,
    /// Statuses for the first depth requests (429/418 with Retry-After: 1).
    pub depth_statuses: Vec<u16>,
    /// Pace messages at their recorded intervals divided by this (0: as fast as possible).
    pub speed: f64,
    /// The exchange has been running: lines before this one were published before any
    /// client connects (the exchange's book includes them; nobody receives them).
    pub start_at: usize,
    /// The next this-many depth requests (after `depth_statuses`) get the snapshot recorded in
    /// the capture, as a lagging REST cache would serve it, instead of the current book.
    pub stale_snapshots: usize,
    /// Extra text frames sent just before stream line `i` (malformed or unknown messages).
    pub inject: Vec<(usize, String)>,
    /// Extra binary frames sent just before stream line `i`.
    pub inject_binary: Vec<(usize, Vec<u8>)>,
    /// Add fields the client does not know to every message (envelope and payload).
    pub unknown_fields: bool,
    /// Send a ping with a fresh payload every this-many stream messages (one at a time).
    pub ping_every: Option<usize>,
    /// Close the connection when a ping is not answered within this long (Binance: 1 minute).
    pub pong_timeout: Option<Duration>,
    /// Responses for the next exchangeInfo / klines requests, as (status, body), instead of
    /// the real data (bad bodies, errors).
    pub exchange_info_responses: VecDeque<(u16, String)>,
    pub klines_responses: VecDeque<(u16, String)>,
}

type Bars = Vec<papermemes_core::event::Candle>;

pub struct Mock {
    pub lines: Vec<String>,
    /// Recorded receive times (ns) of `lines`.
    pub times_ns: Vec<u64>,
    /// When each line was sent (by the first connection that sent it).
    pub sent_at: Mutex<Vec<Option<Instant>>>,
    pub cursor: AtomicUsize,
    /// When the first line was sent (pacing reference).
    pub paced_from: Mutex<Option<Instant>>,
    pub truth: Mutex<LocalBook>,
    pub knobs: Mutex<Knobs>,
    pub depth_requests: AtomicUsize,
    pub pongs_ok: AtomicUsize,
    pub connections: AtomicUsize,
    pub control: Mutex<Vec<String>>,
    /// The snapshot recorded in the capture (what `stale_snapshots` serves).
    pub recorded_snapshot: String,
    /// When each depth request arrived.
    pub depth_request_times: Mutex<Vec<Instant>>,
    pub pings_sent: AtomicUsize,
    /// Connections closed because a ping went unanswered.
    pub pong_timeouts: AtomicUsize,
    pub exchange_info_requests: AtomicUsize,
    /// Query strings of the klines requests, in order.
    pub klines_requests: Mutex<Vec<String>>,
    /// Loaded candle files by (symbol, interval).
    candles: Mutex<HashMap<(String, String), Option<Bars>>>,
}

impl Mock {
    pub fn new(n: usize, knobs: Knobs) -> Arc<Mock> {
        let (lines, times_ns, snapshot) = recorded_with_times(n);
        let sent_at = Mutex::new(vec![None; lines.len()]);
        let mut truth = LocalBook::new("BTCUSDT");
        let snap = match decode(&snapshot).expect("snapshot").payload {
            Payload::DepthSnapshot(s) => s,
            _ => panic!("not a snapshot"),
        };
        let mut out = Vec::new();
        truth.on_snapshot(snap, 0, &mut out);
        // Lines before `start_at` were published before anyone connected.
        let start_at = knobs.start_at.min(lines.len());
        for line in &lines[..start_at] {
            if let Ok(msg) = decode(line) {
                if let Payload::DepthUpdate(d) = msg.payload {
                    out.clear();
                    truth.on_diff(d, &mut out);
                }
            }
        }
        Arc::new(Mock {
            lines,
            times_ns,
            sent_at,
            paced_from: Mutex::new(None),
            cursor: AtomicUsize::new(start_at),
            truth: Mutex::new(truth),
            knobs: Mutex::new(knobs),
            depth_requests: AtomicUsize::new(0),
            pongs_ok: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
            control: Mutex::new(Vec::new()),
            recorded_snapshot: snapshot,
            depth_request_times: Mutex::new(Vec::new()),
            pings_sent: AtomicUsize::new(0),
            pong_timeouts: AtomicUsize::new(0),
            exchange_info_requests: AtomicUsize::new(0),
            klines_requests: Mutex::new(Vec::new()),
            candles: Mutex::new(HashMap::new()),
        })
    }

    pub fn truth_book(&self) -> Option<OrderBook> {
        self.truth.lock().expect("lock").book().cloned()
    }

    pub fn done(&self) -> bool {
        self.cursor.load(Ordering::SeqCst) >= self.lines.len()
    }
}

async fn depth(State(m): State<Arc<Mock>>) -> Response {
    let i = m.depth_requests.fetch_add(1, Ordering::SeqCst);
    m.depth_request_times
        .lock()
        .expect("lock")
        .push(Instant::now());
    let (status, stale) = {
        let k = m.knobs.lock().expect("lock");
        let n = k.depth_statuses.len();
        (
            k.depth_statuses.get(i).copied(),
            i >= n && i < n + k.stale_snapshots,
        )
    };
    if stale {
        return m.recorded_snapshot.clone().into_response();
    }
    if let Some(s) = status {
        // Retry-After as Binance sends it: 1 s after a 429, longer after a 418 (IP ban).
        let retry_after = if s == 418 { "2" } else { "1" };
        let mut h = HeaderMap::new();
        h.insert("retry-after", retry_after.parse().expect("header"));
        return (
            StatusCode::from_u16(s).expect("status"),
            h,
            "{\"code\":-1003,\"msg\":\"Too many requests\"}",
        )
            .into_response();
    }
    let Some(book) = m.truth_book() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "no book").into_response();
    };
    let fmt = |it: Vec<(rust_decimal::Decimal, rust_decimal::Decimal)>| {
        it.iter()
            .map(|(p, q)| format!("[\"{p}\",\"{q}\"]"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let body = format!(
        "{{\"lastUpdateId\":{},\"bids\":[{}],\"asks\":[{}]}}",
        book.last_update_id,
        fmt(book.bids().collect()),
        fmt(book.asks().collect())
    );
    body.into_response()
}

async fn stream(ws: WebSocketUpgrade, State(m): State<Arc<Mock>>) -> Response {
    ws.on_upgrade(move |socket| serve(socket, m))
}

/// Add fields a client does not know, to the envelope and to the payload.
fn with_unknown_fields(line: &str) -> String {
    let line = line.replacen(
        "{\"stream\":",
        "{\"x_future_envelope\":{\"a\":[1,2,{\"b\":null}]},\"stream\":",
        1,
    );
    line.replacen(
        "\"data\":{",
        "\"data\":{\"x_new_field\":\"ignored\",\"xx\":[[1,\"2\"],{\"deep\":{\"er\":true}}],",
        1,
    )
}

async fn serve(mut socket: WebSocket, m: Arc<Mock>) {
    m.connections.fetch_add(1, Ordering::SeqCst);
    let _ = socket
        .send(Message::Ping(b"are-you-there".to_vec().into()))
        .await;
    let (ping_every, pong_timeout) = {
        let k = m.knobs.lock().expect("lock");
        (k.ping_every, k.pong_timeout)
    };
    // The ping waiting for its pong: (payload, sent at).
    let mut awaiting: Option<(Vec<u8>, Instant)> = None;
    let mut first_ponged = false;
    let mut sent_here = 0usize;
    // Each connection streams from "now" (the furthest point any connection has reached).
    let mut i = m.cursor.load(Ordering::SeqCst);
    loop {
        // Answer what the client sent.
        while let Ok(Some(Ok(msg))) =
            tokio::time::timeout(Duration::from_millis(0), socket.recv()).await
        {
            match msg {
                Message::Pong(p) if &p[..] == b"are-you-there" && !first_ponged => {
                    first_ponged = true;
                    m.pongs_ok.fetch_add(1, Ordering::SeqCst);
                }
                Message::Pong(p) if awaiting.as_ref().is_some_and(|(a, _)| a[..] == p[..]) => {
                    m.pongs_ok.fetch_add(1, Ordering::SeqCst);
                    awaiting = None;
                }
                Message::Text(t) => {
                    let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap_or_default();
                    m.control.lock().expect("lock").push(t.to_string());
                    let reply = serde_json::json!({"result": null, "id": v["id"]});
                    let _ = socket.send(Message::Text(reply.to_string().into())).await;
                }
                _ => {}
            }
        }
        if let (Some((_, at)), Some(limit)) = (awaiting.as_ref(), pong_timeout) {
            if at.elapsed() > limit {
                // Like Binance: a client that does not answer pings is disconnected.
                m.pong_timeouts.fetch_add(1, Ordering::SeqCst);
                return;
            }
        }
        if i >= m.lines.len() {
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        }
        if let Some(every) = ping_every {
            if awaiting.is_none() && sent_here > 0 && sent_here.is_multiple_of(every) {
                let k = m.pings_sent.fetch_add(1, Ordering::SeqCst);
                let payload = format!("ping-{k}").into_bytes();
                if socket
                    .send(Message::Ping(payload.clone().into()))
                    .await
                    .is_err()
                {
                    return;
                }
                awaiting = Some((payload, Instant::now()));
            }
        }
        let drop_now = {
            let mut k = m.knobs.lock().expect("lock");
            if k.drop_after == Some(sent_here) {
                k.drop_after = None;
                true
            } else {
                false
            }
        };
        if drop_now {
            return; // the connection drops mid-stream
        }
        let speed = m.knobs.lock().expect("lock").speed;
        if speed > 0.0 {
            let t0 = *m
                .paced_from
                .lock()
                .expect("lock")
                .get_or_insert_with(Instant::now);
            let offset = m.times_ns[i].saturating_sub(m.times_ns[0]) as f64 / speed;
            let due = t0 + Duration::from_nanos(offset as u64);
            let now = Instant::now();
            if due > now {
                tokio::time::sleep(due - now).await;
            }
        }
        let (extra_text, extra_binary, unknown_fields) = {
            let k = m.knobs.lock().expect("lock");
            (
                k.inject
                    .iter()
                    .filter(|(at, _)| *at == i)
                    .map(|(_, t)| t.clone())
                    .collect::<Vec<_>>(),
                k.inject_binary
                    .iter()
                    .filter(|(at, _)| *at == i)
                    .map(|(_, b)| b.clone())
                    .collect::<Vec<_>>(),
                k.unknown_fields,
            )
        };
        for t in extra_text {
            if socket.send(Message::Text(t.into())).await.is_err() {
                return;
            }
        }
        for b in extra_binary {
            if socket.send(Message::Binary(b.into())).await.is_err() {
                return;
            }
        }
        let line = &m.lines[i];
        // The exchange's own book follows every depth event once, sent or lost.
        if m.cursor.fetch_max(i + 1, Ordering::SeqCst) <= i {
            if let Some(slot) = m.sent_at.lock().expect("lock").get_mut(i) {
                *slot = Some(Instant::now());
            }
            if let Ok(msg) = decode(line) {
                if let Payload::DepthUpdate(d) = msg.payload {
                    let mut out = Vec::new();
                    m.truth.lock().expect("lock").on_diff(d, &mut out);
                }
            }
        }
        i += 1;
        if m.knobs.lock().expect("lock").skip_line == Some(i - 1) {
            continue;
        }
        let text = if unknown_fields {
            with_unknown_fields(line)
        } else {
            line.clone()
        };
        if socket.send(Message::Text(text.into())).await.is_err() {
            return;
        }
        sent_here += 1;
        if speed <= 0.0 && sent_here.is_multiple_of(20) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

fn binance_error(status: u16, code: i64, msg: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        format!("{{\"code\":{code},\"msg\":\"{msg}\"}}"),
    )
        .into_response()
}

fn canned(status: u16, body: String) -> Response {
    (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body).into_response()
}

/// `GET /api/v3/exchangeInfo?symbols=["A","B"]` (or `symbol=A`, or all): the bundled snapshot
/// (real rules, see assets/market/PROVENANCE.md) in the exchange's shape, without PaperMemes'
/// own annotations.
async fn exchange_info(
    State(m): State<Arc<Mock>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    m.exchange_info_requests.fetch_add(1, Ordering::SeqCst);
    if let Some((status, body)) = m
        .knobs
        .lock()
        .expect("lock")
        .exchange_info_responses
        .pop_front()
    {
        return canned(status, body);
    }
    let text = std::fs::read_to_string(INSTRUMENTS).expect("instruments.json");
    let mut all: serde_json::Value = serde_json::from_str(&text).expect("instruments json");
    let wanted: Option<Vec<String>> = match (q.get("symbols"), q.get("symbol")) {
        (Some(list), _) => match serde_json::from_str::<Vec<String>>(list) {
            Ok(v) => Some(v),
            Err(_) => {
                return binance_error(
                    400,
                    -1100,
                    "Illegal characters found in parameter 'symbols'.",
                )
            }
        },
        (None, Some(one)) => Some(vec![one.clone()]),
        (None, None) => None,
    };
    let Some(obj) = all.as_object_mut() else {
        return binance_error(500, -1000, "bad snapshot");
    };
    obj.remove("x_papermemes");
    obj.insert("serverTime".into(), serde_json::json!(1_722_643_200_000i64));
    obj.insert("rateLimits".into(), serde_json::json!([]));
    obj.insert("exchangeFilters".into(), serde_json::json!([]));
    let symbols: Vec<serde_json::Value> = obj
        .get("symbols")
        .and_then(|s| s.as_array())
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|mut s| {
            if let Some(o) = s.as_object_mut() {
                o.remove("x_papermemes");
            }
            s
        })
        .collect();
    let by_name: BTreeMap<String, serde_json::Value> = symbols
        .into_iter()
        .filter_map(|s| Some((s.get("symbol")?.as_str()?.to_string(), s)))
        .collect();
    let chosen: Vec<serde_json::Value> = match wanted {
        None => by_name.values().cloned().collect(),
        Some(w) => {
            let mut out = Vec::new();
            for sym in w {
                match by_name.get(&sym) {
                    Some(s) => out.push(s.clone()),
                    None => return binance_error(400, -1121, "Invalid symbol."),
                }
            }
            out
        }
    };
    obj.insert("symbols".into(), serde_json::Value::Array(chosen));
    all.to_string().into_response()
}

impl Mock {
    /// The bundled candles of `symbol` (e.g. PEPEUSDT) and `interval` (5m, 1h), if shipped.
    pub fn bundled_candles(
        &self,
        symbol: &str,
        interval: &str,
    ) -> Option<Vec<papermemes_core::event::Candle>> {
        let mut cache = self.candles.lock().expect("lock");
        cache
            .entry((symbol.to_string(), interval.to_string()))
            .or_insert_with(|| {
                let base = symbol.strip_suffix("USDT")?;
                let path = std::path::Path::new(CANDLES_DIR)
                    .join(format!("binance_{base}_USDT-{interval}.csv.gz"));
                papermemes_market::candles::read_candles(&path)
                    .ok()
                    .map(|s| s.candles)
            })
            .clone()
    }
}

/// `GET /api/v3/klines?symbol=&interval=&startTime=&endTime=&limit=`: the bundled real candles
/// in the exchange's row shape (fields the CSV does not have are zero).
async fn klines(
    State(m): State<Arc<Mock>>,
    Query(q): Query<HashMap<String, String>>,
    uri: axum::http::Uri,
) -> Response {
    m.klines_requests
        .lock()
        .expect("lock")
        .push(uri.query().unwrap_or("").to_string());
    if let Some((status, body)) = m.knobs.lock().expect("lock").klines_responses.pop_front() {
        return canned(status, body);
    }
    let (Some(symbol), Some(interval)) = (q.get("symbol"), q.get("interval")) else {
        return binance_error(400, -1102, "Mandatory parameter was not sent.");
    };
    let num = |k: &str| q.get(k).and_then(|v| v.parse::<i64>().ok());
    let limit = num("limit").unwrap_or(500).clamp(1, 1000) as usize;
    let Some(bars) = m.bundled_candles(symbol, interval) else {
        return binance_error(400, -1121, "Invalid symbol.");
    };
    let start = num("startTime");
    let end = num("endTime");
    let mut chosen: Vec<&papermemes_core::event::Candle> = bars
        .iter()
        .filter(|c| start.is_none_or(|s| c.open_time_ms >= s))
        .filter(|c| end.is_none_or(|e| c.open_time_ms <= e))
        .collect();
    if start.is_none() && chosen.len() > limit {
        // No start: the most recent bars.
        chosen.drain(..chosen.len() - limit);
    }
    chosen.truncate(limit);
    let rows: Vec<String> = chosen
        .iter()
        .map(|c| {
            format!(
                "[{},\"{}\",\"{}\",\"{}\",\"{}\",\"{}\",{},\"0\",0,\"0\",\"0\",\"0\"]",
                c.open_time_ms,
                c.open,
                c.high,
                c.low,
                c.close,
                c.volume,
                c.open_time_ms + c.interval_ms - 1
            )
        })
        .collect();
    format!("[{}]", rows.join(",")).into_response()
}

pub async fn start(m: Arc<Mock>) -> String {
    let app = Router::new()
        .route("/stream", get(stream))
        .route("/api/v3/depth", get(depth))
        .route("/api/v3/exchangeInfo", get(exchange_info))
        .route("/api/v3/klines", get(klines))
        .with_state(m);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    // Like an exchange's servers: small frames go out at once (no Nagle delay).
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("127.0.0.1:{}", addr.port())
}
