//! The error type of the ledger.

use std::path::PathBuf;

/// Everything that can go wrong in the ledger.
///
/// Every variant has a stable machine-readable [`code`](StoreError::code) that
/// callers (CLI, HTTP layer) can match on or show to users; the `Display`
/// text is a human sentence.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database was written by a newer PaperMemes with a schema this build
    /// does not know. Nothing was changed.
    #[error(
        "database schema version {found} is newer than this PaperMemes supports ({supported}); \
         upgrade PaperMemes or use another --data-dir"
    )]
    NewerSchema {
        /// The `user_version` found in the file.
        found: u32,
        /// The newest schema version this build can handle.
        supported: u32,
    },
    /// A filesystem operation failed.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        /// The path that was being read or written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// SQLite reported an error.
    #[error("SQLite error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Committing a group of writes failed; none of the writes in the group
    /// were stored.
    #[error("committing to the ledger failed, nothing was written: {0}")]
    CommitFailed(String),
    /// The requested thing does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The caller's input was rejected; nothing was written.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// A stored row could not be read back (e.g. a money column that is not a
    /// valid decimal).
    #[error("corrupt ledger row: {0}")]
    Corrupt(String),
    /// The ledger was closed (or its thread stopped) before the request ran.
    #[error("the ledger is closed")]
    Closed,
}

impl StoreError {
    /// A stable, machine-readable identifier for the kind of error.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::NewerSchema { .. } => "store.newer_schema",
            StoreError::Io { .. } => "store.io",
            StoreError::Sqlite(_) | StoreError::CommitFailed(_) => "store.sqlite",
            StoreError::NotFound(_) => "store.not_found",
            StoreError::Invalid(_) => "store.invalid",
            StoreError::Corrupt(_) => "store.corrupt",
            StoreError::Closed => "store.closed",
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StoreError::Io {
            path: path.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_schema_message_is_helpful() {
        let e = StoreError::NewerSchema {
            found: 7,
            supported: 3,
        };
        assert_eq!(
            e.to_string(),
            "database schema version 7 is newer than this PaperMemes supports (3); \
             upgrade PaperMemes or use another --data-dir"
        );
        assert_eq!(e.code(), "store.newer_schema");
        assert_eq!(StoreError::Closed.code(), "store.closed");
        assert_eq!(StoreError::Invalid("x".into()).code(), "store.invalid");
    }
}
