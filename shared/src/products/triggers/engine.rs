//! Evaluating triggers against an event. Conditions are compiled once (path split, numbers
//! parsed, `in` lists split); a trigger set also builds a matching index (`index`), so an event
//! is checked only against the triggers whose most selective condition it satisfies.
//! [`CompiledTrigger::matches`] — every condition, one by one — is the reference semantics.

use super::model::{Operator, Trigger};
use serde_json::Value;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use super::index::MatchIndex;

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
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    t.parse::<f64>().ok().filter(|n| n.is_finite())
}

fn compare(left: &str, left_num: Option<f64>, right: &Scalar) -> Ordering {
    match (left_num, right.number) {
        (Some(a), Some(b)) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
        _ => left.cmp(right.text.as_str()),
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
    pub(super) text: Cow<'a, str>,
    pub(super) number: Option<f64>,
}

impl<'a> Found<'a> {
    /// A missing reference (or null, object, array) finds nothing: the condition is false.
    fn of(payload: &'a Value, path: &[String]) -> Option<Self> {
        match resolve(payload, path)? {
            Value::String(s) => Some(Found { number: parse_number(s), text: Cow::Borrowed(s) }),
            Value::Number(n) => Some(Found { text: Cow::Owned(n.to_string()), number: n.as_f64() }),
            Value::Bool(b) => Some(Found { text: Cow::Borrowed(if *b { "true" } else { "false" }), number: None }),
            _ => None,
        }
    }
}

impl CompiledCondition {
    fn holds(&self, payload: &Value) -> bool {
        self.holds_for(Found::of(payload, &self.path).as_ref())
    }

    fn holds_for(&self, found: Option<&Found<'_>>) -> bool {
        let Some(found) = found else { return false };
        let (text, num) = (found.text.as_ref(), found.number);
        match self.operator {
            Operator::Eq => compare(text, num, &self.value) == Ordering::Equal,
            Operator::Gt => compare(text, num, &self.value) == Ordering::Greater,
            Operator::Lt => compare(text, num, &self.value) == Ordering::Less,
            Operator::Ge => compare(text, num, &self.value) != Ordering::Less,
            Operator::Le => compare(text, num, &self.value) != Ordering::Greater,
            Operator::In => self.list.iter().any(|item| compare(text, num, item) == Ordering::Equal),
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

/// The triggers of one event type, the distinct references their conditions use, and the
/// matching index over them.
#[derive(Debug, Clone, Default)]
struct TypeGroup {
    paths: Vec<Vec<String>>,
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
        let mut by_type: HashMap<String, TypeGroup> = HashMap::new();
        let mut slots: HashMap<(String, Vec<String>), usize> = HashMap::new();
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
    /// distinct reference is looked up in the payload (and read as a number) once; only
    /// the triggers whose anchor condition the event satisfies are checked further.
    pub fn matching<'a>(
        &'a self,
        event_type: &str,
        payload: &'a Value,
    ) -> impl Iterator<Item = &'a CompiledTrigger> + 'a {
        let mut out: Vec<&'a CompiledTrigger> = Vec::new();
        if let Some(g) = self.by_type.get(event_type) {
            // Anchored references first (the candidates depend on them), the rest when a
            // candidate's other conditions need them.
            let mut found: Vec<Option<Option<Found<'a>>>> = vec![None; g.paths.len()];
            for &slot in g.index.anchored_slots() {
                found[slot] = Some(Found::of(payload, &g.paths[slot]));
            }
            let candidates = g.index.candidates(|slot| found[slot].as_ref().and_then(Option::as_ref));
            for i in candidates {
                let t = &g.triggers[i as usize];
                let fires = t.conditions.iter().all(|c| {
                    let f = found[c.slot].get_or_insert_with(|| Found::of(payload, &g.paths[c.slot]));
                    c.holds_for(f.as_ref())
                });
                if fires {
                    out.push(t);
                }
            }
        }
        out.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::products::triggers::model::{Action, Condition, TriggerInput};
    use serde_json::json;

    fn trig(enabled: bool, conds: &[(&str, Operator, &str)]) -> CompiledTrigger {
        CompiledTrigger::new(Trigger {
            id: "t".into(),
            spec: TriggerInput {
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
            }
        }
    }
}
