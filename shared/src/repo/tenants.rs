//! Tenants and their API keys. Keys are stored only as SHA-256 hashes.

use super::{get, keys, put_next, Versioned};
use crate::model::{format_time, Tenant};
use crate::ports::{ItemStore, StoreError};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiKeyRecord {
    tenant_id: String,
    /// The first characters of the key, to tell keys apart without revealing them.
    prefix: String,
    created_at: String,
}

pub fn hash_key(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn generate_key() -> String {
    let mut bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("rk_{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

pub async fn create(store: &dyn ItemStore, name: &str, now_ms: i64) -> Result<Tenant, StoreError> {
    let tenant = Tenant {
        id: format!("ten_{}", ulid::Ulid::new().to_string().to_lowercase()),
        name: name.to_string(),
        created_at: format_time(now_ms),
        config_rev: 0,
    };
    let (pk, sk) = keys::tenant(&tenant.id);
    put_next(store, super::encode(pk, sk, &tenant), None).await?;
    Ok(tenant)
}

pub async fn get_tenant(store: &dyn ItemStore, id: &str) -> Result<Option<Versioned<Tenant>>, StoreError> {
    let (pk, sk) = keys::tenant(id);
    get(store, &pk, sk).await
}

/// Registers `key` for `tenant_id` (fails with ConditionFailed if the key already exists).
pub async fn add_key(store: &dyn ItemStore, tenant_id: &str, key: &str, now_ms: i64) -> Result<(), StoreError> {
    let (pk, sk) = keys::api_key(&hash_key(key));
    let rec = ApiKeyRecord {
        tenant_id: tenant_id.to_string(),
        prefix: key.chars().take(7).collect(),
        created_at: format_time(now_ms),
    };
    put_next(store, super::encode(pk, sk, &rec), None).await
}

/// The tenant a key belongs to.
pub async fn tenant_for_key(store: &dyn ItemStore, key: &str) -> Result<Option<String>, StoreError> {
    tenant_for_hash(store, &hash_key(key)).await
}

async fn tenant_for_hash(store: &dyn ItemStore, hash: &str) -> Result<Option<String>, StoreError> {
    let (pk, sk) = keys::api_key(hash);
    Ok(get::<ApiKeyRecord>(store, &pk, sk).await?.map(|v| v.value.tenant_id))
}

/// The tenants of the API keys this process has seen, so that a request does not read its key
/// from the store each time. A key is never removed nor moved to another tenant, so one found
/// stays right; a key not found is not remembered (it may be registered next). Should keys
/// become revocable, a revocation must reach this cache (or give it a time to live).
#[derive(Default)]
pub struct KeyCache {
    /// SHA-256 of the key (never the key itself) → tenant id.
    tenants: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

/// Keys remembered at most; the cache starts over when full.
const KEY_CACHE_MAX: usize = 10_000;

impl KeyCache {
    pub async fn tenant_for_key(&self, store: &dyn ItemStore, key: &str) -> Result<Option<String>, StoreError> {
        let hash = hash_key(key);
        if let Some(t) = self.tenants.lock().expect("key cache").get(&hash) {
            return Ok(Some(t.clone()));
        }
        let found = tenant_for_hash(store, &hash).await?;
        if let Some(t) = &found {
            let mut tenants = self.tenants.lock().expect("key cache");
            if tenants.len() >= KEY_CACHE_MAX {
                tenants.clear();
            }
            tenants.insert(hash, t.clone());
        }
        Ok(found)
    }
}

/// Marks the tenant's configuration as changed (invalidates cached triggers everywhere).
pub async fn bump_config_rev(store: &dyn ItemStore, tenant_id: &str) -> Result<(), StoreError> {
    for _ in 0..10 {
        let Some(cur) = get_tenant(store, tenant_id).await? else { return Ok(()) };
        let mut t = cur.value;
        t.config_rev += 1;
        let (pk, sk) = keys::tenant(tenant_id);
        match put_next(store, super::encode(pk, sk, &t), Some(cur.version)).await {
            Err(StoreError::ConditionFailed) => continue,
            other => return other,
        }
    }
    Err(StoreError::ConditionFailed)
}

/// The local runner's first start: one tenant ("default") and an API key for it. With
/// `key` given, that key is registered (idempotent); otherwise one is generated on the first
/// start only. Returns the tenant id and the key when this call created it (to print once).
pub async fn bootstrap_default(
    store: &dyn ItemStore,
    key: Option<&str>,
    now_ms: i64,
) -> Result<(String, Option<String>), StoreError> {
    const PK: &str = "LOCAL#BOOTSTRAP";
    let existing: Option<Versioned<serde_json::Value>> = get(store, PK, "BOOTSTRAP").await?;
    let (tenant_id, first_start) = match existing {
        Some(v) => (v.value["tenantId"].as_str().unwrap_or_default().to_string(), false),
        None => {
            let t = create(store, "default", now_ms).await?;
            put_next(store, super::encode(PK, "BOOTSTRAP", &serde_json::json!({ "tenantId": t.id })), None).await?;
            (t.id, true)
        }
    };
    let new_key = match key {
        Some(k) => match tenant_for_key(store, k).await? {
            Some(_) => None,
            None => {
                add_key(store, &tenant_id, k, now_ms).await?;
                Some(k.to_string())
            }
        },
        None if first_start => {
            let k = generate_key();
            add_key(store, &tenant_id, &k, now_ms).await?;
            Some(k)
        }
        None => None,
    };
    Ok((tenant_id, new_key))
}
