//! Settings: defaults in code, user overrides in `settings.toml`. Every field has a default
//! (`#[serde(default)]`), so old files keep loading and a file may set only what it changes.

use std::path::Path;

use papermemes_core::exchange::ExchangeConfig;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::AppError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub account: AccountSettings,
    pub exchange: ExchangeConfig,
    pub replay: ReplaySettings,
    pub live: LiveSettings,
    pub log_level: String,
    /// The desktop app's preferences (theme, market, chart).
    pub desktop: crate::desk::views::DesktopSettings,
}

/// Live market data endpoints (Binance spot public; no keys). Settings so that tests and
/// users behind a proxy can point them elsewhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LiveSettings {
    pub ws_base: String,
    pub rest_base: String,
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings {
            ws_base: "wss://stream.binance.com:9443".into(),
            rest_base: "https://api.binance.com".into(),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            account: AccountSettings::default(),
            exchange: ExchangeConfig::default(),
            replay: ReplaySettings::default(),
            live: LiveSettings::default(),
            log_level: "info".into(),
            desktop: crate::desk::views::DesktopSettings::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccountSettings {
    /// Cash a new (or reset) account starts with, in the quote asset.
    pub starting_cash: Decimal,
    pub quote_asset: String,
}

impl Default for AccountSettings {
    fn default() -> Self {
        AccountSettings {
            starting_cash: Decimal::from(10_000),
            quote_asset: "USDT".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReplaySettings {
    /// Symbols the default replay streams.
    pub symbols: Vec<String>,
    /// Candle interval of the default replay: "5m" or "1h" for the bundled data.
    pub interval: String,
}

impl Default for ReplaySettings {
    fn default() -> Self {
        ReplaySettings {
            symbols: crate::assets::DEFAULT_SYMBOLS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            interval: "5m".into(),
        }
    }
}

impl Settings {
    /// Write the settings to `path` atomically (a temporary file renamed over it), so a crash
    /// never leaves half a file.
    pub fn save(&self, path: &Path) -> Result<(), AppError> {
        let text = toml::to_string_pretty(self)
            .map_err(|e| AppError::Config(format!("cannot encode the settings: {e}")))?;
        let io = |e: std::io::Error| AppError::Io {
            message: format!("cannot write {}: {e}", path.display()),
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let tmp = path.with_extension("toml.tmp");
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp).map_err(io)?;
            f.write_all(text.as_bytes()).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Load from `path`; a missing file gives the defaults, a malformed one a clear error.
    pub fn load(path: &Path) -> Result<Settings, AppError> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text)
                .map_err(|e| AppError::Config(format!("settings file {}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
            Err(e) => Err(AppError::Config(format!(
                "cannot read {}: {e}",
                path.display()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_files_keep_defaults_and_typos_are_errors() {
        let s: Settings = toml::from_str("[exchange]\nlatency_ms = 5\n").expect("parse");
        assert_eq!(s.exchange.latency_ms, 5);
        assert_eq!(s.exchange.taker_fee_bps, Decimal::TEN);
        assert_eq!(s.account.starting_cash, Decimal::from(10_000));
        let e = toml::from_str::<Settings>("[exchange]\nlatncy_ms = 5\n").expect_err("typo");
        assert!(e.to_string().contains("latncy_ms"), "{e}");
        let dir = tempfile::tempdir().expect("tmp");
        assert_eq!(
            Settings::load(&dir.path().join("none.toml")).ok(),
            Some(Settings::default())
        );
    }
}
