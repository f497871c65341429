//! One module per table: its migration SQL, inserts (with validation) and
//! queries. [`MIGRATIONS`](all_migrations) assembles the per-table migration
//! lists in version order.

use std::str::FromStr;

use rusqlite::types::ValueRef;
use rusqlite::Row;
use rust_decimal::Decimal;

use crate::error::StoreError;

pub(crate) mod accounts;
pub(crate) mod balance_changes;
pub(crate) mod equity;
pub(crate) mod exchange_info;
pub(crate) mod fills;
pub(crate) mod klines;
pub(crate) mod memes;
pub(crate) mod meta;
pub(crate) mod order_events;
pub(crate) mod orders;

/// A schema migration step: `(version, sql)`. Every table lists the steps
/// that concern it; steps of the same version run in table order.
pub(crate) type Migration = (u32, &'static str);

/// Per-table migration lists, in dependency order (referenced tables first).
const TABLES: &[(&str, &[Migration])] = &[
    ("accounts", accounts::MIGRATIONS),
    ("orders", orders::MIGRATIONS),
    ("order_events", order_events::MIGRATIONS),
    ("fills", fills::MIGRATIONS),
    ("balance_changes", balance_changes::MIGRATIONS),
    ("equity_points", equity::MIGRATIONS),
    ("meta", meta::MIGRATIONS),
    // Version 2: caches of exchange data (not part of the ledger).
    ("exchange_info", exchange_info::MIGRATIONS),
    ("klines", klines::MIGRATIONS),
    // Version 3: the meme gallery and imported templates (metadata; the images are files).
    ("memes", memes::MIGRATIONS),
];

/// All migration steps sorted by version (stable: table order within a
/// version), as `(version, table, sql)`.
pub(crate) fn all_migrations() -> Vec<(u32, &'static str, &'static str)> {
    let mut all: Vec<(u32, &'static str, &'static str)> = TABLES
        .iter()
        .flat_map(|(table, steps)| steps.iter().map(move |(v, sql)| (*v, *table, *sql)))
        .collect();
    all.sort_by_key(|(v, _, _)| *v);
    all
}

/// The newest schema version this build knows.
pub(crate) fn supported_version() -> u32 {
    all_migrations()
        .iter()
        .map(|(v, _, _)| *v)
        .max()
        .unwrap_or(0)
}

/// Canonical TEXT form of a decimal (exact, never REAL).
pub(crate) fn dec_text(d: &Decimal) -> String {
    d.to_string()
}

pub(crate) fn opt_dec_text(d: &Option<Decimal>) -> Option<String> {
    d.as_ref().map(dec_text)
}

/// A short description of a row for error messages: `table row <first column>`.
fn row_key(row: &Row<'_>, table: &str) -> String {
    match row.get_ref(0) {
        Ok(ValueRef::Integer(i)) => format!("{table} row {i}"),
        _ => format!("a {table} row"),
    }
}

fn column_name(row: &Row<'_>, idx: usize) -> String {
    row.as_ref()
        .column_name(idx)
        .map(str::to_owned)
        .unwrap_or_else(|_| format!("column {idx}"))
}

/// Read a TEXT column that must parse with `FromStr` (decimals, enums).
pub(crate) fn parsed<T: FromStr>(row: &Row<'_>, idx: usize, table: &str) -> Result<T, StoreError> {
    match opt_parsed(row, idx, table)? {
        Some(v) => Ok(v),
        None => Err(StoreError::Corrupt(format!(
            "{}: {} is NULL",
            row_key(row, table),
            column_name(row, idx)
        ))),
    }
}

/// Read a nullable TEXT column that must parse with `FromStr`.
pub(crate) fn opt_parsed<T: FromStr>(
    row: &Row<'_>,
    idx: usize,
    table: &str,
) -> Result<Option<T>, StoreError> {
    let value = row.get_ref(idx)?;
    let text = match value {
        ValueRef::Null => return Ok(None),
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        // Money is never stored as REAL/INTEGER; reading one back means
        // something other than this crate wrote the row.
        other => {
            return Err(StoreError::Corrupt(format!(
                "{}: {} has type {:?}, expected TEXT",
                row_key(row, table),
                column_name(row, idx),
                other.data_type()
            )))
        }
    };
    text.parse::<T>().map(Some).map_err(|_| {
        StoreError::Corrupt(format!(
            "{}: {} = {text:?} is not valid",
            row_key(row, table),
            column_name(row, idx)
        ))
    })
}

/// Turn a constraint violation into [`StoreError::Invalid`] with context;
/// other SQLite errors pass through.
pub(crate) fn constraint(
    context: impl FnOnce() -> String,
) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |e| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation) => {
            StoreError::Invalid(format!("{}: {e}", context()))
        }
        _ => StoreError::Sqlite(e),
    }
}

/// Run a query and map every row with `f`, which may fail with a
/// [`StoreError`] (e.g. a corrupt decimal).
pub(crate) fn collect<T>(
    stmt: &mut rusqlite::CachedStatement<'_>,
    params: impl rusqlite::Params,
    mut f: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(f(row)?);
    }
    Ok(out)
}

/// Add two decimals without panicking on overflow.
pub(crate) fn add(
    a: Decimal,
    b: Decimal,
    what: impl FnOnce() -> String,
) -> Result<Decimal, StoreError> {
    a.checked_add(b)
        .ok_or_else(|| StoreError::Corrupt(format!("decimal overflow while summing {}", what())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_contiguous_from_one() {
        let all = all_migrations();
        assert!(!all.is_empty());
        let mut versions: Vec<u32> = all.iter().map(|(v, _, _)| *v).collect();
        versions.dedup();
        let expected: Vec<u32> = (1..=supported_version()).collect();
        assert_eq!(versions, expected);
        // sorted by version
        assert!(all.windows(2).all(|w| w[0].0 <= w[1].0));
    }
}
