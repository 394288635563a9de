//! Evaluating triggers against an event. Conditions are compiled once (path split, numbers
//! parsed, `in` lists split); a trigger set also builds a matching index (`index`), so an event
//! is checked only against the triggers whose most selective condition it satisfies.
//! [`CompiledTrigger::matches`] — every condition, one by one — is the reference semantics.

use super::extract::{PathTree, Slots};
use super::index::{Fired, MatchIndex};
use super::model::{Operator, Trigger};
use rustc_hash::FxHashMap as HashMap;
use serde_json::{Number, Value};
use std::borrow::Cow;
use std::cell::OnceCell;
use std::cmp::Ordering;
use std::sync::Arc;

/// One side of a comparison: the string form, and its number when it reads as one.
#[derive(Debug, Clone)]
pub(super) struct Scalar {
    pub(super) text: String,
    pub(super) number: Option<f64>,
}

impl Scalar {
    fn new(text: &str) -> Self {
        Self { text: text.to_string(), number: parse_number(text) }
    }
}

/// The seed compares string values; when both sides read as numbers they compare as numbers
/// ("10" > "9", "3" = "3.0").
pub(super) fn parse_number(s: &str) -> Option<f64> {
    // Most references are short digit strings (ids, counts): read directly, with the value
    // `parse` gives (up to 15 digits are exact in an f64).
    let b = s.as_bytes();
    if !b.is_empty() && b.len() <= 15 {
        let mut n = 0u64;
        let mut digits = true;
        for &c in b {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                digits = false;
                break;
            }
            n = n * 10 + u64::from(d);
        }
        if digits {
            return Some(n as f64);
        }
    }
    // `trim` walks the text char by char: skipped when both ends are plain ASCII.
    let plain = |c: &u8| *c > b' ' && *c < 0x80;
    let t = if b.first().is_some_and(plain) && b.last().is_some_and(plain) { s } else { s.trim() };
    // A finite number is spelled with digits, `.`, `e`, `E`, `+` and `-` only (`parse` also
    // reads `inf` and `nan`, which are not finite): anything else is text, without parsing.
    if t.is_empty() || !t.bytes().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-')) {
        return None;
    }
    t.parse::<f64>().ok().filter(|n| n.is_finite())
}

#[inline]
fn compare(left: &Found<'_>, right: &Scalar) -> Ordering {
    match (left.number, right.number) {
        (Some(a), Some(b)) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
        _ => left.text().cmp(right.text.as_str()),
    }
}

#[derive(Debug, Clone)]
pub(super) struct CompiledCondition {
    path: Vec<String>,
    /// The path's index among its trigger set's distinct paths (see `TriggerSet::matching`).
    pub(super) slot: usize,
    pub(super) operator: Operator,
    pub(super) value: Scalar,
    /// For `in`: the comma list, each item trimmed ("215, 223" and "215,223" are the same).
    pub(super) list: Vec<Scalar>,
}

/// What a reference found in the payload, ready to compare: its string form and its number
/// when it reads as one. Worked out once per event and path, however many conditions use it.
#[derive(Debug, Clone)]
pub(super) struct Found<'a> {
    text: Text<'a>,
    pub(super) number: Option<f64>,
}

#[derive(Debug, Clone)]
enum Text<'a> {
    Str(Cow<'a, str>),
    /// A JSON number's string form (serde_json's: `1e1` reads as `10.0`), written only when a
    /// condition compares it as text.
    Num(Number, OnceCell<String>),
}

impl<'a> Found<'a> {
    pub(super) fn string(s: Cow<'a, str>) -> Self {
        Found { number: parse_number(&s), text: Text::Str(s) }
    }

    pub(super) fn json_number(n: Number) -> Self {
        Found { number: n.as_f64(), text: Text::Num(n, OnceCell::new()) }
    }

    pub(super) fn bool(b: bool) -> Self {
        Found { text: Text::Str(Cow::Borrowed(if b { "true" } else { "false" })), number: None }
    }

    pub(super) fn text(&self) -> &str {
        match &self.text {
            Text::Str(s) => s,
            Text::Num(n, s) => s.get_or_init(|| n.to_string()),
        }
    }

    /// A missing reference (or null, object, array) finds nothing: the condition is false.
    fn of(payload: &'a Value, path: &[String]) -> Option<Self> {
        match resolve(payload, path)? {
            Value::String(s) => Some(Found::string(Cow::Borrowed(s))),
            Value::Number(n) => Some(Found::json_number(n.clone())),
            Value::Bool(b) => Some(Found::bool(*b)),
            _ => None,
        }
    }
}

impl CompiledCondition {
    fn holds(&self, payload: &Value) -> bool {
        self.holds_for(Found::of(payload, &self.path).as_ref())
    }

    #[inline]
    pub(super) fn holds_for(&self, found: Option<&Found<'_>>) -> bool {
        let Some(found) = found else { return false };
        match self.operator {
            Operator::Eq => compare(found, &self.value) == Ordering::Equal,
            Operator::Gt => compare(found, &self.value) == Ordering::Greater,
            Operator::Lt => compare(found, &self.value) == Ordering::Less,
            Operator::Ge => compare(found, &self.value) != Ordering::Less,
            Operator::Le => compare(found, &self.value) != Ordering::Greater,
            Operator::In => self.list.iter().any(|item| compare(found, item) == Ordering::Equal),
        }
    }
}

/// Follows a dot path: object keys, or array indexes (`lead.phones.1.phone` works whether
/// `phones` is an object keyed "1" or an array).
pub fn resolve<'a>(mut v: &'a Value, path: &[String]) -> Option<&'a Value> {
    for seg in path {
        v = match v {
            Value::Object(m) => m.get(seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    match v {
        Value::Null => None,
        other => Some(other),
    }
}

/// A trigger ready to evaluate.
#[derive(Debug, Clone)]
pub struct CompiledTrigger {
    pub trigger: Arc<Trigger>,
    pub(super) conditions: Vec<CompiledCondition>,
}

impl CompiledTrigger {
    pub fn new(trigger: Trigger) -> Self {
        let conditions = trigger
            .spec
            .conditions
            .iter()
            .map(|c| CompiledCondition {
                path: c.reference.split('.').map(str::to_string).collect(),
                slot: 0,
                operator: c.operator,
                value: Scalar::new(&c.value),
                list: c.value.split(',').map(|s| Scalar::new(s.trim())).collect(),
            })
            .collect();
        Self { trigger: Arc::new(trigger), conditions }
    }

    /// All conditions hold (none: always), and the trigger is enabled.
    pub fn matches(&self, payload: &Value) -> bool {
        self.trigger.spec.enabled && self.conditions.iter().all(|c| c.holds(payload))
    }
}

/// The triggers of one event type, the distinct references their conditions use (and as a
/// tree, to read them from JSON text), and the matching index over them.
#[derive(Debug, Clone, Default)]
struct TypeGroup {
    paths: Vec<Vec<String>>,
    tree: PathTree,
    triggers: Vec<CompiledTrigger>,
    index: MatchIndex,
}

/// A tenant's triggers indexed by event type.
#[derive(Debug, Clone, Default)]
pub struct TriggerSet {
    by_type: HashMap<String, TypeGroup>,
}

impl TriggerSet {
    pub fn new(triggers: impl IntoIterator<Item = Trigger>) -> Self {
        let mut by_type: HashMap<String, TypeGroup> = HashMap::default();
        let mut slots: HashMap<(String, Vec<String>), usize> = HashMap::default();
        for t in triggers {
            let event_type = t.spec.event_type.clone();
            let group = by_type.entry(event_type.clone()).or_default();
            let mut compiled = CompiledTrigger::new(t);
            for c in &mut compiled.conditions {
                c.slot = *slots.entry((event_type.clone(), c.path.clone())).or_insert_with(|| {
                    group.paths.push(c.path.clone());
                    group.paths.len() - 1
                });
            }
            group.triggers.push(compiled);
        }
        for g in by_type.values_mut() {
            g.index = MatchIndex::build(&g.triggers, g.paths.len());
            g.tree = PathTree::new(&g.paths);
        }
        Self { by_type }
    }

    pub fn len(&self) -> usize {
        self.by_type.values().map(|g| g.triggers.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes the matching indexes hold (beyond the triggers themselves), for capacity planning.
    pub fn index_bytes(&self) -> usize {
        self.by_type.values().map(|g| g.index.heap_bytes()).sum()
    }

    /// The triggers of `event_type` that fire for `payload`, in the order they were given. Each
    /// distinct reference is looked up in the payload (and read as a number) once, in one walk
    /// down the referenced subtrees; only the triggers whose anchor condition the event
    /// satisfies are checked further, once per group of triggers with the same conditions.
    pub fn matching<'s>(&'s self, event_type: &str, payload: &Value) -> impl Iterator<Item = &'s CompiledTrigger> + 's {
        self.fired_by(event_type, |tree, found| tree.resolve(payload, found))
    }

    /// [`matching`](Self::matching) on the payload's JSON text, which is not parsed: one pass
    /// reads the values at the group's references and skips the rest. The text must be JSON
    /// (event payloads are checked when they arrive); text that is truncated or followed by
    /// more than whitespace finds nothing.
    pub fn matching_json<'s>(&'s self, event_type: &str, json: &str) -> impl Iterator<Item = &'s CompiledTrigger> + 's {
        self.fired_by(event_type, |tree, found| tree.extract(json, found))
    }

    /// The triggers of `event_type` that fire once `fill` has found the group's references.
    fn fired_by<'a>(&self, event_type: &str, fill: impl FnOnce(&PathTree, &mut Slots<'a>)) -> FiredTriggers<'_> {
        let Some(g) = self.by_type.get(event_type) else {
            return FiredTriggers { triggers: &[], fired: Fired::Members(&[]), next: 0 };
        };
        // What each reference found, by slot: on the stack for up to 16 distinct references.
        let mut inline: [Option<Found<'a>>; 16] = Default::default();
        let mut heap: Vec<Option<Found<'a>>> = Vec::new();
        let n = g.paths.len();
        let found: &mut Slots<'a> = if n <= inline.len() {
            &mut inline[..n]
        } else {
            heap.resize_with(n, || None);
            &mut heap
        };
        fill(&g.tree, found);
        FiredTriggers { triggers: &g.triggers, fired: g.index.fired(&g.triggers, found), next: 0 }
    }
}

/// The triggers that fire for one event, in the order they were given.
struct FiredTriggers<'s> {
    triggers: &'s [CompiledTrigger],
    fired: Fired<'s>,
    next: usize,
}

impl<'s> Iterator for FiredTriggers<'s> {
    type Item = &'s CompiledTrigger;

    fn next(&mut self) -> Option<&'s CompiledTrigger> {
        let &i = self.fired.as_slice().get(self.next)?;
        self.next += 1;
        Some(&self.triggers[i as usize])
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.fired.as_slice().len() - self.next;
        (left, Some(left))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::products::triggers::model::{Action, Condition, TriggerSpec};
    use serde_json::json;

    fn trig(enabled: bool, conds: &[(&str, Operator, &str)]) -> CompiledTrigger {
        CompiledTrigger::new(Trigger {
            id: "t".into(),
            spec: TriggerSpec {
                name: "t".into(),
                event_type: "agent.wrap".into(),
                enabled,
                conditions: conds
                    .iter()
                    .map(|(r, o, v)| Condition { reference: r.to_string(), operator: *o, value: v.to_string() })
                    .collect(),
                actions: vec![Action::LeadUpdateList { list_id: "1".into() }],
            },
            created_at: String::new(),
            updated_at: String::new(),
        })
    }

    fn payload() -> Value {
        json!({"campaignId": "215", "wrapCode": "185", "n": 10, "s": "abc",
               "lead": {"totalAttempts": "3", "phones": {"1": {"phone": "+614"}}, "arr": ["x", "y"]},
               "callbackDate": null})
    }

    #[test]
    fn operators_numeric_and_string() {
        use Operator::*;
        let p = payload();
        let cases: &[(&str, Operator, &str, bool)] = &[
            ("campaignId", Eq, "215", true),
            ("campaignId", Eq, "215.0", true),
            ("campaignId", Eq, "216", false),
            ("lead.totalAttempts", Ge, "3", true),
            ("lead.totalAttempts", Gt, "3", false),
            ("lead.totalAttempts", Lt, "10", true), // numeric: "3" < "10"
            ("lead.totalAttempts", Le, "2", false),
            ("n", Gt, "9", true), // a JSON number against a numeric string
            ("s", Gt, "abb", true),
            ("s", Lt, "b", true),
            ("campaignId", In, "215,223", true),
            ("campaignId", In, "223, 215", true),
            ("campaignId", In, "21,2150", false),
            ("lead.phones.1.phone", Eq, "+614", true),
            ("lead.arr.1", Eq, "y", true),
            ("missing.path", Eq, "x", false),
            ("callbackDate", Eq, "", false),
            ("lead", Eq, "x", false),
        ];
        for (r, o, v, want) in cases {
            assert_eq!(trig(true, &[(r, *o, v)]).matches(&p), *want, "{r} {o:?} {v}");
        }
    }

    #[test]
    fn all_conditions_must_hold_disabled_never_and_empty_always() {
        let p = payload();
        assert!(trig(true, &[]).matches(&p));
        assert!(!trig(false, &[]).matches(&p));
        assert!(!trig(true, &[("campaignId", Operator::Eq, "215"), ("wrapCode", Operator::Eq, "1")]).matches(&p));
        assert!(trig(true, &[("campaignId", Operator::Eq, "215"), ("wrapCode", Operator::Eq, "185")]).matches(&p));
    }

    /// A set looks each reference up once per event; it must pick exactly the triggers that
    /// match one by one, in order, whatever paths they share.
    #[test]
    fn a_set_matches_like_its_triggers_one_by_one() {
        use Operator::*;
        let p = payload();
        type Spec<'a> = (bool, Vec<(&'a str, Operator, &'a str)>);
        let specs: Vec<Spec> = vec![
            (true, vec![("campaignId", Eq, "215")]),
            (true, vec![("campaignId", In, "1, 2"), ("n", Gt, "9")]),
            (true, vec![("n", Gt, "9"), ("lead.totalAttempts", Ge, "3")]),
            (false, vec![("campaignId", Eq, "215")]),
            (true, vec![]),
            (true, vec![("missing.path", Eq, "x"), ("campaignId", Eq, "215")]),
            (true, vec![("lead.phones.1.phone", Eq, "+614"), ("campaignId", In, "223, 215")]),
            (true, vec![("callbackDate", Eq, ""), ("n", Eq, "10.0")]),
            (true, vec![("n", Eq, "10.0"), ("s", Lt, "b"), ("lead.arr.1", Eq, "y")]),
        ];
        let triggers: Vec<Trigger> = specs
            .iter()
            .enumerate()
            .map(|(i, (enabled, conds))| {
                let mut t = (*trig(*enabled, conds).trigger).clone();
                t.id = format!("t{i}");
                t
            })
            .collect();
        let one_by_one: Vec<String> =
            triggers.iter().filter(|t| CompiledTrigger::new((*t).clone()).matches(&p)).map(|t| t.id.clone()).collect();
        let set = TriggerSet::new(triggers);
        let together: Vec<String> = set.matching("agent.wrap", &p).map(|t| t.trigger.id.clone()).collect();
        assert_eq!(together, one_by_one);
        assert_eq!(together, ["t0", "t2", "t4", "t6", "t8"]);
        assert_eq!(set.matching("other.type", &p).count(), 0);
    }

    /// A parsed object is scanned when small and looked up by hash when large, or when many
    /// of its keys are referenced: both find what `resolve` finds.
    #[test]
    fn large_objects_and_many_references_find_what_resolve_finds() {
        let mut root = serde_json::Map::new();
        for i in 0..100 {
            root.insert(format!("key_{i}_with_a_longer_name"), json!(i.to_string()));
            root.insert(format!("k{i}"), json!(i));
        }
        root.insert("small".into(), json!({"a": "1", "abcdefghijklmnopq": "2", "abcdefghijklmnopr": "3"}));
        let payload = Value::Object(root);
        let mut triggers = Vec::new();
        for (n, i) in [0usize, 7, 42, 99, 100].iter().enumerate() {
            for (m, (r, v)) in
                [(format!("key_{i}_with_a_longer_name"), i.to_string()), (format!("k{i}"), i.to_string())]
                    .iter()
                    .enumerate()
            {
                let mut t = (*trig(true, &[(r.as_str(), Operator::Eq, v.as_str())]).trigger).clone();
                t.id = format!("t{n}_{m}");
                triggers.push(t);
            }
        }
        for (n, (r, v)) in
            [("small.a", "1"), ("small.abcdefghijklmnopq", "2"), ("small.abcdefghijklmnopr", "2"), ("small.b", "1")]
                .iter()
                .enumerate()
        {
            let mut t = (*trig(true, &[(r, Operator::Eq, v)]).trigger).clone();
            t.id = format!("s{n}");
            triggers.push(t);
        }
        // Over 16 references on the root: looked up by hash.
        let many = triggers.clone();
        for i in 0..20 {
            let mut t = (*trig(true, &[(&format!("k{i}") as &str, Operator::Ge, "10")]).trigger).clone();
            t.id = format!("m{i}");
            triggers.push(t);
        }
        for set in [many, triggers] {
            let want: Vec<String> = set
                .iter()
                .filter(|t| CompiledTrigger::new((*t).clone()).matches(&payload))
                .map(|t| t.id.clone())
                .collect();
            assert!(want.len() >= 8, "{want:?}");
            let set = TriggerSet::new(set);
            let got: Vec<String> = set.matching("agent.wrap", &payload).map(|t| t.trigger.id.clone()).collect();
            assert_eq!(got, want);
            let got: Vec<String> =
                set.matching_json("agent.wrap", &payload.to_string()).map(|t| t.trigger.id.clone()).collect();
            assert_eq!(got, want);
        }
    }

    /// The property the matching index must keep: on random trigger sets and random events,
    /// the set picks exactly the triggers that match one by one (the reference semantics), in
    /// order. Values mix numbers in several spellings, numeric-looking text, plain text and
    /// booleans, so numeric-vs-text comparison is exercised on every operator.
    #[test]
    fn the_index_matches_like_the_engine_on_random_sets() {
        use Operator::*;
        struct Lcg(u64);
        impl Lcg {
            fn next(&mut self) -> usize {
                self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (self.0 >> 33) as usize
            }
            fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
                &xs[self.next() % xs.len()]
            }
        }
        const PATHS: [&str; 5] = ["a", "b", "lead.n", "lead.s", "arr.1"];
        const VALUES: [&str; 22] = [
            "3", "3.0", "03", "-0", "0", "10", "9", "1e1", " 3", "abc", "abd", "ab", "", "true", "false", "-2.5",
            "x y", "Z", "10.5", "100", "2", "b",
        ];
        const OPS: [Operator; 6] = [Eq, Gt, Lt, Ge, Le, In];
        let json_value = |rng: &mut Lcg| -> Value {
            match rng.next() % 4 {
                0 => json!(rng.pick(&[3, 0, 10, 9, -2, 100, 2])),
                1 => json!(rng.pick(&[3.0, 10.5, -2.5, 0.5])),
                2 => json!(rng.pick(&[true, false])),
                _ => json!(rng.pick(&VALUES)),
            }
        };
        let mut rng = Lcg(0x1de_a5e7);
        for round in 0..300 {
            let n = 1 + rng.next() % 60;
            let triggers: Vec<Trigger> = (0..n)
                .map(|i| {
                    let n_conds = rng.next() % 4;
                    let conds: Vec<(String, Operator, String)> = (0..n_conds)
                        .map(|_| {
                            let op = *rng.pick(&OPS);
                            let value = if op == In {
                                let k = 1 + rng.next() % 3;
                                (0..k).map(|_| rng.pick(&VALUES).to_string()).collect::<Vec<_>>().join(", ")
                            } else {
                                rng.pick(&VALUES).to_string()
                            };
                            (rng.pick(&PATHS).to_string(), op, value)
                        })
                        .collect();
                    let refs: Vec<(&str, Operator, &str)> =
                        conds.iter().map(|(p, o, v)| (p.as_str(), *o, v.as_str())).collect();
                    let mut t = (*trig(!rng.next().is_multiple_of(8), &refs).trigger).clone();
                    t.id = format!("t{i}");
                    t
                })
                .collect();
            let set = TriggerSet::new(triggers.clone());
            let compiled: Vec<CompiledTrigger> = triggers.into_iter().map(CompiledTrigger::new).collect();
            for _ in 0..20 {
                let mut payload = json!({"lead": {}, "arr": []});
                for p in PATHS {
                    if rng.next().is_multiple_of(5) {
                        continue; // missing reference
                    }
                    let v = json_value(&mut rng);
                    match p {
                        "lead.n" => payload["lead"]["n"] = v,
                        "lead.s" => payload["lead"]["s"] = v,
                        "arr.1" => payload["arr"] = json!([null, v]),
                        _ => payload[p] = v,
                    }
                }
                let want: Vec<&str> =
                    compiled.iter().filter(|t| t.matches(&payload)).map(|t| t.trigger.id.as_str()).collect();
                let got: Vec<&str> = set.matching("agent.wrap", &payload).map(|t| t.trigger.id.as_str()).collect();
                assert_eq!(got, want, "round {round}, payload {payload}");
                let text = payload.to_string();
                let got: Vec<&str> = set.matching_json("agent.wrap", &text).map(|t| t.trigger.id.as_str()).collect();
                assert_eq!(got, want, "round {round}, from the text {text}");
            }
        }
    }

    /// Matching from the payload's JSON text must pick what the one-by-one engine picks on the
    /// parsed text, whatever the spelling: random events (nested objects and arrays, noise to
    /// skip, nulls, containers and missing values where references point) written as text with
    /// numbers in several spellings, escapes in strings and keys, whitespace, and duplicate keys.
    #[test]
    fn the_json_text_matches_like_the_engine_on_random_events() {
        use Operator::*;
        struct Lcg(u64);
        impl Lcg {
            fn next(&mut self) -> usize {
                self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (self.0 >> 33) as usize
            }
            fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
                &xs[self.next() % xs.len()]
            }
            fn one_in(&mut self, n: usize) -> bool {
                self.next().is_multiple_of(n)
            }
        }
        // "arr.1" and "arr.01" name the same array element; "lead" and "arr.0" hold containers.
        const PATHS: [&str; 10] =
            ["a", "b", "lead.n", "lead.s", "lead.phones.1.phone", "arr.1", "arr.01", "arr.0.x", "lead", "é\"q"];
        const VALUES: [&str; 16] =
            ["3", "3.0", "10", "9", "1e1", " 3", "abc", "ab", "", "true", "-2.5", "a\"b", "é", "x\\y", "100", "+614"];
        const OPS: [Operator; 6] = [Eq, Gt, Lt, Ge, Le, In];

        fn space(rng: &mut Lcg, out: &mut String) {
            let s: &&str = rng.pick(&["", "", " ", "\n  ", "\t"]);
            out.push_str(s);
        }
        fn string(rng: &mut Lcg, s: &str, out: &mut String) {
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    c if rng.one_in(4) => {
                        for u in c.encode_utf16(&mut [0; 2]) {
                            out.push_str(&format!("\\u{u:04x}"));
                        }
                    }
                    '/' if rng.one_in(2) => out.push_str("\\/"),
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        fn number(rng: &mut Lcg, n: &serde_json::Number, out: &mut String) {
            let spelled = if let Some(i) = n.as_i64() {
                match rng.next() % 5 {
                    0 => format!("{i}.0"),
                    1 => format!("{i}e0"),
                    2 => format!("{i}.000E+0"),
                    3 if i == 0 => "-0".to_string(),
                    _ => i.to_string(),
                }
            } else {
                let f = n.as_f64().unwrap();
                match rng.next() % 3 {
                    0 => format!("{f:e}"),
                    1 => format!("{f}00"),
                    _ => f.to_string(),
                }
            };
            out.push_str(&spelled);
        }
        fn write(rng: &mut Lcg, v: &Value, out: &mut String) {
            match v {
                Value::Null => out.push_str("null"),
                Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
                Value::Number(n) => number(rng, n, out),
                Value::String(s) => string(rng, s, out),
                Value::Array(xs) => {
                    out.push('[');
                    for (i, x) in xs.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        space(rng, out);
                        write(rng, x, out);
                    }
                    out.push(']');
                }
                Value::Object(m) => {
                    out.push('{');
                    let mut first = true;
                    for (k, x) in m {
                        // A duplicate key before the real one: the last counts.
                        let decoy = rng.one_in(8).then(|| json!({"n": "3", "phones": [1, {"phone": "+614"}]}));
                        for x in decoy.iter().chain([x]) {
                            if !first {
                                out.push(',');
                            }
                            first = false;
                            space(rng, out);
                            string(rng, k, out);
                            out.push(':');
                            space(rng, out);
                            write(rng, x, out);
                        }
                    }
                    out.push('}');
                }
            }
        }
        let scalar = |rng: &mut Lcg| -> Value {
            match rng.next() % 8 {
                0 => json!(rng.pick(&[3, 0, 10, 9, -2, 100, 614])),
                1 => json!(rng.pick(&[3.0, 10.5, -2.5, 0.5, 1e21])),
                2 => json!(rng.pick(&[true, false])),
                3 => Value::Null,
                4 => json!({"x": rng.pick(&VALUES).to_string()}),
                5 => json!([rng.pick(&VALUES).to_string(), 1]),
                _ => json!(rng.pick(&VALUES)),
            }
        };
        let mut rng = Lcg(0x7e47_0001);
        let (mut fired, mut events) = (0, 0);
        for round in 0..300 {
            let n = 1 + rng.next() % 40;
            let triggers: Vec<Trigger> = (0..n)
                .map(|i| {
                    let conds: Vec<(String, Operator, String)> = (0..rng.next() % 4)
                        .map(|_| {
                            let op = *rng.pick(&OPS);
                            let value = if op == In {
                                (0..1 + rng.next() % 3)
                                    .map(|_| rng.pick(&VALUES).to_string())
                                    .collect::<Vec<_>>()
                                    .join(",")
                            } else {
                                rng.pick(&VALUES).to_string()
                            };
                            (rng.pick(&PATHS).to_string(), op, value)
                        })
                        .collect();
                    let refs: Vec<(&str, Operator, &str)> =
                        conds.iter().map(|(p, o, v)| (p.as_str(), *o, v.as_str())).collect();
                    let mut t = (*trig(!rng.one_in(8), &refs).trigger).clone();
                    t.id = format!("t{i}");
                    t
                })
                .collect();
            let set = TriggerSet::new(triggers.clone());
            let compiled: Vec<CompiledTrigger> = triggers.into_iter().map(CompiledTrigger::new).collect();
            for _ in 0..20 {
                let mut v = || scalar(&mut rng);
                let (a, b, n, s, phone, x, e1, e2) = (v(), v(), v(), v(), v(), v(), v(), v());
                let mut rng2 = Lcg(rng.next() as u64);
                let phones =
                    if rng2.one_in(2) { json!({"1": {"phone": phone}}) } else { json!([null, {"phone": phone}]) };
                let arr = match rng2.next() % 3 {
                    0 => json!([{"x": x}, e1]),
                    1 => json!({"0": {"x": x}, "1": e1, "01": e2}),
                    _ => json!([e2]),
                };
                let mut payload = json!({
                    "noise": [{"deep": [[1, "a\"b", null, {"k": 2.5e-3}]]}, "]}"],
                    "a": a, "lead": {"n": n, "s": s, "phones": phones}, "arr": arr, "b": b, "é\"q": "3",
                });
                for p in ["a", "b", "arr", "lead", "noise"] {
                    if rng2.one_in(6) {
                        payload.as_object_mut().unwrap().shift_remove(p); // missing reference
                    }
                }
                let mut text = String::new();
                write(&mut rng2, &payload, &mut text);
                let parsed: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
                let want: Vec<&str> =
                    compiled.iter().filter(|t| t.matches(&parsed)).map(|t| t.trigger.id.as_str()).collect();
                let got: Vec<&str> = set.matching_json("agent.wrap", &text).map(|t| t.trigger.id.as_str()).collect();
                assert_eq!(got, want, "round {round}, text {text}");
                fired +=
                    got.iter().filter(|id| !compiled[id[1..].parse::<usize>().unwrap()].conditions.is_empty()).count();
                events += 1;
            }
        }
        // Not a vacuous check: conditions hold often.
        assert!(fired > events, "{fired} triggers with conditions fired on {events} events");
        // Text that is not JSON finds nothing: only triggers without conditions fire.
        let set =
            TriggerSet::new([(*trig(true, &[]).trigger).clone(), (*trig(true, &[("a", Eq, "1")]).trigger).clone()]);
        assert_eq!(set.matching_json("agent.wrap", r#"{"a": 1"#).count(), 1);
        assert_eq!(set.matching_json("agent.wrap", r#"{"a": 1} x"#).count(), 1);
        assert_eq!(set.matching_json("agent.wrap", r#"{"a": 1}"#).count(), 2);
    }
}
