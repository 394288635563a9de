//! `POST /v1/events`: one event or `{"events": [...]}`; 202 once durably queued.

use crate::api::extract::{JsonBody, TenantId};
use crate::error::ApiError;
use crate::pipeline::{ingest, Pipeline};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde_json::{json, Value};

pub async fn post_events(
    State(app): State<Pipeline>,
    TenantId(tenant): TenantId,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => match v.to_str() {
            Ok(s) if !s.is_empty() && s.len() <= 200 => Some(s.to_string()),
            _ => {
                return Err(ApiError::bad_request(
                    "invalid header",
                    "Idempotency-Key: must be 1 to 200 visible ASCII characters",
                ))
            }
        },
    };
    let events = ingest::parse_body(&app.products, &body, &tenant, key.as_deref(), app.now_ms())?;
    let accepted = ingest::accept(&app, events).await?;
    let ids: Vec<&str> = accepted.iter().map(|a| a.id.as_str()).collect();
    Ok((StatusCode::ACCEPTED, Json(json!({ "ids": ids, "events": accepted }))))
}
