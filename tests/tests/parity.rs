//! CLI ↔ editor parity: for every fixture, `keylint check --output-format json` and the language
//! server (the same binary, over stdio) report the same findings: same rule codes, same ranges
//! (the CLI's 1-based line and column in Unicode characters = the server's UTF-32 position + 1),
//! same severities. Both go through the configuration files (`cli_fixtures/basic/keylint.toml`)
//! and `engine::postprocess`.

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
        // A project (`fixtures/projects/*`) has findings across its files: the CLI checks it as
        // one project; the server's side is `lsp_project.rs`.
        if p.is_dir()
            && p.parent().is_some_and(|d| d.ends_with("fixtures"))
            && p.ends_with("projects")
        {
            continue;
        }
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

/// The findings of `files` (under `root`) by the CLI run from `root` and by the server with its
/// workspace at `root`; per file, sorted.
type Findings = BTreeMap<String, Vec<Key>>;

fn both(root: &Path, files: &[PathBuf]) -> (Findings, Findings) {
    let rel: Vec<String> = files
        .iter()
        .map(|f| f.strip_prefix(root).unwrap().to_string_lossy().into_owned())
        .collect();

    // The CLI, from the root (as in CI), with its pre-filter.
    let out = Command::new(BIN)
        .args(["check", "--output-format", "json", "--no-progress"])
        .args(&rel)
        .current_dir(root)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut cli: Findings = rel.iter().map(|r| (r.clone(), vec![])).collect();
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

    // The server, with the workspace at the root, in UTF-32 positions.
    let mut c = LspClient::keylint(Some(BIN));
    let mut caps = push_client_caps();
    caps["general"]["positionEncodings"] = json!(["utf-32"]);
    let init = c.initialize(caps, json!({"rootUri": file_uri(root)}));
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-32");
    let mut lsp: Findings = BTreeMap::new();
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
    for v in cli.values_mut().chain(lsp.values_mut()) {
        v.sort();
    }
    (cli, lsp)
}

fn assert_same(cli: &Findings, lsp: &Findings) {
    let mismatches: Vec<String> = cli
        .iter()
        .filter(|(r, a)| lsp.get(*r) != Some(a))
        .map(|(r, a)| format!("{r}:\n  cli: {a:?}\n  lsp: {:?}", lsp.get(r)))
        .collect();
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert_eq!(cli.len(), lsp.len());
}

#[test]
fn cli_and_server_report_the_same_findings_for_every_fixture() {
    let root = repo_root();
    let mut files = Vec::new();
    python_files(&root.join("fixtures"), &mut files);
    python_files(&root.join("server/tests/cli_fixtures"), &mut files);
    assert!(files.len() >= 20, "fixtures found: {files:?}");
    let (cli, lsp) = both(&root, &files);
    assert_same(&cli, &lsp);
    // The comparison is not vacuous.
    let total: usize = cli.values().map(Vec::len).sum();
    assert!(total >= 20, "{cli:?}");
}

#[test]
fn cli_and_server_agree_under_a_team_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let files = [
        (
            "pyproject.toml",
            "[tool.ruff]\nline-length = 100\n\n[tool.keylint]\nper-file-ignores = { \"legacy/**\" = [\"KL101\"] }\nseverity = { KL001 = \"warning\", hardcoded-secret = \"error\" }\n",
        ),
        (
            "app.py",
            "# 注意 ✨ settings\nTITLE = \"café 🚀\"; SECRET_TOKEN = \"abcd1234efgh\"\nDB_PASSWORD = \"hunter2hunter2\"  # keylint: ignore[KL101]\nx = 1  # keylint: ignore\n",
        ),
        ("legacy/old.py", "SECRET_TOKEN = \"abcd1234efgh\"  # keylint: ignore[KL101]\n"),
        ("tests/test_app.py", "SECRET_TOKEN = \"abcd1234efgh\"\n"),
    ];
    let mut paths = Vec::new();
    for (rel, text) in files {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        if rel.ends_with(".py") {
            paths.push(p);
        }
    }
    let (cli, lsp) = both(&root, &paths);
    assert_same(&cli, &lsp);
    let app = &cli["app.py"];
    assert!(
        app.iter()
            .any(|k| k.0 == "KL101" && k.5 == "error" && k.2 == 34),
        "the secret after emoji, at character 34, raised to error: {app:?}"
    );
    assert!(
        app.iter().any(|k| k.0 == "KL001" && k.5 == "warning"),
        "{app:?}"
    );
    assert!(
        !app.iter().any(|k| k.1 == 3 && k.0 == "KL101"),
        "suppressed: {app:?}"
    );
}
