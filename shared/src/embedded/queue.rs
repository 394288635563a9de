//! `Queue` on SQLite with SQS's semantics: delays, visibility timeouts, receive counts and a
//! dead-letter state after `max_receives`. Time comes from the clock port, so tests that move
//! the clock see delayed and invisible messages come back.

use super::db::{Db, DbError};
use super::store::{put_if, Encoded};
use crate::ports::queue::{Keep, Message, OutMessage, Queue, QueueError, QueueName};
use crate::ports::{Clock, Condition, Item, Outbox, StoreError};
use async_trait::async_trait;
use rusqlite::params;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// How often a waiting receive looks again for messages that became visible by time passing.
const POLL: Duration = Duration::from_millis(50);

#[derive(Clone)]
pub struct SqliteQueue {
    db: Db,
    clock: Arc<dyn Clock>,
    max_receives: u32,
    /// One per queue: a send wakes one waiting receiver of that queue (not every receiver of
    /// every queue, each of which would then run an empty claim through the writer).
    notify: Arc<[Notify; 2]>,
}

fn err(e: DbError) -> QueueError {
    QueueError(e.to_string())
}

fn insert_messages(
    c: &rusqlite::Connection,
    queue: &str,
    messages: &[OutMessage],
    now_ms: i64,
) -> rusqlite::Result<()> {
    let mut stmt = c.prepare_cached("INSERT INTO queue_messages (queue, body, visible_at) VALUES (?1, ?2, ?3)")?;
    for m in messages {
        stmt.execute(params![queue, m.body, now_ms + i64::from(m.delay_secs.min(900)) * 1000])?;
    }
    Ok(())
}

impl SqliteQueue {
    /// `max_receives`: like SQS's `maxReceiveCount`, the receive after that many moves the
    /// message to the dead-letter state instead of returning it.
    pub fn new(db: Db, clock: Arc<dyn Clock>, max_receives: u32) -> Self {
        Self { db, clock, max_receives, notify: Arc::new([Notify::new(), Notify::new()]) }
    }

    fn notify(&self, queue: QueueName) -> &Notify {
        match queue {
            QueueName::Events => &self.notify[0],
            QueueName::Deliveries => &self.notify[1],
        }
    }

    /// Makes every in-flight message visible again. Only for a process that owns the file
    /// alone (the local runner at start-up): the consumers that held them are gone.
    pub async fn release_in_flight(&self) -> Result<usize, QueueError> {
        let now = self.clock.now_ms();
        self.db
            .write(move |c| {
                c.execute(
                    "UPDATE queue_messages SET visible_at = ?1 WHERE dead = 0 AND receipt IS NOT NULL AND visible_at > ?1",
                    [now],
                )
            })
            .await
            .map_err(err)
    }

    /// Messages waiting (visible or not), per queue: for status pages and tests.
    pub async fn depth(&self, queue: QueueName) -> Result<u64, QueueError> {
        let q = queue.as_str();
        self.db
            .read(move |c| {
                c.query_row("SELECT COUNT(*) FROM queue_messages WHERE queue = ?1 AND dead = 0", [q], |r| {
                    r.get::<_, i64>(0)
                })
            })
            .await
            .map(|n| n as u64)
            .map_err(err)
    }

    /// Deletes `done` (receipts) and claims up to `max` visible messages, in one write. With
    /// nothing to delete, a read looks first: an empty claim does not go through the writer.
    async fn claim(
        &self,
        queue: QueueName,
        done: Vec<String>,
        max: usize,
        visibility_secs: u32,
    ) -> Result<Vec<Message>, QueueError> {
        let now = self.clock.now_ms();
        let q = queue.as_str();
        if done.is_empty() {
            let any = self
                .db
                .read_inline(move |c| {
                    c.prepare_cached(
                        "SELECT EXISTS (SELECT 1 FROM queue_messages WHERE queue = ?1 AND dead = 0 AND visible_at <= ?2)",
                    )?
                    .query_row(params![q, now], |r| r.get::<_, bool>(0))
                })
                .await
                .map_err(err)?;
            if !any {
                return Ok(Vec::new());
            }
        }
        let max_receives = self.max_receives;
        let visible_at = now + i64::from(visibility_secs) * 1000;
        self.db
            .write(move |c| {
                delete_receipts(c, &done)?;
                let mut select = c.prepare_cached(
                    "SELECT id, body, receive_count FROM queue_messages \
                     WHERE queue = ?1 AND dead = 0 AND visible_at <= ?2 ORDER BY visible_at, id LIMIT ?3",
                )?;
                let candidates: Vec<(i64, String, u32)> = select
                    .query_map(params![q, now, max as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect::<rusqlite::Result<_>>()?;
                let mut out = Vec::with_capacity(candidates.len());
                for (id, body, count) in candidates {
                    if count >= max_receives {
                        c.prepare_cached("UPDATE queue_messages SET dead = 1, receipt = NULL WHERE id = ?1")?
                            .execute([id])?;
                        continue;
                    }
                    let receive_count = count + 1;
                    let receipt = format!("{id}:{receive_count}");
                    c.prepare_cached(
                        "UPDATE queue_messages SET receive_count = ?2, visible_at = ?3, receipt = ?4 WHERE id = ?1",
                    )?
                    .execute(params![id, receive_count, visible_at, receipt])?;
                    out.push(Message { id: id.to_string(), receipt, body, receive_count });
                }
                Ok(out)
            })
            .await
            .map_err(err)
    }

    async fn receive_after(
        &self,
        queue: QueueName,
        mut done: Vec<String>,
        max: usize,
        visibility_secs: u32,
        wait: Duration,
    ) -> Result<Vec<Message>, QueueError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Register interest before looking, so a send between the look and the wait wakes us
            // (a notify_one with nobody waiting is kept for the next waiter).
            let notified = self.notify(queue).notified();
            let got = self.claim(queue, std::mem::take(&mut done), max, visibility_secs).await?;
            if !got.is_empty() {
                // A full batch: there may be more, so pass the wake-up on to another receiver.
                if got.len() >= max {
                    self.notify(queue).notify_one();
                }
                return Ok(got);
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(got);
            }
            let _ = tokio::time::timeout(POLL.min(deadline - now), notified).await;
        }
    }
}

fn delete_receipts(c: &rusqlite::Connection, receipts: &[String]) -> rusqlite::Result<()> {
    if receipts.is_empty() {
        return Ok(());
    }
    let mut stmt = c.prepare_cached("DELETE FROM queue_messages WHERE id = ?1 AND receipt = ?2")?;
    for r in receipts {
        if let Some((id, _)) = r.split_once(':') {
            stmt.execute(params![id, r])?;
        }
    }
    Ok(())
}

#[async_trait]
impl Queue for SqliteQueue {
    async fn send(&self, queue: QueueName, messages: Vec<OutMessage>) -> Result<(), QueueError> {
        if messages.is_empty() {
            return Ok(());
        }
        let now = self.clock.now_ms();
        let q = queue.as_str();
        self.db.write(move |c| insert_messages(c, q, &messages, now)).await.map_err(err)?;
        self.notify(queue).notify_one();
        Ok(())
    }

    async fn receive(
        &self,
        queue: QueueName,
        max: usize,
        visibility_secs: u32,
        wait: Duration,
    ) -> Result<Vec<Message>, QueueError> {
        self.receive_after(queue, Vec::new(), max, visibility_secs, wait).await
    }

    async fn delete_and_receive(
        &self,
        queue: QueueName,
        done: Vec<String>,
        max: usize,
        visibility_secs: u32,
        wait: Duration,
    ) -> Result<Vec<Message>, QueueError> {
        self.receive_after(queue, done, max, visibility_secs, wait).await
    }

    async fn delete(&self, _queue: QueueName, receipts: Vec<String>) -> Result<(), QueueError> {
        if receipts.is_empty() {
            return Ok(());
        }
        self.db.write(move |c| delete_receipts(c, &receipts)).await.map_err(err)
    }

    async fn change_visibility(&self, queue: QueueName, receipt: &str, visibility_secs: u32) -> Result<(), QueueError> {
        let Some((id, _)) = receipt.split_once(':') else {
            return Err(QueueError(format!("malformed receipt {receipt:?}")));
        };
        let (id, receipt) = (id.to_string(), receipt.to_string());
        let visible_at = self.clock.now_ms() + i64::from(visibility_secs) * 1000;
        self.db
            .write(move |c| {
                c.execute(
                    "UPDATE queue_messages SET visible_at = ?1 WHERE id = ?2 AND receipt = ?3 AND dead = 0",
                    params![visible_at, id, receipt],
                )
            })
            .await
            .map_err(err)?;
        self.notify(queue).notify_one();
        Ok(())
    }

    async fn dead_letters(&self, queue: QueueName, max: usize) -> Result<Vec<Message>, QueueError> {
        let q = queue.as_str();
        self.db
            .read(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT id, body, receive_count FROM queue_messages WHERE queue = ?1 AND dead = 1 ORDER BY id LIMIT ?2",
                )?;
                let rows = stmt.query_map(params![q, max as i64], |r| {
                    let id: i64 = r.get(0)?;
                    Ok(Message { id: id.to_string(), receipt: String::new(), body: r.get(1)?, receive_count: r.get(2)? })
                })?;
                rows.collect()
            })
            .await
            .map_err(err)
    }

    async fn redrive(&self, queue: QueueName, max: usize, keep: &Keep<'_>) -> Result<usize, QueueError> {
        let dead = self.dead_letters(queue, max).await?;
        let ids: Vec<i64> = dead.iter().filter(|m| keep(&m.body)).filter_map(|m| m.id.parse().ok()).collect();
        if ids.is_empty() {
            return Ok(0);
        }
        let now = self.clock.now_ms();
        let moved = self
            .db
            .write(move |c| {
                let mut stmt = c.prepare_cached(
                    "UPDATE queue_messages SET dead = 0, receive_count = 0, receipt = NULL, visible_at = ?2 \
                     WHERE id = ?1 AND dead = 1",
                )?;
                let mut moved = 0;
                for id in &ids {
                    moved += stmt.execute(params![id, now])?;
                }
                Ok(moved)
            })
            .await
            .map_err(err)?;
        self.notify(queue).notify_one();
        Ok(moved)
    }
}

/// The queue's messages and the items' writes share the database: one job, one commit.
#[async_trait]
impl Outbox for SqliteQueue {
    async fn send_then_put(
        &self,
        queue: QueueName,
        messages: Vec<OutMessage>,
        writes: Vec<(Item, Condition)>,
    ) -> Result<Vec<bool>, StoreError> {
        let now_ms = self.clock.now_ms();
        let now_secs = self.clock.now_secs();
        let q = queue.as_str();
        let writes: Vec<(Encoded, Condition)> = writes.into_iter().map(|(i, c)| (Encoded::from(i), c)).collect();
        let sent = !messages.is_empty();
        let held = self
            .db
            .write(move |c| {
                insert_messages(c, q, &messages, now_ms)?;
                writes.iter().map(|(item, cond)| put_if(c, item, *cond, now_secs)).collect()
            })
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        if sent {
            self.notify(queue).notify_one();
        }
        Ok(held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::SqliteStore;
    use crate::ports::{ItemStore, ManualClock};
    use serde_json::json;

    #[tokio::test]
    async fn the_outbox_queues_and_writes_in_one_commit_skipping_only_a_failed_condition() {
        let dir = std::env::temp_dir().join(format!("ringhook-outbox-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let db = Db::open_dir(&dir).unwrap();
        let clock = Arc::new(ManualClock::new(1_700_000_000_000));
        let queue = Arc::new(SqliteQueue::new(db.clone(), clock.clone(), 5));
        let store = SqliteStore::new(db, clock);
        store.put(Item::new("t#EVENT", "seen", json!({"n": 0})), Condition::NotExists).await.unwrap();

        // A receiver already waiting gets the messages.
        let waiting = {
            let q = queue.clone();
            tokio::spawn(async move { q.receive(QueueName::Events, 10, 30, Duration::from_secs(5)).await })
        };
        tokio::task::yield_now().await;
        let held = queue
            .send_then_put(
                QueueName::Events,
                vec![OutMessage::now("a"), OutMessage::now("b")],
                vec![
                    (Item::new("t#EVENT", "new", json!({"n": 1})), Condition::NotExists),
                    (Item::new("t#EVENT", "seen", json!({"n": 2})), Condition::NotExists),
                    (Item::new("t#EVENT", "other", json!({"n": 3})), Condition::None),
                ],
            )
            .await
            .unwrap();
        assert_eq!(held, vec![true, false, true]);
        let got = tokio::time::timeout(Duration::from_secs(2), waiting).await.expect("woken").unwrap().unwrap();
        let bodies: Vec<&str> = got.iter().map(|m| m.body.as_str()).collect();
        assert_eq!(bodies, ["a", "b"]);
        let n = |sk: &'static str| {
            let store = &store;
            async move { store.get("t#EVENT", sk).await.unwrap().map(|i| i.data.to_value()["n"].clone()) }
        };
        assert_eq!(n("new").await, Some(json!(1)));
        assert_eq!(n("seen").await, Some(json!(0)), "the failed condition wrote nothing");
        assert_eq!(n("other").await, Some(json!(3)));
    }
}
