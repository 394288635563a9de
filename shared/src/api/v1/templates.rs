//! `/v1/templates`: body templates for webhooks (JSON or XML with `%token%` placeholders, or an
//! example document whose extracted fields are mapped to tokens), the token catalogue, and a
//! preview that renders a template with the catalogue's examples or given values.

use crate::api::extract::{parse_object, JsonBody, TenantId, MALFORMED_JSON};
use crate::api::openapi::Error;
use crate::app::App;
use crate::destinations::templates::tokens::{self, Catalogue};
use crate::destinations::templates::{self, store, Template, TemplateType, GROUP_TENANT};
use crate::error::ApiError;
use crate::model::format_time;
use crate::repo::webhooks;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::sync::Arc;
use utoipa::ToSchema;

const INVALID: &str = "invalid template";
/// A format larger than this is refused (a body is rendered from it at every attempt).
pub const MAX_FORMAT_BYTES: usize = 64 * 1024;

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::unprocessable(INVALID, detail)
}

/// A create or replace body. Strict: an unknown field or a wrong type is a 422 naming it; a
/// read's own fields (`id`, `contentType`, `fields`, `tokens`, `createdAt`, `updatedAt`) may be
/// sent back and are ignored, so a read can be edited and PUT back.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TemplateInput {
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200, example = "CRM lead (JSON)")]
    pub name: Option<String>,
    /// Who may use it: `tenant` (the default, every location) or a location id.
    #[schema(example = "tenant", min_length = 1, max_length = 200)]
    pub group: Option<String>,
    /// `json` or `xml` (any case).
    #[serde(rename = "type")]
    #[schema(value_type = TemplateType, required = true)]
    pub kind: Option<String>,
    /// The body as text, JSON or XML, with `%token%` placeholders (see `GET /v1/templates/tokens`).
    #[schema(value_type = String, required = true, min_length = 1, max_length = 65536,
        example = "{\"first\": \"Firstname\", \"phone\": %ani%}")]
    pub format: Option<String>,
    /// A field of the format (dot path; `@name` for an XML attribute) → the token whose value
    /// replaces it.
    #[schema(value_type = Option<HashMap<String, String>>, example = json!({"first": "ani_first_name"}))]
    pub mapping: Option<Map<String, Value>>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub id: Option<serde::de::IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub content_type: Option<serde::de::IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub fields: Option<serde::de::IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub tokens: Option<serde::de::IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub created_at: Option<serde::de::IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub updated_at: Option<serde::de::IgnoredAny>,
}

fn parse_input(app: &App, body: Value, existing: Option<&Template>) -> Result<Template, ApiError> {
    let input: TemplateInput = parse_object(body, INVALID, "a template")?;
    let name = match input.name {
        Some(n) if !n.trim().is_empty() && n.len() <= 200 => n.trim().to_string(),
        _ => return Err(invalid("name: required, a non-empty string")),
    };
    let group = match input.group {
        None => GROUP_TENANT.to_string(),
        Some(g) if !g.trim().is_empty() && g.len() <= 200 => g.trim().to_string(),
        Some(_) => return Err(invalid("group: \"tenant\" (every location) or a location id")),
    };
    let kind = match input.kind.map(|k| k.to_ascii_lowercase()).as_deref() {
        Some("json") => TemplateType::Json,
        Some("xml") => TemplateType::Xml,
        _ => return Err(invalid("type: required, \"json\" or \"xml\"")),
    };
    let format = match input.format {
        Some(f) if f.len() > MAX_FORMAT_BYTES => {
            return Err(invalid(format!("format: larger than {MAX_FORMAT_BYTES} bytes")))
        }
        Some(f) if !f.trim().is_empty() => f,
        _ => return Err(invalid("format: required, the body as text (JSON or XML, with %token% placeholders)")),
    };
    let mapping = input.mapping.unwrap_or_default();
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

/// A template as the API shows it: as saved, with what checking it found and the content type
/// of the bodies it renders.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateView {
    #[schema(example = "tpl_01hx5v3k9a7m2n4p6q8r0s2t4v")]
    pub id: String,
    pub name: String,
    pub group: String,
    #[serde(rename = "type")]
    pub kind: TemplateType,
    /// The `Content-Type` of the rendered bodies (a webhook's own header overrides it).
    #[schema(example = "application/json")]
    pub content_type: String,
    pub format: String,
    #[schema(value_type = HashMap<String, String>)]
    pub mapping: Map<String, Value>,
    /// The fields extracted from the format: dot paths of its values (XML: of elements with
    /// text, `@name` for attributes).
    pub fields: Vec<String>,
    /// Every token the template uses, placed or mapped.
    pub tokens: Vec<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct TemplateList {
    pub templates: Vec<TemplateView>,
}

pub fn view(t: &Template) -> TemplateView {
    TemplateView {
        id: t.id.clone(),
        name: t.name.clone(),
        group: t.group.clone(),
        kind: t.kind,
        content_type: t.kind.content_type().to_string(),
        format: t.format.clone(),
        mapping: t.mapping.clone(),
        fields: t.fields.clone(),
        tokens: t.tokens.clone(),
        created_at: t.created_at.clone(),
        updated_at: t.updated_at.clone(),
    }
}

/// The token catalogue: the data points a template can place, by when a call has them.
///
/// Public: the same for every tenant.
#[utoipa::path(get, path = "/v1/templates/tokens", tag = "templates", operation_id = "list_template_tokens",
    responses((status = 200, description = "The token catalogue", body = Catalogue)))]
pub async fn token_catalogue() -> Json<Catalogue> {
    Json(tokens::catalogue())
}

#[utoipa::path(post, path = "/v1/templates", tag = "templates", operation_id = "create_template",
    request_body = TemplateInput,
    responses((status = 201, description = "Created: well-formed, every token known, the mapping naming extracted fields", body = TemplateView)))]
pub async fn create(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<TemplateView>), ApiError> {
    let t = parse_input(&app, body, None)?;
    store::put(app.store.as_ref(), &tenant, &t, None).await?;
    Ok((StatusCode::CREATED, Json(view(&t))))
}

#[utoipa::path(get, path = "/v1/templates", tag = "templates", operation_id = "list_templates",
    responses((status = 200, description = "Every template of the tenant", body = TemplateList)))]
pub async fn list(State(app): State<Arc<App>>, TenantId(tenant): TenantId) -> Result<Json<TemplateList>, ApiError> {
    let ts = store::list(app.store.as_ref(), &tenant).await?;
    Ok(Json(TemplateList { templates: ts.iter().map(view).collect() }))
}

async fn find(app: &App, tenant: &str, id: &str) -> Result<crate::repo::Versioned<Template>, ApiError> {
    store::find(app.store.as_ref(), tenant, id).await?.ok_or_else(|| ApiError::not_found("template", id))
}

#[utoipa::path(get, path = "/v1/templates/{id}", tag = "templates", operation_id = "get_template",
    params(("id" = String, Path, description = "The template's id")),
    responses((status = 200, description = "The template", body = TemplateView)))]
pub async fn get_one(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<Json<TemplateView>, ApiError> {
    Ok(Json(view(&find(&app, &tenant, &id).await?.value)))
}

#[utoipa::path(put, path = "/v1/templates/{id}", tag = "templates", operation_id = "replace_template",
    params(("id" = String, Path, description = "The template's id")),
    request_body = TemplateInput,
    responses((status = 200, description = "Replaced; webhooks using it render the new format from their next attempt", body = TemplateView),
        (status = 409, description = "Changed concurrently; read it again", body = Error)))]
pub async fn replace(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<TemplateView>, ApiError> {
    let cur = find(&app, &tenant, &id).await?;
    let t = parse_input(&app, body, Some(&cur.value))?;
    store::put(app.store.as_ref(), &tenant, &t, Some(cur.version)).await?;
    Ok(Json(view(&t)))
}

/// A template a webhook uses is not deleted (its deliveries would be refused).
#[utoipa::path(delete, path = "/v1/templates/{id}", tag = "templates", operation_id = "delete_template",
    params(("id" = String, Path, description = "The template's id")),
    responses((status = 204, description = "Deleted"),
        (status = 409, description = "Webhooks use the template (the detail names them); change them first", body = Error)))]
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

/// A preview request; the body may also be empty.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewInput {
    /// Token → value, used instead of the catalogue's example; `null` for a call without it.
    #[schema(value_type = Option<PreviewValues>, example = json!({"ani_first_name": "Nancy", "ani": null}))]
    pub values: Option<Map<String, Value>>,
}

/// Preview values, for the document: an object whose names are tokens a template may place
/// (`%` around them optional), each with any value.
#[allow(dead_code)]
pub struct PreviewValues;

impl utoipa::PartialSchema for PreviewValues {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let names: Vec<&str> =
            tokens::TOKENS.iter().filter(|t| tokens::placeable(t.name).is_ok()).map(|t| t.name).collect();
        let property_names =
            ObjectBuilder::new().schema_type(Type::String).pattern(Some(format!("^%*({})%*$", names.join("|"))));
        ObjectBuilder::new().schema_type(Type::Object).property_names(Some(property_names)).into()
    }
}

impl ToSchema for PreviewValues {}

/// A rendered body, as a webhook using the template would send it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    pub template_id: String,
    #[schema(example = "application/json")]
    pub content_type: String,
    pub body: String,
}

/// The body rendered from the catalogue's examples, with the given values instead where there
/// are some.
#[utoipa::path(post, path = "/v1/templates/{id}/preview", tag = "templates", operation_id = "preview_template",
    params(("id" = String, Path, description = "The template's id")),
    request_body = Option<PreviewInput>,
    responses((status = 200, description = "The rendered body", body = Preview)))]
pub async fn preview(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Preview>, ApiError> {
    let t = find(&app, &tenant, &id).await?.value;
    // No body, or `null`, previews with the examples only.
    let body: Value = match body.is_empty() {
        true => Value::Null,
        false => serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(MALFORMED_JSON, format!("the body is not valid JSON: {e}")))?,
    };
    let input = match body {
        Value::Null => PreviewInput { values: None },
        body => parse_object(body, INVALID, "a preview")?,
    };
    let mut data = tokens::examples();
    for (k, v) in input.values.unwrap_or_default() {
        let name = k.trim_matches('%');
        tokens::placeable(name).map_err(|e| invalid(format!("values.{k}: {e}")))?;
        data.insert(name.to_string(), v);
    }
    let rendered = templates::render(&t, &data).map_err(invalid)?;
    Ok(Json(Preview { template_id: t.id, content_type: t.kind.content_type().to_string(), body: rendered }))
}
