//! How an SMS record is shown: in the seed's `smsDetails` shape (webhook bodies), and as the API's
//! record (those fields and Ringhook's own), with times in the account's time zone.

use super::local_time::{format_ms, Zone};
use super::model::{Account, Cost, ReceiverAnswer, SmsRecord};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// The account's zone; a stored name that no longer parses (it was checked on save) shows UTC.
pub fn zone(account: &Account) -> Zone {
    Zone::parse(&account.time_zone).unwrap_or_else(|_| Zone::utc())
}

/// A time as the seed shows it: `2023-10-19T11:55:20.408+05:30`.
pub fn time(ms: i64, zone: &Zone) -> String {
    format_ms(ms, zone)
}

/// The delivery status as the seed writes it (`DELIVERED`).
pub fn status_text(status: &str) -> String {
    status.to_ascii_uppercase()
}

/// One SMS in the seed's `smsDetails` shape, field for field and in its order.
#[derive(Serialize, ToSchema)]
pub struct SmsDetails {
    #[schema(example = "290a4138-5729-475f-95e1-9ff30f851d67")]
    pub id: String,
    /// `<call uuid>##<call attempt>`.
    #[serde(rename = "attemptDetail")]
    #[schema(example = "bd706f90-aa14-47ea-9844-3d1e1123f4ee##1")]
    pub attempt_detail: String,
    /// The call's (flow run's) uuid.
    #[serde(rename = "phononUuid")]
    pub phonon_uuid: String,
    /// The flow that sent it; null for a send of `/v1/messages`.
    #[serde(rename = "flowId")]
    #[schema(example = 200, required = true)]
    pub flow_id: Option<u64>,
    /// The account's number (`accountId` in /v1/account), or the tenant id while none is set.
    #[serde(rename = "accountID")]
    #[schema(value_type = crate::api::extract::Scalar, example = 28)]
    pub account_id: Value,
    /// Characters in the text.
    pub length: u32,
    pub cost: Cost,
    /// The text needs UCS-2 (a character outside the GSM-7 alphabet).
    #[serde(rename = "nonEnglishChars")]
    pub non_english_chars: bool,
    /// `NORMAL` (GSM-7) or `UNICODE` (UCS-2).
    #[serde(rename = "smsType")]
    #[schema(example = "UNICODE")]
    pub sms_type: &'static str,
    pub text: String,
    pub to: String,
    pub from: String,
    /// When Twilio accepted it; null until then.
    #[serde(rename = "sendTime")]
    #[schema(example = "2023-10-19T11:55:20.408+05:30", required = true)]
    pub send_time: Option<String>,
    /// `PENDING` until sent; then Twilio's status in capitals (`QUEUED`, `SENT`, `DELIVERED`,
    /// `UNDELIVERED`, `FAILED`…); `NOT_SENT` when Ringhook did not send it, `REJECTED` when
    /// Twilio's API refused it.
    #[serde(rename = "deliveryStatus")]
    #[schema(example = "DELIVERED")]
    pub delivery_status: String,
    /// When the final status was reported; null until then.
    #[serde(rename = "deliveryTime")]
    #[schema(example = "2023-10-19T11:59:12.408+05:30", required = true)]
    pub delivery_time: Option<String>,
}

pub fn details_of(r: &SmsRecord, zone: &Zone) -> SmsDetails {
    SmsDetails {
        id: r.id.clone(),
        attempt_detail: r.attempt_detail.clone(),
        phonon_uuid: r.call_uuid.clone(),
        flow_id: r.flow_id,
        account_id: r.account_id.clone(),
        length: r.length,
        cost: r.cost.clone(),
        non_english_chars: r.unicode,
        sms_type: if r.unicode { "UNICODE" } else { "NORMAL" },
        text: r.text.clone(),
        to: r.to.clone(),
        from: r.from.clone(),
        send_time: r.send_time_ms.map(|t| time(t, zone)),
        delivery_status: status_text(&r.status),
        delivery_time: r.delivery_time_ms.map(|t| time(t, zone)),
    }
}

/// [`details_of`] as JSON, for webhook bodies.
pub fn details(r: &SmsRecord, zone: &Zone) -> Value {
    serde_json::to_value(details_of(r, zone)).expect("details serialize")
}

/// Webhook #2's body: the call's uuid and the SMS whose delivery status arrived.
pub fn delivery_status_body(r: &SmsRecord, zone: &Zone) -> Value {
    serde_json::json!({"phonon-uuid": r.call_uuid, "smsDetails": [details(r, zone)]})
}

/// An SMS record as the API shows it: the seed's fields, then Ringhook's.
#[derive(Serialize, ToSchema)]
pub struct SmsRecordView {
    #[serde(flatten)]
    pub details: SmsDetails,
    /// Message parts (GSM-7: 160 alone, 153 per part; UCS-2: 70 alone, 67 per part).
    pub segments: u32,
    /// Twilio's MessageSid, once it accepted the message.
    #[serde(rename = "messageSid")]
    pub message_sid: Option<String>,
    /// Twilio's error code (status callbacks' `ErrorCode`, or its API's `code`).
    #[serde(rename = "errorCode")]
    pub error_code: Option<String>,
    /// Why it failed or was not sent (`not sent: recipient unsubscribed`).
    pub error: Option<String>,
    /// The delivery that sends it (the delivery log has every attempt).
    #[serde(rename = "deliveryId")]
    pub delivery_id: String,
    /// The event (`flow.completed`) it came from.
    #[serde(rename = "eventId")]
    pub event_id: String,
    /// What the status webhook's receiver answered (the seed's `notify_on_delivery`).
    pub notify_on_delivery: Option<ReceiverAnswerView>,
    #[serde(rename = "createdAt")]
    pub created_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReceiverAnswerView {
    /// The HTTP status; null when no answer came.
    pub status: Option<u16>,
    /// The first 10 KB of the body.
    pub body: String,
    pub truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(rename = "deliveryId")]
    pub delivery_id: String,
    pub at: String,
}

fn answer_view(a: &ReceiverAnswer, zone: &Zone) -> ReceiverAnswerView {
    ReceiverAnswerView {
        status: a.status,
        body: a.body.clone(),
        truncated: a.truncated,
        error: a.error.clone(),
        delivery_id: a.delivery_id.clone(),
        at: time(a.at_ms, zone),
    }
}

pub fn view(r: &SmsRecord, zone: &Zone) -> SmsRecordView {
    SmsRecordView {
        details: details_of(r, zone),
        segments: r.segments,
        message_sid: r.message_sid.clone(),
        error_code: r.error_code.clone(),
        error: r.error.clone(),
        delivery_id: r.delivery_id.clone(),
        event_id: r.event_id.clone(),
        notify_on_delivery: r.notify_on_delivery.as_ref().map(|a| answer_view(a, zone)),
        created_at: time(r.created_at_ms, zone),
    }
}
