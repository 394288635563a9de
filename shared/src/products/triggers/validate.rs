//! Validating a submitted trigger, with the seed's own error names:
//! "Invalid JSON format", "Actions object error", "Invalid action parameters", "Error when saving trigger".

use super::model::{Action, Condition, Operator, TriggerInput};
use crate::model::event::is_valid_event_type;
use serde_json::Value;

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

/// A JSON scalar as the seed's string form; numbers and booleans are accepted and kept as text.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub fn parse_trigger(body: &Value) -> Result<TriggerInput, TriggerError> {
    let obj = body.as_object().ok_or_else(|| err(INVALID_JSON, "the trigger must be a JSON object"))?;
    let name = match obj.get("name") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        _ => return Err(err(INVALID_JSON, "name: required, a non-empty string")),
    };
    if name.len() > 200 {
        return Err(err(INVALID_JSON, "name: at most 200 characters"));
    }
    let event_type = match obj.get("eventType") {
        Some(Value::String(s)) if is_valid_event_type(s) => s.clone(),
        Some(Value::String(s)) => {
            return Err(err(
                INVALID_JSON,
                format!(
                    "eventType: {s:?} is not an event type name (dot-separated lowercase words, e.g. \"agent.wrap\")"
                ),
            ))
        }
        _ => return Err(err(INVALID_JSON, "eventType: required, a string such as \"agent.wrap\"")),
    };
    let enabled = match obj.get("enabled") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(err(INVALID_JSON, "enabled: must be true or false")),
    };
    let conditions = match obj.get("conditions") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            items.iter().enumerate().map(|(i, c)| parse_condition(c, i)).collect::<Result<_, _>>()?
        }
        Some(_) => return Err(err(INVALID_JSON, "conditions: must be an array")),
    };
    let actions = match obj.get("actions") {
        None | Some(Value::Null) => return Err(err(ACTIONS_ERROR, "actions: at least one action is required")),
        Some(Value::Array(items)) if items.is_empty() => {
            return Err(err(ACTIONS_ERROR, "actions: at least one action is required"))
        }
        Some(Value::Array(items)) => {
            items.iter().enumerate().map(|(i, a)| parse_action(a, i)).collect::<Result<_, _>>()?
        }
        Some(_) => return Err(err(ACTIONS_ERROR, "actions: must be an array of action objects")),
    };
    Ok(TriggerInput { name, event_type, enabled, conditions, actions })
}

fn parse_condition(v: &Value, i: usize) -> Result<Condition, TriggerError> {
    let o = v.as_object().ok_or_else(|| err(INVALID_JSON, format!("conditions[{i}]: must be an object")))?;
    let reference = match o.get("reference") {
        Some(Value::String(s)) if !s.is_empty() && s.split('.').all(|p| !p.is_empty()) => s.clone(),
        _ => {
            return Err(err(
                INVALID_JSON,
                format!(
                    "conditions[{i}].reference: required, a dot path into the payload such as \"lead.totalAttempts\""
                ),
            ))
        }
    };
    let operator = match o.get("operator") {
        Some(Value::String(s)) => Operator::parse(s).ok_or_else(|| {
            err(INVALID_JSON, format!("conditions[{i}].operator: {s:?} is not one of =, >, <, >=, <=, in"))
        })?,
        _ => return Err(err(INVALID_JSON, format!("conditions[{i}].operator: required, one of =, >, <, >=, <=, in"))),
    };
    let value = o
        .get("value")
        .and_then(scalar_text)
        .ok_or_else(|| err(INVALID_JSON, format!("conditions[{i}].value: required, a string")))?;
    Ok(Condition { reference, operator, value })
}

pub(crate) fn parse_action(v: &Value, i: usize) -> Result<Action, TriggerError> {
    let o = v.as_object().ok_or_else(|| err(ACTIONS_ERROR, format!("actions[{i}]: must be an object")))?;
    let name = match o.get("action") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim(),
        _ => {
            return Err(err(
                ACTIONS_ERROR,
                format!("actions[{i}].action: required, \"webhook\" or \"lead.update.list\""),
            ))
        }
    };
    if name != "webhook" && name != "lead.update.list" {
        return Err(err(
            SAVE_ERROR,
            format!(
                "actions[{i}].action: unknown action {name:?}; valid actions are \"webhook\" and \"lead.update.list\""
            ),
        ));
    }
    let params = match o.get("parameters") {
        Some(Value::Object(p)) if !p.is_empty() => p,
        Some(Value::Object(_)) | None | Some(Value::Null) => {
            return Err(err(INVALID_PARAMETERS, format!("actions[{i}].parameters: required and not empty")))
        }
        Some(_) => return Err(err(INVALID_PARAMETERS, format!("actions[{i}].parameters: must be an object"))),
    };
    let text = |key: &str| -> Result<Option<String>, TriggerError> {
        match params.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match scalar_text(v) {
                Some(s) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
                _ => Err(err(INVALID_PARAMETERS, format!("actions[{i}].parameters.{key}: must be a non-empty string"))),
            },
        }
    };
    match name {
        "webhook" => {
            let url = text("url")?;
            let webhook_id = text("webhookId")?;
            if url.is_none() && webhook_id.is_none() {
                return Err(err(
                    INVALID_PARAMETERS,
                    format!("actions[{i}].parameters: \"url\" or \"webhookId\" is required"),
                ));
            }
            if let Some(u) = &url {
                match url::Url::parse(u) {
                    Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => {}
                    _ => {
                        return Err(err(
                            INVALID_PARAMETERS,
                            format!("actions[{i}].parameters.url: {u:?} is not an http(s) URL"),
                        ))
                    }
                }
            }
            Ok(Action::Webhook { url, webhook_id })
        }
        _ => {
            // The seed writes both "listId" and "lead.listId"; both mean the same.
            let list_id = match text("listId")? {
                Some(l) => l,
                None => text("lead.listId")?.ok_or_else(|| {
                    err(
                        INVALID_PARAMETERS,
                        format!("actions[{i}].parameters.listId: required, the id of the list to move the lead to"),
                    )
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
}
