//! The synthetic market: determinism, book/trade/candle invariants, and the calibration match
//! against real Binance candles (tolerances stated in `docs/simulator.md`).

use std::collections::BTreeMap;
use std::path::Path;

use papermemes_core::event::{Candle, MarketEvent};
use papermemes_core::instrument::{Instrument, Instruments};
use papermemes_core::Decimal;
use papermemes_market::candles::read_candles;
use papermemes_market::sim::{Calibration, SimConfig, SimError, SimMarket, Simulator, CANDLE_MS};

const DAY_MS: i64 = 86_400_000;
/// 2024-07-01 00:00 UTC: just after the shipped candles end.
const START_MS: i64 = 1_719_792_000_000;

fn instrument(symbol: &str) -> Instrument {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../assets/market/instruments.json"
    );
    let json = std::fs::read_to_string(path).expect("instruments.json");
    let all = Instruments::from_exchange_info_json(&json).expect("parse instruments");
    all.get(symbol).expect("symbol").clone()
}

fn candles(base: &str) -> Vec<Candle> {
    let path = format!(
        "{}/../../assets/market/candles/binance_{base}_USDT-5m.csv.gz",
        env!("CARGO_MANIFEST_DIR")
    );
    read_candles(Path::new(&path)).expect("candles").candles
}

/// Calibrate on the last `days` days of the shipped 5m candles.
fn calibration(base: &str, days: usize) -> (Calibration, Vec<Candle>) {
    let all = candles(base);
    let window = all[all.len() - days * 288..].to_vec();
    let cal = Calibration::from_candles(&format!("{base}USDT"), &window).expect("calibrate");
    (cal, window)
}

#[derive(Debug)]
struct Stats {
    n: usize,
    std: f64,
    q01: f64,
    q99: f64,
    kurtosis: f64,
    /// Most / least volatile UTC hour, volatility measured as mean |5m log return|.
    hour_ratio: f64,
}

fn quantile(sorted: &[f64], p: f64) -> f64 {
    let x = p * (sorted.len() - 1) as f64;
    let i = x.floor() as usize;
    let f = x - i as f64;
    sorted[i] * (1.0 - f) + sorted[(i + 1).min(sorted.len() - 1)] * f
}

/// Close-to-close log returns of consecutive candles.
fn stats(candles: &[Candle]) -> Stats {
    let mut r = Vec::new();
    let mut abs_by_hour = [(0.0f64, 0usize); 24];
    for w in candles.windows(2) {
        let a: f64 = w[0].close.to_string().parse().expect("f64");
        let b: f64 = w[1].close.to_string().parse().expect("f64");
        let x = (b / a).ln();
        r.push(x);
        let h = ((w[1].open_time_ms / 3_600_000) % 24) as usize;
        abs_by_hour[h].0 += x.abs();
        abs_by_hour[h].1 += 1;
    }
    let n = r.len() as f64;
    let mean = r.iter().sum::<f64>() / n;
    let var = r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    let m4 = r.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n;
    let mut sorted = r.clone();
    sorted.sort_by(f64::total_cmp);
    let by_hour: Vec<f64> = abs_by_hour
        .iter()
        .map(|(s, c)| s / (*c).max(1) as f64)
        .collect();
    let max = by_hour.iter().cloned().fold(f64::MIN, f64::max);
    let min = by_hour.iter().cloned().fold(f64::MAX, f64::min);
    Stats {
        n: r.len(),
        std: var.sqrt(),
        q01: quantile(&sorted, 0.01),
        q99: quantile(&sorted, 0.99),
        kurtosis: m4 / (var * var),
        hour_ratio: max / min,
    }
}

fn ser(e: &MarketEvent) -> String {
    serde_json::to_string(e).expect("serialize")
}

#[test]
fn same_seed_same_events_different_seed_different_events() {
    let inst = instrument("DOGEUSDT");
    let (cal, _) = calibration("DOGE", 14);
    let run = |seed: u64| -> Vec<String> {
        let mut sim = Simulator::new(&inst, cal.clone(), seed, START_MS).expect("sim");
        sim.events_until(START_MS + 20 * 60_000)
            .iter()
            .map(ser)
            .collect()
    };
    let a = run(42);
    let b = run(42);
    let c = run(43);
    assert!(a.len() > 1000, "{} events", a.len());
    assert_eq!(a, b, "same seed must give identical events");
    assert_ne!(a, c, "different seeds must differ");

    // next_event and events_until give the same stream.
    let mut sim = Simulator::new(&inst, cal.clone(), 42, START_MS).expect("sim");
    let via_next: Vec<String> = (0..a.len()).map(|_| ser(&sim.next_event())).collect();
    assert_eq!(a, via_next);

    // A calibration survives a JSON round trip and drives the same simulator.
    let json = serde_json::to_string(&cal).expect("cal json");
    let back: Calibration = serde_json::from_str(&json).expect("cal parse");
    let mut sim = Simulator::new(&inst, back, 42, START_MS).expect("sim");
    let again: Vec<String> = sim
        .events_until(START_MS + 20 * 60_000)
        .iter()
        .map(ser)
        .collect();
    assert_eq!(a, again);
}

#[test]
fn a_market_saved_mid_stream_continues_with_the_very_same_events() {
    let pairs: Vec<(Instrument, Calibration)> = [("DOGEUSDT", "DOGE"), ("PEPEUSDT", "PEPE")]
        .iter()
        .map(|(s, b)| (instrument(s), calibration(b, 14).0))
        .collect();
    let mut market = SimMarket::new(
        pairs.iter().map(|(i, c)| (i, c.clone())).collect(),
        7,
        START_MS,
    )
    .expect("market");
    for _ in 0..5_000 {
        market.next();
    }
    // Saved (as the app saves it with each commit) and restored in a new process.
    let json = serde_json::to_string(&market).expect("save");
    let mut restored: SimMarket = serde_json::from_str(&json).expect("restore");
    let a: Vec<String> = market.by_ref().take(20_000).map(|e| ser(&e)).collect();
    let b: Vec<String> = restored.by_ref().take(20_000).map(|e| ser(&e)).collect();
    assert_eq!(a, b);
    assert!(
        json.len() < 64 * 1024,
        "the saved state is small: {} bytes",
        json.len()
    );
}

/// Each symbol's book built by applying book events one by one (what the exchange does).
fn apply_book(books: &mut BTreeMap<String, papermemes_core::book::OrderBook>, e: &MarketEvent) {
    match e {
        MarketEvent::BookSnapshot {
            symbol,
            bids,
            asks,
            last_update_id,
            ..
        } => books
            .entry(symbol.clone())
            .or_default()
            .reset(bids, asks, *last_update_id),
        MarketEvent::BookDelta {
            symbol,
            bids,
            asks,
            final_update_id,
            ..
        } => {
            let b = books.entry(symbol.clone()).or_default();
            b.apply(bids, asks);
            b.last_update_id = *final_update_id;
        }
        _ => {}
    }
}

/// Skipping ahead (what the app does for the day of history before trading starts) leaves the
/// market exactly where taking every event would: the same number of events behind it, the same
/// books and last trades, and the very same events after it.
#[test]
fn fast_forward_lands_where_taking_every_event_does() {
    let pairs: Vec<(Instrument, Calibration)> = [
        ("DOGEUSDT", "DOGE"),
        ("PEPEUSDT", "PEPE"),
        ("BTCUSDT", "BTC"),
    ]
    .iter()
    .map(|(s, b)| (instrument(s), calibration(b, 14).0))
    .collect();
    let build = || {
        SimMarket::new(
            pairs.iter().map(|(i, c)| (i, c.clone())).collect(),
            11,
            START_MS,
        )
        .expect("market")
    };
    // On the step grid, and between steps (half a second off).
    for until in [START_MS + 2 * 3_600_000, START_MS + 3_600_000 + 30_500] {
        let mut slow = build();
        let mut books = BTreeMap::new();
        let mut last_trades = BTreeMap::new();
        let mut last_candles = BTreeMap::new();
        let mut n = 0u64;
        let first_after = loop {
            let e = slow.next().expect("the market never ends");
            if e.time_ms() > until {
                break e;
            }
            n += 1;
            apply_book(&mut books, &e);
            match &e {
                MarketEvent::Trade { symbol, .. } => {
                    last_trades.insert(symbol.clone(), ser(&e));
                }
                MarketEvent::Candle { symbol, .. } => {
                    last_candles.insert(symbol.clone(), ser(&e));
                }
                _ => {}
            }
        };
        for threads in [1, 2, 8] {
            let mut fast = build();
            let ff = fast.fast_forward(until, threads);
            assert_eq!(ff.events, n, "events skipped ({threads} threads)");
            let mut ff_books = BTreeMap::new();
            for b in &ff.books {
                assert!(b.time_ms() <= until, "a book from after the target");
                apply_book(&mut ff_books, b);
            }
            assert_eq!(
                ff_books, books,
                "books as of the target ({threads} threads)"
            );
            let last = |trades: bool| -> BTreeMap<String, String> {
                ff.last_prints
                    .iter()
                    .filter(|e| matches!(e, MarketEvent::Trade { .. }) == trades)
                    .map(|e| (e.symbol().to_string(), ser(e)))
                    .collect()
            };
            assert_eq!(last(true), last_trades, "last trades");
            assert_eq!(last(false), last_candles, "last candles");
            assert!(
                ff.last_prints
                    .windows(2)
                    .all(|w| w[0].symbol() != w[1].symbol() || w[0].time_ms() <= w[1].time_ms()),
                "each pair's prints in time order"
            );
            // The same market afterwards, event for event.
            let after_slow: Vec<String> = std::iter::once(ser(&first_after))
                .chain(slow.by_ref().take(5_000).map(|e| ser(&e)))
                .collect();
            let after_fast: Vec<String> = fast.by_ref().take(5_001).map(|e| ser(&e)).collect();
            assert_eq!(
                after_fast, after_slow,
                "events after the target ({threads} threads)"
            );
            slow = build();
            for _ in 0..n {
                slow.next();
            }
            let _ = slow.next(); // first_after again, for the next thread count
        }
    }
}

/// A simulator started off the minute steps across each candle's close: closing the candle due
/// at the target takes a step past it. The book handed back is still the one as of the target.
#[test]
fn run_until_gives_the_book_as_of_the_target_even_past_a_candle_close() {
    let inst = instrument("DOGEUSDT");
    let (cal, _) = calibration("DOGE", 14);
    let config = SimConfig {
        step_ms: 6_000,
        depth_levels: 10,
        trades_per_minute: 30.0,
    };
    // Steps at 596.5 s and 602.5 s after START_MS; the 10th minute closes at 600 s.
    let start = START_MS + 2_500;
    let until = START_MS + 10 * 60_000 + 1_000;
    let mut a = Simulator::with_config(&inst, cal.clone(), 5, start, config.clone()).expect("sim");
    let mut books = BTreeMap::new();
    for e in a.events_until(until) {
        apply_book(&mut books, &e);
    }
    let mut b = Simulator::with_config(&inst, cal.clone(), 5, start, config.clone()).expect("sim");
    let mut seen = BTreeMap::new();
    let book = b.run_until(until, |e| apply_book(&mut seen, &e));
    assert_eq!(seen, books, "the events handed out are the same");
    let mut from_snapshot = BTreeMap::new();
    apply_book(&mut from_snapshot, &book);
    assert_eq!(
        from_snapshot, books,
        "the returned book is the book as of the target"
    );
    // Skipping without making the events lands in the same place.
    let mut c = Simulator::with_config(&inst, cal.clone(), 5, start, config.clone()).expect("sim");
    let skip = c.skip_until(until);
    let mut from_skip = BTreeMap::new();
    apply_book(&mut from_skip, &skip.book);
    assert_eq!(
        from_skip, books,
        "the skipped-to book is the book as of the target"
    );
    let mut d = Simulator::with_config(&inst, cal, 5, start, config).expect("sim");
    let taken = d.events_until(until);
    assert_eq!(skip.events, taken.len() as u64, "events skipped");
    let last = |candle: bool| {
        taken
            .iter()
            .rev()
            .find(|e| {
                if candle {
                    matches!(e, MarketEvent::Candle { .. })
                } else {
                    matches!(e, MarketEvent::Trade { .. })
                }
            })
            .cloned()
    };
    assert!(skip.last_candle.is_some() && skip.last_trade.is_some());
    assert_eq!(skip.last_candle, last(true), "last candle");
    assert_eq!(skip.last_trade, last(false), "last trade");
    for _ in 0..2_000 {
        let e = a.next_event();
        assert_eq!(b.next_event(), e, "and the simulator goes on the same");
        assert_eq!(c.next_event(), e, "also after skipping");
    }
}

/// Replays the stream into a book and checks every invariant after every event.
fn check_invariants(inst: &Instrument, cal: Calibration, config: SimConfig, until_ms: i64) {
    let tick = inst.tick();
    let step = inst.step();
    let levels = config.depth_levels;
    let mut sim = Simulator::with_config(inst, cal, 7, START_MS, config).expect("sim");
    let mut bids: BTreeMap<Decimal, Decimal> = BTreeMap::new();
    let mut asks: BTreeMap<Decimal, Decimal> = BTreeMap::new();
    let on_tick = |p: Decimal| p > Decimal::ZERO && (p % tick).is_zero();
    let on_step = |q: Decimal| q > Decimal::ZERO && (q % step).is_zero();
    let mut last_time = i64::MIN;
    let mut last_id = 0u64;
    let (mut trades, mut candles, mut deltas) = (0usize, 0usize, 0usize);
    // Trades since the last candle close: (time, price, qty).
    let mut bar_trades: Vec<(i64, Decimal, Decimal)> = Vec::new();
    let mut last_close: Option<Decimal> = None;
    let events = sim.events_until(until_ms);
    for (k, e) in events.iter().enumerate() {
        assert!(e.time_ms() >= last_time, "time went back at event {k}");
        last_time = e.time_ms();
        assert_eq!(e.symbol(), inst.symbol);
        match e {
            MarketEvent::BookSnapshot {
                bids: b,
                asks: a,
                last_update_id,
                ..
            } => {
                assert_eq!(k, 0, "only the first event is a snapshot");
                last_id = *last_update_id;
                for (p, q) in b {
                    assert!(on_tick(*p) && on_step(*q), "bad bid level {p} {q}");
                    bids.insert(*p, *q);
                }
                for (p, q) in a {
                    assert!(on_tick(*p) && on_step(*q), "bad ask level {p} {q}");
                    asks.insert(*p, *q);
                }
            }
            MarketEvent::BookDelta {
                bids: b,
                asks: a,
                final_update_id,
                ..
            } => {
                deltas += 1;
                assert_eq!(*final_update_id, last_id + 1, "update ids are consecutive");
                last_id = *final_update_id;
                for (side, levels) in [(&mut bids, b), (&mut asks, a)] {
                    for (p, q) in levels {
                        assert!(on_tick(*p), "delta price off tick: {p}");
                        if q.is_zero() {
                            assert!(side.remove(p).is_some(), "removed a missing level {p}");
                        } else {
                            assert!(on_step(*q), "delta qty off step: {q}");
                            side.insert(*p, *q);
                        }
                    }
                }
            }
            MarketEvent::Trade {
                price,
                quantity,
                buyer_is_maker,
                time_ms,
                ..
            } => {
                trades += 1;
                assert!(on_tick(*price) && on_step(*quantity), "bad trade {e:?}");
                let (touch, avail) = if *buyer_is_maker {
                    bids.iter().next_back()
                } else {
                    asks.iter().next()
                }
                .map(|(p, q)| (*p, *q))
                .expect("touch");
                assert_eq!(*price, touch, "trade away from the touch: {e:?}");
                assert!(*quantity <= avail, "trade larger than the touch: {e:?}");
                bar_trades.push((*time_ms, *price, *quantity));
            }
            MarketEvent::Candle { candle, .. } => {
                candles += 1;
                assert_eq!(candle.interval_ms, CANDLE_MS);
                assert_eq!(candle.open_time_ms % CANDLE_MS, 0);
                for p in [candle.open, candle.high, candle.low, candle.close] {
                    assert!(on_tick(p), "candle price off tick: {candle:?}");
                }
                assert!(candle.low <= candle.open.min(candle.close));
                assert!(candle.high >= candle.open.max(candle.close));
                let in_bar: Vec<_> = bar_trades
                    .iter()
                    .filter(|t| t.0 >= candle.open_time_ms && t.0 < candle.close_time_ms())
                    .collect();
                assert_eq!(in_bar.len(), bar_trades.len(), "trade outside its bar");
                let vol: Decimal = in_bar.iter().map(|t| t.2).sum();
                assert_eq!(candle.volume, vol, "candle volume = sum of its trades");
                if let Some(last) = in_bar.last() {
                    assert_eq!(candle.close, last.1);
                    let hi = in_bar.iter().map(|t| t.1).max().expect("hi");
                    let lo = in_bar.iter().map(|t| t.1).min().expect("lo");
                    assert!(candle.high >= hi && candle.low <= lo);
                } else if let Some(prev) = last_close {
                    assert_eq!(candle.close, prev, "an empty bar repeats the last close");
                }
                last_close = Some(candle.close);
                bar_trades.clear();
            }
            MarketEvent::BookTicker { .. } => panic!("the simulator streams depth, not tickers"),
        }
        let best_bid = bids.keys().next_back().copied().expect("bids");
        let best_ask = asks.keys().next().copied().expect("asks");
        assert!(best_bid < best_ask, "crossed book at event {k}: {e:?}");
        assert_eq!(bids.len(), levels, "bid depth at event {k}");
        assert_eq!(asks.len(), levels, "ask depth at event {k}");
    }
    let hours = (until_ms - START_MS) as f64 / 3_600_000.0;
    assert!(trades as f64 > hours * 60.0, "{trades} trades");
    assert!(deltas > 100 && candles as f64 >= hours * 12.0 - 1.0);
}

#[test]
fn book_trades_and_candles_keep_their_invariants() {
    for (sym, base) in [
        ("DOGEUSDT", "DOGE"),
        ("PEPEUSDT", "PEPE"),
        ("BTCUSDT", "BTC"),
    ] {
        let inst = instrument(sym);
        let (cal, _) = calibration(base, 14);
        check_invariants(
            &inst,
            cal.clone(),
            SimConfig::default(),
            START_MS + 3_600_000,
        );
        // Coarse steps (as the calibration test uses) keep them too, over a longer span.
        let coarse = SimConfig {
            step_ms: 60_000,
            depth_levels: 5,
            trades_per_minute: 6.0,
        };
        check_invariants(&inst, cal, coarse, START_MS + 2 * DAY_MS);
    }
}

#[test]
fn bad_inputs_are_errors() {
    let inst = instrument("DOGEUSDT");
    let few = &candles("DOGE")[..100];
    assert!(matches!(
        Calibration::from_candles("DOGEUSDT", few),
        Err(SimError::NotEnoughCandles { got: 100, .. })
    ));
    let (cal, _) = calibration("DOGE", 14);
    let bad_step = SimConfig {
        step_ms: 7_000,
        ..SimConfig::default()
    };
    assert!(matches!(
        Simulator::with_config(&inst, cal.clone(), 1, START_MS, bad_step),
        Err(SimError::BadConfig(_))
    ));
    let mut broken = cal;
    broken.jumps.prob_per_bar = 2.0;
    assert!(matches!(
        Simulator::new(&inst, broken, 1, START_MS),
        Err(SimError::BadCalibration { .. })
    ));
}

/// THE calibration test. Calibrate on the last 60 days of real 5m candles, simulate 60 days,
/// compare the 5m close-to-close log-return distributions. Tolerances (also in the doc):
/// std within ±15 %, 1 % and 99 % quantiles within ±25 %, kurtosis > 4 for both, and the
/// most/least volatile hour ratio (mean |r| by UTC hour) within ±25 %.
///
/// To keep it fast in a debug build the simulator runs with a coarse internal step (60 s, 5
/// book levels, 6 trades a minute); the price model per 5m bar is the same at any step.
#[test]
fn simulated_returns_match_the_calibration_data() {
    const DAYS: usize = 60;
    for (sym, base, seed) in [("DOGEUSDT", "DOGE", 1u64), ("PEPEUSDT", "PEPE", 1)] {
        let inst = instrument(sym);
        let (cal, window) = calibration(base, DAYS);
        let real = stats(&window);
        let config = SimConfig {
            step_ms: 60_000,
            depth_levels: 5,
            trades_per_minute: 6.0,
        };
        let mut sim =
            Simulator::with_config(&inst, cal.clone(), seed, START_MS, config).expect("simulator");
        let mut sim_candles = Vec::with_capacity(DAYS * 288);
        sim.for_each_until(START_MS + DAYS as i64 * DAY_MS, |e| {
            if let MarketEvent::Candle { candle, .. } = e {
                sim_candles.push(candle);
            }
        });
        let simulated = stats(&sim_candles);
        eprintln!(
            "{sym}: real {real:?}\n{sym}: sim  {simulated:?}\n{sym}: sigma/h {:?} sv {:?} jumps p={:.4} E[J^2]={:.1} diffusion share {:.3} tick noise var {:.3e}",
            cal.vol_by_hour.iter().map(|v| (v * 1e4).round() / 1e4).collect::<Vec<_>>(),
            cal.stochastic_vol,
            cal.jumps.prob_per_bar,
            cal.jumps.mean_square(),
            cal.diffusion_share,
            cal.tick_noise_var,
        );
        assert!(simulated.n >= DAYS * 288 - 1);
        let within = |name: &str, sim: f64, real: f64, tol: f64| {
            let rel = (sim / real - 1.0).abs();
            assert!(
                rel <= tol,
                "{sym} {name}: simulated {sim:.6} vs real {real:.6} ({:.1} % off, tolerance {:.0} %)",
                rel * 100.0,
                tol * 100.0
            );
        };
        within("std", simulated.std, real.std, 0.15);
        within("q01", simulated.q01, real.q01, 0.25);
        within("q99", simulated.q99, real.q99, 0.25);
        within("hour ratio", simulated.hour_ratio, real.hour_ratio, 0.25);
        assert!(
            real.kurtosis > 4.0 && simulated.kurtosis > 4.0,
            "{sym} kurtosis"
        );
    }
}

/// How long a simulated day takes at the default config (1 s steps, 20 levels). Run in release:
/// `cargo test --release -p papermemes-market --test sim -- --ignored --nocapture`.
#[test]
#[ignore]
fn speed_of_one_simulated_day() {
    for (sym, base) in [("DOGEUSDT", "DOGE"), ("PEPEUSDT", "PEPE")] {
        let inst = instrument(sym);
        let (cal, _) = calibration(base, 60);
        let mut sim = Simulator::new(&inst, cal, 1, START_MS).expect("sim");
        let started = std::time::Instant::now();
        let mut n = 0usize;
        sim.for_each_until(START_MS + DAY_MS, |_| n += 1);
        eprintln!(
            "{sym}: one simulated day: {n} events in {:?}",
            started.elapsed()
        );
    }
}
