//! `/v1/triggers`: create, list, read, replace, delete — in the seed's shape and with the
//! seed's validation error names; `GET /v1/leads/{id}`: where `lead.update.list` moved a lead.

use super::leads::{self, Lead};
use super::store as triggers;
use super::validate::{TriggerInput, INVALID_PARAMETERS, SAVE_ERROR};
use super::{parse_trigger, Action, Condition, Trigger, TriggerSpec};
use crate::api::extract::{JsonBody, TenantId};
use crate::api::openapi::Error;
use crate::api::v1::webhooks as webhooks_api;
use crate::app::App;
use crate::delivery::ssrf;
use crate::error::ApiError;
use crate::repo::webhooks;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;
use utoipa::{OpenApi, ToSchema};

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/v1/triggers", get(list).post(create))
        .route("/v1/triggers/{id}", get(get_one).put(replace).delete(delete))
        .route("/v1/leads/{id}", get(get_lead))
}

/// The product's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(create, list, get_one, replace, delete, get_lead))]
pub struct Doc;

/// A trigger as the API shows it: the seed's shape, with its id and times.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TriggerView {
    #[schema(example = "trg_01hx5v3k9a7m2n4p6q8r0s2t4v")]
    pub id: String,
    pub name: String,
    #[schema(example = "agent.wrap")]
    pub event_type: String,
    pub enabled: bool,
    pub conditions: Vec<Condition>,
    pub actions: Vec<ActionView>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// An action as stored: the seed's `{"action", "parameters"}`, `lead.listId` read as `listId`.
#[derive(Serialize, ToSchema)]
#[serde(tag = "action", content = "parameters")]
pub enum ActionView {
    #[serde(rename = "webhook")]
    Webhook(WebhookParametersView),
    #[serde(rename = "lead.update.list")]
    LeadUpdateList(LeadUpdateListParametersView),
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookParametersView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LeadUpdateListParametersView {
    pub list_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct TriggerList {
    pub triggers: Vec<TriggerView>,
}

pub fn view(t: &Trigger) -> TriggerView {
    TriggerView {
        id: t.id.clone(),
        name: t.spec.name.clone(),
        event_type: t.spec.event_type.clone(),
        enabled: t.spec.enabled,
        conditions: t.spec.conditions.clone(),
        actions: t
            .spec
            .actions
            .iter()
            .map(|a| match a {
                Action::Webhook { url, webhook_id } => {
                    ActionView::Webhook(WebhookParametersView { url: url.clone(), webhook_id: webhook_id.clone() })
                }
                Action::LeadUpdateList { list_id } => {
                    ActionView::LeadUpdateList(LeadUpdateListParametersView { list_id: list_id.clone() })
                }
            })
            .collect(),
        created_at: t.created_at.clone(),
        updated_at: t.updated_at.clone(),
    }
}

/// Validates the body, then what needs storage or settings: referenced webhooks must exist,
/// inline URLs must be allowed destinations.
async fn validated(app: &App, tenant: &str, body: &Value) -> Result<TriggerSpec, ApiError> {
    let spec = parse_trigger(body).map_err(|e| ApiError::unprocessable(e.error, e.detail))?;
    for (i, a) in spec.actions.iter().enumerate() {
        if let Action::Webhook { url, webhook_id } = a {
            if let Some(u) = url {
                ssrf::check_url_at_creation(u, &app.settings.destinations).map_err(|e| {
                    ApiError::unprocessable(INVALID_PARAMETERS, format!("actions[{i}].parameters.url: {e}"))
                })?;
                webhooks_api::check_resolved(app, u, &format!("actions[{i}].parameters.url"), INVALID_PARAMETERS)
                    .await?;
            }
            if let Some(w) = webhook_id {
                if webhooks::find(app.store.as_ref(), tenant, w).await?.is_none() {
                    return Err(ApiError::unprocessable(
                        INVALID_PARAMETERS,
                        format!("actions[{i}].parameters.webhookId: no webhook with id {w:?}"),
                    ));
                }
            }
        }
    }
    Ok(spec)
}

fn save_error(e: crate::ports::StoreError) -> ApiError {
    match e {
        crate::ports::StoreError::ConditionFailed => ApiError::new(
            StatusCode::CONFLICT,
            SAVE_ERROR,
            "the trigger was changed concurrently; read it again and retry",
        ),
        other => {
            let mut err = ApiError::from(other);
            err.error = SAVE_ERROR.into();
            err
        }
    }
}

#[utoipa::path(post, path = "/v1/triggers", tag = "triggers", operation_id = "create_trigger",
    request_body = TriggerInput,
    responses((status = 201, description = "Created", body = TriggerView)))]
pub async fn create(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<TriggerView>), ApiError> {
    let spec = validated(&app, &tenant, &body).await?;
    let t = triggers::create(app.store.as_ref(), &tenant, spec, app.now_ms()).await.map_err(save_error)?;
    Ok((StatusCode::CREATED, Json(view(&t))))
}

#[utoipa::path(get, path = "/v1/triggers", tag = "triggers", operation_id = "list_triggers",
    responses((status = 200, description = "Every trigger of the tenant", body = TriggerList)))]
pub async fn list(State(app): State<Arc<App>>, TenantId(tenant): TenantId) -> Result<Json<TriggerList>, ApiError> {
    let ts = triggers::list(app.store.as_ref(), &tenant).await?;
    Ok(Json(TriggerList { triggers: ts.iter().map(view).collect() }))
}

#[utoipa::path(get, path = "/v1/triggers/{id}", tag = "triggers", operation_id = "get_trigger",
    params(("id" = String, Path, description = "The trigger's id")),
    responses((status = 200, description = "The trigger", body = TriggerView)))]
pub async fn get_one(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<Json<TriggerView>, ApiError> {
    let t =
        triggers::find(app.store.as_ref(), &tenant, &id).await?.ok_or_else(|| ApiError::not_found("trigger", &id))?;
    Ok(Json(view(&t)))
}

#[utoipa::path(put, path = "/v1/triggers/{id}", tag = "triggers", operation_id = "replace_trigger",
    params(("id" = String, Path, description = "The trigger's id")),
    request_body = TriggerInput,
    responses((status = 200, description = "Replaced", body = TriggerView),
        (status = 409, description = "Changed concurrently; read it again", body = Error)))]
pub async fn replace(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<TriggerView>, ApiError> {
    if triggers::find(app.store.as_ref(), &tenant, &id).await?.is_none() {
        return Err(ApiError::not_found("trigger", &id));
    }
    let spec = validated(&app, &tenant, &body).await?;
    let t = triggers::replace(app.store.as_ref(), &tenant, &id, spec, app.now_ms())
        .await
        .map_err(save_error)?
        .ok_or_else(|| ApiError::not_found("trigger", &id))?;
    Ok(Json(view(&t)))
}

#[utoipa::path(delete, path = "/v1/triggers/{id}", tag = "triggers", operation_id = "delete_trigger",
    params(("id" = String, Path, description = "The trigger's id")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if triggers::delete(app.store.as_ref(), &tenant, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("trigger", &id))
    }
}

#[utoipa::path(get, path = "/v1/leads/{id}", tag = "triggers", operation_id = "get_lead",
    params(("id" = String, Path, description = "The lead's id (the events' `leadId`)")),
    responses((status = 200, description = "The lead's list and its moves", body = Lead)))]
pub async fn get_lead(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<Json<Lead>, ApiError> {
    leads::find(app.store.as_ref(), &tenant, &id).await?.map(Json).ok_or_else(|| ApiError::not_found("lead", &id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::products::triggers::leads::LeadMove;
    use crate::products::triggers::Operator;
    use std::collections::BTreeSet;

    fn doc() -> Value {
        crate::api::openapi::build(&crate::products::defaults())
    }

    fn documented(doc: &Value, schema: &str) -> BTreeSet<String> {
        doc["components"]["schemas"][schema]["properties"].as_object().unwrap().keys().cloned().collect()
    }

    fn returned(v: impl Serialize) -> BTreeSet<String> {
        serde_json::to_value(v).unwrap().as_object().unwrap().keys().cloned().collect()
    }

    fn sample() -> Trigger {
        Trigger {
            id: "trg_1".into(),
            spec: TriggerSpec {
                name: "Send Webhook on Agent Wrap".into(),
                event_type: "agent.wrap".into(),
                enabled: true,
                conditions: vec![Condition {
                    reference: "campaignId".into(),
                    operator: Operator::In,
                    value: "215".into(),
                }],
                actions: vec![
                    Action::Webhook { url: Some("https://hooks.example.com/".into()), webhook_id: Some("wh_1".into()) },
                    Action::LeadUpdateList { list_id: "445".into() },
                ],
            },
            created_at: "2024-10-16T15:47:15Z".into(),
            updated_at: "2024-10-16T15:47:15Z".into(),
        }
    }

    /// The documented responses are the handlers' types: each view's properties are the fields
    /// a serialized view carries (every optional one given), down to each action's parameters.
    #[test]
    fn response_schemas_are_the_fields_the_handlers_return() {
        let doc = doc();
        let v = view(&sample());
        assert_eq!(documented(&doc, "TriggerView"), returned(&v));
        let actions = serde_json::to_value(&v.actions).unwrap();
        assert_eq!(documented(&doc, "WebhookParametersView"), returned(&actions[0]["parameters"]));
        assert_eq!(documented(&doc, "LeadUpdateListParametersView"), returned(&actions[1]["parameters"]));
        // The stored form of an action (what triggers have always returned) is the view's.
        assert_eq!(actions, serde_json::to_value(&sample().spec.actions).unwrap());
        for variant in doc["components"]["schemas"]["ActionView"]["oneOf"].as_array().unwrap() {
            let keys: BTreeSet<String> = variant["properties"].as_object().unwrap().keys().cloned().collect();
            assert_eq!(keys, BTreeSet::from(["action".to_string(), "parameters".to_string()]));
        }
        let lead = Lead {
            lead_id: "L-1".into(),
            list_id: "445".into(),
            campaign_id: Some("1695".into()),
            updated_at: "2024-10-16T15:47:15Z".into(),
            history: vec![LeadMove {
                from_list_id: Some("1".into()),
                to_list_id: "445".into(),
                trigger_id: "trg_1".into(),
                event_id: "evt_1".into(),
                at: "2024-10-16T15:47:15Z".into(),
            }],
        };
        assert_eq!(documented(&doc, "Lead"), returned(&lead));
        assert_eq!(documented(&doc, "LeadMove"), returned(&lead.history[0]));
        let schema = |path: &str, method: &str, status: &str| {
            doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]["$ref"].clone()
        };
        assert_eq!(schema("/v1/triggers/{id}", "get", "200"), "#/components/schemas/TriggerView");
        assert_eq!(schema("/v1/triggers", "post", "201"), "#/components/schemas/TriggerView");
        assert_eq!(schema("/v1/triggers", "get", "200"), "#/components/schemas/TriggerList");
        assert_eq!(schema("/v1/leads/{id}", "get", "200"), "#/components/schemas/Lead");
        let body = &doc["paths"]["/v1/triggers/{id}"]["put"]["requestBody"]["content"]["application/json"]["schema"];
        assert_eq!(body["$ref"], "#/components/schemas/TriggerInput");
    }

    /// A read sent back as it is parses to the same trigger (its own fields are ignored).
    #[test]
    fn a_read_can_be_sent_back() {
        let t = sample();
        let read = serde_json::to_value(view(&t)).unwrap();
        assert_eq!(parse_trigger(&read).unwrap(), t.spec);
        // And the documented body's fields are exactly the read's.
        assert_eq!(documented(&doc(), "TriggerInput"), returned(&read));
    }
}
