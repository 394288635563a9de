//! Turning a notification into deliveries: one per enabled connection of its kind, addressed to
//! the connection's destination — the seed's JSON envelope to an HTTP destination, the message
//! text to an SMS sender (From = the call target's handle) — and, before each attempt, checking
//! the delivery is still wanted ([`check_send`]).
//!
//! A notification that cannot be rendered (no call target, no message text, no customer number)
//! still becomes a delivery, marked unsendable with the reason, so it shows in the delivery log
//! rather than silently vanishing.

use super::model::{CallTarget, Callback, Channel, Connection, NotificationKind};
use super::render::{self, NotificationFacts};
use super::{rules, store};
use crate::app::App;
use crate::delivery::retry::RetryPolicy;
use crate::error::PipelineError;
use crate::model::{delivery_id, Delivery, DeliveryTarget, Event, SmsBody};
use crate::ports::StoreError;
use crate::repo::{tenants, webhooks};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// What a connection delivery carries for its send-time check (`Delivery::context`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendContext {
    pub kind: NotificationKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_id: Option<String>,
    pub connection_id: String,
}

/// What a notification is about.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub callback_id: Option<String>,
    pub call_target_id: Option<String>,
    pub customer_number: Option<String>,
    pub callback_at_ms: Option<i64>,
    pub metadata: Map<String, Value>,
    pub client_name: Option<String>,
}

impl Facts {
    pub fn of_callback(cb: &Callback) -> Self {
        Self {
            callback_id: Some(cb.callback_id.clone()),
            call_target_id: cb.call_target_id.clone(),
            customer_number: cb.customer_number.clone(),
            callback_at_ms: cb.callback_at_ms,
            metadata: cb.metadata.clone(),
            client_name: cb.client_name.clone(),
        }
    }

    /// What the event itself says wins over what was stored.
    pub fn override_with(
        &mut self,
        call_target_id: Option<String>,
        customer_number: Option<String>,
        metadata: Option<Map<String, Value>>,
        client_name: Option<String>,
    ) {
        if call_target_id.is_some() {
            self.call_target_id = call_target_id;
        }
        if customer_number.is_some() {
            self.customer_number = customer_number;
        }
        if let Some(m) = metadata {
            self.metadata = m;
        }
        if client_name.is_some() {
            self.client_name = client_name;
        }
    }
}

pub async fn call_target_of(app: &App, tenant: &str, facts: &Facts) -> Result<Option<CallTarget>, PipelineError> {
    Ok(match &facts.call_target_id {
        Some(id) => store::call_target(app.store.as_ref(), tenant, id).await?.map(|v| v.value),
        None => None,
    })
}

/// One delivery per enabled connection of `kind`. `event` is the event the deliveries are
/// filed under (for reminders: the registration, at the reminder's due time); ids are
/// deterministic, so doing this twice creates each delivery once.
pub async fn deliveries_for(
    app: &App,
    event: &Event,
    kind: NotificationKind,
    facts: &Facts,
    call_target: Option<&CallTarget>,
    now_ms: i64,
) -> Result<Vec<Delivery>, PipelineError> {
    let connections = store::connections_for(app.store.as_ref(), &event.tenant_id, kind).await?;
    if connections.is_empty() {
        return Ok(vec![]);
    }
    let client_name = match &facts.client_name {
        Some(c) => c.clone(),
        None => {
            tenants::get_tenant(app.store.as_ref(), &event.tenant_id).await?.map(|t| t.value.name).unwrap_or_default()
        }
    };
    let mut out = Vec::with_capacity(connections.len());
    for conn in connections {
        let id = delivery_id(event, &format!("notification:{}:{}", kind.as_str(), conn.id), 0);
        let rendered = envelope(kind, facts, call_target, &client_name, &conn, &id, now_ms);
        let (target, payload, policy, webhook_id) = match &conn.channel {
            Channel::Webhook { webhook_id } => {
                // The destination's own policy (a connection's inline webhook gets the seed's
                // single retry); a webhook deleted since is refused at send time.
                let policy = webhooks::find(app.store.as_ref(), &event.tenant_id, webhook_id)
                    .await?
                    .map_or(RetryPolicy::SingleRetry, |w| w.value.retry_policy);
                let payload = rendered.clone().unwrap_or(Value::Null);
                (DeliveryTarget::Webhook { webhook_id: webhook_id.clone() }, payload, policy, Some(webhook_id.clone()))
            }
            Channel::Twilio { sender_id } => {
                let payload = match &rendered {
                    Ok(env) => {
                        let n = &env["data"]["notification"];
                        let field = |k: &str| n[k].as_str().unwrap_or_default().to_string();
                        json!(SmsBody { to: field("toAddress"), from: field("fromAddress"), body: field("message") })
                    }
                    Err(_) => Value::Null,
                };
                (DeliveryTarget::Sms { sender_id: sender_id.clone() }, payload, RetryPolicy::SingleRetry, None)
            }
        };
        let mut d = Delivery::new(event, id, target, payload, policy, now_ms);
        d.webhook_id = webhook_id;
        d.product = Some(super::NAME.to_string());
        d.unsendable = rendered.err();
        d.context =
            Some(json!(SendContext { kind, callback_id: facts.callback_id.clone(), connection_id: conn.id.clone() }));
        out.push(d);
    }
    Ok(out)
}

/// The seed's webhook envelope for this notification, or why it cannot be rendered.
fn envelope(
    kind: NotificationKind,
    facts: &Facts,
    call_target: Option<&CallTarget>,
    client_name: &str,
    conn: &Connection,
    delivery_id: &str,
    now_ms: i64,
) -> Result<Value, String> {
    let Some(ct) = call_target else {
        return Err(match &facts.call_target_id {
            Some(id) => format!("call target {id:?} does not exist"),
            None => "the call target is unknown: no callback.registered was seen for this callback and the event names no callTargetId".to_string(),
        });
    };
    let Some(customer) = facts.customer_number.as_deref() else {
        return Err(
            "the customer's number is unknown: no callback.registered was seen for this callback and the event names no customerNumber"
                .to_string(),
        );
    };
    let f = NotificationFacts {
        kind,
        call_target: ct,
        callback_id: facts.callback_id.as_deref(),
        customer_number: customer,
        callback_at_ms: facts.callback_at_ms,
        metadata: &facts.metadata,
        client_name,
        now_ms,
    };
    let Some(message) = render::message(&f) else {
        let where_ = match kind {
            NotificationKind::AsapReminder => format!("metadata item {:?}", super::model::ASAP_TEXT_KEY),
            _ => format!("messages.{}", message_key(kind)),
        };
        return Err(format!("call target {:?} has no {} message text ({where_})", ct.id, kind.as_str()));
    };
    Ok(render::envelope(&f, &message, &conn.name, &render::notification_id(delivery_id)))
}

fn message_key(kind: NotificationKind) -> &'static str {
    match kind {
        NotificationKind::Confirmation => "confirmation",
        NotificationKind::Reminder | NotificationKind::AsapReminder => "reminder",
        NotificationKind::FinalAttempt => "finalAttempt",
        NotificationKind::Success => "success",
        NotificationKind::ChoseMessaging => "choseMessaging",
    }
}

/// Before each attempt: the connection must still exist and be enabled, and — the seed: "before
/// a confirmation or any reminder is sent, check the callback is still pending" — a callback
/// that left the pending state cancels it. `Some(reason)` refuses the attempt.
pub async fn check_send(app: &App, d: &Delivery) -> Result<Option<String>, StoreError> {
    let Some(ctx) = d.context.clone().and_then(|c| serde_json::from_value::<SendContext>(c).ok()) else {
        return Ok(Some("the delivery names no notification".into()));
    };
    let st = app.store.as_ref();
    let id = &ctx.connection_id;
    match store::connection(st, &d.tenant_id, id).await? {
        None => return Ok(Some(format!("connection {id} no longer exists"))),
        Some(c) if !c.value.enabled => return Ok(Some(format!("connection {id} is disabled"))),
        Some(_) => {}
    }
    if ctx.kind.needs_pending_callback() {
        let callback_id = ctx.callback_id.as_deref().unwrap_or_default();
        let state = store::callback(st, &d.tenant_id, callback_id).await?.map(|v| v.value.state);
        return Ok(match state {
            Some(s) if rules::may_send(ctx.kind, s) => None,
            Some(s) => Some(format!("cancelled: callback {callback_id} is no longer pending (it is {})", s.as_str())),
            None => Some(format!("cancelled: callback {callback_id} is unknown")),
        });
    }
    Ok(None)
}
