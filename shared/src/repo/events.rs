//! Event ids seen, for idempotent ingestion: an id is accepted once for at least 24 hours
//! (records live 7 days).
//!
//! The record holds the id's first arrival: its time (from which delivery ids derive) and its
//! token (`Event::arrival`, unique per accepted copy). An event is queued first and recorded
//! second, so a record means its event is on the queue: nothing has to be remembered about
//! whether it was evaluated (which cost a write per event). Each queued copy of an id is
//! evaluated only if it is the arrival the record holds ([`is_first_arrival`]); a copy queued by
//! a repeat, which then found the id recorded, is dropped there.

use super::{keys, next_write, put_next};
use crate::model::Event;
use crate::ports::{Condition, Item, ItemStore, StoreError};
use serde_json::{json, Value};

pub const DEDUP_TTL_SECS: i64 = 7 * 24 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// This arrival is the id's first.
    New,
    /// The id arrived before (at another time): this copy is not evaluated.
    Duplicate,
}

fn record_item(e: &Event) -> Item {
    let (pk, sk) = keys::event(&e.tenant_id, &e.id);
    let mut data = json!({ "id": e.id, "type": e.event_type, "receivedAtMs": e.received_at_ms });
    if !e.arrival.is_empty() {
        data["arrival"] = json!(e.arrival);
    }
    Item::new(pk, sk, data).with_ttl(Some(e.received_at_ms / 1000 + DEDUP_TTL_SECS))
}

/// Whether the recorded first arrival is this copy's: by arrival token when both have one,
/// else (records or messages of earlier builds, copies made elsewhere) by arrival time — two
/// copies of one time make the same deliveries, so evaluating both acts once.
fn is_this_arrival(record: &Value, e: &Event) -> bool {
    match record.get("arrival").and_then(Value::as_str) {
        Some(a) if !e.arrival.is_empty() => a == e.arrival,
        _ => record.get("receivedAtMs").and_then(Value::as_i64) == Some(e.received_at_ms),
    }
}

/// The id's record, if it has a live one.
async fn first_arrival(store: &dyn ItemStore, e: &Event) -> Result<Option<Value>, StoreError> {
    let (pk, sk) = keys::event(&e.tenant_id, &e.id);
    Ok(store.get(&pk, sk).await?.map(|first| first.data.to_value()))
}

/// Ingestion, once the event is queued (and evaluation, for a copy not yet recorded): records
/// this copy as the id's first arrival unless the id has one, and tells whether this copy is
/// the recorded arrival. `Duplicate` when another arrival of the id was recorded (this copy is
/// then dropped by [`is_first_arrival`]).
pub async fn record(store: &dyn ItemStore, e: &Event) -> Result<Recorded, StoreError> {
    match put_next(store, record_item(e), None).await {
        Ok(()) => Ok(Recorded::New),
        Err(StoreError::ConditionFailed) => settle(store, e, false).await,
        Err(e) => Err(e),
    }
}

/// [`record`] in two halves, for a caller that makes the write itself (in the commit that
/// queues the event: `ports::Outbox`): the conditional write...
pub fn record_write(e: &Event) -> (Item, Condition) {
    next_write(record_item(e), None)
}

/// ...and what it meant, given whether its condition held.
pub async fn settle(store: &dyn ItemStore, e: &Event, held: bool) -> Result<Recorded, StoreError> {
    if held {
        return Ok(Recorded::New);
    }
    Ok(match first_arrival(store, e).await? {
        Some(first) if !is_this_arrival(&first, e) => Recorded::Duplicate,
        // Ours (our own copy's evaluation recorded it first), or expired meanwhile.
        _ => Recorded::New,
    })
}

/// Evaluation: whether this queued copy is the id's recorded arrival, the one to evaluate. A
/// copy with no record yet (its ingestion stopped between queueing and recording, or has not
/// recorded yet) records itself.
pub async fn is_first_arrival(store: &dyn ItemStore, e: &Event) -> Result<bool, StoreError> {
    match first_arrival(store, e).await? {
        Some(first) => Ok(is_this_arrival(&first, e)),
        None => Ok(record(store, e).await? == Recorded::New),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Arrival times near the test clock, so that the records are live.
    const T0: i64 = 1_700_000_000_000;

    fn copy(id: &str, received_at_ms: i64, arrival: &str) -> Event {
        Event {
            id: id.into(),
            tenant_id: "t1".into(),
            event_type: "agent.wrap".into(),
            payload: json!({}).into(),
            time: "2023-11-14T22:13:20Z".into(),
            received_at_ms,
            arrival: arrival.into(),
        }
    }

    #[tokio::test]
    async fn the_first_arrival_is_evaluated_and_a_repeat_is_not() {
        let (app, dir) = crate::embedded::test_app("event-records", T0, |_| {});
        let st = app.store.as_ref();
        // Ingestion records the first arrival; a repeat is a duplicate, even at the same time.
        assert_eq!(record(st, &copy("e1", T0, "a1")).await.unwrap(), Recorded::New);
        assert_eq!(record(st, &copy("e1", T0, "a2")).await.unwrap(), Recorded::Duplicate);
        assert_eq!(record(st, &copy("e1", T0 + 1_000, "a3")).await.unwrap(), Recorded::Duplicate);
        // Its queued copy is evaluated (also when redelivered); a repeat's copy is not.
        assert!(is_first_arrival(st, &copy("e1", T0, "a1")).await.unwrap());
        assert!(is_first_arrival(st, &copy("e1", T0, "a1")).await.unwrap());
        assert!(!is_first_arrival(st, &copy("e1", T0, "a2")).await.unwrap());
        // Another tenant's id is its own.
        let other = Event { tenant_id: "t2".into(), ..copy("e1", T0, "a2") };
        assert!(is_first_arrival(st, &other).await.unwrap());
        // A copy without a token (made elsewhere, or queued by an earlier build) goes by time.
        assert!(is_first_arrival(st, &copy("e1", T0, "")).await.unwrap());
        assert!(!is_first_arrival(st, &copy("e1", T0 + 1, "")).await.unwrap());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn a_copy_evaluated_before_its_ingestion_recorded_it_is_still_not_a_duplicate() {
        let (app, dir) = crate::embedded::test_app("event-records-race", T0, |_| {});
        let st = app.store.as_ref();
        // Queued, then taken by evaluation before ingestion recorded the id (or ingestion
        // stopped there): the copy records itself and is evaluated.
        assert!(is_first_arrival(st, &copy("e2", T0, "b1")).await.unwrap());
        // Ingestion's record then finds its own arrival: not a duplicate.
        assert_eq!(record(st, &copy("e2", T0, "b1")).await.unwrap(), Recorded::New);
        // A repeat posted meanwhile (queued, lost the race to record) is dropped.
        assert_eq!(record(st, &copy("e2", T0, "b2")).await.unwrap(), Recorded::Duplicate);
        assert!(!is_first_arrival(st, &copy("e2", T0, "b2")).await.unwrap());
        let _ = std::fs::remove_dir_all(dir);
    }
}
