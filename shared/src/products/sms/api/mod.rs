//! The product's API: `/v1/account`, `/v1/flows`, `/v1/sms` and `/v1/contacts`.

pub mod account;
pub mod contacts;
pub mod flows;
pub mod messages;
pub mod messaging;
pub mod records;

use crate::app::App;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;
use utoipa::OpenApi;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/v1/account", get(account::get_one).put(account::replace))
        .route("/v1/account/messaging", get(messaging::get_one).put(messaging::replace))
        .route("/v1/messages", post(messages::create))
        .route("/v1/messages/{id}", get(messages::get_one))
        .route("/v1/flows", get(flows::list).post(flows::create))
        .route("/v1/flows/{id}", get(flows::get_one).put(flows::replace).delete(flows::delete))
        .route("/v1/sms", get(records::list))
        .route("/v1/sms/{id}", get(records::get_one))
        .route("/v1/contacts", get(contacts::list).post(contacts::create))
        .route("/v1/contacts/{phone}", get(contacts::get_one).put(contacts::replace).delete(contacts::delete))
}

/// The product's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(
    account::get_one,
    account::replace,
    messaging::get_one,
    messaging::replace,
    messages::create,
    messages::get_one,
    flows::list,
    flows::create,
    flows::get_one,
    flows::replace,
    flows::delete,
    records::list,
    records::get_one,
    contacts::list,
    contacts::create,
    contacts::get_one,
    contacts::replace,
    contacts::delete,
))]
pub struct Doc;
