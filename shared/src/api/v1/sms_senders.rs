//! `/v1/sms-senders`: the tenant's Twilio accounts — Account SID, write-only auth token, an
//! optional default From number. Reads show the token masked; a replace may leave it out or
//! send the mask back to keep it (for the same Account SID).

use crate::api::extract::{JsonBody, TenantId};
use crate::app::App;
use crate::destinations::request::MASK;
use crate::destinations::sms_senders::{self, SmsSender};
use crate::destinations::twilio;
use crate::error::ApiError;
use crate::model::format_time;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};
use std::sync::Arc;

const INVALID: &str = "invalid SMS sender";
/// The fields of an SMS sender in a request body.
pub const FIELDS: [&str; 4] = ["name", "accountSid", "authToken", "from"];

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::unprocessable(INVALID, detail)
}

/// Shows the last 4 characters of a secret at most, and only of a long one.
pub fn masked(secret: &str) -> String {
    let n = secret.chars().count();
    if n >= 16 {
        format!("{MASK}{}", secret.chars().skip(n - 4).collect::<String>())
    } else {
        MASK.to_string()
    }
}

/// The secret as given, or the kept one when it is left out or sent back masked.
pub fn secret(o: &Map<String, Value>, field: &str, kept: Option<&str>, what: &str) -> Result<String, String> {
    match (o.get(field), kept) {
        (Some(Value::String(s)), _) if s != MASK && !s.is_empty() && s.len() <= 256 => Ok(s.clone()),
        (None | Some(Value::Null), Some(k)) => Ok(k.to_string()),
        (Some(Value::String(s)), Some(k)) if s == MASK => Ok(k.to_string()),
        _ => Err(format!("{field}: required, {what}")),
    }
}

/// An SMS sender from the fields of `o` (other fields are the caller's to check). `existing`
/// keeps its id, creation time and, for the same Account SID, its token when none is given.
pub fn from_fields(
    app: &App,
    o: &Map<String, Value>,
    default_name: &str,
    existing: Option<&SmsSender>,
) -> Result<SmsSender, ApiError> {
    let account_sid = match o.get("accountSid") {
        Some(Value::String(s)) if twilio::is_account_sid(s) => s.clone(),
        Some(Value::String(s)) => {
            return Err(invalid(format!("accountSid: {s:?} is not a Twilio Account SID (AC and 32 hex digits)")))
        }
        _ => return Err(invalid("accountSid: required, the Twilio Account SID (AC and 32 hex digits)")),
    };
    let kept = existing.filter(|s| s.account_sid == account_sid).map(|s| s.auth_token.as_str());
    let auth_token = secret(o, "authToken", kept, "the Twilio auth token of the account").map_err(invalid)?;
    if auth_token.chars().any(char::is_whitespace) {
        return Err(invalid("authToken: must not contain spaces"));
    }
    let name = match o.get("name") {
        None | Some(Value::Null) => existing.map(|s| s.name.clone()).unwrap_or_else(|| default_name.to_string()),
        Some(Value::String(n)) if !n.trim().is_empty() && n.len() <= 200 => n.trim().to_string(),
        _ => return Err(invalid("name: must be a non-empty string")),
    };
    let from = match o.get("from") {
        None | Some(Value::Null) => None,
        Some(Value::String(f)) if !f.trim().is_empty() && f.len() <= 64 && !f.contains(char::is_control) => {
            Some(f.trim().to_string())
        }
        _ => return Err(invalid("from: must be a phone number (E.164) or a sender id")),
    };
    let now = format_time(app.now_ms());
    Ok(SmsSender {
        id: existing.map(|s| s.id.clone()).unwrap_or_else(sms_senders::new_id),
        name,
        account_sid,
        auth_token,
        from,
        created_at: existing.map(|s| s.created_at.clone()).unwrap_or_else(|| now.clone()),
        updated_at: now,
    })
}

fn parse_input(app: &App, body: &Value, existing: Option<&SmsSender>) -> Result<SmsSender, ApiError> {
    let o = body.as_object().ok_or_else(|| invalid("the SMS sender must be a JSON object"))?;
    if let Some(k) = o.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(invalid(format!("{k}: not a field of an SMS sender; its fields are {}", FIELDS.join(", "))));
    }
    from_fields(app, o, "Twilio", existing)
}

/// The sender as the API shows it: the auth token masked.
pub fn view(s: &SmsSender) -> Value {
    let mut v = serde_json::to_value(s).expect("senders serialize");
    v["authToken"] = json!(masked(&s.auth_token));
    v
}

pub async fn create(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let s = parse_input(&app, &body, None)?;
    sms_senders::put(app.store.as_ref(), &tenant, &s, None).await?;
    Ok((StatusCode::CREATED, Json(view(&s))))
}

pub async fn list(State(app): State<Arc<App>>, TenantId(tenant): TenantId) -> Result<Json<Value>, ApiError> {
    let ss = sms_senders::list(app.store.as_ref(), &tenant).await?;
    Ok(Json(json!({ "smsSenders": ss.iter().map(view).collect::<Vec<_>>() })))
}

pub async fn get_one(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let s = sms_senders::find(app.store.as_ref(), &tenant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("SMS sender", &id))?;
    Ok(Json(view(&s.value)))
}

pub async fn replace(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let cur = sms_senders::find(app.store.as_ref(), &tenant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("SMS sender", &id))?;
    let s = parse_input(&app, &body, Some(&cur.value))?;
    sms_senders::put(app.store.as_ref(), &tenant, &s, Some(cur.version)).await?;
    Ok(Json(view(&s)))
}

pub async fn delete(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if sms_senders::delete(app.store.as_ref(), &tenant, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("SMS sender", &id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_masked() {
        assert_eq!(masked("0123456789abcdef0123456789abcdef"), "****cdef");
        assert_eq!(masked("short"), "****");
        let s = SmsSender {
            id: "sms_1".into(),
            name: "n".into(),
            account_sid: "AC0123456789abcdef0123456789abcdef".into(),
            auth_token: "tok-0123456789-secret".into(),
            from: None,
            created_at: String::new(),
            updated_at: String::new(),
        };
        assert!(!view(&s).to_string().contains("tok-0123456789-secret"));
    }
}
