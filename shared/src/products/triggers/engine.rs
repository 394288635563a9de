//! Evaluating triggers against an event. Conditions are compiled once (path split, numbers
//! parsed, `in` lists split) so evaluation is a walk over the payload and a few comparisons.

use super::model::{Operator, Trigger};
use serde_json::Value;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

/// One side of a comparison: the string form, and its number when it reads as one.
#[derive(Debug, Clone)]
struct Scalar {
    text: String,
    number: Option<f64>,
}

impl Scalar {
    fn new(text: &str) -> Self {
        Self { text: text.to_string(), number: parse_number(text) }
    }
}

/// The seed compares string values; when both sides read as numbers they compare as numbers
/// ("10" > "9", "3" = "3.0").
fn parse_number(s: &str) -> Option<f64> {
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
struct CompiledCondition {
    path: Vec<String>,
    /// The path's index among its trigger set's distinct paths (see `TriggerSet::matching`).
    slot: usize,
    operator: Operator,
    value: Scalar,
    /// For `in`: the comma list, each item trimmed ("215, 223" and "215,223" are the same).
    list: Vec<Scalar>,
}

/// What a reference found in the payload, ready to compare: its string form and its number
/// when it reads as one. Worked out once per event and path, however many conditions use it.
#[derive(Debug, Clone)]
struct Found<'a> {
    text: Cow<'a, str>,
    number: Option<f64>,
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
    conditions: Vec<CompiledCondition>,
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

/// The triggers of one event type, and the distinct references their conditions use.
#[derive(Debug, Clone, Default)]
struct TypeGroup {
    paths: Vec<Vec<String>>,
    triggers: Vec<CompiledTrigger>,
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
        Self { by_type }
    }

    pub fn len(&self) -> usize {
        self.by_type.values().map(|g| g.triggers.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The triggers of `event_type` that fire for `payload`, in a stable order. Each distinct
    /// reference is looked up in the payload (and read as a number) once, when a condition
    /// first needs it, not once per condition.
    pub fn matching<'a>(
        &'a self,
        event_type: &str,
        payload: &'a Value,
    ) -> impl Iterator<Item = &'a CompiledTrigger> + 'a {
        let group = self.by_type.get(event_type);
        let mut found: Vec<Option<Option<Found<'a>>>> = vec![None; group.map_or(0, |g| g.paths.len())];
        group.into_iter().flat_map(|g| g.triggers.iter().map(move |t| (g, t))).filter_map(move |(g, t)| {
            let fires = t.trigger.spec.enabled
                && t.conditions.iter().all(|c| {
                    let slot = &mut found[c.slot];
                    let f = slot.get_or_insert_with(|| Found::of(payload, &g.paths[c.slot]));
                    c.holds_for(f.as_ref())
                });
            fires.then_some(t)
        })
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
}
