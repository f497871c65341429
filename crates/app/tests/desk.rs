//! The desk (the desktop app's core) driven the way the UI drives it: open on a market, trade,
//! watch frames, quit, open again.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use papermemes_app::desk::frames::FrameBuilder;
use papermemes_app::desk::views::{
    FeedStateView, MarketKind, Notice, OrderStatusView, OrderTicket, OrderTypeView, SideView,
    SourceSpec, TifView, ViewSpec,
};
use papermemes_app::desk::{Desk, DeskConfig};
use papermemes_app::paths::AppPaths;
use papermemes_app::settings::Settings;
use papermemes_app::AppError;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

/// Where the simulator's clock starts (2025-01-01 00:00 UTC; `SIM_EPOCH_MS` in the desk).
const SIM_EPOCH_MS: i64 = 1_735_689_600_000;

fn assets() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets"))
}

fn config(dir: &Path, source: SourceSpec) -> DeskConfig {
    DeskConfig {
        paths: AppPaths::resolve(Some(dir)).expect("paths"),
        settings: Settings::default(),
        assets: assets(),
        instruments: papermemes_app::assets::bundled_instruments().expect("instruments"),
        source: Some(source),
    }
}

fn candles() -> SourceSpec {
    SourceSpec::Candles {
        symbols: vec!["DOGEUSDT".into(), "PEPEUSDT".into()],
        interval: "5m".into(),
        from_ms: None,
    }
}

fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn market_buy(symbol: &str, quote: Decimal) -> OrderTicket {
    OrderTicket {
        symbol: symbol.into(),
        side: SideView::Buy,
        order_type: OrderTypeView::Market,
        quantity: None,
        quote_quantity: Some(quote),
        price: None,
        stop_price: None,
        time_in_force: None,
    }
}

#[test]
fn a_market_buy_on_a_candle_replay_fills_and_survives_a_restart() -> Result<(), AppError> {
    let dir = tempfile::tempdir().expect("tmp");
    let (fill_price, qty, time) = {
        let desk = Desk::start(config(dir.path(), candles()))?;
        let st = desk.status();
        assert_eq!(st.kind, MarketKind::Replay);
        assert_eq!(st.state, FeedStateView::Live, "{}", st.reason);
        assert!(!st.has_book, "candle replays have no order book");
        // Let a bar pass so there is a price, then buy 250 USDT of DOGE.
        desk.set_speed(6000.0)?;
        wait_for("a price", 20, || {
            desk.with_bars(|b| b.last_price("DOGEUSDT"))
        });
        let order = desk.submit(market_buy("DOGEUSDT", dec!(250)))?;
        assert_eq!(order.status, OrderStatusView::New);
        let fill = wait_for("the fill", 20, || {
            desk.fills(10).ok().and_then(|f| f.into_iter().next())
        });
        assert_eq!(fill.order_id, order.id);
        let p = desk.portfolio()?;
        let pos = p
            .positions
            .iter()
            .find(|x| x.symbol == "DOGEUSDT")
            .expect("a DOGE position");
        assert_eq!(pos.quantity, fill.quantity);
        assert!(pos.mark.is_some(), "the position is marked");
        desk.pause(true)?;
        let t = desk.status().market_time_ms;
        (fill.price, fill.quantity, t)
    };
    // Quit and open again: the account, the fill and the market time are where they were.
    let desk = Desk::start(config(dir.path(), candles()))?;
    let fills = desk.fills(10)?;
    assert_eq!(fills.len(), 1);
    assert_eq!((fills[0].price, fills[0].quantity), (fill_price, qty));
    let p = desk.portfolio()?;
    assert_eq!(
        p.positions
            .iter()
            .find(|x| x.symbol == "DOGEUSDT")
            .map(|x| x.quantity),
        Some(qty)
    );
    let resumed = desk.status().market_time_ms.expect("market time");
    assert!(
        resumed >= time.expect("time") - 300_000,
        "resumes where it was (give or take the last checkpoint)"
    );
    Ok(())
}

#[test]
fn one_app_at_a_time_per_data_folder() -> Result<(), AppError> {
    let dir = tempfile::tempdir().expect("tmp");
    let _desk = Desk::start(config(dir.path(), candles()))?;
    let e = Desk::start(config(dir.path(), candles())).expect_err("second instance");
    assert_eq!(e.code(), "data.in_use");
    assert!(e.to_string().contains("--data-dir"), "{e}");
    Ok(())
}

#[test]
fn a_relaunch_waits_for_the_quitting_app_to_let_go() -> Result<(), AppError> {
    let dir = tempfile::tempdir().expect("tmp");
    let first = Desk::start(config(dir.path(), candles()))?;
    // The first app is still shutting down when the second starts.
    let quitting = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(700));
        first.shutdown();
        drop(first);
    });
    let second = Desk::start(config(dir.path(), candles()))?;
    assert!(second.status().market_time_ms.is_some());
    quitting.join().expect("join");
    Ok(())
}

#[test]
fn the_simulator_streams_a_book_and_trades_and_limit_orders_rest_and_cancel() -> Result<(), AppError>
{
    let dir = tempfile::tempdir().expect("tmp");
    let desk = Desk::start(config(dir.path(), SourceSpec::Sim { seed: 7 }))?;
    let mut notices = desk.notices();
    let st = desk.status();
    assert_eq!(st.kind, MarketKind::Sim);
    assert!(st.has_book && st.has_trades);
    assert_eq!(st.symbols.len(), 8);
    // A day of market was simulated before trading starts; its chart arrives shortly after
    // the start (worked out in the background while the market already runs).
    assert!(
        st.market_time_ms >= Some(SIM_EPOCH_MS + 86_400_000),
        "{st:?}"
    );
    // While the history is missing the status says it is on its way (the chart shows that
    // rather than "no candles"); once it says so no longer, the history is there.
    let has_history = || {
        let now = desk.status().market_time_ms.unwrap_or(0);
        desk.with_bars(|b| b.ticker("PEPEUSDT", now))
            .change_window_ms
            >= 23 * 3_600_000
    };
    assert!(desk.status().history_pending, "the history is on its way");
    // It is held back while the window opens (up to UI_READY_WAIT, 5 s).
    std::thread::sleep(Duration::from_millis(1_000));
    assert!(desk.status().history_pending && !has_history(), "held back");
    // The page does not poll the status: the one the engine pushes (every second, and on a
    // change) says the same.
    let mut pushed = move || loop {
        match notices.try_recv() {
            Ok(Notice::Status { status }) => break Some(status),
            Ok(_) => continue,
            Err(_) => break None,
        }
    };
    assert!(wait_for("a pushed status", 4, &mut pushed).history_pending);
    // The window has its prices: the history is worked out now.
    desk.ui_ready();
    wait_for("a day of chart history", 60, || {
        (!desk.status().history_pending).then_some(())
    });
    assert!(has_history(), "the history joined the chart");
    // And so does the status pushed next.
    wait_for("a pushed status without the history pending", 5, || {
        std::iter::from_fn(&mut pushed).find(|s| !s.history_pending)
    });
    assert!(desk.candles("PEPEUSDT", "1h", 30)?.len() >= 20);
    desk.set_speed(20.0)?;
    let mut fb = FrameBuilder::new(ViewSpec {
        symbol: "PEPEUSDT".into(),
        interval: "1m".into(),
        depth: 20,
    })?;
    // A view that opens after the market started: it is seeded with the hub's books.
    fb.set_epoch(desk.epoch());
    let mut sub = desk.hub().subscribe();
    let (books, seq) = desk.hub().book_snapshots();
    fb.seed(&books, seq);
    // The book is there from the first frame (the restore published it) and trades follow.
    let mut got_book = false;
    let mut got_trades = false;
    wait_for("book and trades", 30, || {
        while let Ok(Some(u)) = sub.try_recv() {
            fb.on_update(&u);
        }
        let f = desk.with_bars(|b| fb.frame(b, &st.symbols, None, true));
        if let Some(f) = f {
            got_book |= f
                .book
                .as_ref()
                .is_some_and(|b| b.bids.len() == 20 && !b.asks.is_empty());
            got_trades |= !f.trades.is_empty();
        }
        (got_book && got_trades).then_some(())
    });
    // A limit buy well under the market rests; cancelling it releases the money.
    let mid = desk.with_bars(|b| b.last_price("PEPEUSDT")).expect("price");
    let price = (mid * dec!(0.5)).round_dp(8);
    let ticket = OrderTicket {
        symbol: "PEPEUSDT".into(),
        side: SideView::Buy,
        order_type: OrderTypeView::Limit,
        quantity: Some(dec!(10000000)),
        quote_quantity: None,
        price: Some(price),
        stop_price: None,
        time_in_force: Some(TifView::Gtc),
    };
    let est = desk.estimate(ticket.clone())?;
    assert!(!est.taker, "a limit under the market rests: {est:?}");
    let order = desk.submit(ticket)?;
    let open = desk.open_orders()?;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].id, order.id);
    let p = desk.portfolio()?;
    let usdt = p.balances.iter().find(|b| b.asset == "USDT").expect("usdt");
    assert_eq!(
        usdt.locked,
        (dec!(10000000) * price)
            .round_dp(8)
            .normalize()
            .max(usdt.locked)
    );
    assert!(usdt.locked > Decimal::ZERO);
    desk.cancel(order.id)?;
    assert!(desk.open_orders()?.is_empty());
    let hist = desk.order_history(10)?;
    assert_eq!(hist[0].status, OrderStatusView::Canceled);
    let p = desk.portfolio()?;
    let usdt = p.balances.iter().find(|b| b.asset == "USDT").expect("usdt");
    assert_eq!((usdt.free, usdt.locked), (dec!(10000), Decimal::ZERO));
    Ok(())
}

#[test]
fn bad_orders_are_refused_and_change_nothing() -> Result<(), AppError> {
    let dir = tempfile::tempdir().expect("tmp");
    let desk = Desk::start(config(dir.path(), SourceSpec::Sim { seed: 3 }))?;
    let before = desk.portfolio()?;
    let mut t = OrderTicket {
        symbol: "DOGEUSDT".into(),
        side: SideView::Buy,
        order_type: OrderTypeView::Limit,
        quantity: Some(dec!(100)),
        quote_quantity: None,
        price: Some(dec!(0.123456789)),
        stop_price: None,
        time_in_force: Some(TifView::Gtc),
    };
    assert_eq!(
        desk.submit(t.clone()).map(|_| ()).unwrap_err().code(),
        "order.filter_price"
    );
    t.price = Some(dec!(0.1));
    t.quantity = Some(dec!(10.5));
    assert_eq!(
        desk.submit(t.clone()).map(|_| ()).unwrap_err().code(),
        "order.filter_lot_size"
    );
    t.quantity = Some(dec!(10));
    assert_eq!(
        desk.submit(t.clone()).map(|_| ()).unwrap_err().code(),
        "order.filter_min_notional"
    );
    t.quantity = Some(dec!(1000000));
    assert_eq!(
        desk.submit(t.clone()).map(|_| ()).unwrap_err().code(),
        "order.insufficient_balance"
    );
    t.side = SideView::Sell;
    t.quantity = Some(dec!(100));
    assert_eq!(
        desk.submit(t).map(|_| ()).unwrap_err().code(),
        "order.insufficient_balance",
        "no shorting"
    );
    assert_eq!(
        desk.set_speed(-1.0).map(|_| ()).unwrap_err().code(),
        "market.bad_speed"
    );
    assert!(desk.open_orders()?.is_empty());
    assert!(desk.order_history(10)?.is_empty());
    let after = desk.portfolio()?;
    assert_eq!(before.balances, after.balances);
    Ok(())
}

#[test]
fn each_market_has_its_own_account_and_switching_back_resumes() -> Result<(), AppError> {
    let dir = tempfile::tempdir().expect("tmp");
    let desk = Desk::start(config(dir.path(), candles()))?;
    desk.set_speed(6000.0)?;
    wait_for("a price", 20, || {
        desk.with_bars(|b| b.last_price("PEPEUSDT"))
    });
    desk.submit(market_buy("PEPEUSDT", dec!(100)))?;
    wait_for("the fill", 20, || {
        desk.fills(1).ok().filter(|f| !f.is_empty())
    });
    let replay_account = desk.status().account_id;
    let st = desk.set_source(SourceSpec::Sim { seed: 1 }, false)?;
    assert_ne!(
        st.account_id, replay_account,
        "the simulator trades its own account"
    );
    assert!(desk.fills(10)?.is_empty());
    assert_eq!(desk.portfolio()?.equity, dec!(10000));
    let st = desk.set_source(candles(), false)?;
    assert_eq!(st.account_id, replay_account, "back on the replay account");
    assert_eq!(desk.fills(10)?.len(), 1);
    // A bad source is refused and the market stays as it was.
    let e = desk
        .set_source(
            SourceSpec::Capture {
                path: "/no/such/file.gz".into(),
            },
            false,
        )
        .expect_err("no file");
    assert_eq!(e.code(), "market.no_capture");
    assert_eq!(desk.status().account_id, replay_account);
    // Restarting the replay starts a fresh replay account; the old one's history is kept.
    let st = desk.set_source(candles(), true)?;
    assert_ne!(st.account_id, replay_account);
    assert!(desk.fills(10)?.is_empty());
    Ok(())
}

#[test]
fn a_fill_at_submit_is_announced_like_any_other() -> Result<(), AppError> {
    // With no order-entry latency a market order fills inside the submit itself; the UI learns
    // of fills from notices (toast, desktop notification, the Fills list), so that fill must be
    // announced too, and only once it is in the ledger.
    let dir = tempfile::tempdir().expect("tmp");
    let mut cfg = config(dir.path(), SourceSpec::Sim { seed: 7 });
    cfg.settings.exchange.latency_ms = 0;
    let desk = Desk::start(cfg)?;
    desk.ui_ready();
    let mut notices = desk.notices();
    let order = desk.submit(market_buy("PEPEUSDT", dec!(50)))?;
    assert_eq!(order.status, OrderStatusView::Filled, "{order:?}");
    let fill = wait_for("the fill notice", 10, || loop {
        match notices.try_recv() {
            Ok(Notice::Fill { fill }) if fill.order_id == order.id => break Some(fill),
            Ok(_) => continue,
            Err(_) => break None,
        }
    });
    assert_eq!(fill.side, SideView::Buy);
    // What the notice tells is what the ledger holds.
    let fills = desk.fills(10)?;
    assert_eq!(fills.first().map(|f| f.id), Some(fill.id));
    Ok(())
}

#[test]
fn saving_the_page_preferences_keeps_the_market_and_speed_the_engine_saved() -> Result<(), AppError>
{
    let dir = tempfile::tempdir().expect("tmp");
    let desk = Desk::start(config(dir.path(), candles()))?;
    // What the page read when it opened.
    let page_copy = desk.desktop_settings();
    assert_eq!(
        page_copy.market,
        MarketKind::Sim,
        "the settings' default market"
    );
    assert_eq!(page_copy.speed, None);
    // The user then switches market and speed: the engine remembers both.
    desk.switch_market(MarketKind::Replay)?;
    desk.set_speed(5.0)?;
    let engine = desk.desktop_settings();
    assert_eq!(engine.market, MarketKind::Replay);
    assert_eq!(engine.speed, Some(5.0));
    // A theme toggle and a new chart symbol sent with the page's older copy.
    let mut sent = page_copy.clone();
    sent.theme = "light".into();
    sent.symbol = "PEPEUSDT".into();
    let saved = desk.update_desktop_settings(sent)?;
    assert_eq!(saved.theme, "light");
    assert_eq!(saved.symbol, "PEPEUSDT");
    assert_eq!(
        saved.market,
        MarketKind::Replay,
        "the market switch is not undone"
    );
    assert_eq!(saved.speed, Some(5.0), "the speed is not undone");
    assert_eq!(desk.desktop_settings(), saved);
    let paths = AppPaths::resolve(Some(dir.path())).expect("paths");
    assert_eq!(
        Settings::load(&paths.config_file)?.desktop,
        saved,
        "and so is the file"
    );
    // A bad value is refused and changes nothing.
    let mut bad = saved.clone();
    bad.theme = "purple".into();
    bad.symbol = "DOGEUSDT".into();
    assert!(desk.update_desktop_settings(bad).is_err());
    assert_eq!(Settings::load(&paths.config_file)?.desktop, saved);
    Ok(())
}
