//! SMS messaging and delivery-status webhooks (the delivery-status seed): flows whose
//! completion sends SMS through the account's Twilio sender, a record of every SMS (length,
//! segments, cost, Twilio's statuses applied in order), webhook #1 when a flow completes and
//! webhook #2 when an SMS's delivery status is final, with the receiver's answer kept on the
//! record; recipients who opted out are never sent to.
//!
//! * Configuration: `/v1/account` (notifyOnDelivery, default webhook, time zone, SMS pricing,
//!   the Twilio sender), `/v1/flows` (SMS steps, the webhook switch), `/v1/contacts`, and
//!   `/v1/account/messaging` (the SMS-webhooks seed: where the inbound, unsubscribe, bounce,
//!   delivery report, contact status and rejection webhooks go; [`messaging`]).
//! * Inbound messages (opt-out, opt-in, help, replies; [`inbound`]) come through the seam's
//!   `on_inbound_sms`; `contact.status` events update contacts; sends of `/v1/messages` report
//!   once every SMS is final or after 24 hours ([`sends`]).
//! * `flow.completed` events are evaluated by [`flows::completed`]; Twilio's answers and status
//!   callbacks reach the records through the seam's `on_attempt` and `on_sms_status`
//!   ([`status`]); records with no final status after 12 hours come due and are looked up at
//!   Twilio once ([`status::look_up`]).

pub mod api;
pub mod body;
pub mod flows;
pub mod inbound;
pub mod keywords;
pub mod local_time;
pub mod messaging;
pub mod model;
pub mod segments;
pub mod sends;
pub mod status;
pub mod store;

use crate::app::App;
use crate::destinations::sms_status::SmsStatus;
use crate::error::PipelineError;
use crate::model::{Attempt, Delivery, Event};
use crate::ports::{Item, StoreError};
use crate::product::{Effects, Product};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

/// The product's name, on the deliveries it makes.
pub const NAME: &str = "sms";

/// What one of the product's deliveries is (`Delivery::context`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SendContext {
    /// An SMS of a flow.
    Sms {
        #[serde(rename = "smsId")]
        sms_id: String,
    },
    /// Webhook #1: the flow completed.
    FlowComplete {
        #[serde(rename = "flowId")]
        flow_id: u64,
    },
    /// Webhook #2: an SMS's delivery status is final.
    DeliveryStatus {
        #[serde(rename = "smsId")]
        sms_id: String,
    },
    /// One of the SMS webhooks of the message settings (inbound, bounce…).
    Messaging { webhook: String },
}

impl SendContext {
    pub fn of(d: &Delivery) -> Option<SendContext> {
        d.context.clone().and_then(|c| serde_json::from_value(c).ok())
    }
}

pub struct Sms;

#[async_trait]
impl Product for Sms {
    fn name(&self) -> &'static str {
        NAME
    }

    fn handles(&self, event_type: &str) -> bool {
        event_type == flows::FLOW_COMPLETED || event_type == inbound::CONTACT_STATUS
    }

    fn validate(&self, event_type: &str, payload: &Value) -> Result<(), String> {
        match event_type {
            inbound::CONTACT_STATUS => inbound::parse_status(payload).map(|_| ()),
            _ => flows::parse(payload).map(|_| ()),
        }
    }

    async fn on_event(&self, app: &App, event: &Event) -> Result<Effects, PipelineError> {
        let deliveries = if event.event_type == inbound::CONTACT_STATUS {
            inbound::contact_status(app, event).await?
        } else {
            match flows::parse(&event.payload) {
                Ok(c) => flows::completed(app, event, c).await?,
                Err(e) => {
                    // Checked on arrival, so only an event accepted by an older version gets here.
                    tracing::warn!(event = %event.id, error = %e, "flow.completed ignored");
                    vec![]
                }
            }
        };
        Ok(Effects { deliveries, bus_events: vec![] })
    }

    fn due_kinds(&self) -> &'static [&'static str] {
        &["SMSRECORD", "SEND"]
    }

    async fn on_due(&self, app: &App, item: Item, now_ms: i64) -> Result<Vec<Delivery>, PipelineError> {
        let ds = if item.pk.ends_with("#SEND") {
            sends::timed_out(app, item).await?
        } else {
            status::look_up(app, item, now_ms).await?
        };
        crate::repo::deliveries::create_many(app.store.as_ref(), ds).await.map_err(Into::into)
    }

    async fn check_send(&self, app: &App, delivery: &Delivery) -> Result<Option<String>, StoreError> {
        status::check_send(app, delivery).await
    }

    async fn on_attempt(&self, app: &App, delivery: &Delivery, attempt: &Attempt) -> Result<Effects, PipelineError> {
        status::on_attempt(app, delivery, attempt).await
    }

    async fn on_inbound_sms(
        &self,
        app: &App,
        tenant: &str,
        params: &[(String, String)],
    ) -> Result<Effects, PipelineError> {
        inbound::received(app, tenant, params).await
    }

    async fn on_sms_status(&self, app: &App, delivery: &Delivery, s: &SmsStatus) -> Result<Effects, PipelineError> {
        status::on_sms_status(app, delivery, s).await
    }

    fn routes(&self) -> axum::Router<Arc<App>> {
        api::routes()
    }

    fn openapi(&self) -> utoipa::openapi::OpenApi {
        <api::Doc as utoipa::OpenApi>::openapi()
    }
}
