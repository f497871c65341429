//! Captures: the real BTCUSDT capture rebuilds exactly; damaged copies are reported, not
//! silently wrong. Nothing here reaches the network.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use papermemes_market::binance::{self, Payload};
use papermemes_market::capture::{
    from_bytes, open_capture, verify_capture, verify_capture_with, verify_records, CaptureError,
    VerifyOptions,
};
use papermemes_market::localbook::{LocalBook, NeedSnapshot, Step, SyncState};
use rust_decimal_macros::dec;

fn real_capture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/market/captures/spot_btcusdt_20240808.gz")
}

fn real_lines() -> Vec<String> {
    let f = std::fs::File::open(real_capture()).expect("capture");
    BufReader::new(MultiGzDecoder::new(f))
        .lines()
        .collect::<Result<_, _>>()
        .expect("lines")
}

fn write_gz(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let path = dir.join(name);
    let f = std::fs::File::create(&path).expect("create");
    let mut gz = GzEncoder::new(f, flate2::Compression::fast());
    for l in lines {
        gz.write_all(l.as_bytes()).expect("write");
        gz.write_all(b"\n").expect("write");
    }
    gz.finish().expect("finish");
    path
}

fn is_depth(line: &str) -> bool {
    line.contains("@depth@100ms")
}

#[test]
fn real_capture_rebuilds_the_book_and_every_checkable_ticker_matches() {
    let r = verify_capture(&real_capture()).expect("verify");
    assert_eq!(r.symbol.as_deref(), Some("BTCUSDT"));
    assert_eq!(r.lines, 41_249);
    assert_eq!(
        (r.depth_updates, r.book_tickers, r.trades, r.snapshots),
        (3_451, 28_040, 9_757, 1)
    );
    // Two diffs end before the snapshot's lastUpdateId (…218) and are dropped; the third
    // (U=…208, u=…224) brackets …219; every later one continues the previous.
    assert_eq!((r.applied, r.dropped, r.gaps), (3_449, 2, 0));
    assert!(r.in_sync && r.ok());
    assert_eq!(r.state, SyncState::InSync);
    assert_eq!(r.last_update_id, Some(50_093_421_584));
    // 564 bookTickers carry the final id of an applied diff; all arrive before that diff
    // (real-time ticker vs 100 ms diff batches) and are checked when the book reaches the id.
    assert_eq!(r.book_ticker_checked, 564);
    assert_eq!(r.book_ticker_matched, 564);
    assert_eq!(r.book_ticker_checked_early, 564);
    assert_eq!(r.book_ticker_unchecked, 28_040 - 564);
    assert!(r.mismatches.is_empty());
    assert_eq!(r.best_bid, Some(dec!(61685.99)));
    assert_eq!(r.best_bid_qty, Some(dec!(1.0087)));
    assert_eq!(r.best_ask, Some(dec!(61686.00)));
    assert_eq!(r.best_ask_qty, Some(dec!(2.29327)));
    assert_eq!((r.bid_levels, r.ask_levels), (1_209, 2_196));
}

#[test]
fn plain_text_capture_reads_like_gzip() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("plain.txt");
    let lines = real_lines();
    std::fs::write(&path, lines.join("\n")).expect("write");
    let r = verify_capture(&path).expect("verify");
    assert_eq!((r.book_ticker_checked, r.book_ticker_matched), (564, 564));
}

#[test]
fn a_deleted_depth_line_is_a_gap_and_the_book_is_not_reported() {
    let mut lines = real_lines();
    // Delete the 1000th depth diff (long after the snapshot).
    let victim = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| is_depth(l))
        .nth(1000)
        .map(|(i, _)| i)
        .expect("depth line");
    lines.remove(victim);
    let dir = tempfile::tempdir().expect("tmp");
    let path = write_gz(dir.path(), "gap.gz", &lines);
    let r = verify_capture(&path).expect("verify");
    assert_eq!(r.gaps, 1, "{r:#?}");
    assert!(
        !r.in_sync,
        "no later snapshot: the book must be reported lost"
    );
    assert_eq!(r.state, SyncState::WaitingForSnapshot);
    assert!(!r.ok());
    assert_eq!(r.last_update_id, None);
    assert_eq!((r.best_bid, r.best_ask), (None, None));
    assert_eq!((r.bid_levels, r.ask_levels), (0, 0));
    // Diffs before the gap applied; tickers were only checked while the book was right.
    assert!(r.applied < 1_000);
    assert!(r.book_ticker_checked > 0 && r.book_ticker_checked < 564);
    assert_eq!(r.book_ticker_checked, r.book_ticker_matched);
}

#[test]
fn a_snapshot_older_than_the_first_buffered_diff_needs_a_new_snapshot() {
    // The state machine, fed the real messages with the snapshot's id moved back.
    let mut book = LocalBook::new("BTCUSDT");
    let mut out = Vec::new();
    let mut first_u = None;
    let mut snapshot = None;
    for line in real_lines().iter().take(40) {
        let json = line.split_once(' ').expect("line").1;
        match binance::decode(json).expect("decode").payload {
            Payload::DepthUpdate(d) => {
                first_u.get_or_insert(d.first_update_id);
                assert_eq!(book.on_diff(d, &mut out), Step::Buffered);
            }
            Payload::DepthSnapshot(s) => snapshot = Some(s),
            _ => {}
        }
    }
    let first_u = first_u.expect("diffs");
    let mut s = snapshot.expect("snapshot line");
    s.last_update_id = first_u - 10;
    assert_eq!(
        book.on_snapshot(s, 0, &mut out),
        Step::NeedSnapshot(NeedSnapshot::SnapshotTooOld {
            last_update_id: first_u - 10,
            first_update_id: first_u
        })
    );
    assert!(book.book().is_none() && out.is_empty());

    // The same through verify: the capture's only snapshot is made too old.
    let lines: Vec<String> = real_lines()
        .into_iter()
        .map(|l| {
            l.replace(
                "\"lastUpdateId\":50093239218",
                "\"lastUpdateId\":50093239100",
            )
        })
        .collect();
    let dir = tempfile::tempdir().expect("tmp");
    let r = verify_capture(&write_gz(dir.path(), "old.gz", &lines)).expect("verify");
    assert_eq!(r.stale_snapshots, 1);
    assert!(!r.in_sync && !r.ok());
    assert_eq!((r.applied, r.book_ticker_checked), (0, 0));
}

const GOOD_DIFF: &str = r#"1 {"stream":"xyzusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"XYZUSDT","U":10,"u":12,"b":[["1.0","5"]],"a":[["1.1","6"]],"newField":{"x":[1]}}}"#;

#[test]
fn malformed_lines_are_errors_naming_the_line_or_skipped_when_lenient() {
    let text = [
        GOOD_DIFF,
        r#"2 {"stream":"xyzusdt@depth@100ms","data":{"e":"depthUpdate","#,
        r#"3 {"stream":"xyzusdt@avgPrice","data":{"e":"avgPrice","E":1,"s":"XYZUSDT","w":"1.0"}}"#,
        "",
        "not-a-time {}",
        r#"6 {"e":"trade","E":1,"s":"XYZUSDT","t":1,"p":"one","q":"1","T":1,"m":true}"#,
        r#"7 {"lastUpdateId":11,"bids":[["1.0","4"]],"asks":[["1.1","6"]],"extra":true}"#,
    ]
    .join("\n");
    // Strict: each bad line is an error with its line number; reading goes on.
    let items: Vec<_> = from_bytes(text.as_bytes(), "t.txt").collect();
    assert_eq!(items.len(), 6, "the blank line is not a record");
    assert!(matches!(&items[0], Ok(r) if r.line == 1 && r.receive_ns == 1));
    let e = items[1].as_ref().expect_err("truncated JSON");
    assert_eq!(e.line(), Some(2));
    assert!(e.to_string().starts_with("t.txt:2: malformed JSON"), "{e}");
    assert!(matches!(
        &items[2],
        Ok(r) if r.message.payload == Payload::Unknown { event_type: Some("avgPrice".into()) }
    ));
    let e = items[3].as_ref().expect_err("no time");
    assert!(
        e.to_string()
            .starts_with("t.txt:5: expected '<receive_time_ns> <json>'"),
        "{e}"
    );
    let e = items[4].as_ref().expect_err("bad price");
    assert!(
        e.to_string().contains("'one' is not a decimal number"),
        "{e}"
    );
    assert!(matches!(&items[5], Ok(r) if matches!(r.message.payload, Payload::DepthSnapshot(_))));

    // Strict verify stops at the first bad line.
    let err = verify_records(from_bytes(text.as_bytes(), "t.txt")).expect_err("strict");
    assert!(matches!(err, CaptureError::Decode { line: 2, .. }), "{err}");
    // Lenient verify skips and counts.
    let r = verify_records(from_bytes(text.as_bytes(), "t.txt").lenient(true)).expect("lenient");
    assert_eq!(r.skipped_lines, 3);
    assert_eq!(r.skipped_errors.len(), 3);
    assert_eq!((r.unknown, r.snapshots, r.applied), (1, 1, 1));
    assert!(r.in_sync);
    assert_eq!(r.best_bid, Some(dec!(1.0)));
    assert_eq!(r.best_bid_qty, Some(dec!(5)));
}

#[test]
fn files_that_are_not_captures_fail_cleanly() {
    let dir = tempfile::tempdir().expect("tmp");
    let missing = dir.path().join("missing.gz");
    let e = verify_capture(&missing).expect_err("missing");
    assert_eq!(e.code(), "capture.io");
    // gzip magic, then garbage: a read error, not a panic.
    let bad = dir.path().join("bad.gz");
    std::fs::write(&bad, [0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).expect("write");
    let e = verify_capture_with(&bad, VerifyOptions { lenient: true }).expect_err("corrupt");
    assert_eq!(e.code(), "capture.io");
    // Streaming: records come one by one.
    let mut n = 0;
    for rec in open_capture(&real_capture()).expect("open").take(10) {
        rec.expect("record");
        n += 1;
    }
    assert_eq!(n, 10);
}

#[test]
fn a_ticker_that_disagrees_is_a_recorded_mismatch() {
    let text = [
        GOOD_DIFF,
        r#"2 {"lastUpdateId":11,"bids":[["1.0","4"]],"asks":[["1.1","6"]]}"#,
        r#"3 {"stream":"xyzusdt@bookTicker","data":{"u":12,"s":"XYZUSDT","b":"1.0","B":"5","a":"1.1","A":"6"}}"#,
        r#"4 {"stream":"xyzusdt@bookTicker","data":{"u":13,"s":"XYZUSDT","b":"1.0","B":"8","a":"1.1","A":"6"}}"#,
        r#"5 {"stream":"xyzusdt@depth@100ms","data":{"e":"depthUpdate","E":2,"s":"XYZUSDT","U":13,"u":13,"b":[["1.0","7"]],"a":[]}}"#,
    ]
    .join("\n");
    let r = verify_records(from_bytes(text.as_bytes(), "m.txt")).expect("verify");
    assert_eq!((r.book_ticker_checked, r.book_ticker_matched), (2, 1));
    assert_eq!(r.book_ticker_checked_early, 1);
    assert!(!r.ok());
    let m = &r.mismatches[0];
    assert_eq!((m.line, m.update_id), (4, 13));
    assert_eq!(m.ticker_bid, (dec!(1.0), dec!(8)));
    assert_eq!(m.book_bid, Some((dec!(1.0), dec!(7))));
}
