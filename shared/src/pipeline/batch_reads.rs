//! One batch's reads, remembered: a queue batch's messages mostly read the same few items (the
//! tenant's webhook, its outcome-event subscription), and on DynamoDB every read is billed. A
//! key read twice while one batch is handled is fetched once; concurrent reads of one key share
//! one fetch. Any write through this store forgets the keys it touches (before and after), so
//! the batch reads its own writes, and a failed conditional write reads again. Other processes'
//! writes during the batch are seen as if the batch had read a moment earlier — which the
//! versioned writes already allow for.

use crate::ports::{Condition, Item, ItemStore, QueryOpts, SkRange, StoreError};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

type Slot = Arc<OnceCell<Option<Item>>>;

pub struct BatchReads {
    inner: Arc<dyn ItemStore>,
    seen: Mutex<HashMap<(String, String), Slot>>,
}

impl BatchReads {
    pub fn new(inner: Arc<dyn ItemStore>) -> Self {
        Self { inner, seen: Mutex::new(HashMap::new()) }
    }

    fn slot(&self, pk: &str, sk: &str) -> Slot {
        let mut seen = self.seen.lock().expect("batch reads");
        seen.entry((pk.to_string(), sk.to_string())).or_default().clone()
    }

    /// Makes `write`, forgetting `keys` before it (reads from now on wait for it) and after it
    /// (a read that raced it may have stored the value it replaced).
    async fn around<T>(&self, keys: Vec<(String, String)>, write: impl std::future::Future<Output = T>) -> T {
        self.forget(&keys);
        let r = write.await;
        self.forget(&keys);
        r
    }

    fn forget(&self, keys: &[(String, String)]) {
        let mut seen = self.seen.lock().expect("batch reads");
        for k in keys {
            seen.remove(k);
        }
    }
}

#[async_trait]
impl ItemStore for BatchReads {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        // A failed fetch leaves the slot empty: the next read tries again.
        let slot = self.slot(pk, sk);
        slot.get_or_try_init(|| self.inner.get(pk, sk)).await.cloned()
    }

    async fn put(&self, item: Item, cond: Condition) -> Result<(), StoreError> {
        let keys = vec![(item.pk.clone(), item.sk.clone())];
        self.around(keys, self.inner.put(item, cond)).await
    }

    async fn put_many(&self, items: Vec<Item>) -> Result<(), StoreError> {
        let keys = items.iter().map(|i| (i.pk.clone(), i.sk.clone())).collect();
        self.around(keys, self.inner.put_many(items)).await
    }

    async fn put_in_order(&self, writes: Vec<(Item, Condition)>) -> Result<(), StoreError> {
        let keys = writes.iter().map(|(i, _)| (i.pk.clone(), i.sk.clone())).collect();
        self.around(keys, self.inner.put_in_order(writes)).await
    }

    async fn delete(&self, pk: &str, sk: &str, cond: Condition) -> Result<(), StoreError> {
        self.around(vec![(pk.to_string(), sk.to_string())], self.inner.delete(pk, sk, cond)).await
    }

    async fn query(&self, pk: &str, range: SkRange, opts: QueryOpts) -> Result<Vec<Item>, StoreError> {
        self.inner.query(pk, range, opts).await
    }

    async fn query_due(&self, due_before_ms: i64, limit: usize) -> Result<Vec<Item>, StoreError> {
        self.inner.query_due(due_before_ms, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::{Db, SqliteStore};
    use crate::ports::observed::ObservedStore;

    fn stores(name: &str) -> (Arc<ObservedStore>, BatchReads) {
        let dir = std::env::temp_dir().join(format!("ringhook-batch-reads-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let db = Db::open_dir(&dir).unwrap();
        let sqlite = Arc::new(SqliteStore::new(db, Arc::new(crate::ports::SystemClock)));
        let observed = Arc::new(ObservedStore::new(sqlite));
        let memo = BatchReads::new(observed.clone());
        (observed, memo)
    }

    fn item(v: u64, text: &str) -> Item {
        let mut i = Item::new("t1#WEBHOOK", "w1", serde_json::json!({ "name": text }));
        i.version = v;
        i
    }

    fn name(i: &Option<Item>) -> String {
        i.as_ref().map(|i| i.data.to_value()["name"].as_str().unwrap().to_string()).unwrap_or_default()
    }

    #[tokio::test]
    async fn a_key_is_fetched_once_per_batch_and_concurrent_reads_share_the_fetch() {
        let (observed, memo) = stores("once");
        observed.put(item(1, "a"), Condition::NotExists).await.unwrap();
        let reads = futures::future::join_all((0..10).map(|_| memo.get("t1#WEBHOOK", "w1"))).await;
        assert!(reads.iter().all(|r| name(r.as_ref().unwrap()) == "a"));
        assert_eq!(memo.get("t1#WEBHOOK", "w2").await.unwrap(), None);
        assert_eq!(memo.get("t1#WEBHOOK", "w2").await.unwrap(), None, "absence is remembered too");
        assert_eq!(observed.gets(), 2);
    }

    #[tokio::test]
    async fn a_failed_read_is_not_remembered() {
        let (observed, memo) = stores("failed");
        observed.put(item(1, "a"), Condition::NotExists).await.unwrap();
        observed.fail_reads_of(Some(("t1#WEBHOOK".into(), "w1".into())));
        assert!(matches!(memo.get("t1#WEBHOOK", "w1").await, Err(StoreError::Unavailable(_))));
        observed.fail_reads_of(None);
        assert_eq!(name(&memo.get("t1#WEBHOOK", "w1").await.unwrap()), "a");
    }

    #[tokio::test]
    async fn writes_through_it_are_read_back_and_a_failed_condition_reads_again() {
        let (observed, memo) = stores("writes");
        memo.put(item(1, "a"), Condition::NotExists).await.unwrap();
        assert_eq!(name(&memo.get("t1#WEBHOOK", "w1").await.unwrap()), "a");
        memo.put(item(2, "b"), Condition::Version(1)).await.unwrap();
        assert_eq!(name(&memo.get("t1#WEBHOOK", "w1").await.unwrap()), "b");

        // Another process moves the item on; this batch still sees its earlier read...
        observed.put(item(3, "c"), Condition::Version(2)).await.unwrap();
        assert_eq!(name(&memo.get("t1#WEBHOOK", "w1").await.unwrap()), "b");
        // ...until its own versioned write fails, after which it reads the item again.
        let stale = memo.put(item(3, "stale"), Condition::Version(2)).await;
        assert!(matches!(stale, Err(StoreError::ConditionFailed)));
        assert_eq!(name(&memo.get("t1#WEBHOOK", "w1").await.unwrap()), "c");

        memo.put_in_order(vec![(item(4, "d"), Condition::Version(3))]).await.unwrap();
        assert_eq!(name(&memo.get("t1#WEBHOOK", "w1").await.unwrap()), "d");
        memo.put_many(vec![item(5, "e")]).await.unwrap();
        assert_eq!(name(&memo.get("t1#WEBHOOK", "w1").await.unwrap()), "e");
        memo.delete("t1#WEBHOOK", "w1", Condition::None).await.unwrap();
        assert_eq!(memo.get("t1#WEBHOOK", "w1").await.unwrap(), None);
    }
}
