//! Storage of the SMS product's items on the `ItemStore` (keys in `repo::keys`).

use super::model::{is_final_status, Account, Contact, ContactStatus, Flow, SmsRecord};
use crate::ports::{Item, ItemStore, QueryOpts, SkRange, StoreError};
use crate::repo::{decode, delete_if_exists, encode, get, keys, list_all, put_next, Versioned};

/// SMS records are kept this long after their last change (like the delivery log).
pub const RETENTION_SECS: i64 = crate::repo::deliveries::RETENTION_SECS;
/// An SMS with no final status this long after it was created is looked up at Twilio once.
pub const LOOKUP_AFTER_MS: i64 = 12 * 3600 * 1000;

// --- account ---

pub async fn account(store: &dyn ItemStore, tenant: &str) -> Result<Versioned<Account>, StoreError> {
    let (pk, sk) = keys::sms_account(tenant);
    Ok(get(store, &pk, sk).await?.unwrap_or(Versioned { value: Account::default(), version: 0, due_at: None }))
}

/// `read_version` 0: not stored yet.
pub async fn put_account(
    store: &dyn ItemStore,
    tenant: &str,
    a: &Account,
    read_version: u64,
) -> Result<(), StoreError> {
    let (pk, sk) = keys::sms_account(tenant);
    put_next(store, encode(pk, sk, a), (read_version > 0).then_some(read_version)).await
}

// --- flows ---

pub async fn flows(store: &dyn ItemStore, tenant: &str) -> Result<Vec<Flow>, StoreError> {
    list_all(store, &keys::flows(tenant)).await
}

pub async fn flow(store: &dyn ItemStore, tenant: &str, id: u64) -> Result<Option<Versioned<Flow>>, StoreError> {
    get(store, &keys::flows(tenant), &keys::flow_sk(id)).await
}

/// The highest flow id in use (0: none).
pub async fn last_flow_id(store: &dyn ItemStore, tenant: &str) -> Result<u64, StoreError> {
    let opts = QueryOpts { limit: Some(1), descending: true, after: None };
    let page = store.query(&keys::flows(tenant), SkRange::All, opts).await?;
    Ok(page.first().and_then(|i| i.sk.parse().ok()).unwrap_or(0))
}

pub async fn put_flow(
    store: &dyn ItemStore,
    tenant: &str,
    f: &Flow,
    read_version: Option<u64>,
) -> Result<(), StoreError> {
    put_next(store, encode(keys::flows(tenant), keys::flow_sk(f.id), f), read_version).await
}

pub async fn delete_flow(store: &dyn ItemStore, tenant: &str, id: u64) -> Result<bool, StoreError> {
    delete_if_exists(store, &keys::flows(tenant), &keys::flow_sk(id)).await
}

// --- SMS records ---

/// The record's item: in the due-time index until its status is final, for the 12-hour lookup.
pub fn record_item(r: &SmsRecord) -> Item {
    let due = (!is_final_status(&r.status) && r.looked_up_at_ms.is_none()).then_some(r.created_at_ms + LOOKUP_AFTER_MS);
    encode(keys::sms_records(&r.tenant_id), &r.id, r)
        .with_due(due)
        .with_ttl(Some(r.updated_at_ms.max(r.created_at_ms) / 1000 + RETENTION_SECS))
}

pub async fn record(store: &dyn ItemStore, tenant: &str, id: &str) -> Result<Option<Versioned<SmsRecord>>, StoreError> {
    get(store, &keys::sms_records(tenant), id).await
}

/// Creates the record unless it exists (an event evaluated twice creates it once).
pub async fn create_record(store: &dyn ItemStore, r: &SmsRecord) -> Result<(), StoreError> {
    match put_next(store, record_item(r), None).await {
        Ok(()) | Err(StoreError::ConditionFailed) => Ok(()),
        Err(e) => Err(e),
    }
}

pub async fn put_record(store: &dyn ItemStore, r: &SmsRecord, read_version: u64) -> Result<(), StoreError> {
    put_next(store, record_item(r), Some(read_version)).await
}

/// Reads, changes and writes a record, again on a concurrent change. `change` returns whether
/// it changed anything; the record as stored after is returned (none: no such record).
pub async fn update_record(
    store: &dyn ItemStore,
    tenant: &str,
    id: &str,
    mut change: impl FnMut(&mut SmsRecord) -> bool,
) -> Result<Option<(SmsRecord, bool)>, StoreError> {
    for _ in 0..10 {
        let Some(cur) = record(store, tenant, id).await? else { return Ok(None) };
        let mut r = cur.value;
        if !change(&mut r) {
            return Ok(Some((r, false)));
        }
        match put_record(store, &r, cur.version).await {
            Ok(()) => return Ok(Some((r, true))),
            Err(StoreError::ConditionFailed) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::ConditionFailed)
}

/// One page of records, newest first, after the cursor (a record id).
pub async fn records_page(
    store: &dyn ItemStore,
    tenant: &str,
    limit: usize,
    after: Option<String>,
) -> Result<Vec<SmsRecord>, StoreError> {
    let opts = QueryOpts { limit: Some(limit), descending: true, after };
    store
        .query(&keys::sms_records(tenant), SkRange::All, opts)
        .await?
        .into_iter()
        .map(|i| decode(i).map(|v| v.value))
        .collect()
}

// --- contacts ---

pub async fn contact(
    store: &dyn ItemStore,
    tenant: &str,
    phone: &str,
) -> Result<Option<Versioned<Contact>>, StoreError> {
    get(store, &keys::contacts(tenant), phone).await
}

pub async fn contacts(
    store: &dyn ItemStore,
    tenant: &str,
    limit: usize,
    after: Option<String>,
) -> Result<Vec<Contact>, StoreError> {
    let opts = QueryOpts { limit: Some(limit), descending: false, after };
    store
        .query(&keys::contacts(tenant), SkRange::All, opts)
        .await?
        .into_iter()
        .map(|i| decode(i).map(|v| v.value))
        .collect()
}

pub async fn put_contact(
    store: &dyn ItemStore,
    tenant: &str,
    c: &Contact,
    read_version: Option<u64>,
) -> Result<(), StoreError> {
    put_next(store, encode(keys::contacts(tenant), &c.phone_number, c), read_version).await
}

pub async fn delete_contact(store: &dyn ItemStore, tenant: &str, phone: &str) -> Result<bool, StoreError> {
    delete_if_exists(store, &keys::contacts(tenant), phone).await
}

/// Whether `phone` may be sent to (no contact yet: yes).
pub async fn may_send_to(store: &dyn ItemStore, tenant: &str, phone: &str) -> Result<bool, StoreError> {
    Ok(contact(store, tenant, phone).await?.is_none_or(|c| c.value.status.may_send()))
}

/// Marks `phone` unsubscribed (creating the contact), as Twilio's error 21610 says it is.
pub async fn unsubscribe(store: &dyn ItemStore, tenant: &str, phone: &str, now: &str) -> Result<(), StoreError> {
    for _ in 0..10 {
        let cur = contact(store, tenant, phone).await?;
        let (mut c, version) = match cur {
            Some(v) if v.value.status == ContactStatus::Unsubscribed => return Ok(()),
            Some(v) => (v.value, Some(v.version)),
            None => (Contact::new(phone, now), None),
        };
        c.status = ContactStatus::Unsubscribed;
        c.unsubscribed_at = Some(now.to_string());
        c.updated_at = now.to_string();
        match put_contact(store, tenant, &c, version).await {
            Ok(()) => return Ok(()),
            Err(StoreError::ConditionFailed) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::ConditionFailed)
}

impl Contact {
    pub fn new(phone: &str, now: &str) -> Contact {
        Contact {
            id: uuid::Uuid::new_v4().to_string(),
            first_name: None,
            last_name: None,
            email: None,
            phone_number: phone.to_string(),
            status: ContactStatus::Active,
            unsubscribed_at: None,
            bounces: 0,
            created_at: now.to_string(),
            updated_at: now.to_string(),
        }
    }
}
