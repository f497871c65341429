//! The commands the UI calls. Each checks its arguments (the desk checks them again), runs the
//! desk call on a blocking thread (the desk answers once the ledger committed), and returns the
//! result or an `{code, message, details?}` error.

use std::sync::Arc;

use papermemes_app::desk::views::{
    CandleView, CaptureFile, DeskStatus, DesktopSettings, EquityPointView, Estimate, FillView,
    Frame, InstrumentView, MarketKind, OcoTicket, OrderTicket, OrderView, PortfolioSummary,
    SourceSpec, ViewSpec,
};
use papermemes_app::desk::Desk;
use papermemes_app::AppError;
use rust_decimal::Decimal;
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;

use crate::bridge::Views;
use crate::{DeskCell, IpcError};

type Cell<'a> = State<'a, Arc<DeskCell>>;

async fn on_desk<T, F>(cell: &Arc<DeskCell>, f: F) -> Result<T, IpcError>
where
    T: Send + 'static,
    F: FnOnce(&Desk) -> Result<T, AppError> + Send + 'static,
{
    let cell = cell.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let desk = cell.wait()?;
        f(&desk).map_err(IpcError::from)
    })
    .await
    .map_err(IpcError::internal)?
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct AppInfo {
    pub version: String,
    pub data_dir: String,
    pub log_dir: String,
    pub config_file: String,
}

#[tauri::command]
#[specta::specta]
pub async fn app_info(cell: Cell<'_>) -> Result<AppInfo, IpcError> {
    on_desk(&cell, |d| {
        let p = d.paths();
        Ok(AppInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            data_dir: p.data_dir.display().to_string(),
            log_dir: p.log_dir.display().to_string(),
            config_file: p.config_file.display().to_string(),
        })
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn status(cell: Cell<'_>) -> Result<DeskStatus, IpcError> {
    on_desk(&cell, |d| Ok(d.status())).await
}

#[tauri::command]
#[specta::specta]
pub async fn instruments(cell: Cell<'_>) -> Result<Vec<InstrumentView>, IpcError> {
    on_desk(&cell, |d| Ok(d.instruments())).await
}

#[tauri::command]
#[specta::specta]
pub async fn captures(cell: Cell<'_>) -> Result<Vec<CaptureFile>, IpcError> {
    on_desk(&cell, |d| Ok(d.captures())).await
}

#[tauri::command]
#[specta::specta]
pub async fn candles(
    cell: Cell<'_>,
    symbol: String,
    interval: String,
    limit: u32,
) -> Result<Vec<CandleView>, IpcError> {
    on_desk(&cell, move |d| d.candles(&symbol, &interval, limit)).await
}

#[tauri::command]
#[specta::specta]
pub async fn set_source(
    cell: Cell<'_>,
    source: SourceSpec,
    fresh: bool,
) -> Result<DeskStatus, IpcError> {
    on_desk(&cell, move |d| d.set_source(source, fresh)).await
}

/// Switch to a kind of market (replay, simulator, live), resuming where it was.
#[tauri::command]
#[specta::specta]
pub async fn switch_market(cell: Cell<'_>, kind: MarketKind) -> Result<DeskStatus, IpcError> {
    on_desk(&cell, move |d| d.switch_market(kind)).await
}

#[tauri::command]
#[specta::specta]
pub async fn pause(cell: Cell<'_>, paused: bool) -> Result<DeskStatus, IpcError> {
    on_desk(&cell, move |d| d.pause(paused)).await
}

#[tauri::command]
#[specta::specta]
pub async fn set_speed(cell: Cell<'_>, speed: f64) -> Result<DeskStatus, IpcError> {
    on_desk(&cell, move |d| d.set_speed(speed)).await
}

#[tauri::command]
#[specta::specta]
pub async fn step(cell: Cell<'_>, millis: i64) -> Result<DeskStatus, IpcError> {
    on_desk(&cell, move |d| d.step(millis)).await
}

#[tauri::command]
#[specta::specta]
pub async fn submit_order(cell: Cell<'_>, ticket: OrderTicket) -> Result<OrderView, IpcError> {
    on_desk(&cell, move |d| d.submit(ticket)).await
}

#[tauri::command]
#[specta::specta]
pub async fn submit_oco(cell: Cell<'_>, ticket: OcoTicket) -> Result<Vec<OrderView>, IpcError> {
    on_desk(&cell, move |d| d.submit_oco(ticket)).await
}

#[tauri::command]
#[specta::specta]
pub async fn cancel_order(cell: Cell<'_>, order_id: i64) -> Result<OrderView, IpcError> {
    on_desk(&cell, move |d| d.cancel(order_id)).await
}

#[tauri::command]
#[specta::specta]
pub async fn cancel_all(cell: Cell<'_>, symbol: Option<String>) -> Result<u32, IpcError> {
    on_desk(&cell, move |d| d.cancel_all(symbol)).await
}

#[tauri::command]
#[specta::specta]
pub async fn portfolio(cell: Cell<'_>) -> Result<PortfolioSummary, IpcError> {
    on_desk(&cell, |d| d.portfolio()).await
}

#[tauri::command]
#[specta::specta]
pub async fn open_orders(cell: Cell<'_>) -> Result<Vec<OrderView>, IpcError> {
    on_desk(&cell, |d| d.open_orders()).await
}

#[tauri::command]
#[specta::specta]
pub async fn order_history(cell: Cell<'_>, limit: u32) -> Result<Vec<OrderView>, IpcError> {
    on_desk(&cell, move |d| d.order_history(limit)).await
}

#[tauri::command]
#[specta::specta]
pub async fn fills(cell: Cell<'_>, limit: u32) -> Result<Vec<FillView>, IpcError> {
    on_desk(&cell, move |d| d.fills(limit)).await
}

#[tauri::command]
#[specta::specta]
pub async fn equity(cell: Cell<'_>) -> Result<Vec<EquityPointView>, IpcError> {
    on_desk(&cell, |d| d.equity()).await
}

#[tauri::command]
#[specta::specta]
pub async fn estimate(cell: Cell<'_>, ticket: OrderTicket) -> Result<Estimate, IpcError> {
    on_desk(&cell, move |d| d.estimate(ticket)).await
}

#[tauri::command]
#[specta::specta]
pub async fn reset_account(
    cell: Cell<'_>,
    cash: Option<Decimal>,
) -> Result<PortfolioSummary, IpcError> {
    on_desk(&cell, move |d| d.reset_account(cash)).await
}

#[tauri::command]
#[specta::specta]
pub async fn settings(cell: Cell<'_>) -> Result<DesktopSettings, IpcError> {
    on_desk(&cell, |d| Ok(d.desktop_settings())).await
}

#[tauri::command]
#[specta::specta]
pub async fn update_settings(
    cell: Cell<'_>,
    settings: DesktopSettings,
) -> Result<DesktopSettings, IpcError> {
    on_desk(&cell, move |d| d.update_desktop_settings(settings)).await
}

/// Stream market frames for `view` to `channel` (replacing this window's previous view).
#[tauri::command]
#[specta::specta]
pub async fn watch_market(
    cell: Cell<'_>,
    views: State<'_, Views>,
    window: tauri::Window,
    view: ViewSpec,
    channel: Channel<Frame>,
) -> Result<(), IpcError> {
    // Refused before anything changes when the view is malformed.
    let fb = papermemes_app::desk::frames::FrameBuilder::new(view)?;
    let cell = cell.inner().clone();
    let desk = tauri::async_runtime::spawn_blocking(move || cell.wait())
        .await
        .map_err(IpcError::internal)??;
    views.watch(window.label(), desk, fb, channel);
    Ok(())
}

/// The page calls this once its trading screen shows live prices: the time since the process
/// started is logged (and printed), which is what `bench/desktop` measures as cold start, and
/// the desk's background work that waited for the window to open goes ahead.
#[tauri::command]
#[specta::specta]
pub async fn ui_ready(cell: Cell<'_>) -> Result<(), IpcError> {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let ms = crate::START.get().map_or(0, |t| t.elapsed().as_millis());
        tracing::info!("trading screen interactive {ms} ms after start");
        eprintln!("papermemes: trading screen interactive {ms} ms after start");
    });
    // Background work held back while the window opened may start now.
    on_desk(&cell, |d| {
        d.ui_ready();
        Ok(())
    })
    .await
}
