//! Each tenant's signing secret for webhooks sent to inline trigger URLs (`DeliveryTarget::Url`),
//! which have no webhook of their own to hold one. Same shape and rotation rules as a webhook's
//! secrets: newest first, the previous one keeps signing until its `expires_at_ms`.

use super::{get, keys, put_next, Versioned};
use crate::delivery::signing;
use crate::model::webhook::SigningSecret;
use crate::ports::{ItemStore, StoreError};
use serde::{Deserialize, Serialize};

/// How long the previous secret keeps signing after a rotation (as for webhooks).
pub const ROTATION_GRACE_MS: i64 = 24 * 3600 * 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantSecrets {
    /// Newest first; the first one is current.
    pub secrets: Vec<SigningSecret>,
}

impl TenantSecrets {
    fn fresh() -> Self {
        Self { secrets: vec![SigningSecret { secret: signing::generate_secret(), expires_at_ms: None }] }
    }

    /// Secrets that still sign at `now_ms`.
    pub fn active(&self, now_ms: i64) -> Vec<&str> {
        self.secrets.iter().filter(|s| s.expires_at_ms.is_none_or(|e| e > now_ms)).map(|s| s.secret.as_str()).collect()
    }

    /// The current secret.
    pub fn current(&self) -> &str {
        self.secrets.first().map(|s| s.secret.as_str()).unwrap_or_default()
    }
}

async fn read(store: &dyn ItemStore, tenant: &str) -> Result<Option<Versioned<TenantSecrets>>, StoreError> {
    let (pk, sk) = keys::signing_secrets(tenant);
    get(store, &pk, sk).await
}

/// Creates the tenant's secret (at tenant creation); returns it, or the existing one.
pub async fn create(store: &dyn ItemStore, tenant: &str) -> Result<TenantSecrets, StoreError> {
    ensure(store, tenant).await
}

/// The tenant's secrets, created on first use for tenants that predate them (the tenant then
/// learns the secret by rotating it).
pub async fn ensure(store: &dyn ItemStore, tenant: &str) -> Result<TenantSecrets, StoreError> {
    for _ in 0..3 {
        if let Some(v) = read(store, tenant).await? {
            if !v.value.secrets.is_empty() {
                return Ok(v.value);
            }
        }
        let fresh = TenantSecrets::fresh();
        let (pk, sk) = keys::signing_secrets(tenant);
        match put_next(store, super::encode(pk, sk, &fresh), None).await {
            Ok(()) => return Ok(fresh),
            // Created concurrently: read the winner.
            Err(StoreError::ConditionFailed) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::ConditionFailed)
}

/// A new current secret; the previous one keeps signing for [`ROTATION_GRACE_MS`]. Returns the
/// new state (its first secret is the new one).
pub async fn rotate(store: &dyn ItemStore, tenant: &str, now_ms: i64) -> Result<TenantSecrets, StoreError> {
    for _ in 0..10 {
        let cur = read(store, tenant).await?;
        let mut next = TenantSecrets::fresh();
        if let Some(prev) = cur.as_ref().and_then(|v| v.value.secrets.first()) {
            next.secrets
                .push(SigningSecret { secret: prev.secret.clone(), expires_at_ms: Some(now_ms + ROTATION_GRACE_MS) });
        }
        let (pk, sk) = keys::signing_secrets(tenant);
        match put_next(store, super::encode(pk, sk, &next), cur.map(|v| v.version)).await {
            Ok(()) => return Ok(next),
            Err(StoreError::ConditionFailed) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::ConditionFailed)
}
