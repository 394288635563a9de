//! `GET /v1/callbacks/{id}`: a callback's state as Ringhook knows it from its events, with its
//! reminders (due time and whether they were sent or dropped, and why).

use crate::api::extract::TenantId;
use crate::app::App;
use crate::error::ApiError;
use crate::model::format_time;
use crate::products::callbacks::store;
use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;

pub async fn get_one(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let st = app.store.as_ref();
    let cb = store::callback(st, &tenant, &id).await?.ok_or_else(|| ApiError::not_found("callback", &id))?.value;
    let reminders = store::reminders_of(st, &tenant, &id).await?;
    let mut v = serde_json::to_value(&cb).expect("callbacks serialize");
    let o = v.as_object_mut().expect("object");
    o.remove("callbackAtMs");
    o.remove("registeredAtMs");
    v["callbackTime"] = json!(cb.callback_at_ms.map(format_time));
    v["registeredAt"] = json!(cb.registered_at_ms.map(format_time));
    v["reminders"] = json!(reminders
        .iter()
        .map(|r| {
            let r = &r.value;
            json!({"kind": r.kind, "dueAt": format_time(r.due_at_ms), "status": r.status, "reason": r.reason,
                   "deliveryIds": r.delivery_ids, "updatedAt": r.updated_at})
        })
        .collect::<Vec<_>>());
    Ok(Json(v))
}
