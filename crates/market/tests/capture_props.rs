//! Arbitrary input never panics the message decoder or the capture reader.

use std::io::Write;

use papermemes_market::binance::decode_slice;
use papermemes_market::capture::{from_bytes, open_capture, verify_records};
use proptest::prelude::*;

const SAMPLES: &[&str] = &[
    r#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255208,"s":"BTCUSDT","U":50093239189,"u":50093239202,"b":[["61737.63000000","0.00000000"]],"a":[["61837.64000000","1.54698000"]]}}"#,
    r#"{"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT","b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}}"#,
    r#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3735683259,"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}}"#,
    r#"{"lastUpdateId":50093239218,"bids":[["61837.63000000","3.78826000"]],"asks":[["61837.64000000","1.60520000"]]}"#,
    r#"{"e":"kline","E":1,"s":"BNBBTC","k":{"t":1672515780000,"T":1672515839999,"i":"1m","o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","x":false}}"#,
    r#"{"result":null,"id":1}"#,
];

/// A sample message with a few bytes overwritten, inserted or cut.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    (
        0..SAMPLES.len(),
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..6),
    )
        .prop_map(|(i, edits)| {
            let mut b = SAMPLES[i].as_bytes().to_vec();
            for (at, byte, kind) in edits {
                if b.is_empty() {
                    break;
                }
                let at = at.index(b.len());
                match kind {
                    0 => b[at] = byte,
                    1 => b.insert(at, byte),
                    _ => b.truncate(at),
                }
            }
            b
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decoder_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode_slice(&bytes);
    }

    #[test]
    fn decoder_never_panics_on_damaged_messages(bytes in mutated()) {
        let _ = decode_slice(&bytes);
    }

    #[test]
    fn reader_never_panics_on_arbitrary_lines(
        lines in proptest::collection::vec(
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..120),
                mutated().prop_map(|m| { let mut l = b"1723161253937085768 ".to_vec(); l.extend(m); l }),
            ],
            0..20,
        ),
        lenient in any::<bool>(),
    ) {
        let mut text = Vec::new();
        for l in &lines {
            text.extend_from_slice(l);
            text.push(b'\n');
        }
        let newlines = text.iter().filter(|&&b| b == b'\n').count() as u64;
        let mut n = 0u64;
        for item in from_bytes(&text, "p").lenient(lenient) {
            if let Err(e) = item {
                prop_assert!(!lenient, "lenient mode yields no errors, got {}", e);
                prop_assert!(e.line().is_some());
            }
            n += 1;
            prop_assert!(n <= newlines + 1);
        }
        let _ = verify_records(from_bytes(&text, "p").lenient(lenient));
    }

    #[test]
    fn reader_never_panics_on_arbitrary_gzip_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("x.gz");
        let mut f = std::fs::File::create(&path).expect("create");
        f.write_all(&[0x1f, 0x8b]).expect("write");
        f.write_all(&bytes).expect("write");
        drop(f);
        if let Ok(r) = open_capture(&path) {
            for _ in r {}
        }
    }
}

#[test]
fn over_long_lines_are_rejected_not_buffered() {
    let mut text = vec![b'1'; 10_000];
    text.push(b'\n');
    text.extend_from_slice(format!("2 {}\n", SAMPLES[5]).as_bytes());
    let items: Vec<_> = from_bytes(&text, "long").max_line_bytes(1_000).collect();
    assert_eq!(items.len(), 2);
    let e = items[0].as_ref().expect_err("too long");
    assert!(e.to_string().contains("longer than 1000 bytes"), "{e}");
    assert!(items[1].is_ok());
}
