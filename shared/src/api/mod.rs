//! The public HTTP API (v1): one axum `Router`, run on Lambda through `lambda::handle_http` and
//! locally by `axum::serve`.

pub mod extract;
pub mod openapi;
pub mod v1;

use crate::error::ApiError;
use crate::pipeline::Pipeline;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

/// Requests larger than this are refused with 413 before they are read in full.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Every route — the pipeline's, the destinations' and every product's: the local runner
/// serves this one router.
pub fn router(pipeline: Pipeline) -> Router {
    let routes = ingest_routes(management_routes(&pipeline));
    finish(routes, pipeline)
}

/// The routes API Gateway sends to the `ingest` function (`POST /v1/events` and
/// `ANY /v1/twilio/{proxy+}` in infra/template.yaml), answered as [`router`] answers them; the
/// `ingest` bootstrap links only their handlers.
pub fn ingest_router(pipeline: Pipeline) -> Router {
    finish(ingest_routes(Router::new()), pipeline)
}

/// Everything else, for the `api` function (`ANY /v1/{proxy+}`): API Gateway never sends it
/// `POST /v1/events` or `/v1/twilio/*`, so it does not link their handlers. Another method on
/// `/v1/events` still gets [`router`]'s 405.
pub fn api_router(pipeline: Pipeline) -> Router {
    let routes = management_routes(&pipeline).route("/v1/events", post(method_not_allowed));
    finish(routes, pipeline)
}

fn ingest_routes(r: Router<Pipeline>) -> Router<Pipeline> {
    r.route("/v1/events", post(v1::events::post_events)).route("/v1/twilio/status", post(v1::twilio::status))
}

fn management_routes(pipeline: &Pipeline) -> Router<Pipeline> {
    let mut router = Router::new()
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/v1/openapi.json", get(openapi::document))
        .route("/v1/webhooks", get(v1::webhooks::list).post(v1::webhooks::create))
        .route("/v1/webhooks/{id}", get(v1::webhooks::get_one).put(v1::webhooks::replace).delete(v1::webhooks::delete))
        .route("/v1/webhooks/{id}/rotate-secret", post(v1::webhooks::rotate_secret))
        .route("/v1/webhooks/{id}/recover", post(v1::deliveries::recover))
        .route("/v1/account/signing-secret", get(v1::signing_secret::get_one))
        .route("/v1/account/signing-secret/rotate", post(v1::signing_secret::rotate))
        .route("/v1/sms-senders", get(v1::sms_senders::list).post(v1::sms_senders::create))
        .route(
            "/v1/sms-senders/{id}",
            get(v1::sms_senders::get_one).put(v1::sms_senders::replace).delete(v1::sms_senders::delete),
        )
        .route("/v1/templates", get(v1::templates::list).post(v1::templates::create))
        .route("/v1/templates/tokens", get(v1::templates::token_catalogue))
        .route(
            "/v1/templates/{id}",
            get(v1::templates::get_one).put(v1::templates::replace).delete(v1::templates::delete),
        )
        .route("/v1/templates/{id}/preview", post(v1::templates::preview))
        .route("/v1/deliveries", get(v1::deliveries::list))
        .route("/v1/deliveries/{id}", get(v1::deliveries::get_one))
        .route("/v1/deliveries/{id}/redeliver", post(v1::deliveries::redeliver))
        .route("/v1/admin/tenants", post(v1::admin::create_tenant))
        .route("/v1/admin/clock", post(v1::admin::move_clock))
        .route("/v1/admin/scheduler/tick", post(v1::admin::scheduler_tick));
    for product in pipeline.products.iter() {
        router = router.merge(product.routes().with_state(pipeline.app.clone()));
    }
    router
}

fn finish(r: Router<Pipeline>, pipeline: Pipeline) -> Router {
    r.fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(pipeline)
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
