//! Delivering: one queue message asks for attempt number `n` of one delivery. The worker
//! claims the attempt (a versioned write, so two copies of a message never both send), sends,
//! logs the attempt, and applies the delivery's retry policy.

use super::PipelineError;
use crate::app::App;
use crate::delivery::retry::{AttemptOutcome, RetryDecision};
use crate::delivery::sender::{self, OutgoingRequest};
use crate::delivery::{signing, ssrf};
use crate::model::delivery::{AttemptRequest, AttemptResponse};
use crate::model::webhook::{self, DEFAULT_TIMEOUT_MS};
use crate::model::{format_time_ms, Attempt, Delivery, DeliveryStatus, DeliveryTarget, WebhookAuth};
use crate::ports::queue::MAX_DELAY_SECS;
use crate::ports::{BusEvent, OutMessage, QueueName, StoreError};
use crate::repo::{deliveries, signing_secrets, webhooks};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::time::Duration;

/// How long after a delivery should have been sent the scheduler steps in, in case its queue
/// message was lost (e.g. a crash between writing the delivery and queueing it).
pub const SWEEP_GRACE_MS: i64 = 5 * 60 * 1000;
/// How long past its request timeout a worker's claim on an attempt lasts.
pub const LEASE_SLACK_MS: i64 = 5_000;
/// Most of a request body kept in the attempt log.
const LOGGED_BODY_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryMessage {
    /// Tenant.
    pub t: String,
    /// Delivery id.
    pub d: String,
    /// The attempts already made: this message asks for attempt `n + 1`.
    pub n: u32,
}

impl DeliveryMessage {
    pub fn for_delivery(d: &Delivery) -> Self {
        Self { t: d.tenant_id.clone(), d: d.id.clone(), n: d.attempts }
    }
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("messages serialize")
    }
}

pub async fn enqueue_now(app: &App, ds: &[Delivery]) -> Result<(), PipelineError> {
    let msgs = ds.iter().map(|d| OutMessage::now(DeliveryMessage::for_delivery(d).encode())).collect();
    app.queue.send(QueueName::Deliveries, msgs).await?;
    Ok(())
}

/// The request one attempt sends, and the status codes that count as success.
pub struct Prepared {
    pub request: OutgoingRequest,
    pub success_codes: Vec<u16>,
}

/// Why an attempt was not sent at all; never retried.
#[derive(Debug)]
pub struct Refusal(pub String);

/// Why no request could be built for an attempt.
#[derive(Debug)]
pub enum PrepareError {
    /// Sending is refused (destination forbidden, webhook deleted…): the attempt is logged and
    /// the delivery fails.
    Refused(Refusal),
    /// Storage could not be read: nothing is claimed, the queue message is retried later.
    Unavailable(StoreError),
}

impl From<Refusal> for PrepareError {
    fn from(r: Refusal) -> Self {
        PrepareError::Refused(r)
    }
}

impl From<StoreError> for PrepareError {
    fn from(e: StoreError) -> Self {
        PrepareError::Unavailable(e)
    }
}

pub async fn process_message(app: &App, body: &str) -> Result<(), PipelineError> {
    let msg: DeliveryMessage = serde_json::from_str(body).map_err(|e| PipelineError::Malformed(e.to_string()))?;
    process(app, &msg).await
}

pub async fn process(app: &App, msg: &DeliveryMessage) -> Result<(), PipelineError> {
    let store = app.store.as_ref();
    let Some(cur) = deliveries::find(store, &msg.t, &msg.d).await? else { return Ok(()) };
    let mut d = cur.value;
    let now = app.now_ms();
    // Stale copies (already finished, or an attempt that already happened) are dropped.
    if d.status.is_final() || d.attempts != msg.n {
        return Ok(());
    }
    // Early (a long retry split into queue delays): the due-time index brings it back on time.
    if d.next_attempt_at_ms.is_some_and(|next| next > now + 1000) {
        return Ok(());
    }
    // Another worker holds this attempt (or held it when its process died): look again when
    // its lease ends. If it finished by then, this copy is stale and is dropped.
    if let Some(until) = d.claimed_until_ms.filter(|u| *u > now) {
        let delay = ((until - now + 999) / 1000).clamp(1, i64::from(MAX_DELAY_SECS)) as u32;
        app.queue.send(QueueName::Deliveries, vec![OutMessage::delayed(msg.encode(), delay)]).await?;
        return Ok(());
    }
    let prepared = match prepare(app, &d, now).await {
        Ok(p) => Ok(p),
        Err(PrepareError::Refused(r)) => Err(r),
        Err(PrepareError::Unavailable(e)) => return Err(e.into()),
    };
    let timeout_ms = prepared.as_ref().map(|p| p.request.timeout.as_millis() as i64).unwrap_or(0);
    // Claim the attempt with a lease: only one worker wins this versioned write.
    d.first_attempt_at_ms.get_or_insert(now);
    d.claimed_until_ms = Some(now + timeout_ms + LEASE_SLACK_MS);
    d.sweep_at_ms = Some(now + timeout_ms + SWEEP_GRACE_MS);
    match deliveries::update(store, &d, cur.version).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed) => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    let claimed_version = cur.version + 1;
    d.attempts += 1;
    d.claimed_until_ms = None;

    let (outcome, attempt) = match prepared {
        Err(Refusal(reason)) => {
            let attempt = Attempt {
                delivery_id: d.id.clone(),
                number: d.attempts,
                started_at: format_time_ms(now),
                started_at_ms: now,
                request: AttemptRequest {
                    method: String::new(),
                    url: target_url(&d),
                    headers: vec![],
                    body: String::new(),
                },
                response: None,
                latency_ms: 0,
                error: Some(format!("not sent: {reason}")),
                success: false,
            };
            (AttemptOutcome::Refused, attempt)
        }
        Ok(p) => send_and_log(app, &d, p, now).await,
    };
    deliveries::record_attempt(store, &d.tenant_id, &attempt).await?;

    let after = app.now_ms();
    let decision = d.retry_policy.decide(
        &outcome,
        d.series_attempts(),
        d.first_attempt_at_ms.unwrap_or(now),
        after,
        &mut rand::thread_rng(),
    );
    d.last_status = attempt.response.as_ref().map(|r| r.status);
    d.last_error = attempt.error.clone();
    let mut requeue = None;
    match decision {
        RetryDecision::Done => finish(&mut d, DeliveryStatus::Succeeded, after),
        RetryDecision::GiveUp => finish(&mut d, DeliveryStatus::Failed, after),
        RetryDecision::RetryAt(at) => {
            d.next_attempt_at_ms = Some(at);
            let delay_ms = (at - after).max(0);
            if delay_ms <= i64::from(MAX_DELAY_SECS) * 1000 {
                d.sweep_at_ms = Some(at + SWEEP_GRACE_MS);
                requeue = Some(at);
            } else {
                // Longer than a queue delay allows: the scheduler sends it from the due index.
                d.sweep_at_ms = Some(at);
            }
        }
    }
    match deliveries::update(store, &d, claimed_version).await {
        Ok(()) => {}
        // Changed under us (e.g. a redelivery request): that change wins.
        Err(StoreError::ConditionFailed) => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    if let Some(at) = requeue {
        // The delay is counted from now, not from the decision: time spent since (writing the
        // outcome) must not push the retry later than `at`. Whole seconds, rounded up.
        let delay = ((at - app.now_ms()).max(0) + 999) / 1000;
        let delay = u32::try_from(delay).unwrap_or(MAX_DELAY_SECS);
        let m = DeliveryMessage::for_delivery(&d).encode();
        app.queue.send(QueueName::Deliveries, vec![OutMessage::delayed(m, delay)]).await?;
    }
    if d.status.is_final() {
        app.bus.publish(vec![outcome_event(&d)]).await?;
    }
    Ok(())
}

fn finish(d: &mut Delivery, status: DeliveryStatus, now: i64) {
    d.status = status;
    d.completed_at_ms = Some(now);
    d.next_attempt_at_ms = None;
    d.sweep_at_ms = None;
}

pub fn outcome_event(d: &Delivery) -> BusEvent {
    let detail_type = if d.status == DeliveryStatus::Succeeded { "delivery.succeeded" } else { "delivery.failed" };
    BusEvent {
        detail_type: detail_type.into(),
        tenant_id: d.tenant_id.clone(),
        detail: json!({"deliveryId": d.id, "eventId": d.event_id, "eventType": d.event_type, "triggerId": d.trigger_id,
                       "webhookId": d.webhook_id, "attempts": d.attempts, "lastStatus": d.last_status}),
    }
}

fn target_url(d: &Delivery) -> String {
    match &d.target {
        DeliveryTarget::Url { url } => url.clone(),
        _ => String::new(),
    }
}

async fn send_and_log(app: &App, d: &Delivery, p: Prepared, now: i64) -> (AttemptOutcome, Attempt) {
    let sent = sender::send(app.http(), &p.request).await;
    let mut attempt = Attempt {
        delivery_id: d.id.clone(),
        number: d.attempts,
        started_at: format_time_ms(now),
        started_at_ms: now,
        request: AttemptRequest {
            method: p.request.method.clone(),
            url: p.request.url.clone(),
            headers: p.request.headers.iter().map(|(k, v)| (k.clone(), mask_header(k, v))).collect(),
            body: truncate(&String::from_utf8_lossy(&p.request.body), LOGGED_BODY_BYTES),
        },
        response: None,
        latency_ms: sent.latency.as_millis() as u64,
        error: None,
        success: false,
    };
    let outcome = match sent.result {
        Ok(r) => {
            let accepted = webhook::accepts(&p.success_codes, r.status);
            attempt.success = accepted;
            if !accepted {
                attempt.error = Some(format!("status {} is not an accepted success code", r.status));
            }
            let retry_after_secs =
                r.retry_after.as_deref().and_then(|h| crate::delivery::retry::parse_retry_after(h, app.now_ms()));
            attempt.response = Some(AttemptResponse { status: r.status, body: r.body, truncated: r.truncated });
            if accepted {
                AttemptOutcome::Success
            } else {
                AttemptOutcome::Status { code: r.status, retry_after_secs }
            }
        }
        Err(f) => {
            attempt.error = Some(f.message);
            if f.refused {
                AttemptOutcome::Refused
            } else {
                AttemptOutcome::SendError { kind: f.kind }
            }
        }
    };
    (outcome, attempt)
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &s[..end], s.len())
}

/// Headers that carry credentials are logged masked.
pub fn mask_header(name: &str, value: &str) -> String {
    let n = name.to_ascii_lowercase();
    let secret = ["authorization", "signature", "token", "secret", "password", "api-key", "apikey", "cookie"]
        .iter()
        .any(|s| n.contains(s));
    if !secret {
        return value.to_string();
    }
    match value.split_once(' ') {
        Some((scheme, _)) if n == "authorization" => format!("{scheme} ****"),
        _ => "****".to_string(),
    }
}

/// Builds the request for the delivery's target, as configured now.
pub async fn prepare(app: &App, d: &Delivery, now_ms: i64) -> Result<Prepared, PrepareError> {
    match &d.target {
        DeliveryTarget::Url { url } => {
            // Inline URLs have no webhook to hold a secret: they are signed with the tenant's.
            let secrets = signing_secrets::ensure(app.store.as_ref(), &d.tenant_id).await?;
            let body = serde_json::to_vec(&d.payload).expect("json serializes");
            let headers = standard_headers(d, now_ms, &body, &secrets.active(now_ms), "application/json");
            let request = OutgoingRequest {
                method: "POST".into(),
                url: checked_url(app, url).await?,
                headers,
                body,
                timeout: Duration::from_millis(DEFAULT_TIMEOUT_MS),
            };
            Ok(Prepared { request, success_codes: vec![] })
        }
        DeliveryTarget::Webhook { webhook_id } => {
            let w = webhooks::find(app.store.as_ref(), &d.tenant_id, webhook_id)
                .await?
                .ok_or_else(|| Refusal(format!("webhook {webhook_id} no longer exists")))?
                .value;
            let body = serde_json::to_vec(&d.payload).expect("json serializes");
            let mut headers = standard_headers(d, now_ms, &body, &w.active_secrets(now_ms), "application/json");
            apply_custom_headers(&mut headers, &w.headers);
            if let WebhookAuth::Basic { username, password } = &w.auth {
                headers.push(("authorization".into(), basic_auth(username, password)));
            }
            let request = OutgoingRequest {
                method: w.method.as_str().into(),
                url: checked_url(app, &w.url).await?,
                headers,
                body,
                timeout: Duration::from_millis(w.timeout_ms),
            };
            Ok(Prepared { request, success_codes: w.success_codes.clone() })
        }
        DeliveryTarget::Connection { .. } => crate::notifications::prepare_connection(app, d, now_ms).await,
    }
}

pub fn basic_auth(username: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}")))
}

/// Standard Webhooks headers: the delivery id is stable across attempts; signed with every
/// active secret (during a rotation, old and new).
pub fn standard_headers(
    d: &Delivery,
    now_ms: i64,
    body: &[u8],
    secrets: &[&str],
    content_type: &str,
) -> Vec<(String, String)> {
    let ts = now_ms.div_euclid(1000);
    let mut h = vec![
        ("content-type".to_string(), content_type.to_string()),
        ("webhook-id".to_string(), d.id.clone()),
        ("webhook-timestamp".to_string(), ts.to_string()),
    ];
    if !secrets.is_empty() {
        match signing::signature_header(secrets, &d.id, ts, body) {
            Ok(sig) => h.push(("webhook-signature".to_string(), sig)),
            Err(e) => tracing::error!(delivery = %d.id, error = %e, "could not sign; sending unsigned"),
        }
    }
    h
}

/// Headers a webhook's own headers cannot replace: the Standard Webhooks trio.
pub const RESERVED_HEADERS: [&str; 3] = [signing::HEADER_ID, signing::HEADER_TIMESTAMP, signing::HEADER_SIGNATURE];

/// User headers override ours by name (except the reserved Standard Webhooks headers); a value
/// of exactly `{id}` becomes a fresh unique id.
pub fn apply_custom_headers(headers: &mut Vec<(String, String)>, custom: &[crate::model::HeaderSpec]) {
    for c in custom {
        if RESERVED_HEADERS.iter().any(|r| r.eq_ignore_ascii_case(c.name.trim())) {
            continue;
        }
        let value = if c.value.trim() == "{id}" { uuid::Uuid::new_v4().to_string() } else { c.value.clone() };
        headers.retain(|(k, _)| !k.eq_ignore_ascii_case(&c.name));
        headers.push((c.name.clone(), value));
    }
}

/// The SSRF rules at send time: literal addresses are checked here, names after resolving
/// (and again by the client's resolver at connect, against DNS rebinding).
pub(crate) async fn checked_url(app: &App, url: &str) -> Result<String, Refusal> {
    let parsed = ssrf::check_url_at_creation(url, &app.settings.destinations).map_err(|e| Refusal(e.to_string()))?;
    if let Some(url::Host::Domain(host)) = parsed.host() {
        let port = parsed.port_or_known_default().unwrap_or(80);
        // Only a refusal stops here; a name that does not resolve (now) is a failed attempt,
        // retried by the policy, when the client tries to connect.
        if let Err(e @ ssrf::DestinationError::Refused { .. }) =
            ssrf::resolve_checked(host, port, &app.settings.destinations).await
        {
            return Err(Refusal(e.to_string()));
        }
    }
    Ok(parsed.to_string())
}
