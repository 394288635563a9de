//! `/v1/account/signing-secret`: the tenant's secret that signs webhooks sent to inline trigger
//! URLs (a configured webhook has its own). Write-only like every secret: reads show it masked;
//! a rotation returns the new one once, and the previous one keeps signing for 24 hours.

use crate::api::extract::TenantId;
use crate::app::App;
use crate::delivery::signing;
use crate::error::ApiError;
use crate::model::format_time;
use crate::repo::signing_secrets::{self, TenantSecrets, ROTATION_GRACE_MS};
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;

/// The secrets as the API shows them: masked, with when the previous one stops signing.
pub fn view(s: &TenantSecrets, now_ms: i64) -> Value {
    let previous = s.secrets.get(1).filter(|p| p.expires_at_ms.is_some_and(|e| e > now_ms));
    json!({
        "signingSecret": signing::mask_secret(s.current()),
        "previousSecretExpiresAt": previous.and_then(|p| p.expires_at_ms).map(format_time),
        "usedFor": "webhooks sent to URLs given inline in trigger actions",
    })
}

pub async fn get_one(State(app): State<Arc<App>>, TenantId(tenant): TenantId) -> Result<Json<Value>, ApiError> {
    let s = signing_secrets::ensure(app.store.as_ref(), &tenant).await?;
    Ok(Json(view(&s, app.now_ms())))
}

pub async fn rotate(State(app): State<Arc<App>>, TenantId(tenant): TenantId) -> Result<Json<Value>, ApiError> {
    let now = app.now_ms();
    let s = signing_secrets::rotate(app.store.as_ref(), &tenant, now).await?;
    let mut v = view(&s, now);
    // Shown in full this once.
    v["signingSecret"] = json!(s.current());
    if s.secrets.len() > 1 {
        v["previousSecretExpiresAt"] = json!(format_time(now + ROTATION_GRACE_MS));
    }
    Ok(Json(v))
}
