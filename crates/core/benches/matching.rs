//! Matching-engine throughput on a realistic BTCUSDT book (1,000 levels a side, tick 0.01,
//! level sizes taken from the 2024-08-08 capture in assets/market/captures).
//!
//! * `market_1_to_3_levels`: submit + match of a small market order that takes 1-3 levels,
//!   plus the book diff that replenishes what it took.
//! * `limit_submit_cancel`: submit of a resting limit order (queue position looked up) and its
//!   cancel.
//! * `trade_with_100_resting`: one public trade while 100 of our limit orders rest (the queue
//!   model's cost per trade).
//!
//! Latency is 0 so a submit matches at once.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use papermemes_core::event::{Level, MarketEvent};
use papermemes_core::exchange::{Exchange, ExchangeConfig, ExecEvent};
use papermemes_core::instrument::Instruments;
use papermemes_core::order::{OrderRequest, Side};
use papermemes_core::Decimal;
use rust_decimal_macros::dec;

const SYMBOL: &str = "BTCUSDT";
const LEVELS: usize = 1_000;
const TICK: Decimal = dec!(0.01);

/// Level sizes seen at the top of the real capture, cycled through the book.
const SIZES: [Decimal; 20] = [
    dec!(3.78826),
    dec!(0.617),
    dec!(0.1061),
    dec!(0.0157),
    dec!(0.54369),
    dec!(0.64666),
    dec!(0.00105),
    dec!(0.0647),
    dec!(0.0455),
    dec!(0.0455),
    dec!(1.54698),
    dec!(0.00843),
    dec!(0.00016),
    dec!(0.00086),
    dec!(0.00082),
    dec!(0.32331),
    dec!(0.0001),
    dec!(0.07284),
    dec!(0.00422),
    dec!(0.0004),
];

/// The small top levels the market orders take from (replenished after each order).
const TOP: Decimal = dec!(0.004);
const BEST_BID: Decimal = dec!(61837.63);
const BEST_ASK: Decimal = dec!(61837.64);

fn instruments() -> Instruments {
    Instruments::from_exchange_info_json(include_str!("../../../assets/market/instruments.json"))
        .expect("instruments")
}

/// Price of the i-th level away from the touch; gaps of 1-3 ticks like the real book.
fn level_price(best: Decimal, side: Side, i: usize) -> Decimal {
    let ticks: i64 = (0..i).map(|k| 1 + (k * 7 % 3) as i64).sum();
    match side {
        Side::Buy => best - TICK * Decimal::from(ticks),
        Side::Sell => best + TICK * Decimal::from(ticks),
    }
}

fn book() -> (Vec<Level>, Vec<Level>) {
    let size = |i: usize| if i < 3 { TOP } else { SIZES[i % SIZES.len()] };
    let bids = (0..LEVELS)
        .map(|i| (level_price(BEST_BID, Side::Buy, i), size(i)))
        .collect();
    let asks = (0..LEVELS)
        .map(|i| (level_price(BEST_ASK, Side::Sell, i), size(i)))
        .collect();
    (bids, asks)
}

fn exchange() -> Exchange {
    let cfg = ExchangeConfig {
        latency_ms: 0,
        ..ExchangeConfig::default()
    };
    let mut ex = Exchange::new(instruments(), cfg, "USDT");
    ex.deposit("USDT", dec!(1000000000), 0);
    ex.deposit("BTC", dec!(100000), 0);
    let (bids, asks) = book();
    ex.on_event(&MarketEvent::BookSnapshot {
        symbol: SYMBOL.into(),
        time_ms: 1,
        last_update_id: 1,
        bids,
        asks,
    });
    ex
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("matching");
    g.throughput(Throughput::Elements(1));

    // (a) Market orders of 1-3 levels, alternating sides, each followed by the diff that
    // takes the traded levels out and puts fresh size back (releasing our consumption).
    {
        let mut ex = exchange();
        let top_bids: Vec<Decimal> = (0..3)
            .map(|i| level_price(BEST_BID, Side::Buy, i))
            .collect();
        let top_asks: Vec<Decimal> = (0..3)
            .map(|i| level_price(BEST_ASK, Side::Sell, i))
            .collect();
        let refill = |prices: &[Decimal]| -> Vec<Level> {
            prices
                .iter()
                .flat_map(|p| [(*p, Decimal::ZERO), (*p, TOP)])
                .collect()
        };
        let (bid_refill, ask_refill) = (refill(&top_bids), refill(&top_asks));
        let qtys = [dec!(0.003), dec!(0.006), dec!(0.01)];
        let mut n: u64 = 0;
        let mut t: i64 = 10;
        g.bench_function("market_1_to_3_levels", |b| {
            b.iter(|| {
                n += 1;
                t += 1;
                let side = if n.is_multiple_of(2) {
                    Side::Buy
                } else {
                    Side::Sell
                };
                let q = qtys[(n % 3) as usize];
                let (o, ev) = ex
                    .submit(OrderRequest::market(SYMBOL, side, q), t)
                    .expect("market");
                debug_assert!(ev.iter().any(|e| matches!(e, ExecEvent::Fill(_))));
                black_box((o, ev));
                let (bids, asks) = match side {
                    Side::Buy => (Vec::new(), ask_refill.clone()),
                    Side::Sell => (bid_refill.clone(), Vec::new()),
                };
                black_box(ex.on_event(&MarketEvent::BookDelta {
                    symbol: SYMBOL.into(),
                    time_ms: t,
                    final_update_id: n + 2,
                    bids,
                    asks,
                }));
            })
        });
    }

    // (b) Resting limit submit + cancel.
    {
        let mut ex = exchange();
        let prices: Vec<Decimal> = (10..60)
            .map(|i| level_price(BEST_BID, Side::Buy, i))
            .collect();
        let mut n = 0usize;
        g.bench_function("limit_submit_cancel", |b| {
            b.iter(|| {
                n += 1;
                let p = prices[n % prices.len()];
                let (o, ev) = ex
                    .submit(OrderRequest::limit(SYMBOL, Side::Buy, dec!(0.001), p), 10)
                    .expect("limit");
                black_box(ev);
                black_box(ex.cancel(o.id, 10).expect("cancel"));
            })
        });
    }

    // (c) One trade print while 100 of our limit orders rest at the top 100 bid levels.
    {
        let mut ex = exchange();
        let prices: Vec<Decimal> = (0..100)
            .map(|i| level_price(BEST_BID, Side::Buy, i))
            .collect();
        for p in &prices {
            ex.submit(OrderRequest::limit(SYMBOL, Side::Buy, dec!(0.001), *p), 5)
                .expect("rest");
        }
        let mut n = 0usize;
        g.bench_function("trade_with_100_resting", |b| {
            b.iter(|| {
                n += 1;
                // Sellers hitting our levels (queue moves) and buyers lifting the ask.
                let (price, seller) = if n.is_multiple_of(2) {
                    (prices[(n / 2) % prices.len()], true)
                } else {
                    (BEST_ASK, false)
                };
                let ev = ex.on_event(&MarketEvent::Trade {
                    symbol: SYMBOL.into(),
                    time_ms: 10,
                    price,
                    quantity: dec!(0.00001),
                    buyer_is_maker: seller,
                });
                // Keep 100 resting: replace any order the queue model filled.
                if ev.iter().any(|e| matches!(e, ExecEvent::Fill(_)))
                    && ex.open_orders().count() < 100
                {
                    ex.submit(
                        OrderRequest::limit(SYMBOL, Side::Buy, dec!(0.001), price),
                        10,
                    )
                    .expect("replace");
                }
                black_box(ev);
            })
        });
        assert_eq!(ex.open_orders().count(), 100);
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
