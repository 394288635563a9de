use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An accepted event, as it travels on the events queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: String,
    pub tenant_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub payload: Value,
    /// When the event happened (the sender's `time`, else when it was received), RFC 3339.
    pub time: String,
    pub received_at_ms: i64,
}

impl Event {
    /// The body a trigger's webhook receives: the event exactly as the seed shows it.
    pub fn webhook_body(&self) -> Value {
        serde_json::json!({ "type": self.event_type, "payload": self.payload })
    }
}
