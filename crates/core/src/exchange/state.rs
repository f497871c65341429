//! The exchange's view of the market (books, last prices, the liquidity our own fills took),
//! saved and restored as a value, so an app can resume a long market session at once instead of
//! feeding it every event again. Orders and balances are not in it: they come from the ledger.

use serde::{Deserialize, Serialize};

use super::{Exchange, Market};
use crate::book::OrderBook;
use crate::order::Side;
use crate::TimeMs;
use rust_decimal::Decimal;

/// One symbol's market as the exchange holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SymbolState {
    pub symbol: String,
    pub book: OrderBook,
    pub has_book: bool,
    pub last_trade: Option<Decimal>,
    pub last_close: Option<Decimal>,
    /// `(book side, price, quantity)` our fills took from levels not updated since.
    pub consumed: Vec<(Side, Decimal, Decimal)>,
    /// `(book side, price, quantity)` traded at levels since their last update.
    pub traded: Vec<(Side, Decimal, Decimal)>,
}

/// Every symbol's market and the exchange's clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarketState {
    pub now: TimeMs,
    pub symbols: Vec<SymbolState>,
}

impl Exchange {
    /// The market as the exchange sees it now.
    pub fn market_state(&self) -> MarketState {
        MarketState {
            now: self.now,
            symbols: self
                .markets
                .iter()
                .map(|(symbol, m)| SymbolState {
                    symbol: symbol.clone(),
                    book: m.book.clone(),
                    has_book: m.has_book,
                    last_trade: m.last_trade,
                    last_close: m.last_close,
                    consumed: m.consumed.iter().map(|((s, p), q)| (*s, *p, *q)).collect(),
                    traded: m.traded.iter().map(|((s, p), q)| (*s, *p, *q)).collect(),
                })
                .collect(),
        }
    }

    /// Replace the market with a saved one (before [`Exchange::reinstate_orders`]). Matches
    /// nothing; the clock moves to the saved time if that is later.
    pub fn restore_market_state(&mut self, state: MarketState) {
        self.markets.clear();
        for s in state.symbols {
            self.markets.insert(
                s.symbol,
                Market {
                    book: s.book,
                    has_book: s.has_book,
                    last_trade: s.last_trade,
                    last_close: s.last_close,
                    consumed: s
                        .consumed
                        .into_iter()
                        .map(|(a, p, q)| ((a, p), q))
                        .collect(),
                    traded: s.traded.into_iter().map(|(a, p, q)| ((a, p), q)).collect(),
                },
            );
        }
        self.now = self.now.max(state.now);
    }
}

impl Exchange {
    /// Where each resting order stands in its level's queue (size ahead of it). Not in the
    /// ledger: saved with the market so a resumed session fills exactly as it would have.
    pub fn queue_positions(&self) -> Vec<(u64, Decimal)> {
        self.open
            .values()
            .filter_map(|o| o.queue_ahead.map(|q| (o.id, q)))
            .collect()
    }

    /// Put saved queue positions back (after [`Exchange::reinstate_orders`]).
    pub fn restore_queue_positions(&mut self, positions: &[(u64, Decimal)]) {
        for (id, ahead) in positions {
            if let Some(o) = self.open.get_mut(id) {
                o.queue_ahead = Some(*ahead);
            }
        }
        self.queues_unknown = self
            .open
            .values()
            .any(|o| o.queue_ahead.is_none() && o.working && o.working_limit().is_some());
    }
}
