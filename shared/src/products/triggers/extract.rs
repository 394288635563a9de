//! Reading a trigger group's references straight from an event's JSON text, in one pass and
//! without building the value: a tree of the referenced paths guides a scan of the text,
//! subtrees no reference enters are skipped unchecked (the text was checked as JSON when the
//! event arrived), and only the values at referenced paths are decoded, strings borrowed from
//! the text unless they hold escapes.
//!
//! It finds what `engine::resolve` finds in the parsed value (the property test checks): a
//! segment is an object key or an array index, null, objects and arrays find nothing, and of
//! duplicate keys the last counts (as in a parsed `Value`).

use super::engine::Found;
use rustc_hash::FxHashMap as HashMap;
use serde::de::{Deserializer, Visitor};
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

    /// Fills every slot from `json`, which was checked as JSON when the event arrived (a
    /// payload is valid JSON by construction): what `engine::resolve` finds in the parsed text.
    /// Text that is truncated, or has anything but whitespace after the value, finds nothing;
    /// the values no reference enters are skipped without being checked.
    pub(super) fn extract<'a>(&self, json: &'a str, found: &mut Slots<'a>) {
        let mut scan = Scan { json, at: 0 };
        let read = scan.value(self, 0, found).and_then(|()| scan.end());
        if read.is_err() {
            found.fill(None);
        }
    }
}

/// Where the first `"` or `\\` at or after `i` is: eight bytes at a time, a byte equal to
/// either setting its lane's high bit (the has-zero-byte test on the bytes xor'ed with each).
/// Bits above the first true hit may be false, so only the lowest one is used.
#[inline]
fn quote_or_backslash(b: &[u8], mut i: usize) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = b.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        let q = w ^ (LO * u64::from(b'"'));
        let s = w ^ (LO * u64::from(b'\\'));
        let hit = ((q.wrapping_sub(LO) & !q) | (s.wrapping_sub(LO) & !s)) & HI;
        if hit != 0 {
            return Some(i + (hit.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    b.get(i..)?.iter().position(|&c| c == b'"' || c == b'\\').map(|p| i + p)
}

/// The text is not JSON (or not the JSON expected at this point).
struct Bad;

/// A cursor over JSON text that reads only what the path tree asks for: keys and structure on
/// the referenced paths, the values at them; every other value is skipped by finding where it
/// ends (strings by their closing quote, containers by counting brackets), unchecked. serde_json
/// validated the whole body when it arrived; checking it again per event cost most of the
/// time of matching from the text (its `IgnoredAny` decodes every number and checks every
/// string it skips).
struct Scan<'a> {
    json: &'a str,
    at: usize,
}

impl<'a> Scan<'a> {
    #[inline]
    fn bytes(&self) -> &'a [u8] {
        self.json.as_bytes()
    }

    /// The next byte that is not whitespace, without taking it.
    #[inline]
    fn peek(&mut self) -> Result<u8, Bad> {
        let b = self.bytes();
        while let Some(&c) = b.get(self.at) {
            if !matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                return Ok(c);
            }
            self.at += 1;
        }
        Err(Bad)
    }

    /// Takes `c` (after whitespace).
    #[inline]
    fn expect(&mut self, c: u8) -> Result<(), Bad> {
        if self.peek()? == c {
            self.at += 1;
            Ok(())
        } else {
            Err(Bad)
        }
    }

    /// Only whitespace is left.
    fn end(&mut self) -> Result<(), Bad> {
        match self.peek() {
            Err(Bad) => Ok(()),
            Ok(_) => Err(Bad),
        }
    }

    /// Takes a string (`at` on its opening quote): its text between the quotes, and whether it
    /// holds escapes.
    #[inline]
    fn string(&mut self) -> Result<(&'a str, bool), Bad> {
        let b = self.bytes();
        let from = self.at + 1;
        let mut i = from;
        let mut escaped = false;
        let end = loop {
            let j = quote_or_backslash(b, i).ok_or(Bad)?;
            if b[j] == b'"' {
                break j;
            }
            escaped = true;
            i = j + 2;
        };
        self.at = end + 1;
        // Between two ASCII quotes: on character boundaries.
        Ok((&self.json[from..end], escaped))
    }

    /// Skips the value at `at` (after whitespace): a container to its matching bracket, anything
    /// else to the next delimiter.
    fn skip(&mut self) -> Result<(), Bad> {
        let b = self.bytes();
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match b.get(self.at) {
                        Some(b'"') => {
                            self.string()?;
                            continue;
                        }
                        Some(b'{' | b'[') => depth += 1,
                        Some(b'}' | b']') => {
                            depth -= 1;
                            if depth == 0 {
                                self.at += 1;
                                return Ok(());
                            }
                        }
                        Some(_) => {}
                        None => return Err(Bad),
                    }
                    self.at += 1;
                }
            }
            _ => {
                let from = self.at;
                while b.get(self.at).is_some_and(|c| !matches!(c, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')) {
                    self.at += 1;
                }
                if self.at == from {
                    Err(Bad)
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Reads the value at `node`: sets its slot when it is a scalar, descends into its children
    /// when it is an object or array, skips everything else.
    fn value(&mut self, tree: &PathTree, node: usize, found: &mut Slots<'a>) -> Result<(), Bad> {
        let n = &tree.nodes[node];
        // A later duplicate key replaces everything an earlier one found.
        for &s in &n.below {
            found[s] = None;
        }
        match self.peek()? {
            b'{' if !n.children.is_empty() => self.object(tree, n, found),
            b'[' if !n.children.is_empty() => self.array(tree, n, found),
            b'{' | b'[' => self.skip(),
            c => match n.slot {
                Some(slot) => {
                    found[slot] = self.scalar(c)?;
                    Ok(())
                }
                None => self.skip(),
            },
        }
    }

    /// A scalar at a referenced path. Strings without escapes are borrowed from the text; the
    /// rest (escaped strings, numbers, literals) is decoded by serde_json, so it reads exactly
    /// as a parsed `Value` would.
    fn scalar(&mut self, c: u8) -> Result<Option<Found<'a>>, Bad> {
        let from = self.at;
        if c == b'"' {
            let (text, escaped) = self.string()?;
            if !escaped {
                return Ok(Some(Found::string(Cow::Borrowed(text))));
            }
        } else {
            self.skip()?;
        }
        let mut de = serde_json::Deserializer::from_str(&self.json[from..self.at]);
        let v = de.deserialize_any(ScalarVisitor).map_err(|_| Bad)?;
        de.end().map_err(|_| Bad)?;
        Ok(v)
    }

    fn object(&mut self, tree: &PathTree, n: &Node, found: &mut Slots<'a>) -> Result<(), Bad> {
        self.at += 1;
        if self.peek()? == b'}' {
            self.at += 1;
            return Ok(());
        }
        loop {
            if self.peek()? != b'"' {
                return Err(Bad);
            }
            let key_at = self.at;
            let (key, escaped) = self.string()?;
            let child = if escaped {
                let key: String = serde_json::from_str(&self.json[key_at..self.at]).map_err(|_| Bad)?;
                n.child(&key)
            } else {
                n.child(key)
            };
            self.expect(b':')?;
            match child {
                Some(c) => self.value(tree, c, found)?,
                None => self.skip()?,
            }
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err(Bad),
            }
        }
    }

    fn array(&mut self, tree: &PathTree, n: &Node, found: &mut Slots<'a>) -> Result<(), Bad> {
        self.at += 1;
        if self.peek()? == b']' {
            self.at += 1;
            return Ok(());
        }
        for i in 0.. {
            // Two spellings of one index ("1", "01"): the element is read once for each.
            let from = self.at;
            let mut named = n.children.iter().copied().filter(|&c| tree.nodes[c].index == Some(i)).peekable();
            if named.peek().is_none() {
                self.skip()?;
            }
            for c in named {
                self.at = from;
                self.value(tree, c, found)?;
            }
            match self.peek()? {
                b',' => self.at += 1,
                b']' => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err(Bad),
            }
        }
        Ok(())
    }
}

/// A referenced scalar, decoded as serde_json decodes it into a `Value` (null finds nothing).
struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Option<Found<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON scalar")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Found::string(Cow::Borrowed(v))))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Found::string(Cow::Owned(v.to_string()))))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(Found::string(Cow::Owned(v))))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(Found::json_number(v.into())))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(Found::json_number(v.into())))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        // Like a parsed `Value`: a float that is not finite would be null.
        Ok(Number::from_f64(v).map(Found::json_number))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(Found::bool(v)))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}
