//! The v1 API, one module per resource.

pub mod admin;
pub mod deliveries;
pub mod events;
pub mod leads;
pub mod triggers;
pub mod webhooks;
