//! `papermemes`: PaperMemes headless. Human tables by default, `--json` for scripts.
//!
//! Exit codes: 0 ok, 1 other failure, 2 usage error, 3 refused input (order rejected, bad
//! parameter), 4 bad data file, 5 storage problem (including `db verify` finding one).

mod args;
mod capture;
mod fmt;
mod instruments;
mod live;
mod meme;

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use papermemes_app::backtest::{parse_param, BacktestRequest};
use papermemes_app::paths::AppPaths;
use papermemes_app::settings::Settings;
use papermemes_app::trading::{bundled_files, fill_from_row, slot_account, Slot, Trading};
use papermemes_app::{assets, AppError};
use papermemes_core::backtest::{build_strategy, Signal};
use papermemes_core::exchange::ExecEvent;
use papermemes_core::order::{OcoRequest, OrderRequest, OrderType, Side};
use papermemes_market::candles::symbol_from_file_name;
use papermemes_store::{Ledger, OrderFilter};
use rust_decimal::Decimal;
use serde_json::json;

use args::*;
use fmt::*;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let _guard = init_logging(&cli);
    match cli.command.clone() {
        None if std::io::stdin().is_terminal() => shell(&cli),
        None => {
            let _ = <Cli as clap::CommandFactory>::command().print_help();
            ExitCode::SUCCESS
        }
        Some(cmd) => finish(&cli, run(&cli, cmd)),
    }
}

fn finish(cli: &Cli, r: Result<(), AppError>) -> ExitCode {
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::warn!(code = %e.code(), "{e}");
            if cli.json {
                println!("{}", json!({ "error": e.to_json() }));
            } else {
                eprintln!("error [{}]: {e}", e.code());
            }
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}

/// Logs go to a daily file in the log directory; warnings also to stderr with
/// `PAPERMEMES_LOG=debug` and friends controlling the level.
fn init_logging(cli: &Cli) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    use tracing_subscriber::prelude::*;
    let paths = AppPaths::resolve(cli.data_dir.as_deref()).ok()?;
    std::fs::create_dir_all(&paths.log_dir).ok()?;
    let appender = tracing_appender::rolling::daily(&paths.log_dir, "papermemes.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = tracing_subscriber::EnvFilter::try_from_env("PAPERMEMES_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let file_layer = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(false);
    tracing_subscriber::registry()
        .with(filter)
        .with(file_layer)
        .try_init()
        .ok()?;
    Some(guard)
}

/// Interactive shell: the same commands, one per line, without the `papermemes` prefix.
fn shell(cli: &Cli) -> ExitCode {
    println!(
        "PaperMemes {} — paper trading on recorded Binance data, offline.",
        env!("CARGO_PKG_VERSION")
    );
    println!("Type a command (e.g. `replay start`, `order buy DOGEUSDT --quote 100`, `replay step --bars 12`, `portfolio`), `help`, or `quit`.");
    // Offer the default market so the first order has a price.
    if let Ok(mut t) = open_trading(cli) {
        if t.session().is_none() {
            match start_default_replay(cli, &mut t, None) {
                Ok(()) => println!(
                    "Started the default replay (bundled 5m candles of {} pairs).",
                    assets::DEFAULT_SYMBOLS.len()
                ),
                Err(e) => println!("(no default replay: {e})"),
            }
        }
        if let Some(ms) = t.market_time() {
            println!("Market time: {}", fmt_time(ms));
        }
    }
    let stdin = std::io::stdin();
    let mut line = String::new();
    loop {
        print!("papermemes> ");
        let _ = std::io::stdout().flush();
        line.clear();
        match stdin.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let l = line.trim();
        if l.is_empty() {
            continue;
        }
        if matches!(l, "quit" | "exit" | "q") {
            break;
        }
        let Some(words) = shlex::split(l) else {
            println!("could not parse the line (unbalanced quotes?)");
            continue;
        };
        let words = if words.first().map(String::as_str) == Some("help") {
            vec!["--help".to_string()]
        } else {
            words
        };
        let mut argv = vec!["papermemes".to_string()];
        if let Some(d) = &cli.data_dir {
            argv.push("--data-dir".into());
            argv.push(d.display().to_string());
        }
        argv.extend(words);
        match Cli::try_parse_from(argv) {
            Ok(c) => match c.command.clone() {
                Some(Command::Shell) | None => println!("already in the shell"),
                Some(cmd) => {
                    let _ = finish(&c, run(&c, cmd));
                }
            },
            Err(e) => {
                let _ = e.print();
            }
        }
    }
    ExitCode::SUCCESS
}

fn open_ledger(cli: &Cli) -> Result<(AppPaths, Ledger, Settings), AppError> {
    let paths = AppPaths::resolve(cli.data_dir.as_deref())?;
    paths.create()?;
    let settings = Settings::load(&paths.config_file)?;
    let ledger = Ledger::open(&paths.db_file())?;
    Ok((paths, ledger, settings))
}

/// This process's hold on the data folder (taken by the first command that trades).
static DATA_LOCK: std::sync::OnceLock<papermemes_app::paths::DataLock> = std::sync::OnceLock::new();

pub(crate) fn open_trading(cli: &Cli) -> Result<Trading, AppError> {
    let (paths, ledger, settings) = open_ledger(cli)?;
    // One PaperMemes trades in a data folder at a time (the desktop app or this command).
    if DATA_LOCK.get().is_none() {
        let lock = paths.lock()?;
        let _ = DATA_LOCK.set(lock);
    }
    // The newest cached exchangeInfo (`instruments refresh`), else the bundled snapshot.
    let rules = papermemes_app::instruments::current_instruments(&ledger)?;
    Trading::open(ledger, rules.instruments, settings)
}

fn start_default_replay(cli: &Cli, t: &mut Trading, from: Option<i64>) -> Result<(), AppError> {
    let paths = AppPaths::resolve(cli.data_dir.as_deref())?;
    let settings = Settings::load(&paths.config_file)?;
    let dir = assets::find_assets_dir(cli.assets.as_deref())?;
    let files = bundled_files(&dir, &settings.replay.symbols, &settings.replay.interval)?;
    t.start_replay(files, from)?;
    Ok(())
}

fn run(cli: &Cli, cmd: Command) -> Result<(), AppError> {
    match cmd {
        Command::Backtest(a) => backtest(cli, a),
        Command::Replay { command } => replay(cli, command),
        Command::Order(a) => order(cli, a),
        Command::Oco(a) => oco(cli, a),
        Command::Orders { all, symbol } => orders(cli, all, symbol),
        Command::Cancel { id, all, symbol } => cancel(cli, id, all, symbol),
        Command::Portfolio => portfolio(cli),
        Command::Fills { limit } => fills(cli, limit),
        Command::Equity { limit } => equity(cli, limit),
        Command::Account { command } => account(cli, command),
        Command::Db { command } => db(cli, command),
        Command::Export { csv } => export(cli, &csv),
        Command::Instruments { command } => instruments::run(cli, command),
        Command::Capture { command } => capture::run(cli, command),
        Command::Stream(a) => live::stream(cli, a),
        Command::Record(a) => live::record(cli, a),
        Command::Meme { command } => meme::run(cli, command),
        Command::Shell => {
            shell(cli);
            Ok(())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// backtest
// ---------------------------------------------------------------------------------------------

fn backtest(cli: &Cli, a: BacktestArgs) -> Result<(), AppError> {
    let params = a
        .param
        .iter()
        .map(|p| parse_param(p))
        .collect::<Result<Vec<_>, _>>()?;
    let files = if a.data.is_empty() {
        // The bundled data of one symbol (or all eight).
        let dir = assets::find_assets_dir(cli.assets.as_deref())?;
        let syms: Vec<String> = match &a.symbol {
            Some(s) => vec![s.to_ascii_uppercase()],
            None => assets::DEFAULT_SYMBOLS
                .iter()
                .map(|s| s.to_string())
                .collect(),
        };
        bundled_files(&dir, &syms, &a.interval)?
            .into_iter()
            .map(|(_, p)| p)
            .collect()
    } else {
        a.data.clone()
    };
    let req = BacktestRequest {
        files,
        symbol: a.symbol.clone(),
        strategy: a.strategy.clone(),
        params,
        fee_bps: a.fee_bps,
        slippage_bps: a.slippage_bps,
        cash: a.cash,
        keep_equity_curve: a.equity_csv.is_some(),
    };
    let instruments = assets::bundled_instruments()?;
    let bar = progress_bar(cli, "backtest");
    let run = papermemes_app::backtest::run(&instruments, &req, &mut |done, total| {
        if let Some(b) = &bar {
            b.set_length(total);
            b.set_position(done);
        }
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if let Some(path) = &a.equity_csv {
        write_equity_csv(path, &run.reports)?;
    }
    if let Some(path) = &a.trades_csv {
        write_trades_csv(path, &run.reports)?;
    }
    let bars: u64 = run.reports.iter().map(|r| r.bars).sum();
    let bps = if run.engine_seconds > 0.0 {
        bars as f64 / run.engine_seconds
    } else {
        0.0
    };
    if cli.json {
        let one = |r: &papermemes_core::backtest::BacktestReport| {
            let mut v = serde_json::to_value(r).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.insert("engine_seconds".into(), json!(run.engine_seconds));
            }
            v
        };
        let out = if run.reports.len() == 1 {
            let mut v = one(&run.reports[0]);
            if let Some(o) = v.as_object_mut() {
                o.insert("bars_per_second".into(), json!(bps));
                o.insert("load_seconds".into(), json!(run.load_seconds));
            }
            v
        } else {
            json!({
                "results": run.reports.iter().map(|r| serde_json::to_value(r).unwrap_or_default()).collect::<Vec<_>>(),
                "bars": bars,
                "engine_seconds": run.engine_seconds,
                "load_seconds": run.load_seconds,
                "bars_per_second": bps,
                "wall_seconds": run.wall_seconds,
                "threads": run.threads,
            })
        };
        println!("{out}");
        return Ok(());
    }
    print_backtest(&run.reports, a.show_trades);
    println!(
        "{} bars: engine {:.3} s on one thread ({:.1} M bars/s), loading {:.3} s; {:.3} s wall on {} thread(s)",
        group_int(bars),
        run.engine_seconds,
        bps / 1e6,
        run.load_seconds,
        run.wall_seconds,
        run.threads
    );
    Ok(())
}

fn write_equity_csv(
    path: &Path,
    reports: &[papermemes_core::backtest::BacktestReport],
) -> Result<(), AppError> {
    let mut s = String::from("symbol,time_ms,equity\n");
    for r in reports {
        for (t, e) in &r.equity_curve {
            s.push_str(&format!("{},{t},{e}\n", r.symbol));
        }
    }
    write_file(path, &s)
}

fn write_trades_csv(
    path: &Path,
    reports: &[papermemes_core::backtest::BacktestReport],
) -> Result<(), AppError> {
    let mut s = String::from(
        "symbol,entry_time_ms,exit_time_ms,entry_price,exit_price,quantity,pnl,fees,open\n",
    );
    for r in reports {
        for t in &r.trades {
            s.push_str(&format!(
                "{},{},{},{},{},{},{},{},{}\n",
                r.symbol,
                t.entry_time_ms,
                t.exit_time_ms.map(|x| x.to_string()).unwrap_or_default(),
                t.entry_price.normalize(),
                t.exit_price.normalize(),
                t.quantity.normalize(),
                t.pnl.normalize(),
                t.fees.normalize(),
                t.open
            ));
        }
    }
    write_file(path, &s)
}

fn write_file(path: &Path, s: &str) -> Result<(), AppError> {
    std::fs::write(path, s).map_err(|e| AppError::Io {
        message: format!("cannot write {}: {e}", path.display()),
    })
}

fn progress_bar(cli: &Cli, what: &str) -> Option<ProgressBar> {
    if cli.json || !std::io::stderr().is_terminal() {
        return None;
    }
    let b = ProgressBar::new(0);
    if let Ok(style) =
        ProgressStyle::with_template(&format!("{what} {{bar:40}} {{pos}}/{{len}} bars ({{eta}})"))
    {
        b.set_style(style);
    }
    Some(b)
}

// ---------------------------------------------------------------------------------------------
// replay
// ---------------------------------------------------------------------------------------------

fn replay(cli: &Cli, cmd: ReplayCommand) -> Result<(), AppError> {
    let mut t = open_trading(cli)?;
    match cmd {
        ReplayCommand::Start {
            sim: true,
            symbols,
            from,
            seed,
            ..
        } => {
            let paths = AppPaths::resolve(cli.data_dir.as_deref())?;
            let settings = Settings::load(&paths.config_file)?;
            let syms: Vec<String> = match symbols {
                Some(s) => s
                    .split(',')
                    .map(|x| x.trim().to_ascii_uppercase())
                    .filter(|x| !x.is_empty())
                    .collect(),
                None => settings.replay.symbols.clone(),
            };
            let dir = assets::find_assets_dir(cli.assets.as_deref())?;
            let files = bundled_files(&dir, &syms, "5m")?;
            // By default the simulated market starts where the bundled history ends.
            let start = from
                .as_deref()
                .map(parse_time)
                .transpose()?
                .unwrap_or(1_719_792_000_000);
            t.start_sim_replay(files, seed, start)?;
            replay_status(cli, &t)
        }
        ReplayCommand::Start {
            capture: Some(path),
            ..
        } => {
            t.start_capture_replay(path)?;
            replay_status(cli, &t)
        }
        ReplayCommand::Start {
            symbols,
            interval,
            data,
            from,
            capture: None,
            ..
        } => {
            let from_ms = from.as_deref().map(parse_time).transpose()?;
            if data.is_empty() {
                let paths = AppPaths::resolve(cli.data_dir.as_deref())?;
                let settings = Settings::load(&paths.config_file)?;
                let syms: Vec<String> = match symbols {
                    Some(s) => s
                        .split(',')
                        .map(|x| x.trim().to_ascii_uppercase())
                        .filter(|x| !x.is_empty())
                        .collect(),
                    None => settings.replay.symbols.clone(),
                };
                let interval = interval.unwrap_or(settings.replay.interval.clone());
                let dir = assets::find_assets_dir(cli.assets.as_deref())?;
                let files = bundled_files(&dir, &syms, &interval)?;
                t.start_replay(files, from_ms)?;
            } else {
                let files = data
                    .iter()
                    .map(|p| {
                        symbol_from_file_name(p).map(|(s, _)| (s, p.clone())).ok_or_else(|| {
                            AppError::invalid("replay.symbol", format!("cannot tell the symbol of {}: name it like binance_PEPE_USDT-5m.csv", p.display()))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                t.start_replay(files, from_ms)?;
            }
            replay_status(cli, &t)
        }
        ReplayCommand::Status => replay_status(cli, &t),
        ReplayCommand::Step {
            seconds: Some(secs),
            ..
        } => {
            if !(secs.is_finite() && secs >= 0.0) {
                return Err(AppError::invalid(
                    "replay.bad_seconds",
                    format!("--seconds must be a non-negative number, got {secs}"),
                ));
            }
            let mut print = |evs: &[ExecEvent]| print_events(cli, evs);
            let s = t.step_capture((secs * 1000.0) as i64, &mut print)?;
            if cli.json {
                println!(
                    "{}",
                    json!({"events": s.bars, "market_time_ms": s.market_time_ms, "at_end": s.at_end, "fills": s.fills})
                );
            } else {
                println!(
                    "advanced {} event(s) to {}{}; {} fill(s)",
                    s.bars,
                    fmt_time_s(s.market_time_ms),
                    if s.at_end { " (end of data)" } else { "" },
                    s.fills.len()
                );
            }
            Ok(())
        }
        ReplayCommand::Step { bars, speed, .. } => {
            if t.session().is_none() {
                start_default_replay(cli, &mut t, None)?;
            }
            let interval_ms = t
                .session()
                .and_then(|s| s.files.first())
                .and_then(|(_, p)| symbol_from_file_name(p))
                .and_then(|(_, i)| i)
                .unwrap_or(300_000) as u64;
            let mut total_fills = Vec::new();
            let mut finished = Vec::new();
            let mut at_end = false;
            let mut done = 0;
            let bar = if bars > 1000 {
                progress_bar(cli, "replay")
            } else {
                None
            };
            if let Some(b) = &bar {
                b.set_length(bars);
            }
            let mut print = |evs: &[ExecEvent]| print_events(cli, evs);
            while done < bars && !at_end {
                let chunk = if speed.is_some() {
                    1
                } else {
                    (bars - done).min(10_000)
                };
                let s = t.step(chunk, &mut |_, _, _, _| Vec::new(), &mut print)?;
                done += s.bars;
                at_end = s.at_end;
                total_fills.extend(s.fills);
                finished.extend(s.finished_orders);
                if let Some(b) = &bar {
                    b.set_position(done);
                }
                if let Some(x) = speed {
                    if x > 0.0 {
                        std::thread::sleep(Duration::from_secs_f64(
                            interval_ms as f64 / 1000.0 / x,
                        ));
                    }
                }
                if s.bars == 0 {
                    break;
                }
            }
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            if cli.json {
                println!(
                    "{}",
                    json!({"bars": done, "market_time_ms": t.market_time(), "at_end": at_end, "fills": total_fills})
                );
            } else {
                println!(
                    "advanced {done} bar(s) to {}{}; {} fill(s)",
                    t.market_time().map(fmt_time).unwrap_or_default(),
                    if at_end { " (end of data)" } else { "" },
                    total_fills.len()
                );
                if !total_fills.is_empty() {
                    print_fills_table(&total_fills);
                }
            }
            Ok(())
        }
        ReplayCommand::Run {
            strategy,
            symbol,
            param,
            bars,
        } => {
            if t.session().is_none() {
                start_default_replay(cli, &mut t, None)?;
            }
            let symbol = symbol.to_ascii_uppercase();
            let params = param
                .iter()
                .map(|p| parse_param(p))
                .collect::<Result<Vec<_>, _>>()?;
            let mut strat = build_strategy(&strategy, &params)?;
            let inst = t.exchange().instruments().get(&symbol)?.clone();
            let (base, quote) = (inst.base_asset.clone(), inst.quote_asset.clone());
            let mut on_bar =
                |sym: &str,
                 candle: &papermemes_core::event::Candle,
                 _: &[ExecEvent],
                 ex: &papermemes_core::exchange::Exchange| {
                    if sym != symbol {
                        return Vec::new();
                    }
                    let held = ex.portfolio().balance(&base).total();
                    let long = held > Decimal::ZERO;
                    let busy = ex.open_orders().any(|o| o.symbol == symbol);
                    match strat.on_bar(candle, long) {
                        Some(Signal::Enter) if !long && !busy => {
                            let cash = ex.portfolio().free(&quote);
                            vec![OrderRequest::market_quote(&symbol, Side::Buy, cash)]
                        }
                        Some(Signal::Exit) if long && !busy => {
                            let q = inst.floor_market_qty(ex.portfolio().free(&base));
                            if q > Decimal::ZERO {
                                vec![OrderRequest::market(&symbol, Side::Sell, q)]
                            } else {
                                Vec::new()
                            }
                        }
                        _ => Vec::new(),
                    }
                };
            // Each event line is printed only after it is committed.
            let mut print = |evs: &[ExecEvent]| print_events(cli, evs);
            let s = t.step(bars.unwrap_or(u64::MAX), &mut on_bar, &mut print)?;
            if cli.json {
                println!(
                    "{}",
                    json!({"event": "done", "bars": s.bars, "fills": s.fills.len(), "market_time_ms": s.market_time_ms, "at_end": s.at_end})
                );
            } else {
                println!(
                    "ran {} over {} bar(s) to {}: {} fill(s)",
                    strategy,
                    s.bars,
                    fmt_time(s.market_time_ms),
                    s.fills.len()
                );
            }
            Ok(())
        }
    }
}

/// Stream committed events: JSON lines in `--json` mode, short lines for people otherwise.
fn print_events(cli: &Cli, evs: &[ExecEvent]) {
    let mut out = std::io::stdout().lock();
    for e in evs {
        let line = match e {
            ExecEvent::OrderNew(o) => {
                if cli.json {
                    json!({"event":"ack","order_id":o.id,"symbol":o.symbol,"side":o.side,"type":o.order_type,"time_ms":o.created_ms}).to_string()
                } else {
                    format!(
                        "ack   order {} {} {} {}",
                        o.id, o.side, o.order_type, o.symbol
                    )
                }
            }
            ExecEvent::Fill(f) => {
                if cli.json {
                    json!({"event":"fill","fill_id":f.id,"order_id":f.order_id,"symbol":f.symbol,"side":f.side,"price":f.price,"quantity":f.quantity,"fee":f.fee,"time_ms":f.time_ms}).to_string()
                } else {
                    format!(
                        "fill  {} order {} {} {} @ {} fee {} {}",
                        f.id,
                        f.order_id,
                        f.side,
                        f.quantity.normalize(),
                        f.price.normalize(),
                        f.fee.round_dp(8).normalize(),
                        f.fee_asset
                    )
                }
            }
            _ => continue,
        };
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
}

fn replay_status(cli: &Cli, t: &Trading) -> Result<(), AppError> {
    let Some(s) = t.session() else {
        if cli.json {
            println!("{}", json!({"session": null}));
        } else {
            println!("no replay running; start one with `papermemes replay start`");
        }
        return Ok(());
    };
    if cli.json {
        println!("{}", json!({"session": s}));
    } else if let Some(sim) = &s.sim {
        println!(
            "simulating {} (seed {}) from {}; market time {} ({} events applied)",
            sim.calibrate_from
                .iter()
                .map(|(sym, _)| sym.as_str())
                .collect::<Vec<_>>()
                .join(","),
            sim.seed,
            fmt_time_s(sim.start_ms),
            fmt_time_s(s.cursor_ms),
            s.events_applied
        );
    } else if let Some(cap) = &s.capture {
        println!(
            "replaying the capture {} from {} to {}; market time {} ({} events applied)",
            cap.display(),
            fmt_time_s(s.start_ms),
            fmt_time_s(s.end_ms),
            fmt_time_s(s.cursor_ms),
            s.events_applied
        );
    } else {
        println!(
            "replaying {} ({} symbol(s)) from {} to {}; market time {}",
            s.files
                .iter()
                .map(|(sym, _)| sym.as_str())
                .collect::<Vec<_>>()
                .join(","),
            s.files.len(),
            fmt_time(s.start_ms),
            fmt_time(s.end_ms),
            fmt_time(s.cursor_ms)
        );
    }
    Ok(())
}

fn parse_time(s: &str) -> Result<i64, AppError> {
    if let Ok(ms) = s.parse::<i64>() {
        return Ok(ms);
    }
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        AppError::invalid(
            "replay.bad_time",
            format!("'{s}' is not a date (YYYY-MM-DD) or milliseconds since 1970"),
        )
    })?;
    Ok(d.and_hms_opt(0, 0, 0)
        .map(|dt| dt.and_utc().timestamp_millis())
        .unwrap_or(0))
}

// ---------------------------------------------------------------------------------------------
// orders
// ---------------------------------------------------------------------------------------------

fn order(cli: &Cli, a: OrderArgs) -> Result<(), AppError> {
    let mut t = open_trading(cli)?;
    if t.session().is_none() {
        start_default_replay(cli, &mut t, None)?;
    }
    let order_type: OrderType = a
        .order_type
        .parse()
        .map_err(|e: String| AppError::invalid("order.bad_type", e))?;
    let tif = a
        .tif
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e: String| AppError::invalid("order.bad_tif", e))?;
    let mut req = OrderRequest::new(
        &a.symbol.to_ascii_uppercase(),
        a.side.into(),
        order_type,
        a.qty,
        a.price,
        a.stop,
    );
    req.quote_quantity = a.quote;
    req.time_in_force = tif;
    req.client_order_id = a.client_id;
    let o = t.submit(req, &mut |_| {})?;
    if cli.json {
        println!("{}", serde_json::to_string(&o).unwrap_or_default());
    } else {
        println!(
            "order {} accepted: {} {} {} {}{} — status {}{}",
            o.id,
            o.side,
            o.order_type,
            o.quantity
                .map(|q| q.normalize().to_string())
                .or(o.quote_quantity.map(|q| format!(
                    "{} {}",
                    q.normalize(),
                    t.exchange().quote_asset()
                )))
                .unwrap_or_default(),
            o.symbol,
            o.price
                .map(|p| format!(" @ {}", p.normalize()))
                .unwrap_or_default(),
            o.status,
            if o.working {
                ""
            } else {
                " (reaches the market with the next tick: `papermemes replay step`)"
            }
        );
    }
    Ok(())
}

fn oco(cli: &Cli, a: OcoArgs) -> Result<(), AppError> {
    let mut t = open_trading(cli)?;
    let legs = t.submit_oco(
        OcoRequest {
            symbol: a.symbol.to_ascii_uppercase(),
            side: a.side.into(),
            quantity: a.qty,
            price: a.price,
            stop_price: a.stop,
            stop_limit_price: a.stop_limit,
        },
        &mut |_| {},
    )?;
    if cli.json {
        println!("{}", serde_json::to_string(&legs).unwrap_or_default());
    } else {
        for o in legs {
            println!(
                "order {} accepted: {} {} {} {} (OCO list {})",
                o.id,
                o.side,
                o.order_type,
                o.quantity.unwrap_or_default().normalize(),
                o.symbol,
                o.list_id.unwrap_or_default()
            );
        }
    }
    Ok(())
}

fn orders(cli: &Cli, all: bool, symbol: Option<String>) -> Result<(), AppError> {
    let (_, ledger, _) = open_ledger(cli)?;
    let Some(acct) = slot_account(&ledger, Slot::Cli)? else {
        return print_orders(cli, &[]);
    };
    let rows = ledger
        .orders(
            acct.id,
            if all {
                OrderFilter::All
            } else {
                OrderFilter::Open
            },
        )
        .wait()?;
    let sym = symbol.map(|s| s.to_ascii_uppercase());
    let lines: Vec<OrderLine> = rows
        .iter()
        .filter(|o| sym.as_ref().is_none_or(|s| &o.order.symbol == s))
        .map(OrderLine::from_row)
        .collect();
    print_orders(cli, &lines)
}

fn print_orders(cli: &Cli, lines: &[OrderLine]) -> Result<(), AppError> {
    if cli.json {
        println!("{}", serde_json::to_string(lines).unwrap_or_default());
    } else if lines.is_empty() {
        println!("no orders");
    } else {
        print_orders_table(lines);
    }
    Ok(())
}

fn cancel(cli: &Cli, id: Option<u64>, all: bool, symbol: Option<String>) -> Result<(), AppError> {
    let mut t = open_trading(cli)?;
    match (id, all) {
        (Some(id), false) => {
            let evs = t.cancel(id)?;
            let ids: Vec<u64> = evs
                .iter()
                .filter_map(|e| match e {
                    ExecEvent::OrderUpdate(u) => Some(u.order_id),
                    _ => None,
                })
                .collect();
            if cli.json {
                println!("{}", json!({"canceled": ids}));
            } else {
                println!(
                    "canceled order(s) {}",
                    ids.iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        (None, true) => {
            let n = t.cancel_all(symbol.map(|s| s.to_ascii_uppercase()).as_deref())?;
            if cli.json {
                println!("{}", json!({"canceled_count": n}));
            } else {
                println!("canceled {n} order(s)");
            }
        }
        _ => {
            return Err(AppError::invalid(
                "cancel.usage",
                "give an order id, or --all (optionally with --symbol)",
            ))
        }
    }
    Ok(())
}

fn portfolio(cli: &Cli) -> Result<(), AppError> {
    let mut t = open_trading(cli)?;
    let p = t.portfolio()?;
    if cli.json {
        println!("{}", serde_json::to_string(&p).unwrap_or_default());
    } else {
        print_portfolio(&p);
    }
    Ok(())
}

fn fills(cli: &Cli, limit: usize) -> Result<(), AppError> {
    let (_, ledger, _) = open_ledger(cli)?;
    let rows = match slot_account(&ledger, Slot::Cli)? {
        Some(a) => ledger.fills(a.id, Some(limit)).wait()?,
        None => Vec::new(),
    };
    let lines: Vec<_> = rows.iter().map(fill_from_row).collect();
    if cli.json {
        println!("{}", serde_json::to_string(&lines).unwrap_or_default());
    } else if lines.is_empty() {
        println!("no fills yet");
    } else {
        print_fills_table(&lines);
    }
    Ok(())
}

fn equity(cli: &Cli, limit: usize) -> Result<(), AppError> {
    let (_, ledger, _) = open_ledger(cli)?;
    let mut points = match slot_account(&ledger, Slot::Cli)? {
        Some(a) => ledger.equity_points(a.id).wait()?,
        None => Vec::new(),
    };
    let skip = points.len().saturating_sub(limit);
    let points: Vec<_> = points.drain(skip..).collect();
    if cli.json {
        let v: Vec<_> = points
            .iter()
            .map(|p| json!({"time_ms": p.time_ms, "equity": p.equity}))
            .collect();
        println!("{}", serde_json::Value::from(v));
    } else if points.is_empty() {
        println!("no equity points yet: they are recorded as the replay advances (`papermemes replay step`)");
    } else {
        for p in &points {
            println!("{}  {}", fmt_time(p.time_ms), d(p.equity, 4));
        }
    }
    Ok(())
}

fn account(cli: &Cli, cmd: AccountCommand) -> Result<(), AppError> {
    let mut t = open_trading(cli)?;
    match cmd {
        AccountCommand::Show => {
            let a = t.account().clone();
            if cli.json {
                println!("{}", serde_json::to_string(&a).unwrap_or_default());
            } else {
                println!(
                    "account {} ({}): started with {} {}, fees maker {} / taker {} bps",
                    a.id,
                    a.name,
                    a.initial_cash.normalize(),
                    a.quote_asset,
                    a.maker_fee_bps,
                    a.taker_fee_bps
                );
            }
        }
        AccountCommand::Reset { cash, yes } => {
            if !yes {
                if !std::io::stdin().is_terminal() {
                    return Err(AppError::invalid("account.confirm", "account reset starts a fresh account (history is kept); pass --yes to confirm"));
                }
                print!("Reset the paper account? Open orders are canceled and a fresh account starts (history is kept). [y/N] ");
                let _ = std::io::stdout().flush();
                let mut ans = String::new();
                let _ = std::io::stdin().read_line(&mut ans);
                if !matches!(ans.trim(), "y" | "Y" | "yes") {
                    println!("not reset");
                    return Ok(());
                }
            }
            let a = t.reset_account(cash)?.clone();
            if cli.json {
                println!("{}", serde_json::to_string(&a).unwrap_or_default());
            } else {
                println!(
                    "new account {} with {} {}",
                    a.id,
                    a.initial_cash.normalize(),
                    a.quote_asset
                );
            }
        }
    }
    Ok(())
}

fn db(cli: &Cli, cmd: DbCommand) -> Result<(), AppError> {
    let (paths, ledger, _) = open_ledger(cli)?;
    match cmd {
        DbCommand::Backup { file } => {
            ledger.backup(&file).wait()?;
            if cli.json {
                println!("{}", json!({"backup": file}));
            } else {
                println!(
                    "backed up {} to {}",
                    paths.db_file().display(),
                    file.display()
                );
            }
            Ok(())
        }
        DbCommand::Verify => {
            let r = ledger.verify(None).wait()?;
            if cli.json {
                println!("{}", serde_json::to_string(&r).unwrap_or_default());
            } else if r.ok {
                println!(
                    "ledger OK: {} account(s), {} orders, {} fills, {} balance changes; balances match the ledger",
                    r.accounts_checked, r.orders, r.fills, r.balance_changes
                );
            } else {
                println!("ledger has {} problem(s):", r.problems.len());
                for p in &r.problems {
                    println!("  - {p}");
                }
            }
            if r.ok {
                Ok(())
            } else {
                Err(AppError::invalid(
                    "store.verify_failed",
                    format!("{} problem(s) found", r.problems.len()),
                ))
                .map_err(|e| match e {
                    AppError::Invalid { message, .. } => {
                        AppError::Store(papermemes_store::StoreError::Invalid(message))
                    }
                    other => other,
                })
            }
        }
        DbCommand::Path => {
            println!("{}", paths.db_file().display());
            Ok(())
        }
    }
}

fn export(cli: &Cli, dir: &Path) -> Result<(), AppError> {
    let (_, ledger, _) = open_ledger(cli)?;
    let s = ledger.export_csv(None, dir).wait()?;
    if cli.json {
        println!("{}", serde_json::to_string(&s).unwrap_or_default());
    } else {
        for f in &s.files {
            println!("{:>8} rows  {}", f.rows, f.path.display());
        }
    }
    Ok(())
}
