//! Backtest engine loop: bars per second of `sma-cross` through the paper exchange, on a
//! deterministic synthetic random walk (no file loading; the CLI bench measures real data).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use papermemes_core::backtest::{run_backtest, BacktestSettings, Signal, SmaCross, Strategy};
use papermemes_core::event::Candle;
use papermemes_core::exchange::ExchangeConfig;
use papermemes_core::instrument::Instruments;
use rust_decimal::Decimal;

fn candles(n: usize) -> Vec<Candle> {
    let mut x: u64 = 0x2545F4914F6CDD1D;
    let mut price: i64 = 9_000; // 0.09000 with 5 decimals (DOGE-like)
    (0..n)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let step = (x % 21) as i64 - 10;
            let open = price;
            price = (price + step).max(100);
            let (hi, lo) = (open.max(price) + 3, open.min(price) - 3);
            Candle {
                open_time_ms: i as i64 * 300_000,
                interval_ms: 300_000,
                open: Decimal::new(open, 5),
                high: Decimal::new(hi, 5),
                low: Decimal::new(lo, 5),
                close: Decimal::new(price, 5),
                volume: Decimal::new(1_000_000, 0),
            }
        })
        .collect()
}

/// Never trades: isolates the per-bar cost of the exchange and the statistics.
#[derive(Debug)]
struct Idle;
impl Strategy for Idle {
    fn name(&self) -> &'static str {
        "idle"
    }
    fn on_bar(&mut self, _: &Candle, _: bool) -> Option<Signal> {
        None
    }
}

fn bench(c: &mut Criterion) {
    let instruments = Instruments::from_exchange_info_json(include_str!(
        "../../../assets/market/instruments.json"
    ))
    .expect("instruments");
    let bars = candles(52_416);
    let settings = BacktestSettings {
        symbol: "DOGEUSDT".into(),
        cash: Decimal::from(10_000),
        exchange: ExchangeConfig::default(),
        keep_equity_curve: false,
    };
    let mut g = c.benchmark_group("backtest");
    g.throughput(Throughput::Elements(bars.len() as u64));
    g.bench_function("sma_cross_20_50_52k_bars", |b| {
        b.iter(|| {
            let mut s = SmaCross::new(20, 50);
            run_backtest(&instruments, &settings, &bars, &mut s, &mut |_| {}).expect("run")
        })
    });
    g.bench_function("sma_cross_on_bar_only_52k", |b| {
        b.iter(|| {
            let mut s = SmaCross::new(20, 50);
            let mut n = 0u32;
            for bar in &bars {
                if s.on_bar(bar, false).is_some() {
                    n += 1;
                }
            }
            n
        })
    });
    g.bench_function("idle_52k_bars", |b| {
        b.iter(|| {
            run_backtest(&instruments, &settings, &bars, &mut Idle, &mut |_| {}).expect("run")
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
