//! `/v1/deliveries`: the event log. Every delivery with every attempt; filters by webhook,
//! trigger, event, status and time; redelivery.

use crate::api::extract::{JsonBody, TenantId};
use crate::app::App;
use crate::error::ApiError;
use crate::model::{parse_time, Delivery, DeliveryStatus};
use crate::pipeline::deliver;
use crate::repo::deliveries::{self, DeliveryFilter};
use crate::repo::webhooks;
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
    // SMS notifications: the status Twilio reported for each attempt's message.
    crate::destinations::sms_status::annotate(app.store.as_ref(), &tenant, &id, &mut v).await?;
    Ok(Json(v))
}

/// Sends a delivery again now, whatever its state; its retry policy starts over (a new
/// series: the policy counts only the attempts from here). The delivery keeps its id
/// (receivers deduplicating on `webhook-id` see the same id).
pub async fn redeliver(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let cur = deliveries::find(app.store.as_ref(), &tenant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("delivery", &id))?;
    let d = requeue(&app, cur.value, cur.version).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "id": d.id, "status": d.status }))))
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

/// `POST /v1/webhooks/{id}/recover` `{"since": RFC 3339, "until"?: RFC 3339}`: every failed
/// delivery of the webhook created in that window is sent again (a new retry series each).
/// 202 with how many were queued.
pub async fn recover(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(webhook_id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if webhooks::find(app.store.as_ref(), &tenant, &webhook_id).await?.is_none() {
        return Err(ApiError::not_found("webhook", &webhook_id));
    }
    let time = |key: &str, required: bool| -> Result<Option<i64>, ApiError> {
        match body.get(key) {
            None | Some(Value::Null) if !required => Ok(None),
            Some(Value::String(s)) => {
                chrono::DateTime::parse_from_rfc3339(s).map(|t| Some(t.timestamp_millis())).map_err(|_| {
                    ApiError::unprocessable("invalid recover", format!("{key}: {s:?} is not an RFC 3339 time"))
                })
            }
            _ => Err(ApiError::unprocessable(
                "invalid recover",
                format!(
                    "{key}: {}an RFC 3339 time such as \"2024-10-16T15:47:15Z\"",
                    if required { "required, " } else { "" }
                ),
            )),
        }
    };
    let since = time("since", true)?;
    let until = time("until", false)?;
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
    Ok((StatusCode::ACCEPTED, Json(json!({ "webhookId": webhook_id, "recovered": recovered }))))
}
