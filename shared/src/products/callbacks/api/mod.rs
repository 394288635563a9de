//! The product's API: `/v1/call-targets`, `/v1/connections` and `/v1/callbacks/{id}`.

pub mod call_targets;
pub mod callbacks;
pub mod connections;

use crate::api::openapi::RouteDoc;
use crate::app::App;
use axum::routing::get;
use axum::Router;
use std::sync::Arc;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/v1/call-targets", get(call_targets::list).post(call_targets::create))
        .route(
            "/v1/call-targets/{id}",
            get(call_targets::get_one).put(call_targets::replace).delete(call_targets::delete),
        )
        .route("/v1/connections", get(connections::list).post(connections::create))
        .route("/v1/connections/{id}", get(connections::get_one).put(connections::replace).delete(connections::delete))
        .route("/v1/callbacks/{id}", get(callbacks::get_one))
}

pub const ROUTES: &[RouteDoc] = &[
    ("get", "/v1/call-targets", "List call targets (and the message placeholders)", 200),
    ("post", "/v1/call-targets", "Create a call target: name, handle, messages, replacements, metadata", 201),
    ("get", "/v1/call-targets/{id}", "Read a call target", 200),
    ("put", "/v1/call-targets/{id}", "Replace (or create) a call target", 200),
    ("delete", "/v1/call-targets/{id}", "Delete a call target", 204),
    ("get", "/v1/connections", "List notification connections (secrets masked)", 200),
    (
        "post",
        "/v1/connections",
        "Create a connection: one notification kind to a webhook or SMS sender (by id, or defined inline)",
        201,
    ),
    ("get", "/v1/connections/{id}", "Read a connection (its destination shown, secrets masked)", 200),
    ("put", "/v1/connections/{id}", "Replace a connection (send the mask back to keep a secret)", 200),
    ("delete", "/v1/connections/{id}", "Delete a connection", 204),
    ("get", "/v1/callbacks/{id}", "A callback's state and reminders, from its callback.* events", 200),
];
