//! Real deliveries, verified by an independent implementation: every request the receivers got
//! is checked with the Standard Webhooks reference library (PyPI `standardwebhooks`, through
//! `tests/signatures/verify_standardwebhooks.py`) — for configured webhooks (their own secret)
//! and inline trigger URLs (the tenant's secret), before, during and after a secret rotation.

use ringhook_e2e::{bin, Options, Receiver, Recorded, Ringhook};
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string())
}

fn can_import() -> bool {
    Command::new(python())
        .args(["-c", "import standardwebhooks"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Makes the reference library importable, installing it with pip once if needed. Fails loudly
/// otherwise: an interop check that silently skips proves nothing.
fn ensure_reference_library() {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    let ready = READY.get_or_init(|| {
        if can_import() {
            return Ok(());
        }
        let mut log = String::new();
        for extra in [&[][..], &["--user"][..], &["--break-system-packages"][..]] {
            match Command::new(python())
                .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
                .args(extra)
                .arg("standardwebhooks")
                .output()
            {
                Ok(o) => log.push_str(&String::from_utf8_lossy(&o.stderr)),
                Err(e) => log.push_str(&format!("cannot run {}: {e}\n", python())),
            }
            if can_import() {
                return Ok(());
            }
        }
        Err(log)
    });
    if let Err(log) = ready {
        panic!("the Standard Webhooks reference library (pip install standardwebhooks) is not available:\n{log}");
    }
}

/// Runs the reference verifier on `(secret, request, signature header)` triples.
fn reference(lines: &[(String, &Recorded, String)]) -> Output {
    ensure_reference_library();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("signatures/verify_standardwebhooks.py");
    let mut child = Command::new(python())
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the reference verifier");
    {
        let mut stdin = child.stdin.take().unwrap();
        for (secret, r, signature) in lines {
            let line = json!({
                "secret": secret,
                "id": r.header("webhook-id").expect("webhook-id"),
                "timestamp": r.header("webhook-timestamp").expect("webhook-timestamp"),
                "body": r.body,
                "signature": signature,
            });
            writeln!(stdin, "{line}").unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every request verifies with `secret` (its whole `webhook-signature` header, as a receiver
/// holding only that secret would check it).
fn assert_verify(secret: &str, requests: &[Recorded], what: &str) {
    assert!(!requests.is_empty(), "{what}: no requests");
    let lines: Vec<_> =
        requests.iter().map(|r| (secret.to_string(), r, r.header("webhook-signature").unwrap().to_string())).collect();
    let out = reference(&lines);
    assert!(out.status.success(), "{what}: the reference library rejected a signature:\n{}", describe(&out));
    let n = lines.len();
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("{n}/{n} verified")), "{}", describe(&out));
}

/// The `v1,` entries of a request's signature header.
fn signatures(r: &Recorded) -> Vec<String> {
    r.header("webhook-signature").expect("webhook-signature").split(' ').map(str::to_string).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_library_verifies_real_deliveries_across_rotation() {
    let mut rh = Ringhook::start(bin!(), Options::manual_clock()).await;
    let tenant = rh.new_tenant_full("signatures").await;
    rh.key = tenant["apiKey"].as_str().unwrap().to_string();
    let tenant_secret = tenant["signingSecret"].as_str().expect("the tenant's signing secret, shown once").to_string();
    assert!(tenant_secret.starts_with("whsec_"));

    let hooks = Receiver::start().await;
    let inline = Receiver::start().await;
    let (s, w) = rh.post("/v1/webhooks", &json!({"url": format!("{}/hook", hooks.url)})).await;
    assert_eq!(s, 201, "{w}");
    let webhook = w["id"].as_str().unwrap().to_string();
    let webhook_secret = w["signingSecret"].as_str().unwrap().to_string();
    // Shown once: reads mask it.
    let (_, read) = rh.get(&format!("/v1/webhooks/{webhook}")).await;
    assert_ne!(read["signingSecret"], json!(webhook_secret));
    assert!(!read.to_string().contains(&webhook_secret[6..]), "{read}");
    let (_, read) = rh.get("/v1/account/signing-secret").await;
    assert!(!read.to_string().contains(&tenant_secret[6..]), "{read}");

    rh.create_trigger(&json!({"name": "signed", "eventType": "sig.test", "actions": [
        {"action": "webhook", "parameters": {"webhookId": webhook}},
        {"action": "webhook", "parameters": {"url": format!("{}/inline", inline.url)}}]}))
        .await;
    let payloads = [
        json!({"n": 1}),
        json!({"n": 2, "unicode": "héllo — ☎ 電話", "nested": {"list": [1, 2.5, null, true], "quote": "\"x\""}}),
        json!({"n": 3, "big": "x".repeat(50_000)}),
    ];
    for p in &payloads {
        rh.send_event(&json!({"type": "sig.test", "payload": p})).await;
    }
    let before = hooks.wait_for(3, WAIT).await;
    let before_inline = inline.wait_for(3, WAIT).await;
    for r in before.iter().chain(&before_inline) {
        assert_eq!(signatures(r).len(), 1, "one secret, one signature");
        assert!(r.header("webhook-id").unwrap().starts_with("dlv_"));
    }
    assert_verify(&webhook_secret, &before, "webhook, before rotation");
    assert_verify(&tenant_secret, &before_inline, "inline URL, before rotation");

    // Negative controls: the verifier is not vacuous.
    let wrong = [(tenant_secret.clone(), &before[0], before[0].header("webhook-signature").unwrap().to_string())];
    assert_eq!(reference(&wrong).status.code(), Some(1), "another secret must not verify");
    let mut tampered = before[0].clone();
    tampered.body = tampered.body.replacen("\"n\":", "\"n\":9", 1);
    assert_ne!(tampered.body, before[0].body);
    let tampered_line =
        [(webhook_secret.clone(), &tampered, tampered.header("webhook-signature").unwrap().to_string())];
    assert_eq!(reference(&tampered_line).status.code(), Some(1), "a tampered body must not verify");

    // Rotate both: the new secret is shown once; the old one keeps signing for 24 hours.
    let (s, rot) = rh.post(&format!("/v1/webhooks/{webhook}/rotate-secret"), &json!({})).await;
    assert_eq!(s, 200, "{rot}");
    let webhook_secret2 = rot["signingSecret"].as_str().unwrap().to_string();
    let (s, rot) = rh.post("/v1/account/signing-secret/rotate", &json!({})).await;
    assert_eq!(s, 200, "{rot}");
    let tenant_secret2 = rot["signingSecret"].as_str().unwrap().to_string();
    assert!(rot["previousSecretExpiresAt"].is_string(), "{rot}");
    assert_ne!(webhook_secret2, webhook_secret);
    assert_ne!(tenant_secret2, tenant_secret);

    rh.send_event(&json!({"type": "sig.test", "payload": {"n": 4}})).await;
    let during = hooks.wait_for(4, WAIT).await[3..].to_vec();
    let during_inline = inline.wait_for(4, WAIT).await[3..].to_vec();
    for (old, new, reqs, what) in [
        (&webhook_secret, &webhook_secret2, &during, "webhook"),
        (&tenant_secret, &tenant_secret2, &during_inline, "inline URL"),
    ] {
        let r = &reqs[0];
        let sigs = signatures(r);
        assert_eq!(sigs.len(), 2, "{what}: both signatures during the grace period: {sigs:?}");
        // A receiver holding either secret verifies the whole header…
        assert_verify(old, reqs, &format!("{what}, old secret during the grace period"));
        assert_verify(new, reqs, &format!("{what}, new secret during the grace period"));
        // …and each signature is its own secret's: new first, then old.
        let each = [(new.to_string(), r, sigs[0].clone()), (old.to_string(), r, sigs[1].clone())];
        let out = reference(&each);
        assert!(out.status.success(), "{what}: {}", describe(&out));
        let crossed = [(old.to_string(), r, sigs[0].clone())];
        assert_eq!(reference(&crossed).status.code(), Some(1), "{what}: signatures are per secret");
    }

    // After the grace period only the new secret signs.
    rh.advance(24 * 3600 + 1).await;
    rh.send_event(&json!({"type": "sig.test", "payload": {"n": 5}})).await;
    let after = hooks.wait_for(5, WAIT).await[4..].to_vec();
    let after_inline = inline.wait_for(5, WAIT).await[4..].to_vec();
    assert_eq!(signatures(&after[0]).len(), 1);
    assert_eq!(signatures(&after_inline[0]).len(), 1);
    assert_verify(&webhook_secret2, &after, "webhook, after the grace period");
    assert_verify(&tenant_secret2, &after_inline, "inline URL, after the grace period");
    let old_line = [(webhook_secret.clone(), &after[0], after[0].header("webhook-signature").unwrap().to_string())];
    assert_eq!(reference(&old_line).status.code(), Some(1), "the old secret no longer signs");
}
