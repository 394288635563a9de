//! The item store on one DynamoDB table.
//!
//! Layout: `pk` (S, hash key), `sk` (S, range key), `data` (the JSON document: S, or B deflated
//! when that saves write units, see [`super::doc_codec`]), `version` (N),
//! `due_shard` (S, `due#<k>`, see [`due_shard`]) + `due_at` (N, ms) only while the item is due —
//! the sparse GSI [`DUE_INDEX`] — and `ttl` (N, epoch seconds), the table's TTL attribute.
//!
//! DynamoDB deletes expired items lazily (often hours late), so every read and every
//! `NotExists`/`Version` condition also compares `ttl` with the injected clock.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use aws_sdk_dynamodb::Client;

use super::{doc_codec, sdk_err};
use crate::ports::store::{Condition, Doc, Item, ItemStore, QueryOpts, SkRange, StoreError};
use crate::ports::Clock;

pub const ATTR_PK: &str = "pk";
pub const ATTR_SK: &str = "sk";
pub const ATTR_DATA: &str = "data";
pub const ATTR_VERSION: &str = "version";
pub const ATTR_DUE_SHARD: &str = "due_shard";
pub const ATTR_DUE_AT: &str = "due_at";
pub const ATTR_TTL: &str = "ttl";
pub const DUE_INDEX: &str = "due-index";
/// Partitions of the due index by default. Every pending delivery is written to the index, so
/// one partition (DynamoDB: about 1,000 writes/s per GSI key) would cap the whole deployment;
/// `N` shards allow `N` times that (docs/aws-scale.md). The scheduler queries every shard.
pub const DEFAULT_DUE_SHARDS: u32 = 16;
/// Shards a deployment may configure: `query_due` makes one query per shard.
pub const MAX_DUE_SHARDS: u32 = 256;

/// The due-index partition of the item `pk`/`sk` among `shards`: `due#<k>`, `k` from FNV-1a of
/// the key — stable across builds, since it is stored. An item keeps its shard while it stays
/// due, so its re-writes never move between partitions. Raising the count is safe (items in
/// the old shards are still queried); lowering it would strand items in the higher shards.
pub fn due_shard(pk: &str, sk: &str, shards: u32) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in pk.bytes().chain([0]).chain(sk.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("due#{}", h % u64::from(shards.max(1)))
}

/// BatchWriteItem's limit.
const BATCH_WRITE_MAX: usize = 25;
const BATCH_WRITE_ATTEMPTS: u32 = 8;

type AttrMap = HashMap<String, AttributeValue>;

pub struct DynamoStore {
    client: Client,
    table: String,
    clock: Arc<dyn Clock>,
    due_shards: u32,
}

impl DynamoStore {
    pub fn new(sdk: &SdkConfig, table: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        Self { client: Client::new(sdk), table: table.into(), clock, due_shards: DEFAULT_DUE_SHARDS }
    }

    /// The number of due-index shards (1 to [`MAX_DUE_SHARDS`]).
    pub fn with_due_shards(mut self, shards: u32) -> Self {
        self.due_shards = shards.clamp(1, MAX_DUE_SHARDS);
        self
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn now_secs(&self) -> i64 {
        self.clock.now_secs()
    }

    fn live(&self, item: &Item) -> bool {
        item.expires_at.is_none_or(|t| t > self.now_secs())
    }
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn key(pk: &str, sk: &str) -> AttrMap {
    HashMap::from([(ATTR_PK.to_string(), s(pk)), (ATTR_SK.to_string(), s(sk))])
}

fn to_attrs(item: &Item, shards: u32) -> Result<AttrMap, StoreError> {
    let mut m = key(&item.pk, &item.sk);
    m.insert(ATTR_VERSION.into(), n(item.version));
    // Absent (not null) attributes keep the item out of the sparse index.
    if let Some(due) = item.due_at {
        m.insert(ATTR_DUE_SHARD.into(), s(due_shard(&item.pk, &item.sk, shards)));
        m.insert(ATTR_DUE_AT.into(), n(due));
    }
    if let Some(ttl) = item.expires_at {
        m.insert(ATTR_TTL.into(), n(ttl));
    }
    let rest = m.iter().map(|(k, v)| doc_codec::attribute_size(k, v)).sum();
    m.insert(ATTR_DATA.into(), doc_codec::encode(ATTR_DATA, item.data.as_str(), rest));
    Ok(m)
}

fn bad(what: &str) -> StoreError {
    StoreError::Unavailable(format!("malformed item in table: {what}"))
}

fn get_s<'a>(m: &'a AttrMap, k: &str) -> Result<&'a str, StoreError> {
    match m.get(k) {
        Some(AttributeValue::S(v)) => Ok(v),
        _ => Err(bad(&format!("missing string attribute {k}"))),
    }
}

fn get_n<T: std::str::FromStr>(m: &AttrMap, k: &str) -> Result<Option<T>, StoreError> {
    match m.get(k) {
        None => Ok(None),
        Some(AttributeValue::N(v)) => {
            v.parse().map(Some).map_err(|_| bad(&format!("attribute {k} is not an integer: {v}")))
        }
        Some(_) => Err(bad(&format!("attribute {k} is not a number"))),
    }
}

fn from_attrs(m: &AttrMap) -> Result<Item, StoreError> {
    let data = m.get(ATTR_DATA).and_then(doc_codec::decode).ok_or_else(|| bad("unreadable data attribute"))?;
    let data = Doc::from_text(data);
    Ok(Item {
        pk: get_s(m, ATTR_PK)?.to_string(),
        sk: get_s(m, ATTR_SK)?.to_string(),
        data,
        version: get_n(m, ATTR_VERSION)?.unwrap_or(0),
        due_at: get_n(m, ATTR_DUE_AT)?,
        expires_at: get_n(m, ATTR_TTL)?,
    })
}

/// A condition expression with its placeholders.
struct CondExpr {
    expr: String,
    names: HashMap<String, String>,
    values: AttrMap,
}

fn condition(cond: Condition, now_secs: i64) -> Option<CondExpr> {
    let names =
        HashMap::from([("#ttl".to_string(), ATTR_TTL.to_string()), ("#version".to_string(), ATTR_VERSION.to_string())]);
    match cond {
        Condition::None => None,
        // An expired-but-not-yet-swept item counts as absent.
        Condition::NotExists => Some(CondExpr {
            expr: "attribute_not_exists(pk) OR #ttl <= :now".into(),
            names: HashMap::from([("#ttl".to_string(), ATTR_TTL.to_string())]),
            values: HashMap::from([(":now".to_string(), n(now_secs))]),
        }),
        Condition::Version(v) => Some(CondExpr {
            expr: "#version = :v AND (attribute_not_exists(#ttl) OR #ttl > :now)".into(),
            names,
            values: HashMap::from([(":v".to_string(), n(v)), (":now".to_string(), n(now_secs))]),
        }),
    }
}

/// The one sort-key condition DynamoDB accepts, plus what must be checked client-side.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SkCond {
    Any,
    BeginsWith(String),
    Between(String, String),
    Gt(String),
    Lt(String),
    /// The combination selects nothing.
    Empty,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct SkPlan {
    cond: SkCond,
    /// Drop this sort key (the exclusive `after` when it falls inside an inclusive BETWEEN).
    exclude: Option<String>,
    /// Keep only keys with this prefix; ascending scans stop at the first key without it.
    prefix: Option<String>,
}

/// Combines a range with the exclusive `after` bound into a single key condition.
fn plan_sk(range: &SkRange, after: Option<&str>, descending: bool) -> SkPlan {
    let plan = |cond| SkPlan { cond, exclude: None, prefix: None };
    let Some(a) = after else {
        return plan(match range {
            SkRange::All => SkCond::Any,
            SkRange::Prefix(p) => SkCond::BeginsWith(p.clone()),
            SkRange::Between(lo, hi) => SkCond::Between(lo.clone(), hi.clone()),
        });
    };
    let a = a.to_string();
    match (range, descending) {
        (SkRange::All, false) => plan(SkCond::Gt(a)),
        (SkRange::All, true) => plan(SkCond::Lt(a)),
        (SkRange::Prefix(p), false) => {
            if a.starts_with(p.as_str()) {
                SkPlan { cond: SkCond::Gt(a), exclude: None, prefix: Some(p.clone()) }
            } else if a < *p {
                plan(SkCond::BeginsWith(p.clone()))
            } else {
                // `a` sorts after every key with the prefix.
                plan(SkCond::Empty)
            }
        }
        (SkRange::Prefix(p), true) => {
            if a.starts_with(p.as_str()) {
                // Every key in [p, a] has the prefix (a itself excluded).
                SkPlan { cond: SkCond::Between(p.clone(), a.clone()), exclude: Some(a), prefix: None }
            } else if a > *p {
                plan(SkCond::BeginsWith(p.clone()))
            } else {
                plan(SkCond::Empty)
            }
        }
        (SkRange::Between(lo, hi), false) => {
            if a < *lo {
                plan(SkCond::Between(lo.clone(), hi.clone()))
            } else if a >= *hi {
                plan(SkCond::Empty)
            } else {
                SkPlan { cond: SkCond::Between(a.clone(), hi.clone()), exclude: Some(a), prefix: None }
            }
        }
        (SkRange::Between(lo, hi), true) => {
            if a > *hi {
                plan(SkCond::Between(lo.clone(), hi.clone()))
            } else if a <= *lo {
                plan(SkCond::Empty)
            } else {
                SkPlan { cond: SkCond::Between(lo.clone(), a.clone()), exclude: Some(a), prefix: None }
            }
        }
    }
}

fn store_err<E, R>(e: aws_sdk_dynamodb::error::SdkError<E, R>, op: &str) -> StoreError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    StoreError::Unavailable(format!("DynamoDB {op}: {}", sdk_err(e)))
}

#[async_trait]
impl ItemStore for DynamoStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_err(e, "GetItem"))?;
        match out.item() {
            None => Ok(None),
            Some(m) => {
                let item = from_attrs(m)?;
                Ok(self.live(&item).then_some(item))
            }
        }
    }

    async fn put(&self, item: Item, cond: Condition) -> Result<(), StoreError> {
        let mut req = self.client.put_item().table_name(&self.table).set_item(Some(to_attrs(&item, self.due_shards)?));
        if let Some(c) = condition(cond, self.now_secs()) {
            req = req
                .condition_expression(c.expr)
                .set_expression_attribute_names(Some(c.names))
                .set_expression_attribute_values(Some(c.values));
        }
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => {
                Err(StoreError::ConditionFailed)
            }
            Err(e) => Err(store_err(e, "PutItem")),
        }
    }

    async fn put_many(&self, items: Vec<Item>) -> Result<(), StoreError> {
        // BatchWriteItem rejects a batch holding one key twice; the last write wins, as it
        // would with sequential puts.
        let mut order: Vec<(String, String)> = Vec::new();
        let mut latest: HashMap<(String, String), Item> = HashMap::new();
        for item in items {
            let k = (item.pk.clone(), item.sk.clone());
            if latest.insert(k.clone(), item).is_none() {
                order.push(k);
            }
        }
        let mut requests = Vec::with_capacity(order.len());
        for k in &order {
            let attrs = to_attrs(&latest[k], self.due_shards)?;
            let put = PutRequest::builder()
                .set_item(Some(attrs))
                .build()
                .map_err(|e| StoreError::Unavailable(format!("building PutRequest: {e}")))?;
            requests.push(WriteRequest::builder().put_request(put).build());
        }
        for chunk in requests.chunks(BATCH_WRITE_MAX) {
            let mut pending = chunk.to_vec();
            let mut attempt = 0;
            while !pending.is_empty() {
                if attempt >= BATCH_WRITE_ATTEMPTS {
                    return Err(StoreError::Unavailable(format!(
                        "DynamoDB BatchWriteItem: {} items still unprocessed after {attempt} attempts",
                        pending.len()
                    )));
                }
                if attempt > 0 {
                    // Unprocessed items mean throttling: back off before retrying them.
                    tokio::time::sleep(Duration::from_millis(50 << attempt.min(6))).await;
                }
                attempt += 1;
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(self.table.clone(), pending)
                    .send()
                    .await
                    .map_err(|e| store_err(e, "BatchWriteItem"))?;
                pending = out.unprocessed_items().and_then(|m| m.get(&self.table)).cloned().unwrap_or_default();
            }
        }
        Ok(())
    }

    async fn delete(&self, pk: &str, sk: &str, cond: Condition) -> Result<(), StoreError> {
        let mut req = self.client.delete_item().table_name(&self.table).set_key(Some(key(pk, sk)));
        if let Some(c) = condition(cond, self.now_secs()) {
            req = req
                .condition_expression(c.expr)
                .set_expression_attribute_names(Some(c.names))
                .set_expression_attribute_values(Some(c.values));
        }
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => {
                Err(StoreError::ConditionFailed)
            }
            Err(e) => Err(store_err(e, "DeleteItem")),
        }
    }

    async fn query(&self, pk: &str, range: SkRange, opts: QueryOpts) -> Result<Vec<Item>, StoreError> {
        let plan = plan_sk(&range, opts.after.as_deref(), opts.descending);
        let limit = opts.limit.unwrap_or(usize::MAX);
        if plan.cond == SkCond::Empty || limit == 0 {
            return Ok(Vec::new());
        }
        let mut values: AttrMap = HashMap::from([(":pk".to_string(), s(pk)), (":now".to_string(), n(self.now_secs()))]);
        let sk_expr = match &plan.cond {
            SkCond::Any | SkCond::Empty => None,
            SkCond::BeginsWith(p) => {
                values.insert(":p".into(), s(p));
                Some("begins_with(sk, :p)")
            }
            SkCond::Between(lo, hi) => {
                values.insert(":lo".into(), s(lo));
                values.insert(":hi".into(), s(hi));
                Some("sk BETWEEN :lo AND :hi")
            }
            SkCond::Gt(a) => {
                values.insert(":a".into(), s(a));
                Some("sk > :a")
            }
            SkCond::Lt(a) => {
                values.insert(":a".into(), s(a));
                Some("sk < :a")
            }
        };
        let key_expr = match sk_expr {
            Some(e) => format!("pk = :pk AND {e}"),
            None => "pk = :pk".to_string(),
        };

        let mut out = Vec::new();
        let mut start: Option<AttrMap> = None;
        loop {
            let mut req = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(&key_expr)
                // Expired items the TTL sweeper has not removed yet.
                .filter_expression("attribute_not_exists(#ttl) OR #ttl > :now")
                .expression_attribute_names("#ttl", ATTR_TTL)
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(!opts.descending)
                .consistent_read(true)
                .set_exclusive_start_key(start.take());
            if limit != usize::MAX {
                // Limit counts items evaluated before the filter; ask for one spare in case
                // the excluded `after` key is among them.
                let want = (limit - out.len() + 1).min(1000);
                req = req.limit(want as i32);
            }
            let page = req.send().await.map_err(|e| store_err(e, "Query"))?;
            for m in page.items() {
                let item = from_attrs(m)?;
                if plan.exclude.as_deref() == Some(item.sk.as_str()) {
                    continue;
                }
                if let Some(p) = &plan.prefix {
                    if !item.sk.starts_with(p.as_str()) {
                        // Ascending past the prefix range: nothing further can match.
                        return Ok(out);
                    }
                }
                if !self.live(&item) {
                    continue;
                }
                out.push(item);
                if out.len() >= limit {
                    return Ok(out);
                }
            }
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Ok(out),
            }
        }
    }

    /// The earliest due items over every shard: one query per shard, in parallel, each paged
    /// up to `limit`, merged by due time.
    async fn query_due(&self, due_before_ms: i64, limit: usize) -> Result<Vec<Item>, StoreError> {
        if limit == 0 {
            return Ok(vec![]);
        }
        let shards = (0..self.due_shards).map(|k| self.query_due_shard(format!("due#{k}"), due_before_ms, limit));
        let mut out: Vec<Item> = futures::future::try_join_all(shards).await?.into_iter().flatten().collect();
        out.sort_by_key(|i| i.due_at);
        out.truncate(limit);
        Ok(out)
    }
}

impl DynamoStore {
    async fn query_due_shard(&self, shard: String, due_before_ms: i64, limit: usize) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<AttrMap> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(DUE_INDEX)
                .key_condition_expression("#shard = :shard AND #due <= :before")
                .filter_expression("attribute_not_exists(#ttl) OR #ttl > :now")
                .expression_attribute_names("#shard", ATTR_DUE_SHARD)
                .expression_attribute_names("#due", ATTR_DUE_AT)
                .expression_attribute_names("#ttl", ATTR_TTL)
                .expression_attribute_values(":shard", s(&shard))
                .expression_attribute_values(":before", n(due_before_ms))
                .expression_attribute_values(":now", n(self.now_secs()))
                .scan_index_forward(true)
                .limit((limit - out.len()).min(1000) as i32)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| store_err(e, "Query(due-index)"))?;
            for m in page.items() {
                let item = from_attrs(m)?;
                if self.live(&item) {
                    out.push(item);
                    if out.len() >= limit {
                        return Ok(out);
                    }
                }
            }
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Ok(out),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(cond: SkCond) -> SkPlan {
        SkPlan { cond, exclude: None, prefix: None }
    }

    #[test]
    fn sk_plans_combine_range_and_after() {
        let pre = SkRange::Prefix("d#".into());
        assert_eq!(plan_sk(&pre, None, false), p(SkCond::BeginsWith("d#".into())));
        assert_eq!(plan_sk(&pre, Some("a"), false), p(SkCond::BeginsWith("d#".into())));
        assert_eq!(plan_sk(&pre, Some("e"), false), p(SkCond::Empty));
        assert_eq!(
            plan_sk(&pre, Some("d#5"), false),
            SkPlan { cond: SkCond::Gt("d#5".into()), exclude: None, prefix: Some("d#".into()) }
        );
        assert_eq!(
            plan_sk(&pre, Some("d#5"), true),
            SkPlan { cond: SkCond::Between("d#".into(), "d#5".into()), exclude: Some("d#5".into()), prefix: None }
        );
        assert_eq!(plan_sk(&pre, Some("e"), true), p(SkCond::BeginsWith("d#".into())));
        assert_eq!(plan_sk(&pre, Some("a"), true), p(SkCond::Empty));

        let btw = SkRange::Between("b".into(), "m".into());
        assert_eq!(plan_sk(&btw, Some("a"), false), p(SkCond::Between("b".into(), "m".into())));
        assert_eq!(plan_sk(&btw, Some("m"), false), p(SkCond::Empty));
        assert_eq!(
            plan_sk(&btw, Some("c"), false),
            SkPlan { cond: SkCond::Between("c".into(), "m".into()), exclude: Some("c".into()), prefix: None }
        );
        assert_eq!(plan_sk(&btw, Some("z"), true), p(SkCond::Between("b".into(), "m".into())));
        assert_eq!(plan_sk(&btw, Some("b"), true), p(SkCond::Empty));
        assert_eq!(plan_sk(&SkRange::All, Some("x"), true), p(SkCond::Lt("x".into())));
    }

    #[test]
    fn items_round_trip_through_attributes() {
        let item = Item::new("p", "s", serde_json::json!({"a": [1, "x"]}))
            .with_due(Some(1_700_000_000_123))
            .with_ttl(Some(1_700_000_999));
        let attrs = to_attrs(&item, 16).unwrap();
        assert_eq!(attrs[ATTR_DUE_SHARD], s(due_shard("p", "s", 16)));
        assert_eq!(from_attrs(&attrs).unwrap(), item);
        let plain = Item::new("p", "s", serde_json::json!(null));
        let attrs = to_attrs(&plain, 16).unwrap();
        assert!(!attrs.contains_key(ATTR_DUE_SHARD) && !attrs.contains_key(ATTR_TTL));
        assert_eq!(from_attrs(&attrs).unwrap(), plain);
    }

    /// Items spread evenly over the shards, and each always lands in the same one.
    #[test]
    fn due_items_spread_over_the_shards() {
        let mut counts = [0usize; 16];
        for t in 0..50 {
            for d in 0..200 {
                let (pk, sk) = (format!("ten_{t}#DELIVERY"), format!("dlv_{d:05}"));
                let shard = due_shard(&pk, &sk, 16);
                assert_eq!(shard, due_shard(&pk, &sk, 16));
                counts[shard.strip_prefix("due#").unwrap().parse::<usize>().unwrap()] += 1;
            }
        }
        let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        assert!(*min as f64 > 10_000.0 / 16.0 * 0.9 && (*max as f64) < 10_000.0 / 16.0 * 1.1, "{counts:?}");
        assert_eq!(due_shard("a", "b", 1), "due#0");
    }
}
