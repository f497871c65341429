//! Balances, positions and PnL of one spot account.
//!
//! Spot only: balances never go negative (no shorting, no leverage). A position's cost basis
//! includes the fees paid to open it, so realized PnL is net of all fees:
//! `realized = sell proceeds − sell fee − cost basis of the sold quantity`, and
//! `unrealized = quantity × mark − remaining cost basis`.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::order::Side;
use crate::TimeMs;

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Balance {
    pub free: Decimal,
    pub locked: Decimal,
}

impl Balance {
    pub fn total(&self) -> Decimal {
        self.free + self.locked
    }
}

/// Why a balance moved; every change is recorded in the ledger with its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeReason {
    Deposit,
    Lock,
    Unlock,
    Fill,
    Fee,
}

impl ChangeReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeReason::Deposit => "deposit",
            ChangeReason::Lock => "lock",
            ChangeReason::Unlock => "unlock",
            ChangeReason::Fill => "fill",
            ChangeReason::Fee => "fee",
        }
    }
}

/// One balance movement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BalanceChange {
    pub asset: String,
    pub free_delta: Decimal,
    pub locked_delta: Decimal,
    pub reason: ChangeReason,
    pub order_id: Option<u64>,
    pub fill_id: Option<u64>,
    pub time_ms: TimeMs,
}

/// One execution of (part of) an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fill {
    pub id: u64,
    pub order_id: u64,
    pub symbol: String,
    pub side: Side,
    pub price: Decimal,
    pub quantity: Decimal,
    /// `price × quantity`.
    pub quote_quantity: Decimal,
    pub fee: Decimal,
    pub fee_asset: String,
    /// The order rested on the book and was hit (maker fee), rather than taking.
    pub is_maker: bool,
    pub time_ms: TimeMs,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Position {
    pub symbol: String,
    pub quantity: Decimal,
    /// What the current quantity cost, fees included.
    pub cost_basis: Decimal,
    pub realized_pnl: Decimal,
    pub fees_paid: Decimal,
    pub bought: Decimal,
    pub sold: Decimal,
}

impl Position {
    /// Average cost per unit, fees included (zero when flat).
    pub fn avg_cost(&self) -> Decimal {
        if self.quantity.is_zero() {
            Decimal::ZERO
        } else {
            self.cost_basis / self.quantity
        }
    }

    pub fn unrealized_pnl(&self, mark: Decimal) -> Decimal {
        self.quantity * mark - self.cost_basis
    }

    /// Account for a fill whose fee is in the quote asset.
    pub fn apply_fill(&mut self, fill: &Fill) {
        self.fees_paid += fill.fee;
        match fill.side {
            Side::Buy => {
                self.quantity += fill.quantity;
                self.cost_basis += fill.quote_quantity + fill.fee;
                self.bought += fill.quantity;
            }
            Side::Sell => {
                let out = if fill.quantity >= self.quantity {
                    self.cost_basis
                } else {
                    self.cost_basis * fill.quantity / self.quantity
                };
                self.realized_pnl += fill.quote_quantity - fill.fee - out;
                self.cost_basis -= out;
                self.quantity -= fill.quantity;
                self.sold += fill.quantity;
                if self.quantity <= Decimal::ZERO {
                    self.quantity = Decimal::ZERO;
                    self.cost_basis = Decimal::ZERO;
                }
            }
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Portfolio {
    pub balances: BTreeMap<String, Balance>,
    pub positions: BTreeMap<String, Position>,
}

impl Portfolio {
    pub fn balance(&self, asset: &str) -> Balance {
        self.balances.get(asset).copied().unwrap_or_default()
    }

    pub fn free(&self, asset: &str) -> Decimal {
        self.balance(asset).free
    }

    /// Apply one recorded change. The exchange only emits changes that keep balances
    /// non-negative; restoring from the ledger applies the same changes.
    pub fn apply_change(&mut self, change: &BalanceChange) {
        self.apply_delta(&change.asset, change.free_delta, change.locked_delta);
    }

    /// Move `asset`'s free and locked balances by these amounts (what [`Portfolio::apply_change`]
    /// does, for a change that is not recorded as such).
    pub fn apply_delta(&mut self, asset: &str, free_delta: Decimal, locked_delta: Decimal) {
        // Look up before inserting: the key is copied only for a new asset.
        let b = match self.balances.get_mut(asset) {
            Some(b) => b,
            None => self.balances.entry(asset.to_string()).or_default(),
        };
        b.free += free_delta;
        b.locked += locked_delta;
        // A balance that comes to zero is `0`, never the `-0` a negative zero delta leaves.
        if b.free.is_zero() {
            b.free = Decimal::ZERO;
        }
        if b.locked.is_zero() {
            b.locked = Decimal::ZERO;
        }
    }

    pub fn apply_fill(&mut self, fill: &Fill) {
        let p = match self.positions.get_mut(&fill.symbol) {
            Some(p) => p,
            None => self
                .positions
                .entry(fill.symbol.clone())
                .or_insert_with(|| Position {
                    symbol: fill.symbol.clone(),
                    ..Default::default()
                }),
        };
        p.apply_fill(fill);
    }

    pub fn position(&self, symbol: &str) -> Option<&Position> {
        self.positions.get(symbol)
    }

    pub fn realized_pnl(&self) -> Decimal {
        self.positions.values().map(|p| p.realized_pnl).sum()
    }

    pub fn fees_paid(&self) -> Decimal {
        self.positions.values().map(|p| p.fees_paid).sum()
    }
}
