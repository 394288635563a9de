//! The embedded backend: one SQLite file (WAL) holding the item store, the queues and the bus
//! log. Durable across SIGKILL: an operation is acknowledged only after its transaction commits.

mod bus;
mod db;
mod queue;
mod store;

pub use bus::SqliteBus;
pub use db::Db;
pub use queue::SqliteQueue;
pub use store::SqliteStore;
