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
//! all values. A missing reference satisfies nothing. Each structure answers exactly what
//! `CompiledCondition::holds_for` (the semantics) says of the anchor, so the anchor is not
//! checked again; the property tests hold the index to the one-by-one engine.
//!
//! Triggers are filed in *groups*: the triggers with the same anchor and the same other
//! conditions (as a set) are one group, filed once, whose other conditions are checked once per
//! event however many triggers share them (the 1 in 250 of the bench that fire are one group).

use super::engine::{CompiledCondition, CompiledTrigger, Found, Scalar};
use super::extract::Slots;
use super::model::Operator;
use rustc_hash::FxHashMap as HashMap;
use smallvec::SmallVec;
use std::cmp::Ordering;

/// A numeric key for equality: the same for every spelling of one number (`-0` = `0`).
///
/// The bits are mixed (murmur3's finalizer, a bijection: equal numbers keep equal keys and
/// distinct ones distinct keys): a whole number's bits end in zeros, which FxHash spreads so
/// badly that thousands of keys shared one control byte (180 key compares per lookup at 10,000
/// triggers, measured).
fn num_key(n: f64) -> u64 {
    let mut x = if n == 0.0 { 0f64.to_bits() } else { n.to_bits() };
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// Group (or trigger) positions, `u32` to keep the lists small.
type Ids = Vec<u32>;

/// One event's candidate groups: on the stack while there are few.
type Candidates = SmallVec<[u32; 32]>;

/// The triggers that fire for one event (positions, ascending, each once): most often the
/// members of one group, borrowed from the index rather than copied.
#[derive(Debug)]
pub(super) enum Fired<'s> {
    Members(&'s [u32]),
    Many(SmallVec<[u32; 16]>),
}

impl Fired<'_> {
    pub(super) fn as_slice(&self) -> &[u32] {
        match self {
            Fired::Members(m) => m,
            Fired::Many(v) => v,
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Bounds {
    /// Bounds that read as numbers, by number (ascending).
    num: Vec<(f64, u32)>,
    /// The same bounds by text (ascending): an event value that is not a number compares by text.
    num_by_text: Vec<(String, u32)>,
    /// Bounds that are not numbers, by text (ascending).
    text: Vec<(String, u32)>,
}

/// The entries `b` of `list` (ascending) with `found OP b` true, `ord(b)` being how `b` compares
/// with `found`: for `>` / `>=` a prefix, for `<` / `<=` a suffix.
fn take<T>(list: &[(T, u32)], op: Operator, ord: impl Fn(&T) -> Ordering, out: &mut Candidates) {
    let (lo, hi) = match op {
        Operator::Gt => (0, list.partition_point(|(b, _)| ord(b) == Ordering::Less)),
        Operator::Ge => (0, list.partition_point(|(b, _)| ord(b) != Ordering::Greater)),
        Operator::Lt => (list.partition_point(|(b, _)| ord(b) != Ordering::Greater), list.len()),
        Operator::Le => (list.partition_point(|(b, _)| ord(b) == Ordering::Less), list.len()),
        Operator::Eq | Operator::In => (0, 0),
    };
    if lo < hi {
        out.extend(list[lo..hi].iter().map(|&(_, id)| id));
    }
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

    /// The bounds `b` with `found OP b` true.
    fn satisfied(&self, found: &Found<'_>, op: Operator, out: &mut Candidates) {
        match found.number {
            Some(n) => take(&self.num, op, |b| b.partial_cmp(&n).unwrap_or(Ordering::Equal), out),
            None if !self.num_by_text.is_empty() => take(&self.num_by_text, op, |b| b.as_str().cmp(found.text()), out),
            None => {}
        }
        // (A number's text is written only if there are text bounds to compare it with.)
        if !self.text.is_empty() {
            take(&self.text, op, |b| b.as_str().cmp(found.text()), out);
        }
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

/// The anchors on one path (group ids).
#[derive(Debug, Clone, Default)]
struct PathIndex {
    eq_num: HashMap<u64, Ids>,
    eq_text: HashMap<String, Ids>,
    /// The bound operators some group is anchored on, each once.
    bounds: Vec<(Operator, Bounds)>,
}

impl PathIndex {
    fn add_eq(&mut self, v: &Scalar, id: u32) {
        match v.number {
            Some(n) => self.eq_num.entry(num_key(n)).or_default().push(id),
            None => self.eq_text.entry(v.text.clone()).or_default().push(id),
        }
    }

    fn add_bound(&mut self, op: Operator, v: &Scalar, id: u32) {
        match self.bounds.iter_mut().find(|(o, _)| *o == op) {
            Some((_, b)) => b.add(v, id),
            None => {
                let mut b = Bounds::default();
                b.add(v, id);
                self.bounds.push((op, b));
            }
        }
    }

    fn candidates(&self, found: &Found<'_>, out: &mut Candidates) {
        let eq = match found.number {
            Some(n) if !self.eq_num.is_empty() => self.eq_num.get(&num_key(n)),
            None if !self.eq_text.is_empty() => self.eq_text.get(found.text()),
            _ => None,
        };
        if let Some(ids) = eq {
            out.extend_from_slice(ids);
        }
        for (op, bounds) in &self.bounds {
            bounds.satisfied(found, *op, out);
        }
    }

    fn is_empty(&self) -> bool {
        self.eq_num.is_empty() && self.eq_text.is_empty() && self.bounds.iter().all(|(_, b)| b.is_empty())
    }

    fn heap_bytes(&self) -> usize {
        let ids = |v: &Ids| v.capacity() * 4;
        self.eq_num.capacity() * (8 + std::mem::size_of::<Ids>())
            + self.eq_num.values().map(ids).sum::<usize>()
            + self.eq_text.capacity() * (std::mem::size_of::<String>() + std::mem::size_of::<Ids>())
            + self.eq_text.iter().map(|(k, v)| k.capacity() + ids(v)).sum::<usize>()
            + self.bounds.capacity() * std::mem::size_of::<(Operator, Bounds)>()
            + self.bounds.iter().map(|(_, b)| b.heap_bytes()).sum::<usize>()
    }
}

/// Triggers with one anchor and the same other conditions.
#[derive(Debug, Clone)]
struct Group {
    /// `MatchIndex::members[members.0..members.1]`: the triggers, ascending.
    members: (u32, u32),
    /// A member whose conditions `MatchIndex::rest[rest.0..rest.1]` point into.
    rep: u32,
    /// The other conditions: positions among `rep`'s conditions, each distinct one once.
    rest: (u32, u32),
}

#[derive(Debug, Clone, Default)]
pub(super) struct MatchIndex {
    /// Enabled triggers without conditions.
    always: Ids,
    groups: Vec<Group>,
    members: Ids,
    rest: Ids,
    /// By path slot.
    paths: Vec<PathIndex>,
    /// The slots some group is anchored on: the only references that give candidates.
    anchored: Vec<usize>,
}

/// What makes two conditions the same: path, operator and value text.
type CondKey = (usize, u8, String);

fn cond_key(c: &CompiledCondition) -> CondKey {
    (c.slot, c.operator as u8, c.value.text.clone())
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
        let mut idx = MatchIndex { paths: vec![PathIndex::default(); n_paths], ..Self::default() };
        let mut group_of: HashMap<(CondKey, Vec<CondKey>), usize> = HashMap::default();
        let mut members: Vec<Ids> = Vec::new();
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
            let Some((a, anchor)) = t.conditions.iter().enumerate().min_by_key(|(_, c)| cost(c)) else {
                idx.always.push(id);
                continue;
            };
            // The other conditions, each distinct one once (the anchor's copies are implied).
            let anchor_key = cond_key(anchor);
            let mut rest: Vec<(CondKey, usize)> = t
                .conditions
                .iter()
                .enumerate()
                .filter(|&(k, _)| k != a)
                .map(|(k, c)| (cond_key(c), k))
                .filter(|(key, _)| *key != anchor_key)
                .collect();
            rest.sort();
            rest.dedup_by(|x, y| x.0 == y.0);
            let rest_keys: Vec<CondKey> = rest.iter().map(|(key, _)| key.clone()).collect();
            let gid = *group_of.entry((anchor_key, rest_keys)).or_insert_with(|| {
                let gid = idx.groups.len();
                let from = idx.rest.len() as u32;
                idx.rest.extend(rest.iter().map(|&(_, k)| k as u32));
                idx.groups.push(Group { members: (0, 0), rep: id, rest: (from, idx.rest.len() as u32) });
                members.push(Vec::new());
                // A new group is filed under its anchor.
                let p = &mut idx.paths[anchor.slot];
                let g = gid as u32;
                match anchor.operator {
                    Operator::Eq | Operator::In => {
                        // The same value twice in one `in` list files the group once.
                        let mut seen: Vec<Key> = Vec::new();
                        for v in eq_values(anchor) {
                            let k = Key::of(v);
                            if !seen.contains(&k) {
                                seen.push(k);
                                p.add_eq(v, g);
                            }
                        }
                    }
                    op => p.add_bound(op, &anchor.value, g),
                }
                gid
            });
            members[gid].push(id);
        }
        for (g, ids) in idx.groups.iter_mut().zip(&members) {
            let from = idx.members.len() as u32;
            idx.members.extend_from_slice(ids);
            g.members = (from, idx.members.len() as u32);
        }
        for (slot, p) in idx.paths.iter_mut().enumerate() {
            for (_, b) in &mut p.bounds {
                b.sort();
            }
            if !p.is_empty() {
                idx.anchored.push(slot);
            }
        }
        idx
    }

    /// The triggers (positions, ascending, each once) that fire, given what each path slot
    /// found in the payload: those whose anchor the event satisfies (their group's), and whose
    /// group's other conditions hold.
    pub(super) fn fired(&self, triggers: &[CompiledTrigger], found: &Slots<'_>) -> Fired<'_> {
        let mut candidates = Candidates::new();
        for &slot in &self.anchored {
            if let Some(f) = &found[slot] {
                self.paths[slot].candidates(f, &mut candidates);
            }
        }
        // The first list of triggers is borrowed; only a second one makes a copy.
        let mut one: Option<&[u32]> = (!self.always.is_empty()).then_some(&self.always[..]);
        let mut many: Option<SmallVec<[u32; 16]>> = None;
        for &g in &candidates {
            let g = &self.groups[g as usize];
            let conditions = &triggers[g.rep as usize].conditions;
            let holds = self.rest[g.rest.0 as usize..g.rest.1 as usize].iter().all(|&k| {
                let c = &conditions[k as usize];
                c.holds_for(found[c.slot].as_ref())
            });
            if holds {
                let members = &self.members[g.members.0 as usize..g.members.1 as usize];
                match (&mut many, one) {
                    (Some(v), _) => v.extend_from_slice(members),
                    (None, None) => one = Some(members),
                    (None, Some(first)) => {
                        let mut v = SmallVec::from_slice(first);
                        v.extend_from_slice(members);
                        many = Some(v);
                    }
                }
            }
        }
        match many {
            Some(mut v) => {
                v.sort_unstable();
                Fired::Many(v)
            }
            None => Fired::Members(one.unwrap_or(&[])),
        }
    }

    pub(super) fn heap_bytes(&self) -> usize {
        (self.always.capacity() + self.members.capacity() + self.rest.capacity()) * 4
            + self.groups.capacity() * std::mem::size_of::<Group>()
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
