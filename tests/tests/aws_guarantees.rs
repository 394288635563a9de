//! Issue 5's delivery guarantees and security on the AWS backend: the runner with `--aws` on
//! DynamoDB + SQS + EventBridge in a local emulator (`moto_server`, resources from
//! `infra/template.yaml`), with real receivers.
//!
//! * `aws_fault_injection_against_each_retry_policy`: receivers that answer 500, time out,
//!   reset, answer 410, 429/503 with `Retry-After`, or fail twice and then succeed, against
//!   `exponential`, `fixed-10m-48h` and `single-retry` on a manual clock: exact attempt counts,
//!   exact spacing, final states (the expectations are `faults.rs`'s, from docs/delivery.md).
//! * `aws_sigkill_while_delivering_loses_nothing`: events in flight, the runner SIGKILLed
//!   several times and restarted on the same resources: everything delivered, each `webhook-id`
//!   repeated only as docs/delivery.md allows, nothing dead-lettered.
//! * `aws_tenant_isolation_and_write_only_secrets`: another tenant's ids answer 404 for every
//!   read, update, delete and redelivery; no secret in any response or in the runner's log at
//!   `RUST_LOG=trace`; a 5 s retry really waits for its SQS delay.
//!
//! Each test has its own emulator and its own freshly provisioned resources. The emulator keeps
//! real time: SQS delays and visibility timeouts pass in real seconds whatever the runner's
//! manual clock says. See `drive` for how the fault test deals with that.

use ringhook::aws::provision::{default_template_path, Template};
use ringhook::aws::{load_sdk_config, MotoServer, SqsQueue};
use ringhook::pipeline::deliver::DeliveryMessage;
use ringhook::ports::{OutMessage, Queue, QueueName};
use ringhook_e2e::checks::schedule::{self, queue_delay, Expected, Outcome, Policy, HOUR, MAX_QUEUE_DELAY, MIN};
use ringhook_e2e::checks::{
    assert_at_least_once_across_kills, assert_cross_tenant_refused, assert_gaps, assert_no_secrets, Calls, TenantIds,
};
use ringhook_e2e::faults::{Fault, FaultServer};
use ringhook_e2e::{bin, Options, Receiver, Reply, Ringhook, ADMIN_TOKEN, API_KEY};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// The emulator's endpoint reaches the SDK through process environment: one test at a time
/// exports it and builds its clients.
static SDK_ENV: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One emulator with one set of freshly provisioned resources.
struct Aws {
    moto: MotoServer,
    /// Environment for the runner: the emulator's endpoint and credentials, the resource names.
    env: Vec<(String, String)>,
    /// The deliveries queue, for the fault test's driver.
    queue: SqsQueue,
}

impl Aws {
    async fn start(prefix: &str) -> Aws {
        let moto = tokio::task::spawn_blocking(MotoServer::start).await.unwrap().unwrap_or_else(|e| {
            panic!(
                "the local AWS emulator (moto_server) could not be started, so the AWS backend cannot be tested: {e:#}"
            )
        });
        // The SDK reads `AWS_ENDPOINT_URL` from the environment whenever it builds a client:
        // every client this test uses is built while the variables name its own emulator.
        let env_guard = SDK_ENV.lock().await;
        moto.export_env();
        let sdk = load_sdk_config().await;
        let settings = Template::load(default_template_path())
            .expect("infra/template.yaml")
            .provision(&sdk, prefix)
            .await
            .unwrap_or_else(|e| panic!("provisioning from the template failed: {e:#}\n{}", moto.log_tail()));
        let queue = SqsQueue::new(&sdk, settings.queue_urls());
        drop(env_guard);
        let mut env: Vec<(String, String)> = moto.env_vars().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        env.extend(settings.env_vars().into_iter().map(|(k, v)| (k.to_string(), v)));
        Aws { moto, env, queue }
    }

    /// Runner options on these resources: one delivery worker (the emulator serves long polls
    /// one at a time), `extra_env` on top.
    fn options(&self, manual_clock: bool, extra_env: &[(&str, &str)]) -> Options {
        let mut env = self.env.clone();
        env.extend(extra_env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Options {
            manual_clock,
            extra_args: vec!["--aws".into(), "--delivery-workers".into(), "1".into()],
            env,
            ..Options::default()
        }
    }

    /// Nothing went to a dead-letter queue: no message was handled as failed (not even after
    /// receives by a runner that was killed holding it).
    async fn assert_no_dead_letters(&self) {
        for q in [QueueName::Events, QueueName::Deliveries] {
            let dead = self.queue.dead_letters(q, 10).await.expect("read the dead-letter queue");
            assert!(dead.is_empty(), "{} dead letters: {dead:#?}", q.as_str());
        }
    }
}

fn num(v: &Value, key: &str) -> i64 {
    v[key].as_i64().unwrap_or_else(|| panic!("{key} missing in {v}"))
}

fn log_text(rh: &Ringhook) -> String {
    std::fs::read_to_string(rh.log_path()).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// 1. Fault injection against the retry policies.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Status500,
    /// Answers after the webhook's timeout.
    Timeout,
    /// Resets the connection after reading the request.
    Reset,
    Gone410,
    /// 410, then 200.
    GoneThenOk,
    /// 429 with `Retry-After: <seconds>`.
    TooMany429(i64),
    /// 503 with `Retry-After: <seconds>`.
    Unavailable503(i64),
    /// 500, 500, then 200.
    FailTwiceThenOk,
    /// Too slow twice, then a quick 200.
    TimeoutTwiceThenOk,
}

impl Kind {
    fn name(self) -> String {
        match self {
            Kind::Status500 => "500".into(),
            Kind::Timeout => "timeout".into(),
            Kind::Reset => "reset".into(),
            Kind::Gone410 => "410".into(),
            Kind::GoneThenOk => "410-200".into(),
            Kind::TooMany429(s) => format!("429-retry-after-{s}"),
            Kind::Unavailable503(s) => format!("503-retry-after-{s}"),
            Kind::FailTwiceThenOk => "500-500-200".into(),
            Kind::TimeoutTwiceThenOk => "timeout-timeout-200".into(),
        }
    }

    /// The webhook's timeout (ms): short where the receiver is meant to be too slow.
    fn timeout_ms(self) -> u64 {
        match self {
            Kind::Timeout | Kind::TimeoutTwiceThenOk => 50,
            _ => 5_000,
        }
    }

    /// What attempt `n` (1-based) ends with.
    fn outcome(self, n: usize) -> Outcome {
        match self {
            Kind::Status500 => Outcome::Status { retry_after: 0 },
            Kind::TooMany429(s) | Kind::Unavailable503(s) => Outcome::Status { retry_after: s },
            Kind::Timeout | Kind::Reset => Outcome::SendError,
            Kind::Gone410 => Outcome::Gone,
            Kind::GoneThenOk if n == 1 => Outcome::Gone,
            Kind::FailTwiceThenOk if n <= 2 => Outcome::Status { retry_after: 0 },
            Kind::TimeoutTwiceThenOk if n <= 2 => Outcome::SendError,
            Kind::FailTwiceThenOk | Kind::TimeoutTwiceThenOk | Kind::GoneThenOk => Outcome::Success,
        }
    }

    /// The status every attempt is answered with, for receivers that always answer the same.
    fn constant_status(self) -> Option<u16> {
        match self {
            Kind::Status500 => Some(500),
            Kind::Gone410 => Some(410),
            Kind::TooMany429(_) => Some(429),
            Kind::Unavailable503(_) => Some(503),
            _ => None,
        }
    }
}

/// Every (policy, receiver) pair: one webhook each, all fed by one event.
const CASES: [(Policy, Kind); 17] = [
    (Policy::Exponential, Kind::Status500),
    (Policy::Exponential, Kind::Timeout),
    (Policy::Exponential, Kind::Reset),
    (Policy::Exponential, Kind::Gone410),
    (Policy::Exponential, Kind::TooMany429(3_600)),
    (Policy::Exponential, Kind::Unavailable503(600)),
    (Policy::Exponential, Kind::FailTwiceThenOk),
    // The triggers seed retries a 410 like any non-2xx (a 410 for ever would be 289 attempts).
    (Policy::Fixed, Kind::GoneThenOk),
    (Policy::Fixed, Kind::FailTwiceThenOk),
    (Policy::Fixed, Kind::TimeoutTwiceThenOk),
    // Above the 24 h cap: attempts at 0, 24 h and 48 h, then the 48 h window is over.
    (Policy::Fixed, Kind::TooMany429(90_000)),
    (Policy::Single, Kind::Status500),
    (Policy::Single, Kind::Timeout),
    (Policy::Single, Kind::Gone410),
    (Policy::Single, Kind::TooMany429(3_600)),
    (Policy::Single, Kind::Unavailable503(120)),
    (Policy::Single, Kind::FailTwiceThenOk),
];

/// What the policy promises for a kind of receiver.
fn expected(policy: Policy, kind: Kind) -> Expected {
    schedule::expected(policy, |n| kind.outcome(n))
}

#[test]
fn the_expected_schedules_match_the_documented_counts() {
    assert_eq!(expected(Policy::Exponential, Kind::Status500).attempts(), 10);
    assert_eq!(expected(Policy::Exponential, Kind::Unavailable503(600)).gaps[..2], [(10 * MIN, 10 * MIN); 2]);
    assert_eq!(expected(Policy::Fixed, Kind::FailTwiceThenOk).gaps, vec![(10 * MIN, 10 * MIN); 2]);
    assert_eq!(expected(Policy::Fixed, Kind::TooMany429(90_000)).gaps, vec![(24 * HOUR, 24 * HOUR); 2]);
    assert_eq!(expected(Policy::Single, Kind::Timeout).gaps, vec![(0, 0)]);
    assert_eq!(expected(Policy::Single, Kind::Unavailable503(120)).gaps, vec![(2 * MIN, 2 * MIN)]);
    assert_eq!(expected(Policy::Single, Kind::FailTwiceThenOk).status, "failed");
    for p in [Policy::Exponential, Policy::Single] {
        assert_eq!(expected(p, Kind::Gone410).attempts(), 1);
    }
    assert_eq!(expected(Policy::Fixed, Kind::GoneThenOk).gaps, vec![(10 * MIN, 10 * MIN)]);
}

/// Where a case's webhook points.
enum Target {
    Http(Receiver),
    Raw(FaultServer),
}

impl Target {
    async fn start(kind: Kind) -> Self {
        if kind == Kind::Reset {
            return Target::Raw(FaultServer::start(Fault::Reset).await);
        }
        let rx = Receiver::start().await;
        let slow = Reply::status(200).delay(Duration::from_secs(1));
        match kind {
            Kind::Status500 => rx.set_default(Reply::status(500).body("boom")),
            Kind::Timeout => rx.set_default(slow),
            Kind::Gone410 => rx.set_default(Reply::status(410)),
            Kind::GoneThenOk => rx.script([Reply::status(410)]),
            Kind::TooMany429(s) => rx.set_default(Reply::status(429).header("retry-after", &s.to_string())),
            Kind::Unavailable503(s) => rx.set_default(Reply::status(503).header("retry-after", &s.to_string())),
            Kind::FailTwiceThenOk => rx.script([Reply::status(500), Reply::status(500)]),
            Kind::TimeoutTwiceThenOk => rx.script([slow.clone(), slow]),
            Kind::Reset => unreachable!(),
        }
        Target::Http(rx)
    }

    fn url(&self) -> String {
        match self {
            Target::Http(r) => format!("{}/hook", r.url),
            Target::Raw(f) => format!("{}/hook", f.url),
        }
    }

    fn count(&self) -> usize {
        match self {
            Target::Http(r) => r.count(),
            Target::Raw(f) => f.count(),
        }
    }
}

/// What the driver knows of one pending delivery: attempts seen, and when the last one started
/// (the manual clock stands still while attempts run, so that is the clock when it was seen).
#[derive(Default, Clone, Copy)]
struct Seen {
    attempts: i64,
    last_at: i64,
}

/// Whether the delivery's next attempt travels as a delayed SQS message (a retry of at most
/// 15 minutes) rather than through the due-time index.
fn by_queue_delay(d: &Value, seen: &Seen) -> bool {
    let next = num(d, "nextAttemptAtMs");
    seen.attempts > 0 && next > seen.last_at && next - seen.last_at <= MAX_QUEUE_DELAY
}

/// When the delivery's next attempt is due on the manual clock: a queue delay counts whole
/// seconds; a longer retry is due in the index at `nextAttemptAtMs`.
fn due(d: &Value, seen: &Seen) -> i64 {
    if by_queue_delay(d, seen) {
        seen.last_at + queue_delay(num(d, "nextAttemptAtMs") - seen.last_at)
    } else {
        num(d, "nextAttemptAtMs")
    }
}

/// Moves the manual clock from one due attempt to the next (never past it, so a late attempt
/// shows as a wrong spacing) until nothing is pending. Returns (clock moves, released messages).
///
/// Retries through the due-time index (DynamoDB's GSI) are found by the scheduler tick that
/// each clock move runs, exactly as on AWS. Retries of up to 15 minutes travel as delayed SQS
/// messages, and the emulator counts those delays in real time, which the manual clock cannot
/// move: when the clock reaches such a retry's time, the driver releases it by sending the
/// message that the delay would release (`{tenant, delivery, attempts}`) with no delay. The
/// delayed original still arrives later, in real time, and must then be dropped as stale (the
/// receivers' exact request counts check that it never causes another attempt).
async fn drive(rh: &Ringhook, aws: &Aws, label: &str) -> (usize, usize) {
    let mut now = rh.clock_ms().await;
    let mut seen: HashMap<String, Seen> = HashMap::new();
    let mut released = 0;
    for step in 0..1_000 {
        // Wait until every due attempt has run: each pending delivery waits for a later time.
        let started = Instant::now();
        let pending = loop {
            let pending = rh.deliveries("status=pending").await;
            let busy: Vec<&Value> = pending.iter().filter(|d| num(d, "nextAttemptAtMs") <= now).collect();
            if busy.is_empty() {
                break pending;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{label}: step {step}: deliveries due at {now} did not run: {busy:#?}\nrunner log: {}\nemulator: {}",
                rh.log_path().display(),
                aws.moto.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        };
        if pending.is_empty() {
            return (step, released);
        }
        for d in &pending {
            let s = seen.entry(d["id"].as_str().unwrap().to_string()).or_default();
            if num(d, "attempts") != s.attempts {
                *s = Seen { attempts: num(d, "attempts"), last_at: now };
            }
        }
        let at = |d: &Value| due(d, &seen[d["id"].as_str().unwrap()]);
        let next = pending.iter().map(at).min().unwrap();
        assert!(next > now, "{label}: nothing due after {now}");
        now = rh.advance_ms(next - now).await;
        let release: Vec<OutMessage> = pending
            .iter()
            .filter(|d| at(d) <= now && by_queue_delay(d, &seen[d["id"].as_str().unwrap()]))
            .map(|d| {
                let msg = DeliveryMessage {
                    t: d["tenantId"].as_str().unwrap().to_string(),
                    d: d["id"].as_str().unwrap().to_string(),
                    n: num(d, "attempts") as u32,
                };
                OutMessage::now(msg.encode())
            })
            .collect();
        released += release.len();
        aws.queue.send(QueueName::Deliveries, release).await.expect("send to the deliveries queue");
    }
    panic!("{label}: still pending after 1000 clock moves");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_fault_injection_against_each_retry_policy() {
    let t0 = Instant::now();
    let aws = Aws::start("rh-guarantees-faults").await;
    let rh = Ringhook::start(bin!(), aws.options(true, &[])).await;
    let mut targets = Vec::new();
    let mut by_webhook: HashMap<String, usize> = HashMap::new();
    for (i, (policy, kind)) in CASES.iter().enumerate() {
        let target = Target::start(*kind).await;
        let (s, w) = rh
            .post(
                "/v1/webhooks",
                &json!({"name": format!("{} / {}", policy.name(), kind.name()), "url": target.url(),
                        "retryPolicy": policy.name(), "timeoutMs": kind.timeout_ms()}),
            )
            .await;
        assert_eq!(s, 201, "{w}");
        by_webhook.insert(w["id"].as_str().unwrap().to_string(), i);
        targets.push(target);
    }
    let actions: Vec<Value> =
        by_webhook.keys().map(|id| json!({"action": "webhook", "parameters": {"webhookId": id}})).collect();
    rh.create_trigger(&json!({"name": "faults", "eventType": "fault.injected", "actions": actions})).await;
    rh.send_event(&json!({"type": "fault.injected", "payload": {"on": "aws"}})).await;
    rh.wait_deliveries("", CASES.len(), Duration::from_secs(30)).await;

    let (moves, released) = drive(&rh, &aws, "aws faults").await;

    // Nothing pending, nothing lost: every delivery ended, exactly as its policy promises.
    assert!(rh.deliveries("status=pending").await.is_empty());
    let all = rh.deliveries("").await;
    assert_eq!(all.len(), CASES.len());
    let mut report = Vec::new();
    for d in &all {
        let i = by_webhook[d["webhookId"].as_str().unwrap()];
        let ((policy, kind), target) = (CASES[i], &targets[i]);
        let label = format!("{} / {}", policy.name(), kind.name());
        let exp = expected(policy, kind);
        let full = rh.delivery(d["id"].as_str().unwrap()).await;
        let attempts = full["attempts"].as_array().unwrap();
        assert_eq!(full["status"], exp.status, "{label}: {full:#}");
        assert_eq!(full["attemptCount"], exp.attempts(), "{label}: {full:#}");
        assert_eq!(attempts.len(), exp.attempts(), "{label}: the attempt log has every attempt");
        for (n, a) in attempts.iter().enumerate() {
            assert_eq!(a["number"], n + 1, "{label}");
            let ok = kind.outcome(n + 1) == Outcome::Success;
            assert_eq!(a["success"], ok, "{label}: attempt {}: {a:#}", n + 1);
            match kind.outcome(n + 1) {
                Outcome::SendError => {
                    assert!(a.get("response").is_none(), "{label}: {a:#}");
                    assert!(a["error"].as_str().is_some_and(|e| !e.is_empty()), "{label}: {a:#}");
                }
                _ => assert!(a["response"]["status"].is_u64(), "{label}: {a:#}"),
            }
            if let Some(code) = kind.constant_status() {
                assert_eq!(a["response"]["status"], code, "{label}: {a:#}");
            }
        }
        if matches!(kind, Kind::Timeout | Kind::TimeoutTwiceThenOk) {
            assert!(num(&attempts[0], "latencyMs") < 1_000, "{label}: the webhook's timeout applied");
        }
        let times: Vec<i64> = attempts.iter().map(|a| num(a, "startedAtMs")).collect();
        assert_gaps(&label, &times, &exp);
        // The receiver saw exactly the attempts (none lost; no stale SQS copy sent again), all
        // with one stable, signed id.
        assert_eq!(target.count(), exp.attempts(), "{label}: requests received");
        if let Target::Http(rx) = target {
            for r in rx.requests() {
                assert_eq!(r.header("webhook-id"), d["id"].as_str(), "{label}");
                assert!(r.header("webhook-signature").is_some_and(|s| s.starts_with("v1,")), "{label}");
            }
        }
        report.push(format!("{label:>34}: {:>9} after {:>2} attempts", exp.status, exp.attempts()));
    }
    // Final states are filterable.
    let failed = rh.deliveries("status=failed").await.len();
    let succeeded = rh.deliveries("status=succeeded").await.len();
    assert_eq!(failed + succeeded, CASES.len());
    let expected_failed = CASES.iter().filter(|(p, k)| expected(*p, *k).status == "failed").count();
    assert_eq!(failed, expected_failed);
    aws.assert_no_dead_letters().await;
    report.sort();
    eprintln!(
        "aws faults: {moves} clock moves, {released} delayed SQS messages released, {:.1} s\n  {}",
        t0.elapsed().as_secs_f64(),
        report.join("\n  ")
    );
    drop(rh);
    drop(aws);
}

// ---------------------------------------------------------------------------------------------
// 2. SIGKILL while delivering.
// ---------------------------------------------------------------------------------------------

const CRASH_EVENTS: usize = 400;
const CRASH_BATCH: usize = 200;
const KILLS: usize = 3;
/// Attempts one runner can have in flight: one delivery worker × its receive batch (32).
const IN_FLIGHT: usize = 32;
/// SQS hides a message received by a runner that then died for the visibility timeout
/// (`consumer::VISIBILITY_SECS`, real time in the emulator); after that the webhook's lease
/// (15 s + 5 s) has long run out, so allow the timeout plus time to deliver what is left.
const CRASH_SETTLE: Duration = Duration::from_secs(150);

fn crash_batch(from: usize) -> Value {
    let events: Vec<Value> = (from..(from + CRASH_BATCH).min(CRASH_EVENTS))
        .map(|i| json!({"id": format!("aws-crash-{i}"), "type": "crash.test", "payload": {"seq": i}}))
        .collect();
    json!({ "events": events })
}

/// Distinct event sequence numbers the receiver has seen.
fn seen_seqs(rx: &Receiver) -> HashSet<i64> {
    rx.requests().iter().filter_map(|r| r.json()["payload"]["seq"].as_i64()).collect()
}

/// SIGKILL, note when (after the process is gone), and start again on the same resources.
async fn kill(rh: &mut Ringhook, rx: &Receiver, kills: &mut Vec<Instant>, log: &mut Vec<String>, t0: Instant) {
    rh.kill9();
    kills.push(Instant::now());
    log.push(format!("kill {} at {:.1} s, {} received", kills.len(), t0.elapsed().as_secs_f64(), rx.count()));
    rh.restart().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sigkill_while_delivering_loses_nothing() {
    let t0 = Instant::now();
    let aws = Aws::start("rh-guarantees-crash").await;
    // The system clock: leases and SQS visibility run out in real time, as on AWS.
    let mut rh = Ringhook::start(bin!(), aws.options(false, &[])).await;
    let rx = Receiver::start().await;
    // A little latency keeps requests in flight when the kills land.
    rx.set_default(Reply::status(200).delay(Duration::from_millis(3)));
    let (s, w) = rh.post("/v1/webhooks", &json!({"name": "crash", "url": format!("{}/hook", rx.url)})).await;
    assert_eq!(s, 201, "{w}");
    rh.create_trigger(&json!({"name": "crash", "eventType": "crash.test",
        "actions": [{"action": "webhook", "parameters": {"webhookId": w["id"]}}]}))
        .await;

    // Kill 1: right after half the events were accepted, while they are being evaluated.
    for from in (0..CRASH_EVENTS / 2).step_by(CRASH_BATCH) {
        let (s, v) = rh.post("/v1/events", &crash_batch(from)).await;
        assert_eq!(s, 202, "{v}");
    }
    let posted = t0.elapsed();
    let mut kill_log = Vec::new();
    let mut kills = Vec::new();
    kill(&mut rh, &rx, &mut kills, &mut kill_log, t0).await;
    for from in (CRASH_EVENTS / 2..CRASH_EVENTS).step_by(CRASH_BATCH) {
        let (s, v) = rh.post("/v1/events", &crash_batch(from)).await;
        assert_eq!(s, 202, "{v}");
    }
    // Kills 2..: each after the receiver has seen some more requests, mid-delivery.
    for _ in 2..=KILLS {
        let target = (rx.count() + 100).min(CRASH_EVENTS);
        let deadline = Instant::now() + Duration::from_secs(30);
        while rx.count() < target && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        kill(&mut rh, &rx, &mut kills, &mut kill_log, t0).await;
    }
    let last_kill = Instant::now();

    // Let it finish: no clock to move, only real time.
    let deadline = last_kill + CRASH_SETTLE;
    loop {
        let seen = seen_seqs(&rx).len();
        if seen == CRASH_EVENTS && rh.all_deliveries("status=pending").await.is_empty() {
            break;
        }
        if Instant::now() > deadline {
            let pending = rh.all_deliveries("status=pending").await;
            panic!(
                "not everything was delivered {CRASH_SETTLE:?} after the last kill: {seen}/{CRASH_EVENTS} events \
                 seen, {} pending (e.g. {:#?}); {kill_log:?}; log: {}",
                pending.len(),
                pending.first(),
                rh.log_path().display()
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let settled = last_kill.elapsed();

    // Every event reached the receiver, every delivery succeeded, and copies came only from
    // requests in flight when a kill landed.
    let requests = rx.requests();
    let all = rh.all_deliveries("").await;
    let (repeated, extra) =
        assert_at_least_once_across_kills(&requests, &all, CRASH_EVENTS, &kills, IN_FLIGHT, &format!("{kill_log:?}"));
    aws.assert_no_dead_letters().await;
    eprintln!(
        "aws crash: {CRASH_EVENTS} events (half posted in {:.1} s), {KILLS} kills ({kill_log:?}), {} requests, \
         {} ids repeated ({extra} extra copies), settled {:.1} s after the last kill, {:.1} s in all",
        posted.as_secs_f64(),
        requests.len(),
        repeated,
        settled.as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );
    drop(rh);
    drop(aws);
}

// ---------------------------------------------------------------------------------------------
// 3. Tenant isolation and write-only secrets.
// ---------------------------------------------------------------------------------------------

const WAIT: Duration = Duration::from_secs(30);

/// At the most verbose level (`RUST_LOG=trace`), as docs/delivery.md promises. (At trace the
/// AWS SDK prints whole DynamoDB responses, stored secrets included; the runner's log filter
/// keeps the SDK below trace, and this test is what caught it.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_tenant_isolation_and_write_only_secrets() {
    isolation_and_secrets("trace").await;
}

async fn isolation_and_secrets(rust_log: &str) {
    use reqwest::Method;
    let t0 = Instant::now();
    let aws = Aws::start("rh-guarantees-security").await;
    let rh = Ringhook::start(bin!(), aws.options(false, &[("RUST_LOG", rust_log)])).await;
    let rx = Receiver::start().await;
    let inline_rx = Receiver::start().await;
    let mut calls = Calls::new(&rh);
    let tenant_a = rh.new_tenant_full("tenant a").await;
    let a = tenant_a["apiKey"].as_str().unwrap().to_string();
    let tenant_secret = tenant_a["signingSecret"].as_str().unwrap().to_string();
    let b = rh.new_tenant("tenant b").await;
    let password = "pw-S3cr3t-basic-0123".to_string();
    let header_token = "hdr-S3cr3t-token-4567".to_string();

    // Tenant A: a webhook with credentials (its secret shown once, then rotated), and a trigger
    // that calls it, moves a lead and calls an inline URL (signed with the tenant's secret).
    let (s, w) = calls
        .call(
            Method::POST,
            "/v1/webhooks",
            &a,
            Some(&json!({"url": format!("{}/a", rx.url), "retryPolicy": "exponential",
            "auth": {"type": "basic", "username": "ringhook", "password": password},
            "headers": {"X-Api-Key": header_token, "X-Plain": "visible"}})),
        )
        .await;
    assert_eq!(s, 201, "{w}");
    let wa = w["id"].as_str().unwrap().to_string();
    let webhook_secret = w["signingSecret"].as_str().unwrap().to_string();
    calls.seen.pop(); // the one response that shows the new secret, once
    let (s, rot) = calls.call(Method::POST, &format!("/v1/webhooks/{wa}/rotate-secret"), &a, None).await;
    assert_eq!(s, 200, "{rot}");
    let webhook_secret2 = rot["signingSecret"].as_str().unwrap().to_string();
    calls.seen.pop();
    let (s, rot) = calls.call(Method::POST, "/v1/account/signing-secret/rotate", &a, None).await;
    assert_eq!(s, 200, "{rot}");
    let tenant_secret2 = rot["signingSecret"].as_str().unwrap().to_string();
    calls.seen.pop();
    // Reads show masks; writing the masks back keeps the real values.
    let (_, read) = calls.call(Method::GET, &format!("/v1/webhooks/{wa}"), &a, None).await;
    assert_eq!(read["auth"]["password"], "****", "{read}");
    let (s, put) = calls.call(Method::PUT, &format!("/v1/webhooks/{wa}"), &a, Some(&read)).await;
    assert_eq!(s, 200, "{put}");

    let (s, t) = calls
        .call(
            Method::POST,
            "/v1/triggers",
            &a,
            Some(&json!({"name": "a", "eventType": "iso.test",
        "actions": [{"action": "webhook", "parameters": {"webhookId": wa}},
                    {"action": "lead.update.list", "parameters": {"listId": "7"}},
                    {"action": "webhook", "parameters": {"url": format!("{}/inline", inline_rx.url)}}]})),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let ta = t["id"].as_str().unwrap().to_string();
    // The webhook's receiver fails the first attempt: the retry is a real 5 s SQS delay.
    rx.script([Reply::status(500)]);
    let (s, v) = calls
        .call(
            Method::POST,
            "/v1/events",
            &a,
            Some(&json!({"id": "evt-shared-id", "type": "iso.test", "payload": {"leadId": "lead-a"}})),
        )
        .await;
    assert_eq!(s, 202, "{v}");

    // Meanwhile, a connection and a call target (whose id the client chooses).
    let connection = json!({"kind": "confirmation", "channel": "webhook", "url": format!("{}/c", rx.url)});
    let (s, c) = calls.call(Method::POST, "/v1/connections", &a, Some(&connection)).await;
    assert_eq!(s, 201, "{c}");
    let ca = c["id"].as_str().unwrap().to_string();
    let call_target = ringhook_e2e::sample("callbacks/config/call-target.json");
    let ct = call_target["id"].as_str().unwrap().to_string();
    let (s, v) = calls.call(Method::POST, "/v1/call-targets", &a, Some(&call_target)).await;
    assert_eq!(s, 201, "{v}");

    let got = rx.wait_for(2, WAIT).await;
    inline_rx.wait_for(1, WAIT).await;
    let real_gap = got[1].at - got[0].at;
    assert!(
        real_gap >= Duration::from_millis(4_400) && real_gap < Duration::from_secs(15),
        "the exponential retry waits 5 s ± 10 % (an SQS delay), waited {real_gap:?}"
    );
    let ds = rh.request_as(Method::GET, &format!("/v1/deliveries?webhookId={wa}"), Some(&a), None).await.1;
    let da = ds["deliveries"][0]["id"].as_str().expect("A's delivery").to_string();
    let mut delivery_a = Value::Null;
    for _ in 0..100 {
        delivery_a = calls.call(Method::GET, &format!("/v1/deliveries/{da}"), &a, None).await.1;
        if delivery_a["status"] == "succeeded" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!((delivery_a["status"].as_str(), delivery_a["attemptCount"].as_i64()), (Some("succeeded"), Some(2)));
    let started: Vec<i64> = delivery_a["attempts"].as_array().unwrap().iter().map(|a| num(a, "startedAtMs")).collect();
    assert!((4_500..15_000).contains(&(started[1] - started[0])), "attempts at {started:?}");
    for a in delivery_a["attempts"].as_array().unwrap() {
        let headers = a["request"]["headers"].to_string();
        assert!(headers.contains("webhook-signature") && headers.contains("Basic ****"), "{headers}");
    }
    for path in ["/v1/webhooks", "/v1/account/signing-secret", "/v1/triggers", "/v1/openapi.json"] {
        let (s, v) = calls.call(Method::GET, path, &a, None).await;
        assert_eq!(s, 200, "{path}: {v}");
    }
    let (_, lead_before) = calls.call(Method::GET, "/v1/leads/lead-a", &a, None).await;
    assert_eq!(lead_before["history"].as_array().map(Vec::len), Some(1), "{lead_before}");
    let (_, connection_before) = calls.call(Method::GET, &format!("/v1/connections/{ca}"), &a, None).await;
    let (_, call_target_before) = calls.call(Method::GET, &format!("/v1/call-targets/{ct}"), &a, None).await;
    let (_, webhook_before) = calls.call(Method::GET, &format!("/v1/webhooks/{wa}"), &a, None).await;
    let (_, trigger_before) = calls.call(Method::GET, &format!("/v1/triggers/{ta}"), &a, None).await;

    // Tenant B, holding A's ids: every read, write, delete, redelivery and recovery is a 404;
    // B's lists show nothing of A's; B cannot point a trigger at A's webhook.
    let ids =
        TenantIds { webhook: &wa, trigger: &ta, delivery: &da, lead: "lead-a", connection: &ca, call_target: &ct };
    let cross_tenant_calls = assert_cross_tenant_refused(&mut calls, &b, &ids, &rx.url).await;
    // None of that (nor B's event with A's event id) sent anything to A's receivers.
    rx.expect_no_more_than(2, Duration::from_secs(2)).await;
    inline_rx.expect_no_more_than(1, Duration::ZERO).await;

    // A's things are untouched.
    for (path, before) in [
        (format!("/v1/connections/{ca}"), &connection_before),
        (format!("/v1/call-targets/{ct}"), &call_target_before),
        (format!("/v1/webhooks/{wa}"), &webhook_before),
        (format!("/v1/triggers/{ta}"), &trigger_before),
        ("/v1/leads/lead-a".to_string(), &lead_before),
        (format!("/v1/deliveries/{da}"), &delivery_a),
    ] {
        let (s, after) = calls.call(Method::GET, &path, &a, None).await;
        assert_eq!(s, 200, "{path}: {after}");
        assert_eq!(&after, before, "{path} changed");
    }

    // The receivers did get the credentials (they work); the API and the log never show them.
    let requests = rx.requests();
    let basic = requests[0].header("authorization").expect("basic auth sent").to_string();
    assert!(basic.starts_with("Basic "), "{basic}");
    assert!(requests.iter().all(|r| r.header("x-api-key") == Some(header_token.as_str())));
    assert!(inline_rx.requests()[0].header("webhook-signature").is_some_and(|s| s.starts_with("v1,")));
    // Wrong credentials are not echoed either; credentials are not interchangeable.
    calls.call(Method::GET, "/v1/webhooks", "rk_wrong_S3cr3t_guess", None).await;
    let (s, _) = calls.call(Method::GET, "/v1/webhooks", ADMIN_TOKEN, None).await;
    assert_eq!(s, 401, "the admin token is not a tenant key");
    let (s, _) = calls.call(Method::POST, "/v1/admin/tenants", &b, Some(&json!({"name": "x"}))).await;
    assert_eq!(s, 401, "a tenant key is not the admin token");
    let secrets = vec![
        a.clone(),
        b.clone(),
        API_KEY.to_string(),
        ADMIN_TOKEN.to_string(),
        password.clone(),
        header_token.clone(),
        basic["Basic ".len()..].to_string(),
        webhook_secret["whsec_".len()..].to_string(),
        webhook_secret2["whsec_".len()..].to_string(),
        tenant_secret["whsec_".len()..].to_string(),
        tenant_secret2["whsec_".len()..].to_string(),
        "rk_wrong_S3cr3t_guess".to_string(),
    ];
    assert!(calls.seen.len() > 40, "{}", calls.seen.len());
    assert_no_secrets("API responses", &calls.seen, &secrets);
    let log: Vec<String> = log_text(&rh).lines().map(str::to_string).collect();
    assert!(log.len() > 20, "the log has something in it");
    assert_no_secrets(&format!("runner log (RUST_LOG={rust_log})"), &log, &secrets);
    eprintln!(
        "aws security: {} cross-tenant calls answered 404, {} API responses and {} log lines free of {} secrets, \
         retry after {real_gap:?} (real SQS delay), {:.1} s",
        cross_tenant_calls,
        calls.seen.len(),
        log.len(),
        secrets.len(),
        t0.elapsed().as_secs_f64()
    );
    drop(rh);
    drop(aws);
}
