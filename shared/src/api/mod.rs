//! The public HTTP API (v1): one axum `Router`, run on Lambda by `lambda_http` and locally by
//! `axum::serve`.

pub mod extract;
pub mod openapi;
pub mod v1;

use crate::app::App;
use crate::error::ApiError;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;

/// Requests larger than this are refused with 413 before they are read in full.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Every route: the local runner serves this one router.
pub fn router(app: Arc<App>) -> Router {
    finish(ingest_routes(management_routes()), app)
}

/// The routes API Gateway sends to the `ingest` function (`POST /v1/events` and
/// `ANY /v1/twilio/{proxy+}` in infra/template.yaml), answered as [`router`] answers them; the
/// `ingest` bootstrap links only their handlers.
pub fn ingest_router(app: Arc<App>) -> Router {
    finish(ingest_routes(Router::new()), app)
}

/// Everything else, for the `api` function (`ANY /v1/{proxy+}`): API Gateway never sends it
/// `POST /v1/events` or `/v1/twilio/*`, so it does not link their handlers. Another method on
/// `/v1/events` still gets [`router`]'s 405.
pub fn api_router(app: Arc<App>) -> Router {
    finish(management_routes().route("/v1/events", post(method_not_allowed)), app)
}

fn ingest_routes(r: Router<Arc<App>>) -> Router<Arc<App>> {
    r.route("/v1/events", post(v1::events::post_events)).route("/v1/twilio/status", post(v1::twilio::status))
}

fn management_routes() -> Router<Arc<App>> {
    Router::new()
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/v1/openapi.json", get(openapi::document))
        .route("/v1/triggers", get(v1::triggers::list).post(v1::triggers::create))
        .route("/v1/triggers/{id}", get(v1::triggers::get_one).put(v1::triggers::replace).delete(v1::triggers::delete))
        .route("/v1/webhooks", get(v1::webhooks::list).post(v1::webhooks::create))
        .route("/v1/webhooks/{id}", get(v1::webhooks::get_one).put(v1::webhooks::replace).delete(v1::webhooks::delete))
        .route("/v1/webhooks/{id}/rotate-secret", post(v1::webhooks::rotate_secret))
        .route("/v1/webhooks/{id}/recover", post(v1::deliveries::recover))
        .route("/v1/account/signing-secret", get(v1::signing_secret::get_one))
        .route("/v1/account/signing-secret/rotate", post(v1::signing_secret::rotate))
        .route("/v1/call-targets", get(v1::call_targets::list).post(v1::call_targets::create))
        .route(
            "/v1/call-targets/{id}",
            get(v1::call_targets::get_one).put(v1::call_targets::replace).delete(v1::call_targets::delete),
        )
        .route("/v1/connections", get(v1::connections::list).post(v1::connections::create))
        .route(
            "/v1/connections/{id}",
            get(v1::connections::get_one).put(v1::connections::replace).delete(v1::connections::delete),
        )
        .route("/v1/callbacks/{id}", get(v1::callbacks::get_one))
        .route("/v1/deliveries", get(v1::deliveries::list))
        .route("/v1/deliveries/{id}", get(v1::deliveries::get_one))
        .route("/v1/deliveries/{id}/redeliver", post(v1::deliveries::redeliver))
        .route("/v1/leads/{id}", get(v1::leads::get_one))
        .route("/v1/admin/tenants", post(v1::admin::create_tenant))
        .route("/v1/admin/clock", post(v1::admin::move_clock))
        .route("/v1/admin/scheduler/tick", post(v1::admin::scheduler_tick))
}

fn finish(r: Router<Arc<App>>, app: Arc<App>) -> Router {
    r.fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(app)
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not found", "no such route; see GET /v1/openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed",
        "see GET /v1/openapi.json for the methods of this route",
    )
}
