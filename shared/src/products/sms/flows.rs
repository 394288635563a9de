//! `flow.completed`: a flow's SMS steps become SMS records and SMS deliveries through the
//! account's Twilio sender, and, when the flow's webhook is enabled, webhook #1 (flow complete)
//! goes to the account's default webhook.

use super::model::{Account, Flow, Origin, SmsRecord};
use super::{body, store, SendContext};
use crate::app::App;
use crate::delivery::retry::RetryPolicy;
use crate::error::PipelineError;
use crate::model::{delivery_id, parse_time, Delivery, DeliveryTarget, Event, SmsBody};
use crate::repo::webhooks;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

pub const FLOW_COMPLETED: &str = "flow.completed";

/// A `flow.completed` payload, checked on arrival.
#[derive(Debug, Clone, PartialEq)]
pub struct Completed {
    pub flow_id: u64,
    pub call_uuid: String,
    pub caller_number: Option<String>,
    pub variables: Map<String, Value>,
    pub completed_at_ms: Option<i64>,
    /// The call attempt (the `n` of `attemptDetail`), 1 unless the payload says.
    pub attempt: u64,
}

/// Reads a `flow.completed` payload; the error names the field.
pub fn parse(payload: &Value) -> Result<Completed, String> {
    let o = payload.as_object().ok_or("payload: must be an object")?;
    let flow_id = match o.get("flowId") {
        Some(Value::Number(n)) => n.as_u64().filter(|n| *n > 0),
        Some(Value::String(s)) => s.trim().parse().ok().filter(|n| *n > 0),
        _ => None,
    }
    .ok_or("flowId: required, the flow's id (a positive integer)")?;
    let call_uuid = match o.get("callUuid") {
        Some(Value::String(s)) if crate::api::extract::is_line(s, 200) => s.trim().to_string(),
        _ => return Err("callUuid: required, the call's id (a non-empty string)".into()),
    };
    let caller_number = match o.get("callerNumber") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if crate::api::extract::is_line(s, 64) => Some(s.trim().to_string()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(_) => return Err("callerNumber: must be a phone number".into()),
    };
    let variables = match o.get("variables") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err("variables: must be an object of the flow's variables".into()),
    };
    let completed_at_ms = match o.get("completedAt") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(parse_time(s).ok_or("completedAt: must be an RFC 3339 time")?),
        Some(_) => return Err("completedAt: must be an RFC 3339 time".into()),
    };
    let attempt = match o.get("attempt") {
        None | Some(Value::Null) => 1,
        Some(v) => v.as_u64().filter(|n| *n > 0).ok_or("attempt: must be a positive integer")?,
    };
    Ok(Completed { flow_id, call_uuid, caller_number, variables, completed_at_ms, attempt })
}

/// The text with every `$flow.key.<name>` whose variable the flow has replaced by its value.
pub fn render_text(text: &str, variables: &Map<String, Value>) -> String {
    const KEY: &str = "$flow.key.";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(KEY) {
        out.push_str(&rest[..at]);
        let after = &rest[at + KEY.len()..];
        let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
        let name = &after[..end];
        match variables.get(name) {
            Some(v) if !name.is_empty() => out.push_str(&scalar_text(v)),
            _ => out.push_str(&rest[at..at + KEY.len() + end]),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A step's `to`: a number as written, or the payload's value at that path.
pub fn resolve_to(to: &str, payload: &Value) -> Option<String> {
    let t = to.trim();
    if t.starts_with('+') || t.bytes().all(|b| b.is_ascii_digit()) {
        return Some(t.to_string());
    }
    let mut v = payload;
    for part in t.split('.') {
        v = v.get(part)?;
    }
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A UUID version 7 (its first 48 bits are the time, so ids sort by creation) whose other bits
/// come from `seed`: the same event and step give the same id.
pub fn uuid_v7(ms: i64, seed: &[u8]) -> String {
    let digest = Sha256::digest(seed);
    let mut b = [0u8; 16];
    b[..6].copy_from_slice(&(ms.max(0) as u64).to_be_bytes()[2..]);
    b[6..].copy_from_slice(&digest[..10]);
    b[6] = 0x70 | (b[6] & 0x0f);
    b[8] = 0x80 | (b[8] & 0x3f);
    uuid::Uuid::from_bytes(b).to_string()
}

/// The account number the seed's bodies show: the one set in the account, else the tenant id.
pub fn account_id(account: &Account, tenant: &str) -> Value {
    account.account_id.map_or_else(|| json!(tenant), |n| json!(n))
}

/// Evaluates one `flow.completed`: creates its SMS records (once) and returns the deliveries.
pub async fn completed(app: &App, event: &Event, c: Completed) -> Result<Vec<Delivery>, PipelineError> {
    let st = app.store.as_ref();
    let tenant = &event.tenant_id;
    let Some(flow) = store::flow(st, tenant, c.flow_id).await?.map(|v| v.value) else {
        tracing::info!(event = %event.id, flow = c.flow_id, "flow.completed for an unknown flow: nothing to do");
        return Ok(vec![]);
    };
    let account = store::account(st, tenant).await?.value;
    let now = event.received_at_ms;
    let mut out = Vec::new();
    let mut records = Vec::new();
    for (i, step) in flow.sms_steps.iter().enumerate() {
        let (d, r) = sms_step(event, &c, &flow, &account, i, step, now);
        store::create_record(st, &r).await?;
        // The stored record wins (an event evaluated again finds the first one).
        let r = store::record(st, tenant, &r.id).await?.map_or(r, |v| v.value);
        records.push(r);
        out.push(d);
    }
    if flow.webhook_enabled {
        if let Some(webhook_id) = &account.default_webhook_id {
            let zone = body::zone(&account);
            let body = json!({
                "event": FLOW_COMPLETED,
                "phonon-uuid": c.call_uuid,
                "flowId": flow.id,
                "flowName": flow.name,
                "accountID": account_id(&account, tenant),
                "callerNumber": c.caller_number,
                "variables": c.variables,
                "completedAt": body::time(c.completed_at_ms.unwrap_or(now), &zone),
                "smsDetails": records.iter().map(|r| body::details(r, &zone)).collect::<Vec<_>>(),
            });
            let id = delivery_id(event, "flow-webhook", 0);
            let ctx = SendContext::FlowComplete { flow_id: flow.id };
            out.push(webhook_delivery(app, event, id, webhook_id, body, ctx, now).await?);
        }
    }
    Ok(out)
}

/// A delivery of `body` to webhook `webhook_id` under its own retry policy.
pub async fn webhook_delivery(
    app: &App,
    event: &Event,
    id: String,
    webhook_id: &str,
    body: Value,
    ctx: SendContext,
    now: i64,
) -> Result<Delivery, PipelineError> {
    let policy = webhooks::find(app.store.as_ref(), &event.tenant_id, webhook_id)
        .await?
        .map_or(RetryPolicy::default(), |w| w.value.retry_policy);
    let target = DeliveryTarget::Webhook { webhook_id: webhook_id.to_string() };
    let mut d = Delivery::new(event, id, target, body, policy, now);
    d.webhook_id = Some(webhook_id.to_string());
    d.product = Some(super::NAME.to_string());
    d.context = Some(json!(ctx));
    Ok(d)
}

/// One SMS step: its record, and the delivery that sends it (unsendable, with the reason, when
/// it cannot be sent: no recipient, no Twilio sender).
fn sms_step(
    event: &Event,
    c: &Completed,
    flow: &Flow,
    account: &Account,
    i: usize,
    step: &super::model::SmsStep,
    now: i64,
) -> (Delivery, SmsRecord) {
    let tenant = &event.tenant_id;
    let text = render_text(&step.text, &c.variables);
    let to = resolve_to(&step.to, &event.payload);
    let from = step.from.clone().unwrap_or_default();
    let id = delivery_id(event, &format!("sms-step:{i}"), 0);
    let record_id = uuid_v7(now, format!("{tenant}\0{}\0{i}", event.id).as_bytes());
    let origin = Origin {
        id: record_id.clone(),
        tenant_id: tenant.clone(),
        event_id: event.id.clone(),
        delivery_id: id.clone(),
        attempt_detail: format!("{}##{}", c.call_uuid, c.attempt),
        call_uuid: c.call_uuid.clone(),
        flow_id: Some(flow.id),
        send_id: None,
    };
    let record = SmsRecord::pending(origin, account, to.clone().unwrap_or_default(), from.clone(), text.clone(), now);
    let sender = account.sms_sender_id.clone().unwrap_or_default();
    let sms = SmsBody { to: to.clone().unwrap_or_default(), from, body: text };
    let mut d = Delivery::new(
        event,
        id,
        DeliveryTarget::Sms { sender_id: sender.clone() },
        json!(sms),
        RetryPolicy::SingleRetry,
        now,
    );
    d.product = Some(super::NAME.to_string());
    d.context = Some(json!(SendContext::Sms { sms_id: record_id }));
    d.unsendable = if to.is_none() {
        Some(format!("step {}: no recipient: the payload has no value at {:?}", i + 1, step.to))
    } else if sender.is_empty() {
        Some("the account has no Twilio sender: set smsSenderId in /v1/account".to_string())
    } else {
        None
    };
    (d, record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_keys_are_filled_from_the_variables() {
        let vars: Map<String, Value> = serde_json::from_value(json!({"name": "Asha", "n": 3})).unwrap();
        assert_eq!(render_text("Hi $flow.key.name, #$flow.key.n.", &vars), "Hi Asha, #3.");
        // Unknown keys stay as they are (the seed's own sample shows `$flow.key.sms` unfilled).
        assert_eq!(render_text("है $flow.key.sms. Phonon", &vars), "है $flow.key.sms. Phonon");
        assert_eq!(render_text("$flow.key.", &vars), "$flow.key.");
        assert_eq!(render_text("no keys", &vars), "no keys");
    }

    #[test]
    fn recipients_are_numbers_or_payload_references() {
        let p = json!({"callerNumber": "919999999999", "variables": {"alt": "+15550001111"}, "n": 5});
        assert_eq!(resolve_to("+15551234567", &p).as_deref(), Some("+15551234567"));
        assert_eq!(resolve_to("callerNumber", &p).as_deref(), Some("919999999999"));
        assert_eq!(resolve_to("variables.alt", &p).as_deref(), Some("+15550001111"));
        assert_eq!(resolve_to("variables.missing", &p), None);
    }

    #[test]
    fn record_ids_are_uuid_v7_sorted_by_time_and_stable() {
        let a = uuid_v7(1_697_696_720_408, b"x");
        assert_eq!(a, uuid_v7(1_697_696_720_408, b"x"));
        assert_ne!(a, uuid_v7(1_697_696_720_408, b"y"));
        assert!(uuid_v7(1_697_696_720_409, b"a") > a);
        let u = uuid::Uuid::parse_str(&a).unwrap();
        assert_eq!(u.get_version_num(), 7);
    }

    #[test]
    fn payloads_are_checked() {
        let ok = parse(&json!({"flowId": 200, "callUuid": "bd70", "callerNumber": "919999999999"})).unwrap();
        assert_eq!((ok.flow_id, ok.attempt), (200, 1));
        assert_eq!(parse(&json!({"flowId": "200", "callUuid": "c"})).unwrap().flow_id, 200);
        for (bad, field) in [
            (json!({"callUuid": "c"}), "flowId"),
            (json!({"flowId": 0, "callUuid": "c"}), "flowId"),
            (json!({"flowId": 1}), "callUuid"),
            (json!({"flowId": 1, "callUuid": "c", "variables": []}), "variables"),
            (json!({"flowId": 1, "callUuid": "c", "completedAt": "yesterday"}), "completedAt"),
            (json!({"flowId": 1, "callUuid": "c", "attempt": 0}), "attempt"),
        ] {
            assert!(parse(&bad).unwrap_err().starts_with(field), "{bad}");
        }
    }
}
