use serde::{Deserialize, Serialize};

/// A lead's list membership, as moved by `lead.update.list` actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lead {
    pub lead_id: String,
    pub list_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<String>,
    pub updated_at: String,
    #[serde(default)]
    pub history: Vec<LeadMove>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeadMove {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_list_id: Option<String>,
    pub to_list_id: String,
    pub trigger_id: String,
    pub event_id: String,
    pub at: String,
}
