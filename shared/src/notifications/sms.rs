//! SMS delivery statuses from Twilio's status callbacks, kept per delivery attempt and shown
//! with that attempt in the delivery log.

use super::model::{SmsStatus, SmsStatusChange};
use super::{store, twilio};
use crate::model::format_time;
use crate::ports::{ItemStore, StoreError};
use serde_json::{json, Value};

/// Records one status callback (idempotent: the same status twice is one history entry).
#[allow(clippy::too_many_arguments)] // each is one fact of the callback
pub async fn record(
    st: &dyn ItemStore,
    tenant: &str,
    delivery: &str,
    attempt: u32,
    connection: &str,
    message_sid: &str,
    status: &str,
    error_code: Option<String>,
    now_ms: i64,
) -> Result<SmsStatus, StoreError> {
    for _ in 0..10 {
        let cur = store::sms_status(st, tenant, delivery, attempt).await?;
        let (mut s, version) = match cur {
            Some(v) => (v.value, Some(v.version)),
            None => (
                SmsStatus {
                    delivery_id: delivery.to_string(),
                    attempt,
                    connection_id: connection.to_string(),
                    message_sid: message_sid.to_string(),
                    status: status.to_string(),
                    error_code: None,
                    history: vec![],
                    updated_at: format_time(now_ms),
                },
                None,
            ),
        };
        if s.history.iter().any(|h| h.status == status && h.error_code == error_code) {
            return Ok(s);
        }
        s.history.push(SmsStatusChange {
            status: status.to_string(),
            error_code: error_code.clone(),
            at: format_time(now_ms),
        });
        if version.is_none() || twilio::status_rank(status) >= twilio::status_rank(&s.status) {
            s.status = status.to_string();
            s.error_code = error_code.clone();
        }
        s.message_sid = message_sid.to_string();
        s.updated_at = format_time(now_ms);
        match store::put_sms_status(st, tenant, &s, version, now_ms).await {
            Ok(()) => return Ok(s),
            Err(StoreError::ConditionFailed) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::ConditionFailed)
}

/// Adds `sms` (status, error code, history) to each attempt of a delivery view that has one.
pub async fn annotate(st: &dyn ItemStore, tenant: &str, delivery: &str, view: &mut Value) -> Result<(), StoreError> {
    let statuses = store::sms_statuses_of(st, tenant, delivery).await?;
    if statuses.is_empty() {
        return Ok(());
    }
    if let Some(attempts) = view.get_mut("attempts").and_then(Value::as_array_mut) {
        for a in attempts.iter_mut() {
            let n = a.get("number").and_then(Value::as_u64).unwrap_or(0) as u32;
            if let Some(s) = statuses.iter().find(|s| s.attempt == n) {
                a["sms"] = json!({"messageSid": s.message_sid, "status": s.status, "errorCode": s.error_code,
                                  "history": s.history, "updatedAt": s.updated_at});
            }
        }
    }
    if let Some(last) = statuses.iter().max_by_key(|s| s.attempt) {
        view["smsStatus"] = json!(last.status);
    }
    Ok(())
}
