//! A DynamoDB-shaped item store: items under a partition key and a sort key, conditional
//! writes on a version number, queries by partition with a sort-key prefix or range, a sparse
//! due-time index and a TTL attribute.

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// An item's attributes: one JSON document, kept as its text, which is how both backends
/// store it. Domain types serialize straight into it and decode straight out of it: a
/// `serde_json::Value` in between cost a parse, a tree of small allocations and a second
/// serialization on every read and write.
#[derive(Clone, PartialEq, Eq)]
pub struct Doc(String);

impl Doc {
    pub fn of<T: Serialize + ?Sized>(value: &T) -> Self {
        Doc(serde_json::to_string(value).expect("domain types and JSON values serialize"))
    }
    /// Text as a backend returns it. Not parsed here: a corrupt document fails where it is
    /// decoded, with the item's key in the error.
    pub fn from_text(text: String) -> Self {
        Doc(text)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_text(self) -> String {
        self.0
    }
    pub fn decode<T: DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_str(&self.0)
    }
    /// The document as a JSON value (`null` if it is not JSON).
    pub fn to_value(&self) -> Value {
        self.decode().unwrap_or(Value::Null)
    }
}

impl From<Value> for Doc {
    fn from(v: Value) -> Self {
        Doc::of(&v)
    }
}

impl std::fmt::Debug for Doc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub pk: String,
    pub sk: String,
    /// The item's attributes, stored as one JSON document.
    pub data: Doc,
    /// Optimistic-concurrency version: the adapter stores what it is given; callers bump it.
    pub version: u64,
    /// When set, the item is in the due-time index with this due time (ms since epoch).
    pub due_at: Option<i64>,
    /// When set, the item expires at this time (seconds since epoch) and reads no longer see it.
    pub expires_at: Option<i64>,
}

impl Item {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>, data: impl Into<Doc>) -> Self {
        Self { pk: pk.into(), sk: sk.into(), data: data.into(), version: 1, due_at: None, expires_at: None }
    }
    pub fn with_due(mut self, due_at: Option<i64>) -> Self {
        self.due_at = due_at;
        self
    }
    pub fn with_ttl(mut self, expires_at: Option<i64>) -> Self {
        self.expires_at = expires_at;
        self
    }
}

/// The condition a write must meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// Unconditional.
    None,
    /// No (live) item exists under the key.
    NotExists,
    /// The stored item exists and has this version.
    Version(u64),
}

/// Which sort keys a query returns (within one partition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkRange {
    All,
    Prefix(String),
    /// Inclusive on both ends.
    Between(String, String),
}

#[derive(Debug, Clone, Default)]
pub struct QueryOpts {
    pub limit: Option<usize>,
    pub descending: bool,
    /// Exclusive start: only sort keys strictly after (or before, when descending) this one.
    pub after: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("condition failed")]
    ConditionFailed,
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait ItemStore: Send + Sync {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError>;
    async fn put(&self, item: Item, cond: Condition) -> Result<(), StoreError>;
    /// Unconditional writes of many items; not atomic as a whole (like BatchWriteItem).
    async fn put_many(&self, items: Vec<Item>) -> Result<(), StoreError>;
    /// Writes in order, stopping at the first that fails: its error is returned and the writes
    /// before it stay. A backend may make them in one round trip (the embedded store: one
    /// commit); DynamoDB makes them one by one, at no extra cost.
    async fn put_in_order(&self, writes: Vec<(Item, Condition)>) -> Result<(), StoreError> {
        for (item, cond) in writes {
            self.put(item, cond).await?;
        }
        Ok(())
    }
    async fn delete(&self, pk: &str, sk: &str, cond: Condition) -> Result<(), StoreError>;
    async fn query(&self, pk: &str, range: SkRange, opts: QueryOpts) -> Result<Vec<Item>, StoreError>;
    /// Items whose due time is at or before `due_before_ms`, earliest first.
    async fn query_due(&self, due_before_ms: i64, limit: usize) -> Result<Vec<Item>, StoreError>;
}
