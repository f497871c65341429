//! Capture decode + verify throughput on the shared BTCUSDT capture, against plain gzip
//! decompression of the same file (the floor). `harness = false`: a timing main, no framework.
//!
//! `CARGO_TARGET_DIR=/tmp/target-cap cargo bench -p papermemes-market --bench capture`

use std::hint::black_box;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use papermemes_market::capture::{open_capture, verify_capture};

fn capture_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/market/captures/spot_btcusdt_20240808.gz")
}

fn median(mut f: impl FnMut(), runs: usize) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let path = capture_path();
    if !path.exists() {
        eprintln!("capture not found at {}; skipping", path.display());
        return;
    }
    // cargo passes --bench; any other argument is ignored.
    let runs = 5;
    let gunzip = median(
        || {
            let f = std::fs::File::open(&path).expect("open");
            let mut d = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(f));
            let mut buf = vec![0u8; 64 * 1024];
            let mut n = 0usize;
            loop {
                match d.read(&mut buf) {
                    Ok(0) => break,
                    Ok(k) => n += k,
                    Err(e) => panic!("gunzip: {e}"),
                }
            }
            black_box(n);
        },
        runs,
    );
    let decode = median(
        || {
            let mut n = 0usize;
            for r in open_capture(&path).expect("open") {
                black_box(r.expect("record"));
                n += 1;
            }
            black_box(n);
        },
        runs,
    );
    let verify = median(
        || {
            black_box(verify_capture(&path).expect("verify"));
        },
        runs,
    );
    println!("capture bench (median of {runs}):");
    println!("  gunzip only      {:>8.1} ms", gunzip.as_secs_f64() * 1e3);
    println!(
        "  read + decode    {:>8.1} ms  ({:.2}x gunzip)",
        decode.as_secs_f64() * 1e3,
        decode.as_secs_f64() / gunzip.as_secs_f64()
    );
    println!(
        "  verify (book)    {:>8.1} ms  ({:.2}x gunzip)",
        verify.as_secs_f64() * 1e3,
        verify.as_secs_f64() / gunzip.as_secs_f64()
    );
}
