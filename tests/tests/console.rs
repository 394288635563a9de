//! The console (`/console`) end to end: the routes it adds to the API over real HTTP, then the
//! page itself in a real headless Chromium (Debian's `chromium` and `chromium-driver`) driven
//! over WebDriver, against the real runner and a real receiver: sign in, create a webhook and a
//! trigger through the forms, post the seed's agent.wrap event through the API, find the
//! delivery in the event log with its attempt, provoke the seed's validation errors and find
//! each next to its field, rotate a secret, redeliver, see the overview's chart count the
//! deliveries, toggle a callback-notification tile; plus page weight, no request to another
//! host, labels and keyboard use, a 390-px-wide screen and a 200-character trigger name. Two
//! more go through the SMS pages (log, record, flows, contacts, settings) and the SMS webhook
//! pages (message settings, sends).
//!
//! A screenshot of every page goes to `target/console-screenshots/` (not committed). Without
//! chromedriver the browser test fails and says how to install it (`.ci/run` does): a browser
//! test that skips proves nothing.

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use ringhook_e2e::{bin, sample, Options, Receiver, Ringhook};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// The issue's bound on the first page and everything it loads.
const MAX_PAGE_BYTES: f64 = 100.0 * 1024.0;

/// The seed's agent.wrap event, in one of the trigger's campaigns.
fn agent_wrap_in_215() -> Value {
    let mut e = sample("triggers/payloads/agent.wrap.outbound-preview.json");
    e["payload"]["campaignId"] = json!("215");
    e
}

// ----------------------------------------------------------------------------------------
// The API routes the console uses, over HTTP.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_routes_the_console_adds_to_the_api() {
    let rh = Ringhook::start(bin!(), Options::default()).await;
    let rx = Receiver::start().await;

    // The page, its files and its headers.
    let resp = rh.http.get(rh.url("/console")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let csp = resp.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    assert_eq!(resp.headers()["cache-control"], "no-cache");
    let page = resp.text().await.unwrap();
    let js = page.split("src=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    assert!(js.starts_with("console/assets/") && js.ends_with("/app.js"), "{js}");
    let asset = rh.http.get(rh.url(&format!("/{js}"))).send().await.unwrap();
    assert_eq!(asset.headers()["content-type"], "text/javascript; charset=utf-8");
    assert!(asset.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    let slash = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = slash.get(rh.url("/console/")).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (302, "../console"));
    let (s, v) = rh.get("/console/nope.js").await;
    assert_eq!((s, v["error"].as_str()), (404, Some("not found")));

    let (s, hook) = rh.post("/v1/webhooks", &json!({"name": "CRM", "url": format!("{}/crm", rx.url)})).await;
    assert_eq!(s, 201, "{hook}");
    let hook_id = hook["id"].as_str().unwrap().to_string();

    // Send test event: a real delivery through the pipeline, signed, in the log.
    let (s, sent) = rh.post_raw(&format!("/v1/webhooks/{hook_id}/test"), "", &[]).await;
    assert_eq!(s, 202, "{sent}");
    let got = rx.wait_for(1, WAIT).await;
    assert_eq!(got[0].json()["type"], "ringhook.test");
    assert_eq!(got[0].json()["payload"]["webhookId"], hook_id.as_str());
    assert!(got[0].header("webhook-signature").is_some_and(|s| s.starts_with("v1,")));
    let delivery = rh.delivery(sent["deliveryId"].as_str().unwrap()).await;
    assert_eq!(delivery["webhookId"], hook_id.as_str());
    let (s, sent2) = rh
        .post(&format!("/v1/webhooks/{hook_id}/test"), &json!({"type": "agent.wrap", "payload": {"campaignId": "215"}}))
        .await;
    assert_eq!(s, 202, "{sent2}");
    assert_eq!(rx.wait_for(2, WAIT).await[1].json(), json!({"type": "agent.wrap", "payload": {"campaignId": "215"}}));
    for (body, field) in [
        (json!({"type": "Not A Type"}), "type:"),
        (json!({"payload": [1]}), "payload:"),
        (json!({"tipe": "x.y"}), "tipe:"),
        (json!({"type": 5}), "type:"),
    ] {
        let (s, v) = rh.post(&format!("/v1/webhooks/{hook_id}/test"), &body).await;
        assert_eq!(s, 422, "{body}: {v}");
        assert!(v["detail"].as_str().unwrap().starts_with(field), "{body}: {v}");
    }
    assert_eq!(rh.post("/v1/webhooks/wh_nope/test", &json!({})).await.0, 404);
    let (s, v) = rh.post_raw(&format!("/v1/webhooks/{hook_id}/test"), "{", &[]).await;
    assert_eq!((s, v["error"].as_str()), (400, Some("Invalid JSON format")), "{v}");

    // Test a trigger: a body or a saved one, the seed's sample by default; nothing is sent.
    let trigger = json!({"name": "Agent wrap", "eventType": "agent.wrap",
        "conditions": [{"reference": "campaignId", "operator": "in", "value": "215,223"},
                       {"reference": "lead.totalAttempts", "operator": ">=", "value": "1"}],
        "actions": [{"action": "webhook", "parameters": {"webhookId": hook_id}}]});
    let (s, r) = rh.post("/v1/triggers/test", &json!({"trigger": trigger})).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["sample"], "agent.wrap.outbound-preview");
    assert_eq!(r["fires"], false, "the seed's sample is in campaign 20161: {r}");
    assert_eq!(r["conditions"][0]["found"], "20161");
    assert_eq!((r["conditions"][0]["held"].as_bool(), r["conditions"][1]["held"].as_bool()), (Some(false), Some(true)));
    let (s, r) =
        rh.post("/v1/triggers/test", &json!({"trigger": trigger, "payload": agent_wrap_in_215()["payload"]})).await;
    assert_eq!((s, r["fires"].as_bool()), (200, Some(true)), "{r}");
    let saved = rh.create_trigger(&trigger).await;
    let (s, r) = rh.post("/v1/triggers/test", &json!({"triggerId": saved, "payload": {"campaignId": 223}})).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!((r["fires"].as_bool(), r["conditions"][1]["found"].is_null()), (Some(false), true), "{r}");
    for (body, error, field) in [
        (json!({"trigger": {"eventType": "agent.wrap", "actions": []}}), "Invalid JSON format", "trigger.name:"),
        (json!({"trigger": {"name": "x", "eventType": "agent.wrap"}}), "Actions object error", "trigger.actions:"),
        (
            json!({"trigger": {"name": "x", "eventType": "agent.wrap", "actions": [{"action": "webhook", "parameters": {"url": "ftp://x"}}]}}),
            "Invalid action parameters",
            "trigger.actions[0].parameters.url:",
        ),
        (
            json!({"trigger": {"name": "x", "eventType": "agent.wrap", "actions": [{"action": "webhok", "parameters": {"url": "https://x.example"}}]}}),
            "Error when saving trigger",
            "trigger.actions[0].action:",
        ),
        (json!({"trigger": trigger, "triggerId": saved}), "invalid trigger test", "triggerId:"),
        (json!({}), "invalid trigger test", "triggerId:"),
        (json!({"triggerId": "trg_nope"}), "invalid trigger test", "triggerId:"),
        (json!({"trigger": trigger, "payload": "x"}), "invalid trigger test", "payload:"),
        (json!({"trigger": trigger, "extra": 1}), "invalid trigger test", "extra:"),
        (
            json!({"trigger": {"name": "x", "eventType": "no.sample", "actions": [{"action": "lead.update.list", "parameters": {"listId": "1"}}]}}),
            "invalid trigger test",
            "payload:",
        ),
    ] {
        let (s, v) = rh.post("/v1/triggers/test", &body).await;
        assert_eq!((s, v["error"].as_str()), (422, Some(error)), "{body}: {v}");
        assert!(v["detail"].as_str().unwrap().starts_with(field), "{body}: {v}");
    }

    // The event-type filter and the stats, after one delivery of a real event.
    rh.send_event(&agent_wrap_in_215()).await;
    rx.wait_for(3, WAIT).await;
    let settled = rh.wait_settled(WAIT).await;
    assert_eq!(settled.len(), 3, "the trigger tests sent nothing: {settled:#?}");
    assert_eq!(rh.deliveries("eventType=agent.wrap").await.len(), 2);
    assert_eq!(rh.deliveries("eventType=ringhook.test").await.len(), 1);
    assert!(rh.deliveries("eventType=mpiq.attempt").await.is_empty());
    let (s, st) = rh.get("/v1/stats").await;
    assert_eq!(s, 200, "{st}");
    assert_eq!(st["totals"]["succeeded"], 3, "{st}");
    assert_eq!(st["totals"]["successRate"], 1.0);
    assert_eq!(st["series"].as_array().unwrap().len(), 24);
    let sum: u64 = st["series"].as_array().unwrap().iter().map(|b| b["succeeded"].as_u64().unwrap()).sum();
    assert_eq!(sum, 3);
    let d = &st["destinations"][0];
    assert_eq!((d["kind"].as_str(), d["id"].as_str()), (Some("webhook"), Some(hook_id.as_str())), "{st}");
    assert_eq!((d["latencySamples"].as_u64(), d["lastStatus"].as_u64()), (Some(3), Some(200)), "{st}");
    assert!(d["p50Ms"].as_u64().unwrap() <= d["p95Ms"].as_u64().unwrap());
    let (_, st) = rh.get("/v1/stats?since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z&buckets=4").await;
    assert_eq!((st["scanned"].as_u64(), st["series"].as_array().unwrap().len()), (Some(0), 4), "{st}");
    for (q, field) in [
        ("since=yesterday", "since:"),
        ("buckets=0", "buckets:"),
        ("buckets=x", "buckets:"),
        ("since=2001-01-01T00:00:00Z&until=2000-01-01T00:00:00Z", "since:"),
        ("window=1h", "window:"),
        ("since=-9223372036854775808", "since:"),
        ("until=9223372036854775807", "until:"),
    ] {
        let (s, v) = rh.get(&format!("/v1/stats?{q}")).await;
        assert_eq!(s, 422, "{q}: {v}");
        assert!(v["detail"].as_str().unwrap().starts_with(field), "{q}: {v}");
    }
}

// ----------------------------------------------------------------------------------------
// The browser.

/// chromedriver (in its own process group, so the browsers it starts go with it) and one
/// WebDriver session of headless Chromium.
struct Browser {
    driver: Child,
    client: Client,
    profile: PathBuf,
    shots: PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The whole group: chromedriver and every Chromium process it started, each by its
        // own (positive) id, so no `kill -<n>` is ever read as "every process".
        let group = self.driver.id();
        let members = processes_in_group(group);
        if !members.is_empty() {
            let _ = Command::new("kill").arg("-KILL").args(members.iter().map(u32::to_string)).status();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// The processes whose process group is `pgid` (from /proc; `pgid` itself is chromedriver's
/// pid, the group's leader).
fn processes_in_group(pgid: u32) -> Vec<u32> {
    if pgid <= 1 {
        return Vec::new();
    }
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            // `pid (comm) state ppid pgrp …`: the fields after the command's closing parenthesis.
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
            rest.split_whitespace().nth(2).and_then(|g| g.parse::<u32>().ok()) == Some(pgid)
        })
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("console-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Browser {
    async fn start() -> Browser {
        for (bin, what) in [(CHROMEDRIVER, "chromium-driver"), (CHROMIUM, "chromium")] {
            assert!(
                Path::new(bin).exists(),
                "{bin} is missing: the console's browser test needs Debian's {what} \
                 (`apt-get install -y chromium chromium-driver`; .ci/run installs them)"
            );
        }
        use std::os::unix::process::CommandExt;
        let port = free_port();
        let profile = std::env::temp_dir().join(format!("ringhook-console-chromium-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).unwrap();
        let log = std::fs::File::create(profile.with_extension("chromedriver.log")).unwrap();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .stdin(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + WAIT;
        while reqwest::get(format!("{url}/status")).await.is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start on {url}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"binary": CHROMIUM, "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,800",
                format!("--user-data-dir={}", profile.display()),
            ]}),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&url)
            .await
            .unwrap_or_else(|e| panic!("no WebDriver session with {CHROMIUM}: {e}"));
        Browser { driver, client, profile, shots: screenshot_dir() }
    }

    async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    /// Navigates the page's own router and waits until the page has rendered.
    async fn route(&self, hash: &str, page: &str) {
        // Cleared first, so the wait below cannot see the page before this one.
        self.js(
            "document.querySelector('main').dataset.ready = ''; \
             if (location.hash === arguments[0]) window.dispatchEvent(new HashChangeEvent('hashchange')); \
             else location.hash = arguments[0];",
            vec![json!(hash)],
        )
        .await;
        self.find(&format!("main[data-ready=\"{page}\"]")).await;
    }

    async fn find(&self, css: &str) -> Element {
        match self.client.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
            Ok(e) => e,
            Err(e) => {
                self.shot("failure").await;
                panic!("no element {css}: {e}\npage: {}", self.source().await)
            }
        }
    }

    async fn source(&self) -> String {
        let text = self.js("return document.querySelector('main')?.innerText || ''", vec![]).await;
        text.as_str().unwrap_or_default().chars().take(3000).collect()
    }

    async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Clears the field and types `text` into it, as a user would.
    async fn fill(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        e.clear().await.unwrap();
        e.send_keys(text).await.unwrap_or_else(|err| panic!("type into {css}: {err}"));
    }

    /// Sets a field's value at once (long JSON) and tells the page it changed.
    async fn set(&self, css: &str, text: &str) {
        self.find(css).await;
        self.js(
            "const e = document.querySelector(arguments[0]); e.value = arguments[1]; \
             e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true}));",
            vec![json!(css), json!(text)],
        )
        .await;
    }

    async fn choose(&self, css: &str, value: &str) {
        self.find(css).await.select_by_value(value).await.unwrap_or_else(|e| panic!("select {value} in {css}: {e}"));
    }

    async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    /// The text of the error shown for `path` (waits for it).
    async fn error_for(&self, path: &str) -> String {
        self.text(&format!("[data-error-for=\"{path}\"]")).await
    }

    async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    async fn until(&self, what: &str, script: &str) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let v = self.js(script, vec![]).await;
            if !(v.is_null() || v == json!(false)) {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}\npage: {}", self.source().await);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A screenshot of the whole page: the window is made as tall as the page for it.
    async fn shot(&self, name: &str) {
        let (w, h) = self.client.get_window_size().await.unwrap();
        let need = self
            .js("return document.documentElement.scrollHeight + (window.outerHeight - window.innerHeight)", vec![])
            .await
            .as_u64()
            .unwrap_or(h);
        let tall = need.clamp(h, 4000) as u32;
        if tall != h as u32 {
            self.client.set_window_size(w as u32, tall).await.unwrap();
        }
        let png = self.client.screenshot().await.unwrap();
        if tall != h as u32 {
            self.client.set_window_size(w as u32, h as u32).await.unwrap();
        }
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }

    /// Labels and keyboard: every visible control has a label, every button and link a name
    /// and a place in the tab order; the page does not scroll sideways.
    async fn check_page(&self, what: &str) {
        let problems = self
            .js(
                r#"const out = [];
                const visible = e => e.offsetParent !== null || e.getClientRects().length > 0;
                for (const e of document.querySelectorAll('input, select, textarea')) {
                  if (e.type === 'hidden' || !visible(e)) continue;
                  const named = (e.labels && e.labels.length && [...e.labels].some(l => l.textContent.trim())) || e.getAttribute('aria-label');
                  if (!named) out.push('unlabelled ' + e.outerHTML.slice(0, 120));
                }
                for (const e of document.querySelectorAll('button, a[href]')) {
                  if (!visible(e)) continue;
                  if (!(e.textContent.trim() || e.getAttribute('aria-label'))) out.push('unnamed ' + e.outerHTML.slice(0, 120));
                  if (e.tabIndex < 0) out.push('not focusable ' + e.outerHTML.slice(0, 120));
                }
                if (document.documentElement.scrollWidth > window.innerWidth + 1)
                  out.push('the page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + window.innerWidth);
                return out;"#,
                vec![],
            )
            .await;
        assert_eq!(problems, json!([]), "{what}");
    }

    /// Every request the page made went to Ringhook itself.
    async fn check_same_origin(&self, base: &str) {
        let names = self
            .js(
                "return performance.getEntries().filter(e => e.entryType === 'navigation' || e.entryType === 'resource').map(e => e.name)",
                vec![],
            )
            .await;
        let names: Vec<String> = serde_json::from_value(names).unwrap();
        assert!(!names.is_empty());
        for n in names {
            assert!(n.starts_with(&format!("{base}/")), "the console requested another host: {n}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_in_a_real_browser() {
    let rh = Ringhook::start(bin!(), Options::default()).await;
    let rx = Receiver::start().await;
    let b = Browser::start().await;
    let base = rh.base.trim_end_matches('/').to_string();

    // -- The first page, as a first visit loads it: its weight, and only this origin.
    b.goto(&format!("{base}/console")).await;
    b.find("form.signin input[type=password]").await;
    b.until("everything loaded", "return document.readyState === 'complete'").await;
    let weight = b
        .js(
            "const nav = performance.getEntriesByType('navigation')[0];
             const res = performance.getEntriesByType('resource');
             return {transfer: [nav, ...res].reduce((n, e) => n + e.transferSize, 0),
                     body: [nav, ...res].reduce((n, e) => n + e.encodedBodySize, 0), files: res.length + 1}",
            vec![],
        )
        .await;
    println!("console first page: {weight}");
    let transferred = weight["transfer"].as_f64().unwrap();
    assert!(transferred > 10_000.0, "the sizes were measured (not from a cache): {weight}");
    assert!(transferred < MAX_PAGE_BYTES, "the first page and what it loads weigh {weight}");
    b.check_same_origin(&base).await;
    b.check_page("sign-in").await;
    b.shot("01-sign-in").await;

    // -- Keyboard: the key field has the focus; Shift+Tab walks back to the brand link and the
    // skip link; a wrong key is refused on the form; the right one, sent with Enter, signs in.
    assert_eq!(b.js("return document.activeElement.name", vec![]).await, "apiKey");
    for expected in ["brand", "skip"] {
        let back = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: Key::Shift.into() })
            .then(KeyAction::Down { value: Key::Tab.into() })
            .then(KeyAction::Up { value: Key::Tab.into() })
            .then(KeyAction::Up { value: Key::Shift.into() });
        b.client.perform_actions(back).await.unwrap();
        assert_eq!(b.js("return document.activeElement.className", vec![]).await, expected);
    }
    b.fill("form.signin input", "rk_wrong_key").await;
    b.find("form.signin input").await.send_keys("\u{E007}").await.unwrap();
    assert!(b.text("form.signin .form-error").await.contains("unauthorized"));
    b.fill("form.signin input", &rh.key).await;
    b.find("form.signin input").await.send_keys("\u{E007}").await.unwrap();
    b.find("main[data-ready=overview]").await;
    b.find(".empty").await;
    b.check_page("overview, empty").await;
    b.shot("02-overview-empty").await;

    // -- A webhook through the form: field errors first, then created; the secret once.
    b.route("#/webhooks", "webhooks").await;
    b.find(".empty").await;
    b.route("#/webhooks/new", "webhooks").await;
    b.fill("[data-path=name] input", "CRM").await;
    b.fill("[data-path=url] input", "ftp://crm.example").await;
    b.click("form[aria-label=Webhook] button[type=submit]").await;
    assert!(b.error_for("url").await.contains("url:"), "the URL's error is under the URL");
    b.fill("[data-path=url] input", &format!("{}/agent-wrap", rx.url)).await;
    b.fill("[data-path=timeoutMs] input", "99999").await;
    b.click("form[aria-label=Webhook] button[type=submit]").await;
    assert!(b.error_for("timeoutMs").await.contains("timeoutMs"), "the timeout's error is under it");
    assert_eq!(b.js("return document.querySelectorAll('[data-error-for=url]').length", vec![]).await, 0);
    b.fill("[data-path=timeoutMs] input", "5000").await;
    b.click("fieldset[data-path=headers] > button").await;
    b.fill("[data-path='headers[0]'] .field:nth-of-type(1) input", "X-Source").await;
    b.fill("[data-path='headers[0]'] .field:nth-of-type(2) input", "console").await;
    b.choose("[data-path='auth.type'] select", "basic").await;
    b.fill("[data-path='auth.username'] input", "ringhook").await;
    b.fill("[data-path='auth.password'] input", "s3cret-pass").await;
    b.fill("[data-path=successCodes] input", "200, 201").await;
    b.check_page("new webhook").await;
    b.shot("03-webhook-form").await;
    b.click("form[aria-label=Webhook] button[type=submit]").await;
    let secret = b.find("#secret-once [data-secret]").await.attr("data-secret").await.unwrap().unwrap();
    assert!(secret.starts_with("whsec_"), "{secret}");
    b.shot("04-webhook-created-secret-once").await;
    let (_, hooks) = rh.get("/v1/webhooks").await;
    let hook = hooks["webhooks"][0].clone();
    let hook_id = hook["id"].as_str().unwrap().to_string();
    assert_eq!((hook["name"].as_str(), hook["auth"]["type"].as_str()), (Some("CRM"), Some("basic")), "{hook}");
    assert_eq!((hook["timeoutMs"].as_u64(), hook["successCodes"].clone()), (Some(5000), json!([200, 201])));
    // Read again: masked.
    b.route("#/webhooks", "webhooks").await;
    b.route(&format!("#/webhooks/{hook_id}"), "webhooks").await;
    let masked = b.text("#masked-secret").await;
    assert!(
        !masked.contains(&secret[10..])
            && b.js("return !document.querySelector('[data-secret]')", vec![]).await == true,
        "{masked}"
    );

    // -- Rotate, with confirmation: a new secret, shown once.
    b.click("section[aria-labelledby=manage-h] .actions button:nth-of-type(1)").await;
    b.find("dialog[open]").await;
    b.shot("05-rotate-confirm").await;
    b.click("dialog[open] button.primary").await;
    let rotated = b.find("#secret-once [data-secret]").await.attr("data-secret").await.unwrap().unwrap();
    assert!(rotated.starts_with("whsec_") && rotated != secret);
    assert!(b.text("#secret-once").await.contains("previous secret signs until"));
    let (_, now) = rh.get(&format!("/v1/webhooks/{hook_id}")).await;
    let shown = now["signingSecret"].as_str().unwrap().trim_end_matches('…');
    assert!(rotated.starts_with(shown) && !secret.starts_with(shown), "the new secret signs: {now}");

    // -- A trigger through the form. The seed's JSON error first, in the JSON view.
    b.route("#/triggers", "triggers").await;
    b.find(".empty").await;
    b.route("#/triggers/new", "triggers").await;
    b.click("form[aria-label=Trigger] .actions button[aria-pressed]").await;
    b.set("textarea[name=json]", "{\"name\": \"Send Webhook on Agent Wrap\", ").await;
    b.click("form[aria-label=Trigger] button[type=submit]").await;
    assert!(b.error_for("json").await.contains("Invalid JSON format"), "malformed JSON: the error is at the JSON");
    b.shot("06-trigger-json-view-error").await;
    // A fresh form for the others, each next to its field.
    b.route("#/triggers", "triggers").await;
    b.route("#/triggers/new", "triggers").await;
    b.click("form[aria-label=Trigger] button[type=submit]").await;
    assert!(b.error_for("name").await.contains("Invalid JSON format"), "no name");
    let long_name = format!("Send Webhook on Agent Wrap {}", "W".repeat(173));
    assert_eq!(long_name.chars().count(), 200);
    b.fill("[data-path=name] input", &long_name).await;
    b.click("button[aria-label='Remove action 1']").await;
    b.click("form[aria-label=Trigger] button[type=submit]").await;
    assert!(b.error_for("actions").await.contains("Actions object error"), "no action");
    b.click("fieldset[data-path=actions] > button").await;
    b.choose("[data-path='actions[0].parameters.webhookId'] select", "").await;
    b.fill("[data-path='actions[0].parameters.url'] input", "ftp://hooks.example").await;
    b.click("form[aria-label=Trigger] button[type=submit]").await;
    assert!(b.error_for("actions[0].parameters.url").await.contains("Invalid action parameters"), "an ftp URL");
    b.fill("[data-path='actions[0].parameters.url'] input", "https://hooks.example").await;
    b.fill("[data-path='actions[0].action'] input", "webhok").await;
    b.click("form[aria-label=Trigger] button[type=submit]").await;
    assert!(b.error_for("actions[0].action").await.contains("Error when saving trigger"), "a misspelt action");
    b.shot("07-trigger-form-error").await;
    // Now right: the seed's "Send Webhook on Agent Wrap", to the webhook made above.
    b.fill("[data-path='actions[0].action'] input", "webhook").await;
    b.choose("[data-path='actions[0].parameters.webhookId'] select", &hook_id).await;
    b.choose("[data-path=eventType] select", "agent.wrap").await;
    b.click("fieldset[data-path=conditions] > button").await;
    b.fill("[data-path='conditions[0].reference'] input", "campaignId").await;
    b.choose("[data-path='conditions[0].operator'] select", "in").await;
    b.fill("[data-path='conditions[0].value'] input", "215,223").await;
    b.check_page("trigger form").await;
    b.click("form[aria-label=Trigger] button[type=submit]").await;
    assert!(b.text("p.notice").await.contains("Trigger has been updated"));
    let (_, ts) = rh.get("/v1/triggers").await;
    let t = ts["triggers"][0].clone();
    let trigger_id = t["id"].as_str().unwrap().to_string();
    assert_eq!(t["name"], long_name.as_str());
    assert_eq!(t["conditions"], json!([{"reference": "campaignId", "operator": "in", "value": "215,223"}]));
    assert_eq!(t["actions"], json!([{"action": "webhook", "parameters": {"webhookId": hook_id}}]));

    // -- Test with the seed's sample event: campaign 20161 does not fire; 215 does.
    b.click("fieldset.test > button").await;
    assert_eq!(b.find("#test-result [data-fires]").await.attr("data-fires").await.unwrap().as_deref(), Some("false"));
    assert_eq!(b.find("#test-result tr[data-held]").await.attr("data-held").await.unwrap().as_deref(), Some("false"));
    let payload = b.js("return document.querySelector('textarea[name=payload]').value", vec![]).await;
    assert!(payload.as_str().unwrap().contains("\"20161\""), "the sample is shown: {payload}");
    b.set("textarea[name=payload]", &payload.as_str().unwrap().replace("\"20161\"", "\"215\"")).await;
    b.click("fieldset.test > button").await;
    b.until("the test fires", "return document.querySelector('#test-result [data-fires=true]') !== null").await;
    b.shot("08-trigger-tested").await;
    assert!(rh.deliveries("").await.is_empty(), "testing sends nothing");

    // -- The list: the long name wraps, and the enabled toggle works both ways.
    b.route("#/triggers", "triggers").await;
    b.check_page("triggers list with a 200-character name").await;
    let cell = b
        .js(
            "const r = document.querySelector('td.name').getBoundingClientRect(); return r.right <= window.innerWidth",
            vec![],
        )
        .await;
    assert_eq!(cell, true, "the long name stays inside the screen");
    b.shot("09-triggers-list").await;
    let toggle = format!("tr[data-id='{trigger_id}'] input[type=checkbox]");
    b.click(&toggle).await;
    wait_api(&rh, &format!("/v1/triggers/{trigger_id}"), |t| t["enabled"] == false).await;
    b.until("toggle usable again", &format!("return !document.querySelector(\"{toggle}\").disabled")).await;
    b.click(&toggle).await;
    wait_api(&rh, &format!("/v1/triggers/{trigger_id}"), |t| t["enabled"] == true).await;

    // -- The seed's agent.wrap event through the API: in the event log, with its attempt.
    rh.send_event(&agent_wrap_in_215()).await;
    let got = rx.wait_for(1, WAIT).await;
    assert_eq!(got[0].header("x-source"), Some("console"));
    rh.wait_settled(WAIT).await;
    b.route("#/log", "log").await;
    let row = b.find("tbody tr[data-id]").await;
    let delivery_id = row.attr("data-id").await.unwrap().unwrap();
    assert!(b.text("tbody tr[data-id] .badge").await.contains("succeeded"));
    b.check_page("event log").await;
    b.shot("10-event-log").await;
    // Filters: event type (new in the API), status.
    b.choose("form[aria-label=Filters] [data-path=eventType] select", "mpiq.attempt").await;
    b.click("form[aria-label=Filters] button[type=submit]").await;
    b.find("main[data-ready=log] .empty").await;
    b.choose("form[aria-label=Filters] [data-path=eventType] select", "agent.wrap").await;
    b.choose("form[aria-label=Filters] [data-path=status] select", "succeeded").await;
    b.choose("form[aria-label=Filters] [data-path=webhookId] select", &hook_id).await;
    b.click("form[aria-label=Filters] button[type=submit]").await;
    b.until("the filtered row", &format!("return location.hash.includes('eventType=agent.wrap') && !!document.querySelector(\"tr[data-id='{delivery_id}']\")")).await;
    // Recover failed deliveries since a time (with confirmation): none failed, none queued.
    b.click("form[aria-label='Recover failed deliveries'] button[type=submit]").await;
    b.click("dialog[open] button.primary").await;
    assert!(b.text("form[aria-label='Recover failed deliveries'] p.notice").await.contains("0 queued again"));
    b.shot("11-event-log-filtered").await;
    b.click(&format!("tr[data-id='{delivery_id}'] a")).await;
    b.find("main[data-ready=log] details.attempt[data-attempt='1']").await;
    let attempt = b.text("details.attempt[data-attempt='1']").await;
    assert!(attempt.contains("HTTP 200") && attempt.contains("Request") && attempt.contains("Response"), "{attempt}");
    let headers = b.text("details.attempt[data-attempt='1'] table.headers").await.to_lowercase();
    assert!(headers.contains("authorization") && headers.contains("webhook-signature"), "{headers}");
    assert!(!b.source().await.contains("s3cret-pass"), "the password is masked in the log");
    b.check_page("delivery detail").await;
    b.shot("12-delivery-detail").await;

    // -- Redeliver: a second attempt, logged and shown.
    b.click("main .head button.primary").await;
    b.find("main[data-ready=log] details.attempt[data-attempt='2']").await;
    rx.wait_for(2, WAIT).await;
    b.shot("13-redelivered").await;

    // -- Send a test event from the webhook's page.
    b.route(&format!("#/webhooks/{hook_id}"), "webhooks").await;
    b.click("section[aria-labelledby=manage-h] .actions button:nth-of-type(2)").await;
    b.find("#test-sent a").await;
    let got = rx.wait_for(3, WAIT).await;
    assert_eq!(got[2].json()["type"], "ringhook.test");
    rh.wait_settled(WAIT).await;
    b.route("#/webhooks", "webhooks").await;
    assert_eq!(
        b.find(&format!("tr[data-id='{hook_id}'] td[data-last-status]"))
            .await
            .attr("data-last-status")
            .await
            .unwrap()
            .as_deref(),
        Some("200")
    );
    b.check_page("webhooks list").await;
    b.shot("14-webhooks-list").await;

    // -- The overview counts them, and the chart draws them.
    b.route("#/overview", "overview").await;
    let total = b.find("svg#chart").await.attr("data-total").await.unwrap().unwrap();
    assert_eq!(total, "2", "one delivery of the event and one test delivery (redelivery keeps the delivery)");
    let bar = b.js("return [...document.querySelectorAll('svg#chart rect.bar.succeeded')].reduce((n, r) => n + Number(r.dataset.count), 0)", vec![]).await;
    assert_eq!(bar, 2);
    assert!(b.text("main table").await.contains("CRM"));
    b.check_page("overview").await;
    b.shot("15-overview").await;

    // -- Callback notifications: the seed's six tiles; enable one, then switch it off.
    b.route("#/callbacks", "callbacks").await;
    assert_eq!(b.js("return document.querySelectorAll('.tile[data-kind]').length", vec![]).await, 6);
    b.click(".tile[data-kind=confirmation] > button").await;
    b.choose(".tile[data-kind=confirmation] [data-path=webhookId] select", &hook_id).await;
    b.check_page("connect a tile").await;
    b.click(".tile[data-kind=confirmation] form button[type=submit]").await;
    b.find("main[data-ready=callbacks] .tile.on[data-kind=confirmation] .conn input[type=checkbox]").await;
    let (_, cs) = rh.get("/v1/connections").await;
    let conn = cs["connections"][0].clone();
    assert_eq!(
        (conn["kind"].as_str(), conn["enabled"].as_bool(), conn["webhookId"].as_str()),
        (Some("confirmation"), Some(true), Some(hook_id.as_str()))
    );
    b.shot("16-callbacks-enabled").await;
    b.click(".tile[data-kind=confirmation] .conn input[type=checkbox]").await;
    wait_api(&rh, &format!("/v1/connections/{}", conn["id"].as_str().unwrap()), |c| c["enabled"] == false).await;
    b.until(
        "the tile shows it off",
        "return !document.querySelector('.tile[data-kind=confirmation]').classList.contains('on')",
    )
    .await;
    b.shot("17-callbacks-disabled").await;

    // -- Every other resource's page, and a generic form's error at its field.
    for (key, file) in [
        ("templates", "18-templates"),
        ("sms-senders", "19-sms-senders"),
        ("call-targets", "20-call-targets"),
        ("locations", "21-locations"),
        ("campaigns", "22-campaigns"),
        ("dni-campaigns", "23-dni-campaigns"),
        ("call-treatments", "24-call-treatments"),
        ("sms", "31-sms"),
        ("flows", "32-flows"),
        ("contacts", "33-contacts"),
    ] {
        b.route(&format!("#/{key}"), key).await;
        b.find(&format!("main[data-ready='{key}'] .empty")).await;
        b.check_page(key).await;
        b.shot(file).await;
    }
    b.route("#/templates/new", "templates").await;
    b.fill("[data-path=name] input", "CRM lead").await;
    b.set("[data-path=format] textarea", "{\"first\": ").await;
    b.click("form[aria-label=Templates] button[type=submit]").await;
    assert!(b.error_for("format").await.contains("invalid template"));
    b.set("[data-path=format] textarea", "{\"first\": \"%ani_first_name%\"}").await;
    b.click("form[aria-label=Templates] button[type=submit]").await;
    b.find("main[data-ready=templates] details.attempt").await;
    b.check_page("template").await;
    b.shot("25-template").await;
    b.check_same_origin(&base).await;

    // -- A phone-sized screen: nothing scrolls sideways, the long name included.
    b.client.set_window_size(390, 844).await.unwrap();
    let width = b.js("return window.innerWidth", vec![]).await;
    assert!(width.as_u64().unwrap() <= 400, "a narrow viewport: {width}");
    for (hash, page, file) in [
        ("#/triggers", "triggers", "26-phone-triggers"),
        (&*format!("#/triggers/{trigger_id}"), "triggers", "27-phone-trigger-form"),
        ("#/overview", "overview", "28-phone-overview"),
        (&*format!("#/log/{delivery_id}"), "log", "29-phone-delivery"),
        ("#/callbacks", "callbacks", "30-phone-callbacks"),
    ] {
        b.route("#/webhooks", "webhooks").await;
        b.route(hash, page).await;
        b.check_page(&format!("390 px: {hash}")).await;
        b.shot(file).await;
    }
    b.check_same_origin(&base).await;
    b.client.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sms_pages_in_a_real_browser() {
    let rh = Ringhook::start(bin!(), Options::default()).await;
    let rx = Receiver::start().await;
    let b = Browser::start().await;
    let base = rh.base.trim_end_matches('/').to_string();
    let (s, hook) = rh.post("/v1/webhooks", &json!({"name": "SMS status", "url": format!("{}/sms", rx.url)})).await;
    assert_eq!(s, 201, "{hook}");
    let hook_id = hook["id"].as_str().unwrap().to_string();
    let sms_js = "return performance.getEntriesByType('resource').some(e => e.name.endsWith('/sms.js'))";

    // -- Sign in; the SMS pages' module is loaded only when one is opened, from the nav's entry.
    b.goto(&format!("{base}/console")).await;
    b.fill("form.signin input", &rh.key).await;
    b.find("form.signin input").await.send_keys("\u{E007}").await.unwrap();
    b.find("main[data-ready=overview]").await;
    assert_eq!(b.js(sms_js, vec![]).await, false, "not loaded with the first page");
    b.click("#nav a[href='#/sms']").await;
    b.find("main[data-ready=sms] .empty").await;
    assert_eq!(b.js(sms_js, vec![]).await, true);
    assert_eq!(b.text("#nav a[aria-current=page]").await, "SMS");

    // -- SMS settings: a bad time zone is refused at its field and changes nothing; then
    // Asia/Kolkata, notifyOnDelivery, the default webhook and a price.
    b.click("nav.subnav a[href='#/sms-settings']").await;
    b.find("main[data-ready=sms-settings] form[aria-label='SMS settings']").await;
    assert_eq!(b.text("#nav a[aria-current=page]").await, "SMS", "the nav entry groups the SMS pages");
    b.fill("[data-path=timeZone] input", "Mars/Base").await;
    b.click("form[aria-label='SMS settings'] button[type=submit]").await;
    let err = b.error_for("timeZone").await;
    assert!(err.contains("invalid account settings") && err.contains("timeZone:"), "{err}");
    b.shot("sms-01-settings-error").await;
    let (_, a) = rh.get("/v1/account").await;
    assert_eq!((a["timeZone"].as_str(), a["updatedAt"].as_str()), (Some("UTC"), None), "{a}");
    b.fill("[data-path=timeZone] input", "Asia/Kolkata").await;
    b.click("[data-path=notifyOnDelivery] input").await;
    b.choose("[data-path=defaultWebhookId] select", &hook_id).await;
    b.fill("[data-path='smsPricing.currencyName'] input", "INR").await;
    b.fill("[data-path='smsPricing.amountPerUnit'] input", "0.75").await;
    b.fill("[data-path=accountId] input", "28").await;
    b.check_page("sms settings").await;
    b.click("form[aria-label='SMS settings'] button[type=submit]").await;
    assert!(b.text("form[aria-label='SMS settings'] p.notice").await.contains("saved"));
    assert_eq!(b.js("return document.querySelectorAll('[data-error-for]').length", vec![]).await, 0);
    let (_, a) = rh.get("/v1/account").await;
    assert_eq!(
        (
            a["timeZone"].as_str(),
            a["notifyOnDelivery"].as_bool(),
            a["defaultWebhookId"].as_str(),
            a["accountId"].as_u64()
        ),
        (Some("Asia/Kolkata"), Some(true), Some(hook_id.as_str()), Some(28)),
        "{a}"
    );
    assert_eq!(
        (a["smsPricing"]["currencyName"].as_str(), a["smsPricing"]["amountPerUnit"].as_f64()),
        (Some("INR"), Some(0.75))
    );
    assert!(a["smsSenderId"].is_null(), "{a}");
    b.shot("sms-02-settings").await;

    // -- A flow through the form: an empty text is the API's error at the step's text; a second
    // step added and removed; then created, and in the list and the API.
    b.click("nav.subnav a[href='#/flows']").await;
    b.find("main[data-ready=flows] .empty").await;
    b.click("main .head a.button").await;
    b.find("form[aria-label=Flow] [data-path=id] input").await;
    b.fill("[data-path=id] input", "200").await;
    b.fill("[data-path=name] input", "Welcome IVR").await;
    b.click("[data-path=webhookEnabled] input").await;
    b.click("form[aria-label=Flow] button[type=submit]").await;
    assert!(b.error_for("smsSteps[0].text").await.contains("smsSteps[0].text:"));
    b.fill("[data-path='smsSteps[0].from'] input", "PHONON").await;
    b.fill("[data-path='smsSteps[0].text'] textarea", "Thanks for calling, $flow.key.name. Phonon").await;
    b.click("fieldset[data-path=smsSteps] > button").await;
    b.find("[data-path='smsSteps[1].text'] textarea").await;
    b.check_page("new flow").await;
    b.shot("sms-03-flow-form").await;
    b.click("button[aria-label='Remove SMS step 2']").await;
    assert_eq!(b.js("return document.querySelectorAll('[data-path^=\"smsSteps[\"].item').length", vec![]).await, 1);
    b.click("form[aria-label=Flow] button[type=submit]").await;
    b.until("the flow's page", "return location.hash === '#/flows/200' && document.querySelector('main[data-ready=flows] h1')?.textContent === 'Flow 200: Welcome IVR'").await;
    let (_, fs) = rh.get("/v1/flows").await;
    assert_eq!(fs["flows"].as_array().unwrap().len(), 1, "{fs}");
    let f = &fs["flows"][0];
    assert_eq!(
        (f["id"].as_u64(), f["name"].as_str(), f["webhookEnabled"].as_bool()),
        (Some(200), Some("Welcome IVR"), Some(true))
    );
    assert_eq!(
        f["smsSteps"],
        json!([{"to": "callerNumber", "from": "PHONON", "text": "Thanks for calling, $flow.key.name. Phonon"}])
    );
    b.route("#/flows", "flows").await;
    assert!(b.text("tr[data-id='200']").await.contains("Welcome IVR"));
    b.check_page("flows").await;
    b.shot("sms-04-flows").await;

    // -- The flow completes (through the API): its SMS is in the log, with no Twilio sender it
    // is not sent, and the default webhook hears of the run.
    rh.send_event(&json!({"type": "flow.completed", "payload": {"flowId": 200,
        "callUuid": "bd706f90-aa14-47ea-9844-3d1e1123f4ee", "callerNumber": "+919999999999", "variables": {"name": "Asha"}}}))
        .await;
    let got = rx.wait_for(1, WAIT).await;
    assert_eq!(
        (got[0].json()["event"].as_str(), got[0].json()["flowId"].as_u64()),
        (Some("flow.completed"), Some(200))
    );
    let deadline = Instant::now() + WAIT;
    let sms = loop {
        let (_, v) = rh.get("/v1/sms").await;
        if v["sms"][0]["deliveryStatus"] == "NOT_SENT" {
            break v["sms"][0].clone();
        }
        assert!(Instant::now() < deadline, "no SMS record: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let sms_id = sms["id"].as_str().unwrap().to_string();
    b.route("#/sms", "sms").await;
    let row = b.text(&format!("tr[data-id='{sms_id}']")).await;
    for want in ["+919999999999", "200 · Welcome IVR", "NOT_SENT", "0.75 INR", "Thanks for calling, Asha. Phonon"] {
        assert!(row.contains(want), "{want} in {row}");
    }
    b.check_page("sms log").await;
    b.shot("sms-05-log").await;
    // Filters: another status finds nothing; NOT_SENT of flow 200 to the number finds it.
    b.choose("form[aria-label=Filters] [data-path=status] select", "DELIVERED").await;
    b.click("form[aria-label=Filters] button[type=submit]").await;
    b.find("main[data-ready=sms] .empty").await;
    b.choose("form[aria-label=Filters] [data-path=status] select", "NOT_SENT").await;
    b.choose("form[aria-label=Filters] [data-path=flowId] select", "200").await;
    b.fill("form[aria-label=Filters] [data-path=to] input", "+919999999999").await;
    b.click("form[aria-label=Filters] button[type=submit]").await;
    b.until(
        "the filtered row",
        &format!(
            "return location.hash.includes('status=NOT_SENT') && !!document.querySelector(\"tr[data-id='{sms_id}']\")"
        ),
    )
    .await;
    // The record in full: segments, cost, status and why, times in the account's zone.
    b.click(&format!("tr[data-id='{sms_id}'] a")).await;
    b.find("main[data-ready=sms] #sms-record").await;
    let fact = |name: &'static str| {
        let b = &b;
        async move {
            let v = b.js("const dt = [...document.querySelectorAll('#sms-record dt')].find(d => d.textContent === arguments[0]); \
                          return dt ? dt.nextElementSibling.textContent : null", vec![json!(name)]).await;
            v.as_str().unwrap_or_else(|| panic!("no {name} shown")).to_string()
        }
    };
    assert_eq!(fact("Status").await, "NOT_SENT");
    assert_eq!(fact("Segments").await, "1");
    assert_eq!(fact("Length").await, "32");
    assert_eq!(fact("Type").await, "NORMAL, nonEnglishChars false");
    assert_eq!(fact("Cost").await, "0.75 INR: 1 × Unit, category SMS, currency 1");
    assert!(fact("Error").await.contains("no Twilio sender"));
    assert!(fact("Created").await.ends_with("+05:30"), "in Asia/Kolkata");
    assert_eq!(fact("Account").await, "28");
    assert_eq!(fact("Sent").await, "—");
    assert!(b.text("main .empty").await.contains("None yet"), "no status webhook answer");
    assert_eq!(sms["segments"], 1);
    b.check_page("sms record").await;
    b.shot("sms-06-record").await;
    // Its delivery, in the event log.
    let delivery = sms["deliveryId"].as_str().unwrap().to_string();
    b.click(&format!("#sms-record a[href='#/log/{delivery}']")).await;
    b.find("main[data-ready=log] dl.facts").await;
    assert!(b.text("main h1").await.contains(&delivery));

    // -- Contacts: the flow's SMS made its number a contact (active, no bounces), deleted from
    // the list; a bad number is the API's error at the field; a contact added; unsubscribed and
    // re-subscribed from the list; deleted.
    b.route("#/contacts", "contacts").await;
    let row = b
        .js("return [...document.querySelectorAll(\"tr[data-id='+919999999999'] td\")].map(t => t.textContent)", vec![])
        .await;
    assert_eq!(row, json!(["+919999999999", "", "active", "0", "UnsubscribeDelete"]));
    b.click("button[aria-label='Delete +919999999999']").await;
    b.click("dialog[open] button.primary").await;
    b.find("main[data-ready=contacts] .empty").await;
    b.fill("[data-path=phone_number] input", "919999999999").await;
    b.click("form[aria-label=Contact] button[type=submit]").await;
    assert!(b.error_for("phone_number").await.contains("phone_number:"));
    b.fill("[data-path=phone_number] input", "+919999999999").await;
    b.fill("[data-path=first_name] input", "Asha").await;
    b.fill("[data-path=email] input", "asha@example.com").await;
    b.click("form[aria-label=Contact] button[type=submit]").await;
    let row = b.text("tr[data-id='+919999999999']").await;
    assert!(row.contains("Asha · asha@example.com") && row.contains("active"), "{row}");
    b.click("button[aria-label='Unsubscribe +919999999999']").await;
    wait_api(&rh, "/v1/contacts/+919999999999", |c| c["status"] == "unsubscribed").await;
    b.find("button[aria-label='Re-subscribe +919999999999']").await;
    assert!(b.text("tr[data-id='+919999999999']").await.contains("unsubscribed"));
    b.check_page("contacts").await;
    b.shot("sms-07-contacts-unsubscribed").await;
    b.click("button[aria-label='Re-subscribe +919999999999']").await;
    wait_api(&rh, "/v1/contacts/+919999999999", |c| c["status"] == "active").await;
    b.find("button[aria-label='Unsubscribe +919999999999']").await;
    b.click("button[aria-label='Delete +919999999999']").await;
    b.click("dialog[open] button.primary").await;
    b.find("main[data-ready=contacts] .empty").await;
    assert_eq!(rh.get("/v1/contacts/+919999999999").await.0, 404);

    // -- The flow renamed, then deleted (with a confirmation).
    b.route("#/flows/200", "flows").await;
    b.fill("[data-path=name] input", "Welcome IVR (Hindi)").await;
    b.click("form[aria-label=Flow] button[type=submit]").await;
    assert!(b.text("form[aria-label=Flow] p.notice").await.contains("Flow saved"));
    assert_eq!(rh.get("/v1/flows/200").await.1["name"], "Welcome IVR (Hindi)");
    b.click("form[aria-label=Flow] > .actions button.danger").await;
    b.click("dialog[open] button.primary").await;
    b.find("main[data-ready=flows] .empty").await;
    assert_eq!(rh.get("/v1/flows/200").await.0, 404);

    // -- A phone-sized screen: the record and the settings do not scroll sideways.
    b.client.set_window_size(390, 844).await.unwrap();
    for (hash, page, file) in [
        (&*format!("#/sms/{sms_id}"), "sms", "sms-08-phone-record"),
        ("#/sms-settings", "sms-settings", "sms-09-phone-settings"),
    ] {
        b.route(hash, page).await;
        b.check_page(&format!("390 px: {hash}")).await;
        b.shot(file).await;
    }
    b.check_same_origin(&base).await;
    b.client.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sms_webhook_pages_in_a_real_browser() {
    let rh = Ringhook::start(bin!(), Options::default()).await;
    let rx = Receiver::start().await;
    let b = Browser::start().await;
    let base = rh.base.trim_end_matches('/').to_string();
    let (s, hook) =
        rh.post("/v1/webhooks", &json!({"name": "CRM inbound", "url": "https://crm.example.com/sms/inbound"})).await;
    assert_eq!(s, 201, "{hook}");
    let hook_id = hook["id"].as_str().unwrap().to_string();
    let (s, sender) = rh
        .post(
            "/v1/sms-senders",
            &json!({"accountSid": "AC0123456789abcdef0123456789abcdef", "authToken": "9f8e7d6c5b4a39281706f5e4d3c2b1a0"}),
        )
        .await;
    assert_eq!(s, 201, "{sender}");
    let sender_id = sender["id"].as_str().unwrap().to_string();
    let loaded = "return performance.getEntriesByType('resource').some(e => e.name.endsWith('/messaging.js'))";

    // -- Sign in; the message settings' module is loaded only when one of its tabs is opened.
    b.goto(&format!("{base}/console")).await;
    b.fill("form.signin input", &rh.key).await;
    b.find("form.signin input").await.send_keys("\u{E007}").await.unwrap();
    b.find("main[data-ready=overview]").await;
    b.click("#nav a[href='#/sms']").await;
    b.find("main[data-ready=sms] .empty").await;
    assert_eq!(b.js(loaded, vec![]).await, false, "not loaded with the SMS log");
    b.click("nav.subnav a[href='#/sms-messaging']").await;
    b.find("main[data-ready=sms-messaging] form[aria-label='Message settings']").await;
    assert_eq!(b.js(loaded, vec![]).await, true);
    assert_eq!(b.text("#nav a[aria-current=page]").await, "SMS", "under the SMS entry");
    assert_eq!(b.text("nav.subnav a[aria-current=page]").await, "Message settings");
    // The defaults: every destination none.
    let kinds = b.js("return [...document.querySelectorAll('fieldset[data-kind] select')].filter(s => s.closest('.field').dataset.path.split('.').length === 2).map(s => s.value)", vec![]).await;
    assert_eq!(kinds, json!(["", "", "", "", "", ""]));

    // -- A URL the API refuses: its error under the bounce URL, nothing saved.
    b.choose("[data-path='webhooks.bounce'] select", "url").await;
    b.fill("[data-path='webhooks.bounce.url'] input", "ftp://x").await;
    b.click("form[aria-label='Message settings'] button[type=submit]").await;
    let err = b.error_for("webhooks.bounce.url").await;
    assert!(err.contains("invalid message settings") && err.contains("webhooks.bounce.url:"), "{err}");
    assert_eq!(b.js("return document.querySelectorAll('[data-error-for]').length", vec![]).await, 1);
    b.shot("sms-10-messaging-error").await;
    let (_, m) = rh.get("/v1/account/messaging").await;
    assert!(m["updatedAt"].is_null() && m["webhooks"]["bounce"].is_null(), "{m}");

    // -- Inbound to the webhook, bounce to a URL, threshold 2, unknown-only, JOIN; saved.
    b.choose("[data-path='webhooks.inbound'] select", "webhook").await;
    b.choose("[data-path='webhooks.inbound.webhookId'] select", &hook_id).await;
    b.fill("[data-path='webhooks.bounce.url'] input", "https://crm.example.com/sms/bounce").await;
    b.fill("[data-path=bounceThreshold] input", "2").await;
    b.click("[data-path=unknownMessagesOnly] input").await;
    b.fill("[data-path=optInKeywords] input", "JOIN").await;
    b.check_page("message settings").await;
    b.click("form[aria-label='Message settings'] button[type=submit]").await;
    assert!(b.text("form[aria-label='Message settings'] p.notice").await.contains("saved"));
    assert_eq!(b.js("return document.querySelectorAll('[data-error-for]').length", vec![]).await, 0);
    let (_, m) = rh.get("/v1/account/messaging").await;
    assert_eq!(
        m["webhooks"],
        json!({"inbound": {"webhookId": hook_id}, "unsubscribe": null, "bounce": {"url": "https://crm.example.com/sms/bounce"},
               "deliveryReport": null, "contactStatus": null, "rejection": null})
    );
    assert_eq!(
        (&m["bounceThreshold"], &m["unknownMessagesOnly"], &m["optInKeywords"]),
        (&json!(2), &json!(true), &json!(["JOIN"])),
        "{m}"
    );
    assert!(m["updatedAt"].is_string(), "{m}");
    // The sender's inbound URL, shown to copy as the API gives it.
    assert_eq!(m["inboundUrls"].as_array().unwrap().len(), 1, "{m}");
    assert_eq!(m["inboundUrls"][0]["smsSenderId"], sender_id.as_str());
    let inbound = m["inboundUrls"][0]["url"].as_str().unwrap();
    assert!(inbound.contains("/v1/twilio/inbound?") && inbound.contains(&sender_id), "{inbound}");
    assert_eq!(b.text(&format!("#inbound-urls [data-sender='{sender_id}'] code")).await, inbound);
    b.find(&format!("#inbound-urls [data-sender='{sender_id}'] button")).await;
    // Opened again, the form shows what was saved.
    b.route("#/sms-messaging", "sms-messaging").await;
    let shown = b
        .js(
            "const v = p => document.querySelector(`[data-path='${p}'] select, [data-path='${p}'] input`); \
             return [v('webhooks.inbound').value, v('webhooks.inbound.webhookId').value, v('webhooks.bounce').value, \
                     v('webhooks.bounce.url').value, v('webhooks.rejection').value, v('bounceThreshold').value, \
                     v('unknownMessagesOnly').checked, v('optInKeywords').value]",
            vec![],
        )
        .await;
    assert_eq!(shown, json!(["webhook", hook_id, "url", "https://crm.example.com/sms/bounce", "", "2", true, "JOIN"]));
    b.check_page("message settings").await;
    b.shot("sms-11-messaging").await;
    // The delivery report to the receiver, for the send below; the others stay as they are.
    b.choose("[data-path='webhooks.deliveryReport'] select", "url").await;
    b.fill("[data-path='webhooks.deliveryReport.url'] input", &format!("{}/report", rx.url)).await;
    b.click("form[aria-label='Message settings'] button[type=submit]").await;
    assert!(b.text("form[aria-label='Message settings'] p.notice").await.contains("saved"));
    let (_, m2) = rh.get("/v1/account/messaging").await;
    assert_eq!(m2["webhooks"]["deliveryReport"], json!({"url": format!("{}/report", rx.url)}));
    assert_eq!(
        (&m2["webhooks"]["inbound"], &m2["webhooks"]["bounce"]),
        (&m["webhooks"]["inbound"], &m["webhooks"]["bounce"])
    );

    // -- A send: a bad third number is the API's error at the recipients, nothing sent; then two
    // good numbers, and the send's page with each recipient's record.
    b.click("nav.subnav a[href='#/send']").await;
    b.find("main[data-ready=send] form[aria-label=Send]").await;
    assert!(b.text("main p.notice").await.contains("no Twilio sender"), "the account has none");
    b.set("[data-path=to] textarea", "+15551230001\n+15551230002\n555").await;
    b.fill("[data-path=text] textarea", "Your order has shipped.").await;
    b.click("form[aria-label=Send] button[type=submit]").await;
    let err = b.error_for("to").await;
    assert!(err.contains("invalid message") && err.contains("to[2]:") && err.contains("555"), "{err}");
    b.check_page("send").await;
    b.shot("sms-12-send-error").await;
    assert_eq!(rh.get("/v1/sms").await.1["sms"], json!([]), "nothing sent");
    b.set("[data-path=to] textarea", "+15551230001\n+15551230002\n").await;
    b.click("form[aria-label=Send] button[type=submit]").await;
    let hash = b
        .until(
            "the send's page",
            "return location.hash.startsWith('#/send/snd_') && document.querySelector('main[data-ready=send] #send') && location.hash",
        )
        .await;
    let send_id = hash.as_str().unwrap().trim_start_matches("#/send/").to_string();
    // Without a Twilio sender both end NOT_SENT, which is final, so the report goes out.
    wait_api(&rh, &format!("/v1/messages/{send_id}"), |s| {
        s["reportedAt"].is_string()
            && s["messages"].as_array().unwrap().iter().all(|m| m["deliveryStatus"] == "NOT_SENT")
    })
    .await;
    let (_, send) = rh.get(&format!("/v1/messages/{send_id}")).await;
    let report = rx.wait_for(1, WAIT).await;
    assert_eq!(report[0].path, "/report");
    assert_eq!(report[0].json()["total_messages"], 2, "{}", report[0].json());
    assert_eq!(report[0].json()["messages"][1]["phone_number"], "15551230002");
    assert_eq!((send["totalMessages"].as_u64(), send["text"].as_str()), (Some(2), Some("Your order has shipped.")));
    b.click("main .head button").await; // Refresh
    b.until(
        "the report",
        "return document.querySelector('main[data-ready=send] #send')?.textContent.includes('went out')",
    )
    .await;
    let rows = b.js("return [...document.querySelectorAll('main tbody tr')].map(r => r.dataset.id)", vec![]).await;
    let records = send["messages"].as_array().unwrap();
    assert_eq!(rows, json!(records.iter().map(|r| r["id"].clone()).collect::<Vec<_>>()));
    for (r, to) in records.iter().zip(["+15551230001", "+15551230002"]) {
        assert_eq!(r["to"], to);
        assert!(r["flowId"].is_null() && r["phononUuid"] == send_id.as_str(), "{r}");
        let row = b.text(&format!("tr[data-id='{}']", r["id"].as_str().unwrap())).await;
        assert!(row.contains(to) && row.contains(r["deliveryStatus"].as_str().unwrap()), "{row}");
    }
    assert!(b.text("#send").await.contains(&send_id));
    b.check_page("a send").await;
    b.shot("sms-13-send").await;
    // Each record's page, and back to its send.
    let first = records[0]["id"].as_str().unwrap();
    b.click(&format!("tr[data-id='{first}'] a")).await;
    b.find("main[data-ready=sms] #sms-record").await;
    b.click(&format!("#sms-record a[href='#/send/{send_id}']")).await;
    b.find("main[data-ready=send] #send").await;
    // The send's records are in the SMS log too, named by their send.
    b.route("#/sms", "sms").await;
    assert!(b.text(&format!("tr[data-id='{first}']")).await.contains("Send"));
    // A send opened by its id.
    b.route("#/send", "send").await;
    b.fill("form[aria-label='Open a send'] input", &send_id).await;
    b.click("form[aria-label='Open a send'] button").await;
    b.until(
        "the send opened by id",
        &format!(
            "return location.hash === '#/send/{send_id}' && !!document.querySelector('main[data-ready=send] #send')"
        ),
    )
    .await;

    // -- A carrier deactivates one of the numbers (a contact.status event, through the API): the
    // contacts list shows each number's status and bounces as the API has them.
    rh.send_event(
        &json!({"type": "contact.status", "payload": {"phone_number": "+15551230001", "status": "deactivated"}}),
    )
    .await;
    wait_api(&rh, "/v1/contacts/+15551230001", |c| c["status"] == "deactivated").await;
    b.route("#/contacts", "contacts").await;
    for n in ["+15551230001", "+15551230002"] {
        let (_, c) = rh.get(&format!("/v1/contacts/{n}")).await;
        let cells = b
            .js(
                "return [...document.querySelectorAll(`tr[data-id='${arguments[0]}'] td`)].slice(2, 4).map(t => t.textContent)",
                vec![json!(n)],
            )
            .await;
        assert_eq!(cells, json!([c["status"], c["bounces"].to_string()]), "{n}: {c}");
    }
    assert_eq!(b.text("tr[data-id='+15551230001'] .badge.failed").await, "deactivated");
    b.check_page("contacts").await;
    b.shot("sms-14-contacts-status").await;

    // -- A phone-sized screen.
    b.client.set_window_size(390, 844).await.unwrap();
    for (hash, page, file) in [
        ("#/sms-messaging", "sms-messaging", "sms-15-phone-messaging"),
        (&*format!("#/send/{send_id}"), "send", "sms-16-phone-send"),
    ] {
        b.route(hash, page).await;
        b.check_page(&format!("390 px: {hash}")).await;
        b.shot(file).await;
    }
    b.check_same_origin(&base).await;
    b.client.clone().close().await.unwrap();
}

/// Polls a read until `ok` holds.
async fn wait_api(rh: &Ringhook, path: &str, ok: impl Fn(&Value) -> bool) {
    let deadline = Instant::now() + WAIT;
    loop {
        let (s, v) = rh.get(path).await;
        if s == 200 && ok(&v) {
            return;
        }
        assert!(Instant::now() < deadline, "{path} never became as expected: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The account page: which outcome events go to the event bus (`/v1/outcome-events`), none by
/// default; a choice saved through the form is what the API then answers, and the API's error
/// is shown at the field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_page_in_a_real_browser() {
    let rh = Ringhook::start(bin!(), Options::default()).await;
    let b = Browser::start().await;
    let base = rh.base.trim_end_matches('/').to_string();
    let loaded = "return performance.getEntriesByType('resource').some(e => e.name.endsWith('/account.js'))";
    let form = "main[data-ready=account] form[aria-label='Outcome events']";
    let checked = "return [...document.querySelectorAll('form[aria-label=\"Outcome events\"] input[type=checkbox]')].map(c => [c.value, c.checked])";

    // -- Sign in; the page's module is loaded only when it is opened.
    b.goto(&format!("{base}/console")).await;
    b.fill("form.signin input", &rh.key).await;
    b.find("form.signin input").await.send_keys("\u{E007}").await.unwrap();
    b.find("main[data-ready=overview]").await;
    assert_eq!(b.js(loaded, vec![]).await, false, "not loaded with the overview");
    b.click("#nav a[href='#/account']").await;
    b.find(form).await;
    assert_eq!(b.js(loaded, vec![]).await, true);
    assert_eq!(b.text("#nav a[aria-current=page]").await, "Account");
    // The default: nothing published.
    assert_eq!(b.js(checked, vec![]).await, json!([["delivery.succeeded", false], ["delivery.failed", false]]));
    assert!(b.source().await.contains("nothing is published"), "{}", b.source().await);
    b.check_page("account").await;
    b.shot("account-01-default").await;

    // -- delivery.failed only, saved; the API answers what the form shows.
    b.click("form[aria-label='Outcome events'] input[value='delivery.failed']").await;
    b.click("form[aria-label='Outcome events'] button[type=submit]").await;
    let notice = b.text("form[aria-label='Outcome events'] p.notice").await;
    assert!(notice.contains("delivery.failed") && !notice.contains("delivery.succeeded"), "{notice}");
    let (_, v) = rh.get("/v1/outcome-events").await;
    assert_eq!(v["types"], json!(["delivery.failed"]), "{v}");
    assert!(v["updatedAt"].is_string(), "{v}");
    // Read again from the API when the page is opened again.
    b.route("#/overview", "overview").await;
    b.route("#/account", "account").await;
    assert_eq!(b.js(checked, vec![]).await, json!([["delivery.succeeded", false], ["delivery.failed", true]]));
    assert!(b.source().await.contains("Last changed"), "{}", b.source().await);
    b.shot("account-02-failed-only").await;

    // -- A choice the API refuses (a page older than the server, say): the API's error at the
    // types, nothing changed.
    b.js(
        "document.querySelector('form[aria-label=\"Outcome events\"] input[value=\"delivery.succeeded\"]').value = 'delivery.retried'",
        vec![],
    )
    .await;
    b.click("form[aria-label='Outcome events'] input[value='delivery.retried']").await;
    b.click("form[aria-label='Outcome events'] button[type=submit]").await;
    let err = b.error_for("types").await;
    assert!(err.contains("invalid outcome events") && err.contains("types[0]:"), "{err}");
    b.shot("account-03-error").await;
    let (_, v) = rh.get("/v1/outcome-events").await;
    assert_eq!(v["types"], json!(["delivery.failed"]), "unchanged: {v}");

    // -- None again.
    b.route("#/account", "account").await;
    b.click("form[aria-label='Outcome events'] input[value='delivery.failed']").await;
    b.click("form[aria-label='Outcome events'] button[type=submit]").await;
    assert!(b.text("form[aria-label='Outcome events'] p.notice").await.contains("no outcome events"));
    assert_eq!(rh.get("/v1/outcome-events").await.1["types"], json!([]));

    // -- A phone-sized screen.
    b.client.set_window_size(390, 844).await.unwrap();
    b.route("#/account", "account").await;
    b.check_page("390 px: #/account").await;
    b.shot("account-04-phone").await;
    b.check_same_origin(&base).await;
    b.client.clone().close().await.unwrap();
}
