//! Delivering: one queue message asks for attempt number `n` of one delivery. The worker
//! claims the attempt (a versioned write, so two copies of a message never both send), sends,
//! logs the attempt, and applies the delivery's retry policy.

use super::{Pipeline, PipelineError};
use crate::app::App;
use crate::delivery::retry::{AttemptOutcome, RetryDecision};
use crate::delivery::sender;
use crate::destinations::request::{self, mask_header, PrepareError, Prepared, Refusal};
use crate::model::delivery::{AttemptRequest, AttemptResponse, SWEEP_GRACE_MS};
use crate::model::webhook;
use crate::model::{format_time_ms, Attempt, Delivery, DeliveryStatus, DeliveryTarget};
use crate::ports::queue::MAX_DELAY_SECS;
use crate::ports::{BusEvent, OutMessage, QueueName, StoreError};
use crate::repo::deliveries;
use crate::repo::outcome_events::{self, OutcomeType};
use serde::{Deserialize, Serialize};
use serde_json::json;

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
    /// The message asking for `d`'s next attempt now.
    pub fn now(d: &Delivery) -> OutMessage {
        OutMessage::now(Self::for_delivery(d).encode())
    }
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("messages serialize")
    }
}

pub async fn enqueue_now(app: &App, ds: &[Delivery]) -> Result<(), PipelineError> {
    let msgs = ds.iter().map(DeliveryMessage::now).collect();
    app.queue.send(QueueName::Deliveries, msgs).await?;
    Ok(())
}

pub async fn process_message(app: &Pipeline, body: &str) -> Result<(), PipelineError> {
    let msg: DeliveryMessage = serde_json::from_str(body).map_err(|e| PipelineError::Malformed(e.to_string()))?;
    process(app, &msg).await
}

pub async fn process(app: &Pipeline, msg: &DeliveryMessage) -> Result<(), PipelineError> {
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
    // Claim the attempt with a lease: only one worker wins this versioned write. The delivery
    // leaves the due-time index (if it was in it): this message stays on the queue until the
    // outcome is written, so if this worker dies the queue hands it out again.
    d.first_attempt_at_ms.get_or_insert(now);
    d.claimed_until_ms = Some(now + timeout_ms + LEASE_SLACK_MS);
    d.sweep_at_ms = None;
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
    // The attempt's log entry, then the delivery's new state (one commit on the embedded store).
    let recorded = deliveries::record_outcome(store, &attempt, &d, claimed_version).await;
    if let Err(StoreError::Unavailable(e)) = recorded {
        return Err(StoreError::Unavailable(e).into());
    }
    crate::metrics::attempt(attempt.latency_ms);
    if let Some(product) = d.product.as_deref().and_then(|name| app.products.named(name)) {
        let outcome = async { super::apply(&app.app, product.on_attempt(&app.app, &d, &attempt).await?).await };
        if let Err(e) = outcome.await {
            tracing::error!(delivery = %d.id, product = product.name(), error = %e, "recording the attempt's outcome");
        }
    }
    // Changed under us (e.g. a redelivery request): that change wins.
    if recorded.is_err() {
        return Ok(());
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
        crate::metrics::finished(d.status == DeliveryStatus::Succeeded);
        publish_outcome(app, &d).await?;
    }
    Ok(())
}

fn finish(d: &mut Delivery, status: DeliveryStatus, now: i64) {
    d.status = status;
    d.completed_at_ms = Some(now);
    d.next_attempt_at_ms = None;
    d.sweep_at_ms = None;
}

/// The finished delivery's outcome event, if its tenant subscribes to that type (an
/// EventBridge entry costs more than this read). Called only once the outcome is stored, so a
/// failed read loses at most the event, as a failed publish does, never the outcome: the
/// message is received again, finds the delivery finished, and is dropped.
async fn publish_outcome(app: &App, d: &Delivery) -> Result<(), PipelineError> {
    let Some(t) = OutcomeType::of(d.status) else { return Ok(()) };
    if outcome_events::find(app.store.as_ref(), &d.tenant_id).await?.wants(t) {
        app.bus.publish(vec![outcome_event(d)]).await?;
    }
    Ok(())
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

/// The request for this attempt: the product that made the delivery must still want it, the
/// delivery must be sendable, and its destination must exist and be allowed.
async fn prepare(p: &Pipeline, d: &Delivery, now_ms: i64) -> Result<Prepared, PrepareError> {
    if let Some(product) = d.product.as_deref().and_then(|name| p.products.named(name)) {
        if let Some(reason) = product.check_send(&p.app, d).await? {
            return Err(Refusal(reason).into());
        }
    }
    if let Some(reason) = &d.unsendable {
        return Err(Refusal(reason.clone()).into());
    }
    request::build(&p.app, d, now_ms).await
}
