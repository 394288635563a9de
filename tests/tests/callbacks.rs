//! Callback notifications end to end (issue 4, the callback-notifications seed): call targets,
//! connections, callback events through `POST /v1/events`, the seed's rules at their
//! boundaries on a manual clock, the seed's webhook envelope field for field, Twilio SMS to a
//! local Twilio-compatible server with signed status callbacks, the seed's retry rules, and
//! reminders claimed once by overlapping scheduler runs.

use base64::Engine;
use ringhook_e2e::twilio::{signature, TwilioServer};
use ringhook_e2e::{bin, sample, Options, Receiver, Recorded, Reply, Ringhook, ADMIN_TOKEN};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);
const SETTLE: Duration = Duration::from_millis(600);
const S: i64 = 1_000;
const M: i64 = 60 * S;
/// 2024-10-16T15:47:15Z: the seed's confirmation time.
const SEED_T0: i64 = 1_729_093_635_000;
const CUSTOMER: &str = "+13305551234";
const HANDLE: &str = "+18505554321";
const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "f00dfacecafebeef0123456789abcdef";

// ---------------------------------------------------------------------------------------------
// helpers

/// RFC 3339 UTC with seconds, as the envelope's `time`.
fn iso(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", sod / 3600, sod % 3600 / 60, sod % 60)
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| if [8, 13, 18, 23].contains(&i) { c == '-' } else { c.is_ascii_hexdigit() })
}

async fn clock(rh: &Ringhook, body: Value) -> i64 {
    let (s, v) = rh.request_as(reqwest::Method::POST, "/v1/admin/clock", Some(ADMIN_TOKEN), Some(&body)).await;
    assert_eq!(s, 200, "clock: {v}");
    v["nowMs"].as_i64().unwrap()
}

async fn now(rh: &Ringhook) -> i64 {
    clock(rh, json!({"advanceMs": 0})).await
}

/// Sets the manual clock (no scheduler run).
async fn set_clock(rh: &Ringhook, ms: i64) {
    clock(rh, json!({"setMs": ms})).await;
}

/// Moves the clock to `ms` and runs the scheduler.
async fn advance_to(rh: &Ringhook, ms: i64) {
    set_clock(rh, ms).await;
    rh.tick().await;
}

async fn start() -> Ringhook {
    Ringhook::start(bin!(), Options::manual_clock()).await
}

async fn start_with_twilio(tw: &TwilioServer) -> Ringhook {
    let mut opts = Options::manual_clock();
    opts.extra_args = vec!["--twilio-base-url".into(), tw.url.clone()];
    Ringhook::start(bin!(), opts).await
}

/// The seed's call target (texts that produce the seed's messages; ASAP reminders on).
async fn seed_call_target(rh: &Ringhook) {
    let (s, v) = rh.post("/v1/call-targets", &sample("callbacks/config/call-target.json")).await;
    assert_eq!(s, 201, "create call target: {v}");
}

async fn connection(rh: &Ringhook, body: Value) -> String {
    let (s, v) = rh.post("/v1/connections", &body).await;
    assert_eq!(s, 201, "create connection {body}: {v}");
    v["id"].as_str().unwrap().to_string()
}

async fn webhook(rh: &Ringhook, kind: &str, url: &str, auth: Value, headers: &str) -> String {
    connection(rh, json!({"kind": kind, "channel": "webhook", "url": url, "auth": auth, "headers": headers})).await
}

async fn twilio_conn(rh: &Ringhook, kind: &str, token: &str) -> String {
    connection(rh, json!({"kind": kind, "channel": "twilio", "accountSid": SID, "authToken": token})).await
}

async fn event(rh: &Ringhook, id: &str, event_type: &str, payload: Value) -> String {
    rh.send_event(&json!({"id": id, "type": event_type, "payload": payload})).await
}

async fn register_scheduled(rh: &Ringhook, cb: &str, customer: &str, registered: i64, scheduled: i64) -> String {
    event(
        rh,
        &format!("evt-reg-{cb}"),
        "callback.registered",
        json!({"callbackId": cb, "callTargetId": "6281", "customerNumber": customer, "type": "scheduled",
               "registeredAt": iso(registered), "scheduledTime": iso(scheduled), "metadata": {"test-key": "test-value"}}),
    )
    .await
}

async fn register_asap(rh: &Ringhook, cb: &str, target: &str, registered: i64, expected: i64) -> String {
    event(
        rh,
        &format!("evt-reg-{cb}"),
        "callback.registered",
        json!({"callbackId": cb, "callTargetId": target, "customerNumber": CUSTOMER, "type": "asap",
               "registeredAt": iso(registered), "expectedCallbackTime": iso(expected)}),
    )
    .await
}

async fn finalize(rh: &Ringhook, cb: &str, outcome: &str) -> String {
    event(rh, &format!("evt-fin-{cb}"), "callback.finalized", json!({"callbackId": cb, "outcome": outcome})).await
}

/// Polls `GET /v1/callbacks/{id}` until `ready` holds.
async fn callback_when(rh: &Ringhook, id: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (s, v) = rh.get(&format!("/v1/callbacks/{id}")).await;
        if s == 200 && ready(&v) {
            return v;
        }
        assert!(s == 200 || s == 404, "get callback: {s} {v}");
        if tokio::time::Instant::now() > deadline {
            panic!("callback {id} not as expected: {s} {v}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The callback once its registration `evt` was evaluated.
async fn registered(rh: &Ringhook, id: &str, evt: &str) -> Value {
    callback_when(rh, id, |v| v["registeredEventId"] == json!(evt)).await
}

/// Deliveries of one notification kind (the product's send-time context names it).
async fn deliveries_of(rh: &Ringhook, kind: &str) -> Vec<Value> {
    rh.deliveries("").await.into_iter().filter(|d| d["context"]["kind"] == json!(kind)).collect()
}

/// Polls until the delivery is no longer pending.
async fn settled(rh: &Ringhook, id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let d = rh.delivery(id).await;
        if d["status"] != json!("pending") {
            return d;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("delivery {id} still pending: {d:#}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Asserts a received body is the seed's example, field for field and in order; `time` is
/// `time` and `id` is a UUID.
fn assert_seed_envelope(got: &Value, example: &str, time: &str) {
    let mut expected = sample(&format!("callbacks/notifications/{example}.json"));
    let id = got["data"]["id"].as_str().unwrap_or_default();
    assert!(is_uuid(id), "data.id is a UUID: {got:#}");
    expected["data"]["time"] = json!(time);
    expected["data"]["id"] = json!(id);
    assert_eq!(got, &expected, "{example}");
    assert_eq!(serde_json::to_string(got).unwrap(), serde_json::to_string(&expected).unwrap(), "field order");
}

fn basic(user: &str, pass: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}")))
}

fn by_path<'a>(reqs: &'a [Recorded], path: &str) -> Vec<&'a Recorded> {
    reqs.iter().filter(|r| r.path == path).collect()
}

fn assert_error_shape(s: u16, v: &Value, what: &str) {
    assert!((400..500).contains(&s), "{what}: expected a 4xx, got {s}: {v}");
    assert!(v["error"].is_string() && v["detail"].is_string(), "{what}: {{error, detail}} expected: {v}");
}

// ---------------------------------------------------------------------------------------------
// tests

#[test]
fn iso_formats_like_the_seed() {
    assert_eq!(iso(SEED_T0), "2024-10-16T15:47:15Z");
    assert_eq!(iso(1_709_164_800_000), "2024-02-29T00:00:00Z");
    assert_eq!(iso(0), "1970-01-01T00:00:00Z");
}

/// Every notification kind over webhooks (no-auth and Basic variants), each connection
/// receiving only its own kind, with the seed's envelope field for field and `{id}` headers
/// unique per request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_over_webhook_is_the_seed_envelope() {
    let mut rh = start().await;
    // clientName defaults to the tenant's name.
    rh.key = rh.new_tenant("Mindful Product Team").await;
    set_clock(&rh, SEED_T0).await;
    let rx = Receiver::start().await;
    seed_call_target(&rh).await;
    let none = json!({"type": "none"});
    let basic_auth = json!({"type": "basic", "username": "ringhook", "password": "s3cret-pass"});
    let headers = "X-Request-Id={id}\nX-Source=ringhook-e2e";
    for (kind, auth) in [
        ("confirmation", &none),
        ("reminder", &basic_auth),
        ("asap_reminder", &basic_auth),
        ("final_attempt", &basic_auth),
        ("success", &none),
        ("chose_messaging", &none),
    ] {
        webhook(&rh, kind, &format!("{}/{kind}", rx.url), auth.clone(), headers).await;
    }

    // Registration (the sample: registered 15:47:15, scheduled 16:15:06): the confirmation.
    let mut reg = sample("callbacks/payloads/callback.registered.scheduled.json");
    reg["id"] = json!("evt-seed-reg");
    rh.send_event(&reg).await;
    let got = rx.wait_for(1, WAIT).await;
    assert_eq!(got[0].path, "/confirmation");
    assert_seed_envelope(&got[0].json(), "confirmation", "2024-10-16T15:47:15Z");
    assert_eq!(got[0].header("authorization"), None, "the no-auth variant sends no credentials");
    assert_eq!(got[0].header("content-type"), Some("application/json"));
    assert_eq!(got[0].header("x-source"), Some("ringhook-e2e"));
    // The same event again: a duplicate, nothing more is sent.
    let (s, v) = rh.post("/v1/events", &reg).await;
    assert_eq!((s, v["events"][0]["duplicate"].as_bool()), (202, Some(true)), "{v}");
    let cb = registered(&rh, "cb-20241016-0001", "evt-seed-reg").await;
    assert_eq!(cb["state"], "pending");
    assert_eq!(cb["reminders"][0]["dueAt"], "2024-10-16T16:00:06Z");
    assert_eq!(cb["reminders"][0]["kind"], "reminder");

    // One second before the reminder: nothing. At 16:00:06: the reminder, as in the seed.
    advance_to(&rh, SEED_T0 + 12 * M + 50 * S).await;
    rx.expect_no_more_than(1, SETTLE).await;
    advance_to(&rh, SEED_T0 + 12 * M + 51 * S).await;
    let got = rx.wait_for(2, WAIT).await;
    assert_eq!(got[1].path, "/reminder");
    assert_seed_envelope(&got[1].json(), "reminder", "2024-10-16T16:00:06Z");
    assert_eq!(got[1].header("authorization"), Some(basic("ringhook", "s3cret-pass").as_str()));

    // Finalized Abandoned: the final attempt.
    let mut fin = sample("callbacks/payloads/callback.finalized.abandoned.json");
    fin["id"] = json!("evt-seed-fin");
    rh.send_event(&fin).await;
    let got = rx.wait_for(3, WAIT).await;
    assert_eq!(got[2].path, "/final_attempt");
    assert_seed_envelope(&got[2].json(), "final-attempt", "2024-10-16T16:00:06Z");
    assert_eq!(got[2].header("authorization"), Some(basic("ringhook", "s3cret-pass").as_str()));

    // A second callback, finalized Success (its confirmation comes first).
    let t = now(&rh).await;
    register_scheduled(&rh, "cb-2", CUSTOMER, t, t + 10 * M).await;
    rx.wait_for(4, WAIT).await;
    let mut fin = sample("callbacks/payloads/callback.finalized.success.json");
    fin["payload"]["callbackId"] = json!("cb-2");
    rh.send_event(&fin).await;
    let got = rx.wait_for(5, WAIT).await;
    assert_eq!(got[4].path, "/success");
    assert_seed_envelope(&got[4].json(), "success", &iso(t));

    // The customer chooses messaging (no callback registered: call target and number given).
    // (without clientName in the event: the tenant's name)
    let mut chose = sample("callbacks/payloads/callback.chose_messaging.json");
    chose["payload"].as_object_mut().unwrap().remove("clientName");
    rh.send_event(&chose).await;
    let got = rx.wait_for(6, WAIT).await;
    assert_eq!(got[5].path, "/chose_messaging");
    assert_seed_envelope(&got[5].json(), "chose-messaging", &iso(t));

    // Each connection got only its own kind; nothing for the ASAP reminder (no ASAP callback).
    rx.expect_no_more_than(6, SETTLE).await;
    let reqs = rx.requests();
    let types: HashMap<&str, &str> = HashMap::from([
        ("/confirmation", "confirmation"),
        ("/reminder", "reminder"),
        ("/final_attempt", "final attempt"),
        ("/success", "success"),
        ("/chose_messaging", "chose messaging"),
    ]);
    for r in &reqs {
        assert_eq!(r.json()["data"]["notification"]["type"], json!(types[r.path.as_str()]), "{}", r.path);
    }
    assert_eq!(by_path(&reqs, "/confirmation").len(), 2);
    assert!(by_path(&reqs, "/asap_reminder").is_empty());
    // `{id}` headers: a fresh UUID on every request; data.id unique per notification.
    let ids: HashSet<&str> = reqs.iter().map(|r| r.header("x-request-id").unwrap()).collect();
    assert_eq!(ids.len(), reqs.len());
    assert!(ids.iter().all(|i| is_uuid(i)));
    let data_ids: HashSet<String> = reqs.iter().map(|r| r.json()["data"]["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(data_ids.len(), reqs.len());
    // The callback record after all that.
    let cb = callback_when(&rh, "cb-20241016-0001", |v| v["state"] == "finalized").await;
    assert_eq!(cb["outcome"], "Abandoned");
    assert_eq!(cb["reminders"][0]["status"], "sent");
}

/// Scheduled reminder: only when scheduled MORE than 15 min after registration, sent 15 min
/// before the scheduled time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_reminder_boundaries() {
    let rh = start().await;
    let rx = Receiver::start().await;
    seed_call_target(&rh).await;
    webhook(&rh, "confirmation", &format!("{}/confirmation", rx.url), json!(null), "").await;
    webhook(&rh, "reminder", &format!("{}/reminder", rx.url), json!(null), "").await;
    let t0 = now(&rh).await;
    let exact = register_scheduled(&rh, "exactly-15", "+13305550001", t0, t0 + 15 * M).await;
    let more = register_scheduled(&rh, "15-and-1s", "+13305550002", t0, t0 + 15 * M + S).await;
    rx.wait_for(2, WAIT).await;
    let a = registered(&rh, "exactly-15", &exact).await;
    let b = registered(&rh, "15-and-1s", &more).await;
    assert_eq!(a["reminders"], json!([]), "exactly 15 minutes ahead: no reminder");
    assert_eq!(b["reminders"][0]["dueAt"], json!(iso(t0 + S)), "15 min + 1 s ahead: reminder 15 min before");
    assert_eq!(b["reminders"][0]["status"], "scheduled");

    rh.tick().await;
    rx.expect_no_more_than(2, SETTLE).await;
    rh.advance(1).await;
    let got = rx.wait_for(3, WAIT).await;
    assert_eq!(got[2].path, "/reminder");
    let n = got[2].json();
    assert_eq!(n["data"]["notification"]["toAddress"], "+13305550002");
    assert_eq!(
        n["data"]["notification"]["message"],
        "Just a reminder that we will be calling you back shortly. Thank you."
    );
    assert_eq!(n["data"]["time"], json!(iso(t0 + S)));
    // Past both callback times: nothing else.
    advance_to(&rh, t0 + 20 * M).await;
    rx.expect_no_more_than(3, SETTLE).await;
    let b = callback_when(&rh, "15-and-1s", |v| v["reminders"][0]["status"] == "sent").await;
    assert_eq!(b["reminders"][0]["deliveryIds"].as_array().unwrap().len(), 1);
}

/// ASAP reminder: only when the call target enables it and the expected wait is more than 20
/// and less than 60 minutes; sent 10 minutes before the expected callback time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asap_reminder_boundaries() {
    let rh = start().await;
    let rx = Receiver::start().await;
    seed_call_target(&rh).await;
    // A second call target without the ASAP switch.
    let mut plain = sample("callbacks/config/call-target.json");
    plain["id"] = json!("7000");
    plain["metadata"] = json!([]);
    let (s, v) = rh.post("/v1/call-targets", &plain).await;
    assert_eq!(s, 201, "{v}");
    webhook(&rh, "confirmation", &format!("{}/confirmation", rx.url), json!(null), "").await;
    webhook(&rh, "asap_reminder", &format!("{}/asap", rx.url), json!(null), "").await;
    let t0 = now(&rh).await;
    let cases = [
        ("wait-20m", "6281", 20 * M, None),
        ("wait-20m1s", "6281", 20 * M + S, Some(10 * M + S)),
        ("wait-59m", "6281", 59 * M, Some(49 * M)),
        ("wait-60m", "6281", 60 * M, None),
        ("wait-30m-not-enabled", "7000", 30 * M, None),
    ];
    for (cb, target, wait, _) in &cases {
        register_asap(&rh, cb, target, t0, t0 + wait).await;
    }
    rx.wait_for(cases.len(), WAIT).await;
    for (cb, _, _, due) in &cases {
        let v = registered(&rh, cb, &format!("evt-reg-{cb}")).await;
        match due {
            Some(d) => {
                assert_eq!(v["reminders"][0]["dueAt"], json!(iso(t0 + d)), "{cb}");
                assert_eq!(v["reminders"][0]["kind"], "asap_reminder", "{cb}");
            }
            None => assert_eq!(v["reminders"], json!([]), "{cb}"),
        }
    }
    let asap = |rx: &Receiver| rx.requests().into_iter().filter(|r| r.path == "/asap").collect::<Vec<_>>();

    advance_to(&rh, t0 + 10 * M).await;
    rx.expect_no_more_than(cases.len(), SETTLE).await;
    advance_to(&rh, t0 + 10 * M + S).await;
    rx.wait_for(cases.len() + 1, WAIT).await;
    let first = asap(&rx);
    assert_eq!(first.len(), 1);
    let n = first[0].json();
    // The ASAP reminder is a reminder in the envelope; its text is the metadata item's.
    assert_eq!(n["data"]["notification"]["type"], "reminder");
    assert_eq!(n["data"]["event"], "Reminder Notification");
    assert_eq!(n["data"]["webhookName"], "External Notification - ASAP Reminder");
    assert_eq!(
        n["data"]["notification"]["message"],
        json!(format!("Sales will call you back in about 10 minutes, around {}.", iso(t0 + 20 * M + S)))
    );
    advance_to(&rh, t0 + 49 * M).await;
    rx.wait_for(cases.len() + 2, WAIT).await;
    advance_to(&rh, t0 + 2 * 60 * M).await;
    rx.expect_no_more_than(cases.len() + 2, SETTLE).await;
    let all = asap(&rx);
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].json()["data"]["time"], json!(iso(t0 + 49 * M)));
}

/// Reminder time reached with the callback pending: sent. Finalized, cancelled or in progress
/// before then: dropped, never sent. A registration that arrives after the cancellation sends
/// no confirmation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_and_confirmations_need_a_pending_callback() {
    let rh = start().await;
    let rx = Receiver::start().await;
    seed_call_target(&rh).await;
    webhook(&rh, "confirmation", &format!("{}/confirmation", rx.url), json!(null), "").await;
    webhook(&rh, "reminder", &format!("{}/reminder", rx.url), json!(null), "").await;
    let t0 = now(&rh).await;
    let cbs = [
        ("pending", "+13305550010"),
        ("finalized", "+13305550011"),
        ("cancelled", "+13305550012"),
        ("in-progress", "+13305550013"),
    ];
    for (cb, customer) in cbs {
        let evt = register_scheduled(&rh, cb, customer, t0, t0 + 30 * M).await;
        registered(&rh, cb, &evt).await;
    }
    rx.wait_for(4, WAIT).await;
    finalize(&rh, "finalized", "Success").await;
    event(&rh, "evt-cancel", "callback.cancelled", json!({"callbackId": "cancelled", "reason": "@cancel"})).await;
    event(&rh, "evt-progress", "callback.in_progress", json!({"callbackId": "in-progress"})).await;
    let f = callback_when(&rh, "finalized", |v| v["reminders"][0]["status"] == "dropped").await;
    assert_eq!(f["reminders"][0]["reason"], "the callback was finalized");
    let c = callback_when(&rh, "cancelled", |v| v["reminders"][0]["status"] == "dropped").await;
    assert_eq!(c["state"], "cancelled");
    assert_eq!(c["history"][1]["reason"], "@cancel");
    callback_when(&rh, "in-progress", |v| v["state"] == "in_progress" && v["reminders"][0]["status"] == "dropped")
        .await;

    advance_to(&rh, t0 + 15 * M).await;
    let got = rx.wait_for(5, WAIT).await;
    rx.expect_no_more_than(5, SETTLE).await;
    let reminders = by_path(&got, "/reminder");
    assert_eq!(reminders.len(), 1);
    assert_eq!(reminders[0].json()["data"]["notification"]["toAddress"], "+13305550010");

    // Cancelled before its registration is seen (events can arrive in any order): the
    // registration finds it not pending — no confirmation, no reminder.
    event(&rh, "evt-early-cancel", "callback.cancelled", json!({"callbackId": "late-reg"})).await;
    callback_when(&rh, "late-reg", |v| v["state"] == "cancelled").await;
    let t = now(&rh).await;
    let evt = register_scheduled(&rh, "late-reg", "+13305550014", t, t + 60 * M).await;
    let v = registered(&rh, "late-reg", &evt).await;
    assert_eq!(v["state"], "cancelled");
    assert_eq!(v["reminders"], json!([]));
    rx.expect_no_more_than(5, SETTLE).await;
}

/// The pending check happens again when the confirmation is actually sent: a confirmation
/// whose first attempt failed is not retried once the callback was cancelled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_of_a_confirmation_is_cancelled_when_the_callback_left_pending() {
    let rh = start().await;
    let rx = Receiver::start().await;
    rx.script([Reply::status(500)]);
    seed_call_target(&rh).await;
    webhook(&rh, "confirmation", &rx.url, json!(null), "").await;
    let t0 = now(&rh).await;
    let evt = register_scheduled(&rh, "cb-retry", CUSTOMER, t0, t0 + 60 * M).await;
    rx.wait_for(1, WAIT).await;
    event(&rh, "evt-cancel-retry", "callback.cancelled", json!({"callbackId": "cb-retry"})).await;
    callback_when(&rh, "cb-retry", |v| v["state"] == "cancelled").await;
    rh.advance(60).await;
    let ds = rh.wait_deliveries(&format!("eventId={evt}&status=failed"), 1, WAIT).await;
    let d = settled(&rh, ds[0]["id"].as_str().unwrap()).await;
    assert_eq!(d["attemptCount"], 2);
    let err = d["attempts"][1]["error"].as_str().unwrap();
    assert!(err.contains("no longer pending") && err.contains("cancelled"), "{err}");
    rx.expect_no_more_than(1, SETTLE).await;
}

/// A send error (nothing listening) is retried once, immediately, to the same endpoint:
/// exactly two attempts, with no clock movement in between.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_error_is_retried_once_immediately() {
    let rh = start().await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    seed_call_target(&rh).await;
    let url = format!("http://127.0.0.1:{port}/hook");
    webhook(&rh, "confirmation", &url, json!(null), "").await;
    let t0 = now(&rh).await;
    let evt = register_scheduled(&rh, "cb-refused", CUSTOMER, t0, t0 + 60 * M).await;
    let ds = rh.wait_deliveries(&format!("eventId={evt}&status=failed"), 1, WAIT).await;
    let d = rh.delivery(ds[0]["id"].as_str().unwrap()).await;
    assert_eq!(d["attemptCount"], 2, "{d:#}");
    let attempts = d["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    for a in attempts {
        assert_eq!(a["request"]["url"], json!(url), "the same endpoint");
        assert!(a["response"].is_null());
        assert!(a["error"].as_str().unwrap().to_lowercase().contains("connect"), "{a}");
        assert_eq!(a["startedAtMs"], json!(t0), "immediately: the clock never moved");
    }
    assert_eq!(d["retryPolicy"], "single-retry");
    // Nothing more, however long we wait.
    rh.advance(3600).await;
    tokio::time::sleep(SETTLE).await;
    assert_eq!(rh.delivery(ds[0]["id"].as_str().unwrap()).await["attemptCount"], 2);
}

/// A processing error (a non-2xx answer) is retried once, after the delay (60 s): exactly two
/// attempts; a success on the retry ends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processing_error_is_retried_once_after_the_delay() {
    let rh = start().await;
    let rx = Receiver::start().await;
    rx.script([Reply::status(500), Reply::status(500), Reply::status(503), Reply::status(200)]);
    seed_call_target(&rh).await;
    webhook(&rh, "confirmation", &rx.url, json!(null), "").await;
    let t0 = now(&rh).await;
    let evt = register_scheduled(&rh, "cb-500", CUSTOMER, t0, t0 + 60 * M).await;
    rx.wait_for(1, WAIT).await;
    let id = rh.wait_deliveries(&format!("eventId={evt}"), 1, WAIT).await[0]["id"].as_str().unwrap().to_string();
    let d = rh.delivery(&id).await;
    assert_eq!((d["status"].as_str(), d["attemptCount"].as_i64()), (Some("pending"), Some(1)), "{d:#}");
    assert_eq!(d["nextAttemptAtMs"], json!(t0 + 60 * S));
    rh.advance(59).await;
    rx.expect_no_more_than(1, SETTLE).await;
    rh.advance(1).await;
    rx.wait_for(2, WAIT).await;
    let d = settled(&rh, &id).await;
    assert_eq!(d["status"], "failed");
    assert_eq!(d["attemptCount"], 2);
    let statuses: Vec<i64> =
        d["attempts"].as_array().unwrap().iter().map(|a| a["response"]["status"].as_i64().unwrap()).collect();
    assert_eq!(statuses, vec![500, 500]);
    assert_eq!(d["attempts"][1]["startedAtMs"], json!(t0 + 60 * S));
    rh.advance(3600).await;
    rx.expect_no_more_than(2, SETTLE).await;

    // 503 then 200: delivered on the retry.
    let t1 = now(&rh).await;
    let evt = register_scheduled(&rh, "cb-503", CUSTOMER, t1, t1 + 60 * M).await;
    rx.wait_for(3, WAIT).await;
    let id = rh.wait_deliveries(&format!("eventId={evt}"), 1, WAIT).await[0]["id"].as_str().unwrap().to_string();
    rh.advance(60).await;
    rx.wait_for(4, WAIT).await;
    let d = settled(&rh, &id).await;
    assert_eq!((d["status"].as_str(), d["attemptCount"].as_i64()), (Some("succeeded"), Some(2)));
}

/// Two scheduler runs at once (plus the runner's own tick) over the same due reminders: each
/// reminder is sent exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_scheduler_runs_send_each_reminder_once() {
    let rh = start().await;
    let confirmations = Receiver::start().await;
    let rx = Receiver::start().await;
    seed_call_target(&rh).await;
    webhook(&rh, "confirmation", &confirmations.url, json!(null), "").await;
    webhook(&rh, "reminder", &rx.url, json!(null), "").await;
    const N: usize = 25;
    let t0 = now(&rh).await;
    let events: Vec<Value> = (0..N)
        .map(|i| {
            json!({"id": format!("evt-many-{i}"), "type": "callback.registered", "payload": {
                "callbackId": format!("many-{i}"), "callTargetId": "6281", "customerNumber": format!("+1330555{i:04}"),
                "type": "scheduled", "registeredAt": iso(t0), "scheduledTime": iso(t0 + 30 * M)}})
        })
        .collect();
    let (s, v) = rh.post("/v1/events", &json!({"events": events})).await;
    assert_eq!(s, 202, "{v}");
    confirmations.wait_for(N, WAIT).await;
    for i in 0..N {
        registered(&rh, &format!("many-{i}"), &format!("evt-many-{i}")).await;
    }
    set_clock(&rh, t0 + 15 * M).await;
    tokio::join!(rh.tick(), rh.tick(), rh.tick());
    rx.wait_for(N, WAIT).await;
    rh.tick().await;
    rx.expect_no_more_than(N, Duration::from_millis(1500)).await;
    let to: HashSet<String> = rx
        .requests()
        .iter()
        .map(|r| r.json()["data"]["notification"]["toAddress"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(to.len(), N, "each callback reminded once");
    assert_eq!(deliveries_of(&rh, "reminder").await.len(), N);
}

/// SMS through a Twilio-compatible server: path, Basic auth with the account's SID and token,
/// To / From (the call target's handle) / Body / StatusCallback; signed status callbacks are
/// recorded on the attempt; Twilio errors follow the seed's retry rules.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_sms_and_status_callbacks() {
    let tw = TwilioServer::start(&[(SID, TOKEN)]).await;
    let rh = start_with_twilio(&tw).await;
    set_clock(&rh, SEED_T0).await;
    seed_call_target(&rh).await;
    let conf = twilio_conn(&rh, "confirmation", TOKEN).await;
    twilio_conn(&rh, "reminder", TOKEN).await;
    twilio_conn(&rh, "final_attempt", TOKEN).await;
    twilio_conn(&rh, "chose_messaging", TOKEN).await;

    // The token is write-only.
    let (s, v) = rh.get(&format!("/v1/connections/{conf}")).await;
    assert_eq!(s, 200);
    assert_eq!(v["channel"], "twilio");
    assert_eq!(v["accountSid"], SID);
    assert_ne!(v["authToken"], TOKEN);
    assert!(v["authToken"].as_str().unwrap().starts_with("****"));
    let (_, list) = rh.get("/v1/connections").await;
    assert!(!list.to_string().contains(TOKEN));
    // The read sent back as it is (its masked token included) keeps the real token: the
    // confirmation below is accepted by Twilio with it. A masked value that is not this
    // token's is refused rather than stored as the token.
    let (s, back) = rh.put(&format!("/v1/connections/{conf}"), &v).await;
    assert_eq!((s, &back["authToken"]), (200, &v["authToken"]), "{back}");
    let mut foreign = v.clone();
    foreign["authToken"] = json!("****0000");
    let (s, e) = rh.put(&format!("/v1/connections/{conf}"), &foreign).await;
    assert_eq!(s, 422, "{e}");
    assert!(e["detail"].as_str().unwrap().starts_with("authToken:"), "{e}");

    let evt = rh.send_event(&sample("callbacks/payloads/callback.registered.scheduled.json")).await;
    let m = tw.wait_for(1, WAIT).await.remove(0);
    assert_eq!(m.account_sid, SID);
    assert_eq!((m.to.as_str(), m.from.as_str()), (CUSTOMER, HANDLE));
    assert_eq!(m.body, sample("callbacks/notifications/confirmation.json")["data"]["notification"]["message"]);
    let cb_url = m.status_callback.clone().unwrap();
    assert!(cb_url.starts_with(&format!("{}/v1/twilio/status?", rh.base)), "{cb_url}");
    let req = &tw.requests()[0];
    assert_eq!(req.path, format!("/2010-04-01/Accounts/{SID}/Messages.json"));
    assert_eq!(req.content_type.as_deref(), Some("application/x-www-form-urlencoded"));
    assert_eq!(req.authorization.as_deref(), Some(basic(SID, TOKEN).as_str()));
    assert_eq!(req.status, 201);
    let keys: Vec<&str> = m.params.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["To", "From", "Body", "StatusCallback"]);

    // The delivery log shows Twilio's answer (sid, queued) without the credentials.
    let id = rh.wait_deliveries(&format!("eventId={evt}&status=succeeded"), 1, WAIT).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let d = rh.delivery(&id).await;
    assert_eq!(d["attempts"][0]["response"]["status"], 201);
    assert!(d["attempts"][0]["response"]["body"].as_str().unwrap().contains(&m.sid));
    let log = d.to_string();
    assert!(!log.contains(TOKEN) && !log.contains(&basic(SID, TOKEN)[6..]), "credentials in the log: {log}");

    // Status callbacks, signed like Twilio: recorded on the attempt; out of order keeps the
    // furthest status.
    assert_eq!(tw.send_status(&m, "sent", None).await.0, 204);
    assert_eq!(tw.send_status(&m, "delivered", None).await.0, 204);
    assert_eq!(tw.send_status(&m, "sent", None).await.0, 204);
    let d = rh.delivery(&id).await;
    assert_eq!(d["attempts"][0]["sms"]["status"], "delivered", "{d:#}");
    assert_eq!(d["attempts"][0]["sms"]["messageSid"], json!(m.sid));
    assert_eq!(d["attempts"][0]["sms"]["history"].as_array().unwrap().len(), 2);
    assert_eq!(d["smsStatus"], "delivered");
    // Unsigned, badly signed, signed with another token, or tampered: 403 and nothing recorded.
    let params = tw.status_params(&m, "failed", Some("30003"));
    let (s, body) = tw.post_signed(&cb_url, &params, None).await;
    assert_eq!(s, 403, "{body}");
    let (s, _) = tw.post_signed(&cb_url, &params, Some("bm90IGEgc2lnbmF0dXJl")).await;
    assert_eq!(s, 403);
    let (s, _) = tw.post_signed(&cb_url, &params, Some(&signature("0000", &cb_url, &params))).await;
    assert_eq!(s, 403);
    let tampered = cb_url.replace("attempt=1", "attempt=2");
    let (s, _) = tw.post_signed(&tampered, &params, Some(&signature(TOKEN, &cb_url, &params))).await;
    assert_eq!(s, 403);
    let v: Value = serde_json::from_str(&tw.post_signed(&cb_url, &params, None).await.1).unwrap();
    assert_error_shape(403, &v, "unsigned status callback");
    assert_eq!(rh.delivery(&id).await["attempts"][0]["sms"]["status"], "delivered");

    // The reminder at 16:00:06.
    advance_to(&rh, SEED_T0 + 12 * M + 51 * S).await;
    let m2 = tw.wait_for(2, WAIT).await.remove(1);
    assert_eq!(m2.body, "Just a reminder that we will be calling you back shortly. Thank you.");
    assert_eq!(m2.from, HANDLE);

    // Twilio answers 500 to the final attempt: retried once after 60 s, then accepted.
    tw.fail_next([500]);
    rh.send_event(&sample("callbacks/payloads/callback.finalized.abandoned.json")).await;
    tw.wait_requests(3, WAIT).await;
    assert_eq!(tw.messages().len(), 2);
    rh.advance(60).await;
    let m3 = tw.wait_for(3, WAIT).await.remove(2);
    assert!(m3.body.starts_with("We were unable to call you back successfully."));
    let fin = deliveries_of(&rh, "final_attempt").await;
    let d = settled(&rh, fin[0]["id"].as_str().unwrap()).await;
    assert_eq!((d["status"].as_str(), d["attemptCount"].as_i64()), (Some("succeeded"), Some(2)));
    assert_eq!(d["attempts"][0]["response"]["status"], 500);
    // Each attempt has its own StatusCallback (attempt=2 here).
    assert!(m3.status_callback.as_deref().unwrap().contains("attempt=2"));

    // A connection with the wrong auth token: Twilio's 401, retried once after the delay.
    let bad = twilio_conn(&rh, "success", "wrong-token-wrong-token").await;
    let t = now(&rh).await;
    register_scheduled(&rh, "cb-sms-2", CUSTOMER, t, t + 10 * M).await;
    tw.wait_for(4, WAIT).await;
    finalize(&rh, "cb-sms-2", "Success").await;
    let before = tw.requests().len();
    tw.wait_requests(before + 1, WAIT).await;
    rh.advance(60).await;
    tw.wait_requests(before + 2, WAIT).await;
    let ds = deliveries_of(&rh, "success").await;
    let d = settled(&rh, ds[0]["id"].as_str().unwrap()).await;
    // Sent through the connection's SMS sender; the connection is named in the context.
    assert_eq!(d["target"]["kind"], "sms");
    assert_eq!(d["context"]["connectionId"], json!(bad), "{d}");
    assert_eq!((d["status"].as_str(), d["attemptCount"].as_i64()), (Some("failed"), Some(2)));
    for a in d["attempts"].as_array().unwrap() {
        assert_eq!(a["response"]["status"], 401);
        assert!(a["response"]["body"].as_str().unwrap().contains("20003"));
    }

    // Chose messaging.
    rh.send_event(&sample("callbacks/payloads/callback.chose_messaging.json")).await;
    let m5 = tw.wait_for(5, WAIT).await.remove(4);
    assert_eq!(m5.body, "Thank you for calling in - you can text us at any time.");
}

/// Bad input gets a 4xx with `{"error", "detail"}`; secrets are write-only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_and_write_only_secrets() {
    let rh = start().await;
    let rx = Receiver::start().await;
    seed_call_target(&rh).await;
    let ct = sample("callbacks/config/call-target.json");
    let with = |base: &Value, k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let mut bad_targets = vec![
        (json!([]), "not an object"),
        (with(&ct, "name", json!("")), "empty name"),
        (with(&ct, "handle", json!("call me")), "bad handle"),
        (with(&ct, "messages", json!({"confirmation": "Hi {customerNumbr}"})), "unknown placeholder"),
        (with(&ct, "messages", json!({"welcome": "Hi"})), "unknown message kind"),
        (
            with(&ct, "metadata", json!([{"key": "asap_reminder_notification_enabled", "value": "true"}])),
            "ASAP without text",
        ),
        (
            with(
                &ct,
                "metadata",
                json!([{"key": "asap_reminder_notification_enabled", "value": "maybe"}, {"key": "asap_reminder_notification_text", "value": "x"}]),
            ),
            "ASAP not a boolean",
        ),
        (with(&ct, "replacements", json!({"handle": "x"})), "replacing a built-in"),
        (with(&ct, "colour", json!("red")), "unknown field"),
    ];
    bad_targets.push((with(&ct, "id", json!("6281")), "duplicate id"));
    for (body, what) in &bad_targets {
        let (s, v) = rh.post("/v1/call-targets", body).await;
        assert_error_shape(s, &v, what);
    }
    let (s, v) = rh.post_raw("/v1/call-targets", "{\"name\": ", &[]).await;
    assert_error_shape(s, &v, "malformed JSON");
    let (s, v) = rh.get("/v1/call-targets/nope").await;
    assert_eq!(s, 404);
    assert_error_shape(s, &v, "unknown call target");
    let (s, v) = rh.get("/v1/call-targets").await;
    assert_eq!(s, 200);
    assert_eq!(v["callTargets"][0]["id"], "6281");
    assert!(v["placeholders"]["{callTargetName}"].is_string());
    // A call target's read goes back as it is (asapReminderEnabled and the times included).
    let (s, read) = rh.get("/v1/call-targets/6281").await;
    assert_eq!(s, 200);
    let (s, back) = rh.put("/v1/call-targets/6281", &read).await;
    assert_eq!((s, &back["messages"], &back["createdAt"]), (200, &read["messages"], &read["createdAt"]), "{back}");

    let hook = json!({"kind": "confirmation", "channel": "webhook", "url": rx.url});
    let tw = json!({"kind": "reminder", "channel": "twilio", "accountSid": SID, "authToken": TOKEN});
    for (body, what) in [
        (with(&hook, "kind", json!("birthday")), "unknown kind"),
        (with(&hook, "channel", json!("fax")), "unknown channel"),
        (with(&hook, "url", json!("ftp://x")), "bad url"),
        (with(&hook, "auth", json!({"type": "basic", "username": "u"})), "basic without password"),
        (with(&hook, "auth", json!({"type": "digest"})), "unknown auth"),
        (with(&hook, "headers", json!("no equals sign")), "bad header line"),
        (with(&hook, "accountSid", json!(SID)), "twilio field on a webhook"),
        (with(&tw, "accountSid", json!("AC123")), "bad account sid"),
        (with(&tw, "authToken", json!("")), "empty token"),
        (with(&tw, "url", json!(rx.url)), "webhook field on twilio"),
    ] {
        let (s, v) = rh.post("/v1/connections", &body).await;
        assert_error_shape(s, &v, what);
    }
    for (payload, what) in [
        (
            json!({"callbackId": "x", "callTargetId": "6281", "customerNumber": CUSTOMER, "type": "scheduled"}),
            "no scheduledTime",
        ),
        (
            json!({"callbackId": "x", "callTargetId": "6281", "customerNumber": CUSTOMER, "type": "asap"}),
            "no expected time",
        ),
        (json!({"callbackId": "x", "callTargetId": "6281", "type": "asap", "expectedWaitSeconds": 60}), "no customer"),
        (json!({"callbackId": "x", "callTargetId": "6281", "customerNumber": CUSTOMER, "type": "soon"}), "bad type"),
    ] {
        let (s, v) = rh.post("/v1/events", &json!({"type": "callback.registered", "payload": payload})).await;
        assert_eq!(s, 422, "{what}: {v}");
        assert_error_shape(s, &v, what);
        assert!(v["detail"].as_str().unwrap().starts_with("event.payload."), "{v}");
    }
    let (s, v) = rh
        .post("/v1/events", &json!({"type": "callback.finalized", "payload": {"callbackId": "x", "outcome": "Busy"}}))
        .await;
    assert_error_shape(s, &v, "bad outcome");
    assert!(v["detail"].as_str().unwrap().contains("Abandoned"));
    let (s, v) = rh.get("/v1/callbacks/never-seen").await;
    assert_eq!(s, 404);
    assert_error_shape(s, &v, "unknown callback");
    let (s, v) = rh.post_raw("/v1/twilio/status?tenant=t&connection=c&delivery=d&attempt=1", "{}", &[]).await;
    assert_error_shape(s, &v, "status callback that is not a form");

    // Write-only secrets: the password and a credential header are masked on every read; a
    // replace that sends the mask back keeps them.
    let id = connection(
        &rh,
        json!({"kind": "confirmation", "channel": "webhook", "url": rx.url, "headers": "X-Api-Key=key-0123456789\nX-Request-Id={id}",
               "auth": {"type": "basic", "username": "ringhook", "password": "pa55word-secret"}}),
    )
    .await;
    let (_, v) = rh.get(&format!("/v1/connections/{id}")).await;
    let shown = v.to_string();
    assert!(!shown.contains("pa55word-secret") && !shown.contains("key-0123456789"), "{shown}");
    assert_eq!(v["auth"]["password"], "****");
    // The read goes back as it is, its own fields (id, createdAt, updatedAt) included.
    let mut back = v.clone();
    back["name"] = json!("Confirmations (renamed)");
    let (s, v) = rh.put(&format!("/v1/connections/{id}"), &back).await;
    assert_eq!(s, 200, "{v}");
    assert!(!v.to_string().contains("pa55word-secret"));
    let t0 = now(&rh).await;
    let evt = register_scheduled(&rh, "cb-secrets", CUSTOMER, t0, t0 + 60 * M).await;
    let got = rx.wait_for(1, WAIT).await;
    assert_eq!(got[0].header("authorization"), Some(basic("ringhook", "pa55word-secret").as_str()));
    assert_eq!(got[0].header("x-api-key"), Some("key-0123456789"));
    assert_eq!(got[0].json()["data"]["webhookName"], "Confirmations (renamed)");
    let d = rh.wait_deliveries(&format!("eventId={evt}&status=succeeded"), 1, WAIT).await;
    let log = rh.delivery(d[0]["id"].as_str().unwrap()).await.to_string();
    assert!(!log.contains("pa55word-secret") && !log.contains(&basic("ringhook", "pa55word-secret")[6..]), "{log}");

    // A disabled connection sends nothing; deleting works once.
    let (s, _) = rh.put(&format!("/v1/connections/{id}"), &with(&back, "enabled", json!(false))).await;
    assert_eq!(s, 200);
    register_scheduled(&rh, "cb-disabled", CUSTOMER, t0, t0 + 60 * M).await;
    registered(&rh, "cb-disabled", "evt-reg-cb-disabled").await;
    rx.expect_no_more_than(1, SETTLE).await;
    assert_eq!(rh.delete(&format!("/v1/connections/{id}")).await.0, 204);
    let (s, v) = rh.delete(&format!("/v1/connections/{id}")).await;
    assert_eq!(s, 404);
    assert_error_shape(s, &v, "deleted twice");
}

/// Connections bind a notification kind to a destination: a webhook of `/v1/webhooks` (its own
/// policy, accepted codes and signing secret apply) or an SMS sender of `/v1/sms-senders`, by
/// id; an inline definition creates the destination. A destination deleted since is refused
/// visibly in the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_send_to_destinations_bound_by_id() {
    let tw = TwilioServer::start(&[(SID, TOKEN)]).await;
    let rh = start_with_twilio(&tw).await;
    let rx = Receiver::start().await;
    rx.set_default(Reply::status(202));
    seed_call_target(&rh).await;

    let (s, w) = rh
        .post(
            "/v1/webhooks",
            &json!({"name": "crm", "url": format!("{}/crm", rx.url), "retryPolicy": "exponential", "successCodes": [202]}),
        )
        .await;
    assert_eq!(s, 201, "{w}");
    let wh = w["id"].as_str().unwrap().to_string();
    let conf = connection(&rh, json!({"kind": "confirmation", "webhookId": wh})).await;

    // One SMS sender, its token write-only.
    let (s, sender) = rh
        .post(
            "/v1/sms-senders",
            &json!({"name": "main", "accountSid": SID, "authToken": TOKEN, "from": "+15550001111"}),
        )
        .await;
    assert_eq!(s, 201, "{sender}");
    let sender_id = sender["id"].as_str().unwrap().to_string();
    assert_eq!(sender["authToken"], "****cdef");
    let (s, list) = rh.get("/v1/sms-senders").await;
    assert_eq!((s, list["smsSenders"][0]["id"].as_str()), (200, Some(sender_id.as_str())));
    assert!(!list.to_string().contains(TOKEN));
    connection(&rh, json!({"kind": "reminder", "smsSenderId": sender_id})).await;

    // A read shows the binding and the destination's fields.
    let (_, c) = rh.get(&format!("/v1/connections/{conf}")).await;
    assert_eq!((c["channel"].as_str(), c["webhookId"].as_str()), (Some("webhook"), Some(wh.as_str())));
    assert_eq!(c["url"], json!(format!("{}/crm", rx.url)));
    for (body, what) in [
        (json!({"kind": "success", "webhookId": "wh_nope"}), "unknown webhook"),
        (json!({"kind": "success", "smsSenderId": "sms_nope"}), "unknown SMS sender"),
        (json!({"kind": "success", "webhookId": wh, "accountSid": SID}), "twilio field on a webhook binding"),
        (json!({"kind": "success", "channel": "webhook"}), "no webhook at all"),
    ] {
        let (s, v) = rh.post("/v1/connections", &body).await;
        assert_eq!(s, 422, "{what}: {v}");
        assert_error_shape(s, &v, what);
    }
    for (body, what) in [
        (json!({"accountSid": "AC123", "authToken": "t"}), "bad account sid"),
        (json!({"accountSid": SID}), "no token"),
        (json!({"accountSid": SID, "authToken": "t", "region": "eu"}), "unknown field"),
    ] {
        let (s, v) = rh.post("/v1/sms-senders", &body).await;
        assert_eq!(s, 422, "{what}: {v}");
        assert_error_shape(s, &v, what);
    }

    // The confirmation goes to the bound webhook, signed with its secret, under its policy.
    let t0 = now(&rh).await;
    let evt = register_scheduled(&rh, "cb-bound", CUSTOMER, t0, t0 + 60 * M).await;
    let got = rx.wait_for(1, WAIT).await;
    assert_eq!(got[0].path, "/crm");
    assert_eq!(got[0].json()["data"]["notification"]["type"], "confirmation");
    assert!(got[0].header("webhook-signature").is_some_and(|s| s.starts_with("v1,")), "signed");
    let d = rh.wait_deliveries(&format!("eventId={evt}&status=succeeded"), 1, WAIT).await.remove(0);
    assert_eq!(d["target"], json!({"kind": "webhook", "webhookId": wh}));
    assert_eq!((d["retryPolicy"].as_str(), d["webhookId"].as_str()), (Some("exponential"), Some(wh.as_str())));
    assert_eq!(d["product"], "callbacks");

    // The reminder goes through the bound SMS sender; From is the call target's handle, and the
    // status callback names the sender whose token signs it.
    advance_to(&rh, t0 + 45 * M).await;
    let m = tw.wait_for(1, WAIT).await.remove(0);
    assert_eq!((m.account_sid.as_str(), m.from.as_str(), m.to.as_str()), (SID, HANDLE, CUSTOMER));
    assert!(m.status_callback.as_deref().unwrap().contains(&format!("sender={sender_id}")), "{m:?}");
    assert_eq!(tw.send_status(&m, "delivered", None).await.0, 204);

    // An inline connection's destination is a webhook like any other, with the seed's policy.
    let inline = webhook(&rh, "success", &format!("{}/inline", rx.url), json!(null), "").await;
    let (_, c) = rh.get(&format!("/v1/connections/{inline}")).await;
    let (s, w) = rh.get(&format!("/v1/webhooks/{}", c["webhookId"].as_str().unwrap())).await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(
        (w["retryPolicy"].as_str(), w["name"].as_str()),
        (Some("single-retry"), Some("External Notification - Success"))
    );

    // The sender deleted: the next reminder is refused, with the reason, in the log.
    assert_eq!(rh.delete(&format!("/v1/sms-senders/{sender_id}")).await.0, 204);
    let t1 = now(&rh).await;
    let evt2 = register_scheduled(&rh, "cb-bound-2", CUSTOMER, t1, t1 + 60 * M).await;
    rx.wait_for(2, WAIT).await;
    advance_to(&rh, t1 + 45 * M).await;
    let failed = rh.wait_deliveries(&format!("eventId={evt2}&status=failed"), 1, WAIT).await.remove(0);
    assert_eq!(failed["context"]["kind"], "reminder");
    let d = rh.delivery(failed["id"].as_str().unwrap()).await;
    let err = d["attempts"][0]["error"].as_str().unwrap();
    assert!(err.contains(&format!("SMS sender {sender_id} no longer exists")), "{err}");
    assert_eq!(tw.messages().len(), 1, "nothing more was sent");
}
