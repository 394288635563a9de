//! The scheduler tick (EventBridge `rate(1 minute)` on AWS, every second locally): sweeps the
//! due-time index and hands each due item to its owner — deliveries to the delivery stage, any
//! other kind to the product that owns it. Claims are versioned writes, so two overlapping
//! ticks never act on the same item twice.
//!
//! It also moves dead letters that still read as pipeline messages back onto their queue: a
//! delivery waiting for its first attempt is carried by a queue message alone (it is not in
//! the due-time index), so a message that ran out of receives — e.g. the store was down for
//! all of them — must not stay parked. Handling is idempotent, so a message that comes back
//! acts once; one that cannot be read stays in the dead-letter queue for a person.

use super::deliver::DeliveryMessage;
use super::{Pipeline, PipelineError};
use crate::model::delivery::SWEEP_GRACE_MS;
use crate::model::{Delivery, Event};
use crate::ports::queue::Keep;
use crate::ports::{Item, OutMessage, QueueName, StoreError};
use crate::repo::{decode, deliveries};
use serde::Serialize;

const PAGE: usize = 500;
/// Dead letters looked at per queue and tick.
const REDRIVE_MAX: usize = 100;

#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TickReport {
    pub due: usize,
    pub deliveries_queued: usize,
    pub skipped: usize,
    /// Dead letters moved back onto their queue.
    pub redriven: usize,
}

pub async fn tick(app: &Pipeline) -> Result<TickReport, PipelineError> {
    let now = app.now_ms();
    let mut report = TickReport::default();
    // Bounded: a tick handles at most a few pages; the next tick continues.
    for _ in 0..20 {
        let due = app.store.query_due(now, PAGE).await?;
        let n = due.len();
        report.due += n;
        let mut messages = Vec::new();
        for item in due {
            match claim(app, item, now).await? {
                Some(Claimed::Delivery(m)) => messages.push(OutMessage::now(m.encode())),
                Some(Claimed::Created(ds)) => messages.extend(ds.iter().map(DeliveryMessage::now)),
                None => report.skipped += 1,
            }
        }
        report.deliveries_queued += messages.len();
        app.queue.send(QueueName::Deliveries, messages).await?;
        if n < PAGE {
            break;
        }
    }
    report.redriven = redrive(app).await?;
    Ok(report)
}

/// Dead letters of both queues that parse as their queue's messages go back onto it.
async fn redrive(app: &Pipeline) -> Result<usize, PipelineError> {
    let events = |b: &str| serde_json::from_str::<Event>(b).is_ok();
    let deliveries = |b: &str| serde_json::from_str::<DeliveryMessage>(b).is_ok();
    let mut moved = 0;
    for (queue, keep) in [(QueueName::Events, &events as &Keep), (QueueName::Deliveries, &deliveries as &Keep)] {
        let n = app.queue.redrive(queue, REDRIVE_MAX, keep).await?;
        if n > 0 {
            tracing::warn!(queue = queue.as_str(), moved = n, "dead letters moved back onto their queue");
            crate::metrics::redriven(n as u64);
        }
        moved += n;
    }
    Ok(moved)
}

enum Claimed {
    Delivery(DeliveryMessage),
    /// A product's due item: the deliveries it created.
    Created(Vec<Delivery>),
}

async fn claim(app: &Pipeline, item: Item, now: i64) -> Result<Option<Claimed>, PipelineError> {
    let kind = item.pk.rsplit('#').next().unwrap_or_default();
    if kind == "DELIVERY" {
        let v = decode::<Delivery>(item)?;
        let mut d = v.value;
        if d.status.is_final() {
            return Ok(None);
        }
        // Look again later if this message gets lost too.
        d.sweep_at_ms = Some(now + SWEEP_GRACE_MS);
        if d.next_attempt_at_ms.is_none_or(|n| n > now) {
            d.next_attempt_at_ms = Some(now);
        }
        return match deliveries::update(app.store.as_ref(), &d, v.version).await {
            Ok(()) => Ok(Some(Claimed::Delivery(DeliveryMessage::for_delivery(&d)))),
            Err(StoreError::ConditionFailed) => Ok(None),
            Err(e) => Err(e.into()),
        };
    }
    if let Some(owner) = app.products.owner_of_due(kind) {
        return Ok(Some(Claimed::Created(owner.on_due(&app.app, item, now).await?)));
    }
    tracing::warn!(pk = %item.pk, sk = %item.sk, "due item of unknown kind");
    Ok(None)
}
