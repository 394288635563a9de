//! `/v1/flows`: flows (IVR or bot flows) with their SMS steps and the webhook switch. A
//! `flow.completed` event for a flow runs its SMS steps and, when its webhook is enabled, sends
//! webhook #1 to the account's default webhook.

use crate::api::extract::{is_line, parse_object, JsonBody, Obj, TenantId};
use crate::api::openapi::Error;
use crate::app::App;
use crate::error::ApiError;
use crate::model::format_time;
use crate::ports::StoreError;
use crate::products::sms::model::{Flow, SmsStep};
use crate::products::sms::store;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

const INVALID: &str = "invalid flow";
/// Flow ids are whole numbers up to this (10 digits: they are the sort key).
pub const MAX_FLOW_ID: u64 = 9_999_999_999;
/// Most SMS steps in one flow.
pub const MAX_STEPS: usize = 20;

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::unprocessable(INVALID, detail)
}

/// A create or replace body. Strict; a read's own fields may be sent back.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FlowInput {
    /// The flow's id (the seed's `flowId`). On a create, leave it out for the next free one; on
    /// a replace, it must be the path's (or left out).
    #[schema(minimum = 1, maximum = 9_999_999_999_u64, example = 200)]
    pub id: Option<u64>,
    #[schema(value_type = crate::api::openapi::Name, example = "Welcome IVR")]
    pub name: String,
    /// The flow-level webhook switch: webhook #1 on completion, and #2 on each SMS's delivery
    /// status (with the account's `notifyOnDelivery`). Default false.
    #[serde(default)]
    pub webhook_enabled: bool,
    /// The SMS sent when the flow completes, in order.
    #[serde(default)]
    #[schema(max_items = 20, value_type = Vec<SmsStep>)]
    pub sms_steps: Vec<Obj<SmsStep>>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub created_at: Option<serde::de::IgnoredAny>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub updated_at: Option<serde::de::IgnoredAny>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FlowView {
    #[schema(example = 200)]
    pub id: u64,
    pub name: String,
    pub webhook_enabled: bool,
    pub sms_steps: Vec<SmsStep>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct FlowList {
    pub flows: Vec<FlowView>,
}

fn view(f: &Flow) -> FlowView {
    FlowView {
        id: f.id,
        name: f.name.clone(),
        webhook_enabled: f.webhook_enabled,
        sms_steps: f.sms_steps.clone(),
        created_at: f.created_at.clone(),
        updated_at: f.updated_at.clone(),
    }
}

/// The flow a body describes (`existing`: the one it replaces).
fn build(input: FlowInput, id: u64, existing: Option<&Flow>, now: &str) -> Result<Flow, ApiError> {
    if !is_line(&input.name, 200) {
        return Err(invalid("name: 1 to 200 characters, not blank"));
    }
    if input.sms_steps.len() > MAX_STEPS {
        return Err(invalid(format!("smsSteps: at most {MAX_STEPS} steps")));
    }
    let mut steps = Vec::with_capacity(input.sms_steps.len());
    for (i, Obj(s)) in input.sms_steps.into_iter().enumerate() {
        if !is_line(&s.to, 200) {
            return Err(invalid(format!(
                "smsSteps[{i}].to: a number (E.164) or a payload reference such as callerNumber"
            )));
        }
        if s.text.chars().count() > 1600 || !crate::api::extract::has_text(&s.text) {
            return Err(invalid(format!("smsSteps[{i}].text: 1 to 1600 characters, not blank")));
        }
        if let Some(f) = &s.from {
            if !is_line(f, 64) {
                return Err(invalid(format!("smsSteps[{i}].from: a number (E.164) or a sender id")));
            }
        }
        steps.push(SmsStep { to: s.to.trim().to_string(), from: s.from.map(|f| f.trim().to_string()), text: s.text });
    }
    Ok(Flow {
        id,
        name: input.name.trim().to_string(),
        webhook_enabled: input.webhook_enabled,
        sms_steps: steps,
        created_at: existing.map_or_else(|| now.to_string(), |f| f.created_at.clone()),
        updated_at: now.to_string(),
    })
}

/// A path's flow id; anything else names no flow.
fn path_id(id: &str) -> Result<u64, ApiError> {
    id.parse::<u64>().ok().filter(|n| (1..=MAX_FLOW_ID).contains(n)).ok_or_else(|| ApiError::not_found("flow", id))
}

#[utoipa::path(get, path = "/v1/flows", tag = "sms", operation_id = "list_flows",
    responses((status = 200, description = "Every flow of the tenant", body = FlowList)))]
pub async fn list(State(app): State<Arc<App>>, TenantId(tenant): TenantId) -> Result<Json<FlowList>, ApiError> {
    let flows = store::flows(app.store.as_ref(), &tenant).await?;
    Ok(Json(FlowList { flows: flows.iter().map(view).collect() }))
}

#[utoipa::path(post, path = "/v1/flows", tag = "sms", operation_id = "create_flow",
    request_body = FlowInput,
    responses((status = 201, description = "Created", body = FlowView),
        (status = 409, description = "A flow with this id exists; PUT replaces it", body = Error)))]
pub async fn create(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<FlowView>), ApiError> {
    let input: FlowInput = parse_object(body, INVALID, "a flow")?;
    let st = app.store.as_ref();
    let now = format_time(app.now_ms());
    let given = input.id;
    if given.is_some_and(|id| !(1..=MAX_FLOW_ID).contains(&id)) {
        return Err(invalid(format!("id: a whole number from 1 to {MAX_FLOW_ID}")));
    }
    let mut flow = build(input, given.unwrap_or(0), None, &now)?;
    // Without an id: the next free one (again if another create took it meanwhile).
    for _ in 0..10 {
        if given.is_none() {
            flow.id = store::last_flow_id(st, &tenant).await? + 1;
        }
        match store::put_flow(st, &tenant, &flow, None).await {
            Ok(()) => return Ok((StatusCode::CREATED, Json(view(&flow)))),
            Err(StoreError::ConditionFailed) if given.is_none() => continue,
            Err(StoreError::ConditionFailed) => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    format!("a flow with id {} exists; PUT /v1/flows/{} replaces it", flow.id, flow.id),
                ))
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::ConditionFailed.into())
}

#[utoipa::path(get, path = "/v1/flows/{id}", tag = "sms", operation_id = "get_flow",
    params(("id" = u64, Path, description = "The flow's id", minimum = 1, maximum = 9_999_999_999_u64)),
    responses((status = 200, description = "The flow", body = FlowView)))]
pub async fn get_one(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<Json<FlowView>, ApiError> {
    let n = path_id(&id)?;
    let f = store::flow(app.store.as_ref(), &tenant, n).await?.ok_or_else(|| ApiError::not_found("flow", &id))?;
    Ok(Json(view(&f.value)))
}

#[utoipa::path(put, path = "/v1/flows/{id}", tag = "sms", operation_id = "replace_flow",
    params(("id" = u64, Path, description = "The flow's id", minimum = 1, maximum = 9_999_999_999_u64)),
    request_body = FlowInput,
    responses((status = 200, description = "Replaced, or created under this id", body = FlowView),
        (status = 409, description = "Changed concurrently; read it again", body = Error)))]
pub async fn replace(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<FlowView>, ApiError> {
    let n = path_id(&id)?;
    let input: FlowInput = parse_object(body, INVALID, "a flow")?;
    if input.id.is_some_and(|given| given != n) {
        return Err(invalid(format!("id: must be the path's id ({n}) or left out")));
    }
    let st = app.store.as_ref();
    let cur = store::flow(st, &tenant, n).await?;
    let flow = build(input, n, cur.as_ref().map(|c| &c.value), &format_time(app.now_ms()))?;
    store::put_flow(st, &tenant, &flow, cur.map(|c| c.version)).await?;
    Ok(Json(view(&flow)))
}

#[utoipa::path(delete, path = "/v1/flows/{id}", tag = "sms", operation_id = "delete_flow",
    params(("id" = u64, Path, description = "The flow's id", minimum = 1, maximum = 9_999_999_999_u64)),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let n = path_id(&id)?;
    if store::delete_flow(app.store.as_ref(), &tenant, n).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("flow", &id))
    }
}
