//! Row types of the ledger. These are the store's own types; the app layer
//! maps engine types to and from them.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Side of an order or fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Side {
    /// Buy the base asset with the quote asset.
    Buy,
    /// Sell the base asset for the quote asset.
    Sell,
}

impl Side {
    /// The stored spelling: `BUY` or `SELL`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "BUY",
            Side::Sell => "SELL",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Side {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "BUY" => Ok(Side::Buy),
            "SELL" => Ok(Side::Sell),
            other => Err(format!("unknown side {other:?}")),
        }
    }
}

/// Status of an order after an [`OrderEventRow`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    /// Accepted and resting / waiting.
    New,
    /// Some quantity executed, more may follow.
    PartiallyFilled,
    /// Completely executed (terminal).
    Filled,
    /// Cancelled by the user (terminal).
    Canceled,
    /// Rejected at submission (terminal).
    Rejected,
    /// Expired, e.g. IOC/FOK remainder (terminal).
    Expired,
}

impl OrderStatus {
    /// The stored spelling, e.g. `PARTIALLY_FILLED`.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::New => "NEW",
            OrderStatus::PartiallyFilled => "PARTIALLY_FILLED",
            OrderStatus::Filled => "FILLED",
            OrderStatus::Canceled => "CANCELED",
            OrderStatus::Rejected => "REJECTED",
            OrderStatus::Expired => "EXPIRED",
        }
    }

    /// Whether no further fills or events may follow this status.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            OrderStatus::Filled
                | OrderStatus::Canceled
                | OrderStatus::Rejected
                | OrderStatus::Expired
        )
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrderStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "NEW" => OrderStatus::New,
            "PARTIALLY_FILLED" => OrderStatus::PartiallyFilled,
            "FILLED" => OrderStatus::Filled,
            "CANCELED" => OrderStatus::Canceled,
            "REJECTED" => OrderStatus::Rejected,
            "EXPIRED" => OrderStatus::Expired,
            other => return Err(format!("unknown order status {other:?}")),
        })
    }
}

/// Input of [`Ledger::create_account`](crate::Ledger::create_account).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAccount {
    /// Display name.
    pub name: String,
    /// The cash asset, e.g. `USDT`; symbols of this account end with it.
    pub quote_asset: String,
    /// Creation time, Unix milliseconds.
    pub created_ms: i64,
    /// Maker fee in basis points.
    pub maker_fee_bps: Decimal,
    /// Taker fee in basis points.
    pub taker_fee_bps: Decimal,
    /// Cash deposited at creation (recorded as a `deposit` balance change).
    pub initial_cash: Decimal,
}

/// A stored account. The active account is the one with the highest id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRow {
    /// Assigned by the ledger.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// The cash asset, e.g. `USDT`.
    pub quote_asset: String,
    /// Creation time, Unix milliseconds.
    pub created_ms: i64,
    /// Maker fee in basis points.
    pub maker_fee_bps: Decimal,
    /// Taker fee in basis points.
    pub taker_fee_bps: Decimal,
    /// Cash deposited at creation.
    pub initial_cash: Decimal,
}

/// An order as submitted (immutable). Its state lives in [`OrderEventRow`]s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRow {
    /// Assigned by the engine; must be unique.
    pub id: i64,
    /// Owning account.
    pub account_id: i64,
    /// Optional client-chosen id.
    pub client_order_id: Option<String>,
    /// Symbol, e.g. `PEPEUSDT`.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// Order type as the engine spells it, e.g. `LIMIT`, `MARKET`.
    pub order_type: String,
    /// Time in force, e.g. `GTC`.
    pub time_in_force: Option<String>,
    /// Base quantity, if given.
    pub quantity: Option<Decimal>,
    /// Quote quantity (market orders by notional), if given.
    pub quote_quantity: Option<Decimal>,
    /// Limit price, if any.
    pub price: Option<Decimal>,
    /// Stop price, if any.
    pub stop_price: Option<Decimal>,
    /// Order-list (OCO) id, if any.
    pub list_id: Option<i64>,
    /// Submission time, Unix milliseconds.
    pub created_ms: i64,
}

/// Input: a status transition of an order (the ledger assigns `seq`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOrderEvent {
    /// The order this event belongs to.
    pub order_id: i64,
    /// Event time, Unix milliseconds.
    pub time_ms: i64,
    /// The order's status after this event.
    pub status: OrderStatus,
    /// Total executed base quantity after this event.
    pub executed_qty: Decimal,
    /// Total executed quote quantity after this event.
    pub cumulative_quote_qty: Decimal,
    /// Optional reason (reject/expire text).
    pub reason: Option<String>,
}

/// A stored status transition of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderEventRow {
    /// Ledger-wide sequence number (insertion order).
    pub seq: i64,
    /// The order this event belongs to.
    pub order_id: i64,
    /// Event time, Unix milliseconds.
    pub time_ms: i64,
    /// The order's status after this event.
    pub status: OrderStatus,
    /// Total executed base quantity after this event.
    pub executed_qty: Decimal,
    /// Total executed quote quantity after this event.
    pub cumulative_quote_qty: Decimal,
    /// Optional reason.
    pub reason: Option<String>,
}

/// An order together with its latest event (its current state).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderWithState {
    /// The order as submitted.
    pub order: OrderRow,
    /// Latest event, `None` if the order has no events (should not happen).
    pub latest: Option<OrderEventRow>,
}

impl OrderWithState {
    /// Current status (`None` if there is no event).
    pub fn status(&self) -> Option<OrderStatus> {
        self.latest.as_ref().map(|e| e.status)
    }
}

/// Which orders [`Ledger::orders`](crate::Ledger::orders) returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderFilter {
    /// Every order of the account, by id.
    All,
    /// Orders whose latest status is not terminal (or that have no event).
    Open,
    /// Just this order (empty if it does not exist or is another account's).
    ById(i64),
}

/// A trade execution (immutable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FillRow {
    /// Assigned by the engine; must be unique.
    pub id: i64,
    /// The order that was filled; must belong to `account_id`.
    pub order_id: i64,
    /// Owning account.
    pub account_id: i64,
    /// Symbol (same as the order's).
    pub symbol: String,
    /// Side (same as the order's).
    pub side: Side,
    /// Execution price.
    pub price: Decimal,
    /// Executed base quantity.
    pub quantity: Decimal,
    /// Executed quote quantity.
    pub quote_quantity: Decimal,
    /// Fee charged.
    pub fee: Decimal,
    /// Asset the fee was charged in.
    pub fee_asset: String,
    /// Whether this side was the maker.
    pub is_maker: bool,
    /// Execution time, Unix milliseconds.
    pub time_ms: i64,
}

/// Input: a change of an account's free/locked balance of one asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewBalanceChange {
    /// Account.
    pub account_id: i64,
    /// Asset, e.g. `USDT` or `PEPE`.
    pub asset: String,
    /// Change of the free balance.
    pub free_delta: Decimal,
    /// Change of the locked balance.
    pub locked_delta: Decimal,
    /// One of `deposit`, `lock`, `unlock`, `fill`, `fee` (see the `reason`
    /// constants in [`crate::reason`]).
    pub reason: String,
    /// Order this change belongs to (lock/unlock/fill/fee).
    pub order_id: Option<i64>,
    /// Fill this change belongs to (fill/fee).
    pub fill_id: Option<i64>,
    /// Time, Unix milliseconds.
    pub time_ms: i64,
}

/// A stored balance change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceChangeRow {
    /// Ledger-wide sequence number (insertion order).
    pub seq: i64,
    /// Account.
    pub account_id: i64,
    /// Asset.
    pub asset: String,
    /// Change of the free balance.
    pub free_delta: Decimal,
    /// Change of the locked balance.
    pub locked_delta: Decimal,
    /// Reason, see [`NewBalanceChange::reason`].
    pub reason: String,
    /// Order this change belongs to.
    pub order_id: Option<i64>,
    /// Fill this change belongs to.
    pub fill_id: Option<i64>,
    /// Time, Unix milliseconds.
    pub time_ms: i64,
}

/// A balance derived by summing balance changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceRow {
    /// Account.
    pub account_id: i64,
    /// Asset.
    pub asset: String,
    /// Free (spendable) amount.
    pub free: Decimal,
    /// Amount locked by open orders.
    pub locked: Decimal,
}

/// A point of an account's equity curve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EquityPoint {
    /// Account.
    pub account_id: i64,
    /// Time, Unix milliseconds.
    pub time_ms: i64,
    /// Total equity in the quote asset.
    pub equity: Decimal,
}

/// One atomic write: everything in it is stored, or nothing is.
///
/// Rows are inserted in field order (orders, events, fills, balance changes,
/// equity points, meta), so later parts may reference earlier ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// New orders.
    pub orders: Vec<OrderRow>,
    /// Status transitions.
    pub events: Vec<NewOrderEvent>,
    /// Executions.
    pub fills: Vec<FillRow>,
    /// Balance changes.
    pub balance_changes: Vec<NewBalanceChange>,
    /// Equity curve points.
    pub equity: Vec<EquityPoint>,
    /// `meta` upserts (key, value); the only rows that are ever replaced.
    pub meta: Vec<(String, String)>,
}

impl Batch {
    /// Whether the batch writes nothing.
    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
            && self.events.is_empty()
            && self.fills.is_empty()
            && self.balance_changes.is_empty()
            && self.equity.is_empty()
            && self.meta.is_empty()
    }
}

/// Highest ids in use, so the engine can continue numbering after a restart.
/// `0` when there are none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MaxIds {
    /// Highest order id.
    pub max_order_id: i64,
    /// Highest fill id.
    pub max_fill_id: i64,
}

/// Write statistics of a [`Ledger`](crate::Ledger) since it was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LedgerStats {
    /// Transactions committed.
    pub groups: u64,
    /// Write requests (appends, account creations) in those transactions,
    /// including ones that were rejected and rolled back to their savepoint.
    pub writes: u64,
}

/// Result of [`Ledger::verify`](crate::Ledger::verify).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VerifyReport {
    /// `true` when `problems` is empty.
    pub ok: bool,
    /// Human sentences, each naming the ids involved.
    pub problems: Vec<String>,
    /// Number of accounts checked.
    pub accounts_checked: usize,
    /// Number of orders checked.
    pub orders: usize,
    /// Number of fills checked.
    pub fills: usize,
    /// Number of balance changes checked.
    pub balance_changes: usize,
    /// Derived balances of the checked accounts.
    pub balances: Vec<BalanceRow>,
}

/// One file written by [`Ledger::export_csv`](crate::Ledger::export_csv).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedFile {
    /// Full path of the file.
    pub path: PathBuf,
    /// Number of data rows (the header is not counted).
    pub rows: usize,
}

/// Result of [`Ledger::export_csv`](crate::Ledger::export_csv).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ExportSummary {
    /// The files written, in a fixed order (accounts, orders, order_events,
    /// fills, balance_changes, equity).
    pub files: Vec<ExportedFile>,
}

impl ExportSummary {
    /// Rows written to the file with this name (e.g. `fills.csv`).
    pub fn rows(&self, file_name: &str) -> Option<usize> {
        self.files
            .iter()
            .find(|f| f.path.file_name().and_then(|n| n.to_str()) == Some(file_name))
            .map(|f| f.rows)
    }
}
