//! Entry points for fuzzing the parsers and the condition evaluator with arbitrary bytes.
//!
//! The `cargo fuzz` targets in `fuzz/` and the stable property test
//! (`shared/tests/fuzz_parsers.rs`) call exactly these functions, so both exercise the same code.
//! Each must return normally for any input: a panic is the bug the fuzzer looks for. Besides not
//! panicking, each checks a few invariants of what it parsed.

use crate::api::v1::webhooks::parse_headers;
use crate::delivery::retry::parse_retry_after;
use crate::delivery::signing;
use crate::pipeline::ingest;
use crate::products::triggers::{parse_trigger, Trigger, TriggerSet};
use serde_json::Value;

/// A fixed clock for the parsers that read one (2024-10-16T15:47:15Z).
const NOW_MS: i64 = 1_729_093_635_000;

/// Splits `data` at the first `0xFF` byte (never part of valid UTF-8): two inputs in one.
fn split(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == 0xFF) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

/// Trigger parser: `data` as a JSON trigger body (`POST /v1/triggers`).
pub fn trigger_parser(data: &[u8]) {
    let Ok(v) = serde_json::from_slice::<Value>(data) else { return };
    if let Ok(spec) = parse_trigger(&v) {
        assert!(!spec.name.is_empty());
        assert!(!spec.actions.is_empty(), "a valid trigger has at least one action");
        // What parses must evaluate: compile it and run it against its own body.
        let t = Trigger { id: "trg_fuzz".into(), spec, created_at: String::new(), updated_at: String::new() };
        let event_type = t.spec.event_type.clone();
        let set = TriggerSet::new([t]);
        let _ = set.matching(&event_type, &v).count();
    }
}

/// Event parser: `data` as a `POST /v1/events` body (one event or a batch), with the part after
/// a `0xFF` byte (if any) as the `Idempotency-Key`.
pub fn event_parser(data: &[u8]) {
    let (body, key) = split(data);
    let Ok(v) = serde_json::from_slice::<Value>(body) else { return };
    let key = std::str::from_utf8(key).ok().filter(|k| !k.is_empty());
    if let Ok(events) = ingest::parse_body(&crate::products::defaults(), &v, "ten_fuzz", key, NOW_MS) {
        assert!(!events.is_empty() && events.len() <= ingest::MAX_BATCH);
        for e in &events {
            assert!(!e.id.is_empty(), "every accepted event has an id");
            assert!(e.payload.is_object());
            assert_eq!(e.tenant_id, "ten_fuzz");
        }
    }
}

/// Condition evaluator: the part before `0xFF` is a trigger body, the part after an event
/// payload; both must be JSON. Also evaluates every operator directly with strings taken from the
/// input, against the payload.
pub fn condition_eval(data: &[u8]) {
    let (trigger, payload_bytes) = split(data);
    let parsed: Option<Value> = serde_json::from_slice(payload_bytes).ok();
    let payload = parsed.clone().unwrap_or(Value::Null);
    if let Ok(tv) = serde_json::from_slice::<Value>(trigger) {
        if let Ok(spec) = parse_trigger(&tv) {
            let event_type = spec.event_type.clone();
            let t = Trigger { id: "trg_fuzz".into(), spec, created_at: String::new(), updated_at: String::new() };
            let set = TriggerSet::new([t]);
            let from_value = set.matching(&event_type, &payload).count();
            // Read from the text, a payload that parses must match the same.
            if let (Some(_), Ok(text)) = (&parsed, std::str::from_utf8(payload_bytes)) {
                assert_eq!(set.matching_json(&event_type, text).count(), from_value, "payload {text}");
            }
        }
    }
    // Direct: reference and value are lines of the first part.
    let text = String::from_utf8_lossy(trigger);
    let mut lines = text.lines();
    let reference = lines.next().unwrap_or("a").trim();
    let value = lines.next().unwrap_or("");
    if reference.is_empty() || reference.split('.').any(str::is_empty) {
        return;
    }
    let conditions: Vec<Value> = ["=", ">", "<", ">=", "<=", "in"]
        .iter()
        .map(|op| serde_json::json!({"reference": reference, "operator": op, "value": value}))
        .collect();
    for c in conditions {
        let body = serde_json::json!({"name": "f", "eventType": "fuzz.event", "conditions": [c],
            "actions": [{"action": "lead.update.list", "parameters": {"listId": "1"}}]});
        if let Ok(spec) = parse_trigger(&body) {
            let t = Trigger { id: "trg_fuzz".into(), spec, created_at: String::new(), updated_at: String::new() };
            let _ = TriggerSet::new([t]).matching("fuzz.event", &payload).count();
        }
    }
}

/// Webhook header parsing: the `headers` setting of a webhook (as `key=value` lines, and as
/// whatever JSON the input is), a `webhook-signature` header as a receiver verifies it, and a
/// `Retry-After` header.
pub fn webhook_headers(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(specs) = parse_headers(Some(&Value::String(text.to_string()))) {
        for h in &specs {
            assert!(!h.name.is_empty());
            assert!(axum::http::HeaderName::from_bytes(h.name.as_bytes()).is_ok());
            assert!(axum::http::HeaderValue::from_str(&h.value).is_ok());
        }
    }
    if let Ok(v) = serde_json::from_slice::<Value>(data) {
        let _ = parse_headers(Some(&v));
    }
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let _ = signing::verify(SECRET, "msg_fuzz", NOW_MS / 1000, data, &text, NOW_MS / 1000, 300);
    let _ = signing::validate_secret(&text);
    let _ = signing::mask_secret(&text);
    if let Some(secs) = parse_retry_after(&text, NOW_MS) {
        assert!(secs <= crate::delivery::retry::MAX_RETRY_AFTER_SECS);
    }
}

/// A fuzz target: takes any bytes, must not panic.
pub type Target = fn(&[u8]);

/// Every target, by name (for the property test and tools).
pub const TARGETS: &[(&str, Target)] = &[
    ("trigger_parser", trigger_parser),
    ("event_parser", event_parser),
    ("condition_eval", condition_eval),
    ("webhook_headers", webhook_headers),
];
