//! Firing due reminders (called by the scheduler for due items under `{tenant}#REMINDER`).
//!
//! A reminder is claimed with a versioned write that moves it to `firing` and puts it back in
//! the due-time index at the end of a lease: two overlapping scheduler runs never both fire it
//! (the loser's write fails), and a run that dies mid-way is taken over when the lease ends
//! (delivery ids are deterministic, so nothing is sent twice). Before sending, the callback must
//! still be pending; otherwise the reminder is dropped.

use super::model::{CallbackState, NotificationKind, Reminder, ReminderStatus};
use super::notify::{self, Facts};
use super::{rules, store};
use crate::app::App;
use crate::error::PipelineError;
use crate::model::{format_time, Delivery, Event};
use crate::ports::{Item, StoreError};
use crate::repo::{decode, deliveries, put_next};

/// How long a claim lasts before another scheduler run may take the reminder over.
pub const CLAIM_LEASE_MS: i64 = 5 * 60 * 1000;

/// Fires one due reminder item; returns the deliveries to queue (none when another run has it,
/// or it was dropped).
pub async fn fire(app: &App, item: Item, now: i64) -> Result<Vec<Delivery>, PipelineError> {
    let st = app.store.as_ref();
    let v = decode::<Reminder>(item)?;
    let mut r = v.value;
    if matches!(r.status, ReminderStatus::Sent | ReminderStatus::Dropped) {
        // Finished but still indexed (should not happen): take it out.
        return match put_next(st, store::reminder_item(&r, None, now), Some(v.version)).await {
            Ok(()) | Err(StoreError::ConditionFailed) => Ok(vec![]),
            Err(e) => Err(e.into()),
        };
    }
    r.status = ReminderStatus::Firing;
    r.updated_at = format_time(now);
    match put_next(st, store::reminder_item(&r, Some(now + CLAIM_LEASE_MS), now), Some(v.version)).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed) => return Ok(vec![]),
        Err(e) => return Err(e.into()),
    }
    let claimed = v.version + 1;

    let cb = store::callback(st, &r.tenant_id, &r.callback_id).await?.map(|v| v.value);
    let facts = cb.as_ref().map(Facts::of_callback).unwrap_or_default();
    let call_target = notify::call_target_of(app, &r.tenant_id, &facts).await?;
    let drop_reason = match &cb {
        None => Some("the callback no longer exists".to_string()),
        Some(cb) if !rules::may_send(r.kind, cb.state) => Some(format!("the callback is {}", cb.state.as_str())),
        Some(_) if !rules::reminder_still_useful(now, r.callback_at_ms) => {
            Some("the callback time had passed when the reminder came due".to_string())
        }
        Some(_)
            if r.kind == NotificationKind::AsapReminder
                && call_target.as_ref().is_some_and(|c| !c.asap_reminder_enabled()) =>
        {
            Some("the call target no longer enables ASAP reminders".to_string())
        }
        Some(_) => None,
    };
    if let Some(reason) = drop_reason {
        tracing::info!(callback = %r.callback_id, kind = r.kind.as_str(), %reason, "reminder dropped");
        r.status = ReminderStatus::Dropped;
        r.reason = Some(reason);
        return finish(app, &r, claimed, now).await.map(|_| vec![]);
    }
    debug_assert!(cb.as_ref().is_some_and(|c| c.state == CallbackState::Pending));

    // Filed under the registration event, at the reminder's due time.
    let event = Event {
        id: r.event_id.clone(),
        tenant_id: r.tenant_id.clone(),
        event_type: super::events::REGISTERED.to_string(),
        payload: serde_json::Value::Null.into(),
        time: format_time(r.due_at_ms),
        received_at_ms: r.due_at_ms,
        arrival: String::new(),
    };
    let ds = notify::deliveries_for(app, &event, r.kind, &facts, call_target.as_ref(), now).await?;
    deliveries::create_many(st, ds.clone()).await?;
    r.status = ReminderStatus::Sent;
    r.delivery_ids = ds.iter().map(|d| d.id.clone()).collect();
    finish(app, &r, claimed, now).await?;
    // Every one of them, including any a previous (dead) run created: a stale copy of a queue
    // message is dropped by the delivery worker.
    Ok(ds)
}

async fn finish(app: &App, r: &Reminder, claimed_version: u64, now: i64) -> Result<(), PipelineError> {
    let mut r = r.clone();
    r.updated_at = format_time(now);
    match put_next(app.store.as_ref(), store::reminder_item(&r, None, now), Some(claimed_version)).await {
        Ok(()) | Err(StoreError::ConditionFailed) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::ItemStore;
    use crate::products::callbacks::model::{Callback, Channel, Connection, ReminderStatus};
    use crate::repo::get;
    use std::sync::Arc;

    const T0: i64 = 1_729_093_635_000;

    fn app(name: &str) -> (Arc<App>, std::path::PathBuf) {
        crate::embedded::test_app(&format!("reminders-{name}"), T0, |_| {})
    }

    /// A pending callback with a reminder due at T0, and one reminder connection.
    async fn setup(app: &App, state: CallbackState) -> Item {
        let st = app.store.as_ref();
        let mut cb = Callback::new("cb", state, "t");
        cb.call_target_id = Some("6281".into());
        cb.customer_number = Some("+13305551234".into());
        cb.callback_at_ms = Some(T0 + 15 * 60_000);
        store::put_callback(st, "ten", &cb, None, T0).await.unwrap();
        let conn = Connection {
            id: "con_1".into(),
            name: "n".into(),
            kind: NotificationKind::Reminder,
            enabled: true,
            channel: Channel::Webhook { webhook_id: "wh_1".into() },
            created_at: "t".into(),
            updated_at: "t".into(),
        };
        store::put_connection(st, "ten", &conn, None).await.unwrap();
        let r = Reminder {
            tenant_id: "ten".into(),
            callback_id: "cb".into(),
            kind: NotificationKind::Reminder,
            due_at_ms: T0,
            callback_at_ms: T0 + 15 * 60_000,
            event_id: "evt-1".into(),
            status: ReminderStatus::Scheduled,
            reason: None,
            delivery_ids: vec![],
            updated_at: "t".into(),
        };
        put_next(st, store::reminder_item(&r, Some(T0), T0), None).await.unwrap();
        let due = st.query_due(T0, 10).await.unwrap();
        assert_eq!(due.len(), 1);
        due.into_iter().next().unwrap()
    }

    async fn reminder(st: &dyn ItemStore) -> crate::repo::Versioned<Reminder> {
        get(st, "ten#REMINDER", "cb#reminder").await.unwrap().unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_runs_over_the_same_due_item_fire_it_once() {
        let (app, dir) = app("once");
        let item = setup(&app, CallbackState::Pending).await;
        let (a, b) = futures::join!(fire(&app, item.clone(), T0), fire(&app, item.clone(), T0));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.len() + b.len(), 1, "one run fires, the other finds it claimed");
        // A third run with the stale item (an overlapping tick that read it earlier): nothing.
        assert!(fire(&app, item, T0).await.unwrap().is_empty());
        let r = reminder(app.store.as_ref()).await;
        assert_eq!(r.value.status, ReminderStatus::Sent);
        assert_eq!(r.due_at, None, "out of the due-time index");
        assert_eq!(r.value.delivery_ids.len(), 1);
        assert!(app.store.query_due(T0 + 3_600_000, 10).await.unwrap().iter().all(|i| !i.pk.ends_with("#REMINDER")));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_claim_whose_run_died_is_taken_over_after_the_lease() {
        let (app, dir) = app("lease");
        let item = setup(&app, CallbackState::Pending).await;
        // Simulate a run that claimed and died: the item is firing, due at the lease's end.
        let v = decode::<Reminder>(item).unwrap();
        let mut r = v.value;
        r.status = ReminderStatus::Firing;
        put_next(app.store.as_ref(), store::reminder_item(&r, Some(T0 + CLAIM_LEASE_MS), T0), Some(v.version))
            .await
            .unwrap();
        assert!(app.store.query_due(T0 + CLAIM_LEASE_MS - 1, 10).await.unwrap().is_empty());
        let due = app.store.query_due(T0 + CLAIM_LEASE_MS, 10).await.unwrap();
        let msgs = fire(&app, due.into_iter().next().unwrap(), T0 + CLAIM_LEASE_MS).await.unwrap();
        assert_eq!(msgs.len(), 1);
        assert_eq!(reminder(app.store.as_ref()).await.value.status, ReminderStatus::Sent);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_reminder_for_a_callback_no_longer_pending_is_dropped() {
        for state in [CallbackState::Finalized, CallbackState::Cancelled, CallbackState::InProgress] {
            let (app, dir) = app(state.as_str());
            let item = setup(&app, state).await;
            assert!(fire(&app, item, T0).await.unwrap().is_empty());
            let r = reminder(app.store.as_ref()).await;
            assert_eq!(r.value.status, ReminderStatus::Dropped);
            assert_eq!(r.value.reason.as_deref(), Some(format!("the callback is {}", state.as_str()).as_str()));
            assert_eq!(r.due_at, None);
            let _ = std::fs::remove_dir_all(dir);
        }
        // Pending, but the callback time has already come: dropped too.
        let (app, dir) = app("late");
        let item = setup(&app, CallbackState::Pending).await;
        assert!(fire(&app, item, T0 + 15 * 60_000).await.unwrap().is_empty());
        assert_eq!(reminder(app.store.as_ref()).await.value.status, ReminderStatus::Dropped);
        let _ = std::fs::remove_dir_all(dir);
    }
}
