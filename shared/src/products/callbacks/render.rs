//! Message texts with dynamic text replacements, and the seed's webhook envelope.
//!
//! Placeholders are `{name}`; built in:
//!
//! | placeholder              | becomes                                                                            |
//! |--------------------------|------------------------------------------------------------------------------------|
//! | `{callTargetName}`       | the call target's name                                                             |
//! | `{callTargetId}`         | the call target's id                                                               |
//! | `{handle}`               | the call target's handle (the From number)                                         |
//! | `{customerNumber}`       | the customer's number (the To address)                                             |
//! | `{callbackId}`           | the callback's id                                                                  |
//! | `{callbackTime}`         | the scheduled (or, for ASAP, expected) callback time, UTC `YYYY-MM-DDTHH:MM:SSZ`   |
//! | `{minutesUntilCallback}` | whole minutes from the notification to the callback time, rounded up               |
//! | `{clientName}`           | the envelope's `clientName`                                                        |
//!
//! plus the call target's own `replacements` (`{"companyName": "ABC"}` → `{companyName}`).
//! Built-in values that are unknown (e.g. the callback time of a chose-messaging notification
//! without a callback) become empty. `{...}` that is not a placeholder name (spaces, JSON) stays.

use super::model::{CallTarget, NotificationKind};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub const BUILT_IN: [(&str, &str); 8] = [
    ("callTargetName", "the call target's name"),
    ("callTargetId", "the call target's id"),
    ("handle", "the call target's handle (the From number)"),
    ("customerNumber", "the customer's number"),
    ("callbackId", "the callback's id"),
    ("callbackTime", "the scheduled or expected callback time (UTC, YYYY-MM-DDTHH:MM:SSZ)"),
    ("minutesUntilCallback", "whole minutes until the callback time, rounded up"),
    ("clientName", "the client (organization) name"),
];

pub fn is_built_in(name: &str) -> bool {
    BUILT_IN.iter().any(|(n, _)| *n == name)
}

/// A placeholder name: a letter, then letters, digits or underscores.
pub fn is_placeholder_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.len() <= 64
}

/// The placeholder names used in `text`, in order.
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) if is_placeholder_name(&after[..end]) => {
                out.push(&after[..end]);
                rest = &after[end + 1..];
            }
            _ => rest = after,
        }
    }
    out
}

/// Every placeholder in `text` must be built in or one of the call target's replacements.
pub fn check_text(text: &str, custom: &BTreeMap<String, String>) -> Result<(), String> {
    for p in placeholders(text) {
        if !is_built_in(p) && !custom.contains_key(p) {
            let known: Vec<String> = BUILT_IN
                .iter()
                .map(|(n, _)| format!("{{{n}}}"))
                .chain(custom.keys().map(|k| format!("{{{k}}}")))
                .collect();
            return Err(format!("{{{p}}} is not a placeholder; use one of {}", known.join(", ")));
        }
    }
    Ok(())
}

/// Replaces every placeholder that has a value; others stay as written.
pub fn render_text(text: &str, values: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) if values.contains_key(&after[..end]) => {
                out.push_str(&values[&after[..end]]);
                rest = &after[end + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The facts a notification's text and envelope are made from.
#[derive(Debug, Clone)]
pub struct NotificationFacts<'a> {
    pub kind: NotificationKind,
    pub call_target: &'a CallTarget,
    pub callback_id: Option<&'a str>,
    pub customer_number: &'a str,
    pub callback_at_ms: Option<i64>,
    pub metadata: &'a Map<String, Value>,
    pub client_name: &'a str,
    /// When the notification is generated (`data.time`).
    pub now_ms: i64,
}

/// The values of every placeholder for these facts.
pub fn values(f: &NotificationFacts<'_>) -> BTreeMap<String, String> {
    let mut v: BTreeMap<String, String> = f.call_target.replacements.clone();
    let ct = f.call_target;
    let minutes = f.callback_at_ms.map(|at| ((at - f.now_ms).max(0) + 59_999) / 60_000);
    for (k, val) in [
        ("callTargetName", ct.name.clone()),
        ("callTargetId", ct.id.clone()),
        ("handle", ct.handle.clone()),
        ("customerNumber", f.customer_number.to_string()),
        ("callbackId", f.callback_id.unwrap_or_default().to_string()),
        ("callbackTime", f.callback_at_ms.map(crate::model::format_time).unwrap_or_default()),
        ("minutesUntilCallback", minutes.map(|m| m.to_string()).unwrap_or_default()),
        ("clientName", f.client_name.to_string()),
    ] {
        v.insert(k.to_string(), val);
    }
    v
}

/// The message for these facts, or `None` when the call target has no text for the kind.
pub fn message(f: &NotificationFacts<'_>) -> Option<String> {
    f.call_target.text_for(f.kind).map(|t| render_text(t, &values(f)))
}

/// A notification's `data.id`: a UUID, the same for every attempt of one delivery.
pub fn notification_id(delivery_id: &str) -> String {
    let digest = Sha256::digest(format!("ringhook-notification:{delivery_id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

/// The seed's webhook body, field for field and in its order.
pub fn envelope(f: &NotificationFacts<'_>, message: &str, webhook_name: &str, id: &str) -> Value {
    json!({
        "data": {
            "notification": {
                "callTargetId": f.call_target.id,
                "callTargetName": f.call_target.name,
                "toAddress": f.customer_number,
                "fromAddress": f.call_target.handle,
                "message": message,
                "type": f.kind.envelope_type(),
                "metadata": f.metadata,
            },
            "clientName": f.client_name,
            "event": f.kind.envelope_event(),
            "time": crate::model::format_time(f.now_ms),
            "webhookName": webhook_name,
            "id": id,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::products::callbacks::model::{Messages, MetadataItem};

    fn target() -> CallTarget {
        CallTarget {
            id: "6281".into(),
            name: "Sales".into(),
            handle: "+18505554321".into(),
            messages: Messages {
                confirmation: Some("Hello {customerNumber}, {callTargetName} calls you at {callbackTime} from {handle} ({companyName}).".into()),
                ..Messages::default()
            },
            replacements: BTreeMap::from([("companyName".to_string(), "ABC".to_string())]),
            metadata: vec![MetadataItem { key: "asap_reminder_notification_text".into(), value: "In {minutesUntilCallback} min".into(), item_type: "SIP Header".into() }],
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn placeholders_are_found_and_json_like_braces_are_not() {
        assert_eq!(placeholders("a {x} b {y_2}{z}"), vec!["x", "y_2", "z"]);
        assert!(placeholders("{ not } {\"json\": 1} {} {1x}").is_empty());
        assert_eq!(placeholders("{{x}}"), vec!["x"]);
    }

    #[test]
    fn unknown_placeholders_are_refused_with_the_list() {
        let t = target();
        assert!(check_text("Hi {callTargetName} {companyName}", &t.replacements).is_ok());
        let e = check_text("Hi {callTargetNme}", &t.replacements).unwrap_err();
        assert!(e.contains("{callTargetNme}") && e.contains("{callTargetName}") && e.contains("{companyName}"), "{e}");
    }

    #[test]
    fn texts_render_with_built_in_and_custom_values() {
        let t = target();
        let meta = Map::new();
        let f = NotificationFacts {
            kind: NotificationKind::Confirmation,
            call_target: &t,
            callback_id: Some("cb1"),
            customer_number: "+13305551234",
            callback_at_ms: Some(1_729_094_400_000),
            metadata: &meta,
            client_name: "Mindful Product Team",
            now_ms: 1_729_093_635_000,
        };
        assert_eq!(
            message(&f).unwrap(),
            "Hello +13305551234, Sales calls you at 2024-10-16T16:00:00Z from +18505554321 (ABC)."
        );
        let f = NotificationFacts { kind: NotificationKind::AsapReminder, ..f };
        // 765 s → 13 minutes, rounded up.
        assert_eq!(message(&f).unwrap(), "In 13 min");
        let f = NotificationFacts { kind: NotificationKind::Success, ..f };
        assert_eq!(message(&f), None);
        assert_eq!(render_text("{a} {b} {", &BTreeMap::from([("a".into(), "1".into())])), "1 {b} {");
    }

    #[test]
    fn the_envelope_has_the_seed_fields_in_order() {
        let t = target();
        let mut meta = Map::new();
        meta.insert("test-key".into(), json!("test-value"));
        let f = NotificationFacts {
            kind: NotificationKind::FinalAttempt,
            call_target: &t,
            callback_id: None,
            customer_number: "+13305551234",
            callback_at_ms: None,
            metadata: &meta,
            client_name: "Mindful Product Team",
            now_ms: 1_729_092_382_000,
        };
        let e = envelope(
            &f,
            "We were unable to call you back.",
            "External Notification - Final Attempt",
            "bd061f9d-8091-44ce-8c8d-5172f8c999ca",
        );
        let expected = json!({"data": {"notification": {"callTargetId": "6281", "callTargetName": "Sales",
            "toAddress": "+13305551234", "fromAddress": "+18505554321", "message": "We were unable to call you back.",
            "type": "final attempt", "metadata": {"test-key": "test-value"}}, "clientName": "Mindful Product Team",
            "event": "Final Attempt Notification", "time": "2024-10-16T15:26:22Z",
            "webhookName": "External Notification - Final Attempt", "id": "bd061f9d-8091-44ce-8c8d-5172f8c999ca"}});
        assert_eq!(serde_json::to_string(&e).unwrap(), serde_json::to_string(&expected).unwrap());
    }

    #[test]
    fn notification_ids_are_stable_uuids() {
        let a = notification_id("dlv_1");
        assert_eq!(a, notification_id("dlv_1"));
        assert_ne!(a, notification_id("dlv_2"));
        let u = uuid::Uuid::parse_str(&a).unwrap();
        assert_eq!(u.get_version_num(), 4);
    }
}
