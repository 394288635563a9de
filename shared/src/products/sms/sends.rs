//! Sends (`POST /v1/messages`): one text to one or many recipients, each an SMS record sent
//! through the account's Twilio sender; when every recipient's SMS has a final status, or 24 hours
//! have passed, the delivery report webhook fires once for the send.

use super::messaging::{self, Kind, BOUNCE_CODES};
use super::model::{is_final_status, Account, Origin, SmsRecord};
use super::{flows, store, SendContext};
use crate::app::App;
use crate::delivery::retry::RetryPolicy;
use crate::error::PipelineError;
use crate::model::{delivery_id, format_time_ms, Delivery, DeliveryTarget, Event, SmsBody};
use crate::ports::{Item, ItemStore, StoreError};
use crate::repo::{decode, encode, get, keys, put_next, Versioned};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A send's report waits at most this long for final statuses.
pub const REPORT_AFTER_MS: i64 = 24 * 3600 * 1000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Send {
    pub id: String,
    pub tenant_id: String,
    pub text: String,
    #[serde(default)]
    pub from: Option<String>,
    /// The SMS records, one per recipient, in the order given.
    pub sms_ids: Vec<String>,
    pub created_at_ms: i64,
    /// When the report was made (sent to the delivery-report destination, if one was set).
    #[serde(default)]
    pub reported_at_ms: Option<i64>,
    /// The report's delivery (none: no destination was set when it was made).
    #[serde(default)]
    pub report_delivery_id: Option<String>,
}

/// The send's item: in the due-time index until its report went out (the 24-hour timeout).
fn item(s: &Send) -> Item {
    let due = s.reported_at_ms.is_none().then_some(s.created_at_ms + REPORT_AFTER_MS);
    encode(keys::sends(&s.tenant_id), &s.id, s)
        .with_due(due)
        .with_ttl(Some(s.created_at_ms / 1000 + store::RETENTION_SECS))
}

pub async fn find(st: &dyn ItemStore, tenant: &str, id: &str) -> Result<Option<Versioned<Send>>, StoreError> {
    get(st, &keys::sends(tenant), id).await
}

/// Creates a send to `to` (each an E.164 number): its records (created now) and the deliveries
/// that send them.
pub async fn create(
    app: &App,
    tenant: &str,
    account: &Account,
    to: &[String],
    text: &str,
    from: Option<String>,
) -> Result<(Send, Vec<Delivery>), PipelineError> {
    let now = app.now_ms();
    let id = format!("snd_{}", ulid::Ulid::new().to_string().to_lowercase());
    let event = Event {
        id: id.clone(),
        tenant_id: tenant.to_string(),
        event_type: "sms.send".into(),
        payload: Value::Null.into(),
        time: format_time_ms(now),
        received_at_ms: now,
        arrival: String::new(),
    };
    let sender = account.sms_sender_id.clone().unwrap_or_default();
    let mut send = Send {
        id: id.clone(),
        tenant_id: tenant.to_string(),
        text: text.to_string(),
        from: from.clone(),
        sms_ids: vec![],
        created_at_ms: now,
        reported_at_ms: None,
        report_delivery_id: None,
    };
    let mut out = Vec::with_capacity(to.len());
    let mut records = Vec::with_capacity(to.len());
    let st = app.store.as_ref();
    for (i, number) in to.iter().enumerate() {
        let sms_id = flows::uuid_v7(now, format!("{tenant}\0{id}\0{i}").as_bytes());
        let d_id = delivery_id(&event, &format!("send:{i}"), 0);
        let origin = Origin {
            id: sms_id.clone(),
            tenant_id: tenant.to_string(),
            event_id: id.clone(),
            delivery_id: d_id.clone(),
            attempt_detail: format!("{id}##{}", i + 1),
            call_uuid: id.clone(),
            flow_id: None,
            send_id: Some(id.clone()),
        };
        let from_text = from.clone().unwrap_or_default();
        let record = SmsRecord::pending(origin, account, number.clone(), from_text, text.to_string(), now);
        records.push(record);
        let body = SmsBody { to: number.clone(), from: from.clone().unwrap_or_default(), body: text.to_string() };
        let mut d = Delivery::new(
            &event,
            d_id,
            DeliveryTarget::Sms { sender_id: sender.clone() },
            json!(body),
            RetryPolicy::SingleRetry,
            now,
        );
        d.product = Some(super::NAME.to_string());
        d.context = Some(json!(SendContext::Sms { sms_id: sms_id.clone() }));
        if sender.is_empty() {
            d.unsendable = Some("the account has no Twilio sender: set smsSenderId in /v1/account".into());
        }
        send.sms_ids.push(sms_id);
        out.push(d);
    }
    // Written at once: the embedded store commits them as a group, DynamoDB in parallel.
    futures::future::try_join_all(records.iter().map(|r| store::create_record(st, r))).await?;
    put_next(st, item(&send), None).await?;
    Ok((send, out))
}

/// The delivery report's status groups, by code: what each final outcome is reported as.
pub const CODES: [(&str, &str, bool, bool); 8] = [
    ("100", "The message delivered successfully.", true, false),
    ("200", "The handset or number is unreachable (a bounce).", false, true),
    ("300", "The carrier did not deliver the message.", false, false),
    ("400", "The message failed.", false, false),
    ("500", "Twilio refused the message.", false, false),
    ("600", "Not sent: the recipient unsubscribed.", false, false),
    ("610", "Not sent: no recipient or no Twilio sender.", false, false),
    ("700", "No final status within 24 hours.", false, false),
];

/// The report code of one SMS.
pub fn code_of(r: &SmsRecord) -> &'static str {
    let bounce = r.error_code.as_deref().is_some_and(|c| BOUNCE_CODES.contains(&c));
    match r.status.as_str() {
        "delivered" | "read" => "100",
        "undelivered" | "failed" if bounce => "200",
        "undelivered" => "300",
        "failed" | "canceled" => "400",
        "rejected" => "500",
        "not_sent" if r.error_code.as_deref() == Some(super::status::UNSUBSCRIBED_CODE) => "600",
        "not_sent" => "610",
        _ => "700",
    }
}

/// A number as the seed's report shows it: digits only.
fn digits(n: &str) -> String {
    n.trim_start_matches('+').to_string()
}

/// The Delivery Report body (the seed's shape).
pub fn report_body(records: &[SmsRecord]) -> Value {
    let statuses: Vec<Value> = CODES
        .iter()
        .filter_map(|(code, text, success, bounce)| {
            let rs: Vec<&SmsRecord> = records.iter().filter(|r| code_of(r) == *code).collect();
            (!rs.is_empty()).then(|| {
                json!({"code": code, "status": text, "count": rs.len(),
                       "recipients": rs.iter().map(|r| digits(&r.to)).collect::<Vec<_>>(),
                       "success": success, "bounce": bounce})
            })
        })
        .collect();
    let messages: Vec<Value> = records
        .iter()
        .map(|r| json!({"id": r.id, "from": r.from, "message": r.text, "phone_number": digits(&r.to), "metadata": []}))
        .collect();
    json!({"total_messages": records.len(), "statuses": statuses, "messages": messages})
}

/// Sends the send's report if every SMS has a final status (or `timed_out`), once.
pub async fn maybe_report(
    app: &App,
    tenant: &str,
    send_id: &str,
    timed_out: bool,
) -> Result<Option<Delivery>, PipelineError> {
    let st = app.store.as_ref();
    let Some(cur) = find(st, tenant, send_id).await? else { return Ok(None) };
    let mut send = cur.value;
    let mut records = Vec::with_capacity(send.sms_ids.len());
    for id in &send.sms_ids {
        if let Some(r) = store::record(st, tenant, id).await? {
            records.push(r.value);
        }
    }
    if !timed_out && !records.iter().all(|r| is_final_status(&r.status)) {
        return Ok(None);
    }
    let settings = messaging::settings(st, tenant).await?.value;
    let report = messaging::webhook(
        app,
        tenant,
        &settings,
        Kind::DeliveryReport,
        send_id,
        send.created_at_ms,
        report_body(&records),
    )
    .await?;
    if send.reported_at_ms.is_none() {
        send.reported_at_ms = Some(app.now_ms());
        send.report_delivery_id = report.as_ref().map(|d| d.id.clone());
        match put_next(st, item(&send), Some(cur.version)).await {
            Ok(()) | Err(StoreError::ConditionFailed) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(report)
}

/// A send came due: 24 hours without every final status. Reports what there is.
pub async fn timed_out(app: &App, item: Item) -> Result<Vec<Delivery>, PipelineError> {
    let s = decode::<Send>(item)?.value;
    Ok(maybe_report(app, &s.tenant_id, &s.id, true).await?.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_group_outcomes() {
        let mut r: SmsRecord = serde_json::from_value(json!({
            "id": "s", "tenantId": "t", "eventId": "e", "deliveryId": "d", "attemptDetail": "a", "callUuid": "c",
            "accountId": 1, "to": "+19999999999", "from": "", "text": "x", "length": 1, "segments": 1,
            "unicode": false, "cost": {"currency": {"currencyID": 1, "currencyName": "USD"}, "amount": 0.0,
            "serviceCategory": "s", "serviceChargeType": "Unit", "smsUnit": 1}, "createdAtMs": 0,
            "status": "delivered", "updatedAtMs": 0}))
        .unwrap();
        assert_eq!(code_of(&r), "100");
        r.status = "undelivered".into();
        r.error_code = Some("30003".into());
        assert_eq!(code_of(&r), "200");
        r.error_code = Some("30007".into());
        assert_eq!(code_of(&r), "300");
        r.status = "failed".into();
        assert_eq!(code_of(&r), "400");
        r.status = "sent".into();
        assert_eq!(code_of(&r), "700");
        let body = report_body(&[r]);
        assert_eq!(body["statuses"][0]["recipients"], json!(["19999999999"]));
        assert_eq!(body["messages"][0]["metadata"], json!([]));
    }
}
