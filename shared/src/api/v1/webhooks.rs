//! `/v1/webhooks`: endpoints with URL, method, headers, auth, accepted codes, retry policy,
//! timeout, signing secret and an optional body template. Passwords and secrets are write-only: reads show them masked.

use crate::api::extract::{JsonBody, TenantId};
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
use serde_json::{json, Value};
use std::sync::Arc;

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

/// The webhook settings in a create or replace body. `existing` supplies what a replace may
/// leave out (the password when it is omitted or sent back masked).
pub fn parse_input(app: &App, body: &Value, existing: Option<&Webhook>) -> Result<Webhook, ApiError> {
    let o = body.as_object().ok_or_else(|| invalid("the webhook must be a JSON object"))?;
    let url = match o.get("url") {
        Some(Value::String(u)) => {
            ssrf::check_url_at_creation(u, &app.settings.destinations).map_err(|e| {
                ApiError::unprocessable(
                    if matches!(e, ssrf::DestinationError::Refused { .. }) { "destination refused" } else { INVALID },
                    format!("url: {e}"),
                )
            })?;
            u.clone()
        }
        _ => return Err(invalid("url: required, an http(s) URL")),
    };
    let name = match o.get("name") {
        Some(Value::String(n)) if !n.trim().is_empty() => n.trim().to_string(),
        None | Some(Value::Null) => url.clone(),
        _ => return Err(invalid("name: must be a non-empty string")),
    };
    let method = match o.get("method").and_then(Value::as_str).map(str::to_ascii_uppercase).as_deref() {
        None => HttpMethod::Post,
        Some("POST") => HttpMethod::Post,
        Some("PUT") => HttpMethod::Put,
        Some(m) => return Err(invalid(format!("method: {m:?}; use POST or PUT"))),
    };
    let mut headers = parse_headers(o.get("headers"))?;
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
    let auth = match o.get("auth") {
        None | Some(Value::Null) => WebhookAuth::None,
        Some(Value::Object(a)) => match a.get("type").and_then(Value::as_str) {
            None | Some("none") => WebhookAuth::None,
            Some("basic") => {
                let username = a
                    .get("username")
                    .and_then(Value::as_str)
                    .filter(|u| !u.is_empty() && !u.contains(':'))
                    .ok_or_else(|| invalid("auth.username: required for basic auth, without ':'"))?;
                let given = a.get("password").and_then(Value::as_str).filter(|p| *p != MASK);
                let password = match (given, existing.map(|w| &w.auth)) {
                    (Some(p), _) => p.to_string(),
                    (None, Some(WebhookAuth::Basic { password, .. })) => password.clone(),
                    (None, _) => return Err(invalid("auth.password: required for basic auth")),
                };
                WebhookAuth::Basic { username: username.to_string(), password }
            }
            Some(t) => return Err(invalid(format!("auth.type: {t:?}; use \"none\" or \"basic\""))),
        },
        Some(_) => {
            return Err(invalid("auth: must be an object such as {\"type\": \"basic\", \"username\", \"password\"}"))
        }
    };
    let success_codes = match o.get("successCodes") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(codes)) => codes
            .iter()
            .map(|c| c.as_u64().filter(|c| (100..=599).contains(c)).map(|c| c as u16))
            .collect::<Option<Vec<u16>>>()
            .ok_or_else(|| invalid("successCodes: must be HTTP status codes, e.g. [200, 201, 202, 203, 204]"))?,
        Some(_) => return Err(invalid("successCodes: must be a list of status codes")),
    };
    let retry_policy = match o.get("retryPolicy") {
        None | Some(Value::Null) => RetryPolicy::default(),
        Some(Value::String(p)) => RetryPolicy::parse(p).map_err(|e| invalid(format!("retryPolicy: {e}")))?,
        Some(_) => return Err(invalid("retryPolicy: must be a policy name")),
    };
    let timeout_ms = match o.get("timeoutMs") {
        None | Some(Value::Null) => DEFAULT_TIMEOUT_MS,
        Some(v) => v
            .as_u64()
            .filter(|t| (1..=MAX_TIMEOUT_MS).contains(t))
            .ok_or_else(|| invalid(format!("timeoutMs: must be 1 to {MAX_TIMEOUT_MS}")))?,
    };
    let secret = match o.get("secret") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if signing::validate_supplied_secret(s).is_ok() => Some(s.clone()),
        Some(_) => {
            return Err(invalid(format!(
                "secret: must be whsec_ and the base64 of at least {} random bytes; omit it to have one generated",
                signing::SECRET_BYTES
            )))
        }
    };
    let template_id = match o.get("templateId") {
        None | Some(Value::Null) => None,
        Some(Value::String(t)) if !t.is_empty() => Some(t.clone()),
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

/// The webhook as the API shows it: password, secrets and credential-bearing headers masked.
pub fn view(w: &Webhook) -> Value {
    let mut v = serde_json::to_value(w).expect("webhooks serialize");
    v["headers"] = json!(w
        .headers
        .iter()
        .map(|h| HeaderSpec { name: h.name.clone(), value: mask_header(&h.name, &h.value) })
        .collect::<Vec<_>>());
    if let WebhookAuth::Basic { username, .. } = &w.auth {
        v["auth"] = json!({"type": "basic", "username": username, "password": MASK});
    }
    v["secrets"] = Value::Null;
    v.as_object_mut().expect("object").remove("secrets");
    v["signingSecret"] = json!(w.secrets.first().map(|s| signing::mask_secret(&s.secret)));
    v
}

pub async fn create(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let w = parse_input(&app, &body, None)?;
    check_resolved(&app, &w.url, "url", "destination refused").await?;
    check_template(&app, &tenant, &w).await?;
    webhooks::insert(app.store.as_ref(), &tenant, &w).await?;
    let mut v = view(&w);
    // Shown in full once, at creation, so the receiver can verify signatures; masked after.
    if body.get("secret").is_none() {
        v["signingSecret"] = json!(w.secrets[0].secret);
    }
    Ok((StatusCode::CREATED, Json(v)))
}

pub async fn list(State(app): State<Arc<App>>, TenantId(tenant): TenantId) -> Result<Json<Value>, ApiError> {
    let ws = webhooks::list(app.store.as_ref(), &tenant).await?;
    Ok(Json(json!({ "webhooks": ws.iter().map(view).collect::<Vec<_>>() })))
}

pub async fn get_one(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let w =
        webhooks::find(app.store.as_ref(), &tenant, &id).await?.ok_or_else(|| ApiError::not_found("webhook", &id))?;
    Ok(Json(view(&w.value)))
}

pub async fn replace(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let cur =
        webhooks::find(app.store.as_ref(), &tenant, &id).await?.ok_or_else(|| ApiError::not_found("webhook", &id))?;
    let w = parse_input(&app, &body, Some(&cur.value))?;
    check_resolved(&app, &w.url, "url", "destination refused").await?;
    check_template(&app, &tenant, &w).await?;
    webhooks::update(app.store.as_ref(), &tenant, &w, cur.version).await?;
    Ok(Json(view(&w)))
}

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
pub async fn rotate_secret(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
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
    v["signingSecret"] = json!(fresh);
    v["previousSecretExpiresAt"] = json!(format_time(now + ROTATION_GRACE_MS));
    Ok(Json(v))
}
