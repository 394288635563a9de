//! `/v1/deliveries`: the event log. Every delivery with every attempt; filters by webhook,
//! trigger, event, status and time; redelivery.

use crate::api::extract::TenantId;
use crate::app::App;
use crate::error::ApiError;
use crate::model::{parse_time, DeliveryStatus};
use crate::pipeline::deliver;
use crate::repo::deliveries::{self, DeliveryFilter};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListQuery {
    webhook_id: Option<String>,
    trigger_id: Option<String>,
    event_id: Option<String>,
    status: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

fn time_param(name: &str, v: &Option<String>) -> Result<Option<i64>, ApiError> {
    v.as_deref()
        .map(|s| {
            parse_time(s)
                .ok_or_else(|| ApiError::bad_request("invalid query", format!("{name}: {s:?} is not an RFC 3339 time")))
        })
        .transpose()
}

pub async fn list(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::bad_request("invalid query", e.body_text()))?;
    let status = q
        .status
        .as_deref()
        .map(|s| {
            DeliveryStatus::parse(s).ok_or_else(|| {
                ApiError::bad_request("invalid query", format!("status: {s:?}; use pending, succeeded or failed"))
            })
        })
        .transpose()?;
    let limit = match q.limit.as_deref() {
        None => 50,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=500).contains(l))
            .ok_or_else(|| ApiError::bad_request("invalid query", "limit: 1 to 500"))?,
    };
    let filter = DeliveryFilter {
        webhook_id: q.webhook_id,
        trigger_id: q.trigger_id,
        event_id: q.event_id,
        status,
        since_ms: time_param("since", &q.since)?,
        until_ms: time_param("until", &q.until)?,
    };
    let (items, next) = deliveries::list(app.store.as_ref(), &tenant, &filter, limit, q.cursor).await?;
    Ok(Json(json!({ "deliveries": items, "nextCursor": next })))
}

pub async fn get_one(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let d = deliveries::find(app.store.as_ref(), &tenant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("delivery", &id))?;
    let attempts = deliveries::attempts(app.store.as_ref(), &tenant, &id).await?;
    let mut v = serde_json::to_value(&d.value).expect("deliveries serialize");
    v["attempts"] = json!(attempts);
    v["attemptCount"] = json!(d.value.attempts);
    Ok(Json(v))
}

/// Sends a delivery again now, whatever its state; its retry policy starts over. The
/// delivery keeps its id (receivers deduplicating on `webhook-id` see the same id).
pub async fn redeliver(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let cur = deliveries::find(app.store.as_ref(), &tenant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("delivery", &id))?;
    let now = app.now_ms();
    let mut d = cur.value;
    d.status = DeliveryStatus::Pending;
    d.first_attempt_at_ms = None;
    d.completed_at_ms = None;
    d.next_attempt_at_ms = Some(now);
    d.sweep_at_ms = Some(now + deliver::SWEEP_GRACE_MS);
    deliveries::update(app.store.as_ref(), &d, cur.version).await?;
    deliver::enqueue_now(&app, std::slice::from_ref(&d)).await.map_err(|e| ApiError::unavailable(e.to_string()))?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "id": d.id, "status": d.status }))))
}
