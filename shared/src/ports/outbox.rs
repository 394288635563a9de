//! Queue messages followed by item writes that depend on them being queued (an event's id is
//! recorded only once the event is on the queue). Offered by a backend that can make both in
//! one commit — the embedded one, whose queue and items share one SQLite database. Without it
//! the caller sends, then writes: the same order, in two round trips (SQS, then DynamoDB).

use super::queue::{OutMessage, QueueName};
use super::store::{Condition, Item, StoreError};
use async_trait::async_trait;

#[async_trait]
pub trait Outbox: Send + Sync {
    /// Sends `messages` to `queue` and makes `writes`, each on its own condition, in one
    /// commit: all of it or none. Returns, per write, whether its condition held (a write whose
    /// condition failed is skipped; the rest still happen).
    async fn send_then_put(
        &self,
        queue: QueueName,
        messages: Vec<OutMessage>,
        writes: Vec<(Item, Condition)>,
    ) -> Result<Vec<bool>, StoreError>;
}
