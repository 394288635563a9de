//! One conformance suite for the store and queue ports, run against both backends (embedded
//! SQLite and AWS through the emulator). Plain async functions that panic with a message
//! saying what broke, so any test harness can call them.
//!
//! Every run works under fresh keys / message tags, so the suites can run repeatedly against
//! the same backend and ignore whatever earlier runs (or other tests) left behind.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;

use crate::ports::queue::{Message, OutMessage, Queue, QueueName};
use crate::ports::store::{Condition, Item, ItemStore, QueryOpts, SkRange, StoreError};
use crate::ports::{Clock, ManualClock};

/// How the queue suite lets time pass, and what the backend's redrive limit is.
#[async_trait]
pub trait QueueEnv: Send + Sync {
    /// Let at least `secs` seconds pass as far as visibility timeouts and delays are
    /// concerned (advance a manual clock, or really wait).
    async fn advance(&self, secs: u32);
    /// Receives after which a message goes to the dead-letter queue (`maxReceiveCount`).
    fn max_receives(&self) -> u32;
}

/// For backends whose queue runs on a `ManualClock`.
pub struct ManualQueueEnv {
    pub clock: Arc<ManualClock>,
    pub max_receives: u32,
}

#[async_trait]
impl QueueEnv for ManualQueueEnv {
    async fn advance(&self, secs: u32) {
        self.clock.advance_ms(i64::from(secs) * 1000);
    }
    fn max_receives(&self) -> u32 {
        self.max_receives
    }
}

/// For backends on real time (SQS): sleeps, with a margin for the service's clock granularity.
pub struct RealTimeQueueEnv {
    pub max_receives: u32,
}

#[async_trait]
impl QueueEnv for RealTimeQueueEnv {
    async fn advance(&self, secs: u32) {
        tokio::time::sleep(Duration::from_millis(u64::from(secs) * 1000 + 300)).await;
    }
    fn max_receives(&self) -> u32 {
        self.max_receives
    }
}

fn run_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_string()
}

/// Retries `check` for a few seconds of real time: secondary indexes (DynamoDB GSIs) are
/// eventually consistent. Backends that are immediately consistent pass on the first try.
async fn eventually<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let mut last = String::new();
    for _ in 0..25 {
        match check().await {
            Ok(()) => return,
            Err(e) => last = e,
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{what}: {last}");
}

fn sks(items: &[Item]) -> Vec<String> {
    items.iter().map(|i| i.sk.clone()).collect()
}

// ------------------------------------------------------------------------------------- store

/// The item-store contract. `clock` must be the clock the store reads for TTL decisions.
pub async fn store_suite(store: Arc<dyn ItemStore>, clock: Arc<ManualClock>) {
    let run = run_id();
    let s = store.as_ref();
    conditional_writes(s, &format!("conf#{run}#cond")).await;
    put_many(s, &format!("conf#{run}#many")).await;
    put_in_order(s, &format!("conf#{run}#order")).await;
    queries(s, &format!("conf#{run}#q")).await;
    due_index(s, &clock, &format!("conf#{run}#due")).await;
    ttl(s, &clock, &format!("conf#{run}#ttl")).await;
    large_documents(s, &format!("conf#{run}#big")).await;

    // Leave nothing behind but expired items.
    for part in ["cond", "many", "q", "q-other", "due", "ttl", "big"] {
        let pk = format!("conf#{run}#{part}");
        let items = s.query(&pk, SkRange::All, QueryOpts::default()).await.expect("cleanup query");
        for i in items {
            s.delete(&i.pk, &i.sk, Condition::None).await.expect("cleanup delete");
        }
    }
}

async fn conditional_writes(s: &dyn ItemStore, pk: &str) {
    let a = Item::new(pk, "a", json!({"name": "first", "n": 1}));
    s.put(a.clone(), Condition::NotExists).await.expect("put NotExists on a new key");
    let got = s.get(pk, "a").await.expect("get").expect("item just written");
    assert_eq!(got, a, "get returns exactly what was put");

    match s.put(Item::new(pk, "a", json!({"name": "second"})), Condition::NotExists).await {
        Err(StoreError::ConditionFailed) => {}
        other => {
            panic!("second put NotExists on the same key must be ConditionFailed, got {other:?}")
        }
    }
    assert_eq!(s.get(pk, "a").await.unwrap().unwrap().data.to_value()["name"], "first", "a failed put changes nothing");

    let mut v2 = a.clone();
    v2.version = 2;
    v2.data = json!({"name": "v2"}).into();
    s.put(v2.clone(), Condition::Version(1)).await.expect("put with the stored version succeeds");
    let mut stale = v2.clone();
    stale.version = 3;
    stale.data = json!({"name": "stale writer"}).into();
    match s.put(stale.clone(), Condition::Version(1)).await {
        Err(StoreError::ConditionFailed) => {}
        other => panic!("put with an old version must be ConditionFailed, got {other:?}"),
    }
    assert_eq!(s.get(pk, "a").await.unwrap().unwrap(), v2, "version mismatch leaves the item as it was");
    s.put(stale.clone(), Condition::Version(2)).await.expect("put with the current version succeeds");
    assert_eq!(s.get(pk, "a").await.unwrap().unwrap().version, 3, "the adapter stores the version given");

    match s.put(Item::new(pk, "missing", json!({})), Condition::Version(1)).await {
        Err(StoreError::ConditionFailed) => {}
        other => panic!("put Version(_) on a missing key must be ConditionFailed, got {other:?}"),
    }
    assert!(s.get(pk, "missing").await.unwrap().is_none(), "failed conditional put created an item");

    let over = Item::new(pk, "a", json!({"name": "overwritten"}));
    s.put(over.clone(), Condition::None).await.expect("unconditional put over an existing item");
    assert_eq!(s.get(pk, "a").await.unwrap().unwrap(), over, "unconditional put replaces the whole item");

    match s.delete(pk, "a", Condition::Version(7)).await {
        Err(StoreError::ConditionFailed) => {}
        other => panic!("delete with a wrong version must be ConditionFailed, got {other:?}"),
    }
    assert!(s.get(pk, "a").await.unwrap().is_some(), "failed delete removed the item");
    s.delete(pk, "a", Condition::Version(1)).await.expect("delete with the right version");
    assert!(s.get(pk, "a").await.unwrap().is_none(), "deleted item is gone");
    s.delete(pk, "a", Condition::None).await.expect("unconditional delete of a missing item is fine");
    match s.delete(pk, "a", Condition::Version(1)).await {
        Err(StoreError::ConditionFailed) => {}
        other => {
            panic!("delete Version(_) of a missing item must be ConditionFailed, got {other:?}")
        }
    }
    s.put(a.clone(), Condition::NotExists).await.expect("NotExists succeeds again after a delete");
    assert!(s.get(pk, "nothing-here").await.unwrap().is_none(), "get of a missing key is None");
}

/// Documents past a KB (a delivery carrying a dialer's event, an attempt record with a response
/// body) come back exactly, through every way of writing and reading (DynamoDB stores them
/// deflated, `aws::doc_codec`).
async fn large_documents(s: &dyn ItemStore, pk: &str) {
    let doc = |n: usize, tag: &str| {
        let fields: serde_json::Map<String, serde_json::Value> =
            (0..n).map(|i| (format!("field{i:04}"), json!(format!("{tag} value {i} — ünïcödé ✓")))).collect();
        json!({"tag": tag, "fields": fields})
    };
    let a = Item::new(pk, "a", doc(60, "first"));
    s.put(a.clone(), Condition::NotExists).await.expect("put a 3 KB document");
    assert_eq!(s.get(pk, "a").await.unwrap().expect("just written"), a, "a large document reads back exactly");
    let a2 = Item { version: 2, ..Item::new(pk, "a", doc(1_000, "second")) };
    s.put(a2.clone(), Condition::Version(1)).await.expect("versioned put of a 50 KB document");
    assert_eq!(s.get(pk, "a").await.unwrap().unwrap(), a2, "a versioned large write reads back exactly");
    let small = Item::new(pk, "b", json!({"small": true}));
    s.put_many(vec![Item::new(pk, "c", doc(40, "many")), small.clone()]).await.expect("put_many");
    s.put_in_order(vec![(Item::new(pk, "d", doc(40, "ordered")), Condition::NotExists)]).await.expect("put_in_order");
    let all = s.query(pk, SkRange::All, QueryOpts::default()).await.expect("query");
    assert_eq!(sks(&all), ["a", "b", "c", "d"]);
    assert_eq!(all[0], a2);
    assert_eq!(all[1], small, "small documents are unchanged beside large ones");
    assert_eq!(all[2].data.to_value(), doc(40, "many"));
    assert_eq!(all[3].data.to_value(), doc(40, "ordered"));
}

async fn put_many(s: &dyn ItemStore, pk: &str) {
    // More than one BatchWriteItem (25), with one key written twice: the last write wins.
    let mut items: Vec<Item> = (0..30).map(|i| Item::new(pk, format!("k{i:03}"), json!({"i": i}))).collect();
    items.push(Item::new(pk, "k007", json!({"i": "again"})));
    s.put_many(items).await.expect("put_many");
    let all = s.query(pk, SkRange::All, QueryOpts::default()).await.expect("query after put_many");
    assert_eq!(all.len(), 30, "put_many writes every item once: {:?}", sks(&all));
    assert_eq!(all[7].data.to_value(), json!({"i": "again"}), "the later of two writes to one key wins");
    s.put_many(Vec::new()).await.expect("put_many of nothing");
}

async fn put_in_order(s: &dyn ItemStore, pk: &str) {
    let item = |sk: &str, v: u64| Item { version: v, ..Item::new(pk, sk, json!({"sk": sk, "v": v})) };
    s.put_in_order(vec![(item("a", 1), Condition::NotExists), (item("b", 1), Condition::NotExists)])
        .await
        .expect("put_in_order of two new items");
    // The second write's condition fails: the first stays written, nothing after it is.
    let r = s
        .put_in_order(vec![
            (item("log", 1), Condition::None),
            (item("a", 2), Condition::Version(7)),
            (item("c", 1), Condition::None),
        ])
        .await;
    assert!(matches!(r, Err(StoreError::ConditionFailed)), "a failed condition is ConditionFailed: {r:?}");
    assert!(s.get(pk, "log").await.unwrap().is_some(), "the write before the failed one stays");
    assert_eq!(s.get(pk, "a").await.unwrap().unwrap().version, 1, "the failed write changed nothing");
    assert!(s.get(pk, "c").await.unwrap().is_none(), "no write after the failed one is made");
    s.put_in_order(vec![(item("log", 2), Condition::None), (item("a", 2), Condition::Version(1))])
        .await
        .expect("put_in_order with conditions that hold");
    assert_eq!(s.get(pk, "a").await.unwrap().unwrap().version, 2);
    s.put_in_order(Vec::new()).await.expect("put_in_order of nothing");
}

async fn queries(s: &dyn ItemStore, pk: &str) {
    // Keys chosen around prefix boundaries: "a" < "a#1" < ... < "a$" < "b#1" ("#" < "$").
    let keys = ["a", "a#1", "a#2", "a#3", "a$", "b#1", "b#2", "c"];
    for (i, k) in keys.iter().enumerate() {
        s.put(Item::new(pk, *k, json!({"i": i})), Condition::None).await.unwrap();
    }
    let other = pk.replace("#q", "#q-other");
    s.put(Item::new(&other, "a#1", json!({})), Condition::None).await.unwrap();

    let ranges = [
        SkRange::All,
        SkRange::Prefix("a#".into()),
        SkRange::Prefix("a".into()),
        SkRange::Prefix("b".into()),
        SkRange::Prefix("zz".into()),
        SkRange::Between("a#2".into(), "b#1".into()),
        SkRange::Between("a#15".into(), "a#25".into()),
        SkRange::Between("a$".into(), "a$".into()),
    ];
    let matches = |r: &SkRange, k: &str| match r {
        SkRange::All => true,
        SkRange::Prefix(p) => k.starts_with(p.as_str()),
        SkRange::Between(lo, hi) => k >= lo.as_str() && k <= hi.as_str(),
    };
    for range in &ranges {
        for descending in [false, true] {
            let mut expected: Vec<String> = keys.iter().filter(|k| matches(range, k)).map(|k| k.to_string()).collect();
            if descending {
                expected.reverse();
            }
            let whole = s.query(pk, range.clone(), QueryOpts { limit: None, descending, after: None }).await.unwrap();
            assert_eq!(sks(&whole), expected, "query {range:?} descending={descending}");
            assert!(whole.iter().all(|i| i.pk == pk), "query stays inside its partition");

            // Page through with `limit` + `after` = last key of the previous page.
            for limit in [1, 2, 3] {
                let mut paged = Vec::new();
                let mut after = None;
                for _ in 0..=keys.len() {
                    let page = s
                        .query(pk, range.clone(), QueryOpts { limit: Some(limit), descending, after: after.clone() })
                        .await
                        .unwrap();
                    assert!(page.len() <= limit, "query {range:?} returned more than limit {limit}");
                    if page.is_empty() {
                        break;
                    }
                    after = page.last().map(|i| i.sk.clone());
                    paged.extend(sks(&page));
                }
                assert_eq!(paged, expected, "paging {range:?} descending={descending} limit={limit}");
            }
        }
    }

    // `after` need not be an existing key.
    let q = |range: SkRange, descending: bool, after: &str| {
        let after = Some(after.to_string());
        async move { sks(&s.query(pk, range, QueryOpts { limit: None, descending, after }).await.unwrap()) }
    };
    assert_eq!(q(SkRange::Prefix("a#".into()), false, "a#15").await, ["a#2", "a#3"], "after between keys");
    assert_eq!(q(SkRange::Prefix("a#".into()), true, "a#25").await, ["a#2", "a#1"], "after, descending");
    assert_eq!(q(SkRange::Prefix("a#".into()), false, "0").await, ["a#1", "a#2", "a#3"], "after before range");
    assert!(q(SkRange::Prefix("a#".into()), false, "b").await.is_empty(), "after past the range");
    assert_eq!(
        q(SkRange::Prefix("a#".into()), true, "zz").await,
        ["a#3", "a#2", "a#1"],
        "descending from past the range"
    );
    assert_eq!(q(SkRange::All, true, "a#1").await, ["a"], "descending after near the start");
    assert_eq!(q(SkRange::Between("a#1".into(), "b#2".into()), false, "a$").await, ["b#1", "b#2"], "between + after");
    assert_eq!(
        q(SkRange::Between("a#1".into(), "b#2".into()), true, "a$").await,
        ["a#3", "a#2", "a#1"],
        "between + after, descending"
    );

    let desc_two =
        s.query(pk, SkRange::All, QueryOpts { limit: Some(2), descending: true, after: None }).await.unwrap();
    assert_eq!(sks(&desc_two), ["c", "b#2"], "descending + limit returns the last keys first");
    assert!(
        s.query("conf#no-such-partition", SkRange::All, QueryOpts::default()).await.unwrap().is_empty(),
        "a partition without items is empty"
    );
    assert_eq!(s.query(&other, SkRange::All, QueryOpts::default()).await.unwrap().len(), 1, "partitions are separate");
    assert!(
        s.query(pk, SkRange::All, QueryOpts { limit: Some(0), ..Default::default() }).await.unwrap().is_empty(),
        "limit 0 returns nothing"
    );
}

async fn due_index(s: &dyn ItemStore, clock: &ManualClock, pk: &str) {
    let base = clock.now_ms();
    let now_secs = clock.now_secs();
    s.put(Item::new(pk, "d1", json!({})).with_due(Some(base + 1_000)), Condition::None).await.unwrap();
    s.put(Item::new(pk, "d3", json!({})).with_due(Some(base + 3_000)), Condition::None).await.unwrap();
    s.put(Item::new(pk, "d2", json!({})).with_due(Some(base + 2_000)), Condition::None).await.unwrap();
    s.put(Item::new(pk, "plain", json!({})), Condition::None).await.unwrap();
    // Expired: never due, whatever its due time.
    s.put(
        Item::new(pk, "expired", json!({})).with_due(Some(base + 500)).with_ttl(Some(now_secs - 10)),
        Condition::None,
    )
    .await
    .unwrap();

    // Only this run's items; the index is shared with whatever else is in the store.
    let ours = |bound: i64, limit: usize| async move {
        let all = s.query_due(bound, limit).await.map_err(|e| format!("query_due: {e}"))?;
        for w in all.windows(2) {
            if w[0].due_at > w[1].due_at {
                return Err(format!("query_due is not earliest first: {:?} then {:?}", w[0].due_at, w[1].due_at));
            }
        }
        if let Some(late) = all.iter().find(|i| i.due_at.is_none_or(|d| d > bound)) {
            return Err(format!("query_due({bound}) returned {}/{} due at {:?}", late.pk, late.sk, late.due_at));
        }
        if all.len() > limit {
            return Err(format!("query_due returned {} items for limit {limit}", all.len()));
        }
        Ok::<_, String>((sks(&all.iter().filter(|i| i.pk == pk).cloned().collect::<Vec<_>>()), all))
    };
    let expect = |bound: i64, want: &'static [&'static str]| {
        let ours = &ours;
        move || async move {
            let (got, _) = ours(bound, 1000).await?;
            if got == want {
                Ok(())
            } else {
                Err(format!("query_due({bound}) gave {got:?}, expected {want:?}"))
            }
        }
    };
    eventually("due items up to the bound, earliest first", expect(base + 2_500, &["d1", "d2"])).await;
    eventually("every due item, none without due_at", expect(base + 10_000, &["d1", "d2", "d3"])).await;
    eventually("nothing due before the first", expect(base + 999, &[])).await;
    eventually("the bound is inclusive", expect(base + 1_000, &["d1"])).await;
    let ours = &ours;
    eventually("limit keeps the earliest", move || async move {
        let (_, all) = ours(base + 10_000, 1000).await?;
        let (_, two) = ours(base + 10_000, 2).await?;
        let first_two: Vec<_> = all.iter().take(2).map(|i| (&i.pk, &i.sk)).collect();
        let got: Vec<_> = two.iter().map(|i| (&i.pk, &i.sk)).collect();
        if two.len() == 2.min(all.len()) && got == first_two {
            Ok(())
        } else {
            Err(format!("limit 2 gave {got:?}, the earliest two are {first_two:?}"))
        }
    })
    .await;

    // Clearing due_at takes an item out of the index; changing it moves it.
    let mut d1 = s.get(pk, "d1").await.unwrap().expect("d1");
    d1.due_at = None;
    d1.version = 2;
    s.put(d1, Condition::Version(1)).await.unwrap();
    let d2 = Item { version: 2, ..Item::new(pk, "d2", json!({})).with_due(Some(base + 5_000)) };
    s.put(d2, Condition::Version(1)).await.unwrap();
    eventually("cleared and rescheduled items", expect(base + 10_000, &["d3", "d2"])).await;
    assert_eq!(s.get(pk, "d1").await.unwrap().expect("d1 still exists").due_at, None, "due_at cleared");
    s.delete(pk, "d3", Condition::None).await.unwrap();
    eventually("deleted items leave the index", expect(base + 10_000, &["d2"])).await;
}

async fn ttl(s: &dyn ItemStore, clock: &ManualClock, pk: &str) {
    let now = clock.now_secs();
    let short = Item::new(pk, "short", json!({"v": 1})).with_ttl(Some(now + 60));
    s.put(short.clone(), Condition::None).await.unwrap();
    s.put(Item::new(pk, "long", json!({})).with_ttl(Some(now + 3_600)), Condition::None).await.unwrap();
    s.put(Item::new(pk, "forever", json!({})), Condition::None).await.unwrap();
    s.put(
        Item::new(pk, "due-short", json!({})).with_ttl(Some(now + 60)).with_due(Some(clock.now_ms() - 1)),
        Condition::None,
    )
    .await
    .unwrap();
    assert_eq!(s.get(pk, "short").await.unwrap(), Some(short.clone()), "live item with a TTL is visible");
    let all = s.query(pk, SkRange::All, QueryOpts::default()).await.unwrap();
    assert_eq!(sks(&all), ["due-short", "forever", "long", "short"], "live TTL items are queried");
    eventually("a live due item with a TTL is due", move || async move {
        let due = s.query_due(clock.now_ms(), 1000).await.map_err(|e| e.to_string())?;
        if due.iter().any(|i| i.pk == pk && i.sk == "due-short") {
            Ok(())
        } else {
            Err("due-short missing from query_due".into())
        }
    })
    .await;

    // expires_at <= now means expired: exactly at the second counts.
    clock.set_ms((now + 60) * 1000);
    assert!(s.get(pk, "short").await.unwrap().is_none(), "item is invisible once the clock reaches expires_at");
    let all = s.query(pk, SkRange::All, QueryOpts::default()).await.unwrap();
    assert_eq!(sks(&all), ["forever", "long"], "expired items are not queried");
    let paged = s.query(pk, SkRange::All, QueryOpts { limit: Some(1), ..Default::default() }).await.unwrap();
    assert_eq!(sks(&paged), ["forever"], "limit counts live items only");
    let due = s.query_due(clock.now_ms(), 1000).await.unwrap();
    assert!(!due.iter().any(|i| i.pk == pk), "expired items are never due");

    match s.put(Item::new(pk, "short", json!({"v": 2})), Condition::Version(1)).await {
        Err(StoreError::ConditionFailed) => {}
        other => panic!("Version condition over an expired item must fail, got {other:?}"),
    }
    let reborn = Item::new(pk, "short", json!({"v": 3}));
    s.put(reborn.clone(), Condition::NotExists).await.expect("NotExists treats an expired item as absent");
    assert_eq!(s.get(pk, "short").await.unwrap(), Some(reborn), "the new item replaced the expired one");

    clock.advance_ms(3_600_000);
    assert!(s.get(pk, "long").await.unwrap().is_none(), "long TTL expires in its turn");
    assert!(s.get(pk, "forever").await.unwrap().is_some(), "items without TTL never expire");
}

// ------------------------------------------------------------------------------------- queue

/// Receives until `want` of this run's messages came back (or a few tries passed).
async fn recv_ours(q: &dyn Queue, name: QueueName, tag: &str, want: usize, visibility: u32) -> Vec<Message> {
    let mut ours = Vec::new();
    for _ in 0..8 {
        let got = q
            .receive(name, 10, visibility, Duration::from_secs(1))
            .await
            .unwrap_or_else(|e| panic!("receive from {}: {e}", name.as_str()));
        ours.extend(got.into_iter().filter(|m| m.body.starts_with(tag)));
        if ours.len() >= want {
            break;
        }
    }
    ours
}

/// This run's messages visible right now (no waiting).
async fn recv_now(q: &dyn Queue, name: QueueName, tag: &str, visibility: u32) -> Vec<Message> {
    let got = q
        .receive(name, 10, visibility, Duration::ZERO)
        .await
        .unwrap_or_else(|e| panic!("receive from {}: {e}", name.as_str()));
    got.into_iter().filter(|m| m.body.starts_with(tag)).collect()
}

fn bodies(msgs: &[Message]) -> BTreeSet<String> {
    msgs.iter().map(|m| m.body.clone()).collect()
}

/// The queue contract. Real-time backends: keep `env.max_receives()` small (about 5); the
/// suite waits roughly 2 s per receive while dead-lettering.
pub async fn queue_suite(queue: Arc<dyn Queue>, env: &dyn QueueEnv) {
    let q = queue.as_ref();
    let tag = format!("conf-{}:", run_id());
    send_receive_delete(q, env, &format!("{tag}srd:")).await;
    visibility(q, env, &format!("{tag}vis:")).await;
    delays(q, env, &format!("{tag}delay:")).await;
    dead_letters(q, env, &format!("{tag}dlq:")).await;
}

async fn send_receive_delete(q: &dyn Queue, env: &dyn QueueEnv, tag: &str) {
    let name = QueueName::Events;
    // 12 messages: more than one SendMessageBatch (10).
    let sent: BTreeSet<String> = (0..12).map(|i| format!("{tag}{i:02}")).collect();
    q.send(name, sent.iter().map(|b| OutMessage::now(b.clone())).collect()).await.expect("send");
    q.send(name, Vec::new()).await.expect("send of nothing");

    // Visibility 3 s: long enough to collect all 12, short enough to wait out below.
    let first = q.receive(name, 5, 3, Duration::from_secs(1)).await.expect("receive");
    assert!(first.len() <= 5, "receive returned {} messages for max 5", first.len());
    let mut got: Vec<Message> = first.into_iter().filter(|m| m.body.starts_with(tag)).collect();
    let rest = recv_ours(q, name, tag, 12 - got.len(), 3).await;
    got.extend(rest);
    assert_eq!(bodies(&got), sent, "every sent message is received once");
    assert_eq!(got.len(), 12, "no message is received twice within its visibility timeout");
    assert!(got.iter().all(|m| m.receive_count == 1), "first receive has receive_count 1: {got:?}");
    let ids: BTreeSet<&str> = got.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids.len(), 12, "message ids are distinct");

    // Half deleted on their own, half with the next receive (as a polling consumer does).
    let (alone, with_receive) = got.split_at(6);
    q.delete(name, alone.iter().map(|m| m.receipt.clone()).collect()).await.expect("delete");
    q.delete(name, Vec::new()).await.expect("delete of nothing");
    let next = q
        .delete_and_receive(name, with_receive.iter().map(|m| m.receipt.clone()).collect(), 10, 30, Duration::ZERO)
        .await
        .expect("delete_and_receive");
    assert!(
        next.iter().all(|m| !m.body.starts_with(tag)),
        "messages within their visibility timeout were received again: {:?}",
        bodies(&next)
    );
    env.advance(4).await;
    let again = recv_now(q, name, tag, 30).await;
    assert!(again.is_empty(), "deleted messages came back after the visibility timeout: {:?}", bodies(&again));
}

async fn visibility(q: &dyn Queue, env: &dyn QueueEnv, tag: &str) {
    let name = QueueName::Events;
    assert!(env.max_receives() >= 4, "the visibility test needs max_receives >= 4");
    let body = format!("{tag}m");
    q.send(name, vec![OutMessage::now(body.clone())]).await.expect("send");

    let r1 = recv_ours(q, name, tag, 1, 1).await;
    assert_eq!(r1.len(), 1, "message received");
    assert_eq!((r1[0].body.as_str(), r1[0].receive_count), (body.as_str(), 1), "first receive");
    assert!(recv_now(q, name, tag, 1).await.is_empty(), "a received message is hidden during its visibility timeout");

    env.advance(2).await;
    let r2 = recv_ours(q, name, tag, 1, 1).await;
    assert_eq!(r2.len(), 1, "message redelivered after the visibility timeout expired");
    assert_eq!(r2[0].id, r1[0].id, "redelivery is the same message");
    assert_eq!(r2[0].receive_count, 2, "receive_count counts redeliveries");

    // Extending the timeout keeps it hidden past the original one...
    q.change_visibility(name, &r2[0].receipt, 30).await.expect("change_visibility (extend)");
    env.advance(2).await;
    assert!(recv_now(q, name, tag, 1).await.is_empty(), "extended visibility keeps the message hidden");
    // ...and 0 makes it visible at once.
    q.change_visibility(name, &r2[0].receipt, 0).await.expect("change_visibility (release)");
    let r3 = recv_ours(q, name, tag, 1, 30).await;
    assert_eq!(r3.len(), 1, "visibility 0 makes the message visible again");
    assert_eq!(r3[0].receive_count, 3, "third receive");
    q.delete(name, vec![r3[0].receipt.clone()]).await.expect("delete");
}

async fn delays(q: &dyn Queue, env: &dyn QueueEnv, tag: &str) {
    let name = QueueName::Events;
    let now_body = format!("{tag}now");
    let later_body = format!("{tag}later");
    q.send(name, vec![OutMessage::delayed(later_body.clone(), 2), OutMessage::now(now_body.clone())])
        .await
        .expect("send delayed + immediate");
    let first = recv_ours(q, name, tag, 1, 30).await;
    assert_eq!(bodies(&first), BTreeSet::from([now_body]), "only the undelayed message is visible at first");
    assert!(recv_now(q, name, tag, 30).await.is_empty(), "a delayed message is invisible until its delay passes");
    env.advance(3).await;
    let later = recv_ours(q, name, tag, 1, 30).await;
    assert_eq!(bodies(&later), BTreeSet::from([later_body]), "the delayed message arrives after its delay");
    assert_eq!(later[0].receive_count, 1, "a delayed message's first receive");
    let receipts = first.iter().chain(&later).map(|m| m.receipt.clone()).collect();
    q.delete(name, receipts).await.expect("delete");
}

async fn dead_letters(q: &dyn Queue, env: &dyn QueueEnv, tag: &str) {
    let name = QueueName::Deliveries;
    let max = env.max_receives();
    assert!(max >= 1, "max_receives must be at least 1");
    let body = format!("{tag}poison");
    q.send(name, vec![OutMessage::now(body.clone())]).await.expect("send");

    // Fail it `max` times: receive and let the visibility timeout run out.
    for n in 1..=max {
        let got = recv_ours(q, name, tag, 1, 1).await;
        assert_eq!(got.len(), 1, "receive {n} of {max} before dead-lettering");
        assert_eq!(got[0].receive_count, n, "receive_count on receive {n}");
        env.advance(2).await;
    }
    // The next attempt finds it gone from the queue and in the dead-letter queue.
    let after = recv_now(q, name, tag, 1).await;
    assert!(after.is_empty(), "after {max} receives the message must leave the queue, got {after:?}");
    let find = |dl: Vec<Message>| dl.into_iter().filter(|m| m.body == body).collect::<Vec<_>>();
    let mut dead = Vec::new();
    for _ in 0..10 {
        dead = find(q.dead_letters(name, 100).await.expect("dead_letters"));
        if !dead.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(dead.len(), 1, "the message is in the dead-letter queue exactly once");
    let again = find(q.dead_letters(name, 100).await.expect("dead_letters again"));
    assert_eq!(again.len(), 1, "reading dead letters does not consume them");
    let other = find(q.dead_letters(QueueName::Events, 100).await.expect("dead_letters(events)"));
    assert!(other.is_empty(), "each queue has its own dead-letter queue");
    assert!(recv_now(q, name, tag, 1).await.is_empty(), "a dead letter never returns to its queue");

    // ... unless redriven: only what `keep` accepts goes back, as a new message.
    let other_body = format!("{tag}kept-dead");
    let ours = |b: &str| b == body;
    assert_eq!(q.redrive(name, 100, &|b: &str| b == other_body).await.expect("redrive of nothing"), 0);
    assert_eq!(find(q.dead_letters(name, 100).await.expect("dead_letters")).len(), 1, "not kept: still dead");
    let mut moved = 0;
    for _ in 0..10 {
        // A real queue may hide it briefly after the peeks above.
        moved = q.redrive(name, 100, &ours).await.expect("redrive");
        if moved > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1000)).await;
    }
    assert_eq!(moved, 1, "the kept dead letter is moved back");
    let back = recv_ours(q, name, tag, 1, 30).await;
    assert_eq!(bodies(&back), BTreeSet::from([body.clone()]), "the redriven message is received again");
    assert_eq!(back[0].receive_count, 1, "a redriven message starts a new receive count");
    q.delete(name, vec![back[0].receipt.clone()]).await.expect("delete");
    assert!(find(q.dead_letters(name, 100).await.expect("dead_letters")).is_empty(), "it left the dead letters");
}
