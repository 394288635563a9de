//! SMS messaging and delivery-status webhooks (the delivery-status seed), end to end over real
//! HTTP: a `flow.completed` event sends the flow's SMS through a Twilio-compatible server,
//! webhook #1 reaches the account's default webhook, Twilio's signed status callbacks (in order,
//! out of order, repeated, forged) move the SMS record forward only, webhook #2 carries the
//! seed's `smsDetails` body once, and the receiver's answer is kept on the record; recipients
//! who opted out are never sent to; an SMS with no final status is looked up after 12 hours.

use ringhook_e2e::twilio::{signature, TwilioServer};
use ringhook_e2e::{bin, sample, Options, Receiver, Reply, Ringhook};
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);
const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "9f8e7d6c5b4a39281706f5e4d3c2b1a0";
const CALLER: &str = "+919999999999";
const HINDI: &str = "फोनन में आपका स्वागत है $flow.key.sms. Phonon";
/// The seed's send time, 2023-10-19T11:55:20.408+05:30, and its delivery time 3 min 52 s later.
const SEND_MS: i64 = 1_697_696_720_408;
const DELIVERED_MS: i64 = SEND_MS + 232_000;

struct Setup {
    rh: Ringhook,
    tw: TwilioServer,
    rx: Receiver,
}

/// A runner on a manual clock with a Twilio-compatible server, a default webhook (answering 200
/// with a body), an SMS sender, the account's settings and the seed's flow 200.
async fn setup(notify_on_delivery: bool, webhook_enabled: bool) -> Setup {
    let tw = TwilioServer::start(&[(SID, TOKEN)]).await;
    let mut opts = Options::manual_clock();
    opts.extra_args = vec!["--twilio-base-url".into(), tw.url.clone()];
    let rh = Ringhook::start(bin!(), opts).await;
    let rx = Receiver::start().await;
    rx.set_default(Reply::status(200).header("content-type", "application/json").body(r#"{"received":true}"#));
    let (s, w) = rh.post("/v1/webhooks", &json!({"name": "default", "url": rx.url})).await;
    assert_eq!(s, 201, "{w}");
    let (s, sender) = rh.post("/v1/sms-senders", &json!({"accountSid": SID, "authToken": TOKEN})).await;
    assert_eq!(s, 201, "{sender}");
    let mut account = sample("sms/account.json");
    account["defaultWebhookId"] = w["id"].clone();
    account["smsSenderId"] = sender["id"].clone();
    account["notifyOnDelivery"] = json!(notify_on_delivery);
    let (s, a) = rh.put("/v1/account", &account).await;
    assert_eq!(s, 200, "{a}");
    let mut flow = sample("sms/flow.json");
    flow["webhookEnabled"] = json!(webhook_enabled);
    let (s, f) = rh.post("/v1/flows", &flow).await;
    assert_eq!(s, 201, "{f}");
    rh.set_clock_ms(SEND_MS).await;
    Setup { rh, tw, rx }
}

fn flow_event(id: &str, call_uuid: &str) -> Value {
    let mut e = sample("sms/flow.completed.json");
    e["id"] = json!(id);
    e["payload"]["callUuid"] = json!(call_uuid);
    e
}

async fn sms_list(rh: &Ringhook, query: &str) -> Vec<Value> {
    let (s, v) = rh.get(&format!("/v1/sms?{query}")).await;
    assert_eq!(s, 200, "{v}");
    v["sms"].as_array().unwrap().clone()
}

/// Polls the SMS record until `ready` holds.
async fn sms_when(rh: &Ringhook, id: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (s, v) = rh.get(&format!("/v1/sms/{id}")).await;
        assert_eq!(s, 200, "{v}");
        if ready(&v) {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "SMS record never got there: {v:#}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The one SMS record of a call.
async fn record_of_call(rh: &Ringhook, call_uuid: &str) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let found: Vec<Value> =
            sms_list(rh, "").await.into_iter().filter(|r| r["phononUuid"] == json!(call_uuid)).collect();
        if let [one] = found.as_slice() {
            return one.clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "no single SMS record for {call_uuid}: {found:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Same keys in the same order, and the same JSON type for each, all the way down.
fn assert_same_shape(got: &Value, want: &Value, at: &str) {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            let (gk, wk): (Vec<&String>, Vec<&String>) = (g.keys().collect(), w.keys().collect());
            assert_eq!(gk, wk, "keys at {at}");
            for (k, v) in w {
                assert_same_shape(&g[k], v, &format!("{at}.{k}"));
            }
        }
        (Value::Array(g), Value::Array(w)) => {
            assert_eq!(g.len(), w.len(), "items at {at}");
            for (i, (a, b)) in g.iter().zip(w).enumerate() {
                assert_same_shape(a, b, &format!("{at}[{i}]"));
            }
        }
        (Value::Number(_), Value::Number(_))
        | (Value::String(_), Value::String(_))
        | (Value::Bool(_), Value::Bool(_))
        | (Value::Null, Value::Null) => {}
        _ => panic!("type at {at}: got {got}, the seed has {want}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_sends_its_sms_and_both_webhooks_with_the_seeds_body() {
    let Setup { rh, tw, rx } = setup(true, true).await;
    rh.send_event(&sample("sms/flow.completed.json")).await;

    // The SMS, through the account's Twilio sender, with a status callback back to Ringhook.
    let m = tw.wait_for(1, WAIT).await.remove(0);
    assert_eq!(
        (m.account_sid.as_str(), m.to.as_str(), m.from.as_str(), m.body.as_str()),
        (SID, CALLER, "PHONON", HINDI)
    );
    let keys: Vec<&str> = m.params.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["To", "From", "Body", "StatusCallback"]);
    assert!(m.status_callback.as_deref().unwrap().starts_with(&format!("{}/v1/twilio/status?", rh.base)));

    // Webhook #1: the flow completed, with the SMS as it stood.
    let first = rx.wait_for(1, WAIT).await.remove(0).json();
    assert_eq!(first["event"], "flow.completed");
    assert_eq!(first["phonon-uuid"], "bd706f90-aa14-47ea-9844-3d1e1123f4ee");
    assert_eq!((first["flowId"].as_u64(), first["accountID"].as_u64()), (Some(200), Some(28)));
    assert_eq!(first["smsDetails"].as_array().unwrap().len(), 1);
    assert_eq!(first["completedAt"], "2023-10-19T11:55:18.000+05:30", "in the account's time zone");

    // The record: length, segments, UCS-2, cost from the account's pricing; Twilio's MessageSid
    // once it accepted the message, and the send time in the account's zone.
    let r = record_of_call(&rh, "bd706f90-aa14-47ea-9844-3d1e1123f4ee").await;
    let id = r["id"].as_str().unwrap().to_string();
    let r = sms_when(&rh, &id, |r| r["messageSid"] == json!(m.sid)).await;
    assert_eq!(r["length"], HINDI.chars().count());
    assert_eq!((r["segments"].as_u64(), r["nonEnglishChars"].as_bool()), (Some(1), Some(true)));
    assert_eq!(r["smsType"], "UNICODE");
    assert_eq!(r["cost"], sample("sms/delivery-status-webhook.seed.json")["smsDetails"][0]["cost"]);
    assert_eq!(r["sendTime"], "2023-10-19T11:55:20.408+05:30");
    assert_eq!(r["deliveryStatus"], "QUEUED");
    assert_eq!(r["attemptDetail"], "bd706f90-aa14-47ea-9844-3d1e1123f4ee##1");
    assert!(uuid_like(&id), "{id}");

    // Status callbacks, signed like Twilio: sent, then delivered 3 min 52 s after sending.
    assert_eq!(tw.send_status(&m, "sent", None).await.0, 204);
    assert_eq!(sms_when(&rh, &id, |r| r["deliveryStatus"] == "SENT").await["deliveryTime"], Value::Null);
    rh.set_clock_ms(DELIVERED_MS).await;
    assert_eq!(tw.send_status(&m, "delivered", None).await.0, 204);

    // Webhook #2: the seed's body, field for field.
    let second = rx.wait_for(2, WAIT).await.remove(1).json();
    let seed = sample("sms/delivery-status-webhook.seed.json");
    assert_same_shape(&second, &seed, "body");
    let (got, want) = (&second["smsDetails"][0], &seed["smsDetails"][0]);
    for k in
        ["attemptDetail", "phononUuid", "flowId", "accountID", "cost", "nonEnglishChars", "text", "from", "sendTime"]
    {
        assert_eq!(got[k], want[k], "{k}");
    }
    assert_eq!((&got["deliveryStatus"], &got["deliveryTime"]), (&want["deliveryStatus"], &want["deliveryTime"]));
    assert_eq!(second["phonon-uuid"], seed["phonon-uuid"]);
    assert_eq!(got["id"], json!(id));
    assert_eq!(got["to"], CALLER);

    // The receiver's answer is kept on the record (the seed's notify_on_delivery).
    let r = sms_when(&rh, &id, |r| r["notify_on_delivery"]["status"] == 200).await;
    assert_eq!(r["notify_on_delivery"]["body"], r#"{"received":true}"#);
    assert_eq!(r["deliveryStatus"], "DELIVERED");
    assert_eq!(r["deliveryTime"], "2023-10-19T11:59:12.408+05:30");

    // Repeated and late callbacks change nothing and send nothing.
    assert_eq!(tw.send_status(&m, "delivered", None).await.0, 204);
    assert_eq!(tw.send_status(&m, "sent", None).await.0, 204);
    rx.expect_no_more_than(2, Duration::from_millis(800)).await;
    assert_eq!(sms_when(&rh, &id, |_| true).await["deliveryStatus"], "DELIVERED");

    // Out of order: delivered before sent. Still exactly one webhook #2, still DELIVERED.
    rh.send_event(&flow_event("evt-flow-2", "call-2")).await;
    let m2 = tw.wait_for(2, WAIT).await.remove(1);
    rx.wait_for(3, WAIT).await;
    let id2 = record_of_call(&rh, "call-2").await["id"].as_str().unwrap().to_string();
    sms_when(&rh, &id2, |r| r["messageSid"] == json!(m2.sid)).await;
    assert_eq!(tw.send_status(&m2, "delivered", None).await.0, 204);
    assert_eq!(tw.send_status(&m2, "sent", None).await.0, 204);
    let fourth = rx.wait_for(4, WAIT).await.remove(3).json();
    assert_eq!(fourth["phonon-uuid"], "call-2");
    assert_eq!(fourth["smsDetails"][0]["deliveryStatus"], "DELIVERED");
    rx.expect_no_more_than(4, Duration::from_millis(800)).await;
    assert_eq!(sms_when(&rh, &id2, |_| true).await["deliveryStatus"], "DELIVERED");

    // Filters.
    assert_eq!(sms_list(&rh, "flowId=200").await.len(), 2);
    assert_eq!(sms_list(&rh, "flowId=201").await.len(), 0);
    assert_eq!(sms_list(&rh, "status=delivered").await.len(), 2);
    assert_eq!(sms_list(&rh, "status=FAILED").await.len(), 0);
    assert_eq!(sms_list(&rh, &format!("to=%2B{}", &CALLER[1..])).await.len(), 2);
    assert_eq!(sms_list(&rh, "limit=1").await[0]["phononUuid"], "call-2", "newest first");
    let (s, e) = rh.get("/v1/sms?flowId=abc").await;
    assert_eq!(s, 422, "{e}");
    let (s, e) = rh.get("/v1/sms?colour=red").await;
    assert_eq!(s, 422, "{e}");
    let (s, _) = rh.get("/v1/sms/00000000-0000-7000-8000-000000000000").await;
    assert_eq!(s, 404);
}

fn uuid_like(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && s.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_flag_only_webhook_one_and_without_the_switch_neither() {
    let Setup { rh, tw, rx } = setup(false, true).await;
    rh.send_event(&sample("sms/flow.completed.json")).await;
    let m = tw.wait_for(1, WAIT).await.remove(0);
    assert_eq!(rx.wait_for(1, WAIT).await[0].json()["event"], "flow.completed");
    let id = record_of_call(&rh, "bd706f90-aa14-47ea-9844-3d1e1123f4ee").await["id"].as_str().unwrap().to_string();
    sms_when(&rh, &id, |r| r["messageSid"] == json!(m.sid)).await;
    assert_eq!(tw.send_status(&m, "delivered", None).await.0, 204);
    sms_when(&rh, &id, |r| r["deliveryStatus"] == "DELIVERED").await;
    rx.expect_no_more_than(1, Duration::from_millis(800)).await;

    // The flow's switch off (and the account's flag on): the SMS is sent, no webhook at all.
    let (s, a) = rh.put("/v1/account", &json!({"notifyOnDelivery": true})).await;
    assert_eq!((s, &a["notifyOnDelivery"]), (200, &json!(true)), "{a}");
    let mut flow = sample("sms/flow.json");
    flow["webhookEnabled"] = json!(false);
    let (s, f) = rh.put("/v1/flows/200", &flow).await;
    assert_eq!(s, 200, "{f}");
    rh.send_event(&flow_event("evt-flow-off", "call-off")).await;
    let m2 = tw.wait_for(2, WAIT).await.remove(1);
    let id2 = record_of_call(&rh, "call-off").await["id"].as_str().unwrap().to_string();
    sms_when(&rh, &id2, |r| r["messageSid"] == json!(m2.sid)).await;
    assert_eq!(tw.send_status(&m2, "undelivered", Some("30003")).await.0, 204);
    let r = sms_when(&rh, &id2, |r| r["deliveryStatus"] == "UNDELIVERED").await;
    assert_eq!(r["errorCode"], "30003");
    rx.expect_no_more_than(1, Duration::from_millis(800)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_tampered_unknown_and_incomplete_callbacks_change_nothing() {
    let Setup { rh, tw, rx } = setup(true, true).await;
    rh.send_event(&sample("sms/flow.completed.json")).await;
    let m = tw.wait_for(1, WAIT).await.remove(0);
    rx.wait_for(1, WAIT).await;
    let id = record_of_call(&rh, "bd706f90-aa14-47ea-9844-3d1e1123f4ee").await["id"].as_str().unwrap().to_string();
    sms_when(&rh, &id, |r| r["messageSid"] == json!(m.sid)).await;
    let url = m.status_callback.clone().unwrap();
    let params = tw.status_params(&m, "delivered", None);

    let error = |(s, body): (u16, String)| -> (u16, Value) { (s, serde_json::from_str(&body).unwrap_or(Value::Null)) };
    // Unsigned, badly signed, signed with another token: 403.
    for sig in [None, Some("bm90IGEgc2lnbmF0dXJl".to_string()), Some(signature("0000", &url, &params))] {
        let (s, e) = error(tw.post_signed(&url, &params, sig.as_deref()).await);
        assert_eq!(s, 403, "{e}");
        assert!(e["error"].is_string() && e["detail"].is_string(), "{e}");
    }
    // A parameter changed after signing: 403.
    let mut tampered = params.clone();
    tampered.iter_mut().find(|(k, _)| k == "MessageStatus").unwrap().1 = "failed".into();
    assert_eq!(tw.post_signed(&url, &tampered, Some(&signature(TOKEN, &url, &params))).await.0, 403);
    // An extra parameter Ringhook does not read is still part of the signature.
    let mut extra = params.clone();
    extra.push(("Price".into(), "-0.0075".into()));
    assert_eq!(tw.post_signed(&url, &extra, Some(&signature(TOKEN, &url, &params))).await.0, 403);
    // Correctly signed, but not the message this attempt sent: 404.
    let mut unknown = params.clone();
    for (k, v) in unknown.iter_mut() {
        if k == "MessageSid" || k == "SmsSid" {
            *v = "SM00000000000000000000000000000000".into();
        }
    }
    let (s, e) = error(tw.post_signed(&url, &unknown, Some(&signature(TOKEN, &url, &unknown))).await);
    assert_eq!(s, 404, "{e}");
    // Correctly signed, a delivery that does not exist: 404.
    let ghost = url.replace("delivery=dlv_", "delivery=dlv_0");
    let (s, e) = error(tw.post_signed(&ghost, &params, Some(&signature(TOKEN, &ghost, &params))).await);
    assert_eq!(s, 404, "{e}");
    // Correctly signed, no status: 400.
    let missing: Vec<(String, String)> =
        params.iter().filter(|(k, _)| k != "MessageStatus" && k != "SmsStatus").cloned().collect();
    let (s, e) = error(tw.post_signed(&url, &missing, Some(&signature(TOKEN, &url, &missing))).await);
    assert_eq!(s, 400, "{e}");
    assert_eq!(e["detail"], "MessageStatus: required");

    let r = sms_when(&rh, &id, |_| true).await;
    assert_eq!(r["deliveryStatus"], "QUEUED", "nothing changed: {r:#}");
    rx.expect_no_more_than(1, Duration::from_millis(500)).await;
    // The genuine one still works.
    assert_eq!(tw.send_status(&m, "delivered", None).await.0, 204);
    rx.wait_for(2, WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsubscribed_recipient_is_never_sent_to() {
    let Setup { rh, tw, rx } = setup(true, true).await;
    // Marked unsubscribed through the API: no Twilio request, the record says why.
    let (s, c) = rh.put(&format!("/v1/contacts/{CALLER}"), &json!({"status": "unsubscribed"})).await;
    assert_eq!((s, &c["status"]), (200, &json!("unsubscribed")), "{c}");
    assert!(c["unsubscribed_at"].is_string(), "{c}");
    rh.send_event(&sample("sms/flow.completed.json")).await;
    rx.wait_for(1, WAIT).await; // webhook #1 still goes
    let id = record_of_call(&rh, "bd706f90-aa14-47ea-9844-3d1e1123f4ee").await["id"].as_str().unwrap().to_string();
    let r = sms_when(&rh, &id, |r| r["deliveryStatus"] == "NOT_SENT").await;
    assert_eq!(r["error"], "not sent: recipient unsubscribed");
    assert_eq!(r["errorCode"], "21610");
    assert!(tw.requests().is_empty(), "{:#?}", tw.requests());
    let d = rh.delivery(r["deliveryId"].as_str().unwrap()).await;
    assert_eq!(d["status"], "failed");
    assert_eq!(d["attempts"][0]["error"], "not sent: recipient unsubscribed");

    // Twilio's own 21610 for another number marks that contact unsubscribed; a later SMS to it
    // is not sent.
    let other = "+15550001111";
    tw.refuse_to(other, 400, 21610, "Attempt to send to unsubscribed recipient");
    let mut flow = sample("sms/flow.json");
    flow["smsSteps"][0]["to"] = json!(other);
    let (s, f) = rh.put("/v1/flows/200", &flow).await;
    assert_eq!(s, 200, "{f}");
    rh.send_event(&flow_event("evt-flow-21610", "call-21610")).await;
    let req = tw.wait_requests(1, WAIT).await.remove(0);
    assert_eq!((req.status, &req.response["code"]), (400, &json!(21610)));
    let id2 = record_of_call(&rh, "call-21610").await["id"].as_str().unwrap().to_string();
    let r = sms_when(&rh, &id2, |r| r["deliveryStatus"] == "NOT_SENT").await;
    assert_eq!((&r["errorCode"], &r["error"]), (&json!("21610"), &json!("not sent: recipient unsubscribed")));
    let (s, c) = rh.get(&format!("/v1/contacts/{other}")).await;
    assert_eq!((s, &c["status"]), (200, &json!("unsubscribed")), "{c}");
    rh.advance(120).await; // the SMS policy's one retry: refused before Twilio
    rh.send_event(&flow_event("evt-flow-21610-b", "call-21610-b")).await;
    let id3 = record_of_call(&rh, "call-21610-b").await["id"].as_str().unwrap().to_string();
    sms_when(&rh, &id3, |r| r["deliveryStatus"] == "NOT_SENT").await;
    assert_eq!(tw.requests().len(), 1, "{:#?}", tw.requests());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sms_with_no_final_status_is_looked_up_once_after_12_hours() {
    let Setup { rh, tw, rx } = setup(true, true).await;
    rh.send_event(&sample("sms/flow.completed.json")).await;
    let m = tw.wait_for(1, WAIT).await.remove(0);
    rx.wait_for(1, WAIT).await;
    let id = record_of_call(&rh, "bd706f90-aa14-47ea-9844-3d1e1123f4ee").await["id"].as_str().unwrap().to_string();
    sms_when(&rh, &id, |r| r["messageSid"] == json!(m.sid)).await;
    // The callbacks were lost; Twilio's Message resource knows it failed.
    tw.set_status(&m.sid, "failed", Some("30007"));
    rh.advance(11 * 3600).await;
    assert!(tw.requests().iter().all(|r| r.method == "POST"), "not before 12 hours");
    rh.advance(3600 + 60).await;
    let got = tw.wait_requests(2, WAIT).await;
    assert_eq!(got[1].method, "GET");
    assert_eq!(got[1].path, format!("/2010-04-01/Accounts/{SID}/Messages/{}.json", m.sid));
    assert_eq!(got[1].status, 200, "authenticated with the sender's SID and token");
    let r = sms_when(&rh, &id, |r| r["deliveryStatus"] == "FAILED").await;
    assert_eq!(r["errorCode"], "30007");
    let second = rx.wait_for(2, WAIT).await.remove(1).json();
    assert_eq!(second["smsDetails"][0]["deliveryStatus"], "FAILED");
    // Once: later ticks look nothing up again.
    rh.advance(3600).await;
    rh.tick().await;
    assert_eq!(tw.requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_flows_and_contacts_refuse_bad_input_and_never_show_the_token() {
    let Setup { rh, .. } = setup(true, true).await;
    let (s, a) = rh.get("/v1/account").await;
    assert_eq!(s, 200);
    assert_eq!(a["timeZone"], "Asia/Kolkata");
    assert_eq!(a["smsSender"]["accountSid"], SID);
    assert!(!a.to_string().contains(TOKEN), "{a}");
    assert!(a["smsSender"]["authToken"].as_str().unwrap().starts_with("****"));
    // The read sent back as it is changes nothing.
    let (s, back) = rh.put("/v1/account", &a).await;
    assert_eq!(s, 200, "{back}");
    assert_eq!(back["smsPricing"], a["smsPricing"]);
    for (body, field) in [
        (json!({"timeZone": "Mars/Base"}), "timeZone"),
        (json!({"timeZone": "+25:00"}), "timeZone"),
        (json!({"defaultWebhookId": "wh_missing"}), "defaultWebhookId"),
        (json!({"smsSenderId": "sms_missing"}), "smsSenderId"),
        (json!({"accountId": -1}), "accountId"),
        (json!({"notifyOnDelivery": "yes"}), "notifyOnDelivery"),
        (
            json!({"smsPricing": {"currencyId": 1, "currencyName": "INR", "amountPerUnit": -1,
            "serviceCategory": "53", "serviceChargeType": "Unit"}}),
            "smsPricing",
        ),
        (json!({"notifyOnDelivry": true}), "notifyOnDelivry"),
    ] {
        let (s, e) = rh.put("/v1/account", &body).await;
        assert_eq!(s, 422, "{body}: {e}");
        assert!(e["detail"].as_str().unwrap().starts_with(field), "{body}: {e}");
    }
    let (s, a2) = rh.get("/v1/account").await;
    assert_eq!((s, &a2["timeZone"]), (200, &json!("Asia/Kolkata")), "nothing changed");
    // null clears an id; a field left out keeps its value.
    let (s, cleared) = rh.put("/v1/account", &json!({"accountId": null, "smsSenderId": null})).await;
    assert_eq!(s, 200, "{cleared}");
    assert_eq!((&cleared["accountId"], &cleared["smsSender"]), (&Value::Null, &Value::Null));
    assert_eq!(cleared["defaultWebhookId"], a["defaultWebhookId"]);
    assert_eq!(cleared["timeZone"], "Asia/Kolkata");
    // The Twilio account given inline: a sender is made and bound; its token is write-only.
    const OTHER: &str = "0fedcba9876543210fedcba987654321";
    let inline = json!({"twilio": {"accountSid": SID, "authToken": OTHER, "from": "+15550002222"}});
    let (s, bound) = rh.put("/v1/account", &inline).await;
    assert_eq!(s, 200, "{bound}");
    assert_eq!((&bound["smsSender"]["accountSid"], &bound["smsSender"]["from"]), (&json!(SID), &json!("+15550002222")));
    assert_eq!(bound["smsSender"]["authToken"], "****4321");
    assert!(!bound.to_string().contains(OTHER), "{bound}");
    let (_, senders) = rh.get("/v1/sms-senders").await;
    assert_eq!(senders.to_string().matches(bound["smsSenderId"].as_str().unwrap()).count(), 1, "{senders}");
    // Again without the token: the same sender, the token kept.
    let (s, again) = rh.put("/v1/account", &json!({"twilio": {"accountSid": SID, "from": "+15550003333"}})).await;
    assert_eq!((s, &again["smsSenderId"]), (200, &bound["smsSenderId"]), "{again}");
    assert_eq!(again["smsSender"]["authToken"], "****4321");
    let (s, e) = rh.put("/v1/account", &json!({"twilio": {"accountSid": "AC1"}, "smsSenderId": null})).await;
    assert_eq!(s, 422, "{e}");
    let (s, e) = rh.put("/v1/account", &json!({"twilio": {"accountSid": "AC1"}})).await;
    assert_eq!(s, 422, "{e}");
    assert!(e["detail"].as_str().unwrap().starts_with("twilio.accountSid"), "{e}");
    let (s, e) = rh.post_raw("/v1/account", "{}", &[("content-type", "application/json")]).await;
    assert_eq!(s, 405, "{e}");

    // Flows.
    for (body, field) in [
        (json!({"webhookEnabled": true}), "missing field `name`"),
        (json!({"name": " "}), "name"),
        (json!({"name": "x", "smsSteps": [{"to": "callerNumber"}]}), "smsSteps[0]"),
        (json!({"name": "x", "smsSteps": [{"to": "callerNumber", "text": " "}]}), "smsSteps[0].text"),
        (json!({"name": "x", "id": 0}), "id"),
        (json!({"name": "x", "steps": []}), "steps"),
    ] {
        let (s, e) = rh.post("/v1/flows", &body).await;
        assert_eq!(s, 422, "{body}: {e}");
        assert!(e["detail"].as_str().unwrap().contains(field), "{body}: {e}");
    }
    let (s, e) = rh.post("/v1/flows", &json!({"id": 200, "name": "again"})).await;
    assert_eq!(s, 409, "{e}");
    let (s, f) = rh.post("/v1/flows", &json!({"name": "next"})).await;
    assert_eq!((s, &f["id"]), (201, &json!(201)), "the next free id: {f}");
    let (s, e) = rh.put("/v1/flows/201", &json!({"id": 7, "name": "x"})).await;
    assert_eq!(s, 422, "{e}");
    let (s, _) = rh.get("/v1/flows/abc").await;
    assert_eq!(s, 404);
    let (s, list) = rh.get("/v1/flows").await;
    assert_eq!((s, list["flows"].as_array().unwrap().len()), (200, 2));
    assert_eq!(rh.delete("/v1/flows/201").await.0, 204);
    assert_eq!(rh.delete("/v1/flows/201").await.0, 404);

    // Contacts.
    let (s, c) = rh.post("/v1/contacts", &json!({"phone_number": "+15551230000", "first_name": "Ana"})).await;
    assert_eq!(s, 201, "{c}");
    assert_eq!((&c["status"], &c["bounces"], &c["unsubscribed_at"]), (&json!("active"), &json!(0), &Value::Null));
    for body in [json!({"phone_number": "5551230000"}), json!({}), json!({"phone_number": "+1555", "status": "gone"})] {
        let (s, e) = rh.post("/v1/contacts", &body).await;
        assert_eq!(s, 422, "{body}: {e}");
    }
    assert_eq!(rh.post("/v1/contacts", &json!({"phone_number": "+15551230000"})).await.0, 409);
    let (s, e) = rh.put("/v1/contacts/not-a-number", &json!({})).await;
    assert_eq!(s, 422, "{e}");
    let (s, list) = rh.get("/v1/contacts?limit=1").await;
    assert_eq!((s, list["contacts"].as_array().unwrap().len()), (200, 1));
}

/// The signature Ringhook checks is Twilio's own: computed by Twilio's reference library (the
/// `twilio` package's `RequestValidator`) over URLs with and without ports and query strings.
#[test]
fn twilio_signatures_match_twilios_reference_validator() {
    ensure_twilio_library();
    let cases = [
        ("https://mycompany.com/myapp.php?foo=1&bar=2", vec![("CallSid", "CA1234567890ABCDE"), ("Digits", "1234")]),
        (
            "http://127.0.0.1:8080/v1/twilio/status?tenant=ten_1&sender=sms_2&delivery=dlv_3&attempt=1",
            vec![
                ("MessageSid", "SM5ac8"),
                ("MessageStatus", "delivered"),
                ("To", "+919999999999"),
                ("Body", "फोनन & ok"),
            ],
        ),
        ("https://hooks.example.com:8443/v1/twilio/status", vec![("MessageStatus", "sent"), ("ErrorCode", "")]),
        ("https://hooks.example.com/v1/twilio/status?a=1&a=2", vec![]),
    ];
    let input: Vec<Value> =
        cases.iter().map(|(url, params)| json!({"url": url, "token": TOKEN, "params": params})).collect();
    let script = r#"
import json, sys
from twilio.request_validator import RequestValidator
for line in sys.stdin:
    c = json.loads(line)
    v = RequestValidator(c["token"])
    params = {k: val for k, val in c["params"]}
    print(json.dumps({"signature": v.compute_signature(c["url"], params)}))
"#;
    let mut child = Command::new(python())
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python");
    {
        let mut stdin = child.stdin.take().unwrap();
        for c in &input {
            writeln!(stdin, "{c}").unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let theirs: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["signature"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(theirs.len(), cases.len());
    for ((url, params), sig) in cases.iter().zip(&theirs) {
        let params: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(&ringhook::destinations::twilio::signature(TOKEN, url, &params), sig, "{url}");
        assert!(ringhook::destinations::twilio::verify(TOKEN, url, &params, sig), "{url}");
        assert_eq!(&signature(TOKEN, url, &params), sig, "the test server signs as Twilio does: {url}");
    }
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// Installs Twilio's Python library with pip when it is missing; fails loudly when it cannot.
fn ensure_twilio_library() {
    let importable =
        || Command::new(python()).args(["-c", "import twilio.request_validator"]).status().is_ok_and(|s| s.success());
    if importable() {
        return;
    }
    let mut log = String::new();
    for extra in [&[][..], &["--user"][..], &["--break-system-packages"][..]] {
        let out = Command::new(python())
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "twilio==9.13.0"])
            .args(extra)
            .output();
        match out {
            Ok(o) => log.push_str(&String::from_utf8_lossy(&o.stderr)),
            Err(e) => log.push_str(&format!("cannot run {}: {e}\n", python())),
        }
        if importable() {
            return;
        }
    }
    panic!("Twilio's Python library (pip install twilio) is not available, so the signature cannot be checked against it:\n{log}");
}
