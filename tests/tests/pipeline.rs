//! Ingestion, delivery, the attempt log and crash recovery, end to end over HTTP.

use ringhook_e2e::{bin, Options, Receiver, Reply, Ringhook};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

async fn webhook_trigger(rh: &Ringhook, url: &str) -> String {
    rh.create_trigger(&json!({"name": "all wraps", "eventType": "agent.wrap",
        "actions": [{"action": "webhook", "parameters": {"url": url}}]}))
        .await
}

fn wrap(n: usize) -> Value {
    json!({"type": "agent.wrap", "payload": {"campaignId": "215", "seq": n}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_duplicates_and_bad_input() {
    let rh = Ringhook::start(bin!(), Options::default()).await;
    let rx = Receiver::start().await;
    webhook_trigger(&rh, &rx.url).await;

    // A batch: one 202 with an id per event, one webhook per event.
    let (s, v) = rh.post("/v1/events", &json!({"events": [wrap(1), wrap(2), wrap(3)]})).await;
    assert_eq!(s, 202, "{v}");
    assert_eq!(v["ids"].as_array().unwrap().len(), 3);
    rx.wait_for(3, WAIT).await;

    // The same event id twice (and an Idempotency-Key twice) delivers once.
    let mut e = wrap(4);
    e["id"] = json!("evt-dup-1");
    let (s1, v1) = rh.post("/v1/events", &e).await;
    let (s2, v2) = rh.post("/v1/events", &e).await;
    assert_eq!((s1, s2), (202, 202));
    assert_eq!(
        (v1["events"][0]["duplicate"].as_bool(), v2["events"][0]["duplicate"].as_bool()),
        (Some(false), Some(true))
    );
    let body = serde_json::to_vec(&wrap(5)).unwrap();
    let (s3, v3) = rh.post_raw("/v1/events", body.clone(), &[("Idempotency-Key", "key-5")]).await;
    let (s4, v4) = rh.post_raw("/v1/events", body, &[("Idempotency-Key", "key-5")]).await;
    assert_eq!((s3, s4), (202, 202));
    assert_eq!(v3["ids"], v4["ids"]);
    rx.wait_for(5, WAIT).await;
    rx.expect_no_more_than(5, Duration::from_millis(400)).await;
    let seqs: HashSet<i64> = rx.requests().iter().map(|r| r.json()["payload"]["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=5).collect());

    // Bad input: a clear 4xx with {"error", "detail"}, never a 500.
    let big = format!("{{\"type\": \"agent.wrap\", \"payload\": {{\"x\": \"{}\"}}}}", "a".repeat(300 * 1024));
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (b"{\"type\": \"agent.wrap\", \"payload\": ".to_vec(), 400, "Invalid JSON format"),
        (b"".to_vec(), 400, "Invalid JSON format"),
        (big.into_bytes(), 413, "payload too large"),
        (br#"{"type": "agent.wrap"}"#.to_vec(), 422, "invalid event"),
        (br#"{"type": "agent.wrap", "payload": "x"}"#.to_vec(), 422, "invalid event"),
        (br#"{"type": "Agent Wrap!", "payload": {}}"#.to_vec(), 422, "invalid event"),
        (br#"{"type": 5, "payload": {}}"#.to_vec(), 422, "invalid event"),
        (br#"{"events": []}"#.to_vec(), 422, "invalid event"),
        (br#"{"events": [{"type": "agent.wrap", "payload": {}}, {"type": "x"}]}"#.to_vec(), 422, "invalid event"),
        (br#"{"type": "agent.wrap", "payload": {}, "time": "yesterday"}"#.to_vec(), 422, "invalid event"),
        (br#"{"type": "agent.wrap", "payload": {}, "id": 12}"#.to_vec(), 422, "invalid event"),
    ];
    for (body, status, error) in cases {
        let shown = String::from_utf8_lossy(&body[..body.len().min(80)]).into_owned();
        let (s, v) = rh.post_raw("/v1/events", body, &[]).await;
        assert_eq!(s, status, "{shown} → {v}");
        assert_eq!(v["error"], error, "{shown} → {v}");
        assert!(v["detail"].as_str().is_some_and(|d| !d.is_empty()), "{v}");
    }
    // A batch with one bad event is refused whole: nothing from it is accepted.
    rx.expect_no_more_than(5, Duration::from_millis(300)).await;

    // The same id twice in one batch: the second is the duplicate, and it is delivered once.
    let mut e6 = wrap(6);
    e6["id"] = json!("evt-dup-2");
    let (s, v) = rh.post("/v1/events", &json!({"events": [e6.clone(), e6]})).await;
    assert_eq!(s, 202, "{v}");
    assert_eq!(
        (v["events"][0]["duplicate"].as_bool(), v["events"][1]["duplicate"].as_bool()),
        (Some(false), Some(true)),
        "{v}"
    );
    rx.wait_for(6, WAIT).await;
    rx.expect_no_more_than(6, Duration::from_millis(400)).await;

    // Without a valid key: 401, same error shape.
    for key in [None, Some("rk_wrong")] {
        let (s, v) = rh.request_as(reqwest::Method::POST, "/v1/events", key, Some(&wrap(9))).await;
        assert_eq!((s, v["error"].as_str()), (401, Some("unauthorized")), "{v}");
    }
    // Unknown routes and methods answer in the same shape.
    assert_eq!(rh.get("/v1/nothing").await.1["error"], "not found");
    assert_eq!(rh.request_as(reqwest::Method::PATCH, "/v1/events", Some(&rh.key), None).await.0, 405);
}

/// A receiver answering 500 then 200: two attempts, both in the log, the delivery succeeded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_attempt_is_retried_and_every_attempt_is_logged() {
    let rh = Ringhook::start(bin!(), Options::manual_clock()).await;
    let rx = Receiver::start().await;
    rx.script([Reply::status(500).body("{\"error\": \"boom\"}")]);
    let (s, w) = rh
        .post("/v1/webhooks", &json!({"name": "crm", "url": format!("{}/in", rx.url), "headers": {"X-Tenant": "acme"}}))
        .await;
    assert_eq!(s, 201, "{w}");
    let wid = w["id"].as_str().unwrap();
    let tid = rh
        .create_trigger(&json!({"name": "to crm", "eventType": "agent.wrap",
            "actions": [{"action": "webhook", "parameters": {"webhookId": wid}}]}))
        .await;
    rh.send_event(&wrap(1)).await;
    rx.wait_for(1, WAIT).await;
    let d = rh.wait_deliveries("status=pending", 1, WAIT).await;
    let id = d[0]["id"].as_str().unwrap().to_string();
    // Wait for the first attempt to be logged, then move time past the 5 s retry.
    for _ in 0..500 {
        if rh.delivery(&id).await["attempts"].as_array().unwrap().len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    rh.advance(6).await;
    let got = rx.wait_for(2, WAIT).await;
    let done = rh.wait_deliveries("status=succeeded", 1, WAIT).await;
    assert_eq!(done[0]["id"], id.as_str());
    assert_eq!(done[0]["webhookId"], wid);
    assert_eq!(done[0]["triggerId"], tid.as_str());
    let full = rh.delivery(&id).await;
    let attempts = full["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{full:#}");
    assert_eq!(attempts[0]["response"]["status"], 500);
    assert_eq!(attempts[0]["response"]["body"], "{\"error\": \"boom\"}");
    assert_eq!(attempts[0]["success"], false);
    assert_eq!(attempts[1]["response"]["status"], 200);
    assert_eq!(attempts[1]["success"], true);
    let spacing = attempts[1]["startedAtMs"].as_i64().unwrap() - attempts[0]["startedAtMs"].as_i64().unwrap();
    assert!((4_500..=6_500).contains(&spacing), "retry after ~5 s (±10%), got {spacing} ms");
    for a in attempts {
        assert_eq!(a["request"]["method"], "POST");
        assert_eq!(a["request"]["url"], format!("{}/in", rx.url));
        assert!(a["latencyMs"].is_u64());
        assert_eq!(serde_json::from_str::<Value>(a["request"]["body"].as_str().unwrap()).unwrap(), wrap(1));
    }
    // One delivery id across attempts, sent as webhook-id; the custom header on each.
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    assert_eq!(got[0].header("webhook-id"), Some(id.as_str()));
    assert!(got.iter().all(|r| r.header("x-tenant") == Some("acme")));
    // Filters.
    assert_eq!(rh.deliveries(&format!("webhookId={wid}")).await.len(), 1);
    assert_eq!(rh.deliveries("webhookId=wh_other").await.len(), 0);
    assert_eq!(rh.deliveries(&format!("triggerId={tid}&status=succeeded")).await.len(), 1);
    assert_eq!(rh.deliveries("status=failed").await.len(), 0);
    assert_eq!(rh.deliveries("since=2999-01-01T00:00:00Z").await.len(), 0);
    // A filter that is not one: 422 naming the parameter.
    for q in ["status=lost", "since=tomorrow", "limit=many", "webhookid=wh_1"] {
        let (status, v) = rh.get(&format!("/v1/deliveries?{q}")).await;
        assert_eq!(status, 422, "{q}: {v}");
        assert!(v["detail"].as_str().unwrap().starts_with(q.split('=').next().unwrap()), "{q}: {v}");
    }
}

/// At most 10 KB of a response is read and stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_responses_are_cut_at_10_kb() {
    let rh = Ringhook::start(bin!(), Options::default()).await;
    let rx = Receiver::start().await;
    rx.set_default(Reply::status(200).body(vec![b'x'; 64 * 1024]));
    webhook_trigger(&rh, &rx.url).await;
    rh.send_event(&wrap(1)).await;
    let d = rh.wait_deliveries("status=succeeded", 1, WAIT).await;
    let full = rh.delivery(d[0]["id"].as_str().unwrap()).await;
    let resp = &full["attempts"][0]["response"];
    assert_eq!(resp["body"].as_str().unwrap().len(), 10 * 1024);
    assert_eq!(resp["truncated"], true);
}

/// SIGKILL with deliveries queued (and events not yet evaluated): after a restart on the same
/// data every event is delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loses_nothing() {
    let mut rh = Ringhook::start(bin!(), Options::default()).await;
    let rx = Receiver::start().await;
    // A slow receiver keeps deliveries queued when the process dies.
    rx.set_default(Reply::status(200).delay(Duration::from_millis(30)));
    webhook_trigger(&rh, &rx.url).await;
    let total = 300;
    for chunk in (0..total).collect::<Vec<_>>().chunks(100) {
        let (s, v) =
            rh.post("/v1/events", &json!({"events": chunk.iter().map(|n| wrap(*n)).collect::<Vec<_>>()})).await;
        assert_eq!(s, 202, "{v}");
    }
    let before = rx.count();
    rh.kill9();
    assert!(before < total, "the test needs work in flight at the kill ({before} of {total} already delivered)");
    rx.set_default(Reply::status(200));
    rh.restart().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let seen: HashSet<i64> = rx.requests().iter().map(|r| r.json()["payload"]["seq"].as_i64().unwrap()).collect();
        if seen.len() == total {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {total} events delivered after restart",
            seen.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // An attempt sent just before the kill stays pending until its lease ends (timeout + 5 s),
    // then repeats: allow for that.
    let all = rh.wait_settled(Duration::from_secs(60)).await;
    assert_eq!(all.len(), total);
    assert!(all.iter().all(|d| d["status"] == "succeeded"));
}
