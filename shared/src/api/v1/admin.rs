//! `/v1/admin/*`: tenant creation with the deployment's admin token; and, only when the
//! process runs on a manual clock, moving time and running the scheduler on demand (tests).

use crate::api::extract::{parse, Admin, JsonBody};
use crate::api::openapi::Error;
use crate::app::App;
use crate::error::ApiError;
use crate::model::format_time;
use crate::model::Tenant;
use crate::pipeline::scheduler::{self, TickReport};
use crate::pipeline::Pipeline;
use crate::ports::Clock;
use crate::repo::{signing_secrets, tenants};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantInput {
    #[schema(example = "Acme Contact Center")]
    pub name: String,
}

/// A new tenant with its first API key and its signing secret, each shown this once.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewTenant {
    pub tenant: Tenant,
    #[schema(example = "rk_live_…")]
    pub api_key: String,
    pub signing_secret: String,
}

#[utoipa::path(post, path = "/v1/admin/tenants", tag = "admin", operation_id = "create_tenant",
    request_body = TenantInput, security(("adminToken" = [])),
    responses((status = 201, description = "The tenant, its first API key and its signing secret (shown once)", body = NewTenant),
        (status = 403, description = "No admin token is configured", body = Error)))]
pub async fn create_tenant(
    State(app): State<Arc<App>>,
    _: Admin,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<NewTenant>), ApiError> {
    let input: TenantInput = parse(body, INVALID_TENANT)?;
    let name = input.name.trim().to_string();
    if name.is_empty() {
        return Err(ApiError::unprocessable(INVALID_TENANT, "name: required, a non-empty string"));
    }
    let now = app.now_ms();
    let t = tenants::create(app.store.as_ref(), &name, now).await?;
    let key = tenants::generate_key();
    tenants::add_key(app.store.as_ref(), &t.id, &key, now).await?;
    let secrets = signing_secrets::create(app.store.as_ref(), &t.id).await?;
    // The key and the signing secret (for inline trigger URLs) are shown once; only the key's
    // hash is stored.
    Ok((
        StatusCode::CREATED,
        Json(NewTenant { tenant: t, api_key: key, signing_secret: secrets.current().to_string() }),
    ))
}

const INVALID_TENANT: &str = "invalid tenant";

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

/// Exactly one of the three.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClockMove {
    /// Milliseconds to move forward (or back, when negative).
    pub advance_ms: Option<i64>,
    pub advance_secs: Option<i64>,
    /// The time to set, in ms since 1970.
    pub set_ms: Option<i64>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClockNow {
    pub now_ms: i64,
    #[schema(format = DateTime)]
    pub now: String,
}

const INVALID_CLOCK: &str = "invalid clock move";

/// `{"advanceMs": n}` or `{"advanceSecs": n}` or `{"setMs": t}`; the result must lie within
/// 1970 to 9999 (checked arithmetic: an overflow is a 422, not a panic).
#[utoipa::path(post, path = "/v1/admin/clock", tag = "admin", operation_id = "move_clock",
    request_body = ClockMove, security(("adminToken" = [])),
    responses((status = 200, description = "The clock's new time", body = ClockNow),
        (status = 403, description = "Not running with --clock manual, or no admin token configured", body = Error)))]
pub async fn move_clock(
    State(app): State<Arc<App>>,
    _: Admin,
    JsonBody(body): JsonBody,
) -> Result<Json<ClockNow>, ApiError> {
    let clock = manual_clock(&app)?;
    let m: ClockMove = parse(body, INVALID_CLOCK)?;
    let out_of_range = |field: &str| {
        ApiError::unprocessable(
            INVALID_CLOCK,
            format!("{field}: the clock would leave 1970-01-01 to 9999-12-31 (0 to {MAX_CLOCK_MS} ms)"),
        )
    };
    let now = clock.now_ms();
    let (field, target) = match (m.advance_ms, m.advance_secs, m.set_ms) {
        (Some(ms), None, None) => ("advanceMs", now.checked_add(ms)),
        (None, Some(s), None) => ("advanceSecs", s.checked_mul(1000).and_then(|ms| now.checked_add(ms))),
        (None, None, Some(t)) => ("setMs", Some(t)),
        _ => {
            return Err(ApiError::unprocessable(
                INVALID_CLOCK,
                "send one of advanceMs, advanceSecs or setMs (integers)",
            ))
        }
    };
    let target = target.filter(|t| (0..=MAX_CLOCK_MS).contains(t)).ok_or_else(|| out_of_range(field))?;
    clock.set_ms(target);
    let now = app.now_ms();
    Ok(Json(ClockNow { now_ms: now, now: format_time(now) }))
}

#[utoipa::path(post, path = "/v1/admin/scheduler/tick", tag = "admin", operation_id = "scheduler_tick",
    security(("adminToken" = [])),
    responses((status = 200, description = "What the tick found due and queued", body = TickReport),
        (status = 403, description = "No admin token is configured", body = Error)))]
pub async fn scheduler_tick(State(app): State<Pipeline>, _: Admin) -> Result<Json<TickReport>, ApiError> {
    let report = scheduler::tick(&app).await.map_err(|e| ApiError::unavailable(e.to_string()))?;
    Ok(Json(report))
}
