//! Outcome events (`delivery.succeeded`, `delivery.failed`) reach the event bus only for a
//! tenant that subscribed to their type (`/v1/outcome-events`), end to end: the real runner,
//! real receivers, and the runner's embedded bus read from its SQLite file. Events a product
//! publishes on purpose (the triggers' `lead.list.updated`) do not depend on it.
//!
//! The runner has one delivery worker, which finishes a delivery (outcome stored, event
//! published or not) before it takes the next message: once a later delivery's event is on
//! the bus, an earlier delivery that published nothing never will.

use ringhook::embedded::SqliteBus;
use ringhook::ports::BusEvent;
use ringhook_e2e::{bin, Options, Receiver, Reply, Ringhook};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

fn bus(rh: &Ringhook) -> Vec<BusEvent> {
    SqliteBus::recent_in_dir(&rh.data_dir, 1000).expect("read the runner's bus")
}

/// Polls the bus until `ok` holds of it.
async fn wait_bus(rh: &Ringhook, what: &str, ok: impl Fn(&[BusEvent]) -> bool) -> Vec<BusEvent> {
    let deadline = Instant::now() + WAIT;
    loop {
        let events = bus(rh);
        if ok(&events) {
            return events;
        }
        assert!(Instant::now() < deadline, "the bus never had {what}: {events:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The outcome events on the bus for one delivery.
fn outcomes_of<'a>(events: &'a [BusEvent], delivery: &str) -> Vec<&'a str> {
    events
        .iter()
        .filter(|e| e.detail_type.starts_with("delivery.") && e.detail["deliveryId"] == delivery)
        .map(|e| e.detail_type.as_str())
        .collect()
}

/// A webhook to `url` and a trigger sending agent.wrap events of `campaign` to it; with the
/// default retry policy a 410 fails the delivery at its first attempt.
async fn route(rh: &Ringhook, key: &str, campaign: &str, url: &str) {
    let (s, w) = rh
        .request_as(reqwest::Method::POST, "/v1/webhooks", Some(key), Some(&json!({"name": campaign, "url": url})))
        .await;
    assert_eq!(s, 201, "{w}");
    let trigger = json!({"name": campaign, "eventType": "agent.wrap",
        "conditions": [{"reference": "campaignId", "operator": "=", "value": campaign}],
        "actions": [{"action": "webhook", "parameters": {"webhookId": w["id"]}}]});
    let (s, t) = rh.request_as(reqwest::Method::POST, "/v1/triggers", Some(key), Some(&trigger)).await;
    assert_eq!(s, 201, "{t}");
}

/// Posts an agent.wrap event of `campaign` and waits until its one delivery has ended; its id.
async fn deliver(rh: &Ringhook, key: &str, campaign: &str) -> String {
    let event = json!({"type": "agent.wrap", "payload": {"campaignId": campaign}});
    let (s, v) = rh.request_as(reqwest::Method::POST, "/v1/events", Some(key), Some(&event)).await;
    assert_eq!(s, 202, "{v}");
    let event_id = v["ids"][0].as_str().unwrap().to_string();
    let deadline = Instant::now() + WAIT;
    loop {
        let path = format!("/v1/deliveries?eventId={event_id}");
        let (s, v) = rh.request_as(reqwest::Method::GET, &path, Some(key), None).await;
        assert_eq!(s, 200, "{v}");
        if let Some(d) = v["deliveries"].as_array().and_then(|ds| ds.first()).filter(|d| d["status"] != "pending") {
            return d["id"].as_str().unwrap().to_string();
        }
        assert!(Instant::now() < deadline, "the delivery of {event_id} never ended: {v}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn subscribe(rh: &Ringhook, key: &str, types: Value) {
    let (s, v) =
        rh.request_as(reqwest::Method::PUT, "/v1/outcome-events", Some(key), Some(&json!({"types": types}))).await;
    assert_eq!((s, &v["types"]), (200, &types), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcome_events_are_published_only_for_the_types_a_tenant_subscribed_to() {
    let opts = Options { extra_args: vec!["--delivery-workers".into(), "1".into()], ..Options::default() };
    let rh = Ringhook::start(bin!(), opts).await;
    let ok = Receiver::start().await;
    let gone = Receiver::start().await;
    gone.set_default(Reply::status(410));
    let key = rh.key.clone();
    // Another tenant, subscribed to both: its events mark how far the worker has got.
    let other = rh.new_tenant_full("subscribed").await;
    let other_key = other["apiKey"].as_str().unwrap().to_string();
    for k in [&key, &other_key] {
        route(&rh, k, "ok", &format!("{}/ok", ok.url)).await;
        route(&rh, k, "gone", &format!("{}/gone", gone.url)).await;
    }
    subscribe(&rh, &other_key, json!(["delivery.succeeded", "delivery.failed"])).await;

    // No subscription (the default): a delivered webhook publishes nothing.
    let (s, v) = rh.get("/v1/outcome-events").await;
    assert_eq!((s, v), (200, json!({"types": []})));
    let quiet = deliver(&rh, &key, "ok").await;
    let marker = deliver(&rh, &other_key, "ok").await;
    let events = wait_bus(&rh, "the subscribed tenant's event", |es| !outcomes_of(es, &marker).is_empty()).await;
    assert_eq!(outcomes_of(&events, &marker), ["delivery.succeeded"]);
    assert_eq!(outcomes_of(&events, &quiet), Vec::<&str>::new(), "not subscribed: {events:#?}");

    // delivery.failed only: a failed delivery publishes one, a succeeded one none.
    subscribe(&rh, &key, json!(["delivery.failed"])).await;
    let succeeded = deliver(&rh, &key, "ok").await;
    let failed = deliver(&rh, &key, "gone").await;
    let events = wait_bus(&rh, "the failed delivery's event", |es| !outcomes_of(es, &failed).is_empty()).await;
    assert_eq!(outcomes_of(&events, &failed), ["delivery.failed"]);
    assert_eq!(outcomes_of(&events, &succeeded), Vec::<&str>::new(), "delivery.succeeded is not subscribed");
    let failed_event = events.iter().find(|e| e.detail["deliveryId"] == failed.as_str()).unwrap();
    assert_eq!(
        (failed_event.detail["eventType"].as_str(), failed_event.detail["lastStatus"].as_u64()),
        (Some("agent.wrap"), Some(410))
    );
    // Each tenant's subscription is its own.
    let other_failed = deliver(&rh, &other_key, "gone").await;
    let events = wait_bus(&rh, "the other tenant's failure", |es| !outcomes_of(es, &other_failed).is_empty()).await;
    assert_eq!(outcomes_of(&events, &other_failed), ["delivery.failed"]);
    assert_eq!(ok.count(), 3);
    assert_eq!(gone.count(), 2);
}

/// Bus events a product publishes on purpose do not depend on the subscription.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn product_events_are_published_without_a_subscription() {
    let rh = Ringhook::start(bin!(), Options::default()).await;
    rh.create_trigger(&json!({"name": "to list 7", "eventType": "agent.wrap",
        "actions": [{"action": "lead.update.list", "parameters": {"listId": "7"}}]}))
        .await;
    rh.send_event(&json!({"type": "agent.wrap", "payload": {"campaignId": "215", "leadId": "L-1"}})).await;
    let events = wait_bus(&rh, "lead.list.updated", |es| es.iter().any(|e| e.detail_type == "lead.list.updated")).await;
    let e = events.iter().find(|e| e.detail_type == "lead.list.updated").unwrap();
    assert_eq!((e.detail["leadId"].as_str(), e.detail["listId"].as_str()), (Some("L-1"), Some("7")), "{e:?}");
}

/// Bad bodies and credentials: a 4xx in the `{"error", "detail"}` shape, never a 500, and
/// nothing stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_4xx_and_change_nothing() {
    let rh = Ringhook::start(bin!(), Options::default()).await;
    subscribe(&rh, &rh.key, json!(["delivery.failed"])).await;
    let cases: Vec<(&str, u16, &str, &str)> = vec![
        (r#"{"types": ["delivery.retried"]}"#, 422, "invalid outcome events", "types[0]: unknown variant"),
        (r#"{"types": "delivery.failed"}"#, 422, "invalid outcome events", "types: invalid type"),
        (r#"{"types": {"delivery.failed": true}}"#, 422, "invalid outcome events", "types: invalid type"),
        (r#"{"types": [1]}"#, 422, "invalid outcome events", "types[0]: invalid type"),
        (r#"{}"#, 422, "invalid outcome events", "types: required"),
        (r#"{"types": null}"#, 422, "invalid outcome events", "types: required"),
        (r#"{"type": ["delivery.failed"]}"#, 422, "invalid outcome events", "type: not a field"),
        (
            r#"{"types": ["delivery.failed", "delivery.failed"]}"#,
            422,
            "invalid outcome events",
            "types: \"delivery.failed\" is given twice",
        ),
        (r#"["delivery.failed"]"#, 422, "invalid outcome events", "the body must be a JSON object"),
        (r#"{"types": ["delivery.failed"]"#, 400, "Invalid JSON format", "the body is not valid JSON"),
        ("", 400, "Invalid JSON format", "the request body is empty"),
    ];
    for (body, status, error, detail) in cases {
        let resp = rh
            .http
            .put(rh.url("/v1/outcome-events"))
            .bearer_auth(&rh.key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let s = resp.status().as_u16();
        let v: Value = resp.json().await.unwrap();
        assert_eq!((s, v["error"].as_str()), (status, Some(error)), "{body} → {v}");
        assert!(v["detail"].as_str().unwrap().starts_with(detail), "{body} → {v}");
    }
    let resp = rh
        .http
        .put(rh.url("/v1/outcome-events"))
        .bearer_auth(&rh.key)
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 415);
    for key in [None, Some("rk_wrong")] {
        for method in [reqwest::Method::GET, reqwest::Method::PUT] {
            let (s, v) = rh.request_as(method.clone(), "/v1/outcome-events", key, Some(&json!({"types": []}))).await;
            assert_eq!((s, v["error"].as_str()), (401, Some("unauthorized")), "{method} {key:?}: {v}");
        }
    }
    assert_eq!(rh.request_as(reqwest::Method::POST, "/v1/outcome-events", Some(&rh.key), None).await.0, 405);
    let (s, v) = rh.get("/v1/outcome-events").await;
    assert_eq!((s, &v["types"]), (200, &json!(["delivery.failed"])), "unchanged: {v}");
}
