//! The AWS backend end to end: the runner with `--aws` against a local AWS emulator
//! (`moto_server`, started here; resources created from `infra/template.yaml`), and each Lambda
//! handler invoked in-process with the `events/aws/` envelopes.
//!
//! One test function: the emulator's endpoint is process environment, shared by everything.

use ringhook::aws::provision::{default_template_path, Template};
use ringhook::aws::{load_sdk_config, MotoServer};
use ringhook::ports::QueueName;
use ringhook_e2e::twilio::TwilioServer;
use ringhook_e2e::{bin, Options, Receiver, Reply, Ringhook, API_KEY};
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);
const SMS_SID: &str = "AC0123456789abcdef0123456789abcdef";
const SMS_TOKEN: &str = "9f8e7d6c5b4a39281706f5e4d3c2b1a0";

fn envelope(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/aws").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_backend_end_to_end_and_lambda_handlers() {
    let moto = MotoServer::start().unwrap_or_else(|e| {
        panic!("the local AWS emulator (moto_server) could not be started, so the AWS backend cannot be tested: {e:#}")
    });
    moto.export_env();
    let sdk = load_sdk_config().await;
    let settings = Template::load(default_template_path())
        .expect("infra/template.yaml")
        .provision(&sdk, "ringhook-e2e")
        .await
        .unwrap_or_else(|e| panic!("provisioning from the template failed: {e:#}\n{}", moto.log_tail()));
    let mut env: Vec<(String, String)> = moto.env_vars().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    env.extend(settings.env_vars().into_iter().map(|(k, v)| (k.to_string(), v)));
    for (k, v) in &env {
        std::env::set_var(k, v);
    }

    // 1. The walkthrough, on DynamoDB + SQS + EventBridge through the real SDK.
    let rh = Ringhook::start(
        bin!(),
        Options {
            extra_args: vec!["--aws".into(), "--delivery-workers".into(), "1".into()],
            env: env.clone(),
            ..Options::default()
        },
    )
    .await;
    let rx = Receiver::start().await;
    rx.script([Reply::status(500)]);
    let (s, w) = rh
        .post(
            "/v1/webhooks",
            &json!({"name": "echo", "url": format!("{}/agent-wrap", rx.url), "retryPolicy": "exponential"}),
        )
        .await;
    assert_eq!(s, 201, "{w}");
    let trigger = json!({"name": "Send Webhook on Agent Wrap", "eventType": "agent.wrap", "enabled": true,
        "conditions": [{"reference": "campaignId", "operator": "in", "value": "215,223"}],
        "actions": [{"action": "webhook", "parameters": {"webhookId": w["id"]}}]});
    rh.create_trigger(&trigger).await;
    let mut fires = ringhook_e2e::sample("triggers/payloads/agent.wrap.outbound-preview.json");
    fires["payload"]["campaignId"] = json!("215");
    rh.send_event(&fires).await;
    rh.send_event(&ringhook_e2e::sample("triggers/payloads/agent.wrap.outbound-preview.json")).await;
    // First answer 500, the retry 5 s later (a real SQS delay) 200.
    let got = rx.wait_for(2, WAIT).await;
    assert_eq!(got[1].json(), fires);
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
    let done = rh.wait_deliveries("status=succeeded", 1, WAIT).await;
    let full = rh.delivery(done[0]["id"].as_str().unwrap()).await;
    let statuses: Vec<i64> =
        full["attempts"].as_array().unwrap().iter().map(|a| a["response"]["status"].as_i64().unwrap()).collect();
    assert_eq!(statuses, vec![500, 200]);
    rx.expect_no_more_than(2, Duration::from_millis(500)).await;
    assert_eq!(rh.deliveries("").await.len(), 1, "campaign 20161 must not fire");

    // 2. The Lambda handlers, in-process, on the same resources.
    let app = ringhook::lambda::aws_app_from_env::<ringhook::product::stage::All>()
        .await
        .expect("the Lambda init builds the app from the environment");

    // HTTP (ingest / api): the API Gateway envelope through the functions' handler into their
    // routers; it answers exactly as the local API does.
    let api = ringhook::api::api_router(app.clone());
    let ingest = ringhook::api::ingest_router(app.clone());
    let get = envelope("apigw-http-get-triggers.json").replace("rk_lambda_sample_key", API_KEY);
    let resp = ringhook::lambda::handle_http(&api, serde_json::from_str(&get).expect("API Gateway v2 envelope")).await;
    assert_eq!(resp.status_code, 200);
    let Some(aws_lambda_events::encodings::Body::Text(text)) = &resp.body else { panic!("a text body: {resp:?}") };
    assert!(!resp.is_base64_encoded);
    assert_eq!(resp.headers.get("content-type").unwrap(), "application/json");
    let lambda_body: Value = serde_json::from_str(text).unwrap();
    let (s, local_body) = rh.get("/v1/triggers").await;
    assert_eq!(s, 200);
    assert_eq!(lambda_body, local_body);
    // What the api function is never sent answers as the local API answers it.
    let mut wrong = serde_json::from_str::<Value>(&get).unwrap();
    wrong["rawPath"] = json!("/v1/events");
    let resp = ringhook::lambda::handle_http(&api, serde_json::from_value(wrong).unwrap()).await;
    assert_eq!(resp.status_code, 405);

    let post = envelope("apigw-http-post-event.json").replace("rk_lambda_sample_key", API_KEY);
    let resp = ringhook::lambda::handle_http(&ingest, serde_json::from_str(&post).unwrap()).await;
    assert_eq!(resp.status_code, 202, "{resp:?}");
    rx.wait_for(3, WAIT).await; // the runner's consumers deliver what the Lambda ingested

    // SQS (evaluate): a batch with one poison message reports exactly that one.
    let tenant = ringhook::repo::tenants::tenant_for_key(app.store.as_ref(), API_KEY).await.unwrap().unwrap();
    let batch: aws_lambda_events::event::sqs::SqsEvent =
        serde_json::from_str(&envelope("sqs-events-batch-with-poison.json").replace("TENANT_ID", &tenant)).unwrap();
    let poison = batch.records[1].message_id.clone().unwrap();
    let resp = ringhook::lambda::handle_sqs(&app, QueueName::Events, batch).await;
    let failed: Vec<String> = resp.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
    assert_eq!(failed, vec![poison]);
    // The good message in campaign 215 was evaluated: one more delivery.
    rx.wait_for(4, WAIT).await;

    // SQS (deliver): a message that is not a delivery is reported, a stale one is not.
    let deliver_batch: aws_lambda_events::event::sqs::SqsEvent = serde_json::from_value(json!({"Records": [
        {"messageId": "m-bad", "body": "nope"},
        {"messageId": "m-stale", "body": json!({"t": tenant, "d": done[0]["id"], "n": 0}).to_string()}
    ]}))
    .unwrap();
    let resp = ringhook::lambda::handle_sqs(&app, QueueName::Deliveries, deliver_batch).await;
    let failed: Vec<&str> = resp.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(failed, vec!["m-bad"]);

    // EventBridge schedule (scheduler): runs a tick.
    let _scheduled: Value = serde_json::from_str(&envelope("eventbridge-scheduled.json")).unwrap();
    let report = ringhook::lambda::handle_schedule(&app).await.expect("scheduler tick on AWS");
    assert_eq!(report.deliveries_queued, 0, "nothing is due: {report:?}");
    drop(rh);

    // 3. Callback notifications on AWS: a confirmation now, a reminder from the due-time index
    // (DynamoDB's GSI) when the manual clock reaches it.
    // Fresh resources: the killed runner's SQS long-polls may still be open in the emulator, and
    // a poll whose client is gone still takes a message (hiding it for the visibility timeout,
    // as real SQS would).
    let fresh = Template::load(default_template_path()).unwrap().provision(&sdk, "ringhook-e2e-cb").await.unwrap();
    env.extend(fresh.env_vars().into_iter().map(|(k, v)| (k.to_string(), v)));
    // A Twilio-compatible server for the SMS of part 5.
    let tw = TwilioServer::start(&[(SMS_SID, SMS_TOKEN)]).await;
    let mut opts = Options::manual_clock();
    opts.extra_args =
        vec!["--aws".into(), "--delivery-workers".into(), "1".into(), "--twilio-base-url".into(), tw.url.clone()];
    opts.env = env;
    let rh = Ringhook::start(bin!(), opts).await;
    let rx = Receiver::start().await;
    let (s, v) = rh.post("/v1/call-targets", &ringhook_e2e::sample("callbacks/config/call-target.json")).await;
    assert_eq!(s, 201, "{v}");
    for kind in ["confirmation", "reminder"] {
        let (s, v) = rh
            .post("/v1/connections", &json!({"kind": kind, "channel": "webhook", "url": format!("{}/{kind}", rx.url)}))
            .await;
        assert_eq!(s, 201, "{v}");
    }
    let (_, clock) = rh
        .request_as(
            reqwest::Method::POST,
            "/v1/admin/clock",
            Some(ringhook_e2e::ADMIN_TOKEN),
            Some(&json!({"advanceMs": 0})),
        )
        .await;
    let t0 = clock["nowMs"].as_i64().unwrap();
    let iso = |ms: i64| ringhook::model::format_time(ms);
    rh.send_event(&json!({"id": "evt-aws-cb-1", "type": "callback.registered", "payload": {
        "callbackId": "aws-cb-1", "callTargetId": "6281", "customerNumber": "+13305551234", "type": "scheduled",
        "registeredAt": iso(t0), "scheduledTime": iso(t0 + 16 * 60_000)}}))
        .await;
    let mut cb = Value::Null;
    for _ in 0..100 {
        cb = rh.get("/v1/callbacks/aws-cb-1").await.1;
        if cb["state"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        cb["state"].is_string(),
        "callback never evaluated: {cb}\nlog: {}",
        std::fs::read_to_string(rh.log_path()).unwrap_or_default()
    );
    let confirmation = rh.wait_deliveries("eventId=evt-aws-cb-1", 1, WAIT).await;
    for _ in 0..300 {
        if rx.count() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if rx.count() == 0 {
        panic!("confirmation not received: {:#}", rh.delivery(confirmation[0]["id"].as_str().unwrap()).await);
    }
    let got = rx.wait_for(1, WAIT).await;
    assert_eq!(got[0].path, "/confirmation", "{confirmation:#?}");
    assert_eq!(got[0].json()["data"]["event"], "Confirmation Notification");
    // The reminder is due 15 minutes before the callback: one minute from now.
    rx.expect_no_more_than(1, Duration::from_millis(300)).await;
    rh.advance(61).await;
    let got = rx.wait_for(2, WAIT).await;
    assert_eq!(got[1].path, "/reminder");
    assert_eq!(got[1].json()["data"]["notification"]["type"], "reminder");
    rh.tick().await;
    rx.expect_no_more_than(2, Duration::from_millis(500)).await;

    // 4. Call tracking on AWS: an XML template on a webhook enabled at call end on a campaign;
    // the call's beginning sends nothing to it, its end sends the rendered XML.
    let mut ids = vec![];
    for (path, body) in [
        ("/v1/templates", ringhook_e2e::sample("call-tracking/template-xml.json")),
        ("/v1/locations", ringhook_e2e::sample("call-tracking/location.json")),
    ] {
        let (s, v) = rh.post(path, &body).await;
        assert_eq!(s, 201, "{path}: {v}");
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    let (s, w) = rh.post("/v1/webhooks", &json!({"url": format!("{}/call-end", rx.url), "templateId": ids[0]})).await;
    assert_eq!(s, 201, "{w}");
    let (s, v) = rh
        .post(
            "/v1/campaigns",
            &json!({"name": "Sales Campaign", "locationId": ids[1], "trackingNumbers": ["7774839229"],
                "webhooks": [{"webhookId": w["id"], "sendAt": "end"}]}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    rh.send_event(&ringhook_e2e::sample("call-tracking/call-begin.json")).await;
    rh.send_event(&ringhook_e2e::sample("call-tracking/call-end.json")).await;
    let got = rx.wait_for(3, WAIT).await;
    assert_eq!(got[2].path, "/call-end");
    assert_eq!(got[2].header("content-type"), Some("application/xml"));
    assert!(got[2].body.contains("<name first=\"Freddy\" last=\"Krueger\">Freddy Krueger</name>"), "{}", got[2].body);
    assert!(got[2].body.contains("<location>Auto ID, Los Angeles</location>"), "{}", got[2].body);
    rx.expect_no_more_than(3, Duration::from_millis(500)).await;

    // 5. SMS from a flow on AWS: the SMS record in DynamoDB, Twilio's status callback through
    // the ingest routes, webhook #2 once; and the 12-hour lookup from the due-time index.
    let (s, sender) = rh.post("/v1/sms-senders", &json!({"accountSid": SMS_SID, "authToken": SMS_TOKEN})).await;
    assert_eq!(s, 201, "{sender}");
    let (s, hook) = rh.post("/v1/webhooks", &json!({"url": format!("{}/sms", rx.url)})).await;
    assert_eq!(s, 201, "{hook}");
    let mut account = ringhook_e2e::sample("sms/account.json");
    account["defaultWebhookId"] = hook["id"].clone();
    account["smsSenderId"] = sender["id"].clone();
    assert_eq!(rh.put("/v1/account", &account).await.0, 200);
    assert_eq!(rh.post("/v1/flows", &ringhook_e2e::sample("sms/flow.json")).await.0, 201);
    let sms_of = |call: &'static str| {
        let rh = &rh;
        async move {
            for _ in 0..300 {
                let (_, page) = rh.get("/v1/sms").await;
                let found = page["sms"].as_array().unwrap().iter().find(|r| r["phononUuid"] == call).cloned();
                if let Some(r) = found.filter(|r| r["messageSid"].is_string()) {
                    return r;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("no sent SMS record for {call}: {}", rh.get("/v1/sms").await.1);
        }
    };
    rh.send_event(&ringhook_e2e::sample("sms/flow.completed.json")).await;
    let m = tw.wait_for(1, WAIT).await.remove(0);
    assert_eq!(rx.wait_for(4, WAIT).await[3].json()["event"], "flow.completed");
    let r = sms_of("bd706f90-aa14-47ea-9844-3d1e1123f4ee").await;
    assert_eq!(r["messageSid"], json!(m.sid));
    assert_eq!(tw.send_status(&m, "sent", None).await.0, 204);
    assert_eq!(tw.send_status(&m, "delivered", None).await.0, 204);
    let second = rx.wait_for(5, WAIT).await.remove(4).json();
    assert_eq!(second["smsDetails"][0]["deliveryStatus"], "DELIVERED");
    assert_eq!(second["smsDetails"][0]["id"], r["id"]);
    assert_eq!(tw.send_status(&m, "delivered", None).await.0, 204);
    rx.expect_no_more_than(5, Duration::from_millis(800)).await;
    // No callback for the next one: looked up at Twilio 12 hours later.
    let mut again = ringhook_e2e::sample("sms/flow.completed.json");
    again["id"] = json!("evt-aws-flow-2");
    again["payload"]["callUuid"] = json!("aws-call-2");
    rh.send_event(&again).await;
    let m2 = tw.wait_for(2, WAIT).await.remove(1);
    rx.wait_for(6, WAIT).await;
    sms_of("aws-call-2").await;
    tw.set_status(&m2.sid, "undelivered", Some("30003"));
    rh.advance(12 * 3600 + 60).await;
    let lookup = tw.wait_requests(3, WAIT).await.remove(2);
    assert_eq!((lookup.method.as_str(), lookup.status), ("GET", 200));
    let second = rx.wait_for(7, WAIT).await.remove(6).json();
    assert_eq!(second["smsDetails"][0]["deliveryStatus"], "UNDELIVERED");

    // 6. The SMS webhooks on AWS: an opt-out through Twilio's signed incoming-message webhook
    // (the ingest routes), and a send's delivery report once both recipients are final.
    let url = |p: &str| json!({"url": format!("{}/{p}", rx.url)});
    let (s, m) = rh
        .put(
            "/v1/account/messaging",
            &json!({"webhooks": {"unsubscribe": url("unsubscribe"), "deliveryReport": url("report")}}),
        )
        .await;
    assert_eq!(s, 200, "{m}");
    let inbound_url = m["inboundUrls"][0]["url"].as_str().unwrap().to_string();
    let stop = tw.inbound_params("+19999999999", "+15550001111", "stop", None);
    let (s, twiml) = tw.send_inbound(&inbound_url, &stop).await;
    assert_eq!((s, twiml.as_str()), (200, ringhook::api::v1::twilio::EMPTY_TWIML));
    let got = rx.wait_for(8, WAIT).await.remove(7);
    assert_eq!(got.path, "/unsubscribe");
    assert_eq!(got.json()["phone_number"], "+19999999999");
    assert_eq!(rh.get("/v1/contacts/+19999999999").await.1["status"], "unsubscribed");
    let (s, sent) = rh
        .post(
            "/v1/messages",
            &json!({"to": ["+15551230001", "+15551230002"], "text": "Shipped.", "from": "+15550001111"}),
        )
        .await;
    assert_eq!(s, 202, "{sent}");
    let id = sent["id"].as_str().unwrap().to_string();
    let mut sent_now = Value::Null;
    for _ in 0..300 {
        sent_now = rh.get(&format!("/v1/messages/{id}")).await.1;
        if sent_now["messages"].as_array().unwrap().iter().all(|r| r["messageSid"].is_string()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ds = rh.deliveries(&format!("eventId={id}")).await;
    assert!(
        sent_now["messages"].as_array().unwrap().iter().all(|r| r["messageSid"].is_string()),
        "the send's SMS never went out: {sent_now:#}\ndeliveries: {ds:#?}"
    );
    let msgs = tw.wait_for(4, WAIT).await.split_off(2);
    let to = |n: &str| msgs.iter().find(|m| m.to == n).unwrap().clone();
    assert_eq!(tw.send_status(&to("+15551230001"), "delivered", None).await.0, 204);
    assert_eq!(tw.send_status(&to("+15551230002"), "undelivered", Some("30003")).await.0, 204);
    let report = rx.wait_for(9, WAIT).await.remove(8);
    assert_eq!(report.path, "/report");
    let codes: Vec<Value> = report.json()["statuses"].as_array().unwrap().iter().map(|g| g["code"].clone()).collect();
    assert_eq!(codes, [json!("100"), json!("200")]);
    rx.expect_no_more_than(9, Duration::from_millis(500)).await;
    // The undelivered one counted a bounce on its contact (kept in DynamoDB).
    assert_eq!(rh.get("/v1/contacts/+15551230002").await.1["bounces"], 1);
    // A carrier's contact status event: the contact changes, its webhook goes out.
    let (s, m) = rh
        .put(
            "/v1/account/messaging",
            &json!({"webhooks": {"contactStatus": url("contact"), "deliveryReport": url("report")}}),
        )
        .await;
    assert_eq!(s, 200, "{m}");
    rh.send_event(&ringhook_e2e::sample("sms/contact.status.deactivated.json")).await;
    let got = rx.wait_for(10, WAIT).await.remove(9);
    assert_eq!((got.path.as_str(), &got.json()["status"]), ("/contact", &json!("deactivated")));
    assert_eq!(rh.get("/v1/contacts/+19999999999").await.1["status"], "deactivated");
}
