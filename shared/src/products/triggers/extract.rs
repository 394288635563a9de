//! Reading a trigger group's references straight from an event's JSON text, in one pass and
//! without building the value: a tree of the referenced paths guides serde_json's deserializer,
//! subtrees no reference enters are skipped (`IgnoredAny`), and only the values at referenced
//! paths are decoded, strings borrowed from the text unless they hold escapes.
//!
//! It finds what `engine::resolve` finds in the parsed value (the property test checks): a
//! segment is an object key or an array index, null, objects and arrays find nothing, and of
//! duplicate keys the last counts (as in a parsed `Value`).

use super::engine::Found;
use rustc_hash::FxHashMap as HashMap;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Number, Value};
use std::borrow::Cow;
use std::fmt;

/// What each path slot found (`None`: missing, or null, an object or an array).
pub(super) type Slots<'a> = [Option<Found<'a>>];

/// Above this many children a node looks keys up by hash rather than one by one.
const SCAN_CHILDREN: usize = 8;

/// Up to this many keys and children, a parsed object's entries are scanned for each child
/// (lengths compared, then two words) rather than looked up by hash: `serde_json::Map` hashes
/// every key with SipHash, which costs more than scanning a few dozen entries.
const SCAN_ENTRIES: usize = 64;
const SCAN_NODE_CHILDREN: usize = 16;

/// The bit of a key's length in `Node::key_lengths` (lengths from 63 up share the last bit).
fn length_bit(key: &str) -> u64 {
    1 << key.len().min(63)
}

#[derive(Debug, Clone, Default)]
struct Node {
    /// The array element this segment names (`key.parse::<usize>()`, like `resolve`).
    index: Option<usize>,
    /// The path ending here.
    slot: Option<usize>,
    children: Vec<usize>,
    /// The children's keys, next to their node ids (looked up for every key of the object).
    keys: Vec<(Box<str>, usize)>,
    /// The children's keys' `key_words`, in `keys`' order.
    words: Vec<(u64, u64)>,
    by_key: Option<HashMap<Box<str>, usize>>,
    /// The children's key lengths, as bits (`length_bit`): most keys of an object are told
    /// apart from every child by their length alone.
    key_lengths: u64,
    /// The slots at and below this node: cleared whenever the node's value is (re)read, so a
    /// later duplicate key replaces everything an earlier one found.
    below: Vec<usize>,
}

impl Node {
    /// The child named `key`. Most keys of an object name no child, and are told so by their
    /// length (`key_lengths`); the others are compared as two words (`key_words`) before any
    /// byte-by-byte comparison.
    fn child(&self, key: &str) -> Option<usize> {
        if self.key_lengths & length_bit(key) == 0 {
            return None;
        }
        if let Some(m) = &self.by_key {
            return m.get(key).copied();
        }
        let words = key_words(key.as_bytes());
        self.keys
            .iter()
            .zip(&self.words)
            .find(|((k, _), w)| **w == words && k.len() == key.len() && (key.len() <= 16 || **k == *key))
            .map(|((_, c), _)| *c)
    }
}

/// Two words that, with the length, tell keys of up to 16 bytes apart exactly: the first and
/// last 8 bytes (4 bytes, or the first, middle and last byte, for shorter keys).
#[inline]
fn key_words(b: &[u8]) -> (u64, u64) {
    let n = b.len();
    let word = |at: usize| u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"));
    let half = |at: usize| u64::from(u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes")));
    if n >= 8 {
        (word(0), word(n - 8))
    } else if n >= 4 {
        (half(0), half(n - 4))
    } else if n > 0 {
        (u64::from(b[0]) | u64::from(b[n / 2]) << 8 | u64::from(b[n - 1]) << 16, 0)
    } else {
        (0, 0)
    }
}

/// The referenced paths of one trigger group, as a tree from the payload (node 0) down.
#[derive(Debug, Clone)]
pub(super) struct PathTree {
    nodes: Vec<Node>,
}

impl Default for PathTree {
    fn default() -> Self {
        Self::new(&[])
    }
}

impl PathTree {
    /// `paths[slot]` is the path whose value goes to `slot`.
    pub(super) fn new(paths: &[Vec<String>]) -> Self {
        let mut nodes = vec![Node::default()];
        for (slot, path) in paths.iter().enumerate() {
            let mut at = 0;
            for seg in path {
                at = match nodes[at].child(seg) {
                    Some(c) => c,
                    None => {
                        let id = nodes.len();
                        nodes.push(Node { index: seg.parse().ok(), ..Node::default() });
                        nodes[at].children.push(id);
                        nodes[at].keys.push((seg.as_str().into(), id));
                        nodes[at].words.push(key_words(seg.as_bytes()));
                        nodes[at].key_lengths |= length_bit(seg);
                        id
                    }
                };
            }
            nodes[at].slot = Some(slot);
        }
        // Children come after their parent, so one backward sweep gathers every subtree.
        for n in (0..nodes.len()).rev() {
            let mut below: Vec<usize> = nodes[n].slot.into_iter().collect();
            for &c in &nodes[n].children {
                below.extend_from_slice(&nodes[c].below);
            }
            nodes[n].below = below;
            if nodes[n].keys.len() > SCAN_CHILDREN {
                nodes[n].by_key = Some(nodes[n].keys.iter().cloned().collect());
            }
        }
        Self { nodes }
    }

    /// Fills every slot from a parsed payload: what `engine::resolve` finds at each path, read
    /// in one walk down the referenced subtrees.
    pub(super) fn resolve<'a>(&self, payload: &'a Value, found: &mut Slots<'a>) {
        self.walk_value(0, payload, found);
    }

    fn walk_value<'a>(&self, node: usize, v: &'a Value, found: &mut Slots<'a>) {
        let n = &self.nodes[node];
        if let Some(slot) = n.slot {
            found[slot] = match v {
                Value::String(s) => Some(Found::string(Cow::Borrowed(s))),
                Value::Number(x) => Some(Found::json_number(x.clone())),
                Value::Bool(b) => Some(Found::bool(*b)),
                Value::Null | Value::Object(_) | Value::Array(_) => None,
            };
        }
        if n.children.is_empty() {
            return;
        }
        match v {
            // A parsed object's keys are distinct: a scan finds what a lookup finds.
            Value::Object(m) if m.len() <= SCAN_ENTRIES && n.keys.len() <= SCAN_NODE_CHILDREN => {
                for ((k, c), &words) in n.keys.iter().zip(&n.words) {
                    let hit = m.iter().find(|(mk, _)| {
                        mk.len() == k.len() && key_words(mk.as_bytes()) == words && (k.len() <= 16 || **mk == **k)
                    });
                    if let Some((_, child_value)) = hit {
                        self.walk_value(*c, child_value, found);
                    }
                }
            }
            Value::Object(m) => {
                for (k, c) in &n.keys {
                    if let Some(child_value) = m.get(&**k) {
                        self.walk_value(*c, child_value, found);
                    }
                }
            }
            Value::Array(a) => {
                for &c in &n.children {
                    if let Some(child_value) = self.nodes[c].index.and_then(|i| a.get(i)) {
                        self.walk_value(c, child_value, found);
                    }
                }
            }
            _ => {}
        }
    }

    /// Fills every slot from `json`, which was checked as JSON when the event arrived; text that
    /// is not JSON finds nothing.
    pub(super) fn extract<'a>(&self, json: &'a str, found: &mut Slots<'a>) {
        let mut de = serde_json::Deserializer::from_str(json);
        let read = (Walk { tree: self, node: 0, found: &mut *found }).deserialize(&mut de).and_then(|()| de.end());
        if read.is_err() {
            found.fill(None);
        }
    }
}

/// Reads one value at `node`: sets its slot when it is a scalar, descends into its children
/// when it is an object or array, skips everything else.
struct Walk<'t, 'f, 'a> {
    tree: &'t PathTree,
    node: usize,
    found: &'f mut Slots<'a>,
}

impl<'a> Walk<'_, '_, 'a> {
    fn set(self, f: Found<'a>) {
        if let Some(slot) = self.tree.nodes[self.node].slot {
            self.found[slot] = Some(f);
        }
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_, '_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        for &s in &self.tree.nodes[self.node].below {
            self.found[s] = None;
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<(), E> {
        self.set(Found::string(Cow::Borrowed(v)));
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.set(Found::string(Cow::Owned(v.to_string())));
        Ok(())
    }

    fn visit_string<E>(self, v: String) -> Result<(), E> {
        self.set(Found::string(Cow::Owned(v)));
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.set(Found::json_number(v.into()));
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.set(Found::json_number(v.into()));
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        // Like a parsed `Value`: a float that is not finite would be null.
        if let Some(n) = Number::from_f64(v) {
            self.set(Found::json_number(n));
        }
        Ok(())
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.set(Found::bool(v));
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Walk { tree, node, found } = self;
        let n = &tree.nodes[node];
        while let Some(child) = map.next_key_seed(KeySeed(n))? {
            match child {
                Some(c) => map.next_value_seed(Walk { tree, node: c, found: &mut *found })?,
                None => map.next_value::<IgnoredAny>().map(drop)?,
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Walk { tree, node, found } = self;
        let n = &tree.nodes[node];
        let named = |i: usize| n.children.iter().copied().filter(move |&c| tree.nodes[c].index == Some(i));
        for i in 0.. {
            let mut it = named(i);
            let more = match (it.next(), it.next()) {
                (None, _) => seq.next_element::<IgnoredAny>()?.is_some(),
                (Some(c), None) => seq.next_element_seed(Walk { tree, node: c, found: &mut *found })?.is_some(),
                // Two spellings of one index ("1", "01"): the element is read once, then walked
                // for each of them.
                (Some(_), Some(_)) => match seq.next_element::<&'de RawValue>()? {
                    Some(raw) => {
                        for c in named(i) {
                            let mut de = serde_json::Deserializer::from_str(raw.get());
                            Walk { tree, node: c, found: &mut *found }
                                .deserialize(&mut de)
                                .map_err(de::Error::custom)?;
                        }
                        true
                    }
                    None => false,
                },
            };
            if !more {
                break;
            }
        }
        Ok(())
    }
}

/// Reads an object key as the child of the node it names, if any, without keeping it.
struct KeySeed<'t>(&'t Node);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, v: &str) -> Result<Option<usize>, E> {
        Ok(self.0.child(v))
    }
}
