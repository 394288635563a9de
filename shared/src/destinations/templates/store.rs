//! Storage of templates (`{tenant}#TEMPLATE`).

use super::Template;
use crate::ports::{Condition, ItemStore, QueryOpts, SkRange, StoreError};
use crate::repo::{decode, encode, get, keys, put_next, Versioned};

pub fn new_id() -> String {
    format!("tpl_{}", ulid::Ulid::new().to_string().to_lowercase())
}

pub async fn list(store: &dyn ItemStore, tenant: &str) -> Result<Vec<Template>, StoreError> {
    store
        .query(&keys::templates(tenant), SkRange::All, QueryOpts::default())
        .await?
        .into_iter()
        .map(|i| decode(i).map(|v| v.value))
        .collect()
}

pub async fn find(store: &dyn ItemStore, tenant: &str, id: &str) -> Result<Option<Versioned<Template>>, StoreError> {
    get(store, &keys::templates(tenant), id).await
}

/// `read_version` `None`: must not exist yet.
pub async fn put(
    store: &dyn ItemStore,
    tenant: &str,
    t: &Template,
    read_version: Option<u64>,
) -> Result<(), StoreError> {
    put_next(store, encode(keys::templates(tenant), &t.id, t), read_version).await
}

pub async fn delete(store: &dyn ItemStore, tenant: &str, id: &str) -> Result<bool, StoreError> {
    if find(store, tenant, id).await?.is_none() {
        return Ok(false);
    }
    store.delete(&keys::templates(tenant), id, Condition::None).await?;
    Ok(true)
}
