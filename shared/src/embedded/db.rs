//! The SQLite connection layer. All writes go through one writer thread that drains whatever
//! is waiting and commits it in one transaction (group commit): throughput comes from sharing
//! one commit between many callers, not from weakening durability. Reads use WAL reader
//! connections so they never wait behind the writer.
//!
//! Where the time goes, and what keeps it small (see docs/performance.md):
//! - the writer's own statements (BEGIN, COMMIT) are prepared once, and jobs run without a
//!   savepoint each: should one fail (an I/O error, a full disk), the whole transaction is rolled
//!   back and every job of it runs again, this time each in its own savepoint, so the failure
//!   stays with its job exactly as if savepoints had been used all along;
//! - under concurrent load the writer lingers a moment (LINGER) before committing a small
//!   group, so that one commit serves more callers: fewer, larger WAL writes;
//! - WAL checkpoints (copying the log into the database file, with its fsyncs) run on a
//!   background thread, not inside the writer's commits. Only the writer can start the log
//!   over, and only once everything in it has been copied, so when the log has grown the
//!   background thread asks the writer to copy the last few frames between two transactions;
//!   its next transaction then writes from the top of the log again;
//! - reads run on a fixed set of reader threads with their own connections (never a connection
//!   opened per read), and point reads (`read_inline`) run on the caller's thread when a
//!   connection is free: a primary-key lookup is cheaper than the two thread switches a
//!   hand-off costs.

use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

type Job = Box<dyn WriteJob>;
type ReadJob = Box<dyn FnOnce(&Connection) + Send>;

enum ToWriter {
    Job(Job),
    /// Finish the checkpoint (between transactions) so the WAL can start over.
    Checkpoint,
}

/// Most jobs folded into one transaction; bounds the latency one commit adds to the first.
const MAX_BATCH: usize = 512;
/// Commits are the writer's main cost (each writes every page it touched to the WAL, and
/// takes the WAL's locks), and a pipeline stage makes a dozen small writes per event. So when
/// the last transaction served more than one caller (writes are arriving concurrently), the
/// writer waits up to this long for more before committing a small group. Under light load
/// (one caller at a time) it commits at once.
const LINGER: Duration = Duration::from_micros(200);
/// No waiting once a group has this many jobs.
const LINGER_MAX_JOBS: usize = 32;
/// Reader threads (queries, listings) and connections kept for inline point reads.
const READER_THREADS: usize = 2;
const INLINE_READERS: usize = 4;
/// How often the background checkpointer copies the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
/// A WAL this long (frames of one page, ~16 MB) is started over (see the module notes).
const RESTART_WAL_FRAMES: i64 = 4096;
/// The writer checkpoints by itself only if the background checkpointer falls this far behind
/// (pages, ~64 MB): a bound on the WAL's size, not the normal path.
const WRITER_AUTOCHECKPOINT_PAGES: i64 = 16_384;

const SCHEMA: &str = r#"
-- A rowid table with the JSON document last: items are 0.2-2 KB, which a WITHOUT ROWID table
-- (a key-only b-tree) spills to a 4 KB overflow page per row, read again by every version
-- check; here they sit in the leaf pages and the small columns come before the document.
-- (Files created by earlier builds keep their WITHOUT ROWID table: every statement works on
-- both layouts.)
CREATE TABLE IF NOT EXISTS items (
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    version INTEGER NOT NULL,
    due_at INTEGER,
    expires_at INTEGER,
    data TEXT NOT NULL,
    UNIQUE (pk, sk)
);
CREATE INDEX IF NOT EXISTS items_due ON items(due_at) WHERE due_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS queue_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    body TEXT NOT NULL,
    visible_at INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt TEXT,
    dead INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS queue_ready ON queue_messages(queue, dead, visible_at);
CREATE TABLE IF NOT EXISTS bus_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time_ms INTEGER NOT NULL,
    tenant_id TEXT NOT NULL,
    detail_type TEXT NOT NULL,
    detail TEXT NOT NULL
);
"#;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database writer stopped")]
    Closed,
}

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Mutex<mpsc::Sender<ToWriter>>,
    readers: Mutex<mpsc::Sender<ReadJob>>,
    /// Idle connections for inline point reads.
    inline: Mutex<Vec<Connection>>,
    path: PathBuf,
    /// Dropping it (with the last `Db`) stops the checkpointer.
    _checkpointer: Mutex<mpsc::Sender<()>>,
}

/// How far a commit is on disk when its caller is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// WAL with `synchronous=NORMAL`: a commit survives a killed process (the OS has it); a
    /// power loss or kernel crash can drop the last commits, as SQLite documents for this mode.
    Normal,
    /// WAL with `synchronous=FULL`: every commit (one per group of writes) is fsynced before
    /// its callers are answered, so it survives a power loss too. The default: it costs about
    /// 10% of throughput with group commit (docs/performance.md).
    #[default]
    Full,
}

/// How the writer commits: see [`Durability`] and `commit_window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriteOptions {
    pub durability: Durability,
    /// When set, the writer waits up to this long for more writes before every commit (up to
    /// `LINGER_MAX_JOBS` of them), not only while writes arrive concurrently (`LINGER`): at
    /// low rates more callers share a commit (its fsync, its WAL pages, its wake-ups), for
    /// less CPU per write and more latency (docs/performance.md).
    pub commit_window: Option<Duration>,
}

impl Durability {
    fn pragma(self) -> &'static str {
        match self {
            Durability::Normal => "NORMAL",
            Durability::Full => "FULL",
        }
    }
}

fn open_conn(path: &Path, read_only: bool) -> rusqlite::Result<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // The writer's synchronous setting is its durability (`Db::open_with`); readers never commit.
    conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-32000;")?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

impl Db {
    /// Opens (creating if needed) `ringhook.db` in `dir`.
    pub fn open_dir(dir: &Path) -> Result<Self, DbError> {
        Self::open_dir_with(dir, WriteOptions::default())
    }

    pub fn open_dir_with(dir: &Path, options: WriteOptions) -> Result<Self, DbError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| DbError::Sqlite(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))?;
        Self::open_with(&Self::file_in(dir), options)
    }

    /// The database file of a data directory.
    pub fn file_in(dir: &Path) -> PathBuf {
        dir.join("ringhook.db")
    }

    pub fn open(path: &Path) -> Result<Self, DbError> {
        Self::open_with(path, WriteOptions::default())
    }

    pub fn open_with(path: &Path, options: WriteOptions) -> Result<Self, DbError> {
        let writer_conn = open_conn(path, false)?;
        writer_conn.pragma_update(None, "journal_mode", "WAL")?;
        writer_conn.pragma_update(None, "synchronous", options.durability.pragma())?;
        writer_conn.execute_batch(SCHEMA)?;
        writer_conn.pragma_update(None, "wal_autocheckpoint", WRITER_AUTOCHECKPOINT_PAGES)?;
        let checkpoint_conn = open_conn(path, false)?;
        // Only ever used for checkpoints.
        checkpoint_conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let mut reader_conns = Vec::with_capacity(READER_THREADS);
        for _ in 0..READER_THREADS {
            reader_conns.push(open_conn(path, true)?);
        }
        let mut inline = Vec::with_capacity(INLINE_READERS);
        for _ in 0..INLINE_READERS {
            inline.push(open_conn(path, true)?);
        }

        let (tx, rx) = mpsc::channel::<ToWriter>();
        let checkpoint_requested = Arc::new(AtomicBool::new(false));
        let requested = checkpoint_requested.clone();
        std::thread::Builder::new()
            .name("rh-sql-writer".into())
            .spawn(move || writer_loop(writer_conn, rx, requested, options.commit_window))
            .expect("spawn sqlite writer thread");

        let (read_tx, read_rx) = mpsc::channel::<ReadJob>();
        let read_rx = Arc::new(Mutex::new(read_rx));
        for (i, conn) in reader_conns.into_iter().enumerate() {
            let rx = read_rx.clone();
            std::thread::Builder::new()
                .name(format!("rh-sql-reader-{i}"))
                .spawn(move || reader_loop(conn, rx))
                .expect("spawn sqlite reader thread");
        }

        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let writer = tx.clone();
        std::thread::Builder::new()
            .name("rh-sql-ckpt".into())
            .spawn(move || checkpoint_loop(checkpoint_conn, stop_rx, writer, checkpoint_requested))
            .expect("spawn sqlite checkpoint thread");

        Ok(Self {
            inner: Arc::new(Inner {
                writer: Mutex::new(tx),
                readers: Mutex::new(read_tx),
                inline: Mutex::new(inline),
                path: path.to_path_buf(),
                _checkpointer: Mutex::new(stop_tx),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` inside the next group-commit transaction and answers once the transaction has
    /// committed. A failing `f` rolls back alone (its changes are undone, other jobs of the
    /// transaction commit). `f` may run more than once (see the module notes): it must only
    /// touch the database.
    pub async fn write<R, F>(&self, f: F) -> Result<R, DbError>
    where
        R: Send + 'static,
        F: Fn(&Connection) -> rusqlite::Result<R> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<R, DbError>>();
        let job: Job = Box::new(Pending { f, result: None, tx });
        self.inner.writer.lock().expect("writer lock").send(ToWriter::Job(job)).map_err(|_| DbError::Closed)?;
        rx.await.map_err(|_| DbError::Closed)?
    }

    /// Runs `f` on a reader connection on one of the reader threads (for queries that may take
    /// a while: listings, scans).
    pub async fn read<R, F>(&self, f: F) -> Result<R, DbError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<R> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<R, DbError>>();
        let job: ReadJob = Box::new(move |conn: &Connection| {
            let _ = tx.send(f(conn).map_err(DbError::from));
        });
        self.inner.readers.lock().expect("reader queue").send(job).map_err(|_| DbError::Closed)?;
        rx.await.map_err(|_| DbError::Closed)?
    }

    /// Runs `f` (a point read: a few microseconds) on the calling thread with an idle reader
    /// connection; when none is idle, on a reader thread like `read`.
    pub async fn read_inline<R, F>(&self, f: F) -> Result<R, DbError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<R> + Send + 'static,
    {
        let conn = self.inner.inline.lock().expect("inline readers").pop();
        let Some(conn) = conn else { return self.read(f).await };
        let result = f(&conn);
        self.inner.inline.lock().expect("inline readers").push(conn);
        result.map_err(DbError::from)
    }
}

/// One caller's write, waiting in the writer's queue.
trait WriteJob: Send {
    /// Runs the job's statements in the open transaction; false if they failed.
    fn run(&mut self, conn: &Connection) -> bool;
    /// The same, in a savepoint of its own, so a failure undoes only this job.
    fn run_alone(&mut self, conn: &Connection);
    /// Answers the caller: its result if the transaction committed.
    fn answer(self: Box<Self>, committed: bool);
}

struct Pending<R, F> {
    f: F,
    result: Option<rusqlite::Result<R>>,
    tx: oneshot::Sender<Result<R, DbError>>,
}

impl<R, F> WriteJob for Pending<R, F>
where
    R: Send,
    F: Fn(&Connection) -> rusqlite::Result<R> + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let result = (self.f)(conn);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn run_alone(&mut self, conn: &Connection) {
        self.result = Some(run_in_savepoint(conn, &self.f));
    }

    fn answer(self: Box<Self>, committed: bool) {
        let answer = match self.result {
            Some(Ok(r)) if committed => Ok(r),
            Some(Err(e)) => Err(DbError::Sqlite(e)),
            Some(Ok(_)) | None => Err(DbError::Closed),
        };
        let _ = self.tx.send(answer);
    }
}

fn run_in_savepoint<R>(conn: &Connection, f: impl Fn(&Connection) -> rusqlite::Result<R>) -> rusqlite::Result<R> {
    conn.prepare_cached("SAVEPOINT job")?.execute([])?;
    match f(conn) {
        Ok(r) => {
            conn.prepare_cached("RELEASE job")?.execute([])?;
            Ok(r)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
            Err(e)
        }
    }
}

fn exec_cached(conn: &Connection, sql: &str) -> bool {
    conn.prepare_cached(sql).and_then(|mut s| s.execute([])).is_ok()
}

fn writer_loop(
    conn: Connection,
    rx: mpsc::Receiver<ToWriter>,
    checkpoint_requested: Arc<AtomicBool>,
    commit_window: Option<Duration>,
) {
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut checkpoint = false;
    let mut previous_group = 0;
    while let Ok(msg) = rx.recv() {
        if checkpoint {
            checkpoint = false;
            finish_checkpoint(&conn, &checkpoint_requested);
        }
        let first = match msg {
            ToWriter::Job(job) => job,
            ToWriter::Checkpoint => {
                finish_checkpoint(&conn, &checkpoint_requested);
                continue;
            }
        };
        jobs.push(first);
        if !exec_cached(&conn, "BEGIN IMMEDIATE") {
            tracing::error!("sqlite could not begin a transaction; an operation is answered with an error");
            for job in jobs.drain(..) {
                job.answer(false);
            }
            continue;
        }
        // Fast path: every job straight into the transaction, taking whatever else is waiting.
        // When writes are arriving from many callers, wait a moment for the next one before
        // committing (see LINGER).
        let mut all_ok = jobs[0].run(&conn);
        let linger_until = match commit_window {
            Some(window) => Some(Instant::now() + window),
            None => (previous_group > 1).then(|| Instant::now() + LINGER),
        };
        while all_ok && jobs.len() < MAX_BATCH {
            let next = match rx.try_recv() {
                Ok(msg) => Some(msg),
                Err(mpsc::TryRecvError::Empty) => match linger_until {
                    Some(until) if jobs.len() < LINGER_MAX_JOBS => {
                        let now = Instant::now();
                        if now >= until {
                            None
                        } else {
                            rx.recv_timeout(until - now).ok()
                        }
                    }
                    _ => None,
                },
                Err(mpsc::TryRecvError::Disconnected) => None,
            };
            match next {
                Some(ToWriter::Job(mut job)) => {
                    all_ok = job.run(&conn);
                    jobs.push(job);
                }
                Some(ToWriter::Checkpoint) => checkpoint = true,
                None => break,
            }
        }
        previous_group = jobs.len();
        // A job failed: undo everything and run the same jobs again, each in a savepoint.
        if !all_ok {
            // (Some errors end the transaction by themselves; then the ROLLBACK has nothing to do.)
            let _ = exec_cached(&conn, "ROLLBACK");
            let redo = exec_cached(&conn, "BEGIN IMMEDIATE");
            if redo {
                for job in jobs.iter_mut() {
                    job.run_alone(&conn);
                }
            } else {
                let _ = conn.execute_batch("ROLLBACK");
                tracing::error!(
                    "sqlite could not restart a transaction; {} operations answered with an error",
                    jobs.len()
                );
                for job in jobs.drain(..) {
                    job.answer(false);
                }
                continue;
            }
        }
        let committed = exec_cached(&conn, "COMMIT");
        if !committed {
            let _ = conn.execute_batch("ROLLBACK");
            tracing::error!("sqlite group commit failed; {} operations answered with an error", jobs.len());
        }
        for job in jobs.drain(..) {
            job.answer(committed);
        }
        if checkpoint {
            checkpoint = false;
            finish_checkpoint(&conn, &checkpoint_requested);
        }
    }
}

/// On the writer, between transactions: copies what the background checkpointer has not yet
/// copied (a few frames), so that the next transaction starts the WAL over.
fn finish_checkpoint(conn: &Connection, requested: &AtomicBool) {
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
        tracing::warn!(error = %e, "WAL checkpoint on the writer failed");
    }
    requested.store(false, Ordering::Release);
}

fn reader_loop(conn: Connection, rx: Arc<Mutex<mpsc::Receiver<ReadJob>>>) {
    loop {
        let job = match rx.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(&conn),
            Err(_) => return,
        }
    }
}

/// Copies committed WAL frames into the database file off the writer's path. PASSIVE never
/// blocks the writer or readers; the writer restarts the WAL from the top once everything in
/// it has been copied.
fn checkpoint_loop(
    conn: Connection,
    stop: mpsc::Receiver<()>,
    writer: mpsc::Sender<ToWriter>,
    requested: Arc<AtomicBool>,
) {
    loop {
        match stop.recv_timeout(CHECKPOINT_EVERY) {
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            _ => return,
        }
        // (busy, frames in the WAL, frames copied)
        match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1)) {
            Ok(frames) if frames >= RESTART_WAL_FRAMES && !requested.swap(true, Ordering::AcqRel) => {
                if writer.send(ToWriter::Checkpoint).is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "background WAL checkpoint failed; the writer will checkpoint"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_db(name: &str) -> (Db, PathBuf) {
        let dir = std::env::temp_dir().join(format!("ringhook-db-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        (Db::open_dir(&dir).expect("open"), dir)
    }

    /// With a commit window, a write waits for the next one (from another caller) to share its
    /// commit: the first is answered only after the second arrived. Without one, a lone write
    /// is committed at once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_commit_window_lets_a_later_write_share_the_commit() {
        let dir = std::env::temp_dir().join(format!("ringhook-db-test-window-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let options = WriteOptions { durability: Durability::Full, commit_window: Some(Duration::from_millis(500)) };
        let db = Db::open_dir_with(&dir, options).unwrap();
        db.write(|c| c.execute_batch("CREATE TABLE w (x INTEGER)")).await.unwrap();
        let first = {
            let db = db.clone();
            tokio::spawn(async move {
                db.write(|c| c.execute("INSERT INTO w VALUES (1)", [])).await.unwrap();
                Instant::now()
            })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        let second_sent = Instant::now();
        db.write(|c| c.execute("INSERT INTO w VALUES (2)", [])).await.unwrap();
        let first_answered = first.await.unwrap();
        assert!(first_answered >= second_sent, "the first write was committed before the second arrived");
        let rows = db.write(|c| c.query_row("SELECT COUNT(*) FROM w", [], |r| r.get::<_, i64>(0))).await.unwrap();
        assert_eq!(rows, 2);
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The writer commits with the durability asked for (SQLite: NORMAL = 1, FULL = 2).
    #[tokio::test(flavor = "current_thread")]
    async fn the_writer_commits_with_the_durability_asked_for() {
        for (d, pragma) in [(Durability::Normal, 1), (Durability::Full, 2)] {
            let dir = std::env::temp_dir().join(format!("ringhook-db-test-sync-{pragma}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let db = Db::open_dir_with(&dir, WriteOptions { durability: d, commit_window: None }).unwrap();
            let got = db.write(|c| c.query_row("PRAGMA synchronous", [], |r| r.get::<_, i64>(0))).await.unwrap();
            assert_eq!(got, pragma, "{d:?}");
            drop(db);
            let _ = std::fs::remove_dir_all(&dir);
        }
    }

    /// Jobs that share a transaction with a failing one commit; the failing one's partial
    /// changes do not (the slow path re-runs the group in savepoints).
    #[tokio::test(flavor = "current_thread")]
    async fn a_failing_job_rolls_back_alone() {
        let (db, dir) = temp_db("rollback");
        db.write(|c| c.execute_batch("CREATE TABLE t (x INTEGER UNIQUE)")).await.unwrap();
        let writes = (0..100i64).map(|i| {
            let db = db.clone();
            async move {
                db.write(move |c| {
                    c.execute("INSERT INTO t (x) VALUES (?1)", [i * 2])?;
                    // Job 37 inserts its row, then fails on a duplicate.
                    let second = if i == 37 { 0 } else { i * 2 + 1 };
                    c.execute("INSERT INTO t (x) VALUES (?1)", [second])
                })
                .await
            }
        });
        let results = futures::future::join_all(writes).await;
        for (i, r) in results.iter().enumerate() {
            assert_eq!(r.is_err(), i == 37, "job {i}: {r:?}");
        }
        let rows: Vec<i64> =
            db.read(|c| c.prepare("SELECT x FROM t ORDER BY x")?.query_map([], |r| r.get(0))?.collect()).await.unwrap();
        let expected: Vec<i64> = (0..200).filter(|x| *x != 74 && *x != 75).collect();
        assert_eq!(rows, expected);
        // Inline reads see committed data too.
        let n: i64 = db.read_inline(|c| c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))).await.unwrap();
        assert_eq!(n, 198);
        drop(db);
        let _ = std::fs::remove_dir_all(dir);
    }
}
