//! The embedded backend: one SQLite file (WAL) holding the item store, the queues and the bus
//! log. Durable across SIGKILL: an operation is acknowledged only after its transaction commits.

mod bus;
mod db;
mod queue;
mod store;

pub use bus::SqliteBus;
pub use db::{Db, Durability, WriteOptions};
pub use queue::SqliteQueue;
pub use store::SqliteStore;

/// An app on a fresh SQLite directory with a manual clock at `now_ms` and loopback
/// destinations allowed, for the crate's unit tests.
#[cfg(test)]
pub(crate) fn test_app(
    name: &str,
    now_ms: i64,
    settings: impl FnOnce(&mut crate::app::Settings),
) -> (std::sync::Arc<crate::app::App>, std::path::PathBuf) {
    use crate::app::{App, Ports, Settings};
    use crate::delivery::ssrf::DestinationPolicy;
    use crate::ports::ManualClock;
    use std::sync::Arc;
    let dir = std::env::temp_dir().join(format!("ringhook-unit-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let db = Db::open_dir(&dir).expect("open sqlite");
    let clock = Arc::new(ManualClock::new(now_ms));
    let queue = Arc::new(SqliteQueue::new(db.clone(), clock.clone(), 5));
    let ports = Ports {
        store: Arc::new(SqliteStore::new(db.clone(), clock.clone())),
        queue: queue.clone(),
        bus: Arc::new(SqliteBus::new(db, clock.clone())),
        clock: clock.clone(),
        manual_clock: Some(clock),
        outbox: Some(queue),
    };
    let mut s = Settings::new(DestinationPolicy::loopback());
    settings(&mut s);
    (App::new(ports, s), dir)
}
