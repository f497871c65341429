//! Logs: a daily rolling file in the app's log folder (and stderr in debug builds).

use std::sync::OnceLock;

use papermemes_app::paths::AppPaths;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

static GUARD: OnceLock<tracing_appender::non_blocking::WorkerGuard> = OnceLock::new();

pub fn init(paths: &AppPaths, level: &str) {
    let appender = tracing_appender::rolling::daily(&paths.log_dir, "papermemes-desktop.log");
    // The default queue holds 128,000 lines and allocates all of them up front (4 MiB); a
    // desktop app logs a few lines a minute. When the writer falls this far behind, lines are
    // dropped (counted by tracing-appender) rather than blocking the UI.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(4_096)
        .lossy(true)
        .finish(appender);
    let _ = GUARD.set(guard);
    let filter = EnvFilter::try_from_env("PAPERMEMES_LOG")
        .unwrap_or_else(|_| EnvFilter::new(format!("{level},tao=warn,wry=warn")));
    let file = fmt::layer().with_writer(writer).with_ansi(false);
    let registry = tracing_subscriber::registry().with(filter).with(file);
    let result = if cfg!(debug_assertions) {
        registry
            .with(fmt::layer().with_writer(std::io::stderr))
            .try_init()
    } else {
        registry.try_init()
    };
    if result.is_err() {
        // Already set up (tests start more than one app in a process).
    }
}
