//! Evaluating accepted events: every product that handles the event's type evaluates it; their
//! deliveries are created and queued, their bus events published. Only the arrival of an id
//! that its record holds is evaluated (a repeat's copy is dropped: `repo::events`). Products
//! are idempotent (deterministic delivery ids, remembered state changes), so an event
//! evaluated twice (a redelivered message) acts once.

use super::{deliver, Pipeline, PipelineError};
use crate::model::Event;
use crate::ports::{Outbox, QueueName};
use crate::product::Effects;
use crate::repo::{deliveries, events};

/// Evaluates a batch; one result per event, in order, so queue consumers can report exactly
/// the failed messages.
pub async fn evaluate_batch(p: &Pipeline, batch: &[Event]) -> Vec<Result<(), PipelineError>> {
    // Only the copy of an id's recorded arrival is evaluated: a repeat's copy makes no effects,
    // and one whose id cannot be checked now fails (it stays on the queue).
    let checked = futures::future::join_all(batch.iter().map(|e| events::is_first_arrival(p.store.as_ref(), e))).await;
    let first: Vec<bool> = checked.iter().map(|c| matches!(c, Ok(true))).collect();
    let mut effects: Vec<Result<Effects, PipelineError>> =
        checked.into_iter().map(|c| c.map(|_| Effects::default()).map_err(PipelineError::from)).collect();
    // Each product sees the events it handles as one batch (e.g. triggers look each tenant's
    // trigger set up once per batch).
    for product in p.products.iter() {
        let (idx, mine): (Vec<usize>, Vec<&Event>) =
            batch.iter().enumerate().filter(|(i, e)| first[*i] && product.handles(&e.event_type)).unzip();
        if mine.is_empty() {
            continue;
        }
        let results = product.evaluate(&p.app, &mine).await;
        debug_assert_eq!(results.len(), mine.len(), "{}: one result per event", product.name());
        for (i, r) in idx.into_iter().zip(results) {
            match (&mut effects[i], r) {
                (Ok(acc), Ok(mut e)) => {
                    for d in &mut e.deliveries {
                        d.product.get_or_insert_with(|| product.name().to_string());
                        // Out of the due-time index: until its own message is queued, the event's
                        // message carries it (re-evaluation queues never-attempted deliveries).
                        if d.next_attempt_at_ms.is_none_or(|at| at <= d.created_at_ms) {
                            d.sweep_at_ms = None;
                        }
                    }
                    acc.extend(e)
                }
                (slot @ Ok(_), Err(err)) => *slot = Err(err),
                (Err(_), _) => {}
            }
        }
    }
    if let Some(outbox) = &p.outbox {
        return create_and_queue_at_once(p, outbox.as_ref(), effects).await;
    }
    // Deliveries are created event by event (conditional writes); queueing them and publishing
    // is done once for the batch: one SQS batch per ten events rather than one per event
    // (docs/aws-scale.md). If that shared step fails, every event of the batch stays on the
    // queue and is evaluated again, which acts once (deterministic delivery ids).
    let created = futures::future::join_all(effects.into_iter().map(|effects| async move {
        let effects = effects?;
        let created = deliveries::create_many(p.store.as_ref(), effects.deliveries).await?;
        Ok::<_, PipelineError>((created, effects.bus_events))
    }))
    .await;
    let mut results: Vec<Result<(), PipelineError>> = Vec::with_capacity(batch.len());
    let (mut to_queue, mut to_publish) = (Vec::new(), Vec::new());
    for r in created {
        match r {
            Ok((ds, bus)) => {
                to_queue.extend(ds);
                to_publish.extend(bus);
                results.push(Ok(()));
            }
            Err(e) => results.push(Err(e)),
        }
    }
    if to_queue.is_empty() && to_publish.is_empty() {
        return results;
    }
    // Both at once: the embedded backend then commits them together, AWS takes them in
    // parallel. Order does not matter for safety: the deliveries exist already, and until both
    // succeed the events stay on their queue; evaluating again queues never-attempted
    // deliveries again.
    let (queued, published) =
        futures::future::join(deliver::enqueue_now(p, &to_queue), p.bus.publish(to_publish)).await;
    fail_the_rest(&mut results, queued.and(published.map_err(PipelineError::from)));
    results
}

/// With an outbox (the embedded backend): the batch's deliveries are created and queued in one
/// commit. A delivery that exists already (evaluated before) is queued again all the same: if
/// it was never attempted that is what re-evaluation must do, and otherwise its message asks
/// for an attempt already made and is dropped by the deliver stage. (The outbox writes around
/// the batch's memo of reads, `batch_reads`: nothing in the batch reads after this.)
async fn create_and_queue_at_once(
    p: &Pipeline,
    outbox: &dyn Outbox,
    effects: Vec<Result<Effects, PipelineError>>,
) -> Vec<Result<(), PipelineError>> {
    let (mut writes, mut messages, mut to_publish) = (Vec::new(), Vec::new(), Vec::new());
    let mut results: Vec<Result<(), PipelineError>> = Vec::with_capacity(effects.len());
    for r in effects {
        match r {
            Ok(e) => {
                for d in e.deliveries {
                    messages.push(deliver::DeliveryMessage::now(&d));
                    writes.push(deliveries::create_write(&d));
                }
                to_publish.extend(e.bus_events);
                results.push(Ok(()));
            }
            Err(e) => results.push(Err(e)),
        }
    }
    if messages.is_empty() && to_publish.is_empty() {
        return results;
    }
    let (queued, published) =
        futures::future::join(outbox.send_then_put(QueueName::Deliveries, messages, writes), p.bus.publish(to_publish))
            .await;
    fail_the_rest(
        &mut results,
        queued.map(drop).map_err(PipelineError::from).and(published.map_err(PipelineError::from)),
    );
    results
}

/// A step the whole batch shares failed: every event that had not failed alone stays on the
/// queue, to be evaluated again (which acts once).
fn fail_the_rest(results: &mut [Result<(), PipelineError>], shared: Result<(), PipelineError>) {
    if let Err(e) = shared {
        let msg = e.to_string();
        for r in results.iter_mut().filter(|r| r.is_ok()) {
            *r = Err(PipelineError::Unavailable(msg.clone()));
        }
    }
}
