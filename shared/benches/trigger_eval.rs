//! Trigger evaluation: the seed's agent.wrap event (`events/triggers/payloads/
//! agent.wrap.outbound-preview.json`) against 10 to 100,000 triggers of one tenant: matching a
//! parsed payload, and matching its JSON text (what the evaluate stage does: the payload travels
//! as text and only the referenced fields are read from it).
//!
//! The triggers are a realistic mix, all of the event's type (the engine indexes by type, so
//! triggers of other types cost nothing): `=` on `campaignId` / `wrapCode` / `agentId`, `in`
//! lists with and without spaces, numeric `>=` on `lead.totalAttempts`, dot paths into nested
//! objects, 2–3 conditions on some, ~10% disabled, and a few (1 in 250, at least one) that match.
//!
//! The same rule sets also run through the `quamina` crate (a Rust port of quamina, the Go
//! event-pattern matcher), parsing included, as the reference. quamina compares numbers only
//! with JSON numbers, so it is given the event with `lead.totalAttempts` as the number 1 (the
//! seed sends the string "1", which Ringhook reads as a number).
//!
//! Run: `cargo bench -p ringhook-shared --bench trigger_eval -- --warm-up-time 1 --measurement-time 3`

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ringhook::model::Event;
use ringhook::products::triggers::{Action, Condition, Operator, Trigger, TriggerSet, TriggerSpec};
use serde_json::Value;

const EVENT_FILE: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../events/triggers/payloads/agent.wrap.outbound-preview.json");

/// A small deterministic generator, so every run benches the same trigger set.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
    /// A campaign id that is never the event's (20161).
    fn other_campaign(&mut self) -> String {
        let c = self.range(100, 30_000);
        if c == 20161 {
            "20162".into()
        } else {
            c.to_string()
        }
    }
}

fn cond(reference: &str, operator: Operator, value: impl Into<String>) -> Condition {
    Condition { reference: reference.into(), operator, value: value.into() }
}

/// Trigger `i` of the mix.
fn trigger(i: usize, rng: &mut Lcg) -> Trigger {
    use Operator::*;
    let mut enabled = true;
    let conditions = if i.is_multiple_of(250) {
        // The few that match the seed event (campaign 20161, 1 attempt, wrap code 209).
        vec![cond("campaignId", In, "215, 20161"), cond("lead.totalAttempts", Ge, "1")]
    } else {
        match i % 10 {
            0 | 1 => vec![cond("campaignId", Eq, rng.other_campaign())],
            2 => {
                let list: Vec<String> = (0..5).map(|_| rng.other_campaign()).collect();
                vec![cond("campaignId", In, list.join(","))]
            }
            3 => {
                let list: Vec<String> = (0..8).map(|_| rng.other_campaign()).collect();
                vec![cond("campaignId", In, list.join(", "))]
            }
            // Numeric comparison ("1" >= "2".."9" is false).
            4 => vec![cond("lead.totalAttempts", Ge, rng.range(2, 10).to_string())],
            // The first condition holds for some, the second never.
            5 => vec![
                cond(
                    "wrapCode",
                    Eq,
                    if rng.next().is_multiple_of(2) { "209".to_string() } else { rng.range(100, 300).to_string() },
                ),
                cond("campaignId", Eq, rng.other_campaign()),
            ],
            6 => vec![
                cond("wrapCode", In, "185, 209, 210"),
                cond("lead.totalAttempts", Ge, "1"),
                cond("campaignId", Eq, rng.other_campaign()),
            ],
            7 => vec![
                cond("interactionType", Eq, "call.outbound"),
                cond("agentId", Eq, rng.range(2000, 9000).to_string()),
            ],
            // Disabled, and would otherwise match.
            8 => {
                enabled = false;
                vec![cond("campaignId", Eq, "20161")]
            }
            _ => vec![cond("lead.phones.1.phone", Eq, format!("+61400{}", rng.range(10_000, 99_999)))],
        }
    };
    let actions = if i.is_multiple_of(2) {
        vec![Action::Webhook { url: Some(format!("https://example.com/hooks/{i}")), webhook_id: None }]
    } else {
        vec![Action::LeadUpdateList { list_id: rng.range(1, 999).to_string() }]
    };
    Trigger {
        id: format!("trg_{i:05}"),
        spec: TriggerSpec {
            name: format!("trigger {i}"),
            event_type: "agent.wrap".into(),
            enabled,
            conditions,
            actions,
        },
        created_at: "2024-05-03T06:32:43Z".into(),
        updated_at: "2024-05-03T06:32:43Z".into(),
    }
}

fn triggers(n: usize) -> Vec<Trigger> {
    let mut rng = Lcg(0x5eed_0004);
    (0..n).map(|i| trigger(i, &mut rng)).collect()
}

fn seed_event() -> (String, Value) {
    let raw = std::fs::read_to_string(EVENT_FILE).expect("the seed event file");
    let v: Value = serde_json::from_str(&raw).expect("the seed event parses");
    (raw, v)
}

const SIZES: [usize; 5] = [10, 100, 1_000, 10_000, 100_000];

/// Trigger `t` as a quamina pattern: each condition's path as nested objects, `=`/`in` as the
/// list of accepted strings, `>=` as a numeric match.
fn quamina_pattern(t: &Trigger) -> String {
    let mut pattern = serde_json::Map::new();
    for c in &t.spec.conditions {
        let parts: Vec<&str> = c.reference.split('.').collect();
        let mut node = &mut pattern;
        for p in &parts[..parts.len() - 1] {
            node =
                node.entry(p.to_string()).or_insert_with(|| Value::Object(Default::default())).as_object_mut().unwrap();
        }
        let accepted = match c.operator {
            Operator::Eq => serde_json::json!([c.value]),
            Operator::In => Value::Array(c.value.split(',').map(|v| Value::String(v.trim().to_string())).collect()),
            Operator::Ge => serde_json::json!([{"numeric": [">=", c.value.parse::<f64>().unwrap()]}]),
            other => panic!("the bench's mix has no {other:?}"),
        };
        node.insert(parts[parts.len() - 1].to_string(), accepted);
    }
    Value::Object(pattern).to_string()
}

fn quamina_for(ts: &[Trigger]) -> quamina::Quamina<String> {
    let mut q = quamina::Quamina::new();
    for t in ts.iter().filter(|t| t.spec.enabled) {
        q.add_pattern(t.id.clone(), &quamina_pattern(t)).expect("the pattern is valid");
    }
    q
}

fn bench(c: &mut Criterion) {
    let (raw, event) = seed_event();
    let payload = event["payload"].clone();
    let mut numeric_event = event.clone();
    numeric_event["payload"]["lead"]["totalAttempts"] = serde_json::json!(1);
    let quamina_event = numeric_event["payload"].to_string().into_bytes();

    // Index memory at each size (printed once, for docs/performance.md).
    for n in SIZES {
        let set = TriggerSet::new(triggers(n));
        println!("index memory, {n} triggers: {} KiB", set.index_bytes() / 1024);
    }

    let mut g = c.benchmark_group("matching");
    for n in SIZES {
        let set = TriggerSet::new(triggers(n));
        let expected = n.div_ceil(250);
        assert_eq!(set.matching("agent.wrap", &payload).count(), expected, "{n} triggers");
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &set, |b, set| {
            b.iter(|| set.matching(black_box("agent.wrap"), black_box(&payload)).count())
        });
    }
    g.finish();

    // The reference: the same rules in quamina, which always parses the event bytes itself.
    // quamina 0.7 panics inside its automaton arena when 10,000 of these patterns are added,
    // so the reference stops at 1,000.
    let mut g = c.benchmark_group("quamina_parse_and_match");
    for n in [10usize, 100, 1_000] {
        let ts = triggers(n);
        let q = quamina_for(&ts);
        let expected = n.div_ceil(250);
        assert_eq!(q.matches_for_event(&quamina_event).unwrap().len(), expected, "quamina, {n} triggers");
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &q, |b, q| {
            b.iter(|| q.matches_for_event(black_box(&quamina_event)).unwrap().len())
        });
    }
    g.finish();

    // Ringhook's side of the same comparison: from the payload's text (as the queue carries it),
    // read the referenced fields and match.
    let payload_text = payload.to_string();
    let mut g = c.benchmark_group("parse_and_match");
    for n in SIZES {
        let set = TriggerSet::new(triggers(n));
        assert_eq!(set.matching_json("agent.wrap", &payload_text).count(), n.div_ceil(250), "{n} triggers, text");
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &set, |b, set| {
            b.iter(|| set.matching_json(black_box("agent.wrap"), black_box(&payload_text)).count())
        });
    }
    g.finish();

    // The alternative it replaced: parse the whole payload into a `Value`, then match.
    let mut g = c.benchmark_group("parse_value_and_match");
    for n in [100usize, 10_000] {
        let set = TriggerSet::new(triggers(n));
        g.bench_with_input(BenchmarkId::from_parameter(n), &set, |b, set| {
            b.iter(|| {
                let v: Value = serde_json::from_str(black_box(&payload_text)).unwrap();
                set.matching("agent.wrap", &v).count()
            })
        });
    }
    g.finish();

    // What an evaluator pays on a cache miss: compiling the tenant's triggers.
    let mut g = c.benchmark_group("compile");
    g.sample_size(10);
    for n in [100usize, 1_000, 100_000] {
        let ts = triggers(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &ts, |b, ts| {
            b.iter_batched(|| ts.clone(), TriggerSet::new, criterion::BatchSize::LargeInput)
        });
    }
    g.finish();

    // The event as it arrives: the request body parsed to a JSON value (what POST /v1/events does).
    let mut g = c.benchmark_group("event");
    g.throughput(Throughput::Bytes(raw.len() as u64));
    g.bench_function("parse_json", |b| b.iter(|| serde_json::from_str::<Value>(black_box(&raw)).unwrap()));
    let set = TriggerSet::new(triggers(100));
    g.bench_function("parse_and_match_100", |b| {
        b.iter(|| {
            let v: Value = serde_json::from_str(black_box(&raw)).unwrap();
            set.matching(v["type"].as_str().unwrap_or_default(), &v["payload"]).count()
        })
    });
    g.finish();

    // What the evaluate stage decodes per event: the queue message, its payload kept as text
    // (`Event`), against the same message with the payload parsed into a `Value` (as before).
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct ValueEvent {
        id: String,
        tenant_id: String,
        #[serde(rename = "type")]
        event_type: String,
        payload: Value,
        time: String,
        received_at_ms: i64,
    }
    let message = serde_json::json!({"id": "evt_01j", "tenantId": "ten_1", "type": "agent.wrap", "payload": payload,
        "time": "2024-05-03T06:32:43Z", "receivedAtMs": 1714717963000i64})
    .to_string();
    let mut g = c.benchmark_group("queue_message");
    g.bench_function("decode_payload_as_text", |b| {
        b.iter(|| serde_json::from_str::<Event>(black_box(&message)).unwrap())
    });
    g.bench_function("decode_payload_as_value", |b| {
        b.iter(|| serde_json::from_str::<ValueEvent>(black_box(&message)).unwrap())
    });
    g.bench_function("decode_and_match_100", |b| {
        b.iter(|| {
            let e = serde_json::from_str::<Event>(black_box(&message)).unwrap();
            set.matching_json(&e.event_type, e.payload.raw()).count()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
