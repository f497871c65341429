//! Stop-loss, take-profit, stop-limit and OCO orders on an L2 book with trades.

mod common;

use common::*;
use papermemes_core::exchange::{Exchange, ExecEvent, STOP_TRIGGERED};
use papermemes_core::order::{OcoRequest, OrderRequest, OrderStatus, OrderType, Side, TimeInForce};
use papermemes_core::Decimal;
use rust_decimal_macros::dec;

/// Holds 1 BTC (bought at 61837.64), last trade 61837.63.
fn holding() -> Exchange {
    let mut ex = exchange(0, dec!(100000));
    feed(
        &mut ex,
        &[
            btc_book(1_000),
            trade(BTC, 1_001, dec!(61837.63), dec!(0.01), true),
        ],
    );
    ex.submit(OrderRequest::market(BTC, Side::Buy, dec!(1)), 1_002)
        .expect("buy");
    assert_eq!(free(&ex, "BTC"), dec!(1));
    ex
}

fn stop(ty: OrderType, side: Side, stop: Decimal, price: Option<Decimal>) -> OrderRequest {
    let mut r = OrderRequest::new(BTC, side, ty, Some(dec!(1)), price, Some(stop));
    if price.is_some() {
        r.time_in_force = Some(TimeInForce::Gtc);
    }
    r
}

fn triggered_update(ev: &[ExecEvent], id: u64) -> bool {
    ev.iter().any(|e| matches!(e, ExecEvent::OrderUpdate(u) if u.order_id == id && u.reason.as_deref() == Some(STOP_TRIGGERED)))
}

#[test]
fn stop_loss_sell_triggers_at_or_below_the_stop_and_takes_the_book() {
    let mut ex = holding();
    let (o, _) = ex
        .submit(
            stop(OrderType::StopLoss, Side::Sell, dec!(61000), None),
            2_000,
        )
        .expect("ok");
    assert_eq!(locked(&ex, "BTC"), dec!(1));
    let ev = feed(
        &mut ex,
        &[
            snapshot(
                BTC,
                3_000,
                &[(dec!(60990), dec!(0.4)), (dec!(60980), dec!(5))],
                &[(dec!(61000.5), dec!(1))],
            ),
            trade(BTC, 3_001, dec!(61000.01), dec!(0.1), true),
        ],
    );
    assert!(fills(&ev).is_empty(), "61000.01 is above the stop");
    let ev = feed(&mut ex, &[trade(BTC, 3_002, dec!(61000), dec!(0.1), true)]);
    assert!(triggered_update(&ev, o.id));
    let f = fills_of(&ev, o.id);
    assert_eq!(
        f.iter().map(|f| (f.price, f.quantity)).collect::<Vec<_>>(),
        vec![(dec!(60990), dec!(0.4)), (dec!(60980), dec!(0.6))]
    );
    assert!(f
        .iter()
        .all(|f| !f.is_maker && f.fee == f.quote_quantity * dec!(0.00075)));
    assert_eq!(last_status(&ev, o.id), Some(OrderStatus::Filled));
    assert_eq!(ex.portfolio().balance("BTC").total(), Decimal::ZERO);
}

#[test]
fn take_profit_sell_triggers_at_or_above_the_stop() {
    let mut ex = holding();
    let (o, _) = ex
        .submit(
            stop(OrderType::TakeProfit, Side::Sell, dec!(62000), None),
            2_000,
        )
        .expect("ok");
    let ev = feed(
        &mut ex,
        &[
            snapshot(
                BTC,
                3_000,
                &[(dec!(62010), dec!(2))],
                &[(dec!(62011), dec!(1))],
            ),
            trade(BTC, 3_001, dec!(61999.99), dec!(0.1), false),
        ],
    );
    assert!(fills(&ev).is_empty());
    let ev = feed(&mut ex, &[trade(BTC, 3_002, dec!(62000), dec!(0.1), false)]);
    assert_eq!(
        fills_of(&ev, o.id)
            .iter()
            .map(|f| (f.price, f.quantity))
            .collect::<Vec<_>>(),
        vec![(dec!(62010), dec!(1))]
    );
    assert_eq!(last_status(&ev, o.id), Some(OrderStatus::Filled));
}

#[test]
fn stop_limit_becomes_a_resting_limit() {
    let mut ex = holding();
    let (o, _) = ex
        .submit(
            stop(
                OrderType::StopLossLimit,
                Side::Sell,
                dec!(61000),
                Some(dec!(60900)),
            ),
            2_000,
        )
        .expect("ok");
    let ev = feed(
        &mut ex,
        &[
            snapshot(
                BTC,
                3_000,
                &[(dec!(60800), dec!(5))],
                &[(dec!(60801), dec!(1))],
            ),
            trade(BTC, 3_001, dec!(61000), dec!(0.1), true),
        ],
    );
    assert!(triggered_update(&ev, o.id));
    assert!(
        fills(&ev).is_empty(),
        "the bids are below the limit: it rests"
    );
    let open = ex.order(o.id).expect("rests");
    assert!(open.triggered && open.working);
    assert_eq!(open.status, OrderStatus::New);
    // Bids cross the limit: filled at the limit, as maker.
    let ev = feed(
        &mut ex,
        &[delta(BTC, 3_100, &[(dec!(60950), dec!(0.4))], &[])],
    );
    let f = fills_of(&ev, o.id);
    assert_eq!(
        (f[0].price, f[0].quantity, f[0].is_maker),
        (dec!(60900), dec!(0.4), true)
    );
    // A buyer prints through the limit: the rest fills.
    let ev = feed(
        &mut ex,
        &[trade(BTC, 3_200, dec!(60901), dec!(0.01), false)],
    );
    let f = fills_of(&ev, o.id);
    assert_eq!((f[0].price, f[0].quantity), (dec!(60900), dec!(0.6)));
    assert_eq!(last_status(&ev, o.id), Some(OrderStatus::Filled));
    assert_eq!(ex.portfolio().balance("BTC").total(), Decimal::ZERO);
    assert_eq!(locked(&ex, "BTC"), Decimal::ZERO);
}

#[test]
fn stop_limit_marketable_at_trigger_takes_within_its_limit() {
    let mut ex = holding();
    let (o, _) = ex
        .submit(
            stop(
                OrderType::StopLossLimit,
                Side::Sell,
                dec!(61000),
                Some(dec!(60985)),
            ),
            2_000,
        )
        .expect("ok");
    let ev = feed(
        &mut ex,
        &[
            snapshot(
                BTC,
                3_000,
                &[
                    (dec!(60990), dec!(0.3)),
                    (dec!(60985), dec!(0.2)),
                    (dec!(60980), dec!(5)),
                ],
                &[(dec!(61000.5), dec!(1))],
            ),
            trade(BTC, 3_001, dec!(60999), dec!(0.1), true),
        ],
    );
    let f = fills_of(&ev, o.id);
    assert_eq!(
        f.iter()
            .map(|f| (f.price, f.quantity, f.is_maker))
            .collect::<Vec<_>>(),
        vec![
            (dec!(60990), dec!(0.3), false),
            (dec!(60985), dec!(0.2), false)
        ]
    );
    assert_eq!(
        ex.order(o.id).and_then(|o| o.remaining()),
        Some(dec!(0.5)),
        "the rest rests at 60985"
    );
}

fn sell_oco(stop_limit: Option<Decimal>) -> OcoRequest {
    OcoRequest {
        symbol: BTC.into(),
        side: Side::Sell,
        quantity: dec!(1),
        price: dec!(63000),
        stop_price: dec!(61000),
        stop_limit_price: stop_limit,
    }
}

#[test]
fn oco_limit_leg_fill_expires_the_stop_leg() {
    let mut ex = holding();
    let usdt = free(&ex, "USDT");
    let (legs, _) = ex.submit_oco(sell_oco(None), 2_000).expect("ok");
    let (a, b) = (legs[0].id, legs[1].id);
    assert_eq!(legs[0].order_type, OrderType::LimitMaker);
    assert_eq!(legs[1].order_type, OrderType::StopLoss);
    assert_eq!(
        (legs[0].locked, legs[1].locked),
        (dec!(1), dec!(0)),
        "the pair locks once"
    );
    assert_eq!(locked(&ex, "BTC"), dec!(1));
    let ev = feed(
        &mut ex,
        &[trade(BTC, 3_000, dec!(63000.01), dec!(0.5), false)],
    );
    let f = fills_of(&ev, a);
    assert_eq!(
        (f[0].price, f[0].quantity, f[0].is_maker),
        (dec!(63000), dec!(1), true)
    );
    assert_eq!(last_status(&ev, a), Some(OrderStatus::Filled));
    assert_eq!(last_status(&ev, b), Some(OrderStatus::Expired));
    assert_eq!(ex.open_orders().count(), 0);
    assert_eq!(ex.portfolio().balance("BTC"), Default::default());
    assert_eq!(free(&ex, "USDT"), usdt + dec!(63000) - dec!(12.6));
    // The expired stop leg never fires.
    let ev = feed(&mut ex, &[trade(BTC, 4_000, dec!(60000), dec!(1), true)]);
    assert!(fills(&ev).is_empty());
}

#[test]
fn oco_stop_leg_trigger_expires_the_limit_leg() {
    let mut ex = holding();
    let (legs, _) = ex.submit_oco(sell_oco(None), 2_000).expect("ok");
    let (a, b) = (legs[0].id, legs[1].id);
    let ev = feed(
        &mut ex,
        &[
            snapshot(
                BTC,
                3_000,
                &[(dec!(60990), dec!(2))],
                &[(dec!(61000.5), dec!(1))],
            ),
            trade(BTC, 3_001, dec!(61000), dec!(0.1), true),
        ],
    );
    assert_eq!(last_status(&ev, a), Some(OrderStatus::Expired));
    assert_eq!(last_status(&ev, b), Some(OrderStatus::Filled));
    let f = fills_of(&ev, b);
    assert_eq!(
        (f[0].price, f[0].quantity, f[0].is_maker),
        (dec!(60990), dec!(1), false)
    );
    assert_eq!(ex.portfolio().balance("BTC"), Default::default());
    // The expired limit leg never fills.
    let ev = feed(&mut ex, &[trade(BTC, 4_000, dec!(64000), dec!(1), false)]);
    assert!(fills(&ev).is_empty());
}

#[test]
fn oco_lock_moves_to_a_triggered_stop_limit_leg() {
    let mut ex = holding();
    let (legs, _) = ex
        .submit_oco(sell_oco(Some(dec!(60900))), 2_000)
        .expect("ok");
    let (a, b) = (legs[0].id, legs[1].id);
    assert_eq!(legs[1].order_type, OrderType::StopLossLimit);
    let ev = feed(
        &mut ex,
        &[
            snapshot(
                BTC,
                3_000,
                &[(dec!(60800), dec!(2))],
                &[(dec!(60801), dec!(1))],
            ),
            trade(BTC, 3_001, dec!(60999), dec!(0.1), true),
        ],
    );
    assert_eq!(last_status(&ev, a), Some(OrderStatus::Expired));
    assert!(fills(&ev).is_empty());
    let leg = ex.order(b).expect("the stop-limit leg rests");
    assert_eq!((leg.locked_asset.as_str(), leg.locked), ("BTC", dec!(1)));
    assert_eq!(
        ex.portfolio().balance("BTC"),
        papermemes_core::portfolio::Balance {
            free: dec!(0),
            locked: dec!(1)
        }
    );
}

#[test]
fn buy_oco_reserves_enough_for_either_leg() {
    let mut ex = exchange(0, dec!(100000));
    feed(
        &mut ex,
        &[
            btc_book(1_000),
            trade(BTC, 1_001, dec!(61837.63), dec!(0.01), true),
        ],
    );
    let req = OcoRequest {
        symbol: BTC.into(),
        side: Side::Buy,
        quantity: dec!(1),
        price: dec!(61000),
        stop_price: dec!(62500),
        stop_limit_price: None,
    };
    let (legs, _) = ex.submit_oco(req, 2_000).expect("ok");
    // The stop leg may pay 62500 (+ fee), more than the limit leg's 61000.
    assert_eq!(locked(&ex, "USDT"), dec!(62500) * dec!(1.00075));
    let ev = feed(
        &mut ex,
        &[
            snapshot(
                BTC,
                3_000,
                &[(dec!(62499), dec!(1))],
                &[(dec!(62500.5), dec!(2))],
            ),
            trade(BTC, 3_001, dec!(62500), dec!(0.1), false),
        ],
    );
    assert_eq!(last_status(&ev, legs[0].id), Some(OrderStatus::Expired));
    assert_eq!(last_status(&ev, legs[1].id), Some(OrderStatus::Filled));
    assert_eq!(free(&ex, "BTC"), dec!(1));
    assert_eq!(locked(&ex, "USDT"), Decimal::ZERO);
    assert_conserved(&ex, dec!(100000), &ev, "BTC");
}

#[test]
fn cancelling_one_oco_leg_cancels_both() {
    let mut ex = holding();
    let (legs, _) = ex.submit_oco(sell_oco(None), 2_000).expect("ok");
    let ev = ex.cancel(legs[1].id, 2_100).expect("cancel");
    assert_eq!(last_status(&ev, legs[0].id), Some(OrderStatus::Canceled));
    assert_eq!(last_status(&ev, legs[1].id), Some(OrderStatus::Canceled));
    assert_eq!(ex.open_orders().count(), 0);
    assert_eq!(
        ex.portfolio().balance("BTC"),
        papermemes_core::portfolio::Balance {
            free: dec!(1),
            locked: dec!(0)
        }
    );
}

#[test]
fn cancel_all_of_a_symbol_cancels_its_orders_and_pairs_only() {
    let mut ex = holding();
    feed(
        &mut ex,
        &[snapshot(
            DOGE,
            1_500,
            &[(dec!(0.09), dec!(100000))],
            &[(dec!(0.091), dec!(100000))],
        )],
    );
    let (legs, _) = ex.submit_oco(sell_oco(None), 2_000).expect("oco");
    let (doge, _) = ex
        .submit(
            OrderRequest::limit(DOGE, Side::Buy, dec!(1000), dec!(0.08)),
            2_000,
        )
        .expect("doge limit");
    assert_eq!(locked(&ex, "BTC"), dec!(1));
    let usdt_locked = locked(&ex, "USDT");
    assert!(usdt_locked > Decimal::ZERO);

    let ev = ex.cancel_all(Some(BTC), 2_100);
    for leg in &legs {
        assert_eq!(last_status(&ev, leg.id), Some(OrderStatus::Canceled));
    }
    assert_eq!(last_status(&ev, doge.id), None, "another symbol's order");
    let open: Vec<u64> = ex.open_orders().map(|o| o.id).collect();
    assert_eq!(open, vec![doge.id]);
    assert_eq!(free(&ex, "BTC"), dec!(1));
    assert_eq!(locked(&ex, "BTC"), Decimal::ZERO);
    assert_eq!(locked(&ex, "USDT"), usdt_locked);

    let ev = ex.cancel_all(None, 2_200);
    assert_eq!(last_status(&ev, doge.id), Some(OrderStatus::Canceled));
    assert_eq!(ex.open_orders().count(), 0);
    assert_eq!(locked(&ex, "USDT"), Decimal::ZERO);
    // Nothing left to cancel: nothing happens.
    assert!(ex.cancel_all(None, 2_300).is_empty());
}
