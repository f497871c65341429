//! `exchange_info`: Binance `exchangeInfo` responses (the trading rules), stored raw, one row
//! per successful fetch, so the app can trade offline with the newest rules it has seen.
//!
//! A cache, not part of the ledger: rows are not append-only. Only the newest
//! [`KEEP_SNAPSHOTS`] fetches are kept.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use super::{constraint, Migration};
use crate::error::StoreError;

pub(crate) const MIGRATIONS: &[Migration] = &[(
    2,
    "CREATE TABLE exchange_info (
        id         INTEGER PRIMARY KEY,
        fetched_ms INTEGER NOT NULL,
        source     TEXT NOT NULL,
        symbols    TEXT NOT NULL,
        json       TEXT NOT NULL CHECK (json_valid(json))
    );
    CREATE INDEX exchange_info_fetched ON exchange_info(fetched_ms, id);",
)];

/// How many fetched snapshots are kept (older ones are deleted on insert).
pub const KEEP_SNAPSHOTS: usize = 10;

/// A fetched `exchangeInfo` response to cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewExchangeInfo {
    /// Wall-clock time of the fetch, ms since the epoch.
    pub fetched_ms: i64,
    /// Where it came from (the REST base URL).
    pub source: String,
    /// The symbols the response holds.
    pub symbols: Vec<String>,
    /// The response body, exactly as received.
    pub json: String,
}

/// A cached `exchangeInfo` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExchangeInfoRow {
    pub id: i64,
    pub fetched_ms: i64,
    pub source: String,
    pub symbols: Vec<String>,
    pub json: String,
}

fn from_row(r: &Row<'_>) -> Result<ExchangeInfoRow, StoreError> {
    let symbols: String = r.get(3)?;
    Ok(ExchangeInfoRow {
        id: r.get(0)?,
        fetched_ms: r.get(1)?,
        source: r.get(2)?,
        symbols: symbols
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        json: r.get(4)?,
    })
}

pub(crate) fn insert(
    conn: &Connection,
    e: &NewExchangeInfo,
) -> Result<ExchangeInfoRow, StoreError> {
    if e.json.trim().is_empty() {
        return Err(StoreError::Invalid("exchangeInfo body is empty".into()));
    }
    if let Some(bad) = e
        .symbols
        .iter()
        .find(|s| s.is_empty() || !s.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        return Err(StoreError::Invalid(format!(
            "exchangeInfo symbol {bad:?} is not a symbol like PEPEUSDT"
        )));
    }
    conn.prepare_cached(
        "INSERT INTO exchange_info (fetched_ms, source, symbols, json) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![e.fetched_ms, e.source, e.symbols.join(","), e.json])
    .map_err(constraint(|| {
        "exchangeInfo snapshot (the body must be valid JSON)".to_string()
    }))?;
    let id = conn.last_insert_rowid();
    conn.prepare_cached(
        "DELETE FROM exchange_info WHERE id NOT IN
           (SELECT id FROM exchange_info ORDER BY fetched_ms DESC, id DESC LIMIT ?1)",
    )?
    .execute([KEEP_SNAPSHOTS as i64])?;
    Ok(ExchangeInfoRow {
        id,
        fetched_ms: e.fetched_ms,
        source: e.source.clone(),
        symbols: e.symbols.clone(),
        json: e.json.clone(),
    })
}

/// The newest fetch (by fetch time, then insertion order).
pub(crate) fn latest(conn: &Connection) -> Result<Option<ExchangeInfoRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, fetched_ms, source, symbols, json FROM exchange_info
         ORDER BY fetched_ms DESC, id DESC LIMIT 1",
    )?;
    let row = stmt
        .query_row([], |r| Ok(from_row(r)))
        .optional()?
        .transpose()?;
    Ok(row)
}

/// How many snapshots are cached.
pub(crate) fn count(conn: &Connection) -> Result<u64, StoreError> {
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM exchange_info", [], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Ledger, NewAccount};
    use rust_decimal::Decimal;

    /// A database written by the previous version (schema 1: the ledger only) opens, gains the
    /// cache tables in one migration step, and keeps everything it had.
    #[test]
    fn a_version_1_database_is_migrated_and_keeps_its_data() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::io("tmp", e))?;
        let path = dir.path().join("old.sqlite");
        {
            let conn = Connection::open(&path)?;
            let tx = conn.unchecked_transaction()?;
            for (v, _, sql) in super::super::all_migrations() {
                if v == 1 {
                    tx.execute_batch(sql)?;
                }
            }
            tx.pragma_update(None, "user_version", 1)?;
            tx.execute(
                "INSERT INTO accounts (id, name, quote_asset, created_ms, maker_fee_bps, taker_fee_bps, initial_cash)
                 VALUES (1, 'old', 'USDT', 5, '10', '10', '1000')",
                [],
            )?;
            tx.execute(
                "INSERT INTO balance_changes (account_id, asset, free_delta, locked_delta, reason, time_ms)
                 VALUES (1, 'USDT', '1000', '0', 'deposit', 5)",
                [],
            )?;
            tx.execute("INSERT INTO meta (key, value) VALUES ('k', 'v')", [])?;
            tx.commit()?;
        }
        assert!(crate::supported_schema_version() >= 2);
        let ledger = Ledger::open(&path)?;
        let account = ledger.active_account().wait()?;
        assert_eq!(account.map(|a| a.name), Some("old".to_string()));
        assert_eq!(ledger.meta("k").wait()?, Some("v".to_string()));
        assert!(ledger.verify(None).wait()?.ok);
        // The new tables work.
        assert_eq!(ledger.latest_exchange_info().wait()?, None);
        ledger
            .store_exchange_info(NewExchangeInfo {
                fetched_ms: 7,
                source: "http://127.0.0.1".into(),
                symbols: vec!["DOGEUSDT".into()],
                json: "{\"symbols\":[]}".into(),
            })
            .wait()?;
        ledger
            .create_account(NewAccount {
                name: "new".into(),
                quote_asset: "USDT".into(),
                created_ms: 9,
                maker_fee_bps: Decimal::TEN,
                taker_fee_bps: Decimal::TEN,
                initial_cash: Decimal::ONE_HUNDRED,
            })
            .wait()?;
        ledger.close()?;
        let raw = Connection::open(&path)?;
        let v: i64 = raw.pragma_query_value(None, "user_version", |r| r.get(0))?;
        assert_eq!(v, i64::from(crate::supported_schema_version()));
        let n: i64 = raw.query_row("SELECT COUNT(*) FROM exchange_info", [], |r| r.get(0))?;
        assert_eq!(n, 1);
        Ok(())
    }
}
