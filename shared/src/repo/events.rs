//! Event ids seen, for idempotent ingestion: an id is accepted once for at least 24 hours
//! (records live 7 days).

use super::{keys, put_next};
use crate::model::Event;
use crate::ports::{Item, ItemStore, StoreError};
use serde_json::json;

pub const DEDUP_TTL_SECS: i64 = 7 * 24 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// First time this id is seen.
    New,
    /// Seen before and already evaluated: nothing to do.
    Duplicate,
    /// Seen before but never evaluated (e.g. a crash between accepting and queueing): queue it
    /// again with the first arrival's time (delivery ids derive from it); evaluation is idempotent.
    DuplicateUnevaluated { first_received_at_ms: i64 },
}

pub async fn record(
    store: &dyn ItemStore,
    tenant: &str,
    id: &str,
    event_type: &str,
    now_ms: i64,
) -> Result<Recorded, StoreError> {
    let (pk, sk) = keys::event(tenant, id);
    let item =
        Item::new(pk.clone(), sk, json!({ "id": id, "type": event_type, "receivedAtMs": now_ms, "evaluated": false }))
            .with_ttl(Some(now_ms / 1000 + DEDUP_TTL_SECS));
    match put_next(store, item, None).await {
        Ok(()) => Ok(Recorded::New),
        Err(StoreError::ConditionFailed) => {
            let Some(first) = store.get(&pk, sk).await? else { return Ok(Recorded::Duplicate) };
            let first = first.data.to_value();
            let evaluated = first.get("evaluated").and_then(|e| e.as_bool()).unwrap_or(true);
            let first_received_at_ms = first.get("receivedAtMs").and_then(|t| t.as_i64()).unwrap_or(now_ms);
            Ok(if evaluated { Recorded::Duplicate } else { Recorded::DuplicateUnevaluated { first_received_at_ms } })
        }
        Err(e) => Err(e),
    }
}

/// Marks events evaluated (unconditional batch write; the records only guard re-queueing).
pub async fn mark_evaluated(store: &dyn ItemStore, events: &[&Event]) -> Result<(), StoreError> {
    let items = events
        .iter()
        .map(|e| {
            let (pk, sk) = keys::event(&e.tenant_id, &e.id);
            Item::new(
                pk,
                sk,
                json!({ "id": e.id, "type": e.event_type, "receivedAtMs": e.received_at_ms, "evaluated": true }),
            )
            .with_ttl(Some(e.received_at_ms / 1000 + DEDUP_TTL_SECS))
        })
        .collect();
    store.put_many(items).await
}
