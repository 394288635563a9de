//! The API contract over real HTTP: every error is `{"error", "detail"}` JSON, the framework's
//! own rejections included (a path that is not UTF-8, a body over the limit, a wrong media type,
//! a method a route does not have, a clock moved past what an i64 holds); and the outgoing
//! headers a user may set: forbidden ones refused by name, a bounded number, values masked in
//! reads and in the delivery log unless plainly not credentials, never echoed in errors.
//!
//! (A handler panic answering 500 JSON on a live connection is shown by the router's own test,
//! `api::tests`, on a route of its own: the product has no route that panics on purpose.)

use ringhook_e2e::{bin, Options, Receiver, Ringhook, ADMIN_TOKEN};
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

/// The error shape: a 4xx (or the given status), JSON, with a non-empty error and detail.
fn assert_error(what: &str, resp: (u16, Option<String>, Value), status: u16) -> Value {
    let (s, content_type, v) = resp;
    assert_eq!(s, status, "{what}: {v}");
    assert_eq!(content_type.as_deref(), Some("application/json"), "{what}: {v}");
    for k in ["error", "detail"] {
        assert!(v[k].as_str().is_some_and(|t| !t.is_empty()), "{what}: {k} in {v}");
    }
    v
}

async fn send(req: reqwest::RequestBuilder) -> (u16, Option<String>, Value) {
    let resp = req.send().await.expect("ringhook answers");
    let status = resp.status().as_u16();
    let content_type = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_string);
    let text = resp.text().await.expect("a whole body: the connection was not dropped");
    (status, content_type, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_frameworks_own_rejections_are_json() {
    let rh = Ringhook::start(bin!(), Options::manual_clock()).await;
    let http = &rh.http;

    // A path segment that is not UTF-8.
    for path in ["/v1/webhooks/%FF%FE", "/v1/deliveries/%C0", "/v1/connections/%FF"] {
        let v = assert_error(path, send(http.get(rh.url(path)).bearer_auth(&rh.key)).await, 400);
        assert_eq!(v["error"], "bad request", "{path}: {v}");
    }

    // A Twilio status callback over the body limit (the route reads raw form bytes).
    let form = format!("MessageSid=SM1&MessageStatus=delivered&Pad={}", "x".repeat(300 * 1024));
    let req = http
        .post(rh.url("/v1/twilio/status?tenant=t&sender=s&delivery=d&attempt=1"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form);
    let v = assert_error("twilio form over the limit", send(req).await, 413);
    assert_eq!(v["error"], "payload too large", "{v}");
    // And a JSON body over the limit, for comparison.
    let big = json!({"url": "https://hooks.example.com/", "name": "x".repeat(300 * 1024)});
    let req = http.post(rh.url("/v1/webhooks")).bearer_auth(&rh.key).json(&big);
    assert_error("json over the limit", send(req).await, 413);

    // A body that is not JSON where JSON is expected; and the Twilio route's form.
    for (path, content_type) in
        [("/v1/webhooks", "text/plain"), ("/v1/events", "application/xml"), ("/v1/triggers", "multipart/form-data")]
    {
        let req = http
            .post(rh.url(path))
            .bearer_auth(&rh.key)
            .header("content-type", content_type)
            .body(r#"{"url": "https://hooks.example.com/"}"#);
        let v = assert_error(path, send(req).await, 415);
        assert_eq!(v["error"], "unsupported media type", "{path}: {v}");
        assert!(v["detail"].as_str().unwrap().contains(content_type), "{path}: {v}");
    }
    let req = http
        .post(rh.url("/v1/twilio/status?tenant=t&sender=s&delivery=d&attempt=1"))
        .header("content-type", "application/json")
        .body("{}");
    assert_error("twilio JSON", send(req).await, 415);
    // `curl -d` (form-urlencoded by default) and no Content-Type at all still work for JSON.
    for content_type in [Some("application/x-www-form-urlencoded"), Some("application/json; charset=utf-8"), None] {
        let mut req = http.post(rh.url("/v1/webhooks")).bearer_auth(&rh.key);
        if let Some(t) = content_type {
            req = req.header("content-type", t);
        }
        let (s, _, v) = send(req.body(r#"{"url": "https://hooks.example.com/"}"#)).await;
        assert_eq!(s, 201, "{content_type:?}: {v}");
    }

    // Methods a route does not have, on core and product routes.
    for (method, path) in [
        (reqwest::Method::PATCH, "/v1/webhooks"),
        (reqwest::Method::DELETE, "/v1/deliveries"),
        (reqwest::Method::GET, "/v1/events"),
        (reqwest::Method::PATCH, "/v1/connections"),
        (reqwest::Method::PUT, "/v1/triggers"),
        (reqwest::Method::GET, "/v1/twilio/status"),
    ] {
        let v = assert_error(path, send(http.request(method.clone(), rh.url(path)).bearer_auth(&rh.key)).await, 405);
        assert_eq!(v["error"], "method not allowed", "{method} {path}: {v}");
    }
    // An unknown route.
    assert_error("unknown route", send(http.get(rh.url("/v1/nope")).bearer_auth(&rh.key)).await, 404);

    // The manual clock: moves past what an i64 holds (or out of 1970..9999) are a 422, and the
    // clock stays where it was.
    let before = rh.clock_ms().await;
    for body in [
        json!({"advanceSecs": i64::MAX}),
        json!({"advanceSecs": i64::MIN}),
        json!({"advanceMs": i64::MAX}),
        json!({"advanceMs": i64::MIN}),
        json!({"setMs": -1}),
        json!({"setMs": i64::MAX}),
        json!({"advanceSecs": 9_000_000_000_000i64}),
    ] {
        let req = http.post(rh.url("/v1/admin/clock")).bearer_auth(ADMIN_TOKEN).json(&body);
        let v = assert_error(&body.to_string(), send(req).await, 422);
        assert_eq!(v["error"], "invalid clock move", "{body}: {v}");
        let field = body.as_object().unwrap().keys().next().unwrap().clone();
        assert!(v["detail"].as_str().unwrap().starts_with(&field), "{body}: {v}");
    }
    assert_eq!(rh.clock_ms().await, before);
    // Ordinary moves still work.
    assert_eq!(rh.advance_ms(1_500).await, before + 1_500);
}

/// A webhook of `headers`; returns the answer.
async fn create(rh: &Ringhook, url: &str, headers: Value) -> (u16, Value) {
    rh.post("/v1/webhooks", &json!({"url": url, "headers": headers})).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_a_user_may_not_set_are_refused_by_name() {
    let rh = Ringhook::start(bin!(), Options::default()).await;
    let url = "https://hooks.example.com/h";
    let forbidden = [
        "Host",
        "Content-Length",
        "transfer-encoding",
        "Connection",
        "Keep-Alive",
        "Upgrade",
        "TE",
        "Trailer",
        "Proxy-Authorization",
        "Proxy-Connection",
        "webhook-id",
        "Webhook-Timestamp",
        "WEBHOOK-SIGNATURE",
    ];
    for name in forbidden {
        // In each of the accepted forms.
        for headers in [
            json!({ name: "x" }),
            json!([{"name": name, "value": "x"}]),
            json!([format!("{name}=x")]),
            json!(format!("X-Ok=1\n{name}=x")),
        ] {
            let (s, v) = create(&rh, url, headers.clone()).await;
            assert_eq!((s, v["error"].as_str()), (422, Some("invalid webhook")), "{headers}: {v}");
            assert!(v["detail"].as_str().unwrap().contains(&format!("{name:?}")), "{headers}: {v}");
        }
    }
    // At most 50, of bounded size.
    let many: serde_json::Map<String, Value> = (0..51).map(|i| (format!("X-H{i}"), json!("v"))).collect();
    let (s, v) = create(&rh, url, Value::Object(many.clone())).await;
    assert_eq!(s, 422, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("at most 50"), "{v}");
    let fifty: serde_json::Map<String, Value> = many.into_iter().take(50).collect();
    assert_eq!(create(&rh, url, Value::Object(fifty)).await.0, 201);
    let (s, v) = create(&rh, url, json!({"X-Big": "v".repeat(5000)})).await;
    assert_eq!(s, 422, "{v}");
    let (s, v) = create(&rh, url, json!({ "X-".to_string() + &"n".repeat(200): "v" })).await;
    assert_eq!(s, 422, "{v}");
    // Nothing refused was stored.
    let (_, list) = rh.get("/v1/webhooks").await;
    assert_eq!(list["webhooks"].as_array().unwrap().len(), 1);

    // A malformed credential line: the detail names the header, never the credential.
    let credential = "eyJhbGciOiJIUzI1NiJ9.S3cr3tT0ken.sig";
    for headers in [
        json!(format!("X-Request-Id={{id}}\nAuthorization: Bearer {credential}")),
        json!([format!("Authorization: Bearer {credential}")]),
        json!([format!("Authorization: Bearer {credential}==")]),
        json!({ format!("Authorization: Bearer {credential}"): "x" }),
        json!([{"name": format!("Authorization: Bearer {credential}"), "value": "x"}]),
        json!(credential),
    ] {
        let (s, v) = create(&rh, url, headers.clone()).await;
        assert_eq!(s, 422, "{headers}: {v}");
        assert!(!v.to_string().contains("S3cr3tT0ken"), "{headers}: the detail echoes the credential: {v}");
    }
    let (_, v) = create(&rh, url, json!(format!("Authorization: Bearer {credential}"))).await;
    assert!(v["detail"].as_str().unwrap().contains("Authorization="), "a hint naming the header: {v}");

    // A supplied signing secret needs at least 24 random bytes.
    let b64 = |bytes: &[u8]| {
        use base64::Engine;
        format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(bytes))
    };
    for secret in
        [b64(b"sixteen-bytes!!!"), b64(&[0u8; 32]), "whsec_dGVzdA==".into(), "not-a-S3cr3tW1thoutPrefix".into()]
    {
        let (s, v) = rh.post("/v1/webhooks", &json!({"url": url, "secret": secret})).await;
        assert_eq!(s, 422, "{secret}: {v}");
        assert!(v["detail"].as_str().unwrap().starts_with("secret: "), "{v}");
        assert!(!v.to_string().contains(&secret[6..]), "{v}");
    }
    let good = b64(b"twenty-four random bytes");
    let (s, v) = rh.post("/v1/webhooks", &json!({"url": url, "secret": good})).await;
    assert_eq!(s, 201, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_header_values_are_masked_unless_plain_and_the_receiver_gets_them() {
    let rh = Ringhook::start(bin!(), Options::default()).await;
    let rx = Receiver::start().await;
    let secrets = ["abc-x-auth-0001", "key-x-access-0002", "ocp-sub-key-0003", "tok-bearer-0004"];
    let headers = json!([
        {"name": "X-Auth", "value": secrets[0]},
        {"name": "X-Access-Key", "value": secrets[1]},
        {"name": "Ocp-Apim-Subscription-Key", "value": secrets[2]},
        {"name": "Authorization", "value": format!("Bearer {}", secrets[3])},
        {"name": "Content-Type", "value": "application/vnd.acme+json"},
        {"name": "Accept", "value": "application/json"},
        {"name": "X-Request-Id", "value": "{id}"},
    ]);
    let (s, w) = create(&rh, &format!("{}/hook", rx.url), headers).await;
    assert_eq!(s, 201, "{w}");
    let wid = w["id"].as_str().unwrap().to_string();
    let shown = |v: &Value, name: &str| -> String {
        v["headers"].as_array().unwrap().iter().find(|h| h["name"] == name).unwrap()["value"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (_, read) = rh.get(&format!("/v1/webhooks/{wid}")).await;
    for (name, expected) in [
        ("X-Auth", "****"),
        ("X-Access-Key", "****"),
        ("Ocp-Apim-Subscription-Key", "****"),
        ("Authorization", "Bearer ****"),
        ("Content-Type", "application/vnd.acme+json"),
        ("Accept", "application/json"),
        ("X-Request-Id", "{id}"),
    ] {
        assert_eq!(shown(&read, name), expected, "{name} in {read}");
        assert_eq!(shown(&w, name), expected, "{name} in the creation answer {w}");
    }
    // A replace that sends the read back (masks and all) keeps every stored value.
    let (s, put) = rh.put(&format!("/v1/webhooks/{wid}"), &read).await;
    assert_eq!(s, 200, "{put}");
    for text in [read.to_string(), put.to_string(), rh.get("/v1/webhooks").await.1.to_string()] {
        for secret in secrets {
            assert!(!text.contains(secret), "{secret} shown: {text}");
        }
    }

    rh.create_trigger(&json!({"name": "h", "eventType": "hdr.test",
        "actions": [{"action": "webhook", "parameters": {"webhookId": wid}}]}))
        .await;
    rh.send_event(&json!({"type": "hdr.test", "payload": {}})).await;
    let got = rx.wait_for(1, WAIT).await;
    assert_eq!(got[0].header("x-auth"), Some(secrets[0]));
    assert_eq!(got[0].header("x-access-key"), Some(secrets[1]));
    assert_eq!(got[0].header("ocp-apim-subscription-key"), Some(secrets[2]));
    assert_eq!(got[0].header("authorization"), Some(format!("Bearer {}", secrets[3]).as_str()));
    assert_eq!(got[0].header("content-type"), Some("application/vnd.acme+json"));
    let request_id = got[0].header("x-request-id").unwrap().to_string();
    assert_ne!(request_id, "{id}");

    let ds = rh.wait_deliveries("status=succeeded", 1, WAIT).await;
    let d = rh.delivery(ds[0]["id"].as_str().unwrap()).await;
    let logged: Vec<(String, String)> =
        serde_json::from_value(d["attempts"][0]["request"]["headers"].clone()).expect("[name, value] pairs");
    let log = |name: &str| logged.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
    assert_eq!(log("X-Auth"), Some("****"), "{logged:?}");
    assert_eq!(log("X-Access-Key"), Some("****"));
    assert_eq!(log("Ocp-Apim-Subscription-Key"), Some("****"));
    assert_eq!(log("Authorization"), Some("Bearer ****"));
    assert_eq!(log("Content-Type"), Some("application/vnd.acme+json"));
    assert_eq!(log("Accept"), Some("application/json"));
    assert_eq!(log("X-Request-Id"), Some(request_id.as_str()), "an id, not a credential");
    assert_eq!(log("webhook-id"), Some(d["id"].as_str().unwrap()));
    for secret in secrets {
        assert!(!d.to_string().contains(secret), "{secret} in the delivery log: {d}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_and_webhooks_refuse_names_resolving_to_forbidden_addresses_at_creation() {
    // IPv6 loopback allowed, IPv4 loopback not: `localhost` passes the name rule and is refused
    // only once it resolves (to 127.0.0.1 here); no outside DNS is needed.
    let rh =
        Ringhook::start(bin!(), Options { allow_destinations: Some("::1/128".into()), ..Options::default() }).await;
    let (s, ok) = rh
        .post(
            "/v1/connections",
            &json!({"kind": "confirmation", "channel": "webhook",
        "url": "https://hooks.example.com/c"}),
        )
        .await;
    assert_eq!(s, 201, "{ok}");
    let existing = ok["id"].as_str().unwrap().to_string();
    let mut urls = vec!["http://localhost:9/resolved".to_string()];
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    for line in hosts.lines().map(|l| l.split('#').next().unwrap_or_default()) {
        let mut parts = line.split_whitespace();
        if parts.next() == Some("127.0.0.1") {
            urls.extend(parts.filter(|n| *n != "localhost").map(|n| format!("http://{n}:9/resolved")));
        }
    }
    // IPv4-translated addresses (`::ffff:0:a.b.c.d`), like the other embeddings of IPv4.
    urls.extend(
        ["http://[::ffff:0:7f00:1]/", "http://[::ffff:0:127.0.0.1]:9/", "http://[::ffff:0:a9fe:a9fe]/"]
            .map(String::from),
    );
    for url in &urls {
        let body = json!({"kind": "confirmation", "channel": "webhook", "url": url});
        let (s, v) = rh.post("/v1/connections", &body).await;
        assert_eq!((s, v["error"].as_str()), (422, Some("destination refused")), "{url}: {v}");
        assert!(v["detail"].as_str().unwrap().starts_with("url: "), "{url}: {v}");
        let (s, v) = rh.put(&format!("/v1/connections/{existing}"), &body).await;
        assert_eq!((s, v["error"].as_str()), (422, Some("destination refused")), "PUT {url}: {v}");
        let (s, v) = rh.post("/v1/webhooks", &json!({"url": url})).await;
        assert_eq!((s, v["error"].as_str()), (422, Some("destination refused")), "webhook {url}: {v}");
    }
    let (_, list) = rh.get("/v1/connections").await;
    assert_eq!(list["connections"].as_array().unwrap().len(), 1, "nothing refused was stored");
    assert_eq!(list["connections"][0]["url"], "https://hooks.example.com/c");
    let (_, webhooks) = rh.get("/v1/webhooks").await;
    assert_eq!(webhooks["webhooks"].as_array().unwrap().len(), 1, "only the connection's own webhook");
}
