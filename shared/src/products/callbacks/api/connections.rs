//! `/v1/connections`: one notification kind sent to one destination — an HTTP destination
//! (`webhookId`, a webhook of `/v1/webhooks`) or an SMS sender (`smsSenderId`, a Twilio account of
//! `/v1/sms-senders`).
//!
//! The seed's inline forms still work: `"channel": "webhook"` with `url`, `auth` (none / Basic) and
//! `headers` (`key=value` lines, `{id}` → a fresh id per request), or `"channel": "twilio"` with
//! `accountSid` and `authToken`, creates the destination for the connection (a webhook with the
//! seed's `single-retry` policy, or an SMS sender) — or, on a replace, updates the one it is bound
//! to. Reads show the destination's fields too, secrets masked; sending a read back keeps them.

use crate::api::extract::{JsonBody, TenantId};
use crate::api::v1::{sms_senders as senders_api, webhooks as webhooks_api};
use crate::app::App;
use crate::delivery::retry::RetryPolicy;
use crate::destinations::request::MASK;
use crate::destinations::sms_senders::{self, SmsSender};
use crate::error::ApiError;
use crate::model::format_time;
use crate::products::callbacks::model::{Channel, Connection, NotificationKind};
use crate::products::callbacks::store;
use crate::repo::webhooks;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};
use std::sync::Arc;

const INVALID: &str = "invalid connection";
const COMMON: [&str; 4] = ["name", "kind", "channel", "enabled"];
const WEBHOOK_FIELDS: [&str; 4] = ["webhookId", "url", "auth", "headers"];
const INLINE_WEBHOOK: [&str; 3] = ["url", "auth", "headers"];
const TWILIO_FIELDS: [&str; 4] = ["smsSenderId", "accountSid", "authToken", "from"];
const INLINE_TWILIO: [&str; 3] = ["accountSid", "authToken", "from"];

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::unprocessable(INVALID, detail)
}

/// A destination's validation error, named as the connection's.
fn as_connection_error(mut e: ApiError) -> ApiError {
    if e.error != "destination refused" {
        e.error = INVALID.into();
    }
    e
}

fn kinds() -> String {
    NotificationKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
}

fn id_field<'a>(o: &'a Map<String, Value>, field: &str) -> Result<Option<&'a str>, ApiError> {
    match o.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s)),
        _ => Err(invalid(format!("{field}: must be the id of one of your destinations"))),
    }
}

/// Validates the body and saves the destination it defines inline (if any); returns the
/// connection to store.
async fn save_input(
    app: &App,
    tenant: &str,
    body: &Value,
    existing: Option<&Connection>,
) -> Result<Connection, ApiError> {
    let o = body.as_object().ok_or_else(|| invalid("the connection must be a JSON object"))?;
    let kind = match o.get("kind") {
        Some(Value::String(k)) => NotificationKind::parse(k)
            .ok_or_else(|| invalid(format!("kind: {k:?} is not a notification kind; use one of {}", kinds())))?,
        _ => return Err(invalid(format!("kind: required, one of {}", kinds()))),
    };
    let webhook = match o.get("channel") {
        Some(Value::String(c)) if c == "webhook" => true,
        Some(Value::String(c)) if c == "twilio" => false,
        None | Some(Value::Null) if o.contains_key("webhookId") => true,
        None | Some(Value::Null) if o.contains_key("smsSenderId") => false,
        _ => return Err(invalid("channel: required, \"webhook\" or \"twilio\" (or give webhookId / smsSenderId)")),
    };
    let (channel_name, fields) = if webhook { ("webhook", WEBHOOK_FIELDS) } else { ("twilio", TWILIO_FIELDS) };
    let allowed: Vec<&str> = COMMON.iter().chain(fields.iter()).copied().collect();
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
    let channel = if webhook {
        let bound = id_field(o, "webhookId")?.map(str::to_string).or_else(|| match existing.map(|c| &c.channel) {
            Some(Channel::Webhook { webhook_id }) => Some(webhook_id.clone()),
            _ => None,
        });
        Channel::Webhook { webhook_id: save_webhook(app, tenant, o, &name, bound).await? }
    } else {
        let bound = id_field(o, "smsSenderId")?.map(str::to_string).or_else(|| match existing.map(|c| &c.channel) {
            Some(Channel::Twilio { sender_id }) => Some(sender_id.clone()),
            _ => None,
        });
        Channel::Twilio { sender_id: save_sender(app, tenant, o, &name, bound).await? }
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

/// The webhook the connection sends to: `bound` as it is, or — with inline `url`/`auth`/`headers`
/// — `bound` updated with them, or a new webhook made of them.
async fn save_webhook(
    app: &App,
    tenant: &str,
    o: &Map<String, Value>,
    name: &str,
    bound: Option<String>,
) -> Result<String, ApiError> {
    let st = app.store.as_ref();
    let current = match &bound {
        Some(id) => Some(
            webhooks::find(st, tenant, id)
                .await?
                .ok_or_else(|| invalid(format!("webhookId: no webhook with id {id:?}")))?,
        ),
        None => None,
    };
    if !INLINE_WEBHOOK.iter().any(|k| o.contains_key(*k)) {
        return current.map(|w| w.value.id).ok_or_else(|| {
            invalid("url: required, the http(s) URL that receives the notifications (or give webhookId)")
        });
    }
    if !matches!(o.get("url"), Some(Value::String(_))) {
        return Err(invalid("url: required, the http(s) URL that receives the notifications"));
    }
    if let Some(Value::Object(a)) = o.get("auth") {
        if let Some(k) = a.keys().find(|k| !["type", "username", "password"].contains(&k.as_str())) {
            return Err(invalid(format!("auth.{k}: unknown field; use type, username, password")));
        }
    }
    let pick = |k: &str| o.get(k).cloned().unwrap_or(Value::Null);
    match current {
        Some(cur) => {
            // The inline fields replace the webhook's URL, auth and headers; the rest (method,
            // accepted codes, policy, timeout, signing secret) stays as the webhook has it.
            let w = &cur.value;
            let body = json!({"name": w.name, "url": pick("url"), "auth": pick("auth"), "headers": pick("headers"),
                "method": w.method, "successCodes": w.success_codes, "retryPolicy": w.retry_policy,
                "timeoutMs": w.timeout_ms});
            let updated = webhooks_api::parse_input(app, body, Some(w)).map_err(as_connection_error)?;
            webhooks_api::check_resolved(app, &updated.url, "url", "destination refused").await?;
            webhooks::update(st, tenant, &updated, cur.version).await?;
            Ok(updated.id)
        }
        None => {
            // The seed's error rule for notifications: a single retry.
            let body = json!({"name": name, "url": pick("url"), "auth": pick("auth"), "headers": pick("headers"),
                "retryPolicy": RetryPolicy::SingleRetry});
            let created = webhooks_api::parse_input(app, body, None).map_err(as_connection_error)?;
            // As for a webhook: a name resolving to a forbidden address is refused now, not at
            // the first notification.
            webhooks_api::check_resolved(app, &created.url, "url", "destination refused").await?;
            webhooks::insert(st, tenant, &created).await?;
            Ok(created.id)
        }
    }
}

/// The `authToken` to give the SMS sender's parser: a read's masked token (`****cdef`) sent back
/// becomes the plain mask, which that parser keeps the stored token for (for the same Account
/// SID). Any other value that looks masked is refused: stored, it would replace the real token
/// with the mask.
fn token_sent(given: &str, current: Option<&SmsSender>) -> Result<String, ApiError> {
    if !given.starts_with(MASK) || given == MASK {
        return Ok(given.to_string());
    }
    match current {
        Some(c) if senders_api::masked(&c.auth_token) == given => Ok(MASK.to_string()),
        _ => Err(invalid(
            "authToken: a masked token keeps only the token of the SMS sender it was read from; send the real token",
        )),
    }
}

/// The SMS sender the connection sends through: `bound` as it is, or updated with / made of the
/// inline `accountSid`, `authToken` and `from`.
async fn save_sender(
    app: &App,
    tenant: &str,
    o: &Map<String, Value>,
    name: &str,
    bound: Option<String>,
) -> Result<String, ApiError> {
    let st = app.store.as_ref();
    let current = match &bound {
        Some(id) => Some(
            sms_senders::find(st, tenant, id)
                .await?
                .ok_or_else(|| invalid(format!("smsSenderId: no SMS sender with id {id:?}")))?,
        ),
        None => None,
    };
    if !INLINE_TWILIO.iter().any(|k| o.contains_key(*k)) {
        return current.map(|s| s.value.id).ok_or_else(|| {
            invalid("accountSid: required, the Twilio Account SID (AC and 32 hex digits) (or give smsSenderId)")
        });
    }
    let mut fields: Map<String, Value> =
        o.iter().filter(|(k, _)| INLINE_TWILIO.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
    if let Some(Value::String(token)) = fields.get("authToken") {
        let token = token_sent(token, current.as_ref().map(|c| &c.value))?;
        fields.insert("authToken".into(), json!(token));
    }
    let s = senders_api::from_fields(app, &fields, name, current.as_ref().map(|c| &c.value))
        .map_err(as_connection_error)?;
    sms_senders::put(st, tenant, &s, current.map(|c| c.version)).await?;
    Ok(s.id)
}

/// The connection as the API shows it: its binding, and its destination's fields (secrets
/// masked), so a read can be sent back as a replace.
async fn view(app: &App, tenant: &str, c: &Connection) -> Result<Value, ApiError> {
    let mut v = serde_json::to_value(c).expect("connections serialize");
    let st = app.store.as_ref();
    match &c.channel {
        Channel::Webhook { webhook_id } => {
            if let Some(w) = webhooks::find(st, tenant, webhook_id).await? {
                let wv = serde_json::to_value(webhooks_api::view(&w.value)).expect("webhooks serialize");
                for k in INLINE_WEBHOOK {
                    v[k] = wv[k].clone();
                }
            }
        }
        Channel::Twilio { sender_id } => {
            if let Some(s) = sms_senders::find(st, tenant, sender_id).await? {
                let sv = senders_api::view(&s.value);
                for k in INLINE_TWILIO {
                    if !sv[k].is_null() {
                        v[k] = sv[k].clone();
                    }
                }
            }
        }
    }
    Ok(v)
}

pub async fn create(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let c = save_input(&app, &tenant, &body, None).await?;
    store::put_connection(app.store.as_ref(), &tenant, &c, None).await?;
    Ok((StatusCode::CREATED, Json(view(&app, &tenant, &c).await?)))
}

pub async fn list(State(app): State<Arc<App>>, TenantId(tenant): TenantId) -> Result<Json<Value>, ApiError> {
    let cs = store::connections(app.store.as_ref(), &tenant).await?;
    let mut views = Vec::with_capacity(cs.len());
    for c in &cs {
        views.push(view(&app, &tenant, c).await?);
    }
    Ok(Json(json!({ "connections": views })))
}

pub async fn get_one(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let c = store::connection(app.store.as_ref(), &tenant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("connection", &id))?;
    Ok(Json(view(&app, &tenant, &c.value).await?))
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
    let c = save_input(&app, &tenant, &body, Some(&cur.value)).await?;
    store::put_connection(app.store.as_ref(), &tenant, &c, Some(cur.version)).await?;
    Ok(Json(view(&app, &tenant, &c).await?))
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

    /// A read's masked token sent back keeps the stored token (it becomes the mask the SMS
    /// sender's parser keeps it for); a masked value that is not the stored token's is refused
    /// rather than stored as the token.
    #[test]
    fn a_masked_token_sent_back_keeps_the_stored_one() {
        const TOKEN: &str = "0123456789abcdef0123456789abcdef";
        let s = SmsSender {
            id: "sms_1".into(),
            name: "main".into(),
            account_sid: "AC0123456789abcdef0123456789abcdef".into(),
            auth_token: TOKEN.into(),
            from: None,
            created_at: String::new(),
            updated_at: String::new(),
        };
        assert_eq!(token_sent("****cdef", Some(&s)).unwrap(), MASK);
        assert_eq!(token_sent(MASK, Some(&s)).unwrap(), MASK, "the plain mask keeps it too, as before");
        assert_eq!(token_sent("new-token", Some(&s)).unwrap(), "new-token");
        assert_eq!(token_sent("new-token", None).unwrap(), "new-token");
        assert!(token_sent("****abcd", Some(&s)).unwrap_err().detail.starts_with("authToken:"));
        assert!(token_sent("****cdef", None).is_err(), "nothing to keep");
        // The SMS sender's own rule then keeps the token for the same Account SID only.
        let mut fields = Map::new();
        fields.insert("accountSid".into(), json!(s.account_sid));
        fields.insert("authToken".into(), json!(MASK));
        assert_eq!(senders_api::secret(&fields, "authToken", Some(TOKEN), "t").unwrap(), TOKEN);
    }
}
