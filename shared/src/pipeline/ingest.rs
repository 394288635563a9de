//! Accepting events: validate, put them on the events queue, record their ids (deduplication).
//! An event is acknowledged (202) only once it is durably queued and its id recorded.

use crate::app::App;
use crate::error::ApiError;
use crate::model::event::is_valid_event_type;
use crate::model::{format_time, Event};
use crate::ports::{OutMessage, QueueName};
use crate::product::Products;
use crate::repo::events::{self, Recorded};
use serde::Serialize;
use serde_json::Value;

pub const MAX_BATCH: usize = 500;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Accepted {
    pub id: String,
    pub duplicate: bool,
}

/// The fields of an event object; any other is refused (`api::v1::events::EventInput`
/// documents these, and a test holds the two together).
pub const EVENT_FIELDS: &[&str] = &["type", "payload", "id", "time"];

/// Parses one event object: `{"type", "payload", "id"?, "time"?}`; `at` names it in errors.
/// The products that handle its type check its payload.
pub fn parse_event(
    products: &Products,
    v: &Value,
    at: &str,
    tenant: &str,
    default_id: Option<String>,
    now_ms: i64,
) -> Result<Event, ApiError> {
    let o = v
        .as_object()
        .ok_or_else(|| ApiError::unprocessable("invalid event", format!("{at}: must be a JSON object")))?;
    if o.len() > 2 {
        if let Some(k) = o.keys().find(|k| !EVENT_FIELDS.contains(&k.as_str())) {
            let k: String = k.chars().take(100).collect();
            return Err(ApiError::unprocessable(
                "invalid event",
                format!("{at}.{k}: unknown field, expected one of type, payload, id, time"),
            ));
        }
    }
    let event_type = match o.get("type") {
        Some(Value::String(t)) if is_valid_event_type(t) => t.clone(),
        Some(Value::String(t)) => {
            return Err(ApiError::unprocessable(
                "invalid event",
                format!("{at}.type: {t:?} is not an event type (dot-separated lowercase words, e.g. \"agent.wrap\")"),
            ))
        }
        _ => return Err(ApiError::unprocessable("invalid event", format!("{at}.type: required, a string"))),
    };
    let payload = match o.get("payload") {
        Some(p @ Value::Object(_)) => p.clone(),
        _ => return Err(ApiError::unprocessable("invalid event", format!("{at}.payload: required, a JSON object"))),
    };
    products
        .validate(&event_type, &payload)
        .map_err(|e| ApiError::unprocessable("invalid event", format!("{at}.payload.{e}")))?;
    let id = match o.get("id") {
        None | Some(Value::Null) => {
            default_id.unwrap_or_else(|| format!("evt_{}", ulid::Ulid::new().to_string().to_lowercase()))
        }
        Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= 200 => s.clone(),
        Some(_) => {
            return Err(ApiError::unprocessable(
                "invalid event",
                format!("{at}.id: must be a string of 1 to 200 characters"),
            ))
        }
    };
    let time = match o.get("time") {
        None | Some(Value::Null) => format_time(now_ms),
        // RFC 3339 only: the time is kept as given and shown to receivers.
        Some(Value::String(s)) if chrono::DateTime::parse_from_rfc3339(s).is_ok() => s.clone(),
        Some(_) => {
            return Err(ApiError::unprocessable("invalid event", format!("{at}.time: must be an RFC 3339 timestamp")))
        }
    };
    // Unique per accepted copy: a repeat of the id at the same clock time is still a repeat.
    let arrival = ulid::Ulid::new().to_string();
    Ok(Event {
        id,
        tenant_id: tenant.to_string(),
        event_type,
        payload: payload.into(),
        time,
        received_at_ms: now_ms,
        arrival,
    })
}

/// Parses a request body: one event, or `{"events": [...]}`. The idempotency key names a
/// single event; in a batch, event i without its own id gets `{key}:{i}`.
pub fn parse_body(
    products: &Products,
    body: &Value,
    tenant: &str,
    idempotency_key: Option<&str>,
    now_ms: i64,
) -> Result<Vec<Event>, ApiError> {
    match body.get("events") {
        Some(Value::Array(items)) => {
            if items.is_empty() {
                return Err(ApiError::unprocessable("invalid event", "events: the batch is empty"));
            }
            if let Some(k) = body.as_object().into_iter().flat_map(|o| o.keys()).find(|k| *k != "events") {
                let k: String = k.chars().take(100).collect();
                return Err(ApiError::unprocessable(
                    "invalid event",
                    format!("{k}: unknown field; a batch is {{\"events\": [...]}} only"),
                ));
            }
            if items.len() > MAX_BATCH {
                return Err(ApiError::new(
                    axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                    "batch too large",
                    format!("events: {} events; at most {MAX_BATCH} per request", items.len()),
                ));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    parse_event(
                        products,
                        e,
                        &format!("events[{i}]"),
                        tenant,
                        idempotency_key.map(|k| format!("{k}:{i}")),
                        now_ms,
                    )
                })
                .collect()
        }
        Some(_) => Err(ApiError::unprocessable("invalid event", "events: must be an array of events")),
        None => Ok(vec![parse_event(products, body, "event", tenant, idempotency_key.map(str::to_string), now_ms)?]),
    }
}

/// Queues and records the events. Duplicates (an id seen before within the dedup window, or
/// twice in one request) are answered as accepted and are not evaluated again.
///
/// Queued first, recorded second (both in one commit where the backend offers an outbox): once
/// an id is recorded its event is durably queued, so a repeat may be answered `duplicate`
/// without anything else remembered. A repeat's copy is queued too (before its id is found
/// recorded) and dropped by evaluation, which evaluates only the arrival the record holds.
pub async fn accept(app: &App, events: Vec<Event>) -> Result<Vec<Accepted>, ApiError> {
    let mut seen = std::collections::HashSet::new();
    let first_in_request: Vec<bool> = events.iter().map(|e| seen.insert(e.id.as_str())).collect();
    let firsts = events.iter().zip(&first_in_request).filter(|(_, first)| **first).map(|(e, _)| e);
    let messages =
        firsts.clone().map(|e| OutMessage::now(serde_json::to_string(e).expect("events serialize"))).collect();
    let recorded = match &app.outbox {
        // One commit queues the events and records their ids.
        Some(outbox) => {
            let held = outbox
                .send_then_put(QueueName::Events, messages, firsts.clone().map(events::record_write).collect())
                .await?;
            futures::future::try_join_all(firsts.zip(held).map(|(e, held)| events::settle(app.store.as_ref(), e, held)))
                .await?
        }
        None => {
            app.queue.send(QueueName::Events, messages).await?;
            futures::future::try_join_all(firsts.map(|e| events::record(app.store.as_ref(), e))).await?
        }
    };
    let mut recorded = recorded.into_iter();
    let recorded = first_in_request.iter().map(|first| match first {
        true => recorded.next().expect("one record per first copy"),
        false => Recorded::Duplicate,
    });
    Ok(events
        .into_iter()
        .zip(recorded)
        .map(|(e, r)| Accepted { id: e.id, duplicate: r == Recorded::Duplicate })
        .collect())
}
