//! `meta`: small key/value settings (e.g. the replay cursor as JSON). The only
//! table whose rows are replaced.

use rusqlite::{params, Connection, OptionalExtension};

use super::Migration;
use crate::error::StoreError;

pub(crate) const MIGRATIONS: &[Migration] = &[(
    1,
    "CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );",
)];

pub(crate) fn upsert(conn: &Connection, key: &str, value: &str) -> Result<(), StoreError> {
    if key.is_empty() {
        return Err(StoreError::Invalid("meta key is empty".into()));
    }
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

pub(crate) fn get(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}
