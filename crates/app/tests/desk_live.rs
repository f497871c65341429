//! The desk on **live** data, against the local Binance-protocol server on 127.0.0.1 replaying
//! the real BTCUSDT capture (never a public host): the app connects, syncs the book, shows it,
//! and a paper market order fills against the live book; the book the app shows ends equal to
//! the exchange's.

#[path = "../../market/tests/support/mock.rs"]
mod mock;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use mock::{start, Knobs, Mock};
use papermemes_app::desk::views::{
    FeedStateView, MarketKind, OrderTicket, OrderTypeView, SideView, SourceSpec,
};
use papermemes_app::desk::{Desk, DeskConfig};
use papermemes_app::paths::AppPaths;
use papermemes_app::settings::Settings;
use papermemes_app::AppError;
use papermemes_core::event::MarketEvent;
use rust_decimal_macros::dec;

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

#[test]
fn live_data_is_shown_and_traded_against_and_the_book_matches_the_exchange() -> Result<(), AppError>
{
    // The exchange, on its own thread: a few thousand real messages at 10x their pace.
    let m = Mock::new(
        4000,
        Knobs {
            speed: 10.0,
            ..Knobs::default()
        },
    );
    let (tx, rx) = std::sync::mpsc::channel();
    let server = m.clone();
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async move {
            let _ = tx.send(start(server).await);
            std::future::pending::<()>().await;
        });
    });
    let addr = rx.recv().expect("server address");

    let dir = tempfile::tempdir().expect("tmp");
    let mut settings = Settings::default();
    settings.live.ws_base = format!("ws://{addr}");
    settings.live.rest_base = format!("http://{addr}");
    let desk = Desk::start(DeskConfig {
        paths: AppPaths::resolve(Some(dir.path()))?,
        settings,
        assets: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets")),
        instruments: papermemes_app::assets::bundled_instruments()?,
        source: Some(SourceSpec::Live {
            symbols: vec!["BTCUSDT".into()],
        }),
    })?;
    assert_eq!(desk.status().kind, MarketKind::Live);
    // Connecting, syncing, then live; the status bar says so.
    let st = wait_for("the live feed to sync", 30, || {
        let s = desk.status();
        (s.state == FeedStateView::Live && s.reason.contains("in sync")).then_some(s)
    });
    assert!(st.has_book && st.has_trades);
    assert_eq!(
        desk.pause(true).map(|_| ()).unwrap_err().code(),
        "market.live"
    );

    // A market buy fills against the live book at the exchange's prices.
    wait_for("a price", 30, || {
        desk.with_bars(|b| b.last_price("BTCUSDT"))
    });
    let order = desk.submit(OrderTicket {
        symbol: "BTCUSDT".into(),
        side: SideView::Buy,
        order_type: OrderTypeView::Market,
        quantity: Some(dec!(0.001)),
        quote_quantity: None,
        price: None,
        stop_price: None,
        time_in_force: None,
    })?;
    let fill = wait_for("the fill", 30, || {
        desk.fills(5).ok().and_then(|f| f.into_iter().next())
    });
    assert_eq!(fill.order_id, order.id);
    assert_eq!(fill.quantity, dec!(0.001));
    assert!(
        fill.price > dec!(50000) && fill.price < dec!(70000),
        "a real BTC price: {}",
        fill.price
    );
    let p = desk.portfolio()?;
    assert_eq!(
        p.positions
            .iter()
            .find(|x| x.symbol == "BTCUSDT")
            .map(|x| x.quantity),
        Some(dec!(0.001))
    );

    // When the exchange has sent everything, the book the app shows equals the exchange's.
    wait_for("the stream to be sent", 60, || m.done().then_some(()));
    let truth = m.truth_book().expect("the exchange's book");
    let shown = wait_for("the app's book to catch up", 30, || {
        let (books, _) = desk.hub().book_snapshots();
        books.into_iter().find_map(|b| match b {
            MarketEvent::BookSnapshot {
                symbol,
                last_update_id,
                bids,
                asks,
                ..
            } if symbol == "BTCUSDT" && last_update_id == truth.last_update_id => {
                Some((bids, asks))
            }
            _ => None,
        })
    });
    assert_eq!(shown.0, truth.bids().collect::<Vec<_>>());
    assert_eq!(shown.1, truth.asks().collect::<Vec<_>>());
    assert!(desk.status().lag_ms.is_some(), "live latency is reported");
    Ok(())
}
