//! [`Ledger`]: the handle, and the dedicated writer thread behind it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use rusqlite::{Connection, TransactionBehavior};
use rust_decimal::Decimal;

use crate::error::StoreError;
use crate::reply::Reply;
use crate::table::exchange_info::{ExchangeInfoRow, NewExchangeInfo};
use crate::table::klines::{KlineFetch, KlineRow, KlinesStored};
use crate::table::memes::{self, MemeRow, NewMeme, UserTemplateRow};
use crate::table::{
    accounts, balance_changes, equity, exchange_info, fills, klines, meta, order_events, orders,
};
use crate::types::{
    AccountRow, BalanceChangeRow, BalanceRow, Batch, EquityPoint, ExportSummary, FillRow,
    LedgerStats, MaxIds, NewAccount, NewBalanceChange, OrderEventRow, OrderFilter, OrderWithState,
    VerifyReport,
};
use crate::{export, reason, schema, verify};

/// At most this many write requests share one transaction.
const MAX_GROUP: usize = 512;

type ReadJob = Box<dyn FnOnce(&Connection) + Send>;

/// A write request: runs inside its own savepoint of the group transaction;
/// its reply is sent only after the group committed (or failed).
trait WriteJob: Send {
    /// Run the write; `true` if it succeeded (its savepoint is released).
    fn apply(&mut self, conn: &Connection) -> bool;
    /// Record an error that happened around `apply` (savepoint handling).
    fn fail(&mut self, e: StoreError);
    /// Send the reply. `commit` is the outcome of the group's COMMIT.
    fn finish(self: Box<Self>, commit: Result<(), &str>);
}

struct Write<T, F> {
    f: Option<F>,
    result: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> WriteJob for Write<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send,
{
    fn apply(&mut self, conn: &Connection) -> bool {
        let Some(f) = self.f.take() else {
            return false;
        };
        let r = f(conn);
        let ok = r.is_ok();
        self.result = Some(r);
        ok
    }

    fn fail(&mut self, e: StoreError) {
        self.f = None;
        self.result = Some(Err(e));
    }

    fn finish(self: Box<Self>, commit: Result<(), &str>) {
        let out = match (self.result, commit) {
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(_)), Err(msg)) | (None, Err(msg)) => {
                Err(StoreError::CommitFailed(msg.to_owned()))
            }
            (Some(Ok(v)), Ok(())) => Ok(v),
            (None, Ok(())) => Err(StoreError::CommitFailed(
                "the write was never applied".to_owned(),
            )),
        };
        // The caller may have dropped its Reply; that is fine.
        let _ = self.reply.send(out);
    }
}

enum Command {
    Read(ReadJob),
    Write(Box<dyn WriteJob>),
    Shutdown,
}

/// Counters shared between the handle and the ledger thread.
#[derive(Debug, Default)]
struct Counters {
    groups: AtomicU64,
    writes: AtomicU64,
}

struct Inner {
    tx: Sender<Command>,
    counters: Arc<Counters>,
    closed: AtomicBool,
    thread: Mutex<Option<JoinHandle<()>>>,
    path: Option<PathBuf>,
}

impl Inner {
    fn stop(&self) -> Result<(), StoreError> {
        self.closed.store(true, Ordering::SeqCst);
        let handle = match self.thread.lock() {
            Ok(mut guard) => guard.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(handle) = handle {
            // If the thread already exited the send fails; nothing to do.
            let _ = self.tx.send(Command::Shutdown);
            if handle.join().is_err() {
                tracing::error!("the ledger thread panicked");
                return Err(StoreError::Closed);
            }
        }
        Ok(())
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// Handle to the append-only SQLite ledger.
///
/// Cheap to clone; all clones share one dedicated OS thread that owns the
/// SQLite connection. Every method returns at once with a [`Reply`]; writes
/// queued at the same time are committed together in one transaction (group
/// commit) and acknowledged only after that commit, with `synchronous=FULL`.
///
/// Dropping the last handle, or calling [`close`](Ledger::close), finishes
/// the queued requests and stops the thread.
#[derive(Clone)]
pub struct Ledger {
    inner: Arc<Inner>,
}

impl fmt::Debug for Ledger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ledger")
            .field("path", &self.inner.path)
            .field("closed", &self.inner.closed.load(Ordering::Relaxed))
            .finish()
    }
}

impl Ledger {
    /// Open (or create) the ledger database file at `path` and bring its
    /// schema up to date. The parent directory must exist.
    ///
    /// Fails with [`StoreError::NewerSchema`], changing nothing, if the file
    /// was written by a newer PaperMemes.
    pub fn open(path: &Path) -> Result<Ledger, StoreError> {
        let conn = schema::open_file(path)?;
        tracing::info!(path = %path.display(), "ledger opened");
        Self::spawn(conn, Some(path.to_path_buf()))
    }

    /// A ledger that lives in memory only (for tests and dry runs).
    pub fn open_in_memory() -> Result<Ledger, StoreError> {
        Self::spawn(schema::open_memory()?, None)
    }

    fn spawn(conn: Connection, path: Option<PathBuf>) -> Result<Ledger, StoreError> {
        let (tx, rx) = crossbeam_channel::unbounded();
        let counters = Arc::new(Counters::default());
        let thread_counters = Arc::clone(&counters);
        let handle = std::thread::Builder::new()
            .name("papermemes-ledger".to_owned())
            .spawn(move || worker(conn, rx, &thread_counters))
            .map_err(|e| StoreError::io(path.clone().unwrap_or_default(), e))?;
        Ok(Ledger {
            inner: Arc::new(Inner {
                tx,
                counters,
                closed: AtomicBool::new(false),
                thread: Mutex::new(Some(handle)),
                path,
            }),
        })
    }

    /// The database file, or `None` for an in-memory ledger.
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    /// How many write requests were committed in how many transactions
    /// (group commit makes `groups` smaller than `writes` under load).
    pub fn stats(&self) -> LedgerStats {
        LedgerStats {
            groups: self.inner.counters.groups.load(Ordering::Relaxed),
            writes: self.inner.counters.writes.load(Ordering::Relaxed),
        }
    }

    /// Finish the queued requests and stop the ledger thread. Later requests
    /// (from any clone) fail with [`StoreError::Closed`]. Idempotent.
    pub fn close(&self) -> Result<(), StoreError> {
        self.inner.stop()
    }

    fn send(&self, cmd: Command) {
        if self.inner.closed.load(Ordering::SeqCst) {
            // Dropping the command drops its reply sender: the Reply answers
            // `Closed`.
            return;
        }
        // On error the command is dropped with the same effect.
        let _ = self.inner.tx.send(cmd);
    }

    fn read<T, F>(&self, f: F) -> Reply<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Read(Box::new(move |conn| {
            let _ = tx.send(f(conn));
        })));
        Reply::new(rx)
    }

    fn write<T, F>(&self, f: F) -> Reply<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Write(Box::new(Write {
            f: Some(f),
            result: None,
            reply: tx,
        })));
        Reply::new(rx)
    }

    /// Create a new account (which becomes the active one) and record its
    /// initial cash as a `deposit` balance change, atomically.
    pub fn create_account(&self, account: NewAccount) -> Reply<AccountRow> {
        self.write(move |conn| {
            let row = accounts::insert(conn, &account)?;
            balance_changes::insert(
                conn,
                &NewBalanceChange {
                    account_id: row.id,
                    asset: row.quote_asset.clone(),
                    free_delta: row.initial_cash,
                    locked_delta: Decimal::ZERO,
                    reason: reason::DEPOSIT.to_owned(),
                    order_id: None,
                    fill_id: None,
                    time_ms: row.created_ms,
                },
            )?;
            Ok(row)
        })
    }

    /// The account with the highest id, if any.
    pub fn active_account(&self) -> Reply<Option<AccountRow>> {
        self.read(accounts::active)
    }

    /// An account by id.
    pub fn account(&self, id: i64) -> Reply<Option<AccountRow>> {
        self.read(move |conn| accounts::get(conn, id))
    }

    /// Like [`create_account`](Ledger::create_account), and in the same transaction set the
    /// `meta` value `key` to the new account's id (e.g. which account a market slot trades).
    pub fn create_account_keyed(&self, account: NewAccount, key: String) -> Reply<AccountRow> {
        self.write(move |conn| {
            let row = accounts::insert(conn, &account)?;
            balance_changes::insert(
                conn,
                &NewBalanceChange {
                    account_id: row.id,
                    asset: row.quote_asset.clone(),
                    free_delta: row.initial_cash,
                    locked_delta: Decimal::ZERO,
                    reason: reason::DEPOSIT.to_owned(),
                    order_id: None,
                    fill_id: None,
                    time_ms: row.created_ms,
                },
            )?;
            meta::upsert(conn, &key, &row.id.to_string())?;
            Ok(row)
        })
    }

    /// Store a batch atomically: all of it or (on any error) none of it.
    /// Invalid input fails with [`StoreError::Invalid`] naming the problem.
    pub fn append(&self, batch: Batch) -> Reply<()> {
        self.write(move |conn| apply_batch(conn, &batch))
    }

    /// Orders of an account with their current state, by id.
    pub fn orders(&self, account_id: i64, filter: OrderFilter) -> Reply<Vec<OrderWithState>> {
        self.read(move |conn| orders::query(conn, account_id, filter))
    }

    /// All status events of an order, oldest first.
    pub fn order_events(&self, order_id: i64) -> Reply<Vec<OrderEventRow>> {
        self.read(move |conn| order_events::for_order(conn, order_id))
    }

    /// Fills of an account, oldest first; with `limit`, only the newest
    /// `limit` fills (still oldest first).
    pub fn fills(&self, account_id: i64, limit: Option<usize>) -> Reply<Vec<FillRow>> {
        self.read(move |conn| fills::for_account(conn, account_id, limit))
    }

    /// All balance changes of an account in the order they were written.
    pub fn balance_changes(&self, account_id: i64) -> Reply<Vec<BalanceChangeRow>> {
        self.read(move |conn| balance_changes::for_account(conn, account_id))
    }

    /// Current balances of an account per asset, derived by exact Decimal
    /// sums of its balance changes; sorted by asset.
    pub fn balances(&self, account_id: i64) -> Reply<Vec<BalanceRow>> {
        self.read(move |conn| balance_changes::balances(conn, account_id))
    }

    /// The equity curve of an account, in time order.
    pub fn equity_points(&self, account_id: i64) -> Reply<Vec<EquityPoint>> {
        self.read(move |conn| equity::for_account(conn, account_id))
    }

    /// A `meta` value.
    pub fn meta(&self, key: &str) -> Reply<Option<String>> {
        let key = key.to_owned();
        self.read(move |conn| meta::get(conn, &key))
    }

    /// Highest order and fill ids in the whole ledger (0 when none).
    pub fn max_ids(&self) -> Reply<MaxIds> {
        self.read(|conn| {
            Ok(MaxIds {
                max_order_id: orders::max_id(conn)?,
                max_fill_id: fills::max_id(conn)?,
            })
        })
    }

    /// Check that balances are derivable from the ledger (see
    /// [`VerifyReport`]). `None` checks every account. Runs on the ledger
    /// thread, so writes wait while it runs.
    pub fn verify(&self, account_id: Option<i64>) -> Reply<VerifyReport> {
        self.read(move |conn| verify::verify(conn, account_id))
    }

    /// Write a consistent copy of the database to `dest` with SQLite's online
    /// backup API. Refuses to overwrite an existing file.
    pub fn backup(&self, dest: &Path) -> Reply<()> {
        let dest = dest.to_path_buf();
        self.read(move |conn| backup(conn, &dest))
    }

    /// Export the ledger (one account, or all with `None`) as CSV files in
    /// `dir` (created if missing; existing files of the same names are
    /// replaced): `accounts.csv`, `orders.csv`, `order_events.csv`,
    /// `fills.csv`, `balance_changes.csv`, `equity.csv`.
    pub fn export_csv(&self, account_id: Option<i64>, dir: &Path) -> Reply<ExportSummary> {
        let dir = dir.to_path_buf();
        self.read(move |conn| export::export_csv(conn, account_id, &dir))
    }

    /// Cache a fetched `exchangeInfo` response (the body must be valid JSON; a bad one is
    /// refused with [`StoreError::Invalid`] and nothing changes). Keeps the newest
    /// [`KEEP_SNAPSHOTS`](crate::KEEP_SNAPSHOTS) fetches.
    pub fn store_exchange_info(&self, info: NewExchangeInfo) -> Reply<ExchangeInfoRow> {
        self.write(move |conn| exchange_info::insert(conn, &info))
    }

    /// The newest cached `exchangeInfo` response, if any.
    pub fn latest_exchange_info(&self) -> Reply<Option<ExchangeInfoRow>> {
        self.read(exchange_info::latest)
    }

    /// How many `exchangeInfo` responses are cached.
    pub fn exchange_info_count(&self) -> Reply<u64> {
        self.read(exchange_info::count)
    }

    /// Cache fetched candles and the range they cover, atomically. Bars already cached are
    /// left as they are. Bars outside the range, or a bad key, are refused and nothing changes.
    pub fn store_klines(&self, fetch: KlineFetch) -> Reply<KlinesStored> {
        self.write(move |conn| klines::store(conn, &fetch))
    }

    /// Cached candles of `symbol` and `interval` with `from_ms <= open time < to_ms`.
    pub fn klines(
        &self,
        symbol: &str,
        interval: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Reply<Vec<KlineRow>> {
        let (symbol, interval) = (symbol.to_owned(), interval.to_owned());
        self.read(move |conn| klines::range(conn, &symbol, &interval, from_ms, to_ms))
    }

    /// The open-time ranges `[from_ms, to_ms)` of `symbol` and `interval` that were fetched
    /// completely, sorted and disjoint.
    pub fn kline_ranges(&self, symbol: &str, interval: &str) -> Reply<Vec<(i64, i64)>> {
        let (symbol, interval) = (symbol.to_owned(), interval.to_owned());
        self.read(move |conn| klines::ranges(conn, &symbol, &interval))
    }

    /// Add a meme to the gallery (its file is already written). Returns the stored row.
    pub fn insert_meme(&self, meme: NewMeme) -> Reply<MemeRow> {
        self.write(move |conn| memes::insert_meme(conn, &meme))
    }

    /// Gallery memes, newest first; `search` keeps those whose title or template id contain
    /// every word (case-insensitive).
    pub fn memes(&self, search: Option<&str>, limit: usize) -> Reply<Vec<MemeRow>> {
        let search = search.map(str::to_owned);
        self.read(move |conn| memes::list_memes(conn, search.as_deref(), limit))
    }

    /// One gallery meme.
    pub fn meme(&self, id: i64) -> Reply<Option<MemeRow>> {
        self.read(move |conn| memes::get_meme(conn, id))
    }

    /// Remove a meme's row; returns what was removed (`None`: no such meme).
    pub fn delete_meme(&self, id: i64) -> Reply<Option<MemeRow>> {
        self.write(move |conn| memes::delete_meme(conn, id))
    }

    /// Record an imported template (its folder is already in place).
    pub fn insert_user_template(&self, row: UserTemplateRow) -> Reply<()> {
        self.write(move |conn| memes::insert_user_template(conn, &row))
    }

    /// The imported templates, oldest first.
    pub fn user_templates(&self) -> Reply<Vec<UserTemplateRow>> {
        self.read(memes::user_templates)
    }

    /// Whether an imported template has this id.
    pub fn has_user_template(&self, id: &str) -> Reply<bool> {
        let id = id.to_owned();
        self.read(move |conn| memes::has_user_template(conn, &id))
    }

    /// Forget an imported template; `false` when there was none.
    pub fn delete_user_template(&self, id: &str) -> Reply<bool> {
        let id = id.to_owned();
        self.write(move |conn| memes::delete_user_template(conn, &id))
    }
}

fn apply_batch(conn: &Connection, b: &Batch) -> Result<(), StoreError> {
    for o in &b.orders {
        orders::insert(conn, o)?;
    }
    for e in &b.events {
        order_events::insert(conn, e)?;
    }
    for f in &b.fills {
        fills::insert(conn, f)?;
    }
    for c in &b.balance_changes {
        balance_changes::insert(conn, c)?;
    }
    for p in &b.equity {
        equity::insert(conn, p)?;
    }
    for (k, v) in &b.meta {
        meta::upsert(conn, k, v)?;
    }
    Ok(())
}

fn backup(conn: &Connection, dest: &Path) -> Result<(), StoreError> {
    // create_new reserves the name atomically: never overwrite anything.
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dest)
    {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(StoreError::Invalid(format!(
                "backup destination {} already exists",
                dest.display()
            )))
        }
        Err(e) => return Err(StoreError::io(dest, e)),
    }
    let result = (|| -> Result<(), StoreError> {
        let mut dst = Connection::open(dest)?;
        {
            let b = rusqlite::backup::Backup::new(conn, &mut dst)?;
            b.run_to_completion(1024, Duration::ZERO, None)?;
        }
        dst.close().map_err(|(_, e)| StoreError::Sqlite(e))?;
        Ok(())
    })();
    if result.is_err() {
        // Do not leave a half-written backup behind.
        let _ = std::fs::remove_file(dest);
    } else {
        tracing::info!(dest = %dest.display(), "ledger backup written");
    }
    result
}

fn worker(mut conn: Connection, rx: Receiver<Command>, counters: &Counters) {
    let mut pending: Option<Command> = None;
    let mut stopping = false;
    loop {
        let cmd = match pending.take() {
            Some(c) => c,
            None if stopping => match rx.try_recv() {
                Ok(c) => c,
                Err(_) => break,
            },
            None => match rx.recv() {
                Ok(c) => c,
                Err(_) => break,
            },
        };
        match cmd {
            Command::Shutdown => stopping = true,
            Command::Read(job) => job(&conn),
            Command::Write(first) => {
                let mut group = vec![first];
                while group.len() < MAX_GROUP {
                    match rx.try_recv() {
                        Ok(Command::Write(w)) => group.push(w),
                        Ok(other) => {
                            pending = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                commit_group(&mut conn, group, counters);
            }
        }
    }
    tracing::debug!("ledger thread stopped");
}

/// Run a group of writes in one transaction, one savepoint each, commit, and
/// only then answer them.
fn commit_group(conn: &mut Connection, mut group: Vec<Box<dyn WriteJob>>, counters: &Counters) {
    let outcome = (|| -> Result<(), StoreError> {
        let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for job in group.iter_mut() {
            let sp = match tx.savepoint() {
                Ok(sp) => sp,
                Err(e) => {
                    job.fail(e.into());
                    continue;
                }
            };
            if job.apply(&sp) {
                if let Err(e) = sp.commit() {
                    job.fail(e.into());
                }
            } else if let Err(e) = sp.finish() {
                // Dropping/finishing an uncommitted savepoint rolls it back.
                tracing::error!(error = %e, "rolling back a failed write failed");
                return Err(e.into());
            }
        }
        tx.commit()?;
        Ok(())
    })();
    let commit = outcome.as_ref().map(|_| ()).map_err(|e| e.to_string());
    if let Err(msg) = &commit {
        tracing::error!(error = %msg, writes = group.len(), "ledger group commit failed");
    } else {
        tracing::trace!(writes = group.len(), "ledger group committed");
        counters.groups.fetch_add(1, Ordering::Relaxed);
        counters
            .writes
            .fetch_add(group.len() as u64, Ordering::Relaxed);
    }
    for job in group {
        job.finish(commit.as_ref().map(|_| ()).map_err(String::as_str));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{NewOrderEvent, OrderRow, OrderStatus, Side};

    fn order(id: i64, account_id: i64) -> OrderRow {
        OrderRow {
            id,
            account_id,
            client_order_id: None,
            symbol: "PEPEUSDT".into(),
            side: Side::Buy,
            order_type: "MARKET".into(),
            time_in_force: None,
            quantity: Some(Decimal::ONE),
            quote_quantity: None,
            price: None,
            stop_price: None,
            list_id: None,
            created_ms: 1,
        }
    }

    /// Hold the ledger thread busy so that both writes are queued, then
    /// check that they land in one group and only the bad one fails.
    #[test]
    fn one_bad_write_does_not_spoil_its_group() -> Result<(), StoreError> {
        let ledger = Ledger::open_in_memory()?;
        let account = ledger
            .create_account(NewAccount {
                name: "a".into(),
                quote_asset: "USDT".into(),
                created_ms: 0,
                maker_fee_bps: Decimal::ZERO,
                taker_fee_bps: Decimal::ZERO,
                initial_cash: Decimal::ONE_HUNDRED,
            })
            .wait()?;
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let busy = ledger.read(move |conn| {
            let _ = started_tx.send(());
            std::thread::sleep(Duration::from_millis(200));
            Ok(conn.is_autocommit())
        });
        started_rx
            .recv_timeout(Duration::from_secs(5))
            .map_err(|_| StoreError::Closed)?;
        let good = ledger.append(Batch {
            orders: vec![order(1, account.id)],
            events: vec![NewOrderEvent {
                order_id: 1,
                time_ms: 1,
                status: OrderStatus::New,
                executed_qty: Decimal::ZERO,
                cumulative_quote_qty: Decimal::ZERO,
                reason: None,
            }],
            ..Batch::default()
        });
        let bad = ledger.append(Batch {
            orders: vec![order(2, account.id), order(2, account.id)],
            ..Batch::default()
        });
        let stats_before = ledger.stats();
        busy.wait()?;
        good.wait()?;
        match bad.wait() {
            Err(StoreError::Invalid(msg)) => assert_eq!(msg, "order 2 already exists"),
            other => panic!("expected Invalid, got {other:?}"),
        }
        // Both writes went through one transaction.
        let stats = ledger.stats();
        assert_eq!(stats.groups - stats_before.groups, 1);
        assert_eq!(stats.writes - stats_before.writes, 2);
        let orders = ledger.orders(account.id, OrderFilter::All).wait()?;
        assert_eq!(orders.len(), 1);
        assert_eq!(orders[0].order.id, 1);
        Ok(())
    }
}
