//! `fills`: trade executions. Ids are assigned by the engine.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{constraint, dec_text, parsed, Migration};
use crate::error::StoreError;
use crate::types::FillRow;

pub(crate) const MIGRATIONS: &[Migration] = &[(
    1,
    "CREATE TABLE fills (
        id             INTEGER PRIMARY KEY,
        order_id       INTEGER NOT NULL REFERENCES orders(id),
        account_id     INTEGER NOT NULL REFERENCES accounts(id),
        symbol         TEXT NOT NULL,
        side           TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
        price          TEXT NOT NULL,
        quantity       TEXT NOT NULL,
        quote_quantity TEXT NOT NULL,
        fee            TEXT NOT NULL,
        fee_asset      TEXT NOT NULL,
        is_maker       INTEGER NOT NULL CHECK (is_maker IN (0, 1)),
        time_ms        INTEGER NOT NULL
    );
    CREATE INDEX fills_account ON fills(account_id, id);
    CREATE INDEX fills_order ON fills(order_id);
    CREATE TRIGGER fills_append_only_u BEFORE UPDATE ON fills
        BEGIN SELECT RAISE(ABORT, 'fills is append-only'); END;
    CREATE TRIGGER fills_append_only_d BEFORE DELETE ON fills
        BEGIN SELECT RAISE(ABORT, 'fills is append-only'); END;",
)];

const COLUMNS: &str = "id, order_id, account_id, symbol, side, price, quantity, quote_quantity, \
    fee, fee_asset, is_maker, time_ms";

fn from_row(row: &Row<'_>) -> Result<FillRow, StoreError> {
    Ok(FillRow {
        id: row.get(0)?,
        order_id: row.get(1)?,
        account_id: row.get(2)?,
        symbol: row.get(3)?,
        side: parsed(row, 4, "fills")?,
        price: parsed(row, 5, "fills")?,
        quantity: parsed(row, 6, "fills")?,
        quote_quantity: parsed(row, 7, "fills")?,
        fee: parsed(row, 8, "fills")?,
        fee_asset: row.get(9)?,
        is_maker: row.get(10)?,
        time_ms: row.get(11)?,
    })
}

/// The account a fill belongs to, if the fill exists.
pub(crate) fn owner(conn: &Connection, id: i64) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT account_id FROM fills WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?)
}

/// Insert a fill; its order must exist, belong to the same account and have
/// the same symbol and side.
pub(crate) fn insert(conn: &Connection, f: &FillRow) -> Result<(), StoreError> {
    if owner(conn, f.id)?.is_some() {
        return Err(StoreError::Invalid(format!("fill {} already exists", f.id)));
    }
    let Some(order) = super::orders::owner(conn, f.order_id)? else {
        return Err(StoreError::Invalid(format!(
            "fill {}: order {} does not exist",
            f.id, f.order_id
        )));
    };
    if order.account_id != f.account_id {
        return Err(StoreError::Invalid(format!(
            "fill {}: order {} belongs to account {}, not account {}",
            f.id, f.order_id, order.account_id, f.account_id
        )));
    }
    if order.symbol != f.symbol {
        return Err(StoreError::Invalid(format!(
            "fill {}: symbol {} does not match order {}'s symbol {}",
            f.id, f.symbol, f.order_id, order.symbol
        )));
    }
    if order.side != f.side {
        return Err(StoreError::Invalid(format!(
            "fill {}: side {} does not match order {}'s side {}",
            f.id, f.side, f.order_id, order.side
        )));
    }
    conn.prepare_cached(
        "INSERT INTO fills (id, order_id, account_id, symbol, side, price, quantity, quote_quantity,
            fee, fee_asset, is_maker, time_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        f.id,
        f.order_id,
        f.account_id,
        f.symbol,
        f.side.as_str(),
        dec_text(&f.price),
        dec_text(&f.quantity),
        dec_text(&f.quote_quantity),
        dec_text(&f.fee),
        f.fee_asset,
        f.is_maker,
        f.time_ms,
    ])
    .map_err(constraint(|| format!("fill {}", f.id)))?;
    Ok(())
}

/// Fills of an account, oldest first; with `limit`, only the newest `limit`.
pub(crate) fn for_account(
    conn: &Connection,
    account_id: i64,
    limit: Option<usize>,
) -> Result<Vec<FillRow>, StoreError> {
    match limit {
        None => {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM fills WHERE account_id = ?1 ORDER BY id"
            ))?;
            super::collect(&mut stmt, [account_id], from_row)
        }
        Some(n) => {
            let n = i64::try_from(n).unwrap_or(i64::MAX);
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT * FROM (SELECT {COLUMNS} FROM fills WHERE account_id = ?1
                 ORDER BY id DESC LIMIT ?2) ORDER BY id"
            ))?;
            super::collect(&mut stmt, params![account_id, n], from_row)
        }
    }
}

pub(crate) fn max_id(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT COALESCE(MAX(id), 0) FROM fills")?
        .query_row([], |r| r.get(0))?)
}
