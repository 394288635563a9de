//! Inbound messages (Twilio's incoming-message webhook, already verified): the contact is found
//! or created, the message classified — an opt-out unsubscribes the contact and fires the
//! unsubscribe webhook, an opt-in resubscribes it — and the inbound webhook fires (for every
//! message, or only actual replies with "unknown messages only"). Carrier-driven contact status
//! changes (`contact.status` events) update the contact and fire the contact status webhook.

use super::keywords::{classify, Class};
use super::messaging::{self, Kind};
use super::model::{Contact, ContactStatus};
use super::store;
use crate::app::App;
use crate::error::PipelineError;
use crate::model::{format_time_ms, Delivery, Event};
use crate::ports::StoreError;
use crate::product::Effects;
use serde_json::Value;

pub const CONTACT_STATUS: &str = "contact.status";

/// Reads, changes and writes a contact (created first if new), again on a concurrent change.
/// `change` returns whether it changed anything.
pub async fn update_contact(
    app: &App,
    tenant: &str,
    phone: &str,
    mut change: impl FnMut(&mut Contact) -> bool,
) -> Result<(Contact, bool), StoreError> {
    let st = app.store.as_ref();
    for _ in 0..10 {
        let now = format_time_ms(app.now_ms());
        let cur = store::contact(st, tenant, phone).await?;
        let (mut c, version, new) = match cur {
            Some(v) => (v.value, Some(v.version), false),
            None => (Contact::new(phone, &now), None, true),
        };
        let changed = change(&mut c);
        if !changed && !new {
            return Ok((c, false));
        }
        if changed {
            c.updated_at = now;
        }
        match store::put_contact(st, tenant, &c, version).await {
            Ok(()) => return Ok((c, changed)),
            Err(StoreError::ConditionFailed) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::ConditionFailed)
}

/// One inbound message's parameters (as Twilio posts them).
pub async fn received(app: &App, tenant: &str, params: &[(String, String)]) -> Result<Effects, PipelineError> {
    let p = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let (Some(from), Some(sid)) = (p("From").filter(|f| !f.is_empty()), p("MessageSid").or(p("SmsSid"))) else {
        return Ok(Effects::default());
    };
    let to = p("To").unwrap_or_default();
    let text = p("Body").unwrap_or_default();
    let st = app.store.as_ref();
    let settings = messaging::settings(st, tenant).await?.value;
    let class = classify(text, p("OptOutType"), &settings.opt_in_keywords);
    let now = app.now_ms();
    let stamp = format_time_ms(now);
    let (contact, changed) = update_contact(app, tenant, from, |c| match class {
        Class::OptOut if c.status != ContactStatus::Unsubscribed => {
            c.status = ContactStatus::Unsubscribed;
            c.unsubscribed_at = Some(stamp.clone());
            true
        }
        Class::OptIn if c.status == ContactStatus::Unsubscribed => {
            c.status = ContactStatus::Active;
            c.unsubscribed_at = None;
            true
        }
        _ => false,
    })
    .await?;
    tracing::info!(tenant, class = class.as_str(), "inbound SMS");
    let mut deliveries: Vec<Delivery> = Vec::new();
    if class == Class::OptOut && changed {
        let body = messaging::unsubscribe_body(&contact, to);
        deliveries.extend(messaging::webhook(app, tenant, &settings, Kind::Unsubscribe, sid, now, body).await?);
    }
    if !settings.unknown_messages_only || class == Class::Unknown {
        let body = messaging::inbound_body(&contact, to, text, now);
        deliveries.extend(messaging::webhook(app, tenant, &settings, Kind::Inbound, sid, now, body).await?);
    }
    Ok(Effects { deliveries, bus_events: vec![] })
}

/// A `contact.status` payload, checked on arrival: the number and the carrier's status.
pub fn parse_status(payload: &Value) -> Result<(String, ContactStatus), String> {
    let phone = payload
        .get("phone_number")
        .and_then(Value::as_str)
        .filter(|p| super::api::contacts::is_e164(p))
        .ok_or("phone_number: required, E.164 (+ and 2 to 15 digits)")?;
    let status = match payload.get("status").and_then(Value::as_str) {
        Some("suspended") => ContactStatus::Suspended,
        Some("deactivated") => ContactStatus::Deactivated,
        Some("resumed") => ContactStatus::Resumed,
        Some("transferred") => ContactStatus::Transferred,
        _ => return Err("status: required, one of suspended, deactivated, resumed, transferred".into()),
    };
    Ok((phone.to_string(), status))
}

/// A carrier changed a contact's status: the contact is updated and the contact status webhook
/// fires (once per event).
pub async fn contact_status(app: &App, event: &Event) -> Result<Vec<Delivery>, PipelineError> {
    let Ok((phone, status)) = parse_status(&event.payload) else { return Ok(vec![]) };
    let (contact, _) = update_contact(app, &event.tenant_id, &phone, |c| {
        let changed = c.status != status;
        c.status = status;
        changed
    })
    .await?;
    let settings = messaging::settings(app.store.as_ref(), &event.tenant_id).await?.value;
    let body = messaging::contact_status_body(&contact);
    let at = event.received_at_ms;
    Ok(messaging::webhook(app, &event.tenant_id, &settings, Kind::ContactStatus, &event.id, at, body)
        .await?
        .into_iter()
        .collect())
}
