//! The front door (issue #13, item 15): the README's commands, as written.
//!
//! - The first command of the first `sh` block (`cargo run --release -- check fixtures`, taken
//!   the way `/work/shared/hooks/before-stop` takes it) runs from the repository root: cargo must
//!   pick the `keylint` binary by itself and the check must report the fixtures' findings (exit 1).
//! - Every `keylint …` line of the README's `sh` blocks (the CLI and CI examples; `[--x]` tried
//!   without and with) runs against the built binary in a copy of the fixtures and must not end
//!   in a usage error (exit 2).

mod cli_common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The lines of the README's ```sh blocks (comment lines and blank lines left out, trailing
/// comments cut).
fn sh_lines() -> Vec<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut out = Vec::new();
    let mut inside = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            inside = !inside && matches!(line.trim_end(), "```sh" | "```bash" | "```shell");
            continue;
        }
        let code = line.split(" #").next().unwrap_or("").trim();
        if inside && !code.is_empty() && !code.starts_with('#') {
            out.push(code.to_string());
        }
    }
    out
}

#[test]
fn the_readme_first_command_runs() {
    let first = sh_lines()
        .into_iter()
        .next()
        .expect("README has a sh block");
    assert_eq!(
        first, "cargo run --release -- check fixtures",
        "the README's first command changed: update this test's expectations"
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(first.replacen("cargo", &format!("'{cargo}'"), 1))
        .current_dir(root())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Drain stderr on a thread, to see cargo's progress while it runs.
    let mut err_pipe = child.stderr.take().unwrap();
    let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = stderr.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = err_pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let mut out_pipe = child.stdout.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out_pipe.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        // Inside `cargo test` the build directory may be locked by the cargo running this test:
        // by then cargo has chosen the binary, which is what broke (`could not determine which
        // binary to run`), so waiting for the lock is a pass.
        if stderr
            .lock()
            .unwrap()
            .contains("Blocking waiting for file lock")
        {
            break None;
        }
        if start.elapsed() > Duration::from_secs(900) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    reader.join().unwrap();
    let stderr = stderr.lock().unwrap().clone();
    let stdout = out_reader.join().unwrap();
    assert!(
        !stderr.contains("could not determine which binary"),
        "{stderr}"
    );
    match status {
        Some(status) => {
            assert_eq!(status.code(), Some(1), "findings: exit 1\n{stderr}");
            assert!(stdout.contains("KL101"), "{stdout}");
        }
        None => assert!(
            stderr.contains("Blocking waiting for file lock"),
            "cargo did not finish in 15 minutes:\n{stderr}"
        ),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

/// `keylint check --fix [--unsafe-fixes]` → the command without and with the option.
fn variants(line: &str) -> Vec<String> {
    match (line.find('['), line.find(']')) {
        (Some(a), Some(b)) if a < b => {
            let without = format!("{}{}", &line[..a], &line[b + 1..]);
            let with = format!("{}{}{}", &line[..a], &line[a + 1..b], &line[b + 1..]);
            vec![without, with]
        }
        _ => vec![line.to_string()],
    }
}

#[test]
fn the_readme_cli_examples_run() {
    let commands: Vec<String> = sh_lines()
        .into_iter()
        .filter(|l| l.starts_with("keylint ") && !l.starts_with("keylint server"))
        .flat_map(|l| variants(&l))
        .collect();
    assert!(
        commands
            .iter()
            .any(|c| c == "keylint check --select KL101,KL2 --fail-on error"),
        "{commands:?}"
    );
    for command in &commands {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&root().join("fixtures"), dir.path());
        std::fs::write(dir.path().join("keylint.toml"), "").unwrap();
        // `path/to/project` stands for the project: the current directory here.
        let args: Vec<&str> = command
            .split_whitespace()
            .skip(1)
            .map(|a| if a == "path/to/project" { "." } else { a })
            .collect();
        // `… - < FILE`: FILE's text on stdin, as the shell gives it.
        let run = match args.iter().position(|&a| a == "<") {
            Some(i) => {
                let input = std::fs::read(dir.path().join(args[i + 1])).unwrap();
                cli_common::keylint_stdin(dir.path(), &args[..i], &input)
            }
            None => cli_common::keylint(dir.path(), &args),
        };
        assert!(
            run.code == 0 || run.code == 1,
            "`{command}`: exit {}\n{}",
            run.code,
            run.stderr
        );
        assert!(!run.stdout.is_empty(), "`{command}` printed nothing");
    }
}
