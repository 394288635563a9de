//! Turning a notification into deliveries (one per enabled connection of its kind), and, at
//! send time, a delivery into the connection's request: the seed's JSON envelope for a webhook,
//! a Messages API call for Twilio.
//!
//! A connection delivery's `payload` is `{"kind", "callbackId", "body": <the envelope>}`, or
//! `{"kind", "callbackId", "error"}` when the notification could not be rendered (no call
//! target, no message text, no customer number): such a delivery is refused, with the reason,
//! in the delivery log rather than silently skipped.

use super::model::{CallTarget, Callback, Channel, Connection, NotificationKind};
use super::render::{self, NotificationFacts};
use super::{rules, store, twilio};
use crate::app::App;
use crate::delivery::retry::RetryPolicy;
use crate::delivery::sender::OutgoingRequest;
use crate::model::webhook::DEFAULT_TIMEOUT_MS;
use crate::model::{Delivery, DeliveryTarget, Event, WebhookAuth};
use crate::pipeline::deliver::{self, PrepareError, Prepared, Refusal};
use crate::pipeline::{evaluate, PipelineError};
use crate::repo::tenants;
use serde_json::{json, Map, Value};
use std::time::Duration;

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
        let id = evaluate::delivery_id(event, &format!("notification:{}:{}", kind.as_str(), conn.id), 0);
        let payload = payload(kind, facts, call_target, &client_name, &conn, &id, now_ms);
        out.push(evaluate::new_delivery(
            event,
            id,
            DeliveryTarget::Connection { connection_id: conn.id.clone() },
            payload,
            RetryPolicy::SingleRetry,
            now_ms,
        ));
    }
    Ok(out)
}

fn payload(
    kind: NotificationKind,
    facts: &Facts,
    call_target: Option<&CallTarget>,
    client_name: &str,
    conn: &Connection,
    delivery_id: &str,
    now_ms: i64,
) -> Value {
    let base = json!({"kind": kind, "callbackId": facts.callback_id});
    let problem = |msg: String| {
        let mut v = base.clone();
        v["error"] = json!(msg);
        v
    };
    let Some(ct) = call_target else {
        return problem(match &facts.call_target_id {
            Some(id) => format!("call target {id:?} does not exist"),
            None => "the call target is unknown: no callback.registered was seen for this callback and the event names no callTargetId".to_string(),
        });
    };
    let Some(customer) = facts.customer_number.as_deref() else {
        return problem(
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
        return problem(format!("call target {:?} has no {} message text ({where_})", ct.id, kind.as_str()));
    };
    let mut v = base;
    v["body"] = render::envelope(&f, &message, &conn.name, &render::notification_id(delivery_id));
    v
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

/// The request for one attempt of a connection delivery, as the connection is configured now.
/// Storage errors leave the attempt unclaimed (the queue message is retried); anything else
/// that stops the send is a refusal, logged as the attempt.
pub async fn prepare_connection(app: &App, d: &Delivery, now_ms: i64) -> Result<Prepared, PrepareError> {
    let DeliveryTarget::Connection { connection_id } = &d.target else {
        return Err(Refusal("not a connection delivery".into()).into());
    };
    let st = app.store.as_ref();
    let conn = store::connection(st, &d.tenant_id, connection_id)
        .await?
        .ok_or_else(|| Refusal(format!("connection {connection_id} no longer exists")))?
        .value;
    if !conn.enabled {
        return Err(Refusal(format!("connection {connection_id} is disabled")).into());
    }
    if let Some(e) = d.payload.get("error").and_then(Value::as_str) {
        return Err(Refusal(e.to_string()).into());
    }
    let kind: NotificationKind = serde_json::from_value(d.payload["kind"].clone())
        .map_err(|_| Refusal("the delivery names no notification kind".into()))?;
    // The seed: before a confirmation or any reminder is sent, check the callback is still
    // pending; if not, it is cancelled.
    if kind.needs_pending_callback() {
        let callback_id = d.payload["callbackId"].as_str().unwrap_or_default();
        let state = store::callback(st, &d.tenant_id, callback_id).await?.map(|v| v.value.state);
        match state {
            Some(s) if rules::may_send(kind, s) => {}
            Some(s) => {
                return Err(Refusal(format!(
                    "cancelled: callback {callback_id} is no longer pending (it is {})",
                    s.as_str()
                ))
                .into())
            }
            None => return Err(Refusal(format!("cancelled: callback {callback_id} is unknown")).into()),
        }
    }
    let body = &d.payload["body"];
    let timeout = Duration::from_millis(DEFAULT_TIMEOUT_MS);
    match &conn.channel {
        Channel::Webhook { url, auth, headers: custom } => {
            let bytes = serde_json::to_vec(body).expect("json serializes");
            let mut headers = deliver::standard_headers(d, now_ms, &bytes, &[], "application/json");
            deliver::apply_custom_headers(&mut headers, custom);
            if let WebhookAuth::Basic { username, password } = auth {
                headers.retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
                headers.push(("authorization".into(), deliver::basic_auth(username, password)));
            }
            let url = deliver::checked_url(app, url).await?;
            Ok(Prepared {
                request: OutgoingRequest { method: "POST".into(), url, headers, body: bytes, timeout },
                success_codes: vec![],
            })
        }
        Channel::Twilio { account_sid, auth_token } => {
            let n = &body["data"]["notification"];
            let field = |k: &str| n[k].as_str().unwrap_or_default().to_string();
            let status_callback =
                twilio::status_callback_url(&app.settings.public_url, &d.tenant_id, &conn.id, &d.id, d.attempts + 1);
            let form =
                twilio::message_form(&field("toAddress"), &field("fromAddress"), &field("message"), &status_callback);
            let headers = vec![
                ("content-type".to_string(), "application/x-www-form-urlencoded".to_string()),
                ("accept".to_string(), "application/json".to_string()),
                ("authorization".to_string(), deliver::basic_auth(account_sid, auth_token)),
            ];
            let url =
                deliver::checked_url(app, &twilio::messages_url(&app.settings.twilio_base_url, account_sid)).await?;
            Ok(Prepared {
                request: OutgoingRequest { method: "POST".into(), url, headers, body: form.into_bytes(), timeout },
                success_codes: vec![],
            })
        }
    }
}
