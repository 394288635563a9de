//! `ringhook-bootstrap-bench`: what each Lambda bootstrap weighs and how long it takes to
//! initialise, side by side with the baseline (`infra/baseline`: a `lambda_runtime` hello world
//! that builds a DynamoDB and an SQS client at init).
//!
//! ```text
//! cargo run -p ringhook-e2e --bin ringhook-bootstrap-bench -- --rounds 40
//! ```
//!
//! 1. **build**: `cargo build --release --locked -p ringhook-ingest … -p ringhook-scheduler`, then
//!    `cargo build --release --locked -p ringhook-baseline` in a second invocation (one
//!    invocation would unify the features of both, and the baseline's SDK features would leak
//!    into the functions). `--no-build` takes the binaries already in `<target>/release`.
//! 2. **size**: each binary is zipped as a Lambda zip (one entry, `bootstrap`, mode 0755,
//!    deflate level 6, with Python's `zipfile`) under `<target>/bootstrap-bench/`.
//! 3. **init**: each binary is started `--rounds` times, interleaved (every round starts each
//!    binary once, the order rotating from round to round, after one unmeasured warm-up round),
//!    with `AWS_LAMBDA_RUNTIME_API` pointing at a runtime-API listener of this tool's own on a
//!    fresh loopback port. Init is the time from just before the spawn to the arrival of the
//!    first `GET /2018-06-01/runtime/invocation/next`; the process is then killed.
//!
//! The environment is fixed and minimal (the variables Lambda sets, the `RINGHOOK_*` variables
//! the SAM template sets, a region and dummy static credentials, an empty `HOME`), with
//! `AWS_ENDPOINT_URL` pointing at a second loopback listener and the instance metadata service
//! disabled, so nothing can leave the machine: any connection to that listener during init is an
//! AWS call at init and is reported in the `AWS calls` column (the target is 0).
//!
//! The verdict per function: zip ≤ 1.3× the baseline's and median init ≤ 1.1× the baseline's.
//! With `--check` the exit status is non-zero when a function fails either.

use anyhow::{bail, Context};
use clap::Parser;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Zip ratio a function may reach against the baseline.
const ZIP_LIMIT: f64 = 1.3;
/// Median init ratio a function may reach against the baseline.
const INIT_LIMIT: f64 = 1.1;
const FUNCTIONS: [&str; 5] = ["ingest", "api", "evaluate", "deliver", "scheduler"];
const BASELINE: &str = "baseline";
const NEXT_INVOCATION: &str = "GET /2018-06-01/runtime/invocation/next";

#[derive(Parser, Debug)]
#[command(about = "Zip size and init time of the Lambda bootstraps against the baseline")]
struct Args {
    /// Measured rounds (each starts every binary once).
    #[arg(long, default_value_t = 40)]
    rounds: usize,
    /// Take the binaries already built in <target>/release instead of building them.
    #[arg(long)]
    no_build: bool,
    /// Cargo's target directory (default: $CARGO_TARGET_DIR, else <workspace>/target).
    #[arg(long)]
    target_dir: Option<PathBuf>,
    /// How long one start may take to reach the runtime API before it counts as failed.
    #[arg(long, default_value_t = 10)]
    timeout_secs: u64,
    /// Exit non-zero when a function fails the zip or init limit.
    #[arg(long)]
    check: bool,
}

struct Binary {
    name: &'static str,
    path: PathBuf,
    bytes: u64,
    zip_bytes: u64,
    init_ms: Vec<f64>,
    aws_calls: usize,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf();
    let target = args
        .target_dir
        .clone()
        .or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from))
        .unwrap_or_else(|| root.join("target"));
    let target = if target.is_absolute() { target } else { root.join(target) };

    if !args.no_build {
        let functions: Vec<String> = FUNCTIONS.iter().map(|f| format!("ringhook-{f}")).collect();
        cargo_build(&root, &target, &functions)?;
        cargo_build(&root, &target, &["ringhook-baseline".to_string()])?;
    }

    let out = target.join("bootstrap-bench");
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let mut bins = Vec::new();
    for name in std::iter::once(BASELINE).chain(FUNCTIONS) {
        let path = target.join("release").join(name);
        let bytes = std::fs::metadata(&path)
            .with_context(|| format!("{} (build it, or drop --no-build)", path.display()))?
            .len();
        let zip = out.join(format!("{name}.zip"));
        lambda_zip(&path, &zip)?;
        let zip_bytes = std::fs::metadata(&zip)?.len();
        bins.push(Binary { name, path, bytes, zip_bytes, init_ms: Vec::new(), aws_calls: 0 });
    }

    let home = out.join("home");
    std::fs::create_dir_all(&home)?;
    let timeout = Duration::from_secs(args.timeout_secs);
    eprintln!("measuring init: 1 warm-up round + {} rounds of {} binaries", args.rounds, bins.len());
    for round in 0..=args.rounds {
        for k in 0..bins.len() {
            let i = (k + round) % bins.len();
            let b = &mut bins[i];
            let log = out.join(format!("{}.log", b.name));
            let run = start_once(&b.path, b.name, &home, &log, timeout)
                .with_context(|| format!("{} (its output: {})", b.name, log.display()))?;
            b.aws_calls += run.aws_calls;
            if round > 0 {
                b.init_ms.push(run.init.as_secs_f64() * 1e3);
            }
        }
    }

    println!("{}", header(&root, args.rounds));
    println!("binaries: {}", target.join("release").display());
    let failed = print_table(&bins);
    if args.check && failed {
        bail!("a function is over the limits (zip ≤ {ZIP_LIMIT}× and init ≤ {INIT_LIMIT}× the baseline)");
    }
    Ok(())
}

fn cargo_build(root: &Path, target: &Path, packages: &[String]) -> anyhow::Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root).args(["build", "--release", "--locked"]).env("CARGO_TARGET_DIR", target);
    for p in packages {
        cmd.args(["-p", p]);
    }
    eprintln!("building: cargo build --release --locked -p {}", packages.join(" -p "));
    let status = cmd.status().context("running cargo")?;
    if !status.success() {
        bail!("cargo build failed: {status}");
    }
    Ok(())
}

/// A Lambda deployment zip: one entry named `bootstrap`, executable, deflated.
fn lambda_zip(bin: &Path, zip: &Path) -> anyhow::Result<()> {
    const SCRIPT: &str = r#"
import sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
info = zipfile.ZipInfo("bootstrap", date_time=(2020, 1, 1, 0, 0, 0))
info.external_attr = (0o100755 << 16)
info.compress_type = zipfile.ZIP_DEFLATED
with open(src, "rb") as f, zipfile.ZipFile(dst, "w") as z:
    z.writestr(info, f.read(), compresslevel=6)
"#;
    let status = Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(bin)
        .arg(zip)
        .status()
        .context("running python3 (its zipfile module writes the Lambda zip)")?;
    if !status.success() {
        bail!("zipping {} failed: {status}", bin.display());
    }
    Ok(())
}

struct Run {
    init: Duration,
    aws_calls: usize,
}

/// Starts `bin` once against a fresh runtime-API listener, waits for its first
/// `GET …/invocation/next`, kills it.
fn start_once(bin: &Path, name: &str, home: &Path, log: &Path, timeout: Duration) -> anyhow::Result<Run> {
    let runtime = TcpListener::bind("127.0.0.1:0")?;
    let runtime_addr = runtime.local_addr()?;
    // Stands in for every AWS endpoint: a connection here is an AWS call at init.
    let aws = TcpListener::bind("127.0.0.1:0")?;
    let aws_url = format!("http://{}", aws.local_addr()?);

    let (tx, rx) = mpsc::channel::<Result<(Instant, TcpStream), String>>();
    let listener = std::thread::spawn(move || {
        let Ok((mut sock, _)) = runtime.accept() else { return };
        let mut seen = Vec::new();
        let mut buf = [0u8; 1024];
        while !seen.windows(2).any(|w| w == b"\r\n") {
            match sock.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = tx.send(Err("the connection closed before a request line".into()));
                    return;
                }
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
        let at = Instant::now();
        let line = String::from_utf8_lossy(&seen);
        let line = line.lines().next().unwrap_or_default();
        // The connection goes back with the instant, so it stays open until the process is killed.
        let _ = tx.send(if line.starts_with(NEXT_INVOCATION) {
            Ok((at, sock))
        } else {
            Err(format!("first request: {line}"))
        });
    });

    let out = std::fs::OpenOptions::new().create(true).append(true).open(log)?;
    let mut cmd = Command::new(bin);
    cmd.env_clear()
        .envs(lambda_env(name, &runtime_addr.to_string(), &aws_url, home))
        .current_dir(bin.parent().unwrap_or(Path::new("/")))
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out);
    let start = Instant::now();
    let mut child = cmd.spawn().with_context(|| format!("starting {}", bin.display()))?;
    let result = wait_for_next(&rx, &mut child, timeout);
    let _ = child.kill();
    let _ = child.wait();
    if result.is_err() {
        // Unblock the listener thread if nothing ever connected.
        let _ = TcpStream::connect(runtime_addr);
    }
    let _ = listener.join();
    let (at, _connection) = result?;

    aws.set_nonblocking(true)?;
    let mut aws_calls = 0;
    while aws.accept().is_ok() {
        aws_calls += 1;
    }
    Ok(Run { init: at.duration_since(start), aws_calls })
}

fn wait_for_next(
    rx: &mpsc::Receiver<Result<(Instant, TcpStream), String>>,
    child: &mut Child,
    timeout: Duration,
) -> anyhow::Result<(Instant, TcpStream)> {
    let deadline = Instant::now() + timeout;
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(Ok(next)) => return Ok(next),
            Ok(Err(e)) => bail!("{e}"),
            Err(mpsc::RecvTimeoutError::Disconnected) => bail!("the runtime-API listener stopped"),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if let Some(status) = child.try_wait()? {
            // It may have asked for its next invocation just before exiting.
            if let Ok(Ok(next)) = rx.recv_timeout(Duration::from_millis(100)) {
                return Ok(next);
            }
            bail!("exited ({status}) before asking for an invocation");
        }
        if Instant::now() > deadline {
            bail!("did not ask for an invocation within {timeout:?}");
        }
    }
}

/// What Lambda (`provided.al2023`) and the SAM template set, with loopback stand-ins.
fn lambda_env(name: &str, runtime_api: &str, aws_url: &str, home: &Path) -> Vec<(String, String)> {
    let queue = |q: &str| format!("{aws_url}/000000000000/ringhook-bench-{q}");
    [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME", format!("ringhook-bench-{name}")),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".into()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/ringhook-bench-{name}")),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/01/01/[$LATEST]bench".into()),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_rust".into()),
        ("_HANDLER", "bootstrap".into()),
        ("LAMBDA_TASK_ROOT", "/var/task".into()),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime".into()),
        ("PATH", "/usr/local/bin:/usr/bin:/bin".into()),
        ("LANG", "C.UTF-8".into()),
        ("TZ", ":UTC".into()),
        ("HOME", home.display().to_string()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_DEFAULT_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "AKIDBOOTSTRAPBENCH00".into()),
        ("AWS_SECRET_ACCESS_KEY", "bootstrap-bench-dummy-secret".into()),
        ("AWS_SESSION_TOKEN", "bootstrap-bench-dummy-token".into()),
        ("AWS_ENDPOINT_URL", aws_url.to_string()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("RUST_LOG", "info".into()),
        ("RINGHOOK_TABLE", "ringhook-bench-table".into()),
        ("RINGHOOK_EVENTS_QUEUE_URL", queue("events")),
        ("RINGHOOK_DELIVERIES_QUEUE_URL", queue("deliveries")),
        ("RINGHOOK_EVENTS_DLQ_URL", queue("events-dlq")),
        ("RINGHOOK_DELIVERIES_DLQ_URL", queue("deliveries-dlq")),
        ("RINGHOOK_EVENT_BUS", "ringhook-bench-bus".into()),
        ("RINGHOOK_ALLOW_DESTINATIONS", String::new()),
        ("RINGHOOK_TWILIO_BASE_URL", "https://api.twilio.com".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// The median and the 90th percentile (nearest rank) of `xs`.
fn median_p90(xs: &[f64]) -> (f64, f64) {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let median = if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 };
    let p90 = v[((n as f64 * 0.9).ceil() as usize).clamp(1, n) - 1];
    (median, p90)
}

fn header(root: &Path, rounds: usize) -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .current_dir(root)
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let dirty = if git(&["status", "--porcelain", "--untracked-files=no"]).is_empty() {
        ""
    } else {
        " (with uncommitted changes)"
    };
    format!(
        "commit {}{dirty}, {rustc}, {} {}; {rounds} rounds",
        git(&["rev-parse", "--short", "HEAD"]),
        std::env::consts::ARCH,
        std::env::consts::OS
    )
}

/// Prints the markdown table; true when a function fails a limit.
fn print_table(bins: &[Binary]) -> bool {
    const MIB: f64 = 1024.0 * 1024.0;
    let base = &bins[0];
    let (base_median, _) = median_p90(&base.init_ms);
    println!();
    println!(
        "| binary | `bootstrap` (bytes) | zip (MiB) | zip ratio | init median (ms) | init p90 (ms) | init ratio | AWS calls at init | verdict |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
    let mut failed = false;
    for b in bins {
        let (median, p90) = median_p90(&b.init_ms);
        let zip_ratio = b.zip_bytes as f64 / base.zip_bytes as f64;
        let init_ratio = median / base_median;
        let verdict = if b.name == BASELINE {
            "–".to_string()
        } else {
            let mut why = Vec::new();
            if zip_ratio > ZIP_LIMIT {
                why.push(format!("zip > {ZIP_LIMIT}×"));
            }
            if init_ratio > INIT_LIMIT {
                why.push(format!("init > {INIT_LIMIT}×"));
            }
            if b.aws_calls > 0 {
                why.push("calls AWS at init".to_string());
            }
            if why.is_empty() {
                "PASS".to_string()
            } else {
                failed = true;
                format!("FAIL ({})", why.join(", "))
            }
        };
        println!(
            "| {} | {} | {:.2} | {:.3}× | {:.2} | {:.2} | {:.3}× | {} | {} |",
            b.name,
            thousands(b.bytes),
            b.zip_bytes as f64 / MIB,
            zip_ratio,
            median,
            p90,
            init_ratio,
            b.aws_calls,
            verdict
        );
    }
    failed
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_p90() {
        assert_eq!(median_p90(&[3.0, 1.0, 2.0]), (2.0, 3.0));
        let xs: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(median_p90(&xs), (5.5, 9.0));
        assert_eq!(thousands(4_812_345), "4,812,345");
        assert_eq!(thousands(999), "999");
    }
}
