//! Starts a local AWS emulator (`moto_server`, from PyPI) for tests and local runs.
//!
//! Nothing in the adapters knows about it: callers point the standard SDK configuration at
//! [`MotoServer::endpoint`] through `AWS_ENDPOINT_URL` and dummy credentials
//! ([`MotoServer::env_vars`]).

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

pub const REGION: &str = "us-east-1";
const READY_TIMEOUT: Duration = Duration::from_secs(60);
const START_ATTEMPTS: usize = 3;

/// Runs the emulator behind a shell watchdog: the watchdog kills it as soon as our end of its
/// stdin closes, which happens on `Drop` and also when this process dies without unwinding
/// (a test timeout, a SIGKILL), so no emulator outlives the tests.
const WATCHDOG: &str = r#"exec 3<&0
"$@" </dev/null &
pid=$!
( cat <&3 >/dev/null; kill "$pid" 2>/dev/null ) &
wait "$pid"
"#;

/// A running `moto_server` on a free loopback port; killed on drop.
pub struct MotoServer {
    child: Child,
    stdin: Option<ChildStdin>,
    port: u16,
    log: PathBuf,
}

impl std::fmt::Debug for MotoServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MotoServer").field("endpoint", &self.endpoint()).finish()
    }
}

fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(program)).find(|p| {
        use std::os::unix::fs::PermissionsExt as _;
        p.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

fn python() -> &'static str {
    if on_path("python3").is_some() {
        "python3"
    } else {
        "python"
    }
}

fn moto_importable() -> bool {
    Command::new(python())
        .args(["-c", "import moto.server, flask, flask_cors"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn pip_install(python: &str) -> anyhow::Result<()> {
    let out = Command::new(python)
        .args(["-m", "pip", "install", "--quiet", "moto[server]"])
        .output()
        .with_context(|| format!("cannot run {python} -m pip"))?;
    if !out.status.success() {
        bail!(
            "`{python} -m pip install moto[server]` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// A virtualenv of our own, for a Python that refuses global installs (PEP 668).
fn venv_moto() -> anyhow::Result<Vec<String>> {
    let dir = std::env::temp_dir().join("ringhook-moto-venv");
    let server = dir.join("bin").join("moto_server");
    if !server.exists() {
        let status = Command::new(python())
            .args(["-m", "venv"])
            .arg(&dir)
            .stdout(Stdio::null())
            .status()
            .with_context(|| format!("cannot run {} -m venv", python()))?;
        if !status.success() {
            bail!("`{} -m venv {}` failed ({status})", python(), dir.display());
        }
        pip_install(&dir.join("bin").join("python").to_string_lossy())?;
    }
    Ok(vec![server.to_string_lossy().into_owned()])
}

/// The command that starts the emulator, installing `moto[server]` with pip when missing.
fn moto_command() -> anyhow::Result<Vec<String>> {
    if let Some(p) = on_path("moto_server") {
        return Ok(vec![p.to_string_lossy().into_owned()]);
    }
    if !moto_importable() {
        eprintln!("moto_server not found: installing moto[server] with pip");
        if let Err(global) = pip_install(python()) {
            eprintln!("{global:#}\ntrying a private virtualenv instead");
            return venv_moto().map_err(|venv| anyhow::anyhow!("{global:#}; and in a virtualenv: {venv:#}"));
        }
    }
    if let Some(p) = on_path("moto_server") {
        return Ok(vec![p.to_string_lossy().into_owned()]);
    }
    // pip may have put the script outside PATH; the module works wherever it is installed.
    if moto_importable() {
        return Ok(vec![python().into(), "-m".into(), "moto.server".into()]);
    }
    bail!("moto[server] is not importable even after pip install")
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Whether something on the port answers HTTP.
fn answers_http(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let req = format!("GET /moto-api/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut buf = [0u8; 5];
    s.read_exact(&mut buf).is_ok() && &buf == b"HTTP/"
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

impl MotoServer {
    /// Starts `moto_server` on a free 127.0.0.1 port and waits until it answers.
    pub fn start() -> anyhow::Result<MotoServer> {
        let cmd = moto_command().context("cannot start the AWS emulator (moto_server)")?;
        let mut last_err = None;
        for _ in 0..START_ATTEMPTS {
            match Self::spawn(&cmd) {
                Ok(s) => return Ok(s),
                // Most likely another process took the port between probe and bind: retry.
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err
            .expect("at least one attempt")
            .context(format!("cannot start the AWS emulator ({})", cmd.join(" "))))
    }

    fn spawn(cmd: &[String]) -> anyhow::Result<MotoServer> {
        let port = free_port()?;
        let log = std::env::temp_dir().join(format!("ringhook-moto-{}-{port}.log", std::process::id()));
        let log_file = std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("moto-watchdog")
            .args(cmd)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .spawn()
            .with_context(|| format!("spawning {}", cmd.join(" ")))?;
        let stdin = child.stdin.take();
        let mut server = MotoServer { child, stdin, port, log };
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "moto_server exited ({status}) before answering on port {port}; its log:\n{}",
                    log_tail(&server.log)
                );
            }
            if answers_http(port) {
                return Ok(server);
            }
            if Instant::now() > deadline {
                let tail = log_tail(&server.log);
                drop(server);
                bail!("moto_server did not answer on port {port} within {READY_TIMEOUT:?}; its log:\n{tail}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The standard SDK variables that point any AWS SDK or CLI at this emulator with dummy
    /// credentials; pass them to child processes (`Command::envs`).
    pub fn env_vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_SESSION_TOKEN", "testing".into()),
            ("AWS_REGION", REGION.into()),
            ("AWS_DEFAULT_REGION", REGION.into()),
            // No instance-metadata probing when something else in the chain is missing.
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }

    /// Sets [`Self::env_vars`] in this process so `load_sdk_config()` finds the emulator.
    /// The environment is process-global: call it before starting threads that read it.
    pub fn export_env(&self) {
        for (k, v) in self.env_vars() {
            std::env::set_var(k, v);
        }
    }

    /// Where the emulator's output goes (removed on drop unless the thread is panicking).
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The last lines of the emulator's log.
    pub fn log_tail(&self) -> String {
        log_tail(&self.log)
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        // Closing stdin makes the watchdog kill the emulator; give it a moment, then make sure.
        drop(self.stdin.take());
        // The log only matters when something went wrong.
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.log);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        if answers_http(self.port) {
            eprintln!("warning: moto_server on port {} still answers after shutdown", self.port);
        }
    }
}
