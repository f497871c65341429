//! The exchange-data caches against the local Binance-protocol server (127.0.0.1 only): the
//! trading rules (`exchangeInfo`, served from the real bundled snapshot) and chart candles
//! (`klines`, served from the real bundled candle files). What a user would notice: a refresh
//! is used from then on, also offline; a second look at the same candles needs no network;
//! holes are filled by asking only for them; a bad response changes nothing.

#[path = "../../market/tests/support/mock.rs"]
mod mock;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use mock::{start, Knobs, Mock};
use papermemes_app::chart::{candles, candles_at};
use papermemes_app::instruments::{
    app_symbols, current_instruments, refresh_instruments, InstrumentsSource,
};
use papermemes_app::settings::Settings;
use papermemes_app::trading::Trading;
use papermemes_app::AppError;
use papermemes_core::event::Candle;
use papermemes_store::Ledger;
use rust_decimal_macros::dec;

const H: i64 = 3_600_000;
/// 2024-03-01 00:00 UTC, inside the bundled candles.
const T0: i64 = 1_709_251_200_000;

async fn server() -> (Arc<Mock>, String) {
    let m = Mock::new(10, Knobs::default());
    let addr = start(m.clone()).await;
    (m, format!("http://{addr}"))
}

fn code(r: Result<impl std::fmt::Debug, AppError>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.code(),
    }
}

/// The bundled snapshot in the exchange's shape with DOGEUSDT's lot size changed.
fn info_with_doge_step(step: &str) -> String {
    let text = std::fs::read_to_string(mock::INSTRUMENTS).expect("instruments.json");
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("json");
    v.as_object_mut().expect("object").remove("x_papermemes");
    for s in v["symbols"].as_array_mut().expect("symbols") {
        s.as_object_mut().expect("symbol").remove("x_papermemes");
        if s["symbol"] == "DOGEUSDT" {
            for f in s["filters"].as_array_mut().expect("filters") {
                if f["filterType"] == "LOT_SIZE" {
                    f["stepSize"] = step.into();
                    f["minQty"] = step.into();
                }
            }
        }
    }
    v.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_is_cached_used_by_trading_and_survives_going_offline() -> Result<(), AppError> {
    let (m, base) = server().await;
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("papermemes.sqlite");
    let ledger = Ledger::open(&db)?;
    let symbols = app_symbols(&Settings::default());
    assert!(matches!(
        current_instruments(&ledger)?.source,
        InstrumentsSource::Bundled { .. }
    ));

    // The exchange serves the same rules as the bundled snapshot: stored, nothing changed.
    let s = refresh_instruments(&base, &ledger, &symbols).await?;
    assert_eq!(s.symbols.len(), 8);
    assert!(s.changed.is_empty(), "{:?}", s.changed);
    assert_eq!(m.exchange_info_requests.load(Ordering::SeqCst), 1);
    let c = current_instruments(&ledger)?;
    match &c.source {
        InstrumentsSource::Fetched {
            rest_base,
            from_bundled,
            fetched_ms,
        } => {
            assert_eq!(rest_base, &base);
            assert!(from_bundled.is_empty());
            assert_eq!(*fetched_ms, s.fetched_ms);
        }
        other => panic!("expected fetched, got {other:?}"),
    }
    assert!(c
        .describe()
        .starts_with(&format!("fetched from {base} at 20")));
    // Real values, not estimates: the fetched rules carry no "estimated" notes.
    assert!(c
        .instruments
        .by_symbol
        .values()
        .all(|i| i.estimated.is_empty()));

    // The exchange changes DOGE's lot size: the refresh says so and trading uses it.
    m.knobs
        .lock()
        .expect("lock")
        .exchange_info_responses
        .push_back((200, info_with_doge_step("0.10000000")));
    let s = refresh_instruments(&base, &ledger, &symbols).await?;
    assert_eq!(s.changed, vec!["DOGEUSDT".to_string()]);
    let c = current_instruments(&ledger)?;
    assert_eq!(
        c.instruments.get("DOGEUSDT").map(|i| i.step()).ok(),
        Some(dec!(0.1))
    );
    ledger.close()?;

    // Offline, in a new process: the cached rules are the ones in use.
    let ledger = Ledger::open(&db)?;
    let c = current_instruments(&ledger)?;
    assert!(matches!(c.source, InstrumentsSource::Fetched { .. }));
    let t = Trading::open(ledger.clone(), c.instruments, Settings::default())?;
    assert_eq!(
        t.exchange()
            .instruments()
            .get("DOGEUSDT")
            .map(|i| i.step())
            .ok(),
        Some(dec!(0.1))
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_exchange_info_response_leaves_the_cache_unchanged() -> Result<(), AppError> {
    let (m, base) = server().await;
    let ledger = Ledger::open_in_memory()?;
    let symbols = app_symbols(&Settings::default());
    refresh_instruments(&base, &ledger, &symbols).await?;
    let before = ledger.latest_exchange_info().wait()?;
    let only_btc = {
        let mut v: serde_json::Value =
            serde_json::from_str(&info_with_doge_step("1.00000000")).expect("json");
        let keep: Vec<serde_json::Value> = v["symbols"]
            .as_array()
            .expect("symbols")
            .iter()
            .filter(|s| s["symbol"] == "BTCUSDT")
            .cloned()
            .collect();
        v["symbols"] = keep.into();
        v.to_string()
    };
    let bad_tick = info_with_doge_step("1.00000000")
        .replace("\"tickSize\":\"0.00001000\"", "\"tickSize\":\"abc\"");
    assert_ne!(
        bad_tick,
        info_with_doge_step("1.00000000"),
        "the setup changed a tick size"
    );
    let cases: Vec<((u16, String), &str)> = vec![
        (
            (200, "{\"symbols\":[{\"symbol\":\"DOGE".into()),
            "rest.decode",
        ),
        ((200, "<html>maintenance</html>".into()), "rest.decode"),
        ((200, "{\"timezone\":\"UTC\"}".into()), "rest.decode"),
        ((200, bad_tick), "rest.decode"),
        ((200, only_btc), "instruments.bad_response"),
        (
            (429, "{\"code\":-1003,\"msg\":\"Too many requests\"}".into()),
            "rest.rate_limited",
        ),
        ((500, "oops".into()), "rest.status"),
    ];
    for ((status, body), want) in cases {
        m.knobs
            .lock()
            .expect("lock")
            .exchange_info_responses
            .push_back((status, body.clone()));
        let got = code(refresh_instruments(&base, &ledger, &symbols).await);
        assert_eq!(got, want, "HTTP {status} {body:.60}");
        assert_eq!(
            ledger.latest_exchange_info().wait()?,
            before,
            "cache unchanged"
        );
        assert_eq!(ledger.exchange_info_count().wait()?, 1);
    }
    // Nobody listening there.
    assert_eq!(
        code(refresh_instruments("http://127.0.0.1:9", &ledger, &symbols).await),
        "rest.unreachable"
    );
    // A symbol the exchange does not list: its own error (HTTP 400 -1121), cache unchanged.
    let mut with_unknown = symbols.clone();
    with_unknown.push("NOSUCHUSDT".into());
    assert_eq!(
        code(refresh_instruments(&base, &ledger, &with_unknown).await),
        "rest.status"
    );
    assert_eq!(
        code(refresh_instruments(&base, &ledger, &["DOGE/USDT".to_string()]).await),
        "instruments.symbols"
    );
    assert_eq!(ledger.latest_exchange_info().wait()?, before);
    Ok(())
}

fn real(m: &Mock, symbol: &str, interval: &str, from: i64, to: i64) -> Vec<Candle> {
    m.bundled_candles(symbol, interval)
        .expect("bundled candles")
        .into_iter()
        .filter(|c| c.open_time_ms >= from && c.open_time_ms < to)
        .collect()
}

fn klines_requests(m: &Mock) -> Vec<String> {
    m.klines_requests.lock().expect("lock").clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candles_are_fetched_once_then_served_from_the_cache() -> Result<(), AppError> {
    let (m, base) = server().await;
    let ledger = Ledger::open_in_memory()?;
    let (from, to) = (T0, T0 + 48 * H);
    let first = candles(&ledger, Some(&base), "DOGEUSDT", "1h", from, to).await?;
    assert_eq!(first.candles, real(&m, "DOGEUSDT", "1h", from, to));
    assert_eq!(first.candles.len(), 48);
    assert_eq!((first.requests, first.cached_now), (1, 48));
    assert!(first.missing.is_empty());
    assert_eq!(klines_requests(&m).len(), 1);

    // Again: no request at all, the same bars.
    let again = candles(&ledger, Some(&base), "DOGEUSDT", "1h", from, to).await?;
    assert_eq!(
        klines_requests(&m).len(),
        1,
        "the second call hit no network"
    );
    assert_eq!((again.requests, again.cached_now), (0, 0));
    assert_eq!(again.candles, first.candles);
    // Offline: the same.
    let offline = candles(&ledger, None, "DOGEUSDT", "1h", from + 10 * H, to).await?;
    assert_eq!(offline.candles, first.candles[10..].to_vec());
    assert!(offline.missing.is_empty());

    // Paging: 2500 five-minute bars take three requests of at most 1000.
    let (from, to) = (T0, T0 + 2500 * 300_000);
    let paged = candles(&ledger, Some(&base), "PEPEUSDT", "5m", from, to).await?;
    assert_eq!(paged.requests, 3);
    assert_eq!(paged.candles.len(), 2500);
    assert_eq!(paged.candles, real(&m, "PEPEUSDT", "5m", from, to));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holes_in_the_cache_are_filled_by_asking_only_for_them() -> Result<(), AppError> {
    let (m, base) = server().await;
    let ledger = Ledger::open_in_memory()?;
    candles(&ledger, Some(&base), "BTCUSDT", "1h", T0, T0 + 10 * H).await?;
    candles(
        &ledger,
        Some(&base),
        "BTCUSDT",
        "1h",
        T0 + 20 * H,
        T0 + 30 * H,
    )
    .await?;
    // Offline, the holes are listed.
    let offline = candles(&ledger, None, "BTCUSDT", "1h", T0, T0 + 40 * H).await?;
    assert_eq!(offline.candles.len(), 20);
    assert_eq!(
        offline.missing,
        vec![(T0 + 10 * H, T0 + 20 * H), (T0 + 30 * H, T0 + 40 * H)]
    );
    let before = klines_requests(&m).len();
    let all = candles(&ledger, Some(&base), "BTCUSDT", "1h", T0, T0 + 40 * H).await?;
    let asked = klines_requests(&m)[before..].to_vec();
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert!(
        asked[0].contains(&format!(
            "startTime={}&endTime={}",
            T0 + 10 * H,
            T0 + 20 * H - 1
        )),
        "{asked:?}"
    );
    assert!(
        asked[1].contains(&format!(
            "startTime={}&endTime={}",
            T0 + 30 * H,
            T0 + 40 * H - 1
        )),
        "{asked:?}"
    );
    assert_eq!(all.candles, real(&m, "BTCUSDT", "1h", T0, T0 + 40 * H));
    assert_eq!(all.cached_now, 20);
    assert!(all.missing.is_empty());
    assert_eq!(
        ledger.kline_ranges("BTCUSDT", "1h").wait()?,
        vec![(T0, T0 + 40 * H)],
        "the covered ranges merged into one"
    );
    Ok(())
}

/// Bars in the exchange's row shape (as the mock writes them).
fn rows_json(bars: &[Candle]) -> String {
    let rows: Vec<String> = bars
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
    format!("[{}]", rows.join(","))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_klines_responses_leave_the_cache_unchanged() -> Result<(), AppError> {
    let (m, base) = server().await;
    let ledger = Ledger::open_in_memory()?;
    let (from, to) = (T0, T0 + 24 * H);
    let good = real(&m, "DOGEUSDT", "1h", from, to);
    let mut high_below_low = good.clone();
    high_below_low[5].high = high_below_low[5].low - dec!(0.00001);
    let mut shuffled = good.clone();
    shuffled.swap(3, 4);
    let elsewhere = real(&m, "DOGEUSDT", "1h", to, to + 24 * H);
    let five_minute = real(&m, "DOGEUSDT", "5m", from, from + 24 * 300_000);
    let cases: Vec<(u16, String)> = vec![
        (200, "[[1709251200000,\"0.1\"".into()),
        (200, "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}".into()),
        (
            200,
            "[[1709251200000,\"0.1\",\"x\",\"0.1\",\"0.1\",\"5\",1709254799999]]".into(),
        ),
        (200, rows_json(&high_below_low)),
        (200, rows_json(&shuffled)),
        (200, rows_json(&elsewhere)),
        (200, rows_json(&five_minute)),
        (500, "oops".into()),
        (418, "{\"code\":-1003,\"msg\":\"banned\"}".into()),
    ];
    for (status, body) in cases {
        m.knobs
            .lock()
            .expect("lock")
            .klines_responses
            .push_back((status, body.clone()));
        let r = candles(&ledger, Some(&base), "DOGEUSDT", "1h", from, to).await;
        assert!(r.is_err(), "HTTP {status} {body:.80} was accepted");
        assert!(ledger
            .klines("DOGEUSDT", "1h", 0, i64::MAX)
            .wait()?
            .is_empty());
        assert!(ledger.kline_ranges("DOGEUSDT", "1h").wait()?.is_empty());
    }
    // A good first page and a bad second one: nothing of either is kept.
    let (from5, to5) = (T0, T0 + 1500 * 300_000);
    let page1 = real(&m, "PEPEUSDT", "5m", from5, from5 + 1000 * 300_000);
    {
        let mut k = m.knobs.lock().expect("lock");
        k.klines_responses.push_back((200, rows_json(&page1)));
        k.klines_responses.push_back((200, "[[oops".into()));
    }
    let e = candles(&ledger, Some(&base), "PEPEUSDT", "5m", from5, to5).await;
    assert_eq!(code(e), "rest.decode");
    assert!(ledger.kline_ranges("PEPEUSDT", "5m").wait()?.is_empty());
    assert!(ledger
        .klines("PEPEUSDT", "5m", 0, i64::MAX)
        .wait()?
        .is_empty());
    // And then the real exchange answer is taken.
    let ok = candles(&ledger, Some(&base), "DOGEUSDT", "1h", from, to).await?;
    assert_eq!(ok.candles, good);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bars_still_open_are_shown_but_not_cached_and_bad_requests_are_refused(
) -> Result<(), AppError> {
    let (m, base) = server().await;
    let ledger = Ledger::open_in_memory()?;
    // "Now" is 5.5 hours into the range: bars opening from hour 5 on may still change.
    let now = T0 + 5 * H + H / 2;
    let r = candles_at(
        &ledger,
        Some(&base),
        "FLOKIUSDT",
        "1h",
        T0,
        T0 + 10 * H,
        now,
    )
    .await?;
    assert_eq!(r.candles, real(&m, "FLOKIUSDT", "1h", T0, T0 + 10 * H));
    assert_eq!(r.candles.len(), 10);
    assert_eq!(r.cached_now, 5);
    assert_eq!(r.missing, vec![(T0 + 5 * H, T0 + 10 * H)]);
    assert_eq!(
        ledger.kline_ranges("FLOKIUSDT", "1h").wait()?,
        vec![(T0, T0 + 5 * H)]
    );
    // WIFUSDT was listed after T0 (its bundled bars start later): the exchange has no bars
    // there. The empty answer is remembered, so asking again needs no request.
    let r = candles(&ledger, Some(&base), "WIFUSDT", "1h", T0, T0 + 24 * H).await?;
    assert!(r.candles.is_empty());
    assert_eq!(r.requests, 1);
    let n = klines_requests(&m).len();
    let r = candles(&ledger, Some(&base), "WIFUSDT", "1h", T0, T0 + 24 * H).await?;
    assert!(r.candles.is_empty() && r.missing.is_empty());
    assert_eq!((r.requests, klines_requests(&m).len()), (0, n));
    // Offline with nothing cached: nothing, and the whole range is missing.
    let r = candles(&ledger, None, "BONKUSDT", "1h", T0, T0 + H).await?;
    assert!(r.candles.is_empty());
    assert_eq!(r.missing, vec![(T0, T0 + H)]);
    // Refused before any request.
    let n = klines_requests(&m).len();
    assert_eq!(
        code(candles(&ledger, Some(&base), "DOGEUSDT", "7m", T0, T0 + H).await),
        "candles.interval"
    );
    assert_eq!(
        code(candles(&ledger, Some(&base), "DOGEUSDT", "1M", T0, T0 + H).await),
        "candles.interval"
    );
    assert_eq!(
        code(candles(&ledger, Some(&base), "DOGEUSDT", "1h", T0, T0).await),
        "candles.range"
    );
    assert_eq!(
        code(candles(&ledger, Some(&base), "DOGE USDT", "1h", T0, T0 + H).await),
        "candles.symbol"
    );
    assert_eq!(
        code(candles(&ledger, Some(&base), "DOGEUSDT", "1s", 0, T0).await),
        "candles.range"
    );
    assert_eq!(klines_requests(&m).len(), n);
    Ok(())
}
