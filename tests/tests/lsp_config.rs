//! The language server and the configuration files, over real stdio: `keylint.toml` /
//! `[tool.keylint]` apply in the editor as in the CLI, edits to them are seen after
//! `workspace/didChangeWatchedFiles`, client settings override them, suppressions and their quick
//! fixes, and a broken configuration.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use keylint_blackbox::{apply_text_edits, file_uri, push_client_caps, LspClient, TIMEOUT};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_keylint-dev");

const FLASK: &str = "from flask import Flask\n\napp = Flask(__name__)\nAPI_KEY = \"sk-test-4f9c2b7e8d1a6f3c9a0b\"\n";

/// A secret of no known provider: the rule reports it at its default severity (warning).
const GENERIC: &str =
    "from flask import Flask\n\napp = Flask(__name__)\nSECRET_TOKEN = \"abcd1234efgh\"\n";

fn uri_of(path: &Path) -> String {
    file_uri(path)
}

/// A project directory with `files` (relative path → text).
fn project(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    for (rel, text) in files {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
    }
    (dir, root)
}

fn start(caps: Value, root: &Path, init_options: Value) -> LspClient {
    let mut c = LspClient::keylint(Some(BIN));
    c.initialize(
        caps,
        json!({"rootUri": uri_of(root), "initializationOptions": init_options}),
    );
    c
}

fn codes(params: &Value) -> Vec<String> {
    params["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Opens `root/rel` with its text on disk; returns its URI and the first published diagnostics.
fn open(c: &mut LspClient, root: &Path, rel: &str) -> (String, Value) {
    let path = root.join(rel);
    let text = std::fs::read_to_string(&path).unwrap();
    let uri = uri_of(&path);
    c.did_open(&uri, 1, &text);
    let p = c.diagnostics_for_version(&uri, 1);
    (uri, p)
}

fn code_actions(c: &mut LspClient, uri: &str, diag: &Value, only: Value) -> Vec<Value> {
    let resp = c.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": uri},
            "range": diag["range"],
            "context": {"diagnostics": [diag], "only": only}
        }),
    );
    resp["result"].as_array().cloned().unwrap_or_default()
}

#[test]
fn config_file_ignore_removes_the_diagnostic() {
    let (_d, root) = project(&[
        ("keylint.toml", "ignore = [\"KL101\"]\n"),
        ("app.py", FLASK),
        (
            "other/pyproject.toml",
            "[tool.keylint]\nseverity = { KL101 = \"error\" }\n",
        ),
        ("other/app.py", GENERIC),
    ]);
    let mut c = start(push_client_caps(), &root, Value::Null);
    let (_, p) = open(&mut c, &root, "app.py");
    assert!(codes(&p).is_empty(), "ignored by keylint.toml: {p}");
    // The nearest configuration wins: `other/pyproject.toml` does not ignore KL101, raises it.
    let (_, p) = open(&mut c, &root, "other/app.py");
    assert_eq!(codes(&p), vec!["KL101"], "{p}");
    assert_eq!(p["diagnostics"][0]["severity"], 1, "severity override: {p}");
    // No dynamic registration support: no `client/registerCapability`.
    let seen = c.drain(Duration::from_millis(200));
    assert!(
        !seen
            .iter()
            .any(|r| r.msg["method"] == "client/registerCapability"),
        "{seen:?}"
    );
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn editing_the_config_on_disk_republishes_after_watched_files() {
    let (_d, root) = project(&[("keylint.toml", "fail-on = \"error\"\n"), ("app.py", FLASK)]);
    let mut caps = push_client_caps();
    caps["workspace"] = json!({"didChangeWatchedFiles": {"dynamicRegistration": true}});
    let mut c = start(caps, &root, Value::Null);
    // The server registers its watcher; the test client answers the request (null result).
    let reg = c
        .wait_for(TIMEOUT, |m| m["method"] == "client/registerCapability")
        .expect("a registerCapability request");
    assert!(
        reg.msg.get("id").is_some(),
        "a request, answered: {}",
        reg.msg
    );
    let r = &reg.msg["params"]["registrations"][0];
    assert_eq!(r["method"], "workspace/didChangeWatchedFiles");
    let globs: Vec<&str> = r["registerOptions"]["watchers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["globPattern"].as_str().unwrap())
        .collect();
    assert!(globs.contains(&"**/pyproject.toml"), "{globs:?}");
    assert!(globs.contains(&"**/keylint.toml"), "{globs:?}");

    let (uri, p) = open(&mut c, &root, "app.py");
    assert_eq!(codes(&p), vec!["KL101"]);
    std::fs::write(
        root.join("keylint.toml"),
        "ignore = [\"hardcoded-secret\"]\n",
    )
    .unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri_of(&root.join("keylint.toml")), "type": 2}]}),
    );
    let p = c.wait_diagnostics(&uri, |p| p["diagnostics"] == json!([]));
    assert_eq!(p["version"], 1, "republished for the open version");
    // Deleting it brings the finding back.
    std::fs::remove_file(root.join("keylint.toml")).unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri_of(&root.join("keylint.toml")), "type": 3}]}),
    );
    let p = c.wait_diagnostics(&uri, |p| p["diagnostics"] != json!([]));
    assert_eq!(codes(&p), vec!["KL101"]);
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn client_settings_override_the_config_file() {
    let (_d, root) = project(&[
        ("keylint.toml", "ignore = [\"KL101\"]\n"),
        ("app.py", GENERIC),
    ]);
    // VS Code's initializationOptions: the settings object itself.
    let mut c = start(
        push_client_caps(),
        &root,
        json!({"select": [], "ignore": [], "severity": {"KL101": "error"}}),
    );
    let (uri, p) = open(&mut c, &root, "app.py");
    assert!(
        codes(&p).is_empty(),
        "empty lists leave the file's ignore: {p}"
    );
    // `select` replaces the file's select and ignore, like `--select`.
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"keylint": {"select": ["KL101"], "severity": {"KL101": "info"}}}}),
    );
    let p = c.wait_diagnostics(&uri, |p| p["diagnostics"] != json!([]));
    assert_eq!(codes(&p), vec!["KL101"]);
    assert_eq!(p["diagnostics"][0]["severity"], 3, "severity setting: {p}");
    // Neovim's shape (`settings.keylint` is sent as `{"keylint": ...}`), `ignore` by name.
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"keylint": {"ignore": ["hardcoded-secret"]}}}),
    );
    c.wait_diagnostics(&uri, |p| p["diagnostics"] == json!([]));
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn suppress_action_removes_the_diagnostic_and_unused_suppression_is_kl001() {
    let (_d, root) = project(&[("keylint.toml", "\n"), ("app.py", FLASK)]);
    let mut c = start(push_client_caps(), &root, Value::Null);
    let (uri, p) = open(&mut c, &root, "app.py");
    let diag = p["diagnostics"][0].clone();
    assert_eq!(diag["code"], "KL101");
    let actions = code_actions(&mut c, &uri, &diag, json!(["quickfix"]));
    let suppress: Vec<&Value> = actions
        .iter()
        .filter(|a| a["title"] == "Suppress KL101 on this line")
        .collect();
    assert_eq!(suppress.len(), 1, "{actions:?}");
    let action = suppress[0];
    assert_eq!(action["kind"], "quickfix");
    assert_eq!(action["isPreferred"], false, "never preferred");
    let text = apply_text_edits(FLASK, &action["edit"]["changes"][&uri], "utf-16");
    assert!(
        text.contains("\"sk-test-4f9c2b7e8d1a6f3c9a0b\"  # keylint: ignore[KL101]\n"),
        "{text}"
    );
    c.did_change_full(&uri, 2, &text);
    let p = c.diagnostics_for_version(&uri, 2);
    assert!(codes(&p).is_empty(), "suppressed: {p}");

    // The secret goes away, the suppression stays: KL001, with its fix.
    let renamed = text.replace("sk-test-4f9c2b7e8d1a6f3c9a0b", "");
    c.did_change_full(&uri, 3, &renamed);
    let p = c.diagnostics_for_version(&uri, 3);
    assert_eq!(codes(&p), vec!["KL001"], "{p}");
    let kl001 = p["diagnostics"][0].clone();
    assert_eq!(kl001["severity"], 4);
    let actions = code_actions(&mut c, &uri, &kl001, json!(["quickfix"]));
    assert!(
        !actions
            .iter()
            .any(|a| a["title"].as_str().unwrap().starts_with("Suppress")),
        "KL001 itself is not suppressible: {actions:?}"
    );
    let remove = actions
        .iter()
        .find(|a| a["title"] == "Remove the unused suppression")
        .unwrap_or_else(|| panic!("{actions:?}"));
    let cleaned = apply_text_edits(&renamed, &remove["edit"]["changes"][&uri], "utf-16");
    assert!(cleaned.ends_with("API_KEY = \"\"\n"), "{cleaned}");
    assert!(c.shutdown_and_exit().success());
}

/// `keylint check --fix` on a copy of `text` under `root`; the fixed text.
fn cli_fix(root: &Path, rel: &str, text: &str) -> String {
    let path = root.join(rel);
    std::fs::write(&path, text).unwrap();
    let out = Command::new(BIN)
        .args(["check", "--fix", "--no-progress", rel])
        .current_dir(root)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(out.status.code().unwrap_or(-1) <= 1, "{out:?}");
    std::fs::read_to_string(&path).unwrap()
}

#[test]
fn fix_all_fixes_only_surviving_findings_like_the_cli() {
    let text =
        "from flask import Flask\n\nx = 1  # keylint: ignore\ny = 2  # keylint: ignore[KL101]\n";
    let (_d, root) = project(&[
        ("keylint.toml", "\n"),
        ("sub/keylint.toml", "ignore = [\"KL001\"]\n"),
    ]);
    let mut c = start(push_client_caps(), &root, Value::Null);
    for (rel, expect_fix) in [("app.py", true), ("sub/app.py", false)] {
        std::fs::write(root.join(rel), text).unwrap();
        let (uri, p) = open(&mut c, &root, rel);
        let fix_all = c.request(
            "textDocument/codeAction",
            json!({
                "textDocument": {"uri": uri},
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                "context": {"diagnostics": [], "only": ["source.fixAll.keylint"]}
            }),
        );
        let actions = fix_all["result"].as_array().unwrap().clone();
        let lsp_text = match actions.first() {
            Some(a) => {
                assert_eq!(a["kind"], "source.fixAll.keylint");
                apply_text_edits(text, &a["edit"]["changes"][&uri], "utf-16")
            }
            None => text.to_string(),
        };
        let cli_text = cli_fix(&root, rel, text);
        assert_eq!(
            lsp_text, cli_text,
            "{rel}: fix-all in the editor and `check --fix`"
        );
        if expect_fix {
            assert_eq!(codes(&p), vec!["KL001", "KL001"]);
            assert_eq!(lsp_text, "from flask import Flask\n\nx = 1\ny = 2\n");
        } else {
            assert!(codes(&p).is_empty(), "{p}");
            assert!(
                actions.is_empty(),
                "suppressed findings are not fixed: {actions:?}"
            );
        }
    }
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn a_bad_config_is_shown_once_and_defaults_apply() {
    let (_d, root) = project(&[
        ("keylint.toml", "# team settings\nselct = [\"KL101\"]\n"),
        ("app.py", FLASK),
        ("b.py", FLASK),
    ]);
    let mut c = start(push_client_caps(), &root, Value::Null);
    let (_, p) = open(&mut c, &root, "app.py");
    assert_eq!(codes(&p), vec!["KL101"], "defaults: {p}");
    let (_, p) = open(&mut c, &root, "b.py");
    assert_eq!(codes(&p), vec!["KL101"]);
    let seen = c.drain(Duration::from_millis(300));
    let shown: Vec<&Value> = seen
        .iter()
        .map(|r| &r.msg)
        .filter(|m| m["method"] == "window/showMessage")
        .collect();
    assert_eq!(shown.len(), 1, "shown once: {shown:?}");
    assert_eq!(shown[0]["params"]["type"], 1);
    let message = shown[0]["params"]["message"].as_str().unwrap();
    assert!(message.contains("keylint.toml:2"), "{message}");
    assert!(message.contains("selct"), "{message}");
    assert!(
        c.logs.iter().any(|l| l.contains("keylint.toml:2")),
        "logged too: {:?}",
        c.logs
    );
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn pull_clients_are_asked_to_refresh_when_a_config_file_changes() {
    let (_d, root) = project(&[("keylint.toml", "\n"), ("app.py", FLASK)]);
    let mut caps = push_client_caps();
    caps["textDocument"]["diagnostic"] = json!({});
    caps["workspace"] = json!({"diagnostics": {"refreshSupport": true}});
    let mut c = start(caps, &root, Value::Null);
    let uri = uri_of(&root.join("app.py"));
    c.did_open(&uri, 1, FLASK);
    let pull = |c: &mut LspClient| {
        c.request(
            "textDocument/diagnostic",
            json!({"textDocument": {"uri": uri}}),
        )["result"]["items"]
            .clone()
    };
    assert_eq!(pull(&mut c)[0]["code"], "KL101");
    std::fs::write(root.join("keylint.toml"), "ignore = [\"KL101\"]\n").unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri_of(&root.join("keylint.toml")), "type": 2}]}),
    );
    c.wait_for(TIMEOUT, |m| m["method"] == "workspace/diagnostic/refresh")
        .expect("a refresh request");
    assert_eq!(pull(&mut c), json!([]));
    assert!(c.shutdown_and_exit().success());
}

/// The `source.fixAll` actions for `uri`.
fn fix_all_actions(c: &mut LspClient, uri: &str) -> Vec<Value> {
    let resp = c.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": uri},
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
            "context": {"diagnostics": [], "only": ["source.fixAll"]}
        }),
    );
    resp["result"].as_array().cloned().unwrap_or_default()
}

#[test]
fn unsafe_fixes_setting_opts_fix_all_into_unsafe_fixes() {
    let (_d, root) = project(&[("keylint.toml", "\n"), ("app.py", GENERIC)]);
    // Without it, fix-all has nothing to do: KL101's fix is unsafe.
    let mut c = start(push_client_caps(), &root, Value::Null);
    let (uri, _) = open(&mut c, &root, "app.py");
    assert_eq!(fix_all_actions(&mut c, &uri), Vec::<Value>::new());
    assert!(c.shutdown_and_exit().success());
    // With `unsafeFixes`, fix-all applies it.
    let mut c = start(push_client_caps(), &root, json!({"unsafeFixes": true}));
    let (uri, _) = open(&mut c, &root, "app.py");
    let actions = fix_all_actions(&mut c, &uri);
    assert_eq!(actions.len(), 1, "{actions:?}");
    let fixed = apply_text_edits(GENERIC, &actions[0]["edit"]["changes"][&uri], "utf-16");
    assert!(fixed.contains("os.environ[\"SECRET_TOKEN\"]"), "{fixed}");
    assert!(c.shutdown_and_exit().success());
    // The same from the configuration file.
    let (_d, root) = project(&[
        ("keylint.toml", "unsafe-fixes = true\n"),
        ("app.py", GENERIC),
    ]);
    let mut c = start(push_client_caps(), &root, Value::Null);
    let (uri, _) = open(&mut c, &root, "app.py");
    assert_eq!(fix_all_actions(&mut c, &uri).len(), 1);
    assert!(c.shutdown_and_exit().success());
}
