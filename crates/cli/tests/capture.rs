//! `papermemes capture verify` as a user runs it.

mod common;

use common::{assets, Env};
use serde_json::Value;

fn real_capture() -> String {
    assets()
        .join("market/captures/spot_btcusdt_20240808.gz")
        .to_str()
        .expect("path")
        .to_string()
}

const DIFF_10_12: &str = r#"1 {"stream":"xyzusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"XYZUSDT","U":10,"u":12,"b":[["1.0","5"]],"a":[["1.1","6"]]}}"#;
const SNAPSHOT_11: &str = r#"2 {"lastUpdateId":11,"bids":[["1.0","4"]],"asks":[["1.1","6"]]}"#;
const TICKER_12: &str = r#"3 {"stream":"xyzusdt@bookTicker","data":{"u":12,"s":"XYZUSDT","b":"1.0","B":"5","a":"1.1","A":"6"}}"#;

fn write(env: &Env, name: &str, lines: &[&str]) -> String {
    let p = env.dir.path().join(name);
    std::fs::write(&p, lines.join("\n")).expect("write");
    p.to_str().expect("path").to_string()
}

/// Stdout lines as JSON values (a failing verify prints the report, then the error).
fn json_lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn verify_real_capture_json() {
    let env = Env::new();
    let v = env.json(&["capture", "verify", &real_capture()]);
    assert_eq!(v["applied"], 3449);
    assert_eq!(v["gaps"], 0);
    assert_eq!(v["book_ticker_checked"], 564);
    assert_eq!(v["book_ticker_matched"], 564);
    assert_eq!(v["best_bid"], "61685.99000000");
    assert_eq!(v["best_ask"], "61686.00000000");
    assert_eq!(v["bid_levels"], 1209);
    assert_eq!(v["ask_levels"], 2196);
    assert_eq!(v["in_sync"], true);
}

#[test]
fn verify_real_capture_human() {
    let env = Env::new();
    let out = env.ok(&["capture", "verify", &real_capture()]);
    assert!(out.contains("BTCUSDT"), "{out}");
    assert!(out.contains("564 of 564 matched"), "{out}");
    assert!(out.contains("0 gap(s)"), "{out}");
    assert!(out.contains("best bid 61685.99 x 1.0087"), "{out}");
}

#[test]
fn a_mismatching_ticker_exits_3() {
    let env = Env::new();
    let f = write(
        &env,
        "m.txt",
        &[
            DIFF_10_12,
            SNAPSHOT_11,
            TICKER_12,
            r#"4 {"stream":"xyzusdt@bookTicker","data":{"u":13,"s":"XYZUSDT","b":"1.0","B":"8","a":"1.1","A":"6"}}"#,
            r#"5 {"stream":"xyzusdt@depth@100ms","data":{"e":"depthUpdate","E":2,"s":"XYZUSDT","U":13,"u":13,"b":[["1.0","7"]],"a":[]}}"#,
        ],
    );
    let o = env.run(&["--json", "capture", "verify", &f]);
    assert_eq!(o.status.code(), Some(3));
    let v = json_lines(&o.stdout);
    assert_eq!(v[0]["book_ticker_checked"], 2);
    assert_eq!(v[0]["book_ticker_matched"], 1);
    assert_eq!(v[0]["mismatches"][0]["line"], 4);
    assert_eq!(v[1]["error"]["code"], "capture.mismatch");
    let o = env.run(&["capture", "verify", &f]);
    assert_eq!(o.status.code(), Some(3));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("1 of 2 matched"), "{out}");
    assert!(out.contains("line 4 (u=13)"), "{out}");
}

#[test]
fn a_gap_without_a_later_snapshot_is_not_in_sync() {
    let env = Env::new();
    let f = write(
        &env,
        "g.txt",
        &[
            DIFF_10_12,
            SNAPSHOT_11,
            TICKER_12,
            // 13 is missing.
            r#"4 {"stream":"xyzusdt@depth@100ms","data":{"e":"depthUpdate","E":2,"s":"XYZUSDT","U":14,"u":15,"b":[["1.0","7"]],"a":[]}}"#,
        ],
    );
    let o = env.run(&["--json", "capture", "verify", &f]);
    assert_eq!(o.status.code(), Some(3));
    let v = json_lines(&o.stdout);
    assert_eq!(v[0]["gaps"], 1);
    assert_eq!(v[0]["in_sync"], false);
    assert_eq!(v[0]["best_bid"], Value::Null);
    assert_eq!(v[0]["book_ticker_matched"], 1);
    assert_eq!(v[1]["error"]["code"], "capture.not_in_sync");
}

#[test]
fn bad_lines_exit_4_unless_lenient() {
    let env = Env::new();
    let f = write(
        &env,
        "b.txt",
        &[DIFF_10_12, "2 {\"stream\":", SNAPSHOT_11, TICKER_12],
    );
    let o = env.run(&["capture", "verify", &f]);
    assert_eq!(o.status.code(), Some(4));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("b.txt:2: malformed JSON"), "{err}");
    let v = env.json(&["capture", "verify", "--lenient", &f]);
    assert_eq!(v["skipped_lines"], 1);
    assert_eq!(v["book_ticker_matched"], 1);
    let o = env.run(&["capture", "verify", "/nonexistent/capture.gz"]);
    assert_eq!(o.status.code(), Some(4));
}
