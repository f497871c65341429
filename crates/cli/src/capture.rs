//! `papermemes capture …`: recorded Binance WebSocket captures.

use papermemes_app::AppError;
use papermemes_market::candles::CandleError;
use papermemes_market::capture::{verify_capture_with, CaptureError, VerifyOptions, VerifyReport};
use rust_decimal::Decimal;

use crate::args::{CaptureCommand, Cli};
use crate::fmt::group_int;

pub fn run(cli: &Cli, command: CaptureCommand) -> Result<(), AppError> {
    match command {
        CaptureCommand::Verify { file, lenient } => {
            let report = verify_capture_with(&file, VerifyOptions { lenient })
                .map_err(|e| data_error(&file, e))?;
            if cli.json {
                println!("{}", serde_json::to_string(&report).unwrap_or_default());
            } else {
                print_report(&report);
            }
            verdict(&report)
        }
    }
}

/// A capture that cannot be read is a bad data file (exit 4), like a bad candle file.
fn data_error(path: &std::path::Path, e: CaptureError) -> AppError {
    let path = path.to_path_buf();
    let e = match e {
        CaptureError::Io { source, .. } => CandleError::Io { path, source },
        CaptureError::Line { line, message, .. } => CandleError::Row {
            path,
            line: usize::try_from(line).unwrap_or(usize::MAX),
            message,
        },
        CaptureError::Decode { line, source, .. } => CandleError::Row {
            path,
            line: usize::try_from(line).unwrap_or(usize::MAX),
            message: source.to_string(),
        },
    };
    AppError::Data(e)
}

fn verdict(r: &VerifyReport) -> Result<(), AppError> {
    let mismatched = r.book_ticker_checked - r.book_ticker_matched;
    if mismatched > 0 {
        return Err(AppError::invalid(
            "capture.mismatch",
            format!(
                "{mismatched} of {} checked bookTickers disagree with the rebuilt book",
                r.book_ticker_checked
            ),
        ));
    }
    if !r.in_sync {
        let why = if r.gaps > 0 {
            format!(
                "the depth stream has {} gap(s) and no later snapshot to resync from",
                r.gaps
            )
        } else if r.stale_snapshots > 0 {
            "every snapshot is older than the depth stream it should start".to_string()
        } else if r.snapshots == 0 {
            "the capture has no depth snapshot".to_string()
        } else {
            "no depth diffs for the snapshot's symbol".to_string()
        };
        return Err(AppError::invalid(
            "capture.not_in_sync",
            format!("the order book cannot be rebuilt: {why}"),
        ));
    }
    Ok(())
}

fn dec(x: Option<Decimal>) -> String {
    x.map(|v| v.normalize().to_string())
        .unwrap_or_else(|| "-".into())
}

fn print_report(r: &VerifyReport) {
    println!(
        "{}: {}, {} lines ({} depth diffs, {} bookTickers, {} trades, {} snapshot(s){})",
        r.source,
        r.symbol.as_deref().unwrap_or("unknown symbol"),
        group_int(r.lines),
        group_int(r.depth_updates),
        group_int(r.book_tickers),
        group_int(r.trades),
        r.snapshots,
        if r.skipped_lines > 0 {
            format!(", {} bad line(s) skipped", r.skipped_lines)
        } else {
            String::new()
        }
    );
    let sync = match (r.in_sync, r.last_update_id) {
        (true, Some(id)) => format!("in sync at update id {id}"),
        _ => "NOT in sync".to_string(),
    };
    println!(
        "book: {} diffs applied, {} dropped, {} gap(s), {} resync(s); {sync}",
        group_int(r.applied),
        group_int(r.dropped),
        r.gaps,
        r.resyncs
    );
    println!(
        "bookTicker check: {} of {} matched ({} other tickers carry an id the book never had on its own)",
        group_int(r.book_ticker_matched),
        group_int(r.book_ticker_checked),
        group_int(r.book_ticker_unchecked)
    );
    for m in &r.mismatches {
        println!(
            "  line {} (u={}): ticker {} x {} / {} x {}, book {} / {}",
            m.line,
            m.update_id,
            m.ticker_bid.0.normalize(),
            m.ticker_bid.1.normalize(),
            m.ticker_ask.0.normalize(),
            m.ticker_ask.1.normalize(),
            m.book_bid
                .map(|(p, q)| format!("{} x {}", p.normalize(), q.normalize()))
                .unwrap_or_else(|| "none".into()),
            m.book_ask
                .map(|(p, q)| format!("{} x {}", p.normalize(), q.normalize()))
                .unwrap_or_else(|| "none".into()),
        );
    }
    if r.in_sync {
        println!(
            "best bid {} x {}, best ask {} x {}; {} bid / {} ask levels",
            dec(r.best_bid),
            dec(r.best_bid_qty),
            dec(r.best_ask),
            dec(r.best_ask_qty),
            group_int(r.bid_levels as u64),
            group_int(r.ask_levels as u64)
        );
    }
}
