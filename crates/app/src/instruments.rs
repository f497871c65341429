//! Trading rules (instruments and their filters): the bundled dated snapshot, refreshed from
//! Binance's `GET /api/v3/exchangeInfo` when online and cached in the database for offline use.
//!
//! * [`refresh_instruments`] fetches the rules of the app's symbols, checks them, and stores
//!   the raw response with its fetch time. A response that is not valid exchangeInfo, or that
//!   lacks a requested symbol, is an error and the cache is left as it was.
//! * [`current_instruments`] returns the newest cached snapshot, or the bundled one when none
//!   was fetched yet, and says which ([`InstrumentsSource`]). Symbols the cached snapshot does
//!   not cover are taken from the bundled snapshot and listed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use papermemes_core::instrument::{Instrument, Instruments};
use papermemes_market::rest::RestClient;
use papermemes_store::{Ledger, NewExchangeInfo};
use serde::Serialize;

use crate::assets::{bundled_instruments, DEFAULT_SYMBOLS};
use crate::settings::Settings;
use crate::AppError;

/// How long one exchangeInfo request may take.
pub const REST_TIMEOUT: Duration = Duration::from_secs(15);

/// Where the rules in use came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InstrumentsSource {
    /// The dated snapshot shipped with the app (`assets/market/instruments.json`).
    Bundled {
        /// The snapshot's date, e.g. `2024-06-30`.
        as_of: Option<String>,
        /// Why a cached snapshot was not used, when there is one that could not be read.
        note: Option<String>,
    },
    /// Fetched from the exchange and cached.
    Fetched {
        /// Wall-clock time of the fetch, ms since the epoch.
        fetched_ms: i64,
        /// The REST base URL it came from.
        rest_base: String,
        /// Symbols the fetched snapshot lacks, taken from the bundled snapshot.
        from_bundled: Vec<String>,
    },
}

/// The rules in use and where they came from.
#[derive(Debug, Clone, Serialize)]
pub struct CurrentInstruments {
    pub instruments: Instruments,
    pub source: InstrumentsSource,
}

impl CurrentInstruments {
    /// One line for people: "bundled snapshot as of 2024-06-30" or "fetched from … at …".
    pub fn describe(&self) -> String {
        match &self.source {
            InstrumentsSource::Bundled { as_of, note } => {
                let mut s = format!(
                    "bundled snapshot as of {}",
                    as_of.as_deref().unwrap_or("an unknown date")
                );
                if let Some(n) = note {
                    s.push_str(&format!(" ({n})"));
                }
                s
            }
            InstrumentsSource::Fetched {
                fetched_ms,
                rest_base,
                from_bundled,
            } => {
                let mut s = format!("fetched from {rest_base} at {}", utc(*fetched_ms));
                if !from_bundled.is_empty() {
                    s.push_str(&format!(
                        "; {} from the bundled snapshot",
                        from_bundled.join(", ")
                    ));
                }
                s
            }
        }
    }
}

/// What a refresh stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefreshSummary {
    pub rest_base: String,
    pub fetched_ms: i64,
    /// Symbols in the stored snapshot.
    pub symbols: Vec<String>,
    /// Symbols whose rules differ from the ones in use before the refresh.
    pub changed: Vec<String>,
    /// Size of the stored response.
    pub bytes: usize,
}

/// The symbols the app trades: the bundled pairs plus the replay settings' symbols.
pub fn app_symbols(settings: &Settings) -> Vec<String> {
    let mut out: Vec<String> = DEFAULT_SYMBOLS.iter().map(|s| s.to_string()).collect();
    for s in &settings.replay.symbols {
        let s = s.trim().to_ascii_uppercase();
        if !s.is_empty() && !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `2024-08-08 12:34:56 UTC` from ms since the epoch (no time-zone database needed).
pub fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn check_symbols(symbols: &[String]) -> Result<Vec<String>, AppError> {
    let out: Vec<String> = symbols
        .iter()
        .map(|s| s.trim().to_ascii_uppercase())
        .collect();
    if out.is_empty() {
        return Err(AppError::invalid(
            "instruments.symbols",
            "no symbols to refresh",
        ));
    }
    if let Some(bad) = out
        .iter()
        .find(|s| s.is_empty() || !s.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        return Err(AppError::invalid(
            "instruments.symbols",
            format!("'{bad}' is not a symbol like PEPEUSDT"),
        ));
    }
    Ok(out)
}

/// The rules that matter for orders (not the `estimated` notes).
fn same_rules(a: &Instrument, b: &Instrument) -> bool {
    a.status == b.status
        && a.price_filter == b.price_filter
        && a.lot_size == b.lot_size
        && a.market_lot_size == b.market_lot_size
        && a.notional == b.notional
        && a.percent_price_by_side == b.percent_price_by_side
        && a.order_types == b.order_types
        && a.oco_allowed == b.oco_allowed
        && a.quote_order_qty_market_allowed == b.quote_order_qty_market_allowed
}

/// Fetch `exchangeInfo` for `symbols` from `rest_base`, check it, and cache it in `ledger`.
/// On any error (unreachable, rate limited, not exchangeInfo, a symbol missing, a symbol
/// without price or lot-size rules) nothing is stored.
pub async fn refresh_instruments(
    rest_base: &str,
    ledger: &Ledger,
    symbols: &[String],
) -> Result<RefreshSummary, AppError> {
    let symbols = check_symbols(symbols)?;
    let rest = RestClient::new(rest_base, REST_TIMEOUT)
        .map_err(|e| AppError::invalid(e.code(), e.to_string()))?;
    let (fetched, body) = rest.exchange_info(&symbols).await.map_err(|e| {
        AppError::invalid(
            e.code(),
            format!("{e}; the cached trading rules are unchanged"),
        )
    })?;
    let refused = |message: String| {
        AppError::invalid(
            "instruments.bad_response",
            format!(
                "exchangeInfo from {rest_base}: {message}; the cached trading rules are unchanged"
            ),
        )
    };
    let missing: Vec<&str> = symbols
        .iter()
        .filter(|s| !fetched.by_symbol.contains_key(*s))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(refused(format!("it lacks {}", missing.join(", "))));
    }
    if let Some(i) = fetched
        .by_symbol
        .values()
        .find(|i| i.price_filter.is_none() || i.lot_size.is_none())
    {
        return Err(refused(format!(
            "{} has no PRICE_FILTER or LOT_SIZE rules",
            i.symbol
        )));
    }
    let before = current_instruments_async(ledger).await?;
    let changed = fetched
        .by_symbol
        .values()
        .filter(|i| {
            before
                .instruments
                .by_symbol
                .get(&i.symbol)
                .is_none_or(|b| !same_rules(i, b))
        })
        .map(|i| i.symbol.clone())
        .collect();
    let fetched_ms = now_ms();
    let row = ledger
        .store_exchange_info(NewExchangeInfo {
            fetched_ms,
            source: rest_base.to_string(),
            symbols: fetched.by_symbol.keys().cloned().collect(),
            json: body,
        })
        .await?;
    tracing::info!(
        rest_base,
        symbols = row.symbols.len(),
        "trading rules refreshed"
    );
    Ok(RefreshSummary {
        rest_base: rest_base.to_string(),
        fetched_ms,
        symbols: row.symbols,
        changed,
        bytes: row.json.len(),
    })
}

fn resolve(
    cached: Option<papermemes_store::ExchangeInfoRow>,
) -> Result<CurrentInstruments, AppError> {
    let bundled = bundled_instruments()?;
    let Some(row) = cached else {
        return Ok(CurrentInstruments {
            source: InstrumentsSource::Bundled {
                as_of: bundled.as_of.clone(),
                note: None,
            },
            instruments: bundled,
        });
    };
    match Instruments::from_exchange_info_json(&row.json) {
        Ok(mut fetched) => {
            let mut from_bundled = Vec::new();
            for (sym, inst) in &bundled.by_symbol {
                if !fetched.by_symbol.contains_key(sym) {
                    fetched.insert(inst.clone());
                    from_bundled.push(sym.clone());
                }
            }
            fetched.as_of = None;
            Ok(CurrentInstruments {
                instruments: fetched,
                source: InstrumentsSource::Fetched {
                    fetched_ms: row.fetched_ms,
                    rest_base: row.source,
                    from_bundled,
                },
            })
        }
        Err(e) => {
            tracing::warn!("cached exchangeInfo {} is unreadable: {e}", row.id);
            Ok(CurrentInstruments {
                source: InstrumentsSource::Bundled {
                    as_of: bundled.as_of.clone(),
                    note: Some(format!(
                        "the cached snapshot fetched at {} is unreadable: {e}",
                        utc(row.fetched_ms)
                    )),
                },
                instruments: bundled,
            })
        }
    }
}

/// The rules to trade with: the newest cached snapshot, else the bundled one. Blocks on the
/// ledger (a quick read); from async code use [`current_instruments_async`].
pub fn current_instruments(ledger: &Ledger) -> Result<CurrentInstruments, AppError> {
    resolve(ledger.latest_exchange_info().wait()?)
}

/// [`current_instruments`] for async code.
pub async fn current_instruments_async(ledger: &Ledger) -> Result<CurrentInstruments, AppError> {
    resolve(ledger.latest_exchange_info().await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formats_known_instants() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_719_791_999_999), "2024-06-30 23:59:59 UTC");
        assert_eq!(utc(1_709_164_800_000), "2024-02-29 00:00:00 UTC");
    }

    #[test]
    fn with_nothing_cached_the_bundled_snapshot_is_used() -> Result<(), AppError> {
        let ledger = Ledger::open_in_memory()?;
        let c = current_instruments(&ledger)?;
        assert_eq!(
            c.source,
            InstrumentsSource::Bundled {
                as_of: Some("2024-06-30".into()),
                note: None
            }
        );
        assert_eq!(c.instruments.by_symbol.len(), DEFAULT_SYMBOLS.len());
        assert_eq!(c.describe(), "bundled snapshot as of 2024-06-30");
        Ok(())
    }
}
