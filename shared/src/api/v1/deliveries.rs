//! `/v1/deliveries`: the event log. Every delivery with every attempt; filters by webhook,
//! trigger, event, event type, status and time; redelivery.

use crate::api::extract::{parse, JsonBody, Params, TenantId};
use crate::api::openapi::Error;
use crate::app::App;
use crate::delivery::retry::RetryPolicy;
use crate::destinations::sms_status::{self, SmsStatus};
use crate::error::ApiError;
use crate::model::{parse_time, Attempt, Delivery, DeliveryStatus, DeliveryTarget};
use crate::pipeline::deliver;
use crate::repo::deliveries::{self, DeliveryFilter};
use crate::repo::webhooks;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

/// The event log's filters; any other parameter is refused.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only deliveries to this webhook.
    webhook_id: Option<String>,
    /// Only deliveries made by this trigger.
    trigger_id: Option<String>,
    /// Only deliveries of this event.
    event_id: Option<String>,
    /// Only deliveries of events of this type.
    #[param(example = "agent.wrap")]
    event_type: Option<String>,
    status: Option<DeliveryStatus>,
    /// Created at or after this time.
    #[param(value_type = Option<crate::api::openapi::TimeOrMillis>)]
    since: Option<String>,
    /// Created before this time.
    #[param(value_type = Option<crate::api::openapi::TimeOrMillis>)]
    until: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// `nextCursor` of the previous page.
    cursor: Option<String>,
}

pub(crate) fn time_param(name: &str, v: &Option<String>) -> Result<Option<i64>, ApiError> {
    v.as_deref()
        .map(|s| {
            parse_time(s).ok_or_else(|| {
                ApiError::unprocessable("invalid query", format!("{name}: {s:?} is not an RFC 3339 time"))
            })
        })
        .transpose()
}

/// A page of the event log, newest first.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryPage {
    pub deliveries: Vec<Delivery>,
    /// Pass as `cursor` for the next page; null on the last one.
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/v1/deliveries", tag = "deliveries", operation_id = "list_deliveries",
    params(ListQuery),
    responses((status = 200, description = "A page of deliveries, filtered", body = DeliveryPage)))]
pub async fn list(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Params(q): Params<ListQuery>,
) -> Result<Json<DeliveryPage>, ApiError> {
    let limit = crate::api::extract::page_limit(q.limit, 50)?;
    let filter = DeliveryFilter {
        webhook_id: q.webhook_id,
        trigger_id: q.trigger_id,
        event_id: q.event_id,
        event_type: q.event_type,
        status: q.status,
        since_ms: time_param("since", &q.since)?,
        until_ms: time_param("until", &q.until)?,
    };
    let (deliveries, next_cursor) = deliveries::list(app.store.as_ref(), &tenant, &filter, limit, q.cursor).await?;
    Ok(Json(DeliveryPage { deliveries, next_cursor }))
}

/// One delivery with its attempts.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryDetail {
    pub id: String,
    pub tenant_id: String,
    pub event_id: String,
    pub event_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<String>,
    pub target: DeliveryTarget,
    #[schema(value_type = Object)]
    pub payload: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub context: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsendable: Option<String>,
    pub retry_policy: RetryPolicy,
    pub status: DeliveryStatus,
    /// Every attempt, oldest first.
    pub attempts: Vec<AttemptView>,
    pub attempt_count: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_attempt_at_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub created_at_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at_ms: Option<i64>,
    /// SMS deliveries: the latest status Twilio reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_status: Option<String>,
}

/// An attempt; for an SMS, with what Twilio reported about its message.
#[derive(Serialize, ToSchema)]
pub struct AttemptView {
    #[serde(flatten)]
    pub attempt: Attempt,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms: Option<SmsStatus>,
}

#[utoipa::path(get, path = "/v1/deliveries/{id}", tag = "deliveries", operation_id = "get_delivery",
    params(("id" = String, Path, description = "The delivery's id")),
    responses((status = 200, description = "The delivery with every attempt", body = DeliveryDetail)))]
pub async fn get_one(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<Json<DeliveryDetail>, ApiError> {
    let d = deliveries::find(app.store.as_ref(), &tenant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("delivery", &id))?;
    let attempts = deliveries::attempts(app.store.as_ref(), &tenant, &id).await?;
    // SMS notifications: the status Twilio reported for each attempt's message.
    let sms = sms_status::of_delivery(app.store.as_ref(), &tenant, &id).await?;
    let sms_status = sms.iter().max_by_key(|s| s.attempt).map(|s| s.status.clone());
    let attempts = attempts
        .into_iter()
        .map(|a| {
            let sms = sms.iter().find(|s| s.attempt == a.number).cloned();
            AttemptView { attempt: a, sms }
        })
        .collect();
    let d = d.value;
    Ok(Json(DeliveryDetail {
        id: d.id,
        tenant_id: d.tenant_id,
        event_id: d.event_id,
        event_type: d.event_type,
        trigger_id: d.trigger_id,
        webhook_id: d.webhook_id,
        target: d.target,
        payload: d.payload,
        product: d.product,
        context: d.context,
        unsendable: d.unsendable,
        retry_policy: d.retry_policy,
        status: d.status,
        attempts,
        attempt_count: d.attempts,
        first_attempt_at_ms: d.first_attempt_at_ms,
        next_attempt_at_ms: d.next_attempt_at_ms,
        last_status: d.last_status,
        last_error: d.last_error,
        created_at_ms: d.created_at_ms,
        completed_at_ms: d.completed_at_ms,
        sms_status,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Requeued {
    pub id: String,
    pub status: DeliveryStatus,
}

/// Sends a delivery again now, whatever its state; its retry policy starts over (a new
/// series: the policy counts only the attempts from here). The delivery keeps its id
/// (receivers deduplicating on `webhook-id` see the same id).
#[utoipa::path(post, path = "/v1/deliveries/{id}/redeliver", tag = "deliveries", operation_id = "redeliver",
    params(("id" = String, Path, description = "The delivery's id")),
    responses((status = 202, description = "Queued again, as a new retry series", body = Requeued),
        (status = 409, description = "Changed concurrently; try again", body = Error)))]
pub async fn redeliver(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Requeued>), ApiError> {
    let cur = deliveries::find(app.store.as_ref(), &tenant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("delivery", &id))?;
    let d = requeue(&app, cur.value, cur.version).await?;
    Ok((StatusCode::ACCEPTED, Json(Requeued { id: d.id, status: d.status })))
}

/// Makes a delivery pending again, due now, as a new retry series, and queues it.
async fn requeue(app: &App, mut d: Delivery, version: u64) -> Result<Delivery, ApiError> {
    let now = app.now_ms();
    d.status = DeliveryStatus::Pending;
    d.series_start = d.attempts;
    d.first_attempt_at_ms = None;
    d.completed_at_ms = None;
    d.next_attempt_at_ms = Some(now);
    d.sweep_at_ms = Some(now + crate::model::delivery::SWEEP_GRACE_MS);
    deliveries::update(app.store.as_ref(), &d, version).await?;
    deliver::enqueue_now(app, std::slice::from_ref(&d)).await.map_err(|e| ApiError::unavailable(e.to_string()))?;
    Ok(d)
}

/// The window of failed deliveries to send again.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoverInput {
    /// Failed deliveries created at or after this time.
    #[schema(value_type = crate::api::openapi::Rfc3339)]
    pub since: String,
    /// … and before this one (default: now).
    #[schema(value_type = Option<crate::api::openapi::Rfc3339>)]
    pub until: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Recovered {
    pub webhook_id: String,
    /// How many deliveries were queued again.
    pub recovered: usize,
}

/// `POST /v1/webhooks/{id}/recover` `{"since": RFC 3339, "until"?: RFC 3339}`: every failed
/// delivery of the webhook created in that window is sent again (a new retry series each).
/// 202 with how many were queued.
#[utoipa::path(post, path = "/v1/webhooks/{id}/recover", tag = "webhooks", operation_id = "recover_webhook",
    params(("id" = String, Path, description = "The webhook's id")),
    request_body = RecoverInput,
    responses((status = 202, description = "The webhook's failed deliveries in the window, queued again", body = Recovered)))]
pub async fn recover(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(webhook_id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Recovered>), ApiError> {
    if webhooks::find(app.store.as_ref(), &tenant, &webhook_id).await?.is_none() {
        return Err(ApiError::not_found("webhook", &webhook_id));
    }
    let input: RecoverInput = parse(body, "invalid recover")?;
    let time = |key: &str, s: &str| -> Result<i64, ApiError> {
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| t.timestamp_millis())
            .map_err(|_| ApiError::unprocessable("invalid recover", format!("{key}: {s:?} is not an RFC 3339 time")))
    };
    let since = Some(time("since", &input.since)?);
    let until = input.until.as_deref().map(|u| time("until", u)).transpose()?;
    let filter = DeliveryFilter {
        webhook_id: Some(webhook_id.clone()),
        status: Some(DeliveryStatus::Failed),
        since_ms: since,
        until_ms: until,
        ..DeliveryFilter::default()
    };
    // Collect first, then requeue: requeued deliveries stop matching the filter.
    let mut failed = Vec::new();
    let mut cursor = None;
    loop {
        let (page, next) = deliveries::list(app.store.as_ref(), &tenant, &filter, 500, cursor).await?;
        failed.extend(page);
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let mut recovered = 0usize;
    for d in failed {
        // Re-read for the version: one that changed meanwhile (e.g. redelivered) is left alone.
        let Some(cur) = deliveries::find(app.store.as_ref(), &tenant, &d.id).await? else { continue };
        if cur.value.status != DeliveryStatus::Failed {
            continue;
        }
        match requeue(&app, cur.value, cur.version).await {
            Ok(_) => recovered += 1,
            Err(e) if e.status == StatusCode::CONFLICT => continue,
            Err(e) => return Err(e),
        }
    }
    Ok((StatusCode::ACCEPTED, Json(Recovered { webhook_id, recovered })))
}
