//! `/v1/templates`: body templates for webhooks (JSON or XML with `%token%` placeholders, or an
//! example document whose extracted fields are mapped to tokens), the token catalogue, and a
//! preview that renders a template with the catalogue's examples or given values.

use crate::api::extract::{JsonBody, TenantId};
use crate::app::App;
use crate::destinations::templates::{self, store, tokens, Template, TemplateType, GROUP_TENANT};
use crate::error::ApiError;
use crate::model::format_time;
use crate::repo::webhooks;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};
use std::sync::Arc;

const INVALID: &str = "invalid template";
const FIELDS: [&str; 5] = ["name", "group", "type", "format", "mapping"];
/// A format larger than this is refused (a body is rendered from it at every attempt).
pub const MAX_FORMAT_BYTES: usize = 64 * 1024;

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::unprocessable(INVALID, detail)
}

fn parse_input(app: &App, body: &Value, existing: Option<&Template>) -> Result<Template, ApiError> {
    let o = body.as_object().ok_or_else(|| invalid("the template must be a JSON object"))?;
    if let Some(k) = o.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(invalid(format!("{k}: not a field of a template; its fields are {}", FIELDS.join(", "))));
    }
    let name = match o.get("name") {
        Some(Value::String(n)) if !n.trim().is_empty() && n.len() <= 200 => n.trim().to_string(),
        _ => return Err(invalid("name: required, a non-empty string")),
    };
    let group = match o.get("group") {
        None | Some(Value::Null) => GROUP_TENANT.to_string(),
        Some(Value::String(g)) if !g.trim().is_empty() && g.len() <= 200 => g.trim().to_string(),
        _ => return Err(invalid("group: \"tenant\" (every location) or a location id")),
    };
    let kind = match o.get("type").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
        Some("json") => TemplateType::Json,
        Some("xml") => TemplateType::Xml,
        _ => return Err(invalid("type: required, \"json\" or \"xml\"")),
    };
    let format = match o.get("format") {
        Some(Value::String(f)) if f.len() > MAX_FORMAT_BYTES => {
            return Err(invalid(format!("format: larger than {MAX_FORMAT_BYTES} bytes")))
        }
        Some(Value::String(f)) if !f.trim().is_empty() => f.clone(),
        _ => return Err(invalid("format: required, the body as text (JSON or XML, with %token% placeholders)")),
    };
    let mapping = match o.get("mapping") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(invalid("mapping: an object from field to token, e.g. {\"first\": \"ani_first_name\"}")),
    };
    let checked = templates::check(kind, &format, &mapping).map_err(invalid)?;
    let now = format_time(app.now_ms());
    Ok(Template {
        id: existing.map(|t| t.id.clone()).unwrap_or_else(store::new_id),
        name,
        group,
        kind,
        format,
        mapping,
        fields: checked.fields,
        tokens: checked.tokens,
        created_at: existing.map(|t| t.created_at.clone()).unwrap_or_else(|| now.clone()),
        updated_at: now,
    })
}

fn view(t: &Template) -> Value {
    let mut v = serde_json::to_value(t).expect("templates serialize");
    v["contentType"] = json!(t.kind.content_type());
    v
}

pub async fn token_catalogue() -> Json<Value> {
    Json(tokens::catalogue())
}

pub async fn create(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let t = parse_input(&app, &body, None)?;
    store::put(app.store.as_ref(), &tenant, &t, None).await?;
    Ok((StatusCode::CREATED, Json(view(&t))))
}

pub async fn list(State(app): State<Arc<App>>, TenantId(tenant): TenantId) -> Result<Json<Value>, ApiError> {
    let ts = store::list(app.store.as_ref(), &tenant).await?;
    Ok(Json(json!({ "templates": ts.iter().map(view).collect::<Vec<_>>() })))
}

async fn find(app: &App, tenant: &str, id: &str) -> Result<crate::repo::Versioned<Template>, ApiError> {
    store::find(app.store.as_ref(), tenant, id).await?.ok_or_else(|| ApiError::not_found("template", id))
}

pub async fn get_one(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(view(&find(&app, &tenant, &id).await?.value)))
}

pub async fn replace(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let cur = find(&app, &tenant, &id).await?;
    let t = parse_input(&app, &body, Some(&cur.value))?;
    store::put(app.store.as_ref(), &tenant, &t, Some(cur.version)).await?;
    Ok(Json(view(&t)))
}

/// A template a webhook uses is not deleted (its deliveries would be refused).
pub async fn delete(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    find(&app, &tenant, &id).await?;
    let users: Vec<String> = webhooks::list(app.store.as_ref(), &tenant)
        .await?
        .into_iter()
        .filter(|w| w.template_id.as_deref() == Some(id.as_str()))
        .map(|w| w.id)
        .collect();
    if !users.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "template in use",
            format!("webhooks {} use this template; change them first", users.join(", ")),
        ));
    }
    store::delete(app.store.as_ref(), &tenant, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `{"values"?: {token: value}}`: the body rendered from the catalogue's examples, with the
/// given values instead where there are some (`null` for a call without that value).
pub async fn preview(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let t = find(&app, &tenant, &id).await?.value;
    let mut data = tokens::examples();
    let body: Option<Value> = match body.is_empty() {
        true => None,
        false => Some(serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(crate::api::extract::MALFORMED_JSON, format!("the body is not valid JSON: {e}"))
        })?),
    };
    match body {
        None | Some(Value::Null) => {}
        Some(Value::Object(o)) => {
            if let Some(k) = o.keys().find(|k| *k != "values") {
                return Err(invalid(format!("{k}: not a field of a preview; send {{\"values\": {{token: value}}}}")));
            }
            match o.get("values") {
                None | Some(Value::Null) => {}
                Some(Value::Object(values)) => {
                    for (k, v) in values {
                        let name = k.trim_matches('%');
                        tokens::placeable(name).map_err(|e| invalid(format!("values.{k}: {e}")))?;
                        data.insert(name.to_string(), v.clone());
                    }
                }
                Some(_) => return Err(invalid("values: an object from token to value")),
            }
        }
        Some(_) => return Err(invalid("the preview request must be a JSON object")),
    }
    let rendered = templates::render(&t, &data).map_err(invalid)?;
    Ok(Json(json!({"templateId": t.id, "contentType": t.kind.content_type(), "body": rendered})))
}
