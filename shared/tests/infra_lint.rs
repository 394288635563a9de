//! `cfn-lint infra/template.yaml` as a test, so the acceptance check "cfn-lint reports no
//! errors" runs with the rest of the suite instead of by hand.
//!
//! cfn-lint's exit code is a bit set: 2 = errors, 4 = warnings, 8 = informational (and 1 when
//! it could not run, e.g. a bad argument or an unreadable template). Warnings and
//! informational findings are printed but accepted; any other bit fails the test with
//! cfn-lint's output.
//!
//! When cfn-lint is missing the test installs it with pip (`pip install cfn-lint`, then with
//! `--break-system-packages`, then in a private virtualenv under the temp dir). If it still
//! cannot run, the test fails saying so: a lint that silently skips proves nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// cfn-lint exit-code bits that do not fail the lint.
const WARNINGS: i32 = 4;
const INFORMATIONAL: i32 = 8;
/// cfn-lint's "errors found" bit.
const ERRORS: i32 = 2;

/// Runs cfn-lint when the `cfn-lint` script is not on PATH but the package is importable
/// (pip put the script in a directory outside PATH); the package has no `__main__`.
const MODULE_SHIM: &str = "import sys; from cfnlint.runner import main; sys.argv[0] = 'cfn-lint'; sys.exit(main())";

fn template() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/template.yaml");
    assert!(path.is_file(), "missing {}", path.display());
    path
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string())
}

fn venv_dir() -> PathBuf {
    std::env::temp_dir().join("ringhook-cfn-lint-venv")
}

/// The ways cfn-lint may be runnable here, each a program and its leading arguments.
fn candidates() -> Vec<Vec<String>> {
    vec![
        vec!["cfn-lint".into()],
        vec![python(), "-c".into(), MODULE_SHIM.into()],
        vec![venv_dir().join("bin").join("cfn-lint").to_string_lossy().into_owned()],
    ]
}

fn command(linter: &[String]) -> Command {
    let mut cmd = Command::new(&linter[0]);
    cmd.args(&linter[1..]).current_dir(workspace_root());
    cmd
}

/// `cfn-lint --version`, if this way of running it works.
fn version(linter: &[String]) -> Option<String> {
    let out = command(linter).arg("--version").stdin(Stdio::null()).output().ok()?;
    out.status.success().then(|| {
        let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
        text.trim().to_string()
    })
}

fn first_working() -> Option<(Vec<String>, String)> {
    candidates().into_iter().find_map(|c| version(&c).map(|v| (c, v)))
}

/// Runs a command for the install log; true when it exited successfully.
fn logged(log: &mut String, cmd: &mut Command) -> bool {
    log.push_str(&format!("$ {cmd:?}\n"));
    match cmd.stdin(Stdio::null()).output() {
        Ok(out) => {
            log.push_str(&String::from_utf8_lossy(&out.stdout));
            log.push_str(&String::from_utf8_lossy(&out.stderr));
            log.push_str(&format!("({})\n", out.status));
            out.status.success()
        }
        Err(e) => {
            log.push_str(&format!("cannot run: {e}\n"));
            false
        }
    }
}

fn pip_install(python: &str, extra: &[&str]) -> Command {
    let mut cmd = Command::new(python);
    cmd.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"]).args(extra).arg("cfn-lint");
    cmd
}

/// The command prefix that runs cfn-lint, installing it once if needed; panics saying why
/// when it cannot be had.
fn linter() -> &'static [String] {
    static LINTER: OnceLock<Result<(Vec<String>, String), String>> = OnceLock::new();
    let found = LINTER.get_or_init(|| {
        if let Some(found) = first_working() {
            return Ok(found);
        }
        eprintln!("cfn-lint not found: installing it with pip");
        let mut log = String::new();
        for extra in [&[][..], &["--break-system-packages"][..]] {
            if logged(&mut log, &mut pip_install(&python(), extra)) {
                if let Some(found) = first_working() {
                    return Ok(found);
                }
            }
        }
        // A Python that refuses global installs (PEP 668) still makes virtualenvs.
        let venv = venv_dir();
        let venv_python = venv.join("bin").join("python").to_string_lossy().into_owned();
        if logged(&mut log, Command::new(python()).args(["-m", "venv"]).arg(&venv)) {
            logged(&mut log, &mut pip_install(&venv_python, &[]));
        }
        first_working().ok_or(log)
    });
    match found {
        Ok((linter, version)) => {
            eprintln!("linting with {version} ({})", linter[0]);
            linter
        }
        Err(log) => panic!(
            "cfn-lint is not installed and could not be installed with pip (globally, with \
             --break-system-packages, or in a virtualenv at {}); the template cannot be \
             linted without it.\n{log}",
            venv_dir().display()
        ),
    }
}

fn lint(path: &Path) -> Output {
    let linter = linter();
    command(linter).arg(path).stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("cannot run {}: {e}", linter[0]))
}

fn describe(out: &Output) -> String {
    format!(
        "cfn-lint exit {:?}\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn template_has_no_cfn_lint_errors() {
    let out = lint(&template());
    let report = describe(&out);
    let code = out.status.code().unwrap_or_else(|| panic!("cfn-lint was killed by a signal\n{report}"));
    assert_eq!(
        code & !(WARNINGS | INFORMATIONAL),
        0,
        "cfn-lint infra/template.yaml reported errors (or could not lint the template):\n{report}"
    );
    if code != 0 {
        // Accepted, but worth seeing in the test output.
        eprintln!("cfn-lint warnings/informational findings (not failures):\n{report}");
    }
}

/// The harness itself: a template with a real error must come back with the error bit, so a
/// cfn-lint that lints nothing (or an exit code read the wrong way) cannot pass the test above.
#[test]
fn cfn_lint_flags_a_broken_template() {
    let path = std::env::temp_dir().join(format!("ringhook-cfn-lint-selfcheck-{}.yaml", std::process::id()));
    std::fs::write(
        &path,
        "AWSTemplateFormatVersion: '2010-09-09'\n\
         Resources:\n  \
           Queue:\n    \
             Type: AWS::SQS::Queue\n    \
             Properties:\n      \
               VisibilityTimeout: not-a-number\n      \
               NoSuchProperty: true\n",
    )
    .unwrap();
    let out = lint(&path);
    let _ = std::fs::remove_file(&path);
    let report = describe(&out);
    let code = out.status.code().unwrap_or_else(|| panic!("cfn-lint was killed by a signal\n{report}"));
    assert_ne!(code & ERRORS, 0, "cfn-lint did not report the broken template's errors:\n{report}");
    assert!(report.contains("NoSuchProperty"), "cfn-lint's report does not name the bad property:\n{report}");
}
