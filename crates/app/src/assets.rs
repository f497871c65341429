//! Bundled data: the instrument snapshot is compiled in; candle files are found in the assets
//! directory (`--assets`, `PAPERMEMES_ASSETS`, next to the executable, the installed share
//! directory, or the source tree).

use std::path::{Path, PathBuf};

use papermemes_core::instrument::Instruments;

use crate::AppError;

/// The eight pairs PaperMemes ships data and rules for.
pub const DEFAULT_SYMBOLS: [&str; 8] = [
    "DOGEUSDT",
    "SHIBUSDT",
    "PEPEUSDT",
    "WIFUSDT",
    "BONKUSDT",
    "FLOKIUSDT",
    "BTCUSDT",
    "ETHUSDT",
];

/// Dated snapshot of Binance's trading rules for [`DEFAULT_SYMBOLS`] (exchangeInfo shape).
pub const INSTRUMENTS_JSON: &str = include_str!("../../../assets/market/instruments.json");

pub fn bundled_instruments() -> Result<Instruments, AppError> {
    Instruments::from_exchange_info_json(INSTRUMENTS_JSON)
        .map_err(|e| AppError::Config(format!("bundled instrument snapshot: {e}")))
}

/// Find the assets directory (it holds `market/candles/`).
pub fn find_assets_dir(explicit: Option<&Path>) -> Result<PathBuf, AppError> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = explicit {
        candidates.push(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("PAPERMEMES_ASSETS") {
        candidates.push(PathBuf::from(p));
    }
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            candidates.push(dir.join("assets"));
            candidates.push(dir.join("../share/papermemes/assets"));
            candidates.push(dir.join("../lib/papermemes/assets"));
        }
    }
    candidates.push(PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../assets"
    )));
    candidates
        .iter()
        .find(|c| c.join("market/candles").is_dir())
        .cloned()
        .ok_or_else(|| {
            AppError::Config(format!(
                "cannot find the bundled market data (assets/market/candles); looked in: {}. Pass --assets DIR or set PAPERMEMES_ASSETS",
                candidates.iter().map(|c| c.display().to_string()).collect::<Vec<_>>().join(", ")
            ))
        })
}

/// The bundled candle file of a symbol and interval, e.g. `PEPEUSDT`, `5m`.
pub fn bundled_candles(assets: &Path, symbol: &str, interval: &str) -> Result<PathBuf, AppError> {
    let base = symbol.strip_suffix("USDT").unwrap_or(symbol);
    let p = assets.join(format!(
        "market/candles/binance_{base}_USDT-{interval}.csv.gz"
    ));
    if p.is_file() {
        Ok(p)
    } else {
        Err(AppError::invalid(
            "replay.no_data",
            format!("no bundled {interval} candles for {symbol} ({} not found); bundled intervals are 5m and 1h", p.display()),
        ))
    }
}
