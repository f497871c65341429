//! An L2 order book: price levels with absolute quantities, as Binance publishes them.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::event::Level;
use crate::order::Side;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderBook {
    bids: BTreeMap<Decimal, Decimal>,
    asks: BTreeMap<Decimal, Decimal>,
    pub last_update_id: u64,
}

impl OrderBook {
    pub fn new() -> Self {
        Self::default()
    }

    /// Replace the whole book.
    pub fn reset(&mut self, bids: &[Level], asks: &[Level], last_update_id: u64) {
        self.bids.clear();
        self.asks.clear();
        self.apply(bids, asks);
        self.last_update_id = last_update_id;
    }

    /// Apply absolute level quantities; zero removes the level. Returns nothing: callers that
    /// need the previous quantity read it with [`OrderBook::qty_at`] first.
    pub fn apply(&mut self, bids: &[Level], asks: &[Level]) {
        for &(p, q) in bids {
            Self::set(&mut self.bids, p, q);
        }
        for &(p, q) in asks {
            Self::set(&mut self.asks, p, q);
        }
    }

    pub fn set_level(&mut self, side: Side, price: Decimal, qty: Decimal) {
        self.replace_level(side, price, qty);
    }

    /// Set one level (zero removes it) and return the quantity it had (zero if none): one walk
    /// of the tree instead of a lookup and then an update.
    pub fn replace_level(&mut self, side: Side, price: Decimal, qty: Decimal) -> Decimal {
        let map = match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        };
        Self::set(map, price, qty)
    }

    fn set(map: &mut BTreeMap<Decimal, Decimal>, price: Decimal, qty: Decimal) -> Decimal {
        let old = if qty.is_zero() {
            map.remove(&price)
        } else {
            map.insert(price, qty)
        };
        old.unwrap_or(Decimal::ZERO)
    }

    pub fn best_bid(&self) -> Option<Level> {
        self.bids.iter().next_back().map(|(p, q)| (*p, *q))
    }

    pub fn best_ask(&self) -> Option<Level> {
        self.asks.iter().next().map(|(p, q)| (*p, *q))
    }

    pub fn mid(&self) -> Option<Decimal> {
        match (self.best_bid(), self.best_ask()) {
            (Some((b, _)), Some((a, _))) => Some((a + b) / Decimal::TWO),
            (Some((b, _)), None) => Some(b),
            (None, Some((a, _))) => Some(a),
            (None, None) => None,
        }
    }

    pub fn qty_at(&self, side: Side, price: Decimal) -> Decimal {
        let map = match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        };
        map.get(&price).copied().unwrap_or(Decimal::ZERO)
    }

    /// Levels a taker on `taker_side` would consume, best first (asks ascending for a buy,
    /// bids descending for a sell).
    pub fn levels_for_taker(&self, taker_side: Side) -> Box<dyn Iterator<Item = Level> + '_> {
        match taker_side {
            Side::Buy => Box::new(self.asks.iter().map(|(p, q)| (*p, *q))),
            Side::Sell => Box::new(self.bids.iter().rev().map(|(p, q)| (*p, *q))),
        }
    }

    pub fn bids(&self) -> impl DoubleEndedIterator<Item = Level> + '_ {
        self.bids.iter().rev().map(|(p, q)| (*p, *q))
    }

    pub fn asks(&self) -> impl DoubleEndedIterator<Item = Level> + '_ {
        self.asks.iter().map(|(p, q)| (*p, *q))
    }

    pub fn bid_levels(&self) -> usize {
        self.bids.len()
    }

    pub fn ask_levels(&self) -> usize {
        self.asks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bids.is_empty() && self.asks.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn snapshot_then_diffs() {
        let mut b = OrderBook::new();
        b.reset(
            &[(dec!(10), dec!(1)), (dec!(9), dec!(2))],
            &[(dec!(11), dec!(3))],
            5,
        );
        assert_eq!(b.best_bid(), Some((dec!(10), dec!(1))));
        b.apply(&[(dec!(10.00), dec!(0))], &[(dec!(10.5), dec!(1))]);
        assert_eq!(
            b.best_bid(),
            Some((dec!(9), dec!(2))),
            "10.00 removes the 10 level"
        );
        assert_eq!(b.best_ask(), Some((dec!(10.5), dec!(1))));
        assert_eq!(b.mid(), Some(dec!(9.75)));
        let walk: Vec<_> = b.levels_for_taker(Side::Buy).collect();
        assert_eq!(walk, vec![(dec!(10.5), dec!(1)), (dec!(11), dec!(3))]);
    }
}
