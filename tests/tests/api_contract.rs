//! The OpenAPI document (`GET /v1/openapi.json`) as a contract, checked by independent tools
//! against the real runner:
//!
//! - `openapi-spec-validator` (PyPI): the document is valid OpenAPI;
//! - `schemathesis` (PyPI, v4): fuzzing every tenant operation the document describes finds
//!   nothing (`--checks all`: no 5xx, statuses, content types, headers and bodies as documented,
//!   invalid input refused, valid input accepted, authentication not ignored, ...);
//! - `openapi-python-client` (PyPI): a client generated from the document runs the README
//!   walkthrough (`tests/python/walkthrough.py`), and the webhook reaches a real receiver.
//!
//! Each tool is installed with pip once when it is missing; if it cannot be, the test fails with
//! pip's log: a contract check that silently skips proves nothing.

use ringhook_e2e::{bin, Options, Receiver, Ringhook};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Operations the fuzz run leaves out, by path prefix, each with the reason. Everything else the
/// document lists is fuzzed. (They go to schemathesis as one `--exclude-path-regex`: given the
/// option twice, it keeps only the last.)
const FUZZ_EXCLUSIONS: &[(&str, &str)] = &[
    (
        "/v1/admin/",
        "operator routes, authenticated by the admin token (--admin-token), not the tenant key the \
         run sends: they create tenants, move the manual clock and run the scheduler, so fuzzing \
         them (with the admin token) would change the server under test while it is being tested; \
         with the tenant key every call is, by design, a 401, which tests nothing",
    ),
    (
        "/v1/twilio/",
        "Twilio's status callbacks are authenticated by X-Twilio-Signature, an HMAC of the full URL \
         and form parameters under an SMS sender's auth token, and need the tenant/sender/delivery/ \
         attempt query of a real SMS delivery: schemathesis cannot sign what it generates, so every \
         request is refused before its input is read (a 403; a 415 with a document that declares \
         no form body), which tests only the refusal, and callbacks.rs tests that with real \
         signatures",
    ),
];

/// Test cases per operation and phase: small enough for the run to stay within 3 minutes on the
/// project's 2-core machine, with the other tests of this file beside it. (With every request
/// body typed, the run sends about 4,700 requests in 50-60 s; a seeded run of 60 examples,
/// about 6,500 in two minutes, found nothing more.)
const FUZZ_MAX_EXAMPLES: u32 = 20;
/// Each request's limit (seconds); the whole run's below.
const FUZZ_REQUEST_TIMEOUT_SECS: u32 = 10;
const FUZZ_RUN_LIMIT: Duration = Duration::from_secs(6 * 60);

/// The time limits of the other tools (they take seconds).
const TOOL_LIMIT: Duration = Duration::from_secs(120);
const PIP_LIMIT: Duration = Duration::from_secs(10 * 60);

/// A Python tool from PyPI: what to install, and a check that the right one is importable.
struct Tool {
    name: &'static str,
    /// The pip requirement.
    requirement: &'static str,
    /// Python code that exits 0 when the tool is usable.
    check: &'static str,
}

const SPEC_VALIDATOR: Tool = Tool {
    name: "openapi-spec-validator",
    requirement: "openapi-spec-validator",
    check: "import openapi_spec_validator",
};

/// The v4 CLI (its options differ from v3's).
const SCHEMATHESIS: Tool = Tool {
    name: "schemathesis",
    requirement: "schemathesis>=4,<5",
    check: "import sys, schemathesis; sys.exit(schemathesis.__version__.split('.')[0] != '4')",
};

/// Pinned to a minor version: the generated module and function names are what
/// `tests/python/walkthrough.py` imports, and 0.x releases change how they are derived.
const CLIENT_GENERATOR: Tool = Tool {
    name: "openapi-python-client",
    requirement: "openapi-python-client>=0.29,<0.30",
    check: "import sys, importlib.metadata as m; sys.exit(not m.version('openapi-python-client').startswith('0.29.'))",
};

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string())
}

fn usable(tool: &Tool) -> bool {
    Command::new(python())
        .args(["-c", tool.check])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `cmd` to its end or `limit`, whichever comes first (then kills it, by its own handle);
/// returns the exit status (None when killed) and its output.
fn run_blocking(cmd: &mut Command, limit: Duration) -> std::io::Result<(Option<i32>, String)> {
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let readers = (
        std::thread::spawn(move || std::io::read_to_string(&mut out).unwrap_or_default()),
        std::thread::spawn(move || std::io::read_to_string(&mut err).unwrap_or_default()),
    );
    let deadline = Instant::now() + limit;
    let code = loop {
        if let Some(status) = child.try_wait()? {
            break status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = format!("{}{}", readers.0.join().unwrap_or_default(), readers.1.join().unwrap_or_default());
    Ok((code, text))
}

/// Makes `tool` usable, installing it with pip once if needed (one install at a time: the
/// tests of this file run in parallel and share site-packages). Fails loudly otherwise.
fn ensure(tool: &Tool) {
    static INSTALLS: Mutex<Option<HashMap<&'static str, Result<(), String>>>> = Mutex::new(None);
    let mut installs = INSTALLS.lock().unwrap_or_else(|e| e.into_inner());
    let result = installs.get_or_insert_with(HashMap::new).entry(tool.name).or_insert_with(|| {
        if usable(tool) {
            return Ok(());
        }
        let started = Instant::now();
        let mut log = String::new();
        for extra in [&[][..], &["--user"][..], &["--break-system-packages"][..]] {
            let mut pip = Command::new(python());
            pip.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
                .args(extra)
                .arg(tool.requirement);
            match run_blocking(&mut pip, PIP_LIMIT) {
                Ok((Some(_), text)) => log.push_str(&text),
                Ok((None, text)) => log.push_str(&format!("{text}\npip did not finish within {PIP_LIMIT:?}\n")),
                Err(e) => log.push_str(&format!("cannot run {}: {e}\n", python())),
            }
            if usable(tool) {
                eprintln!("installed {} in {:.1?}", tool.requirement, started.elapsed());
                return Ok(());
            }
        }
        Err(log)
    });
    if let Err(log) = result {
        panic!("{} is not available ({} -m pip install '{}' failed):\n{log}", tool.name, python(), tool.requirement);
    }
}

/// A fresh directory for one test's files; kept when the test fails, for a look at them.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("ringhook-contract-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a scratch dir");
        Self(dir)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("files of the failed test kept in {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// What a tool did, for a failure message.
struct Ran {
    what: String,
    code: Option<i32>,
    output: String,
    took: Duration,
}

impl Ran {
    fn ok(&self) -> bool {
        self.code == Some(0)
    }
}

impl std::fmt::Display for Ran {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let how = match self.code {
            Some(c) => format!("exit {c}"),
            None => "killed: over its time limit".to_string(),
        };
        write!(f, "$ {}\n({how}, {:.1?})\n{}", self.what, self.took, self.output)
    }
}

/// Runs `python3 args...` in `cwd` without blocking the test's runtime (the receiver runs on
/// it), killed past `limit`.
async fn run_python(args: Vec<String>, cwd: &Path, limit: Duration) -> Ran {
    let what = format!("{} {}", python(), args.join(" "));
    let cwd = cwd.to_path_buf();
    let started = Instant::now();
    let (code, output) = tokio::task::spawn_blocking(move || {
        run_blocking(Command::new(python()).args(&args).current_dir(&cwd), limit)
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", python()))
    })
    .await
    .unwrap();
    Ran { what, code, output, took: started.elapsed() }
}

/// Fetches the document (no credentials: it is public) and writes it to `doc.json`.
async fn fetch_document(rh: &Ringhook, scratch: &Scratch) -> (Value, PathBuf) {
    let resp = rh.http.get(rh.url("/v1/openapi.json")).send().await.expect("ringhook answers");
    assert_eq!(resp.status().as_u16(), 200);
    let content_type = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_string);
    assert_eq!(content_type.as_deref(), Some("application/json"));
    let doc: Value = resp.json().await.expect("the document is JSON");
    let path = scratch.path("doc.json");
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).expect("write the document");
    (doc, path)
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_passes_the_openapi_validator() {
    ensure(&SPEC_VALIDATOR);
    let rh = Ringhook::start(bin!(), Options::manual_clock()).await;
    let scratch = Scratch::new("validator");
    let (_, doc) = fetch_document(&rh, &scratch).await;

    let args = ["-m", "openapi_spec_validator", "--validation-errors", "all", "--subschema-errors", "all"];
    let mut args: Vec<String> = args.map(String::from).to_vec();
    args.push(s(&doc));
    let ran = run_python(args, &scratch.0, TOOL_LIMIT).await;
    assert!(ran.ok() && ran.output.contains("OK"), "the document is not valid OpenAPI:\n{ran}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing() {
    ensure(&SCHEMATHESIS);
    // The manual clock: nothing is retried or expires behind the run's back. Webhooks the run may
    // create can only point at loopback (the default --allow-destinations of the e2e options).
    let rh = Ringhook::start(bin!(), Options::manual_clock()).await;
    let scratch = Scratch::new("schemathesis");
    let (doc, _) = fetch_document(&rh, &scratch).await;
    let excluded = operations(&doc)
        .iter()
        .filter(|(_, path)| FUZZ_EXCLUSIONS.iter().any(|(prefix, _)| path.starts_with(prefix)))
        .count();

    let prefixes: Vec<&str> = FUZZ_EXCLUSIONS.iter().map(|(prefix, _why)| *prefix).collect();
    let exclude = format!("^({})", prefixes.join("|"));
    let auth = format!("Authorization: Bearer {}", rh.key);
    let junit = s(&scratch.path("junit.xml"));
    let (max_examples, timeout) = (FUZZ_MAX_EXAMPLES.to_string(), FUZZ_REQUEST_TIMEOUT_SECS.to_string());
    let config = s(&python_dir().join("schemathesis.toml"));
    #[rustfmt::skip]
    let args = [
        "-m", "schemathesis.cli",
        // The per-check and per-operation departures from the defaults, each with its reason.
        "--config-file", &config,
        "run", &rh.url("/v1/openapi.json"),
        "--url", &rh.base,
        "--checks", "all",
        "--header", &auth,
        "--exclude-path-regex", &exclude,
        "--workers", "1",
        "--max-examples", &max_examples,
        // The same requests in the same order every run, CI's included (no random seed: the
        // mode ignores --seed), and no example database read or left behind (it implies none).
        "--generation-deterministic",
        "--request-timeout", &timeout,
        "--no-color",
        "--report", "junit",
        "--report-junit-path", &junit,
    ];
    let ran = run_python(args.map(String::from).to_vec(), &scratch.0, FUZZ_RUN_LIMIT).await;
    eprintln!("schemathesis took {:.1?}", ran.took);
    assert!(ran.code.is_some(), "schemathesis did not finish:\n{ran}");

    // What it tested, from its summary ("Selected: 63/67", "Tested: 63"; it leaves out the
    // document's own route by itself): everything but the exclusions, so a run that tested
    // nothing, or an exclusion that matched more than it says, is no pass.
    let number_after = |label: &str| -> Option<(usize, Option<usize>)> {
        let line = ran.output.lines().find_map(|l| l.trim().strip_prefix(label))?;
        let mut parts = line.trim().split('/').map(|n| n.trim().parse::<usize>().ok());
        Some((parts.next()??, parts.next().flatten()))
    };
    let (selected, total) = number_after("Selected:").unwrap_or_else(|| panic!("no 'Selected:' line:\n{ran}"));
    let total = total.unwrap_or_else(|| panic!("no total in the 'Selected:' line:\n{ran}"));
    let tested = number_after("Tested:").map(|(n, _)| n);
    assert!(
        selected > 0 && selected + excluded == total,
        "{excluded} operations excluded, {selected}/{total} selected:\n{ran}"
    );
    assert_eq!(tested, Some(selected), "every selected operation tested:\n{ran}");

    assert!(ran.ok(), "schemathesis found problems (its report below; JUnit in {junit}):\n{ran}");
}

/// The document's operations: (method, path).
fn operations(doc: &Value) -> Vec<(String, String)> {
    let paths = doc["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, ops)| ops.as_object().into_iter().flatten().map(|(m, _)| (m.clone(), path.clone())))
        .collect()
}

/// The walkthrough script, and the config that fixes the generated package's name.
fn python_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_python_client_runs_the_walkthrough() {
    ensure(&CLIENT_GENERATOR);
    let rh = Ringhook::start(bin!(), Options::manual_clock()).await;
    let scratch = Scratch::new("client");
    let (_, doc) = fetch_document(&rh, &scratch).await;

    // Generate the client: the package `ringhook_client` in <scratch>/client.
    let client_dir = scratch.path("client");
    std::fs::create_dir_all(&client_dir).unwrap();
    let package = client_dir.join("ringhook_client");
    let generate: Vec<String> = [
        "-m",
        "openapi_python_client",
        "generate",
        "--path",
        &s(&doc),
        "--config",
        &s(&python_dir().join("openapi-python-client.yaml")),
        "--meta",
        "none",
        "--output-path",
        &s(&package),
    ]
    .map(String::from)
    .to_vec();
    let ran = run_python(generate, &scratch.0, TOOL_LIMIT).await;
    assert!(ran.ok() && package.join("__init__.py").exists(), "openapi-python-client failed:\n{ran}");
    // Printed: its warnings (operations it skipped, types it could not read) say what the
    // document lacks too.
    eprintln!("{ran}");

    let receiver = Receiver::start().await;
    let walkthrough: Vec<String> = vec![
        s(&python_dir().join("walkthrough.py")),
        "--client-dir".into(),
        s(&client_dir),
        "--document".into(),
        s(&doc),
        "--base-url".into(),
        rh.base.clone(),
        "--api-key".into(),
        rh.key.clone(),
        "--receiver-url".into(),
        receiver.url.clone(),
        "--events-dir".into(),
        s(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events")),
        "--result".into(),
        s(&scratch.path("result.json")),
    ];
    let ran = run_python(walkthrough, &scratch.0, TOOL_LIMIT).await;
    assert!(ran.ok(), "the walkthrough through the generated client failed:\n{ran}");
    eprintln!("{ran}");
    let result: Value = serde_json::from_str(&std::fs::read_to_string(scratch.path("result.json")).unwrap())
        .unwrap_or_else(|e| panic!("the walkthrough's result is not JSON ({e}):\n{ran}"));

    // The receiver got exactly the one webhook the walkthrough saw delivered: the event in
    // campaign 215 (the one in campaign 20161 fires nothing), signed, at the webhook's URL.
    let got = receiver.wait_for(1, Duration::from_secs(20)).await;
    receiver.expect_no_more_than(1, Duration::from_millis(500)).await;
    let r = &got[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/agent-wrap"), "{r:#?}");
    let body = r.json();
    assert_eq!(body["type"], "agent.wrap", "{body}");
    assert_eq!(body["payload"]["campaignId"], "215", "{body}");
    assert_eq!(r.header("webhook-id"), result["deliveryId"].as_str(), "the delivery the log showed: {result}");
    for h in ["webhook-timestamp", "webhook-signature"] {
        assert!(r.header(h).is_some(), "{h}: {r:#?}");
    }

    // Whatever the script had to do by hand because the document does not say it (a request
    // body, a query parameter, a response schema), and names the document leaves to the
    // generator (no operationId, no tags), are gaps in the contract.
    let gaps = result["gaps"].as_array().expect("gaps");
    assert!(
        gaps.is_empty(),
        "the walkthrough completed and the webhook arrived, but the generated client could not do it \
         alone; what the document lacks, {} gaps:\n{}",
        gaps.len(),
        gaps.iter().map(|g| format!("- {}", g.as_str().unwrap_or_default())).collect::<Vec<_>>().join("\n")
    );
}
