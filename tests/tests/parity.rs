//! CLI ↔ editor parity: for every fixture, `keylint check --output-format json` and the language
//! server (the same binary, over stdio) report the same findings: same rule codes, same ranges
//! (the CLI's 1-based line and column in Unicode characters = the server's UTF-32 position + 1),
//! same severities. Both go through the configuration files (`cli_fixtures/basic/keylint.toml`)
//! and `config::postprocess`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use keylint_blackbox::{file_uri, push_client_caps, LspClient};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_keylint-dev");

/// `(code, line, column, end line, end column, severity)`, 1-based, columns in characters.
type Key = (String, u64, u64, u64, u64, String);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .canonicalize()
        .unwrap()
}

fn python_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            python_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "py") {
            out.push(p);
        }
    }
}

fn severity_name(lsp: &Value) -> String {
    match lsp.as_u64() {
        Some(1) => "error",
        Some(2) => "warning",
        Some(3) => "info",
        Some(4) => "hint",
        _ => "?",
    }
    .to_string()
}

#[test]
fn cli_and_server_report_the_same_findings_for_every_fixture() {
    let root = repo_root();
    let mut files = Vec::new();
    python_files(&root.join("fixtures"), &mut files);
    python_files(&root.join("server/tests/cli_fixtures"), &mut files);
    assert!(files.len() >= 20, "fixtures found: {files:?}");
    let rel: Vec<String> = files
        .iter()
        .map(|f| {
            f.strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();

    // The CLI, from the repository's root (as in CI), with its pre-filter.
    let out = Command::new(BIN)
        .args(["check", "--output-format", "json", "--no-progress"])
        .args(&rel)
        .current_dir(&root)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut cli: BTreeMap<String, Vec<Key>> = rel.iter().map(|r| (r.clone(), vec![])).collect();
    for f in json.as_array().unwrap() {
        let n = |k: &str| f[k].as_u64().unwrap();
        cli.entry(f["file"].as_str().unwrap().to_string())
            .or_default()
            .push((
                f["code"].as_str().unwrap().to_string(),
                n("line"),
                n("column"),
                n("end_line"),
                n("end_column"),
                f["severity"].as_str().unwrap().to_string(),
            ));
    }

    // The server, with the workspace at the repository's root, in UTF-32 positions.
    let mut c = LspClient::keylint(Some(BIN));
    let mut caps = push_client_caps();
    caps["general"]["positionEncodings"] = json!(["utf-32"]);
    let init = c.initialize(caps, json!({"rootUri": file_uri(&root)}));
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-32");
    let mut lsp: BTreeMap<String, Vec<Key>> = BTreeMap::new();
    for (path, r) in files.iter().zip(&rel) {
        let uri = file_uri(path);
        c.did_open(&uri, 1, &std::fs::read_to_string(path).unwrap());
        let p = c.diagnostics_for_version(&uri, 1);
        let keys = p["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                let pos = |w: &str, k: &str| d["range"][w][k].as_u64().unwrap() + 1;
                (
                    d["code"].as_str().unwrap().to_string(),
                    pos("start", "line"),
                    pos("start", "character"),
                    pos("end", "line"),
                    pos("end", "character"),
                    severity_name(&d["severity"]),
                )
            })
            .collect();
        lsp.insert(r.clone(), keys);
    }
    assert!(c.shutdown_and_exit().success());

    let mut mismatches = Vec::new();
    for r in &rel {
        let mut a = cli[r].clone();
        let mut b = lsp[r].clone();
        a.sort();
        b.sort();
        if a != b {
            mismatches.push(format!("{r}:\n  cli: {a:?}\n  lsp: {b:?}"));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    // The comparison is not vacuous: findings of several rules, and the fixture configuration's
    // effect, are in it.
    let total: usize = cli.values().map(Vec::len).sum();
    assert!(total >= 20, "{cli:?}");
}
