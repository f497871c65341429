//! Backtests over candle files: one worker thread per core loads files and runs them through
//! the engine; results come back in the order the files were given.
//!
//! The workers go in rounds: all of them load a file at once (loading is most of the work),
//! then their engine runs go one at a time, then the next round. So an engine run never shares
//! the machine with a loader or another engine run, and its time is that of the engine on one
//! thread, not of two threads competing; and only one file per worker is in memory at once.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::Instant;

use papermemes_core::backtest::{build_strategy, run_backtest, BacktestReport, BacktestSettings};
use papermemes_core::exchange::ExchangeConfig;
use papermemes_core::instrument::Instruments;
use papermemes_market::candles::{read_candles, symbol_from_file_name, CandleError};
use rust_decimal::Decimal;

use crate::AppError;

#[derive(Debug, Clone)]
pub struct BacktestRequest {
    pub files: Vec<PathBuf>,
    /// Symbol for a single file whose name does not tell it.
    pub symbol: Option<String>,
    pub strategy: String,
    pub params: Vec<(String, String)>,
    pub fee_bps: Decimal,
    pub slippage_bps: Decimal,
    pub cash: Decimal,
    pub keep_equity_curve: bool,
}

#[derive(Debug)]
pub struct BacktestRun {
    pub reports: Vec<BacktestReport>,
    /// Time of the backtest loops only (file loading excluded), summed over files: the
    /// single-thread engine time (engine runs never overlap each other or loading).
    pub engine_seconds: f64,
    /// Time spent reading files, summed over files.
    pub load_seconds: f64,
    /// Wall time of loading and running everything (one worker per core).
    pub wall_seconds: f64,
    pub threads: usize,
}

/// Parse `key=value`.
pub fn parse_param(s: &str) -> Result<(String, String), AppError> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(AppError::invalid(
            "backtest.bad_param",
            format!("parameter '{s}' must look like key=value, e.g. fast=20"),
        )),
    }
}

fn symbol_for(path: &Path, explicit: Option<&str>, many: bool) -> Result<String, AppError> {
    if let Some(s) = explicit {
        if !many {
            return Ok(s.trim().to_ascii_uppercase());
        }
    }
    symbol_from_file_name(path).map(|(s, _)| s).ok_or_else(|| {
        AppError::invalid(
            "backtest.symbol",
            format!("cannot tell the symbol of {}: name it like binance_PEPE_USDT-5m.csv or pass --symbol", path.display()),
        )
    })
}

/// Run the backtest. `progress(done_bars, total_bars)` is called as it goes.
pub fn run(
    instruments: &Instruments,
    req: &BacktestRequest,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<BacktestRun, AppError> {
    if req.files.is_empty() {
        return Err(AppError::invalid(
            "backtest.no_data",
            "give at least one --data FILE",
        ));
    }
    // Validate everything before the expensive part.
    build_strategy(&req.strategy, &req.params)?;
    // A missing file is a missing file (before its name is read for a symbol).
    for f in &req.files {
        if let Err(source) = std::fs::metadata(f) {
            return Err(CandleError::Io {
                path: f.clone(),
                source,
            }
            .into());
        }
    }
    let many = req.files.len() > 1;
    let symbols: Vec<String> = req
        .files
        .iter()
        .map(|f| symbol_for(f, req.symbol.as_deref(), many))
        .collect::<Result<_, _>>()?;
    for s in &symbols {
        instruments.get(s)?;
    }
    if req.cash <= Decimal::ZERO {
        return Err(AppError::invalid(
            "backtest.bad_cash",
            format!("--cash must be positive, got {}", req.cash),
        ));
    }
    for (name, v) in [
        ("--fee-bps", req.fee_bps),
        ("--slippage-bps", req.slippage_bps),
    ] {
        if v < Decimal::ZERO || v > Decimal::from(1000) {
            return Err(AppError::invalid(
                "backtest.bad_bps",
                format!("{name} must be between 0 and 1000, got {v}"),
            ));
        }
    }
    // One worker per core, each loading and running its share of the files in rounds (see the
    // module docs): loads run side by side, engine runs one at a time.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(req.files.len())
        .max(1);
    let shared = Shared {
        instruments,
        req,
        symbols: &symbols,
        threads,
        done: AtomicU64::new(0),
        total: AtomicU64::new(0),
        round: Barrier::new(threads),
        engine: Mutex::new(()),
    };
    let (done, total) = (&shared.done, &shared.total);
    let wall = Instant::now();
    let results: Vec<Result<Vec<Item>, AppError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|w| {
                let shared = &shared;
                scope.spawn(move || worker(shared, w))
            })
            .collect();
        while !handles.iter().all(|h| h.is_finished()) {
            progress(done.load(Ordering::Relaxed), total.load(Ordering::Relaxed));
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(AppError::Io {
                        message: "a backtest worker panicked".into(),
                    })
                })
            })
            .collect()
    });
    let wall_seconds = wall.elapsed().as_secs_f64();
    progress(done.load(Ordering::Relaxed), total.load(Ordering::Relaxed));
    let mut items: Vec<Item> = Vec::new();
    for r in results {
        items.extend(r?);
    }
    items.sort_by_key(|x| x.0);
    let load_seconds = items.iter().map(|x| x.2).sum();
    let engine_seconds = items.iter().map(|x| x.3).sum();
    let reports = items.into_iter().map(|x| x.1).collect();
    Ok(BacktestRun {
        reports,
        engine_seconds,
        load_seconds,
        wall_seconds,
        threads,
    })
}

/// (file index, report, load seconds, engine seconds)
type Item = (usize, BacktestReport, f64, f64);

/// What the workers share.
struct Shared<'a> {
    instruments: &'a Instruments,
    req: &'a BacktestRequest,
    symbols: &'a [String],
    threads: usize,
    done: AtomicU64,
    total: AtomicU64,
    /// All workers meet here after loading and after their engine runs.
    round: Barrier,
    /// Held during an engine run: one at a time.
    engine: Mutex<()>,
}

/// Worker `w` of `shared.threads` does files `w`, `w + threads`, … in lockstep with the others
/// (see the module docs). It keeps meeting the others at the barrier after an error, so none
/// waits for it in vain; the first error is returned at the end.
fn worker(shared: &Shared<'_>, w: usize) -> Result<Vec<Item>, AppError> {
    let files = &shared.req.files;
    let rounds = files.len().div_ceil(shared.threads);
    let mut out = Vec::new();
    let mut first_error = None;
    for round in 0..rounds {
        let i = round * shared.threads + w;
        let mut loaded = None;
        if i < files.len() && first_error.is_none() {
            let t = Instant::now();
            match guarded(|| Ok(read_candles(&files[i])?)) {
                Ok(series) => {
                    let load = t.elapsed().as_secs_f64();
                    shared
                        .total
                        .fetch_add(series.candles.len() as u64, Ordering::Relaxed);
                    loaded = Some((series, load));
                }
                Err(e) => first_error = Some(e),
            }
        }
        shared.round.wait();
        if let Some((series, load)) = loaded {
            // A panic while holding the lock poisons it; the lock still orders the runs.
            let _turn = shared.engine.lock().unwrap_or_else(|p| p.into_inner());
            match guarded(|| run_one(shared, i, &series.candles)) {
                Ok((report, engine)) => out.push((i, report, load, engine)),
                Err(e) => first_error = Some(e),
            }
        }
        shared.round.wait();
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// Run `f`, turning a panic into an error (a worker must reach every barrier).
fn guarded<T>(f: impl FnOnce() -> Result<T, AppError>) -> Result<T, AppError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(AppError::Io {
            message: "a backtest worker panicked".into(),
        })
    })
}

/// The backtest of file `i`: its report and the engine seconds.
fn run_one(
    shared: &Shared<'_>,
    i: usize,
    candles: &[papermemes_core::event::Candle],
) -> Result<(BacktestReport, f64), AppError> {
    let req = shared.req;
    let mut strategy = build_strategy(&req.strategy, &req.params)?;
    let settings = BacktestSettings {
        symbol: shared.symbols[i].clone(),
        cash: req.cash,
        exchange: ExchangeConfig {
            maker_fee_bps: req.fee_bps,
            taker_fee_bps: req.fee_bps,
            latency_ms: 50,
            slippage_bps: req.slippage_bps,
        },
        keep_equity_curve: req.keep_equity_curve,
    };
    let t = Instant::now();
    let mut last = 0u64;
    let report = run_backtest(
        shared.instruments,
        &settings,
        candles,
        strategy.as_mut(),
        &mut |d| {
            shared.done.fetch_add(d - last, Ordering::Relaxed);
            last = d;
        },
    )?;
    Ok((report, t.elapsed().as_secs_f64()))
}
