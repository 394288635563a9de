//! Repositories: typed access to the domain items, written once on top of `ItemStore`.
//! Every key starts with the tenant id, so no query can reach another tenant's items.

pub mod deliveries;
pub mod events;
pub mod keys;
pub mod outcome_events;
pub mod signing_secrets;
pub mod tenants;
pub mod webhooks;

use crate::ports::{Condition, Doc, Item, ItemStore, QueryOpts, SkRange, StoreError};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A typed value read from the store, with the version needed to write it back.
#[derive(Debug, Clone)]
pub struct Versioned<T> {
    pub value: T,
    pub version: u64,
    pub due_at: Option<i64>,
}

pub fn decode<T: DeserializeOwned>(item: Item) -> Result<Versioned<T>, StoreError> {
    let value = item
        .data
        .decode()
        .map_err(|e| StoreError::Unavailable(format!("corrupt item {}/{}: {e}", item.pk, item.sk)))?;
    Ok(Versioned { value, version: item.version, due_at: item.due_at })
}

pub fn encode<T: Serialize>(pk: impl Into<String>, sk: impl Into<String>, value: &T) -> Item {
    Item::new(pk, sk, Doc::of(value))
}

pub async fn get<T: DeserializeOwned>(
    store: &dyn ItemStore,
    pk: &str,
    sk: &str,
) -> Result<Option<Versioned<T>>, StoreError> {
    store.get(pk, sk).await?.map(decode).transpose()
}

/// Every item under `pk`, in sort-key order, read a page of 500 at a time.
pub async fn list_all<T: DeserializeOwned>(store: &dyn ItemStore, pk: &str) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let opts = QueryOpts { limit: Some(500), descending: false, after: after.clone() };
        let page = store.query(pk, SkRange::All, opts).await?;
        let n = page.len();
        for item in page {
            after = Some(item.sk.clone());
            out.push(decode(item)?.value);
        }
        if n < 500 {
            return Ok(out);
        }
    }
}

/// Deletes the item if it exists; whether it did.
pub async fn delete_if_exists(store: &dyn ItemStore, pk: &str, sk: &str) -> Result<bool, StoreError> {
    if store.get(pk, sk).await?.is_none() {
        return Ok(false);
    }
    store.delete(pk, sk, Condition::None).await?;
    Ok(true)
}

/// Writes `item` as the next version of what was read (`None`: must not exist yet).
pub async fn put_next(store: &dyn ItemStore, item: Item, read_version: Option<u64>) -> Result<(), StoreError> {
    let (item, cond) = next_write(item, read_version);
    store.put(item, cond).await
}

/// The write [`put_next`] makes, for a caller that makes it itself (e.g. through an outbox).
pub fn next_write(mut item: Item, read_version: Option<u64>) -> (Item, Condition) {
    match read_version {
        Some(v) => {
            item.version = v + 1;
            (item, Condition::Version(v))
        }
        None => {
            item.version = 1;
            (item, Condition::NotExists)
        }
    }
}
