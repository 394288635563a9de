//! Evaluating accepted events: the tenant's triggers of the event's type are matched, their
//! actions run (lead moves now, webhooks as deliveries on the deliveries queue).
//! Idempotent: delivery ids are derived from (event, trigger, action), lead moves remember
//! which (event, trigger) moved them, so an event evaluated twice acts once.

use super::{deliver, PipelineError};
use crate::app::App;
use crate::delivery::retry::RetryPolicy;
use crate::model::{Delivery, DeliveryStatus, DeliveryTarget, Event};
use crate::ports::BusEvent;
use crate::repo::{deliveries, events, leads, webhooks};
use crate::triggers::{Action, CompiledTrigger, TriggerSet};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

/// A delivery id that is the same every time the same event meets the same action, and that
/// sorts by the event's arrival time.
pub fn delivery_id(event: &Event, source: &str, index: usize) -> String {
    let mut h = Sha256::new();
    h.update(event.tenant_id.as_bytes());
    h.update([0]);
    h.update(event.id.as_bytes());
    h.update([0]);
    h.update(source.as_bytes());
    h.update(index.to_le_bytes());
    let digest = h.finalize();
    let mut rnd = [0u8; 16];
    rnd.copy_from_slice(&digest[..16]);
    let id = ulid::Ulid::from_parts(event.received_at_ms.max(0) as u64, u128::from_le_bytes(rnd));
    format!("dlv_{}", id.to_string().to_lowercase())
}

/// A new pending delivery, due now.
pub fn new_delivery(
    event: &Event,
    id: String,
    target: DeliveryTarget,
    payload: serde_json::Value,
    retry_policy: RetryPolicy,
    now_ms: i64,
) -> Delivery {
    Delivery {
        id,
        tenant_id: event.tenant_id.clone(),
        event_id: event.id.clone(),
        event_type: event.event_type.clone(),
        trigger_id: None,
        webhook_id: None,
        target,
        payload,
        retry_policy,
        status: DeliveryStatus::Pending,
        attempts: 0,
        series_start: 0,
        first_attempt_at_ms: None,
        next_attempt_at_ms: Some(now_ms),
        last_status: None,
        last_error: None,
        created_at_ms: now_ms,
        completed_at_ms: None,
        sweep_at_ms: Some(now_ms + deliver::SWEEP_GRACE_MS),
        claimed_until_ms: None,
    }
}

/// Evaluates a batch; one result per event, in order, so queue consumers can report exactly
/// the failed messages.
pub async fn evaluate_batch(app: &App, batch: &[Event]) -> Vec<Result<(), PipelineError>> {
    // Each tenant's triggers are looked up once per batch, not once per event (the events of a
    // batch are evaluated together, against the configuration current when the batch starts).
    let mut sets: HashMap<&str, Result<Arc<TriggerSet>, String>> = HashMap::new();
    for e in batch {
        if !sets.contains_key(e.tenant_id.as_str()) {
            let set = app.triggers.load(app.store.as_ref(), &e.tenant_id).await.map_err(|e| e.to_string());
            sets.insert(&e.tenant_id, set);
        }
    }
    futures::future::join_all(batch.iter().map(|e| {
        let set = sets[e.tenant_id.as_str()].clone();
        async move {
            match set {
                Ok(set) => evaluate_with(app, e, set).await,
                Err(msg) => Err(PipelineError::Unavailable(msg)),
            }
        }
    }))
    .await
}

async fn evaluate_with(app: &App, event: &Event, set: Arc<TriggerSet>) -> Result<(), PipelineError> {
    let now = app.now_ms();
    let mut new_deliveries = Vec::new();
    let mut bus_events = Vec::new();
    let mut webhook_cache: HashMap<String, Option<RetryPolicy>> = HashMap::new();
    let matched: Vec<&CompiledTrigger> = set.matching(&event.event_type, &event.payload).collect();
    for t in matched {
        let trigger = &t.trigger;
        for (i, action) in trigger.spec.actions.iter().enumerate() {
            match action {
                Action::Webhook { url, webhook_id } => {
                    let id = delivery_id(event, &trigger.id, i);
                    let (target, policy) = match (webhook_id, url) {
                        (Some(w), _) => {
                            let policy = match webhook_cache.get(w) {
                                Some(p) => *p,
                                None => {
                                    let p = webhooks::find(app.store.as_ref(), &event.tenant_id, w)
                                        .await?
                                        .map(|v| v.value.retry_policy);
                                    webhook_cache.insert(w.clone(), p);
                                    p
                                }
                            };
                            // A webhook deleted after the trigger was saved: the delivery is
                            // still created and fails visibly in the log rather than vanishing.
                            (DeliveryTarget::Webhook { webhook_id: w.clone() }, policy.unwrap_or_default())
                        }
                        // The triggers seed: retry every 10 minutes for 48 hours.
                        (None, Some(u)) => (DeliveryTarget::Url { url: u.clone() }, RetryPolicy::Fixed10m48h),
                        (None, None) => continue,
                    };
                    let mut d = new_delivery(event, id, target, event.webhook_body(), policy, now);
                    d.trigger_id = Some(trigger.id.clone());
                    d.webhook_id = webhook_id.clone();
                    new_deliveries.push(d);
                }
                Action::LeadUpdateList { list_id } => {
                    let Some(lead_id) = lead_id_of(event) else {
                        tracing::warn!(event = %event.id, trigger = %trigger.id, "lead.update.list on an event without a lead id");
                        continue;
                    };
                    let campaign = event.payload.get("campaignId").and_then(scalar_string);
                    let moved = leads::move_to_list(
                        app.store.as_ref(),
                        &event.tenant_id,
                        &lead_id,
                        campaign.clone(),
                        list_id,
                        &trigger.id,
                        &event.id,
                        now,
                    )
                    .await?;
                    if let Some(from) = moved {
                        bus_events.push(BusEvent {
                            detail_type: "lead.list.updated".into(),
                            tenant_id: event.tenant_id.clone(),
                            detail: json!({"leadId": lead_id, "campaignId": campaign, "fromListId": from,
                                           "listId": list_id, "triggerId": trigger.id, "eventId": event.id}),
                        });
                    }
                }
            }
        }
    }
    // Callback events: state, reminders and the notifications to send now.
    if crate::notifications::handles(&event.event_type) {
        new_deliveries.extend(crate::notifications::on_event(app, event).await?);
    }
    let created = deliveries::create_many(app.store.as_ref(), new_deliveries).await?;
    deliver::enqueue_now(app, &created).await?;
    app.bus.publish(bus_events).await?;
    events::mark_evaluated(app.store.as_ref(), &[event]).await?;
    Ok(())
}

fn scalar_string(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The lead an event is about: `leadId` at the top of the payload (the seed's shape).
fn lead_id_of(event: &Event) -> Option<String> {
    event.payload.get("leadId").and_then(scalar_string)
}
