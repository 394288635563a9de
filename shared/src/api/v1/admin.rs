//! `/v1/admin/*`: tenant creation with the deployment's admin token; and, only when the
//! process runs on a manual clock, moving time and running the scheduler on demand (tests).

use crate::api::extract::{Admin, JsonBody};
use crate::app::App;
use crate::error::ApiError;
use crate::model::format_time;
use crate::pipeline::{scheduler, Pipeline};
use crate::ports::Clock;
use crate::repo::{signing_secrets, tenants};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;

pub async fn create_tenant(
    State(app): State<Arc<App>>,
    _: Admin,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let name = match body.get("name") {
        Some(Value::String(n)) if !n.trim().is_empty() => n.trim().to_string(),
        _ => return Err(ApiError::unprocessable("invalid tenant", "name: required, a non-empty string")),
    };
    let now = app.now_ms();
    let t = tenants::create(app.store.as_ref(), &name, now).await?;
    let key = tenants::generate_key();
    tenants::add_key(app.store.as_ref(), &t.id, &key, now).await?;
    let secrets = signing_secrets::create(app.store.as_ref(), &t.id).await?;
    // The key and the signing secret (for inline trigger URLs) are shown once; only the key's
    // hash is stored.
    Ok((StatusCode::CREATED, Json(json!({ "tenant": t, "apiKey": key, "signingSecret": secrets.current() }))))
}

fn manual_clock(app: &App) -> Result<&crate::ports::ManualClock, ApiError> {
    app.manual_clock.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the clock can be moved only when running with --clock manual",
        )
    })
}

/// The latest time the clock may be moved to: 9999-12-31T23:59:59.999Z, the last instant the
/// API's RFC 3339 times can show.
pub const MAX_CLOCK_MS: i64 = 253_402_300_799_999;

/// `{"advanceMs": n}` or `{"advanceSecs": n}` or `{"setMs": t}`; the result must lie within
/// 1970 to 9999 (checked arithmetic: an overflow is a 422, not a panic).
pub async fn move_clock(
    State(app): State<Arc<App>>,
    _: Admin,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let clock = manual_clock(&app)?;
    let num = |k: &str| body.get(k).and_then(Value::as_i64);
    let out_of_range = |field: &str| {
        ApiError::unprocessable(
            "invalid clock move",
            format!("{field}: the clock would leave 1970-01-01 to 9999-12-31 (0 to {MAX_CLOCK_MS} ms)"),
        )
    };
    let now = clock.now_ms();
    let (field, target) = if let Some(ms) = num("advanceMs") {
        ("advanceMs", now.checked_add(ms))
    } else if let Some(s) = num("advanceSecs") {
        ("advanceSecs", s.checked_mul(1000).and_then(|ms| now.checked_add(ms)))
    } else if let Some(t) = num("setMs") {
        ("setMs", Some(t))
    } else {
        return Err(ApiError::unprocessable("invalid clock move", "send advanceMs, advanceSecs or setMs (integers)"));
    };
    let target = target.filter(|t| (0..=MAX_CLOCK_MS).contains(t)).ok_or_else(|| out_of_range(field))?;
    clock.set_ms(target);
    let now = app.now_ms();
    Ok(Json(json!({ "nowMs": now, "now": format_time(now) })))
}

pub async fn scheduler_tick(State(app): State<Pipeline>, _: Admin) -> Result<Json<Value>, ApiError> {
    let report = scheduler::tick(&app).await.map_err(|e| ApiError::unavailable(e.to_string()))?;
    Ok(Json(json!(report)))
}
