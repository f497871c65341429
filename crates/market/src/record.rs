//! The recorder: live data written in the capture format (`<receive_ns> <raw JSON>` lines,
//! gzip), REST depth snapshots included, so users build their own history for replay and
//! `papermemes capture verify` can check it.
//!
//! The file is written as a series of gzip members, one finished every `flush_every`: if the
//! recorder is killed, everything up to the last finished member is readable.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use flate2::write::GzEncoder;
use flate2::Compression;
use serde::Serialize;
use thiserror::Error;
use tokio::sync::mpsc;

use crate::hub::FeedHub;
use crate::live::{LiveConfig, LiveError, LiveFeed};

#[derive(Debug, Error)]
pub enum RecordError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Live(#[from] LiveError),
}

#[derive(Debug, Clone, Serialize)]
pub struct RecordSummary {
    pub path: PathBuf,
    pub lines: u64,
    pub snapshots: u64,
    pub bytes_in: u64,
}

/// Record the live feed described by `config` into `out` until `stop` completes.
pub async fn record(
    mut config: LiveConfig,
    out: &Path,
    flush_every: Duration,
    stop: impl std::future::Future<Output = ()>,
) -> Result<RecordSummary, RecordError> {
    let io = |source| RecordError::Io {
        path: out.to_path_buf(),
        source,
    };
    let file = File::create(out).map_err(io)?;
    let mut gz = Some(GzEncoder::new(BufWriter::new(file), Compression::default()));
    let (tx, mut rx) = mpsc::unbounded_channel::<(i64, String)>();
    config.raw_tap = Some(tx);
    let hub = FeedHub::new(1024);
    let feed = LiveFeed::start(config, hub)?;
    let mut summary = RecordSummary {
        path: out.to_path_buf(),
        lines: 0,
        snapshots: 0,
        bytes_in: 0,
    };
    let mut tick = tokio::time::interval(flush_every);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            item = rx.recv() => {
                let Some((ns, json)) = item else { break };
                if let Some(w) = gz.as_mut() {
                    writeln!(w, "{ns} {json}").map_err(io)?;
                }
                summary.lines += 1;
                summary.bytes_in += json.len() as u64;
                if json.starts_with("{\"lastUpdateId\"") {
                    summary.snapshots += 1;
                }
            }
            _ = tick.tick() => {
                // Finish this gzip member and start the next one.
                if let Some(w) = gz.take() {
                    let mut inner = w.finish().map_err(io)?;
                    inner.flush().map_err(io)?;
                    gz = Some(GzEncoder::new(inner, Compression::default()));
                }
            }
            _ = &mut stop => break,
        }
    }
    feed.stop().await;
    // What arrived before the stop is kept.
    while let Ok((ns, json)) = rx.try_recv() {
        if let Some(w) = gz.as_mut() {
            writeln!(w, "{ns} {json}").map_err(io)?;
            summary.lines += 1;
        }
    }
    if let Some(w) = gz.take() {
        let mut inner = w.finish().map_err(io)?;
        inner.flush().map_err(io)?;
        inner.get_ref().sync_all().map_err(io)?;
    }
    Ok(summary)
}
