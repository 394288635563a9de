//! Moving messages between a queue and a handler: the local runner's polling loops, and the
//! same per-message contract Lambda's SQS handlers use (failed messages stay on the queue).

use super::{deliver, evaluate, Pipeline, PipelineError};
use crate::model::Event;
use crate::ports::{Message, QueueName};
use std::time::Duration;

/// Visibility timeout for received messages: longer than the slowest attempt (30 s timeout).
pub const VISIBILITY_SECS: u32 = 60;

/// Handles a batch of messages from `queue`; returns the ids of the messages that failed.
pub async fn handle_batch(app: &Pipeline, queue: QueueName, messages: &[(String, String)]) -> Vec<String> {
    match queue {
        QueueName::Events => handle_events(app, messages).await,
        QueueName::Deliveries => handle_deliveries(app, messages).await,
    }
}

/// [`handle_batch`] for the events queue: each function calls the one for its queue, so the
/// `evaluate` bootstrap does not link the delivery path. A batch's events mostly read the same
/// items (a tenant's webhooks), so the batch reads each key once.
pub async fn handle_events(app: &Pipeline, messages: &[(String, String)]) -> Vec<String> {
    let app = &app.for_batch();
    let mut results: Vec<Option<Result<(), PipelineError>>> = Vec::with_capacity(messages.len());
    let mut parsed = Vec::new();
    for (_, body) in messages {
        match serde_json::from_str::<Event>(body) {
            Ok(e) => {
                parsed.push(e);
                results.push(None);
            }
            Err(e) => results.push(Some(Err(PipelineError::Malformed(e.to_string())))),
        }
    }
    let mut evaluated = evaluate::evaluate_batch(app, &parsed).await.into_iter();
    let results = results.into_iter().map(|r| r.unwrap_or_else(|| evaluated.next().expect("one result per event")));
    failed_ids(QueueName::Events, messages, results.collect())
}

/// [`handle_batch`] for the deliveries queue.
pub async fn handle_deliveries(app: &Pipeline, messages: &[(String, String)]) -> Vec<String> {
    let app = &app.for_batch();
    let results = futures::future::join_all(messages.iter().map(|(_, body)| deliver::process_message(app, body))).await;
    failed_ids(QueueName::Deliveries, messages, results)
}

fn failed_ids(queue: QueueName, messages: &[(String, String)], results: Vec<Result<(), PipelineError>>) -> Vec<String> {
    messages
        .iter()
        .zip(results)
        .filter_map(|((id, _), r)| match r {
            Ok(()) => None,
            Err(e) => {
                tracing::warn!(queue = queue.as_str(), message = %id, error = %e, "message failed; it stays on the queue");
                Some(id.clone())
            }
        })
        .collect()
}

/// Receives from `queue` until `stop` fires, handling up to `batch` messages at a time. The
/// messages a batch handled are deleted with the next receive (one write, where the backend
/// can: see `Queue::delete_and_receive`).
pub async fn run_loop(app: Pipeline, queue: QueueName, batch: usize, stop: tokio::sync::watch::Receiver<bool>) {
    let mut done: Vec<String> = Vec::new();
    while !*stop.borrow() {
        let received = app
            .queue
            .delete_and_receive(queue, std::mem::take(&mut done), batch, VISIBILITY_SECS, Duration::from_millis(500))
            .await;
        let msgs: Vec<Message> = match received {
            Ok(m) => m,
            Err(e) => {
                // The handled messages were not deleted: they come back after their visibility
                // timeout and are handled again, which acts once.
                tracing::error!(queue = queue.as_str(), error = %e, "receive failed");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        if msgs.is_empty() {
            continue;
        }
        let pairs: Vec<(String, String)> = msgs.iter().map(|m| (m.id.clone(), m.body.clone())).collect();
        let failed = handle_batch(&app, queue, &pairs).await;
        done = msgs.iter().filter(|m| !failed.contains(&m.id)).map(|m| m.receipt.clone()).collect();
    }
    if !done.is_empty() {
        if let Err(e) = app.queue.delete(queue, done).await {
            tracing::error!(queue = queue.as_str(), error = %e, "delete failed; messages will be seen again");
        }
    }
}
