//! The v1 API, one module per resource.

pub mod admin;
pub mod call_targets;
pub mod callbacks;
pub mod connections;
pub mod deliveries;
pub mod events;
pub mod leads;
pub mod signing_secret;
pub mod triggers;
pub mod twilio;
pub mod webhooks;
