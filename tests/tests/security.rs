//! Security end to end: SSRF rules at creation and at send time (and the allow-list), tenant
//! isolation on every id-taking route, bulk recovery, and secrets that never come back — not in
//! API responses after their one-time reveal, not in delivery logs, not in the runner's log.

use ringhook_e2e::checks::{assert_cross_tenant_refused, assert_no_secrets, Calls, TenantIds};
use ringhook_e2e::{bin, Options, Receiver, Reply, Ringhook, ADMIN_TOKEN, API_KEY};
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

/// Names in /etc/hosts that resolve to loopback or private addresses: "resolved" SSRF cases that
/// need no outside DNS (e.g. the machine's own host name). `localhost` is always among them.
fn hosts_file_names() -> Vec<String> {
    let mut names = vec!["localhost".to_string()];
    let text = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or_default();
        let mut parts = line.split_whitespace();
        let Some(addr) = parts.next().and_then(|a| a.parse::<std::net::IpAddr>().ok()) else { continue };
        let forbidden = match addr {
            std::net::IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
            std::net::IpAddr::V6(v6) => v6.is_loopback(),
        };
        if forbidden {
            for name in parts {
                let plain = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
                if plain && !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                    names.push(name.to_string());
                }
            }
        }
    }
    names
}

/// Destinations refused at creation under the strict policy: literal addresses in their
/// various spellings, and names (that are, or resolve to, loopback).
fn refused_at_creation() -> Vec<String> {
    let mut urls: Vec<String> = [
        "http://127.0.0.1/hook",
        "https://127.1.2.3:8443/",
        "http://2130706433/",
        "http://0x7f.0.0.1/",
        "http://0177.0.0.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://10.0.0.5/",
        "http://172.16.3.4/",
        "http://192.168.1.20:8080/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://100.64.0.1/",
        "http://[fd00::1]/",
        "http://0.0.0.0/",
        "http://[::]/",
        "http://[::ffff:10.0.0.1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[64:ff9b::7f00:1]/",
        "http://[2002:c0a8:1::]/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://LOCALHOST./",
        "http://api.localhost/",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    urls.extend(hosts_file_names().iter().map(|n| format!("http://{n}:9/resolved")));
    urls
}

fn log_lines(rh: &Ringhook) -> Vec<String> {
    std::fs::read_to_string(rh.log_path()).unwrap_or_default().lines().map(str::to_string).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssrf_destinations_are_refused_at_creation_with_a_clear_4xx() {
    let rh = Ringhook::start(bin!(), Options { allow_destinations: Some(String::new()), ..Options::default() }).await;
    let urls = refused_at_creation();
    assert!(urls.len() >= 20, "{}", urls.len());
    // A public name that does not resolve here is accepted: it is checked again at every attempt.
    let (s, ok) = rh.post("/v1/webhooks", &json!({"url": "https://hooks.example.com/x"})).await;
    assert_eq!(s, 201, "{ok}");
    let existing = ok["id"].as_str().unwrap().to_string();
    for url in &urls {
        let (s, v) = rh.post("/v1/webhooks", &json!({"url": url})).await;
        assert_eq!((s, v["error"].as_str()), (422, Some("destination refused")), "{url}: {v}");
        let detail = v["detail"].as_str().unwrap();
        assert!(detail.starts_with("url: ") && detail.contains("refused"), "{url}: {detail}");
        // Moving an existing webhook there is refused the same way.
        let (s, v) = rh.put(&format!("/v1/webhooks/{existing}"), &json!({"url": url})).await;
        assert_eq!((s, v["error"].as_str()), (422, Some("destination refused")), "PUT {url}: {v}");
        // And so is an inline URL in a trigger action.
        let (s, v) = rh
            .post(
                "/v1/triggers",
                &json!({"name": "x", "eventType": "agent.wrap",
                "actions": [{"action": "webhook", "parameters": {"url": url}}]}),
            )
            .await;
        assert_eq!((s, v["error"].as_str()), (422, Some("Invalid action parameters")), "trigger {url}: {v}");
        assert!(v["detail"].as_str().unwrap().contains("refused"), "{url}: {v}");
    }
    // Not URLs a webhook may have at all.
    for url in ["file:///etc/passwd", "gopher://example.com/", "http://user:pw@example.com/", "ftp://example.com/"] {
        let (s, v) = rh.post("/v1/webhooks", &json!({"url": url})).await;
        assert_eq!((s, v["error"].as_str()), (422, Some("invalid webhook")), "{url}: {v}");
    }
    let (_, list) = rh.get("/v1/webhooks").await;
    assert_eq!(list["webhooks"].as_array().unwrap().len(), 1, "nothing refused was stored");
    let (_, still) = rh.get(&format!("/v1/webhooks/{existing}")).await;
    assert_eq!(still["url"], "https://hooks.example.com/x");
    assert_no_secrets("log", &log_lines(&rh), &[API_KEY.to_string(), ADMIN_TOKEN.to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssrf_destinations_are_refused_again_at_send_time() {
    // Created while loopback is allowed, then sent by a deployment that refuses it: the send-time
    // check (after DNS for names) is what stops them. Only loopback targets: nothing here may
    // ever connect anywhere else.
    let mut rh = Ringhook::start(bin!(), Options::default()).await;
    let rx = Receiver::start().await;
    let port = rx.url.rsplit(':').next().unwrap().to_string();
    let mut targets: Vec<String> =
        ["127.0.0.1", "127.0.0.2", "[::1]", "2130706433", "0x7f.0.0.1", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]"]
            .iter()
            .map(|h| format!("http://{h}:{port}/literal"))
            .collect();
    targets.extend(hosts_file_names().iter().map(|n| format!("http://{n}:{port}/resolved")));
    let mut actions = Vec::new();
    for url in &targets {
        let (s, w) = rh.post("/v1/webhooks", &json!({"url": url})).await;
        assert_eq!(s, 201, "{url}: {w}");
        actions.push(json!({"action": "webhook", "parameters": {"webhookId": w["id"]}}));
    }
    for host in ["127.0.0.1", "localhost"] {
        actions.push(json!({"action": "webhook", "parameters": {"url": format!("http://{host}:{port}/inline")}}));
    }
    let n = actions.len();
    rh.create_trigger(&json!({"name": "ssrf", "eventType": "ssrf.test", "actions": actions})).await;

    rh.options_mut().allow_destinations = Some(String::new());
    rh.restart().await;
    rh.send_event(&json!({"type": "ssrf.test", "payload": {}})).await;
    rh.wait_deliveries("", n, WAIT).await;
    let all = rh.wait_settled(WAIT).await;
    assert_eq!(all.len(), n);
    for d in &all {
        let full = rh.delivery(d["id"].as_str().unwrap()).await;
        assert_eq!(full["status"], "failed", "{full:#}");
        assert_eq!(full["attemptCount"], 1, "a refusal is never retried: {full:#}");
        let a = &full["attempts"][0];
        assert!(a.get("response").is_none(), "{a:#}");
        let err = a["error"].as_str().unwrap();
        assert!(err.contains("refused"), "{err}");
    }
    rx.expect_no_more_than(0, Duration::from_millis(300)).await;

    // And the strict deployment refuses creating them in the first place.
    for url in &targets {
        let (s, v) = rh.post("/v1/webhooks", &json!({"url": url})).await;
        assert_eq!(s, 422, "{url}: {v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_allow_list_admits_exactly_what_it_lists() {
    let rh = Ringhook::start(bin!(), Options { allow_destinations: Some("127.0.0.1/32".into()), ..Options::default() })
        .await;
    let rx = Receiver::start().await;
    let port = rx.url.rsplit(':').next().unwrap().to_string();
    let (s, w) = rh.post("/v1/webhooks", &json!({"url": format!("http://127.0.0.1:{port}/allowed")})).await;
    assert_eq!(s, 201, "{w}");
    for host in ["127.0.0.2", "[::1]", "10.0.0.1", "169.254.169.254"] {
        let (s, v) = rh.post("/v1/webhooks", &json!({"url": format!("http://{host}:{port}/")})).await;
        assert_eq!((s, v["error"].as_str()), (422, Some("destination refused")), "{host}: {v}");
    }
    rh.create_trigger(&json!({"name": "allowed", "eventType": "allow.test",
        "actions": [{"action": "webhook", "parameters": {"webhookId": w["id"]}}]}))
        .await;
    rh.send_event(&json!({"type": "allow.test", "payload": {}})).await;
    let got = rx.wait_for(1, WAIT).await;
    assert_eq!(got[0].path, "/allowed");
    let ds = rh.wait_deliveries("status=succeeded", 1, WAIT).await;
    assert_eq!(ds.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenants_ids_answer_404_everywhere() {
    use reqwest::Method;
    let rh = Ringhook::start(bin!(), Options::default()).await;
    let rx = Receiver::start().await;
    let a = API_KEY.to_string();
    let b = rh.new_tenant("tenant b").await;
    let mut calls = Calls::new(&rh);

    // Tenant A: a webhook, a trigger that calls it and moves a lead, one delivered event.
    let (s, w) = calls.call(Method::POST, "/v1/webhooks", &a, Some(&json!({"url": format!("{}/a", rx.url)}))).await;
    assert_eq!(s, 201);
    let wa = w["id"].as_str().unwrap().to_string();
    let (s, t) = calls
        .call(
            Method::POST,
            "/v1/triggers",
            &a,
            Some(&json!({"name": "a", "eventType": "iso.test",
        "actions": [{"action": "webhook", "parameters": {"webhookId": wa}},
                    {"action": "lead.update.list", "parameters": {"listId": "7"}}]})),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let ta = t["id"].as_str().unwrap().to_string();
    let (s, _) = calls
        .call(
            Method::POST,
            "/v1/events",
            &a,
            Some(&json!({"id": "evt-shared-id", "type": "iso.test", "payload": {"leadId": "lead-a"}})),
        )
        .await;
    assert_eq!(s, 202);
    rx.wait_for(1, WAIT).await;
    let da = rh.wait_deliveries("status=succeeded", 1, WAIT).await[0]["id"].as_str().unwrap().to_string();
    let (s, _) = calls.call(Method::GET, "/v1/leads/lead-a", &a, None).await;
    assert_eq!(s, 200);
    // A connection and a call target (whose id the client chooses) for the callback features.
    let connection = json!({"kind": "confirmation", "channel": "webhook", "url": format!("{}/c", rx.url)});
    let (s, c) = calls.call(Method::POST, "/v1/connections", &a, Some(&connection)).await;
    assert_eq!(s, 201, "{c}");
    let ca = c["id"].as_str().unwrap().to_string();
    let call_target = ringhook_e2e::sample("callbacks/config/call-target.json");
    let ct = call_target["id"].as_str().unwrap().to_string();
    let (s, v) = calls.call(Method::POST, "/v1/call-targets", &a, Some(&call_target)).await;
    assert_eq!(s, 201, "{v}");
    let (_, connection_before) = calls.call(Method::GET, &format!("/v1/connections/{ca}"), &a, None).await;
    let (_, call_target_before) = calls.call(Method::GET, &format!("/v1/call-targets/{ct}"), &a, None).await;
    let (_, webhook_before) = calls.call(Method::GET, &format!("/v1/webhooks/{wa}"), &a, None).await;
    let (_, trigger_before) = calls.call(Method::GET, &format!("/v1/triggers/{ta}"), &a, None).await;

    // Tenant B, holding A's ids: every read, write, delete, redelivery and recovery is a 404;
    // B's lists show nothing of A's; B cannot point a trigger at A's webhook.
    let ids =
        TenantIds { webhook: &wa, trigger: &ta, delivery: &da, lead: "lead-a", connection: &ca, call_target: &ct };
    assert_cross_tenant_refused(&mut calls, &b, &ids, &rx.url).await;
    // None of that (nor B's event with A's event id) sent anything to A's receivers.
    rx.expect_no_more_than(1, Duration::from_millis(500)).await;

    // Call-target ids are the client's: B writing "its" target of the same id makes B's own.
    let mut theirs = call_target.clone();
    theirs["name"] = json!("B's own");
    let (s, v) = calls.call(Method::PUT, &format!("/v1/call-targets/{ct}"), &b, Some(&theirs)).await;
    assert!(s == 200 || s == 201, "{v}");
    let (_, v) = calls.call(Method::GET, &format!("/v1/call-targets/{ct}"), &b, None).await;
    assert_eq!(v["name"], "B's own");

    // A's things are untouched.
    let (_, connection_after) = calls.call(Method::GET, &format!("/v1/connections/{ca}"), &a, None).await;
    let (_, call_target_after) = calls.call(Method::GET, &format!("/v1/call-targets/{ct}"), &a, None).await;
    assert_eq!(connection_after, connection_before);
    assert_eq!(call_target_after, call_target_before);
    let (_, webhook_after) = calls.call(Method::GET, &format!("/v1/webhooks/{wa}"), &a, None).await;
    let (_, trigger_after) = calls.call(Method::GET, &format!("/v1/triggers/{ta}"), &a, None).await;
    assert_eq!(webhook_after, webhook_before);
    assert_eq!(trigger_after, trigger_before);
    let (_, d) = calls.call(Method::GET, &format!("/v1/deliveries/{da}"), &a, None).await;
    assert_eq!((d["status"].as_str(), d["attemptCount"].as_i64()), (Some("succeeded"), Some(1)));
    let (_, lead) = calls.call(Method::GET, "/v1/leads/lead-a", &a, None).await;
    assert_eq!(lead["history"].as_array().unwrap().len(), 1, "{lead}");

    // Credentials are not interchangeable.
    let (s, _) = calls.call(Method::GET, "/v1/webhooks", ADMIN_TOKEN, None).await;
    assert_eq!(s, 401, "the admin token is not a tenant key");
    let (s, _) = calls.call(Method::POST, "/v1/admin/tenants", &b, Some(&json!({"name": "x"}))).await;
    assert_eq!(s, 401, "a tenant key is not the admin token");
    assert_no_secrets("responses", &calls.seen, &[a.clone(), b.clone(), ADMIN_TOKEN.to_string()]);
    assert_no_secrets("log", &log_lines(&rh), &[a, b, ADMIN_TOKEN.to_string()]);
}

/// Waits until `n` deliveries exist and each has its first attempt recorded: the clock may move
/// only then, or a retry would be scheduled from the moved clock.
async fn first_attempts_recorded(rh: &Ringhook, n: usize) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let ds = rh.deliveries("").await;
        if ds.len() >= n && ds.iter().all(|d| d["attempts"].as_u64().is_some_and(|a| a >= 1)) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "first attempts not recorded: {ds:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recover_resends_a_webhooks_failed_deliveries_since_a_time() {
    let rh = Ringhook::start(bin!(), Options::manual_clock()).await;
    let rx = Receiver::start().await;
    rx.set_default(Reply::status(500));
    let other = Receiver::start().await;
    other.set_default(Reply::status(500));
    let mut ids = Vec::new();
    for (name, r) in [("main", &rx), ("other", &other)] {
        let (s, w) = rh
            .post(
                "/v1/webhooks",
                &json!({"name": name, "url": format!("{}/hook", r.url), "retryPolicy": "single-retry"}),
            )
            .await;
        assert_eq!(s, 201, "{w}");
        ids.push(w["id"].as_str().unwrap().to_string());
    }
    let (wh, wh_other) = (ids[0].clone(), ids[1].clone());
    rh.create_trigger(&json!({"name": "r", "eventType": "recover.test", "actions": [
        {"action": "webhook", "parameters": {"webhookId": wh}},
        {"action": "webhook", "parameters": {"webhookId": wh_other}}]}))
        .await;

    // One failure before `since`, two after; each fails twice (single-retry: 2 attempts).
    rh.send_event(&json!({"type": "recover.test", "payload": {"n": 0}})).await;
    first_attempts_recorded(&rh, 2).await;
    rh.advance(61).await;
    rh.wait_deliveries("status=failed", 2, WAIT).await;
    rh.advance(3600).await;
    let (_, clock) = rh
        .request_as(reqwest::Method::POST, "/v1/admin/clock", Some(ADMIN_TOKEN), Some(&json!({"advanceMs": 0})))
        .await;
    let since = clock["now"].as_str().unwrap().to_string();
    for n in 1..=2 {
        rh.send_event(&json!({"type": "recover.test", "payload": {"n": n}})).await;
    }
    first_attempts_recorded(&rh, 6).await;
    rh.advance(61).await;
    let failed = rh.wait_deliveries("status=failed", 6, WAIT).await;
    assert_eq!(failed.len(), 6);
    assert_eq!(rx.count(), 6);

    // Bad input, other tenants and unknown webhooks.
    for body in [json!({}), json!({"since": "yesterday"}), json!({"since": 5}), json!({"since": since, "until": "x"})] {
        let (s, v) = rh.post(&format!("/v1/webhooks/{wh}/recover"), &body).await;
        assert_eq!((s, v["error"].as_str()), (422, Some("invalid recover")), "{body}: {v}");
    }
    let (s, _) = rh.post("/v1/webhooks/wh_nope/recover", &json!({"since": since})).await;
    assert_eq!(s, 404);

    rx.set_default(Reply::status(200));
    let (s, v) = rh.post(&format!("/v1/webhooks/{wh}/recover"), &json!({"since": since})).await;
    assert_eq!((s, v["recovered"].as_u64()), (202, Some(2)), "{v}");
    let got = rx.wait_for(8, WAIT).await;
    rx.expect_no_more_than(8, Duration::from_millis(300)).await;
    // Same delivery ids (`webhook-id`) as the failed attempts: receivers can deduplicate.
    let first_ids: Vec<&str> = got[..6].iter().map(|r| r.header("webhook-id").unwrap()).collect();
    for r in &got[6..] {
        assert!(first_ids.contains(&r.header("webhook-id").unwrap()));
        assert_ne!(r.json()["payload"]["n"], 0, "the failure before `since` stays failed");
    }
    rh.wait_deliveries(&format!("status=succeeded&webhookId={wh}"), 2, WAIT).await;
    assert_eq!(rh.deliveries(&format!("status=failed&webhookId={wh}")).await.len(), 1);
    assert_eq!(
        rh.deliveries(&format!("status=failed&webhookId={wh_other}")).await.len(),
        3,
        "other webhooks untouched"
    );
    assert_eq!(other.count(), 6);
    // Nothing left to recover: a second call queues none.
    let (s, v) = rh.post(&format!("/v1/webhooks/{wh}/recover"), &json!({"since": since})).await;
    assert_eq!((s, v["recovered"].as_u64()), (202, Some(0)), "{v}");

    // A recovered delivery gets its policy's full series again: single-retry retries once more.
    other.set_default(Reply::status(503));
    let (s, v) = rh.post(&format!("/v1/webhooks/{wh_other}/recover"), &json!({"since": since})).await;
    assert_eq!((s, v["recovered"].as_u64()), (202, Some(2)), "{v}");
    other.wait_for(8, WAIT).await;
    // The clock moves only once both outcomes are recorded (the retry is due 60 s after them).
    let deadline = tokio::time::Instant::now() + WAIT;
    while rh
        .deliveries(&format!("status=pending&webhookId={wh_other}"))
        .await
        .iter()
        .filter(|d| d["attempts"] == 3)
        .count()
        < 2
    {
        assert!(tokio::time::Instant::now() < deadline, "the recovered attempts were never recorded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    rh.advance(61).await;
    other.wait_for(10, WAIT).await;
    let again = rh.wait_deliveries(&format!("status=failed&webhookId={wh_other}"), 3, WAIT).await;
    let recovered: Vec<&Value> = again.iter().filter(|d| d["attempts"] == 4).collect();
    assert_eq!(recovered.len(), 2, "2 attempts, then 2 more after the recovery: {again:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_come_back_in_responses_delivery_logs_or_the_log() {
    use reqwest::Method;
    let opts = Options { env: vec![("RUST_LOG".into(), "trace".into())], ..Options::manual_clock() };
    let rh = Ringhook::start(bin!(), opts).await;
    let rx = Receiver::start().await;
    let tenant = rh.new_tenant_full("secrets").await;
    let key = tenant["apiKey"].as_str().unwrap().to_string();
    let tenant_secret = tenant["signingSecret"].as_str().unwrap().to_string();
    let password = "pw-S3cr3t-basic-0123".to_string();
    let header_token = "hdr-S3cr3t-token-4567".to_string();
    let mut calls = Calls::new(&rh);

    let (s, w) = calls
        .call(
            Method::POST,
            "/v1/webhooks",
            &key,
            Some(&json!({
        "url": format!("{}/hook", rx.url), "retryPolicy": "single-retry",
        "auth": {"type": "basic", "username": "ringhook", "password": password},
        "headers": {"X-Api-Key": header_token, "User-Agent": "visible"}})),
        )
        .await;
    assert_eq!(s, 201, "{w}");
    let wid = w["id"].as_str().unwrap().to_string();
    let webhook_secret = w["signingSecret"].as_str().unwrap().to_string();
    calls.seen.pop(); // the one response that shows the new secret, once
    let (s, rot) = calls.call(Method::POST, &format!("/v1/webhooks/{wid}/rotate-secret"), &key, None).await;
    assert_eq!(s, 200);
    let webhook_secret2 = rot["signingSecret"].as_str().unwrap().to_string();
    calls.seen.pop();
    let (s, rot) = calls.call(Method::POST, "/v1/account/signing-secret/rotate", &key, None).await;
    assert_eq!(s, 200);
    let tenant_secret2 = rot["signingSecret"].as_str().unwrap().to_string();
    calls.seen.pop();

    // A Twilio connection's auth token is write-only too.
    let twilio_token = "twilioS3cr3tAuthToken0123456789ab".to_string();
    let (s, c) = calls
        .call(
            Method::POST,
            "/v1/connections",
            &key,
            Some(&json!({"kind": "confirmation",
        "channel": "twilio", "accountSid": "AC0123456789abcdef0123456789abcdef", "authToken": twilio_token})),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let (s, _) = calls.call(Method::GET, &format!("/v1/connections/{}", c["id"].as_str().unwrap()), &key, None).await;
    assert_eq!(s, 200);
    calls.call(Method::GET, "/v1/connections", &key, None).await;

    // Reads show masks; writing the masks back keeps the real values.
    let (_, read) = calls.call(Method::GET, &format!("/v1/webhooks/{wid}"), &key, None).await;
    assert_eq!(read["auth"]["password"], "****", "{read}");
    let masked_header = read["headers"].as_array().unwrap().iter().find(|h| h["name"] == "X-Api-Key").unwrap();
    assert_eq!(masked_header["value"], "****", "{read}");
    assert!(read["headers"].as_array().unwrap().iter().any(|h| h["value"] == "visible"), "{read}");
    let (s, put) = calls.call(Method::PUT, &format!("/v1/webhooks/{wid}"), &key, Some(&read)).await;
    assert_eq!(s, 200, "{put}");

    rh.request_as(
        Method::POST,
        "/v1/triggers",
        Some(&key),
        Some(&json!({"name": "s", "eventType": "secret.test",
        "actions": [{"action": "webhook", "parameters": {"webhookId": wid}},
                    {"action": "webhook", "parameters": {"url": format!("{}/inline", rx.url)}}]})),
    )
    .await;
    // One success and one failure (500, retried, then failed) per target.
    rx.script([Reply::status(200), Reply::status(200), Reply::status(500), Reply::status(500)]);
    for n in 0..2 {
        calls.call(Method::POST, "/v1/events", &key, Some(&json!({"type": "secret.test", "payload": {"n": n}}))).await;
        rx.wait_for(2 * (n + 1), WAIT).await;
    }
    // Retries: the webhook (single-retry) after a minute, the inline URL (every 10 min) later.
    rh.advance(61).await;
    rx.wait_for(5, WAIT).await;
    rh.advance(600).await;
    rx.wait_for(6, WAIT).await;
    // The receiver did get the credentials (they work); the API and logs never show them.
    let basic = rx.requests().iter().find(|r| r.path == "/hook").unwrap().header("authorization").unwrap().to_string();
    assert!(basic.starts_with("Basic "));
    assert!(rx.requests().iter().any(|r| r.header("x-api-key") == Some(header_token.as_str())));

    let (_, list) = calls.call(Method::GET, "/v1/deliveries?limit=500", &key, None).await;
    for d in list["deliveries"].as_array().unwrap() {
        let (_, full) =
            calls.call(Method::GET, &format!("/v1/deliveries/{}", d["id"].as_str().unwrap()), &key, None).await;
        for a in full["attempts"].as_array().unwrap() {
            let headers = a["request"]["headers"].to_string();
            assert!(headers.contains("webhook-signature"), "{headers}");
        }
    }
    for path in ["/v1/webhooks", "/v1/account/signing-secret", "/v1/triggers", "/v1/openapi.json"] {
        calls.call(Method::GET, path, &key, None).await;
    }
    // Wrong credentials are not echoed either.
    calls.call(Method::GET, "/v1/webhooks", "rk_wrong_S3cr3t_guess", None).await;
    let secrets = vec![
        key.clone(),
        API_KEY.to_string(),
        ADMIN_TOKEN.to_string(),
        password.clone(),
        header_token.clone(),
        basic["Basic ".len()..].to_string(),
        webhook_secret[6..].to_string(),
        webhook_secret2[6..].to_string(),
        tenant_secret[6..].to_string(),
        tenant_secret2[6..].to_string(),
        "rk_wrong_S3cr3t_guess".to_string(),
        twilio_token.clone(),
    ];
    assert!(calls.seen.len() > 10);
    assert_no_secrets("API responses", &calls.seen, &secrets);
    let log = log_lines(&rh);
    assert!(log.len() > 5, "the debug log has something in it");
    assert_no_secrets("runner log", &log, &secrets);
    eprintln!("checked {} API responses and {} log lines for {} secrets", calls.seen.len(), log.len(), secrets.len());

    // Every request went out after the masks were written back: the real values were kept.
    for r in rx.requests().iter().filter(|r| r.path == "/hook") {
        assert_eq!(r.header("authorization"), Some(basic.as_str()));
        assert_eq!(r.header("x-api-key"), Some(header_token.as_str()));
    }
}
