//! End-to-end test support: start the real local runner as a child process on a free port,
//! talk to it over HTTP, kill it with SIGKILL and restart it on the same data, and receive its
//! webhooks on a real HTTP server that records every request and answers as scripted.

pub mod checks;
pub mod faults;
pub mod receiver;
pub mod twilio;

pub use receiver::{Receiver, Recorded, Reply};

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The path of the runner under test, built from this checkout by cargo.
#[macro_export]
macro_rules! bin {
    () => {
        env!("CARGO_BIN_EXE_ringhook-under-test")
    };
}

pub const API_KEY: &str = "rk_e2e_test_key_0123456789";
pub const ADMIN_TOKEN: &str = "admin_e2e_token_0123456789";

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Run on a manual clock: time moves only through `advance`.
    pub manual_clock: bool,
    /// `--allow-destinations`; default: loopback allowed.
    pub allow_destinations: Option<String>,
    pub extra_args: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl Options {
    pub fn manual_clock() -> Self {
        Self { manual_clock: true, ..Self::default() }
    }
}

pub struct Ringhook {
    bin: String,
    opts: Options,
    child: Option<Child>,
    pub data_dir: PathBuf,
    pub base: String,
    pub key: String,
    pub http: reqwest::Client,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn fresh_dir() -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("ringhook-e2e-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create test data dir");
    dir
}

impl Ringhook {
    pub async fn start(bin: &str, opts: Options) -> Self {
        let mut rh = Self {
            bin: bin.to_string(),
            opts,
            child: None,
            data_dir: fresh_dir(),
            base: String::new(),
            key: API_KEY.to_string(),
            http: reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap(),
        };
        rh.spawn().await;
        rh
    }

    /// The log file (stderr of every run of this instance).
    pub fn log_path(&self) -> PathBuf {
        self.data_dir.join("ringhook.log")
    }

    async fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.log_path()).expect("log file");
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--data-dir")
            .arg(&self.data_dir)
            .args(["--listen", "127.0.0.1:0", "--api-key", API_KEY, "--admin-token", ADMIN_TOKEN])
            .args(["--clock", if self.opts.manual_clock { "manual" } else { "system" }])
            .args(["--allow-destinations", self.opts.allow_destinations.as_deref().unwrap_or("127.0.0.0/8,::1/128")])
            .args(&self.opts.extra_args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .stdin(Stdio::null());
        for (k, v) in &self.opts.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", self.bin));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if !sent {
                    if let Some(url) = line.strip_prefix("ringhook listening on ") {
                        let _ = tx.send(url.trim().to_string());
                        sent = true;
                    }
                }
            }
        });
        let base = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(30)))
            .await
            .unwrap()
            .unwrap_or_else(|_| panic!("ringhook did not start; see {}", self.log_path().display()));
        self.base = base;
        self.child = Some(child);
    }

    /// SIGKILL: no shutdown code runs, exactly like a crash.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Kills and starts again on the same data directory (the port changes).
    pub async fn restart(&mut self) {
        self.kill9();
        self.spawn().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let resp = req.send().await.expect("request to ringhook");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        (status, body)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(self.url(path)).bearer_auth(&self.key)).await
    }
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(self.http.post(self.url(path)).bearer_auth(&self.key).json(body)).await
    }
    pub async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(self.http.put(self.url(path)).bearer_auth(&self.key).json(body)).await
    }
    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(self.http.delete(self.url(path)).bearer_auth(&self.key)).await
    }
    /// A raw body with optional extra headers.
    pub async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>, headers: &[(&str, &str)]) -> (u16, Value) {
        let mut req = self.http.post(self.url(path)).bearer_auth(&self.key).header("content-type", "application/json");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req.body(body)).await
    }
    /// With another credential (or none).
    pub async fn request_as(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, self.url(path));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        self.send(req).await
    }

    /// Creates another tenant through the admin API; returns its API key.
    pub async fn new_tenant(&self, name: &str) -> String {
        self.new_tenant_full(name).await["apiKey"].as_str().unwrap().to_string()
    }

    /// Moves the manual clock forward and runs the scheduler once.
    pub async fn advance(&self, secs: i64) {
        let (s, v) = self
            .request_as(
                reqwest::Method::POST,
                "/v1/admin/clock",
                Some(ADMIN_TOKEN),
                Some(&serde_json::json!({"advanceSecs": secs})),
            )
            .await;
        assert_eq!(s, 200, "advance clock: {v}");
        self.tick().await;
    }

    pub async fn tick(&self) {
        let (s, v) = self.request_as(reqwest::Method::POST, "/v1/admin/scheduler/tick", Some(ADMIN_TOKEN), None).await;
        assert_eq!(s, 200, "tick: {v}");
    }

    pub async fn create_trigger(&self, trigger: &Value) -> String {
        let (s, v) = self.post("/v1/triggers", trigger).await;
        assert_eq!(s, 201, "create trigger: {v}");
        v["id"].as_str().unwrap().to_string()
    }

    pub async fn send_event(&self, event: &Value) -> String {
        let (s, v) = self.post("/v1/events", event).await;
        assert_eq!(s, 202, "post event: {v}");
        v["ids"][0].as_str().unwrap().to_string()
    }

    /// Deliveries matching the query string, e.g. "status=succeeded".
    pub async fn deliveries(&self, query: &str) -> Vec<Value> {
        let (s, v) = self.get(&format!("/v1/deliveries?limit=500&{query}")).await;
        assert_eq!(s, 200, "list deliveries: {v}");
        v["deliveries"].as_array().cloned().unwrap_or_default()
    }

    pub async fn delivery(&self, id: &str) -> Value {
        let (s, v) = self.get(&format!("/v1/deliveries/{id}")).await;
        assert_eq!(s, 200, "get delivery: {v}");
        v
    }

    /// Polls (every 20 ms, real time) until `query` lists at least `n` deliveries.
    pub async fn wait_deliveries(&self, query: &str, n: usize, within: Duration) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let ds = self.deliveries(query).await;
            if ds.len() >= n {
                return ds;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("expected {n} deliveries with {query:?}, have {}: {ds:#?}", ds.len());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until nothing is pending any more and returns every delivery.
    pub async fn wait_settled(&self, within: Duration) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let pending = self.deliveries("status=pending").await;
            if pending.is_empty() {
                return self.deliveries("").await;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("deliveries still pending: {pending:#?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Ringhook {
    /// The options the next `restart` uses (e.g. a stricter `allow_destinations`).
    pub fn options_mut(&mut self) -> &mut Options {
        &mut self.opts
    }

    /// Creates another tenant through the admin API; returns the whole answer (`tenant`,
    /// `apiKey`, `signingSecret`).
    pub async fn new_tenant_full(&self, name: &str) -> Value {
        let (s, v) = self
            .request_as(
                reqwest::Method::POST,
                "/v1/admin/tenants",
                Some(ADMIN_TOKEN),
                Some(&serde_json::json!({"name": name})),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        v
    }

    async fn move_clock(&self, body: Value) -> i64 {
        let (s, v) = self.request_as(reqwest::Method::POST, "/v1/admin/clock", Some(ADMIN_TOKEN), Some(&body)).await;
        assert_eq!(s, 200, "move clock: {v}");
        v["nowMs"].as_i64().expect("nowMs")
    }

    /// The manual clock's time (epoch ms).
    pub async fn clock_ms(&self) -> i64 {
        self.move_clock(serde_json::json!({"advanceMs": 0})).await
    }

    /// Moves the manual clock forward by `ms` and runs the scheduler once; returns the new time.
    pub async fn advance_ms(&self, ms: i64) -> i64 {
        let now = self.move_clock(serde_json::json!({"advanceMs": ms})).await;
        self.tick().await;
        now
    }

    /// Sets the manual clock to `ms` (epoch ms) and runs the scheduler once.
    pub async fn set_clock_ms(&self, ms: i64) {
        self.move_clock(serde_json::json!({"setMs": ms})).await;
        self.tick().await;
    }

    /// Every delivery matching `query` (e.g. "status=pending"), following `nextCursor`.
    pub async fn all_deliveries(&self, query: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/v1/deliveries?limit=500&{query}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let (s, v) = self.get(&path).await;
            assert_eq!(s, 200, "list deliveries: {v}");
            out.extend(v["deliveries"].as_array().cloned().unwrap_or_default());
            match v["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return out,
            }
        }
    }

    /// Whether the runner process is still alive (it has not exited or crashed).
    pub fn is_running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }
}

impl Drop for Ringhook {
    fn drop(&mut self) {
        self.kill9();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }
}

/// A seed payload from `events/`.
pub fn sample(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("events").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}
