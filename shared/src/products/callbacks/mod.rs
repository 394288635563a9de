//! Callback notifications (the callback-notifications seed): confirmation, scheduled reminder,
//! ASAP reminder, final attempt, success and chose messaging, sent by Twilio SMS or webhook.
//!
//! * Configuration: call targets (`/v1/call-targets`: name, handle, message texts, dynamic text
//!   replacements, metadata) and connections (`/v1/connections`: one notification kind sent to one
//!   destination, an HTTP destination or an SMS sender).
//! * Callback events arrive through `POST /v1/events`; their payloads are checked on arrival
//!   and applied during evaluation ([`Callbacks`], the product's seam):
//!
//! | type                       | payload                                                                                      | effect |
//! |----------------------------|----------------------------------------------------------------------------------------------|--------|
//! | `callback.registered`      | `callbackId`, `callTargetId`, `customerNumber`, `type` (`asap`/`scheduled`), `scheduledTime` (scheduled) or `expectedCallbackTime` / `expectedWaitSeconds` (ASAP), `registeredAt`?, `metadata`?, `clientName`? | pending; confirmation; a reminder scheduled by the rules |
//! | `callback.chose_messaging` | `callbackId`? (else `callTargetId` + `customerNumber`), `metadata`?, `clientName`?            | leaves pending; chose-messaging notification |
//! | `callback.finalized`       | `callbackId`, `outcome` (`Success`/`Abandoned`/`Failure`/`Unavailable`/`Unknown`), `callTargetId`?, `customerNumber`?, `metadata`?, `clientName`? | finalized; success or final-attempt notification |
//! | `callback.cancelled`       | `callbackId`, `reason`?                                                                      | leaves pending; reminders dropped |
//! | `callback.in_progress`     | `callbackId`                                                                                 | leaves pending (the call is being made); reminders dropped |
//!
//! * Reminders wait in the store's due-time index (`{tenant}#REMINDER`) and are fired by the
//!   scheduler ([`reminders::fire`]).
//! * Deliveries go to the connection's destination (SMS: the seed's `single-retry` policy;
//!   webhooks: the webhook's policy, `single-retry` for one a connection defined inline), and
//!   are checked again before each attempt ([`notify::check_send`]).

pub mod api;
pub mod events;
pub mod model;
pub mod notify;
pub mod reminders;
pub mod render;
pub mod rules;
pub mod store;

use crate::app::App;
use crate::error::PipelineError;
use crate::model::{Delivery, Event};
use crate::ports::{Item, StoreError};
use crate::product::{Effects, Product};
use async_trait::async_trait;
use serde_json::Value;
use std::sync::Arc;

/// The product's name, on the deliveries it makes.
pub const NAME: &str = "callbacks";

pub struct Callbacks;

#[async_trait]
impl Product for Callbacks {
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

    /// Applies a callback event (state, reminders) and returns the notifications to deliver now.
    /// Idempotent: evaluating an event again changes nothing and returns the same deliveries.
    async fn on_event(&self, app: &App, event: &Event) -> Result<Effects, PipelineError> {
        let deliveries = match events::parse(&event.event_type, &event.payload) {
            None => vec![],
            Some(Err(e)) => {
                // Checked on arrival, so only an event accepted by an older version gets here.
                tracing::warn!(event = %event.id, r#type = %event.event_type, error = %e, "callback event ignored");
                vec![]
            }
            Some(Ok(parsed)) => events::handle(app, event, parsed).await?,
        };
        Ok(Effects { deliveries, bus_events: vec![] })
    }

    fn due_kinds(&self) -> &'static [&'static str] {
        &["REMINDER"]
    }

    async fn on_due(&self, app: &App, item: Item, now_ms: i64) -> Result<Vec<Delivery>, PipelineError> {
        reminders::fire(app, item, now_ms).await
    }

    async fn check_send(&self, app: &App, delivery: &Delivery) -> Result<Option<String>, StoreError> {
        notify::check_send(app, delivery).await
    }

    fn routes(&self) -> axum::Router<Arc<App>> {
        api::routes()
    }

    fn openapi(&self) -> utoipa::openapi::OpenApi {
        <api::Doc as utoipa::OpenApi>::openapi()
    }
}
