//! Deliveries and their attempt log. A pending delivery sits in the due-time index at its
//! `sweep_at_ms` when one is set: while a retry waits, or when nothing else would bring it
//! back. A delivery whose queue message (or its event's) is on its way is not in the index:
//! the queue brings it back, and writing the index entry would cost more than the delivery.

use super::{decode, encode, get, keys, next_write, put_next, Versioned};
use crate::model::{Attempt, Delivery, DeliveryStatus};
use crate::ports::{Condition, Item, ItemStore, QueryOpts, SkRange, StoreError};

/// Attempt logs and finished deliveries are kept this long.
pub const RETENTION_SECS: i64 = 30 * 24 * 3600;

pub fn to_item(d: &Delivery) -> Item {
    let mut item = encode(keys::deliveries(&d.tenant_id), &d.id, d);
    if d.status.is_final() {
        item.expires_at = Some(d.completed_at_ms.unwrap_or(d.created_at_ms) / 1000 + RETENTION_SECS);
    } else {
        item.due_at = d.sweep_at_ms;
    }
    item
}

/// Creates deliveries that do not exist yet (ids are deterministic, so an event evaluated twice
/// creates each delivery once). Returns the deliveries to queue: the ones created, and the ones
/// an earlier evaluation created that have never been attempted (the process stopped between
/// creating and queueing them). Queueing one twice is harmless: only one message wins the claim
/// of attempt 1.
pub async fn create_many(store: &dyn ItemStore, ds: Vec<Delivery>) -> Result<Vec<Delivery>, StoreError> {
    // Each is its own conditional write; made at once, the embedded store commits them as a
    // group and DynamoDB takes them in parallel.
    let created = futures::future::join_all(ds.into_iter().map(|d| async move {
        match put_next(store, to_item(&d), None).await {
            Ok(()) => Ok(Some(d)),
            Err(StoreError::ConditionFailed) => Ok(find(store, &d.tenant_id, &d.id)
                .await?
                .map(|existing| existing.value)
                .filter(|e| e.status == DeliveryStatus::Pending && e.attempts == 0)),
            Err(e) => Err(e),
        }
    }))
    .await;
    created.into_iter().filter_map(Result::transpose).collect()
}

/// The conditional write that creates `d` if it does not exist (for a caller that makes it in
/// a commit of its own: `ports::Outbox`).
pub fn create_write(d: &Delivery) -> (Item, Condition) {
    next_write(to_item(d), None)
}

pub async fn find(store: &dyn ItemStore, tenant: &str, id: &str) -> Result<Option<Versioned<Delivery>>, StoreError> {
    get(store, &keys::deliveries(tenant), id).await
}

pub async fn update(store: &dyn ItemStore, d: &Delivery, read_version: u64) -> Result<(), StoreError> {
    put_next(store, to_item(d), Some(read_version)).await
}

/// Logs the attempt, then writes the delivery's new state if it is still at `read_version`
/// (`ConditionFailed` otherwise, with the attempt logged all the same).
pub async fn record_outcome(
    store: &dyn ItemStore,
    a: &Attempt,
    d: &Delivery,
    read_version: u64,
) -> Result<(), StoreError> {
    let mut next = to_item(d);
    next.version = read_version + 1;
    store
        .put_in_order(vec![(attempt_item(&d.tenant_id, a), Condition::None), (next, Condition::Version(read_version))])
        .await
}

fn attempt_item(tenant: &str, a: &Attempt) -> Item {
    let mut item = encode(keys::attempts(tenant, &a.delivery_id), keys::attempt_sk(a.number), a);
    item.expires_at = Some(a.started_at_ms / 1000 + RETENTION_SECS);
    item
}

pub async fn attempts(store: &dyn ItemStore, tenant: &str, delivery_id: &str) -> Result<Vec<Attempt>, StoreError> {
    store
        .query(&keys::attempts(tenant, delivery_id), SkRange::All, QueryOpts::default())
        .await?
        .into_iter()
        .map(|i| decode(i).map(|v| v.value))
        .collect()
}

#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub webhook_id: Option<String>,
    pub trigger_id: Option<String>,
    pub event_id: Option<String>,
    pub event_type: Option<String>,
    pub status: Option<DeliveryStatus>,
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
}

impl DeliveryFilter {
    fn keeps(&self, d: &Delivery) -> bool {
        self.webhook_id.as_ref().is_none_or(|w| d.webhook_id.as_ref() == Some(w))
            && self.trigger_id.as_ref().is_none_or(|t| d.trigger_id.as_ref() == Some(t))
            && self.event_id.as_ref().is_none_or(|e| &d.event_id == e)
            && self.event_type.as_ref().is_none_or(|t| &d.event_type == t)
            && self.status.is_none_or(|s| d.status == s)
            && self.since_ms.is_none_or(|s| d.created_at_ms >= s)
            && self.until_ms.is_none_or(|u| d.created_at_ms < u)
    }
}

/// Newest first. Delivery ids are ULIDs (time-ordered), so time bounds become key bounds.
/// Returns the page and the cursor for the next page.
pub async fn list(
    store: &dyn ItemStore,
    tenant: &str,
    filter: &DeliveryFilter,
    limit: usize,
    cursor: Option<String>,
) -> Result<(Vec<Delivery>, Option<String>), StoreError> {
    // DynamoDB refuses an empty key bound: every id starts with "dlv_", the natural floor.
    let lo = filter.since_ms.map(ulid_floor).unwrap_or_else(|| "dlv_".to_string());
    let hi = filter.until_ms.map(ulid_floor).unwrap_or_else(|| "~".to_string());
    let mut out = Vec::new();
    let mut after = cursor;
    loop {
        let page = store
            .query(
                &keys::deliveries(tenant),
                SkRange::Between(lo.clone(), hi.clone()),
                QueryOpts { limit: Some(200), descending: true, after: after.clone() },
            )
            .await?;
        let exhausted = page.len() < 200;
        for item in page {
            after = Some(item.sk.clone());
            let d: Delivery = decode(item)?.value;
            if filter.keeps(&d) {
                out.push(d);
                if out.len() == limit {
                    return Ok((out, after));
                }
            }
        }
        if exhausted {
            return Ok((out, None));
        }
    }
}

/// The smallest delivery id created at `ms`.
fn ulid_floor(ms: i64) -> String {
    let id = ulid::Ulid::from_parts(ms.max(0) as u64, 0).to_string().to_lowercase();
    format!("dlv_{id}")
}
