//! The simulator's pre-roll: what a first start on the simulator (and every new simulator
//! market) does before the trading screen has prices. The desk starts the seeded simulator on
//! the eight bundled pairs and simulates one day before trading starts, so the market has a
//! history (`crates/app/src/desk/engine.rs`, `SIM_PREROLL_MS`; the chart's bars for that day
//! are worked out afterwards, in the background). This runs the same calls on a fresh ledger in
//! a temporary folder.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use papermemes_app::assets::{bundled_instruments, DEFAULT_SYMBOLS};
use papermemes_app::settings::Settings;
use papermemes_app::trading::{bundled_files, Slot, Trading};
use papermemes_store::Ledger;

const EPOCH_MS: i64 = 1_735_689_600_000;
const DAY_MS: i64 = 86_400_000;

fn preroll(c: &mut Criterion) {
    let assets = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets"));
    let symbols: Vec<String> = DEFAULT_SYMBOLS.iter().map(|s| s.to_string()).collect();
    let mut g = c.benchmark_group("sim");
    g.sample_size(10).measurement_time(Duration::from_secs(40));
    g.bench_function("preroll_one_day_8_pairs", |b| {
        b.iter_with_setup(
            || tempfile::tempdir().expect("a temporary folder"),
            |dir| {
                let ledger = Ledger::open(&dir.path().join("papermemes.sqlite")).expect("ledger");
                let mut t = Trading::open_slot(
                    ledger,
                    bundled_instruments().expect("instruments"),
                    Settings::default(),
                    Slot::Sim,
                    None,
                )
                .expect("trading");
                let files = bundled_files(&assets, &symbols, "5m").expect("bundled candles");
                t.start_sim_replay(files, 1, EPOCH_MS).expect("simulator");
                t.preroll_sim(EPOCH_MS + DAY_MS).expect("pre-roll");
                t.checkpoint().expect("checkpoint");
                assert_eq!(t.market_time(), Some(EPOCH_MS + DAY_MS));
                assert!(t
                    .exchange()
                    .book("PEPEUSDT")
                    .is_some_and(|b| b.mid().is_some()));
                dir
            },
        )
    });
    g.finish();
}

criterion_group!(benches, preroll);
criterion_main!(benches);
