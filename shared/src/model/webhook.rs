use crate::delivery::retry::RetryPolicy;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    #[default]
    #[serde(alias = "post")]
    Post,
    #[serde(alias = "put")]
    Put,
}

impl HttpMethod {
    pub fn as_str(&self) -> &'static str {
        match self {
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
        }
    }
}

/// A header to send. A value of exactly `{id}` becomes a fresh unique id on every request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HeaderSpec {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum WebhookAuth {
    #[default]
    None,
    Basic {
        username: String,
        password: String,
    },
}

/// A signing secret; during rotation the old one keeps signing until `expires_at_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SigningSecret {
    pub secret: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at_ms: Option<i64>,
}

/// A configured webhook endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    pub id: String,
    pub name: String,
    pub url: String,
    pub method: HttpMethod,
    pub headers: Vec<HeaderSpec>,
    pub auth: WebhookAuth,
    /// Accepted success codes; empty means any 2xx.
    pub success_codes: Vec<u16>,
    pub retry_policy: RetryPolicy,
    pub timeout_ms: u64,
    /// Newest first; the first one is current.
    pub secrets: Vec<SigningSecret>,
    /// The body template (`/v1/templates`): the body is the template rendered from the
    /// delivery's data instead of the data as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

pub const DEFAULT_TIMEOUT_MS: u64 = 15_000;
pub const MAX_TIMEOUT_MS: u64 = 30_000;

impl Webhook {
    pub fn accepts(&self, status: u16) -> bool {
        accepts(&self.success_codes, status)
    }

    /// Secrets that still sign at `now_ms` (the current one plus any in their grace period).
    pub fn active_secrets(&self, now_ms: i64) -> Vec<&str> {
        self.secrets.iter().filter(|s| s.expires_at_ms.is_none_or(|e| e > now_ms)).map(|s| s.secret.as_str()).collect()
    }
}

pub fn accepts(codes: &[u16], status: u16) -> bool {
    if codes.is_empty() {
        (200..300).contains(&status)
    } else {
        codes.contains(&status)
    }
}
