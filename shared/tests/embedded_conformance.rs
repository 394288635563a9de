//! The store and queue conformance suite on the embedded SQLite backend (the AWS backend runs
//! the same suite in `aws_backend.rs`).

use ringhook::conformance::{self, ManualQueueEnv};
use ringhook::embedded::{Db, SqliteQueue, SqliteStore};
use ringhook::ports::ManualClock;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_backend_passes_the_conformance_suite() {
    let dir = std::env::temp_dir().join(format!("ringhook-conformance-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let db = Db::open_dir(&dir).expect("open sqlite");
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let store = Arc::new(SqliteStore::new(db.clone(), clock.clone()));
    // Twice: the suite needs no clean store.
    conformance::store_suite(store.clone(), clock.clone()).await;
    conformance::store_suite(store, clock.clone()).await;
    let queue = Arc::new(SqliteQueue::new(db, clock.clone(), 5));
    conformance::queue_suite(queue, &ManualQueueEnv { clock, max_receives: 5 }).await;
    let _ = std::fs::remove_dir_all(&dir);
}
