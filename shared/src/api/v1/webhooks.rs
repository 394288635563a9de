//! `/v1/webhooks`: endpoints with URL, method, headers, auth, accepted codes, retry policy,
//! timeout, signing secret and an optional body template. Passwords and secrets are write-only: reads show them masked.

use crate::api::extract::{parse, parse_object, JsonBody, OptionalJsonBody, TenantId};
use crate::api::openapi::Error;
use crate::app::App;
use crate::delivery::retry::RetryPolicy;
use crate::delivery::{signing, ssrf};
use crate::destinations::request::{
    forbidden_header, mask_header, MASK, MAX_CUSTOM_HEADERS, MAX_HEADER_NAME_BYTES, MAX_HEADER_VALUE_BYTES,
};
use crate::destinations::templates;
use crate::error::ApiError;
use crate::model::webhook::{SigningSecret, DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS};
use crate::model::{format_time, HeaderSpec, HttpMethod, Webhook, WebhookAuth};
use crate::repo::webhooks;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use utoipa::ToSchema;

const INVALID: &str = "invalid webhook";
/// How long the previous secret keeps signing after a rotation.
pub const ROTATION_GRACE_MS: i64 = 24 * 3600 * 1000;

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::unprocessable(INVALID, detail)
}

/// What an error may show of a header name that is not valid: the part before the first `:` or
/// blank. A `K: v` line or a `"Authorization: Bearer …=…"` string would otherwise echo the
/// credential after the name.
fn shown_name(name: &str) -> String {
    let head = name.split(|c: char| c == ':' || c.is_whitespace()).next().unwrap_or_default();
    let head: String = head.chars().take(MAX_HEADER_NAME_BYTES).collect();
    if head.len() < name.len() {
        format!("{head}…")
    } else {
        head
    }
}

/// Headers as an object `{"K": "v"}`, a list of `{"name", "value"}`, a list of `"K=v"`
/// strings, or one string of `K=v` lines (the callback-notifications seed's form). Details name
/// a header, never echo a value: values may be credentials.
pub fn parse_headers(v: Option<&Value>) -> Result<Vec<HeaderSpec>, ApiError> {
    fn line(line: &str, at: String) -> Result<Option<HeaderSpec>, ApiError> {
        let line = line.trim();
        if line.is_empty() {
            return Ok(None);
        }
        let Some((k, v)) = line.split_once('=') else {
            // Not echoed: a line without `=` may be a pasted credential. A `Name: value` line
            // gets a hint naming the header only.
            let hint = match line.split_once(':') {
                Some((n, _)) if axum::http::HeaderName::from_bytes(n.trim().as_bytes()).is_ok() => {
                    format!("; write \"{n}=…\", not \"{n}: …\"", n = n.trim())
                }
                _ => String::new(),
            };
            return Err(invalid(format!("{at}: not in the form key=value (e.g. X-Request-Id={{id}}){hint}")));
        };
        Ok(Some(HeaderSpec { name: k.trim().to_string(), value: v.trim().to_string() }))
    }
    let mut out = Vec::new();
    match v {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            for (i, l) in s.lines().enumerate() {
                out.extend(line(l, format!("headers line {}", i + 1))?);
            }
        }
        Some(Value::Object(m)) => {
            for (k, v) in m {
                let v = v.as_str().ok_or_else(|| invalid(format!("headers.{}: must be a string", shown_name(k))))?;
                out.push(HeaderSpec { name: k.clone(), value: v.to_string() });
            }
        }
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) => out.extend(line(s, format!("headers[{i}]"))?),
                    Value::Object(o) => {
                        let name = o.get("name").and_then(Value::as_str);
                        let value = o.get("value").and_then(Value::as_str);
                        match (name, value) {
                            (Some(n), Some(v)) => out.push(HeaderSpec { name: n.to_string(), value: v.to_string() }),
                            _ => return Err(invalid(format!("headers[{i}]: needs string \"name\" and \"value\""))),
                        }
                    }
                    _ => {
                        return Err(invalid(format!("headers[{i}]: must be \"key=value\" or {{\"name\", \"value\"}}")))
                    }
                }
            }
        }
        Some(_) => return Err(invalid("headers: must be an object, a list, or key=value lines")),
    }
    if out.len() > MAX_CUSTOM_HEADERS {
        return Err(invalid(format!("headers: {} given; at most {MAX_CUSTOM_HEADERS}", out.len())));
    }
    for h in &out {
        let valid_name = !h.name.is_empty()
            && h.name.len() <= MAX_HEADER_NAME_BYTES
            && axum::http::HeaderName::from_bytes(h.name.as_bytes()).is_ok();
        if !valid_name {
            return Err(invalid(format!(
                "headers: {:?} is not a valid header name (a token of at most {MAX_HEADER_NAME_BYTES} characters)",
                shown_name(&h.name)
            )));
        }
        if let Some(why) = forbidden_header(&h.name) {
            return Err(invalid(format!("headers: {:?} {why}", h.name)));
        }
        if h.value.len() > MAX_HEADER_VALUE_BYTES {
            return Err(invalid(format!(
                "headers.{}: the value is longer than {MAX_HEADER_VALUE_BYTES} bytes",
                h.name
            )));
        }
        if axum::http::HeaderValue::from_str(&h.value).is_err() {
            return Err(invalid(format!("headers.{}: the value has characters a header cannot carry", h.name)));
        }
    }
    Ok(out)
}

/// A create or replace body. Strict: an unknown field, a wrong type or an unknown method or
/// auth type is refused (422 naming it) rather than defaulted; a read's own fields (`id`,
/// `createdAt`, `updatedAt`, `signingSecret`) may be sent back and are ignored, so a read can
/// be edited and PUT back.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WebhookInput {
    /// An http(s) URL; private, loopback and link-local destinations are refused.
    #[schema(example = "https://hooks.example.com/ringhook", pattern = "^https?://")]
    pub url: String,
    /// Defaults to the URL.
    #[schema(example = "CRM", value_type = Option<crate::api::openapi::NonBlank>)]
    pub name: Option<String>,
    /// `POST` (the default) or `PUT`; lower case is accepted.
    pub method: Option<HttpMethod>,
    /// Extra headers: `{"K": "v"}`, `[{"name", "value"}]`, `["K=v"]` or one string of `K=v`
    /// lines. A value of exactly `{id}` is a fresh id on every request. Values are masked in
    /// reads unless the header is a plain one (Content-Type, Accept, User-Agent, …).
    #[schema(value_type = Option<HeadersInput>)]
    pub headers: Option<Value>,
    pub auth: Option<AuthInput>,
    /// The statuses that count as success; empty or absent means any 2xx.
    #[schema(example = json!([200, 201, 202, 203, 204]))]
    pub success_codes: Option<Vec<u16>>,
    pub retry_policy: Option<RetryPolicy>,
    #[schema(minimum = 1, maximum = 30000, example = 15000)]
    pub timeout_ms: Option<u64>,
    /// A signing secret of your own (`whsec_` + base64 of at least 24 random bytes); omit it
    /// to have one generated. Write-only.
    #[schema(write_only, pattern = "^whsec_[A-Za-z0-9+/]{32,}={0,2}$")]
    pub secret: Option<String>,
    /// A body template (`/v1/templates`) to render instead of the data as JSON.
    pub template_id: Option<String>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub id: Option<serde::de::IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub created_at: Option<serde::de::IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub updated_at: Option<serde::de::IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub signing_secret: Option<serde::de::IgnoredAny>,
}

/// The forms custom headers may take (documentation of [`parse_headers`]'s input).
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum HeadersInput {
    /// `{"X-Api-Key": "…"}`
    Object(std::collections::BTreeMap<String, String>),
    /// `[{"name": "X-Api-Key", "value": "…"}]`
    Pairs(Vec<HeaderSpec>),
    /// `["X-Api-Key=…"]`
    Lines(Vec<String>),
    /// `"X-Api-Key=…\nX-Other=…"`, the callback-notifications seed's form
    Text(String),
}

/// How the receiver authenticates Ringhook.
#[derive(Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum AuthInput {
    None,
    /// HTTP Basic. On a replace, send the mask a read shows back to keep the stored password.
    Basic {
        #[schema(min_length = 1, pattern = "^[^:]+$")]
        username: String,
        /// Required, so that a body that means to authenticate never goes out without it.
        #[schema(write_only)]
        password: String,
    },
}

/// The webhook settings in a create or replace body. `existing` supplies what a replace may
/// send back masked (the password, secret-bearing headers).
pub fn parse_input(app: &App, body: Value, existing: Option<&Webhook>) -> Result<Webhook, ApiError> {
    if !body.is_object() {
        return Err(invalid("the webhook must be a JSON object"));
    }
    let input: WebhookInput = parse(body, INVALID)?;
    ssrf::check_url_at_creation(&input.url, &app.settings.destinations).map_err(|e| {
        ApiError::unprocessable(
            if matches!(e, ssrf::DestinationError::Refused { .. }) { "destination refused" } else { INVALID },
            format!("url: {e}"),
        )
    })?;
    let url = input.url;
    let name = match input.name {
        Some(n) if crate::api::extract::has_text(&n) => n.trim().to_string(),
        None => url.clone(),
        Some(_) => return Err(invalid("name: must be a non-empty string")),
    };
    let method = input.method.unwrap_or_default();
    let mut headers = parse_headers(input.headers.as_ref())?;
    // A secret-bearing header sent back as the masked value a read showed keeps its value.
    if let Some(w) = existing {
        for h in &mut headers {
            let kept = w
                .headers
                .iter()
                .find(|e| e.name.eq_ignore_ascii_case(&h.name) && mask_header(&e.name, &e.value) == h.value);
            if let Some(e) = kept {
                h.value = e.value.clone();
            }
        }
    }
    let auth = match input.auth {
        None | Some(AuthInput::None) => WebhookAuth::None,
        Some(AuthInput::Basic { username, password }) => {
            if username.is_empty() || username.contains(':') {
                return Err(invalid("auth.username: required for basic auth, without ':'"));
            }
            let password = match (password.as_str(), existing.map(|w| &w.auth)) {
                (MASK, Some(WebhookAuth::Basic { password, .. })) => password.clone(),
                (MASK, _) => {
                    return Err(invalid("auth.password: the mask keeps a stored password; this webhook has none"))
                }
                _ => password,
            };
            WebhookAuth::Basic { username, password }
        }
    };
    let success_codes = input.success_codes.unwrap_or_default();
    if success_codes.iter().any(|c| !(100..=599).contains(c)) {
        return Err(invalid("successCodes: must be HTTP status codes, e.g. [200, 201, 202, 203, 204]"));
    }
    let retry_policy = input.retry_policy.unwrap_or_default();
    let timeout_ms = match input.timeout_ms {
        None => DEFAULT_TIMEOUT_MS,
        Some(t) if (1..=MAX_TIMEOUT_MS).contains(&t) => t,
        Some(_) => return Err(invalid(format!("timeoutMs: must be 1 to {MAX_TIMEOUT_MS}"))),
    };
    let secret = match input.secret {
        None => None,
        Some(s) if signing::validate_supplied_secret(&s).is_ok() => Some(s),
        Some(_) => {
            return Err(invalid(format!(
                "secret: must be whsec_ and the base64 of at least {} random bytes; omit it to have one generated",
                signing::SECRET_BYTES
            )))
        }
    };
    let template_id = match input.template_id {
        None => None,
        Some(t) if !t.is_empty() => Some(t),
        Some(_) => return Err(invalid("templateId: must be the id of a template (/v1/templates)")),
    };
    let now = format_time(app.now_ms());
    let secrets = match (secret, existing) {
        (Some(s), _) => vec![SigningSecret { secret: s, expires_at_ms: None }],
        (None, Some(w)) => w.secrets.clone(),
        (None, None) => vec![SigningSecret { secret: signing::generate_secret(), expires_at_ms: None }],
    };
    Ok(Webhook {
        id: existing
            .map(|w| w.id.clone())
            .unwrap_or_else(|| format!("wh_{}", ulid::Ulid::new().to_string().to_lowercase())),
        name,
        url,
        method,
        headers,
        auth,
        success_codes,
        retry_policy,
        timeout_ms,
        secrets,
        template_id,
        created_at: existing.map(|w| w.created_at.clone()).unwrap_or_else(|| now.clone()),
        updated_at: now,
    })
}

/// How long creation waits for DNS when checking a destination name.
pub const CREATION_RESOLVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// The SSRF rules after DNS, at creation: a name resolving to a forbidden address is refused
/// with a 422 naming `field`.
pub async fn check_resolved(app: &App, url: &str, field: &str, error: &str) -> Result<(), ApiError> {
    let Ok(parsed) = url::Url::parse(url.trim()) else { return Ok(()) };
    ssrf::check_url_resolves_allowed(&parsed, &app.settings.destinations, CREATION_RESOLVE_TIMEOUT)
        .await
        .map_err(|e| ApiError::unprocessable(error, format!("{field}: {e}")))
}

/// A webhook's template must exist.
async fn check_template(app: &App, tenant: &str, w: &Webhook) -> Result<(), ApiError> {
    match &w.template_id {
        Some(t) if templates::store::find(app.store.as_ref(), tenant, t).await?.is_none() => {
            Err(invalid(format!("templateId: no template {t:?} (see GET /v1/templates)")))
        }
        _ => Ok(()),
    }
}

/// A webhook as the API shows it: the password, the signing secret and credential-bearing
/// header values masked.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookView {
    #[schema(example = "wh_01hx5v3k9a7m2n4p6q8r0s2t4v")]
    pub id: String,
    pub name: String,
    pub url: String,
    pub method: HttpMethod,
    pub headers: Vec<HeaderSpec>,
    pub auth: AuthView,
    /// Empty: any 2xx.
    pub success_codes: Vec<u16>,
    pub retry_policy: RetryPolicy,
    pub timeout_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// Masked (`whsec_****…` + last 4), except in the answer that created or rotated it.
    pub signing_secret: Option<String>,
    /// After a rotation: when the previous secret stops signing.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub previous_secret_expires_at: Option<String>,
}

/// Auth as a read shows it: the password is always the mask.
#[derive(Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum AuthView {
    None,
    Basic {
        username: String,
        #[schema(example = "****")]
        password: String,
    },
}

#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<WebhookView>,
}

pub fn view(w: &Webhook) -> WebhookView {
    WebhookView {
        id: w.id.clone(),
        name: w.name.clone(),
        url: w.url.clone(),
        method: w.method,
        headers: w
            .headers
            .iter()
            .map(|h| HeaderSpec { name: h.name.clone(), value: mask_header(&h.name, &h.value) })
            .collect(),
        auth: match &w.auth {
            WebhookAuth::None => AuthView::None,
            WebhookAuth::Basic { username, .. } => {
                AuthView::Basic { username: username.clone(), password: MASK.to_string() }
            }
        },
        success_codes: w.success_codes.clone(),
        retry_policy: w.retry_policy,
        timeout_ms: w.timeout_ms,
        template_id: w.template_id.clone(),
        created_at: w.created_at.clone(),
        updated_at: w.updated_at.clone(),
        signing_secret: w.secrets.first().map(|s| signing::mask_secret(&s.secret)),
        previous_secret_expires_at: None,
    }
}

#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", operation_id = "create_webhook",
    request_body = WebhookInput,
    responses((status = 201, description = "Created; the generated signing secret is shown in full this once", body = WebhookView)))]
pub async fn create(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<WebhookView>), ApiError> {
    let supplied_secret = body.get("secret").is_some_and(|s| !s.is_null());
    let w = parse_input(&app, body, None)?;
    check_resolved(&app, &w.url, "url", "destination refused").await?;
    check_template(&app, &tenant, &w).await?;
    webhooks::insert(app.store.as_ref(), &tenant, &w).await?;
    let mut v = view(&w);
    // Shown in full once, at creation, so the receiver can verify signatures; masked after.
    if !supplied_secret {
        v.signing_secret = Some(w.secrets[0].secret.clone());
    }
    Ok((StatusCode::CREATED, Json(v)))
}

#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks", operation_id = "list_webhooks",
    responses((status = 200, description = "Every webhook of the tenant", body = WebhookList)))]
pub async fn list(State(app): State<Arc<App>>, TenantId(tenant): TenantId) -> Result<Json<WebhookList>, ApiError> {
    let ws = webhooks::list(app.store.as_ref(), &tenant).await?;
    Ok(Json(WebhookList { webhooks: ws.iter().map(view).collect() }))
}

#[utoipa::path(get, path = "/v1/webhooks/{id}", tag = "webhooks", operation_id = "get_webhook",
    params(("id" = String, Path, description = "The webhook's id")),
    responses((status = 200, description = "The webhook, secrets masked", body = WebhookView)))]
pub async fn get_one(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<Json<WebhookView>, ApiError> {
    let w =
        webhooks::find(app.store.as_ref(), &tenant, &id).await?.ok_or_else(|| ApiError::not_found("webhook", &id))?;
    Ok(Json(view(&w.value)))
}

#[utoipa::path(put, path = "/v1/webhooks/{id}", tag = "webhooks", operation_id = "replace_webhook",
    params(("id" = String, Path, description = "The webhook's id")),
    request_body = WebhookInput,
    responses((status = 200, description = "Replaced; a password or header sent back masked is kept", body = WebhookView),
        (status = 409, description = "Changed concurrently; read it again", body = Error)))]
pub async fn replace(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<WebhookView>, ApiError> {
    let cur =
        webhooks::find(app.store.as_ref(), &tenant, &id).await?.ok_or_else(|| ApiError::not_found("webhook", &id))?;
    let w = parse_input(&app, body, Some(&cur.value))?;
    check_resolved(&app, &w.url, "url", "destination refused").await?;
    check_template(&app, &tenant, &w).await?;
    webhooks::update(app.store.as_ref(), &tenant, &w, cur.version).await?;
    Ok(Json(view(&w)))
}

#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks", operation_id = "delete_webhook",
    params(("id" = String, Path, description = "The webhook's id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if webhooks::delete(app.store.as_ref(), &tenant, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("webhook", &id))
    }
}

/// A new secret signs from now on; the previous one keeps signing for the grace period, so
/// receivers can switch without rejecting anything.
#[utoipa::path(post, path = "/v1/webhooks/{id}/rotate-secret", tag = "webhooks", operation_id = "rotate_webhook_secret",
    params(("id" = String, Path, description = "The webhook's id")),
    responses((status = 200, description = "The new secret, shown in full this once; the old one signs for 24 h more", body = WebhookView),
        (status = 409, description = "Changed concurrently; try again", body = Error)))]
pub async fn rotate_secret(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<Json<WebhookView>, ApiError> {
    let cur =
        webhooks::find(app.store.as_ref(), &tenant, &id).await?.ok_or_else(|| ApiError::not_found("webhook", &id))?;
    let now = app.now_ms();
    let mut w = cur.value;
    let fresh = signing::generate_secret();
    let mut secrets = vec![SigningSecret { secret: fresh.clone(), expires_at_ms: None }];
    if let Some(prev) = w.secrets.first() {
        secrets.push(SigningSecret { secret: prev.secret.clone(), expires_at_ms: Some(now + ROTATION_GRACE_MS) });
    }
    w.secrets = secrets;
    w.updated_at = format_time(now);
    webhooks::update(app.store.as_ref(), &tenant, &w, cur.version).await?;
    let mut v = view(&w);
    v.signing_secret = Some(fresh);
    v.previous_secret_expires_at = Some(format_time(now + ROTATION_GRACE_MS));
    Ok(Json(v))
}

/// The event `POST /v1/webhooks/{id}/test` sends; both fields may be left out (or the whole
/// body).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestEventInput {
    /// The event type (default `ringhook.test`).
    #[serde(rename = "type")]
    #[schema(example = "agent.wrap", max_length = 128, pattern = "^[a-z][a-z0-9_-]*(\\.[a-z][a-z0-9_-]*)+$")]
    pub event_type: Option<String>,
    /// The payload (default: a short message naming the webhook).
    #[schema(value_type = Option<Object>)]
    pub payload: Option<Value>,
}

/// The test delivery, queued.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestSent {
    /// See it in the event log: `GET /v1/deliveries/{deliveryId}`.
    pub delivery_id: String,
    pub event_id: String,
    pub event_type: String,
    pub status: crate::model::DeliveryStatus,
}

const TEST_EVENT_TYPE: &str = "ringhook.test";

/// Sends a test event to this webhook as a real delivery: queued and sent like any other (the
/// webhook's method, headers, auth, template, signature and retry policy), logged with every
/// attempt, and redeliverable. It is not evaluated by any product, so no trigger fires.
#[utoipa::path(post, path = "/v1/webhooks/{id}/test", tag = "webhooks", operation_id = "send_test_event",
    params(("id" = String, Path, description = "The webhook's id")),
    request_body(content = Option<TestEventInput>, description = "Optional: the event to send"),
    responses((status = 202, description = "The test delivery, queued", body = TestSent)))]
pub async fn send_test(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
    OptionalJsonBody(body): OptionalJsonBody,
) -> Result<(StatusCode, Json<TestSent>), ApiError> {
    let w =
        webhooks::find(app.store.as_ref(), &tenant, &id).await?.ok_or_else(|| ApiError::not_found("webhook", &id))?;
    let input: TestEventInput = match body {
        None | Some(Value::Null) => TestEventInput { event_type: None, payload: None },
        Some(b) => parse_object(b, "invalid test event", "a test event")?,
    };
    let event_type = input.event_type.unwrap_or_else(|| TEST_EVENT_TYPE.to_string());
    if !crate::model::event::is_valid_event_type(&event_type) {
        return Err(ApiError::unprocessable(
            "invalid test event",
            format!("type: {event_type:?} is not an event type (dot-separated lowercase words, e.g. \"agent.wrap\")"),
        ));
    }
    let now = app.now_ms();
    let payload = match input.payload {
        None => serde_json::json!({"message": "A test event from Ringhook", "webhookId": w.value.id,
                                   "webhookName": w.value.name, "sentAt": format_time(now)}),
        Some(p @ Value::Object(_)) => p,
        Some(_) => return Err(ApiError::unprocessable("invalid test event", "payload: must be a JSON object")),
    };
    let event = crate::model::Event {
        id: format!("evt_{}", ulid::Ulid::new().to_string().to_lowercase()),
        tenant_id: tenant.clone(),
        event_type,
        payload: payload.into(),
        time: format_time(now),
        received_at_ms: now,
        arrival: String::new(),
    };
    let delivery_id = crate::model::delivery_id(&event, "webhook-test", 0);
    let target = crate::model::DeliveryTarget::Webhook { webhook_id: w.value.id.clone() };
    let mut d =
        crate::model::Delivery::new(&event, delivery_id, target, event.webhook_body(), w.value.retry_policy, now);
    d.webhook_id = Some(w.value.id.clone());
    let created = crate::repo::deliveries::create_many(app.store.as_ref(), vec![d.clone()]).await?;
    crate::pipeline::deliver::enqueue_now(&app, &created).await.map_err(|e| ApiError::unavailable(e.to_string()))?;
    Ok((
        StatusCode::ACCEPTED,
        Json(TestSent { delivery_id: d.id, event_id: event.id, event_type: event.event_type, status: d.status }),
    ))
}
