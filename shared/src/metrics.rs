//! Delivery metrics as CloudWatch embedded-metric-format (EMF) log lines: CloudWatch turns
//! them into metrics from the function's log, so publishing them costs no API call. Off unless
//! a Lambda bootstrap turns it on ([`enable_emf`]); the local runner never prints them.
//!
//! Attempts are accumulated and written as one line per SQS batch ([`flush`]): a line per
//! attempt would cost more in log ingestion than the metrics are worth. The scheduler adds
//! `DeadLettersRedriven` the same way, one line per tick that moved any.

use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// The namespace of Ringhook's metrics in CloudWatch.
pub const NAMESPACE: &str = "Ringhook";
/// EMF takes at most 100 values of one metric per line.
const MAX_VALUES: usize = 100;

static ENABLED: AtomicBool = AtomicBool::new(false);
static PENDING: Mutex<Pending> = Mutex::new(Pending { succeeded: 0, failed: 0, redriven: 0, latencies_ms: Vec::new() });

#[derive(Debug, Default, PartialEq)]
struct Pending {
    succeeded: u64,
    failed: u64,
    redriven: u64,
    latencies_ms: Vec<u64>,
}

/// Turns the metrics on for this process (the deliver function's bootstrap).
pub fn enable_emf() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// One attempt was sent (or refused), taking `latency_ms`.
pub fn attempt(latency_ms: u64) {
    if ENABLED.load(Ordering::Relaxed) {
        let mut p = PENDING.lock().unwrap_or_else(|e| e.into_inner());
        if p.latencies_ms.len() < MAX_VALUES {
            p.latencies_ms.push(latency_ms);
        }
    }
}

/// A delivery reached its final state.
pub fn finished(succeeded: bool) {
    if ENABLED.load(Ordering::Relaxed) {
        let mut p = PENDING.lock().unwrap_or_else(|e| e.into_inner());
        if succeeded {
            p.succeeded += 1;
        } else {
            p.failed += 1;
        }
    }
}

/// Dead letters were moved back onto their queue.
pub fn redriven(n: u64) {
    if ENABLED.load(Ordering::Relaxed) {
        PENDING.lock().unwrap_or_else(|e| e.into_inner()).redriven += n;
    }
}

/// Writes what was recorded since the last flush as one EMF line on stdout (where Lambda
/// sends it to CloudWatch Logs), if anything was.
pub fn flush(function: &str, now_ms: i64) {
    if let Some(line) = take_line(function, now_ms) {
        println!("{line}");
    }
}

fn take_line(function: &str, now_ms: i64) -> Option<String> {
    if !ENABLED.load(Ordering::Relaxed) {
        return None;
    }
    let p = std::mem::take(&mut *PENDING.lock().unwrap_or_else(|e| e.into_inner()));
    if p == Pending::default() {
        return None;
    }
    Some(emf_line(function, now_ms, &p))
}

fn emf_line(function: &str, now_ms: i64, p: &Pending) -> String {
    let mut metrics = Vec::new();
    let mut line = json!({ "Function": function });
    // Zero counts are left out: a sum over no data is zero, and each function moves its own.
    for (name, n) in
        [("DeliveriesSucceeded", p.succeeded), ("DeliveriesFailed", p.failed), ("DeadLettersRedriven", p.redriven)]
    {
        if n > 0 {
            metrics.push(json!({"Name": name, "Unit": "Count"}));
            line[name] = json!(n);
        }
    }
    if !p.latencies_ms.is_empty() {
        metrics.push(json!({"Name": "AttemptLatency", "Unit": "Milliseconds"}));
        line["AttemptLatency"] = json!(p.latencies_ms);
    }
    line["_aws"] = json!({
        "Timestamp": now_ms,
        "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": [["Function"]], "Metrics": metrics}],
    });
    line.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn one_line_per_batch_in_the_embedded_metric_format() {
        let p = Pending { succeeded: 1, failed: 1, redriven: 0, latencies_ms: vec![12, 30] };
        let v: Value = serde_json::from_str(&emf_line("deliver", 1_700_000_000_000, &p)).unwrap();
        assert_eq!(v["Function"], "deliver");
        assert_eq!(v["DeliveriesSucceeded"], 1);
        assert_eq!(v["DeliveriesFailed"], 1);
        assert_eq!(v["AttemptLatency"], serde_json::json!([12, 30]));
        let m = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(m["Namespace"], NAMESPACE);
        assert_eq!(m["Dimensions"], serde_json::json!([["Function"]]));
        assert_eq!(m["Metrics"].as_array().unwrap().len(), 3);
        assert_eq!(v["_aws"]["Timestamp"], 1_700_000_000_000i64);
    }

    #[test]
    fn the_scheduler_line_counts_redriven_dead_letters_only() {
        let p = Pending { redriven: 3, ..Pending::default() };
        let v: Value = serde_json::from_str(&emf_line("scheduler", 1, &p)).unwrap();
        assert_eq!(v["DeadLettersRedriven"], 3);
        assert!(v.get("DeliveriesSucceeded").is_none(), "{v}");
        let m = &v["_aws"]["CloudWatchMetrics"][0]["Metrics"];
        assert_eq!(m, &serde_json::json!([{"Name": "DeadLettersRedriven", "Unit": "Count"}]));
    }

    /// Other tests of this process deliver too, so only what this one adds is asserted.
    #[test]
    fn attempts_accumulate_until_flushed_once_enabled() {
        enable_emf();
        attempt(4242);
        finished(true);
        let v: Value = serde_json::from_str(&take_line("deliver", 1).unwrap()).unwrap();
        assert!(v["DeliveriesSucceeded"].as_u64().unwrap() >= 1);
        assert!(v["AttemptLatency"].as_array().unwrap().contains(&serde_json::json!(4242)));
    }
}
