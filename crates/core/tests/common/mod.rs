//! Shared helpers for the exchange integration tests.
#![allow(dead_code)]

use papermemes_core::event::{Candle, Level, MarketEvent};
use papermemes_core::exchange::{Exchange, ExchangeConfig, ExecEvent, NextIds};
use papermemes_core::instrument::Instruments;
use papermemes_core::order::{Order, OrderStatus};
use papermemes_core::portfolio::{Fill, Portfolio};
use papermemes_core::{Decimal, TimeMs};
use rust_decimal_macros::dec;

pub const BTC: &str = "BTCUSDT";
pub const DOGE: &str = "DOGEUSDT";

/// The shipped instrument snapshot (Binance exchangeInfo shape).
pub fn instruments() -> Instruments {
    Instruments::from_exchange_info_json(include_str!("../../../../assets/market/instruments.json"))
        .expect("shipped instruments parse")
}

/// Maker 2 bps, taker 7.5 bps (distinct, so a wrong rate shows), no slippage.
pub fn config(latency_ms: i64) -> ExchangeConfig {
    ExchangeConfig {
        maker_fee_bps: dec!(2),
        taker_fee_bps: dec!(7.5),
        latency_ms,
        slippage_bps: Decimal::ZERO,
    }
}

pub fn exchange(latency_ms: i64, usdt: Decimal) -> Exchange {
    let mut ex = Exchange::new(instruments(), config(latency_ms), "USDT");
    ex.deposit("USDT", usdt, 0);
    ex
}

pub fn snapshot(symbol: &str, t: TimeMs, bids: &[Level], asks: &[Level]) -> MarketEvent {
    MarketEvent::BookSnapshot {
        symbol: symbol.into(),
        time_ms: t,
        last_update_id: 1,
        bids: bids.to_vec(),
        asks: asks.to_vec(),
    }
}

pub fn delta(symbol: &str, t: TimeMs, bids: &[Level], asks: &[Level]) -> MarketEvent {
    MarketEvent::BookDelta {
        symbol: symbol.into(),
        time_ms: t,
        final_update_id: t as u64 + 2,
        bids: bids.to_vec(),
        asks: asks.to_vec(),
    }
}

/// A public trade; `seller_aggressor` = `buyer_is_maker` (it hit the bids).
pub fn trade(
    symbol: &str,
    t: TimeMs,
    price: Decimal,
    qty: Decimal,
    seller_aggressor: bool,
) -> MarketEvent {
    MarketEvent::Trade {
        symbol: symbol.into(),
        time_ms: t,
        price,
        quantity: qty,
        buyer_is_maker: seller_aggressor,
    }
}

pub fn ticker(symbol: &str, t: TimeMs, bid: Level, ask: Level) -> MarketEvent {
    MarketEvent::BookTicker {
        symbol: symbol.into(),
        time_ms: t,
        bid: bid.0,
        bid_qty: bid.1,
        ask: ask.0,
        ask_qty: ask.1,
    }
}

pub const MINUTE: i64 = 60_000;

pub fn candle(open_time: TimeMs, o: Decimal, h: Decimal, l: Decimal, c: Decimal) -> Candle {
    Candle {
        open_time_ms: open_time,
        interval_ms: MINUTE,
        open: o,
        high: h,
        low: l,
        close: c,
        volume: dec!(1000000),
    }
}

pub fn candle_event(symbol: &str, c: Candle) -> MarketEvent {
    MarketEvent::Candle {
        symbol: symbol.into(),
        candle: c,
    }
}

pub fn fills(events: &[ExecEvent]) -> Vec<Fill> {
    events
        .iter()
        .filter_map(|e| match e {
            ExecEvent::Fill(f) => Some(f.clone()),
            _ => None,
        })
        .collect()
}

pub fn fills_of(events: &[ExecEvent], order_id: u64) -> Vec<Fill> {
    fills(events)
        .into_iter()
        .filter(|f| f.order_id == order_id)
        .collect()
}

/// The last status an order reached in `events`.
pub fn last_status(events: &[ExecEvent], order_id: u64) -> Option<OrderStatus> {
    events.iter().rev().find_map(|e| match e {
        ExecEvent::OrderUpdate(u) if u.order_id == order_id => Some(u.status),
        ExecEvent::OrderNew(o) if o.id == order_id => Some(o.status),
        _ => None,
    })
}

/// Everything a refusal must leave alone.
#[derive(Debug, PartialEq)]
pub struct State {
    pub portfolio: Portfolio,
    pub open: Vec<Order>,
    pub next: NextIds,
    pub now: TimeMs,
}

pub fn state(ex: &Exchange) -> State {
    State {
        portfolio: ex.portfolio().clone(),
        open: ex.open_orders().cloned().collect(),
        next: ex.next_ids(),
        now: ex.now(),
    }
}

pub fn free(ex: &Exchange, asset: &str) -> Decimal {
    ex.portfolio().balance(asset).free
}

pub fn locked(ex: &Exchange, asset: &str) -> Decimal {
    ex.portfolio().balance(asset).locked
}

pub fn feed(ex: &mut Exchange, events: &[MarketEvent]) -> Vec<ExecEvent> {
    let mut out = Vec::new();
    for e in events {
        out.extend(ex.on_event(e));
    }
    out
}

/// Real BTCUSDT top of book from the 2024-08-08 capture (assets/market/captures), 10 levels a side.
pub fn btc_bids() -> Vec<Level> {
    vec![
        (dec!(61837.63), dec!(3.78826)),
        (dec!(61837.62), dec!(0.617)),
        (dec!(61837.24), dec!(0.1061)),
        (dec!(61836.01), dec!(0.0157)),
        (dec!(61836.00), dec!(0.54369)),
        (dec!(61835.99), dec!(0.64666)),
        (dec!(61834.63), dec!(0.00105)),
        (dec!(61834.50), dec!(0.0647)),
        (dec!(61834.48), dec!(0.0455)),
        (dec!(61834.36), dec!(0.0455)),
    ]
}

pub fn btc_asks() -> Vec<Level> {
    vec![
        (dec!(61837.64), dec!(1.54698)),
        (dec!(61837.65), dec!(0.00843)),
        (dec!(61837.68), dec!(0.00016)),
        (dec!(61838.13), dec!(0.00086)),
        (dec!(61838.95), dec!(0.00082)),
        (dec!(61839.87), dec!(0.32331)),
        (dec!(61839.92), dec!(0.0001)),
        (dec!(61840.49), dec!(0.07284)),
        (dec!(61840.97), dec!(0.00422)),
        (dec!(61841.13), dec!(0.0004)),
    ]
}

pub fn btc_book(t: TimeMs) -> MarketEvent {
    snapshot(BTC, t, &btc_bids(), &btc_asks())
}

/// Each asset's free + locked must equal what the fills say (initial quote only).
pub fn assert_conserved(ex: &Exchange, initial_usdt: Decimal, all: &[ExecEvent], base: &str) {
    let mut quote = initial_usdt;
    let mut b = Decimal::ZERO;
    for f in fills(all) {
        match f.side {
            papermemes_core::order::Side::Buy => {
                quote -= f.quote_quantity + f.fee;
                b += f.quantity;
            }
            papermemes_core::order::Side::Sell => {
                quote += f.quote_quantity - f.fee;
                b -= f.quantity;
            }
        }
    }
    assert_eq!(
        ex.portfolio().balance("USDT").total(),
        quote,
        "USDT conserved"
    );
    assert_eq!(ex.portfolio().balance(base).total(), b, "{base} conserved");
}
