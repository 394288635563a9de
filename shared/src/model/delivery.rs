use super::Event;
use crate::delivery::retry::RetryPolicy;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A delivery id that is the same every time the same event meets the same action (`source`
/// names the action: a trigger, a notification…), and that sorts by the event's arrival time.
pub fn delivery_id(event: &Event, source: &str, index: usize) -> String {
    let mut h = Sha256::new();
    h.update(event.tenant_id.as_bytes());
    h.update([0]);
    h.update(event.id.as_bytes());
    h.update([0]);
    h.update(source.as_bytes());
    h.update(index.to_le_bytes());
    let digest = h.finalize();
    let mut rnd = [0u8; 16];
    rnd.copy_from_slice(&digest[..16]);
    let id = ulid::Ulid::from_parts(event.received_at_ms.max(0) as u64, u128::from_le_bytes(rnd));
    format!("dlv_{}", id.to_string().to_lowercase())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Succeeded,
    Failed,
}

impl DeliveryStatus {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
    pub fn is_final(&self) -> bool {
        !matches!(self, Self::Pending)
    }
}

/// Where a delivery goes: one of the two kinds of destination, or a URL given inline. Every
/// delivery becomes one request at send time (`destinations::request`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
// Field renames one by one: utoipa does not read `rename_all_fields`, and the document must
// name the fields as they are sent.
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum DeliveryTarget {
    /// A URL given inline (a trigger action): POST JSON, default settings, the tenant's secret.
    Url { url: String },
    /// An HTTP destination (a webhook), read at send time so edits and secret rotation apply.
    Webhook {
        #[serde(rename = "webhookId")]
        webhook_id: String,
    },
    /// An SMS sender (a Twilio account), read at send time; the payload is [`SmsBody`].
    Sms {
        #[serde(rename = "senderId")]
        sender_id: String,
    },
}

/// The payload of an SMS delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsBody {
    pub to: String,
    /// Empty: the sender's default From number.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from: String,
    pub body: String,
}

/// How long after a delivery should have been sent the scheduler steps in, in case its queue
/// message was lost (e.g. a crash between writing the delivery and queueing it).
pub const SWEEP_GRACE_MS: i64 = 5 * 60 * 1000;

/// One message to one destination, with one stable id across all its attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub id: String,
    pub tenant_id: String,
    pub event_id: String,
    pub event_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<String>,
    pub target: DeliveryTarget,
    /// The body to send: JSON for an HTTP destination, an [`SmsBody`] for an SMS sender.
    #[schema(value_type = Object)]
    pub payload: Value,
    /// The product that made this delivery; it is asked again before each attempt whether the
    /// delivery is still wanted (`Product::check_send`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// What the product needs to know at send time (e.g. the notification kind and callback).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub context: Option<Value>,
    /// Why this delivery cannot be sent (e.g. its body could not be rendered): every attempt
    /// is refused with this reason, visibly in the log, rather than the delivery vanishing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsendable: Option<String>,
    pub retry_policy: RetryPolicy,
    pub status: DeliveryStatus,
    /// Attempts made so far, over every series (a claimed attempt counts even if its outcome
    /// was never recorded because the process stopped mid-send).
    pub attempts: u32,
    /// Attempts made before the current retry series: a redelivery (or bulk recover) starts a
    /// new series, so the retry policy counts `attempts - series_start`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub series_start: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_attempt_at_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub created_at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at_ms: Option<i64>,
    /// When the scheduler should look at this delivery if no queue message brings it first
    /// (its place in the due-time index while pending).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep_at_ms: Option<i64>,
    /// While an attempt is being sent: the worker's lease. A copy of the message that arrives
    /// meanwhile waits for the lease to end; if the worker died, that copy makes the attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_until_ms: Option<i64>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Delivery {
    /// A new pending delivery of `event`, due now.
    pub fn new(
        event: &Event,
        id: String,
        target: DeliveryTarget,
        payload: Value,
        retry_policy: RetryPolicy,
        now_ms: i64,
    ) -> Delivery {
        Delivery {
            id,
            tenant_id: event.tenant_id.clone(),
            event_id: event.id.clone(),
            event_type: event.event_type.clone(),
            trigger_id: None,
            webhook_id: None,
            target,
            payload,
            product: None,
            context: None,
            unsendable: None,
            retry_policy,
            status: DeliveryStatus::Pending,
            attempts: 0,
            series_start: 0,
            first_attempt_at_ms: None,
            next_attempt_at_ms: Some(now_ms),
            last_status: None,
            last_error: None,
            created_at_ms: now_ms,
            completed_at_ms: None,
            sweep_at_ms: Some(now_ms + SWEEP_GRACE_MS),
            claimed_until_ms: None,
        }
    }

    /// Attempts made in the current retry series.
    pub fn series_attempts(&self) -> u32 {
        self.attempts.saturating_sub(self.series_start)
    }
}

/// The log of one attempt: what was sent and what came back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    pub delivery_id: String,
    pub number: u32,
    pub started_at: String,
    pub started_at_ms: i64,
    pub request: AttemptRequest,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<AttemptResponse>,
    pub latency_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub success: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptRequest {
    pub method: String,
    pub url: String,
    /// `[name, value]` pairs; secret-bearing values (Authorization, signatures) are masked.
    #[schema(value_type = Vec<Vec<String>>)]
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptResponse {
    pub status: u16,
    /// At most the first 10 KB.
    pub body: String,
    pub truncated: bool,
}
