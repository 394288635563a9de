//! `/v1/call-targets`: who calls back — name, handle (the From number), message text per
//! notification kind with dynamic text replacements, and metadata items.

use crate::api::extract::{JsonBody, TenantId};
use crate::app::App;
use crate::error::ApiError;
use crate::model::format_time;
use crate::ports::StoreError;
use crate::products::callbacks::model::{CallTarget, Messages, MetadataItem, ASAP_ENABLED_KEY, ASAP_TEXT_KEY};
use crate::products::callbacks::{render, store};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

const INVALID: &str = "invalid call target";
/// Twilio's limit on a message body.
pub const MAX_TEXT_CHARS: usize = 1600;
const FIELDS: [&str; 6] = ["id", "name", "handle", "messages", "replacements", "metadata"];

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::unprocessable(INVALID, detail)
}

/// An id chosen by the caller (the contact center's own call target id, e.g. "6281").
pub fn valid_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// E.164 (`+` and 2 to 15 digits), a short code (3 to 8 digits), or an alphanumeric sender id
/// (letters, digits and spaces, at most 11, at least one letter).
pub fn valid_handle(s: &str) -> bool {
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if let Some(rest) = s.strip_prefix('+') {
        return (2..=15).contains(&rest.len()) && digits(rest);
    }
    if digits(s) {
        return (3..=8).contains(&s.len());
    }
    (1..=11).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ')
        && s.bytes().any(|b| b.is_ascii_alphabetic())
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn parse_input(
    body: &Value,
    path_id: Option<&str>,
    existing: Option<&CallTarget>,
    now_ms: i64,
) -> Result<CallTarget, ApiError> {
    let o = body.as_object().ok_or_else(|| invalid("the call target must be a JSON object"))?;
    if let Some(k) = o.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(invalid(format!("{k}: unknown field; the fields are {}", FIELDS.join(", "))));
    }
    let id = match (o.get("id"), path_id) {
        (None | Some(Value::Null), Some(p)) => p.to_string(),
        (None | Some(Value::Null), None) => format!("ct_{}", ulid::Ulid::new().to_string().to_lowercase()),
        (Some(v), p) => {
            let id = scalar_text(v)
                .filter(|s| valid_id(s))
                .ok_or_else(|| invalid("id: 1 to 64 letters, digits, '-', '_' or '.' (a string or a number)"))?;
            if p.is_some_and(|p| p != id) {
                return Err(invalid(format!("id: {id:?} does not match the id in the path")));
            }
            id
        }
    };
    let name = match o.get("name") {
        Some(Value::String(n)) if !n.trim().is_empty() && n.len() <= 200 => n.trim().to_string(),
        _ => return Err(invalid("name: required, a non-empty string (at most 200 characters)")),
    };
    let handle = match o.get("handle") {
        Some(Value::String(h)) if valid_handle(h.trim()) => h.trim().to_string(),
        Some(Value::String(h)) => {
            return Err(invalid(format!(
                "handle: {h:?} is not a From number: use E.164 (\"+18505554321\"), a short code, or an alphanumeric sender id"
            )))
        }
        _ => return Err(invalid("handle: required, the From number (E.164, e.g. \"+18505554321\")")),
    };
    let replacements: BTreeMap<String, String> = match o.get("replacements") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(Value::Object(m)) => {
            let mut out = BTreeMap::new();
            for (k, v) in m {
                if !render::is_placeholder_name(k) {
                    return Err(invalid(format!(
                        "replacements.{k}: a name is a letter then letters, digits or '_' (used as {{name}})"
                    )));
                }
                if render::is_built_in(k) {
                    return Err(invalid(format!("replacements.{k}: {{{k}}} is built in and cannot be replaced")));
                }
                let v = scalar_text(v).ok_or_else(|| invalid(format!("replacements.{k}: must be a string")))?;
                out.insert(k.clone(), v);
            }
            out
        }
        Some(_) => return Err(invalid("replacements: must be an object such as {\"companyName\": \"ABC\"}")),
    };
    let check = |field: String, text: &str| -> Result<(), ApiError> {
        if text.chars().count() > MAX_TEXT_CHARS {
            return Err(invalid(format!("{field}: at most {MAX_TEXT_CHARS} characters")));
        }
        render::check_text(text, &replacements).map_err(|e| invalid(format!("{field}: {e}")))
    };
    let mut messages = Messages::default();
    match o.get("messages") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                let slot = messages.slot_mut(k).ok_or_else(|| {
                    invalid(format!(
                        "messages.{k}: not a notification kind; use {} (the ASAP reminder's text is the metadata item {ASAP_TEXT_KEY})",
                        Messages::KEYS.join(", ")
                    ))
                })?;
                match v {
                    Value::Null => {}
                    Value::String(t) => {
                        check(format!("messages.{k}"), t)?;
                        *slot = Some(t.clone());
                    }
                    _ => return Err(invalid(format!("messages.{k}: must be a string"))),
                }
            }
        }
        Some(_) => return Err(invalid("messages: must be an object of message texts by kind")),
    }
    let metadata = match o.get("metadata") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(items)) => {
            let mut out: Vec<MetadataItem> = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let m = item.as_object().ok_or_else(|| {
                    invalid(format!("metadata[{i}]: must be an object {{\"key\", \"value\", \"type\"}}"))
                })?;
                if let Some(k) = m.keys().find(|k| !["key", "value", "type"].contains(&k.as_str())) {
                    return Err(invalid(format!("metadata[{i}].{k}: unknown field; use key, value, type")));
                }
                let key = match m.get("key") {
                    Some(Value::String(k)) if !k.trim().is_empty() && k.len() <= 200 => k.trim().to_string(),
                    _ => return Err(invalid(format!("metadata[{i}].key: required, a non-empty string"))),
                };
                if out.iter().any(|o| o.key == key) {
                    return Err(invalid(format!("metadata[{i}].key: {key:?} appears twice")));
                }
                let value = m
                    .get("value")
                    .and_then(scalar_text)
                    .ok_or_else(|| invalid(format!("metadata[{i}].value: required, a string")))?;
                let item_type = match m.get("type") {
                    None | Some(Value::Null) => "SIP Header".to_string(),
                    Some(Value::String(t)) if !t.trim().is_empty() => t.trim().to_string(),
                    _ => return Err(invalid(format!("metadata[{i}].type: must be a non-empty string"))),
                };
                if key == ASAP_ENABLED_KEY && !["true", "false"].contains(&value.trim().to_ascii_lowercase().as_str()) {
                    return Err(invalid(format!(
                        "metadata[{i}].value: {ASAP_ENABLED_KEY} must be \"true\" or \"false\""
                    )));
                }
                if key == ASAP_TEXT_KEY {
                    check(format!("metadata[{i}].value"), &value)?;
                }
                out.push(MetadataItem { key, value, item_type });
            }
            out
        }
        Some(_) => return Err(invalid("metadata: must be a list of {\"key\", \"value\", \"type\"}")),
    };
    let now = format_time(now_ms);
    let ct = CallTarget {
        id,
        name,
        handle,
        messages,
        replacements,
        metadata,
        created_at: existing.map(|c| c.created_at.clone()).unwrap_or_else(|| now.clone()),
        updated_at: now,
    };
    if ct.asap_reminder_enabled()
        && ct.text_for(crate::products::callbacks::model::NotificationKind::AsapReminder).is_none()
    {
        return Err(invalid(format!(
            "metadata: {ASAP_ENABLED_KEY} is \"true\" but there is no {ASAP_TEXT_KEY} item with the message to send"
        )));
    }
    Ok(ct)
}

/// The call target as the API shows it, with the placeholders its texts can use.
pub fn view(ct: &CallTarget) -> Value {
    let mut v = serde_json::to_value(ct).expect("call targets serialize");
    v["asapReminderEnabled"] = json!(ct.asap_reminder_enabled());
    v
}

/// The placeholder catalogue (`GET /v1/call-targets` carries it for reference).
pub fn placeholder_catalogue() -> Value {
    let mut m = Map::new();
    for (name, what) in render::BUILT_IN {
        m.insert(format!("{{{name}}}"), json!(what));
    }
    Value::Object(m)
}

pub async fn create(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let ct = parse_input(&body, None, None, app.now_ms())?;
    match store::put_call_target(app.store.as_ref(), &tenant, &ct, None).await {
        Ok(()) => Ok((StatusCode::CREATED, Json(view(&ct)))),
        Err(StoreError::ConditionFailed) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("a call target with id {:?} exists; use PUT /v1/call-targets/{} to replace it", ct.id, ct.id),
        )),
        Err(e) => Err(e.into()),
    }
}

pub async fn list(State(app): State<Arc<App>>, TenantId(tenant): TenantId) -> Result<Json<Value>, ApiError> {
    let cts = store::call_targets(app.store.as_ref(), &tenant).await?;
    Ok(Json(
        json!({ "callTargets": cts.iter().map(view).collect::<Vec<_>>(), "placeholders": placeholder_catalogue() }),
    ))
}

pub async fn get_one(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let ct = store::call_target(app.store.as_ref(), &tenant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("call target", &id))?;
    Ok(Json(view(&ct.value)))
}

/// Replaces the call target, or creates it under this id.
pub async fn replace(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    if !valid_id(&id) {
        return Err(invalid("id: 1 to 64 letters, digits, '-', '_' or '.'"));
    }
    let cur = store::call_target(app.store.as_ref(), &tenant, &id).await?;
    let ct = parse_input(&body, Some(&id), cur.as_ref().map(|c| &c.value), app.now_ms())?;
    store::put_call_target(app.store.as_ref(), &tenant, &ct, cur.map(|c| c.version)).await?;
    Ok(Json(view(&ct)))
}

pub async fn delete(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if store::delete_call_target(app.store.as_ref(), &tenant, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("call target", &id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(body: Value) -> CallTarget {
        parse_input(&body, None, None, 0).unwrap()
    }
    fn err(body: Value) -> String {
        parse_input(&body, None, None, 0).unwrap_err().detail
    }

    #[test]
    fn call_targets_validate() {
        let ct = ok(json!({"id": 6281, "name": "Sales", "handle": "+18505554321",
            "messages": {"confirmation": "Hi from {callTargetName} at {companyName}"},
            "replacements": {"companyName": "ABC"},
            "metadata": [{"key": "asap_reminder_notification_enabled", "value": true, "type": "SIP Header"},
                         {"key": "asap_reminder_notification_text", "value": "Soon: {callbackTime}"}]}));
        assert_eq!(ct.id, "6281");
        assert!(ct.asap_reminder_enabled());
        assert_eq!(ct.metadata[1].item_type, "SIP Header");
        let base = json!({"name": "Sales", "handle": "+18505554321"});
        let with = |k: &str, v: Value| {
            let mut b = base.clone();
            b[k] = v;
            b
        };
        assert!(err(with("handle", json!("555-1234"))).starts_with("handle:"));
        assert!(err(with("messages", json!({"confirmation": "Hi {nme}"}))).contains("{nme}"));
        assert!(err(with("messages", json!({"asapReminder": "x"}))).contains(ASAP_TEXT_KEY));
        assert!(err(with("replacements", json!({"handle": "x"}))).contains("built in"));
        assert!(err(with("metadata", json!([{"key": ASAP_ENABLED_KEY, "value": "yes"}]))).contains("\"true\""));
        assert!(err(with("metadata", json!([{"key": ASAP_ENABLED_KEY, "value": "true"}]))).contains(ASAP_TEXT_KEY));
        assert!(
            err(with("metadata", json!([{"key": "a", "value": "1"}, {"key": "a", "value": "2"}]))).contains("twice")
        );
        assert!(err(with("colour", json!("red"))).starts_with("colour: unknown field"));
        assert!(err(with("id", json!("a/b"))).starts_with("id:"));
        assert!(err(json!({"handle": "+18505554321"})).starts_with("name:"));
        assert!(valid_handle("ACME") && valid_handle("12345") && !valid_handle("12") && !valid_handle("+1"));
    }
}
