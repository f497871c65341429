//! Live path latency with the real capture replayed at 10× its recorded rate by the local
//! Binance-protocol server (on its own thread and runtime, like a remote peer):
//!
//! * **socket → subscriber**: from the feed reading a message off its WebSocket to a
//!   subscriber holding the resulting event (decode, local book upkeep, the hub's copy of the
//!   book, the broadcast, the subscriber's wake-up) — the figure the goal names;
//! * **server → subscriber**: from the server handing the message to its socket, so it also
//!   includes the loopback TCP hop, the server's and the client's WebSocket framing.
//!
//! The goal the issue names ("from a message arriving on the socket to the book updated and
//! subscribers notified") is the first line, from the hub's own histogram. The lines after it
//! add the subscriber's wake-up: a task on the feed's runtime runs on the same thread without an
//! OS wake-up; a subscriber on another thread pays one, whose floor on this machine the last line
//! measures with no feed at all.
//!
//! Run: `cargo bench -p papermemes-market --bench live_latency` (env SPEED, LINES).

#[path = "../tests/support/mock.rs"]
mod mock;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use mock::{start, Knobs, Mock};
use papermemes_core::event::MarketEvent;
use papermemes_market::binance::{decode, Payload};
use papermemes_market::hub::{FeedHub, Update};
use papermemes_market::live::{LiveConfig, LiveFeed};

fn quantiles(mut v: Vec<Duration>) -> String {
    v.sort();
    let q = |p: f64| {
        v.get(((v.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    format!(
        "n {}, p50 {:.1} µs, p90 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        v.len(),
        q(0.5).as_secs_f64() * 1e6,
        q(0.9).as_secs_f64() * 1e6,
        q(0.99).as_secs_f64() * 1e6,
        v.last().copied().unwrap_or_default().as_secs_f64() * 1e6
    )
}

fn main() {
    let speed: f64 = std::env::var("SPEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10.0);
    let lines: usize = std::env::var("LINES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12_000);
    let m = Mock::new(
        lines,
        Knobs {
            speed,
            ..Knobs::default()
        },
    );
    // The exchange: its own thread and runtime, like a peer on another machine.
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let server_mock = m.clone();
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async move {
            let addr = start(server_mock).await;
            let _ = addr_tx.send(addr);
            std::future::pending::<()>().await;
        });
    });
    let Ok(addr) = addr_rx.recv() else {
        eprintln!("the local server did not start");
        return;
    };
    // Which recorded line carries each depth update id.
    let by_id: HashMap<u64, usize> = m
        .lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| match decode(l).ok()?.payload {
            Payload::DepthUpdate(d) => Some((d.final_update_id, i)),
            _ => None,
        })
        .collect();
    // The floor: how long this machine takes to wake a parked thread at this message rate
    // (no feed, no socket; a plain channel between two threads).
    let floor = wake_up_floor(3_000, Duration::from_micros(300));
    // The client: the feed on a one-worker runtime, as the app runs it. Two subscribers: a task
    // on the feed's runtime (like the paper exchange's fill loop) and one on another thread
    // (like the UI bridge), which pays the OS's thread wake-up on every message.
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("no runtime: {e}");
            return;
        }
    };
    let hub = FeedHub::new(100_000);
    let limit = Duration::from_secs_f64(
        (m.times_ns.last().copied().unwrap_or(0) - m.times_ns[0]) as f64 / 1e9 / speed + 20.0,
    );
    let same = {
        let sub = hub.subscribe();
        let m = m.clone();
        let by_id = by_id.clone();
        rt.spawn(async move { measure(sub, &m, &by_id, limit).await })
    };
    let other_sub = hub.subscribe();
    let cfg = LiveConfig {
        ws_base: format!("ws://{addr}"),
        rest_base: format!("http://{addr}"),
        symbols: vec!["BTCUSDT".into()],
        ..LiveConfig::default()
    };
    let feed = {
        let _guard = rt.enter();
        match LiveFeed::start(cfg, hub.clone()) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("cannot start the feed: {e}");
                return;
            }
        }
    };
    let started = Instant::now();
    let other = rt.block_on(measure(other_sub, &m, &by_id, limit));
    rt.block_on(feed.stop());
    let same = rt.block_on(same).unwrap_or_default();
    let secs = started.elapsed().as_secs_f64();
    let c = hub.counters().snapshot();
    println!(
        "live path, capture at {speed}x ({lines} recorded messages, {:.0} events/s published)",
        c.messages as f64 / secs
    );
    println!(
        "  socket -> book updated, subscribers notified: n {}, p50 {} µs, p99 {} µs (hub histogram, ≤ 6.25 % high)",
        hub.counters().path_latency.count(),
        c.path_p50_us.unwrap_or_default(),
        c.path_p99_us.unwrap_or_default()
    );
    println!(
        "  socket -> subscriber task on the feed's runtime: {}",
        quantiles(same.from_socket)
    );
    println!(
        "  socket -> subscriber on another thread:          {}",
        quantiles(other.from_socket)
    );
    println!(
        "  server -> subscriber on another thread (book updates): {}",
        quantiles(other.from_server)
    );
    println!(
        "  floor: one thread waking another, no feed:      {}",
        quantiles(floor)
    );
}

#[derive(Default)]
struct Samples {
    from_socket: Vec<Duration>,
    from_server: Vec<Duration>,
}

async fn measure(
    mut sub: papermemes_market::hub::Subscription,
    m: &Mock,
    by_id: &HashMap<u64, usize>,
    limit: Duration,
) -> Samples {
    let started = Instant::now();
    let mut s = Samples::default();
    while started.elapsed() < limit {
        let u = tokio::time::timeout(Duration::from_millis(200), sub.recv()).await;
        let arrived = Instant::now();
        match u {
            Ok(Some(Update::Event(msg))) => {
                if let Some(r) = msg.received {
                    s.from_socket.push(arrived.saturating_duration_since(r));
                }
                if let MarketEvent::BookDelta {
                    final_update_id, ..
                } = msg.event
                {
                    let sent = by_id.get(&final_update_id).and_then(|i| {
                        m.sent_at
                            .lock()
                            .ok()
                            .and_then(|v| v.get(*i).copied().flatten())
                    });
                    if let Some(sent) = sent {
                        s.from_server.push(arrived.saturating_duration_since(sent));
                    }
                }
            }
            Ok(Some(Update::Resync { .. })) => eprintln!("the subscriber fell behind"),
            Ok(None) => break,
            Err(_) if m.done() => break,
            Err(_) => {}
        }
    }
    s
}

/// One thread sends the time every `gap` to another parked on a channel: how late it wakes.
fn wake_up_floor(n: usize, gap: Duration) -> Vec<Duration> {
    let (tx, rx) = std::sync::mpsc::channel::<Instant>();
    let h = std::thread::spawn(move || {
        let mut v = Vec::with_capacity(n);
        while let Ok(t) = rx.recv() {
            v.push(t.elapsed());
        }
        v
    });
    for _ in 0..n {
        std::thread::sleep(gap);
        if tx.send(Instant::now()).is_err() {
            break;
        }
    }
    drop(tx);
    h.join().unwrap_or_default()
}
