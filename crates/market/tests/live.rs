//! The live connector against a local server on 127.0.0.1 that speaks Binance's protocol
//! (`/stream?streams=` WebSocket with SUBSCRIBE/UNSUBSCRIBE replies and pings,
//! `/api/v3/depth`) and replays real recorded BTCUSDT messages from the bundled capture. The
//! server keeps its own book from the recorded stream ("the exchange's book"), serves it as
//! the REST snapshot, and every scenario checks that the client's book ends equal to it.

#[path = "support/mock.rs"]
mod mock;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mock::{recorded, start, Knobs, Mock};
use papermemes_core::book::OrderBook;
use papermemes_core::event::MarketEvent;
use papermemes_market::hub::{FeedHub, FeedState, Update};
use papermemes_market::live::{LiveConfig, LiveFeed};

fn config(addr: &str) -> LiveConfig {
    LiveConfig {
        ws_base: format!("ws://{addr}"),
        rest_base: format!("http://{addr}"),
        symbols: vec!["BTCUSDT".into()],
        reconnect_min: Duration::from_millis(50),
        reconnect_max: Duration::from_millis(400),
        ..LiveConfig::default()
    }
}

/// Follow the feed as a consumer does; return the consumer's book once it reaches the
/// server's final book (or fail after `secs`).
async fn consume_until_equal(hub: &FeedHub, m: &Mock, secs: u64) -> (OrderBook, usize) {
    let mut sub = hub.subscribe();
    let mut book = OrderBook::new();
    let mut resyncs = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    // Start from the hub's current books, as a late subscriber would.
    for e in hub.book_snapshots().0 {
        apply(&mut book, &e);
    }
    loop {
        if m.done() {
            if let Some(truth) = m.truth_book() {
                if book.last_update_id == truth.last_update_id && book == truth {
                    return (book, resyncs);
                }
            }
        }
        if tokio::time::Instant::now() > deadline {
            panic!(
                "consumer book never matched the exchange's: client id {}, exchange id {:?}, status {:?}",
                book.last_update_id,
                m.truth_book().map(|b| b.last_update_id),
                hub.status()
            );
        }
        match tokio::time::timeout(Duration::from_millis(50), sub.recv()).await {
            Ok(Some(Update::Event(msg))) => apply(&mut book, &msg.event),
            Ok(Some(Update::Resync { books, .. })) => {
                resyncs += 1;
                for e in &books {
                    apply(&mut book, e);
                }
            }
            _ => {}
        }
    }
}

/// The status reaches `live` (it is set just after the events that complete a sync are
/// published, so a consumer can see the book before the status changes).
async fn wait_live(hub: &FeedHub) {
    let mut w = hub.watch_status();
    let live = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if w.borrow_and_update().state == FeedState::Live {
                return;
            }
            if w.changed().await.is_err() {
                return;
            }
        }
    })
    .await;
    assert!(live.is_ok(), "status never became live: {:?}", hub.status());
    assert_eq!(hub.status().state, FeedState::Live, "{:?}", hub.status());
}

fn apply(book: &mut OrderBook, e: &MarketEvent) {
    match e {
        MarketEvent::BookSnapshot {
            bids,
            asks,
            last_update_id,
            ..
        } => book.reset(bids, asks, *last_update_id),
        MarketEvent::BookDelta {
            bids,
            asks,
            final_update_id,
            ..
        } => {
            book.apply(bids, asks);
            book.last_update_id = *final_update_id;
        }
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_answers_pings_and_keeps_the_exchange_book() {
    let m = Mock::new(3000, Knobs::default());
    let addr = start(m.clone()).await;
    let hub = FeedHub::new(100_000);
    let feed = LiveFeed::start(config(&addr), hub.clone()).expect("start");
    let (_, resyncs) = consume_until_equal(&hub, &m, 30).await;
    assert_eq!(resyncs, 0);
    assert!(
        m.pongs_ok.load(Ordering::SeqCst) >= 1,
        "the server's ping got its pong with the same payload"
    );
    wait_live(&hub).await;
    let c = hub.counters().snapshot();
    assert_eq!((c.gaps, c.reconnects), (0, 0));
    // Every event from the socket was timed from its read to its broadcast.
    let timed = hub.counters().path_latency.count();
    assert!(timed > 1000, "{timed} events timed");
    let (p50, p99) = (c.path_p50_us.unwrap_or(0), c.path_p99_us.unwrap_or(0));
    assert!(p50 <= p99, "p50 {p50} µs, p99 {p99} µs");
    feed.stop().await;
    assert_eq!(hub.status().state, FeedState::Stopped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_reconnects_and_resyncs() {
    let m = Mock::new(
        3000,
        Knobs {
            drop_after: Some(700),
            ..Knobs::default()
        },
    );
    let addr = start(m.clone()).await;
    let hub = FeedHub::new(100_000);
    let feed = LiveFeed::start(config(&addr), hub.clone()).expect("start");
    consume_until_equal(&hub, &m, 30).await;
    assert!(m.connections.load(Ordering::SeqCst) >= 2);
    assert!(hub.counters().snapshot().reconnects >= 1);
    feed.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_depth_event_is_detected_and_the_book_resyncs() {
    // Line 1500 of the recorded stream is a depth event the client never sees.
    let (lines, _) = recorded(3000);
    let skip = (1200..lines.len())
        .find(|&i| lines[i].contains("depthUpdate"))
        .expect("a depth line");
    let m = Mock::new(
        3000,
        Knobs {
            skip_line: Some(skip),
            ..Knobs::default()
        },
    );
    let addr = start(m.clone()).await;
    let hub = FeedHub::new(100_000);
    let feed = LiveFeed::start(config(&addr), hub.clone()).expect("start");
    consume_until_equal(&hub, &m, 30).await;
    assert!(hub.counters().snapshot().gaps >= 1, "the gap was noticed");
    assert!(
        m.depth_requests.load(Ordering::SeqCst) >= 2,
        "a new snapshot was fetched"
    );
    feed.stop().await;
}

/// Every status the feed goes through (state and reason), recorded in the background.
fn record_statuses(hub: &FeedHub) -> Arc<Mutex<Vec<(FeedState, String)>>> {
    let seen = Arc::new(Mutex::new(vec![{
        let s = hub.status();
        (s.state, s.reason)
    }]));
    let mut w = hub.watch_status();
    let out = seen.clone();
    tokio::spawn(async move {
        while w.changed().await.is_ok() {
            let s = w.borrow_and_update().clone();
            out.lock().expect("lock").push((s.state, s.reason));
        }
    });
    seen
}

fn saw(seen: &Mutex<Vec<(FeedState, String)>>, state: FeedState, needles: &[&str]) -> bool {
    seen.lock()
        .expect("lock")
        .iter()
        .any(|(s, r)| *s == state && needles.iter().all(|n| r.contains(n)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_snapshots_wait_for_retry_after() {
    // The first depth request gets 429 (Retry-After: 1), the second 418 (Retry-After: 2).
    let m = Mock::new(
        2500,
        Knobs {
            depth_statuses: vec![429, 418],
            ..Knobs::default()
        },
    );
    let addr = start(m.clone()).await;
    let hub = FeedHub::new(100_000);
    let seen = record_statuses(&hub);
    let feed = LiveFeed::start(config(&addr), hub.clone()).expect("start");
    consume_until_equal(&hub, &m, 30).await;
    assert_eq!(
        m.depth_requests.load(Ordering::SeqCst),
        3,
        "one request per Retry-After, no hammering"
    );
    // The server saw each retry only after the Retry-After it had asked for.
    let times = m.depth_request_times.lock().expect("lock").clone();
    let gap = |i: usize| times[i + 1].duration_since(times[i]);
    assert!(gap(0) >= Duration::from_secs(1), "after 429: {:?}", gap(0));
    assert!(gap(1) >= Duration::from_secs(2), "after 418: {:?}", gap(1));
    // The status said so, each time, with the wait.
    assert!(
        saw(
            &seen,
            FeedState::Resyncing,
            &["rate limited", "HTTP 429", "retrying after 1s"]
        ),
        "{:?}",
        seen.lock().expect("lock")
    );
    assert!(
        saw(
            &seen,
            FeedState::Resyncing,
            &["rate limited", "HTTP 418", "retrying after 2s"]
        ),
        "{:?}",
        seen.lock().expect("lock")
    );
    wait_live(&hub).await;
    feed.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_server_ping_gets_its_pong_with_the_same_payload() {
    // Pings with a fresh payload every 100 messages, paced at 10x the recorded rate (about
    // 3 s), and a server that cuts a client whose pong is late, as Binance does.
    let m = Mock::new(
        3000,
        Knobs {
            ping_every: Some(100),
            pong_timeout: Some(Duration::from_secs(10)),
            speed: 10.0,
            ..Knobs::default()
        },
    );
    let addr = start(m.clone()).await;
    let hub = FeedHub::new(100_000);
    let feed = LiveFeed::start(config(&addr), hub.clone()).expect("start");
    consume_until_equal(&hub, &m, 60).await;
    // The last pong may still be on its way.
    let t0 = tokio::time::Instant::now();
    while m.pongs_ok.load(Ordering::SeqCst) < m.pings_sent.load(Ordering::SeqCst) + 1
        && t0.elapsed() < Duration::from_secs(15)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pings = m.pings_sent.load(Ordering::SeqCst);
    assert!(pings >= 10, "the server pinged mid-stream ({pings})");
    assert_eq!(
        m.pongs_ok.load(Ordering::SeqCst),
        pings + 1,
        "every ping (and the one at connect) got a pong with its own payload"
    );
    assert_eq!(m.pong_timeouts.load(Ordering::SeqCst), 0);
    assert_eq!(m.connections.load(Ordering::SeqCst), 1, "never cut off");
    let c = hub.counters().snapshot();
    assert_eq!((c.gaps, c.reconnects), (0, 0));
    wait_live(&hub).await;
    feed.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_older_than_the_first_buffered_event_is_refetched() {
    // The exchange has been running for 1000 messages when the client connects, and the
    // first depth request is answered from a lagging cache: the snapshot recorded in the
    // capture, older than every diff the client buffered.
    let (lines, snapshot) = recorded(3000);
    let start_at = 1000;
    let snap_id = match papermemes_market::binance::decode(&snapshot)
        .expect("snapshot")
        .payload
    {
        papermemes_market::binance::Payload::DepthSnapshot(s) => s.last_update_id,
        _ => panic!("not a snapshot"),
    };
    let first_seen = lines[start_at..]
        .iter()
        .find_map(
            |l| match papermemes_market::binance::decode(l).ok()?.payload {
                papermemes_market::binance::Payload::DepthUpdate(d) => Some(d.first_update_id),
                _ => None,
            },
        )
        .expect("a depth line");
    assert!(
        first_seen > snap_id + 1,
        "the setup really serves a snapshot older than the stream"
    );
    let m = Mock::new(
        3000,
        Knobs {
            start_at,
            stale_snapshots: 1,
            ..Knobs::default()
        },
    );
    let addr = start(m.clone()).await;
    let hub = FeedHub::new(100_000);
    let seen = record_statuses(&hub);
    let feed = LiveFeed::start(config(&addr), hub.clone()).expect("start");
    let (book, resyncs) = consume_until_equal(&hub, &m, 30).await;
    assert_eq!(Some(book), m.truth_book(), "the book equals the exchange's");
    assert_eq!(resyncs, 0);
    assert!(
        m.depth_requests.load(Ordering::SeqCst) >= 2,
        "another snapshot was fetched"
    );
    let c = hub.counters().snapshot();
    assert_eq!(c.stale_snapshots, 1, "{c:?}");
    assert_eq!(c.gaps, 0, "a stale snapshot is not a gap in the stream");
    assert!(
        saw(
            &seen,
            FeedState::Resyncing,
            &[
                "BTCUSDT",
                "snapshot older than the stream",
                &format!("lastUpdateId {snap_id}")
            ]
        ),
        "the status said why: {:?}",
        seen.lock().expect("lock")
    );
    wait_live(&hub).await;
    feed.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_and_unknown_fields_mid_stream_change_nothing() {
    use papermemes_market::binance::decode;
    let bad_text = [
        // Truncated mid-message.
        "{\"stream\":\"btcusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1723",
        "not json at all",
        "[1,2,3]",
        // A depth event with a known field of the wrong type.
        "{\"stream\":\"btcusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"BTCUSDT\",\"U\":\"abc\",\"u\":5,\"b\":[],\"a\":[]}}",
        // A trade without its fields.
        "{\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"trade\",\"s\":\"BTCUSDT\"}}",
    ];
    for t in bad_text {
        assert!(decode(t).is_err(), "{t} is really undecodable");
    }
    // Well-formed messages of kinds the client does not know: ignored, not errors.
    let unknown = [
        "{\"stream\":\"btcusdt@avgPrice\",\"data\":{\"e\":\"avgPrice\",\"E\":1,\"s\":\"BTCUSDT\",\"i\":\"5m\",\"w\":\"1.0\"}}",
        "{\"result\":null,\"id\":99,\"x_extra\":[1]}",
    ];
    for t in unknown {
        assert!(decode(t).is_ok(), "{t} decodes");
    }
    let mut inject: Vec<(usize, String)> = bad_text
        .iter()
        .enumerate()
        .map(|(k, t)| (300 + 400 * k, t.to_string()))
        .collect();
    inject.extend(unknown.iter().map(|t| (2500, t.to_string())));
    let m = Mock::new(
        3000,
        Knobs {
            unknown_fields: true,
            inject,
            inject_binary: vec![(1100, vec![0xff, 0xfe, 0x00, 0x7b])],
            ..Knobs::default()
        },
    );
    let addr = start(m.clone()).await;
    let hub = FeedHub::new(100_000);
    let mut sub = hub.subscribe();
    let feed = LiveFeed::start(config(&addr), hub.clone()).expect("start");
    consume_until_equal(&hub, &m, 30).await;
    // Every recorded trade came through despite the unknown fields around it.
    let (lines, _) = recorded(3000);
    let trades_sent = lines
        .iter()
        .filter(|l| l.contains("\"e\":\"trade\""))
        .count();
    // (Trades after the last depth event may still be on their way.)
    let mut trades = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while trades < trades_sent && tokio::time::Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_millis(100), sub.recv()).await {
            Ok(Some(Update::Event(msg))) => {
                if matches!(msg.event, MarketEvent::Trade { .. }) {
                    trades += 1;
                }
            }
            Ok(Some(Update::Resync { .. })) => panic!("this subscriber never falls behind"),
            Ok(None) => break,
            Err(_) => {}
        }
    }
    assert_eq!(trades, trades_sent);
    // And no more than those.
    tokio::time::sleep(Duration::from_millis(100)).await;
    while let Ok(Some(u)) = sub.try_recv() {
        if let Update::Event(msg) = u {
            assert!(
                !matches!(msg.event, MarketEvent::Trade { .. }),
                "a trade came twice"
            );
        }
    }
    let c = hub.counters().snapshot();
    assert_eq!(
        c.decode_errors,
        bad_text.len() as u64 + 1,
        "each undecodable message (and the binary frame) was counted and skipped: {c:?}"
    );
    assert_eq!((c.gaps, c.reconnects, c.resyncs), (0, 0, 0), "{c:?}");
    assert_eq!(m.connections.load(Ordering::SeqCst), 1);
    wait_live(&hub).await;
    feed.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_stops_reading_gets_the_latest_book_and_the_feed_goes_on() {
    const RING: usize = 1024;
    let m = Mock::new(3000, Knobs::default());
    let addr = start(m.clone()).await;
    let hub = FeedHub::new(RING);
    let mut slow = hub.subscribe();
    let feed = LiveFeed::start(config(&addr), hub.clone()).expect("start");
    // The other subscriber follows the whole stream and ends with the exchange's book.
    let (fast_book, _) = consume_until_equal(&hub, &m, 30).await;
    assert_eq!(Some(fast_book), m.truth_book());
    let published = hub.counters().snapshot().messages;
    assert!(
        published > 2 * RING as u64,
        "the feed went on well past what the ring holds ({published})"
    );
    // The slow one wakes up: one conflated resync with the current book, then at most what
    // the ring holds (its memory is bounded by the ring, not by what it missed).
    let mut book = OrderBook::new();
    let (mut resyncs, mut skipped, mut after) = (0, 0, 0usize);
    while let Ok(Some(u)) = slow.try_recv() {
        match u {
            Update::Resync { books, skipped: n } => {
                resyncs += 1;
                skipped += n;
                for b in &books {
                    apply(&mut book, b);
                }
            }
            Update::Event(msg) => {
                assert!(
                    resyncs > 0,
                    "the first thing a lagging subscriber sees is the resync"
                );
                after += 1;
                apply(&mut book, &msg.event);
            }
        }
    }
    assert_eq!(resyncs, 1);
    assert!(
        skipped > 0 && after <= RING,
        "skipped {skipped}, then {after}"
    );
    assert_eq!(
        Some(book),
        m.truth_book(),
        "the slow subscriber ends with the exchange's book"
    );
    let c = hub.counters().snapshot();
    assert!(c.skipped_by_slow_subscribers >= skipped, "{c:?}");
    assert_eq!(c.gaps, 0, "a slow subscriber never disturbs the feed");
    wait_live(&hub).await;
    feed.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symbols_are_subscribed_at_run_time_within_the_message_rate() {
    let m = Mock::new(2000, Knobs::default());
    let addr = start(m.clone()).await;
    let hub = FeedHub::new(100_000);
    let feed = LiveFeed::start(config(&addr), hub.clone()).expect("start");
    // Symbols added while connecting simply join the connection URL; once connected they are
    // SUBSCRIBE messages.
    let t0 = tokio::time::Instant::now();
    while hub.status().state != FeedState::Live && t0.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(hub.status().state, FeedState::Live);
    for s in [
        "PEPEUSDT",
        "DOGEUSDT",
        "WIFUSDT",
        "BONKUSDT",
        "SHIBUSDT",
        "FLOKIUSDT",
    ] {
        feed.subscribe(s).expect("subscribe");
    }
    feed.unsubscribe("PEPEUSDT").expect("unsubscribe");
    assert!(
        feed.subscribe("no good!").is_err(),
        "bad symbols are refused at once"
    );
    let t0 = tokio::time::Instant::now();
    while m.control.lock().expect("lock").len() < 7 && t0.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = t0.elapsed();
    let control = m.control.lock().expect("lock").clone();
    assert_eq!(control.len(), 7, "{control:?}");
    assert!(control[0].contains("\"SUBSCRIBE\"") && control[0].contains("pepeusdt@depth@100ms"));
    assert!(control[6].contains("\"UNSUBSCRIBE\"") && control[6].contains("pepeusdt@trade"));
    // 7 messages at no more than 4 a second take at least 1.5 s.
    assert!(
        elapsed >= Duration::from_millis(1400),
        "sent too fast: {elapsed:?}"
    );
    feed.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_rotates_without_consumers_seeing_a_gap() {
    let m = Mock::new(6000, Knobs::default());
    let addr = start(m.clone()).await;
    let hub = FeedHub::new(100_000);
    let mut cfg = config(&addr);
    cfg.rotate_after = Duration::from_millis(1200);
    let feed = LiveFeed::start(cfg, hub.clone()).expect("start");
    let (_, resyncs) = consume_until_equal(&hub, &m, 40).await;
    assert!(
        m.connections.load(Ordering::SeqCst) >= 2,
        "a new connection was opened"
    );
    assert_eq!(resyncs, 0, "the consumer never had to resync");
    let c = hub.counters().snapshot();
    assert_eq!(
        (c.gaps, c.reconnects),
        (0, 0),
        "rotation is neither a gap nor a reconnect"
    );
    feed.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_verifies_like_the_exchange_stream() {
    let m = Mock::new(4000, Knobs::default());
    let addr = start(m.clone()).await;
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("btcusdt.gz");
    let mm = m.clone();
    let stop = async move {
        while !mm.done() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let s =
        papermemes_market::record::record(config(&addr), &path, Duration::from_millis(200), stop)
            .await
            .expect("record");
    assert!(s.snapshots >= 1, "the REST snapshot is in the recording");
    assert!(s.lines >= 3900, "{s:?}");
    // The recording is a capture like any other: it replays into a correct book.
    let r = papermemes_market::capture::verify_capture(&path).expect("verify the recording");
    assert!(r.ok(), "{r:#?}");
    assert_eq!(r.gaps, 0);
    assert!(r.book_ticker_checked > 50, "{r:#?}");
    assert_eq!(r.last_update_id, m.truth_book().map(|b| b.last_update_id));
}
