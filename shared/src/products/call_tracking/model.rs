//! Where call-tracking webhooks are enabled: locations (the `location_info` data), campaigns
//! (tracking numbers), DNI campaigns (website domains) and call treatments (IVR options), each
//! selecting webhooks sent at the beginning or at the end of a call. The API shows them as
//! they are stored (their schemas are these types).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The client's own account number (`%account_id%`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The client's own location id (`%location_id%`; `id` is Ringhook's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_location_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_id: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl Location {
    /// The location's fields as their `location_info` tokens, and the API field of each.
    pub const TOKENS: [(&'static str, &'static str); 10] = [
        ("location_name", "name"),
        ("location_address_line_1", "addressLine1"),
        ("location_address_line_2", "addressLine2"),
        ("location_address_city", "city"),
        ("location_address_zip", "zip"),
        ("location_address_state", "state"),
        ("account_id", "accountId"),
        ("location_id", "clientLocationId"),
        ("site_id", "siteId"),
        ("domain_id", "domainId"),
    ];

    pub fn token_values(&self) -> Map<String, Value> {
        let v = serde_json::to_value(self).expect("locations serialize");
        Self::TOKENS
            .iter()
            .filter_map(|(token, field)| v.get(*field).filter(|x| !x.is_null()).map(|x| (token.to_string(), x.clone())))
            .collect()
    }
}

/// When a webhook is sent: when the call begins or when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SendAt {
    Begin,
    End,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookUse {
    pub webhook_id: String,
    pub send_at: SendAt,
}

/// An offline marketing campaign: calls to its tracking numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Campaign {
    pub id: String,
    pub name: String,
    pub location_id: String,
    #[serde(default)]
    pub tracking_numbers: Vec<String>,
    /// The campaign's tags (`%tags%` when the call carries none).
    #[serde(default)]
    #[schema(value_type = Object, example = json!({"Region": "south"}))]
    pub tags: Map<String, Value>,
    #[serde(default)]
    pub webhooks: Vec<WebhookUse>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// A digital (DNI) campaign: calls from visitors of its domains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DniCampaign {
    pub id: String,
    pub name: String,
    pub location_id: String,
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    pub webhooks: Vec<WebhookUse>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// One option of a call treatment (an IVR choice such as Sales).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TreatmentOption {
    /// What the caller presses.
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub webhooks: Vec<WebhookUse>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallTreatment {
    pub id: String,
    pub name: String,
    pub location_id: String,
    pub options: Vec<TreatmentOption>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// Phone numbers compare by their digits (`(777) 483-9229` = `7774839229`), ignoring a
/// leading country code 1 of an 11-digit North American number.
pub fn number_key(s: &str) -> String {
    let d: String = s.chars().filter(char::is_ascii_digit).collect();
    match d.strip_prefix('1') {
        Some(rest) if d.len() == 11 => rest.to_string(),
        _ => d,
    }
}

/// Domains compare without scheme, `www.`, path and case.
pub fn domain_key(s: &str) -> String {
    let s = s.trim().to_ascii_lowercase();
    let s = s.split_once("://").map(|(_, r)| r).unwrap_or(&s);
    let host = s.split(['/', '?', '#', ':']).next().unwrap_or("");
    host.strip_prefix("www.").unwrap_or(host).trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_domains_compare_by_what_they_name() {
        assert_eq!(number_key("(777) 483-9229"), "7774839229");
        assert_eq!(number_key("+1 777 483 9229"), "7774839229");
        assert_eq!(number_key("+44 20 7946 0958"), "442079460958");
        assert_eq!(domain_key("https://WWW.Example.com/about_us.htm"), "example.com");
        assert_eq!(domain_key("example.com"), "example.com");
    }
}
