//! `balance_changes`: every change of an account's free/locked balance. The
//! balances are never stored; they are the Decimal sums of these rows.

use std::collections::BTreeMap;

use rusqlite::{params, Connection, Row};
use rust_decimal::Decimal;

use super::{add, constraint, dec_text, parsed, Migration};
use crate::error::StoreError;
use crate::types::{BalanceChangeRow, BalanceRow, NewBalanceChange};

pub(crate) const MIGRATIONS: &[Migration] = &[(
    1,
    "CREATE TABLE balance_changes (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        account_id   INTEGER NOT NULL REFERENCES accounts(id),
        asset        TEXT NOT NULL,
        free_delta   TEXT NOT NULL,
        locked_delta TEXT NOT NULL,
        reason       TEXT NOT NULL,
        order_id     INTEGER REFERENCES orders(id),
        fill_id      INTEGER REFERENCES fills(id),
        time_ms      INTEGER NOT NULL
    );
    CREATE INDEX balance_changes_account ON balance_changes(account_id, seq);
    CREATE TRIGGER balance_changes_append_only_u BEFORE UPDATE ON balance_changes
        BEGIN SELECT RAISE(ABORT, 'balance_changes is append-only'); END;
    CREATE TRIGGER balance_changes_append_only_d BEFORE DELETE ON balance_changes
        BEGIN SELECT RAISE(ABORT, 'balance_changes is append-only'); END;",
)];

fn from_row(row: &Row<'_>) -> Result<BalanceChangeRow, StoreError> {
    Ok(BalanceChangeRow {
        seq: row.get(0)?,
        account_id: row.get(1)?,
        asset: row.get(2)?,
        free_delta: parsed(row, 3, "balance_changes")?,
        locked_delta: parsed(row, 4, "balance_changes")?,
        reason: row.get(5)?,
        order_id: row.get(6)?,
        fill_id: row.get(7)?,
        time_ms: row.get(8)?,
    })
}

/// Insert a balance change; its account, order and fill must exist and the
/// order and fill must belong to the same account.
pub(crate) fn insert(conn: &Connection, c: &NewBalanceChange) -> Result<(), StoreError> {
    let what = || {
        format!(
            "{} balance change of {} for account {}",
            c.reason, c.asset, c.account_id
        )
    };
    if c.asset.is_empty() {
        return Err(StoreError::Invalid(format!("{}: asset is empty", what())));
    }
    if c.reason.is_empty() {
        return Err(StoreError::Invalid(format!("{}: reason is empty", what())));
    }
    if !super::accounts::exists(conn, c.account_id)? {
        return Err(StoreError::Invalid(format!(
            "{}: account {} does not exist",
            what(),
            c.account_id
        )));
    }
    if let Some(order_id) = c.order_id {
        match super::orders::owner(conn, order_id)? {
            None => {
                return Err(StoreError::Invalid(format!(
                    "{}: order {order_id} does not exist",
                    what()
                )))
            }
            Some(o) if o.account_id != c.account_id => {
                return Err(StoreError::Invalid(format!(
                    "{}: order {order_id} belongs to account {}",
                    what(),
                    o.account_id
                )))
            }
            Some(_) => {}
        }
    }
    if let Some(fill_id) = c.fill_id {
        match super::fills::owner(conn, fill_id)? {
            None => {
                return Err(StoreError::Invalid(format!(
                    "{}: fill {fill_id} does not exist",
                    what()
                )))
            }
            Some(a) if a != c.account_id => {
                return Err(StoreError::Invalid(format!(
                    "{}: fill {fill_id} belongs to account {a}",
                    what()
                )))
            }
            Some(_) => {}
        }
    }
    conn.prepare_cached(
        "INSERT INTO balance_changes (account_id, asset, free_delta, locked_delta, reason, order_id,
            fill_id, time_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        c.account_id,
        c.asset,
        dec_text(&c.free_delta),
        dec_text(&c.locked_delta),
        c.reason,
        c.order_id,
        c.fill_id,
        c.time_ms,
    ])
    .map_err(constraint(what))?;
    Ok(())
}

/// All balance changes of an account in seq order.
pub(crate) fn for_account(
    conn: &Connection,
    account_id: i64,
) -> Result<Vec<BalanceChangeRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, account_id, asset, free_delta, locked_delta, reason, order_id, fill_id, time_ms
         FROM balance_changes WHERE account_id = ?1 ORDER BY seq",
    )?;
    super::collect(&mut stmt, [account_id], from_row)
}

/// Sum changes per asset (exact Decimal arithmetic), sorted by asset.
pub(crate) fn sum(
    account_id: i64,
    changes: &[BalanceChangeRow],
) -> Result<Vec<BalanceRow>, StoreError> {
    let mut per_asset: BTreeMap<&str, (Decimal, Decimal)> = BTreeMap::new();
    for c in changes {
        let e = per_asset.entry(&c.asset).or_default();
        let what = || format!("the {} balance of account {account_id}", c.asset);
        e.0 = add(e.0, c.free_delta, what)?;
        e.1 = add(e.1, c.locked_delta, what)?;
    }
    Ok(per_asset
        .into_iter()
        .map(|(asset, (free, locked))| BalanceRow {
            account_id,
            asset: asset.to_owned(),
            free: free.normalize(),
            locked: locked.normalize(),
        })
        .collect())
}

/// Current balances of an account, derived from its balance changes.
pub(crate) fn balances(conn: &Connection, account_id: i64) -> Result<Vec<BalanceRow>, StoreError> {
    sum(account_id, &for_account(conn, account_id)?)
}
