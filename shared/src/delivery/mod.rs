//! Everything about sending one webhook: retry policies, signatures, SSRF rules, the HTTP sender.

pub mod retry;
pub mod sender;
pub mod signing;
pub mod ssrf;
