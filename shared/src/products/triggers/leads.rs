//! Leads moved between lists by `lead.update.list` actions.

use crate::model::format_time;
use crate::ports::{ItemStore, StoreError};
use crate::repo::{encode, get, keys, put_next};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A lead's list membership, as moved by `lead.update.list` actions (`GET /v1/leads/{id}`
/// returns it as stored: nothing in it is secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Lead {
    pub lead_id: String,
    /// The list it is on now.
    pub list_id: String,
    /// The campaign of the event that last moved it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<String>,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// The last 50 moves, oldest first.
    #[serde(default)]
    #[schema(required = true)]
    pub history: Vec<LeadMove>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LeadMove {
    /// None for the first move Ringhook saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_list_id: Option<String>,
    pub to_list_id: String,
    pub trigger_id: String,
    pub event_id: String,
    #[schema(format = DateTime)]
    pub at: String,
}

pub async fn find(store: &dyn ItemStore, tenant: &str, lead_id: &str) -> Result<Option<Lead>, StoreError> {
    Ok(get(store, &keys::leads(tenant), lead_id).await?.map(|v| v.value))
}

/// Moves the lead to `list_id`; idempotent for the same (event, trigger): a redelivered event
/// does not add a second history entry. Returns the list it came from when it moved.
#[allow(clippy::too_many_arguments)] // each is one fact about the move
pub async fn move_to_list(
    store: &dyn ItemStore,
    tenant: &str,
    lead_id: &str,
    campaign_id: Option<String>,
    list_id: &str,
    trigger_id: &str,
    event_id: &str,
    now_ms: i64,
) -> Result<Option<Option<String>>, StoreError> {
    for _ in 0..10 {
        let cur = get::<Lead>(store, &keys::leads(tenant), lead_id).await?;
        let (mut lead, version) = match cur {
            Some(v) => (v.value, Some(v.version)),
            None => (
                Lead {
                    lead_id: lead_id.to_string(),
                    list_id: String::new(),
                    campaign_id: campaign_id.clone(),
                    updated_at: String::new(),
                    history: Vec::new(),
                },
                None,
            ),
        };
        if lead.history.iter().any(|m| m.event_id == event_id && m.trigger_id == trigger_id) {
            return Ok(None);
        }
        let from = Some(lead.list_id.clone()).filter(|l| !l.is_empty());
        lead.history.push(LeadMove {
            from_list_id: from.clone(),
            to_list_id: list_id.to_string(),
            trigger_id: trigger_id.to_string(),
            event_id: event_id.to_string(),
            at: format_time(now_ms),
        });
        // Keep the item bounded: the last 50 moves are plenty to see what happened.
        if lead.history.len() > 50 {
            let excess = lead.history.len() - 50;
            lead.history.drain(..excess);
        }
        lead.list_id = list_id.to_string();
        if campaign_id.is_some() {
            lead.campaign_id = campaign_id.clone();
        }
        lead.updated_at = format_time(now_ms);
        match put_next(store, encode(keys::leads(tenant), lead_id, &lead), version).await {
            Ok(()) => return Ok(Some(from)),
            Err(StoreError::ConditionFailed) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::ConditionFailed)
}
