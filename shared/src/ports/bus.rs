//! The event bus: Ringhook publishes outcome events (`delivery.succeeded`, `delivery.failed`,
//! `lead.list.updated`, ...) for other systems to subscribe to.

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
