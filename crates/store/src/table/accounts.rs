//! `accounts`: one row per (paper) account. An account reset creates a new
//! account; the active account is the one with the highest id.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{dec_text, parsed, Migration};
use crate::error::StoreError;
use crate::types::{AccountRow, NewAccount};

pub(crate) const MIGRATIONS: &[Migration] = &[(
    1,
    "CREATE TABLE accounts (
        id            INTEGER PRIMARY KEY,
        name          TEXT NOT NULL,
        quote_asset   TEXT NOT NULL,
        created_ms    INTEGER NOT NULL,
        maker_fee_bps TEXT NOT NULL,
        taker_fee_bps TEXT NOT NULL,
        initial_cash  TEXT NOT NULL
    );
    CREATE TRIGGER accounts_append_only_u BEFORE UPDATE ON accounts
        BEGIN SELECT RAISE(ABORT, 'accounts is append-only'); END;
    CREATE TRIGGER accounts_append_only_d BEFORE DELETE ON accounts
        BEGIN SELECT RAISE(ABORT, 'accounts is append-only'); END;",
)];

const COLUMNS: &str =
    "id, name, quote_asset, created_ms, maker_fee_bps, taker_fee_bps, initial_cash";

fn from_row(row: &Row<'_>) -> Result<AccountRow, StoreError> {
    Ok(AccountRow {
        id: row.get(0)?,
        name: row.get(1)?,
        quote_asset: row.get(2)?,
        created_ms: row.get(3)?,
        maker_fee_bps: parsed(row, 4, "accounts")?,
        taker_fee_bps: parsed(row, 5, "accounts")?,
        initial_cash: parsed(row, 6, "accounts")?,
    })
}

/// Insert an account; the caller writes the initial deposit.
pub(crate) fn insert(conn: &Connection, a: &NewAccount) -> Result<AccountRow, StoreError> {
    if a.name.trim().is_empty() {
        return Err(StoreError::Invalid("account name is empty".into()));
    }
    if a.quote_asset.trim().is_empty() {
        return Err(StoreError::Invalid("account quote asset is empty".into()));
    }
    if a.initial_cash.is_sign_negative() && !a.initial_cash.is_zero() {
        return Err(StoreError::Invalid(format!(
            "account initial cash {} is negative",
            a.initial_cash
        )));
    }
    conn.prepare_cached(
        "INSERT INTO accounts (name, quote_asset, created_ms, maker_fee_bps, taker_fee_bps, initial_cash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        a.name,
        a.quote_asset,
        a.created_ms,
        dec_text(&a.maker_fee_bps),
        dec_text(&a.taker_fee_bps),
        dec_text(&a.initial_cash),
    ])?;
    Ok(AccountRow {
        id: conn.last_insert_rowid(),
        name: a.name.clone(),
        quote_asset: a.quote_asset.clone(),
        created_ms: a.created_ms,
        maker_fee_bps: a.maker_fee_bps,
        taker_fee_bps: a.taker_fee_bps,
        initial_cash: a.initial_cash,
    })
}

pub(crate) fn get(conn: &Connection, id: i64) -> Result<Option<AccountRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM accounts WHERE id = ?1"))?;
    let mut rows = stmt.query([id])?;
    rows.next()?.map(from_row).transpose()
}

pub(crate) fn exists(conn: &Connection, id: i64) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM accounts WHERE id = ?1")?
        .query_row([id], |_| Ok(()))
        .optional()?
        .is_some())
}

pub(crate) fn active(conn: &Connection) -> Result<Option<AccountRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM accounts ORDER BY id DESC LIMIT 1"
    ))?;
    let mut rows = stmt.query([])?;
    rows.next()?.map(from_row).transpose()
}

pub(crate) fn all(conn: &Connection) -> Result<Vec<AccountRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM accounts ORDER BY id"))?;
    super::collect(&mut stmt, [], from_row)
}
