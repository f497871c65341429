//! `orders`: the immutable submitted orders. Ids are assigned by the engine.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{constraint, opt_dec_text, opt_parsed, parsed, Migration};
use crate::error::StoreError;
use crate::types::{OrderEventRow, OrderFilter, OrderRow, OrderWithState, Side};

pub(crate) const MIGRATIONS: &[Migration] = &[(
    1,
    "CREATE TABLE orders (
        id              INTEGER PRIMARY KEY,
        account_id      INTEGER NOT NULL REFERENCES accounts(id),
        client_order_id TEXT,
        symbol          TEXT NOT NULL,
        side            TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
        order_type      TEXT NOT NULL,
        time_in_force   TEXT,
        quantity        TEXT,
        quote_quantity  TEXT,
        price           TEXT,
        stop_price      TEXT,
        list_id         INTEGER,
        created_ms      INTEGER NOT NULL
    );
    CREATE INDEX orders_account ON orders(account_id, id);
    CREATE TRIGGER orders_append_only_u BEFORE UPDATE ON orders
        BEGIN SELECT RAISE(ABORT, 'orders is append-only'); END;
    CREATE TRIGGER orders_append_only_d BEFORE DELETE ON orders
        BEGIN SELECT RAISE(ABORT, 'orders is append-only'); END;",
)];

const COLUMNS: &str = "o.id, o.account_id, o.client_order_id, o.symbol, o.side, o.order_type, \
    o.time_in_force, o.quantity, o.quote_quantity, o.price, o.stop_price, o.list_id, o.created_ms";

fn from_row(row: &Row<'_>) -> Result<OrderRow, StoreError> {
    Ok(OrderRow {
        id: row.get(0)?,
        account_id: row.get(1)?,
        client_order_id: row.get(2)?,
        symbol: row.get(3)?,
        side: parsed(row, 4, "orders")?,
        order_type: row.get(5)?,
        time_in_force: row.get(6)?,
        quantity: opt_parsed(row, 7, "orders")?,
        quote_quantity: opt_parsed(row, 8, "orders")?,
        price: opt_parsed(row, 9, "orders")?,
        stop_price: opt_parsed(row, 10, "orders")?,
        list_id: row.get(11)?,
        created_ms: row.get(12)?,
    })
}

/// What other rows need to know about an existing order.
#[derive(Debug)]
pub(crate) struct OrderOwner {
    pub account_id: i64,
    pub symbol: String,
    pub side: Side,
}

pub(crate) fn owner(conn: &Connection, id: i64) -> Result<Option<OrderOwner>, StoreError> {
    let found: Option<(i64, String, String)> = conn
        .prepare_cached("SELECT account_id, symbol, side FROM orders WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    found
        .map(|(account_id, symbol, side)| {
            let side = side
                .parse()
                .map_err(|e| StoreError::Corrupt(format!("orders row {id}: {e}")))?;
            Ok(OrderOwner {
                account_id,
                symbol,
                side,
            })
        })
        .transpose()
}

/// Insert a new order, rejecting unknown accounts and duplicate ids.
pub(crate) fn insert(conn: &Connection, o: &OrderRow) -> Result<(), StoreError> {
    if !super::accounts::exists(conn, o.account_id)? {
        return Err(StoreError::Invalid(format!(
            "order {}: account {} does not exist",
            o.id, o.account_id
        )));
    }
    if owner(conn, o.id)?.is_some() {
        return Err(StoreError::Invalid(format!(
            "order {} already exists",
            o.id
        )));
    }
    if o.symbol.is_empty() {
        return Err(StoreError::Invalid(format!(
            "order {}: symbol is empty",
            o.id
        )));
    }
    conn.prepare_cached(
        "INSERT INTO orders (id, account_id, client_order_id, symbol, side, order_type, time_in_force,
            quantity, quote_quantity, price, stop_price, list_id, created_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        o.id,
        o.account_id,
        o.client_order_id,
        o.symbol,
        o.side.as_str(),
        o.order_type,
        o.time_in_force,
        opt_dec_text(&o.quantity),
        opt_dec_text(&o.quote_quantity),
        opt_dec_text(&o.price),
        opt_dec_text(&o.stop_price),
        o.list_id,
        o.created_ms,
    ])
    .map_err(constraint(|| format!("order {}", o.id)))?;
    Ok(())
}

/// Orders of an account with their latest event, by id.
pub(crate) fn query(
    conn: &Connection,
    account_id: i64,
    filter: OrderFilter,
) -> Result<Vec<OrderWithState>, StoreError> {
    let base = format!(
        "SELECT {COLUMNS}, e.seq, e.order_id, e.time_ms, e.status, e.executed_qty,
                e.cumulative_quote_qty, e.reason
         FROM orders o
         LEFT JOIN order_events e
           ON e.seq = (SELECT MAX(seq) FROM order_events WHERE order_id = o.id)
         WHERE o.account_id = ?1"
    );
    let map = |row: &Row<'_>| -> Result<OrderWithState, StoreError> {
        let order = from_row(row)?;
        let latest = match row.get::<_, Option<i64>>(13)? {
            None => None,
            Some(_) => Some(super::order_events::from_row_at(row, 13)?),
        };
        Ok(OrderWithState { order, latest })
    };
    match filter {
        OrderFilter::All => {
            let mut stmt = conn.prepare_cached(&format!("{base} ORDER BY o.id"))?;
            super::collect(&mut stmt, [account_id], map)
        }
        OrderFilter::Open => {
            let mut stmt = conn.prepare_cached(&format!(
                "{base} AND (e.status IS NULL OR e.status IN ('NEW', 'PARTIALLY_FILLED'))
                 ORDER BY o.id"
            ))?;
            super::collect(&mut stmt, [account_id], map)
        }
        OrderFilter::ById(id) => {
            let mut stmt = conn.prepare_cached(&format!("{base} AND o.id = ?2"))?;
            super::collect(&mut stmt, params![account_id, id], map)
        }
    }
}

/// Orders of an account with all their events (for verify).
pub(crate) fn with_events(
    conn: &Connection,
    account_id: i64,
) -> Result<Vec<(OrderRow, Vec<OrderEventRow>)>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM orders o WHERE o.account_id = ?1 ORDER BY o.id"
    ))?;
    let orders = super::collect(&mut stmt, [account_id], from_row)?;
    let events = super::order_events::for_account(conn, account_id)?;
    let mut by_order: std::collections::HashMap<i64, Vec<OrderEventRow>> =
        std::collections::HashMap::new();
    for e in events {
        by_order.entry(e.order_id).or_default().push(e);
    }
    Ok(orders
        .into_iter()
        .map(|o| {
            let ev = by_order.remove(&o.id).unwrap_or_default();
            (o, ev)
        })
        .collect())
}

pub(crate) fn max_id(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT COALESCE(MAX(id), 0) FROM orders")?
        .query_row([], |r| r.get(0))?)
}
