//! SMS senders: a tenant's Twilio accounts. The auth token is write-only (never shown or logged).

use crate::ports::{Condition, ItemStore, QueryOpts, SkRange, StoreError};
use crate::repo::{decode, encode, get, keys, put_next, Versioned};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmsSender {
    pub id: String,
    pub name: String,
    /// Twilio Account SID: `AC` and 32 hex digits.
    pub account_sid: String,
    pub auth_token: String,
    /// The From number when a delivery names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

pub fn new_id() -> String {
    format!("sms_{}", ulid::Ulid::new().to_string().to_lowercase())
}

pub async fn list(store: &dyn ItemStore, tenant: &str) -> Result<Vec<SmsSender>, StoreError> {
    store
        .query(&keys::sms_senders(tenant), SkRange::All, QueryOpts::default())
        .await?
        .into_iter()
        .map(|i| decode(i).map(|v| v.value))
        .collect()
}

pub async fn find(store: &dyn ItemStore, tenant: &str, id: &str) -> Result<Option<Versioned<SmsSender>>, StoreError> {
    get(store, &keys::sms_senders(tenant), id).await
}

/// `read_version` `None`: must not exist yet.
pub async fn put(
    store: &dyn ItemStore,
    tenant: &str,
    s: &SmsSender,
    read_version: Option<u64>,
) -> Result<(), StoreError> {
    put_next(store, encode(keys::sms_senders(tenant), &s.id, s), read_version).await
}

pub async fn delete(store: &dyn ItemStore, tenant: &str, id: &str) -> Result<bool, StoreError> {
    if find(store, tenant, id).await?.is_none() {
        return Ok(false);
    }
    store.delete(&keys::sms_senders(tenant), id, Condition::None).await?;
    Ok(true)
}
