//! The candle-only fill model (backtests and candle replays).

mod common;

use common::*;
use papermemes_core::exchange::{Exchange, ExchangeConfig, ExecEvent};
use papermemes_core::order::{OcoRequest, OrderRequest, OrderStatus, OrderType, Side};
use papermemes_core::Decimal;
use rust_decimal_macros::dec;

/// DOGE, candles only, 10 bps slippage, 50 ms latency, 1000 USDT; the first bar (close 0.1) seen.
fn candles() -> Exchange {
    let cfg = ExchangeConfig {
        slippage_bps: dec!(10),
        ..config(50)
    };
    let mut ex = Exchange::new(instruments(), cfg, "USDT");
    ex.deposit("USDT", dec!(1000), 0);
    ex.on_candle(
        DOGE,
        &candle(0, dec!(0.1), dec!(0.101), dec!(0.099), dec!(0.1)),
    );
    ex
}

/// As [`candles`], then 1000 DOGE bought at the second bar's open (0.10014 after slippage).
fn holding() -> Exchange {
    let mut ex = candles();
    ex.submit(OrderRequest::market(DOGE, Side::Buy, dec!(1000)), MINUTE)
        .expect("buy");
    let ev = ex.on_candle(
        DOGE,
        &candle(
            MINUTE,
            dec!(0.10003),
            dec!(0.1005),
            dec!(0.0999),
            dec!(0.1002),
        ),
    );
    assert_eq!(fills(&ev).len(), 1);
    assert_eq!(free(&ex, "DOGE"), dec!(1000));
    ex
}

#[test]
fn market_order_at_close_fills_at_next_open_with_slippage() {
    let mut ex = candles();
    let (o, ev) = ex
        .submit(OrderRequest::market(DOGE, Side::Buy, dec!(1000)), MINUTE)
        .expect("ok");
    assert_eq!(o.status, OrderStatus::New);
    assert!(
        fills(&ev).is_empty(),
        "nothing fills at the signal bar's close"
    );
    let ev = ex.on_candle(
        DOGE,
        &candle(
            MINUTE,
            dec!(0.10003),
            dec!(0.1005),
            dec!(0.0999),
            dec!(0.1002),
        ),
    );
    let f = fills_of(&ev, o.id);
    // 0.10003 × 1.001 = 0.10013003, rounded up to the tick.
    assert_eq!(
        (f[0].price, f[0].quantity, f[0].is_maker),
        (dec!(0.10014), dec!(1000), false)
    );
    assert_eq!(f[0].time_ms, MINUTE, "at the next bar's open");
    assert_eq!(f[0].fee, dec!(100.14) * dec!(0.00075));
    // Selling: 0.10003 × 0.999 = 0.09992997, rounded down.
    let (s, _) = ex
        .submit(
            OrderRequest::market(DOGE, Side::Sell, dec!(1000)),
            2 * MINUTE,
        )
        .expect("ok");
    let ev = ex.on_candle(
        DOGE,
        &candle(
            2 * MINUTE,
            dec!(0.10003),
            dec!(0.1005),
            dec!(0.0999),
            dec!(0.1002),
        ),
    );
    assert_eq!(fills_of(&ev, s.id)[0].price, dec!(0.09992));
}

#[test]
fn zero_latency_market_order_still_waits_for_the_next_bar() {
    let mut ex = Exchange::new(
        instruments(),
        ExchangeConfig {
            slippage_bps: dec!(10),
            ..config(0)
        },
        "USDT",
    );
    ex.deposit("USDT", dec!(1000), 0);
    ex.on_candle(
        DOGE,
        &candle(0, dec!(0.1), dec!(0.101), dec!(0.099), dec!(0.1)),
    );
    let (o, ev) = ex
        .submit(OrderRequest::market(DOGE, Side::Buy, dec!(1000)), MINUTE)
        .expect("ok");
    assert!(fills(&ev).is_empty());
    let ev = ex.on_candle(
        DOGE,
        &candle(MINUTE, dec!(0.2), dec!(0.2), dec!(0.2), dec!(0.2)),
    );
    assert_eq!(fills_of(&ev, o.id)[0].price, dec!(0.2002));
}

#[test]
fn limit_fills_only_when_the_bar_trades_through() {
    let mut ex = candles();
    let (o, _) = ex
        .submit(
            OrderRequest::limit(DOGE, Side::Buy, dec!(1000), dec!(0.099)),
            MINUTE,
        )
        .expect("ok");
    let ev = ex.on_candle(
        DOGE,
        &candle(MINUTE, dec!(0.1), dec!(0.101), dec!(0.099), dec!(0.1)),
    );
    assert!(fills(&ev).is_empty(), "a touch is not enough");
    assert!(ex.order(o.id).is_some());
    let ev = ex.on_candle(
        DOGE,
        &candle(
            2 * MINUTE,
            dec!(0.1),
            dec!(0.1),
            dec!(0.09899),
            dec!(0.0995),
        ),
    );
    let f = fills_of(&ev, o.id);
    assert_eq!(
        (f[0].price, f[0].quantity, f[0].is_maker),
        (dec!(0.099), dec!(1000), true)
    );
    assert_eq!(f[0].fee, dec!(99) * dec!(0.0002));
    assert_eq!(last_status(&ev, o.id), Some(OrderStatus::Filled));
    assert_eq!(locked(&ex, "USDT"), Decimal::ZERO);
}

#[test]
fn limit_marketable_at_the_open_fills_at_the_open() {
    let mut ex = candles();
    let (o, _) = ex
        .submit(
            OrderRequest::limit(DOGE, Side::Buy, dec!(1000), dec!(0.101)),
            MINUTE,
        )
        .expect("ok");
    let ev = ex.on_candle(
        DOGE,
        &candle(MINUTE, dec!(0.1), dec!(0.1), dec!(0.0999), dec!(0.1)),
    );
    let f = fills_of(&ev, o.id);
    assert_eq!((f[0].price, f[0].is_maker), (dec!(0.1), false));
}

#[test]
fn stop_loss_fills_at_the_stop_or_the_gapped_open() {
    for (open, low, expect) in [
        // reached during the bar: the stop, 0.098 × 0.999 = 0.097902 → 0.0979
        (dec!(0.099), dec!(0.0975), dec!(0.0979)),
        // gapped below the stop: the open, 0.097 × 0.999 = 0.096903 → 0.09690
        (dec!(0.097), dec!(0.0965), dec!(0.0969)),
    ] {
        let mut ex = holding();
        let req = OrderRequest::new(
            DOGE,
            Side::Sell,
            OrderType::StopLoss,
            Some(dec!(1000)),
            None,
            Some(dec!(0.098)),
        );
        let (o, _) = ex.submit(req, 2 * MINUTE).expect("ok");
        let ev = ex.on_candle(
            DOGE,
            &candle(2 * MINUTE, open, dec!(0.0995).max(open), low, dec!(0.098)),
        );
        let f = fills_of(&ev, o.id);
        assert_eq!(
            (f[0].price, f[0].quantity, f[0].is_maker),
            (expect, dec!(1000), false),
            "open {open}"
        );
    }
}

#[test]
fn stop_loss_not_reached_does_not_trigger() {
    let mut ex = holding();
    let req = OrderRequest::new(
        DOGE,
        Side::Sell,
        OrderType::StopLoss,
        Some(dec!(1000)),
        None,
        Some(dec!(0.098)),
    );
    let (o, _) = ex.submit(req, 2 * MINUTE).expect("ok");
    let ev = ex.on_candle(
        DOGE,
        &candle(
            2 * MINUTE,
            dec!(0.099),
            dec!(0.0995),
            dec!(0.09801),
            dec!(0.099),
        ),
    );
    assert!(fills(&ev).is_empty());
    assert!(ex.order(o.id).is_some());
}

#[test]
fn take_profit_fills_at_the_target_or_the_gapped_open() {
    for (open, high, expect) in [
        // rose through the target during the bar: the target, 0.105 × 0.999 = 0.104895 → 0.10489
        (dec!(0.1), dec!(0.106), dec!(0.10489)),
        // gapped above the target: the open, 0.107 × 0.999 = 0.106893 → 0.10689
        (dec!(0.107), dec!(0.108), dec!(0.10689)),
    ] {
        let mut ex = holding();
        let req = OrderRequest::new(
            DOGE,
            Side::Sell,
            OrderType::TakeProfit,
            Some(dec!(1000)),
            None,
            Some(dec!(0.105)),
        );
        let (o, _) = ex.submit(req, 2 * MINUTE).expect("ok");
        let ev = ex.on_candle(
            DOGE,
            &candle(2 * MINUTE, open, high, dec!(0.0995), dec!(0.1)),
        );
        let f = fills_of(&ev, o.id);
        assert_eq!(f.len(), 1, "open {open}");
        assert_eq!(
            f[0].price, expect,
            "open {open}: a take-profit never sells below its target"
        );
    }
}

#[test]
fn buy_stop_fills_at_the_stop_or_the_gapped_open() {
    let mut ex = candles();
    let req = OrderRequest::new(
        DOGE,
        Side::Buy,
        OrderType::StopLoss,
        Some(dec!(1000)),
        None,
        Some(dec!(0.102)),
    );
    let (o, _) = ex.submit(req, MINUTE).expect("ok");
    let ev = ex.on_candle(
        DOGE,
        &candle(MINUTE, dec!(0.1), dec!(0.103), dec!(0.0995), dec!(0.1)),
    );
    // 0.102 × 1.001 = 0.102102 → 0.10211
    assert_eq!(fills_of(&ev, o.id)[0].price, dec!(0.10211));
}

#[test]
fn stop_limit_triggered_in_a_bar_trades_at_the_stop_not_the_close() {
    let mut ex = holding();
    let req = OrderRequest::new(
        DOGE,
        Side::Sell,
        OrderType::StopLossLimit,
        Some(dec!(1000)),
        Some(dec!(0.0975)),
        Some(dec!(0.098)),
    );
    let (o, _) = ex.submit(req, 2 * MINUTE).expect("ok");
    // Falls through the stop, then recovers to close at 0.0995.
    let ev = ex.on_candle(
        DOGE,
        &candle(
            2 * MINUTE,
            dec!(0.099),
            dec!(0.0995),
            dec!(0.097),
            dec!(0.0995),
        ),
    );
    let f = fills_of(&ev, o.id);
    assert_eq!(f.len(), 1);
    assert_eq!(
        (f[0].price, f[0].is_maker),
        (dec!(0.0979), false),
        "sold when the stop was hit"
    );
}

#[test]
fn stop_limit_gapped_past_its_limit_rests() {
    let mut ex = holding();
    let req = OrderRequest::new(
        DOGE,
        Side::Sell,
        OrderType::StopLossLimit,
        Some(dec!(1000)),
        Some(dec!(0.0975)),
        Some(dec!(0.098)),
    );
    let (o, _) = ex.submit(req, 2 * MINUTE).expect("ok");
    // Opens at 0.096, below the limit, never trades above 0.0975.
    let ev = ex.on_candle(
        DOGE,
        &candle(
            2 * MINUTE,
            dec!(0.096),
            dec!(0.0975),
            dec!(0.095),
            dec!(0.096),
        ),
    );
    assert!(fills(&ev).is_empty());
    let open = ex.order(o.id).expect("rests as a limit");
    assert!(open.triggered);
    let ev = ex.on_candle(
        DOGE,
        &candle(
            3 * MINUTE,
            dec!(0.096),
            dec!(0.0976),
            dec!(0.095),
            dec!(0.096),
        ),
    );
    let f = fills_of(&ev, o.id);
    assert_eq!((f[0].price, f[0].is_maker), (dec!(0.0975), true));
}

fn sell_oco() -> OcoRequest {
    OcoRequest {
        symbol: DOGE.into(),
        side: Side::Sell,
        quantity: dec!(1000),
        price: dec!(0.105),
        stop_price: dec!(0.095),
        stop_limit_price: None,
    }
}

#[test]
fn bar_touching_both_oco_legs_takes_the_stop() {
    let mut ex = holding();
    let (legs, _) = ex.submit_oco(sell_oco(), 2 * MINUTE).expect("ok");
    let ev = ex.on_candle(
        DOGE,
        &candle(2 * MINUTE, dec!(0.1), dec!(0.106), dec!(0.094), dec!(0.1)),
    );
    assert_eq!(last_status(&ev, legs[0].id), Some(OrderStatus::Expired));
    assert_eq!(last_status(&ev, legs[1].id), Some(OrderStatus::Filled));
    let f = fills(&ev);
    assert_eq!(f.len(), 1);
    // 0.095 × 0.999 = 0.094905 → 0.0949
    assert_eq!((f[0].order_id, f[0].price), (legs[1].id, dec!(0.0949)));
    assert_eq!(ex.portfolio().balance("DOGE").total(), Decimal::ZERO);
}

#[test]
fn bar_through_only_the_oco_limit_fills_the_limit() {
    let mut ex = holding();
    let (legs, _) = ex.submit_oco(sell_oco(), 2 * MINUTE).expect("ok");
    let ev = ex.on_candle(
        DOGE,
        &candle(2 * MINUTE, dec!(0.1), dec!(0.1051), dec!(0.099), dec!(0.1)),
    );
    assert_eq!(last_status(&ev, legs[0].id), Some(OrderStatus::Filled));
    assert_eq!(last_status(&ev, legs[1].id), Some(OrderStatus::Expired));
    let f = fills(&ev);
    assert_eq!((f.len(), f[0].price, f[0].is_maker), (1, dec!(0.105), true));
}

/// Every status an order went through in `ev`, in order.
fn statuses(ev: &[ExecEvent], id: u64) -> Vec<OrderStatus> {
    ev.iter()
        .filter_map(|e| match e {
            ExecEvent::OrderNew(o) if o.id == id => Some(o.status),
            ExecEvent::OrderUpdate(u) if u.order_id == id => Some(u.status),
            _ => None,
        })
        .collect()
}

/// A market order for a quote amount that fills in one go is NEW then FILLED, as on Binance:
/// not PARTIALLY_FILLED on the way (it cannot tell from its quantity that it is done).
#[test]
fn quote_amount_order_filled_at_once_goes_straight_to_filled() {
    for side in [Side::Buy, Side::Sell] {
        let mut ex = if side == Side::Buy {
            candles()
        } else {
            holding()
        };
        let t = ex.now();
        let (o, mut ev) = ex
            .submit(OrderRequest::market_quote(DOGE, side, dec!(50)), t)
            .expect("quote order");
        ev.extend(ex.on_candle(
            DOGE,
            &candle(t, dec!(0.10003), dec!(0.1005), dec!(0.0999), dec!(0.1002)),
        ));
        assert_eq!(fills_of(&ev, o.id).len(), 1, "{side:?}");
        assert_eq!(
            statuses(&ev, o.id),
            vec![OrderStatus::New, OrderStatus::Filled],
            "{side:?}"
        );
    }
}
