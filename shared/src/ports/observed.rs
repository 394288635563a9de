//! Test support: a store that passes everything to another, counting its reads and failing
//! the reads of one key on demand — for tests of what a caller does with a store (how often it
//! reads, what happens when a read fails) over a real backend.

use super::store::{Condition, Item, ItemStore, QueryOpts, SkRange, StoreError};
use async_trait::async_trait;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub struct ObservedStore {
    inner: Arc<dyn ItemStore>,
    gets: AtomicUsize,
    failing: Mutex<Option<(String, String)>>,
}

impl ObservedStore {
    pub fn new(inner: Arc<dyn ItemStore>) -> Self {
        Self { inner, gets: AtomicUsize::new(0), failing: Mutex::new(None) }
    }

    /// Reads made so far (failed ones included).
    pub fn gets(&self) -> usize {
        self.gets.load(Ordering::SeqCst)
    }

    /// From now on, reads of `key` fail as an unavailable store would (`None`: none fail).
    pub fn fail_reads_of(&self, key: Option<(String, String)>) {
        *self.failing.lock().expect("observed store") = key;
    }
}

#[async_trait]
impl ItemStore for ObservedStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        let fails = self.failing.lock().expect("observed store").as_ref().is_some_and(|(p, s)| p == pk && s == sk);
        if fails {
            return Err(StoreError::Unavailable("injected by the test".into()));
        }
        self.inner.get(pk, sk).await
    }
    async fn put(&self, item: Item, cond: Condition) -> Result<(), StoreError> {
        self.inner.put(item, cond).await
    }
    async fn put_many(&self, items: Vec<Item>) -> Result<(), StoreError> {
        self.inner.put_many(items).await
    }
    async fn put_in_order(&self, writes: Vec<(Item, Condition)>) -> Result<(), StoreError> {
        self.inner.put_in_order(writes).await
    }
    async fn delete(&self, pk: &str, sk: &str, cond: Condition) -> Result<(), StoreError> {
        self.inner.delete(pk, sk, cond).await
    }
    async fn query(&self, pk: &str, range: SkRange, opts: QueryOpts) -> Result<Vec<Item>, StoreError> {
        self.inner.query(pk, range, opts).await
    }
    async fn query_due(&self, due_before_ms: i64, limit: usize) -> Result<Vec<Item>, StoreError> {
        self.inner.query_due(due_before_ms, limit).await
    }
}
