//! `klines` and `kline_ranges`: a cache of exchange candles (chart backfill) for offline use.
//!
//! `klines` holds one row per `(symbol, interval, open_time_ms)`; storing a bar that is already
//! there changes nothing (`ON CONFLICT DO NOTHING`), so a fetch can be repeated safely.
//! `kline_ranges` records which open-time ranges `[from_ms, to_ms)` were fetched completely,
//! so a range the exchange has no bars for (before a listing, a halt) is not asked for again.
//! Ranges of one key are kept merged: no two overlap or touch.
//!
//! A cache, not part of the ledger: rows are not append-only.

use rusqlite::{params, Connection};
use rust_decimal::Decimal;
use serde::Serialize;

use super::{constraint, dec_text, parsed, Migration};
use crate::error::StoreError;

pub(crate) const MIGRATIONS: &[Migration] = &[(
    2,
    "CREATE TABLE klines (
        symbol       TEXT NOT NULL,
        interval     TEXT NOT NULL,
        open_time_ms INTEGER NOT NULL,
        interval_ms  INTEGER NOT NULL CHECK (interval_ms > 0),
        open         TEXT NOT NULL,
        high         TEXT NOT NULL,
        low          TEXT NOT NULL,
        close        TEXT NOT NULL,
        volume       TEXT NOT NULL,
        PRIMARY KEY (symbol, interval, open_time_ms)
    ) WITHOUT ROWID;
    CREATE TABLE kline_ranges (
        symbol     TEXT NOT NULL,
        interval   TEXT NOT NULL,
        from_ms    INTEGER NOT NULL,
        to_ms      INTEGER NOT NULL CHECK (to_ms > from_ms),
        fetched_ms INTEGER NOT NULL
    );
    CREATE INDEX kline_ranges_key ON kline_ranges(symbol, interval, from_ms);",
)];

/// One cached bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KlineRow {
    pub open_time_ms: i64,
    pub interval_ms: i64,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
    pub volume: Decimal,
}

/// Bars fetched for one `(symbol, interval)`, and the open-time range `[from_ms, to_ms)` the
/// fetch covered completely (every bar of it the exchange has is in `rows`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KlineFetch {
    pub symbol: String,
    /// Binance's spelling: `1m`, `5m`, `1h`, …
    pub interval: String,
    pub from_ms: i64,
    pub to_ms: i64,
    /// Wall-clock time of the fetch.
    pub fetched_ms: i64,
    pub rows: Vec<KlineRow>,
}

/// What storing a fetch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KlinesStored {
    /// New bars.
    pub inserted: usize,
    /// Bars that were already cached (left as they were).
    pub already_cached: usize,
}

fn check_key(symbol: &str, interval: &str) -> Result<(), StoreError> {
    if symbol.is_empty() || !symbol.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(StoreError::Invalid(format!(
            "kline symbol {symbol:?} is not a symbol like PEPEUSDT"
        )));
    }
    if interval.is_empty() || !interval.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(StoreError::Invalid(format!(
            "kline interval {interval:?} is not an interval like 5m"
        )));
    }
    Ok(())
}

/// Store a fetch: its bars (existing ones untouched) and its covered range, atomically.
pub(crate) fn store(conn: &Connection, f: &KlineFetch) -> Result<KlinesStored, StoreError> {
    check_key(&f.symbol, &f.interval)?;
    if f.to_ms <= f.from_ms {
        return Err(StoreError::Invalid(format!(
            "kline range [{}, {}) is empty",
            f.from_ms, f.to_ms
        )));
    }
    for r in &f.rows {
        if r.open_time_ms < f.from_ms || r.open_time_ms >= f.to_ms {
            return Err(StoreError::Invalid(format!(
                "{} {} bar at {} is outside the fetched range [{}, {})",
                f.symbol, f.interval, r.open_time_ms, f.from_ms, f.to_ms
            )));
        }
        if r.interval_ms <= 0 {
            return Err(StoreError::Invalid(format!(
                "{} {} bar at {} has interval {} ms",
                f.symbol, f.interval, r.open_time_ms, r.interval_ms
            )));
        }
    }
    let mut inserted = 0;
    {
        let mut stmt = conn.prepare_cached(
            "INSERT INTO klines (symbol, interval, open_time_ms, interval_ms, open, high, low, close, volume)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT(symbol, interval, open_time_ms) DO NOTHING",
        )?;
        for r in &f.rows {
            inserted += stmt
                .execute(params![
                    f.symbol,
                    f.interval,
                    r.open_time_ms,
                    r.interval_ms,
                    dec_text(&r.open),
                    dec_text(&r.high),
                    dec_text(&r.low),
                    dec_text(&r.close),
                    dec_text(&r.volume),
                ])
                .map_err(constraint(|| {
                    format!("{} {} bar at {}", f.symbol, f.interval, r.open_time_ms)
                }))?;
        }
    }
    add_range(
        conn,
        &f.symbol,
        &f.interval,
        f.from_ms,
        f.to_ms,
        f.fetched_ms,
    )?;
    Ok(KlinesStored {
        inserted,
        already_cached: f.rows.len() - inserted,
    })
}

/// Record `[from, to)` as covered, merged with the ranges it overlaps or touches.
fn add_range(
    conn: &Connection,
    symbol: &str,
    interval: &str,
    from: i64,
    to: i64,
    fetched_ms: i64,
) -> Result<(), StoreError> {
    let (lo, hi): (Option<i64>, Option<i64>) = conn
        .prepare_cached(
            "SELECT MIN(from_ms), MAX(to_ms) FROM kline_ranges
             WHERE symbol = ?1 AND interval = ?2 AND from_ms <= ?4 AND to_ms >= ?3",
        )?
        .query_row(params![symbol, interval, from, to], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let (from, to) = (
        lo.map_or(from, |l| l.min(from)),
        hi.map_or(to, |h| h.max(to)),
    );
    conn.prepare_cached(
        "DELETE FROM kline_ranges
         WHERE symbol = ?1 AND interval = ?2 AND from_ms <= ?4 AND to_ms >= ?3",
    )?
    .execute(params![symbol, interval, from, to])?;
    conn.prepare_cached(
        "INSERT INTO kline_ranges (symbol, interval, from_ms, to_ms, fetched_ms)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![symbol, interval, from, to, fetched_ms])?;
    Ok(())
}

/// Cached bars with `from_ms <= open_time_ms < to_ms`, oldest first.
pub(crate) fn range(
    conn: &Connection,
    symbol: &str,
    interval: &str,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<KlineRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT open_time_ms, interval_ms, open, high, low, close, volume FROM klines
         WHERE symbol = ?1 AND interval = ?2 AND open_time_ms >= ?3 AND open_time_ms < ?4
         ORDER BY open_time_ms",
    )?;
    super::collect(&mut stmt, params![symbol, interval, from_ms, to_ms], |r| {
        Ok(KlineRow {
            open_time_ms: r.get(0)?,
            interval_ms: r.get(1)?,
            open: parsed(r, 2, "klines")?,
            high: parsed(r, 3, "klines")?,
            low: parsed(r, 4, "klines")?,
            close: parsed(r, 5, "klines")?,
            volume: parsed(r, 6, "klines")?,
        })
    })
}

/// The covered ranges of a key, as `(from_ms, to_ms)`, sorted and disjoint.
pub(crate) fn ranges(
    conn: &Connection,
    symbol: &str,
    interval: &str,
) -> Result<Vec<(i64, i64)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT from_ms, to_ms FROM kline_ranges WHERE symbol = ?1 AND interval = ?2
         ORDER BY from_ms",
    )?;
    super::collect(&mut stmt, params![symbol, interval], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
}
