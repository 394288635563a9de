//! The trigger as users write it (the seed's JSON shape) and as it is stored.

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{json, Value};
use utoipa::ToSchema;

/// How a condition compares the payload's value with its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Operator {
    #[serde(rename = "=")]
    Eq,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "in")]
    In,
}

impl Operator {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "=" => Self::Eq,
            ">" => Self::Gt,
            "<" => Self::Lt,
            ">=" => Self::Ge,
            "<=" => Self::Le,
            "in" => Self::In,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Condition {
    #[schema(example = "campaignId")]
    pub reference: String,
    pub operator: Operator,
    pub value: String,
}

/// A validated action. Serialized in the seed's shape: `{"action": ..., "parameters": {...}}`.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Deliver the event to a URL given inline, or to a configured webhook (`webhookId`).
    Webhook { url: Option<String>, webhook_id: Option<String> },
    /// Move the event's lead to another list.
    LeadUpdateList { list_id: String },
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Webhook { .. } => "webhook",
            Action::LeadUpdateList { .. } => "lead.update.list",
        }
    }

    pub fn parameters(&self) -> Value {
        match self {
            Action::Webhook { url, webhook_id } => {
                let mut m = serde_json::Map::new();
                if let Some(u) = url {
                    m.insert("url".into(), json!(u));
                }
                if let Some(w) = webhook_id {
                    m.insert("webhookId".into(), json!(w));
                }
                Value::Object(m)
            }
            Action::LeadUpdateList { list_id } => json!({ "listId": list_id }),
        }
    }
}

impl Serialize for Action {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("action", self.name())?;
        m.serialize_entry("parameters", &self.parameters())?;
        m.end()
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        super::validate::parse_action(&v, 0).map_err(|e| serde::de::Error::custom(e.detail))
    }
}

/// A validated trigger: what a create or replace stores (the request is `validate::TriggerInput`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerSpec {
    pub name: String,
    pub event_type: String,
    pub enabled: bool,
    pub conditions: Vec<Condition>,
    pub actions: Vec<Action>,
}

/// A stored trigger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Trigger {
    pub id: String,
    #[serde(flatten)]
    pub spec: TriggerSpec,
    pub created_at: String,
    pub updated_at: String,
}
