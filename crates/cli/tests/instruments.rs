//! `papermemes instruments [refresh]` across processes, against a tiny exchangeInfo server on
//! 127.0.0.1 (the bundled real snapshot in the exchange's shape, one rule changed). What a user
//! notices: `instruments` says where its rules come from; after a refresh, orders are checked
//! against the refreshed rules, also in later processes; a bad response changes nothing.

mod common;

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use common::{assets, Env};
use serde_json::Value;

/// Serves the queued `(status, body)` responses, one per connection, then 404s.
fn serve(responses: Vec<(u16, String)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let queue = Arc::new(Mutex::new(VecDeque::from(responses)));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            // Read the request head.
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let (status, body) = queue
                .lock()
                .expect("lock")
                .pop_front()
                .unwrap_or((404, "{}".into()));
            let reply = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(reply.as_bytes());
        }
    });
    format!("http://{addr}")
}

/// The bundled snapshot as the exchange would send it, with DOGEUSDT's step size 0.1.
fn exchange_info_with_doge_step_0_1() -> String {
    let text = std::fs::read_to_string(assets().join("market/instruments.json")).expect("read");
    let mut v: Value = serde_json::from_str(&text).expect("json");
    v.as_object_mut().expect("obj").remove("x_papermemes");
    for s in v["symbols"].as_array_mut().expect("symbols") {
        s.as_object_mut().expect("obj").remove("x_papermemes");
        if s["symbol"] == "DOGEUSDT" {
            for f in s["filters"].as_array_mut().expect("filters") {
                if f["filterType"] == "LOT_SIZE" {
                    f["stepSize"] = "0.10000000".into();
                    f["minQty"] = "0.10000000".into();
                }
            }
        }
    }
    v.to_string()
}

#[test]
fn a_refresh_changes_the_rules_orders_are_checked_against() {
    let env = Env::new();
    let v = env.json(&["instruments"]);
    assert_eq!(v["source"]["kind"], "bundled");
    assert_eq!(v["source"]["as_of"], "2024-06-30");
    assert!(
        v["by_symbol"]["DOGEUSDT"].is_object(),
        "the instruments are still there: {v}"
    );
    let human = env.ok(&["instruments"]);
    assert!(
        human.contains("trading rules: bundled snapshot as of 2024-06-30"),
        "{human}"
    );

    env.ok(&["replay", "start", "--symbols", "DOGEUSDT"]);
    env.ok(&["replay", "step"]);
    // 100.5 DOGE is off the bundled step size (1).
    let o = env.run(&["--json", "order", "buy", "DOGEUSDT", "--qty", "100.5"]);
    assert_eq!(o.status.code(), Some(3));
    let e: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(e["error"]["code"], "order.filter_lot_size");

    let good = exchange_info_with_doge_step_0_1();
    let base = serve(vec![
        (200, good),
        (200, "{\"symbols\":[{\"symbol\":\"DOGE".into()),
        (503, "down for maintenance".into()),
    ]);
    let out = env.ok(&["instruments", "refresh", "--rest-base", &base]);
    assert!(
        out.contains("trading rules of 8 symbol(s) fetched from"),
        "{out}"
    );
    assert!(out.contains("changed: DOGEUSDT"), "{out}");
    let v = env.json(&["instruments"]);
    assert_eq!(v["source"]["kind"], "fetched");
    assert_eq!(v["source"]["rest_base"], base.as_str());
    let fetched_ms = v["source"]["fetched_ms"].clone();
    assert!(env
        .ok(&["instruments"])
        .contains(&format!("trading rules: fetched from {base} at ")));

    // The same order now passes the refreshed rules (in a new process).
    let o = env.json(&["order", "buy", "DOGEUSDT", "--qty", "100.5"]);
    assert!(o.to_string().contains("100.5"), "{o}");

    // Bad responses: clear errors, the cached rules stay.
    for _ in 0..2 {
        let o = env.run(&["instruments", "refresh", "--rest-base", &base]);
        assert_eq!(o.status.code(), Some(3));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("the cached trading rules are unchanged"),
            "{err}"
        );
    }
    let v = env.json(&["instruments"]);
    assert_eq!(v["source"]["fetched_ms"], fetched_ms);
    assert_eq!(env.json(&["db", "verify"])["ok"], true);
}
