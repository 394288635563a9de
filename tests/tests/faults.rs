//! Fault injection: real receivers that answer 500, time out, reset the connection, close it
//! without a word, answer slowly, answer 301, answer 429 with `Retry-After`, answer 410, or send
//! a 10 MB body — each against each retry policy, on the simulated clock.
//!
//! One runner per policy holds one webhook per fault; one event fans out to all of them. A
//! driver then moves the clock to exactly the next moment an attempt is due (never past it, so
//! a late scheduler would show as a wrong count or spacing) until nothing is pending. Afterwards
//! every delivery must have ended `succeeded` or `failed` with exactly the attempts, at exactly
//! the spacing, that the policy promises, and the receivers must have seen exactly those
//! attempts.

use ringhook_e2e::checks::assert_gaps;
use ringhook_e2e::checks::schedule::{self, queue_delay, Expected, Outcome, Policy, MIN};
use ringhook_e2e::faults::{Fault, FaultServer};
use ringhook_e2e::{bin, Options, Receiver, Reply, Ringhook};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const RETRY_AFTER_SECS: i64 = 3_600;
const BIG_BODY: usize = 10 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Status500,
    Timeout,
    Reset,
    EmptyReply,
    Slow,
    Redirect301,
    TooMany429,
    Gone410,
    BigBody,
    FailTwiceThenOk,
}

const KINDS: [Kind; 10] = [
    Kind::Status500,
    Kind::Timeout,
    Kind::Reset,
    Kind::EmptyReply,
    Kind::Slow,
    Kind::Redirect301,
    Kind::TooMany429,
    Kind::Gone410,
    Kind::BigBody,
    Kind::FailTwiceThenOk,
];

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Status500 => "500",
            Kind::Timeout => "timeout",
            Kind::Reset => "reset",
            Kind::EmptyReply => "empty-reply",
            Kind::Slow => "slow-ok",
            Kind::Redirect301 => "301",
            Kind::TooMany429 => "429-retry-after",
            Kind::Gone410 => "410",
            Kind::BigBody => "10mb-body",
            Kind::FailTwiceThenOk => "500-500-200",
        }
    }

    /// The webhook's timeout (ms): short where the receiver is meant to be too slow.
    fn timeout_ms(self) -> u64 {
        match self {
            Kind::Timeout => 50,
            _ => 5_000,
        }
    }

    /// What attempt `n` (1-based) ends with.
    fn outcome(self, n: usize) -> Outcome {
        match self {
            Kind::Status500 | Kind::Redirect301 => Outcome::Status { retry_after: 0 },
            Kind::TooMany429 => Outcome::Status { retry_after: RETRY_AFTER_SECS },
            Kind::Timeout | Kind::Reset | Kind::EmptyReply => Outcome::SendError,
            Kind::Slow | Kind::BigBody => Outcome::Success,
            Kind::Gone410 => Outcome::Gone,
            Kind::FailTwiceThenOk if n <= 2 => Outcome::Status { retry_after: 0 },
            Kind::FailTwiceThenOk => Outcome::Success,
        }
    }
}

/// What the policy promises for a kind of receiver.
fn expected(policy: Policy, kind: Kind) -> Expected {
    schedule::expected(policy, |n| kind.outcome(n))
}

#[test]
fn the_expected_schedules_match_the_documented_counts() {
    assert_eq!(expected(Policy::Exponential, Kind::Status500).attempts(), 10);
    assert_eq!(expected(Policy::Fixed, Kind::Status500).attempts(), 289);
    assert_eq!(expected(Policy::Fixed, Kind::TooMany429).attempts(), 49);
    assert_eq!(expected(Policy::Single, Kind::Timeout).gaps, vec![(0, 0)]);
    assert_eq!(expected(Policy::Single, Kind::Redirect301).gaps, vec![(MIN, MIN)]);
    assert_eq!(expected(Policy::Single, Kind::FailTwiceThenOk).status, "failed");
    assert_eq!(expected(Policy::Fixed, Kind::FailTwiceThenOk).attempts(), 3);
    for p in [Policy::Exponential, Policy::Fixed, Policy::Single] {
        assert_eq!(expected(p, Kind::BigBody).status, "succeeded");
    }
    // 410 stops every policy but the triggers seed's, which retries any non-2xx for 48 h.
    assert_eq!(expected(Policy::Exponential, Kind::Gone410).attempts(), 1);
    assert_eq!(expected(Policy::Single, Kind::Gone410).attempts(), 1);
    assert_eq!(expected(Policy::Fixed, Kind::Gone410).attempts(), 289);
}

/// Where a kind's webhook points.
enum Target {
    Http(Receiver),
    Raw(FaultServer),
}

impl Target {
    async fn start(kind: Kind) -> Self {
        match kind {
            Kind::Reset => return Target::Raw(FaultServer::start(Fault::Reset).await),
            Kind::EmptyReply => return Target::Raw(FaultServer::start(Fault::Close).await),
            _ => {}
        }
        let rx = Receiver::start().await;
        match kind {
            Kind::Status500 => rx.set_default(Reply::status(500).body("boom")),
            Kind::Timeout => rx.set_default(Reply::status(200).delay(Duration::from_secs(1))),
            Kind::Slow => rx.set_default(Reply::status(200).delay(Duration::from_millis(300))),
            Kind::Redirect301 => rx.set_default(Reply::status(301).header("location", &format!("{}/moved", rx.url))),
            Kind::TooMany429 => rx.set_default(Reply::status(429).header("retry-after", &RETRY_AFTER_SECS.to_string())),
            Kind::Gone410 => rx.set_default(Reply::status(410)),
            Kind::BigBody => rx.set_default(Reply::status(200).body(vec![b'x'; BIG_BODY])),
            Kind::FailTwiceThenOk => {
                rx.script([Reply::status(500), Reply::status(500)]);
                rx.set_default(Reply::status(200));
            }
            Kind::Reset | Kind::EmptyReply => unreachable!(),
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

fn num(v: &Value, key: &str) -> i64 {
    v[key].as_i64().unwrap_or_else(|| panic!("{key} missing in {v}"))
}

/// What the driver knows of one pending delivery: attempts seen, and when the last one started.
#[derive(Default, Clone, Copy)]
struct Seen {
    attempts: i64,
    last_at: Option<i64>,
}

/// When the delivery's next attempt can run: its queue message becomes visible after a delay
/// counted in whole seconds; longer retries are due in the index at `nextAttemptAtMs`.
fn due(d: &Value, seen: &Seen) -> i64 {
    let next = num(d, "nextAttemptAtMs");
    match seen.last_at {
        Some(last) if next > last => last + queue_delay(next - last),
        _ => next,
    }
}

/// Moves the clock from one due attempt to the next until nothing is pending. Returns the
/// number of clock moves.
async fn drive(rh: &Ringhook, label: &str) -> usize {
    let mut now = rh.clock_ms().await;
    let mut seen: HashMap<String, Seen> = HashMap::new();
    for step in 0..5_000 {
        // Wait until every due attempt has run: each pending delivery waits for a future time.
        let started = Instant::now();
        let pending = loop {
            let pending = rh.deliveries("status=pending").await;
            let busy: Vec<&Value> = pending
                .iter()
                .filter(|d| {
                    let s = seen.get(d["id"].as_str().unwrap()).copied().unwrap_or_default();
                    let unchanged = num(d, "attempts") == s.attempts;
                    num(d, "nextAttemptAtMs") <= now && !(unchanged && s.last_at.is_some() && due(d, &s) > now)
                })
                .collect();
            if busy.is_empty() {
                break pending;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{label}: step {step}: deliveries due at {now} did not run: {busy:#?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        if pending.is_empty() {
            return step;
        }
        for d in &pending {
            let s = seen.entry(d["id"].as_str().unwrap().to_string()).or_default();
            if num(d, "attempts") != s.attempts {
                *s = Seen { attempts: num(d, "attempts"), last_at: Some(now) };
            }
        }
        let next = pending.iter().map(|d| due(d, &seen[d["id"].as_str().unwrap()])).min().unwrap();
        assert!(next > now, "{label}: nothing due after {now}");
        now = rh.advance_ms(next - now).await;
    }
    panic!("{label}: still pending after 5000 clock moves");
}

async fn run_policy(policy: Policy) {
    let t0 = Instant::now();
    let rh = Ringhook::start(bin!(), Options::manual_clock()).await;
    let mut targets = Vec::new();
    let mut by_webhook: HashMap<String, usize> = HashMap::new();
    for (i, kind) in KINDS.iter().enumerate() {
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
    rh.send_event(&json!({"type": "fault.injected", "payload": {"policy": policy.name()}})).await;
    rh.wait_deliveries("", KINDS.len(), Duration::from_secs(20)).await;

    let moves = drive(&rh, policy.name()).await;

    // Nothing pending, nothing lost: every delivery ended, exactly as the policy promises.
    assert!(rh.deliveries("status=pending").await.is_empty());
    let all = rh.deliveries("").await;
    assert_eq!(all.len(), KINDS.len());
    let mut report = Vec::new();
    for d in &all {
        let i = by_webhook[d["webhookId"].as_str().unwrap()];
        let (kind, target) = (KINDS[i], &targets[i]);
        let label = format!("{} / {}", policy.name(), kind.name());
        let exp = expected(policy, kind);
        let full = rh.delivery(d["id"].as_str().unwrap()).await;
        let attempts = full["attempts"].as_array().unwrap();
        assert_eq!(full["status"], exp.status, "{label}: {full:#}");
        assert_eq!(full["attemptCount"], exp.attempts(), "{label}");
        assert_eq!(attempts.len(), exp.attempts(), "{label}: the attempt log has every attempt");
        for (n, a) in attempts.iter().enumerate() {
            assert_eq!(a["number"], n + 1, "{label}");
            let ok = kind.outcome(n + 1) == Outcome::Success;
            assert_eq!(a["success"], ok, "{label}: attempt {}: {a:#}", n + 1);
        }
        let times: Vec<i64> = attempts.iter().map(|a| num(a, "startedAtMs")).collect();
        assert_gaps(&label, &times, &exp);
        // The receiver saw exactly the attempts (none lost, none extra), all with one stable id.
        assert_eq!(target.count(), exp.attempts(), "{label}: requests received");
        if let Target::Http(rx) = target {
            for r in rx.requests() {
                assert_eq!(r.header("webhook-id"), d["id"].as_str(), "{label}");
                assert!(r.header("webhook-signature").is_some_and(|s| s.starts_with("v1,")), "{label}");
                assert!(r.header("webhook-timestamp").is_some(), "{label}");
                assert_ne!(r.path, "/moved", "{label}: a redirect was followed");
            }
        }
        match kind {
            Kind::Timeout | Kind::Reset | Kind::EmptyReply => {
                for a in attempts {
                    assert!(a.get("response").is_none(), "{label}: {a:#}");
                    assert!(a["error"].as_str().is_some_and(|e| !e.is_empty()), "{label}: {a:#}");
                }
                if kind == Kind::Timeout {
                    assert!(attempts.iter().all(|a| num(a, "latencyMs") < 1_000), "{label}: the timeout applied");
                }
            }
            Kind::Slow => assert!(num(&attempts[0], "latencyMs") >= 300, "{label}"),
            Kind::BigBody => {
                let r = &attempts[0]["response"];
                assert_eq!(r["truncated"], true, "{label}");
                assert!(r["body"].as_str().unwrap().len() <= 10 * 1024, "{label}: at most 10 KB kept");
            }
            Kind::Redirect301 | Kind::TooMany429 | Kind::Gone410 | Kind::Status500 => {
                let code = match kind {
                    Kind::Redirect301 => 301,
                    Kind::TooMany429 => 429,
                    Kind::Gone410 => 410,
                    _ => 500,
                };
                assert!(attempts.iter().all(|a| a["response"]["status"] == code), "{label}");
                assert_eq!(full["lastStatus"], code, "{label}");
            }
            Kind::FailTwiceThenOk => {}
        }
        report.push(format!("{:>16}: {:>9} after {:>3} attempts", kind.name(), exp.status, exp.attempts()));
    }
    // Final states are filterable.
    let failed = rh.deliveries("status=failed").await.len();
    let succeeded = rh.deliveries("status=succeeded").await.len();
    assert_eq!(failed + succeeded, KINDS.len());
    report.sort();
    eprintln!(
        "{}: {} clock moves, {:.1} s\n  {}",
        policy.name(),
        moves,
        t0.elapsed().as_secs_f64(),
        report.join("\n  ")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_against_exponential() {
    run_policy(Policy::Exponential).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_against_fixed_10m_48h() {
    run_policy(Policy::Fixed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_against_single_retry() {
    run_policy(Policy::Single).await;
}
