//! The v1 API of the pipeline and the destinations, one module per resource (each product adds
//! its own routes through the product seam).

pub mod admin;
pub mod deliveries;
pub mod events;
pub mod outcome_events;
pub mod signing_secret;
pub mod sms_senders;
pub mod stats;
pub mod templates;
pub mod twilio;
pub mod webhooks;
