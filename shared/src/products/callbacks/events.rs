//! Callback events: their payloads (checked when the event is accepted, so a bad one is a 422
//! at `POST /v1/events`), and what each does to the callback's state.
//!
//! Events can arrive in any order (the events queue is not FIFO): an event about a callback
//! Ringhook has not seen registered creates the callback's record in the state the event says,
//! so a registration that arrives later finds it no longer pending and sends nothing.

use super::model::{Callback, CallbackState, CallbackType, NotificationKind, Outcome, Reminder, StateChange};
use super::notify::{self, Facts};
use super::{rules, store};
use crate::app::App;
use crate::error::PipelineError;
use crate::model::{format_time, parse_time, Delivery, Event};
use crate::ports::StoreError;
use crate::repo::put_next;
use serde_json::{Map, Value};

pub const REGISTERED: &str = "callback.registered";
pub const CHOSE_MESSAGING: &str = "callback.chose_messaging";
pub const FINALIZED: &str = "callback.finalized";
pub const CANCELLED: &str = "callback.cancelled";
pub const IN_PROGRESS: &str = "callback.in_progress";

pub const EVENT_TYPES: [&str; 5] = [REGISTERED, CHOSE_MESSAGING, FINALIZED, CANCELLED, IN_PROGRESS];

/// `callback.registered`.
#[derive(Debug, Clone, PartialEq)]
pub struct Registered {
    pub callback_id: String,
    pub call_target_id: String,
    pub customer_number: String,
    pub callback_type: CallbackType,
    /// `scheduledTime` (scheduled) or `expectedCallbackTime` / registration + `expectedWaitSeconds`
    /// (ASAP).
    pub callback_at_ms: i64,
    /// `registeredAt`; when absent, the event's time.
    pub registered_at_ms: Option<i64>,
    pub metadata: Map<String, Value>,
    pub client_name: Option<String>,
    /// `expectedWaitSeconds`, when the ASAP time was given as a wait (resolved against the
    /// registration time).
    pub expected_wait_ms: Option<i64>,
}

/// `callback.finalized`.
#[derive(Debug, Clone, PartialEq)]
pub struct Finalized {
    pub callback_id: String,
    pub outcome: Outcome,
    pub call_target_id: Option<String>,
    pub customer_number: Option<String>,
    pub metadata: Option<Map<String, Value>>,
    pub client_name: Option<String>,
}

/// `callback.chose_messaging`.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoseMessaging {
    pub callback_id: Option<String>,
    pub call_target_id: Option<String>,
    pub customer_number: Option<String>,
    pub metadata: Option<Map<String, Value>>,
    pub client_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CallbackEvent {
    Registered(Registered),
    ChoseMessaging(ChoseMessaging),
    Finalized(Finalized),
    /// `callback.cancelled` and `callback.in_progress`: the callback leaves the pending state.
    Left {
        callback_id: String,
        to: CallbackState,
        reason: Option<String>,
    },
}

fn id_field(o: &Map<String, Value>, name: &str, required: bool) -> Result<Option<String>, String> {
    match o.get(name) {
        None | Some(Value::Null) if !required => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 200 && !s.contains('#') => {
            Ok(Some(s.trim().to_string()))
        }
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        _ => Err(format!("{name}: required, a string (1 to 200 characters, no '#') or a number")),
    }
}

fn string_field(o: &Map<String, Value>, name: &str, required: bool) -> Result<Option<String>, String> {
    match o.get(name) {
        None | Some(Value::Null) if !required => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 200 => Ok(Some(s.trim().to_string())),
        _ if required => Err(format!("{name}: required, a non-empty string")),
        _ => Err(format!("{name}: must be a non-empty string")),
    }
}

fn time_field(o: &Map<String, Value>, name: &str) -> Result<Option<i64>, String> {
    match o.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            parse_time(s).map(Some).ok_or_else(|| format!("{name}: {s:?} is not an RFC 3339 time"))
        }
        Some(Value::Number(n)) => {
            n.as_i64().map(Some).ok_or_else(|| format!("{name}: must be an RFC 3339 time or epoch milliseconds"))
        }
        _ => Err(format!("{name}: must be an RFC 3339 time")),
    }
}

fn metadata_field(o: &Map<String, Value>) -> Result<Option<Map<String, Value>>, String> {
    match o.get("metadata") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m.clone())),
        _ => Err("metadata: must be an object of key/value pairs".to_string()),
    }
}

/// Parses a callback event's payload. `None`: not one of the callback event types.
/// Errors name the payload field.
pub fn parse(event_type: &str, payload: &Value) -> Option<Result<CallbackEvent, String>> {
    if !EVENT_TYPES.contains(&event_type) {
        return None;
    }
    let Some(o) = payload.as_object() else { return Some(Err("must be a JSON object".into())) };
    Some(parse_object(event_type, o))
}

fn parse_object(event_type: &str, o: &Map<String, Value>) -> Result<CallbackEvent, String> {
    let req = |name| id_field(o, name, true).map(|v| v.expect("required"));
    match event_type {
        REGISTERED => {
            let callback_id = req("callbackId")?;
            let call_target_id = req("callTargetId")?;
            let customer_number = string_field(o, "customerNumber", true)?.expect("required");
            let callback_type = match o.get("type") {
                Some(Value::String(t)) => CallbackType::parse(t),
                _ => None,
            }
            .ok_or("type: required, \"asap\" or \"scheduled\"")?;
            let registered_at_ms = time_field(o, "registeredAt")?;
            let (callback_at_ms, expected_wait_ms) = match callback_type {
                CallbackType::Scheduled => (
                    time_field(o, "scheduledTime")?
                        .ok_or("scheduledTime: required for a scheduled callback, an RFC 3339 time")?,
                    None,
                ),
                CallbackType::Asap => match (time_field(o, "expectedCallbackTime")?, o.get("expectedWaitSeconds")) {
                    (Some(t), None | Some(Value::Null)) => (t, None),
                    (None, Some(w)) => {
                        let secs = w
                            .as_f64()
                            .filter(|s| s.is_finite() && *s >= 0.0 && *s <= 7.0 * 86_400.0)
                            .ok_or("expectedWaitSeconds: must be a number of seconds (0 to 604800)")?;
                        // Resolved against the registration time by the caller.
                        (0, Some((secs * 1000.0).round() as i64))
                    }
                    (Some(_), Some(_)) => {
                        return Err("expectedCallbackTime, expectedWaitSeconds: give one, not both".into())
                    }
                    (None, None) => {
                        return Err(
                            "expectedCallbackTime: required for an ASAP callback (or expectedWaitSeconds)".into()
                        )
                    }
                },
            };
            Ok(CallbackEvent::Registered(Registered {
                callback_id,
                call_target_id,
                customer_number,
                callback_type,
                callback_at_ms,
                registered_at_ms,
                metadata: metadata_field(o)?.unwrap_or_default(),
                client_name: string_field(o, "clientName", false)?,
                expected_wait_ms,
            }))
        }
        FINALIZED => {
            let callback_id = req("callbackId")?;
            let outcome = match o.get("outcome") {
                Some(Value::String(s)) => Outcome::parse(s),
                _ => None,
            }
            .ok_or_else(|| {
                let names: Vec<&str> = Outcome::ALL.iter().map(Outcome::as_str).collect();
                format!("outcome: required, one of {}", names.join(", "))
            })?;
            Ok(CallbackEvent::Finalized(Finalized {
                callback_id,
                outcome,
                call_target_id: id_field(o, "callTargetId", false)?,
                customer_number: string_field(o, "customerNumber", false)?,
                metadata: metadata_field(o)?,
                client_name: string_field(o, "clientName", false)?,
            }))
        }
        CHOSE_MESSAGING => {
            let c = ChoseMessaging {
                callback_id: id_field(o, "callbackId", false)?,
                call_target_id: id_field(o, "callTargetId", false)?,
                customer_number: string_field(o, "customerNumber", false)?,
                metadata: metadata_field(o)?,
                client_name: string_field(o, "clientName", false)?,
            };
            if c.callback_id.is_none() && (c.call_target_id.is_none() || c.customer_number.is_none()) {
                return Err("callTargetId, customerNumber: required when there is no callbackId".into());
            }
            Ok(CallbackEvent::ChoseMessaging(c))
        }
        CANCELLED | IN_PROGRESS => Ok(CallbackEvent::Left {
            callback_id: req("callbackId")?,
            to: if event_type == CANCELLED { CallbackState::Cancelled } else { CallbackState::InProgress },
            reason: string_field(o, "reason", false)?,
        }),
        _ => unreachable!("checked against EVENT_TYPES"),
    }
}

/// Applies a callback event: state, reminders, and the notifications to send now.
pub async fn handle(app: &App, event: &Event, parsed: CallbackEvent) -> Result<Vec<Delivery>, PipelineError> {
    match parsed {
        CallbackEvent::Registered(r) => registered(app, event, r).await,
        CallbackEvent::Finalized(f) => finalized(app, event, f).await,
        CallbackEvent::ChoseMessaging(c) => chose_messaging(app, event, c).await,
        CallbackEvent::Left { callback_id, to, reason } => {
            let moved = transition(app, event, &callback_id, to, reason, |_| {}).await?;
            if moved.is_some() {
                drop_reminders(app, &event.tenant_id, &callback_id, &format!("the callback is {}", to.as_str()))
                    .await?;
            }
            Ok(vec![])
        }
    }
}

const MAX_TRIES: usize = 10;

async fn registered(app: &App, event: &Event, r: Registered) -> Result<Vec<Delivery>, PipelineError> {
    let st = app.store.as_ref();
    let tenant = &event.tenant_id;
    let now = app.now_ms();
    let registered_at = r.registered_at_ms.or_else(|| parse_time(&event.time)).unwrap_or(event.received_at_ms);
    let callback_at = match r.expected_wait_ms {
        Some(wait) => registered_at + wait,
        None => r.callback_at_ms,
    };
    let mut tries = 0;
    let cb = loop {
        tries += 1;
        if tries > MAX_TRIES {
            return Err(StoreError::ConditionFailed.into());
        }
        let cur = store::callback(st, tenant, &r.callback_id).await?;
        let (mut cb, version) = match cur {
            Some(v) => (v.value, Some(v.version)),
            None => (Callback::new(&r.callback_id, CallbackState::Pending, &format_time(now)), None),
        };
        match &cb.registered_event_id {
            Some(e) if *e == event.id => break cb,
            Some(other) => {
                tracing::warn!(callback = %r.callback_id, event = %event.id, registered_by = %other,
                    "callback already registered by another event; this registration is ignored");
                return Ok(vec![]);
            }
            None => {}
        }
        cb.call_target_id = Some(r.call_target_id.clone());
        cb.customer_number = Some(r.customer_number.clone());
        cb.callback_type = Some(r.callback_type);
        cb.callback_at_ms = Some(callback_at);
        cb.registered_at_ms = Some(registered_at);
        cb.metadata = r.metadata.clone();
        cb.client_name = r.client_name.clone();
        cb.registered_event_id = Some(event.id.clone());
        cb.updated_at = format_time(now);
        if version.is_none() {
            cb.history.push(StateChange {
                state: CallbackState::Pending,
                at: format_time(now),
                event_id: event.id.clone(),
                reason: None,
            });
        }
        match store::put_callback(st, tenant, &cb, version, now).await {
            Ok(()) => break cb,
            Err(StoreError::ConditionFailed) => continue,
            Err(e) => return Err(e.into()),
        }
    };
    if cb.state != CallbackState::Pending {
        tracing::info!(callback = %cb.callback_id, state = cb.state.as_str(),
            "registered callback is no longer pending: no confirmation, no reminder");
        return Ok(vec![]);
    }
    let call_target = store::call_target(st, tenant, &r.call_target_id).await?.map(|v| v.value);
    let asap_enabled = call_target.as_ref().is_some_and(|c| c.asap_reminder_enabled());
    if let Some((kind, due)) = rules::reminder_for(r.callback_type, registered_at, callback_at, asap_enabled) {
        if rules::reminder_still_useful(now, callback_at) {
            let rem = Reminder {
                tenant_id: tenant.clone(),
                callback_id: cb.callback_id.clone(),
                kind,
                due_at_ms: due,
                callback_at_ms: callback_at,
                event_id: event.id.clone(),
                status: super::model::ReminderStatus::Scheduled,
                reason: None,
                delivery_ids: vec![],
                updated_at: format_time(now),
            };
            match put_next(st, store::reminder_item(&rem, Some(due), now), None).await {
                Ok(()) | Err(StoreError::ConditionFailed) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    let facts = Facts::of_callback(&cb);
    notify::deliveries_for(app, event, NotificationKind::Confirmation, &facts, call_target.as_ref(), now).await
}

async fn finalized(app: &App, event: &Event, f: Finalized) -> Result<Vec<Delivery>, PipelineError> {
    let outcome = f.outcome;
    let fill = |cb: &mut Callback| {
        cb.outcome = Some(outcome);
        if cb.call_target_id.is_none() {
            cb.call_target_id = f.call_target_id.clone();
        }
        if cb.customer_number.is_none() {
            cb.customer_number = f.customer_number.clone();
        }
        if cb.client_name.is_none() {
            cb.client_name = f.client_name.clone();
        }
    };
    let Some(cb) = transition(app, event, &f.callback_id, CallbackState::Finalized, None, fill).await? else {
        return Ok(vec![]);
    };
    drop_reminders(app, &event.tenant_id, &f.callback_id, "the callback was finalized").await?;
    let mut facts = Facts::of_callback(&cb);
    facts.override_with(f.call_target_id, f.customer_number, f.metadata, f.client_name);
    let kind = rules::finalization_kind(outcome);
    let call_target = notify::call_target_of(app, &event.tenant_id, &facts).await?;
    notify::deliveries_for(app, event, kind, &facts, call_target.as_ref(), app.now_ms()).await
}

async fn chose_messaging(app: &App, event: &Event, c: ChoseMessaging) -> Result<Vec<Delivery>, PipelineError> {
    let mut facts = Facts::default();
    if let Some(id) = &c.callback_id {
        let fill = |cb: &mut Callback| {
            if cb.call_target_id.is_none() {
                cb.call_target_id = c.call_target_id.clone();
            }
            if cb.customer_number.is_none() {
                cb.customer_number = c.customer_number.clone();
            }
        };
        if transition(app, event, id, CallbackState::ChoseMessaging, None, fill).await?.is_some() {
            drop_reminders(app, &event.tenant_id, id, "the customer chose messaging").await?;
        }
        // Sent whatever the callback's state: the customer asked for it.
        if let Some(cb) = store::callback(app.store.as_ref(), &event.tenant_id, id).await? {
            facts = Facts::of_callback(&cb.value);
        } else {
            facts.callback_id = Some(id.clone());
        }
    }
    facts.override_with(c.call_target_id, c.customer_number, c.metadata, c.client_name);
    let call_target = notify::call_target_of(app, &event.tenant_id, &facts).await?;
    notify::deliveries_for(app, event, NotificationKind::ChoseMessaging, &facts, call_target.as_ref(), app.now_ms())
        .await
}

/// Moves the callback to `to` if the rules allow it (creating its record when unknown).
/// Returns the callback when this event moved it (now or in an earlier evaluation of the same
/// event), `None` when the move was not allowed.
async fn transition(
    app: &App,
    event: &Event,
    callback_id: &str,
    to: CallbackState,
    reason: Option<String>,
    fill: impl Fn(&mut Callback),
) -> Result<Option<Callback>, PipelineError> {
    let st = app.store.as_ref();
    let now = app.now_ms();
    for _ in 0..MAX_TRIES {
        let cur = store::callback(st, &event.tenant_id, callback_id).await?;
        let (mut cb, version) = match cur {
            Some(v) => (v.value, Some(v.version)),
            None => (Callback::new(callback_id, to, &format_time(now)), None),
        };
        if cb.applied(&event.id) {
            return Ok(Some(cb));
        }
        if version.is_some() && !rules::may_move(cb.state, to) {
            tracing::info!(callback = %callback_id, event = %event.id, from = cb.state.as_str(), to = to.as_str(),
                "callback state not changed");
            return Ok(None);
        }
        cb.state = to;
        fill(&mut cb);
        cb.history.push(StateChange {
            state: to,
            at: format_time(now),
            event_id: event.id.clone(),
            reason: reason.clone(),
        });
        cb.updated_at = format_time(now);
        match store::put_callback(st, &event.tenant_id, &cb, version, now).await {
            Ok(()) => return Ok(Some(cb)),
            Err(StoreError::ConditionFailed) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::ConditionFailed.into())
}

/// Takes the callback's scheduled reminders out of the due-time index: it left the pending
/// state. (A reminder that a scheduler run is firing right now is checked again there.)
pub async fn drop_reminders(app: &App, tenant: &str, callback_id: &str, reason: &str) -> Result<(), PipelineError> {
    let st = app.store.as_ref();
    let now = app.now_ms();
    for _ in 0..MAX_TRIES {
        let mut conflicted = false;
        for v in store::reminders_of(st, tenant, callback_id).await? {
            let mut r = v.value;
            if r.status != super::model::ReminderStatus::Scheduled {
                continue;
            }
            r.status = super::model::ReminderStatus::Dropped;
            r.reason = Some(reason.to_string());
            r.updated_at = format_time(now);
            match put_next(st, store::reminder_item(&r, None, now), Some(v.version)).await {
                Ok(()) => {}
                Err(StoreError::ConditionFailed) => conflicted = true,
                Err(e) => return Err(e.into()),
            }
        }
        if !conflicted {
            return Ok(());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(t: &str, p: Value) -> String {
        parse(t, &p).expect("a callback event").unwrap_err()
    }

    #[test]
    fn registered_payloads() {
        let ok = parse(
            REGISTERED,
            &json!({"callbackId": "cb-1", "callTargetId": 6281, "customerNumber": "+13305551234", "type": "Scheduled",
                    "scheduledTime": "2024-10-16T16:15:00Z", "registeredAt": "2024-10-16T15:47:15Z",
                    "metadata": {"test-key": "test-value"}, "clientName": "Mindful Product Team"}),
        )
        .unwrap()
        .unwrap();
        let CallbackEvent::Registered(r) = ok else { panic!() };
        assert_eq!(r.call_target_id, "6281");
        assert_eq!(r.callback_type, CallbackType::Scheduled);
        assert_eq!(r.callback_at_ms, 1_729_095_300_000);
        assert_eq!(r.registered_at_ms, Some(1_729_093_635_000));
        let asap = parse(
            REGISTERED,
            &json!({"callbackId": "cb-2", "callTargetId": "6281", "customerNumber": "+1", "type": "asap", "expectedWaitSeconds": 1800}),
        )
        .unwrap()
        .unwrap();
        let CallbackEvent::Registered(r) = asap else { panic!() };
        assert_eq!(r.expected_wait_ms, Some(1_800_000));

        let base = json!({"callbackId": "cb", "callTargetId": "1", "customerNumber": "+1", "type": "scheduled"});
        assert!(err(REGISTERED, base.clone()).starts_with("scheduledTime:"));
        let mut asap = base.clone();
        asap["type"] = json!("asap");
        assert!(err(REGISTERED, asap.clone()).starts_with("expectedCallbackTime:"));
        asap["expectedCallbackTime"] = json!("2024-10-16T16:15:00Z");
        asap["expectedWaitSeconds"] = json!(60);
        assert!(err(REGISTERED, asap).contains("not both"));
        let mut bad = base.clone();
        bad["type"] = json!("later");
        assert!(err(REGISTERED, bad).starts_with("type:"));
        let mut bad = base.clone();
        bad["scheduledTime"] = json!("tomorrow");
        assert!(err(REGISTERED, bad).contains("RFC 3339"));
        let mut bad = base.clone();
        bad["callbackId"] = json!("a#b");
        assert!(err(REGISTERED, bad).starts_with("callbackId:"));
        let mut bad = base;
        bad.as_object_mut().unwrap().remove("customerNumber");
        assert!(err(REGISTERED, bad).starts_with("customerNumber:"));
        assert!(err(REGISTERED, json!([])).contains("object"));
    }

    #[test]
    fn finalized_chose_messaging_and_leaving_payloads() {
        let f = parse(FINALIZED, &json!({"callbackId": "cb", "outcome": "abandoned"})).unwrap().unwrap();
        assert!(matches!(f, CallbackEvent::Finalized(Finalized { outcome: Outcome::Abandoned, .. })));
        let e = err(FINALIZED, json!({"callbackId": "cb", "outcome": "Busy"}));
        assert!(e.contains("Success, Abandoned, Failure, Unavailable, Unknown"), "{e}");
        assert!(err(CHOSE_MESSAGING, json!({"callTargetId": "1"})).contains("customerNumber"));
        assert!(parse(CHOSE_MESSAGING, &json!({"callbackId": "cb"})).unwrap().is_ok());
        assert_eq!(
            parse(CANCELLED, &json!({"callbackId": "cb", "reason": "@cancel"})).unwrap().unwrap(),
            CallbackEvent::Left {
                callback_id: "cb".into(),
                to: CallbackState::Cancelled,
                reason: Some("@cancel".into())
            }
        );
        assert!(err(IN_PROGRESS, json!({})).starts_with("callbackId:"));
        assert!(parse("callback.other", &json!({})).is_none());
        assert!(parse("agent.wrap", &json!({})).is_none());
    }
}
