//! The triggers seed, end to end: triggers created over HTTP, events posted over HTTP, webhooks
//! received by a real HTTP server, lead moves read back through the API.

use ringhook_e2e::{bin, sample, Options, Receiver, Ringhook};
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(15);
/// Real time given to the pipeline to (not) act on events that must not fire.
const SETTLE: Duration = Duration::from_millis(400);

fn with_url(mut trigger: Value, url: &str) -> Value {
    trigger["actions"][0]["parameters"]["url"] = json!(url);
    trigger
}

fn event(event_type: &str, payload: Value) -> Value {
    json!({ "type": event_type, "payload": payload })
}

/// The seed's four examples, loaded from `events/`, against the seed's payloads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_trigger_examples_behave_as_the_seed_says() {
    let rh = Ringhook::start(bin!(), Options::default()).await;
    let rx = Receiver::start().await;
    rh.create_trigger(&sample("triggers/examples/move-leads-on-dial-attempts.json")).await;
    rh.create_trigger(&sample("triggers/examples/move-lead-on-wrap-code.json")).await;
    let wrap_url = format!("{}/agent-wrap", rx.url);
    let mpiq_url = format!("{}/mpiq", rx.url);
    rh.create_trigger(&with_url(sample("triggers/examples/webhook-on-agent-wrap.json"), &wrap_url)).await;
    rh.create_trigger(&with_url(sample("triggers/examples/webhook-on-mpiq-attempt.json"), &mpiq_url)).await;
    // The seed's MPIQ example exactly as printed (reference "campaignId"): MPIQ payloads carry
    // "campaign_id", so by the seed's missing-reference rule it never fires.
    let mut verbatim =
        with_url(sample("triggers/examples/webhook-on-mpiq-attempt.json"), &format!("{}/verbatim", rx.url));
    verbatim["conditions"][0]["reference"] = json!("campaignId");
    rh.create_trigger(&verbatim).await;

    // Lead moves: the predictive payload, with the example's campaign and attempt counts.
    let predictive = sample("triggers/payloads/outbound.lead.outcome.predictive.answering-machine-attempt.json");
    let with = |mut e: Value, fields: &[(&str, &str)]| {
        for (k, v) in fields {
            let mut target = &mut e["payload"];
            let parts: Vec<&str> = k.split('.').collect();
            for p in &parts[..parts.len() - 1] {
                target = &mut target[*p];
            }
            target[parts[parts.len() - 1]] = json!(v);
        }
        e
    };
    rh.send_event(&with(predictive.clone(), &[("campaignId", "53"), ("lead.totalAttempts", "3"), ("leadId", "L-3")]))
        .await;
    rh.send_event(&with(predictive.clone(), &[("campaignId", "53"), ("lead.totalAttempts", "10"), ("leadId", "L-10")]))
        .await;
    rh.send_event(&with(predictive.clone(), &[("campaignId", "53"), ("lead.totalAttempts", "2"), ("leadId", "L-2")]))
        .await;
    rh.send_event(&with(predictive.clone(), &[("campaignId", "54"), ("lead.totalAttempts", "5"), ("leadId", "L-54")]))
        .await;
    // The seed payload as it is (campaign 20161, 1 attempt) moves nothing.
    rh.send_event(&predictive).await;

    let wrap = sample("triggers/payloads/agent.wrap.outbound-preview.json");
    rh.send_event(&with(wrap.clone(), &[("wrapCode", "185"), ("campaignId", "1695"), ("leadId", "W-1")])).await;
    rh.send_event(&with(wrap.clone(), &[("wrapCode", "185"), ("campaignId", "1696"), ("leadId", "W-2")])).await;
    rh.send_event(&with(wrap.clone(), &[("wrapCode", "186"), ("campaignId", "1695"), ("leadId", "W-3")])).await;

    // Webhooks: agent wrap in campaigns 215 and 223 only; MPIQ likewise.
    let wrap_215 = with(wrap.clone(), &[("campaignId", "215")]);
    let wrap_223 = with(sample("triggers/payloads/agent.wrap.inbound.json"), &[("campaignId", "223")]);
    rh.send_event(&wrap_215).await;
    rh.send_event(&wrap_223).await;
    rh.send_event(&sample("triggers/payloads/agent.wrap.manual-outbound.json")).await; // campaign 1196
    let mpiq = sample("triggers/payloads/mpiq.attempt.json");
    let mpiq_223 = with(mpiq.clone(), &[("campaign_id", "223")]);
    rh.send_event(&mpiq_223).await;
    rh.send_event(&mpiq).await; // campaign 20183

    let got = rx.wait_for(3, WAIT).await;
    rx.expect_no_more_than(3, SETTLE).await;
    let mut by_path: Vec<(String, Value)> = got.iter().map(|r| (r.path.clone(), r.json())).collect();
    by_path.sort_by(|a, b| {
        a.0.cmp(&b.0).then(a.1["payload"]["campaignId"].to_string().cmp(&b.1["payload"]["campaignId"].to_string()))
    });
    assert_eq!(
        by_path,
        vec![("/agent-wrap".into(), wrap_215), ("/agent-wrap".into(), wrap_223), ("/mpiq".into(), mpiq_223)]
    );
    for r in &got {
        assert_eq!(r.method, "POST");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert!(r.header("webhook-id").is_some_and(|id| id.starts_with("dlv_")));
    }

    let lead = |id: &'static str| {
        let rh = &rh;
        async move { rh.get(&format!("/v1/leads/{id}")).await }
    };
    for (id, list) in [("L-3", "354"), ("L-10", "354"), ("W-1", "445")] {
        let (s, v) = lead(id).await;
        assert_eq!(s, 200, "{id}: {v}");
        assert_eq!(v["listId"], list, "{id}: {v}");
        assert_eq!(v["history"].as_array().unwrap().len(), 1);
    }
    for id in ["L-2", "L-54", "W-2", "W-3", "131410"] {
        let (s, v) = lead(id).await;
        assert_eq!(s, 404, "{id} must not have moved: {v}");
        assert_eq!(v["error"], "not found");
    }
}

/// Every operator, numeric against string comparison, `in` with and without spaces, missing
/// references, disabled triggers and triggers without conditions — each trigger has its own
/// path on the receiver, so which ones fired is read off the requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditions_follow_the_seed_semantics() {
    let rh = Ringhook::start(bin!(), Options::default()).await;
    let rx = Receiver::start().await;
    let payload = json!({
        "campaignId": "215", "wrapCode": "10", "name": "beta", "score": 7, "ratio": "3.0",
        "lead": {"totalAttempts": "3", "phones": {"1": {"phone": "+61400000000"}}, "tags": ["a", "b"]},
        "callbackDate": null
    });
    // (name, reference, operator, value, fires)
    let cases: &[(&str, &str, &str, &str, bool)] = &[
        ("eq-string", "campaignId", "=", "215", true),
        ("eq-other", "campaignId", "=", "216", false),
        ("eq-numeric-forms", "ratio", "=", "3", true),
        ("gt-numeric", "wrapCode", ">", "9", true), // 10 > 9 as numbers (as strings "10" < "9")
        ("gt-numeric-false", "wrapCode", ">", "10", false),
        ("lt-numeric", "wrapCode", "<", "100", true), // as strings "10" < "100" too; as numbers yes
        ("lt-numeric-2", "lead.totalAttempts", "<", "10", true), // "3" > "10" as strings
        ("ge-equal", "lead.totalAttempts", ">=", "3", true),
        ("ge-less", "lead.totalAttempts", ">=", "4", false),
        ("le-equal", "lead.totalAttempts", "<=", "3", true),
        ("le-more", "lead.totalAttempts", "<=", "2", false),
        ("json-number", "score", ">=", "7", true),
        ("gt-string", "name", ">", "alpha", true), // strings compare as strings
        ("lt-string", "name", "<", "alpha", false),
        ("in-no-spaces", "campaignId", "in", "215,223", true),
        ("in-spaces", "campaignId", "in", "223, 215", true),
        ("in-miss", "campaignId", "in", "21, 2150", false),
        ("nested-path", "lead.phones.1.phone", "=", "+61400000000", true),
        ("array-index", "lead.tags.1", "=", "b", true),
        ("missing-ref", "lead.nothing", "=", "x", false),
        ("missing-ref-lt", "nothing", "<", "999", false),
        ("null-ref", "callbackDate", "=", "", false),
    ];
    for (name, reference, op, value, _) in cases {
        rh.create_trigger(&json!({"name": name, "eventType": "agent.wrap",
            "conditions": [{"reference": reference, "operator": op, "value": value}],
            "actions": [{"action": "webhook", "parameters": {"url": format!("{}/{name}", rx.url)}}]}))
            .await;
    }
    rh.create_trigger(&json!({"name": "disabled", "eventType": "agent.wrap", "enabled": false,
        "actions": [{"action": "webhook", "parameters": {"url": format!("{}/disabled", rx.url)}}]}))
        .await;
    rh.create_trigger(&json!({"name": "no-conditions", "eventType": "agent.wrap",
        "actions": [{"action": "webhook", "parameters": {"url": format!("{}/no-conditions", rx.url)}}]}))
        .await;
    rh.create_trigger(&json!({"name": "other-type", "eventType": "mpiq.attempt",
        "actions": [{"action": "webhook", "parameters": {"url": format!("{}/other-type", rx.url)}}]}))
        .await;
    rh.create_trigger(&json!({"name": "all-hold", "eventType": "agent.wrap",
        "conditions": [{"reference": "campaignId", "operator": "=", "value": "215"}, {"reference": "wrapCode", "operator": ">=", "value": "10"}],
        "actions": [{"action": "webhook", "parameters": {"url": format!("{}/all-hold", rx.url)}}]}))
        .await;
    rh.create_trigger(&json!({"name": "one-fails", "eventType": "agent.wrap",
        "conditions": [{"reference": "campaignId", "operator": "=", "value": "215"}, {"reference": "wrapCode", "operator": "=", "value": "11"}],
        "actions": [{"action": "webhook", "parameters": {"url": format!("{}/one-fails", rx.url)}}]}))
        .await;

    rh.send_event(&event("agent.wrap", payload)).await;
    let mut expected: Vec<String> = cases
        .iter()
        .filter(|c| c.4)
        .map(|c| format!("/{}", c.0))
        .chain(["/no-conditions".into(), "/all-hold".into()])
        .collect();
    expected.sort();
    let got = rx.wait_for(expected.len(), WAIT).await;
    rx.expect_no_more_than(expected.len(), SETTLE).await;
    let mut paths: Vec<String> = got.iter().map(|r| r.path.clone()).collect();
    paths.sort();
    assert_eq!(paths, expected);
}

/// The seed's error names, each with a detail naming the field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trigger_validation_uses_the_seed_error_names() {
    let rh = Ringhook::start(bin!(), Options::default()).await;
    let ok_action = json!([{"action": "lead.update.list", "parameters": {"listId": "1"}}]);
    let base = |patch: Value| {
        let mut t = json!({"name": "t", "eventType": "agent.wrap", "actions": ok_action});
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                t.as_object_mut().unwrap().remove(k);
            } else {
                t[k] = v.clone();
            }
        }
        t
    };
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            base(json!({"conditions": [{"reference": "campaignId", "operator": "!=", "value": "1"}]})),
            "Invalid JSON format",
            "conditions[0].operator",
        ),
        (
            base(json!({"conditions": [{"operator": "=", "value": "1"}]})),
            "Invalid JSON format",
            "conditions[0].reference",
        ),
        (
            base(json!({"conditions": [{"reference": "a", "operator": "="}]})),
            "Invalid JSON format",
            "conditions[0].value",
        ),
        (base(json!({"conditions": {"reference": "a"}})), "Invalid JSON format", "conditions"),
        (base(json!({"name": null})), "Invalid JSON format", "name"),
        (base(json!({"eventType": "Agent Wrap"})), "Invalid JSON format", "eventType"),
        (base(json!({"enabled": "yes"})), "Invalid JSON format", "enabled"),
        (base(json!({"actions": null})), "Actions object error", "actions"),
        (base(json!({"actions": []})), "Actions object error", "actions"),
        (
            base(json!({"actions": [{"action": "", "parameters": {"url": "https://x.example"}}]})),
            "Actions object error",
            "actions[0].action",
        ),
        (
            base(json!({"actions": [{"parameters": {"url": "https://x.example"}}]})),
            "Actions object error",
            "actions[0].action",
        ),
        (base(json!({"actions": [{"action": "webhook"}]})), "Invalid action parameters", "actions[0].parameters"),
        (
            base(json!({"actions": [{"action": "webhook", "parameters": {}}]})),
            "Invalid action parameters",
            "actions[0].parameters",
        ),
        (
            base(json!({"actions": [{"action": "webhook", "parameters": {"url": "not a url"}}]})),
            "Invalid action parameters",
            "actions[0].parameters.url",
        ),
        (
            base(json!({"actions": [{"action": "lead.update.list", "parameters": {"listId": null}}]})),
            "Invalid action parameters",
            "actions[0].parameters.listId",
        ),
        // Unknown fields are refused (no longer ignored), named, under the seed's name for
        // where they are.
        (base(json!({"colour": "red"})), "Invalid JSON format", "colour: unknown field"),
        (
            base(json!({"conditions": [{"reference": "a", "operator": "=", "value": "1", "negate": true}]})),
            "Invalid JSON format",
            "conditions[0].negate: unknown field",
        ),
        (
            base(json!({"actions": [{"action": "webhook", "parameters": {"url": "https://x.example"}, "delay": 5}]})),
            "Actions object error",
            "actions[0].delay: unknown field",
        ),
        (
            base(json!({"actions": [{"action": "lead.update.list", "parameters": {"list": "1"}}]})),
            "Invalid action parameters",
            "actions[0].parameters.list: unknown field",
        ),
        (
            base(
                json!({"actions": [{"action": "webhook", "parameters": {"url": "https://x.example", "listId": "1"}}]}),
            ),
            "Invalid action parameters",
            "actions[0].parameters.listId: unknown field",
        ),
        (
            base(json!({"actions": [{"action": "webhook", "parameters": {"webhookId": "wh_missing"}}]})),
            "Invalid action parameters",
            "webhookId",
        ),
        (
            base(json!({"actions": [{"action": "webhok", "parameters": {"url": "https://x.example"}}]})),
            "Error when saving trigger",
            "actions[0].action",
        ),
        (
            base(json!({"actions": [ok_action[0].clone(), {"action": "lead.delete", "parameters": {"x": "1"}}]})),
            "Error when saving trigger",
            "actions[1].action",
        ),
    ];
    for (body, error, field) in cases {
        let (s, v) = rh.post("/v1/triggers", &body).await;
        assert!((400..500).contains(&s), "{body} → {s} {v}");
        assert_eq!(v["error"], error, "{body} → {v}");
        assert!(v["detail"].as_str().unwrap().contains(field), "detail of {body} should name {field}: {v}");
    }
    // Malformed JSON is the seed's "Invalid JSON format" too, with a 400.
    let (s, v) = rh.post_raw("/v1/triggers", "{\"name\": \"t\",", &[]).await;
    assert_eq!((s, v["error"].as_str()), (400, Some("Invalid JSON format")), "{v}");
    // Nothing was saved by any of those.
    let (_, list) = rh.get("/v1/triggers").await;
    assert_eq!(list["triggers"].as_array().unwrap().len(), 0);

    // Create, read, replace, disable, delete.
    let id = rh.create_trigger(&base(json!({}))).await;
    let (s, t) = rh.get(&format!("/v1/triggers/{id}")).await;
    assert_eq!((s, t["name"].as_str()), (200, Some("t")));
    assert_eq!(t["actions"], json!([{"action": "lead.update.list", "parameters": {"listId": "1"}}]));
    let (s, t) = rh.put(&format!("/v1/triggers/{id}"), &base(json!({"name": "renamed", "enabled": false}))).await;
    assert_eq!((s, t["name"].as_str(), t["enabled"].as_bool()), (200, Some("renamed"), Some(false)), "{t}");
    // A read, edited, goes back as it is: its id and times are ignored.
    let mut read = t.clone();
    read["enabled"] = json!(true);
    let (s, back) = rh.put(&format!("/v1/triggers/{id}"), &read).await;
    assert_eq!((s, back["enabled"].as_bool(), &back["createdAt"]), (200, Some(true), &t["createdAt"]), "{back}");
    let (s, v) = rh.put(&format!("/v1/triggers/{id}"), &base(json!({"actions": []}))).await;
    assert_eq!((s, v["error"].as_str()), (422, Some("Actions object error")));
    assert_eq!(rh.delete(&format!("/v1/triggers/{id}")).await.0, 204);
    assert_eq!(rh.get(&format!("/v1/triggers/{id}")).await.0, 404);
    assert_eq!(rh.delete(&format!("/v1/triggers/{id}")).await.0, 404);
}
