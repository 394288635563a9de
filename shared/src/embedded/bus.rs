//! `EventBus` locally: outcome events are appended to a table (and logged), so a local user can
//! see what would have gone to EventBridge.

use super::db::Db;
use crate::ports::bus::{BusError, BusEvent, EventBus};
use crate::ports::Clock;
use async_trait::async_trait;
use rusqlite::params;
use std::sync::Arc;

#[derive(Clone)]
pub struct SqliteBus {
    db: Db,
    clock: Arc<dyn Clock>,
}

impl SqliteBus {
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }

    /// The most recent events, newest first.
    pub async fn recent(&self, limit: usize) -> Result<Vec<BusEvent>, BusError> {
        self.db.read(move |c| select_recent(c, limit)).await.map_err(|e| BusError(e.to_string()))
    }

    /// The most recent events of the database in `data_dir`, newest first, read from another
    /// process than the one publishing them (an end-to-end test's view of the runner's bus).
    /// Test support only: no binary that ships serves the bus log.
    #[cfg(feature = "testing")]
    pub fn recent_in_dir(data_dir: &std::path::Path, limit: usize) -> Result<Vec<BusEvent>, BusError> {
        use rusqlite::{Connection, OpenFlags};
        let read = || {
            let c = Connection::open_with_flags(Db::file_in(data_dir), OpenFlags::SQLITE_OPEN_READ_ONLY)?;
            c.busy_timeout(std::time::Duration::from_secs(10))?;
            select_recent(&c, limit)
        };
        read().map_err(|e| BusError(e.to_string()))
    }
}

fn select_recent(c: &rusqlite::Connection, limit: usize) -> rusqlite::Result<Vec<BusEvent>> {
    let mut stmt =
        c.prepare_cached("SELECT tenant_id, detail_type, detail FROM bus_events ORDER BY id DESC LIMIT ?1")?;
    let rows = stmt.query_map([limit as i64], |r| {
        let detail: String = r.get(2)?;
        Ok(BusEvent {
            tenant_id: r.get(0)?,
            detail_type: r.get(1)?,
            detail: serde_json::from_str(&detail).unwrap_or_default(),
        })
    })?;
    rows.collect()
}

#[async_trait]
impl EventBus for SqliteBus {
    async fn publish(&self, events: Vec<BusEvent>) -> Result<(), BusError> {
        if events.is_empty() {
            return Ok(());
        }
        let now = self.clock.now_ms();
        self.db
            .write(move |c| {
                let mut stmt = c.prepare_cached(
                    "INSERT INTO bus_events (time_ms, tenant_id, detail_type, detail) VALUES (?1, ?2, ?3, ?4)",
                )?;
                for e in &events {
                    stmt.execute(params![now, e.tenant_id, e.detail_type, e.detail.to_string()])?;
                }
                Ok(())
            })
            .await
            .map_err(|e| BusError(e.to_string()))
    }
}
