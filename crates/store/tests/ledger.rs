//! Behaviour of the ledger as the app (and a user) sees it.

use std::path::Path;
use std::str::FromStr;

use papermemes_store::{
    reason, Batch, EquityPoint, FillRow, Ledger, NewAccount, NewBalanceChange, NewOrderEvent,
    OrderFilter, OrderRow, OrderStatus, Side, StoreError,
};
use rust_decimal::Decimal;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).expect("test decimal")
}

fn account(name: &str, cash: &str) -> NewAccount {
    NewAccount {
        name: name.into(),
        quote_asset: "USDT".into(),
        created_ms: 1_000,
        maker_fee_bps: d("10"),
        taker_fee_bps: d("10"),
        initial_cash: d(cash),
    }
}

fn order(id: i64, account_id: i64, symbol: &str, side: Side, qty: &str, price: &str) -> OrderRow {
    OrderRow {
        id,
        account_id,
        client_order_id: Some(format!("c{id}")),
        symbol: symbol.into(),
        side,
        order_type: "LIMIT".into(),
        time_in_force: Some("GTC".into()),
        quantity: Some(d(qty)),
        quote_quantity: None,
        price: Some(d(price)),
        stop_price: None,
        list_id: None,
        created_ms: 2_000 + id,
    }
}

fn event(order_id: i64, time_ms: i64, status: OrderStatus, exec: &str, cum: &str) -> NewOrderEvent {
    NewOrderEvent {
        order_id,
        time_ms,
        status,
        executed_qty: d(exec),
        cumulative_quote_qty: d(cum),
        reason: None,
    }
}

#[allow(clippy::too_many_arguments)]
fn change(
    account_id: i64,
    asset: &str,
    free: &str,
    locked: &str,
    why: &str,
    order_id: Option<i64>,
    fill_id: Option<i64>,
    time_ms: i64,
) -> NewBalanceChange {
    NewBalanceChange {
        account_id,
        asset: asset.into(),
        free_delta: d(free),
        locked_delta: d(locked),
        reason: why.into(),
        order_id,
        fill_id,
        time_ms,
    }
}

/// Submit a limit order and lock what it needs (quote for buys, base for sells).
fn submit(account_id: i64, o: OrderRow) -> Batch {
    let (asset, amount) = match o.side {
        Side::Buy => (
            "USDT".to_owned(),
            o.quantity.unwrap_or_default() * o.price.unwrap_or_default(),
        ),
        Side::Sell => (
            o.symbol.trim_end_matches("USDT").to_owned(),
            o.quantity.unwrap_or_default(),
        ),
    };
    let t = o.created_ms;
    Batch {
        events: vec![event(o.id, t, OrderStatus::New, "0", "0")],
        balance_changes: vec![NewBalanceChange {
            account_id,
            asset,
            free_delta: -amount,
            locked_delta: amount,
            reason: reason::LOCK.into(),
            order_id: Some(o.id),
            fill_id: None,
            time_ms: t,
        }],
        orders: vec![o],
        ..Batch::default()
    }
}

/// Fill a buy order of `qty` PEPE at `price` completely, fee in USDT.
fn fill_buy(
    account_id: i64,
    order_id: i64,
    fill_id: i64,
    qty: &str,
    price: &str,
    fee: &str,
) -> Batch {
    let quote = d(qty) * d(price);
    let t = 5_000 + fill_id;
    Batch {
        fills: vec![FillRow {
            id: fill_id,
            order_id,
            account_id,
            symbol: "PEPEUSDT".into(),
            side: Side::Buy,
            price: d(price),
            quantity: d(qty),
            quote_quantity: quote,
            fee: d(fee),
            fee_asset: "USDT".into(),
            is_maker: true,
            time_ms: t,
        }],
        events: vec![event(
            order_id,
            t,
            OrderStatus::Filled,
            qty,
            &quote.to_string(),
        )],
        balance_changes: vec![
            change(
                account_id,
                "PEPE",
                qty,
                "0",
                reason::FILL,
                Some(order_id),
                Some(fill_id),
                t,
            ),
            NewBalanceChange {
                account_id,
                asset: "USDT".into(),
                free_delta: Decimal::ZERO,
                locked_delta: -quote,
                reason: reason::FILL.into(),
                order_id: Some(order_id),
                fill_id: Some(fill_id),
                time_ms: t,
            },
            NewBalanceChange {
                account_id,
                asset: "USDT".into(),
                free_delta: -d(fee),
                locked_delta: Decimal::ZERO,
                reason: reason::FEE.into(),
                order_id: Some(order_id),
                fill_id: Some(fill_id),
                time_ms: t,
            },
        ],
        ..Batch::default()
    }
}

/// Cancel an order and release its lock.
fn cancel(account_id: i64, order_id: i64, asset: &str, locked: &str, t: i64) -> Batch {
    Batch {
        events: vec![event(order_id, t, OrderStatus::Canceled, "0", "0")],
        balance_changes: vec![change(
            account_id,
            asset,
            locked,
            &format!("-{locked}"),
            reason::UNLOCK,
            Some(order_id),
            None,
            t,
        )],
        ..Batch::default()
    }
}

/// Account 1 with: order 1 (buy 10 PEPE @ 2, filled by fill 1), order 2 (sell
/// 4 PEPE @ 3, cancelled), order 3 (buy 5 PEPE @ 1, open), equity and meta.
fn populate(ledger: &Ledger) -> i64 {
    let a = ledger
        .create_account(account("main", "1000"))
        .wait()
        .expect("account");
    let id = a.id;
    ledger
        .append(submit(id, order(1, id, "PEPEUSDT", Side::Buy, "10", "2")))
        .wait()
        .expect("submit 1");
    ledger
        .append(fill_buy(id, 1, 1, "10", "2", "0.02"))
        .wait()
        .expect("fill 1");
    ledger
        .append(submit(id, order(2, id, "PEPEUSDT", Side::Sell, "4", "3")))
        .wait()
        .expect("submit 2");
    ledger
        .append(cancel(id, 2, "PEPE", "4", 9_000))
        .wait()
        .expect("cancel 2");
    let mut b = submit(id, order(3, id, "PEPEUSDT", Side::Buy, "5", "1"));
    b.equity.push(EquityPoint {
        account_id: id,
        time_ms: 10_000,
        equity: d("999.98"),
    });
    b.meta
        .push(("replay.cursor".into(), r#"{"t":10000}"#.into()));
    ledger.append(b).wait().expect("submit 3");
    id
}

fn assert_invalid(r: Result<(), StoreError>, needle: &str) {
    match r {
        Err(StoreError::Invalid(msg)) => {
            assert!(
                msg.contains(needle),
                "message {msg:?} should contain {needle:?}"
            )
        }
        other => panic!("expected Invalid({needle}), got {other:?}"),
    }
}

#[test]
fn data_survives_reopen_and_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ledger.db");
    let id = {
        let ledger = Ledger::open(&path).expect("open");
        let id = populate(&ledger);
        ledger.close().expect("close");
        id
    };
    let ledger = Ledger::open(&path).expect("reopen");
    let active = ledger
        .active_account()
        .wait()
        .expect("active")
        .expect("some account");
    assert_eq!(active.id, id);
    assert_eq!(active.initial_cash, d("1000"));

    let all = ledger.orders(id, OrderFilter::All).wait().expect("orders");
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].status(), Some(OrderStatus::Filled));
    assert_eq!(all[1].status(), Some(OrderStatus::Canceled));
    assert_eq!(all[2].status(), Some(OrderStatus::New));
    assert_eq!(all[0].order.price, Some(d("2")));
    let open = ledger
        .orders(id, OrderFilter::Open)
        .wait()
        .expect("open orders");
    assert_eq!(open.iter().map(|o| o.order.id).collect::<Vec<_>>(), vec![3]);
    let one = ledger
        .orders(id, OrderFilter::ById(2))
        .wait()
        .expect("by id");
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].order.side, Side::Sell);
    assert!(ledger
        .orders(id, OrderFilter::ById(99))
        .wait()
        .expect("none")
        .is_empty());

    let events = ledger.order_events(1).wait().expect("events");
    assert_eq!(
        events.iter().map(|e| e.status).collect::<Vec<_>>(),
        vec![OrderStatus::New, OrderStatus::Filled]
    );
    let fills = ledger.fills(id, None).wait().expect("fills");
    assert_eq!(fills.len(), 1);
    assert_eq!(fills[0].fee, d("0.02"));

    let balances = ledger.balances(id).wait().expect("balances");
    let usdt = balances.iter().find(|b| b.asset == "USDT").expect("usdt");
    // 1000 - 20 (fill) - 0.02 (fee) - 5 (locked for order 3)
    assert_eq!(usdt.free, d("974.98"));
    assert_eq!(usdt.locked, d("5"));
    let pepe = balances.iter().find(|b| b.asset == "PEPE").expect("pepe");
    assert_eq!((pepe.free, pepe.locked), (d("10"), d("0")));

    let eq = ledger.equity_points(id).wait().expect("equity");
    assert_eq!(eq.len(), 1);
    assert_eq!(eq[0].equity, d("999.98"));
    assert_eq!(
        ledger
            .meta("replay.cursor")
            .wait()
            .expect("meta")
            .as_deref(),
        Some(r#"{"t":10000}"#)
    );
    assert_eq!(ledger.meta("nope").wait().expect("meta"), None);
    let max = ledger.max_ids().wait().expect("max ids");
    assert_eq!((max.max_order_id, max.max_fill_id), (3, 1));

    let report = ledger.verify(None).wait().expect("verify");
    assert!(report.ok, "problems: {:?}", report.problems);
    assert_eq!(report.accounts_checked, 1);
    assert_eq!(report.orders, 3);
    assert_eq!(report.fills, 1);
    // deposit + lock + 3 fill/fee + lock + unlock + lock
    assert_eq!(report.balance_changes, 8);
    assert_eq!(report.balances, balances);
}

#[test]
fn meta_upsert_replaces_and_an_account_reset_makes_a_new_active_account() {
    let ledger = Ledger::open_in_memory().expect("open");
    let first = ledger
        .create_account(account("a", "100"))
        .wait()
        .expect("a");
    let second = ledger.create_account(account("b", "50")).wait().expect("b");
    assert!(second.id > first.id);
    assert_eq!(
        ledger
            .active_account()
            .wait()
            .expect("active")
            .map(|a| a.id),
        Some(second.id)
    );
    for v in ["1", "2"] {
        let b = Batch {
            meta: vec![("k".into(), v.into())],
            ..Batch::default()
        };
        ledger.append(b).wait().expect("meta");
    }
    assert_eq!(ledger.meta("k").wait().expect("meta").as_deref(), Some("2"));
    // The old account's history stays.
    let bal = ledger.balances(first.id).wait().expect("balances");
    assert_eq!(bal[0].free, d("100"));
}

#[test]
fn fills_limit_returns_the_newest_in_chronological_order() {
    let ledger = Ledger::open_in_memory().expect("open");
    let a = ledger
        .create_account(account("a", "1000"))
        .wait()
        .expect("a")
        .id;
    for i in 1..=5 {
        ledger
            .append(submit(a, order(i, a, "PEPEUSDT", Side::Buy, "1", "1")))
            .wait()
            .expect("submit");
        ledger
            .append(fill_buy(a, i, i, "1", "1", "0"))
            .wait()
            .expect("fill");
    }
    let last2 = ledger.fills(a, Some(2)).wait().expect("fills");
    assert_eq!(last2.iter().map(|f| f.id).collect::<Vec<_>>(), vec![4, 5]);
    let report = ledger.verify(Some(a)).wait().expect("verify");
    assert!(report.ok, "{:?}", report.problems);
}

#[test]
fn newer_schema_is_refused_and_the_file_is_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ledger.db");
    {
        let ledger = Ledger::open(&path).expect("open");
        populate(&ledger);
    }
    let newer = papermemes_store::supported_schema_version() + 4;
    {
        let raw = rusqlite::Connection::open(&path).expect("raw");
        raw.pragma_update(None, "user_version", newer)
            .expect("bump");
    }
    let before = std::fs::read(&path).expect("read");
    let err = Ledger::open(&path).expect_err("must refuse");
    match &err {
        StoreError::NewerSchema { found, supported } => {
            assert_eq!(*found, newer);
            assert_eq!(*supported, papermemes_store::supported_schema_version());
        }
        other => panic!("expected NewerSchema, got {other:?}"),
    }
    assert_eq!(err.code(), "store.newer_schema");
    assert!(err
        .to_string()
        .contains("upgrade PaperMemes or use another --data-dir"));
    let after = std::fs::read(&path).expect("read");
    assert!(before == after, "the database file was modified");
}

#[test]
fn open_fails_clearly_when_the_directory_is_missing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = Ledger::open(&dir.path().join("missing/ledger.db")).expect_err("no dir");
    assert_eq!(err.code(), "store.io");
    assert!(err.to_string().contains("does not exist"), "{err}");
}

#[test]
fn bad_batches_change_nothing() {
    let ledger = Ledger::open_in_memory().expect("open");
    let a = populate(&ledger);
    let b = ledger
        .create_account(account("other", "10"))
        .wait()
        .expect("b")
        .id;
    let before = ledger.verify(None).wait().expect("verify");

    // A fill referencing an unknown order; the batch also carries a valid
    // new order, which must not be stored either.
    let mut bad = submit(a, order(10, a, "PEPEUSDT", Side::Buy, "1", "1"));
    bad.fills.push(FillRow {
        id: 10,
        order_id: 777,
        account_id: a,
        symbol: "PEPEUSDT".into(),
        side: Side::Buy,
        price: d("1"),
        quantity: d("1"),
        quote_quantity: d("1"),
        fee: d("0"),
        fee_asset: "USDT".into(),
        is_maker: false,
        time_ms: 20_000,
    });
    assert_invalid(
        ledger.append(bad).wait(),
        "fill 10: order 777 does not exist",
    );

    // A fill of account b against account a's order.
    let mut cross = fill_buy(b, 3, 11, "5", "1", "0");
    cross.fills[0].account_id = b;
    assert_invalid(
        ledger.append(cross).wait(),
        &format!("order 3 belongs to account {a}, not account {b}"),
    );

    // Duplicate order id, unknown account, unknown fill reference.
    assert_invalid(
        ledger
            .append(submit(a, order(1, a, "PEPEUSDT", Side::Buy, "1", "1")))
            .wait(),
        "order 1 already exists",
    );
    assert_invalid(
        ledger
            .append(submit(99, order(20, 99, "PEPEUSDT", Side::Buy, "1", "1")))
            .wait(),
        "account 99 does not exist",
    );
    let dangling = Batch {
        balance_changes: vec![change(a, "USDT", "1", "0", reason::FILL, None, Some(55), 1)],
        ..Batch::default()
    };
    assert_invalid(ledger.append(dangling).wait(), "fill 55 does not exist");
    let mut dup_fill = fill_buy(a, 3, 1, "5", "1", "0");
    dup_fill.events.clear();
    assert_invalid(ledger.append(dup_fill).wait(), "fill 1 already exists");

    assert!(ledger
        .orders(a, OrderFilter::ById(10))
        .wait()
        .expect("q")
        .is_empty());
    let after = ledger.verify(None).wait().expect("verify");
    assert_eq!(
        (after.orders, after.fills, after.balance_changes),
        (before.orders, before.fills, before.balance_changes)
    );
    assert!(after.ok, "{:?}", after.problems);
}

#[test]
fn bad_and_good_batches_sent_together_fail_and_commit_independently() {
    let ledger = Ledger::open_in_memory().expect("open");
    let a = ledger
        .create_account(account("a", "1000000"))
        .wait()
        .expect("a")
        .id;
    // Queue many writes without waiting so they share group transactions.
    let mut replies = Vec::new();
    for i in 0..100 {
        let good = submit(a, order(2 * i + 1, a, "PEPEUSDT", Side::Buy, "1", "1"));
        let mut bad = submit(a, order(2 * i + 2, a, "PEPEUSDT", Side::Buy, "1", "1"));
        bad.events[0].order_id = 100_000 + i; // unknown order
        replies.push((true, ledger.append(good)));
        replies.push((false, ledger.append(bad)));
    }
    for (good, r) in replies {
        assert_eq!(r.wait().is_ok(), good);
    }
    let orders = ledger.orders(a, OrderFilter::All).wait().expect("orders");
    assert_eq!(orders.len(), 100);
    assert!(orders.iter().all(|o| o.order.id % 2 == 1));
    let report = ledger.verify(None).wait().expect("verify");
    assert!(report.ok, "{:?}", report.problems);
    assert_eq!(report.balance_changes, 101);
}

#[test]
fn concurrent_appends_from_four_threads_are_all_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ledger.db");
    let ledger = Ledger::open(&path).expect("open");
    let a = ledger
        .create_account(account("a", "1000000"))
        .wait()
        .expect("a")
        .id;
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let ledger = ledger.clone();
            std::thread::spawn(move || {
                for i in 0..250 {
                    let id = t * 250 + i + 1;
                    ledger
                        .append(submit(a, order(id, a, "PEPEUSDT", Side::Buy, "1", "1")))
                        .wait()
                        .expect("append");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    drop(ledger);
    let ledger = Ledger::open(&path).expect("reopen");
    assert_eq!(
        ledger
            .orders(a, OrderFilter::Open)
            .wait()
            .expect("orders")
            .len(),
        1000
    );
    assert_eq!(ledger.max_ids().wait().expect("max").max_order_id, 1000);
    let report = ledger.verify(None).wait().expect("verify");
    assert!(report.ok, "{:?}", report.problems);
    let usdt = &report.balances[0];
    assert_eq!((usdt.free, usdt.locked), (d("999000"), d("1000")));
}

fn reopen_and_verify(path: &Path) -> Vec<String> {
    let ledger = Ledger::open(path).expect("reopen");
    let report = ledger.verify(None).wait().expect("verify");
    assert!(!report.ok);
    report.problems
}

fn has(problems: &[String], needle: &str) -> bool {
    problems.iter().any(|p| p.contains(needle))
}

#[test]
fn verify_detects_a_tampered_balance_row() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ledger.db");
    {
        let ledger = Ledger::open(&path).expect("open");
        populate(&ledger);
    }
    {
        let raw = rusqlite::Connection::open(&path).expect("raw");
        raw.execute(
            "INSERT INTO balance_changes (account_id, asset, free_delta, locked_delta, reason,
                order_id, fill_id, time_ms) VALUES (1, 'USDT', '0.1', '0', 'fill', 1, 1, 6000)",
            [],
        )
        .expect("tamper");
        // Rows are append-only even for a raw connection.
        assert!(raw.execute("DELETE FROM balance_changes", []).is_err());
        assert!(raw.execute("UPDATE fills SET fee = '0'", []).is_err());
    }
    let problems = reopen_and_verify(&path);
    assert!(
        has(
            &problems,
            "fill 1 of order 1: quote (USDT) balance change is -19.92 but fill implies -20.02"
        ),
        "{problems:?}"
    );
}

#[test]
fn verify_detects_a_negative_running_balance() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ledger.db");
    {
        let ledger = Ledger::open(&path).expect("open");
        populate(&ledger);
        // Spending more than the account has is accepted by append (it stores
        // facts) but verify flags it.
        let overspend = Batch {
            balance_changes: vec![change(1, "USDT", "-2000", "0", "withdraw", None, None, 7)],
            ..Batch::default()
        };
        ledger.append(overspend).wait().expect("append");
    }
    let problems = reopen_and_verify(&path);
    assert!(
        has(&problems, "takes free USDT to -1025.02"),
        "{problems:?}"
    );
}

#[test]
fn verify_detects_a_fill_without_balance_changes() {
    let ledger = Ledger::open_in_memory().expect("open");
    let a = populate(&ledger);
    let mut b = fill_buy(a, 3, 2, "5", "1", "0");
    b.balance_changes.clear();
    ledger.append(b).wait().expect("append");
    let report = ledger.verify(Some(a)).wait().expect("verify");
    assert!(!report.ok);
    assert!(
        has(&report.problems, "fill 2 of order 3 has no balance changes"),
        "{:?}",
        report.problems
    );
    // ...and the FILLED order still holds its lock.
    assert!(
        has(
            &report.problems,
            "order 3 is FILLED but 5 USDT is still locked for it"
        ),
        "{:?}",
        report.problems
    );
}

#[test]
fn verify_detects_a_lock_not_released_on_cancel() {
    let ledger = Ledger::open_in_memory().expect("open");
    let a = populate(&ledger);
    let mut b = cancel(a, 3, "USDT", "5", 12_000);
    b.balance_changes.clear();
    ledger.append(b).wait().expect("append");
    let report = ledger.verify(None).wait().expect("verify");
    assert!(
        has(
            &report.problems,
            "order 3 is CANCELED but 5 USDT is still locked for it"
        ),
        "{:?}",
        report.problems
    );
    assert!(
        has(&report.problems, "locked USDT is 5 but open orders hold 0"),
        "{:?}",
        report.problems
    );
}

#[test]
fn verify_detects_order_and_fill_disagreements() {
    let ledger = Ledger::open_in_memory().expect("open");
    let a = populate(&ledger);
    // Fill order 3 for 5 but claim it executed 4; then a fill after CANCELED.
    let mut b = fill_buy(a, 3, 2, "5", "1", "0");
    b.events[0] = event(3, 5_002, OrderStatus::PartiallyFilled, "4", "5");
    ledger.append(b).wait().expect("append");
    ledger
        .append(Batch {
            fills: vec![FillRow {
                id: 3,
                order_id: 2,
                account_id: a,
                symbol: "PEPEUSDT".into(),
                side: Side::Sell,
                price: d("3"),
                quantity: d("1"),
                quote_quantity: d("3"),
                fee: d("0"),
                fee_asset: "USDT".into(),
                is_maker: false,
                time_ms: 9_500,
            }],
            ..Batch::default()
        })
        .wait()
        .expect("append");
    let problems = ledger.verify(None).wait().expect("verify").problems;
    assert!(
        has(
            &problems,
            "order 3: fills add up to quantity 5 but its latest event (PARTIALLY_FILLED"
        ),
        "{problems:?}"
    );
    assert!(
        has(
            &problems,
            "fill 3 of order 2 at 9500 comes after the order became CANCELED at 9000"
        ),
        "{problems:?}"
    );
}

#[test]
fn corrupt_money_is_reported_not_misread() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ledger.db");
    {
        let ledger = Ledger::open(&path).expect("open");
        populate(&ledger);
    }
    {
        let raw = rusqlite::Connection::open(&path).expect("raw");
        raw.execute(
            "INSERT INTO balance_changes (account_id, asset, free_delta, locked_delta, reason, time_ms)
             VALUES (1, 'USDT', 'lots', '0', 'deposit', 1)",
            [],
        )
        .expect("insert");
    }
    let ledger = Ledger::open(&path).expect("reopen");
    let err = ledger.balances(1).wait().expect_err("corrupt");
    assert_eq!(err.code(), "store.corrupt");
    assert!(err.to_string().contains("free_delta = \"lots\""), "{err}");
}

#[test]
fn backup_copies_everything_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = Ledger::open(&dir.path().join("ledger.db")).expect("open");
    populate(&ledger);
    let dest = dir.path().join("backup.db");
    ledger.backup(&dest).wait().expect("backup");
    // Writing after the backup does not affect it.
    ledger
        .create_account(account("later", "1"))
        .wait()
        .expect("account");
    let original = ledger.verify(Some(1)).wait().expect("verify");

    let copy = Ledger::open(&dest).expect("open backup");
    let report = copy.verify(None).wait().expect("verify copy");
    assert!(report.ok, "{:?}", report.problems);
    assert_eq!(
        (
            report.accounts_checked,
            report.orders,
            report.fills,
            report.balance_changes
        ),
        (1, original.orders, original.fills, original.balance_changes)
    );
    assert_eq!(report.balances, original.balances);

    let err = ledger.backup(&dest).wait().expect_err("exists");
    assert_eq!(err.code(), "store.invalid");
    assert!(err.to_string().contains("already exists"), "{err}");
}

#[test]
fn export_csv_writes_every_table_with_quoting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = Ledger::open_in_memory().expect("open");
    let a = populate(&ledger);
    let weird = r#"WEIRD,"COIN"USDT"#;
    ledger
        .append(submit(a, order(4, a, weird, Side::Buy, "1", "1")))
        .wait()
        .expect("weird order");
    let other = ledger
        .create_account(account("other", "5"))
        .wait()
        .expect("other")
        .id;

    let out = dir.path().join("export");
    let summary = ledger.export_csv(Some(a), &out).wait().expect("export");
    let expect = [
        ("accounts.csv", 1),
        ("orders.csv", 4),
        ("order_events.csv", 6),
        ("fills.csv", 1),
        ("balance_changes.csv", 9),
        ("equity.csv", 1),
    ];
    for (name, rows) in expect {
        assert_eq!(summary.rows(name), Some(rows), "{name}");
        let text = std::fs::read_to_string(out.join(name)).expect("read");
        let lines: Vec<&str> = text.split_terminator("\r\n").collect();
        assert_eq!(lines.len(), rows + 1, "{name}: {text}");
    }
    let orders = std::fs::read_to_string(out.join("orders.csv")).expect("read");
    assert!(
        orders.starts_with("id,account_id,client_order_id,symbol,side,"),
        "{orders}"
    );
    assert!(orders.contains(r#","WEIRD,""COIN""USDT",BUY,"#), "{orders}");

    let all = ledger.export_csv(None, &out).wait().expect("export all");
    assert_eq!(all.rows("accounts.csv"), Some(2));
    assert_eq!(all.rows("balance_changes.csv"), Some(10));
    let err = ledger
        .export_csv(Some(other + 1), &out)
        .wait()
        .expect_err("unknown");
    assert_eq!(err.code(), "store.not_found");
}

#[test]
fn replies_can_be_awaited() {
    let ledger = Ledger::open_in_memory().expect("open");
    let result = pollster::block_on(async {
        let a = ledger.create_account(account("async", "42")).await?;
        ledger
            .append(submit(
                a.id,
                order(1, a.id, "PEPEUSDT", Side::Buy, "2", "3"),
            ))
            .await?;
        ledger.balances(a.id).await
    })
    .expect("async calls");
    assert_eq!((result[0].free, result[0].locked), (d("36"), d("6")));
}

#[test]
fn a_closed_ledger_answers_closed() {
    let ledger = Ledger::open_in_memory().expect("open");
    let clone = ledger.clone();
    let pending = ledger.create_account(account("a", "1"));
    ledger.close().expect("close");
    // Work queued before close was finished.
    assert!(pending.wait().is_ok());
    let err = clone.active_account().wait().expect_err("closed");
    assert_eq!(err.code(), "store.closed");
    ledger.close().expect("idempotent");
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// Balances are the exact sums of the deposits written, however many
        /// decimal places they have.
        #[test]
        fn balances_are_exact_sums(amounts in proptest::collection::vec((0i64..1_000_000_000, 0u32..12), 1..20)) {
            let ledger = Ledger::open_in_memory().expect("open");
            let a = ledger.create_account(account("p", "0")).wait().expect("a").id;
            let mut expected = Decimal::ZERO;
            let changes: Vec<_> = amounts.iter().map(|&(m, s)| {
                let amt = Decimal::new(m, s);
                expected += amt;
                NewBalanceChange {
                    account_id: a, asset: "USDT".into(), free_delta: amt,
                    locked_delta: Decimal::ZERO, reason: reason::DEPOSIT.into(),
                    order_id: None, fill_id: None, time_ms: 1,
                }
            }).collect();
            ledger.append(Batch { balance_changes: changes, ..Batch::default() }).wait().expect("append");
            let b = ledger.balances(a).wait().expect("balances");
            prop_assert_eq!(b[0].free, expected);
            let back = ledger.balance_changes(a).wait().expect("changes");
            for (row, (m, s)) in back.iter().skip(1).zip(&amounts) {
                prop_assert_eq!(row.free_delta.to_string(), Decimal::new(*m, *s).to_string());
            }
        }
    }
}
