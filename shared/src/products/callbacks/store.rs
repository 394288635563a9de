//! Storage of call targets, connections, callbacks and reminders, on the
//! `ItemStore` (keys in `repo::keys`).

use super::model::{CallTarget, Callback, Connection, NotificationKind, Reminder};
use crate::ports::{Item, ItemStore, QueryOpts, SkRange, StoreError};
use crate::repo::{decode, delete_if_exists, encode, get, keys, list_all, put_next, Versioned};

/// Callbacks and finished reminders are kept this long after their last change.
pub const RETENTION_SECS: i64 = 30 * 24 * 3600;

// --- call targets ---

pub async fn call_targets(store: &dyn ItemStore, tenant: &str) -> Result<Vec<CallTarget>, StoreError> {
    list_all(store, &keys::call_targets(tenant)).await
}

pub async fn call_target(
    store: &dyn ItemStore,
    tenant: &str,
    id: &str,
) -> Result<Option<Versioned<CallTarget>>, StoreError> {
    get(store, &keys::call_targets(tenant), id).await
}

/// `read_version` `None`: must not exist yet.
pub async fn put_call_target(
    store: &dyn ItemStore,
    tenant: &str,
    ct: &CallTarget,
    read_version: Option<u64>,
) -> Result<(), StoreError> {
    put_next(store, encode(keys::call_targets(tenant), &ct.id, ct), read_version).await
}

pub async fn delete_call_target(store: &dyn ItemStore, tenant: &str, id: &str) -> Result<bool, StoreError> {
    delete_if_exists(store, &keys::call_targets(tenant), id).await
}

// --- connections ---

pub async fn connections(store: &dyn ItemStore, tenant: &str) -> Result<Vec<Connection>, StoreError> {
    list_all(store, &keys::connections(tenant)).await
}

/// The enabled connections that send `kind`.
pub async fn connections_for(
    store: &dyn ItemStore,
    tenant: &str,
    kind: NotificationKind,
) -> Result<Vec<Connection>, StoreError> {
    Ok(connections(store, tenant).await?.into_iter().filter(|c| c.kind == kind && c.enabled).collect())
}

pub async fn connection(
    store: &dyn ItemStore,
    tenant: &str,
    id: &str,
) -> Result<Option<Versioned<Connection>>, StoreError> {
    get(store, &keys::connections(tenant), id).await
}

pub async fn put_connection(
    store: &dyn ItemStore,
    tenant: &str,
    c: &Connection,
    read_version: Option<u64>,
) -> Result<(), StoreError> {
    put_next(store, encode(keys::connections(tenant), &c.id, c), read_version).await
}

pub async fn delete_connection(store: &dyn ItemStore, tenant: &str, id: &str) -> Result<bool, StoreError> {
    delete_if_exists(store, &keys::connections(tenant), id).await
}

// --- callbacks ---

pub async fn callback(
    store: &dyn ItemStore,
    tenant: &str,
    id: &str,
) -> Result<Option<Versioned<Callback>>, StoreError> {
    get(store, &keys::callbacks(tenant), id).await
}

pub async fn put_callback(
    store: &dyn ItemStore,
    tenant: &str,
    cb: &Callback,
    read_version: Option<u64>,
    now_ms: i64,
) -> Result<(), StoreError> {
    let keep_from = cb.callback_at_ms.unwrap_or(now_ms).max(now_ms);
    let item = encode(keys::callbacks(tenant), &cb.callback_id, cb).with_ttl(Some(keep_from / 1000 + RETENTION_SECS));
    put_next(store, item, read_version).await
}

// --- reminders ---

pub fn reminder_item(r: &Reminder, due_at: Option<i64>, now_ms: i64) -> Item {
    let item = encode(keys::reminders(&r.tenant_id), keys::reminder_sk(&r.callback_id, r.kind.as_str()), r);
    match due_at {
        Some(at) => item.with_due(Some(at)).with_ttl(Some(at.max(now_ms) / 1000 + RETENTION_SECS)),
        None => item.with_ttl(Some(now_ms / 1000 + RETENTION_SECS)),
    }
}

pub async fn reminders_of(
    store: &dyn ItemStore,
    tenant: &str,
    callback_id: &str,
) -> Result<Vec<Versioned<Reminder>>, StoreError> {
    store
        .query(&keys::reminders(tenant), SkRange::Prefix(format!("{callback_id}#")), QueryOpts::default())
        .await?
        .into_iter()
        .map(decode)
        .collect()
}
