//! `papermemes stream` (a live terminal view of a feed) and `papermemes record`.

use std::collections::{BTreeMap, VecDeque};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use papermemes_app::paths::AppPaths;
use papermemes_app::settings::Settings;
use papermemes_app::AppError;
use papermemes_core::book::OrderBook;
use papermemes_core::event::MarketEvent;
use papermemes_market::hub::{FeedHub, FeedState, Update};
use papermemes_market::live::{LiveConfig, LiveFeed};
use papermemes_market::sim::{Calibration, SimMarket};
use rust_decimal::Decimal;
use serde_json::json;

use crate::args::{Cli, RecordArgs, StreamArgs};
use crate::fmt::{d, fmt_time};

fn runtime() -> Result<tokio::runtime::Runtime, AppError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| AppError::Io {
            message: format!("cannot start the async runtime: {e}"),
        })
}

fn symbols(list: &str) -> Result<Vec<String>, AppError> {
    let v: Vec<String> = list
        .split(',')
        .map(|s| s.trim().to_ascii_uppercase())
        .filter(|s| !s.is_empty())
        .collect();
    if v.is_empty()
        || v.iter()
            .any(|s| !s.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        return Err(AppError::invalid(
            "stream.symbols",
            format!("'{list}' is not a comma-separated list of symbols like pepeusdt,dogeusdt"),
        ));
    }
    Ok(v)
}

fn live_config(
    cli: &Cli,
    syms: Vec<String>,
    ws: Option<String>,
    rest: Option<String>,
) -> Result<LiveConfig, AppError> {
    let paths = AppPaths::resolve(cli.data_dir.as_deref())?;
    let settings = Settings::load(&paths.config_file)?;
    Ok(LiveConfig {
        ws_base: ws.unwrap_or(settings.live.ws_base),
        rest_base: rest.unwrap_or(settings.live.rest_base),
        symbols: syms,
        ..LiveConfig::default()
    })
}

/// What the view keeps per symbol.
#[derive(Default)]
struct View {
    book: OrderBook,
    ticker: Option<(Decimal, Decimal)>,
    trades: VecDeque<(i64, Decimal, Decimal, bool)>,
}

pub fn stream(cli: &Cli, a: StreamArgs) -> Result<(), AppError> {
    let rt = runtime()?;
    rt.block_on(async move {
        let hub = FeedHub::new(65_536);
        let mut sub = hub.subscribe();
        let sources = [a.live, a.replay.is_some(), a.sim].iter().filter(|x| **x).count();
        if sources > 1 {
            return Err(AppError::invalid("stream.source", "choose one of --live, --replay FILE, --sim"));
        }
        let mut live = None;
        let mut replay = None;
        let mut sim = None;
        if a.sim {
            sim = Some(start_sim(cli, &a, hub.clone())?);
        } else if let Some(path) = a.replay.clone() {
            let h = hub.clone();
            let speed = if a.speed <= 0.0 { None } else { Some(a.speed) };
            replay = Some(tokio::spawn(async move { papermemes_market::replay::replay_to_hub(&path, h, speed).await }));
        } else {
            let syms = symbols(a.symbols.as_deref().unwrap_or("pepeusdt,dogeusdt"))?;
            let cfg = live_config(cli, syms, a.ws_base.clone(), a.rest_base.clone())?;
            live = Some(LiveFeed::start(cfg, hub.clone()).map_err(|e| AppError::invalid("stream.live", e.to_string()))?);
        }
        let mut views: BTreeMap<String, View> = BTreeMap::new();
        let deadline = a.duration.map(|s| tokio::time::Instant::now() + Duration::from_secs_f64(s));
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        let tty = std::io::stdout().is_terminal() && !cli.json;
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        let mut ended = false;
        loop {
            tokio::select! {
                u = sub.recv() => match u {
                    Some(Update::Event(m)) => apply(&mut views, &m.event),
                    Some(Update::Resync { books, .. }) => for b in &books { apply(&mut views, b) },
                    None => ended = true,
                },
                _ = tick.tick() => {
                    render(cli, tty, &hub, &views);
                    let finished = replay.as_ref().is_some_and(|r| r.is_finished());
                    if finished || deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
                        // Read what is queued, then show the final state.
                        while let Ok(Some(u)) = sub.try_recv() {
                            match u {
                                Update::Event(m) => apply(&mut views, &m.event),
                                Update::Resync { books, .. } => for b in &books { apply(&mut views, b) },
                            }
                        }
                        ended = true;
                    }
                }
                _ = &mut ctrl_c => ended = true,
            }
            if ended {
                break;
            }
        }
        render(cli, tty, &hub, &views);
        if let Some(f) = live {
            f.stop().await;
        }
        if let Some(task) = sim {
            task.abort();
        }
        if let Some(r) = replay {
            if r.is_finished() {
                if let Ok(Err(e)) = r.await {
                    return Err(AppError::invalid("capture.read", e.to_string()));
                }
            } else {
                r.abort();
            }
        }
        Ok(())
    })
}

/// The seeded simulator, calibrated from the bundled candles, published into `hub` at
/// `--speed` × real time (0: as fast as possible).
fn start_sim(
    cli: &Cli,
    a: &StreamArgs,
    hub: FeedHub,
) -> Result<tokio::task::JoinHandle<()>, AppError> {
    let syms = symbols(a.symbols.as_deref().unwrap_or("pepeusdt,dogeusdt"))?;
    let dir = papermemes_app::assets::find_assets_dir(cli.assets.as_deref())?;
    let files = papermemes_app::trading::bundled_files(&dir, &syms, "5m")?;
    let instruments = papermemes_app::assets::bundled_instruments()?;
    let mut pairs = Vec::new();
    for (sym, path) in &files {
        let series = papermemes_market::candles::read_candles(path)?;
        let cal = Calibration::from_candles(sym, &series.candles)
            .map_err(|e| AppError::invalid("stream.sim", e.to_string()))?;
        pairs.push((instruments.get(sym)?.clone(), cal));
    }
    let start: i64 = 1_719_792_000_000;
    let market = SimMarket::new(
        pairs.iter().map(|(i, c)| (i, c.clone())).collect(),
        a.seed,
        start,
    )
    .map_err(|e| AppError::invalid("stream.sim", e.to_string()))?;
    let speed = (a.speed > 0.0).then_some(a.speed);
    let seed = a.seed;
    hub.set_status(
        FeedState::Live,
        format!("simulated market (seed {seed})"),
        start,
    );
    Ok(tokio::spawn(async move {
        let t0 = tokio::time::Instant::now();
        for (n, e) in market.enumerate() {
            match speed {
                Some(x) => {
                    let due =
                        Duration::from_secs_f64((e.time_ms() - start).max(0) as f64 / 1000.0 / x);
                    tokio::time::sleep_until(t0 + due).await;
                }
                None if n % 1000 == 0 => tokio::task::yield_now().await,
                None => {}
            }
            hub.publish(e);
        }
    }))
}

fn apply(views: &mut BTreeMap<String, View>, e: &MarketEvent) {
    let v = views.entry(e.symbol().to_string()).or_default();
    match e {
        MarketEvent::BookSnapshot {
            bids,
            asks,
            last_update_id,
            ..
        } => v.book.reset(bids, asks, *last_update_id),
        MarketEvent::BookDelta {
            bids,
            asks,
            final_update_id,
            ..
        } => {
            v.book.apply(bids, asks);
            v.book.last_update_id = *final_update_id;
        }
        MarketEvent::BookTicker { bid, ask, .. } => v.ticker = Some((*bid, *ask)),
        MarketEvent::Trade {
            time_ms,
            price,
            quantity,
            buyer_is_maker,
            ..
        } => {
            v.trades
                .push_front((*time_ms, *price, *quantity, *buyer_is_maker));
            v.trades.truncate(5);
        }
        MarketEvent::Candle { .. } => {}
    }
}

fn render(cli: &Cli, tty: bool, hub: &FeedHub, views: &BTreeMap<String, View>) {
    let status = hub.status();
    let c = hub.counters().snapshot();
    let top = |v: &View| {
        let bid = v.book.best_bid().map(|x| x.0).or(v.ticker.map(|t| t.0));
        let ask = v.book.best_ask().map(|x| x.0).or(v.ticker.map(|t| t.1));
        (bid, ask)
    };
    let mut out = std::io::stdout().lock();
    if cli.json {
        let syms: Vec<_> = views
            .iter()
            .map(|(s, v)| {
                let (bid, ask) = top(v);
                json!({"symbol": s, "best_bid": bid, "best_ask": ask, "bid_levels": v.book.bid_levels(),
                       "ask_levels": v.book.ask_levels(), "last_trade": v.trades.front().map(|t| t.1)})
            })
            .collect();
        let _ = writeln!(
            out,
            "{}",
            json!({"status": status, "counters": c, "symbols": syms})
        );
        return;
    }
    if tty {
        let _ = write!(out, "\x1b[2J\x1b[H");
    }
    let path = match (c.path_p50_us, c.path_p99_us) {
        (Some(p50), Some(p99)) => format!(" · socket→book p50 {p50} µs p99 {p99} µs"),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "feed: {:?} — {} · {} msgs · lag {} ms · {} gaps · {} resyncs · {} reconnects{path}",
        status.state, status.reason, c.messages, c.lag_ms, c.gaps, c.resyncs, c.reconnects
    );
    for (s, v) in views {
        let (bid, ask) = top(v);
        let spread = match (bid, ask) {
            (Some(b), Some(a)) => d(a - b, 10),
            _ => "-".into(),
        };
        let _ = writeln!(
            out,
            "{s:<10} bid {:>16}  ask {:>16}  spread {spread}  ({} × {} levels)",
            bid.map(|x| d(x, 10)).unwrap_or_else(|| "-".into()),
            ask.map(|x| d(x, 10)).unwrap_or_else(|| "-".into()),
            v.book.bid_levels(),
            v.book.ask_levels()
        );
        for (t, p, q, m) in &v.trades {
            let _ = writeln!(
                out,
                "    {} {} {} @ {}",
                fmt_time(*t),
                if *m { "sell" } else { "buy " },
                d(*q, 8),
                d(*p, 10)
            );
        }
    }
    let _ = out.flush();
}

pub fn record(cli: &Cli, a: RecordArgs) -> Result<(), AppError> {
    let syms = symbols(&a.symbols)?;
    let cfg = live_config(cli, syms, a.ws_base.clone(), a.rest_base.clone())?;
    let out: PathBuf = a.out.clone();
    if out.exists() {
        return Err(AppError::invalid(
            "record.exists",
            format!("{} already exists; choose another --out", out.display()),
        ));
    }
    let rt = runtime()?;
    let summary = rt.block_on(async move {
        let stop = async move {
            match a.duration {
                Some(s) => {
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs_f64(s)) => {}
                        _ = tokio::signal::ctrl_c() => {}
                    }
                }
                None => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        };
        papermemes_market::record::record(cfg, &out, Duration::from_secs(2), stop).await
    });
    let s = summary.map_err(|e| AppError::invalid("record.failed", e.to_string()))?;
    if cli.json {
        println!("{}", serde_json::to_string(&s).unwrap_or_default());
    } else {
        println!(
            "recorded {} messages ({} depth snapshots) to {}",
            s.lines,
            s.snapshots,
            s.path.display()
        );
    }
    Ok(())
}
