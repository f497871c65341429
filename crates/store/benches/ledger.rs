//! Acknowledged appends per second with `synchronous=FULL`.
//!
//! Each append is a realistic order submission: 1 order + 1 NEW event + 2
//! balance changes. Measures one thread waiting for each acknowledgement, and
//! 4 threads appending at once (group commit). Run with
//! `cargo bench -p papermemes-store --bench ledger`; set `LEDGER_BENCH_DIR`
//! to put the database elsewhere than the system temp dir (e.g. on a real
//! disk rather than tmpfs) and `LEDGER_BENCH_N` to change the append count.

use std::str::FromStr;
use std::time::{Duration, Instant};

use papermemes_store::{
    reason, Batch, Ledger, NewAccount, NewBalanceChange, NewOrderEvent, OrderRow, OrderStatus, Side,
};
use rust_decimal::Decimal;

fn batch(account_id: i64, id: i64) -> Batch {
    let half = Decimal::new(5, 1);
    let lock = |asset: &str| NewBalanceChange {
        account_id,
        asset: asset.to_owned(),
        free_delta: -half,
        locked_delta: half,
        reason: reason::LOCK.to_owned(),
        order_id: Some(id),
        fill_id: None,
        time_ms: id,
    };
    Batch {
        orders: vec![OrderRow {
            id,
            account_id,
            client_order_id: Some(format!("bench-{id}")),
            symbol: "PEPEUSDT".to_owned(),
            side: Side::Buy,
            order_type: "LIMIT".to_owned(),
            time_in_force: Some("GTC".to_owned()),
            quantity: Some(Decimal::from(1000)),
            quote_quantity: None,
            price: Decimal::from_str("0.001").ok(),
            stop_price: None,
            list_id: None,
            created_ms: id,
        }],
        events: vec![NewOrderEvent {
            order_id: id,
            time_ms: id,
            status: OrderStatus::New,
            executed_qty: Decimal::ZERO,
            cumulative_quote_qty: Decimal::ZERO,
            reason: None,
        }],
        balance_changes: vec![lock("USDT"), lock("USDT")],
        ..Batch::default()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn report(label: &str, mut lat: Vec<Duration>, elapsed: Duration) {
    lat.sort();
    let n = lat.len();
    println!(
        "{label:<28} {n:>6} orders in {:>7.3}s = {:>8.0} orders/s   ack p50 {:>8.3} ms   p99 {:>8.3} ms",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64(),
        percentile(&lat, 0.50).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3,
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs us with no
    // such flag: do a tiny smoke run then.
    let is_bench = std::env::args().any(|a| a == "--bench");
    let n: i64 = std::env::var("LEDGER_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if is_bench { 2000 } else { 20 });
    let base = std::env::var_os("LEDGER_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::tempdir_in(&base)?;
    let path = dir.path().join("bench.db");
    let ledger = Ledger::open(&path)?;
    let account = ledger
        .create_account(NewAccount {
            name: "bench".to_owned(),
            quote_asset: "USDT".to_owned(),
            created_ms: 0,
            maker_fee_bps: Decimal::from(10),
            taker_fee_bps: Decimal::from(10),
            initial_cash: Decimal::from(10_000_000),
        })
        .wait()?;
    println!(
        "ledger bench: {} (synchronous=FULL, WAL), batch = 1 order + 1 event + 2 balance changes",
        path.display()
    );

    // 1. One thread, waiting for every acknowledgement.
    let mut lat = Vec::with_capacity(n as usize);
    let start = Instant::now();
    for id in 1..=n {
        let t = Instant::now();
        ledger.append(batch(account.id, id)).wait()?;
        lat.push(t.elapsed());
    }
    report("sequential (1 thread)", lat, start.elapsed());

    // 2. Four threads at once: group commit shares the fsyncs.
    let threads = 4;
    let per = n / threads;
    let before = ledger.stats();
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let ledger = ledger.clone();
            let account_id = account.id;
            std::thread::spawn(move || {
                let mut lat = Vec::with_capacity(per as usize);
                for i in 0..per {
                    let id = n + 1 + t * per + i;
                    let s = Instant::now();
                    ledger.append(batch(account_id, id)).wait()?;
                    lat.push(s.elapsed());
                }
                Ok::<_, papermemes_store::StoreError>(lat)
            })
        })
        .collect();
    let mut lat = Vec::new();
    for h in handles {
        let part = h.join().map_err(|_| "bench thread panicked")??;
        lat.extend(part);
    }
    let elapsed = start.elapsed();
    report("concurrent (4 threads)", lat, elapsed);
    let after = ledger.stats();
    let groups = after.groups - before.groups;
    let writes = after.writes - before.writes;
    println!(
        "group commit: {writes} appends in {groups} transactions (avg {:.1} per commit)",
        writes as f64 / groups.max(1) as f64
    );

    let verify = ledger.verify(None).wait()?;
    println!(
        "verify: ok={} orders={} balance_changes={}",
        verify.ok, verify.orders, verify.balance_changes
    );
    ledger.close()?;
    Ok(())
}
