//! Order entry: every refusal returns the right code and changes nothing.

mod common;

use common::*;
use papermemes_core::exchange::Exchange;
use papermemes_core::order::{OcoRequest, OrderRequest, OrderStatus, OrderType, Side, TimeInForce};
use papermemes_core::Decimal;
use rust_decimal_macros::dec;

/// 1000 USDT, a DOGE book 0.10000 / 0.10010, last trade 0.10005, 1000 DOGE bought, and a BTC book.
fn setup() -> Exchange {
    let mut ex = exchange(0, dec!(1000));
    feed(
        &mut ex,
        &[
            snapshot(
                DOGE,
                1_000,
                &[(dec!(0.10000), dec!(100000))],
                &[(dec!(0.10010), dec!(100000))],
            ),
            trade(DOGE, 1_001, dec!(0.10005), dec!(500), false),
            btc_book(1_002),
        ],
    );
    let (o, _) = ex
        .submit(OrderRequest::market(DOGE, Side::Buy, dec!(1000)), 1_010)
        .expect("buy");
    assert_eq!(o.status, OrderStatus::Filled);
    assert_eq!(free(&ex, "DOGE"), dec!(1000));
    ex
}

fn assert_refused(ex: &mut Exchange, req: OrderRequest, code: &str) {
    let before = state(ex);
    let err = ex
        .submit(req.clone(), 5_000)
        .expect_err(&format!("{req:?} must be refused"));
    assert_eq!(err.code(), code, "{req:?}: {err}");
    assert_eq!(state(ex), before, "a refusal ({code}) changed the account");
}

fn req(
    symbol: &str,
    side: Side,
    ty: OrderType,
    qty: Option<Decimal>,
    price: Option<Decimal>,
    stop: Option<Decimal>,
) -> OrderRequest {
    OrderRequest::new(symbol, side, ty, qty, price, stop)
}

#[test]
fn price_off_tick_is_refused() {
    let mut ex = setup();
    assert_refused(
        &mut ex,
        OrderRequest::limit(DOGE, Side::Buy, dec!(100), dec!(0.100001)),
        "filter_price",
    );
    assert_refused(
        &mut ex,
        OrderRequest::limit(BTC, Side::Buy, dec!(0.001), dec!(60000.001)),
        "filter_price",
    );
    // A stop price is held to the tick as well.
    assert_refused(
        &mut ex,
        req(
            DOGE,
            Side::Sell,
            OrderType::StopLoss,
            Some(dec!(100)),
            None,
            Some(dec!(0.090001)),
        ),
        "filter_price",
    );
}

#[test]
fn quantity_off_step_is_refused() {
    let mut ex = setup();
    assert_refused(
        &mut ex,
        OrderRequest::limit(DOGE, Side::Buy, dec!(100.5), dec!(0.1)),
        "filter_lot_size",
    );
    assert_refused(
        &mut ex,
        OrderRequest::limit(BTC, Side::Buy, dec!(0.000011), dec!(60000)),
        "filter_lot_size",
    );
    assert_refused(
        &mut ex,
        OrderRequest::market(DOGE, Side::Buy, dec!(10.5)),
        "filter_lot_size",
    );
}

#[test]
fn notional_below_minimum_is_refused() {
    let mut ex = setup();
    // 49 × 0.1 = 4.9 < 5
    assert_refused(
        &mut ex,
        OrderRequest::limit(DOGE, Side::Buy, dec!(49), dec!(0.1)),
        "filter_min_notional",
    );
    // Market orders too (applyMinToMarket): 40 DOGE at the ask ≈ 4.004 USDT.
    assert_refused(
        &mut ex,
        OrderRequest::market(DOGE, Side::Buy, dec!(40)),
        "filter_min_notional",
    );
    assert_refused(
        &mut ex,
        OrderRequest::market_quote(DOGE, Side::Buy, dec!(4.99)),
        "filter_min_notional",
    );
    // 50 × 0.1 = 5 is exactly enough.
    assert!(ex
        .submit(
            OrderRequest::limit(DOGE, Side::Buy, dec!(50), dec!(0.1)),
            5_000
        )
        .is_ok());
}

#[test]
fn insufficient_balance_is_refused() {
    let mut ex = setup();
    // ~900 USDT left; 20000 × 0.1 = 2000.
    assert_refused(
        &mut ex,
        OrderRequest::limit(DOGE, Side::Buy, dec!(20000), dec!(0.1)),
        "insufficient_balance",
    );
    assert_refused(
        &mut ex,
        OrderRequest::market(DOGE, Side::Buy, dec!(20000)),
        "insufficient_balance",
    );
    assert_refused(
        &mut ex,
        OrderRequest::market_quote(DOGE, Side::Buy, dec!(2000)),
        "insufficient_balance",
    );
    // The fee is reserved too: 899.82 USDT free cannot buy 8998 DOGE at 0.1 (899.8 + fee).
    let free_usdt = free(&ex, "USDT");
    let qty = (free_usdt / dec!(0.1)).floor();
    assert_refused(
        &mut ex,
        OrderRequest::limit(DOGE, Side::Buy, qty, dec!(0.1)),
        "insufficient_balance",
    );
}

#[test]
fn selling_more_than_held_is_refused() {
    let mut ex = setup();
    assert_refused(
        &mut ex,
        OrderRequest::limit(DOGE, Side::Sell, dec!(1001), dec!(0.11)),
        "insufficient_balance",
    );
    assert_refused(
        &mut ex,
        OrderRequest::market(DOGE, Side::Sell, dec!(1001)),
        "insufficient_balance",
    );
    assert_refused(
        &mut ex,
        OrderRequest::market(BTC, Side::Sell, dec!(0.001)),
        "insufficient_balance",
    );
    assert_refused(
        &mut ex,
        OrderRequest::market_quote(DOGE, Side::Sell, dec!(500)),
        "insufficient_balance",
    );
    // Locked DOGE cannot be sold twice.
    ex.submit(
        OrderRequest::limit(DOGE, Side::Sell, dec!(600), dec!(0.11)),
        5_000,
    )
    .expect("rests");
    assert_refused(
        &mut ex,
        OrderRequest::limit(DOGE, Side::Sell, dec!(401), dec!(0.11)),
        "insufficient_balance",
    );
}

#[test]
fn unknown_symbol_is_refused() {
    let mut ex = setup();
    assert_refused(
        &mut ex,
        OrderRequest::market("NOPEUSDT", Side::Buy, dec!(1)),
        "unknown_symbol",
    );
    let before = state(&ex);
    let oco = OcoRequest {
        symbol: "NOPEUSDT".into(),
        side: Side::Sell,
        quantity: dec!(1),
        price: dec!(2),
        stop_price: dec!(1),
        stop_limit_price: None,
    };
    assert_eq!(
        ex.submit_oco(oco, 5_000).expect_err("unknown").code(),
        "unknown_symbol"
    );
    assert_eq!(state(&ex), before);
}

#[test]
fn malformed_parameters_are_refused() {
    let mut ex = setup();
    let mut both = OrderRequest::market(DOGE, Side::Buy, dec!(100));
    both.quote_quantity = Some(dec!(10));
    assert_refused(&mut ex, both, "invalid_parameter");
    let mut neither = OrderRequest::market(DOGE, Side::Buy, dec!(100));
    neither.quantity = None;
    assert_refused(&mut ex, neither, "invalid_parameter");
    assert_refused(
        &mut ex,
        req(
            DOGE,
            Side::Buy,
            OrderType::Limit,
            Some(dec!(100)),
            None,
            None,
        ),
        "invalid_parameter",
    );
    assert_refused(
        &mut ex,
        OrderRequest::market(DOGE, Side::Buy, dec!(100)).with_tif(TimeInForce::Ioc),
        "invalid_parameter",
    );
    assert_refused(
        &mut ex,
        OrderRequest::limit(DOGE, Side::Buy, dec!(0), dec!(0.1)),
        "invalid_parameter",
    );
    assert_refused(
        &mut ex,
        OrderRequest::limit(DOGE, Side::Buy, dec!(100), dec!(-0.1)),
        "invalid_parameter",
    );
}

#[test]
fn limit_maker_that_would_take_is_refused() {
    let mut ex = setup();
    // At or through the best ask (0.10010) a post-only buy would take.
    assert_refused(
        &mut ex,
        req(
            DOGE,
            Side::Buy,
            OrderType::LimitMaker,
            Some(dec!(100)),
            Some(dec!(0.10010)),
            None,
        ),
        "would_take",
    );
    assert_refused(
        &mut ex,
        req(
            DOGE,
            Side::Sell,
            OrderType::LimitMaker,
            Some(dec!(100)),
            Some(dec!(0.09990)),
            None,
        ),
        "would_take",
    );
    // One tick inside the spread rests.
    let (o, _) = ex
        .submit(
            req(
                DOGE,
                Side::Buy,
                OrderType::LimitMaker,
                Some(dec!(100)),
                Some(dec!(0.10009)),
                None,
            ),
            5_000,
        )
        .expect("rests");
    assert_eq!(o.status, OrderStatus::New);
    assert!(ex.order(o.id).is_some());
}

#[test]
fn stop_that_would_trigger_immediately_is_refused() {
    let mut ex = setup();
    // Last 0.10005: a sell stop-loss at or above it, a sell take-profit at or below it.
    assert_refused(
        &mut ex,
        req(
            DOGE,
            Side::Sell,
            OrderType::StopLoss,
            Some(dec!(100)),
            None,
            Some(dec!(0.10006)),
        ),
        "stop_would_trigger",
    );
    assert_refused(
        &mut ex,
        req(
            DOGE,
            Side::Sell,
            OrderType::StopLoss,
            Some(dec!(100)),
            None,
            Some(dec!(0.10005)),
        ),
        "stop_would_trigger",
    );
    assert_refused(
        &mut ex,
        req(
            DOGE,
            Side::Sell,
            OrderType::TakeProfit,
            Some(dec!(100)),
            None,
            Some(dec!(0.10000)),
        ),
        "stop_would_trigger",
    );
    assert_refused(
        &mut ex,
        req(
            DOGE,
            Side::Buy,
            OrderType::StopLoss,
            Some(dec!(100)),
            None,
            Some(dec!(0.10000)),
        ),
        "stop_would_trigger",
    );
    assert_refused(
        &mut ex,
        req(
            DOGE,
            Side::Buy,
            OrderType::TakeProfitLimit,
            Some(dec!(100)),
            Some(dec!(0.1001)),
            Some(dec!(0.10010)),
        ),
        "stop_would_trigger",
    );
    assert!(ex
        .submit(
            req(
                DOGE,
                Side::Sell,
                OrderType::StopLoss,
                Some(dec!(100)),
                None,
                Some(dec!(0.09000))
            ),
            5_000
        )
        .is_ok());
}

#[test]
fn bad_oco_price_relationship_is_refused() {
    let mut ex = setup();
    let oco = |side, price, stop| OcoRequest {
        symbol: DOGE.into(),
        side,
        quantity: dec!(500),
        price,
        stop_price: stop,
        stop_limit_price: None,
    };
    for bad in [
        oco(Side::Sell, dec!(0.09990), dec!(0.09000)), // limit below last
        oco(Side::Sell, dec!(0.11000), dec!(0.10010)), // stop above last
        oco(Side::Sell, dec!(0.10005), dec!(0.09000)), // limit equal to last
        oco(Side::Buy, dec!(0.11000), dec!(0.12000)),  // buy limit above last
        oco(Side::Buy, dec!(0.09000), dec!(0.10000)),  // buy stop below last
    ] {
        let before = state(&ex);
        let err = ex.submit_oco(bad.clone(), 5_000).expect_err("bad OCO");
        assert_eq!(err.code(), "oco_prices", "{bad:?}: {err}");
        assert_eq!(state(&ex), before);
    }
    // A sell OCO for more than is held is refused on balance, and also changes nothing.
    let before = state(&ex);
    let err = ex.submit_oco(
        OcoRequest {
            quantity: dec!(5000),
            ..oco(Side::Sell, dec!(0.11), dec!(0.09))
        },
        5_000,
    );
    assert_eq!(err.expect_err("too big").code(), "insufficient_balance");
    assert_eq!(state(&ex), before);
    // A correct one is accepted and locks the DOGE once.
    let (legs, _) = ex
        .submit_oco(oco(Side::Sell, dec!(0.11000), dec!(0.09000)), 5_000)
        .expect("ok");
    assert_eq!(legs.len(), 2);
    assert_eq!(locked(&ex, "DOGE"), dec!(500));
    assert_eq!(legs[0].id + 1, legs[1].id);
    assert_eq!(legs[0].list_id, legs[1].list_id);
}

#[test]
fn cancel_of_unknown_order_changes_nothing() {
    let mut ex = setup();
    let before = state(&ex);
    assert_eq!(
        ex.cancel(999, 9_999).expect_err("unknown").code(),
        "unknown_order"
    );
    assert_eq!(state(&ex), before);
}

#[test]
fn accepted_orders_take_consecutive_ids() {
    let mut ex = setup();
    let next = ex.next_ids().order;
    let (a, _) = ex
        .submit(
            OrderRequest::limit(DOGE, Side::Buy, dec!(100), dec!(0.09)),
            5_000,
        )
        .expect("a");
    let _ = ex.submit(
        OrderRequest::limit(DOGE, Side::Buy, dec!(1), dec!(0.09)),
        5_000,
    );
    let (b, _) = ex
        .submit(
            OrderRequest::limit(DOGE, Side::Buy, dec!(100), dec!(0.09)),
            5_000,
        )
        .expect("b");
    assert_eq!((a.id, b.id), (next, next + 1), "a refused order uses no id");
}
