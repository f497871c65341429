//! The event/channel bridge. Market data goes to the UI through a `Channel` per window, one
//! small batch per frame (at most 30 a second) built by the desk's `FrameBuilder`;
//! notices (fills, order changes, source changes) go as events, and a fill also raises a
//! native notification when the user asked for it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use papermemes_app::desk::frames::FrameBuilder;
use papermemes_app::desk::views::{Frame, Notice, SideView};
use papermemes_app::desk::Desk;
use serde::Serialize;
use tauri::async_runtime::JoinHandle;
use tauri::ipc::Channel;
use tauri_plugin_notification::NotificationExt;

/// Frame period: 30 frames a second at most. Every `Channel` message is a script the webview
/// evaluates; on an empty Tauri app, 3 KB messages cost the web process +47 MiB at 60 a second and
/// +20 MiB at 20. In PaperMemes itself 5 to 30 frames a second measured the same, the page's own
/// memory dominating (docs/desktop-memory.md). A book, tape and chart moving 30 times a second is
/// smooth (exchanges' own pages repaint their books about 10 times a second); nothing is dropped,
/// a frame carries everything since the previous one.
const FRAME: Duration = Duration::from_millis(33);
/// The watchlist is refreshed every this many frames (about 4 times a second).
const TICKERS_EVERY: u32 = 8;

#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct NoticeEvent(pub Notice);

/// The market view each window is watching.
#[derive(Debug, Default)]
pub struct Views {
    tasks: Mutex<HashMap<String, JoinHandle<()>>>,
}

impl Views {
    /// Replace `window`'s view with a new one streaming to `channel`.
    pub fn watch(&self, window: &str, desk: Arc<Desk>, fb: FrameBuilder, channel: Channel<Frame>) {
        tracing::debug!(window, view = ?fb.spec(), "watch market");
        let task = tauri::async_runtime::spawn(stream(desk, fb, channel));
        let mut tasks = match self.tasks.lock() {
            Ok(t) => t,
            Err(p) => p.into_inner(),
        };
        if let Some(old) = tasks.insert(window.to_string(), task) {
            old.abort();
        }
    }
}

async fn stream(desk: Arc<Desk>, mut fb: FrameBuilder, channel: Channel<Frame>) {
    let hub = desk.hub().clone();
    let mut epoch = desk.epoch();
    fb.set_epoch(epoch);
    let mut sub = hub.subscribe();
    let (books, seq) = hub.book_snapshots();
    fb.seed(&books, seq);
    let mut tick = tokio::time::interval(FRAME);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut n: u32 = 0;
    loop {
        tokio::select! {
            u = sub.recv() => match u {
                Some(u) => fb.on_update(&u),
                None => break,
            },
            _ = tick.tick() => {
                let e = desk.epoch();
                if e != epoch {
                    // A new market: start the view over from its books.
                    epoch = e;
                    fb.set_epoch(e);
                    let (books, seq) = hub.book_snapshots();
                    fb.seed(&books, seq);
                }
                fb.set_history_version(desk.history_version());
                n = n.wrapping_add(1);
                let status = desk.status();
                let with_tickers = n % TICKERS_EVERY == 1;
                let frame = desk.with_bars(|b| {
                    fb.frame(b, &status.symbols, status.market_time_ms, with_tickers)
                });
                if let Some(f) = frame {
                    if f.reset {
                        tracing::debug!(seq = f.seq, candles = f.candles.len(), "frame with reset");
                    }
                    if channel.send(f).is_err() {
                        break; // the page is gone
                    }
                }
            }
        }
    }
}

/// Forward the desk's notices to the UI, with a native notification for fills.
pub fn forward_notices(app: tauri::AppHandle, desk: Arc<Desk>) {
    let mut rx = desk.notices();
    tauri::async_runtime::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(n) => {
                    if let Notice::Fill { fill } = &n {
                        if desk.desktop_settings().notify_fills {
                            let side = match fill.side {
                                SideView::Buy => "Bought",
                                SideView::Sell => "Sold",
                            };
                            let r = app
                                .notification()
                                .builder()
                                .title(format!("{side} {} {}", fill.quantity, fill.symbol))
                                .body(format!(
                                    "at {} · fee {} {}",
                                    fill.price, fill.fee, fill.fee_asset
                                ))
                                .show();
                            if let Err(e) = r {
                                tracing::debug!("notification not shown: {e}");
                            }
                        }
                    }
                    crate::emit_notice(&app, n);
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(k)) => {
                    tracing::warn!("{k} notices dropped (the UI was busy)");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}
