//! The matching index of one event type's triggers: every enabled trigger is filed under one
//! *anchor* — its most selective condition — so an event is checked only against the triggers
//! whose anchor it satisfies, whatever the number of triggers.
//!
//! * `=` and each `in` item: a hash map from the value to the triggers anchored on it, one for
//!   values that read as numbers (keyed by the number, so `"3"` finds `"3.0"`) and one for the
//!   others (keyed by the text).
//! * `>`, `>=`, `<`, `<=`: the anchored values sorted; a binary search gives every satisfied bound
//!   as one slice.
//! * Triggers without conditions always fire.
//!
//! The seed's comparison decides which structure answers: numeric when both sides read as
//! numbers, otherwise by text. So an event value that reads as a number looks in the numeric
//! structures and among the non-numeric values by text; one that does not looks by text among
//! all values. A missing reference satisfies nothing. The anchor is checked again, with every
//! other condition, by the engine (`CompiledCondition::holds_for`), which stays the semantics.

use super::engine::{CompiledCondition, CompiledTrigger, Found, Scalar};
use super::model::Operator;
use rustc_hash::FxHashMap as HashMap;
use smallvec::SmallVec;
use std::cmp::Ordering;

/// A numeric key for equality: the same for every spelling of one number (`-0` = `0`).
fn num_key(n: f64) -> u64 {
    if n == 0.0 {
        0f64.to_bits()
    } else {
        n.to_bits()
    }
}

/// Trigger positions in the group, `u32` to keep the lists small.
type Ids = Vec<u32>;

/// One event's candidates: on the stack while there are few.
pub(super) type Candidates = SmallVec<[u32; 32]>;

#[derive(Debug, Clone, Default)]
struct Bounds {
    /// Bounds that read as numbers, by number (ascending).
    num: Vec<(f64, u32)>,
    /// The same bounds by text (ascending): an event value that is not a number compares by text.
    num_by_text: Vec<(String, u32)>,
    /// Bounds that are not numbers, by text (ascending).
    text: Vec<(String, u32)>,
}

impl Bounds {
    fn add(&mut self, v: &Scalar, id: u32) {
        match v.number {
            Some(n) => {
                self.num.push((n, id));
                self.num_by_text.push((v.text.clone(), id));
            }
            None => self.text.push((v.text.clone(), id)),
        }
    }

    fn sort(&mut self) {
        self.num.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(Ordering::Equal));
        self.num_by_text.sort();
        self.text.sort();
    }

    /// The bounds `b` with `found OP b` true, where `below(b)` says whether `b` sorts before the
    /// satisfied region (`upper`: the satisfied bounds are the largest ones).
    fn satisfied(&self, found: &Found<'_>, op: Operator, out: &mut Candidates) {
        // For `found > b` the satisfied bounds are those below found: a prefix; for `<` a suffix.
        let take =
            |ord_of: &dyn Fn(usize) -> Ordering, len: usize, ids: &dyn Fn(usize) -> u32, out: &mut Candidates| {
                // ord_of(i): how bound i compares with found.
                let (lo, hi) = match op {
                    Operator::Gt => (0, partition(len, |i| ord_of(i) == Ordering::Less)),
                    Operator::Ge => (0, partition(len, |i| ord_of(i) != Ordering::Greater)),
                    Operator::Lt => (partition(len, |i| ord_of(i) != Ordering::Greater), len),
                    Operator::Le => (partition(len, |i| ord_of(i) == Ordering::Less), len),
                    Operator::Eq | Operator::In => (0, 0),
                };
                if lo < hi {
                    out.extend((lo..hi).map(ids));
                }
            };
        match found.number {
            Some(n) => {
                let num = &self.num;
                take(&|i| num[i].0.partial_cmp(&n).unwrap_or(Ordering::Equal), num.len(), &|i| num[i].1, out);
            }
            None => {
                let nt = &self.num_by_text;
                take(&|i| nt[i].0.as_str().cmp(found.text()), nt.len(), &|i| nt[i].1, out);
            }
        }
        let tx = &self.text;
        // (A number's text is written only if there are text bounds to compare it with.)
        take(&|i| tx[i].0.as_str().cmp(found.text()), tx.len(), &|i| tx[i].1, out);
    }

    fn is_empty(&self) -> bool {
        self.num.is_empty() && self.text.is_empty()
    }

    fn heap_bytes(&self) -> usize {
        self.num.capacity() * std::mem::size_of::<(f64, u32)>()
            + (self.num_by_text.capacity() + self.text.capacity()) * std::mem::size_of::<(String, u32)>()
            + self.num_by_text.iter().chain(&self.text).map(|(s, _)| s.capacity()).sum::<usize>()
    }
}

/// The first index in `0..len` where `pred` stops holding (`pred` holds on a prefix).
fn partition(len: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, len);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The anchors on one path.
#[derive(Debug, Clone, Default)]
struct PathIndex {
    eq_num: HashMap<u64, Ids>,
    eq_text: HashMap<String, Ids>,
    gt: Bounds,
    ge: Bounds,
    lt: Bounds,
    le: Bounds,
}

impl PathIndex {
    fn add_eq(&mut self, v: &Scalar, id: u32) {
        match v.number {
            Some(n) => self.eq_num.entry(num_key(n)).or_default().push(id),
            None => self.eq_text.entry(v.text.clone()).or_default().push(id),
        }
    }

    fn candidates(&self, found: &Found<'_>, out: &mut Candidates) {
        let eq = match found.number {
            Some(n) => self.eq_num.get(&num_key(n)),
            None => self.eq_text.get(found.text()),
        };
        if let Some(ids) = eq {
            out.extend_from_slice(ids);
        }
        for (bounds, op) in
            [(&self.gt, Operator::Gt), (&self.ge, Operator::Ge), (&self.lt, Operator::Lt), (&self.le, Operator::Le)]
        {
            if !bounds.is_empty() {
                bounds.satisfied(found, op, out);
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.eq_num.is_empty()
            && self.eq_text.is_empty()
            && [&self.gt, &self.ge, &self.lt, &self.le].iter().all(|b| b.is_empty())
    }

    fn heap_bytes(&self) -> usize {
        let ids = |v: &Ids| v.capacity() * 4;
        self.eq_num.capacity() * (8 + std::mem::size_of::<Ids>())
            + self.eq_num.values().map(ids).sum::<usize>()
            + self.eq_text.capacity() * (std::mem::size_of::<String>() + std::mem::size_of::<Ids>())
            + self.eq_text.iter().map(|(k, v)| k.capacity() + ids(v)).sum::<usize>()
            + [&self.gt, &self.ge, &self.lt, &self.le].iter().map(|b| b.heap_bytes()).sum::<usize>()
    }
}

#[derive(Debug, Clone, Default)]
pub(super) struct MatchIndex {
    /// Enabled triggers without conditions.
    always: Ids,
    /// By path slot.
    paths: Vec<PathIndex>,
    /// The slots some trigger is anchored on: the only references looked up before the
    /// candidates are known.
    anchored: Vec<usize>,
}

impl MatchIndex {
    pub(super) fn build(triggers: &[CompiledTrigger], n_paths: usize) -> Self {
        // How many conditions ask each path for each value: an anchor shared by few triggers
        // is the most selective.
        let mut eq_counts: HashMap<(usize, Key), usize> = HashMap::default();
        for t in triggers.iter().filter(|t| t.trigger.spec.enabled) {
            for c in &t.conditions {
                for v in eq_values(c) {
                    *eq_counts.entry((c.slot, Key::of(v))).or_default() += 1;
                }
            }
        }
        let mut idx = MatchIndex { always: Vec::new(), paths: vec![PathIndex::default(); n_paths], anchored: vec![] };
        for (i, t) in triggers.iter().enumerate() {
            if !t.trigger.spec.enabled {
                continue;
            }
            let id = i as u32;
            let cost = |c: &CompiledCondition| match c.operator {
                Operator::Eq | Operator::In => {
                    eq_values(c).map(|v| eq_counts.get(&(c.slot, Key::of(v))).copied().unwrap_or(0)).sum::<usize>()
                }
                // A bound may hold for every event: anchor on it only when nothing else exists.
                _ => usize::MAX,
            };
            let Some(anchor) = t.conditions.iter().min_by_key(|c| cost(c)) else {
                idx.always.push(id);
                continue;
            };
            let p = &mut idx.paths[anchor.slot];
            match anchor.operator {
                Operator::Eq | Operator::In => {
                    // The same value twice in one `in` list files the trigger once.
                    let mut seen: Vec<Key> = Vec::new();
                    for v in eq_values(anchor) {
                        let k = Key::of(v);
                        if !seen.contains(&k) {
                            seen.push(k);
                            p.add_eq(v, id);
                        }
                    }
                }
                Operator::Gt => p.gt.add(&anchor.value, id),
                Operator::Ge => p.ge.add(&anchor.value, id),
                Operator::Lt => p.lt.add(&anchor.value, id),
                Operator::Le => p.le.add(&anchor.value, id),
            }
        }
        for (slot, p) in idx.paths.iter_mut().enumerate() {
            for b in [&mut p.gt, &mut p.ge, &mut p.lt, &mut p.le] {
                b.sort();
            }
            if !p.is_empty() {
                idx.anchored.push(slot);
            }
        }
        idx
    }

    pub(super) fn anchored_slots(&self) -> &[usize] {
        &self.anchored
    }

    /// The triggers (positions, ascending, each once) whose anchor the event satisfies, given
    /// what each anchored slot found in the payload.
    pub(super) fn candidates<'f, 'a: 'f>(&self, found: impl Fn(usize) -> Option<&'f Found<'a>>, out: &mut Candidates) {
        out.extend_from_slice(&self.always);
        for &slot in &self.anchored {
            if let Some(f) = found(slot) {
                self.paths[slot].candidates(f, out);
            }
        }
        // Often they come from one hash bucket, already in order.
        if !out.is_sorted() {
            out.sort_unstable();
        }
    }

    pub(super) fn heap_bytes(&self) -> usize {
        self.always.capacity() * 4
            + self.anchored.capacity() * 8
            + self.paths.capacity() * std::mem::size_of::<PathIndex>()
            + self.paths.iter().map(PathIndex::heap_bytes).sum::<usize>()
    }
}

/// The values an `=` or `in` condition accepts.
fn eq_values(c: &CompiledCondition) -> impl Iterator<Item = &Scalar> {
    let (one, list): (Option<&Scalar>, &[Scalar]) = match c.operator {
        Operator::Eq => (Some(&c.value), &[]),
        Operator::In => (None, &c.list),
        _ => (None, &[]),
    };
    one.into_iter().chain(list)
}

/// What an equality value is keyed by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Num(u64),
    Text(String),
}

impl Key {
    fn of(v: &Scalar) -> Self {
        match v.number {
            Some(n) => Key::Num(num_key(n)),
            None => Key::Text(v.text.clone()),
        }
    }
}
