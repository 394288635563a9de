//! `/v1/triggers`: create, list, read, replace, delete — in the seed's shape and with the
//! seed's validation error names; `GET /v1/leads/{id}`: where `lead.update.list` moved a lead.

use super::leads::{self, Lead};
use super::store as triggers;
use super::validate::{INVALID_PARAMETERS, SAVE_ERROR};
use super::{parse_trigger, Action, Trigger, TriggerInput};
use crate::api::extract::{JsonBody, TenantId};
use crate::api::openapi::RouteDoc;
use crate::api::v1::webhooks as webhooks_api;
use crate::app::App;
use crate::delivery::ssrf;
use crate::error::ApiError;
use crate::repo::webhooks;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::Arc;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/v1/triggers", get(list).post(create))
        .route("/v1/triggers/{id}", get(get_one).put(replace).delete(delete))
        .route("/v1/leads/{id}", get(get_lead))
}

pub const ROUTES: &[RouteDoc] = &[
    ("get", "/v1/triggers", "List triggers", 200),
    ("post", "/v1/triggers", "Create a trigger", 201),
    ("get", "/v1/triggers/{id}", "Read a trigger", 200),
    ("put", "/v1/triggers/{id}", "Replace a trigger", 200),
    ("delete", "/v1/triggers/{id}", "Delete a trigger", 204),
    ("get", "/v1/leads/{id}", "Where lead.update.list moved a lead", 200),
];

/// Validates the body, then what needs storage or settings: referenced webhooks must exist,
/// inline URLs must be allowed destinations.
async fn validated(app: &App, tenant: &str, body: &Value) -> Result<TriggerInput, ApiError> {
    let spec = parse_trigger(body).map_err(|e| ApiError::unprocessable(e.error, e.detail))?;
    for (i, a) in spec.actions.iter().enumerate() {
        if let Action::Webhook { url, webhook_id } = a {
            if let Some(u) = url {
                ssrf::check_url_at_creation(u, &app.settings.destinations).map_err(|e| {
                    ApiError::unprocessable(INVALID_PARAMETERS, format!("actions[{i}].parameters.url: {e}"))
                })?;
                webhooks_api::check_resolved(app, u, &format!("actions[{i}].parameters.url"), INVALID_PARAMETERS)
                    .await?;
            }
            if let Some(w) = webhook_id {
                if webhooks::find(app.store.as_ref(), tenant, w).await?.is_none() {
                    return Err(ApiError::unprocessable(
                        INVALID_PARAMETERS,
                        format!("actions[{i}].parameters.webhookId: no webhook with id {w:?}"),
                    ));
                }
            }
        }
    }
    Ok(spec)
}

fn save_error(e: crate::ports::StoreError) -> ApiError {
    match e {
        crate::ports::StoreError::ConditionFailed => ApiError::new(
            StatusCode::CONFLICT,
            SAVE_ERROR,
            "the trigger was changed concurrently; read it again and retry",
        ),
        other => {
            let mut err = ApiError::from(other);
            err.error = SAVE_ERROR.into();
            err
        }
    }
}

pub async fn create(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Trigger>), ApiError> {
    let spec = validated(&app, &tenant, &body).await?;
    let t = triggers::create(app.store.as_ref(), &tenant, spec, app.now_ms()).await.map_err(save_error)?;
    Ok((StatusCode::CREATED, Json(t)))
}

pub async fn list(State(app): State<Arc<App>>, TenantId(tenant): TenantId) -> Result<Json<Value>, ApiError> {
    let ts = triggers::list(app.store.as_ref(), &tenant).await?;
    Ok(Json(json!({ "triggers": ts })))
}

pub async fn get_one(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<Json<Trigger>, ApiError> {
    triggers::find(app.store.as_ref(), &tenant, &id).await?.map(Json).ok_or_else(|| ApiError::not_found("trigger", &id))
}

pub async fn replace(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Trigger>, ApiError> {
    if triggers::find(app.store.as_ref(), &tenant, &id).await?.is_none() {
        return Err(ApiError::not_found("trigger", &id));
    }
    let spec = validated(&app, &tenant, &body).await?;
    triggers::replace(app.store.as_ref(), &tenant, &id, spec, app.now_ms())
        .await
        .map_err(save_error)?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("trigger", &id))
}

pub async fn delete(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if triggers::delete(app.store.as_ref(), &tenant, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("trigger", &id))
    }
}

pub async fn get_lead(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<Json<Lead>, ApiError> {
    leads::find(app.store.as_ref(), &tenant, &id).await?.map(Json).ok_or_else(|| ApiError::not_found("lead", &id))
}
