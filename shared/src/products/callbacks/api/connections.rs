//! `/v1/connections`: one notification kind sent to one destination — an HTTP destination
//! (`webhookId`, a webhook of `/v1/webhooks`) or an SMS sender (`smsSenderId`, a Twilio account of
//! `/v1/sms-senders`).
//!
//! The seed's inline forms still work: `"channel": "webhook"` with `url`, `auth` (none / Basic) and
//! `headers` (`key=value` lines, `{id}` → a fresh id per request), or `"channel": "twilio"` with
//! `accountSid` and `authToken`, creates the destination for the connection (a webhook with the
//! seed's `single-retry` policy, or an SMS sender) — or, on a replace, updates the one it is bound
//! to. Reads show the destination's fields too, secrets masked; sending a read back keeps them.

use crate::api::extract::{parse, JsonBody, TenantId};
use crate::api::openapi::Error;
use crate::api::v1::webhooks::{AuthInput, AuthView, HeadersInput};
use crate::api::v1::{sms_senders as senders_api, webhooks as webhooks_api};
use crate::app::App;
use crate::delivery::retry::RetryPolicy;
use crate::destinations::request::MASK;
use crate::destinations::sms_senders::{self, SmsSender};
use crate::error::ApiError;
use crate::model::{format_time, HeaderSpec, Webhook};
use crate::products::callbacks::model::{Channel, Connection, NotificationKind};
use crate::products::callbacks::store;
use crate::repo::webhooks;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use utoipa::ToSchema;

const INVALID: &str = "invalid connection";
const COMMON: [&str; 4] = ["name", "kind", "channel", "enabled"];
const WEBHOOK_FIELDS: [&str; 4] = ["webhookId", "url", "auth", "headers"];
const TWILIO_FIELDS: [&str; 4] = ["smsSenderId", "accountSid", "authToken", "from"];

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

/// Which kind of destination a connection sends to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChannelName {
    /// An HTTP destination (`/v1/webhooks`).
    Webhook,
    /// An SMS sender (`/v1/sms-senders`).
    Twilio,
}

/// A create or replace body: the kind, and the destination — bound by id (`webhookId`,
/// `smsSenderId`) or defined inline (the seed's form: `url`/`auth`/`headers`, or
/// `accountSid`/`authToken`/`from`). Strict: an unknown field, a field of the other channel or
/// a value of the wrong type is refused (422 naming it). A read's own fields (`id`, `createdAt`,
/// `updatedAt`) may be sent back and are ignored, and so may its masked secrets (they keep the
/// stored ones), so a read can be edited and PUT back.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConnectionInput {
    /// The notification kind: `confirmation`, `reminder`, `asap_reminder`, `final_attempt`,
    /// `success` or `chose_messaging` (the seed's spellings, such as "Final Attempt", are read
    /// as the same).
    #[schema(value_type = String, example = "confirmation")]
    pub kind: Option<String>,
    /// May be left out when `webhookId` or `smsSenderId` says it.
    pub channel: Option<ChannelName>,
    /// The webhook envelope's `webhookName`; defaults to "External Notification - <kind>".
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Defaults to true.
    pub enabled: Option<bool>,
    /// Webhook channel: a webhook of `/v1/webhooks` to send to (or to update with the inline
    /// fields).
    pub webhook_id: Option<String>,
    /// Webhook channel, inline: the http(s) URL that receives the notifications.
    #[schema(pattern = "^https?://")]
    pub url: Option<String>,
    /// Webhook channel, inline: none or Basic (send a read's masked password back to keep it).
    #[schema(value_type = Option<AuthInput>)]
    pub auth: Option<Value>,
    /// Webhook channel, inline: custom headers, in any of the webhook's forms (the seed's
    /// `key=value` lines; `{id}` becomes a fresh id per request).
    #[schema(value_type = Option<HeadersInput>)]
    pub headers: Option<Value>,
    /// Twilio channel: an SMS sender of `/v1/sms-senders` to send through (or to update with the
    /// inline fields).
    pub sms_sender_id: Option<String>,
    /// Twilio channel, inline: the Account SID.
    #[schema(pattern = "^AC[0-9a-fA-F]{32}$")]
    pub account_sid: Option<String>,
    /// Twilio channel, inline: write-only. Leave it out, or send a read's masked value back,
    /// to keep the stored token (for the same Account SID).
    #[schema(write_only, min_length = 1, max_length = 256, pattern = "^[!-~]+$")]
    pub auth_token: Option<String>,
    /// Twilio channel, inline: the sender's default From (the call target's handle is used
    /// when it has one).
    pub from: Option<String>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub id: Option<IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub created_at: Option<IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub updated_at: Option<IgnoredAny>,
}

impl ConnectionInput {
    /// The fields given (not null) of the webhook channel (`webhook`) or the Twilio one, by
    /// their JSON names.
    fn given(&self, webhook: bool) -> Vec<&'static str> {
        let present = if webhook {
            [self.webhook_id.is_some(), self.url.is_some(), self.auth.is_some(), self.headers.is_some()]
        } else {
            [self.sms_sender_id.is_some(), self.account_sid.is_some(), self.auth_token.is_some(), self.from.is_some()]
        };
        let names = if webhook { WEBHOOK_FIELDS } else { TWILIO_FIELDS };
        names.iter().zip(present).filter(|(_, p)| *p).map(|(n, _)| *n).collect()
    }
}

fn id_field(v: Option<String>, field: &str) -> Result<Option<String>, ApiError> {
    match v {
        None => Ok(None),
        Some(s) if !s.is_empty() => Ok(Some(s)),
        Some(_) => Err(invalid(format!("{field}: must be the id of one of your destinations"))),
    }
}

/// Validates the body and saves the destination it defines inline (if any); returns the
/// connection to store.
async fn save_input(
    app: &App,
    tenant: &str,
    body: Value,
    existing: Option<&Connection>,
) -> Result<Connection, ApiError> {
    if !body.is_object() {
        return Err(invalid("the connection must be a JSON object"));
    }
    let input: ConnectionInput = parse(body, INVALID)?;
    let kind = match &input.kind {
        Some(k) => NotificationKind::parse(k)
            .ok_or_else(|| invalid(format!("kind: {k:?} is not a notification kind; use one of {}", kinds())))?,
        None => return Err(invalid(format!("kind: required, one of {}", kinds()))),
    };
    let webhook = match input.channel {
        Some(c) => c == ChannelName::Webhook,
        None if input.webhook_id.is_some() => true,
        None if input.sms_sender_id.is_some() => false,
        None => return Err(invalid("channel: required, \"webhook\" or \"twilio\" (or give webhookId / smsSenderId)")),
    };
    let (channel_name, fields) = if webhook { ("webhook", WEBHOOK_FIELDS) } else { ("twilio", TWILIO_FIELDS) };
    if let Some(k) = input.given(!webhook).first() {
        let allowed: Vec<&str> = COMMON.iter().chain(fields.iter()).copied().collect();
        return Err(invalid(format!(
            "{k}: not a field of a {channel_name} connection; its fields are {}",
            allowed.join(", ")
        )));
    }
    let name = match &input.name {
        None => kind.default_name().to_string(),
        Some(n) if !n.trim().is_empty() && n.len() <= 200 => n.trim().to_string(),
        Some(_) => return Err(invalid("name: must be a non-empty string (it is the envelope's webhookName)")),
    };
    let enabled = input.enabled.unwrap_or(true);
    let channel = if webhook {
        let bound = id_field(input.webhook_id.clone(), "webhookId")?.or_else(|| match existing.map(|c| &c.channel) {
            Some(Channel::Webhook { webhook_id }) => Some(webhook_id.clone()),
            _ => None,
        });
        Channel::Webhook { webhook_id: save_webhook(app, tenant, &input, &name, bound).await? }
    } else {
        let bound =
            id_field(input.sms_sender_id.clone(), "smsSenderId")?.or_else(|| match existing.map(|c| &c.channel) {
                Some(Channel::Twilio { sender_id }) => Some(sender_id.clone()),
                _ => None,
            });
        Channel::Twilio { sender_id: save_sender(app, tenant, &input, &name, bound).await? }
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
    input: &ConnectionInput,
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
    let inline = input.url.is_some() || input.auth.is_some() || input.headers.is_some();
    if !inline {
        return current.map(|w| w.value.id).ok_or_else(|| {
            invalid("url: required, the http(s) URL that receives the notifications (or give webhookId)")
        });
    }
    let Some(url) = &input.url else {
        return Err(invalid("url: required, the http(s) URL that receives the notifications"));
    };
    // Checked by the webhook's own parser (strict, typed) below.
    let auth = input.auth.clone().unwrap_or(Value::Null);
    let headers = input.headers.clone().unwrap_or(Value::Null);
    match current {
        Some(cur) => {
            // The inline fields replace the webhook's URL, auth and headers; the rest (method,
            // accepted codes, policy, timeout, signing secret) stays as the webhook has it.
            let w = &cur.value;
            let body = json!({"name": w.name, "url": url, "auth": auth, "headers": headers,
                "method": w.method, "successCodes": w.success_codes, "retryPolicy": w.retry_policy,
                "timeoutMs": w.timeout_ms});
            let updated = webhooks_api::parse_input(app, body, Some(w)).map_err(as_connection_error)?;
            webhooks_api::check_resolved(app, &updated.url, "url", "destination refused").await?;
            webhooks::update(st, tenant, &updated, cur.version).await?;
            Ok(updated.id)
        }
        None => {
            // The seed's error rule for notifications: a single retry.
            let body = json!({"name": name, "url": url, "auth": auth, "headers": headers,
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
    input: &ConnectionInput,
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
    let inline = input.account_sid.is_some() || input.auth_token.is_some() || input.from.is_some();
    if !inline {
        return current.map(|s| s.value.id).ok_or_else(|| {
            invalid("accountSid: required, the Twilio Account SID (AC and 32 hex digits) (or give smsSenderId)")
        });
    }
    let mut fields = Map::new();
    if let Some(sid) = &input.account_sid {
        fields.insert("accountSid".into(), json!(sid));
    }
    if let Some(token) = &input.auth_token {
        fields.insert("authToken".into(), json!(token_sent(token, current.as_ref().map(|c| &c.value))?));
    }
    if let Some(from) = &input.from {
        fields.insert("from".into(), json!(from));
    }
    let s = senders_api::from_fields(app, &fields, name, current.as_ref().map(|c| &c.value))
        .map_err(as_connection_error)?;
    sms_senders::put(st, tenant, &s, current.map(|c| c.version)).await?;
    Ok(s.id)
}

/// A connection as the API shows it: its binding, and its destination's fields (secrets
/// masked), so a read can be sent back as a replace.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionView {
    #[schema(example = "con_01hx5v3k9a7m2n4p6q8r0s2t4v")]
    pub id: String,
    /// The webhook envelope's `webhookName`.
    pub name: String,
    pub kind: NotificationKind,
    pub enabled: bool,
    pub channel: ChannelName,
    /// Webhook channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<String>,
    /// Twilio channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_sender_id: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// The webhook's URL (webhook channel, while the webhook exists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The webhook's auth, the password masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthView>,
    /// The webhook's headers, credential values masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<Vec<HeaderSpec>>,
    /// The SMS sender's Account SID (Twilio channel, while the sender exists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_sid: Option<String>,
    /// The SMS sender's auth token, masked (`****` and at most its last 4 characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "****cdef")]
    pub auth_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ConnectionList {
    pub connections: Vec<ConnectionView>,
}

async fn view(app: &App, tenant: &str, c: &Connection) -> Result<ConnectionView, ApiError> {
    let st = app.store.as_ref();
    Ok(match &c.channel {
        Channel::Webhook { webhook_id } => {
            view_of(c, webhooks::find(st, tenant, webhook_id).await?.map(|w| w.value), None)
        }
        Channel::Twilio { sender_id } => {
            view_of(c, None, sms_senders::find(st, tenant, sender_id).await?.map(|s| s.value))
        }
    })
}

/// The view of `c` with its destination (`None` once it is deleted).
fn view_of(c: &Connection, webhook: Option<Webhook>, sender: Option<SmsSender>) -> ConnectionView {
    let mut v = ConnectionView {
        id: c.id.clone(),
        name: c.name.clone(),
        kind: c.kind,
        enabled: c.enabled,
        channel: ChannelName::Webhook,
        webhook_id: None,
        sms_sender_id: None,
        created_at: c.created_at.clone(),
        updated_at: c.updated_at.clone(),
        url: None,
        auth: None,
        headers: None,
        account_sid: None,
        auth_token: None,
        from: None,
    };
    match &c.channel {
        Channel::Webhook { webhook_id } => {
            v.webhook_id = Some(webhook_id.clone());
            if let Some(w) = webhook {
                let wv = webhooks_api::view(&w);
                (v.url, v.auth, v.headers) = (Some(wv.url), Some(wv.auth), Some(wv.headers));
            }
        }
        Channel::Twilio { sender_id } => {
            v.channel = ChannelName::Twilio;
            v.sms_sender_id = Some(sender_id.clone());
            if let Some(s) = sender {
                v.auth_token = Some(senders_api::masked(&s.auth_token));
                (v.account_sid, v.from) = (Some(s.account_sid), s.from);
            }
        }
    }
    v
}

#[utoipa::path(post, path = "/v1/connections", tag = "callbacks", operation_id = "create_connection",
    request_body = ConnectionInput,
    responses((status = 201, description = "Created (with the destination it defines inline)", body = ConnectionView)))]
pub async fn create(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<ConnectionView>), ApiError> {
    let c = save_input(&app, &tenant, body, None).await?;
    store::put_connection(app.store.as_ref(), &tenant, &c, None).await?;
    Ok((StatusCode::CREATED, Json(view(&app, &tenant, &c).await?)))
}

#[utoipa::path(get, path = "/v1/connections", tag = "callbacks", operation_id = "list_connections",
    responses((status = 200, description = "Every connection of the tenant, secrets masked", body = ConnectionList)))]
pub async fn list(State(app): State<Arc<App>>, TenantId(tenant): TenantId) -> Result<Json<ConnectionList>, ApiError> {
    let cs = store::connections(app.store.as_ref(), &tenant).await?;
    let mut connections = Vec::with_capacity(cs.len());
    for c in &cs {
        connections.push(view(&app, &tenant, c).await?);
    }
    Ok(Json(ConnectionList { connections }))
}

#[utoipa::path(get, path = "/v1/connections/{id}", tag = "callbacks", operation_id = "get_connection",
    params(("id" = String, Path, description = "The connection's id")),
    responses((status = 200, description = "The connection and its destination's fields, secrets masked", body = ConnectionView)))]
pub async fn get_one(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<Json<ConnectionView>, ApiError> {
    let c = store::connection(app.store.as_ref(), &tenant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("connection", &id))?;
    Ok(Json(view(&app, &tenant, &c.value).await?))
}

#[utoipa::path(put, path = "/v1/connections/{id}", tag = "callbacks", operation_id = "replace_connection",
    params(("id" = String, Path, description = "The connection's id")),
    request_body = ConnectionInput,
    responses((status = 200, description = "Replaced; masked secrets sent back keep the stored ones", body = ConnectionView),
        (status = 409, description = "Changed concurrently; read it again", body = Error)))]
pub async fn replace(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<ConnectionView>, ApiError> {
    let cur = store::connection(app.store.as_ref(), &tenant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("connection", &id))?;
    let c = save_input(&app, &tenant, body, Some(&cur.value)).await?;
    store::put_connection(app.store.as_ref(), &tenant, &c, Some(cur.version)).await?;
    Ok(Json(view(&app, &tenant, &c).await?))
}

#[utoipa::path(delete, path = "/v1/connections/{id}", tag = "callbacks", operation_id = "delete_connection",
    params(("id" = String, Path, description = "The connection's id")),
    responses((status = 204, description = "Deleted")))]
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
    use crate::model::webhook::SigningSecret;
    use crate::model::{HttpMethod, WebhookAuth};
    use crate::products::callbacks::api::contract::{doc, documented, named, returned};
    use std::collections::BTreeSet;

    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    fn connection(channel: Channel) -> Connection {
        Connection {
            id: "con_1".into(),
            name: "n".into(),
            kind: NotificationKind::Confirmation,
            enabled: true,
            channel,
            created_at: "2024-10-16T15:47:15Z".into(),
            updated_at: "2024-10-16T15:47:15Z".into(),
        }
    }

    fn sender() -> SmsSender {
        SmsSender {
            id: "sms_1".into(),
            name: "main".into(),
            account_sid: "AC0123456789abcdef0123456789abcdef".into(),
            auth_token: TOKEN.into(),
            from: Some("+15550001111".into()),
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    /// The documented response is the view: the fields of a webhook connection's read and of a
    /// Twilio one's, together, are exactly the documented ones; and every field a read carries
    /// is one a replace accepts.
    #[test]
    fn the_view_is_the_document_and_a_read_goes_back() {
        let webhook = Webhook {
            id: "wh_1".into(),
            name: "crm".into(),
            url: "https://hooks.example.com/".into(),
            method: HttpMethod::Post,
            headers: vec![HeaderSpec { name: "X-Api-Key".into(), value: "k".into() }],
            auth: WebhookAuth::Basic { username: "u".into(), password: "p".into() },
            success_codes: vec![],
            retry_policy: Default::default(),
            timeout_ms: 1000,
            secrets: vec![SigningSecret { secret: "whsec_x".into(), expires_at_ms: None }],
            template_id: None,
            created_at: String::new(),
            updated_at: String::new(),
        };
        let doc = doc();
        let by_webhook = view_of(&connection(Channel::Webhook { webhook_id: "wh_1".into() }), Some(webhook), None);
        let by_sms = view_of(&connection(Channel::Twilio { sender_id: "sms_1".into() }), None, Some(sender()));
        let both: BTreeSet<String> = returned(&by_webhook).union(&returned(&by_sms)).cloned().collect();
        assert_eq!(documented(&doc, "ConnectionView"), both);
        assert_eq!(by_sms.auth_token.as_deref(), Some("****cdef"), "the token is masked");
        assert_eq!(named(&doc, "get", "/v1/connections/{id}", "200"), "#/components/schemas/ConnectionView");
        assert_eq!(named(&doc, "get", "/v1/connections", "200"), "#/components/schemas/ConnectionList");
        assert_eq!(named(&doc, "put", "/v1/connections/{id}", "body"), "#/components/schemas/ConnectionInput");
        let accepted = documented(&doc, "ConnectionInput");
        assert!(both.is_subset(&accepted), "a read's fields not accepted: {:?}", both.difference(&accepted));
        for read in [&by_webhook, &by_sms] {
            let input: ConnectionInput = parse(serde_json::to_value(read).unwrap(), INVALID).unwrap();
            assert!(input.kind.is_some() && input.channel.is_some());
        }
        let e = parse::<ConnectionInput>(json!({"kind": "success", "region": "eu"}), INVALID).err().unwrap();
        assert!(e.detail.starts_with("region: unknown field"), "{}", e.detail);
    }

    /// A read's masked token sent back keeps the stored token (it becomes the mask the SMS
    /// sender's parser keeps it for); a masked value that is not the stored token's is refused
    /// rather than stored as the token.
    #[test]
    fn a_masked_token_sent_back_keeps_the_stored_one() {
        let s = sender();
        assert_eq!(token_sent("****cdef", Some(&s)).unwrap(), MASK);
        assert_eq!(token_sent(MASK, Some(&s)).unwrap(), MASK, "the plain mask keeps it too, as before");
        assert_eq!(token_sent("new-token", Some(&s)).unwrap(), "new-token");
        assert_eq!(token_sent("new-token", None).unwrap(), "new-token");
        assert!(token_sent("****abcd", Some(&s)).unwrap_err().detail.starts_with("authToken:"));
        assert!(token_sent("****cdef", None).is_err(), "nothing to keep");
        // The SMS sender's own rule (same Account SID only) is tested in api::v1::sms_senders.
    }
}
