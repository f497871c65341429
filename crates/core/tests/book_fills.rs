//! L2 book fills, latency, resting limits and the queue model, time in force.

mod common;

use common::*;
use papermemes_core::exchange::Exchange;
use papermemes_core::order::{OrderRequest, OrderStatus, Side, TimeInForce};
use papermemes_core::Decimal;
use rust_decimal_macros::dec;

fn prices_qtys(f: &[papermemes_core::portfolio::Fill]) -> Vec<(Decimal, Decimal)> {
    f.iter().map(|f| (f.price, f.quantity)).collect()
}

#[test]
fn market_buy_walks_the_book_with_slippage() {
    let mut ex = exchange(0, dec!(200000));
    feed(&mut ex, &[btc_book(1_000)]);
    let (o, ev) = ex
        .submit(OrderRequest::market(BTC, Side::Buy, dec!(1.556)), 1_000)
        .expect("ok");
    assert_eq!(o.status, OrderStatus::Filled);
    let f = fills_of(&ev, o.id);
    assert_eq!(
        prices_qtys(&f),
        vec![
            (dec!(61837.64), dec!(1.54698)),
            (dec!(61837.65), dec!(0.00843)),
            (dec!(61837.68), dec!(0.00016)),
            (dec!(61838.13), dec!(0.00043)),
        ]
    );
    let avg = o.cumulative_quote_qty / o.executed_qty;
    assert!(
        avg > dec!(61837.64),
        "average {avg} must be worse than the best ask"
    );
    assert_eq!(o.executed_qty, dec!(1.556));
    for x in &f {
        assert!(!x.is_maker);
        assert_eq!(x.fee, x.quote_quantity * dec!(0.00075));
        assert_eq!(x.fee_asset, "USDT");
    }
    assert_eq!(free(&ex, "BTC"), dec!(1.556));
    assert_eq!(
        locked(&ex, "USDT"),
        Decimal::ZERO,
        "the market order's reservation is released"
    );
    assert_conserved(&ex, dec!(200000), &ev, "BTC");
}

#[test]
fn market_sell_walks_the_bids() {
    let mut ex = exchange(0, dec!(300000));
    feed(&mut ex, &[btc_book(1_000)]);
    ex.deposit("BTC", dec!(4.5), 1_000);
    let (o, ev) = ex
        .submit(OrderRequest::market(BTC, Side::Sell, dec!(4.5)), 1_001)
        .expect("sell");
    assert_eq!(o.status, OrderStatus::Filled);
    assert_eq!(
        prices_qtys(&fills_of(&ev, o.id)),
        vec![
            (dec!(61837.63), dec!(3.78826)),
            (dec!(61837.62), dec!(0.617)),
            (dec!(61837.24), dec!(0.09474))
        ]
    );
    assert_eq!(ex.portfolio().balance("BTC").total(), Decimal::ZERO);
}

#[test]
fn market_order_beyond_depth_fills_what_there_is_and_expires() {
    let mut ex = exchange(0, dec!(200000));
    feed(&mut ex, &[btc_book(1_000)]);
    let (o, ev) = ex
        .submit(OrderRequest::market(BTC, Side::Buy, dec!(2)), 1_000)
        .expect("ok");
    assert_eq!(
        o.status,
        OrderStatus::Expired,
        "Binance expires what runs out of liquidity"
    );
    assert_eq!(o.executed_qty, dec!(1.95812), "the whole visible ask side");
    assert_eq!(fills_of(&ev, o.id).len(), 10);
    assert_eq!(free(&ex, "BTC"), dec!(1.95812));
    assert_eq!(locked(&ex, "USDT"), Decimal::ZERO);
    assert_eq!(ex.open_orders().count(), 0);
    assert_conserved(&ex, dec!(200000), &ev, "BTC");
    // Nothing is left to take: the next market order expires without a fill.
    let (o2, ev2) = ex
        .submit(OrderRequest::market(BTC, Side::Buy, dec!(0.001)), 1_001)
        .expect("ok");
    assert_eq!(o2.status, OrderStatus::Expired);
    assert!(fills(&ev2).is_empty());
}

#[test]
fn consumed_liquidity_cannot_fill_twice_until_the_feed_reduces_it() {
    let mut ex = exchange(0, dec!(300000));
    feed(&mut ex, &[btc_book(1_000)]);
    let buy = |ex: &mut Exchange, q: Decimal, t| {
        let (o, ev) = ex
            .submit(OrderRequest::market(BTC, Side::Buy, q), t)
            .expect("buy");
        assert_eq!(o.status, OrderStatus::Filled);
        prices_qtys(&fills_of(&ev, o.id))
    };
    assert_eq!(
        buy(&mut ex, dec!(1.5), 1_000),
        vec![(dec!(61837.64), dec!(1.5))]
    );
    // Only 0.04698 is left at the best ask; the rest comes from the next level.
    assert_eq!(
        buy(&mut ex, dec!(0.05), 1_001),
        vec![
            (dec!(61837.64), dec!(0.04698)),
            (dec!(61837.65), dec!(0.00302))
        ]
    );
    // The feed shows 0.5 of our 1.54698 gone: still nothing for us at 61837.64.
    feed(
        &mut ex,
        &[delta(BTC, 1_010, &[], &[(dec!(61837.64), dec!(1.04698))])],
    );
    assert_eq!(
        buy(&mut ex, dec!(0.001), 1_011),
        vec![(dec!(61837.65), dec!(0.001))]
    );
    // Now 1.44698 of it is gone (0.1 of ours still shows): still nothing.
    feed(
        &mut ex,
        &[delta(BTC, 1_020, &[], &[(dec!(61837.64), dec!(0.1))])],
    );
    assert_eq!(
        buy(&mut ex, dec!(0.001), 1_021),
        vec![(dec!(61837.65), dec!(0.001))]
    );
    // New size joins the level: that much is ours to take.
    feed(
        &mut ex,
        &[delta(BTC, 1_030, &[], &[(dec!(61837.64), dec!(0.2))])],
    );
    assert_eq!(
        buy(&mut ex, dec!(0.15), 1_031),
        vec![
            (dec!(61837.64), dec!(0.1)),
            (dec!(61837.65), dec!(0.00341)),
            (dec!(61837.68), dec!(0.00016)),
            (dec!(61838.13), dec!(0.00086)),
            (dec!(61838.95), dec!(0.00082)),
            (dec!(61839.87), dec!(0.04475))
        ]
    );
    // The level leaves the book and comes back: fresh size.
    feed(
        &mut ex,
        &[
            delta(BTC, 1_040, &[], &[(dec!(61837.64), dec!(0))]),
            delta(BTC, 1_041, &[], &[(dec!(61837.64), dec!(0.3))]),
        ],
    );
    assert_eq!(
        buy(&mut ex, dec!(0.01), 1_042),
        vec![(dec!(61837.64), dec!(0.01))]
    );
}

#[test]
fn book_ticker_consumption_follows_the_touch() {
    let mut ex = exchange(0, dec!(100000));
    feed(
        &mut ex,
        &[ticker(
            BTC,
            1_000,
            (dec!(100.00), dec!(5)),
            (dec!(100.01), dec!(1.5)),
        )],
    );
    let (o, ev) = ex
        .submit(OrderRequest::market(BTC, Side::Buy, dec!(1)), 1_000)
        .expect("buy");
    assert_eq!(
        prices_qtys(&fills_of(&ev, o.id)),
        vec![(dec!(100.01), dec!(1))]
    );
    // Same touch, same size: only 0.5 is left for us.
    feed(
        &mut ex,
        &[ticker(
            BTC,
            1_001,
            (dec!(100.00), dec!(5)),
            (dec!(100.01), dec!(1.5)),
        )],
    );
    let (o, ev) = ex
        .submit(OrderRequest::market(BTC, Side::Buy, dec!(1)), 1_002)
        .expect("buy");
    assert_eq!(o.status, OrderStatus::Expired);
    assert_eq!(
        prices_qtys(&fills_of(&ev, o.id)),
        vec![(dec!(100.01), dec!(0.5))]
    );
    // The ask moves away and, much later, comes back: that is new size, not what we took.
    feed(
        &mut ex,
        &[
            ticker(BTC, 2_000, (dec!(100.01), dec!(5)), (dec!(100.02), dec!(1))),
            ticker(BTC, 9_000, (dec!(100.00), dec!(5)), (dec!(100.01), dec!(2))),
        ],
    );
    let (o, ev) = ex
        .submit(OrderRequest::market(BTC, Side::Buy, dec!(2)), 9_001)
        .expect("buy");
    assert_eq!(o.status, OrderStatus::Filled);
    assert_eq!(
        prices_qtys(&fills_of(&ev, o.id)),
        vec![(dec!(100.01), dec!(2))]
    );
}

#[test]
fn latency_matches_the_book_at_arrival() {
    let mut ex = exchange(50, dec!(200000));
    feed(&mut ex, &[btc_book(1_000)]);
    let (o, ev) = ex
        .submit(OrderRequest::market(BTC, Side::Buy, dec!(0.1)), 1_000)
        .expect("ok");
    assert_eq!(o.status, OrderStatus::New);
    assert_eq!(o.arrival_ms, 1_050);
    assert!(
        fills(&ev).is_empty(),
        "nothing fills before the order reaches the engine"
    );
    // The book moves up while the order is in flight.
    let ev = feed(
        &mut ex,
        &[delta(
            BTC,
            1_020,
            &[],
            &[
                (dec!(61837.64), dec!(0)),
                (dec!(61837.65), dec!(0)),
                (dec!(61837.68), dec!(0)),
                (dec!(61837.70), dec!(2)),
            ],
        )],
    );
    assert!(fills(&ev).is_empty());
    assert!(ex.advance_to(1_049).is_empty());
    let ev = ex.advance_to(1_050);
    assert_eq!(
        prices_qtys(&fills_of(&ev, o.id)),
        vec![(dec!(61837.70), dec!(0.1))]
    );
    assert_eq!(last_status(&ev, o.id), Some(OrderStatus::Filled));
}

#[test]
fn latency_order_meets_the_book_before_the_next_event() {
    let mut ex = exchange(50, dec!(200000));
    feed(&mut ex, &[btc_book(1_000)]);
    let (o, _) = ex
        .submit(OrderRequest::market(BTC, Side::Buy, dec!(0.1)), 1_000)
        .expect("ok");
    feed(
        &mut ex,
        &[delta(
            BTC,
            1_020,
            &[],
            &[
                (dec!(61837.64), dec!(0)),
                (dec!(61837.65), dec!(0)),
                (dec!(61837.68), dec!(0)),
                (dec!(61837.70), dec!(2)),
            ],
        )],
    );
    // This event comes after the arrival (1050): the order saw the book as it was at 1050.
    let ev = feed(
        &mut ex,
        &[delta(
            BTC,
            1_070,
            &[],
            &[
                (dec!(61837.70), dec!(0)),
                (dec!(61838.13), dec!(0)),
                (dec!(61838.95), dec!(0)),
            ],
        )],
    );
    assert_eq!(
        prices_qtys(&fills_of(&ev, o.id)),
        vec![(dec!(61837.70), dec!(0.1))]
    );
}

#[test]
fn zero_latency_matches_at_once() {
    let mut ex = exchange(0, dec!(200000));
    feed(&mut ex, &[btc_book(1_000)]);
    let (o, ev) = ex
        .submit(OrderRequest::market(BTC, Side::Buy, dec!(0.1)), 1_000)
        .expect("ok");
    assert_eq!(o.status, OrderStatus::Filled);
    assert_eq!(o.arrival_ms, 1_000);
    assert_eq!(
        prices_qtys(&fills_of(&ev, o.id)),
        vec![(dec!(61837.64), dec!(0.1))]
    );
}

const P: Decimal = dec!(61837.63);

/// A book with 5 BTC bid at P and a resting buy of ours for `qty` at P (latency 0).
fn resting_buy(qty: Decimal) -> (Exchange, u64) {
    let mut ex = exchange(0, dec!(1000000));
    feed(
        &mut ex,
        &[snapshot(
            BTC,
            1_000,
            &[(P, dec!(5)), (dec!(61837.62), dec!(1))],
            &[(dec!(61837.64), dec!(1))],
        )],
    );
    let (o, ev) = ex
        .submit(OrderRequest::limit(BTC, Side::Buy, qty, P), 1_000)
        .expect("ok");
    assert!(fills(&ev).is_empty());
    assert_eq!(o.status, OrderStatus::New);
    assert_eq!(ex.order(o.id).and_then(|o| o.queue_ahead), Some(dec!(5)));
    (ex, o.id)
}

#[test]
fn resting_buy_waits_for_the_queue_ahead() {
    let (mut ex, id) = resting_buy(dec!(3));
    let ev = feed(&mut ex, &[trade(BTC, 1_100, P, dec!(3), true)]);
    assert!(fills(&ev).is_empty(), "3 of the 5 ahead traded");
    let ev = feed(&mut ex, &[trade(BTC, 1_200, P, dec!(4), true)]);
    let f = fills_of(&ev, id);
    assert_eq!(
        prices_qtys(&f),
        vec![(P, dec!(2))],
        "2 ahead, 2 overflow to us"
    );
    assert!(f[0].is_maker);
    assert_eq!(f[0].fee, dec!(2) * P * dec!(0.0002), "maker fee");
    assert_eq!(last_status(&ev, id), Some(OrderStatus::PartiallyFilled));
    // A print through the price (lower) fills the rest, at our price, as maker.
    let ev = feed(
        &mut ex,
        &[trade(BTC, 1_300, dec!(61837.62), dec!(0.01), true)],
    );
    let f = fills_of(&ev, id);
    assert_eq!(prices_qtys(&f), vec![(P, dec!(1))]);
    assert!(f[0].is_maker);
    assert_eq!(last_status(&ev, id), Some(OrderStatus::Filled));
    assert_eq!(locked(&ex, "USDT"), Decimal::ZERO);
    assert_eq!(free(&ex, "BTC"), dec!(3));
}

#[test]
fn buyer_aggressor_prints_at_our_bid_do_not_fill_us() {
    let (mut ex, _) = resting_buy(dec!(1));
    let ev = feed(
        &mut ex,
        &[
            trade(BTC, 1_100, P, dec!(100), false),
            trade(BTC, 1_101, dec!(61837.64), dec!(100), false),
        ],
    );
    assert!(fills(&ev).is_empty());
}

#[test]
fn cancels_ahead_move_us_up_proportionally() {
    let (mut ex, id) = resting_buy(dec!(1));
    // 5 more join behind us, then 4 leave without trading: 4 × 5/10 of them were ahead.
    feed(
        &mut ex,
        &[
            delta(BTC, 1_100, &[(P, dec!(10))], &[]),
            delta(BTC, 1_200, &[(P, dec!(6))], &[]),
        ],
    );
    assert_eq!(ex.order(id).and_then(|o| o.queue_ahead), Some(dec!(3)));
    let ev = feed(&mut ex, &[trade(BTC, 1_300, P, dec!(3), true)]);
    assert!(fills(&ev).is_empty());
    let ev = feed(&mut ex, &[trade(BTC, 1_400, P, dec!(0.5), true)]);
    assert_eq!(prices_qtys(&fills_of(&ev, id)), vec![(P, dec!(0.5))]);
}

#[test]
fn traded_size_leaving_the_level_is_not_a_cancel() {
    let (mut ex, id) = resting_buy(dec!(1));
    feed(
        &mut ex,
        &[
            trade(BTC, 1_100, P, dec!(2), true),
            delta(BTC, 1_101, &[(P, dec!(3))], &[]),
        ],
    );
    assert_eq!(
        ex.order(id).and_then(|o| o.queue_ahead),
        Some(dec!(3)),
        "the 2 that left traded"
    );
}

#[test]
fn book_crossing_our_price_fills_at_our_price() {
    let (mut ex, id) = resting_buy(dec!(1));
    let ev = feed(
        &mut ex,
        &[delta(
            BTC,
            1_100,
            &[],
            &[(dec!(61837.60), dec!(0.4)), (dec!(61837.64), dec!(0))],
        )],
    );
    let f = fills_of(&ev, id);
    assert_eq!(prices_qtys(&f), vec![(P, dec!(0.4))]);
    assert!(f[0].is_maker);
    assert_eq!(last_status(&ev, id), Some(OrderStatus::PartiallyFilled));
    // The same crossing size cannot fill us again.
    let ev = feed(
        &mut ex,
        &[delta(BTC, 1_200, &[(dec!(61837.61), dec!(1))], &[])],
    );
    assert!(fills(&ev).is_empty());
}

#[test]
fn time_in_force() {
    let book = || {
        let mut ex = exchange(0, dec!(200000));
        feed(&mut ex, &[btc_book(1_000)]);
        ex
    };
    let limit = |q, tif| OrderRequest::limit(BTC, Side::Buy, q, dec!(61837.65)).with_tif(tif);
    // IOC: fills what is there within the limit (1.55541), the rest expires.
    let mut ex = book();
    let (o, ev) = ex
        .submit(limit(dec!(1.6), TimeInForce::Ioc), 1_000)
        .expect("ok");
    assert_eq!(o.status, OrderStatus::Expired);
    assert_eq!(o.executed_qty, dec!(1.55541));
    assert!(fills(&ev)
        .iter()
        .all(|f| f.price <= dec!(61837.65) && !f.is_maker));
    assert_eq!(ex.open_orders().count(), 0);
    assert_eq!(locked(&ex, "USDT"), Decimal::ZERO);
    // FOK: all or nothing.
    let mut ex = book();
    let before = free(&ex, "USDT");
    let (o, ev) = ex
        .submit(limit(dec!(1.6), TimeInForce::Fok), 1_000)
        .expect("ok");
    assert_eq!(o.status, OrderStatus::Expired);
    assert!(fills(&ev).is_empty());
    assert_eq!(free(&ex, "USDT"), before);
    let (o, _) = ex
        .submit(limit(dec!(1.55541), TimeInForce::Fok), 1_001)
        .expect("ok");
    assert_eq!(o.status, OrderStatus::Filled);
    // GTC: fills what it can, the rest rests at the limit with its reservation.
    let mut ex = book();
    let (o, ev) = ex
        .submit(limit(dec!(1.6), TimeInForce::Gtc), 1_000)
        .expect("ok");
    assert_eq!(o.status, OrderStatus::PartiallyFilled);
    assert_eq!(o.executed_qty, dec!(1.55541));
    let open = ex.order(o.id).expect("rests");
    assert_eq!(open.remaining(), Some(dec!(0.04459)));
    assert!(open.locked >= dec!(0.04459) * dec!(61837.65) * dec!(1.0002));
    assert_eq!(locked(&ex, "USDT"), open.locked);
    assert_conserved(&ex, dec!(200000), &ev, "BTC");
}

#[test]
fn cancel_releases_the_reservation_and_stops_fills() {
    let (mut ex, id) = resting_buy(dec!(1));
    assert!(locked(&ex, "USDT") > Decimal::ZERO);
    let ev = ex.cancel(id, 1_100).expect("cancel");
    assert_eq!(last_status(&ev, id), Some(OrderStatus::Canceled));
    assert_eq!(locked(&ex, "USDT"), Decimal::ZERO);
    assert_eq!(free(&ex, "USDT"), dec!(1000000));
    let ev = feed(&mut ex, &[trade(BTC, 1_200, dec!(61000), dec!(10), true)]);
    assert!(fills(&ev).is_empty());
    assert_eq!(
        ex.cancel(id, 1_300).expect_err("gone").code(),
        "unknown_order"
    );
}

/// A market order for a quote amount that walks two levels is PARTIALLY_FILLED after the
/// first and FILLED with the second (its last fill is not reported as partial).
#[test]
fn quote_amount_order_walking_two_levels_reports_one_partial_fill() {
    let mut ex = exchange(0, dec!(200000));
    feed(&mut ex, &[btc_book(1_000)]);
    // Enough for all of the first ask level (1.54698 BTC ≈ 95662 USDT) and some of the second.
    let (o, ev) = ex
        .submit(
            OrderRequest::market_quote(BTC, Side::Buy, dec!(95900)),
            1_000,
        )
        .expect("ok");
    assert_eq!(o.status, OrderStatus::Filled);
    let f = fills_of(&ev, o.id);
    assert_eq!(f.len(), 2, "{f:?}");
    let statuses: Vec<OrderStatus> = ev
        .iter()
        .filter_map(|e| match e {
            papermemes_core::exchange::ExecEvent::OrderNew(x) if x.id == o.id => Some(x.status),
            papermemes_core::exchange::ExecEvent::OrderUpdate(u) if u.order_id == o.id => {
                Some(u.status)
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        statuses,
        vec![
            OrderStatus::New,
            OrderStatus::PartiallyFilled,
            OrderStatus::Filled
        ]
    );
}
