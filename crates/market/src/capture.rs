//! Recorded Binance WebSocket captures: text, gzip or plain, one message a line:
//! `<local_receive_time_ns> <raw JSON>`. The JSON is a combined-stream envelope
//! (`{"stream":"btcusdt@depth@100ms","data":{…}}`), a raw stream payload, a subscription reply,
//! or a REST depth snapshot taken while the stream ran (no envelope; its symbol is the one the
//! depth stream names).
//!
//! [`CaptureReader`] streams a capture line by line (the file is never held in memory) and
//! yields decoded [`CaptureRecord`]s; errors name the line. In lenient mode a bad line is
//! skipped and counted instead.
//!
//! [`verify_capture`] rebuilds the order book with [`LocalBook`] and checks it against every
//! `bookTicker` that carries an update id the book reached.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use flate2::read::MultiGzDecoder;
use papermemes_core::book::OrderBook;
use papermemes_core::event::{Level, MarketEvent};
use papermemes_core::TimeMs;
use rust_decimal::Decimal;
use serde::Serialize;
use thiserror::Error;

use crate::binance::{self, BookTicker, DecodeError, DepthSnapshot, Message, Payload};
use crate::localbook::{BookCounters, LocalBook, SyncState};

/// Longest line accepted (a 5000-level REST snapshot is about 300 KB).
pub const DEFAULT_MAX_LINE: usize = 16 * 1024 * 1024;
/// How many line errors (lenient mode) and ticker mismatches are kept with details.
pub const KEEP_DETAILS: usize = 10;

#[derive(Debug, Error)]
pub enum CaptureError {
    #[error("cannot read {source_name}: {source}")]
    Io {
        source_name: String,
        source: io::Error,
    },
    #[error("{source_name}:{line}: {message}")]
    Line {
        source_name: String,
        line: u64,
        message: String,
    },
    #[error("{source_name}:{line}: {source}")]
    Decode {
        source_name: String,
        line: u64,
        source: DecodeError,
    },
}

impl CaptureError {
    pub fn code(&self) -> &'static str {
        match self {
            CaptureError::Io { .. } => "capture.io",
            CaptureError::Line { .. } => "capture.bad_line",
            CaptureError::Decode { .. } => "capture.bad_message",
        }
    }

    /// The 1-based line the error is about, if any.
    pub fn line(&self) -> Option<u64> {
        match self {
            CaptureError::Io { .. } => None,
            CaptureError::Line { line, .. } | CaptureError::Decode { line, .. } => Some(*line),
        }
    }
}

/// One decoded capture line.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureRecord {
    /// 1-based line number.
    pub line: u64,
    /// Local receive time, nanoseconds since 1970.
    pub receive_ns: u64,
    pub message: Message,
}

impl CaptureRecord {
    pub fn receive_ms(&self) -> TimeMs {
        i64::try_from(self.receive_ns / 1_000_000).unwrap_or(i64::MAX)
    }
}

/// Streams a capture. An iterator of `Result<CaptureRecord, CaptureError>`: in strict mode
/// (the default) a bad line is an `Err` item and reading may go on after it; in lenient mode
/// bad lines are skipped and counted. A read error (e.g. a corrupt gzip stream) ends it.
#[derive(Debug)]
pub struct CaptureReader<R> {
    reader: R,
    source_name: String,
    line: u64,
    buf: Vec<u8>,
    lenient: bool,
    max_line: usize,
    skipped: u64,
    errors: Vec<String>,
    done: bool,
}

/// A capture file, decompressed on the fly when it is gzip (recognised by its magic bytes, not
/// its name).
pub type FileReader = CaptureReader<Box<dyn BufRead + Send>>;

impl FileReader {
    pub fn open(path: &Path) -> Result<FileReader, CaptureError> {
        let io_err = |source| CaptureError::Io {
            source_name: path.display().to_string(),
            source,
        };
        let file = File::open(path).map_err(io_err)?;
        let mut raw = BufReader::with_capacity(64 * 1024, file);
        let is_gzip = raw.fill_buf().map_err(io_err)?.starts_with(&[0x1f, 0x8b]);
        let reader: Box<dyn BufRead + Send> = if is_gzip {
            Box::new(BufReader::with_capacity(
                64 * 1024,
                MultiGzDecoder::new(raw),
            ))
        } else {
            Box::new(raw)
        };
        Ok(CaptureReader::new(reader, path.display().to_string()))
    }
}

impl<R: BufRead> CaptureReader<R> {
    /// Read from any buffered reader (already decompressed); `source_name` labels errors.
    pub fn new(reader: R, source_name: impl Into<String>) -> Self {
        CaptureReader {
            reader,
            source_name: source_name.into(),
            line: 0,
            buf: Vec::with_capacity(4096),
            lenient: false,
            max_line: DEFAULT_MAX_LINE,
            skipped: 0,
            errors: Vec::new(),
            done: false,
        }
    }

    /// Skip bad lines (counted in [`CaptureReader::skipped`]) instead of yielding errors.
    pub fn lenient(mut self, lenient: bool) -> Self {
        self.lenient = lenient;
        self
    }

    pub fn max_line_bytes(mut self, max: usize) -> Self {
        self.max_line = max.max(1);
        self
    }

    /// Lines skipped in lenient mode.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// The first few skipped lines' errors.
    pub fn skipped_errors(&self) -> &[String] {
        &self.errors
    }

    /// Lines read so far.
    pub fn lines_read(&self) -> u64 {
        self.line
    }

    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// Read the next line into `buf` (without the line end). `Ok(None)` at the end;
    /// `Ok(Some(false))` when the line was longer than the limit (its bytes are skipped).
    fn read_line(&mut self) -> io::Result<Option<bool>> {
        self.buf.clear();
        let mut fits = true;
        let mut any = false;
        loop {
            let avail = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                return Ok(any.then_some(fits));
            }
            any = true;
            let newline = memchr::memchr(b'\n', avail);
            let chunk = &avail[..newline.unwrap_or(avail.len())];
            if fits {
                if self.buf.len() + chunk.len() > self.max_line {
                    fits = false;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(chunk);
                }
            }
            let used = newline.map_or(avail.len(), |i| i + 1);
            self.reader.consume(used);
            if newline.is_some() {
                return Ok(Some(fits));
            }
        }
    }

    fn parse_line(&self) -> Result<Option<CaptureRecord>, CaptureError> {
        let line_err = |message: String| CaptureError::Line {
            source_name: self.source_name.clone(),
            line: self.line,
            message,
        };
        let mut bytes = self.buf.as_slice();
        if let [rest @ .., b'\r'] = bytes {
            bytes = rest;
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        let Some(space) = bytes.iter().position(|&b| b == b' ') else {
            return Err(line_err(
                "expected '<receive_time_ns> <json>', found no space".into(),
            ));
        };
        let (ts, json) = (&bytes[..space], &bytes[space + 1..]);
        let receive_ns = parse_u64(ts).ok_or_else(|| {
            line_err(format!(
                "expected '<receive_time_ns> <json>': '{}' is not a time in nanoseconds",
                String::from_utf8_lossy(&ts[..ts.len().min(40)])
            ))
        })?;
        let message = binance::decode_slice(json).map_err(|source| CaptureError::Decode {
            source_name: self.source_name.clone(),
            line: self.line,
            source,
        })?;
        Ok(Some(CaptureRecord {
            line: self.line,
            receive_ns,
            message,
        }))
    }

    fn skip(&mut self, e: CaptureError) {
        self.skipped += 1;
        if self.errors.len() < KEEP_DETAILS {
            self.errors.push(e.to_string());
        }
    }
}

fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    s.iter().try_fold(0u64, |acc, &b| {
        b.is_ascii_digit()
            .then(|| acc.checked_mul(10)?.checked_add(u64::from(b - b'0')))
            .flatten()
    })
}

impl<R: BufRead> Iterator for CaptureReader<R> {
    type Item = Result<CaptureRecord, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let fits = match self.read_line() {
                Ok(Some(fits)) => fits,
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(source) => {
                    self.done = true;
                    return Some(Err(CaptureError::Io {
                        source_name: self.source_name.clone(),
                        source,
                    }));
                }
            };
            self.line += 1;
            let parsed = if fits {
                self.parse_line()
            } else {
                Err(CaptureError::Line {
                    source_name: self.source_name.clone(),
                    line: self.line,
                    message: format!("line longer than {} bytes", self.max_line),
                })
            };
            match parsed {
                Ok(Some(rec)) => return Some(Ok(rec)),
                Ok(None) => {}
                Err(e) if self.lenient => self.skip(e),
                Err(e) => return Some(Err(e)),
            }
        }
        None
    }
}

/// Open a capture file (gzip or plain) for streaming.
pub fn open_capture(path: &Path) -> Result<FileReader, CaptureError> {
    FileReader::open(path)
}

// ---------------------------------------------------------------------------------------------
// verify
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, Default)]
pub struct VerifyOptions {
    /// Skip bad lines (counted) instead of failing on the first one.
    pub lenient: bool,
}

/// A bookTicker that disagreed with the rebuilt book at the same update id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TickerMismatch {
    pub line: u64,
    pub update_id: u64,
    pub ticker_bid: Level,
    pub ticker_ask: Level,
    pub book_bid: Option<Level>,
    pub book_ask: Option<Level>,
}

/// What [`verify_capture`] found.
///
/// A `bookTicker`'s `u` is the order-book update id it reflects. The book has an update id
/// only at the end of each applied diff (its `u`) and at the snapshot's `lastUpdateId`, so a
/// ticker is *checkable* when its `u` is one of those; it is checked against the book at that
/// id, whether it arrived after the diff that reached the id or (as usual: the ticker stream is
/// real-time, the diff stream batches every 100 ms) before it. Tickers whose id falls inside a
/// diff's `[U, u)` range, or before the first snapshot, or while the book was lost to a gap, are
/// `book_ticker_unchecked`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyReport {
    pub source: String,
    /// The symbol of the depth stream (from its events and stream names).
    pub symbol: Option<String>,
    pub lines: u64,
    pub skipped_lines: u64,
    pub skipped_errors: Vec<String>,
    pub depth_updates: u64,
    pub book_tickers: u64,
    pub trades: u64,
    pub klines: u64,
    pub snapshots: u64,
    /// Partial-depth (`@depth<N>`) snapshots from the stream: not full books, not used.
    pub partial_depth: u64,
    pub replies: u64,
    pub unknown: u64,
    /// Messages about another symbol than the book's.
    pub other_symbol: u64,
    pub first_receive_ns: Option<u64>,
    pub last_receive_ns: Option<u64>,
    /// Depth diffs applied to the book.
    pub applied: u64,
    /// Depth diffs dropped as older than the book (before the snapshot, duplicates).
    pub dropped: u64,
    /// Sequence breaks (`U != previous u + 1`) after the book was in sync.
    pub gaps: u64,
    pub resyncs: u64,
    pub stale_snapshots: u64,
    /// The book is usable at the end of the capture (synced, and no gap left unrecovered).
    pub in_sync: bool,
    pub state: SyncState,
    pub last_update_id: Option<u64>,
    pub book_ticker_checked: u64,
    pub book_ticker_matched: u64,
    /// Checked tickers that arrived before the book reached their id (before the depth diff,
    /// or the snapshot, that carries it).
    pub book_ticker_checked_early: u64,
    pub book_ticker_unchecked: u64,
    pub mismatches: Vec<TickerMismatch>,
    pub best_bid: Option<Decimal>,
    pub best_bid_qty: Option<Decimal>,
    pub best_ask: Option<Decimal>,
    pub best_ask_qty: Option<Decimal>,
    pub bid_levels: usize,
    pub ask_levels: usize,
}

impl VerifyReport {
    /// Every checked ticker matched and the book is usable at the end.
    pub fn ok(&self) -> bool {
        self.in_sync && self.book_ticker_checked == self.book_ticker_matched
    }
}

/// Most tickers kept waiting for the book to reach their id (oldest given up beyond).
const MAX_PENDING: usize = 100_000;

#[derive(Debug, Default)]
struct TickerCheck {
    /// `(line, ticker)` ordered by update id (tickers normally arrive in id order).
    pending: VecDeque<(u64, BookTicker)>,
    checked: u64,
    matched: u64,
    early: u64,
    unchecked: u64,
    mismatches: Vec<TickerMismatch>,
}

impl TickerCheck {
    fn compare(&mut self, book: &OrderBook, line: u64, t: &BookTicker) {
        self.checked += 1;
        let (bb, ba) = (book.best_bid(), book.best_ask());
        if bb == Some((t.bid, t.bid_qty)) && ba == Some((t.ask, t.ask_qty)) {
            self.matched += 1;
        } else if self.mismatches.len() < KEEP_DETAILS {
            self.mismatches.push(TickerMismatch {
                line,
                update_id: t.update_id,
                ticker_bid: (t.bid, t.bid_qty),
                ticker_ask: (t.ask, t.ask_qty),
                book_bid: bb,
                book_ask: ba,
            });
        }
    }

    /// A ticker arrives; `book` is the usable book, if any.
    fn on_ticker(&mut self, book: Option<&OrderBook>, line: u64, t: BookTicker) {
        match book.map(|b| b.last_update_id) {
            Some(last) if t.update_id == last => {
                if let Some(b) = book {
                    self.compare(b, line, &t);
                }
            }
            Some(last) if t.update_id < last => self.unchecked += 1,
            _ => {
                if self.pending.len() >= MAX_PENDING {
                    self.pending.pop_front();
                    self.unchecked += 1;
                }
                let id = t.update_id;
                if self.pending.back().is_none_or(|(_, b)| b.update_id <= id) {
                    self.pending.push_back((line, t));
                } else {
                    let at = self.pending.partition_point(|(_, p)| p.update_id <= id);
                    self.pending.insert(at, (line, t));
                }
            }
        }
    }

    /// The book reached a new update id.
    fn on_book(&mut self, book: &OrderBook) {
        let last = book.last_update_id;
        while let Some((line, t)) = self.pending.pop_front() {
            if t.update_id > last {
                self.pending.push_front((line, t));
                break;
            }
            if t.update_id == last {
                self.early += 1;
                self.compare(book, line, &t);
            } else {
                self.unchecked += 1;
            }
        }
    }
}

/// Rebuild the order book from a capture file and check it against the bookTickers.
pub fn verify_capture(path: &Path) -> Result<VerifyReport, CaptureError> {
    verify_capture_with(path, VerifyOptions::default())
}

pub fn verify_capture_with(
    path: &Path,
    options: VerifyOptions,
) -> Result<VerifyReport, CaptureError> {
    let reader = FileReader::open(path)?.lenient(options.lenient);
    verify_records(reader)
}

/// [`verify_capture`] over any capture reader.
pub fn verify_records<R: BufRead>(
    mut reader: CaptureReader<R>,
) -> Result<VerifyReport, CaptureError> {
    let mut r = VerifyReport {
        source: reader.source_name().to_string(),
        symbol: None,
        lines: 0,
        skipped_lines: 0,
        skipped_errors: Vec::new(),
        depth_updates: 0,
        book_tickers: 0,
        trades: 0,
        klines: 0,
        snapshots: 0,
        partial_depth: 0,
        replies: 0,
        unknown: 0,
        other_symbol: 0,
        first_receive_ns: None,
        last_receive_ns: None,
        applied: 0,
        dropped: 0,
        gaps: 0,
        resyncs: 0,
        stale_snapshots: 0,
        in_sync: false,
        state: SyncState::WaitingForSnapshot,
        last_update_id: None,
        book_ticker_checked: 0,
        book_ticker_matched: 0,
        book_ticker_checked_early: 0,
        book_ticker_unchecked: 0,
        mismatches: Vec::new(),
        best_bid: None,
        best_bid_qty: None,
        best_ask: None,
        best_ask_qty: None,
        bid_levels: 0,
        ask_levels: 0,
    };
    let mut book: Option<LocalBook> = None;
    // A snapshot seen before the symbol is known (the REST line names none).
    let mut early_snapshot: Option<(DepthSnapshot, TimeMs)> = None;
    let mut check = TickerCheck::default();
    let mut out: Vec<MarketEvent> = Vec::new();

    for rec in reader.by_ref() {
        let rec = rec?;
        r.first_receive_ns.get_or_insert(rec.receive_ns);
        r.last_receive_ns = Some(rec.receive_ns);
        let time_ms = rec.receive_ms();
        let stream_symbol = rec
            .message
            .stream
            .as_deref()
            .and_then(binance::symbol_from_stream);
        match rec.message.payload {
            Payload::DepthUpdate(d) => {
                r.depth_updates += 1;
                let lb = book.get_or_insert_with(|| LocalBook::new(d.symbol.clone()));
                if d.symbol != lb.symbol() {
                    r.other_symbol += 1;
                    continue;
                }
                if let Some((s, t)) = early_snapshot.take() {
                    lb.on_snapshot_observed(s, t, &mut out, |b| check.on_book(b));
                }
                // A gap discards the book (LocalBook reports NeedSnapshot); tickers then wait
                // for a later snapshot, if the capture has one.
                lb.on_diff_observed(d, &mut out, |b| check.on_book(b));
            }
            Payload::BookTicker(t) => {
                r.book_tickers += 1;
                match &book {
                    Some(lb) if lb.symbol() != t.symbol => r.other_symbol += 1,
                    Some(lb) => check.on_ticker(lb.book(), rec.line, t),
                    // No depth event yet: the ticker can only be checked later.
                    None => check.on_ticker(None, rec.line, t),
                }
            }
            Payload::DepthSnapshot(s) => {
                if rec.message.stream.is_some() {
                    r.partial_depth += 1;
                    continue;
                }
                r.snapshots += 1;
                match &mut book {
                    Some(lb) => {
                        lb.on_snapshot_observed(s, time_ms, &mut out, |b| check.on_book(b));
                    }
                    None => early_snapshot = Some((s, time_ms)),
                }
            }
            Payload::Trade(t) => {
                r.trades += 1;
                if book.as_ref().is_some_and(|lb| lb.symbol() != t.symbol) {
                    r.other_symbol += 1;
                }
            }
            Payload::Kline(_) => r.klines += 1,
            Payload::Reply(_) => r.replies += 1,
            Payload::Unknown { .. } => r.unknown += 1,
        }
        if r.symbol.is_none() {
            r.symbol = book
                .as_ref()
                .map(|b| b.symbol().to_string())
                .or(stream_symbol);
        }
        out.clear();
    }
    r.lines = reader.lines_read();
    r.skipped_lines = reader.skipped();
    r.skipped_errors = reader.skipped_errors().to_vec();

    check.unchecked += check.pending.len() as u64;
    r.book_ticker_checked = check.checked;
    r.book_ticker_matched = check.matched;
    r.book_ticker_checked_early = check.early;
    r.book_ticker_unchecked = check.unchecked;
    r.mismatches = check.mismatches;
    if let Some(lb) = &book {
        r.symbol = Some(lb.symbol().to_string());
        let c: BookCounters = lb.counters();
        r.applied = c.applied;
        r.dropped = c.dropped;
        r.gaps = c.gaps;
        r.resyncs = c.resyncs;
        r.stale_snapshots = c.stale_snapshots;
        r.state = lb.state();
        r.in_sync = lb.is_synced();
        r.last_update_id = lb.last_update_id();
        if let Some(b) = lb.book() {
            r.best_bid = b.best_bid().map(|l| l.0);
            r.best_bid_qty = b.best_bid().map(|l| l.1);
            r.best_ask = b.best_ask().map(|l| l.0);
            r.best_ask_qty = b.best_ask().map(|l| l.1);
            r.bid_levels = b.bid_levels();
            r.ask_levels = b.ask_levels();
        }
    }
    Ok(r)
}

/// Read a capture's records as market events (trades, tickers, closed klines; depth is left
/// to [`LocalBook`]); a convenience for replay.
pub fn record_events(rec: CaptureRecord) -> Option<MarketEvent> {
    let time_ms = rec.receive_ms();
    match rec.message.payload {
        Payload::BookTicker(t) => Some(t.into_event(time_ms)),
        Payload::Trade(t) => Some(t.into_event()),
        Payload::Kline(k) => k.into_event(),
        Payload::DepthUpdate(_)
        | Payload::DepthSnapshot(_)
        | Payload::Reply(_)
        | Payload::Unknown { .. } => None,
    }
}

/// A capture reader over bytes already in memory (plain text), for tests and tools.
pub fn from_bytes<'a>(bytes: &'a [u8], source_name: &str) -> CaptureReader<BufReader<&'a [u8]>> {
    CaptureReader::new(BufReader::new(bytes), source_name)
}
