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
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;

/// The tenant's secret as the API shows it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SigningSecretView {
    /// Masked (`whsec_****` + last 4), except in the answer to a rotation.
    #[schema(example = "whsec_****Qx7w")]
    pub signing_secret: String,
    /// When the previous secret stops signing, while it still does.
    #[schema(format = DateTime)]
    pub previous_secret_expires_at: Option<String>,
    /// What this secret signs.
    pub used_for: String,
}

/// The secrets as the API shows them: masked, with when the previous one stops signing.
pub fn view(s: &TenantSecrets, now_ms: i64) -> SigningSecretView {
    let previous = s.secrets.get(1).filter(|p| p.expires_at_ms.is_some_and(|e| e > now_ms));
    SigningSecretView {
        signing_secret: signing::mask_secret(s.current()),
        previous_secret_expires_at: previous.and_then(|p| p.expires_at_ms).map(format_time),
        used_for: "webhooks sent to URLs given inline in trigger actions".into(),
    }
}

#[utoipa::path(get, path = "/v1/account/signing-secret", tag = "account", operation_id = "get_signing_secret",
    responses((status = 200, description = "The tenant's signing secret for inline trigger URLs, masked", body = SigningSecretView)))]
pub async fn get_one(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
) -> Result<Json<SigningSecretView>, ApiError> {
    let s = signing_secrets::ensure(app.store.as_ref(), &tenant).await?;
    Ok(Json(view(&s, app.now_ms())))
}

#[utoipa::path(post, path = "/v1/account/signing-secret/rotate", tag = "account", operation_id = "rotate_signing_secret",
    responses((status = 200, description = "The new secret, shown in full this once; the old one signs for 24 h more", body = SigningSecretView)))]
pub async fn rotate(
    State(app): State<Arc<App>>,
    TenantId(tenant): TenantId,
) -> Result<Json<SigningSecretView>, ApiError> {
    let now = app.now_ms();
    let s = signing_secrets::rotate(app.store.as_ref(), &tenant, now).await?;
    let mut v = view(&s, now);
    // Shown in full this once.
    v.signing_secret = s.current().to_string();
    if s.secrets.len() > 1 {
        v.previous_secret_expires_at = Some(format_time(now + ROTATION_GRACE_MS));
    }
    Ok(Json(v))
}
