//! AWS adapters (DynamoDB, SQS, EventBridge) for the ports.
//!
//! One `SdkConfig` is loaded per process with the SDK's standard resolution (credentials chain,
//! region, `AWS_ENDPOINT_URL*`), so the emulator and a real account go through the same code.

pub mod doc_codec;
pub mod dynamodb;
pub mod eventbridge;
pub mod http;
#[cfg(feature = "testing")]
pub mod moto;
#[cfg(feature = "testing")]
pub mod provision;
pub mod sqs;

use std::sync::Arc;

use anyhow::Context as _;
use aws_config::{BehaviorVersion, SdkConfig};

use crate::ports::Clock;

pub use dynamodb::DynamoStore;
pub use eventbridge::EventBridgeBus;
#[cfg(feature = "testing")]
pub use moto::MotoServer;
#[cfg(feature = "testing")]
pub use provision::{provision_from_template, Template};
pub use sqs::{QueueUrls, SqsQueue};

/// Environment variable names: the SAM template sets exactly these on every function.
pub const ENV_TABLE: &str = "RINGHOOK_TABLE";
pub const ENV_EVENTS_QUEUE_URL: &str = "RINGHOOK_EVENTS_QUEUE_URL";
pub const ENV_DELIVERIES_QUEUE_URL: &str = "RINGHOOK_DELIVERIES_QUEUE_URL";
pub const ENV_EVENTS_DLQ_URL: &str = "RINGHOOK_EVENTS_DLQ_URL";
pub const ENV_DELIVERIES_DLQ_URL: &str = "RINGHOOK_DELIVERIES_DLQ_URL";
pub const ENV_EVENT_BUS: &str = "RINGHOOK_EVENT_BUS";
/// Optional: the number of due-index shards (default [`dynamodb::DEFAULT_DUE_SHARDS`]).
pub const ENV_DUE_SHARDS: &str = "RINGHOOK_DUE_SHARDS";

/// Every variable `AwsSettings` reads, in a stable order.
pub const SETTINGS_ENV_VARS: [&str; 6] = [
    ENV_TABLE,
    ENV_EVENTS_QUEUE_URL,
    ENV_DELIVERIES_QUEUE_URL,
    ENV_EVENTS_DLQ_URL,
    ENV_DELIVERIES_DLQ_URL,
    ENV_EVENT_BUS,
];

/// Names of the AWS resources Ringhook uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsSettings {
    pub table: String,
    pub events_queue_url: String,
    pub deliveries_queue_url: String,
    pub events_dlq_url: String,
    pub deliveries_dlq_url: String,
    pub event_bus: String,
    /// Partitions of the due-time index; may be raised, never lowered, on a live table.
    pub due_shards: u32,
}

impl AwsSettings {
    /// Reads the `RINGHOOK_*` variables the SAM template sets; names the first one missing.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Same as `from_env` over any source of variables (a map, a template's env section).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let get = |name: &str| -> anyhow::Result<String> {
            match lookup(name) {
                Some(v) if !v.trim().is_empty() => Ok(v.trim().to_string()),
                Some(_) => anyhow::bail!("environment variable {name} is set but empty"),
                None => anyhow::bail!(
                    "environment variable {name} is not set (the AWS backend needs all of {})",
                    SETTINGS_ENV_VARS.join(", ")
                ),
            }
        };
        Ok(Self {
            table: get(ENV_TABLE)?,
            events_queue_url: get(ENV_EVENTS_QUEUE_URL)?,
            deliveries_queue_url: get(ENV_DELIVERIES_QUEUE_URL)?,
            events_dlq_url: get(ENV_EVENTS_DLQ_URL)?,
            deliveries_dlq_url: get(ENV_DELIVERIES_DLQ_URL)?,
            event_bus: get(ENV_EVENT_BUS)?,
            due_shards: match lookup(ENV_DUE_SHARDS).filter(|v| !v.trim().is_empty()) {
                None => dynamodb::DEFAULT_DUE_SHARDS,
                Some(v) => {
                    v.trim().parse::<u32>().ok().filter(|n| (1..=dynamodb::MAX_DUE_SHARDS).contains(n)).ok_or_else(
                        || anyhow::anyhow!("{ENV_DUE_SHARDS}={v:?}: must be 1 to {}", dynamodb::MAX_DUE_SHARDS),
                    )?
                }
            },
        })
    }

    /// The settings as `(variable, value)` pairs, e.g. to pass to a child process.
    pub fn env_vars(&self) -> Vec<(&'static str, String)> {
        vec![
            (ENV_TABLE, self.table.clone()),
            (ENV_EVENTS_QUEUE_URL, self.events_queue_url.clone()),
            (ENV_DELIVERIES_QUEUE_URL, self.deliveries_queue_url.clone()),
            (ENV_EVENTS_DLQ_URL, self.events_dlq_url.clone()),
            (ENV_DELIVERIES_DLQ_URL, self.deliveries_dlq_url.clone()),
            (ENV_EVENT_BUS, self.event_bus.clone()),
            (ENV_DUE_SHARDS, self.due_shards.to_string()),
        ]
    }

    pub fn queue_urls(&self) -> QueueUrls {
        QueueUrls {
            events: self.events_queue_url.clone(),
            deliveries: self.deliveries_queue_url.clone(),
            events_dlq: self.events_dlq_url.clone(),
            deliveries_dlq: self.deliveries_dlq_url.clone(),
        }
    }

    /// Builds the three adapters from one shared `SdkConfig`.
    pub fn connect(&self, sdk: &SdkConfig, clock: Arc<dyn Clock>) -> AwsAdapters {
        AwsAdapters {
            store: Arc::new(DynamoStore::new(sdk, self.table.clone(), clock).with_due_shards(self.due_shards)),
            queue: Arc::new(SqsQueue::new(sdk, self.queue_urls())),
            bus: Arc::new(EventBridgeBus::new(sdk, self.event_bus.clone())),
        }
    }
}

/// The AWS implementations of the store, queue and bus ports.
#[derive(Clone)]
pub struct AwsAdapters {
    pub store: Arc<DynamoStore>,
    pub queue: Arc<SqsQueue>,
    pub bus: Arc<EventBridgeBus>,
}

/// Loads the SDK configuration once: the standard chain for credentials and region, and the
/// standard `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>` variables for endpoints.
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).http_client(http::https_client()).load().await
}

/// Like `load_sdk_config`, but fails early with a clear message when no region is configured
/// (every client call would fail later with a less helpful error).
pub async fn load_sdk_config_checked() -> anyhow::Result<SdkConfig> {
    let sdk = load_sdk_config().await;
    sdk.region().context("no AWS region configured: set AWS_REGION (or AWS_DEFAULT_REGION / a profile)")?;
    Ok(sdk)
}

/// Renders an SDK error with its whole source chain (the plain `Display` only says
/// "service error").
pub(crate) fn sdk_err<E: std::error::Error>(e: E) -> String {
    aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn from_lookup_names_the_missing_variable() {
        let mut vars: HashMap<&str, String> = SETTINGS_ENV_VARS.iter().map(|k| (*k, format!("v-{k}"))).collect();
        let s = AwsSettings::from_lookup(|k| vars.get(k).cloned()).unwrap();
        assert_eq!(s.table, "v-RINGHOOK_TABLE");
        assert_eq!(s.due_shards, dynamodb::DEFAULT_DUE_SHARDS, "optional, with a default");
        assert_eq!(s.env_vars().len(), SETTINGS_ENV_VARS.len() + 1);

        vars.insert(ENV_DUE_SHARDS, "64".into());
        assert_eq!(AwsSettings::from_lookup(|k| vars.get(k).cloned()).unwrap().due_shards, 64);
        vars.insert(ENV_DUE_SHARDS, "0".into());
        let err = AwsSettings::from_lookup(|k| vars.get(k).cloned()).unwrap_err().to_string();
        assert!(err.contains("RINGHOOK_DUE_SHARDS=\"0\": must be 1 to 256"), "{err}");
        vars.remove(ENV_DUE_SHARDS);

        vars.remove(ENV_DELIVERIES_DLQ_URL);
        let err = AwsSettings::from_lookup(|k| vars.get(k).cloned()).unwrap_err().to_string();
        assert!(err.contains("RINGHOOK_DELIVERIES_DLQ_URL is not set"), "{err}");

        vars.insert(ENV_DELIVERIES_DLQ_URL, " ".into());
        let err = AwsSettings::from_lookup(|k| vars.get(k).cloned()).unwrap_err().to_string();
        assert!(err.contains("RINGHOOK_DELIVERIES_DLQ_URL is set but empty"), "{err}");
    }
}
