//! The meme studio's commands: templates, the live preview (rendered in Rust, the same pixels
//! as the export), the gallery, and memes made from a position. The studio (fonts and
//! templates) is loaded on first use, so it costs nothing at start-up.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use base64::Engine as _;
use papermemes_app::memes::{
    self, BoxFrame, GalleryItem, MemeSpec, MemeStudio, TemplateView, TradeMeme,
};
use papermemes_app::AppError;
use papermemes_meme::pnl::{self, TradeSummary};
use papermemes_meme::ExportFormat;
use papermemes_store::Ledger;
use serde::{Deserialize, Serialize};
use tauri::State;

use crate::{DeskCell, IpcError};

/// The studio and its own ledger connection (the gallery tables), opened on first use.
#[derive(Debug, Default)]
pub struct MemeCell {
    inner: Mutex<Option<Arc<Studio>>>,
    thumbs: Mutex<HashMap<String, String>>,
}

#[derive(Debug)]
pub struct Studio {
    /// Renders only read it, so thumbnails, previews and saves run side by side; importing a
    /// template writes.
    studio: RwLock<MemeStudio>,
    ledger: Ledger,
}

type Cells<'a> = (State<'a, Arc<MemeCell>>, State<'a, Arc<DeskCell>>);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}

impl MemeCell {
    fn get(&self, desk: &DeskCell) -> Result<Arc<Studio>, IpcError> {
        let mut g = lock(&self.inner);
        if let Some(s) = g.as_ref() {
            return Ok(s.clone());
        }
        let desk = desk.wait()?;
        let paths = desk.paths().clone();
        let ledger = Ledger::open(&paths.db_file()).map_err(AppError::from)?;
        let studio = MemeStudio::open(desk.assets(), &paths.data_dir, &ledger)?;
        for (dir, e) in studio.load_errors() {
            tracing::warn!("template {} skipped: {e}", dir.display());
        }
        let s = Arc::new(Studio {
            studio: RwLock::new(studio),
            ledger,
        });
        *g = Some(s.clone());
        Ok(s)
    }
}

async fn on_studio<T, F>(cells: Cells<'_>, f: F) -> Result<T, IpcError>
where
    T: Send + 'static,
    F: FnOnce(&Studio, &MemeCell) -> Result<T, IpcError> + Send + 'static,
{
    let memes = cells.0.inner().clone();
    let desk = cells.1.inner().clone();
    tauri::async_runtime::spawn_blocking(move || {
        let s = memes.get(&desk)?;
        f(&s, &memes)
    })
    .await
    .map_err(IpcError::internal)?
}

fn data_url(format: ExportFormat, bytes: &[u8]) -> String {
    format!(
        "data:{};base64,{}",
        format.mime(),
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

fn parse_format(f: &str) -> Result<ExportFormat, IpcError> {
    ExportFormat::from_extension(f).ok_or_else(|| IpcError {
        code: "meme.unsupported_format".into(),
        message: format!("{f:?} is not a format (png, jpeg, webp or gif)"),
        details: None,
    })
}

/// A saved meme as the gallery shows it.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct GalleryView {
    pub id: i64,
    pub created_ms: i64,
    pub template_id: String,
    pub title: String,
    pub format: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u32,
    pub path: String,
    pub exists: bool,
    pub from_trade: bool,
}

impl From<GalleryItem> for GalleryView {
    fn from(g: GalleryItem) -> Self {
        let m = g.row.meme;
        GalleryView {
            id: g.row.id,
            created_ms: m.created_ms,
            template_id: m.template_id,
            title: m.title,
            format: m.format,
            width: m.width,
            height: m.height,
            bytes: u32::try_from(m.bytes).unwrap_or(u32::MAX),
            path: g.path.display().to_string(),
            exists: g.exists,
            from_trade: m.trade_fill_id.is_some(),
        }
    }
}

#[tauri::command]
#[specta::specta]
pub async fn meme_templates(
    memes: State<'_, Arc<MemeCell>>,
    desk: State<'_, Arc<DeskCell>>,
    search: Option<String>,
    tag: Option<String>,
) -> Result<Vec<TemplateView>, IpcError> {
    on_studio((memes, desk), move |s, _| {
        Ok(read(&s.studio).templates(search.as_deref(), tag.as_deref()))
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn meme_tags(
    memes: State<'_, Arc<MemeCell>>,
    desk: State<'_, Arc<DeskCell>>,
) -> Result<Vec<String>, IpcError> {
    on_studio((memes, desk), |s, _| Ok(read(&s.studio).tags())).await
}

/// A small JPEG of a template's image (no captions), as a data URL; cached.
#[tauri::command]
#[specta::specta]
pub async fn meme_thumbnail(
    memes: State<'_, Arc<MemeCell>>,
    desk: State<'_, Arc<DeskCell>>,
    id: String,
) -> Result<String, IpcError> {
    on_studio((memes, desk), move |s, cell| {
        if let Some(t) = lock(&cell.thumbs).get(&id) {
            return Ok(t.clone());
        }
        let spec = MemeSpec {
            template: id.clone(),
            captions: Vec::new(),
            stickers: Vec::new(),
            size: "240".into(),
            frames: None,
        };
        let bytes = read(&s.studio).render(&spec, ExportFormat::Jpeg)?;
        let url = data_url(ExportFormat::Jpeg, &bytes);
        lock(&cell.thumbs).insert(id, url.clone());
        Ok(url)
    })
    .await
}

/// The meme as a data URL: exactly what an export writes — a PNG of a still template, the
/// captioned GIF (every frame, its timing) of an animated one.
#[tauri::command]
#[specta::specta]
pub async fn meme_preview(
    memes: State<'_, Arc<MemeCell>>,
    desk: State<'_, Arc<DeskCell>>,
    spec: MemeSpec,
) -> Result<String, IpcError> {
    on_studio((memes, desk), move |s, _| {
        let studio = read(&s.studio);
        let format = if studio.template(&spec.template)?.is_animated() {
            ExportFormat::Gif
        } else {
            ExportFormat::Png
        };
        let bytes = studio.render(&spec, format)?;
        Ok(data_url(format, &bytes))
    })
    .await
}

/// Puts the meme on the clipboard as an image (the first frame of an animated one: clipboards
/// carry still images), ready to paste into a chat.
#[tauri::command]
#[specta::specta]
pub async fn meme_copy(
    app: tauri::AppHandle,
    memes: State<'_, Arc<MemeCell>>,
    desk: State<'_, Arc<DeskCell>>,
    spec: MemeSpec,
) -> Result<(), IpcError> {
    on_studio((memes, desk), move |s, _| {
        let (rgba, w, h) = read(&s.studio).still(&spec)?;
        to_clipboard(&app, rgba, w, h)
    })
    .await
}

/// Puts a trade meme's PnL card on the clipboard.
#[tauri::command]
#[specta::specta]
pub async fn meme_trade_copy(
    app: tauri::AppHandle,
    memes: State<'_, Arc<MemeCell>>,
    desk: State<'_, Arc<DeskCell>>,
    trade: TradeMemeView,
) -> Result<(), IpcError> {
    on_studio((memes, desk), move |s, _| {
        let (rgba, w, h) = read(&s.studio).trade_still(&trade.to_meme())?;
        to_clipboard(&app, rgba, w, h)
    })
    .await
}

fn to_clipboard(app: &tauri::AppHandle, rgba: Vec<u8>, w: u32, h: u32) -> Result<(), IpcError> {
    use tauri_plugin_clipboard_manager::ClipboardExt as _;
    let image = tauri::image::Image::new_owned(rgba, w, h);
    app.clipboard().write_image(&image).map_err(|e| IpcError {
        code: "meme.clipboard".into(),
        message: format!("cannot put the image on the clipboard: {e}"),
        details: None,
    })
}

/// Saves the caption boxes drawn in the editor into an imported template (moved, resized,
/// added or removed); bundled templates are read-only.
#[tauri::command]
#[specta::specta]
pub async fn meme_template_boxes(
    memes: State<'_, Arc<MemeCell>>,
    desk: State<'_, Arc<DeskCell>>,
    id: String,
    frames: Vec<BoxFrame>,
) -> Result<TemplateView, IpcError> {
    on_studio((memes, desk), move |s, cell| {
        let view = write(&s.studio).update_user_frames(&id, &frames)?;
        lock(&cell.thumbs).remove(&id);
        Ok(view)
    })
    .await
}

/// Renders and keeps the meme in the gallery (`format`: png, jpeg, webp or gif).
#[tauri::command]
#[specta::specta]
pub async fn meme_save(
    memes: State<'_, Arc<MemeCell>>,
    desk: State<'_, Arc<DeskCell>>,
    spec: MemeSpec,
    format: String,
) -> Result<GalleryView, IpcError> {
    on_studio((memes, desk), move |s, _| {
        let format = parse_format(&format)?;
        let item = read(&s.studio).save(&s.ledger, &spec, format, None)?;
        Ok(item.into())
    })
    .await
}

/// Renders the meme into a file the user chooses (a save dialog). `None` when cancelled.
#[tauri::command]
#[specta::specta]
pub async fn meme_export(
    app: tauri::AppHandle,
    memes: State<'_, Arc<MemeCell>>,
    desk: State<'_, Arc<DeskCell>>,
    spec: MemeSpec,
    format: String,
) -> Result<Option<String>, IpcError> {
    use tauri_plugin_dialog::DialogExt as _;
    on_studio((memes, desk), move |s, _| {
        let format = parse_format(&format)?;
        let ext = format.extension();
        let picked = app
            .dialog()
            .file()
            .set_file_name(format!("{}.{ext}", spec.template))
            .add_filter(ext.to_uppercase(), &[ext])
            .blocking_save_file();
        let Some(path) = picked.and_then(|p| p.into_path().ok()) else {
            return Ok(None);
        };
        let path = if path.extension().is_none() {
            path.with_extension(ext)
        } else {
            path
        };
        read(&s.studio).export(&spec, &path)?;
        Ok(Some(path.display().to_string()))
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn meme_gallery(
    memes: State<'_, Arc<MemeCell>>,
    desk: State<'_, Arc<DeskCell>>,
    search: Option<String>,
) -> Result<Vec<GalleryView>, IpcError> {
    on_studio((memes, desk), move |s, _| {
        let items = read(&s.studio).gallery(&s.ledger, search.as_deref(), 500)?;
        Ok(items.into_iter().map(GalleryView::from).collect())
    })
    .await
}

/// A saved meme's file as a data URL.
#[tauri::command]
#[specta::specta]
pub async fn meme_gallery_image(
    memes: State<'_, Arc<MemeCell>>,
    desk: State<'_, Arc<DeskCell>>,
    id: i64,
) -> Result<String, IpcError> {
    on_studio((memes, desk), move |s, _| {
        let item = read(&s.studio).gallery_item(&s.ledger, id)?;
        let bytes = std::fs::read(&item.path).map_err(|e| IpcError {
            code: "meme.file_missing".into(),
            message: format!("{}: {e}", item.path.display()),
            details: None,
        })?;
        let format = parse_format(&item.row.meme.format)?;
        Ok(data_url(format, &bytes))
    })
    .await
}

/// The edit a saved meme was made with, to open it in the editor.
#[tauri::command]
#[specta::specta]
pub async fn meme_open(
    memes: State<'_, Arc<MemeCell>>,
    desk: State<'_, Arc<DeskCell>>,
    id: i64,
) -> Result<MemeSpec, IpcError> {
    on_studio((memes, desk), move |s, _| {
        Ok(read(&s.studio).saved_spec(&s.ledger, id)?)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn meme_delete(
    memes: State<'_, Arc<MemeCell>>,
    desk: State<'_, Arc<DeskCell>>,
    id: i64,
) -> Result<(), IpcError> {
    on_studio((memes, desk), move |s, _| {
        read(&s.studio).delete(&s.ledger, id)?;
        Ok(())
    })
    .await
}

/// A meme proposed for an open position: the PnL figures, and the template and captions picked
/// by its outcome (the user may change both before saving).
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
pub struct TradeMemeView {
    pub symbol: String,
    pub entry_price: String,
    pub exit_price: String,
    pub entry_time_ms: i64,
    pub exit_time_ms: Option<i64>,
    pub change_pct: f64,
    pub prices: Vec<f64>,
    pub template: String,
    pub captions: Vec<String>,
    /// The sell fill that closed the trade; `None` for an open position.
    #[serde(default)]
    pub fill_id: Option<i64>,
}

impl TradeMemeView {
    fn of(m: TradeMeme) -> Self {
        TradeMemeView {
            symbol: m.trade.symbol,
            entry_price: m.trade.entry_price,
            exit_price: m.trade.exit_price,
            entry_time_ms: m.trade.entry_time_ms,
            exit_time_ms: m.trade.exit_time_ms,
            change_pct: m.trade.change_pct,
            prices: m.trade.prices,
            template: m.template,
            captions: m.captions,
            fill_id: m.fill_id,
        }
    }

    fn to_meme(&self) -> TradeMeme {
        TradeMeme {
            trade: TradeSummary {
                symbol: self.symbol.clone(),
                side: pnl::Side::Long,
                entry_price: self.entry_price.clone(),
                exit_price: self.exit_price.clone(),
                entry_time_ms: self.entry_time_ms,
                exit_time_ms: self.exit_time_ms,
                change_pct: self.change_pct,
                prices: self.prices.clone(),
            },
            template: self.template.clone(),
            captions: self.captions.clone(),
            fill_id: self.fill_id,
        }
    }
}

/// "Make a meme" on an open position of the current market: entry = average cost, exit = the
/// mark price, the sparkline from the chart's bars since the position opened.
#[tauri::command]
#[specta::specta]
pub async fn meme_for_position(
    memes: State<'_, Arc<MemeCell>>,
    desk: State<'_, Arc<DeskCell>>,
    symbol: String,
    seed: u32,
) -> Result<TradeMemeView, IpcError> {
    let desk_cell = desk.inner().clone();
    on_studio((memes, desk), move |s, _| {
        let desk = desk_cell.wait()?;
        let portfolio = desk.portfolio()?;
        let pos = portfolio
            .positions
            .iter()
            .find(|p| p.symbol == symbol && !p.quantity.is_zero())
            .ok_or_else(|| IpcError {
                code: "meme.no_position".into(),
                message: format!("no open {symbol} position"),
                details: None,
            })?;
        let mark = pos.mark.ok_or_else(|| IpcError {
            code: "meme.no_price".into(),
            message: format!("no market price for {symbol} yet"),
            details: None,
        })?;
        let fills = desk.fills(10_000)?;
        let opened = memes::opened_from_views(&fills, &symbol);
        let prices = desk.with_bars(|b| b.closes_since(&symbol, opened));
        let trade = memes::open_position(&symbol, pos.avg_cost, mark, opened, prices);
        let m = read(&s.studio).trade_meme(trade, None, u64::from(seed))?;
        Ok(TradeMemeView::of(m))
    })
    .await
}

/// "Make a meme" on a closed trade: `fill_id` is the sell that closed it; entry = the average
/// cost of the position it sold from, exit = its price, the sparkline from the chart's bars
/// over the trade when the market still has them (else the trade's own fills).
#[tauri::command]
#[specta::specta]
pub async fn meme_for_trade(
    memes: State<'_, Arc<MemeCell>>,
    desk: State<'_, Arc<DeskCell>>,
    fill_id: i64,
    seed: u32,
) -> Result<TradeMemeView, IpcError> {
    let desk_cell = desk.inner().clone();
    on_studio((memes, desk), move |s, _| {
        let desk = desk_cell.wait()?;
        let account = desk.status().account_id;
        let fills = s
            .ledger
            .fills(account, None)
            .wait()
            .map_err(AppError::from)?;
        let trade = memes::closed_trade(&fills, fill_id, |sym, from, to| {
            desk.with_bars(|b| b.closes_between(sym, from, to))
        })?;
        let m = read(&s.studio).trade_meme(trade, Some(fill_id), u64::from(seed))?;
        Ok(TradeMemeView::of(m))
    })
    .await
}

/// The PnL card of a trade meme, as a PNG data URL.
#[tauri::command]
#[specta::specta]
pub async fn meme_trade_preview(
    memes: State<'_, Arc<MemeCell>>,
    desk: State<'_, Arc<DeskCell>>,
    trade: TradeMemeView,
) -> Result<String, IpcError> {
    on_studio((memes, desk), move |s, _| {
        let bytes =
            read(&s.studio).render_trade(&trade.to_meme(), "original", ExportFormat::Png)?;
        Ok(data_url(ExportFormat::Png, &bytes))
    })
    .await
}

/// Saves the PnL card of a trade meme in the gallery (PNG).
#[tauri::command]
#[specta::specta]
pub async fn meme_trade_save(
    memes: State<'_, Arc<MemeCell>>,
    desk: State<'_, Arc<DeskCell>>,
    trade: TradeMemeView,
) -> Result<GalleryView, IpcError> {
    on_studio((memes, desk), move |s, _| {
        let item = read(&s.studio).save_trade(&s.ledger, &trade.to_meme(), ExportFormat::Png)?;
        Ok(item.into())
    })
    .await
}

/// Where a template image the user imports comes from.
#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct ImportRequest {
    pub path: String,
    pub name: String,
    #[serde(default)]
    pub keywords: Vec<String>,
}

/// Imports an image or GIF (chosen in a file dialog when `path` is empty) as a template.
#[tauri::command]
#[specta::specta]
pub async fn meme_import(
    app: tauri::AppHandle,
    memes: State<'_, Arc<MemeCell>>,
    desk: State<'_, Arc<DeskCell>>,
    request: ImportRequest,
) -> Result<Option<TemplateView>, IpcError> {
    use tauri_plugin_dialog::DialogExt as _;
    on_studio((memes, desk), move |s, _| {
        let path = if request.path.trim().is_empty() {
            let picked = app
                .dialog()
                .file()
                .add_filter("Images", &["png", "jpg", "jpeg", "webp", "gif"])
                .blocking_pick_file();
            match picked.and_then(|p| p.into_path().ok()) {
                Some(p) => p,
                None => return Ok(None),
            }
        } else {
            PathBuf::from(request.path.trim())
        };
        let view =
            write(&s.studio).import_template(&s.ledger, &path, &request.name, &request.keywords)?;
        Ok(Some(view))
    })
    .await
}
