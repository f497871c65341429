//! The controllable replay ([`ReplayHandle`]): pause, resume, step by events or by market time,
//! speed changes, status; on the real BTCUSDT capture and on the bundled real candles. What a
//! user of the replay controls would notice: exactly the events asked for appear, nothing
//! appears while paused, the book at the end is the capture's, and the status says where it is.
//!
//! Pacing is checked on tokio's paused clock (virtual time, so exact and not flaky).

use std::path::{Path, PathBuf};
use std::time::Duration;

use papermemes_core::book::OrderBook;
use papermemes_core::event::{Candle, MarketEvent};
use papermemes_market::candles::read_candles;
use papermemes_market::hub::{FeedHub, FeedState, Subscription, Update};
use papermemes_market::player::{
    CandleEvents, DerivedEvents, ReplayError, ReplayHandle, ReplayOptions, ReplaySource,
    ReplayState,
};
use papermemes_market::replay::CaptureEvents;

fn capture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/market/captures/spot_btcusdt_20240808.gz")
}

fn candles(symbol: &str, interval: &str) -> (String, Vec<Candle>) {
    let base = symbol.strip_suffix("USDT").expect("a USDT pair");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
        "../../assets/market/candles/binance_{base}_USDT-{interval}.csv.gz"
    ));
    (
        symbol.to_string(),
        read_candles(&path).expect("bundled candles").candles,
    )
}

/// Every event of the capture with its receive time, as the replay reads them.
fn capture_events() -> Vec<(u64, MarketEvent)> {
    CaptureEvents::open(&capture())
        .expect("open")
        .map(|r| r.expect("event"))
        .collect()
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

/// Everything queued for `sub` now (never waits).
fn drain(sub: &mut Subscription) -> Vec<MarketEvent> {
    let mut out = Vec::new();
    while let Ok(Some(u)) = sub.try_recv() {
        match u {
            Update::Event(m) => out.push(m.event.clone()),
            Update::Resync { .. } => panic!("the test subscriber never falls behind"),
        }
    }
    out
}

fn paused(speed: Option<f64>) -> ReplayOptions {
    ReplayOptions {
        speed,
        start_paused: true,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capture_steps_pauses_resumes_and_ends_with_the_captures_book() {
    let expected = capture_events();
    let hub = FeedHub::new(1 << 17);
    let mut sub = hub.subscribe();
    let replay = ReplayHandle::start(
        ReplaySource::Capture(capture()),
        hub.clone(),
        paused(Some(1.0)),
    )
    .expect("start");
    assert_eq!(replay.status().state, ReplayState::Paused);
    assert!(
        drain(&mut sub).is_empty(),
        "nothing is published before a step"
    );

    // Step 10 events: exactly those, in order, then paused again.
    let s = replay.step_events(10).await;
    assert_eq!((s.state, s.events), (ReplayState::Paused, 10));
    let got = drain(&mut sub);
    let want: Vec<MarketEvent> = expected[..10].iter().map(|(_, e)| e.clone()).collect();
    assert_eq!(got, want);
    assert_eq!(
        s.market_time_ms,
        Some((expected[9].0 / 1_000_000) as i64),
        "market time is the last event's"
    );

    // Step 5 s of market time: every event up to 5 s after the current market time.
    let until = expected[9].0 + 5_000_000_000;
    let n5 = expected[10..]
        .iter()
        .take_while(|(t, _)| *t <= until)
        .count();
    assert!(n5 > 50, "the capture has events in those 5 s");
    let s = replay.step_time(Duration::from_secs(5)).await;
    assert_eq!(s.events, 10 + n5 as u64);
    assert_eq!(s.market_time_ms, Some((until / 1_000_000) as i64));
    assert_eq!(s.state, ReplayState::Paused);
    let got = drain(&mut sub);
    assert_eq!(got.len(), n5);
    assert_eq!(got.last(), Some(&expected[9 + n5].1));

    // Play at 1x, then pause: what was published is exactly what the status says, and
    // nothing more comes while paused.
    let s = replay.resume().await;
    assert_eq!(s.state, ReplayState::Playing);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let s = replay.pause().await;
    assert_eq!(s.state, ReplayState::Paused);
    let so_far = s.events as usize;
    let got = drain(&mut sub);
    assert_eq!(10 + n5 + got.len(), so_far);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        drain(&mut sub).is_empty(),
        "nothing is published while paused"
    );
    assert_eq!(replay.status().events as usize, so_far);

    // As fast as possible to the end.
    replay.set_speed(None).await.expect("speed");
    replay.resume().await;
    let mut status = replay.watch_status();
    let summary = tokio::time::timeout(Duration::from_secs(120), replay.wait())
        .await
        .expect("finishes (a 6-minute capture, as fast as possible)")
        .expect("no error");
    assert_eq!(summary.events as usize, expected.len());
    assert_eq!(summary.gaps, 0);
    let last = status.borrow_and_update().clone();
    assert_eq!(last.state, ReplayState::Finished);
    assert_eq!(last.events as usize, expected.len());
    assert_eq!(hub.status().state, FeedState::Stopped);
    assert_eq!(hub.status().reason, "end of the capture");

    // The subscriber saw every event exactly once, in order: its book is the capture's.
    let mut book = OrderBook::new();
    let mut want_book = OrderBook::new();
    for (_, e) in &expected {
        apply(&mut want_book, e);
    }
    let rest = drain(&mut sub);
    assert_eq!(so_far + rest.len(), expected.len());
    for e in expected[..so_far].iter().map(|(_, e)| e).chain(rest.iter()) {
        apply(&mut book, e);
    }
    assert_eq!(book, want_book);
    assert_eq!(
        hub.book_snapshots().0.len(),
        1,
        "the hub holds the BTCUSDT book"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_speed_change_applies_while_playing() {
    // At 1x the capture lasts six minutes; switched to "as fast as possible" it ends at once.
    let hub = FeedHub::new(1024);
    let replay = ReplayHandle::start(
        ReplaySource::Capture(capture()),
        hub.clone(),
        ReplayOptions {
            speed: Some(1.0),
            start_paused: false,
        },
    )
    .expect("start");
    let s = replay.set_speed(None).await.expect("speed");
    assert_eq!(s.speed, None);
    let summary = tokio::time::timeout(Duration::from_secs(120), replay.wait())
        .await
        .expect("did not wait for real time after the speed change")
        .expect("ok");
    assert!(summary.events > 40_000);
}

#[tokio::test(start_paused = true)]
async fn candles_are_paced_by_market_time_and_speed_changes_reanchor() {
    // 24 hourly bars of two pairs at 3600x: one market hour per second.
    let series: Vec<(String, Vec<Candle>)> = ["DOGEUSDT", "PEPEUSDT"]
        .iter()
        .map(|s| {
            let (sym, bars) = candles(s, "1h");
            (sym, bars[..24].to_vec())
        })
        .collect();
    let hub = FeedHub::new(4096);
    let mut sub = hub.subscribe();
    let t0 = tokio::time::Instant::now();
    let replay = ReplayHandle::start(
        ReplaySource::Candles {
            series: series.clone(),
            from_ms: None,
            derive: DerivedEvents::default(),
        },
        hub.clone(),
        ReplayOptions {
            speed: Some(3600.0),
            start_paused: false,
        },
    )
    .expect("start");
    // After 11.5 s: the bars closing in the first 11 market hours after the first close.
    tokio::time::sleep(Duration::from_millis(11_500)).await;
    let s = replay.status();
    assert_eq!(s.events, 2 * 12, "{s:?}");
    // Twice as fast from here. Pacing restarts from the market time reached (the bars of
    // hour 11), so the remaining 12 market hours take 6 s: the end is at 11.5 + 6 = 17.5 s.
    replay.set_speed(Some(7200.0)).await.expect("speed");
    let summary = replay.wait().await.expect("ok");
    let elapsed = t0.elapsed();
    assert_eq!(summary.events, 48);
    assert!(
        elapsed >= Duration::from_millis(17_500) && elapsed < Duration::from_millis(17_600),
        "{elapsed:?}"
    );
    // Candles come in close-time order, symbols in name order within a time.
    let got = drain(&mut sub);
    let times: Vec<(i64, String)> = got
        .iter()
        .map(|e| (e.time_ms(), e.symbol().to_string()))
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
    assert_eq!(got.len(), 48);
}

#[tokio::test(start_paused = true)]
async fn candles_step_by_market_time_with_derived_prices() {
    let series = vec![candles("DOGEUSDT", "5m"), candles("PEPEUSDT", "5m")];
    let from = series[0].1[100].open_time_ms;
    let hub = FeedHub::new(4096);
    let mut sub = hub.subscribe();
    let replay = ReplayHandle::start(
        ReplaySource::Candles {
            series: series.clone(),
            from_ms: Some(from),
            derive: DerivedEvents {
                trade: true,
                book_ticker: true,
            },
        },
        hub.clone(),
        paused(Some(1.0)),
    )
    .expect("start");
    // The first step starts at the first bar's close: that bar of each pair.
    let s = replay.step_time(Duration::ZERO).await;
    assert_eq!(s.events, 6, "candle, trade and ticker of two pairs");
    let got = drain(&mut sub);
    let doge = &series[0].1[100];
    assert!(
        matches!(&got[0], MarketEvent::Candle { symbol, candle } if symbol == "DOGEUSDT" && candle == doge)
    );
    assert!(
        matches!(&got[1], MarketEvent::Trade { symbol, price, quantity, time_ms, .. }
        if symbol == "DOGEUSDT" && *price == doge.close && *quantity == doge.volume && *time_ms == doge.close_time_ms())
    );
    assert!(
        matches!(&got[2], MarketEvent::BookTicker { bid, ask, .. } if *bid == doge.close && *ask == doge.close)
    );
    assert_eq!(got[3].symbol(), "PEPEUSDT");
    assert_eq!(s.market_time_ms, Some(doge.close_time_ms()));
    // One market hour: twelve more 5-minute bars of each pair.
    let s = replay.step_time(Duration::from_secs(3600)).await;
    assert_eq!(s.events, 6 + 12 * 6);
    assert_eq!(s.market_time_ms, Some(doge.close_time_ms() + 3_600_000));
    assert_eq!(drain(&mut sub).len(), 12 * 6);
    let s = replay.step_events(4).await;
    assert_eq!(s.events, 6 + 12 * 6 + 4);
    // Stopping ends it; the status says stopped, not finished.
    let summary = replay.stop().await.expect("stop");
    assert_eq!(summary.events, 6 + 12 * 6 + 4);
    assert_eq!(hub.status().state, FeedState::Stopped);
    assert_eq!(hub.status().reason, "replay stopped");
}

#[test]
fn candle_files_become_a_source_and_bad_files_are_refused() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/market/candles");
    let files = vec![
        dir.join("binance_PEPE_USDT-1h.csv.gz"),
        dir.join("binance_DOGE_USDT-1h.csv.gz"),
    ];
    match ReplaySource::candle_files(&files, None, DerivedEvents::default()) {
        Ok(ReplaySource::Candles { series, .. }) => {
            assert_eq!(series[0], candles("PEPEUSDT", "1h"));
            assert_eq!(series[1], candles("DOGEUSDT", "1h"));
        }
        other => panic!("{other:?}"),
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let unnamed = tmp.path().join("bars.csv");
    std::fs::write(
        &unnamed,
        "open_time_ms,open,high,low,close,volume\n0,1,1,1,1,1\n60000,1,1,1,1,1\n",
    )
    .expect("write");
    let bad = tmp.path().join("binance_DOGE_USDT-1h.csv");
    std::fs::write(
        &bad,
        "open_time_ms,open,high,low,close,volume\n0,1,x,1,1,1\n",
    )
    .expect("write");
    for (f, code) in [
        (unnamed, "data_bad_file"),
        (bad, "data_bad_row"),
        (tmp.path().join("missing.csv"), "data_io"),
    ] {
        match ReplaySource::candle_files(std::slice::from_ref(&f), None, DerivedEvents::default()) {
            Err(e) => assert_eq!(e.code(), code, "{f:?}: {e}"),
            Ok(_) => panic!("{f:?} was accepted"),
        }
    }
}

#[test]
fn candle_events_merge_series_by_close_time() {
    // 1h bars of DOGE and 5m bars of PEPE: hourly bars land among the 5-minute ones.
    let (d, dbars) = candles("DOGEUSDT", "1h");
    let (p, pbars) = candles("PEPEUSDT", "5m");
    let from = dbars[10].open_time_ms;
    let events: Vec<(u64, MarketEvent)> = CandleEvents::new(
        vec![(d, dbars[..40].to_vec()), (p, pbars.clone())],
        Some(from),
        DerivedEvents::default(),
    )
    .take(200)
    .collect();
    assert!(events.windows(2).all(|w| w[0].0 <= w[1].0));
    assert!(events
        .iter()
        .all(|(t, e)| *t == e.time_ms() as u64 * 1_000_000 && e.time_ms() > from));
    let dogs = events
        .iter()
        .filter(|(_, e)| e.symbol() == "DOGEUSDT")
        .count();
    assert_eq!(dogs, 200 / 13, "one hourly bar per twelve 5-minute bars");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_sources_and_speeds_are_refused_and_a_broken_capture_fails_clearly() {
    let hub = FeedHub::new(64);
    let missing = ReplayHandle::start(
        ReplaySource::Capture("/nonexistent/capture.gz".into()),
        hub.clone(),
        ReplayOptions::default(),
    );
    assert!(matches!(missing, Err(ReplayError::Capture(_))));
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let r = ReplayHandle::start(ReplaySource::Events(vec![]), hub.clone(), paused(Some(bad)));
        assert!(matches!(r, Err(ReplayError::BadSpeed(_))), "{bad}");
    }
    let r = ReplayHandle::start(ReplaySource::Events(vec![]), hub.clone(), paused(None))
        .expect("start");
    assert!(matches!(
        r.set_speed(Some(-2.0)).await,
        Err(ReplayError::BadSpeed(_))
    ));
    drop(r);

    // A capture damaged in the middle: the events before the damage are published, then the
    // replay fails and says where.
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("broken.txt");
    let f = std::fs::File::open(capture()).expect("capture");
    let text = std::io::read_to_string(flate2::read::MultiGzDecoder::new(f)).expect("read");
    let mut lines: Vec<&str> = text.lines().take(500).collect();
    lines.insert(
        300,
        "1723111111000000000 {\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"trade\"",
    );
    std::fs::write(&path, lines.join("\n")).expect("write");
    let hub = FeedHub::new(4096);
    let replay = ReplayHandle::start(
        ReplaySource::Capture(path),
        hub.clone(),
        ReplayOptions::default(),
    )
    .expect("start");
    let mut status = replay.watch_status();
    let err = tokio::time::timeout(Duration::from_secs(60), replay.wait())
        .await
        .expect("ends")
        .expect_err("the damage is an error");
    assert!(err.to_string().contains(":301:"), "names the line: {err}");
    let s = status.borrow_and_update().clone();
    assert_eq!(s.state, ReplayState::Failed);
    assert!(s.error.as_deref().is_some_and(|e| e.contains(":301:")));
    assert!(s.events > 100, "events before the damage were published");
    assert_eq!(hub.status().state, FeedState::Stopped);
    assert!(hub.status().reason.starts_with("replay failed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_handle_stops_the_replay() {
    let hub = FeedHub::new(64);
    let mut w = hub.watch_status();
    let replay = ReplayHandle::start(
        ReplaySource::Capture(capture()),
        hub.clone(),
        paused(Some(1.0)),
    )
    .expect("start");
    drop(replay);
    let stopped = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if w.borrow_and_update().state == FeedState::Stopped {
                return;
            }
            if w.changed().await.is_err() {
                return;
            }
        }
    })
    .await;
    assert!(stopped.is_ok());
    assert_eq!(hub.status().reason, "replay stopped");
}
