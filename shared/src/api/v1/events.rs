//! `POST /v1/events`: one event or `{"events": [...]}`; 202 once durably queued.

use crate::api::extract::{JsonBody, TenantId};
use crate::error::ApiError;
use crate::pipeline::ingest::{self, Accepted};
use crate::pipeline::Pipeline;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// One event.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct EventInput {
    /// Dot-separated lowercase words.
    #[schema(example = "agent.wrap", max_length = 128, pattern = "^[a-z][a-z0-9_-]*(\\.[a-z][a-z0-9_-]*)+$")]
    r#type: String,
    /// The event's data; products check the payloads of the types they handle.
    #[schema(value_type = Object, example = json!({"callUuid": "8f1c0d9e", "agentId": "a-17", "disposition": "sale"}))]
    payload: Value,
    /// Events with the same id (within the dedup window) are accepted once. Default: the
    /// Idempotency-Key header, or a fresh id.
    #[schema(min_length = 1, max_length = 200)]
    id: Option<String>,
    /// When it happened; default: when it arrived.
    #[schema(value_type = Option<crate::api::openapi::Rfc3339>)]
    time: Option<String>,
}

/// Up to 500 events in one request.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct EventBatch {
    #[schema(min_items = 1, max_items = 500)]
    events: Vec<EventInput>,
}

/// One event or a batch.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
#[serde(untagged)]
pub enum EventsBody {
    One(EventInput),
    Batch(EventBatch),
}

#[derive(Serialize, ToSchema)]
pub struct EventsAccepted {
    /// The events' ids, in order.
    pub ids: Vec<String>,
    pub events: Vec<Accepted>,
}

#[utoipa::path(post, path = "/v1/events", tag = "events", operation_id = "post_events",
    request_body = EventsBody,
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]([ -~]{0,198}[!-~])?$", description = "Names a single event (in a batch, event i without an id gets `{key}:{i}`); 1 to 200 printable ASCII characters, no space at either end")),
    responses((status = 202, description = "Durably queued; duplicates are accepted without being evaluated again", body = EventsAccepted)))]
pub async fn post_events(
    State(app): State<Pipeline>,
    TenantId(tenant): TenantId,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<EventsAccepted>), ApiError> {
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => match v.to_str() {
            Ok(s) if is_idempotency_key(s) => Some(s.to_string()),
            _ => {
                return Err(ApiError::bad_request(
                    "invalid header",
                    "Idempotency-Key: must be 1 to 200 printable ASCII characters, no space at either end",
                ))
            }
        },
    };
    let events = ingest::parse_body(&app.products, &body, &tenant, key.as_deref(), app.now_ms())?;
    let accepted = ingest::accept(&app, events).await?;
    let ids = accepted.iter().map(|a| a.id.clone()).collect();
    Ok((StatusCode::ACCEPTED, Json(EventsAccepted { ids, events: accepted })))
}

/// 1 to 200 printable ASCII characters, not starting or ending with a space (HTTP would strip
/// it, so the key would not be the one the client sent); tabs and control characters refused.
fn is_idempotency_key(s: &str) -> bool {
    let b = s.as_bytes();
    (1..=200).contains(&b.len())
        && b.iter().all(|c| (b' '..=b'~').contains(c))
        && b.first() != Some(&b' ')
        && b.last() != Some(&b' ')
}

#[cfg(test)]
mod tests {
    use utoipa::PartialSchema;

    /// The hand-written parser (kept for speed) and the document name the same fields.
    #[test]
    fn the_documented_event_fields_are_the_parsed_ones() {
        let schema = serde_json::to_value(super::EventInput::schema()).unwrap();
        let documented: Vec<&str> = schema["properties"].as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(documented, crate::pipeline::ingest::EVENT_FIELDS);
    }
}
