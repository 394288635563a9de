//! The event bus port on EventBridge: outcome events go to Ringhook's own bus with
//! `Source = ringhook`, `DetailType` = the event name and the tenant folded into the detail.

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_eventbridge::Client;
use serde_json::{Map, Value};
use std::sync::OnceLock;

use super::sdk_err;
use crate::ports::bus::{BusError, BusEvent, EventBus, SOURCE};

/// PutEvents takes at most 10 entries per call.
const PUT_EVENTS_MAX: usize = 10;

/// The client is built on the first publish, not at init: only two of the five functions
/// publish, and building an SDK client costs a cold start (its endpoint rules) whether or not it
/// is used.
pub struct EventBridgeBus {
    sdk: SdkConfig,
    client: OnceLock<Client>,
    bus_name: String,
}

impl EventBridgeBus {
    pub fn new(sdk: &SdkConfig, bus_name: impl Into<String>) -> Self {
        Self { sdk: sdk.clone(), client: OnceLock::new(), bus_name: bus_name.into() }
    }

    fn client(&self) -> &Client {
        self.client.get_or_init(|| Client::new(&self.sdk))
    }

    pub fn bus_name(&self) -> &str {
        &self.bus_name
    }
}

/// `{"tenantId": ..., ...detail}`: subscribers filter on the tenant with a plain detail pattern.
/// A non-object detail is kept whole under `"detail"`.
pub fn detail_json(event: &BusEvent) -> String {
    let mut m = Map::new();
    m.insert("tenantId".into(), Value::String(event.tenant_id.clone()));
    match &event.detail {
        Value::Object(d) => {
            for (k, v) in d {
                if k != "tenantId" {
                    m.insert(k.clone(), v.clone());
                }
            }
        }
        Value::Null => {}
        other => {
            m.insert("detail".into(), other.clone());
        }
    }
    Value::Object(m).to_string()
}

#[async_trait]
impl EventBus for EventBridgeBus {
    async fn publish(&self, events: Vec<BusEvent>) -> Result<(), BusError> {
        for chunk in events.chunks(PUT_EVENTS_MAX) {
            let entries: Vec<PutEventsRequestEntry> = chunk
                .iter()
                .map(|e| {
                    PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus_name)
                        .source(SOURCE)
                        .detail_type(&e.detail_type)
                        .detail(detail_json(e))
                        .build()
                })
                .collect();
            let out = self
                .client()
                .put_events()
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| BusError(format!("EventBridge PutEvents: {}", sdk_err(e))))?;
            if out.failed_entry_count() > 0 {
                let why: Vec<String> = out
                    .entries()
                    .iter()
                    .filter(|r| r.error_code().is_some())
                    .map(|r| {
                        format!("{}: {}", r.error_code().unwrap_or_default(), r.error_message().unwrap_or_default())
                    })
                    .collect();
                return Err(BusError(format!(
                    "EventBridge PutEvents: {} of {} entries failed: {}",
                    out.failed_entry_count(),
                    chunk.len(),
                    why.join("; ")
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn detail_carries_the_tenant() {
        let e = BusEvent {
            detail_type: "delivery.succeeded".into(),
            tenant_id: "t1".into(),
            detail: json!({"deliveryId": "d1", "tenantId": "spoofed"}),
        };
        let v: Value = serde_json::from_str(&detail_json(&e)).unwrap();
        assert_eq!(v, json!({"tenantId": "t1", "deliveryId": "d1"}));
        let e = BusEvent { detail: json!([1]), ..e };
        let v: Value = serde_json::from_str(&detail_json(&e)).unwrap();
        assert_eq!(v, json!({"tenantId": "t1", "detail": [1]}));
    }
}
