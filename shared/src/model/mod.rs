//! Domain types stored by the repositories and shown by the API.

pub mod delivery;
pub mod event;
pub mod tenant;
pub mod webhook;

pub use delivery::{delivery_id, Attempt, Delivery, DeliveryStatus, DeliveryTarget, SmsBody};
pub use event::Event;
pub use tenant::Tenant;
pub use webhook::{HeaderSpec, HttpMethod, Webhook, WebhookAuth};

/// RFC 3339 UTC with seconds precision (`2024-10-16T15:47:15Z`), the form the seeds use.
pub fn format_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// RFC 3339 UTC with milliseconds, for logs where ordering within a second matters.
pub fn format_time_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Parses RFC 3339 (any offset) or epoch milliseconds.
pub fn parse_time(s: &str) -> Option<i64> {
    if let Ok(ms) = s.parse::<i64>() {
        return Some(ms);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .or_else(|| chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%z").ok())
        .map(|d| d.timestamp_millis())
}
