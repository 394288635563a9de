use crate::delivery::retry::RetryPolicy;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// Where a delivery goes. Everything resolves to one HTTP request at send time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum DeliveryTarget {
    /// A URL given inline in a trigger action: POST JSON, default settings.
    Url { url: String },
    /// A configured webhook, read at send time so edits and secret rotation apply.
    Webhook { webhook_id: String },
    /// A callback-notification connection (webhook or Twilio SMS), read at send time.
    Connection { connection_id: String },
}

/// One message to one destination, with one stable id across all its attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// The body to send (JSON for webhooks; the connection renders its own for SMS).
    pub payload: Value,
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
    /// Attempts made in the current retry series.
    pub fn series_attempts(&self) -> u32 {
        self.attempts.saturating_sub(self.series_start)
    }
}

/// The log of one attempt: what was sent and what came back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptRequest {
    pub method: String,
    pub url: String,
    /// Secret-bearing headers (Authorization, signatures) are masked.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptResponse {
    pub status: u16,
    /// At most the first 10 KB.
    pub body: String,
    pub truncated: bool,
}
