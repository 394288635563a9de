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
        self.db
            .read(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT tenant_id, detail_type, detail FROM bus_events ORDER BY id DESC LIMIT ?1",
                )?;
                let rows = stmt.query_map([limit as i64], |r| {
                    let detail: String = r.get(2)?;
                    Ok(BusEvent {
                        tenant_id: r.get(0)?,
                        detail_type: r.get(1)?,
                        detail: serde_json::from_str(&detail).unwrap_or_default(),
                    })
                })?;
                rows.collect()
            })
            .await
            .map_err(|e| BusError(e.to_string()))
    }
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
