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
use crate::model::{format_time, Event};
use crate::pipeline::deliver::DeliveryMessage;
use crate::pipeline::PipelineError;
use crate::ports::{Item, StoreError};
use crate::repo::{decode, deliveries, put_next};

/// How long a claim lasts before another scheduler run may take the reminder over.
pub const CLAIM_LEASE_MS: i64 = 5 * 60 * 1000;

/// Fires one due reminder item; returns the delivery messages to queue (none when another run
/// has it, or it was dropped).
pub async fn fire(app: &App, item: Item, now: i64) -> Result<Vec<DeliveryMessage>, PipelineError> {
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
        event_type: super::callbacks::REGISTERED.to_string(),
        payload: serde_json::Value::Null,
        time: format_time(r.due_at_ms),
        received_at_ms: r.due_at_ms,
    };
    let ds = notify::deliveries_for(app, &event, r.kind, &facts, call_target.as_ref(), now).await?;
    deliveries::create_many(st, ds.clone()).await?;
    r.status = ReminderStatus::Sent;
    r.delivery_ids = ds.iter().map(|d| d.id.clone()).collect();
    finish(app, &r, claimed, now).await?;
    // Every one of them, including any a previous (dead) run created: a stale copy of a queue
    // message is dropped by the delivery worker.
    Ok(ds.iter().map(DeliveryMessage::for_delivery).collect())
}

async fn finish(app: &App, r: &Reminder, claimed_version: u64, now: i64) -> Result<(), PipelineError> {
    let mut r = r.clone();
    r.updated_at = format_time(now);
    match put_next(app.store.as_ref(), store::reminder_item(&r, None, now), Some(claimed_version)).await {
        Ok(()) | Err(StoreError::ConditionFailed) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
