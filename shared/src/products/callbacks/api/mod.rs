//! The product's API: `/v1/call-targets`, `/v1/connections` and `/v1/callbacks/{id}`.

pub mod call_targets;
pub mod callbacks;
pub mod connections;

use crate::app::App;
use axum::routing::get;
use axum::Router;
use std::sync::Arc;
use utoipa::OpenApi;

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

/// The product's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(
    call_targets::list,
    call_targets::create,
    call_targets::get_one,
    call_targets::replace,
    call_targets::delete,
    connections::list,
    connections::create,
    connections::get_one,
    connections::replace,
    connections::delete,
    callbacks::get_one,
))]
pub struct Doc;

/// For the tests that hold each documented schema to what its handler returns.
#[cfg(test)]
pub(crate) mod contract {
    use serde_json::Value;
    use std::collections::BTreeSet;

    pub fn doc() -> Value {
        crate::api::openapi::build(&crate::products::defaults())
    }

    /// The properties the document gives the schema `name`.
    pub fn documented(doc: &Value, name: &str) -> BTreeSet<String> {
        doc["components"]["schemas"][name]["properties"].as_object().unwrap().keys().cloned().collect()
    }

    /// The fields `v` serializes to.
    pub fn returned(v: impl serde::Serialize) -> BTreeSet<String> {
        serde_json::to_value(v).unwrap().as_object().unwrap().keys().cloned().collect()
    }

    /// The schema an operation's success answer (or its request body, `status` "body") names.
    pub fn named(doc: &Value, method: &str, path: &str, status: &str) -> Value {
        let op = &doc["paths"][path][method];
        let content =
            if status == "body" { &op["requestBody"]["content"] } else { &op["responses"][status]["content"] };
        content["application/json"]["schema"]["$ref"].clone()
    }
}
