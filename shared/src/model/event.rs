use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;
use std::fmt;
use std::ops::Deref;
use std::sync::OnceLock;

/// An accepted event, as it travels on the events queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: String,
    pub tenant_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub payload: Payload,
    /// When the event happened (the sender's `time`, else when it was received), RFC 3339.
    pub time: String,
    pub received_at_ms: i64,
    /// Which arrival of the id this copy is (unique per accepted request): evaluation takes
    /// only the arrival the id's record holds (`repo::events`). Empty on copies made
    /// elsewhere, and on messages queued by builds before it; the arrival time then decides.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub arrival: String,
}

impl Event {
    /// The body a trigger's webhook receives: the event exactly as the seed shows it.
    pub fn webhook_body(&self) -> Value {
        serde_json::json!({ "type": self.event_type, "payload": self.payload.value() })
    }
}

/// An event's payload, kept as the JSON text it travels as. Decoding a queue message only
/// checks and copies this text, and the triggers read just the fields their conditions name
/// from it (`TriggerSet::matching_json`); the whole value is parsed on first use (`value`, or
/// through `Deref`), at most once, for the products that need it.
#[derive(Clone)]
pub struct Payload {
    /// Valid JSON by construction: serialized from a value, or checked when deserialized.
    raw: Box<RawValue>,
    value: OnceLock<Value>,
}

impl Payload {
    /// The JSON text.
    pub fn raw(&self) -> &str {
        self.raw.get()
    }

    /// The parsed value (parsed on the first call).
    pub fn value(&self) -> &Value {
        self.value.get_or_init(|| serde_json::from_str(self.raw.get()).expect("a payload's text is valid JSON"))
    }
}

impl From<Value> for Payload {
    fn from(v: Value) -> Self {
        let raw = serde_json::value::to_raw_value(&v).expect("a JSON value serializes");
        Self { raw, value: OnceLock::from(v) }
    }
}

impl Default for Payload {
    fn default() -> Self {
        Value::Null.into()
    }
}

impl Deref for Payload {
    type Target = Value;

    fn deref(&self) -> &Value {
        self.value()
    }
}

impl PartialEq for Payload {
    fn eq(&self, other: &Self) -> bool {
        self.raw() == other.raw() || self.value() == other.value()
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw())
    }
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self { raw: Box::<RawValue>::deserialize(d)?, value: OnceLock::new() })
    }
}

/// Event type names are dot-separated lowercase words (`agent.wrap`,
/// `outbound.lead.outcome.predictive`); any such name is accepted.
pub fn is_valid_event_type(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    s.len() <= 128
        && parts.len() >= 2
        && parts.iter().all(|p| {
            let mut chars = p.chars();
            matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
                && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// On the queue the payload is its JSON text, verbatim; decoded, it reads as the same value.
    #[test]
    fn an_event_goes_through_the_queue_with_its_payload_text() {
        let e = Event {
            id: "evt_1".into(),
            tenant_id: "ten".into(),
            event_type: "agent.wrap".into(),
            payload: json!({"campaignId": "20161", "lead": {"totalAttempts": 1.5, "s": "a\"b"}}).into(),
            time: "2024-05-03T06:32:43Z".into(),
            received_at_ms: 1,
            arrival: String::new(),
        };
        let message = serde_json::to_string(&e).unwrap();
        assert!(message.contains(r#""payload":{"campaignId":"20161","lead":{"totalAttempts":1.5,"s":"a\"b"}}"#));
        let back: Event = serde_json::from_str(&message).unwrap();
        assert_eq!(back.payload.raw(), e.payload.raw());
        assert_eq!(back.payload["lead"]["totalAttempts"], json!(1.5));
        assert_eq!(back, e);
        assert!(serde_json::from_str::<Event>(&message.replace(r#"1.5,"#, r#"1.5,,"#)).is_err(), "checked on decode");
    }
}
