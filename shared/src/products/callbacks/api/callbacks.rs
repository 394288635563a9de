//! `GET /v1/callbacks/{id}`: a callback's state as Ringhook knows it from its events, with its
//! reminders (due time and whether they were sent or dropped, and why).

use crate::api::extract::TenantId;
use crate::app::App;
use crate::error::ApiError;
use crate::model::format_time;
use crate::products::callbacks::model::{
    Callback, CallbackState, CallbackType, NotificationKind, Outcome, Reminder, ReminderStatus, StateChange,
};
use crate::products::callbacks::store;
use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::Arc;
use utoipa::ToSchema;

/// A callback as the API shows it: times as RFC 3339 rather than the stored milliseconds.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallbackView {
    pub callback_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_target_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_number: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub callback_type: Option<CallbackType>,
    /// The scheduled time (scheduled) or the expected callback time (ASAP); null until known.
    #[schema(format = DateTime, required = true)]
    pub callback_time: Option<String>,
    /// When the callback was registered, as its event said; null until registered.
    #[schema(format = DateTime, required = true)]
    pub registered_at: Option<String>,
    /// The events' `metadata`, as they sent it: free-form (the contact center's own keys).
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    pub state: CallbackState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// The `callback.registered` event this callback came from (none when an event about it
    /// arrived before its registration).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registered_event_id: Option<String>,
    pub history: Vec<StateChange>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub reminders: Vec<ReminderView>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReminderView {
    pub kind: NotificationKind,
    #[schema(format = DateTime)]
    pub due_at: String,
    pub status: ReminderStatus,
    /// Why it was dropped; null otherwise.
    #[schema(required = true)]
    pub reason: Option<String>,
    /// The deliveries it made when it fired (`/v1/deliveries/{id}`).
    pub delivery_ids: Vec<String>,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

pub fn view(cb: Callback, reminders: &[Reminder]) -> CallbackView {
    CallbackView {
        callback_id: cb.callback_id,
        call_target_id: cb.call_target_id,
        customer_number: cb.customer_number,
        callback_type: cb.callback_type,
        callback_time: cb.callback_at_ms.map(format_time),
        registered_at: cb.registered_at_ms.map(format_time),
        metadata: cb.metadata,
        client_name: cb.client_name,
        state: cb.state,
        outcome: cb.outcome,
        registered_event_id: cb.registered_event_id,
        history: cb.history,
        created_at: cb.created_at,
        updated_at: cb.updated_at,
        reminders: reminders
            .iter()
            .map(|r| ReminderView {
                kind: r.kind,
                due_at: format_time(r.due_at_ms),
                status: r.status,
                reason: r.reason.clone(),
                delivery_ids: r.delivery_ids.clone(),
                updated_at: r.updated_at.clone(),
            })
            .collect(),
    }
}

#[utoipa::path(get, path = "/v1/callbacks/{id}", tag = "callbacks", operation_id = "get_callback",
    params(("id" = String, Path, description = "The callback's id (the events' `callbackId`)")),
    responses((status = 200, description = "The callback's state and reminders, from its callback.* events", body = CallbackView)))]
pub async fn get_one(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<Json<CallbackView>, ApiError> {
    let st = app.store.as_ref();
    let cb = store::callback(st, &tenant, &id).await?.ok_or_else(|| ApiError::not_found("callback", &id))?.value;
    let reminders = store::reminders_of(st, &tenant, &id).await?;
    let reminders: Vec<Reminder> = reminders.into_iter().map(|r| r.value).collect();
    Ok(Json(view(cb, &reminders)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::products::callbacks::api::contract::{doc, documented, named, returned};

    /// The documented response is the view: with every optional field given, the fields a read
    /// carries are exactly the documented ones (the stored milliseconds are not among them).
    #[test]
    fn the_view_is_the_document() {
        let mut cb = Callback::new("cb-1", CallbackState::Finalized, "2024-10-16T15:47:15Z");
        cb.call_target_id = Some("6281".into());
        cb.customer_number = Some("+15550001111".into());
        cb.callback_type = Some(CallbackType::Scheduled);
        cb.callback_at_ms = Some(1_729_093_635_000);
        cb.registered_at_ms = Some(1_729_093_635_000);
        cb.client_name = Some("Jo".into());
        cb.outcome = Some(Outcome::Success);
        cb.registered_event_id = Some("evt_1".into());
        cb.history.push(StateChange {
            state: CallbackState::Pending,
            at: "2024-10-16T15:47:15Z".into(),
            event_id: "evt_1".into(),
            reason: Some("r".into()),
        });
        let r = Reminder {
            tenant_id: "ten_1".into(),
            callback_id: "cb-1".into(),
            kind: NotificationKind::Reminder,
            due_at_ms: 1_729_093_635_000,
            callback_at_ms: 1_729_093_635_000,
            event_id: "evt_1".into(),
            status: ReminderStatus::Dropped,
            reason: Some("cancelled".into()),
            delivery_ids: vec!["dlv_1".into()],
            updated_at: "2024-10-16T15:47:15Z".into(),
        };
        let doc = doc();
        let v = view(cb, &[r]);
        assert_eq!(documented(&doc, "CallbackView"), returned(&v));
        assert_eq!(documented(&doc, "ReminderView"), returned(&v.reminders[0]));
        assert_eq!(documented(&doc, "StateChange"), returned(&v.history[0]));
        assert_eq!(named(&doc, "get", "/v1/callbacks/{id}", "200"), "#/components/schemas/CallbackView");
    }
}
