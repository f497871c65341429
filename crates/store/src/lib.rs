//! The crash-safe, append-only SQLite ledger of PaperMemes.
//!
//! Every order, status transition, fill and balance change is appended to a
//! SQLite database (WAL, `synchronous=FULL`, foreign keys on). Balances are
//! never stored: they are exact [`Decimal`](rust_decimal::Decimal) sums of
//! the balance changes, and [`Ledger::verify`] proves that they agree with the
//! orders and fills. Money is stored as canonical decimal TEXT, never REAL.
//!
//! All SQLite work happens on one dedicated thread owned by the [`Ledger`];
//! the handle is `Clone + Send + Sync` and every call returns a [`Reply`]
//! that can be [`wait`](Reply::wait)ed on or `.await`ed. Concurrent writes
//! are group-committed: one transaction, one savepoint per write (so one bad
//! write does not spoil the others), and a write is acknowledged only after
//! its transaction committed.
//!
//! The schema is migrated in one transaction driven by `PRAGMA user_version`;
//! each table's migration SQL lives in its module under `table/`. A database
//! from a newer PaperMemes is refused with [`StoreError::NewerSchema`].
//!
//! This crate has its own row types ([`OrderRow`], [`FillRow`], ...); the app
//! layer maps engine types to them.
//!
//! ```
//! use papermemes_store::{Batch, Ledger, NewAccount, StoreError};
//! use rust_decimal::Decimal;
//!
//! # fn main() -> Result<(), StoreError> {
//! let ledger = Ledger::open_in_memory()?;
//! let account = ledger
//!     .create_account(NewAccount {
//!         name: "main".into(),
//!         quote_asset: "USDT".into(),
//!         created_ms: 0,
//!         maker_fee_bps: Decimal::TEN,
//!         taker_fee_bps: Decimal::TEN,
//!         initial_cash: Decimal::ONE_THOUSAND,
//!     })
//!     .wait()?; // or `.await` in async code
//! ledger
//!     .append(Batch { meta: vec![("cursor".into(), "{}".into())], ..Batch::default() })
//!     .wait()?;
//! let balances = ledger.balances(account.id).wait()?;
//! assert_eq!(balances[0].free, Decimal::ONE_THOUSAND);
//! assert!(ledger.verify(None).wait()?.ok);
//! # Ok(())
//! # }
//! ```
//!
//! Within one [`Batch`], verification walks balance changes in the order they
//! were written and requires every running free/locked balance to stay
//! non-negative, so write credits before debits (e.g. a buy's base-asset
//! credit before a fee charged in that asset).

mod error;
mod export;
mod ledger;
mod reply;
mod schema;
mod table;
mod types;
mod verify;

pub use error::StoreError;
pub use ledger::Ledger;
pub use reply::{Reply, ReplyFuture};
pub use table::exchange_info::{ExchangeInfoRow, NewExchangeInfo, KEEP_SNAPSHOTS};
pub use table::klines::{KlineFetch, KlineRow, KlinesStored};
pub use table::memes::{MemeRow, NewMeme, UserTemplateRow, MAX_META_CHARS};
pub use types::{
    AccountRow, BalanceChangeRow, BalanceRow, Batch, EquityPoint, ExportSummary, ExportedFile,
    FillRow, LedgerStats, MaxIds, NewAccount, NewBalanceChange, NewOrderEvent, OrderEventRow,
    OrderFilter, OrderRow, OrderStatus, OrderWithState, Side, VerifyReport,
};

/// The newest schema version (`PRAGMA user_version`) this build supports.
pub fn supported_schema_version() -> u32 {
    table::supported_version()
}

/// The balance-change reasons that [`Ledger::verify`] understands.
pub mod reason {
    /// Cash added to the account (initial cash, top-ups).
    pub const DEPOSIT: &str = "deposit";
    /// Free moved to locked for an order (`free_delta == -locked_delta`).
    pub const LOCK: &str = "lock";
    /// Locked moved back to free for an order (`free_delta == -locked_delta`).
    pub const UNLOCK: &str = "unlock";
    /// The asset movement of a fill (names the fill).
    pub const FILL: &str = "fill";
    /// The fee of a fill (names the fill).
    pub const FEE: &str = "fee";
}
