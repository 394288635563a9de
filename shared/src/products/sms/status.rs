//! What becomes of an SMS: Twilio's answer to the send (MessageSid, or its error: 21610 marks
//! the recipient unsubscribed), its status callbacks applied monotonically (a late `sent` never
//! moves a `delivered` message back), webhook #2 when the status is final, the status webhook
//! receiver's answer, and the one lookup through Twilio's Message resource for an SMS with no
//! final status 12 hours after it was created.

use super::messaging::{self, Kind, BOUNCE_CODES};
use super::model::{is_final_status, ReceiverAnswer, SmsRecord};
use super::{body, flows, inbound, sends, store, SendContext};
use crate::app::App;
use crate::delivery::sender::{self, OutgoingRequest};
use crate::destinations::request::basic_auth;
use crate::destinations::{sms_senders, twilio};
use crate::error::PipelineError;
use crate::model::{delivery_id, format_time, Attempt, Delivery, Event};
use crate::ports::{Item, StoreError};
use crate::product::Effects;
use crate::repo::{decode, deliveries};
use serde_json::Value;
use std::time::Duration;

/// Twilio's error for a recipient who replied STOP: "Attempt to send to unsubscribed recipient".
pub const UNSUBSCRIBED_CODE: &str = "21610";
/// What the record (and the attempt) says when Ringhook does not send to an unsubscribed
/// recipient.
pub const UNSUBSCRIBED: &str = "recipient unsubscribed";

/// Whether status `new` moves the message on from `cur`. Final statuses stay (only `read`
/// follows `delivered`); `rejected` (Twilio's API refused an attempt) gives way to a retry's.
pub fn advances(cur: &str, new: &str) -> bool {
    if cur == "rejected" {
        return true;
    }
    if is_final_status(cur) {
        return cur == "delivered" && new == "read";
    }
    is_final_status(new) || twilio::status_rank(new) > twilio::status_rank(cur)
}

/// Moves the record to `status` if that moves it on; sets the MessageSid if it had none.
fn apply(r: &mut SmsRecord, status: &str, error_code: Option<&str>, sid: Option<&str>, now: i64) -> bool {
    let mut changed = false;
    if let (None, Some(s)) = (&r.message_sid, sid) {
        r.message_sid = Some(s.to_string());
        changed = true;
    }
    if advances(&r.status, status) {
        r.status = status.to_string();
        if is_final_status(status) && r.delivery_time_ms.is_none() {
            r.delivery_time_ms = Some(now);
        }
        if let Some(code) = error_code.filter(|c| !c.is_empty()) {
            r.error_code = Some(code.to_string());
        }
        changed = true;
    }
    if changed {
        r.updated_at_ms = now;
    }
    changed
}

/// A status from Twilio (callback or lookup) for the SMS `sms_id`: applied, and webhook #2 when
/// the status is final. Idempotent: webhook #2's delivery id is fixed per SMS, so a repeated
/// final status creates nothing new.
pub async fn status_reported(
    app: &App,
    tenant: &str,
    sms_id: &str,
    status: &str,
    error_code: Option<&str>,
    sid: Option<&str>,
    now: i64,
) -> Result<Vec<Delivery>, PipelineError> {
    let st = app.store.as_ref();
    let mut became_final = false;
    let Some((r, _)) = store::update_record(st, tenant, sms_id, |r| {
        let was_final = is_final_status(&r.status);
        let changed = apply(r, status, error_code, sid, now);
        became_final = !was_final && is_final_status(&r.status);
        changed
    })
    .await?
    else {
        return Ok(vec![]);
    };
    if !matches!(r.status.as_str(), "delivered" | "undelivered" | "failed") {
        return Ok(vec![]);
    }
    let mut out: Vec<Delivery> = notify_on_delivery(app, &r).await?.into_iter().collect();
    if became_final {
        out.extend(outcome_webhooks(app, &r).await?);
    }
    if let Some(send) = &r.send_id {
        out.extend(sends::maybe_report(app, tenant, send, false).await?);
    }
    Ok(out)
}

/// What a final status means for the contact (done once, when the status becomes final): a
/// bounce counts, and the bounce webhook fires when the count reaches the account's threshold
/// (not again until a delivered SMS resets the count); a delivered SMS resets it; `failed` fires
/// the rejection webhook.
async fn outcome_webhooks(app: &App, r: &SmsRecord) -> Result<Vec<Delivery>, PipelineError> {
    let st = app.store.as_ref();
    let settings = messaging::settings(st, &r.tenant_id).await?.value;
    let mut out = Vec::new();
    let bounce = matches!(r.status.as_str(), "undelivered" | "failed")
        && r.error_code.as_deref().is_some_and(|c| BOUNCE_CODES.contains(&c));
    if bounce {
        let (c, _) = inbound::update_contact(app, &r.tenant_id, &r.to, |c| {
            c.bounces += 1;
            true
        })
        .await?;
        if c.bounces == settings.bounce_threshold {
            let body = messaging::bounce_body(&c);
            let cause = format!("{}:{}", c.id, r.id);
            let at = r.created_at_ms;
            out.extend(messaging::webhook(app, &r.tenant_id, &settings, Kind::Bounce, &cause, at, body).await?);
        }
    } else if r.status == "delivered" {
        inbound::update_contact(app, &r.tenant_id, &r.to, |c| std::mem::take(&mut c.bounces) > 0).await?;
    }
    if r.status == "failed" {
        let code = r.error_code.clone().unwrap_or_default();
        let body = messaging::rejection_body(&code, "The message failed.");
        let cause = format!("{}:failed", r.id);
        let at = r.created_at_ms;
        out.extend(messaging::webhook(app, &r.tenant_id, &settings, Kind::Rejection, &cause, at, body).await?);
    }
    Ok(out)
}

/// Webhook #2 for a record whose status is final: only when the account has
/// `notifyOnDelivery`, the flow's webhook is enabled and there is a default webhook.
async fn notify_on_delivery(app: &App, r: &SmsRecord) -> Result<Option<Delivery>, PipelineError> {
    let st = app.store.as_ref();
    let account = store::account(st, &r.tenant_id).await?.value;
    let Some(webhook_id) = account.default_webhook_id.clone().filter(|_| account.notify_on_delivery) else {
        return Ok(None);
    };
    let Some(flow_id) = r.flow_id else { return Ok(None) };
    if !store::flow(st, &r.tenant_id, flow_id).await?.is_some_and(|f| f.value.webhook_enabled) {
        return Ok(None);
    }
    // Filed under the flow.completed event, at the record's creation: the id is the same every
    // time this SMS reaches a final status.
    let event = Event {
        id: r.event_id.clone(),
        tenant_id: r.tenant_id.clone(),
        event_type: "sms.status".into(),
        payload: Value::Null.into(),
        time: format_time(r.created_at_ms),
        received_at_ms: r.created_at_ms,
        arrival: String::new(),
    };
    let id = delivery_id(&event, &format!("sms-status:{}", r.id), 0);
    let payload = body::delivery_status_body(r, &body::zone(&account));
    let ctx = SendContext::DeliveryStatus { sms_id: r.id.clone() };
    Ok(Some(flows::webhook_delivery(app, &event, id, &webhook_id, payload, ctx, app.now_ms()).await?))
}

/// A status callback for one of this product's SMS deliveries.
pub async fn on_sms_status(
    app: &App,
    d: &Delivery,
    s: &crate::destinations::sms_status::SmsStatus,
) -> Result<Effects, PipelineError> {
    let Some(SendContext::Sms { sms_id }) = SendContext::of(d) else { return Ok(Effects::default()) };
    let deliveries = status_reported(
        app,
        &d.tenant_id,
        &sms_id,
        &s.status,
        s.error_code.as_deref(),
        Some(&s.message_sid),
        app.now_ms(),
    )
    .await?;
    Ok(Effects { deliveries, bus_events: vec![] })
}

/// An attempt of one of this product's deliveries was made: Twilio's answer goes on the SMS
/// record (an API error fires the rejection webhook; the recipient becomes a contact); the status
/// webhook receiver's answer goes on the SMS it was about.
pub async fn on_attempt(app: &App, d: &Delivery, a: &Attempt) -> Result<Effects, PipelineError> {
    let st = app.store.as_ref();
    let now = app.now_ms();
    let mut out = Vec::new();
    match SendContext::of(d) {
        Some(SendContext::Sms { sms_id }) => {
            let answer = a.response.as_ref().and_then(|r| serde_json::from_str::<Value>(&r.body).ok());
            let status = a.response.as_ref().map(|r| r.status);
            let twilio_code = answer.as_ref().and_then(|v| v["code"].as_u64()).map(|c| c.to_string());
            let to = recipient(d);
            if twilio_code.as_deref() == Some(UNSUBSCRIBED_CODE) {
                store::unsubscribe(st, &d.tenant_id, &to, &crate::model::format_time_ms(now)).await?;
            } else if !to.is_empty() {
                // Created on the first outbound message.
                inbound::update_contact(app, &d.tenant_id, &to, |_| false).await?;
            }
            if let (Some(400..=599), Some(code)) = (status, &twilio_code) {
                let settings = messaging::settings(st, &d.tenant_id).await?.value;
                let message =
                    answer.as_ref().and_then(|v| v["message"].as_str()).unwrap_or("Twilio refused the message.");
                let body = messaging::rejection_body(code, message);
                let cause = format!("{sms_id}:{}", a.number);
                let at = a.started_at_ms;
                out.extend(messaging::webhook(app, &d.tenant_id, &settings, Kind::Rejection, &cause, at, body).await?);
            }
            let updated = store::update_record(st, &d.tenant_id, &sms_id, |r| {
                match (status, &answer) {
                    (Some(200..=299), Some(v)) => {
                        r.send_time_ms.get_or_insert(a.started_at_ms);
                        r.error = None;
                        // Sent from the sender's default number: the record shows which.
                        if let (true, Some(f)) = (r.from.is_empty(), v["from"].as_str()) {
                            r.from = f.to_string();
                        }
                        let sid = v["sid"].as_str();
                        let twilio_status = v["status"].as_str().unwrap_or("queued");
                        apply(r, twilio_status, None, sid, now);
                    }
                    (Some(_), answer) => {
                        let message = answer.as_ref().and_then(|v| v["message"].as_str()).map(str::to_string);
                        r.error_code = twilio_code.clone();
                        if twilio_code.as_deref() == Some(UNSUBSCRIBED_CODE) {
                            r.status = "not_sent".into();
                            r.error = Some(format!("not sent: {UNSUBSCRIBED}"));
                        } else {
                            r.status = "rejected".into();
                            r.error = message.or_else(|| a.error.clone());
                        }
                    }
                    (None, _) => {
                        let reason = a.error.clone().unwrap_or_default();
                        if reason.starts_with("not sent:") {
                            // Refused before sending: final.
                            r.status = "not_sent".into();
                            if reason.ends_with(UNSUBSCRIBED) {
                                r.error_code = Some(UNSUBSCRIBED_CODE.into());
                            }
                        }
                        r.error = Some(reason);
                    }
                }
                r.updated_at_ms = now;
                true
            })
            .await?;
            // Refused for good (not sent, rejected): the send's report may be complete now.
            if let Some((r, _)) = updated.filter(|(r, _)| matches!(r.status.as_str(), "not_sent" | "rejected")) {
                if let Some(send) = &r.send_id {
                    out.extend(sends::maybe_report(app, &d.tenant_id, send, false).await?);
                }
            }
        }
        Some(SendContext::DeliveryStatus { sms_id }) => {
            let answer = ReceiverAnswer {
                status: a.response.as_ref().map(|r| r.status),
                body: a.response.as_ref().map(|r| r.body.clone()).unwrap_or_default(),
                truncated: a.response.as_ref().is_some_and(|r| r.truncated),
                error: a.error.clone(),
                delivery_id: d.id.clone(),
                at_ms: a.started_at_ms,
            };
            store::update_record(st, &d.tenant_id, &sms_id, |r| {
                r.notify_on_delivery = Some(answer.clone());
                r.updated_at_ms = now;
                true
            })
            .await?;
        }
        _ => {}
    }
    Ok(Effects { deliveries: out, bus_events: vec![] })
}

/// The number an SMS delivery goes to (empty when its body names none).
fn recipient(d: &Delivery) -> String {
    serde_json::from_value::<crate::model::SmsBody>(d.payload.clone()).map(|b| b.to).unwrap_or_default()
}

/// Before each attempt of an SMS: a recipient who opted out is never sent to.
pub async fn check_send(app: &App, d: &Delivery) -> Result<Option<String>, StoreError> {
    if !matches!(SendContext::of(d), Some(SendContext::Sms { .. })) {
        return Ok(None);
    }
    let to = recipient(d);
    Ok((!store::may_send_to(app.store.as_ref(), &d.tenant_id, &to).await?).then(|| UNSUBSCRIBED.to_string()))
}

/// A record came due: 12 hours old with no final status. Looks the message up once through
/// Twilio's Message resource and applies what it says; returns webhook #2 if that is final.
pub async fn look_up(app: &App, item: Item, now: i64) -> Result<Vec<Delivery>, PipelineError> {
    let st = app.store.as_ref();
    let r = decode::<SmsRecord>(item)?.value;
    let found = match &r.message_sid {
        Some(sid) if !is_final_status(&r.status) => fetch_status(app, &r, sid).await?,
        _ => None,
    };
    // Looked up (or nothing to look up): out of the due-time index either way.
    let mark = |rec: &mut SmsRecord| {
        if rec.looked_up_at_ms.is_some() {
            return false;
        }
        rec.looked_up_at_ms = Some(now);
        rec.updated_at_ms = now;
        true
    };
    store::update_record(st, &r.tenant_id, &r.id, mark).await?;
    match found {
        Some((status, code)) => {
            status_reported(app, &r.tenant_id, &r.id, &status, code.as_deref(), r.message_sid.as_deref(), now).await
        }
        None => Ok(vec![]),
    }
}

/// `GET /2010-04-01/Accounts/{sid}/Messages/{MessageSid}.json`: the message's status and error
/// code, or none when Twilio cannot say (logged).
async fn fetch_status(
    app: &App,
    r: &SmsRecord,
    message_sid: &str,
) -> Result<Option<(String, Option<String>)>, StoreError> {
    let Some(d) = deliveries::find(app.store.as_ref(), &r.tenant_id, &r.delivery_id).await? else { return Ok(None) };
    let crate::model::DeliveryTarget::Sms { sender_id } = &d.value.target else { return Ok(None) };
    let Some(sender) = sms_senders::find(app.store.as_ref(), &r.tenant_id, sender_id).await? else { return Ok(None) };
    let s = sender.value;
    let req = OutgoingRequest {
        method: "GET".into(),
        url: twilio::message_url(&app.settings.twilio_base_url, &s.account_sid, message_sid),
        headers: vec![
            ("accept".into(), "application/json".into()),
            ("authorization".into(), basic_auth(&s.account_sid, &s.auth_token)),
        ],
        body: vec![],
        timeout: Duration::from_secs(10),
    };
    let got = sender::send(app.http(), &req).await.result;
    match got {
        Ok(resp) if resp.status == 200 => {
            let v: Value = serde_json::from_str(&resp.body).unwrap_or_default();
            let status = v["status"].as_str().map(str::to_string);
            let code = match &v["error_code"] {
                Value::Number(n) => Some(n.to_string()),
                Value::String(s) if !s.is_empty() => Some(s.clone()),
                _ => None,
            };
            Ok(status.map(|s| (s, code)))
        }
        Ok(resp) => {
            tracing::warn!(sms = %r.id, status = resp.status, "Twilio's Message resource did not answer the lookup");
            Ok(None)
        }
        Err(e) => {
            tracing::warn!(sms = %r.id, error = %e.message, "looking the message up at Twilio");
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_only_move_forward() {
        assert!(advances("pending", "queued"));
        assert!(advances("queued", "sent"));
        assert!(advances("sent", "delivered"));
        assert!(!advances("delivered", "sent"), "a late sent never moves a delivered message back");
        assert!(!advances("delivered", "failed"));
        assert!(!advances("failed", "delivered"));
        assert!(advances("delivered", "read"));
        assert!(!advances("sent", "sent"));
        assert!(!advances("sent", "queued"));
        assert!(advances("rejected", "queued"), "a retry Twilio accepted");
        assert!(!advances("not_sent", "queued"));
    }
}
