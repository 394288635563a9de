//! The queue port on SQS: one standard queue per `QueueName`, each with a dead-letter queue that
//! SQS itself fills through the queue's redrive policy (`maxReceiveCount` in the SAM template).

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry, MessageSystemAttributeName,
    SendMessageBatchRequestEntry,
};
use aws_sdk_sqs::Client;

use super::sdk_err;
use crate::ports::queue::{Keep, Message, OutMessage, Queue, QueueError, QueueName, MAX_DELAY_SECS};

/// SQS batch APIs take at most 10 entries.
const BATCH_MAX: usize = 10;
/// SendMessageBatch caps the whole request payload at 256 KiB; stay under it with some margin.
const BATCH_MAX_BYTES: usize = 250 * 1024;
/// SQS long polling waits at most 20 s.
const MAX_WAIT_SECS: u64 = 20;
/// SQS visibility timeouts are at most 12 hours.
const MAX_VISIBILITY_SECS: u32 = 43_200;
const SEND_ATTEMPTS: u32 = 3;
/// How long `dead_letters` hides a message while paging through a dead-letter queue.
const DLQ_PEEK_SECS: u32 = 5;

/// Queue URLs (as the SAM template outputs them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueUrls {
    pub events: String,
    pub deliveries: String,
    pub events_dlq: String,
    pub deliveries_dlq: String,
}

pub struct SqsQueue {
    client: Client,
    urls: QueueUrls,
}

impl SqsQueue {
    pub fn new(sdk: &SdkConfig, urls: QueueUrls) -> Self {
        Self { client: Client::new(sdk), urls }
    }

    pub fn url(&self, queue: QueueName) -> &str {
        match queue {
            QueueName::Events => &self.urls.events,
            QueueName::Deliveries => &self.urls.deliveries,
        }
    }

    pub fn dlq_url(&self, queue: QueueName) -> &str {
        match queue {
            QueueName::Events => &self.urls.events_dlq,
            QueueName::Deliveries => &self.urls.deliveries_dlq,
        }
    }

    /// One ReceiveMessage call.
    async fn receive_once(
        &self,
        url: &str,
        max: usize,
        visibility_secs: u32,
        wait_secs: u64,
    ) -> Result<Vec<Message>, QueueError> {
        let out = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(max.clamp(1, BATCH_MAX) as i32)
            .visibility_timeout(visibility_secs.min(MAX_VISIBILITY_SECS) as i32)
            .wait_time_seconds(wait_secs.min(MAX_WAIT_SECS) as i32)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| QueueError(format!("SQS ReceiveMessage: {}", sdk_err(e))))?;
        let mut msgs = Vec::new();
        for m in out.messages() {
            let (Some(id), Some(receipt)) = (m.message_id(), m.receipt_handle()) else {
                return Err(QueueError("SQS returned a message without id or receipt".into()));
            };
            let receive_count = m
                .attributes()
                .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                .and_then(|v| v.parse().ok())
                .unwrap_or(1);
            msgs.push(Message {
                id: id.to_string(),
                receipt: receipt.to_string(),
                body: m.body().unwrap_or_default().to_string(),
                receive_count,
            });
        }
        Ok(msgs)
    }

    /// Makes received messages visible again at once. Best effort: if this fails they
    /// reappear after their visibility timeout anyway.
    async fn show_again(&self, url: &str, msgs: &[Message]) {
        for chunk in msgs.chunks(BATCH_MAX) {
            let entries: Result<Vec<_>, _> = chunk
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(&m.receipt)
                        .visibility_timeout(0)
                        .build()
                })
                .collect();
            let Ok(entries) = entries else { continue };
            if let Err(e) =
                self.client.change_message_visibility_batch().queue_url(url).set_entries(Some(entries)).send().await
            {
                tracing::warn!(error = %sdk_err(e), "could not make received dead letters visible again");
            }
        }
    }

    /// DeleteMessageBatch on `url`, ten at a time.
    async fn delete_at(&self, url: &str, receipts: &[String]) -> Result<(), QueueError> {
        for chunk in receipts.chunks(BATCH_MAX) {
            let mut entries = Vec::with_capacity(chunk.len());
            for (i, r) in chunk.iter().enumerate() {
                entries.push(
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(r)
                        .build()
                        .map_err(|e| QueueError(format!("building SQS entry: {e}")))?,
                );
            }
            let out = self
                .client
                .delete_message_batch()
                .queue_url(url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| QueueError(format!("SQS DeleteMessageBatch: {}", sdk_err(e))))?;
            if !out.failed().is_empty() {
                let why: Vec<String> = out
                    .failed()
                    .iter()
                    .map(|f| format!("{} ({})", f.code(), f.message().unwrap_or_default()))
                    .collect();
                return Err(QueueError(format!(
                    "SQS DeleteMessageBatch: {} deletes failed: {}",
                    why.len(),
                    why.join("; ")
                )));
            }
        }
        Ok(())
    }
}

/// Splits messages into SendMessageBatch-sized groups (count and payload size).
fn send_batches(messages: Vec<OutMessage>) -> Vec<Vec<OutMessage>> {
    let mut batches: Vec<Vec<OutMessage>> = Vec::new();
    let mut bytes = 0;
    for m in messages {
        let len = m.body.len();
        match batches.last_mut() {
            Some(b) if b.len() < BATCH_MAX && bytes + len <= BATCH_MAX_BYTES => {
                bytes += len;
                b.push(m);
            }
            _ => {
                bytes = len;
                batches.push(vec![m]);
            }
        }
    }
    batches
}

/// Whole seconds for SQS's WaitTimeSeconds, rounding a partial second up so a short wait
/// still long-polls instead of degrading to a (sampled, possibly empty) short poll.
fn wait_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.min(MAX_WAIT_SECS)
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send(&self, queue: QueueName, messages: Vec<OutMessage>) -> Result<(), QueueError> {
        let url = self.url(queue);
        for batch in send_batches(messages) {
            let mut pending: Vec<(String, OutMessage)> =
                batch.into_iter().enumerate().map(|(i, m)| (i.to_string(), m)).collect();
            let mut attempt = 0;
            while !pending.is_empty() {
                attempt += 1;
                let mut entries = Vec::with_capacity(pending.len());
                for (id, m) in &pending {
                    entries.push(
                        SendMessageBatchRequestEntry::builder()
                            .id(id)
                            .message_body(&m.body)
                            .delay_seconds(m.delay_secs.min(MAX_DELAY_SECS) as i32)
                            .build()
                            .map_err(|e| QueueError(format!("building SQS entry: {e}")))?,
                    );
                }
                let out = self
                    .client
                    .send_message_batch()
                    .queue_url(url)
                    .set_entries(Some(entries))
                    .send()
                    .await
                    .map_err(|e| QueueError(format!("SQS SendMessageBatch: {}", sdk_err(e))))?;
                let failed = out.failed();
                if failed.is_empty() {
                    break;
                }
                // Sender faults will fail again; server-side ones are worth another try.
                if attempt >= SEND_ATTEMPTS || failed.iter().any(|f| f.sender_fault()) {
                    let why: Vec<String> =
                        failed.iter().map(|f| format!("{} ({})", f.code(), f.message().unwrap_or_default())).collect();
                    return Err(QueueError(format!(
                        "SQS SendMessageBatch: {} of the messages failed: {}",
                        failed.len(),
                        why.join("; ")
                    )));
                }
                let failed_ids: HashSet<&str> = failed.iter().map(|f| f.id()).collect();
                pending.retain(|(id, _)| failed_ids.contains(id.as_str()));
                tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
            }
        }
        Ok(())
    }

    async fn receive(
        &self,
        queue: QueueName,
        max: usize,
        visibility_secs: u32,
        wait: Duration,
    ) -> Result<Vec<Message>, QueueError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let url = self.url(queue);
        let mut out = self.receive_once(url, max, visibility_secs, wait_secs(wait)).await?;
        // Fill up to `max` only while messages keep arriving; never wait again.
        while out.len() < max {
            let more = self.receive_once(url, max - out.len(), visibility_secs, 0).await?;
            if more.is_empty() {
                break;
            }
            out.extend(more);
        }
        Ok(out)
    }

    async fn delete(&self, queue: QueueName, receipts: Vec<String>) -> Result<(), QueueError> {
        self.delete_at(self.url(queue), &receipts).await
    }

    async fn change_visibility(&self, queue: QueueName, receipt: &str, visibility_secs: u32) -> Result<(), QueueError> {
        self.client
            .change_message_visibility()
            .queue_url(self.url(queue))
            .receipt_handle(receipt)
            .visibility_timeout(visibility_secs.min(MAX_VISIBILITY_SECS) as i32)
            .send()
            .await
            .map_err(|e| QueueError(format!("SQS ChangeMessageVisibility: {}", sdk_err(e))))?;
        Ok(())
    }

    async fn dead_letters(&self, queue: QueueName, max: usize) -> Result<Vec<Message>, QueueError> {
        let url = self.dlq_url(queue);
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        // A short visibility hides what was already read so the next call can page past it
        // (with visibility 0 SQS may hand back the same messages forever); afterwards the
        // messages are made visible again, so reading never consumes them.
        while out.len() < max {
            let batch = self.receive_once(url, max - out.len(), DLQ_PEEK_SECS, 0).await?;
            let before = out.len();
            for m in batch {
                if seen.insert(m.id.clone()) {
                    out.push(m);
                }
            }
            if out.len() == before {
                break;
            }
        }
        out.truncate(max);
        self.show_again(url, &out).await;
        Ok(out)
    }

    async fn redrive(&self, queue: QueueName, max: usize, keep: &Keep<'_>) -> Result<usize, QueueError> {
        let dlq = self.dlq_url(queue);
        let (mut moved, mut looked, mut stays) = (0, 0, Vec::new());
        // Hidden while being looked at (so the next receive pages past them); what stays is
        // shown again at the end.
        while looked < max {
            let batch = self.receive_once(dlq, (max - looked).min(BATCH_MAX), DLQ_PEEK_SECS, 0).await?;
            looked += batch.len();
            let full = batch.len() == BATCH_MAX;
            let (back, stay): (Vec<Message>, Vec<Message>) = batch.into_iter().partition(|m| keep(&m.body));
            stays.extend(stay);
            if !back.is_empty() {
                // Sent before deleted: a failure in between leaves a copy in both (at least once).
                self.send(queue, back.iter().map(|m| OutMessage::now(m.body.clone())).collect()).await?;
                let receipts: Vec<String> = back.iter().map(|m| m.receipt.clone()).collect();
                self.delete_at(dlq, &receipts).await?;
                moved += back.len();
            }
            if !full {
                break;
            }
        }
        self.show_again(dlq, &stays).await;
        Ok(moved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_respect_count_and_size() {
        let small: Vec<OutMessage> = (0..23).map(|i| OutMessage::now(format!("m{i}"))).collect();
        let b = send_batches(small);
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), vec![10, 10, 3]);
        let big: Vec<OutMessage> = (0..3).map(|_| OutMessage::now("x".repeat(100 * 1024))).collect();
        assert_eq!(send_batches(big).iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 1]);
        assert!(send_batches(Vec::new()).is_empty());
    }

    #[test]
    fn waits_round_up_to_whole_seconds() {
        assert_eq!(wait_secs(Duration::ZERO), 0);
        assert_eq!(wait_secs(Duration::from_millis(200)), 1);
        assert_eq!(wait_secs(Duration::from_secs(2)), 2);
        assert_eq!(wait_secs(Duration::from_secs(60)), 20);
    }
}
