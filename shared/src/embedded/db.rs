//! The SQLite connection layer. All writes go through one writer thread that drains whatever
//! is waiting and commits it in one transaction (group commit): throughput comes from sharing
//! one commit between many callers, not from weakening durability. Reads use a small pool of
//! WAL reader connections so they never wait behind the writer.

use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};
use tokio::sync::oneshot;

type Reply = Box<dyn FnOnce(bool) + Send>;
type Job = Box<dyn FnOnce(&Connection) -> Reply + Send>;

/// Most jobs folded into one transaction; bounds the latency one commit adds to the first.
const MAX_BATCH: usize = 512;
const READERS: usize = 4;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS items (
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    data TEXT NOT NULL,
    version INTEGER NOT NULL,
    due_at INTEGER,
    expires_at INTEGER,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
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
    writer: Mutex<mpsc::Sender<Job>>,
    readers: Mutex<Vec<Connection>>,
    path: PathBuf,
}

fn open_conn(path: &Path, read_only: bool) -> rusqlite::Result<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // WAL + synchronous=NORMAL: a commit survives a killed process (the OS has it); only a
    // power loss can drop the last commits, which SQLite documents for this mode.
    conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-32000;")?;
    Ok(conn)
}

impl Db {
    /// Opens (creating if needed) `ringhook.db` in `dir`.
    pub fn open_dir(dir: &Path) -> Result<Self, DbError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| DbError::Sqlite(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))?;
        Self::open(&dir.join("ringhook.db"))
    }

    pub fn open(path: &Path) -> Result<Self, DbError> {
        let writer_conn = open_conn(path, false)?;
        writer_conn.pragma_update(None, "journal_mode", "WAL")?;
        writer_conn.execute_batch(SCHEMA)?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            readers.push(open_conn(path, true)?);
        }
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("ringhook-sqlite-writer".into())
            .spawn(move || writer_loop(writer_conn, rx))
            .expect("spawn sqlite writer thread");
        Ok(Self {
            inner: Arc::new(Inner { writer: Mutex::new(tx), readers: Mutex::new(readers), path: path.to_path_buf() }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` inside the next group-commit transaction (in its own savepoint, so a failing job
    /// rolls back alone) and answers once the transaction has committed.
    pub async fn write<R, F>(&self, f: F) -> Result<R, DbError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<R> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<R, DbError>>();
        let job: Job = Box::new(move |conn: &Connection| {
            let result = run_in_savepoint(conn, f);
            Box::new(move |committed: bool| {
                let answer = match result {
                    Ok(r) if committed => Ok(r),
                    Ok(_) => Err(DbError::Closed),
                    Err(e) => Err(DbError::Sqlite(e)),
                };
                let _ = tx.send(answer);
            })
        });
        self.inner.writer.lock().expect("writer lock").send(job).map_err(|_| DbError::Closed)?;
        rx.await.map_err(|_| DbError::Closed)?
    }

    /// Runs `f` on a reader connection, off the async worker threads.
    pub async fn read<R, F>(&self, f: F) -> Result<R, DbError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<R> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let conn = inner.readers.lock().expect("reader pool").pop();
            let conn = match conn {
                Some(c) => c,
                None => open_conn(&inner.path, true)?,
            };
            let result = f(&conn);
            let mut pool = inner.readers.lock().expect("reader pool");
            if pool.len() < READERS {
                pool.push(conn);
            }
            result.map_err(DbError::from)
        })
        .await
        .map_err(|_| DbError::Closed)?
    }
}

fn run_in_savepoint<R>(conn: &Connection, f: impl FnOnce(&Connection) -> rusqlite::Result<R>) -> rusqlite::Result<R> {
    conn.execute_batch("SAVEPOINT job")?;
    match f(conn) {
        Ok(r) => {
            conn.execute_batch("RELEASE job")?;
            Ok(r)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
            Err(e)
        }
    }
}

fn writer_loop(conn: Connection, rx: mpsc::Receiver<Job>) {
    let mut replies: Vec<Reply> = Vec::with_capacity(MAX_BATCH);
    while let Ok(first) = rx.recv() {
        let began = conn.execute_batch("BEGIN IMMEDIATE").is_ok();
        replies.push(first(&conn));
        while replies.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => replies.push(job(&conn)),
                Err(_) => break,
            }
        }
        let committed = began && conn.execute_batch("COMMIT").is_ok();
        if !committed {
            let _ = conn.execute_batch("ROLLBACK");
            tracing::error!("sqlite group commit failed; {} operations answered with an error", replies.len());
        }
        for reply in replies.drain(..) {
            reply(committed);
        }
    }
}
