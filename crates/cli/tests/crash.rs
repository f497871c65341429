//! Crash safety as a user would check it: a process trades on a replay while it is killed with
//! SIGKILL at random moments, many times over. After every kill the database opens, `verify`
//! proves the balances are derivable from the ledger, and every order and fill that the
//! process had acknowledged (printed, which it does only after the commit) is there.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::Env;
use papermemes_store::{Ledger, OrderFilter};

/// A small deterministic generator (xorshift) so a failing run can be reproduced.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}

#[test]
fn sigkill_at_random_moments_loses_nothing_acknowledged() {
    let env = Env::new();
    env.ok(&[
        "replay",
        "start",
        "--symbols",
        "DOGEUSDT,PEPEUSDT",
        "--interval",
        "5m",
    ]);
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9E3779B97F4A7C15);
    let rounds: usize = std::env::var("CRASH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let mut rng = Rng(seed);
    let acked_orders = Arc::new(Mutex::new(BTreeSet::<i64>::new()));
    let acked_fills = Arc::new(Mutex::new(BTreeSet::<i64>::new()));
    let mut killed_mid_run = 0;
    for round in 0..rounds {
        // Fast parameters so the strategy trades every few bars.
        let mut child = env
            .cmd()
            .args([
                "--json",
                "replay",
                "run",
                "--strategy",
                "sma-cross",
                "--symbol",
                "PEPEUSDT",
                "--param",
                "fast=2",
                "--param",
                "slow=5",
                "--bars",
                "3000",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let stdout = child.stdout.take().expect("stdout");
        let (o, f) = (acked_orders.clone(), acked_fills.clone());
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                    continue;
                };
                match v["event"].as_str() {
                    Some("ack") => {
                        o.lock()
                            .expect("lock")
                            .insert(v["order_id"].as_i64().expect("order id"));
                    }
                    Some("fill") => {
                        f.lock()
                            .expect("lock")
                            .insert(v["fill_id"].as_i64().expect("fill id"));
                    }
                    _ => {}
                }
            }
        });
        std::thread::sleep(Duration::from_millis(rng.range(40, 700)));
        let still_running = child.try_wait().expect("try_wait").is_none();
        child.kill().ok(); // SIGKILL on Unix
        child.wait().expect("wait");
        reader.join().expect("reader");
        if still_running {
            killed_mid_run += 1;
        }

        // The database must open and prove itself after every kill.
        let ledger = Ledger::open(&env.db()).expect("database opens after SIGKILL");
        let report = ledger.verify(None).wait().expect("verify runs");
        assert!(
            report.ok,
            "round {round}: ledger verify failed: {:#?}",
            report.problems
        );
        let account = ledger
            .active_account()
            .wait()
            .expect("account")
            .expect("an account");
        let orders: BTreeSet<i64> = ledger
            .orders(account.id, OrderFilter::All)
            .wait()
            .expect("orders")
            .iter()
            .map(|o| o.order.id)
            .collect();
        let fills: BTreeSet<i64> = ledger
            .fills(account.id, None)
            .wait()
            .expect("fills")
            .iter()
            .map(|f| f.id)
            .collect();
        let missing_orders: Vec<_> = acked_orders
            .lock()
            .expect("lock")
            .difference(&orders)
            .copied()
            .collect();
        let missing_fills: Vec<_> = acked_fills
            .lock()
            .expect("lock")
            .difference(&fills)
            .copied()
            .collect();
        assert!(
            missing_orders.is_empty(),
            "round {round}: acknowledged orders lost: {missing_orders:?}"
        );
        assert!(
            missing_fills.is_empty(),
            "round {round}: reported fills lost: {missing_fills:?}"
        );
        ledger.close().expect("close");
    }
    let acked = acked_orders.lock().expect("lock").len();
    let filled = acked_fills.lock().expect("lock").len();
    assert!(
        killed_mid_run >= rounds / 2,
        "only {killed_mid_run} of {rounds} kills hit a running process"
    );
    assert!(
        acked >= 10 && filled >= 10,
        "too little trading to prove anything: {acked} orders, {filled} fills"
    );
    // And the app carries on from where the committed state is.
    let v = env.json(&["db", "verify"]);
    assert_eq!(v["ok"], true);
    env.ok(&["replay", "step", "--bars", "5"]);
    eprintln!("{rounds} kills ({killed_mid_run} mid-run), {acked} acknowledged orders and {filled} fills all survived");
}
