//! `papermemes stream` on a recorded capture, and `record`'s refusals (its live path is tested
//! against a local Binance-protocol server in crates/market/tests/live.rs).

mod common;

use common::{assets, Env};

#[test]
fn stream_replays_a_capture_to_the_exchange_book() {
    let env = Env::new();
    let cap = assets().join("market/captures/spot_btcusdt_20240808.gz");
    let out = env.ok(&[
        "--json",
        "stream",
        "--replay",
        cap.to_str().expect("path"),
        "--speed",
        "0",
    ]);
    let last: serde_json::Value =
        serde_json::from_str(out.lines().last().expect("a line")).expect("json");
    assert_eq!(last["status"]["state"], "stopped");
    assert_eq!(last["counters"]["gaps"], 0);
    let btc = &last["symbols"][0];
    assert_eq!(btc["symbol"], "BTCUSDT");
    // The same final book `capture verify` rebuilds and checks against every bookTicker.
    assert_eq!(btc["best_bid"], "61685.99000000");
    assert_eq!(btc["best_ask"], "61686.00000000");
    assert_eq!(
        (btc["bid_levels"].as_u64(), btc["ask_levels"].as_u64()),
        (Some(1209), Some(2196))
    );
}

#[test]
fn record_refuses_bad_input_before_connecting() {
    let env = Env::new();
    let existing = env.dir.path().join("taken.gz");
    std::fs::write(&existing, b"x").expect("write");
    let o = env.run(&[
        "record",
        "--symbols",
        "pepeusdt",
        "--out",
        existing.to_str().expect("path"),
        "--ws-base",
        "ws://127.0.0.1:9",
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("already exists"));
    let o = env.run(&[
        "record",
        "--symbols",
        "pepe usdt!",
        "--out",
        "/tmp/never.gz",
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(
        std::fs::read(&existing).expect("read"),
        b"x",
        "the existing file is untouched"
    );
}

#[test]
fn paper_orders_fill_against_a_replayed_real_order_book() {
    let env = Env::new();
    let cap = assets().join("market/captures/spot_btcusdt_20240808.gz");
    env.ok(&["replay", "start", "--capture", cap.to_str().expect("path")]);
    env.ok(&["replay", "step", "--seconds", "5"]);
    let refused = env.run(&["order", "buy", "BTCUSDT", "--qty", "0.5"]);
    assert_eq!(
        refused.status.code(),
        Some(3),
        "0.5 BTC costs more than the 10,000 USDT account"
    );
    env.ok(&["order", "buy", "BTCUSDT", "--qty", "0.1"]);
    // A resting bid below the market; it must survive process restarts.
    let l = env.json(&[
        "order", "buy", "BTCUSDT", "--qty", "0.01", "--type", "limit", "--price", "61700",
    ]);
    let limit_id = l["id"].as_u64().expect("id");
    // `--json` streams one line per committed event, then the summary.
    let out = env.ok(&["--json", "replay", "step", "--seconds", "10"]);
    let step: serde_json::Value =
        serde_json::from_str(out.lines().last().expect("summary")).expect("json");
    let fills = step["fills"].as_array().expect("fills");
    assert!(
        fills.len() >= 2,
        "0.1 BTC walks more than one level of the real book: {fills:?}"
    );
    let prices: Vec<rust_decimal::Decimal> = fills
        .iter()
        .map(|f| f["price"].as_str().expect("price").parse().expect("dec"))
        .collect();
    assert!(
        prices.windows(2).all(|w| w[0] <= w[1]),
        "a buy walks the asks upwards: {prices:?}"
    );
    let qty: rust_decimal::Decimal = fills
        .iter()
        .map(|f| {
            f["quantity"]
                .as_str()
                .expect("q")
                .parse::<rust_decimal::Decimal>()
                .expect("dec")
        })
        .sum();
    assert_eq!(qty, "0.1".parse().expect("d"));
    // Later (in new processes) the market trades down through 61700 and the bid fills as maker.
    env.ok(&["replay", "step", "--seconds", "400"]);
    let orders = env.json(&["orders", "--all"]);
    let limit = orders
        .as_array()
        .expect("orders")
        .iter()
        .find(|o| o["id"].as_u64() == Some(limit_id))
        .expect("limit")
        .clone();
    assert_eq!(limit["status"], "FILLED", "{limit}");
    let all_fills = env.json(&["fills"]);
    let maker = all_fills
        .as_array()
        .expect("fills")
        .iter()
        .find(|f| f["order_id"].as_u64() == Some(limit_id))
        .expect("fill");
    assert_eq!(maker["is_maker"], true);
    assert_eq!(maker["price"], "61700");
    assert_eq!(env.json(&["db", "verify"])["ok"], true);
}

#[test]
fn the_simulated_market_is_deterministic_and_tradeable() {
    let run = || {
        let env = Env::new();
        env.ok(&[
            "replay",
            "start",
            "--sim",
            "--symbols",
            "dogeusdt,pepeusdt",
            "--seed",
            "7",
        ]);
        env.ok(&["replay", "step", "--seconds", "30"]);
        env.ok(&["order", "buy", "DOGEUSDT", "--quote", "300"]);
        env.ok(&["order", "buy", "PEPEUSDT", "--quote", "300"]);
        // A new process per step: the market is rebuilt from the seed and goes on identically.
        env.ok(&["replay", "step", "--seconds", "120"]);
        env.ok(&["order", "sell", "DOGEUSDT", "--qty", "1000"]);
        env.ok(&["replay", "step", "--seconds", "60"]);
        assert_eq!(env.json(&["db", "verify"])["ok"], true);
        (
            env.json(&["fills"]),
            env.json(&["portfolio"])["equity"].clone(),
        )
    };
    let (fills_a, equity_a) = run();
    let (fills_b, equity_b) = run();
    assert_eq!(fills_a.as_array().map(Vec::len), Some(3), "{fills_a}");
    assert_eq!(fills_a, fills_b, "same seed, same orders → identical fills");
    assert_eq!(equity_a, equity_b);
}
