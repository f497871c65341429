//! `equity_points`: an account's equity curve.

use rusqlite::{params, Connection};

use super::{constraint, dec_text, parsed, Migration};
use crate::error::StoreError;
use crate::types::EquityPoint;

pub(crate) const MIGRATIONS: &[Migration] = &[(
    1,
    "CREATE TABLE equity_points (
        account_id INTEGER NOT NULL REFERENCES accounts(id),
        time_ms    INTEGER NOT NULL,
        equity     TEXT NOT NULL
    );
    CREATE INDEX equity_points_account ON equity_points(account_id, time_ms);
    CREATE TRIGGER equity_points_append_only_u BEFORE UPDATE ON equity_points
        BEGIN SELECT RAISE(ABORT, 'equity_points is append-only'); END;
    CREATE TRIGGER equity_points_append_only_d BEFORE DELETE ON equity_points
        BEGIN SELECT RAISE(ABORT, 'equity_points is append-only'); END;",
)];

pub(crate) fn insert(conn: &Connection, p: &EquityPoint) -> Result<(), StoreError> {
    if !super::accounts::exists(conn, p.account_id)? {
        return Err(StoreError::Invalid(format!(
            "equity point at {}: account {} does not exist",
            p.time_ms, p.account_id
        )));
    }
    conn.prepare_cached(
        "INSERT INTO equity_points (account_id, time_ms, equity) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![p.account_id, p.time_ms, dec_text(&p.equity)])
    .map_err(constraint(|| {
        format!("equity point of account {} at {}", p.account_id, p.time_ms)
    }))?;
    Ok(())
}

/// Equity points of an account in time order.
pub(crate) fn for_account(
    conn: &Connection,
    account_id: i64,
) -> Result<Vec<EquityPoint>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT account_id, time_ms, equity FROM equity_points WHERE account_id = ?1
         ORDER BY time_ms, rowid",
    )?;
    super::collect(&mut stmt, [account_id], |r| {
        Ok(EquityPoint {
            account_id: r.get(0)?,
            time_ms: r.get(1)?,
            equity: parsed(r, 2, "equity_points")?,
        })
    })
}
