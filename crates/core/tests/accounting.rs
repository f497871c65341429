//! Fees, portfolio/PnL, restore from the ledger, determinism.

mod common;

use common::*;
use papermemes_core::event::MarketEvent;
use papermemes_core::exchange::{Exchange, ExecEvent};
use papermemes_core::order::{OcoRequest, OrderRequest, OrderStatus, OrderType, Side, TimeInForce};
use papermemes_core::Decimal;
use rust_decimal_macros::dec;

fn doge_book() -> Exchange {
    doge_book_with(config(0))
}

/// 1,000 USDT and a DOGE book with one level a side, under `cfg`.
fn doge_book_with(cfg: papermemes_core::exchange::ExchangeConfig) -> Exchange {
    let mut ex = Exchange::new(instruments(), cfg, "USDT");
    ex.deposit("USDT", dec!(1000), 0);
    feed(
        &mut ex,
        &[snapshot(
            DOGE,
            1_000,
            &[(dec!(0.10000), dec!(100000))],
            &[(dec!(0.10010), dec!(100000))],
        )],
    );
    ex
}

#[test]
fn maker_and_taker_fees_come_from_the_config() {
    let mut ex = doge_book();
    let (o, ev) = ex
        .submit(OrderRequest::market(DOGE, Side::Buy, dec!(1000)), 1_000)
        .expect("ok");
    let f = fills_of(&ev, o.id);
    assert_eq!(
        (f[0].fee, f[0].fee_asset.as_str(), f[0].is_maker),
        (dec!(0.075075), "USDT", false)
    );
    let (l, _) = ex
        .submit(
            OrderRequest::limit(DOGE, Side::Sell, dec!(1000), dec!(0.10200)),
            1_001,
        )
        .expect("ok");
    let ev = ex.on_event(&trade(DOGE, 2_000, dec!(0.10201), dec!(5000), false));
    let f = fills_of(&ev, l.id);
    assert_eq!(
        (f[0].fee, f[0].fee_asset.as_str(), f[0].is_maker),
        (dec!(0.0204), "USDT", true)
    );
    assert_eq!(ex.portfolio().fees_paid(), dec!(0.095475));
    // Fees are in USDT: the DOGE bought is exactly what was asked for, and all of it sold.
    assert_eq!(ex.portfolio().balance("DOGE").total(), Decimal::ZERO);
}

#[test]
fn a_zero_fee_writes_no_balance_change_and_no_delta_is_negative_zero() {
    // Maker fee 0: the maker fill's fee moves nothing.
    let mut cfg = config(0);
    cfg.maker_fee_bps = Decimal::ZERO;
    let mut ex = doge_book_with(cfg);
    let (l, _) = ex
        .submit(
            OrderRequest::limit(DOGE, Side::Buy, dec!(1000), dec!(0.09990)),
            1_001,
        )
        .expect("ok");
    let ev = ex.on_event(&trade(DOGE, 2_000, dec!(0.09980), dec!(5000), true));
    let f = fills_of(&ev, l.id);
    assert_eq!((f[0].fee, f[0].is_maker), (Decimal::ZERO, true));
    let changes: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            ExecEvent::Balance(c) => Some(c),
            _ => None,
        })
        .collect();
    assert!(!changes.is_empty(), "the fill moves USDT and DOGE");
    for c in &changes {
        assert!(
            !(c.free_delta.is_zero() && c.locked_delta.is_zero()),
            "a change that moves nothing is not reported: {c:?}"
        );
        for d in [c.free_delta, c.locked_delta] {
            assert!(
                !d.to_string().starts_with("-0") || !d.is_zero(),
                "no negative zero: {c:?}"
            );
        }
    }
    assert_eq!(ex.portfolio().balance("DOGE").total(), dec!(1000));
}

#[test]
fn round_trip_pnl_is_exact() {
    let mut ex = doge_book();
    ex.submit(OrderRequest::market(DOGE, Side::Buy, dec!(1000)), 1_000)
        .expect("buy");
    let pos = ex.portfolio().position(DOGE).expect("position").clone();
    assert_eq!(pos.quantity, dec!(1000));
    assert_eq!(pos.cost_basis, dec!(100.175075), "100.1 + 0.075075 fee");
    assert_eq!(pos.avg_cost(), dec!(0.100175075));
    // Mid 0.10005.
    assert_eq!(ex.unrealized_pnl(DOGE), dec!(100.05) - dec!(100.175075));
    assert_eq!(ex.equity(), dec!(1000) - dec!(100.175075) + dec!(100.05));
    // Sell in two pieces at the bid.
    ex.submit(OrderRequest::market(DOGE, Side::Sell, dec!(300)), 1_001)
        .expect("sell");
    ex.submit(OrderRequest::market(DOGE, Side::Sell, dec!(700)), 1_002)
        .expect("sell");
    let pos = ex.portfolio().position(DOGE).expect("position");
    let proceeds = dec!(100);
    let sell_fees = dec!(0.075);
    assert_eq!(pos.realized_pnl, proceeds - sell_fees - dec!(100.175075));
    assert_eq!(pos.quantity, Decimal::ZERO);
    assert_eq!(pos.cost_basis, Decimal::ZERO);
    assert_eq!(ex.portfolio().realized_pnl(), dec!(-0.250075));
    assert_eq!(
        ex.portfolio().balance("USDT").total(),
        dec!(1000) + pos.realized_pnl
    );
    assert_eq!(ex.equity(), dec!(999.749925));
    assert_eq!(ex.unrealized_pnl(DOGE), Decimal::ZERO);
}

#[test]
fn average_cost_blends_buys_at_different_prices() {
    let mut ex = doge_book();
    ex.submit(OrderRequest::market(DOGE, Side::Buy, dec!(1000)), 1_000)
        .expect("buy");
    ex.on_event(&snapshot(
        DOGE,
        2_000,
        &[(dec!(0.11000), dec!(100000))],
        &[(dec!(0.11010), dec!(100000))],
    ));
    ex.submit(OrderRequest::market(DOGE, Side::Buy, dec!(1000)), 2_000)
        .expect("buy");
    let pos = ex.portfolio().position(DOGE).expect("position");
    let cost = dec!(100.1) * dec!(1.00075) + dec!(110.1) * dec!(1.00075);
    assert_eq!(pos.cost_basis, cost);
    assert_eq!(pos.avg_cost(), cost / dec!(2000));
    assert_eq!(ex.unrealized_pnl(DOGE), dec!(2000) * dec!(0.11005) - cost);
}

/// Rebuild an exchange the way the app does after a restart.
fn restored(ex: &Exchange) -> Exchange {
    Exchange::restore(
        instruments(),
        ex.config().clone(),
        "USDT",
        ex.portfolio().clone(),
        ex.open_orders().cloned().collect(),
        ex.next_ids(),
        ex.now(),
    )
}

const P: Decimal = dec!(61837.63);

fn with_resting_buy() -> (Exchange, u64) {
    let mut ex = exchange(0, dec!(1000000));
    feed(
        &mut ex,
        &[snapshot(
            BTC,
            1_000,
            &[(P, dec!(5))],
            &[(dec!(61837.64), dec!(1))],
        )],
    );
    ex.submit(OrderRequest::market(BTC, Side::Buy, dec!(0.5)), 1_000)
        .expect("buy");
    let (o, _) = ex
        .submit(OrderRequest::limit(BTC, Side::Buy, dec!(1), P), 1_001)
        .expect("rest");
    (ex, o.id)
}

#[test]
fn restored_resting_limit_still_fills_and_ids_continue() {
    let (ex, id) = with_resting_buy();
    let next = ex.next_ids();
    let mut r = restored(&ex);
    assert_eq!(r.portfolio(), ex.portfolio());
    assert_eq!(
        r.order(id).map(|o| o.locked),
        ex.order(id).map(|o| o.locked)
    );
    feed(
        &mut r,
        &[snapshot(
            BTC,
            2_000,
            &[(P, dec!(5))],
            &[(dec!(61837.64), dec!(1))],
        )],
    );
    let ev = feed(&mut r, &[trade(BTC, 2_100, P, dec!(5), true)]);
    assert!(fills(&ev).is_empty(), "back of the queue after a restart");
    let ev = feed(&mut r, &[trade(BTC, 2_200, P, dec!(2), true)]);
    let f = fills_of(&ev, id);
    assert_eq!(
        (f[0].id, f[0].price, f[0].quantity, f[0].is_maker),
        (next.fill, P, dec!(1), true)
    );
    assert_eq!(last_status(&ev, id), Some(OrderStatus::Filled));
    assert_eq!(locked(&r, "USDT"), Decimal::ZERO);
    assert_eq!(r.portfolio().balance("BTC").total(), dec!(1.5));
    let (o, _) = r
        .submit(
            OrderRequest::limit(BTC, Side::Sell, dec!(0.1), dec!(70000)),
            2_300,
        )
        .expect("ok");
    assert_eq!(o.id, next.order);
}

#[test]
fn restored_order_queues_at_the_back_when_the_first_book_is_a_ticker() {
    let (ex, id) = with_resting_buy();
    let mut r = restored(&ex);
    feed(
        &mut r,
        &[ticker(BTC, 2_000, (P, dec!(5)), (dec!(61837.64), dec!(1)))],
    );
    let ev = feed(&mut r, &[trade(BTC, 2_100, P, dec!(3), true)]);
    assert!(
        fills(&ev).is_empty(),
        "a restored order must not jump the 5 BTC queue"
    );
    let ev = feed(&mut r, &[trade(BTC, 2_200, P, dec!(3), true)]);
    assert_eq!(
        fills_of(&ev, id)
            .iter()
            .map(|f| f.quantity)
            .sum::<Decimal>(),
        dec!(1)
    );
}

#[test]
fn restored_triggered_stop_limit_keeps_working_as_a_limit() {
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
    let mut req = OrderRequest::new(
        BTC,
        Side::Sell,
        OrderType::StopLossLimit,
        Some(dec!(1)),
        Some(dec!(60900)),
        Some(dec!(61000)),
    );
    req.time_in_force = Some(TimeInForce::Gtc);
    let (o, _) = ex.submit(req, 2_000).expect("ok");
    feed(
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
    feed(
        &mut ex,
        &[delta(BTC, 3_100, &[(dec!(60950), dec!(0.4))], &[])],
    );
    assert_eq!(ex.order(o.id).map(|o| o.executed_qty), Some(dec!(0.4)));
    // A ledger that lost the `triggered` flag still knows a stop with fills was triggered.
    let mut open: Vec<_> = ex.open_orders().cloned().collect();
    open[0].triggered = false;
    let mut r = Exchange::restore(
        instruments(),
        ex.config().clone(),
        "USDT",
        ex.portfolio().clone(),
        open,
        ex.next_ids(),
        ex.now(),
    );
    let ev = feed(
        &mut r,
        &[
            snapshot(
                BTC,
                4_000,
                &[(dec!(60800), dec!(5))],
                &[(dec!(60801), dec!(1))],
            ),
            trade(BTC, 4_001, dec!(60901), dec!(0.1), false),
        ],
    );
    let f = fills_of(&ev, o.id);
    assert_eq!((f[0].price, f[0].quantity), (dec!(60900), dec!(0.6)));
}

/// A scripted session touching every order type and event kind.
fn script() -> Vec<ExecEvent> {
    let mut ex = exchange(50, dec!(250000));
    let mut out = Vec::new();
    let mut t = 1_000;
    let ev =
        |ex: &mut Exchange, e: MarketEvent, out: &mut Vec<ExecEvent>| out.extend(ex.on_event(&e));
    ev(&mut ex, btc_book(t), &mut out);
    ev(
        &mut ex,
        trade(BTC, t + 1, dec!(61837.63), dec!(0.02), true),
        &mut out,
    );
    let submit = |ex: &mut Exchange, r: OrderRequest, t, out: &mut Vec<ExecEvent>| {
        if let Ok((_, e)) = ex.submit(r, t) {
            out.extend(e);
        }
    };
    submit(
        &mut ex,
        OrderRequest::market(BTC, Side::Buy, dec!(1.6)),
        t + 2,
        &mut out,
    );
    submit(
        &mut ex,
        OrderRequest::limit(BTC, Side::Buy, dec!(0.5), dec!(61837.62)),
        t + 3,
        &mut out,
    );
    submit(
        &mut ex,
        OrderRequest::market_quote(BTC, Side::Buy, dec!(1000)),
        t + 4,
        &mut out,
    );
    for i in 0..20i64 {
        t += 100;
        let d = Decimal::from(i) / dec!(100);
        ev(
            &mut ex,
            delta(
                BTC,
                t,
                &[(dec!(61837.62), dec!(0.617) + d)],
                &[(dec!(61837.64), dec!(1.2) - d / dec!(2))],
            ),
            &mut out,
        );
        ev(
            &mut ex,
            trade(BTC, t + 10, dec!(61837.62) - d, dec!(0.3), true),
            &mut out,
        );
        if i == 5 {
            let mut r = OrderRequest::new(
                BTC,
                Side::Sell,
                OrderType::StopLossLimit,
                Some(dec!(0.5)),
                Some(dec!(61837.40)),
                Some(dec!(61837.50)),
            );
            r.time_in_force = Some(TimeInForce::Gtc);
            submit(&mut ex, r, t + 20, &mut out);
            if let Ok((_, e)) = ex.submit_oco(
                OcoRequest {
                    symbol: BTC.into(),
                    side: Side::Sell,
                    quantity: dec!(0.3),
                    price: dec!(62000),
                    stop_price: dec!(61700),
                    stop_limit_price: None,
                },
                t + 21,
            ) {
                out.extend(e);
            }
        }
        if i == 12 {
            let first = ex.open_orders().map(|o| o.id).next();
            if let Some(id) = first {
                out.extend(ex.cancel(id, t + 30).unwrap_or_default());
            }
        }
    }
    out.extend(ex.advance_to(t + 1_000));
    out
}

#[test]
fn same_script_gives_byte_identical_events() {
    let a = serde_json::to_string(&script()).expect("json");
    let b = serde_json::to_string(&script()).expect("json");
    assert!(a.contains("\"fill\""), "the script must produce fills");
    assert_eq!(a, b);
}
