//! The PaperMemes desktop shell: Tauri setup, plugins, command registration and the
//! event/channel bridge. Everything the app does lives in `papermemes-app` (the [`Desk`]); this
//! crate only forwards.

mod bridge;
mod commands;
mod error;
mod logging;
mod memes;
mod web_memory;

use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};

use papermemes_app::desk::{Desk, DeskConfig};
use papermemes_app::paths::AppPaths;
use papermemes_app::settings::Settings;
use papermemes_app::AppError;
use tauri::{Manager, RunEvent};
use tauri_specta::Event as _;

pub use error::IpcError;

/// When the process started (for the start-up time the UI reports).
pub(crate) static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// The desk, once it has started (it restores the market in the background so the window
/// opens at once; commands wait for it).
#[derive(Debug, Default)]
pub struct DeskCell {
    slot: Mutex<Option<Result<Arc<Desk>, IpcError>>>,
    ready: Condvar,
}

impl DeskCell {
    fn set(&self, r: Result<Arc<Desk>, IpcError>) {
        let mut g = match self.slot.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        *g = Some(r);
        self.ready.notify_all();
    }

    /// Wait until the desk has started (or failed to).
    pub fn wait(&self) -> Result<Arc<Desk>, IpcError> {
        let mut g = match self.slot.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        while g.is_none() {
            g = match self.ready.wait(g) {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
        }
        match g.as_ref() {
            Some(r) => r.clone(),
            None => Err(IpcError::internal("the desk did not start")),
        }
    }

    fn get(&self) -> Option<Arc<Desk>> {
        let g = match self.slot.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        g.as_ref().and_then(|r| r.as_ref().ok().cloned())
    }
}

/// Everything the UI can call, and the events it can listen to.
pub fn specta_builder() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new()
        .commands(tauri_specta::collect_commands![
            commands::app_info,
            commands::status,
            commands::instruments,
            commands::captures,
            commands::candles,
            commands::set_source,
            commands::switch_market,
            commands::pause,
            commands::set_speed,
            commands::step,
            commands::submit_order,
            commands::submit_oco,
            commands::cancel_order,
            commands::cancel_all,
            commands::portfolio,
            commands::open_orders,
            commands::order_history,
            commands::fills,
            commands::equity,
            commands::estimate,
            commands::reset_account,
            commands::settings,
            commands::update_settings,
            commands::watch_market,
            commands::ui_ready,
            memes::meme_templates,
            memes::meme_tags,
            memes::meme_thumbnail,
            memes::meme_preview,
            memes::meme_copy,
            memes::meme_template_boxes,
            memes::meme_save,
            memes::meme_export,
            memes::meme_gallery,
            memes::meme_gallery_image,
            memes::meme_open,
            memes::meme_delete,
            memes::meme_for_position,
            memes::meme_for_trade,
            memes::meme_trade_copy,
            memes::meme_trade_preview,
            memes::meme_trade_save,
            memes::meme_import,
        ])
        .events(tauri_specta::collect_events![bridge::NoticeEvent])
        // Ids and millisecond times are far below 2^53.
        .dangerously_cast_bigints_to_number()
        // One TypeScript type per Rust type (not separate input/output shapes).
        .disable_serde_phases()
}

/// Where the bundled market data is: next to the installed app, or in the source tree.
fn assets_dir(app: &tauri::AppHandle) -> Result<PathBuf, IpcError> {
    let resource = app
        .path()
        .resource_dir()
        .ok()
        .map(|d| d.join("assets"))
        .filter(|d| d.join("market/candles").is_dir());
    papermemes_app::assets::find_assets_dir(resource.as_deref()).map_err(IpcError::from)
}

fn start_desk(app: &tauri::AppHandle) -> Result<Arc<Desk>, IpcError> {
    let data_dir = std::env::var_os("PAPERMEMES_DATA_DIR").map(PathBuf::from);
    let paths = AppPaths::resolve(data_dir.as_deref())?;
    paths.create()?;
    let settings = Settings::load(&paths.config_file)?;
    logging::init(&paths, &settings.log_level);
    web_memory::log_choice();
    // The newest trading rules fetched from the exchange (`papermemes instruments refresh`),
    // else the bundled snapshot.
    let instruments = {
        let ledger = papermemes_store::Ledger::open(&paths.db_file()).map_err(AppError::from)?;
        let rules = papermemes_app::instruments::current_instruments(&ledger)?;
        let _ = ledger.close();
        tracing::info!("trading rules: {}", rules.describe());
        rules.instruments
    };
    let config = DeskConfig {
        assets: assets_dir(app)?,
        paths,
        settings,
        instruments,
        source: None,
    };
    let desk = Arc::new(Desk::start(config)?);
    tracing::info!(
        "PaperMemes {} started on {}",
        env!("CARGO_PKG_VERSION"),
        desk.status().source_label
    );
    Ok(desk)
}

/// Why there is no desktop session to open the window on, if there is none (Linux: neither an
/// X11 nor a Wayland display, nor a GDK backend the user chose). The headless CLI needs none.
fn no_display(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Option<String> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let set = |v: &str| var(v).is_some_and(|s| !s.is_empty());
    if set("DISPLAY") || set("WAYLAND_DISPLAY") || set("GDK_BACKEND") {
        return None;
    }
    Some(
        "no graphical session (neither DISPLAY nor WAYLAND_DISPLAY is set). Start it from a \
         desktop session, or use the headless CLI, `papermemes`."
            .into(),
    )
}

/// WebKitGTK composites the page through OpenGL. Without a GPU (a VM, a remote desktop, Xvfb)
/// that GL is software (llvmpipe), and compositing alone then costs most of a core for a page
/// that updates every frame: measured here, the web process took 174% of one core with the
/// simulator at 10×, 19% with compositing off. So when the machine has no GPU render node and
/// the user has not chosen, turn compositing off. `WEBKIT_DISABLE_COMPOSITING_MODE=0` keeps it.
fn choose_compositing() {
    const VAR: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";
    if std::env::var_os(VAR).is_some() {
        return;
    }
    let has_gpu = std::fs::read_dir("/dev/dri")
        .map(|d| {
            d.filter_map(Result::ok)
                .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
        })
        .unwrap_or(false);
    if !has_gpu {
        // Before any other thread starts: nothing reads the environment concurrently yet.
        std::env::set_var(VAR, "1");
    }
}

/// How the page's JavaScriptCore runs, set for the web process (it inherits our environment)
/// unless the user set the variable. Each was measured on the release app with the simulator
/// streaming (bench/desktop, docs/desktop-memory.md):
///
/// - `JSC_useGenerationalGC=0`: with generations, objects that outlive a young (Eden) collection
///   are promoted and WebKitGTK rarely runs the full collection that frees them once they die:
///   the heap after each Eden GC grew ~0.8 MiB a time, 8 → 91 MiB in 150 s, and the web process
///   171 → 306 MiB PSS over 10 minutes at 10×. With every collection full the heap stays at
///   ~16 MiB; a full GC of a heap that size costs a few milliseconds.
/// - `JSC_useDFGJIT=0`: the optimising compilers (DFG, and FTL above it) held 17 MiB of the web
///   process idle (157 → 140 MiB PSS) and saved no CPU: the page's script is short React renders
///   and chart draws that the baseline JIT runs well; at 10× the app used 29.9 % of a core in the
///   first minute with them off against 32.0 % with them on (compiling is work too).
/// - `JSC_useCodeCache=0`: every market frame reaches the page as a script of its own (Tauri's
///   channel evaluates one per message), and JavaScriptCore kept the compiled code of each, by
///   its source, in its code cache: the heap after each full GC grew
///   11 → 14.7 MB in 3 minutes at 10× (11 → 12.5 without the cache) and the web process
///   +10 MiB in 4.5 minutes (+4.6 without). No frame's script ever runs twice, so the cache only
///   ever missed.
/// - `JSC_thresholdForJITAfterWarmUp=20000`, `JSC_thresholdForJITSoon=4000` (defaults 500 and
///   100): a function is compiled by the baseline JIT only once it has run ~40× more than by
///   default. What runs every frame (the book, the tape, the chart's draw) still gets compiled
///   within its first minute; what runs a few hundred times at start-up (React's first render,
///   the chart's set-up) stays in the interpreter and its machine code is never made. Idle, the
///   web process was 5 MiB smaller (129.4/129.6 vs 133.4/135.0 MiB, two runs each, alternated).
const JSC_SETTINGS: [(&str, &str); 5] = [
    ("JSC_useGenerationalGC", "0"),
    ("JSC_useDFGJIT", "0"),
    ("JSC_useCodeCache", "0"),
    ("JSC_thresholdForJITAfterWarmUp", "20000"),
    ("JSC_thresholdForJITSoon", "4000"),
];

fn choose_js_engine() {
    for (var, value) in JSC_SETTINGS {
        if std::env::var_os(var).is_none() {
            // Before any other thread starts (see choose_compositing).
            std::env::set_var(var, value);
        }
    }
}

/// glibc's malloc, left to itself, raises its mmap threshold each time a big block is freed (up
/// to 32 MiB), so later big buffers — the candle files read to calibrate the simulator, rendered
/// memes — come from the per-thread heaps and leave them fragmented: the app's live Rust heap is
/// ~8 MiB (heaptrack) while its heaps held ~20 MiB. Pinning the mmap and trim thresholds at
/// 128 KiB (glibc's starting values; setting them turns the raising off) gives blocks of that size
/// and more back to the system when freed: the main process measured 118 → 106 MiB PSS idle on
/// the simulator (docs/desktop-memory.md).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn tune_malloc() {
    const LIMIT: libc::c_int = 128 * 1024;
    // SAFETY: mallopt only sets allocator parameters; called before any other thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, LIMIT);
        libc::mallopt(libc::M_TRIM_THRESHOLD, LIMIT);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_malloc() {}

pub fn run() {
    let _ = START.set(std::time::Instant::now());
    if let Some(why) = no_display(|v| std::env::var_os(v)) {
        // GTK would fail to start and the windowing layer panics with a backtrace instead.
        eprintln!("PaperMemes cannot open its window: {why}");
        std::process::exit(2);
    }
    tune_malloc();
    choose_compositing();
    choose_js_engine();
    web_memory::apply();
    let builder = specta_builder();
    let invoke = builder.invoke_handler();
    let app = tauri::Builder::default()
        // First: a second launch focuses the running window instead of opening another.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            if let Some(w) = app.get_webview_window("main") {
                let _ = w.unminimize();
                let _ = w.show();
                let _ = w.set_focus();
            }
        }))
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        .manage(Arc::new(DeskCell::default()))
        .manage(bridge::Views::default())
        .manage(Arc::new(memes::MemeCell::default()))
        .invoke_handler(invoke)
        .setup(move |app| {
            builder.mount_events(app);
            let handle = app.handle().clone();
            let cell = app.state::<Arc<DeskCell>>().inner().clone();
            // Restoring the market may take a moment: the window opens meanwhile.
            std::thread::Builder::new()
                .name("papermemes-start".into())
                .spawn(move || {
                    let r = start_desk(&handle);
                    if let Err(e) = &r {
                        eprintln!("PaperMemes cannot start: {}", e.message);
                        tracing::error!("cannot start: {} ({})", e.message, e.code);
                    }
                    if let Ok(desk) = &r {
                        bridge::forward_notices(handle.clone(), desk.clone());
                    }
                    cell.set(r);
                })?;
            Ok(())
        })
        .build(tauri::generate_context!());
    let app = match app {
        Ok(a) => a,
        Err(e) => {
            eprintln!("PaperMemes could not start: {e}");
            std::process::exit(1);
        }
    };
    app.run(|handle, event| {
        if let RunEvent::Exit = event {
            // Commit where the market is and stop the engine before the process ends.
            if let Some(desk) = handle.state::<Arc<DeskCell>>().get() {
                desk.shutdown();
            }
        }
    });
}

/// Emit a notice to the UI (used by the bridge).
pub(crate) fn emit_notice(app: &tauri::AppHandle, n: papermemes_app::desk::views::Notice) {
    if let Err(e) = bridge::NoticeEvent(n).emit(app) {
        tracing::debug!("notice not delivered: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::no_display;
    use std::ffi::OsString;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |v| {
            vars.iter()
                .find(|(k, _)| *k == v)
                .map(|(_, x)| OsString::from(x))
        }
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn without_a_display_the_app_says_so_instead_of_panicking() {
        let why = no_display(env(&[])).expect("no display");
        assert!(
            why.contains("DISPLAY") && why.contains("papermemes"),
            "{why}"
        );
        assert!(
            no_display(env(&[("DISPLAY", "")])).is_some(),
            "empty is unset"
        );
        assert!(no_display(env(&[("DISPLAY", ":0")])).is_none());
        assert!(no_display(env(&[("WAYLAND_DISPLAY", "wayland-0")])).is_none());
        assert!(no_display(env(&[("GDK_BACKEND", "broadway")])).is_none());
    }
}
