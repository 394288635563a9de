//! Call tracking (the call-tracking seed): webhooks whose bodies are the receiver's own JSON or
//! XML templates (`destinations::templates`), enabled on campaigns, DNI campaigns and call
//! treatment options, sent at the beginning or at the end of each call.
//!
//! * Configuration: locations (`/v1/locations`: the `location_info` data), campaigns
//!   (`/v1/campaigns`: tracking numbers, tags), DNI campaigns (`/v1/dni-campaigns`: domains) and
//!   call treatments (`/v1/call-treatments`: IVR options), each selecting webhooks with
//!   `sendAt` `begin` or `end`.
//! * `call.begin` / `call.end` events arrive through `POST /v1/events` with the call's data
//!   points by token name ([`events`]); each becomes one delivery per enabled webhook.

pub mod api;
pub mod events;
pub mod model;
pub mod store;

use crate::app::App;
use crate::error::PipelineError;
use crate::model::Event;
use crate::product::{Effects, Product};
use async_trait::async_trait;
use serde_json::Value;
use std::sync::Arc;

/// The product's name, on the deliveries it makes.
pub const NAME: &str = "call_tracking";

pub struct CallTracking;

#[async_trait]
impl Product for CallTracking {
    fn name(&self) -> &'static str {
        NAME
    }

    fn handles(&self, event_type: &str) -> bool {
        events::EVENT_TYPES.contains(&event_type)
    }

    fn validate(&self, event_type: &str, payload: &Value) -> Result<(), String> {
        match events::parse(event_type, payload) {
            Some(Err(e)) => Err(e),
            _ => Ok(()),
        }
    }

    async fn on_event(&self, app: &App, event: &Event) -> Result<Effects, PipelineError> {
        let deliveries = match events::parse(&event.event_type, &event.payload) {
            None => vec![],
            Some(Err(e)) => {
                // Checked on arrival, so only an event accepted by an older version gets here.
                tracing::warn!(event = %event.id, r#type = %event.event_type, error = %e, "call event ignored");
                vec![]
            }
            Some(Ok(call)) => events::deliveries(app, event, call).await?,
        };
        Ok(Effects { deliveries, bus_events: vec![] })
    }

    fn routes(&self) -> axum::Router<Arc<App>> {
        api::routes()
    }

    fn openapi(&self) -> utoipa::openapi::OpenApi {
        use utoipa::OpenApi;
        api::Doc::openapi()
    }
}
