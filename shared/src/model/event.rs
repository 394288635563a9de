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

/// Event type names are dot-separated lowercase words (`agent.wrap`,
/// `outbound.lead.outcome.predictive`); any such name is accepted.
pub fn is_valid_event_type(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    s.len() <= 128
        && parts.len() >= 2
        && parts.iter().all(|p| {
            let mut chars = p.chars();
            matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
                && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        })
}
