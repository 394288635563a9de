//! The Ringhook under load: the release `ringhook-local` binary started on a fresh temporary
//! data directory (loopback destinations allowed), or an already running instance (`--url`).

use anyhow::{bail, Context};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const ADMIN_TOKEN: &str = "admin_load_token_0123456789";

/// The workspace root (this crate lives in `tests/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// `target/release/ringhook-local` (or under `CARGO_TARGET_DIR`).
pub fn default_binary() -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"));
    let target = if target.is_absolute() { target } else { workspace_root().join(target) };
    target.join("release").join("ringhook-local")
}

/// `cargo build --release -p ringhook-local`: a no-op when it is up to date, and it keeps the
/// load test from measuring a stale binary.
pub fn build_release() -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("building the runner: {cargo} build --release -p ringhook-local");
    let status = Command::new(&cargo)
        .args(["build", "--release", "-p", "ringhook-local"])
        .current_dir(workspace_root())
        .status()
        .with_context(|| format!("running {cargo}"))?;
    if !status.success() {
        bail!("cargo build --release -p ringhook-local failed");
    }
    Ok(())
}

pub struct Runner {
    child: Option<Child>,
    pub base: String,
    pub data_dir: Option<PathBuf>,
    keep_data: bool,
}

impl Runner {
    /// An instance someone else runs.
    pub fn external(base: &str) -> Self {
        Self { child: None, base: base.trim_end_matches('/').to_string(), data_dir: None, keep_data: true }
    }

    /// Starts `bin` on a fresh data directory and waits for its "listening" line.
    pub fn spawn(bin: &Path, api_key: &str, extra: &[String], keep_data: bool) -> anyhow::Result<Self> {
        if !bin.exists() {
            bail!("{} does not exist; build it with `cargo build --release -p ringhook-local`", bin.display());
        }
        let dir = std::env::temp_dir().join(format!("ringhook-load-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let log = std::fs::File::create(dir.join("ringhook.log"))?;
        let mut child = Command::new(bin)
            .arg("--data-dir")
            .arg(&dir)
            .args(["--listen", "127.0.0.1:0", "--api-key", api_key, "--admin-token", ADMIN_TOKEN])
            .args(["--allow-destinations", "127.0.0.0/8"])
            .args(extra)
            .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if !sent {
                    if let Some(url) = line.strip_prefix("ringhook listening on ") {
                        let _ = tx.send(url.trim().to_string());
                        sent = true;
                    }
                }
            }
        });
        let mut runner = Self { child: Some(child), base: String::new(), data_dir: Some(dir.clone()), keep_data };
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(base) => runner.base = base,
            Err(_) => bail!("ringhook-local did not start within 30 s; see {}", dir.join("ringhook.log").display()),
        }
        Ok(runner)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Memory and CPU time of the runner process so far (spawned runners only).
    pub fn usage(&self) -> Option<Usage> {
        Usage::of(self.pid()?)
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Some(dir) = &self.data_dir {
            if !self.keep_data {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
}

/// From /proc: resident memory now and at its peak, and CPU seconds used.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub hwm_kb: u64,
    /// Anonymous memory (heap, stacks): what the process itself allocated. The rest of its RSS
    /// is file pages, e.g. the memory-mapped database, which the kernel can drop at will.
    pub anon_kb: u64,
    pub cpu_secs: f64,
}

impl Usage {
    pub fn of(pid: u32) -> Option<Self> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0)
        };
        Some(Self {
            hwm_kb: field("VmHWM:"),
            anon_kb: field("RssAnon:"),
            cpu_secs: cpu_secs(&format!("/proc/{pid}/stat"))?,
        })
    }

    pub fn of_self() -> Option<Self> {
        Self::of(std::process::id())
    }
}

/// utime + stime from a /proc stat file, in seconds (USER_HZ is 100 on Linux).
fn cpu_secs(path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name may contain spaces; fields after it are space separated.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}
