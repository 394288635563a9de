//! Ringhook's Standard Webhooks signatures, verified by an independent implementation: the
//! reference Python library (`standardwebhooks` on PyPI) through
//! `tests/signatures/verify_standardwebhooks.py`.
//!
//! The test installs the library with pip if it cannot be imported, and fails loudly if it
//! still cannot run it: an interop check that silently skips proves nothing.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use ringhook::delivery::signing::{generate_secret, sign, signature_header};
use serde_json::json;

const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const SPEC_TS: i64 = 1_614_265_330;
const SPEC_BODY: &str = r#"{"test": 2432232314}"#;

fn script() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/signatures/verify_standardwebhooks.py");
    assert!(path.is_file(), "missing {}", path.display());
    path
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string())
}

fn can_import() -> bool {
    Command::new(python())
        .args(["-c", "import standardwebhooks"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Makes sure the reference library is importable, installing it once if needed.
fn ensure_reference_library() {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    let ready = READY.get_or_init(|| {
        if can_import() {
            return Ok(());
        }
        let mut log = String::new();
        for extra in [&[][..], &["--user"][..], &["--break-system-packages"][..]] {
            let out = Command::new(python())
                .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
                .args(extra)
                .arg("standardwebhooks")
                .output();
            match out {
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
        panic!(
            "the Standard Webhooks reference library (PyPI `standardwebhooks`) is not importable \
             with `{}` and `pip install standardwebhooks` failed; this interop test cannot run \
             without it.\n{log}",
            python()
        );
    }
}

fn run_reference(lines: &[serde_json::Value]) -> Output {
    ensure_reference_library();
    let mut child = Command::new(python())
        .arg(script())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python()));
    {
        let mut stdin = child.stdin.take().unwrap();
        for line in lines {
            writeln!(stdin, "{line}").unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn line(secret: &str, id: &str, ts: i64, body: &str, signature: &str) -> serde_json::Value {
    json!({ "secret": secret, "id": id, "timestamp": ts, "body": body, "signature": signature })
}

#[test]
fn reference_library_verifies_our_signatures_including_rotation() {
    let now = chrono::Utc::now().timestamp();
    let old = generate_secret();
    let new = generate_secret();
    let bodies = [
        SPEC_BODY.to_string(),
        String::new(),
        r#"{"event":"call.completed","data":{"from":"+15550100","to":"+15550199","duration":42}}"#.to_string(),
        "name=Ada%20Lovelace&call=1\nline two\twith tab".to_string(),
        r#"{"unicode":"héllo — ☎ 電話"}"#.to_string(),
        "x".repeat(64 * 1024),
    ];

    let mut lines = vec![line(
        SPEC_SECRET,
        SPEC_ID,
        SPEC_TS,
        SPEC_BODY,
        &sign(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY.as_bytes()).unwrap(),
    )];
    for (i, body) in bodies.iter().enumerate() {
        let id = format!("msg_{}", ulid::Ulid::new());
        let ts = now - i as i64;
        // One secret.
        let single = signature_header(&[&new], &id, ts, body.as_bytes()).unwrap();
        lines.push(line(&new, &id, ts, body, &single));
        // Rotation grace: both signatures in one header; a receiver holding either secret verifies.
        let both = signature_header(&[&old, &new], &id, ts, body.as_bytes()).unwrap();
        assert_eq!(both.split(' ').count(), 2);
        lines.push(line(&old, &id, ts, body, &both));
        lines.push(line(&new, &id, ts, body, &both));
    }
    // A secret given without its prefix (imported from elsewhere) signs the same way.
    let bare = SPEC_SECRET.trim_start_matches("whsec_");
    lines.push(line(bare, SPEC_ID, SPEC_TS, SPEC_BODY, &sign(bare, SPEC_ID, SPEC_TS, SPEC_BODY.as_bytes()).unwrap()));

    let out = run_reference(&lines);
    assert!(out.status.success(), "the reference library rejected a signature:\n{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = format!("{0}/{0} verified", lines.len());
    assert!(stderr.contains(&expected), "{}", describe(&out));
}

#[test]
fn reference_library_rejects_what_it_should() {
    // Proves the script is not vacuous: each of these must fail on its own.
    let now = chrono::Utc::now().timestamp();
    let secret = generate_secret();
    let other = generate_secret();
    let id = "msg_interop_negative";
    let body = r#"{"n":1}"#;
    let sig = sign(&secret, id, now, body.as_bytes()).unwrap();
    let cases = [
        ("tampered body", line(&secret, id, now, r#"{"n":2}"#, &sig)),
        ("other id", line(&secret, "msg_other", now, body, &sig)),
        ("other timestamp", line(&secret, id, now + 1, body, &sig)),
        ("wrong secret", line(&other, id, now, body, &sig)),
        (
            "rotation header without the receiver's secret",
            line(
                &generate_secret(),
                id,
                now,
                body,
                &signature_header(&[&secret, &other], id, now, body.as_bytes()).unwrap(),
            ),
        ),
    ];
    for (what, case) in cases {
        let out = run_reference(&[case]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{what}: expected the reference library to reject it\n{}",
            describe(&out)
        );
    }
}
