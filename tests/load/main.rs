//! `ringhook-load`: drives the local runner over HTTP and measures it from ingestion to webhook
//! receipt.
//!
//! ```text
//! cargo run --release -p ringhook-e2e --bin ringhook-load -- --duration 20 --rate 2000
//! ```
//!
//! By default it builds (`cargo build --release -p ringhook-local`, a no-op when up to date) and
//! starts `target/release/ringhook-local` on a fresh temporary data directory with loopback
//! destinations allowed, starts its own webhook receiver on 127.0.0.1, creates the seed's
//! "Send Webhook on Agent Wrap" trigger pointing at the receiver (plus the seed's other trigger
//! examples, which do not match), then runs two phases with the seed's agent.wrap event:
//!
//! 1. **throughput**: `POST /v1/events` as fast as it is answered, `--batch` events per request
//!    on `--concurrency` connections, for `--duration` seconds. Reports the sustained rate from
//!    the first send to the last webhook receipt, and checks every accepted event arrived.
//! 2. **latency**: single events at a fixed `--rate` for `--latency-duration` seconds, open loop
//!    (each send is scheduled in advance and measured from its scheduled time, so a stalled
//!    server cannot hide its own backlog), on as many concurrent connections as it takes.
//!    Reports p50/p95/p99/max from the scheduled send to the webhook's arrival.
//!
//! Everything stays on loopback; the run is bounded by the durations, `--max-events` and
//! `--settle-secs` (how long to wait for stragglers). The exit status is non-zero when an
//! accepted event never arrived.

mod receiver;
mod runner;

use anyhow::{bail, Context};
use clap::{Parser, ValueEnum};
use receiver::Board;
use runner::{Runner, Usage};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod clock {
    use std::sync::OnceLock;
    use std::time::Instant;

    static T0: OnceLock<Instant> = OnceLock::new();

    /// Nanoseconds since the tool started (one monotonic clock for sender and receiver).
    pub fn now_ns() -> u64 {
        T0.get_or_init(Instant::now).elapsed().as_nanos() as u64
    }
}
use clock::now_ns;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Phase {
    Both,
    Throughput,
    Latency,
}

/// Load test for ringhook-local: events/s from ingestion to webhook receipt, and latency at a
/// fixed rate.
#[derive(Debug, Parser)]
#[command(name = "ringhook-load", about)]
struct Args {
    /// Seconds of the max-rate (throughput) phase.
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// Events per second of the fixed-rate (latency) phase.
    #[arg(long, default_value_t = 2000)]
    rate: u64,
    /// Seconds of the fixed-rate (latency) phase.
    #[arg(long, default_value_t = 10)]
    latency_duration: u64,
    /// Events per request in the fixed-rate phase (1 = single events, as a dialer posting each
    /// outcome; more = a gateway forwarding in batches). The rate stays in events per second.
    #[arg(long, default_value_t = 1)]
    latency_batch: usize,
    /// Which phases to run.
    #[arg(long, value_enum, default_value = "both")]
    phase: Phase,
    /// Events per request in the throughput phase (1 = single events; at most 500).
    #[arg(long, default_value_t = 50)]
    batch: usize,
    /// Requests in flight in the throughput phase.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Most requests in flight in the latency phase (sends beyond it wait and are counted late).
    #[arg(long, default_value_t = 2000)]
    max_in_flight: usize,
    /// Upper bound on events sent in the whole run.
    #[arg(long, default_value_t = 1_000_000)]
    max_events: u64,
    /// How long to wait for outstanding webhooks after a phase's last receipt.
    #[arg(long, default_value_t = 30)]
    settle_secs: u64,
    /// Drive an already running Ringhook at this base URL instead of starting one (it must
    /// allow loopback destinations, and --api-key must be one of its keys).
    #[arg(long)]
    url: Option<String>,
    /// API key (registered on the runner this tool starts).
    #[arg(long, default_value = "rk_load_test_key_0123456789")]
    api_key: String,
    /// The runner binary to start (default: target/release/ringhook-local, built first).
    #[arg(long)]
    runner_bin: Option<PathBuf>,
    /// Do not run `cargo build --release -p ringhook-local` before starting the runner.
    #[arg(long)]
    no_build: bool,
    /// Extra argument for the runner, repeatable: --runner-arg=--delivery-workers=16
    #[arg(long = "runner-arg", allow_hyphen_values = true)]
    runner_args: Vec<String>,
    /// Keep the runner's temporary data directory (and its log) after the run.
    #[arg(long)]
    keep_data: bool,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write every event's send time and event-to-receipt latency (ms) as CSV to this file.
    #[arg(long)]
    dump: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.batch == 0 || args.batch > 500 {
        bail!("--batch must be 1 to 500");
    }
    now_ns();
    // Two workers: the machine this is meant for has two cores, shared with the runner.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let ok = rt.block_on(run(args))?;
    rt.shutdown_timeout(Duration::from_secs(1));
    if !ok {
        std::process::exit(1);
    }
    Ok(())
}

/// The seed's agent.wrap event, split so each copy only appends its sequence number and time.
struct EventTemplate {
    /// `{"type":"agent.wrap","payload":{...` without the payload's closing brace.
    prefix: String,
}

impl EventTemplate {
    fn load() -> anyhow::Result<Self> {
        let path = runner::workspace_root().join("events/triggers/payloads/agent.wrap.outbound-preview.json");
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let v: Value = serde_json::from_str(&text)?;
        let payload = serde_json::to_string(&v["payload"])?;
        let inner = payload.strip_suffix('}').context("payload is an object")?;
        let sep = if inner.ends_with('{') { "" } else { "," };
        Ok(Self { prefix: format!(r#"{{"type":{},"payload":{inner}{sep}"#, v["type"]) })
    }

    fn push(&self, out: &mut String, seq: u64, sent_ns: u64) {
        use std::fmt::Write;
        out.push_str(&self.prefix);
        let _ = write!(out, r#""loadSeq":{seq},"loadSentNs":{sent_ns}}}}}"#);
    }

    fn single(&self, seq: u64, sent_ns: u64) -> String {
        let mut s = String::with_capacity(self.prefix.len() + 64);
        self.push(&mut s, seq, sent_ns);
        s
    }

    fn batch(&self, first: u64, n: usize, sent_ns: u64) -> String {
        let mut s = String::with_capacity(16 + n * (self.prefix.len() + 64));
        s.push_str(r#"{"events":["#);
        for i in 0..n as u64 {
            if i > 0 {
                s.push(',');
            }
            self.push(&mut s, first + i, sent_ns);
        }
        s.push_str("]}");
        s
    }
}

struct Ctx {
    http: reqwest::Client,
    events_url: String,
    api_key: String,
    board: Arc<Board>,
    template: EventTemplate,
    /// Set once the event was answered 202.
    accepted: Vec<AtomicBool>,
    next_seq: AtomicU64,
    /// POST /v1/events round trips (ns) of the current phase.
    post_ns: Mutex<Vec<u64>>,
    rejected: AtomicU64,
    errors: Mutex<Vec<String>>,
}

impl Ctx {
    /// POSTs `body` carrying events `seqs`; marks them accepted on 202.
    async fn post(&self, body: String, seqs: std::ops::Range<u64>) {
        let began = now_ns();
        let res = self
            .http
            .post(&self.events_url)
            .bearer_auth(&self.api_key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        let outcome = match res {
            Ok(r) if r.status().as_u16() == 202 => {
                let _ = r.bytes().await;
                Ok(())
            }
            Ok(r) => {
                let status = r.status();
                Err(format!("{status}: {}", r.text().await.unwrap_or_default()))
            }
            Err(e) => Err(e.to_string()),
        };
        self.post_ns.lock().unwrap().push(now_ns() - began);
        match outcome {
            Ok(()) => seqs.for_each(|s| self.accepted[s as usize].store(true, Ordering::Release)),
            Err(e) => {
                self.rejected.fetch_add(seqs.end - seqs.start, Ordering::Relaxed);
                let mut errs = self.errors.lock().unwrap();
                if errs.len() < 5 {
                    errs.push(e);
                }
            }
        }
    }

    /// Reserves `n` sequence numbers, or None when the run's bound is reached.
    fn reserve(&self, n: u64) -> Option<u64> {
        let first = self.next_seq.fetch_add(n, Ordering::Relaxed);
        (first + n <= self.board.capacity() as u64).then_some(first)
    }
}

async fn run(args: Args) -> anyhow::Result<bool> {
    let board = Arc::new(Board::new(args.max_events as usize));
    let hook_url = receiver::start(board.clone()).await?;

    let runner = match &args.url {
        Some(u) => Runner::external(u),
        None => {
            let bin = match &args.runner_bin {
                Some(b) => b.clone(),
                None => {
                    if !args.no_build {
                        tokio::task::block_in_place(runner::build_release)?;
                    }
                    runner::default_binary()
                }
            };
            Runner::spawn(&bin, &args.api_key, &args.runner_args, args.keep_data)?
        }
    };
    eprintln!("ringhook at {} (pid {:?}); webhook receiver at {hook_url}", runner.base, runner.pid());

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.max_in_flight.max(args.concurrency))
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()?;
    setup(&http, &runner, &args, &hook_url).await?;

    let ctx = Arc::new(Ctx {
        http,
        events_url: format!("{}/v1/events", runner.base),
        api_key: args.api_key.clone(),
        board: board.clone(),
        template: EventTemplate::load()?,
        accepted: (0..args.max_events).map(|_| AtomicBool::new(false)).collect(),
        next_seq: AtomicU64::new(0),
        post_ns: Mutex::new(Vec::new()),
        rejected: AtomicU64::new(0),
        errors: Mutex::new(Vec::new()),
    });

    println!("ringhook-load: {} cores, {}", nproc(), cpu_model());
    // Samples the runner's anonymous memory (VmHWM covers the total only).
    let peak_anon_kb = Arc::new(AtomicU64::new(0));
    if let Some(pid) = runner.pid() {
        let peak = peak_anon_kb.clone();
        tokio::spawn(async move {
            while let Some(u) = Usage::of(pid) {
                peak.fetch_max(u.anon_kb, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        });
    }
    let mut results = serde_json::Map::new();
    let mut all_ok = true;
    if args.phase != Phase::Latency {
        let r = throughput_phase(&ctx, &args, &runner).await;
        all_ok &= r["missing"] == 0;
        results.insert("throughput".into(), r);
    }
    if args.phase != Phase::Throughput {
        if args.phase == Phase::Both {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let r = latency_phase(&ctx, &args, &runner).await;
        all_ok &= r["missing"] == 0;
        results.insert("latency".into(), r);
    }
    if let Some(u) = runner.usage() {
        let peak_anon = peak_anon_kb.load(Ordering::Relaxed);
        println!(
            "runner memory: VmHWM (peak RSS) {} MiB, of which the process's own (anonymous) memory peaked at {} MiB; \
             the rest is pages of the memory-mapped database file",
            u.hwm_kb / 1024,
            peak_anon / 1024
        );
        results.insert("runnerPeakRssKb".into(), json!(u.hwm_kb));
        results.insert("runnerPeakAnonKb".into(), json!(peak_anon));
    }
    let malformed = board.malformed.load(Ordering::Relaxed);
    if malformed > 0 {
        println!("receiver: {malformed} requests that were not load-test webhooks");
    }
    if let Some(path) = &args.dump {
        let end = ctx.next_seq.load(Ordering::Relaxed).min(board.capacity() as u64) as usize;
        let mut csv = String::from("seq,sent_ms,latency_ms\n");
        for i in 0..end {
            let at = board.received_ns[i].load(Ordering::Acquire);
            let sent = board.sent_ns[i].load(Ordering::Relaxed);
            if at > 0 {
                csv.push_str(&format!("{i},{:.3},{:.3}\n", sent as f64 / 1e6, at.saturating_sub(sent) as f64 / 1e6));
            }
        }
        std::fs::write(path, csv)?;
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&Value::Object(results))?)?;
    }
    if let Some(dir) = runner.data_dir.as_ref().filter(|_| args.keep_data) {
        println!("runner data and log kept in {}", dir.display());
    }
    println!("{}", if all_ok { "OK: every accepted event was delivered" } else { "FAILED: events missing" });
    Ok(all_ok)
}

/// The trigger under test (the seed's webhook trigger, aimed at the receiver) and the seed's
/// other trigger examples, which the load event does not match.
async fn setup(http: &reqwest::Client, runner: &Runner, args: &Args, hook_url: &str) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match http.get(format!("{}/health", runner.base)).send().await {
            Ok(r) if r.status().is_success() => break,
            _ if std::time::Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(50)).await,
            other => bail!("{} is not healthy: {other:?}", runner.base),
        }
    }
    let mut triggers = vec![json!({
        "name": "Load test: webhook on agent wrap",
        "eventType": "agent.wrap",
        "enabled": true,
        "conditions": [{"reference": "campaignId", "operator": "in", "value": "215, 223, 20161"},
                       {"reference": "lead.totalAttempts", "operator": ">=", "value": "1"}],
        "actions": [{"action": "webhook", "parameters": {"url": hook_url}}]
    })];
    if args.url.is_none() {
        let dir = runner::workspace_root().join("events/triggers/examples");
        let mut files: Vec<_> = std::fs::read_dir(&dir)?.filter_map(Result::ok).map(|e| e.path()).collect();
        files.sort();
        for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "json")) {
            triggers.push(serde_json::from_str(&std::fs::read_to_string(f)?)?);
        }
    }
    for t in &triggers {
        let r = http.post(format!("{}/v1/triggers", runner.base)).bearer_auth(&args.api_key).json(t).send().await?;
        if r.status().as_u16() != 201 {
            bail!("creating trigger {}: {} {}", t["name"], r.status(), r.text().await.unwrap_or_default());
        }
    }
    eprintln!("{} triggers created (1 matches the load event)", triggers.len());
    Ok(())
}

async fn throughput_phase(ctx: &Arc<Ctx>, args: &Args, runner: &Runner) -> Value {
    let batch = args.batch as u64;
    println!(
        "\n== throughput: max rate for {} s, {} event(s) per request, {} requests in flight",
        args.duration, batch, args.concurrency
    );
    ctx.post_ns.lock().unwrap().clear();
    let usage0 = (runner.usage(), Usage::of_self());
    let first_seq = ctx.next_seq.load(Ordering::Relaxed);
    let start = now_ns();
    let end = start + args.duration * 1_000_000_000;
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency.max(1) {
        let ctx = ctx.clone();
        tasks.push(tokio::spawn(async move {
            while now_ns() < end {
                let Some(first) = ctx.reserve(batch) else { break };
                let body = if batch == 1 {
                    ctx.template.single(first, now_ns())
                } else {
                    ctx.template.batch(first, batch as usize, now_ns())
                };
                ctx.post(body, first..first + batch).await;
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let sent_until = now_ns();
    let last_seq = ctx.next_seq.load(Ordering::Relaxed).min(ctx.board.capacity() as u64);
    settle(ctx, first_seq..last_seq, args.settle_secs).await;
    let usage1 = (runner.usage(), Usage::of_self());
    let s = summarize(ctx, first_seq..last_seq, start);
    let send_secs = (sent_until - start) as f64 / 1e9;
    let e2e_secs = (s.last_receipt_ns.saturating_sub(start)) as f64 / 1e9;
    let sustained = if e2e_secs > 0.0 { s.received as f64 / e2e_secs } else { 0.0 };
    let posts = percentiles(&mut ctx.post_ns.lock().unwrap());
    println!(
        "sent {} events in {:.1} s ({:.0}/s accepted by POST /v1/events; {} rejected)",
        s.accepted,
        send_secs,
        s.accepted as f64 / send_secs,
        ctx.rejected.load(Ordering::Relaxed)
    );
    println!(
        "received {} of {} ({} missing, {} duplicate deliveries), last one {:.2} s after the first send",
        s.received, s.accepted, s.missing, s.duplicates, e2e_secs
    );
    println!("SUSTAINED END TO END: {sustained:.0} events/s (receipts / time from first send to last receipt)");
    println!(
        "  webhooks received per second: {}",
        s.per_second.iter().map(u64::to_string).collect::<Vec<_>>().join(" ")
    );
    println!("  POST /v1/events round trip: {}", posts.line());
    println!("  event-to-receipt (includes the backlog at max rate): {}", s.latency.line());
    let cpu = cpu_line(usage0, usage1, e2e_secs);
    println!("  {cpu}");
    print_errors(ctx);
    json!({
        "durationSecs": args.duration, "batch": batch, "concurrency": args.concurrency,
        "accepted": s.accepted, "received": s.received, "missing": s.missing, "duplicates": s.duplicates,
        "ingestPerSec": s.accepted as f64 / send_secs, "sustainedPerSec": sustained, "e2eSecs": e2e_secs,
        "perSecond": s.per_second, "postMs": posts.json(), "latencyMs": s.latency.json(), "cpu": cpu,
    })
}

async fn latency_phase(ctx: &Arc<Ctx>, args: &Args, runner: &Runner) -> Value {
    let rate = args.rate.max(1);
    let per_request = args.latency_batch.clamp(1, 500) as u64;
    let requests = rate * args.latency_duration / per_request;
    let shape = if per_request == 1 {
        "one event per request".to_string()
    } else {
        format!("{per_request} events per request")
    };
    println!(
        "\n== latency: {rate} events/s for {} s, {shape}, open loop (up to {} requests in flight)",
        args.latency_duration, args.max_in_flight
    );
    ctx.post_ns.lock().unwrap().clear();
    let usage0 = (runner.usage(), Usage::of_self());
    let first_seq = ctx.next_seq.load(Ordering::Relaxed);
    let sem = Arc::new(tokio::sync::Semaphore::new(args.max_in_flight.max(1)));
    let mut late = 0u64;
    let start = now_ns() + 1_000_000;
    let mut sent = 0u64;
    for i in 0..requests {
        let due = start + i * per_request * 1_000_000_000 / rate;
        let now = now_ns();
        if due > now {
            tokio::time::sleep(Duration::from_nanos(due - now)).await;
        }
        let permit = match sem.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                late += 1;
                sem.clone().acquire_owned().await.expect("semaphore open")
            }
        };
        let Some(seq) = ctx.reserve(per_request) else { break };
        sent += per_request;
        let ctx = ctx.clone();
        tokio::spawn(async move {
            // Measured from when it was due, not when it got out.
            let body = if per_request == 1 {
                ctx.template.single(seq, due)
            } else {
                ctx.template.batch(seq, per_request as usize, due)
            };
            ctx.post(body, seq..seq + per_request).await;
            drop(permit);
        });
    }
    let sent_until = now_ns();
    // Wait for the last POSTs to be answered before judging what is missing.
    let _ = sem.acquire_many(args.max_in_flight.max(1) as u32).await;
    let last_seq = first_seq + sent;
    settle(ctx, first_seq..last_seq, args.settle_secs).await;
    let s = summarize(ctx, first_seq..last_seq, start);
    let usage1 = (runner.usage(), Usage::of_self());
    let send_secs = (sent_until - start) as f64 / 1e9;
    let posts = percentiles(&mut ctx.post_ns.lock().unwrap());
    println!(
        "sent {} events in {:.1} s ({:.0}/s; {} sent late because {} were in flight)",
        sent,
        send_secs,
        sent as f64 / send_secs,
        late,
        args.max_in_flight
    );
    println!(
        "received {} of {} ({} missing, {} duplicate deliveries)",
        s.received, s.accepted, s.missing, s.duplicates
    );
    println!("EVENT-TO-RECEIPT LATENCY at {rate}/s: {}", s.latency.line());
    println!("  POST /v1/events round trip: {}", posts.line());
    let cpu = cpu_line(usage0, usage1, send_secs);
    println!("  {cpu}");
    print_errors(ctx);
    json!({
        "rate": rate, "durationSecs": args.latency_duration, "eventsPerRequest": per_request, "sent": sent, "late": late,
        "accepted": s.accepted, "received": s.received, "missing": s.missing, "duplicates": s.duplicates,
        "latencyMs": s.latency.json(), "postMs": posts.json(), "cpu": cpu,
    })
}

/// Waits until every accepted event of `seqs` has arrived, or nothing arrived for `quiet_secs`.
async fn settle(ctx: &Ctx, seqs: std::ops::Range<u64>, quiet_secs: u64) -> bool {
    let mut last_progress = now_ns();
    let mut last_count = 0;
    loop {
        let (mut waiting, mut got) = (0u64, 0u64);
        for s in seqs.clone() {
            let received = ctx.board.count[s as usize].load(Ordering::Acquire) > 0;
            got += received as u64;
            waiting += (ctx.accepted[s as usize].load(Ordering::Acquire) && !received) as u64;
        }
        if waiting == 0 {
            return true;
        }
        if got != last_count {
            last_count = got;
            last_progress = now_ns();
        } else if now_ns() - last_progress > quiet_secs * 1_000_000_000 {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

struct Summary {
    accepted: u64,
    received: u64,
    missing: u64,
    duplicates: u64,
    last_receipt_ns: u64,
    per_second: Vec<u64>,
    latency: Percentiles,
}

fn summarize(ctx: &Ctx, seqs: std::ops::Range<u64>, start_ns: u64) -> Summary {
    let b = &ctx.board;
    let (mut accepted, mut received, mut missing, mut duplicates, mut last) = (0, 0, 0, 0, 0);
    let mut lat = Vec::with_capacity((seqs.end - seqs.start) as usize);
    let mut per_second = Vec::new();
    for s in seqs {
        let i = s as usize;
        let count = b.count[i].load(Ordering::Acquire) as u64;
        let acc = ctx.accepted[i].load(Ordering::Acquire);
        accepted += acc as u64;
        if count == 0 {
            missing += acc as u64;
            continue;
        }
        received += 1;
        duplicates += count - 1;
        let at = b.received_ns[i].load(Ordering::Acquire);
        last = last.max(at);
        lat.push(at.saturating_sub(b.sent_ns[i].load(Ordering::Relaxed)));
        let sec = (at.saturating_sub(start_ns) / 1_000_000_000) as usize;
        if per_second.len() <= sec {
            per_second.resize(sec + 1, 0);
        }
        per_second[sec] += 1;
    }
    Summary {
        accepted,
        received,
        missing,
        duplicates,
        last_receipt_ns: last,
        per_second,
        latency: percentiles(&mut lat),
    }
}

struct Percentiles {
    n: usize,
    /// p50, p95, p99, p99.9, max, mean (ms)
    p50: f64,
    p95: f64,
    p99: f64,
    p999: f64,
    max: f64,
    mean: f64,
}

fn percentiles(ns: &mut [u64]) -> Percentiles {
    ns.sort_unstable();
    let at = |q: f64| -> f64 {
        if ns.is_empty() {
            return 0.0;
        }
        let i = ((ns.len() as f64 * q).ceil() as usize).clamp(1, ns.len()) - 1;
        ns[i] as f64 / 1e6
    };
    let mean = if ns.is_empty() { 0.0 } else { ns.iter().map(|&v| v as f64).sum::<f64>() / ns.len() as f64 / 1e6 };
    Percentiles {
        n: ns.len(),
        p50: at(0.50),
        p95: at(0.95),
        p99: at(0.99),
        p999: at(0.999),
        max: ns.last().map(|&v| v as f64 / 1e6).unwrap_or(0.0),
        mean,
    }
}

impl Percentiles {
    fn line(&self) -> String {
        format!(
            "p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms, mean {:.2} ms (n={})",
            self.p50, self.p95, self.p99, self.p999, self.max, self.mean, self.n
        )
    }
    fn json(&self) -> Value {
        json!({"n": self.n, "p50": self.p50, "p95": self.p95, "p99": self.p99, "p999": self.p999,
               "max": self.max, "mean": self.mean})
    }
}

/// CPU used by the runner and by this tool (generator + receiver) over a phase.
fn cpu_line(before: (Option<Usage>, Option<Usage>), after: (Option<Usage>, Option<Usage>), secs: f64) -> String {
    let share = |a: Option<Usage>, b: Option<Usage>| match (a, b) {
        (Some(a), Some(b)) if secs > 0.0 => format!("{:.0}%", (b.cpu_secs - a.cpu_secs) / secs * 100.0),
        _ => "n/a".into(),
    };
    format!(
        "CPU (100% = one core): runner {}, load tool + receiver {}",
        share(before.0, after.0),
        share(before.1, after.1)
    )
}

fn print_errors(ctx: &Ctx) {
    for e in ctx.errors.lock().unwrap().drain(..) {
        println!("  error from POST /v1/events: {e}");
    }
    ctx.rejected.store(0, Ordering::Relaxed);
}

fn nproc() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_string()))
        })
        .unwrap_or_else(|| "unknown CPU".into())
}
