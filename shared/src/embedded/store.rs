//! `ItemStore` on SQLite: the `items` table keeps DynamoDB's shape (pk, sk, version, a sparse
//! due index, TTL) so repositories behave the same on both backends.

use super::db::{Db, DbError};
use crate::ports::{Clock, Condition, Doc, Item, ItemStore, QueryOpts, SkRange, StoreError};
use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Row};
use std::sync::Arc;

#[derive(Clone)]
pub struct SqliteStore {
    db: Db,
    clock: Arc<dyn Clock>,
}

impl SqliteStore {
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }

    /// Removes expired items for good (reads already ignore them, as DynamoDB's do).
    pub async fn purge_expired(&self) -> Result<usize, StoreError> {
        let now = self.clock.now_secs();
        self.db
            .write(move |c| c.execute("DELETE FROM items WHERE expires_at IS NOT NULL AND expires_at <= ?1", [now]))
            .await
            .map_err(unavailable)
    }
}

fn unavailable(e: DbError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn row_to_item(row: &Row<'_>) -> rusqlite::Result<Item> {
    Ok(Item {
        pk: row.get(0)?,
        sk: row.get(1)?,
        data: Doc::from_text(row.get(2)?),
        version: row.get::<_, i64>(3)? as u64,
        due_at: row.get(4)?,
        expires_at: row.get(5)?,
    })
}

const COLS: &str = "pk, sk, data, version, due_at, expires_at";

/// A conditional write's result: `ConditionFailed` when its condition did not hold.
fn held(ok: bool) -> Result<(), StoreError> {
    if ok {
        Ok(())
    } else {
        Err(StoreError::ConditionFailed)
    }
}

/// Checks `cond` against the live stored item; `Ok(false)` means the condition failed.
fn condition_holds(c: &Connection, pk: &str, sk: &str, cond: Condition, now_secs: i64) -> rusqlite::Result<bool> {
    if cond == Condition::None {
        return Ok(true);
    }
    let current: Option<(i64, Option<i64>)> = c
        .prepare_cached("SELECT version, expires_at FROM items WHERE pk = ?1 AND sk = ?2")?
        .query_row(params![pk, sk], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let live_version = current.and_then(|(v, exp)| match exp {
        Some(e) if e <= now_secs => None,
        _ => Some(v as u64),
    });
    Ok(match cond {
        Condition::None => true,
        Condition::NotExists => live_version.is_none(),
        Condition::Version(v) => live_version == Some(v),
    })
}

/// An item ready to write: its JSON is serialized by the caller, off the writer thread (which
/// every write in the process shares).
pub(super) struct Encoded {
    pk: String,
    sk: String,
    data: String,
    version: i64,
    due_at: Option<i64>,
    expires_at: Option<i64>,
}

impl From<Item> for Encoded {
    fn from(item: Item) -> Self {
        Encoded {
            data: item.data.into_text(),
            pk: item.pk,
            sk: item.sk,
            version: item.version as i64,
            due_at: item.due_at,
            expires_at: item.expires_at,
        }
    }
}

fn write_item(c: &Connection, item: &Encoded) -> rusqlite::Result<()> {
    // An upsert rewrites the row in place (INSERT OR REPLACE would delete and insert it).
    c.prepare_cached(
        "INSERT INTO items (pk, sk, data, version, due_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (pk, sk) DO UPDATE SET data = excluded.data, version = excluded.version, \
         due_at = excluded.due_at, expires_at = excluded.expires_at",
    )?
    .execute(params![item.pk, item.sk, item.data, item.version, item.due_at, item.expires_at])?;
    Ok(())
}

/// A conditional write inside a job: `Ok(false)`, and nothing written, when `cond` fails.
pub(super) fn put_if(c: &Connection, item: &Encoded, cond: Condition, now_secs: i64) -> rusqlite::Result<bool> {
    if !condition_holds(c, &item.pk, &item.sk, cond, now_secs)? {
        return Ok(false);
    }
    write_item(c, item)?;
    Ok(true)
}

#[async_trait]
impl ItemStore for SqliteStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let (pk, sk) = (pk.to_string(), sk.to_string());
        let now = self.clock.now_secs();
        self.db
            .read_inline(move |c| {
                c.prepare_cached(&format!(
                    "SELECT {COLS} FROM items WHERE pk = ?1 AND sk = ?2 AND (expires_at IS NULL OR expires_at > ?3)"
                ))?
                .query_row(params![pk, sk, now], row_to_item)
                .optional()
            })
            .await
            .map_err(unavailable)
    }

    async fn put(&self, item: Item, cond: Condition) -> Result<(), StoreError> {
        let now = self.clock.now_secs();
        let item = Encoded::from(item);
        let ok = self
            .db
            .write(move |c| {
                if !condition_holds(c, &item.pk, &item.sk, cond, now)? {
                    return Ok(false);
                }
                write_item(c, &item)?;
                Ok(true)
            })
            .await
            .map_err(unavailable)?;
        held(ok)
    }

    async fn put_many(&self, items: Vec<Item>) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        let items: Vec<Encoded> = items.into_iter().map(Encoded::from).collect();
        self.db
            .write(move |c| {
                for item in &items {
                    write_item(c, item)?;
                }
                Ok(())
            })
            .await
            .map_err(unavailable)
    }

    async fn put_in_order(&self, writes: Vec<(Item, Condition)>) -> Result<(), StoreError> {
        let now = self.clock.now_secs();
        let writes: Vec<(Encoded, Condition)> = writes.into_iter().map(|(i, c)| (Encoded::from(i), c)).collect();
        // One job: the writes before a failed condition commit, as they would one by one.
        let all = self
            .db
            .write(move |c| {
                for (item, cond) in &writes {
                    if !condition_holds(c, &item.pk, &item.sk, *cond, now)? {
                        return Ok(false);
                    }
                    write_item(c, item)?;
                }
                Ok(true)
            })
            .await
            .map_err(unavailable)?;
        held(all)
    }

    async fn delete(&self, pk: &str, sk: &str, cond: Condition) -> Result<(), StoreError> {
        let (pk, sk) = (pk.to_string(), sk.to_string());
        let now = self.clock.now_secs();
        let ok = self
            .db
            .write(move |c| {
                if !condition_holds(c, &pk, &sk, cond, now)? {
                    return Ok(false);
                }
                c.prepare_cached("DELETE FROM items WHERE pk = ?1 AND sk = ?2")?.execute(params![pk, sk])?;
                Ok(true)
            })
            .await
            .map_err(unavailable)?;
        held(ok)
    }

    async fn query(&self, pk: &str, range: SkRange, opts: QueryOpts) -> Result<Vec<Item>, StoreError> {
        let pk = pk.to_string();
        let now = self.clock.now_secs();
        self.db
            .read(move |c| {
                let (lo, hi) = match &range {
                    SkRange::All => (String::new(), None),
                    SkRange::Prefix(p) => (p.clone(), prefix_upper_bound(p)),
                    SkRange::Between(a, b) => (a.clone(), Some(format!("{b}\u{0}"))),
                };
                let order = if opts.descending { "DESC" } else { "ASC" };
                let after_cmp = if opts.descending { "<" } else { ">" };
                let limit = opts.limit.map(|l| l as i64).unwrap_or(-1);
                let sql = format!(
                    "SELECT {COLS} FROM items WHERE pk = ?1 AND sk >= ?2 AND (?3 IS NULL OR sk < ?3) \
                     AND (?6 IS NULL OR sk {after_cmp} ?6) \
                     AND (expires_at IS NULL OR expires_at > ?4) ORDER BY sk {order} LIMIT ?5"
                );
                let mut stmt = c.prepare_cached(&sql)?;
                let rows = stmt.query_map(params![pk, lo, hi, now, limit, opts.after], row_to_item)?;
                rows.collect()
            })
            .await
            .map_err(unavailable)
    }

    async fn query_due(&self, due_before_ms: i64, limit: usize) -> Result<Vec<Item>, StoreError> {
        let now = self.clock.now_secs();
        self.db
            .read(move |c| {
                let mut stmt = c.prepare_cached(&format!(
                    "SELECT {COLS} FROM items WHERE due_at IS NOT NULL AND due_at <= ?1 \
                     AND (expires_at IS NULL OR expires_at > ?2) ORDER BY due_at ASC LIMIT ?3"
                ))?;
                let rows = stmt.query_map(params![due_before_ms, now, limit as i64], row_to_item)?;
                rows.collect()
            })
            .await
            .map_err(unavailable)
    }
}

/// The smallest string greater than every string starting with `prefix` (None: no bound).
fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = char::from_u32(last as u32 + 1) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}
