//! An SQS-shaped queue: send (with delay up to 15 minutes), receive a batch under a visibility
//! timeout, delete, change visibility, and dead-letter after a number of receives.

use async_trait::async_trait;
use std::time::Duration;

pub const MAX_DELAY_SECS: u32 = 900;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueueName {
    /// Accepted events waiting for trigger evaluation.
    Events,
    /// Delivery attempts waiting to be sent.
    Deliveries,
}

impl QueueName {
    pub fn as_str(&self) -> &'static str {
        match self {
            QueueName::Events => "events",
            QueueName::Deliveries => "deliveries",
        }
    }
    pub fn all() -> [QueueName; 2] {
        [QueueName::Events, QueueName::Deliveries]
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutMessage {
    pub body: String,
    /// Capped at `MAX_DELAY_SECS`.
    pub delay_secs: u32,
}

impl OutMessage {
    pub fn now(body: impl Into<String>) -> Self {
        Self { body: body.into(), delay_secs: 0 }
    }
    pub fn delayed(body: impl Into<String>, delay_secs: u32) -> Self {
        Self { body: body.into(), delay_secs: delay_secs.min(MAX_DELAY_SECS) }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    /// Handle for delete / change_visibility of this receive.
    pub receipt: String,
    pub body: String,
    /// How many times the message has been received, this time included.
    pub receive_count: u32,
}

#[derive(Debug, thiserror::Error)]
#[error("queue unavailable: {0}")]
pub struct QueueError(pub String);

#[async_trait]
pub trait Queue: Send + Sync {
    async fn send(&self, queue: QueueName, messages: Vec<OutMessage>) -> Result<(), QueueError>;
    /// Up to `max` visible messages, hidden for `visibility_secs`; waits up to `wait` for one.
    async fn receive(
        &self,
        queue: QueueName,
        max: usize,
        visibility_secs: u32,
        wait: Duration,
    ) -> Result<Vec<Message>, QueueError>;
    async fn delete(&self, queue: QueueName, receipts: Vec<String>) -> Result<(), QueueError>;
    /// What a polling consumer does between batches: delete the messages it has handled, then
    /// receive the next batch. A backend may do both in one write (the embedded queue does: one
    /// commit instead of two per batch).
    async fn delete_and_receive(
        &self,
        queue: QueueName,
        done: Vec<String>,
        max: usize,
        visibility_secs: u32,
        wait: Duration,
    ) -> Result<Vec<Message>, QueueError> {
        if let Err(e) = self.delete(queue, done).await {
            tracing::error!(queue = queue.as_str(), error = %e, "delete failed; messages will be seen again");
        }
        self.receive(queue, max, visibility_secs, wait).await
    }
    async fn change_visibility(&self, queue: QueueName, receipt: &str, visibility_secs: u32) -> Result<(), QueueError>;
    /// Messages moved to the queue's dead-letter queue (read without removing).
    async fn dead_letters(&self, queue: QueueName, max: usize) -> Result<Vec<Message>, QueueError>;
    /// Looks at up to `max` dead letters of `queue` and moves those `keep` accepts (by body)
    /// back onto the queue as new messages, visible now with a fresh receive count; returns how
    /// many moved. The others stay dead. A move is at least once: a failure halfway (or two
    /// redrives at once) can leave a copy in both places.
    async fn redrive(&self, queue: QueueName, max: usize, keep: &Keep<'_>) -> Result<usize, QueueError>;
}

/// Which dead letters [`Queue::redrive`] moves back, by body.
pub type Keep<'a> = dyn Fn(&str) -> bool + Send + Sync + 'a;
