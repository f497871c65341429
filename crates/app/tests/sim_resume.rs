//! A simulator session saved with each commit resumes at once after a restart (no re-simulating
//! the whole session) and continues exactly as if it had never stopped: same market, same fills.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use papermemes_app::settings::Settings;
use papermemes_app::trading::{bundled_files, Slot, Trading};
use papermemes_app::AppError;
use papermemes_core::exchange::ExecEvent;
use papermemes_core::order::{OrderRequest, Side};
use papermemes_core::portfolio::Fill;
use papermemes_store::Ledger;
use rust_decimal_macros::dec;

const START: i64 = 1_735_689_600_000;
const MIN: i64 = 60_000;

fn assets() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets"))
}

fn open(dir: &Path, seen: &Arc<AtomicU64>) -> Result<Trading, AppError> {
    let ledger = Ledger::open(&dir.join("papermemes.sqlite"))?;
    let seen = seen.clone();
    Trading::open_slot(
        ledger,
        papermemes_app::assets::bundled_instruments()?,
        Settings::default(),
        Slot::Sim,
        Some(Box::new(move |_| {
            seen.fetch_add(1, Ordering::Relaxed);
        })),
    )
}

fn fills_of(events: &[ExecEvent], out: &mut Vec<Fill>) {
    for e in events {
        if let ExecEvent::Fill(f) = e {
            out.push(f.clone());
        }
    }
}

/// Start the simulator, run 10 minutes, place a limit buy a little under the market and a
/// market buy, run on. With `restart`, the process "quits" after the orders and resumes.
fn session(dir: &Path, restart: bool) -> Result<(Vec<Fill>, String, u64), AppError> {
    let seen = Arc::new(AtomicU64::new(0));
    let mut t = open(dir, &seen)?;
    let files = bundled_files(&assets(), &["DOGEUSDT".into(), "PEPEUSDT".into()], "5m")?;
    t.start_sim_replay(files, 9, START)?;
    let mut fills = Vec::new();
    t.advance_to(START + 10 * MIN, &mut |e| fills_of(e, &mut fills))?;
    let mid = t
        .exchange()
        .book("DOGEUSDT")
        .and_then(|b| b.mid())
        .expect("a DOGE book");
    let price = (mid * dec!(0.999)).round_dp(5);
    t.submit(
        OrderRequest::limit("DOGEUSDT", Side::Buy, dec!(2000), price),
        &mut |_| {},
    )?;
    t.submit(
        OrderRequest::market("PEPEUSDT", Side::Buy, dec!(10000000)),
        &mut |e| fills_of(e, &mut fills),
    )?;
    t.advance_to(START + 11 * MIN, &mut |e| fills_of(e, &mut fills))?;
    t.checkpoint()?;
    let mut resumed_events = 0;
    if restart {
        drop(t);
        let seen2 = Arc::new(AtomicU64::new(0));
        t = open(dir, &seen2)?;
        resumed_events = seen2.load(Ordering::Relaxed);
    }
    t.advance_to(START + 60 * MIN, &mut |e| fills_of(e, &mut fills))?;
    t.checkpoint()?;
    let market = serde_json::to_string(&t.exchange().market_state()).expect("json");
    Ok((fills, market, resumed_events))
}

#[test]
fn a_resumed_simulator_continues_exactly_and_without_re_simulating() -> Result<(), AppError> {
    let (a, b) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let (straight, market_straight, _) = session(a.path(), false)?;
    let (resumed, market_resumed, replayed) = session(b.path(), true)?;
    assert!(straight.len() >= 2, "the orders filled: {straight:?}");
    assert_eq!(straight, resumed, "same fills, byte for byte");
    assert_eq!(market_straight, market_resumed, "same market at the end");
    assert_eq!(
        replayed, 0,
        "the restart restored the saved state instead of re-simulating"
    );
    Ok(())
}

#[test]
fn without_a_saved_state_the_session_is_rebuilt_the_slow_way_with_the_same_result(
) -> Result<(), AppError> {
    let dir = tempfile::tempdir().expect("tmp");
    let seen = Arc::new(AtomicU64::new(0));
    let mut t = open(dir.path(), &seen)?;
    let files = bundled_files(&assets(), &["DOGEUSDT".into()], "5m")?;
    t.start_sim_replay(files, 3, START)?;
    t.advance_to(START + 5 * MIN, &mut |_| {})?;
    t.checkpoint()?;
    let before = serde_json::to_string(&t.exchange().market_state()).expect("json");
    let ledger = t.ledger().clone();
    drop(t);
    spoil_saved_state(&ledger)?;
    let seen2 = Arc::new(AtomicU64::new(0));
    let t = open(dir.path(), &seen2)?;
    assert!(
        seen2.load(Ordering::Relaxed) > 0,
        "rebuilt by replaying the session"
    );
    assert_eq!(
        serde_json::to_string(&t.exchange().market_state()).expect("json"),
        before
    );
    Ok(())
}

/// A database from before saved states (or a damaged one): the simulator's state is unusable.
fn spoil_saved_state(ledger: &Ledger) -> Result<(), AppError> {
    ledger
        .append(papermemes_store::Batch {
            meta: vec![("desk.sim.session.state".into(), "{not json".into())],
            ..Default::default()
        })
        .wait()?;
    ledger.close()?;
    Ok(())
}

/// The exchange's market without the per-level print tally (which a snapshot resets).
fn market_without_tally(t: &Trading) -> String {
    let mut m = t.exchange().market_state();
    for s in &mut m.symbols {
        s.traded.clear();
    }
    serde_json::to_string(&m).expect("json")
}

/// The day simulated in one go before trading starts (what the app does on a first start) leaves
/// the same market as simulating it event by event, trades the same afterwards, and survives a
/// restart, with or without its saved state.
#[test]
fn a_preroll_in_one_go_is_the_market_simulated_event_by_event() -> Result<(), AppError> {
    let run = |fast: bool| -> Result<(tempfile::TempDir, Trading, Vec<Fill>), AppError> {
        let dir = tempfile::tempdir().expect("tmp");
        let seen = Arc::new(AtomicU64::new(0));
        let mut t = open(dir.path(), &seen)?;
        let files = bundled_files(
            &assets(),
            &["DOGEUSDT".into(), "PEPEUSDT".into(), "BTCUSDT".into()],
            "5m",
        )?;
        t.start_sim_replay(files, 21, START)?;
        if fast {
            t.preroll_sim(START + 6 * 60 * MIN)?;
            let again = t
                .preroll_sim(START + 7 * 60 * MIN)
                .expect_err("only at the start");
            assert_eq!(again.code(), "replay.sim_started");
        } else {
            t.advance_to(START + 6 * 60 * MIN, &mut |_| {})?;
        }
        t.checkpoint()?;
        let mut fills = Vec::new();
        t.submit(
            OrderRequest::market("PEPEUSDT", Side::Buy, dec!(10000000)),
            &mut |e| fills_of(e, &mut fills),
        )?;
        t.advance_to(START + 6 * 60 * MIN + 5 * MIN, &mut |e| {
            fills_of(e, &mut fills)
        })?;
        t.checkpoint()?;
        Ok((dir, t, fills))
    };
    let (_a, slow, slow_fills) = run(false)?;
    let (dir, fast, fast_fills) = run(true)?;
    assert_eq!(fast.market_time(), slow.market_time());
    assert_eq!(
        fast.session().map(|s| s.events_applied),
        slow.session().map(|s| s.events_applied),
        "the same events are behind both"
    );
    assert!(!slow_fills.is_empty(), "the market buy filled");
    assert_eq!(fast_fills, slow_fills, "same fills at the same prices");
    assert_eq!(market_without_tally(&fast), market_without_tally(&slow));

    // A restart resumes from the saved state; without it, the session is rebuilt by replaying
    // its events, to the same market.
    let expected = market_without_tally(&fast);
    let ledger = fast.ledger().clone();
    drop(fast);
    let seen = Arc::new(AtomicU64::new(0));
    let t = open(dir.path(), &seen)?;
    assert_eq!(
        market_without_tally(&t),
        expected,
        "restored from the saved state"
    );
    drop(t);
    spoil_saved_state(&ledger)?;
    let seen = Arc::new(AtomicU64::new(0));
    let t = open(dir.path(), &seen)?;
    assert!(seen.load(Ordering::Relaxed) > 0, "rebuilt by replaying");
    assert_eq!(market_without_tally(&t), expected, "rebuilt the slow way");
    Ok(())
}

/// The one-go pre-roll skips events that could have filled an order: with an order open it is
/// refused before anything moves.
#[test]
fn a_preroll_is_refused_while_an_order_is_open() -> Result<(), AppError> {
    let dir = tempfile::tempdir().expect("tmp");
    let seen = Arc::new(AtomicU64::new(0));
    let mut t = open(dir.path(), &seen)?;
    let files = bundled_files(&assets(), &["DOGEUSDT".into()], "5m")?;
    t.start_sim_replay(files, 4, START)?;
    t.submit(
        OrderRequest::limit("DOGEUSDT", Side::Buy, dec!(2000), dec!(0.01)),
        &mut |_| {},
    )?;
    let before = t.market_time();
    let e = t
        .preroll_sim(START + 60 * MIN)
        .expect_err("an order is open");
    assert_eq!(e.code(), "replay.sim_started");
    assert!(e.to_string().contains("orders are open"), "{e}");
    assert_eq!(t.market_time(), before, "nothing moved");
    assert_eq!(t.session().map(|s| s.events_applied), Some(0));
    Ok(())
}
