//! Extractors that turn every bad request into our `{"error", "detail"}` 4xx.

use crate::app::App;
use crate::error::ApiError;
use crate::repo::tenants;
use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde_json::Value;
use std::sync::Arc;

/// The tenant of the request's `Authorization: Bearer <api key>`.
pub struct TenantId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for TenantId
where
    Arc<App>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let app = Arc::<App>::from_ref(state);
        let key = bearer(parts).ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <api key>"))?;
        match tenants::tenant_for_key(app.store.as_ref(), key).await? {
            Some(t) => Ok(TenantId(t)),
            None => Err(ApiError::unauthorized("the API key is not valid")),
        }
    }
}

/// The deployment's admin credential (`Authorization: Bearer <admin token>`).
pub struct Admin;

impl<S: Send + Sync> FromRequestParts<S> for Admin
where
    Arc<App>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let app = Arc::<App>::from_ref(state);
        let Some(expected) = app.settings.admin_token.as_deref() else {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "admin routes are disabled: no admin token is configured",
            ));
        };
        match bearer(parts) {
            Some(given) if constant_time_eq(given.as_bytes(), expected.as_bytes()) => Ok(Admin),
            _ => Err(ApiError::unauthorized("admin routes need Authorization: Bearer <admin token>")),
        }
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let h = parts.headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = h.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A JSON body, read under the size limit; malformed JSON is a 400 naming line and column.
pub struct JsonBody(pub Value);

/// The error name for malformed JSON; triggers use the seed's "Invalid JSON format".
pub const MALFORMED_JSON: &str = "Invalid JSON format";

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|r| {
            if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload too large",
                    format!("the request body is larger than {} bytes", super::MAX_BODY_BYTES),
                )
            } else {
                ApiError::new(r.status(), "bad request", r.body_text())
            }
        })?;
        if bytes.is_empty() {
            return Err(ApiError::bad_request(MALFORMED_JSON, "the request body is empty; send a JSON object"));
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::bad_request(MALFORMED_JSON, format!("the body is not valid JSON: {e}")))
    }
}
