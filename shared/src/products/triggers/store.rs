//! Storage of triggers, plus a per-process cache of each tenant's compiled trigger set that is
//! reloaded only when the tenant's `config_rev` moves.

use super::{Trigger, TriggerSet, TriggerSpec};
use crate::model::format_time;
use crate::ports::{Condition, ItemStore, QueryOpts, SkRange, StoreError};
use crate::repo::{decode, encode, get, keys, put_next, tenants};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub async fn create(
    store: &dyn ItemStore,
    tenant: &str,
    spec: TriggerSpec,
    now_ms: i64,
) -> Result<Trigger, StoreError> {
    let now = format_time(now_ms);
    let t = Trigger {
        id: format!("trg_{}", ulid::Ulid::new().to_string().to_lowercase()),
        spec,
        created_at: now.clone(),
        updated_at: now,
    };
    put_next(store, encode(keys::triggers(tenant), &t.id, &t), None).await?;
    tenants::bump_config_rev(store, tenant).await?;
    Ok(t)
}

pub async fn list(store: &dyn ItemStore, tenant: &str) -> Result<Vec<Trigger>, StoreError> {
    store
        .query(&keys::triggers(tenant), SkRange::All, QueryOpts::default())
        .await?
        .into_iter()
        .map(|i| decode(i).map(|v| v.value))
        .collect()
}

pub async fn find(store: &dyn ItemStore, tenant: &str, id: &str) -> Result<Option<Trigger>, StoreError> {
    Ok(get(store, &keys::triggers(tenant), id).await?.map(|v| v.value))
}

pub async fn replace(
    store: &dyn ItemStore,
    tenant: &str,
    id: &str,
    spec: TriggerSpec,
    now_ms: i64,
) -> Result<Option<Trigger>, StoreError> {
    let Some(cur) = get::<Trigger>(store, &keys::triggers(tenant), id).await? else { return Ok(None) };
    let t = Trigger { id: id.to_string(), spec, created_at: cur.value.created_at, updated_at: format_time(now_ms) };
    put_next(store, encode(keys::triggers(tenant), id, &t), Some(cur.version)).await?;
    tenants::bump_config_rev(store, tenant).await?;
    Ok(Some(t))
}

pub async fn delete(store: &dyn ItemStore, tenant: &str, id: &str) -> Result<bool, StoreError> {
    if find(store, tenant, id).await?.is_none() {
        return Ok(false);
    }
    store.delete(&keys::triggers(tenant), id, Condition::None).await?;
    tenants::bump_config_rev(store, tenant).await?;
    Ok(true)
}

/// Compiled trigger sets per tenant, shared by the evaluators of one process.
#[derive(Default)]
pub struct TriggerCache {
    sets: Mutex<HashMap<String, (u64, Arc<TriggerSet>)>>,
}

impl TriggerCache {
    /// The tenant's current triggers: one read of the tenant item, and a reload only when the
    /// tenant's configuration changed since the last call.
    pub async fn load(&self, store: &dyn ItemStore, tenant: &str) -> Result<Arc<TriggerSet>, StoreError> {
        let rev = tenants::get_tenant(store, tenant).await?.map(|t| t.value.config_rev).unwrap_or(0);
        if let Some((cached_rev, set)) = self.sets.lock().expect("trigger cache").get(tenant) {
            if *cached_rev == rev {
                return Ok(set.clone());
            }
        }
        let set = Arc::new(TriggerSet::new(list(store, tenant).await?));
        self.sets.lock().expect("trigger cache").insert(tenant.to_string(), (rev, set.clone()));
        Ok(set)
    }
}
