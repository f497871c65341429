//! Opening a connection: pragmas and migrations.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

use crate::error::StoreError;
use crate::table;

/// How long a statement waits for a lock held by another process.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Open (creating if needed) and migrate the database at `path`.
pub(crate) fn open_file(path: &Path) -> Result<Connection, StoreError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return Err(StoreError::io(
            parent,
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "the directory for the ledger database does not exist",
            ),
        ));
    }
    let conn = Connection::open(path)?;
    prepare(conn)
}

pub(crate) fn open_memory() -> Result<Connection, StoreError> {
    prepare(Connection::open_in_memory()?)
}

fn user_version(conn: &Connection) -> Result<u32, StoreError> {
    let v: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    u32::try_from(v)
        .map_err(|_| StoreError::Corrupt(format!("database user_version {v} is out of range")))
}

fn prepare(mut conn: Connection) -> Result<Connection, StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Check the version before anything that could write to the file (the
    // journal-mode switch rewrites the header), so a newer database stays
    // byte-for-byte unchanged.
    let supported = table::supported_version();
    let found = user_version(&conn)?;
    if found > supported {
        return Err(StoreError::NewerSchema { found, supported });
    }
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
        tracing::warn!(journal_mode = %mode, "could not switch the ledger to WAL mode");
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    migrate(&mut conn, supported)?;
    Ok(conn)
}

/// Run all missing migrations in one transaction.
fn migrate(conn: &mut Connection, supported: u32) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Re-read under the write lock: another process may have migrated.
    let found = user_version(&tx)?;
    if found > supported {
        return Err(StoreError::NewerSchema { found, supported });
    }
    if found == supported {
        return Ok(());
    }
    for (version, table, sql) in table::all_migrations() {
        if version > found {
            tracing::debug!(version, table, "applying ledger migration");
            tx.execute_batch(sql)?;
        }
    }
    tx.pragma_update(None, "user_version", supported)?;
    tx.commit()?;
    tracing::info!(from = found, to = supported, "ledger schema migrated");
    Ok(())
}
