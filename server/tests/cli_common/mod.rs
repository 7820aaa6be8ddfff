//! Helpers of the CLI black-box tests: run the built `keylint` binary in a directory.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `keylint ARGS` in `dir`, without colour.
pub fn keylint(dir: &Path, args: &[&str]) -> Run {
    run(dir, args, None)
}

/// Runs `keylint ARGS` in `dir` with `input` on its stdin, without colour.
pub fn keylint_stdin(dir: &Path, args: &[&str], input: &[u8]) -> Run {
    run(dir, args, Some(input))
}

fn run(dir: &Path, args: &[&str], input: Option<&[u8]>) -> Run {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_keylint"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the keylint binary runs");
    if let Some(input) = input {
        // A run refused before it reads stdin closes it first.
        if let Err(e) = child.stdin.take().unwrap().write_all(input) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
    }
    let out = child.wait_with_output().expect("the keylint binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Writes `text` to `dir/rel`, creating the folders.
pub fn write(dir: &Path, rel: &str, text: &str) -> PathBuf {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

/// A temporary project with a root `keylint.toml` (so the lookup never leaves it).
pub fn project(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "keylint.toml", config);
    dir
}

/// The JSON findings of `keylint check --output-format json ARGS` in `dir`.
pub fn findings(dir: &Path, args: &[&str]) -> (i32, Vec<serde_json::Value>) {
    let mut all = vec!["check", "--output-format", "json"];
    all.extend_from_slice(args);
    let run = keylint(dir, &all);
    let v: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", run.stdout, run.stderr));
    (run.code, v.as_array().unwrap().clone())
}

/// `file:line:code:severity` of each finding, for compact assertions.
pub fn brief(findings: &[serde_json::Value]) -> Vec<String> {
    findings
        .iter()
        .map(|f| {
            format!(
                "{}:{}:{}:{}",
                f["file"].as_str().unwrap(),
                f["line"],
                f["code"].as_str().unwrap(),
                f["severity"].as_str().unwrap()
            )
        })
        .collect()
}

/// A hardcoded secret KL101 reports at its default severity (warning): a named secret that is
/// neither a known token format nor random-looking (`sk-test-…` has the OpenAI key format and is
/// reported as an error, which configured severities do not override).
pub const SECRET: &str = "API_KEY = \"hunter2hunter2\"\n";
