//! Destinations: where deliveries go. Two kinds —
//!
//! * an **HTTP destination**, the webhook of `/v1/webhooks` ([`crate::model::Webhook`]: URL, method,
//!   headers with `{id}`, auth none/Basic, accepted codes, retry policy, timeout, signing secret);
//! * an **SMS sender** of `/v1/sms-senders` ([`sms_senders::SmsSender`]: a Twilio account with a
//!   write-only auth token and an optional default From number).
//!
//! Products address deliveries to destinations (`DeliveryTarget`); [`request`] builds every
//! attempt's request from the destination and the delivery's rendered body. Twilio's status
//! callbacks for the SMS sent are recorded per attempt ([`sms_status`]).

pub mod request;
pub mod sms_senders;
pub mod sms_status;
pub mod templates;
pub mod twilio;
