//! The API's error shape (`{"error": "<short name>", "detail": "<what and where>"}`), and why a
//! queue message could not be handled (`PipelineError`).

use crate::ports::queue::QueueError;
use crate::ports::StoreError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: String,
    pub detail: String,
}

impl ApiError {
    pub fn new(status: StatusCode, error: impl Into<String>, detail: impl Into<String>) -> Self {
        Self { status, error: error.into(), detail: detail.into() }
    }
    pub fn bad_request(error: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error, detail)
    }
    pub fn unprocessable(error: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, error, detail)
    }
    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not found", format!("no {what} with id {id:?}"))
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.error, self.detail)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.error, "detail": self.detail }))).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::ConditionFailed => Self::new(
                StatusCode::CONFLICT,
                "conflict",
                "the item was changed concurrently; read it again and retry",
            ),
            StoreError::Unavailable(d) => {
                tracing::error!(error = %d, "store unavailable");
                Self::unavailable("storage is unavailable; retry later")
            }
        }
    }
}

impl From<QueueError> for ApiError {
    fn from(e: QueueError) -> Self {
        tracing::error!(error = %e, "queue unavailable");
        Self::unavailable("the queue is unavailable; retry later")
    }
}

/// Why a message could not be handled. Both kinds leave the message on the queue (so it is
/// retried and, after the queue's max receives, dead-lettered); the kind is for logs.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("malformed message: {0}")]
    Malformed(String),
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
}

impl From<StoreError> for PipelineError {
    fn from(e: StoreError) -> Self {
        PipelineError::Unavailable(e.to_string())
    }
}

impl From<QueueError> for PipelineError {
    fn from(e: QueueError) -> Self {
        PipelineError::Unavailable(e.to_string())
    }
}

impl From<crate::ports::bus::BusError> for PipelineError {
    fn from(e: crate::ports::bus::BusError) -> Self {
        PipelineError::Unavailable(e.to_string())
    }
}
