//! The exchange-data caches: `exchangeInfo` snapshots and klines (candles with the ranges
//! fetched). Both survive a reopen; bad input is refused and changes nothing.

use papermemes_store::{KlineFetch, KlineRow, Ledger, NewExchangeInfo, StoreError};
use rust_decimal::Decimal;

fn info(fetched_ms: i64, json: &str) -> NewExchangeInfo {
    NewExchangeInfo {
        fetched_ms,
        source: "http://127.0.0.1:1".into(),
        symbols: vec!["DOGEUSDT".into(), "PEPEUSDT".into()],
        json: json.into(),
    }
}

fn bar(t: i64, close: i64) -> KlineRow {
    KlineRow {
        open_time_ms: t,
        interval_ms: 60_000,
        open: Decimal::from(close - 1),
        high: Decimal::from(close + 1),
        low: Decimal::from(close - 2),
        close: Decimal::from(close),
        volume: Decimal::new(12345, 3),
    }
}

fn fetch(from: i64, to: i64, rows: Vec<KlineRow>) -> KlineFetch {
    KlineFetch {
        symbol: "PEPEUSDT".into(),
        interval: "1m".into(),
        from_ms: from,
        to_ms: to,
        fetched_ms: 1,
        rows,
    }
}

#[test]
fn exchange_info_keeps_the_newest_fetches_and_survives_reopen() -> Result<(), StoreError> {
    let dir = tempfile::tempdir().map_err(|e| StoreError::Invalid(e.to_string()))?;
    let path = dir.path().join("db.sqlite");
    let ledger = Ledger::open(&path)?;
    assert_eq!(ledger.latest_exchange_info().wait()?, None);
    for i in 0..15 {
        ledger
            .store_exchange_info(info(1000 + i, &format!("{{\"n\":{i}}}")))
            .wait()?;
    }
    // An older fetch stored later does not become "the latest".
    ledger
        .store_exchange_info(info(5, "{\"n\":\"old\"}"))
        .wait()?;
    let latest = ledger.latest_exchange_info().wait()?;
    assert_eq!(latest.as_ref().map(|r| r.json.as_str()), Some("{\"n\":14}"));
    assert_eq!(
        latest.map(|r| r.symbols),
        Some(vec!["DOGEUSDT".to_string(), "PEPEUSDT".to_string()])
    );
    assert_eq!(
        ledger.exchange_info_count().wait()?,
        papermemes_store::KEEP_SNAPSHOTS as u64
    );
    ledger.close()?;
    let ledger = Ledger::open(&path)?;
    let latest = ledger.latest_exchange_info().wait()?;
    assert_eq!(latest.map(|r| r.fetched_ms), Some(1014));
    Ok(())
}

#[test]
fn bad_exchange_info_is_refused_and_changes_nothing() -> Result<(), StoreError> {
    let ledger = Ledger::open_in_memory()?;
    ledger
        .store_exchange_info(info(1, "{\"ok\":true}"))
        .wait()?;
    for bad in ["", "{\"truncated\":", "not json"] {
        match ledger.store_exchange_info(info(2, bad)).wait() {
            Err(StoreError::Invalid(_)) => {}
            other => panic!("{bad:?}: expected Invalid, got {other:?}"),
        }
    }
    let mut bad_symbol = info(3, "{}");
    bad_symbol.symbols = vec!["DOGE USDT".into()];
    assert!(matches!(
        ledger.store_exchange_info(bad_symbol).wait(),
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(ledger.exchange_info_count().wait()?, 1);
    let latest = ledger.latest_exchange_info().wait()?;
    assert_eq!(latest.map(|r| r.json), Some("{\"ok\":true}".to_string()));
    Ok(())
}

#[test]
fn klines_are_upserted_idempotently_and_ranges_merge() -> Result<(), StoreError> {
    let ledger = Ledger::open_in_memory()?;
    let m = 60_000;
    let s = ledger
        .store_klines(fetch(
            0,
            3 * m,
            vec![bar(0, 10), bar(m, 11), bar(2 * m, 12)],
        ))
        .wait()?;
    assert_eq!((s.inserted, s.already_cached), (3, 0));
    // The same bars again (even with other values) change nothing: the first fetch stays.
    let s = ledger
        .store_klines(fetch(m, 3 * m, vec![bar(m, 99), bar(2 * m, 99)]))
        .wait()?;
    assert_eq!((s.inserted, s.already_cached), (0, 2));
    let rows = ledger.klines("PEPEUSDT", "1m", 0, 10 * m).wait()?;
    assert_eq!(
        rows.iter().map(|r| r.close).collect::<Vec<_>>(),
        vec![Decimal::from(10), Decimal::from(11), Decimal::from(12)]
    );
    assert_eq!(rows[0], bar(0, 10), "decimals come back exactly");
    // A disjoint range, then one that bridges the gap: ranges merge.
    ledger
        .store_klines(fetch(5 * m, 6 * m, vec![bar(5 * m, 15)]))
        .wait()?;
    assert_eq!(
        ledger.kline_ranges("PEPEUSDT", "1m").wait()?,
        vec![(0, 3 * m), (5 * m, 6 * m)]
    );
    // An empty range (no bars there) is still remembered as fetched.
    ledger.store_klines(fetch(3 * m, 5 * m, vec![])).wait()?;
    assert_eq!(
        ledger.kline_ranges("PEPEUSDT", "1m").wait()?,
        vec![(0, 6 * m)]
    );
    // Other keys are separate.
    assert!(ledger
        .klines("PEPEUSDT", "5m", 0, 10 * m)
        .wait()?
        .is_empty());
    assert!(ledger.kline_ranges("DOGEUSDT", "1m").wait()?.is_empty());
    // Half-open query bounds.
    assert_eq!(ledger.klines("PEPEUSDT", "1m", m, 2 * m).wait()?.len(), 1);
    Ok(())
}

#[test]
fn bad_kline_fetches_change_nothing() -> Result<(), StoreError> {
    let ledger = Ledger::open_in_memory()?;
    let m = 60_000;
    ledger.store_klines(fetch(0, m, vec![bar(0, 10)])).wait()?;
    let mut bad_symbol = fetch(m, 2 * m, vec![bar(m, 1)]);
    bad_symbol.symbol = "PEPE'; DROP".into();
    let outside = fetch(m, 2 * m, vec![bar(m, 1), bar(2 * m, 2)]);
    let empty = fetch(2 * m, 2 * m, vec![]);
    let mut zero_interval = fetch(m, 2 * m, vec![bar(m, 1)]);
    zero_interval.rows[0].interval_ms = 0;
    for f in [bad_symbol, outside, empty, zero_interval] {
        match ledger.store_klines(f.clone()).wait() {
            Err(StoreError::Invalid(_)) => {}
            other => panic!("{f:?}: expected Invalid, got {other:?}"),
        }
    }
    assert_eq!(ledger.klines("PEPEUSDT", "1m", 0, 10 * m).wait()?.len(), 1);
    assert_eq!(ledger.kline_ranges("PEPEUSDT", "1m").wait()?, vec![(0, m)]);
    Ok(())
}
