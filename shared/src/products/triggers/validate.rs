//! Validating a submitted trigger, with the seed's own error names:
//! "Invalid JSON format", "Actions object error", "Invalid action parameters", "Error when saving trigger".

use super::model::{Action, Condition, Operator, TriggerSpec};
use crate::api::extract::Scalar;
use crate::model::event::is_valid_event_type;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

pub const INVALID_JSON: &str = "Invalid JSON format";
pub const ACTIONS_ERROR: &str = "Actions object error";
pub const INVALID_PARAMETERS: &str = "Invalid action parameters";
pub const SAVE_ERROR: &str = "Error when saving trigger";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {detail}")]
pub struct TriggerError {
    pub error: &'static str,
    pub detail: String,
}

fn err(error: &'static str, detail: impl Into<String>) -> TriggerError {
    TriggerError { error, detail: detail.into() }
}

/// A create or replace body, in the seed's shape. Strict: an unknown field or a value of the
/// wrong type is refused, naming the field, under the seed's error name for where it is
/// ("Invalid JSON format" for the trigger and its conditions, "Actions object error" for an
/// action, "Invalid action parameters" for its parameters). A read's own fields (`id`,
/// `createdAt`, `updatedAt`) may be sent back and are ignored, so a read can be edited and PUT
/// back.
// Required fields are `Option`s (documented as required) so that a missing one gets the seed's
// message rather than serde's.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TriggerInput {
    /// Surrounding blanks are trimmed.
    #[schema(value_type = String, min_length = 1, max_length = 200, example = "Send Webhook on Agent Wrap")]
    pub name: Option<String>,
    /// The event type the trigger applies to: dot-separated lowercase words.
    #[schema(value_type = String, example = "agent.wrap")]
    pub event_type: Option<String>,
    /// Defaults to true.
    pub enabled: Option<bool>,
    /// All must hold; none means every event of the type.
    pub conditions: Option<Vec<ConditionInput>>,
    #[schema(value_type = Vec<ActionInput>, min_items = 1)]
    pub actions: Option<Vec<ActionInput>>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub id: Option<IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub created_at: Option<IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub updated_at: Option<IgnoredAny>,
}

/// A condition on the event's payload. Values compare as numbers when both sides read as
/// numbers (`"10" > "9"`), otherwise as strings; a missing reference makes the condition false.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionInput {
    /// A dot path into the payload.
    #[schema(value_type = String, example = "lead.totalAttempts")]
    pub reference: Option<String>,
    #[schema(value_type = Operator)]
    pub operator: Option<Operator>,
    /// For `in`, a comma list (with or without spaces).
    #[schema(value_type = Scalar, example = "215,223")]
    pub value: Option<Scalar>,
}

/// An action: `{"action": "webhook", "parameters": {"url" | "webhookId"}}` or
/// `{"action": "lead.update.list", "parameters": {"listId"}}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionInput {
    #[schema(value_type = ActionName)]
    pub action: Option<String>,
    /// The action's parameters: `WebhookParameters` or `LeadUpdateListParameters`.
    // Read as an object first, then as the action's own parameters: which fields are valid (and
    // the seed's error name when the action is unknown) depend on `action`.
    #[schema(value_type = ActionParameters)]
    pub parameters: Option<Map<String, Value>>,
}

/// The actions a trigger can take.
#[derive(Serialize, ToSchema)]
pub enum ActionName {
    #[serde(rename = "webhook")]
    Webhook,
    #[serde(rename = "lead.update.list")]
    LeadUpdateList,
}

impl ActionName {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "webhook" => Some(Self::Webhook),
            "lead.update.list" => Some(Self::LeadUpdateList),
            _ => None,
        }
    }
}

/// An action's parameters, by action.
// Documentation only: `action` picks which of the two the parameters are read as.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum ActionParameters {
    /// For `webhook`.
    Webhook(WebhookParameters),
    /// For `lead.update.list`.
    LeadUpdateList(LeadUpdateListParameters),
}

/// Where a `webhook` action delivers: one of `url` or `webhookId` (with both, the webhook).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WebhookParameters {
    /// An http(s) URL, retried every 10 minutes for 48 hours (the seed's rule); private,
    /// loopback and link-local destinations are refused.
    #[schema(pattern = "^https?://", example = "https://hooks.example.com/agent-wrap")]
    pub url: Option<String>,
    /// A webhook of `/v1/webhooks` (its own retry policy, headers and signature apply).
    #[schema(example = "wh_01hx5v3k9a7m2n4p6q8r0s2t4v", value_type = Option<crate::api::openapi::NonBlank>)]
    pub webhook_id: Option<String>,
}

/// The list a `lead.update.list` action moves the event's lead (`leadId`) to.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadUpdateListParameters {
    /// The list's id.
    #[serde(rename = "listId")]
    #[schema(example = "445")]
    pub list_id: Option<ListId>,
    /// The seed's other spelling of `listId`.
    #[serde(rename = "lead.listId")]
    pub lead_list_id: Option<ListId>,
}

/// A list's id: text that is not blank, or a number (kept as its text).
#[derive(Deserialize, ToSchema)]
#[serde(untagged, expecting = "a string or a number")]
pub enum ListId {
    #[schema(value_type = crate::api::openapi::NonBlank)]
    Text(String),
    #[schema(value_type = f64)]
    Number(serde_json::Number),
}

impl ListId {
    fn into_text(self) -> String {
        match self {
            Self::Text(s) => s,
            Self::Number(n) => n.to_string(),
        }
    }
}

/// The seed's error name for a problem at `path` (`actions[0].parameters.url`, ...).
fn error_name(path: &str) -> &'static str {
    match path.strip_prefix("actions") {
        Some(rest) if rest.split_once(']').is_some_and(|(_, after)| after.starts_with(".parameters")) => {
            INVALID_PARAMETERS
        }
        Some(rest) if rest.is_empty() || rest.starts_with('[') || rest.starts_with('.') => ACTIONS_ERROR,
        _ => INVALID_JSON,
    }
}

/// `value` read strictly as `T`; an error names its path under `prefix` (the part of the body
/// `value` is).
fn read<T: serde::de::DeserializeOwned>(value: Value, prefix: &str) -> Result<T, TriggerError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.path().to_string();
        let path = match (prefix, inner.as_str()) {
            (p, ".") => p.to_string(),
            ("", i) => i.to_string(),
            (p, i) if i.starts_with('[') => format!("{p}{i}"),
            (p, i) => format!("{p}.{i}"),
        };
        let detail = if path.is_empty() { e.inner().to_string() } else { format!("{path}: {}", e.inner()) };
        err(error_name(&path), detail)
    })
}

pub fn parse_trigger(body: &Value) -> Result<TriggerSpec, TriggerError> {
    if !body.is_object() {
        return Err(err(INVALID_JSON, "the trigger must be a JSON object"));
    }
    let input: TriggerInput = read(body.clone(), "")?;
    let name = match input.name {
        Some(s) if !s.trim().is_empty() => s.trim().to_string(),
        _ => return Err(err(INVALID_JSON, "name: required, a non-empty string")),
    };
    if name.len() > 200 {
        return Err(err(INVALID_JSON, "name: at most 200 characters"));
    }
    let event_type = match input.event_type {
        Some(s) if is_valid_event_type(&s) => s,
        Some(s) => {
            return Err(err(
                INVALID_JSON,
                format!(
                    "eventType: {s:?} is not an event type name (dot-separated lowercase words, e.g. \"agent.wrap\")"
                ),
            ))
        }
        None => return Err(err(INVALID_JSON, "eventType: required, a string such as \"agent.wrap\"")),
    };
    let enabled = input.enabled.unwrap_or(true);
    let conditions = input
        .conditions
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, c)| condition(c, i))
        .collect::<Result<_, _>>()?;
    let actions = match input.actions {
        None => return Err(err(ACTIONS_ERROR, "actions: at least one action is required")),
        Some(items) if items.is_empty() => return Err(err(ACTIONS_ERROR, "actions: at least one action is required")),
        Some(items) => items.into_iter().enumerate().map(|(i, a)| action(a, i)).collect::<Result<_, _>>()?,
    };
    Ok(TriggerSpec { name, event_type, enabled, conditions, actions })
}

fn condition(c: ConditionInput, i: usize) -> Result<Condition, TriggerError> {
    let reference = match c.reference {
        Some(s) if !s.is_empty() && s.split('.').all(|p| !p.is_empty()) => s,
        _ => {
            return Err(err(
                INVALID_JSON,
                format!(
                    "conditions[{i}].reference: required, a dot path into the payload such as \"lead.totalAttempts\""
                ),
            ))
        }
    };
    let operator = c
        .operator
        .ok_or_else(|| err(INVALID_JSON, format!("conditions[{i}].operator: required, one of =, >, <, >=, <=, in")))?;
    let value = c.value.ok_or_else(|| err(INVALID_JSON, format!("conditions[{i}].value: required, a string")))?.0;
    Ok(Condition { reference, operator, value })
}

/// One action of a stored or submitted trigger (`i`: its place in `actions`).
pub(crate) fn parse_action(v: &Value, i: usize) -> Result<Action, TriggerError> {
    if !v.is_object() {
        return Err(err(ACTIONS_ERROR, format!("actions[{i}]: must be an object")));
    }
    action(read(v.clone(), &format!("actions[{i}]"))?, i)
}

fn action(a: ActionInput, i: usize) -> Result<Action, TriggerError> {
    let name = match a.action.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => {
            return Err(err(
                ACTIONS_ERROR,
                format!("actions[{i}].action: required, \"webhook\" or \"lead.update.list\""),
            ))
        }
    };
    let Some(kind) = ActionName::parse(&name) else {
        return Err(err(
            SAVE_ERROR,
            format!(
                "actions[{i}].action: unknown action {name:?}; valid actions are \"webhook\" and \"lead.update.list\""
            ),
        ));
    };
    let params = match a.parameters {
        Some(p) if !p.is_empty() => Value::Object(p),
        _ => return Err(err(INVALID_PARAMETERS, format!("actions[{i}].parameters: required and not empty"))),
    };
    let at = format!("actions[{i}].parameters");
    // A present value must be text with something in it; surrounding blanks are trimmed.
    let text = |key: &str, v: Option<String>| -> Result<Option<String>, TriggerError> {
        match v {
            None => Ok(None),
            Some(s) if crate::api::extract::has_text(&s) => Ok(Some(s.trim().to_string())),
            Some(_) => Err(err(INVALID_PARAMETERS, format!("{at}.{key}: must be a non-empty string"))),
        }
    };
    match kind {
        ActionName::Webhook => {
            let p: WebhookParameters = read(params, &at)?;
            let url = text("url", p.url)?;
            let webhook_id = text("webhookId", p.webhook_id)?;
            if url.is_none() && webhook_id.is_none() {
                return Err(err(INVALID_PARAMETERS, format!("{at}: \"url\" or \"webhookId\" is required")));
            }
            if let Some(u) = &url {
                match url::Url::parse(u) {
                    Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => {}
                    _ => return Err(err(INVALID_PARAMETERS, format!("{at}.url: {u:?} is not an http(s) URL"))),
                }
            }
            Ok(Action::Webhook { url, webhook_id })
        }
        ActionName::LeadUpdateList => {
            let p: LeadUpdateListParameters = read(params, &at)?;
            // The seed writes both "listId" and "lead.listId"; both mean the same.
            let list_id = match text("listId", p.list_id.map(ListId::into_text))? {
                Some(l) => l,
                None => text("lead.listId", p.lead_list_id.map(ListId::into_text))?.ok_or_else(|| {
                    err(INVALID_PARAMETERS, format!("{at}.listId: required, the id of the list to move the lead to"))
                })?,
            };
            Ok(Action::LeadUpdateList { list_id })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn seed_examples_parse() {
        let t = parse_trigger(&json!({"name": "x", "eventType": "outbound.lead.outcome.predictive",
            "conditions": [{"reference": "campaignId", "operator": "=", "value": "53"},
                           {"reference": "lead.totalAttempts", "operator": ">=", "value": "3"}],
            "actions": [{"action": "lead.update.list", "parameters": {"lead.listId": "354"}}]}))
        .unwrap();
        assert_eq!(t.actions, vec![Action::LeadUpdateList { list_id: "354".into() }]);
        assert!(t.enabled);
    }

    #[test]
    fn error_names() {
        let base = |actions: Value| json!({"name": "x", "eventType": "agent.wrap", "actions": actions});
        assert_eq!(parse_trigger(&json!([1])).unwrap_err().error, INVALID_JSON);
        assert_eq!(parse_trigger(&json!({"eventType": "agent.wrap"})).unwrap_err().error, INVALID_JSON);
        assert_eq!(parse_trigger(&base(json!([]))).unwrap_err().error, ACTIONS_ERROR);
        assert_eq!(parse_trigger(&base(json!([{"action": ""}]))).unwrap_err().error, ACTIONS_ERROR);
        assert_eq!(parse_trigger(&base(json!([{"action": "webhook"}]))).unwrap_err().error, INVALID_PARAMETERS);
        assert_eq!(
            parse_trigger(&base(json!([{"action": "webhook", "parameters": {"url": "ftp://x"}}]))).unwrap_err().error,
            INVALID_PARAMETERS
        );
        assert_eq!(
            parse_trigger(&base(json!([{"action": "webhok", "parameters": {"url": "https://x"}}]))).unwrap_err().error,
            SAVE_ERROR
        );
        let e = parse_trigger(&json!({"name": "x", "eventType": "agent.wrap", "conditions": [{"reference": "a", "operator": "!=", "value": "1"}],
            "actions": [{"action": "lead.update.list", "parameters": {"listId": "1"}}]}))
        .unwrap_err();
        assert_eq!(e.error, INVALID_JSON);
        assert!(e.detail.contains("conditions[0].operator"), "{}", e.detail);
    }

    /// Unknown fields are refused wherever they are, naming the field, with the seed's error
    /// name for that part of the trigger; a webhook action does not take a list's parameters
    /// (nor the reverse).
    #[test]
    fn unknown_fields_are_refused_naming_them() {
        let ok = json!({"name": "x", "eventType": "agent.wrap",
            "conditions": [{"reference": "campaignId", "operator": "=", "value": "53"}],
            "actions": [{"action": "webhook", "parameters": {"url": "https://x.example"}},
                        {"action": "lead.update.list", "parameters": {"listId": 445}}]});
        let t = parse_trigger(&ok).unwrap();
        assert_eq!(t.actions[1], Action::LeadUpdateList { list_id: "445".into() });
        let cases = [
            ("/colour", INVALID_JSON, "colour: unknown field `colour`"),
            ("/conditions/0/ref", INVALID_JSON, "conditions[0].ref: unknown field `ref`"),
            ("/actions/0/params", ACTIONS_ERROR, "actions[0].params: unknown field `params`"),
            (
                "/actions/0/parameters/method",
                INVALID_PARAMETERS,
                "actions[0].parameters.method: unknown field `method`",
            ),
            (
                "/actions/0/parameters/listId",
                INVALID_PARAMETERS,
                "actions[0].parameters.listId: unknown field `listId`",
            ),
            ("/actions/1/parameters/url", INVALID_PARAMETERS, "actions[1].parameters.url: unknown field `url`"),
        ];
        for (pointer, error, detail) in cases {
            let mut body = ok.clone();
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            body.pointer_mut(parent).unwrap()[key] = json!("1");
            let e = parse_trigger(&body).unwrap_err();
            assert_eq!(e.error, error, "{pointer}: {e}");
            assert!(e.detail.starts_with(detail), "{pointer}: {e}");
        }
        // Wrong types name the field too, under the same names.
        let mut body = ok.clone();
        body["actions"][0]["parameters"]["url"] = json!(5);
        let e = parse_trigger(&body).unwrap_err();
        assert_eq!(
            (e.error, e.detail.starts_with("actions[0].parameters.url: invalid type")),
            (INVALID_PARAMETERS, true)
        );
        let mut body = ok.clone();
        body["actions"][0]["parameters"] = json!("https://x.example");
        assert_eq!(parse_trigger(&body).unwrap_err().error, INVALID_PARAMETERS);
        let mut body = ok;
        body["actions"][0] = json!("webhook");
        assert_eq!(parse_trigger(&body).unwrap_err().error, ACTIONS_ERROR);
    }
}
