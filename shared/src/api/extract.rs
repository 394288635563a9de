//! Extractors that turn every bad request into our `{"error", "detail"}` 4xx.

use crate::app::App;
use crate::error::ApiError;
use crate::repo::tenants;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
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
        check_json_content_type(req.headers())?;
        let bytes = Bytes::from_request(req, state).await.map_err(body_rejection)?;
        if bytes.is_empty() {
            return Err(ApiError::bad_request(MALFORMED_JSON, "the request body is empty; send a JSON object"));
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::bad_request(MALFORMED_JSON, format!("the body is not valid JSON: {e}")))
    }
}

/// A JSON body that may be left out (an empty body is `None`); otherwise as [`JsonBody`].
pub struct OptionalJsonBody(pub Option<Value>);

impl<S: Send + Sync> FromRequest<S> for OptionalJsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        check_json_content_type(req.headers())?;
        let bytes = Bytes::from_request(req, state).await.map_err(body_rejection)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJsonBody(None));
        }
        serde_json::from_slice(&bytes)
            .map(|v| OptionalJsonBody(Some(v)))
            .map_err(|e| ApiError::bad_request(MALFORMED_JSON, format!("the body is not valid JSON: {e}")))
    }
}

/// A body that could not be read (over the size limit, or cut off) as our error shape.
pub fn body_rejection(r: BytesRejection) -> ApiError {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload too large",
            format!("the request body is larger than {} bytes", super::MAX_BODY_BYTES),
        )
    } else {
        ApiError::new(r.status(), "bad request", r.body_text())
    }
}

/// A JSON body may come without a Content-Type, as JSON (`application/json`, `…+json`), or as
/// `application/x-www-form-urlencoded`, which is what `curl -d` sends by default (the README's
/// examples); any other declared type is a 415.
fn check_json_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(v) = headers.get(header::CONTENT_TYPE) else { return Ok(()) };
    let given = v.to_str().unwrap_or_default();
    let essence = given.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let json = essence == "application/json" || essence == "text/json" || essence.ends_with("+json");
    if json || essence == "application/x-www-form-urlencoded" {
        return Ok(());
    }
    let shown: String = essence.chars().take(100).collect();
    Err(ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported media type",
        format!("Content-Type: {shown:?} is not JSON; send the body as application/json"),
    ))
}

/// A JSON body (already read by [`JsonBody`]) parsed strictly into its request type: unknown
/// fields, wrong types and unknown enum names are a 422 named `error` whose detail names the
/// field's path (`auth.type: unknown variant `5`…`). Request types deny unknown fields.
pub fn parse<T: DeserializeOwned>(body: Value, error: &str) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(body).map_err(|e| ApiError::unprocessable(error, described(&e)))
}

fn described<E: std::fmt::Display>(e: &serde_path_to_error::Error<E>) -> String {
    let path = e.path().to_string();
    let inner = e.inner().to_string();
    if path == "." || path.is_empty() {
        inner
    } else {
        format!("{path}: {inner}")
    }
}

/// Query parameters parsed strictly into `T` (its fields are the documented parameters; it
/// denies unknown ones): a parameter that is unknown or not of its type is a 422 naming it.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Params)
            .map_err(|e| ApiError::unprocessable("invalid query", described(&e)))
    }
}
