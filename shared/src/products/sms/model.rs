//! The SMS product's stored types: the account's SMS settings, flows with SMS steps, the record
//! of every SMS sent, and contacts (who may be sent to).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The account's SMS settings (`/v1/account`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// The account's number in the tenant's own systems (the seed's `accountID`).
    #[serde(default)]
    pub account_id: Option<u64>,
    /// An IANA zone (`Asia/Kolkata`) or a fixed offset (`+05:30`); times are shown in it.
    pub time_zone: String,
    /// The seed's `account.sms.notifyOnDelivery`: webhook #2 when an SMS's status is final.
    pub notify_on_delivery: bool,
    /// The default webhook: where flow webhooks go.
    #[serde(default)]
    pub default_webhook_id: Option<String>,
    /// The Twilio account (an SMS sender) flows send through.
    #[serde(default)]
    pub sms_sender_id: Option<String>,
    pub sms_pricing: Pricing,
    pub updated_at: String,
}

impl Default for Account {
    fn default() -> Self {
        Account {
            account_id: None,
            time_zone: "UTC".into(),
            notify_on_delivery: false,
            default_webhook_id: None,
            sms_sender_id: None,
            sms_pricing: Pricing::default(),
            updated_at: String::new(),
        }
    }
}

/// What one SMS unit (segment) costs the account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Pricing {
    #[schema(example = 1)]
    pub currency_id: u32,
    #[schema(example = "INR", value_type = crate::api::openapi::Name)]
    pub currency_name: String,
    /// The price of one segment.
    #[schema(example = 0.75, minimum = 0, maximum = 1000000000)]
    pub amount_per_unit: f64,
    #[schema(example = "53", value_type = crate::api::openapi::Name)]
    pub service_category: String,
    #[schema(example = "Unit", value_type = crate::api::openapi::Name)]
    pub service_charge_type: String,
}

impl Default for Pricing {
    fn default() -> Self {
        Pricing {
            currency_id: 1,
            currency_name: "USD".into(),
            amount_per_unit: 0.0,
            service_category: "SMS".into(),
            service_charge_type: "Unit".into(),
        }
    }
}

/// A flow (an IVR or bot flow) and the SMS its completion sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Flow {
    pub id: u64,
    pub name: String,
    /// The seed's flow-level switch: without it, no webhook is sent for this flow.
    pub webhook_enabled: bool,
    pub sms_steps: Vec<SmsStep>,
    pub created_at: String,
    pub updated_at: String,
}

/// One SMS step of a flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SmsStep {
    /// A number (E.164, `+` first) or a reference into the `flow.completed` payload
    /// (`callerNumber`, `variables.altNumber`).
    #[schema(example = "callerNumber", value_type = crate::api::openapi::Name)]
    pub to: String,
    /// The From number or sender id; none: the account's SMS sender's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "PHONON", value_type = Option<crate::api::openapi::SenderFrom>)]
    pub from: Option<String>,
    /// The text; `$flow.key.<name>` is replaced by the flow variable `<name>` (left as it is
    /// when the flow has no such variable).
    #[schema(
        example = "Thanks for calling, $flow.key.name.",
        min_length = 1,
        max_length = 1600,
        pattern = "[^\\s\\u0000-\\u001f\\u007f-\\u009f]"
    )]
    pub text: String,
}

/// The cost of one SMS, in the seed's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Cost {
    pub currency: Currency,
    pub amount: f64,
    #[serde(rename = "serviceCategory")]
    pub service_category: String,
    #[serde(rename = "serviceChargeType")]
    pub service_charge_type: String,
    /// Segments billed.
    #[serde(rename = "smsUnit")]
    pub sms_unit: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Currency {
    #[serde(rename = "currencyID")]
    pub currency_id: u32,
    #[serde(rename = "currencyName")]
    pub currency_name: String,
}

impl Pricing {
    pub fn cost(&self, segments: u32) -> Cost {
        // Prices are decimal amounts: keep 6 places, not binary noise.
        let amount = (self.amount_per_unit * f64::from(segments) * 1e6).round() / 1e6;
        Cost {
            currency: Currency { currency_id: self.currency_id, currency_name: self.currency_name.clone() },
            amount,
            service_category: self.service_category.clone(),
            service_charge_type: self.service_charge_type.clone(),
            sms_unit: segments,
        }
    }
}

/// What the status webhook's receiver answered (the seed's `notify_on_delivery`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReceiverAnswer {
    /// The HTTP status, or none when no answer came (the error says why).
    pub status: Option<u16>,
    /// The first 10 KB of the body.
    pub body: String,
    pub truncated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub delivery_id: String,
    pub at_ms: i64,
}

/// Every SMS Ringhook sends for a flow, with what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SmsRecord {
    /// A UUID (version 7: it sorts by creation time).
    pub id: String,
    pub tenant_id: String,
    pub event_id: String,
    pub delivery_id: String,
    /// `<call uuid>##<call attempt>`.
    pub attempt_detail: String,
    pub call_uuid: String,
    /// The flow that sent it (none: a send of `/v1/messages`).
    #[serde(default)]
    pub flow_id: Option<u64>,
    /// The send it belongs to (`/v1/messages`).
    #[serde(default)]
    pub send_id: Option<String>,
    /// The account's number when set, else the tenant id.
    pub account_id: Value,
    pub to: String,
    pub from: String,
    pub text: String,
    pub length: u32,
    pub segments: u32,
    /// UCS-2 (some character is outside GSM-7).
    pub unicode: bool,
    pub cost: Cost,
    pub created_at_ms: i64,
    /// When Twilio accepted the message.
    #[serde(default)]
    pub send_time_ms: Option<i64>,
    /// Twilio's status, as the furthest one reported (lower case: `queued`, `sent`,
    /// `delivered`…), `not_sent` when Ringhook refused to send it, `rejected` when Twilio's API
    /// refused it; `pending` until it was sent.
    pub status: String,
    /// When a final status was reported.
    #[serde(default)]
    pub delivery_time_ms: Option<i64>,
    #[serde(default)]
    pub message_sid: Option<String>,
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub notify_on_delivery: Option<ReceiverAnswer>,
    /// When the 12-hour lookup through Twilio's Message resource was made.
    #[serde(default)]
    pub looked_up_at_ms: Option<i64>,
    pub updated_at_ms: i64,
}

/// Where an SMS record comes from: its ids and what sent it (a flow run or a send).
pub struct Origin {
    pub id: String,
    pub tenant_id: String,
    pub event_id: String,
    pub delivery_id: String,
    pub attempt_detail: String,
    pub call_uuid: String,
    pub flow_id: Option<u64>,
    pub send_id: Option<String>,
}

impl SmsRecord {
    /// A record of an SMS about to be sent: its length, segments and cost counted now, with the
    /// account's number and pricing.
    pub fn pending(o: Origin, account: &Account, to: String, from: String, text: String, now: i64) -> SmsRecord {
        let info = super::segments::count(&text);
        SmsRecord {
            account_id: super::flows::account_id(account, &o.tenant_id),
            id: o.id,
            tenant_id: o.tenant_id,
            event_id: o.event_id,
            delivery_id: o.delivery_id,
            attempt_detail: o.attempt_detail,
            call_uuid: o.call_uuid,
            flow_id: o.flow_id,
            send_id: o.send_id,
            to,
            from,
            text,
            length: info.length as u32,
            segments: info.segments as u32,
            unicode: info.encoding == super::segments::Encoding::Ucs2,
            cost: account.sms_pricing.cost(info.segments as u32),
            created_at_ms: now,
            send_time_ms: None,
            status: "pending".into(),
            delivery_time_ms: None,
            message_sid: None,
            error_code: None,
            error: None,
            notify_on_delivery: None,
            looked_up_at_ms: None,
            updated_at_ms: now,
        }
    }
}

/// Twilio's final message statuses: nothing follows them but `read`.
pub fn is_final_status(status: &str) -> bool {
    matches!(status, "delivered" | "undelivered" | "failed" | "canceled" | "read" | "not_sent" | "rejected")
}

/// A contact (by phone number): whether it may be sent to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Contact {
    #[schema(example = "f82e541a-a4b1-11e8-a85f-127fd0971098")]
    pub id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    #[schema(example = "+19999999999")]
    pub phone_number: String,
    pub status: ContactStatus,
    #[schema(format = DateTime)]
    pub unsubscribed_at: Option<String>,
    pub bounces: u32,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ContactStatus {
    Active,
    Unsubscribed,
    Suspended,
    Deactivated,
    Resumed,
    Transferred,
}

impl ContactStatus {
    /// Whether an SMS may be sent to a contact in this status.
    pub fn may_send(self) -> bool {
        !matches!(self, ContactStatus::Unsubscribed)
    }
}
