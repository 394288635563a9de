//! `POST /v1/triggers/test`: evaluates a trigger — a saved one, or a body as it would be saved —
//! against an event payload, without saving or delivering anything, and says which conditions
//! held. Without a payload, the seed's sample event of the trigger's type is used (the samples
//! under `events/`), so "test with a sample event" needs no payload at hand.

use super::engine::{resolve, CompiledTrigger, TriggerSet};
use super::model::{Condition, Trigger, TriggerSpec};
use super::{parse_trigger, store};
use crate::api::extract::{parse, JsonBody, TenantId};
use crate::app::App;
use crate::error::ApiError;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use utoipa::{OpenApi, ToSchema};

const INVALID: &str = "invalid trigger test";

pub fn routes() -> Router<Arc<App>> {
    Router::new().route("/v1/triggers/test", post(try_trigger))
}

#[derive(OpenApi)]
#[openapi(paths(try_trigger))]
struct Doc;

pub fn openapi() -> utoipa::openapi::OpenApi {
    Doc::openapi()
}

/// The sample event of each event type: (type, sample name, the `{"type", "payload"}` file).
const SAMPLES: &[(&str, &str, &str)] = &[
    (
        "agent.wrap",
        "agent.wrap.outbound-preview",
        include_str!("../../../../events/triggers/payloads/agent.wrap.outbound-preview.json"),
    ),
    (
        "outbound.lead.outcome.predictive",
        "outbound.lead.outcome.predictive.answering-machine-attempt",
        include_str!(
            "../../../../events/triggers/payloads/outbound.lead.outcome.predictive.answering-machine-attempt.json"
        ),
    ),
    (
        "outbound.lead.outcome.preview",
        "outbound.lead.outcome.preview.answering-machine",
        include_str!("../../../../events/triggers/payloads/outbound.lead.outcome.preview.answering-machine.json"),
    ),
    ("mpiq.attempt", "mpiq.attempt", include_str!("../../../../events/triggers/payloads/mpiq.attempt.json")),
    (
        "inbound.workflow.abandon",
        "inbound.workflow.abandon",
        include_str!("../../../../events/triggers/payloads/inbound.workflow.abandon.json"),
    ),
    (
        "inbound.queue.abandon",
        "inbound.queue.abandon",
        include_str!("../../../../events/triggers/payloads/inbound.queue.abandon.json"),
    ),
    (
        "callback.registered",
        "callback.registered.scheduled",
        include_str!("../../../../events/callbacks/payloads/callback.registered.scheduled.json"),
    ),
    (
        "callback.cancelled",
        "callback.cancelled",
        include_str!("../../../../events/callbacks/payloads/callback.cancelled.json"),
    ),
    (
        "callback.chose_messaging",
        "callback.chose_messaging",
        include_str!("../../../../events/callbacks/payloads/callback.chose_messaging.json"),
    ),
    (
        "callback.in_progress",
        "callback.in_progress",
        include_str!("../../../../events/callbacks/payloads/callback.in_progress.json"),
    ),
    (
        "callback.finalized",
        "callback.finalized.success",
        include_str!("../../../../events/callbacks/payloads/callback.finalized.success.json"),
    ),
    ("call.begin", "call-begin", include_str!("../../../../events/call-tracking/call-begin.json")),
    ("call.end", "call-end", include_str!("../../../../events/call-tracking/call-end.json")),
];

/// The sample payload of `event_type`, and its name.
pub fn sample(event_type: &str) -> Option<(&'static str, Value)> {
    let (_, name, text) = SAMPLES.iter().find(|(t, _, _)| *t == event_type)?;
    let v: Value = serde_json::from_str(text).expect("the samples are JSON");
    Some((name, v.get("payload").cloned().unwrap_or(Value::Null)))
}

/// What to evaluate: `triggerId` or `trigger`, and optionally the payload.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TryInput {
    /// A saved trigger (as it is now).
    #[schema(example = "trg_01hx5v3k9a7m2n4p6q8r0s2t4v")]
    pub trigger_id: Option<String>,
    /// Or a trigger body in the seed's shape, checked as a save checks it (with the seed's
    /// error names; referenced webhooks are not looked up) and not saved.
    #[schema(value_type = Option<Object>)]
    pub trigger: Option<Value>,
    /// The event's payload; default: the seed's sample event of the trigger's type.
    #[schema(value_type = Option<Object>)]
    pub payload: Option<Value>,
}

/// One condition, evaluated.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConditionResult {
    pub reference: String,
    #[schema(example = "in")]
    pub operator: String,
    pub value: String,
    /// What the reference found in the payload, as the text the condition compares (a number
    /// or boolean in its string form); null when it is missing, null, an object or a list,
    /// which makes the condition false.
    pub found: Option<String>,
    pub held: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TryResult {
    pub event_type: String,
    /// The trigger would fire: it is enabled and every condition holds.
    pub fires: bool,
    pub enabled: bool,
    pub conditions: Vec<ConditionResult>,
    /// What firing does, in the seed's shape (nothing is sent by this route).
    #[schema(value_type = Vec<Object>)]
    pub actions: Vec<Value>,
    /// The payload evaluated.
    #[schema(value_type = Object)]
    pub payload: Value,
    /// The sample used when no payload was given (a file under `events/`).
    pub sample: Option<String>,
}

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::unprocessable(INVALID, detail)
}

/// A trigger of one condition (enabled), to ask the matcher about that condition alone.
fn alone(spec: &TriggerSpec, c: &Condition) -> CompiledTrigger {
    CompiledTrigger::new(Trigger {
        id: String::new(),
        spec: TriggerSpec { enabled: true, conditions: vec![c.clone()], ..spec.clone() },
        created_at: String::new(),
        updated_at: String::new(),
    })
}

#[utoipa::path(post, path = "/v1/triggers/test", tag = "triggers", operation_id = "test_trigger",
    request_body = TryInput,
    responses((status = 200, description = "Whether the trigger fires for the payload, condition by condition; nothing is sent", body = TryResult)))]
pub async fn try_trigger(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    JsonBody(body): JsonBody,
) -> Result<Json<TryResult>, ApiError> {
    let input: TryInput = parse(body, INVALID)?;
    let spec = match (input.trigger_id, input.trigger) {
        (Some(id), None) => {
            store::find(app.store.as_ref(), &tenant, &id)
                .await?
                .ok_or_else(|| invalid(format!("triggerId: no trigger with id {id:?}")))?
                .spec
        }
        // The seed's error names, the detail's path from the request's root.
        (None, Some(t)) => {
            parse_trigger(&t).map_err(|e| ApiError::unprocessable(e.error, format!("trigger.{}", e.detail)))?
        }
        _ => return Err(invalid("triggerId: give triggerId (a saved trigger) or trigger (a trigger body), not both")),
    };
    let (payload, sample) = match input.payload {
        Some(p @ Value::Object(_)) => (p, None),
        Some(_) => return Err(invalid("payload: must be a JSON object")),
        None => match sample(&spec.event_type) {
            Some((name, p)) => (p, Some(name.to_string())),
            None => {
                return Err(invalid(format!(
                    "payload: required: there is no sample event of type {:?}",
                    spec.event_type
                )))
            }
        },
    };
    let conditions: Vec<ConditionResult> = spec
        .conditions
        .iter()
        .map(|c| {
            let path: Vec<String> = c.reference.split('.').map(str::to_string).collect();
            ConditionResult {
                reference: c.reference.clone(),
                operator: serde_json::to_value(c.operator)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default(),
                value: c.value.clone(),
                found: resolve(&payload, &path).and_then(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    Value::Bool(b) => Some(b.to_string()),
                    _ => None,
                }),
                held: alone(&spec, c).matches(&payload),
            }
        })
        .collect();
    // Whether it fires, asked the way the pipeline asks (through a trigger set's index).
    let trigger =
        Trigger { id: "test".into(), spec: spec.clone(), created_at: String::new(), updated_at: String::new() };
    let fires = TriggerSet::new([trigger]).matching(&spec.event_type, &payload).next().is_some();
    debug_assert_eq!(fires, spec.enabled && conditions.iter().all(|c| c.held));
    Ok(Json(TryResult {
        event_type: spec.event_type.clone(),
        fires,
        enabled: spec.enabled,
        conditions,
        actions: spec.actions.iter().map(|a| serde_json::to_value(a).expect("actions serialize")).collect(),
        payload,
        sample,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_is_an_event_of_its_type() {
        for (event_type, name, text) in SAMPLES {
            let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(v["type"], *event_type, "{name}");
            assert!(v["payload"].is_object(), "{name}");
        }
        assert!(sample("no.such").is_none());
    }
}
