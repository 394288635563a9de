//! Call-tracking webhooks with templates end to end (the call-tracking seed): every token of the
//! catalogue rendered from a call into JSON and XML bodies, hostile values that must not break
//! them, validation of templates on save, and where and when webhooks are sent (call begin vs
//! end; campaign, DNI campaign, treatment option), over real HTTP to a real receiver.

use quick_xml::events::Event as Xml;
use quick_xml::Reader;
use ringhook_e2e::{bin, sample, Options, Receiver, Recorded, Reply, Ringhook};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);
const SETTLE: Duration = Duration::from_millis(600);

async fn start() -> Ringhook {
    Ringhook::start(bin!(), Options::default()).await
}

async fn created(rh: &Ringhook, path: &str, body: &Value) -> Value {
    let (s, v) = rh.post(path, body).await;
    assert_eq!(s, 201, "POST {path} {body}: {v}");
    v
}

async fn webhook(rh: &Ringhook, body: Value) -> String {
    created(rh, "/v1/webhooks", &body).await["id"].as_str().unwrap().to_string()
}

async fn template(rh: &Ringhook, body: Value) -> String {
    created(rh, "/v1/templates", &body).await["id"].as_str().unwrap().to_string()
}

async fn location(rh: &Ringhook) -> String {
    created(rh, "/v1/locations", &sample("call-tracking/location.json")).await["id"].as_str().unwrap().to_string()
}

/// Element texts of an XML body, by element path (`call.caller.name`), every occurrence, as an
/// XML parser reads them (entities resolved, CDATA as is); attributes as `path.@name`.
fn xml_values(body: &str) -> BTreeMap<String, Vec<String>> {
    let mut r = Reader::from_str(body);
    r.config_mut().check_end_names = true;
    let mut path: Vec<String> = vec![];
    let mut text: Vec<String> = vec![];
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    loop {
        match r.read_event().unwrap_or_else(|e| panic!("the body is not well-formed XML ({e}): {body}")) {
            Xml::Start(e) => {
                path.push(String::from_utf8(e.name().as_ref().to_vec()).unwrap());
                for a in e.attributes() {
                    let a = a.unwrap();
                    let k = format!("{}.@{}", path.join("."), String::from_utf8_lossy(a.key.as_ref()));
                    out.entry(k).or_default().push(a.unescape_value().unwrap().into_owned());
                }
                text.push(String::new());
            }
            Xml::Empty(e) => {
                let p = format!("{}.{}", path.join("."), String::from_utf8_lossy(e.name().as_ref()));
                for a in e.attributes() {
                    let a = a.unwrap();
                    out.entry(format!("{p}.@{}", String::from_utf8_lossy(a.key.as_ref())))
                        .or_default()
                        .push(a.unescape_value().unwrap().into_owned());
                }
                out.entry(p.trim_start_matches('.').to_string()).or_default().push(String::new());
            }
            Xml::Text(t) => {
                if let Some(s) = text.last_mut() {
                    s.push_str(&t.unescape().unwrap());
                }
            }
            Xml::CData(c) => {
                if let Some(s) = text.last_mut() {
                    s.push_str(std::str::from_utf8(&c).unwrap());
                }
            }
            Xml::End(_) => {
                out.entry(path.join(".")).or_default().push(text.pop().unwrap());
                path.pop();
            }
            Xml::Eof => return out,
            _ => {}
        }
    }
}

/// The text form a token's value takes inside a body.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The placeable tokens of the catalogue: (name, category, kind).
async fn catalogue(rh: &Ringhook) -> Vec<(String, String, String)> {
    let (s, c) = rh.get("/v1/templates/tokens").await;
    assert_eq!(s, 200, "{c}");
    let mut out = vec![];
    for g in c["categories"].as_array().unwrap() {
        for t in g["tokens"].as_array().unwrap() {
            out.push((
                t["name"].as_str().unwrap().to_string(),
                g["category"].as_str().unwrap().to_string(),
                t["kind"].as_str().unwrap().to_string(),
            ));
        }
    }
    out
}

/// One JSON template and one XML template holding every token, each as a whole value and inside
/// a longer string / an attribute.
fn every_token_templates(tokens: &[(String, String, String)]) -> (Value, Value) {
    let json_fields: Vec<String> = tokens
        .iter()
        .flat_map(|(n, _, _)| [format!("\"{n}\": %{n}%"), format!("\"{n}_in_text\": \"<%{n}%>\"")])
        .collect();
    let xml_fields: String =
        tokens.iter().map(|(n, _, _)| format!("<{n} in_attr=\"[%{n}%]\">%{n}%</{n}>")).collect::<Vec<_>>().join("\n  ");
    (
        json!({"name": "every token (JSON)", "type": "json", "format": format!("{{{}}}", json_fields.join(",\n"))}),
        json!({"name": "every token (XML)", "type": "xml", "format": format!("<call>\n  {xml_fields}\n</call>")}),
    )
}

/// A campaign for the sample call's tracking number, sending `hooks` (webhook id, "begin"/"end").
async fn campaign(rh: &Ringhook, location: &str, number: &str, hooks: &[(&str, &str)]) -> String {
    let webhooks: Vec<Value> = hooks.iter().map(|(w, at)| json!({"webhookId": w, "sendAt": at})).collect();
    created(
        rh,
        "/v1/campaigns",
        &json!({"name": "Sales Campaign", "locationId": location, "trackingNumbers": [number], "webhooks": webhooks}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The request of each receiver path.
fn by_path(reqs: &[Recorded]) -> BTreeMap<String, Recorded> {
    reqs.iter().map(|r| (r.path.clone(), r.clone())).collect()
}

// ---------------------------------------------------------------------------------------------

/// Table-driven from the catalogue: the sample call.end carries every token but the location's
/// (which come from the location), and each one arrives with its value in a JSON body (as its
/// type when whole, as text inside a string) and in an XML body (element text and attribute).
#[tokio::test]
async fn every_token_renders_from_a_call_into_json_and_xml() {
    let rh = start().await;
    let rx = Receiver::start().await;
    let tokens = catalogue(&rh).await;
    assert_eq!(tokens.len(), 74, "77 tokens, of which 3 are fields of %prompt_responses%");

    let event = sample("call-tracking/call-end.json");
    let loc_sample = sample("call-tracking/location.json");
    let location_tokens = [
        ("location_name", "name"),
        ("location_address_line_1", "addressLine1"),
        ("location_address_line_2", "addressLine2"),
        ("location_address_city", "city"),
        ("location_address_zip", "zip"),
        ("location_address_state", "state"),
        ("account_id", "accountId"),
        ("location_id", "clientLocationId"),
        ("site_id", "siteId"),
        ("domain_id", "domainId"),
    ];
    let mut expected: Map<String, Value> = event["payload"].as_object().unwrap().clone();
    for (t, f) in location_tokens {
        expected.insert(t.into(), loc_sample[f].clone());
    }
    let names: Vec<&str> = tokens.iter().map(|(n, _, _)| n.as_str()).collect();
    let mut sample_names: Vec<&str> = expected.keys().map(String::as_str).collect();
    let mut catalogue_names = names.clone();
    sample_names.sort();
    catalogue_names.sort();
    assert_eq!(sample_names, catalogue_names, "the sample call and the catalogue name the same tokens");

    let (jt, xt) = every_token_templates(&tokens);
    let (jt, xt) = (template(&rh, jt).await, template(&rh, xt).await);
    let jw = webhook(&rh, json!({"url": format!("{}/json", rx.url), "templateId": jt})).await;
    let xw = webhook(&rh, json!({"url": format!("{}/xml", rx.url), "templateId": xt})).await;
    let loc = location(&rh).await;
    campaign(&rh, &loc, "(777) 483-9229", &[(&jw, "end"), (&xw, "end")]).await;
    created(
        &rh,
        "/v1/dni-campaigns",
        &json!({"name": "Website", "locationId": loc, "domains": ["https://www.example.com/"]}),
    )
    .await;

    rh.send_event(&event).await;
    let got = by_path(&rx.wait_for(2, WAIT).await);
    let j = &got["/json"];
    assert_eq!(j.header("content-type"), Some("application/json"));
    assert_eq!(got["/xml"].header("content-type"), Some("application/xml"));
    let body = j.json();
    let xml = xml_values(&got["/xml"].body);
    for (name, _, kind) in &tokens {
        let want = &expected[name.as_str()];
        assert_eq!(&body[name.as_str()], want, "JSON whole value of %{name}%");
        assert_eq!(body[format!("{name}_in_text")], json!(format!("<{}>", text(want))), "JSON text of %{name}%");
        let path = format!("call.{name}");
        let attr = &xml[&format!("{path}.@in_attr")][0];
        assert_eq!(attr, &format!("[{}]", text(want)), "XML attribute of %{name}%");
        match name.as_str() {
            "prompt_responses" => {
                for (k, v) in want[0].as_object().unwrap() {
                    assert_eq!(xml[&format!("{path}.item.{k}")], [text(v)], "XML %prompt_responses% field {k}");
                }
            }
            "tags" => assert_eq!(xml[&format!("{path}.Region")], ["south"]),
            _ => assert_eq!(xml[&path], [text(want)], "XML text of %{name}% ({kind})"),
        }
    }
}

/// Values that would break a body written by string concatenation arrive intact.
#[tokio::test]
async fn hostile_values_render_into_bodies_that_parse_and_carry_them_exactly() {
    let rh = start().await;
    let rx = Receiver::start().await;
    let jt = template(
        &rh,
        json!({"name": "j", "type": "json", "format": r#"{"name": %ani_full_name%, "said": "caller: %ani_full_name%", "tags": %tags%, "qa": %prompt_responses%}"#}),
    )
    .await;
    let xt = template(
        &rh,
        json!({"name": "x", "type": "xml", "format": "<call who=\"%ani_full_name%\"><name>%ani_full_name%</name><said>caller: %ani_full_name%</said><cd><![CDATA[%ani_full_name%]]></cd><tags>%tags%</tags><qa>%prompt_responses%</qa></call>"}),
    )
    .await;
    let jw = webhook(&rh, json!({"url": format!("{}/json", rx.url), "templateId": jt})).await;
    let xw = webhook(&rh, json!({"url": format!("{}/xml", rx.url), "templateId": xt})).await;
    let loc = location(&rh).await;
    campaign(&rh, &loc, "7774839229", &[(&jw, "end"), (&xw, "end")]).await;

    let long = "x<&>\"'".repeat(10 * 1024 / 6 + 1);
    let hostile = [
        "quote \" and 'apostrophe'",
        "back\\slash \\\" \\u0041",
        "new\nline\r\nand\ttab",
        "</x><y>injected</y>",
        "&amp; &lt; &#0; &bogus;",
        "]]> and <![CDATA[ nested ]]>",
        "nul\u{0}byte and \u{1} control",
        "line\u{2028}separator\u{2029}paragraph",
        long.as_str(),
        "unicode: Müller, 東京, emoji 👋🏽, RTL שלום, combining é",
        "%ani% %tags% not tokens once placed",
    ];
    for (i, h) in hostile.iter().enumerate() {
        let event = json!({"id": format!("hostile-{i}"), "type": "call.end", "payload": {
            "callid": format!("c{i}"), "tracking": "7774839229", "ani_full_name": h,
            "tags": {"Region": h}, "prompt_responses": [{"question": h, "response": "1"}]}});
        rh.send_event(&event).await;
        let got = rx.wait_for(2 * (i + 1), WAIT).await;
        let got = by_path(&got[2 * i..]);
        let j = got["/json"].json();
        assert_eq!(j["name"], json!(h), "JSON whole value {i}");
        assert_eq!(j["said"], json!(format!("caller: {h}")), "JSON text {i}");
        assert_eq!(j["tags"]["Region"], json!(h));
        assert_eq!(j["qa"][0]["question"], json!(h));
        assert!(!got["/json"].body.contains('\u{2028}'), "U+2028 is escaped in JSON");

        // XML 1.0 cannot carry U+0000 or U+0001 at all: they are dropped, everything else
        // arrives as it was.
        let want: String = h.chars().filter(|c| !matches!(c, '\u{0}' | '\u{1}')).collect();
        let x = xml_values(&got["/xml"].body);
        assert_eq!(x["call.@who"], vec![want.clone()], "XML attribute {i}");
        assert_eq!(x["call.name"], vec![want.clone()], "XML text {i}");
        assert_eq!(x["call.said"], [format!("caller: {want}")]);
        assert_eq!(x["call.cd"], vec![want.clone()], "XML CDATA {i}");
        assert_eq!(x["call.tags.Region"], vec![want.clone()]);
        assert_eq!(x["call.qa.item.question"], vec![want.clone()]);
    }
}

/// Templates are checked on save with a 4xx naming the problem; previews show the body.
#[tokio::test]
async fn templates_are_validated_on_save_and_previewed() {
    let rh = start().await;
    let bad = [
        (json!({"name": "t", "type": "json", "format": "{\"a\": %ani%,}"}), "format: not well-formed JSON"),
        (
            json!({"name": "t", "type": "json", "format": "{\"a\": \"%ani_frist_name%\"}"}),
            "%ani_frist_name% is not a known token",
        ),
        (json!({"name": "t", "type": "xml", "format": "<a><b>%ani%</a>"}), "format: not well-formed XML"),
        (json!({"name": "t", "type": "xml", "format": "<a/><b/>"}), "more than one root"),
        (json!({"name": "t", "type": "xml", "format": "<a>%nope%</a>"}), "%nope% is not a known token"),
        (json!({"name": "t", "type": "xml", "format": "<!DOCTYPE a><a/>"}), "DOCTYPE"),
        (
            json!({"name": "t", "type": "json", "format": "{\"q\": %question%}"}),
            "field of the nested %prompt_responses%",
        ),
        (
            json!({"name": "t", "type": "json", "format": "{\"first\": \"\"}", "mapping": {"frist": "ani_first_name"}}),
            "mapping.frist: not a field of the format (its fields: first)",
        ),
        (
            json!({"name": "t", "type": "json", "format": "{\"first\": \"\"}", "mapping": {"first": "first_name"}}),
            "mapping.first: %first_name% is not a known token",
        ),
        (json!({"name": "t", "type": "yaml", "format": "a: 1"}), "type: required, \"json\" or \"xml\""),
        (json!({"name": "t", "type": "json"}), "format: required"),
        (json!({"name": "t", "type": "json", "format": "{}", "fromat": "{}"}), "fromat: not a field of a template"),
    ];
    for (body, detail) in bad {
        let (s, v) = rh.post("/v1/templates", &body).await;
        assert_eq!(s, 422, "{body}: {v}");
        assert_eq!(v["error"], "invalid template");
        assert!(v["detail"].as_str().unwrap().contains(detail), "{body}: {v}");
    }

    // The seed's example: fields extracted on save, mapped to tokens; previewed with the
    // catalogue's examples, then with given values.
    let t = created(&rh, "/v1/templates", &sample("call-tracking/template-json.json")).await;
    assert_eq!(t["fields"], json!(["first", "last", "email", "phone"]));
    assert_eq!(t["tokens"], json!(["ani", "ani_first_name", "ani_last_name"]));
    let id = t["id"].as_str().unwrap();
    let (s, p) = rh.post(&format!("/v1/templates/{id}/preview"), &json!({})).await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["contentType"], "application/json");
    let body: Value = serde_json::from_str(p["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"first": "Freddy", "last": "Krueger", "email": "email@example.com", "phone": "7776734736"})
    );
    let (_, p) = rh
        .post(&format!("/v1/templates/{id}/preview"), &json!({"values": {"ani_first_name": "Nancy", "ani": null}}))
        .await;
    let body: Value = serde_json::from_str(p["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["first"], "Nancy");
    assert_eq!(body["phone"], Value::Null, "a call without the value renders null");
    let (s, p) = rh.post(&format!("/v1/templates/{id}/preview"), &json!({"values": {"nope": 1}})).await;
    assert_eq!(s, 422, "{p}");

    let x = created(&rh, "/v1/templates", &sample("call-tracking/template-xml.json")).await;
    let (s, p) = rh.post(&format!("/v1/templates/{}/preview", x["id"].as_str().unwrap()), &json!({})).await;
    assert_eq!((s, p["contentType"].as_str()), (200, Some("application/xml")), "{p}");
    let xml = xml_values(p["body"].as_str().unwrap());
    assert_eq!(xml["call.caller.name.@first"], ["Freddy"]);
    assert_eq!(xml["call.responses.item.question"], ["one"]);

    // A webhook names an existing template; a template in use is not deleted.
    let (s, v) = rh.post("/v1/webhooks", &json!({"url": "http://127.0.0.1:9/x", "templateId": "tpl_nope"})).await;
    assert_eq!(s, 422, "{v}");
    assert!(v["detail"].as_str().unwrap().starts_with("templateId:"), "{v}");
    let w = webhook(&rh, json!({"url": "http://127.0.0.1:9/x", "templateId": id})).await;
    let (s, v) = rh.delete(&format!("/v1/templates/{id}")).await;
    assert_eq!(s, 409, "{v}");
    assert!(v["detail"].as_str().unwrap().contains(&w), "{v}");
    assert_eq!(rh.delete(&format!("/v1/webhooks/{w}")).await.0, 204);
    assert_eq!(rh.delete(&format!("/v1/templates/{id}")).await.0, 204);

    // Campaign configuration is checked too.
    let loc = location(&rh).await;
    for (body, detail) in [
        (json!({"name": "c", "locationId": "loc_nope"}), "locationId: no location"),
        (
            json!({"name": "c", "locationId": loc, "webhooks": [{"webhookId": "wh_nope", "sendAt": "end"}]}),
            "webhooks[0].webhookId: no webhook",
        ),
        (
            json!({"name": "c", "locationId": loc, "webhooks": [{"webhookId": "wh_nope", "sendAt": "later"}]}),
            "webhooks[0].sendAt",
        ),
        (json!({"name": "c", "locationId": loc, "trackingNumbers": ["12"]}), "trackingNumbers[0]"),
    ] {
        let (s, v) = rh.post("/v1/campaigns", &body).await;
        assert_eq!(s, 422, "{body}: {v}");
        assert!(v["detail"].as_str().unwrap().contains(detail), "{body}: {v}");
    }
    // A template of another location cannot be used here.
    let other = location(&rh).await;
    let t = template(&rh, json!({"name": "t", "group": other, "type": "json", "format": "{}"})).await;
    let w = webhook(&rh, json!({"url": "http://127.0.0.1:9/x", "templateId": t})).await;
    let (s, v) = rh
        .post(
            "/v1/campaigns",
            &json!({"name": "c", "locationId": loc, "webhooks": [{"webhookId": w, "sendAt": "end"}]}),
        )
        .await;
    assert_eq!(s, 422, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("belongs to location"), "{v}");
    assert_eq!(
        rh.post(
            "/v1/campaigns",
            &json!({"name": "c", "locationId": other, "webhooks": [{"webhookId": w, "sendAt": "end"}]})
        )
        .await
        .0,
        201
    );
    // A call event is checked on arrival.
    let (s, v) =
        rh.post("/v1/events", &json!({"type": "call.end", "payload": {"callid": "c", "ani_frist_name": "x"}})).await;
    assert_eq!(s, 422, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("ani_frist_name"), "{v}");
}

/// Begin vs end, campaign vs DNI campaign vs treatment option, POST vs PUT, chosen success codes.
#[tokio::test]
async fn webhooks_go_where_and_when_they_are_enabled() {
    let rh = start().await;
    let rx = Receiver::start().await;
    let loc = location(&rh).await;
    let x = template(&rh, sample("call-tracking/template-xml.json")).await;
    let begin = webhook(&rh, json!({"url": format!("{}/begin", rx.url), "templateId": x})).await;
    let end = webhook(&rh, json!({"url": format!("{}/end", rx.url), "templateId": x, "method": "PUT"})).await;
    // A header of the webhook overrides the content type its template implies.
    let dt = template(
        &rh,
        json!({"name": "dni", "type": "json", "format": r#"{"landing_domain": %landing_domain%, "location_name": %location_name%}"#}),
    )
    .await;
    let dni_end = webhook(
        &rh,
        json!({"url": format!("{}/dni", rx.url), "templateId": dt, "headers": {"Content-Type": "application/vnd.crm+json"}}),
    )
    .await;
    let sales = webhook(&rh, json!({"url": format!("{}/sales", rx.url), "successCodes": [202]})).await;
    let service = webhook(&rh, json!({"url": format!("{}/service", rx.url), "retryPolicy": "single-retry"})).await;
    campaign(&rh, &loc, "7774839229", &[(&begin, "begin"), (&end, "end")]).await;
    created(
        &rh,
        "/v1/dni-campaigns",
        &json!({"name": "Web", "locationId": loc, "domains": ["example.com"],
        "webhooks": [{"webhookId": dni_end, "sendAt": "end"}]}),
    )
    .await;
    let trt = created(
        &rh,
        "/v1/call-treatments",
        &json!({"name": "IVR", "locationId": loc, "options": [
        {"key": "1", "name": "Sales", "webhooks": [{"webhookId": sales}]},
        {"key": "2", "name": "Service", "webhooks": [{"webhookId": service}]},
        {"key": "3", "name": "Parts"}]}),
    )
    .await;
    assert_eq!(trt["options"][0]["webhooks"][0]["sendAt"], "end", "an option's webhooks go at the call's end");
    let trt = trt["id"].as_str().unwrap().to_string();

    // The call begins: only the campaign's begin webhook, with call_begin data only.
    let mut b = sample("call-tracking/call-begin.json");
    b["payload"]["treatment"] = json!({"id": trt, "option": "Sales"});
    rh.send_event(&b).await;
    let got = rx.wait_for(1, WAIT).await;
    rx.expect_no_more_than(1, SETTLE).await;
    assert_eq!((got[0].path.as_str(), got[0].method.as_str()), ("/begin", "POST"));
    let xml = xml_values(&got[0].body);
    assert_eq!(xml["call.caller.phone"], ["7776734736"]);
    assert_eq!(xml["call.duration"], [""], "no call_end data at the beginning of a call");
    assert_eq!(xml["call.location"], ["Auto ID, Los Angeles"], "location data always");

    // The call ends, the caller chose Sales: the end webhook (PUT), the DNI campaign's, Sales';
    // not Service's, not begin's again.
    let mut e = sample("call-tracking/call-end.json");
    e["payload"]["treatment"] = json!({"id": trt, "option": "1"});
    // Every receiver answers 202 here (the order of the three requests is not fixed).
    rx.set_default(Reply::status(202));
    rh.send_event(&e).await;
    let got = rx.wait_for(4, WAIT).await;
    rx.expect_no_more_than(4, SETTLE).await;
    let got = by_path(&got[1..]);
    assert_eq!(got.keys().collect::<Vec<_>>(), ["/dni", "/end", "/sales"]);
    assert_eq!(got["/end"].method, "PUT");
    assert_eq!(xml_values(&got["/end"].body)["call.duration"], ["29"]);
    assert_eq!(got["/end"].header("content-type"), Some("application/xml"));
    assert_eq!(got["/dni"].header("content-type"), Some("application/vnd.crm+json"));
    let dni = got["/dni"].json();
    assert_eq!(dni["landing_domain"], "example.com", "a DNI call carries the dni tokens");
    assert_eq!(dni["location_name"], "Auto ID");
    let ds = rh.wait_settled(WAIT).await;
    let status = |w: &str| ds.iter().find(|d| d["webhookId"] == w).map(|d| d["status"].clone()).unwrap();
    assert_eq!(status(&end), "succeeded");

    // Service: the caller chose it this time; the webhook answers 200 but only 202 counts as
    // success for Sales, so a 200 there fails.
    let mut e2 = e.clone();
    e2["id"] = json!("call-2-end");
    e2["payload"]["callid"] = json!("call-2");
    e2["payload"]["tracking"] = json!("5550000000");
    e2["payload"]["domain_name"] = json!("other.example");
    e2["payload"]["treatment"] = json!({"id": trt, "option": "Service"});
    rh.send_event(&e2).await;
    let got = rx.wait_for(5, WAIT).await;
    rx.expect_no_more_than(5, SETTLE).await;
    assert_eq!(got[4].path, "/service", "only the chosen option's webhook, no campaign found for that number");
    let mut e3 = e2.clone();
    e3["id"] = json!("call-3-end");
    e3["payload"]["treatment"] = json!({"id": trt, "option": "Sales"});
    rx.set_default(Reply::status(200));
    rh.send_event(&e3).await;
    rx.wait_for(6, WAIT).await;
    let d = rh.wait_deliveries(&format!("webhookId={sales}&eventId=call-3-end"), 1, WAIT).await;
    let d = rh.delivery(d[0]["id"].as_str().unwrap()).await;
    assert_eq!(d["attempts"][0]["response"]["status"], 200);
    assert_eq!(d["attempts"][0]["success"], false, "200 is not among the chosen codes: {d}");
    let first_sales = ds.iter().find(|d| d["webhookId"] == sales).unwrap();
    assert_eq!(first_sales["status"], "succeeded", "202 was chosen: {first_sales}");
}
