//! Assertions that more than one end-to-end suite makes, written once: what the retry policies
//! promise (`faults.rs` on SQLite, `aws_guarantees.rs` on DynamoDB/SQS), the at-least-once
//! guarantee after SIGKILLs (`crash.rs`, `aws_guarantees.rs`), and the secret scan
//! (`security.rs`, `aws_guarantees.rs`).

use crate::receiver::Recorded;
use crate::Ringhook;
use reqwest::Method;
use schedule::Expected;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::time::Instant;

/// The retry schedules of docs/delivery.md, written independently of the implementation.
pub mod schedule {
    pub const SEC: i64 = 1_000;
    pub const MIN: i64 = 60 * SEC;
    pub const HOUR: i64 = 60 * MIN;
    /// The Standard Webhooks schedule: delays before attempts 2..=10.
    pub const EXPONENTIAL: [i64; 9] =
        [5 * SEC, 5 * MIN, 30 * MIN, 2 * HOUR, 5 * HOUR, 10 * HOUR, 14 * HOUR, 20 * HOUR, 24 * HOUR];
    /// Longest queue delay (SQS's 15 minutes); longer retries go through the due-time index.
    pub const MAX_QUEUE_DELAY: i64 = 15 * MIN;
    /// A honoured Retry-After is capped at 24 hours.
    pub const MAX_RETRY_AFTER: i64 = 24 * HOUR;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Policy {
        Exponential,
        Fixed,
        Single,
    }

    impl Policy {
        pub fn name(self) -> &'static str {
            match self {
                Policy::Exponential => "exponential",
                Policy::Fixed => "fixed-10m-48h",
                Policy::Single => "single-retry",
            }
        }
    }

    /// How one attempt ends, as the retry policy sees it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Outcome {
        Success,
        /// A non-accepted status (3xx included), with the Retry-After honoured for it (seconds).
        Status {
            retry_after: i64,
        },
        /// 410 Gone: stop (retried like any failure under `fixed-10m-48h`, the triggers seed's rule).
        Gone,
        /// Nothing usable came back: timeout, reset, empty reply.
        SendError,
    }

    /// What a policy promises for a receiver: the final status, and for each gap between
    /// consecutive attempts the allowed range (ms, inclusive).
    #[derive(Debug)]
    pub struct Expected {
        pub status: &'static str,
        pub gaps: Vec<(i64, i64)>,
    }

    impl Expected {
        pub fn attempts(&self) -> usize {
            self.gaps.len() + 1
        }
    }

    /// Rounds a queue delay up to whole seconds, as SQS (and the embedded queue) count them.
    pub fn queue_delay(ms: i64) -> i64 {
        if ms <= MAX_QUEUE_DELAY {
            (ms + 999) / 1000 * 1000
        } else {
            ms
        }
    }

    /// The schedule `policy` promises for a receiver whose attempt `n` (1-based) ends with
    /// `outcome(n)`.
    pub fn expected(policy: Policy, outcome: impl Fn(usize) -> Outcome) -> Expected {
        let mut gaps = Vec::new();
        let mut elapsed = 0; // since the first attempt, at the earliest
        for n in 1.. {
            let (retry_after, send_error) = match outcome(n) {
                Outcome::Success => return Expected { status: "succeeded", gaps },
                Outcome::Gone if policy != Policy::Fixed => return Expected { status: "failed", gaps },
                Outcome::Gone => (0, false),
                Outcome::Status { retry_after } => ((retry_after * SEC).min(MAX_RETRY_AFTER), false),
                Outcome::SendError => (0, true),
            };
            let (lo, hi) = match policy {
                Policy::Exponential => {
                    let Some(&base) = EXPONENTIAL.get(n - 1) else { return Expected { status: "failed", gaps } };
                    let spread = base / 10;
                    ((base - spread).max(retry_after), queue_delay((base + spread).max(retry_after)))
                }
                Policy::Fixed => {
                    let d = (10 * MIN).max(retry_after);
                    if elapsed + d > 48 * HOUR {
                        return Expected { status: "failed", gaps };
                    }
                    (d, d)
                }
                Policy::Single => {
                    if n >= 2 {
                        return Expected { status: "failed", gaps };
                    }
                    let d = if send_error { 0 } else { MIN.max(retry_after) };
                    (d, d)
                }
            };
            elapsed += lo;
            gaps.push((lo, hi));
        }
        unreachable!()
    }
}

/// The gaps between consecutive attempt start times (ms) are each within what the policy
/// promises.
pub fn assert_gaps(label: &str, started_ms: &[i64], exp: &Expected) {
    for (n, (w, (lo, hi))) in started_ms.windows(2).zip(&exp.gaps).enumerate() {
        let gap = w[1] - w[0];
        assert!(
            (*lo..=*hi).contains(&gap),
            "{label}: gap between attempts {} and {} is {gap} ms, expected {lo}..={hi}",
            n + 1,
            n + 2
        );
    }
}

/// After SIGKILLs at `kills`: every one of `events` deliveries succeeded and reached the
/// receiver, and copies of one delivery id came only as docs/delivery.md allows (at least once;
/// another copy only for a request in flight when a kill landed: between any two copies of one
/// id there is a kill, each delivery repeats at most once per kill, and all kills together
/// repeat at most `kills × in_flight`). Returns (ids repeated, extra copies).
pub fn assert_at_least_once_across_kills(
    requests: &[Recorded],
    deliveries: &[Value],
    events: usize,
    kills: &[Instant],
    in_flight: usize,
    context: &str,
) -> (usize, usize) {
    assert_eq!(deliveries.len(), events, "one delivery per event");
    assert!(deliveries.iter().all(|d| d["status"] == "succeeded"), "all succeeded");
    let ids: HashSet<&str> = deliveries.iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), events, "delivery ids are unique per event");
    let mut per_id: HashMap<String, usize> = HashMap::new();
    for r in requests {
        let id = r.header("webhook-id").expect("webhook-id on every request").to_string();
        *per_id.entry(id).or_default() += 1;
    }
    assert_eq!(per_id.len(), events, "each delivery id reached the receiver");
    assert!(ids.iter().all(|id| per_id.contains_key(*id)));

    let dups: Vec<(&String, &usize)> = per_id.iter().filter(|(_, n)| **n > 1).collect();
    let extra: usize = dups.iter().map(|(_, n)| **n - 1).sum();
    assert!(extra <= kills.len() * in_flight, "{extra} extra copies for {} kills; {context}", kills.len());
    for (id, n) in &dups {
        assert!(**n <= 1 + kills.len(), "{id} seen {n} times; {context}");
        let copies: Vec<Instant> =
            requests.iter().filter(|r| r.header("webhook-id") == Some(id.as_str())).map(|r| r.at).collect();
        for pair in copies.windows(2) {
            assert!(
                kills.iter().any(|k| pair[0] <= *k && *k <= pair[1]),
                "{id}: two copies {:?} apart with no kill in between; {context}",
                pair[1] - pair[0]
            );
        }
    }
    (dups.len(), extra)
}

/// Every string in `haystacks` is free of every secret.
pub fn assert_no_secrets(what: &str, haystacks: &[String], secrets: &[String]) {
    for s in secrets {
        assert!(s.len() >= 8, "a secret to look for should be distinctive: {s:?}");
        for h in haystacks {
            if let Some(at) = h.find(s.as_str()) {
                let from = h[..at].char_indices().rev().nth(300).map_or(0, |(i, _)| i);
                panic!("{what}: a secret ({}…) leaked into: …{}…", &s[..6], &h[from..(at + s.len()).min(h.len())]);
            }
        }
    }
}

/// API calls whose response bodies are kept, for the secret scan.
pub struct Calls<'a> {
    pub rh: &'a Ringhook,
    pub seen: Vec<String>,
}

impl<'a> Calls<'a> {
    pub fn new(rh: &'a Ringhook) -> Self {
        Self { rh, seen: Vec::new() }
    }

    /// `(status, body)` of a call with `key`; the body is kept.
    pub async fn call(&mut self, method: reqwest::Method, path: &str, key: &str, body: Option<&Value>) -> (u16, Value) {
        let (s, v) = self.rh.request_as(method, path, Some(key), body).await;
        self.seen.push(v.to_string());
        (s, v)
    }
}

/// Tenant A's ids that tenant B tries to reach.
pub struct TenantIds<'a> {
    pub webhook: &'a str,
    pub trigger: &'a str,
    pub delivery: &'a str,
    pub lead: &'a str,
    pub connection: &'a str,
    pub call_target: &'a str,
}

/// Tenant B (`b`), holding A's ids: every read, write, delete, rotation, redelivery and
/// recovery answers 404 "not found"; B's lists and filters show nothing of A's; B cannot point a
/// trigger at A's webhook. `url` is somewhere B's writes would send to. Returns how many
/// cross-tenant calls were made.
pub async fn assert_cross_tenant_refused(calls: &mut Calls<'_>, b: &str, a: &TenantIds<'_>, url: &str) -> usize {
    let (wa, ta, da, ca, ct) = (a.webhook, a.trigger, a.delivery, a.connection, a.call_target);
    let new_webhook = json!({"url": format!("{url}/b")});
    let new_trigger = json!({"name": "b", "eventType": "iso.test", "actions": [{"action": "webhook",
        "parameters": {"url": format!("{url}/b")}}]});
    let connection = json!({"kind": "confirmation", "channel": "webhook", "url": format!("{url}/c")});
    let since = json!({"since": "2000-01-01T00:00:00Z"});
    let cases: Vec<(Method, String, Option<&Value>)> = vec![
        (Method::GET, format!("/v1/webhooks/{wa}"), None),
        (Method::PUT, format!("/v1/webhooks/{wa}"), Some(&new_webhook)),
        (Method::DELETE, format!("/v1/webhooks/{wa}"), None),
        (Method::POST, format!("/v1/webhooks/{wa}/rotate-secret"), None),
        (Method::POST, format!("/v1/webhooks/{wa}/recover"), Some(&since)),
        (Method::GET, format!("/v1/triggers/{ta}"), None),
        (Method::PUT, format!("/v1/triggers/{ta}"), Some(&new_trigger)),
        (Method::DELETE, format!("/v1/triggers/{ta}"), None),
        (Method::GET, format!("/v1/deliveries/{da}"), None),
        (Method::POST, format!("/v1/deliveries/{da}/redeliver"), None),
        (Method::GET, format!("/v1/leads/{}", a.lead), None),
        (Method::GET, format!("/v1/connections/{ca}"), None),
        (Method::PUT, format!("/v1/connections/{ca}"), Some(&connection)),
        (Method::DELETE, format!("/v1/connections/{ca}"), None),
        (Method::GET, format!("/v1/call-targets/{ct}"), None),
        (Method::DELETE, format!("/v1/call-targets/{ct}"), None),
    ];
    for (method, path, body) in &cases {
        let (s, v) = calls.call(method.clone(), path, b, *body).await;
        assert_eq!((s, v["error"].as_str()), (404, Some("not found")), "{method} {path} as tenant B: {v}");
    }
    let by_webhook = format!("/v1/deliveries?webhookId={wa}");
    for path in ["/v1/webhooks", "/v1/triggers", "/v1/deliveries", &by_webhook, "/v1/connections", "/v1/call-targets"] {
        let (s, v) = calls.call(Method::GET, path, b, None).await;
        assert_eq!(s, 200, "{path}: {v}");
        let items = v.as_object().unwrap().values().find_map(Value::as_array).unwrap();
        assert!(items.is_empty(), "{path} as B: {v}");
    }
    let steal = json!({"name": "steal", "eventType": "iso.test",
        "actions": [{"action": "webhook", "parameters": {"webhookId": wa}}]});
    let (s, v) = calls.call(Method::POST, "/v1/triggers", b, Some(&steal)).await;
    assert_eq!(s, 422, "B's trigger naming A's webhook: {v}");
    // B's event with A's event id (`evt-shared-id`) is B's own: not a duplicate of A's, and it
    // fires none of A's triggers (the caller checks A's receivers got nothing more).
    let shared = json!({"id": "evt-shared-id", "type": "iso.test", "payload": {"leadId": a.lead}});
    let (s, v) = calls.call(Method::POST, "/v1/events", b, Some(&shared)).await;
    assert_eq!((s, v["events"][0]["duplicate"].as_bool()), (202, Some(false)), "{v}");
    cases.len()
}
