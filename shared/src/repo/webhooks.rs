//! Configured webhook endpoints.

use super::{decode, encode, get, keys, put_next, Versioned};
use crate::model::Webhook;
use crate::ports::{Condition, ItemStore, QueryOpts, SkRange, StoreError};

pub async fn insert(store: &dyn ItemStore, tenant: &str, w: &Webhook) -> Result<(), StoreError> {
    put_next(store, encode(keys::webhooks(tenant), &w.id, w), None).await
}

pub async fn list(store: &dyn ItemStore, tenant: &str) -> Result<Vec<Webhook>, StoreError> {
    store
        .query(&keys::webhooks(tenant), SkRange::All, QueryOpts::default())
        .await?
        .into_iter()
        .map(|i| decode(i).map(|v| v.value))
        .collect()
}

pub async fn find(store: &dyn ItemStore, tenant: &str, id: &str) -> Result<Option<Versioned<Webhook>>, StoreError> {
    get(store, &keys::webhooks(tenant), id).await
}

pub async fn update(store: &dyn ItemStore, tenant: &str, w: &Webhook, read_version: u64) -> Result<(), StoreError> {
    put_next(store, encode(keys::webhooks(tenant), &w.id, w), Some(read_version)).await
}

pub async fn delete(store: &dyn ItemStore, tenant: &str, id: &str) -> Result<bool, StoreError> {
    if find(store, tenant, id).await?.is_none() {
        return Ok(false);
    }
    store.delete(&keys::webhooks(tenant), id, Condition::None).await?;
    Ok(true)
}
