//! The triggers product (the triggers seed): an event type, conditions that filter the event's
//! payload, and actions — `webhook` (a delivery to a webhook or an inline URL) and
//! `lead.update.list` (moves a lead now). Semantics follow the seed exactly; see `engine` and
//! `validate`. Every event type can have triggers, so this product handles them all.

pub mod api;
pub mod engine;
mod extract;
mod index;
pub mod leads;
pub mod model;
pub mod store;
pub mod try_api;
pub mod validate;

pub use engine::{CompiledTrigger, TriggerSet};
pub use model::{Action, Condition, Operator, Trigger, TriggerSpec};
pub use validate::{parse_trigger, TriggerError};

use crate::app::App;
use crate::delivery::retry::RetryPolicy;
use crate::error::PipelineError;
use crate::model::{delivery_id, Delivery, DeliveryTarget, Event};
use crate::ports::BusEvent;
use crate::product::{Effects, Product};
use crate::repo::webhooks;
use async_trait::async_trait;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use store::TriggerCache;

/// The product, with this process's cache of compiled trigger sets.
#[derive(Default)]
pub struct Triggers {
    cache: TriggerCache,
}

#[async_trait]
impl Product for Triggers {
    fn name(&self) -> &'static str {
        "triggers"
    }

    fn handles(&self, _event_type: &str) -> bool {
        true
    }

    async fn evaluate(&self, app: &App, batch: &[&Event]) -> Vec<Result<Effects, PipelineError>> {
        // Each tenant's triggers are looked up once per batch, not once per event (the events of
        // a batch are evaluated together, against the configuration current when it starts).
        let mut sets: HashMap<&str, Result<Arc<TriggerSet>, String>> = HashMap::new();
        for e in batch {
            if !sets.contains_key(e.tenant_id.as_str()) {
                let set = self.cache.load(app.store.as_ref(), &e.tenant_id).await.map_err(|e| e.to_string());
                sets.insert(&e.tenant_id, set);
            }
        }
        futures::future::join_all(batch.iter().map(|e| {
            let set = sets[e.tenant_id.as_str()].clone();
            async move {
                match set {
                    Ok(set) => run_actions(app, e, &set).await,
                    Err(msg) => Err(PipelineError::Unavailable(msg)),
                }
            }
        }))
        .await
    }

    fn routes(&self) -> axum::Router<Arc<App>> {
        api::routes().merge(try_api::routes())
    }

    fn openapi(&self) -> utoipa::openapi::OpenApi {
        let mut doc = <api::Doc as utoipa::OpenApi>::openapi();
        doc.merge(try_api::openapi());
        doc
    }
}

/// The actions of the triggers the event matches: lead moves now (remembered per (event,
/// trigger), so evaluating again moves nothing), webhooks as deliveries with ids derived from
/// (event, trigger, action).
async fn run_actions(app: &App, event: &Event, set: &TriggerSet) -> Result<Effects, PipelineError> {
    let now = app.now_ms();
    let mut out = Effects::default();
    let mut webhook_cache: HashMap<String, Option<RetryPolicy>> = HashMap::new();
    // From the payload's text: an event that fires nothing is never parsed whole.
    let matched: Vec<&CompiledTrigger> = set.matching_json(&event.event_type, event.payload.raw()).collect();
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
                    let mut d = Delivery::new(event, id, target, event.webhook_body(), policy, now);
                    d.trigger_id = Some(trigger.id.clone());
                    d.webhook_id = webhook_id.clone();
                    out.deliveries.push(d);
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
                        out.bus_events.push(BusEvent {
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
    Ok(out)
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
