//! The queue is at-least-once (SQS may hand the same message to two workers, or twice to one):
//! copies of one delivery message must never send one attempt twice, nor send a delivery that
//! already succeeded. Driven in-process on the embedded backend against a counting receiver.

use ringhook::app::{App, Ports, Settings};
use ringhook::delivery::retry::RetryPolicy;
use ringhook::delivery::ssrf::DestinationPolicy;
use ringhook::embedded::{Db, SqliteBus, SqliteQueue, SqliteStore};
use ringhook::model::{delivery_id, Delivery, DeliveryStatus, DeliveryTarget, Event};
use ringhook::pipeline::deliver::{self, DeliveryMessage};
use ringhook::pipeline::Pipeline;
use ringhook::ports::{Clock, ManualClock};
use ringhook::repo::deliveries;
use std::sync::atomic::Ordering;
use std::sync::Arc;

#[path = "support/receiver.rs"]
mod receiver_support;
use receiver_support::receiver;

fn app(dir: &std::path::Path) -> (Pipeline, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let c: Arc<dyn Clock> = clock.clone();
    let db = Db::open_dir(dir).unwrap();
    let queue = Arc::new(SqliteQueue::new(db.clone(), c.clone(), 5));
    let ports = Ports {
        store: Arc::new(SqliteStore::new(db.clone(), c.clone())),
        queue: queue.clone(),
        bus: Arc::new(SqliteBus::new(db, c.clone())),
        clock: c,
        manual_clock: Some(clock.clone()),
        outbox: Some(queue),
    };
    (
        Pipeline::new(App::new(ports, Settings::new(DestinationPolicy::loopback())), ringhook::products::defaults()),
        clock,
    )
}

async fn new_delivery(app: &App, url: &str, policy: RetryPolicy) -> DeliveryMessage {
    let now = app.now_ms();
    let event = Event {
        id: format!("evt_{}", ulid::Ulid::new()),
        tenant_id: "ten_claims".into(),
        event_type: "claims.test".into(),
        payload: serde_json::json!({"n": 1}).into(),
        time: String::new(),
        received_at_ms: now,
        arrival: String::new(),
    };
    let id = delivery_id(&event, "trg_claims", 0);
    let d = Delivery::new(&event, id, DeliveryTarget::Url { url: url.to_string() }, event.webhook_body(), policy, now);
    let created = deliveries::create_many(app.store.as_ref(), vec![d]).await.unwrap();
    DeliveryMessage::for_delivery(&created[0])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn copies_of_one_message_send_one_attempt_once() {
    let dir = std::env::temp_dir().join(format!("ringhook-claims-{}-a", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (app, _clock) = app(&dir);
    let (url, count) = receiver(200, 50).await;
    let msg = new_delivery(&app, &url, RetryPolicy::Exponential).await;

    // Eight workers get the same message at once: one sends, the rest back off.
    let copies = (0..8).map(|_| deliver::process(&app, &msg));
    for r in futures::future::join_all(copies).await {
        r.unwrap();
    }
    assert_eq!(count.load(Ordering::SeqCst), 1, "one attempt, sent once");
    let d = deliveries::find(app.store.as_ref(), &msg.t, &msg.d).await.unwrap().unwrap().value;
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Succeeded, 1));

    // The same message again, later (SQS redelivering it): the delivery already succeeded.
    deliver::process(&app, &msg).await.unwrap();
    deliver::process_message(&app, &msg.encode()).await.unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 1, "a succeeded delivery is never sent again");
    let attempts = deliveries::attempts(app.store.as_ref(), &msg.t, &msg.d).await.unwrap();
    assert_eq!(attempts.len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_copy_of_an_attempt_already_made_is_dropped() {
    let dir = std::env::temp_dir().join(format!("ringhook-claims-{}-b", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (app, clock) = app(&dir);
    let (url, count) = receiver(500, 0).await;
    let msg = new_delivery(&app, &url, RetryPolicy::Fixed10m48h).await;
    deliver::process(&app, &msg).await.unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 1);
    // Attempt 1 failed; attempt 2 is due in 10 minutes. Copies of the attempt-1 message, now and
    // when attempt 2 is due, send nothing.
    deliver::process(&app, &msg).await.unwrap();
    clock.advance_ms(10 * 60 * 1000);
    deliver::process(&app, &msg).await.unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 1, "a stale copy is dropped");
    // The attempt-2 message (what the worker queued) sends it, once, however many copies.
    let d = deliveries::find(app.store.as_ref(), &msg.t, &msg.d).await.unwrap().unwrap().value;
    let next = DeliveryMessage::for_delivery(&d);
    assert_eq!(next.n, 1);
    for r in futures::future::join_all((0..4).map(|_| deliver::process(&app, &next))).await {
        r.unwrap();
    }
    assert_eq!(count.load(Ordering::SeqCst), 2);
    let d = deliveries::find(app.store.as_ref(), &msg.t, &msg.d).await.unwrap().unwrap().value;
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Pending, 2));
    let _ = std::fs::remove_dir_all(&dir);
}
