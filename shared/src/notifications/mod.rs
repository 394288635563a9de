//! Callback notifications (the callback-notifications seed): confirmation, scheduled reminder,
//! ASAP reminder, final attempt, success and chose messaging, sent by Twilio SMS or webhook.
//!
//! * Configuration: call targets (`/v1/call-targets`: name, handle, message texts, dynamic text
//!   replacements, metadata) and connections (`/v1/connections`: one notification kind over one
//!   channel, Twilio or webhook).
//! * Callback events arrive through `POST /v1/events`; their payloads are checked on arrival
//!   ([`validate_event`]) and applied during evaluation ([`on_event`]):
//!
//! | type                       | payload                                                                                      | effect |
//! |----------------------------|----------------------------------------------------------------------------------------------|--------|
//! | `callback.registered`      | `callbackId`, `callTargetId`, `customerNumber`, `type` (`asap`/`scheduled`), `scheduledTime` (scheduled) or `expectedCallbackTime` / `expectedWaitSeconds` (ASAP), `registeredAt`?, `metadata`?, `clientName`? | pending; confirmation; a reminder scheduled by the rules |
//! | `callback.chose_messaging` | `callbackId`? (else `callTargetId` + `customerNumber`), `metadata`?, `clientName`?            | leaves pending; chose-messaging notification |
//! | `callback.finalized`       | `callbackId`, `outcome` (`Success`/`Abandoned`/`Failure`/`Unavailable`/`Unknown`), `callTargetId`?, `customerNumber`?, `metadata`?, `clientName`? | finalized; success or final-attempt notification |
//! | `callback.cancelled`       | `callbackId`, `reason`?                                                                      | leaves pending; reminders dropped |
//! | `callback.in_progress`     | `callbackId`                                                                                 | leaves pending (the call is being made); reminders dropped |
//!
//! * Reminders wait in the store's due-time index and are fired by the scheduler
//!   ([`reminders::fire`]).
//! * Deliveries use the `single-retry` policy (the seed's error rules) and are sent by the
//!   delivery worker through [`prepare_connection`].

pub mod callbacks;
pub mod model;
pub mod notify;
pub mod reminders;
pub mod render;
pub mod rules;
pub mod sms;
pub mod store;
pub mod twilio;

pub use notify::prepare_connection;

use crate::app::App;
use crate::error::ApiError;
use crate::model::{Delivery, Event};
use crate::pipeline::PipelineError;
use serde_json::Value;

/// Whether `on_event` acts on this event type.
pub fn handles(event_type: &str) -> bool {
    callbacks::EVENT_TYPES.contains(&event_type)
}

/// Checks a callback event's payload when the event is accepted; other event types pass.
/// `at` names the event in the error (`event`, `events[3]`).
pub fn validate_event(event_type: &str, payload: &Value, at: &str) -> Result<(), ApiError> {
    match callbacks::parse(event_type, payload) {
        Some(Err(e)) => Err(ApiError::unprocessable("invalid event", format!("{at}.payload.{e}"))),
        _ => Ok(()),
    }
}

/// Applies a callback event (state, reminders) and returns the notifications to deliver now;
/// the caller creates and queues them. Idempotent: evaluating an event again changes nothing
/// and returns the same deliveries (same ids).
pub async fn on_event(app: &App, event: &Event) -> Result<Vec<Delivery>, PipelineError> {
    match callbacks::parse(&event.event_type, &event.payload) {
        None => Ok(vec![]),
        Some(Err(e)) => {
            // Checked on arrival, so only an event accepted by an older version gets here.
            tracing::warn!(event = %event.id, r#type = %event.event_type, error = %e, "callback event ignored");
            Ok(vec![])
        }
        Some(Ok(parsed)) => callbacks::handle(app, event, parsed).await,
    }
}
