//! `papermemes instruments` (the trading rules in use and where they came from) and
//! `papermemes instruments refresh [--rest-base URL]` (fetch them from Binance's exchangeInfo
//! and cache them for offline use).

use papermemes_app::instruments::{
    app_symbols, current_instruments, refresh_instruments, utc, CurrentInstruments,
};
use papermemes_app::paths::AppPaths;
use papermemes_app::settings::Settings;
use papermemes_app::AppError;
use papermemes_store::Ledger;
use serde_json::json;

use crate::args::{Cli, InstrumentsCommand};
use crate::fmt::print_instruments;

pub fn run(cli: &Cli, command: Option<InstrumentsCommand>) -> Result<(), AppError> {
    let paths = AppPaths::resolve(cli.data_dir.as_deref())?;
    paths.create()?;
    let settings = Settings::load(&paths.config_file)?;
    let ledger = Ledger::open(&paths.db_file())?;
    match command {
        None => show(cli, &current_instruments(&ledger)?),
        Some(InstrumentsCommand::Refresh { rest_base }) => {
            let base = rest_base.unwrap_or_else(|| settings.live.rest_base.clone());
            refresh(cli, &ledger, &base, &app_symbols(&settings))
        }
    }
}

fn show(cli: &Cli, current: &CurrentInstruments) -> Result<(), AppError> {
    if cli.json {
        // The instruments object as before, plus where it came from.
        let mut v = serde_json::to_value(&current.instruments).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "source".into(),
                serde_json::to_value(&current.source).unwrap_or_default(),
            );
            o.insert("source_description".into(), json!(current.describe()));
        }
        println!("{v}");
    } else {
        let mut shown = current.instruments.clone();
        shown.as_of = None;
        print_instruments(&shown);
        println!("trading rules: {}", current.describe());
        if matches!(
            current.source,
            papermemes_app::instruments::InstrumentsSource::Bundled { .. }
        ) {
            println!("(`papermemes instruments refresh` fetches the current rules from Binance when online)");
        }
    }
    Ok(())
}

fn refresh(cli: &Cli, ledger: &Ledger, base: &str, symbols: &[String]) -> Result<(), AppError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::Io {
            message: format!("cannot start the async runtime: {e}"),
        })?;
    let s = rt.block_on(refresh_instruments(base, ledger, symbols))?;
    if cli.json {
        println!("{}", serde_json::to_string(&s).unwrap_or_default());
    } else {
        println!(
            "trading rules of {} symbol(s) fetched from {} at {} and cached ({} bytes)",
            s.symbols.len(),
            s.rest_base,
            utc(s.fetched_ms),
            s.bytes
        );
        if s.changed.is_empty() {
            println!("no rule changed");
        } else {
            println!("changed: {}", s.changed.join(", "));
        }
    }
    Ok(())
}
