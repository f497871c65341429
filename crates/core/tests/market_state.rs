//! Saving the exchange's market and restoring it gives an exchange that fills the next orders
//! exactly as the original would (an app resumes a long session this way).

mod common;

use common::*;
use papermemes_core::exchange::MarketState;
use papermemes_core::order::{OrderRequest, Side};
use rust_decimal_macros::dec;

#[test]
fn a_restored_market_fills_the_next_order_exactly_like_the_original() {
    let mut a = exchange(0, dec!(100000));
    feed(&mut a, &[btc_book(1)]);
    // Our market buy takes liquidity: the consumed size must survive the save.
    let (_, ev) = a
        .submit(OrderRequest::market(BTC, Side::Buy, dec!(1.6)), 2)
        .expect("accepted");
    assert!(!fills(&ev).is_empty());
    feed(&mut a, &[trade(BTC, 3, dec!(61837.63), dec!(0.1), true)]);

    let json = serde_json::to_string(&a.market_state()).expect("save");
    let saved: MarketState = serde_json::from_str(&json).expect("load");
    // A fresh exchange (balances come from the ledger in the app; only the market is saved).
    let mut b = exchange(0, dec!(100000));
    b.restore_market_state(saved);
    assert_eq!(b.market_state(), a.market_state());
    assert_eq!(b.now(), 3);

    // The same next order fills identically on both (same book, same consumed liquidity).
    let fa = a
        .submit(OrderRequest::market(BTC, Side::Buy, dec!(0.01)), 4)
        .expect("a");
    let fb = b
        .submit(OrderRequest::market(BTC, Side::Buy, dec!(0.01)), 4)
        .expect("b");
    let pa: Vec<_> = fills(&fa.1).iter().map(|f| (f.price, f.quantity)).collect();
    let pb: Vec<_> = fills(&fb.1).iter().map(|f| (f.price, f.quantity)).collect();
    assert_eq!(pa, pb);
    assert!(
        pa.iter().all(|(p, _)| *p > dec!(61837.64)),
        "the 1.6 BTC taken at the best ask is still gone after the restore: {pa:?}"
    );
}
