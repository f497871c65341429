//! `order_events`: every status transition of an order; the latest one per
//! order is its current state.

use rusqlite::{params, Connection, Row};

use super::{constraint, dec_text, parsed, Migration};
use crate::error::StoreError;
use crate::types::{NewOrderEvent, OrderEventRow};

pub(crate) const MIGRATIONS: &[Migration] = &[(
    1,
    "CREATE TABLE order_events (
        seq                  INTEGER PRIMARY KEY AUTOINCREMENT,
        order_id             INTEGER NOT NULL REFERENCES orders(id),
        time_ms              INTEGER NOT NULL,
        status               TEXT NOT NULL CHECK (status IN
            ('NEW', 'PARTIALLY_FILLED', 'FILLED', 'CANCELED', 'REJECTED', 'EXPIRED')),
        executed_qty         TEXT NOT NULL,
        cumulative_quote_qty TEXT NOT NULL,
        reason               TEXT
    );
    CREATE INDEX order_events_order ON order_events(order_id, seq);
    CREATE TRIGGER order_events_append_only_u BEFORE UPDATE ON order_events
        BEGIN SELECT RAISE(ABORT, 'order_events is append-only'); END;
    CREATE TRIGGER order_events_append_only_d BEFORE DELETE ON order_events
        BEGIN SELECT RAISE(ABORT, 'order_events is append-only'); END;",
)];

/// Read an event from `row` starting at column `at`
/// (seq, order_id, time_ms, status, executed_qty, cumulative_quote_qty, reason).
pub(crate) fn from_row_at(row: &Row<'_>, at: usize) -> Result<OrderEventRow, StoreError> {
    Ok(OrderEventRow {
        seq: row.get(at)?,
        order_id: row.get(at + 1)?,
        time_ms: row.get(at + 2)?,
        status: parsed(row, at + 3, "order_events")?,
        executed_qty: parsed(row, at + 4, "order_events")?,
        cumulative_quote_qty: parsed(row, at + 5, "order_events")?,
        reason: row.get(at + 6)?,
    })
}

pub(crate) fn insert(conn: &Connection, e: &NewOrderEvent) -> Result<(), StoreError> {
    if super::orders::owner(conn, e.order_id)?.is_none() {
        return Err(StoreError::Invalid(format!(
            "{} event for order {}: order {} does not exist",
            e.status, e.order_id, e.order_id
        )));
    }
    conn.prepare_cached(
        "INSERT INTO order_events (order_id, time_ms, status, executed_qty, cumulative_quote_qty, reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        e.order_id,
        e.time_ms,
        e.status.as_str(),
        dec_text(&e.executed_qty),
        dec_text(&e.cumulative_quote_qty),
        e.reason,
    ])
    .map_err(constraint(|| format!("event for order {}", e.order_id)))?;
    Ok(())
}

const SELECT: &str = "SELECT e.seq, e.order_id, e.time_ms, e.status, e.executed_qty, \
    e.cumulative_quote_qty, e.reason FROM order_events e";

pub(crate) fn for_order(
    conn: &Connection,
    order_id: i64,
) -> Result<Vec<OrderEventRow>, StoreError> {
    let mut stmt =
        conn.prepare_cached(&format!("{SELECT} WHERE e.order_id = ?1 ORDER BY e.seq"))?;
    super::collect(&mut stmt, [order_id], |r| from_row_at(r, 0))
}

pub(crate) fn for_account(
    conn: &Connection,
    account_id: i64,
) -> Result<Vec<OrderEventRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} JOIN orders o ON o.id = e.order_id WHERE o.account_id = ?1 ORDER BY e.seq"
    ))?;
    super::collect(&mut stmt, [account_id], |r| from_row_at(r, 0))
}
