//! Candles for charts (backfill), served from a cache in the database and filled from Binance's
//! `GET /api/v3/klines` when a REST base URL is given.
//!
//! [`candles`] answers "the bars of SYMBOL at INTERVAL opening in `[from, to)`": it reads the
//! cache, fetches only the ranges never fetched before (paging 1000 bars a request), checks
//! every row, stores the closed bars and the ranges they cover, and answers from the cache.
//! Asking again for a covered range makes no request at all, also for ranges the exchange has
//! no bars for (before a listing). A bar still open (its close after now) is returned but not
//! cached. A bad response is an error and the cache is left as it was. Offline (no REST base),
//! it answers from the cache and lists what is missing.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use papermemes_core::event::Candle;
use papermemes_market::rest::RestClient;
use papermemes_store::{KlineFetch, KlineRow, Ledger};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::AppError;

/// Binance's kline intervals with a fixed length (`1M` varies and is not supported).
pub const INTERVALS: [&str; 15] = [
    "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w",
];

/// Bars one request asks for (Binance's maximum).
pub const PAGE: u32 = 1000;

/// The most bars one call may cover (a guard against asking for years of 1-second bars).
pub const MAX_BARS: i64 = 200_000;

/// How long one klines request may take.
pub const REST_TIMEOUT: Duration = Duration::from_secs(15);

/// The bars asked for, and what it took to get them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CandleRange {
    pub symbol: String,
    pub interval: String,
    pub from_ms: i64,
    pub to_ms: i64,
    /// Oldest first; each bar once.
    pub candles: Vec<Candle>,
    /// HTTP requests made for this call (0 when the cache had it all).
    pub requests: u32,
    /// Bars newly stored in the cache by this call.
    pub cached_now: usize,
    /// Open-time ranges `[from, to)` not in the cache and not fetched (offline, or bars not
    /// closed yet).
    pub missing: Vec<(i64, i64)>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `[from, to)` minus the (sorted, disjoint) `covered` ranges.
pub fn uncovered(from: i64, to: i64, covered: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut at = from;
    for &(a, b) in covered {
        if b <= at {
            continue;
        }
        if a >= to {
            break;
        }
        if a > at {
            out.push((at, a.min(to)));
        }
        at = at.max(b);
        if at >= to {
            break;
        }
    }
    if at < to {
        out.push((at, to));
    }
    out
}

fn to_row(c: &Candle) -> KlineRow {
    KlineRow {
        open_time_ms: c.open_time_ms,
        interval_ms: c.interval_ms,
        open: c.open,
        high: c.high,
        low: c.low,
        close: c.close,
        volume: c.volume,
    }
}

fn from_row(r: KlineRow) -> Candle {
    Candle {
        open_time_ms: r.open_time_ms,
        interval_ms: r.interval_ms,
        open: r.open,
        high: r.high,
        low: r.low,
        close: r.close,
        volume: r.volume,
    }
}

/// Check one page of bars asked for with open times in `[start, end]`.
fn check_page(
    rows: &[Candle],
    start: i64,
    end: i64,
    interval_ms: i64,
    prev_open: Option<i64>,
) -> Result<(), String> {
    let mut prev = prev_open;
    for (i, c) in rows.iter().enumerate() {
        let at = format!("row {i} (open time {})", c.open_time_ms);
        if c.open_time_ms < start || c.open_time_ms > end {
            return Err(format!(
                "{at} is outside the range asked for [{start}, {end}]"
            ));
        }
        if prev.is_some_and(|p| c.open_time_ms <= p) {
            return Err(format!("{at} is not after the previous bar"));
        }
        if c.interval_ms != interval_ms {
            return Err(format!(
                "{at} lasts {} ms, not {interval_ms} ms",
                c.interval_ms
            ));
        }
        let lo = c.open.min(c.close);
        let hi = c.open.max(c.close);
        if c.low <= Decimal::ZERO || c.low > lo || c.high < hi || c.volume < Decimal::ZERO {
            return Err(format!(
                "{at} is not a valid bar (open {}, high {}, low {}, close {}, volume {})",
                c.open, c.high, c.low, c.close, c.volume
            ));
        }
        prev = Some(c.open_time_ms);
    }
    Ok(())
}

/// The bars of `symbol` at `interval` opening in `[from_ms, to_ms)`: from the cache, fetching
/// what the cache lacks from `rest_base` when one is given.
pub async fn candles(
    ledger: &Ledger,
    rest_base: Option<&str>,
    symbol: &str,
    interval: &str,
    from_ms: i64,
    to_ms: i64,
) -> Result<CandleRange, AppError> {
    candles_at(
        ledger,
        rest_base,
        symbol,
        interval,
        from_ms,
        to_ms,
        now_ms(),
    )
    .await
}

/// [`candles`] with the wall-clock time given (bars closing after `now_ms` are not cached).
pub async fn candles_at(
    ledger: &Ledger,
    rest_base: Option<&str>,
    symbol: &str,
    interval: &str,
    from_ms: i64,
    to_ms: i64,
    now_ms: i64,
) -> Result<CandleRange, AppError> {
    let symbol = symbol.trim().to_ascii_uppercase();
    if symbol.is_empty() || !symbol.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(AppError::invalid(
            "candles.symbol",
            format!("'{symbol}' is not a symbol like PEPEUSDT"),
        ));
    }
    let interval_ms = match INTERVALS.contains(&interval) {
        true => papermemes_market::candles::parse_interval(interval),
        false => None,
    }
    .ok_or_else(|| {
        AppError::invalid(
            "candles.interval",
            format!(
                "'{interval}' is not a kline interval; use one of {}",
                INTERVALS.join(", ")
            ),
        )
    })?;
    if to_ms <= from_ms {
        return Err(AppError::invalid(
            "candles.range",
            format!("the range [{from_ms}, {to_ms}) is empty"),
        ));
    }
    if (to_ms - from_ms) / interval_ms > MAX_BARS {
        return Err(AppError::invalid(
            "candles.range",
            format!("that range holds more than {MAX_BARS} {interval} bars; ask for a shorter one"),
        ));
    }
    let covered = ledger.kline_ranges(&symbol, interval).await?;
    let gaps = uncovered(from_ms, to_ms, &covered);
    let mut requests = 0u32;
    let mut cached_now = 0usize;
    let mut missing = Vec::new();
    // Bars not closed yet: returned, never cached.
    let mut open_bars: Vec<Candle> = Vec::new();
    match rest_base {
        None => missing = gaps,
        Some(base) if !gaps.is_empty() => {
            let rest = RestClient::new(base, REST_TIMEOUT)
                .map_err(|e| AppError::invalid(e.code(), e.to_string()))?;
            let mut fetches = Vec::new();
            for &(a, b) in &gaps {
                let mut bars: Vec<Candle> = Vec::new();
                let mut start = a;
                loop {
                    requests += 1;
                    let page = rest
                        .klines_range(&symbol, interval, start, b - 1, PAGE)
                        .await
                        .map_err(|e| {
                            AppError::invalid(
                                e.code(),
                                format!("{e}; the candle cache is unchanged"),
                            )
                        })?;
                    check_page(&page, start, b - 1, interval_ms, bars.last().map(|c| c.open_time_ms))
                        .map_err(|m| {
                            AppError::invalid(
                                "candles.bad_response",
                                format!("klines from {base} for {symbol} {interval}: {m}; the candle cache is unchanged"),
                            )
                        })?;
                    let full = page.len() >= PAGE as usize;
                    bars.extend(page);
                    match bars.last() {
                        Some(last) if full && last.open_time_ms + interval_ms < b => {
                            start = last.open_time_ms + interval_ms;
                        }
                        _ => break,
                    }
                }
                // Closed bars are cached with the range they cover; the range stops at the
                // first bar that may still change (or where such a bar would open).
                let closed_to = bars
                    .iter()
                    .find(|c| c.open_time_ms + interval_ms > now_ms)
                    .map_or(b.min(now_ms - interval_ms + 1), |c| c.open_time_ms);
                let (closed, open): (Vec<Candle>, Vec<Candle>) =
                    bars.into_iter().partition(|c| c.open_time_ms < closed_to);
                open_bars.extend(open);
                if closed_to > a {
                    fetches.push(KlineFetch {
                        symbol: symbol.clone(),
                        interval: interval.to_string(),
                        from_ms: a,
                        to_ms: closed_to,
                        fetched_ms: now_ms,
                        rows: closed.iter().map(to_row).collect(),
                    });
                }
                if closed_to < b {
                    missing.push((closed_to.max(a), b));
                }
            }
            // Every page checked: only now does anything reach the cache.
            for f in fetches {
                cached_now += ledger.store_klines(f).await?.inserted;
            }
        }
        Some(_) => {}
    }
    let mut candles: Vec<Candle> = ledger
        .klines(&symbol, interval, from_ms, to_ms)
        .await?
        .into_iter()
        .map(from_row)
        .collect();
    for c in open_bars {
        if !candles.iter().any(|x| x.open_time_ms == c.open_time_ms) {
            candles.push(c);
        }
    }
    candles.sort_by_key(|c| c.open_time_ms);
    Ok(CandleRange {
        symbol,
        interval: interval.to_string(),
        from_ms,
        to_ms,
        candles,
        requests,
        cached_now,
        missing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncovered_subtracts_ranges() {
        assert_eq!(uncovered(0, 10, &[]), vec![(0, 10)]);
        assert_eq!(uncovered(0, 10, &[(0, 10)]), vec![]);
        assert_eq!(uncovered(0, 10, &[(-5, 3), (5, 7)]), vec![(3, 5), (7, 10)]);
        assert_eq!(uncovered(0, 10, &[(2, 4), (8, 20)]), vec![(0, 2), (4, 8)]);
        assert_eq!(uncovered(5, 6, &[(0, 3), (7, 9)]), vec![(5, 6)]);
        assert_eq!(uncovered(0, 10, &[(10, 20)]), vec![(0, 10)]);
    }
}
