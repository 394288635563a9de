//! The pipeline, written once against the ports: ingest → events queue → evaluate →
//! deliveries queue → deliver, with the scheduler sweeping the due-time index.
//! Lambda handlers and the local runner only move messages in and out of these functions.

pub mod consumer;
pub mod deliver;
pub mod evaluate;
pub mod ingest;
pub mod scheduler;

/// Why a message could not be handled. Both kinds leave the message on the queue (so it is
/// retried and, after the queue's max receives, dead-lettered); the kind is for logs.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("malformed message: {0}")]
    Malformed(String),
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
}

impl From<crate::ports::StoreError> for PipelineError {
    fn from(e: crate::ports::StoreError) -> Self {
        PipelineError::Unavailable(e.to_string())
    }
}

impl From<crate::ports::queue::QueueError> for PipelineError {
    fn from(e: crate::ports::queue::QueueError) -> Self {
        PipelineError::Unavailable(e.to_string())
    }
}

impl From<crate::ports::bus::BusError> for PipelineError {
    fn from(e: crate::ports::bus::BusError) -> Self {
        PipelineError::Unavailable(e.to_string())
    }
}
