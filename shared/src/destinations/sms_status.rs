//! SMS delivery statuses from Twilio's status callbacks, kept per delivery attempt and shown
//! with that attempt in the delivery log.

use super::twilio;
use crate::model::format_time;
use crate::ports::{ItemStore, QueryOpts, SkRange, StoreError};
use crate::repo::deliveries::RETENTION_SECS;
use crate::repo::{decode, encode, get, keys, put_next, Versioned};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SmsStatusChange {
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    pub at: String,
}

/// The delivery status of one SMS (one attempt of an SMS delivery), from Twilio's status
/// callbacks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SmsStatus {
    pub delivery_id: String,
    pub attempt: u32,
    /// The SMS sender whose auth token signs the callbacks.
    #[serde(alias = "connectionId")]
    pub sender_id: String,
    pub message_sid: String,
    /// The most advanced status reported (callbacks can arrive out of order).
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    pub history: Vec<SmsStatusChange>,
    pub updated_at: String,
}

async fn find(
    store: &dyn ItemStore,
    tenant: &str,
    delivery: &str,
    attempt: u32,
) -> Result<Option<Versioned<SmsStatus>>, StoreError> {
    get(store, &keys::sms_statuses(tenant), &keys::sms_status_sk(delivery, attempt)).await
}

async fn put(
    store: &dyn ItemStore,
    tenant: &str,
    s: &SmsStatus,
    read_version: Option<u64>,
    now_ms: i64,
) -> Result<(), StoreError> {
    let item = encode(keys::sms_statuses(tenant), keys::sms_status_sk(&s.delivery_id, s.attempt), s)
        .with_ttl(Some(now_ms / 1000 + RETENTION_SECS));
    put_next(store, item, read_version).await
}

/// Every SMS status recorded for one delivery, by attempt.
pub async fn of_delivery(store: &dyn ItemStore, tenant: &str, delivery: &str) -> Result<Vec<SmsStatus>, StoreError> {
    store
        .query(&keys::sms_statuses(tenant), SkRange::Prefix(format!("{delivery}#")), QueryOpts::default())
        .await?
        .into_iter()
        .map(|i| decode(i).map(|v| v.value))
        .collect()
}

/// Records one status callback (idempotent: the same status twice is one history entry).
#[allow(clippy::too_many_arguments)] // each is one fact of the callback
pub async fn record(
    st: &dyn ItemStore,
    tenant: &str,
    delivery: &str,
    attempt: u32,
    sender: &str,
    message_sid: &str,
    status: &str,
    error_code: Option<String>,
    now_ms: i64,
) -> Result<SmsStatus, StoreError> {
    for _ in 0..10 {
        let cur = find(st, tenant, delivery, attempt).await?;
        let (mut s, version) = match cur {
            Some(v) => (v.value, Some(v.version)),
            None => (
                SmsStatus {
                    delivery_id: delivery.to_string(),
                    attempt,
                    sender_id: sender.to_string(),
                    message_sid: message_sid.to_string(),
                    status: status.to_string(),
                    error_code: None,
                    history: vec![],
                    updated_at: format_time(now_ms),
                },
                None,
            ),
        };
        if s.history.iter().any(|h| h.status == status && h.error_code == error_code) {
            return Ok(s);
        }
        s.history.push(SmsStatusChange {
            status: status.to_string(),
            error_code: error_code.clone(),
            at: format_time(now_ms),
        });
        if version.is_none() || twilio::status_rank(status) >= twilio::status_rank(&s.status) {
            s.status = status.to_string();
            s.error_code = error_code.clone();
        }
        s.message_sid = message_sid.to_string();
        s.updated_at = format_time(now_ms);
        match put(st, tenant, &s, version, now_ms).await {
            Ok(()) => return Ok(s),
            Err(StoreError::ConditionFailed) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::ConditionFailed)
}
