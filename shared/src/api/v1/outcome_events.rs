//! `/v1/outcome-events`: which outcome events (`delivery.succeeded`, `delivery.failed`) the
//! tenant has published on the event bus when a delivery ends. Nothing until it subscribes:
//! each event is an EventBridge entry, paid for whether anyone listens or not.

use crate::api::extract::{parse_object, JsonBody, TenantId};
use crate::app::App;
use crate::error::ApiError;
use crate::model::format_time;
use crate::repo::outcome_events::{self, OutcomeEvents, OutcomeType};
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::Arc;
use utoipa::ToSchema;

const INVALID: &str = "invalid outcome events";

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::unprocessable(INVALID, detail)
}

/// The whole subscription: the types given replace the ones before. A read may be sent back.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OutcomeEventsInput {
    /// The types to publish, each at most once (a repeat is refused); `[]` publishes none.
    #[schema(value_type = BTreeSet<OutcomeType>, required = true,
        example = json!(["delivery.failed"]))]
    pub types: Option<Vec<OutcomeType>>,
    #[schema(read_only, value_type = crate::api::openapi::SentBack, required = false)]
    pub updated_at: Option<serde::de::IgnoredAny>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeEventsView {
    /// The types published when a delivery of the tenant ends; none by default.
    #[schema(value_type = BTreeSet<OutcomeType>, example = json!(["delivery.succeeded", "delivery.failed"]))]
    pub types: Vec<OutcomeType>,
    /// Absent until the subscription is first set.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub updated_at: Option<String>,
}

impl From<OutcomeEvents> for OutcomeEventsView {
    fn from(o: OutcomeEvents) -> Self {
        Self { types: o.types, updated_at: o.updated_at }
    }
}

#[utoipa::path(get, path = "/v1/outcome-events", tag = "account", operation_id = "get_outcome_events",
    responses((status = 200, description = "The outcome events published for the tenant (none until it subscribes)", body = OutcomeEventsView)))]
pub async fn get_one(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
) -> Result<Json<OutcomeEventsView>, ApiError> {
    Ok(Json(outcome_events::find(app.store.as_ref(), &tenant).await?.into()))
}

#[utoipa::path(put, path = "/v1/outcome-events", tag = "account", operation_id = "replace_outcome_events",
    request_body = OutcomeEventsInput,
    responses((status = 200, description = "The subscription as stored", body = OutcomeEventsView)))]
pub async fn replace(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    JsonBody(body): JsonBody,
) -> Result<Json<OutcomeEventsView>, ApiError> {
    let input: OutcomeEventsInput = parse_object(body, INVALID, "the outcome events")?;
    let Some(types) = input.types else {
        return Err(invalid("types: required, a list of delivery.succeeded and/or delivery.failed ([] for none)"));
    };
    // Refused rather than collapsed: a repeat is a client's mistake, and the document says
    // the items are unique.
    let mut seen = BTreeSet::new();
    if let Some(t) = types.iter().find(|t| !seen.insert(**t)) {
        return Err(invalid(format!("types: {:?} is given twice; name each type once", t.name())));
    }
    let value = OutcomeEvents { types, updated_at: Some(format_time(app.now_ms())) };
    Ok(Json(outcome_events::set(app.store.as_ref(), &tenant, value).await?.into()))
}

#[cfg(test)]
mod tests {
    use super::INVALID;
    use crate::api::test_client::Client;
    use serde_json::{json, Value};

    #[tokio::test]
    async fn none_by_default_then_the_subset_set() {
        let c = Client::start("outcome-events").await;
        assert_eq!(c.call("GET", "/v1/outcome-events", None).await, (200, json!({"types": []})));
        let (s, v) = c
            .call("PUT", "/v1/outcome-events", Some(&json!({"types": ["delivery.failed", "delivery.succeeded"]})))
            .await;
        assert_eq!((s, &v["types"]), (200, &json!(["delivery.succeeded", "delivery.failed"])), "{v}");
        assert!(v["updatedAt"].is_string(), "{v}");
        // A read sent back is accepted as it is.
        let (_, read) = c.call("GET", "/v1/outcome-events", None).await;
        assert_eq!(read, v);
        let (s, v) = c.call("PUT", "/v1/outcome-events", Some(&read)).await;
        assert_eq!((s, &v["types"]), (200, &read["types"]), "{v}");
        let (s, v) = c.call("PUT", "/v1/outcome-events", Some(&json!({"types": []}))).await;
        assert_eq!((s, &v["types"]), (200, &json!([])), "{v}");
    }

    #[tokio::test]
    async fn bad_bodies_are_422_naming_the_field() {
        let c = Client::start("outcome-events-bad").await;
        let cases: Vec<(Value, &str)> = vec![
            (json!({"types": ["delivery.bounced"]}), "types[0]: unknown variant `delivery.bounced`"),
            (json!({"types": ["delivery.failed", "delivery.failed"]}), "types: \"delivery.failed\" is given twice"),
            (json!({"types": "delivery.failed"}), "types: invalid type"),
            (json!({"types": null}), "types: required"),
            (json!({}), "types: required"),
            (json!({"types": [], "extra": 1}), "extra: not a field of the outcome events"),
            (json!(["delivery.failed"]), "the body must be a JSON object"),
        ];
        for (body, detail) in cases {
            let (s, v) = c.call("PUT", "/v1/outcome-events", Some(&body)).await;
            assert_eq!((s, v["error"].as_str()), (422, Some(INVALID)), "{body}: {v}");
            assert!(v["detail"].as_str().unwrap().starts_with(detail), "{body}: {v}");
        }
        assert_eq!(c.call("GET", "/v1/outcome-events", None).await.1, json!({"types": []}), "nothing was stored");
    }
}
