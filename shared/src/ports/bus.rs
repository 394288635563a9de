//! The event bus: Ringhook publishes outcome events for other systems to subscribe to — a
//! delivery's `delivery.succeeded` / `delivery.failed` when its tenant subscribed to that type
//! (`repo::outcome_events`), and what products publish themselves (`lead.list.updated`, ...).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const SOURCE: &str = "ringhook";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BusEvent {
    pub detail_type: String,
    pub tenant_id: String,
    pub detail: Value,
}

#[derive(Debug, thiserror::Error)]
#[error("event bus unavailable: {0}")]
pub struct BusError(pub String);

#[async_trait]
pub trait EventBus: Send + Sync {
    async fn publish(&self, events: Vec<BusEvent>) -> Result<(), BusError>;
}
