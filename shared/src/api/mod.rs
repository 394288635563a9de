//! The public HTTP API (v1): one axum `Router`, run on Lambda by `lambda_http` and locally by
//! `axum::serve`.

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

/// The whole API: the pipeline's and the destinations' routes, and every product's.
pub fn router(pipeline: Pipeline) -> Router {
    let mut router = Router::new()
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/v1/openapi.json", get(openapi::document))
        .route("/v1/events", post(v1::events::post_events))
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
        .route("/v1/twilio/status", post(v1::twilio::status))
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
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not found", "no such route; see GET /v1/openapi.json")
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed",
                "see GET /v1/openapi.json for the methods of this route",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(pipeline)
}
