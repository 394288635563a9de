//! The SMS webhooks (the SMS-webhooks seed), end to end over real HTTP: inbound messages through
//! Twilio's signed incoming-message webhook (opt-out, opt-in, help and replies; "unknown messages
//! only"), bounces against a per-contact threshold, delivery reports for sends to many
//! recipients (and the 24-hour timeout on the simulated clock), rejections, carrier-driven
//! contact status — every body compared field for field with the seed's.

use ringhook_e2e::twilio::{signature, SentMessage, TwilioServer};
use ringhook_e2e::{bin, sample, Options, Receiver, Recorded, Ringhook};
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);
const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "9f8e7d6c5b4a39281706f5e4d3c2b1a0";
const OURS: &str = "+15550001111";
const CONTACT: &str = "+19999999999";

struct Setup {
    rh: Ringhook,
    tw: TwilioServer,
    rx: Receiver,
    /// The number's "A message comes in" URL.
    inbound_url: String,
}

/// A runner on a manual clock, a Twilio-compatible server, the account's Twilio sender, and
/// every SMS webhook going to one receiver, a path each (the unsubscribe webhook through a
/// webhook of /v1/webhooks, the others as URLs).
async fn setup(unknown_only: bool) -> Setup {
    let tw = TwilioServer::start(&[(SID, TOKEN)]).await;
    let mut opts = Options::manual_clock();
    opts.extra_args = vec!["--twilio-base-url".into(), tw.url.clone()];
    let rh = Ringhook::start(bin!(), opts).await;
    let rx = Receiver::start().await;
    let (s, sender) = rh.post("/v1/sms-senders", &json!({"accountSid": SID, "authToken": TOKEN, "from": OURS})).await;
    assert_eq!(s, 201, "{sender}");
    let (s, a) = rh.put("/v1/account", &json!({"smsSenderId": sender["id"]})).await;
    assert_eq!(s, 200, "{a}");
    let (s, w) = rh.post("/v1/webhooks", &json!({"url": format!("{}/unsubscribe", rx.url)})).await;
    assert_eq!(s, 201, "{w}");
    let url = |p: &str| json!({"url": format!("{}/{p}", rx.url)});
    let settings = json!({"webhooks": {"inbound": url("inbound"), "unsubscribe": {"webhookId": w["id"]},
        "bounce": url("bounce"), "deliveryReport": url("report"), "contactStatus": url("contact"),
        "rejection": url("rejected")}, "bounceThreshold": 3, "unknownMessagesOnly": unknown_only,
        "optInKeywords": ["Join"]});
    let (s, m) = rh.put("/v1/account/messaging", &settings).await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(m["webhooks"]["unsubscribe"]["webhookId"], w["id"]);
    let inbound_url = m["inboundUrls"][0]["url"].as_str().unwrap().to_string();
    assert!(inbound_url.starts_with(&format!("{}/v1/twilio/inbound?", rh.base)), "{inbound_url}");
    Setup { rh, tw, rx, inbound_url }
}

fn at(rx: &Receiver, path: &str) -> Vec<Recorded> {
    rx.requests().into_iter().filter(|r| r.path == format!("/{path}")).collect()
}

/// Waits until the receiver has `n` requests on `path`.
async fn wait_at(rx: &Receiver, path: &str, n: usize) -> Vec<Recorded> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let got = at(rx, path);
        if got.len() >= n {
            return got;
        }
        assert!(tokio::time::Instant::now() < deadline, "{path}: expected {n}, got {}: {got:#?}", got.len());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// No more than `n` requests on `path` after a short settle.
async fn no_more_at(rx: &Receiver, path: &str, n: usize) {
    tokio::time::sleep(Duration::from_millis(600)).await;
    let got = at(rx, path);
    assert_eq!(got.len(), n, "{path}: {got:#?}");
}

/// The seed's keys in its order, and its types; a field the seed shows as null or as a time may
/// be either (a name not given, a contact not unsubscribed). Times in the seed's format.
fn assert_seed_shape(got: &Value, seed_file: &str) {
    let seed = sample(&format!("sms/webhooks/{seed_file}.seed.json"));
    shape(got, &seed, seed_file);
}

fn is_seed_time(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 24 && s.ends_with('Z') && b[10] == b'T' && b[19] == b'.' && s[20..23].bytes().all(|c| c.is_ascii_digit())
}

fn shape(got: &Value, want: &Value, at: &str) {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            assert_eq!(g.keys().collect::<Vec<_>>(), w.keys().collect::<Vec<_>>(), "keys at {at}: {got}");
            for (k, v) in w {
                shape(&g[k], v, &format!("{at}.{k}"));
            }
        }
        (Value::Array(g), Value::Array(w)) => {
            if let Some(first) = w.first() {
                for (i, item) in g.iter().enumerate() {
                    shape(item, first, &format!("{at}[{i}]"));
                }
            } else {
                assert!(g.is_empty(), "{at}: {got}");
            }
        }
        (Value::String(g), Value::String(w)) if is_seed_time(w) => assert!(is_seed_time(g), "time at {at}: {g}"),
        (Value::Null, Value::String(w)) if is_seed_time(w) => {}
        (Value::String(_), Value::Null) | (Value::Null, Value::Null) => {}
        (Value::String(_), Value::String(_))
        | (Value::Number(_), Value::Number(_))
        | (Value::Bool(_), Value::Bool(_)) => {}
        _ => panic!("type at {at}: got {got}, the seed has {want}"),
    }
}

async fn contact(rh: &Ringhook, phone: &str) -> Value {
    let (s, c) = rh.get(&format!("/v1/contacts/{phone}")).await;
    assert_eq!(s, 200, "{c}");
    c
}

async fn inbound(s: &Setup, from: &str, body: &str, opt_out_type: Option<&str>) {
    let params = s.tw.inbound_params(from, OURS, body, opt_out_type);
    let (status, answer) = s.tw.send_inbound(&s.inbound_url, &params).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer, r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keywords_opt_out_and_in_and_every_inbound_message_is_forwarded() {
    let s = setup(false).await;
    let (rh, rx) = (&s.rh, &s.rx);
    // An actual reply: the inbound webhook, the seed's body; the contact is created.
    inbound(&s, CONTACT, "This is an example message", None).await;
    let got = wait_at(rx, "inbound", 1).await.remove(0).json();
    assert_seed_shape(&got, "inbound");
    assert_eq!(
        (&got["message"], &got["short_code"], &got["phone_number"]),
        (&json!("This is an example message"), &json!(OURS), &json!(CONTACT))
    );
    let c = contact(rh, CONTACT).await;
    assert_eq!((&c["status"], &got["id"]), (&json!("active"), &c["id"]));

    // Opt-out keywords, whole message, any case and spacing: unsubscribed once, one unsubscribe
    // webhook (the seed's body); every one of them is forwarded as inbound too.
    inbound(&s, CONTACT, "  stop ", None).await;
    let unsub = wait_at(rx, "unsubscribe", 1).await.remove(0).json();
    assert_seed_shape(&unsub, "unsubscribe");
    assert_eq!((&unsub["to"], &unsub["phone_number"]), (&json!(OURS), &json!(CONTACT)));
    let c = contact(rh, CONTACT).await;
    assert_eq!(c["status"], "unsubscribed");
    assert_eq!(unsub["unsubscribed_at"], c["unsubscribed_at"]);
    inbound(&s, CONTACT, "StopAll", None).await; // already unsubscribed: no second webhook
    wait_at(rx, "inbound", 3).await;
    no_more_at(rx, "unsubscribe", 1).await;

    // Unsubscribed: a flow's SMS to it is not sent.
    let (st, f) =
        rh.post("/v1/flows", &json!({"id": 1, "name": "f", "smsSteps": [{"to": "callerNumber", "text": "hi"}]})).await;
    assert_eq!(st, 201, "{f}");
    let flow = |id: &str| json!({"id": id, "type": "flow.completed", "payload": {"flowId": 1, "callUuid": id, "callerNumber": CONTACT}});
    rh.send_event(&flow("evt-out-1")).await;
    let sms = wait_sms(rh, "evt-out-1", |r| r["deliveryStatus"] == "NOT_SENT").await;
    assert_eq!(sms["error"], "not sent: recipient unsubscribed");
    assert!(s.tw.messages().is_empty());

    // Opt-in (the account's own keyword, any case): resubscribed; the next SMS goes out.
    inbound(&s, CONTACT, "join", None).await;
    wait_at(rx, "inbound", 4).await;
    assert_eq!(contact(rh, CONTACT).await["status"], "active");
    assert_eq!(contact(rh, CONTACT).await["unsubscribed_at"], Value::Null);
    rh.send_event(&flow("evt-out-2")).await;
    assert_eq!(s.tw.wait_for(1, WAIT).await[0].to, CONTACT);

    // Two words are a reply, not a keyword; HELP is forwarded; OptOutType wins over the text.
    inbound(&s, CONTACT, "STOP PLEASE", None).await;
    inbound(&s, CONTACT, "help", None).await;
    wait_at(rx, "inbound", 6).await;
    assert_eq!(contact(rh, CONTACT).await["status"], "active");
    inbound(&s, CONTACT, "arrêt", Some("STOP")).await;
    wait_at(rx, "unsubscribe", 2).await;
    assert_eq!(contact(rh, CONTACT).await["status"], "unsubscribed");
    inbound(&s, CONTACT, "whatever", Some("START")).await;
    wait_at(rx, "inbound", 8).await;
    assert_eq!(contact(rh, CONTACT).await["status"], "active");
    for (i, r) in at(rx, "inbound").iter().enumerate() {
        assert_seed_shape(&r.json(), "inbound");
        assert!(r.header("webhook-signature").is_some(), "inbound #{i} is signed");
    }
}

async fn wait_sms(rh: &Ringhook, event_id: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (_, page) = rh.get("/v1/sms?limit=500").await;
        let found = page["sms"].as_array().unwrap().iter().find(|r| r["eventId"] == event_id).cloned();
        if let Some(r) = found.filter(|r| ready(r)) {
            return r;
        }
        assert!(tokio::time::Instant::now() < deadline, "SMS of {event_id}: {page:#}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_messages_only_forwards_only_replies() {
    let s = setup(true).await;
    for (text, opt) in [("STOP", None), ("START", None), ("HELP", None), ("yes", None), ("x", Some("STOP"))] {
        inbound(&s, CONTACT, text, opt).await;
    }
    wait_at(&s.rx, "unsubscribe", 2).await; // opt-outs still unsubscribe and say so
    no_more_at(&s.rx, "inbound", 0).await;
    inbound(&s, CONTACT, "Can you call me tomorrow?", None).await;
    let got = wait_at(&s.rx, "inbound", 1).await;
    assert_eq!(got[0].json()["message"], "Can you call me tomorrow?");
    no_more_at(&s.rx, "inbound", 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_or_unsigned_inbound_requests_change_nothing() {
    let s = setup(false).await;
    let params = s.tw.inbound_params(CONTACT, OURS, "STOP", None);
    let url = &s.inbound_url;
    for sig in [None, Some("bm90IGEgc2lnbmF0dXJl".to_string()), Some(signature("0000", url, &params))] {
        let (st, body) = s.tw.post_signed(url, &params, sig.as_deref()).await;
        assert_eq!(st, 403, "{body}");
        let e: Value = serde_json::from_str(&body).unwrap();
        assert!(e["error"].is_string() && e["detail"].is_string(), "{e}");
    }
    let mut tampered = params.clone();
    tampered.iter_mut().find(|(k, _)| k == "Body").unwrap().1 = "START".into();
    assert_eq!(s.tw.post_signed(url, &tampered, Some(&signature(TOKEN, url, &params))).await.0, 403);
    let other_tenant = url.replace("tenant=", "tenant=x");
    assert_eq!(s.tw.send_inbound(&other_tenant, &params).await.0, 403);
    let no_from: Vec<(String, String)> = params.iter().filter(|(k, _)| k != "From").cloned().collect();
    assert_eq!(s.tw.send_inbound(url, &no_from).await.0, 400);
    let (st, _) = s.rh.get(&format!("/v1/contacts/{CONTACT}")).await;
    assert_eq!(st, 404, "no contact was created");
    no_more_at(&s.rx, "inbound", 0).await;
    assert!(s.rx.requests().is_empty());
}

/// A send of one text to each number; the SMS Twilio accepted, by recipient.
async fn send(s: &Setup, to: &[&str]) -> (String, Vec<SentMessage>) {
    let before = s.tw.messages().len();
    let (st, v) = s.rh.post("/v1/messages", &json!({"to": to, "text": "Your order has shipped."})).await;
    assert_eq!(st, 202, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let msgs: Vec<SentMessage> = s.tw.wait_for(before + to.len(), WAIT).await.split_off(before);
    // Each record knows its MessageSid before callbacks come.
    for m in &msgs {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let (_, sent) = s.rh.get(&format!("/v1/messages/{id}")).await;
            if sent["messages"].as_array().unwrap().iter().any(|r| r["messageSid"] == json!(m.sid)) {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "{sent:#}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    (id, msgs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_to_five_is_reported_once_after_its_last_final_status() {
    let s = setup(false).await;
    let to = ["+15551230001", "+15551230002", "+15551230003", "+15551230004", "+15551230005"];
    let (id, msgs) = send(&s, &to).await;
    let by_to = |n: &str| msgs.iter().find(|m| m.to == n).unwrap().clone();
    for (n, status, code) in [
        (to[0], "delivered", None),
        (to[1], "delivered", None),
        (to[2], "undelivered", Some("30003")),
        (to[3], "failed", Some("30007")),
    ] {
        assert_eq!(s.tw.send_status(&by_to(n), "sent", None).await.0, 204);
        assert_eq!(s.tw.send_status(&by_to(n), status, code).await.0, 204);
    }
    no_more_at(&s.rx, "report", 0).await; // one recipient is still pending
    assert_eq!(s.tw.send_status(&by_to(to[4]), "delivered", None).await.0, 204);
    let report = wait_at(&s.rx, "report", 1).await.remove(0).json();
    assert_seed_shape(&report, "delivery-report");
    assert_eq!(report["total_messages"], 5);
    let groups: Vec<(String, u64, Vec<String>, bool, bool)> = report["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let r = g["recipients"].as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect();
            (
                g["code"].as_str().unwrap().into(),
                g["count"].as_u64().unwrap(),
                r,
                g["success"] == true,
                g["bounce"] == true,
            )
        })
        .collect();
    let d = |n: &str| n[1..].to_string();
    assert_eq!(
        groups,
        vec![
            ("100".into(), 3, vec![d(to[0]), d(to[1]), d(to[4])], true, false),
            ("200".into(), 1, vec![d(to[2])], false, true),
            ("400".into(), 1, vec![d(to[3])], false, false),
        ]
    );
    assert_eq!(report["messages"].as_array().unwrap().len(), 5);
    assert_eq!(report["messages"][0]["message"], "Your order has shipped.");
    // Late and repeated callbacks: still one report.
    assert_eq!(s.tw.send_status(&by_to(to[4]), "delivered", None).await.0, 204);
    no_more_at(&s.rx, "report", 1).await;
    let (_, sent) = s.rh.get(&format!("/v1/messages/{id}")).await;
    assert!(sent["reportedAt"].is_string(), "{sent}");
    let logged = s.rh.wait_deliveries("eventType=sms.delivery_report&status=succeeded", 1, WAIT).await;
    assert_eq!(logged[0]["id"], sent["reportDeliveryId"], "the report is in the delivery log");
    for r in sent["messages"].as_array().unwrap() {
        assert_eq!(r["from"], OURS, "the sender's default From the SMS went out with");
    }
    // The failed one is also a rejection, with Twilio's code and what it means.
    let rejected = wait_at(&s.rx, "rejected", 1).await.remove(0).json();
    assert_seed_shape(&rejected, "rejection");
    assert_eq!(rejected["code"], "30007");
    assert!(rejected["description"].as_str().unwrap().contains("spam"), "{rejected}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_with_a_status_missing_is_reported_after_24_hours() {
    let s = setup(false).await;
    let (_, msgs) = send(&s, &["+15551230001", "+15551230002"]).await;
    assert_eq!(s.tw.send_status(&msgs[0], "delivered", None).await.0, 204);
    s.rh.advance(23 * 3600).await;
    no_more_at(&s.rx, "report", 0).await;
    s.rh.advance(3600 + 60).await;
    let report = wait_at(&s.rx, "report", 1).await.remove(0).json();
    assert_seed_shape(&report, "delivery-report");
    let codes: Vec<&str> = report["statuses"].as_array().unwrap().iter().map(|g| g["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["100", "700"]);
    assert_eq!(report["statuses"][1]["status"], "No final status within 24 hours.");
    // The last status arriving later sends nothing more.
    assert_eq!(s.tw.send_status(&msgs[1], "delivered", None).await.0, 204);
    s.rh.advance(3600).await;
    no_more_at(&s.rx, "report", 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bounce_webhook_fires_when_the_count_reaches_the_threshold_and_again_after_a_reset() {
    let s = setup(false).await;
    let number = "+15551239999";
    let bounce = |m: SentMessage| {
        let tw = &s.tw;
        async move { assert_eq!(tw.send_status(&m, "undelivered", Some("30003")).await.0, 204) }
    };
    for _ in 0..2 {
        bounce(send(&s, &[number]).await.1.remove(0)).await;
    }
    assert_eq!(contact(&s.rh, number).await["bounces"], 2);
    no_more_at(&s.rx, "bounce", 0).await;
    bounce(send(&s, &[number]).await.1.remove(0)).await;
    let got = wait_at(&s.rx, "bounce", 1).await.remove(0).json();
    assert_seed_shape(&got, "bounce");
    assert_eq!((&got["bounces"], &got["phone_number"]), (&json!(3), &json!(number)));
    // A fourth bounce: counted, no webhook (it fired when the count reached 3).
    bounce(send(&s, &[number]).await.1.remove(0)).await;
    no_more_at(&s.rx, "bounce", 1).await;
    assert_eq!(contact(&s.rh, number).await["bounces"], 4);
    // An undelivered SMS for another reason is no bounce.
    let m = send(&s, &[number]).await.1.remove(0);
    assert_eq!(s.tw.send_status(&m, "undelivered", Some("30007")).await.0, 204);
    // A delivered SMS resets the count; three more bounces fire it again.
    let m = send(&s, &[number]).await.1.remove(0);
    assert_eq!(s.tw.send_status(&m, "delivered", None).await.0, 204);
    let deadline = tokio::time::Instant::now() + WAIT;
    while contact(&s.rh, number).await["bounces"] != 0 {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for _ in 0..3 {
        bounce(send(&s, &[number]).await.1.remove(0)).await;
    }
    let got = wait_at(&s.rx, "bounce", 2).await;
    assert_eq!(got[1].json()["bounces"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejections_from_twilios_api_and_from_a_failed_status() {
    let s = setup(false).await;
    s.tw.refuse_to("+15005550001", 400, 21211, "The 'To' number +15005550001 is not a valid phone number.");
    let (st, v) = s.rh.post("/v1/messages", &json!({"to": ["+15005550001"], "text": "hi"})).await;
    assert_eq!(st, 202, "{v}");
    let got = wait_at(&s.rx, "rejected", 1).await.remove(0).json();
    assert_seed_shape(&got, "rejection");
    assert_eq!(got["code"], "21211");
    assert_eq!(got["message"], "The 'To' number +15005550001 is not a valid phone number.");
    assert!(got["description"].as_str().unwrap().contains("E.164"), "{got}");
    // The send's only SMS was refused: its report says so.
    let report = wait_at(&s.rx, "report", 1).await.remove(0).json();
    assert_eq!(report["statuses"][0]["code"], "500");
    let (_, m) = send(&s, &["+15551230007"]).await;
    assert_eq!(s.tw.send_status(&m[0], "failed", Some("30008")).await.0, 204);
    let got = wait_at(&s.rx, "rejected", 2).await.remove(1).json();
    assert_eq!(got["code"], "30008");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn carrier_contact_status_updates_the_contact_and_fires_its_webhook() {
    let s = setup(false).await;
    for (i, status) in ["suspended", "deactivated", "resumed", "transferred"].iter().enumerate() {
        s.rh.send_event(&sample(&format!("sms/contact.status.{status}.json"))).await;
        let got = wait_at(&s.rx, "contact", i + 1).await.remove(i).json();
        assert_seed_shape(&got, "contact-status");
        assert_eq!((&got["status"], &got["phone_number"]), (&json!(status), &json!(CONTACT)));
        assert_eq!(contact(&s.rh, CONTACT).await["status"], *status);
    }
    let (st, e) = s
        .rh
        .post("/v1/events", &json!({"type": "contact.status", "payload": {"phone_number": CONTACT, "status": "gone"}}))
        .await;
    assert_eq!(st, 422, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("status"), "{e}");
    let (st, e) = s.rh.put("/v1/account/messaging", &json!({"webhooks": {"bounce": {"url": "ftp://x"}}})).await;
    assert_eq!(st, 422, "{e}");
    let (st, e) = s.rh.put("/v1/account/messaging", &json!({"bounceThreshold": 0})).await;
    assert_eq!(st, 422, "{e}");
    let (st, e) = s.rh.put("/v1/account/messaging", &json!({"webhooks": {"inbound": {"webhookId": "wh_nope"}}})).await;
    assert_eq!(st, 422, "{e}");
    let (st, e) = s.rh.post("/v1/messages", &json!({"to": ["5551230001"], "text": "x"})).await;
    assert_eq!(st, 422, "{e}");
    assert!(e["detail"].as_str().unwrap().starts_with("to[0]"), "{e}");
}
