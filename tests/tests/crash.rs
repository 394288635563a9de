//! Crash test: thousands of events in flight, the runner killed with SIGKILL several times and
//! restarted on the same data. Afterwards every event was delivered, and no delivery id reached
//! the receiver more often than the documented guarantee allows (docs/delivery.md): at least
//! once; another copy only for a delivery whose request was in flight when the process died —
//! so between any two copies of one delivery id there is a kill.

use ringhook_e2e::checks::assert_at_least_once_across_kills;
use ringhook_e2e::{bin, Options, Receiver, Reply, Ringhook};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::{Duration, Instant};

const EVENTS: usize = 3_000;
const BATCH: usize = 500;
const KILLS: usize = 4;
/// Concurrent attempts one runner can have in flight: delivery workers × receive batch.
const WORKERS: usize = 8;
const RECEIVE_BATCH: usize = 32;

fn batch(from: usize) -> Value {
    let events: Vec<Value> = (from..(from + BATCH).min(EVENTS))
        .map(|i| json!({"id": format!("crash-{i}"), "type": "crash.test", "payload": {"seq": i}}))
        .collect();
    json!({ "events": events })
}

/// Posts a batch; idempotent on the event ids, so a post cut short by a kill is simply repeated.
async fn post_batch(rh: &Ringhook, from: usize) {
    let (s, v) = rh.post("/v1/events", &batch(from)).await;
    assert_eq!(s, 202, "{v}");
}

/// Distinct event sequence numbers the receiver has seen.
fn seen_seqs(rx: &Receiver) -> HashSet<i64> {
    rx.requests().iter().filter_map(|r| r.json()["payload"]["seq"].as_i64()).collect()
}

/// SIGKILL, note when (after the process is gone), and start again on the same data.
async fn kill(rh: &mut Ringhook, rx: &Receiver, kills: &mut Vec<Instant>, log: &mut Vec<String>) {
    rh.kill9();
    kills.push(Instant::now());
    log.push(format!("kill {} at {} received", kills.len(), rx.count()));
    rh.restart().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_while_delivering_loses_nothing() {
    let t0 = Instant::now();
    // The manual clock lets the test move past the safety-net sweep (5 minutes) at the end
    // instead of waiting for it; everything else runs at full speed.
    let mut rh = Ringhook::start(bin!(), Options::manual_clock()).await;
    let rx = Receiver::start().await;
    // A little latency keeps many requests in flight when the kills land.
    rx.set_default(Reply::status(200).delay(Duration::from_millis(3)));
    let (s, w) = rh.post("/v1/webhooks", &json!({"name": "crash", "url": format!("{}/hook", rx.url)})).await;
    assert_eq!(s, 201, "{w}");
    let webhook = w["id"].as_str().unwrap().to_string();
    rh.create_trigger(&json!({"name": "crash", "eventType": "crash.test",
        "actions": [{"action": "webhook", "parameters": {"webhookId": webhook}}]}))
        .await;

    // Kill 1: right after half the events were accepted, while they are being evaluated.
    for from in (0..EVENTS / 2).step_by(BATCH) {
        post_batch(&rh, from).await;
    }
    let mut kill_log = Vec::new();
    let mut kills = Vec::new();
    kill(&mut rh, &rx, &mut kills, &mut kill_log).await;
    for from in (EVENTS / 2..EVENTS).step_by(BATCH) {
        post_batch(&rh, from).await;
    }
    // Kills 2..: each after the receiver has seen a few hundred more requests, mid-delivery.
    for _ in 2..=KILLS {
        let target = (rx.count() + 350).min(EVENTS);
        let deadline = Instant::now() + Duration::from_secs(20);
        while rx.count() < target && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        kill(&mut rh, &rx, &mut kills, &mut kill_log).await;
    }

    // Let it finish; then move past the sweep so attempts cut off by a kill are picked up.
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut swept = 0;
    loop {
        let pending = rh.deliveries("status=pending").await;
        let seen = seen_seqs(&rx).len();
        if seen == EVENTS && pending.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not everything was delivered: {seen}/{EVENTS} events seen, {} pending (e.g. {:#?}); {kill_log:?}; log: {}",
            pending.len(),
            pending.first(),
            rh.log_path().display()
        );
        let before = rx.count();
        tokio::time::sleep(Duration::from_millis(300)).await;
        if rx.count() == before {
            // Stalled: whatever is left waits for the safety net (sweep) or a queue timeout.
            rh.advance(6 * 60).await;
            swept += 1;
        }
    }

    // Every event reached the receiver, every delivery succeeded, and copies came only from
    // requests in flight when a kill landed (at most workers × receive batch per kill).
    let requests = rx.requests();
    let all = rh.all_deliveries("").await;
    let (repeated, extra) = assert_at_least_once_across_kills(
        &requests,
        &all,
        EVENTS,
        &kills,
        WORKERS * RECEIVE_BATCH,
        &format!("{kill_log:?}"),
    );
    eprintln!(
        "crash: {EVENTS} events, {KILLS} kills ({kill_log:?}), {} requests, {} ids repeated ({extra} extra copies), \
         {swept} sweeps, {:.1} s",
        requests.len(),
        repeated,
        t0.elapsed().as_secs_f64()
    );
}
