//! The CLI as a user drives it: each command is a separate process on the same data folder.

mod common;

use common::{candles, Env};
use serde_json::Value;

fn dec(v: &Value) -> rust_decimal::Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a decimal string, got {v}"))
        .parse()
        .expect("decimal")
}

#[test]
fn backtest_json_report_is_complete_and_deterministic() {
    let env = Env::new();
    let f = candles("binance_DOGE_USDT-1h.csv.gz");
    let args = [
        "backtest",
        "--data",
        f.to_str().expect("path"),
        "--strategy",
        "sma-cross",
        "--param",
        "fast=20",
        "--param",
        "slow=50",
        "--fee-bps",
        "10",
        "--slippage-bps",
        "0",
        "--cash",
        "10000",
    ];
    let a = env.json(&args);
    let b = env.json(&args);
    assert_eq!(a["symbol"], "DOGEUSDT");
    assert_eq!(a["bars"], 4368);
    let trades = a["trades"].as_array().expect("trades");
    assert!(
        trades.len() > 20,
        "sma-cross on 6 months of DOGE 1h trades often"
    );
    for t in trades {
        for k in [
            "entry_time_ms",
            "entry_price",
            "exit_price",
            "quantity",
            "pnl",
        ] {
            assert!(!t[k].is_null(), "trade lacks {k}: {t}");
        }
        // Entries fill at a bar open: the time is on the hour.
        assert_eq!(t["entry_time_ms"].as_i64().expect("ms") % 3_600_000, 0);
        // DOGE's lot step is 1: whole coins only.
        assert_eq!(dec(&t["quantity"]).fract(), rust_decimal::Decimal::ZERO);
    }
    // Same data, same orders → identical results.
    for k in [
        "trades",
        "final_equity",
        "fees_paid",
        "total_return_pct",
        "max_drawdown_pct",
        "sharpe",
    ] {
        assert_eq!(a[k], b[k], "{k} differs between two identical runs");
    }
    // Money adds up: final equity = cash + Σ trade PnL.
    let pnl: rust_decimal::Decimal = trades.iter().map(|t| dec(&t["pnl"])).sum();
    assert_eq!(
        dec(&a["final_equity"]),
        rust_decimal::Decimal::from(10_000) + pnl
    );
}

#[test]
fn backtest_bad_input_is_a_clear_error() {
    let env = Env::new();
    let f = candles("binance_DOGE_USDT-1h.csv.gz");
    let p = f.to_str().expect("path");
    let o = env.run(&["backtest", "--data", p, "--strategy", "moon"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown strategy 'moon'"));
    let o = env.run(&["backtest", "--data", p, "--param", "fats=3"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown parameter 'fats'"));
    // A malformed row names the file and the line.
    let bad = env.dir.path().join("binance_DOGE_USDT-5m.csv");
    std::fs::write(
        &bad,
        "open_time_ms,open,high,low,close,volume\n0,1,1,1,1,1\n300000,1,1,1,oops,1\n",
    )
    .expect("write");
    let o = env.run(&["--json", "backtest", "--data", bad.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(4));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json error");
    assert_eq!(v["error"]["code"], "data_bad_row");
    let msg = v["error"]["message"].as_str().expect("message");
    assert!(
        msg.contains("binance_DOGE_USDT-5m.csv:3") && msg.contains("close 'oops'"),
        "{msg}"
    );
    // A missing file is reported as missing (not as a name without a symbol).
    let gone = env.dir.path().join("no-such-file.csv");
    let o = env.run(&["--json", "backtest", "--data", gone.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(4));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json error");
    assert_eq!(v["error"]["code"], "data_io", "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("no-such-file.csv")),
        "{v}"
    );
    // Out-of-range numbers get the backtest's refusal (exit 3), negative ones included.
    for (flag, value, code) in [
        ("--cash", "-5", "backtest.bad_cash"),
        ("--fee-bps", "-1", "backtest.bad_bps"),
        ("--slippage-bps", "-0.5", "backtest.bad_bps"),
    ] {
        let o = env.run(&["--json", "backtest", "--data", p, flag, value]);
        assert_eq!(o.status.code(), Some(3), "{flag} {value}");
        let v: Value = serde_json::from_slice(&o.stdout).expect("json error");
        assert_eq!(v["error"]["code"], code, "{flag} {value}: {v}");
    }
    // The parameter that is wrong is the one named.
    let o = env.run(&["--json", "backtest", "--data", p, "--param", "slow=0"]);
    assert_eq!(o.status.code(), Some(3));
    let v: Value = serde_json::from_slice(&o.stdout).expect("json error");
    let msg = v["error"]["message"].as_str().expect("message");
    assert!(msg.contains("parameter slow=0"), "{msg}");
}

#[test]
fn orders_fills_and_positions_survive_restarts() {
    let env = Env::new();
    env.ok(&["replay", "start", "--symbols", "DOGEUSDT,PEPEUSDT"]);
    let o = env.json(&["order", "buy", "DOGEUSDT", "--quote", "500"]);
    assert_eq!(o["status"], "NEW");
    let id = o["id"].as_u64().expect("id");
    // A resting limit far below the market.
    let l = env.json(&[
        "order",
        "buy",
        "PEPEUSDT",
        "--qty",
        "10000000",
        "--type",
        "limit",
        "--price",
        "0.0000010",
    ]);
    let limit_id = l["id"].as_u64().expect("id");
    env.ok(&["replay", "step", "--bars", "2"]);

    // New processes see everything.
    let fills = env.json(&["fills"]);
    let fills = fills.as_array().expect("fills");
    assert_eq!(fills.len(), 1);
    assert_eq!(fills[0]["order_id"].as_u64(), Some(id));
    assert_eq!(fills[0]["fee_asset"], "USDT");
    let all = env.json(&["orders", "--all"]);
    let status = |id: u64| {
        all.as_array()
            .expect("orders")
            .iter()
            .find(|o| o["id"].as_u64() == Some(id))
            .map(|o| o["status"].clone())
    };
    assert_eq!(status(id), Some(Value::from("FILLED")));
    assert_eq!(status(limit_id), Some(Value::from("NEW")));
    let p = env.json(&["portfolio"]);
    let pos = p["positions"].as_array().expect("positions");
    let doge = pos
        .iter()
        .find(|x| x["symbol"] == "DOGEUSDT")
        .expect("DOGE position");
    assert!(dec(&doge["quantity"]) > rust_decimal::Decimal::ZERO);
    let usdt = p["balances"]
        .as_array()
        .expect("balances")
        .iter()
        .find(|b| b["asset"] == "USDT")
        .expect("usdt")
        .clone();
    // The resting limit's 10 USDT (+ max fee) is locked.
    assert_eq!(dec(&usdt["locked"]), "10.01".parse().expect("d"));

    // Cancel releases the lock; the cancelled order never fills.
    env.ok(&["cancel", &limit_id.to_string()]);
    env.ok(&["replay", "step", "--bars", "50"]);
    let p = env.json(&["portfolio"]);
    let usdt = p["balances"]
        .as_array()
        .expect("balances")
        .iter()
        .find(|b| b["asset"] == "USDT")
        .expect("usdt")
        .clone();
    assert_eq!(dec(&usdt["locked"]), rust_decimal::Decimal::ZERO);
    assert_eq!(env.json(&["fills"]).as_array().map(Vec::len), Some(1));
    assert_eq!(env.json(&["db", "verify"])["ok"], true);
    // The equity series has one point per replayed bar, the latest equal to the portfolio's.
    let eq = env.json(&["equity", "--limit", "1000"]);
    let eq = eq.as_array().expect("points");
    assert_eq!(eq.len(), 52, "2 + 50 bars were replayed");
    assert_eq!(dec(&eq[51]["equity"]), dec(&p["equity"]));
}

#[test]
fn refused_orders_change_nothing() {
    let env = Env::new();
    env.ok(&["replay", "start", "--symbols", "DOGEUSDT"]);
    env.ok(&["order", "buy", "DOGEUSDT", "--quote", "100"]);
    env.ok(&["replay", "step"]);
    let before = (
        env.json(&["portfolio"]),
        env.json(&["orders", "--all"]),
        env.json(&["fills"]),
    );
    for (args, code) in [
        (
            vec!["order", "buy", "DOGEUSDT", "--qty", "10.5"],
            "order.filter_lot_size",
        ),
        (
            vec![
                "order", "buy", "DOGEUSDT", "--qty", "1000", "--type", "limit", "--price",
                "0.080001",
            ],
            "order.filter_price",
        ),
        (
            vec!["order", "buy", "DOGEUSDT", "--qty", "2"],
            "order.filter_min_notional",
        ),
        (
            vec!["order", "buy", "DOGEUSDT", "--qty", "9000000"],
            "order.insufficient_balance",
        ),
        (
            vec!["order", "sell", "DOGEUSDT", "--qty", "100000"],
            "order.insufficient_balance",
        ),
        (
            vec!["order", "buy", "NOPEUSDT", "--qty", "1"],
            "order.unknown_symbol",
        ),
        (
            vec!["order", "buy", "DOGEUSDT", "--qty", "100", "--quote", "10"],
            "order.invalid_parameter",
        ),
        (
            vec![
                "order",
                "buy",
                "DOGEUSDT",
                "--qty",
                "1000",
                "--type",
                "limit-maker",
                "--price",
                "0.09",
            ],
            "order.would_take",
        ),
        (
            vec![
                "order",
                "sell",
                "DOGEUSDT",
                "--qty",
                "100",
                "--type",
                "stop-loss",
                "--stop",
                "0.5",
            ],
            "order.stop_would_trigger",
        ),
        (vec!["cancel", "999"], "order.unknown_order"),
    ] {
        let mut a = vec!["--json"];
        a.extend(args.iter());
        let o = env.run(&a);
        assert_eq!(o.status.code(), Some(3), "{args:?}");
        let v: Value = serde_json::from_slice(&o.stdout).expect("json error");
        assert_eq!(v["error"]["code"], code, "{args:?}: {v}");
    }
    let after = (
        env.json(&["portfolio"]),
        env.json(&["orders", "--all"]),
        env.json(&["fills"]),
    );
    assert_eq!(before, after, "a refused order changed the ledger");
    assert_eq!(env.json(&["db", "verify"])["ok"], true);
}

#[test]
fn account_reset_backup_and_export() {
    let env = Env::new();
    env.ok(&["replay", "start", "--symbols", "DOGEUSDT"]);
    env.ok(&["order", "buy", "DOGEUSDT", "--quote", "100"]);
    env.ok(&["replay", "step"]);
    let o = env.run(&["account", "reset"]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "reset without --yes must not happen non-interactively"
    );
    let a = env.json(&["account", "reset", "--yes", "--cash", "500"]);
    assert_eq!(a["id"], 2);
    let p = env.json(&["portfolio"]);
    assert_eq!(dec(&p["equity"]), rust_decimal::Decimal::from(500));
    assert_eq!(
        env.json(&["fills"]).as_array().map(Vec::len),
        Some(0),
        "the new account starts clean"
    );
    let backup = env.dir.path().join("backup.sqlite");
    env.ok(&["db", "backup", backup.to_str().expect("path")]);
    assert!(backup.is_file());
    let o = env.run(&["db", "backup", backup.to_str().expect("path")]);
    assert_ne!(o.status.code(), Some(0), "backup refuses to overwrite");
    let dir = env.dir.path().join("csv");
    env.ok(&["export", "--csv", dir.to_str().expect("path")]);
    let fills = std::fs::read_to_string(dir.join("fills.csv")).expect("fills.csv");
    assert_eq!(
        fills.lines().count(),
        2,
        "header + the old account's fill: history is kept"
    );
}

#[test]
fn a_data_folder_in_use_by_the_desktop_app_is_refused_and_left_alone() {
    let env = Env::new();
    env.ok(&["replay", "start", "--symbols", "DOGEUSDT"]);
    // The desktop app (or any PaperMemes) holds the folder.
    let paths = papermemes_app::paths::AppPaths::resolve(Some(env.dir.path())).expect("paths");
    let lock = paths.lock().expect("lock");
    let o = env.run(&["order", "buy", "DOGEUSDT", "--quote", "50"]);
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("in use") && err.contains("--data-dir"),
        "{err}"
    );
    // Reading is fine meanwhile, and nothing was placed.
    let orders = env.json(&["orders", "--all"]);
    assert_eq!(orders.as_array().map(Vec::len), Some(0), "{orders}");
    drop(lock);
    env.ok(&["order", "buy", "DOGEUSDT", "--quote", "50"]);
}
