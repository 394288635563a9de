//! `/v1/connections`: one notification kind over one channel — Twilio SMS with the tenant's own
//! Account SID and auth token, or a webhook (no auth or Basic auth; URL; `key=value` header
//! lines where `{id}` becomes a fresh id per request). Auth tokens and passwords are
//! write-only: reads show them masked, and a replace may send the mask back to keep them.

use crate::api::extract::{JsonBody, TenantId};
use crate::api::v1::webhooks::parse_headers;
use crate::app::App;
use crate::delivery::ssrf;
use crate::error::ApiError;
use crate::model::{format_time, HeaderSpec, WebhookAuth};
use crate::notifications::model::{Channel, Connection, NotificationKind};
use crate::notifications::{store, twilio};
use crate::pipeline::deliver;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};
use std::sync::Arc;

const INVALID: &str = "invalid connection";
pub const MASK: &str = "****";
const COMMON: [&str; 4] = ["name", "kind", "channel", "enabled"];
const WEBHOOK_FIELDS: [&str; 3] = ["url", "auth", "headers"];
const TWILIO_FIELDS: [&str; 2] = ["accountSid", "authToken"];

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::unprocessable(INVALID, detail)
}

fn kinds() -> String {
    NotificationKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
}

/// The secret as given, or the stored one when it is left out or sent back masked.
fn secret(o: &Map<String, Value>, field: &str, kept: Option<&str>, what: &str) -> Result<String, ApiError> {
    match (o.get(field), kept) {
        (Some(Value::String(s)), _) if s != MASK && !s.is_empty() && s.len() <= 256 => Ok(s.clone()),
        (None | Some(Value::Null), Some(k)) => Ok(k.to_string()),
        (Some(Value::String(s)), Some(k)) if s == MASK => Ok(k.to_string()),
        _ => Err(invalid(format!("{field}: required, {what}"))),
    }
}

fn parse_input(app: &App, body: &Value, existing: Option<&Connection>) -> Result<Connection, ApiError> {
    let o = body.as_object().ok_or_else(|| invalid("the connection must be a JSON object"))?;
    let kind = match o.get("kind") {
        Some(Value::String(k)) => NotificationKind::parse(k)
            .ok_or_else(|| invalid(format!("kind: {k:?} is not a notification kind; use one of {}", kinds())))?,
        _ => return Err(invalid(format!("kind: required, one of {}", kinds()))),
    };
    let channel_name = match o.get("channel") {
        Some(Value::String(c)) if c == "webhook" || c == "twilio" => c.as_str(),
        _ => return Err(invalid("channel: required, \"webhook\" or \"twilio\"")),
    };
    let allowed: Vec<&str> = COMMON
        .iter()
        .chain(if channel_name == "webhook" { WEBHOOK_FIELDS.as_slice() } else { TWILIO_FIELDS.as_slice() })
        .copied()
        .collect();
    if let Some(k) = o.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(invalid(format!(
            "{k}: not a field of a {channel_name} connection; its fields are {}",
            allowed.join(", ")
        )));
    }
    let name = match o.get("name") {
        None | Some(Value::Null) => kind.default_name().to_string(),
        Some(Value::String(n)) if !n.trim().is_empty() && n.len() <= 200 => n.trim().to_string(),
        _ => return Err(invalid("name: must be a non-empty string (it is the envelope's webhookName)")),
    };
    let enabled = match o.get("enabled") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        _ => return Err(invalid("enabled: must be true or false")),
    };
    let channel = if channel_name == "webhook" {
        let url = match o.get("url") {
            Some(Value::String(u)) => {
                ssrf::check_url_at_creation(u, &app.settings.destinations).map_err(|e| {
                    ApiError::unprocessable(
                        if matches!(e, ssrf::DestinationError::Refused { .. }) {
                            "destination refused"
                        } else {
                            INVALID
                        },
                        format!("url: {e}"),
                    )
                })?;
                u.clone()
            }
            _ => return Err(invalid("url: required, the http(s) URL that receives the notifications")),
        };
        let old = match existing.map(|c| &c.channel) {
            Some(Channel::Webhook { auth, headers, .. }) => Some((auth, headers)),
            _ => None,
        };
        let mut headers = parse_headers(o.get("headers")).map_err(|e| invalid(e.detail))?;
        if let Some((_, old_headers)) = old {
            for h in &mut headers {
                if let Some(e) = old_headers.iter().find(|e| {
                    e.name.eq_ignore_ascii_case(&h.name) && deliver::mask_header(&e.name, &e.value) == h.value
                }) {
                    h.value = e.value.clone();
                }
            }
        }
        let auth = match o.get("auth") {
            None | Some(Value::Null) => WebhookAuth::None,
            Some(Value::Object(a)) => {
                if let Some(k) = a.keys().find(|k| !["type", "username", "password"].contains(&k.as_str())) {
                    return Err(invalid(format!("auth.{k}: unknown field; use type, username, password")));
                }
                match a.get("type").and_then(Value::as_str) {
                    None | Some("none") => WebhookAuth::None,
                    Some("basic") => {
                        let username = a
                            .get("username")
                            .and_then(Value::as_str)
                            .filter(|u| !u.is_empty() && !u.contains(':') && u.len() <= 256)
                            .ok_or_else(|| invalid("auth.username: required for basic auth, without ':'"))?;
                        let kept = match old.map(|(auth, _)| auth) {
                            Some(WebhookAuth::Basic { password, .. }) => Some(password.as_str()),
                            _ => None,
                        };
                        let password = secret(a, "password", kept, "the Basic auth password")
                            .map_err(|e| invalid(format!("auth.{}", e.detail)))?;
                        WebhookAuth::Basic { username: username.to_string(), password }
                    }
                    Some(t) => return Err(invalid(format!("auth.type: {t:?}; use \"none\" or \"basic\""))),
                }
            }
            Some(_) => {
                return Err(invalid(
                    "auth: must be {\"type\": \"none\"} or {\"type\": \"basic\", \"username\", \"password\"}",
                ))
            }
        };
        Channel::Webhook { url, auth, headers }
    } else {
        let account_sid = match o.get("accountSid") {
            Some(Value::String(s)) if twilio::is_account_sid(s) => s.clone(),
            Some(Value::String(s)) => {
                return Err(invalid(format!("accountSid: {s:?} is not a Twilio Account SID (AC and 32 hex digits)")))
            }
            _ => return Err(invalid("accountSid: required, the Twilio Account SID (AC and 32 hex digits)")),
        };
        let kept = match existing.map(|c| &c.channel) {
            Some(Channel::Twilio { auth_token, account_sid: old_sid }) if *old_sid == account_sid => {
                Some(auth_token.as_str())
            }
            _ => None,
        };
        let auth_token = secret(o, "authToken", kept, "the Twilio auth token of the account")?;
        if auth_token.chars().any(char::is_whitespace) {
            return Err(invalid("authToken: must not contain spaces"));
        }
        Channel::Twilio { account_sid, auth_token }
    };
    let now = format_time(app.now_ms());
    Ok(Connection {
        id: existing
            .map(|c| c.id.clone())
            .unwrap_or_else(|| format!("con_{}", ulid::Ulid::new().to_string().to_lowercase())),
        name,
        kind,
        enabled,
        channel,
        created_at: existing.map(|c| c.created_at.clone()).unwrap_or_else(|| now.clone()),
        updated_at: now,
    })
}

/// Shows the last 4 characters of a secret at most, and only of a long one.
fn masked(secret: &str) -> String {
    let n = secret.chars().count();
    if n >= 16 {
        format!("{MASK}{}", secret.chars().skip(n - 4).collect::<String>())
    } else {
        MASK.to_string()
    }
}

/// The connection as the API shows it: auth token and password masked.
pub fn view(c: &Connection) -> Value {
    let mut v = serde_json::to_value(c).expect("connections serialize");
    match &c.channel {
        Channel::Twilio { auth_token, .. } => v["authToken"] = json!(masked(auth_token)),
        Channel::Webhook { auth, headers, .. } => {
            if let WebhookAuth::Basic { username, .. } = auth {
                v["auth"] = json!({"type": "basic", "username": username, "password": MASK});
            }
            v["headers"] = json!(headers
                .iter()
                .map(|h| HeaderSpec { name: h.name.clone(), value: deliver::mask_header(&h.name, &h.value) })
                .collect::<Vec<_>>());
        }
    }
    v
}

pub async fn create(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let c = parse_input(&app, &body, None)?;
    store::put_connection(app.store.as_ref(), &tenant, &c, None).await?;
    Ok((StatusCode::CREATED, Json(view(&c))))
}

pub async fn list(State(app): State<Arc<App>>, TenantId(tenant): TenantId) -> Result<Json<Value>, ApiError> {
    let cs = store::connections(app.store.as_ref(), &tenant).await?;
    Ok(Json(json!({ "connections": cs.iter().map(view).collect::<Vec<_>>() })))
}

pub async fn get_one(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let c = store::connection(app.store.as_ref(), &tenant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("connection", &id))?;
    Ok(Json(view(&c.value)))
}

pub async fn replace(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let cur = store::connection(app.store.as_ref(), &tenant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("connection", &id))?;
    let c = parse_input(&app, &body, Some(&cur.value))?;
    store::put_connection(app.store.as_ref(), &tenant, &c, Some(cur.version)).await?;
    Ok(Json(view(&c)))
}

pub async fn delete(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if store::delete_connection(app.store.as_ref(), &tenant, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("connection", &id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked() {
        assert_eq!(masked("0123456789abcdef0123456789abcdef"), "****cdef");
        assert_eq!(masked("short"), "****");
        let c = Connection {
            id: "con_1".into(),
            name: "n".into(),
            kind: NotificationKind::Success,
            enabled: true,
            channel: Channel::Webhook {
                url: "http://x".into(),
                auth: WebhookAuth::Basic { username: "u".into(), password: "hunter2".into() },
                headers: vec![HeaderSpec { name: "X-Api-Key".into(), value: "k-secret".into() }],
            },
            created_at: String::new(),
            updated_at: String::new(),
        };
        let v = view(&c).to_string();
        assert!(!v.contains("hunter2") && !v.contains("k-secret"), "{v}");
        assert!(v.contains("\"channel\":\"webhook\""), "{v}");
    }
}
