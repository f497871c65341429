//! Candle CSV files: `open_time_ms,open,high,low,close,volume` with a header row, plain or
//! gzip-compressed (`.gz`). Every row is checked; a bad row is an error naming the file and
//! line, and nothing is returned.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use flate2::read::MultiGzDecoder;
use papermemes_core::event::Candle;
use rust_decimal::Decimal;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum CandleError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Row {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
}

impl CandleError {
    pub fn code(&self) -> &'static str {
        match self {
            CandleError::Io { .. } => "data_io",
            CandleError::Row { .. } => "data_bad_row",
            CandleError::File { .. } => "data_bad_file",
        }
    }
}

/// A loaded candle series.
#[derive(Debug, Clone)]
pub struct CandleSeries {
    /// From the file name when it follows `binance_<BASE>_<QUOTE>-<interval>.csv`.
    pub symbol: Option<String>,
    pub interval_ms: i64,
    pub candles: Vec<Candle>,
}

/// Guess `(symbol, interval)` from names like `binance_PEPE_USDT-5m.csv.gz`.
pub fn symbol_from_file_name(path: &Path) -> Option<(String, Option<i64>)> {
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_suffix(".gz").unwrap_or(name);
    let stem = stem.strip_suffix(".csv").unwrap_or(stem);
    let stem = stem.strip_prefix("binance_").unwrap_or(stem);
    let (pair, interval) = match stem.rsplit_once('-') {
        Some((p, i)) => (p, parse_interval(i)),
        None => (stem, None),
    };
    let (base, quote) = pair.split_once('_')?;
    if base.is_empty()
        || quote.is_empty()
        || !pair.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return None;
    }
    Some((
        format!(
            "{}{}",
            base.to_ascii_uppercase(),
            quote.to_ascii_uppercase()
        ),
        interval,
    ))
}

/// `1m`, `5m`, `1h`, `4h`, `1d` … in milliseconds.
pub fn parse_interval(s: &str) -> Option<i64> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = num.parse().ok()?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 604_800_000,
        _ => return None,
    };
    (n > 0).then_some(n * unit_ms)
}

/// Read a whole candle file (decompressing `.gz`).
pub fn read_candles(path: &Path) -> Result<CandleSeries, CandleError> {
    let io = |source| CandleError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let mut text = String::new();
    let is_gz = path.extension().is_some_and(|e| e == "gz");
    if is_gz {
        MultiGzDecoder::new(BufReader::new(file))
            .read_to_string(&mut text)
            .map_err(io)?;
    } else {
        BufReader::new(file).read_to_string(&mut text).map_err(io)?;
    }
    let named = symbol_from_file_name(path);
    let candles = parse_candles(&text, path)?;
    let interval_ms = infer_interval(&candles)
        .or(named.as_ref().and_then(|n| n.1))
        .ok_or_else(|| CandleError::File {
            path: path.to_path_buf(),
            message: "cannot tell the bar interval: need at least two rows or a name like binance_PEPE_USDT-5m.csv".into(),
        })?;
    let mut candles = candles;
    for c in &mut candles {
        c.interval_ms = interval_ms;
    }
    Ok(CandleSeries {
        symbol: named.map(|n| n.0),
        interval_ms,
        candles,
    })
}

fn infer_interval(c: &[Candle]) -> Option<i64> {
    match c {
        [a, b, ..] => Some(b.open_time_ms - a.open_time_ms),
        _ => None,
    }
}

/// Parse CSV text. `path` only labels errors.
pub fn parse_candles(text: &str, path: &Path) -> Result<Vec<Candle>, CandleError> {
    let err = |line: usize, message: String| CandleError::Row {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut out = Vec::with_capacity(text.len() / 48);
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, h)) if h.trim_start_matches('\u{feff}').starts_with("open_time") => {}
        Some((_, h)) => {
            return Err(err(
                1,
                format!(
                    "expected the header open_time_ms,open,high,low,close,volume, found '{}'",
                    truncate(h)
                ),
            ))
        }
        None => {
            return Err(CandleError::File {
                path: path.to_path_buf(),
                message: "empty file".into(),
            })
        }
    }
    let mut prev_time: Option<i64> = None;
    for (idx, line) in lines {
        let lineno = idx + 1;
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let mut f = line.split(',');
        let mut next = |name: &str| {
            f.next().ok_or_else(|| {
                err(
                    lineno,
                    format!("missing column {name} in '{}'", truncate(line)),
                )
            })
        };
        let t = next("open_time_ms")?;
        let t: i64 = t.trim().parse().map_err(|_| {
            err(
                lineno,
                format!("open_time_ms '{}' is not an integer", truncate(t)),
            )
        })?;
        let mut dec = |name: &str| -> Result<Decimal, CandleError> {
            let s = next(name)?;
            Decimal::from_str(s.trim()).map_err(|_| {
                err(
                    lineno,
                    format!("{name} '{}' is not a decimal number", truncate(s)),
                )
            })
        };
        let open = dec("open")?;
        let high = dec("high")?;
        let low = dec("low")?;
        let close = dec("close")?;
        let volume = dec("volume")?;
        if f.next().is_some() {
            return Err(err(lineno, "too many columns (expected 6)".into()));
        }
        if open <= Decimal::ZERO
            || high <= Decimal::ZERO
            || low <= Decimal::ZERO
            || close <= Decimal::ZERO
        {
            return Err(err(lineno, "prices must be positive".into()));
        }
        if volume < Decimal::ZERO {
            return Err(err(lineno, "volume must not be negative".into()));
        }
        if high < low || high < open || high < close || low > open || low > close {
            return Err(err(
                lineno,
                format!("inconsistent bar: high {high} low {low} open {open} close {close}"),
            ));
        }
        if let Some(p) = prev_time {
            if t <= p {
                return Err(err(
                    lineno,
                    format!("open_time_ms {t} is not after the previous row's {p}"),
                ));
            }
        }
        prev_time = Some(t);
        out.push(Candle {
            open_time_ms: t,
            interval_ms: 0,
            open,
            high,
            low,
            close,
            volume,
        });
    }
    Ok(out)
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_intervals() {
        let (s, i) =
            symbol_from_file_name(Path::new("a/binance_PEPE_USDT-5m.csv.gz")).expect("name");
        assert_eq!((s.as_str(), i), ("PEPEUSDT", Some(300_000)));
        assert_eq!(parse_interval("1h"), Some(3_600_000));
        assert_eq!(parse_interval("h"), None);
        assert!(symbol_from_file_name(Path::new("prices.csv")).is_none());
    }

    #[test]
    fn bad_rows_name_the_line() {
        let p = Path::new("x.csv");
        let good =
            "open_time_ms,open,high,low,close,volume\n1,1,2,0.5,1.5,10\n2,1.5,1.6,1.4,1.5,3\n";
        assert_eq!(parse_candles(good, p).map(|c| c.len()).ok(), Some(2));
        for (bad, needle) in [
            (
                "open_time_ms,open,high,low,close,volume\n1,1,2,0.5,1.5,10\n2,abc,2,1,1,1\n",
                "x.csv:3: open 'abc'",
            ),
            (
                "open_time_ms,open,high,low,close,volume\n1,1,2,0.5,1.5\n",
                "x.csv:2: missing column volume",
            ),
            (
                "open_time_ms,open,high,low,close,volume\n1,1,0.5,2,1.5,10\n",
                "x.csv:2: inconsistent bar",
            ),
            (
                "open_time_ms,open,high,low,close,volume\n5,1,2,0.5,1.5,10\n5,1,2,0.5,1.5,10\n",
                "x.csv:3: open_time_ms 5 is not after",
            ),
            ("time,o\n", "x.csv:1: expected the header"),
        ] {
            let e = parse_candles(bad, p).expect_err(needle).to_string();
            assert!(e.starts_with(needle), "{e} !~ {needle}");
        }
    }
}
