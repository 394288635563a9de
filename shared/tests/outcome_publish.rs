//! The deliver stage publishes a delivery's outcome event only when its tenant subscribes to
//! that type, and reads the subscription only after the outcome is stored: a failed read
//! costs at most the event, never the outcome. In-process on the embedded backend, against a
//! real receiver, with a store that can be told to fail that one read.

use ringhook::app::{App, Ports, Settings};
use ringhook::delivery::retry::RetryPolicy;
use ringhook::delivery::ssrf::DestinationPolicy;
use ringhook::embedded::{Db, SqliteBus, SqliteQueue, SqliteStore};
use ringhook::model::{delivery_id, Delivery, DeliveryStatus, DeliveryTarget, Event};
use ringhook::pipeline::deliver::{self, DeliveryMessage};
use ringhook::pipeline::Pipeline;
use ringhook::ports::observed::ObservedStore;
use ringhook::ports::{Clock, ManualClock};
use ringhook::repo::outcome_events::{self, OutcomeEvents, OutcomeType};
use ringhook::repo::{deliveries, keys};
use std::sync::Arc;

#[path = "support/receiver.rs"]
mod receiver_support;
use receiver_support::receiver;

const TENANT: &str = "ten_outcomes";

struct Setup {
    app: Pipeline,
    store: Arc<ObservedStore>,
    bus: SqliteBus,
    dir: std::path::PathBuf,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn setup(name: &str) -> Setup {
    let dir = std::env::temp_dir().join(format!("ringhook-outcomes-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let c: Arc<dyn Clock> = clock.clone();
    let db = Db::open_dir(&dir).unwrap();
    let store = Arc::new(ObservedStore::new(Arc::new(SqliteStore::new(db.clone(), c.clone()))));
    let bus = SqliteBus::new(db.clone(), c.clone());
    let queue = Arc::new(SqliteQueue::new(db, c.clone(), 5));
    let ports = Ports {
        store: store.clone(),
        queue: queue.clone(),
        bus: Arc::new(bus.clone()),
        clock: c,
        manual_clock: Some(clock),
        outbox: Some(queue),
    };
    let app =
        Pipeline::new(App::new(ports, Settings::new(DestinationPolicy::loopback())), ringhook::products::defaults());
    Setup { app, store, bus, dir }
}

/// A delivery to `url` that a single attempt finishes: 410 fails it at once.
async fn new_delivery(app: &App, url: &str) -> DeliveryMessage {
    let now = app.now_ms();
    let event = Event {
        id: format!("evt_{}", ulid::Ulid::new()),
        tenant_id: TENANT.into(),
        event_type: "outcome.test".into(),
        payload: serde_json::json!({"n": 1}).into(),
        time: String::new(),
        received_at_ms: now,
        arrival: String::new(),
    };
    let id = delivery_id(&event, "trg_outcomes", 0);
    let d = Delivery::new(
        &event,
        id,
        DeliveryTarget::Url { url: url.to_string() },
        event.webhook_body(),
        RetryPolicy::Exponential,
        now,
    );
    let created = deliveries::create_many(app.store.as_ref(), vec![d]).await.unwrap();
    DeliveryMessage::for_delivery(&created[0])
}

async fn published(s: &Setup) -> Vec<(String, String)> {
    let events = s.bus.recent(100).await.unwrap();
    events
        .into_iter()
        .map(|e| (e.detail_type, e.detail["deliveryId"].as_str().unwrap_or_default().to_string()))
        .collect()
}

async fn subscribe(s: &Setup, types: Vec<OutcomeType>) {
    outcome_events::set(s.app.store.as_ref(), TENANT, OutcomeEvents { types, updated_at: None }).await.unwrap();
}

#[tokio::test]
async fn only_the_subscribed_types_are_published() {
    let s = setup("types");
    let ok = receiver(200, 0).await.0;
    let gone = receiver(410, 0).await.0;

    // Nothing subscribed: neither outcome is published.
    for url in [&ok, &gone] {
        deliver::process(&s.app, &new_delivery(&s.app, url).await).await.unwrap();
    }
    assert_eq!(published(&s).await, vec![]);

    // delivery.failed only.
    subscribe(&s, vec![OutcomeType::DeliveryFailed]).await;
    let succeeded = new_delivery(&s.app, &ok).await;
    let failed = new_delivery(&s.app, &gone).await;
    deliver::process(&s.app, &succeeded).await.unwrap();
    deliver::process(&s.app, &failed).await.unwrap();
    assert_eq!(published(&s).await, vec![("delivery.failed".to_string(), failed.d.clone())]);

    // Both.
    subscribe(&s, vec![OutcomeType::DeliverySucceeded, OutcomeType::DeliveryFailed]).await;
    let succeeded = new_delivery(&s.app, &ok).await;
    deliver::process(&s.app, &succeeded).await.unwrap();
    assert_eq!(published(&s).await[0], ("delivery.succeeded".to_string(), succeeded.d.clone()));
}

#[tokio::test]
async fn a_failed_read_of_the_subscription_keeps_the_outcome() {
    let s = setup("read-fails");
    let ok = receiver(200, 0).await.0;
    subscribe(&s, vec![OutcomeType::DeliverySucceeded]).await;
    let msg = new_delivery(&s.app, &ok).await;
    let (pk, sk) = keys::outcome_events(TENANT);
    s.store.fail_reads_of(Some((pk, sk.to_string())));
    // The message fails (it stays on the queue)...
    assert!(deliver::process(&s.app, &msg).await.is_err());
    // ...but the attempt and the outcome are stored, and nothing was published.
    let d = deliveries::find(s.app.store.as_ref(), TENANT, &msg.d).await.unwrap().unwrap().value;
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Succeeded, 1));
    assert_eq!(deliveries::attempts(s.app.store.as_ref(), TENANT, &msg.d).await.unwrap().len(), 1);
    assert_eq!(published(&s).await, vec![]);
    // The message received again finds the delivery finished: no second attempt.
    s.store.fail_reads_of(None);
    deliver::process(&s.app, &msg).await.unwrap();
    let d = deliveries::find(s.app.store.as_ref(), TENANT, &msg.d).await.unwrap().unwrap().value;
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Succeeded, 1));
}
