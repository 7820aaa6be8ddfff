//! No output of `keylint check` carries a key (issue #13, items 6–8): every fixture and a file of
//! synthetic keys (`cli_fixtures/leaks/`: keys in subscripts, attribute names, f-strings, dict
//! keys, comments, two on one line, neighbouring lines) go through every output format, the
//! statistics, `--diff` and `--fix`, and no full key may appear on stdout or stderr. Only the
//! file edit itself (what `--fix` writes) may hold one.

mod cli_common;

use std::path::{Path, PathBuf};

use cli_common::keylint;

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The keys to look for: the synthetic ones (`keys.txt`) and, in the rule fixtures, every
/// token of a known format and every literal on a line that expects a `hardcoded-secret` and
/// looks generated (letters and digits, no space, 10 characters or more). Found here by plain
/// text matching, independently of keylint's detector.
fn keys() -> Vec<String> {
    let leaks = manifest().join("tests/cli_fixtures/leaks");
    let mut keys: Vec<String> = std::fs::read_to_string(leaks.join("keys.txt"))
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    let synthetic = std::fs::read_to_string(leaks.join("synthetic.py")).unwrap();
    for k in &keys {
        assert!(synthetic.contains(k.as_str()), "{k} is not in synthetic.py");
    }
    let formats = regex::Regex::new(
        r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|(?:AKIA|ASIA)[0-9A-Z]{16}|xox[abposr]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|sk-[A-Za-z0-9_-]{20,})",
    )
    .unwrap();
    let literal = regex::Regex::new(r#"["']([^"'\s]{10,})["']"#).unwrap();
    for file in py_files(&manifest().join("../fixtures")) {
        let text = std::fs::read_to_string(&file).unwrap();
        for line in text.lines() {
            keys.extend(formats.find_iter(line).map(|m| m.as_str().to_string()));
            if line.contains("expect: hardcoded-secret") {
                let code = line.split("# expect").next().unwrap_or(line);
                for c in literal.captures_iter(code) {
                    let v = &c[1];
                    if v.bytes().any(|b| b.is_ascii_digit())
                        && v.bytes().any(|b| b.is_ascii_alphabetic())
                        && !v.contains("example")
                    {
                        keys.push(v.to_string());
                    }
                }
            }
        }
    }
    // The rules' documentation (SARIF's `help`, the editor's hover, `keylint rule`) shows example
    // values that the fixtures reuse: published text of keylint's own, not a user's key.
    let docs: String = ["src/rules", "src/config"]
        .iter()
        .flat_map(|d| std::fs::read_dir(manifest().join(d)).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    keys.retain(|k| !docs.contains(k.as_str()) && !k.contains("EXAMPLE"));
    keys.sort();
    keys.dedup();
    assert!(keys.len() > 30, "too few keys found: {keys:?}");
    keys
}

fn py_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "py") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
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

/// A project holding the rule fixtures and the synthetic keys.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &manifest().join("../fixtures"),
        &dir.path().join("fixtures"),
    );
    copy_dir(
        &manifest().join("tests/cli_fixtures/leaks"),
        &dir.path().join("leaks"),
    );
    std::fs::write(dir.path().join("keylint.toml"), "").unwrap();
    dir
}

fn assert_no_key(what: &str, out: &str, keys: &[String]) {
    let leaked: Vec<&String> = keys.iter().filter(|k| out.contains(k.as_str())).collect();
    assert!(
        leaked.is_empty(),
        "{what} carries {} key(s): {leaked:?}",
        leaked.len()
    );
}

#[test]
fn no_output_format_carries_a_key() {
    let keys = keys();
    let dir = project();
    let runs: &[&[&str]] = &[
        &["check"],
        &["check", "--output-format", "text", "--statistics"],
        &["check", "--output-format", "json"],
        &["check", "--output-format", "sarif"],
        &["check", "--output-format", "github"],
        &["check", "--statistics"],
        &["check", "--diff"],
        &["check", "--diff", "--unsafe-fixes"],
        &["check", "--select", "KL101", "--diff", "--unsafe-fixes"],
    ];
    for args in runs {
        let run = keylint(dir.path(), args);
        assert!(run.code != 2, "{args:?}: exit {}\n{}", run.code, run.stderr);
        assert_no_key(&format!("{args:?} stdout"), &run.stdout, &keys);
        assert_no_key(&format!("{args:?} stderr"), &run.stderr, &keys);
    }
    // The runs print the lines and places that hold the keys (the test is not vacuous).
    let run = keylint(dir.path(), &["check", "--diff", "--unsafe-fixes"]);
    assert!(run.stdout.contains("-API_KEY = \"sk_l"), "{}", run.stdout);
    let run = keylint(dir.path(), &["check", "leaks/synthetic.py"]);
    assert!(run.stdout.contains("`tokens[\"ghp_****"), "{}", run.stdout);
    assert!(run.stdout.contains("`BACKUP_KEY`"), "{}", run.stdout);
}

#[test]
fn fix_reports_carry_no_key() {
    let keys = keys();
    let dir = project();
    for args in [
        &["check", "--fix"][..],
        &[
            "check",
            "--fix",
            "--unsafe-fixes",
            "--output-format",
            "json",
        ],
        &["check", "--fix", "--unsafe-fixes"],
    ] {
        let run = keylint(dir.path(), args);
        assert!(run.code != 2 || !run.stderr.is_empty(), "{args:?}");
        assert_no_key(&format!("{args:?} stdout"), &run.stdout, &keys);
        assert_no_key(&format!("{args:?} stderr"), &run.stderr, &keys);
    }
}
