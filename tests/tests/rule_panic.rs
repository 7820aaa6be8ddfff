//! A rule that panics is contained, in the server and in the CLI: the other rules still report,
//! the failure is reported once per rule and analysis without any source text, and the server
//! goes on serving. `keylint-dev` makes the rule named by `KEYLINT_DEV_PANIC_RULE` panic on every
//! statement, quoting the statement's text in its panic message (as a failed string slice does).

use std::process::Command;
use std::time::Duration;

use keylint_blackbox::{push_client_caps, test_uri, LspClient};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_keylint-dev");
const SECRET: &str = "sk-live-4f9c2b7e8d1a6f3c9a0b";

/// KL101 (the key) and KL103 (the flag) each report here with every rule working.
fn source() -> String {
    format!(
        "import os\n\nAPI_KEY = \"{SECRET}\"\nDEBUG = bool(os.environ.get(\"DEBUG\", \"False\"))\n"
    )
}

fn codes(params: &serde_json::Value) -> Vec<String> {
    let mut codes: Vec<String> = params["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("").to_string())
        .collect();
    codes.sort();
    codes
}

fn server(panicking: Option<&str>) -> LspClient {
    let mut cmd = Command::new(BIN);
    cmd.args(["server", "--stdio"]);
    if let Some(rule) = panicking {
        cmd.env("KEYLINT_DEV_PANIC_RULE", rule);
    }
    let mut c = LspClient::spawn_command(cmd);
    c.initialize(push_client_caps(), json!({}));
    c
}

#[test]
fn the_server_contains_a_panicking_rule() {
    // Without the hook, both rules report.
    let mut c = server(None);
    let uri = test_uri("app.py");
    c.did_open(&uri, 1, &source());
    assert_eq!(
        codes(&c.diagnostics_for_version(&uri, 1)),
        ["KL101", "KL103"]
    );
    assert!(c.shutdown_and_exit().success());

    let mut c = server(Some("KL103"));
    c.did_open(&uri, 1, &source());
    assert_eq!(codes(&c.diagnostics_for_version(&uri, 1)), ["KL101"]);
    let log = c
        .wait_for(Duration::from_secs(20), |m| {
            m["method"] == "window/logMessage"
                && m["params"]["message"]
                    .as_str()
                    .is_some_and(|s| s.contains("KL103"))
        })
        .unwrap_or_else(|| panic!("no log of the failed rule: {:?}", c.logs));
    let message = log.msg["params"]["message"].as_str().unwrap().to_string();
    assert_eq!(log.msg["params"]["type"], 1, "an error: {message}");
    assert!(message.contains("failed on 3 statements"), "{message}");
    assert!(
        !message.contains(SECRET) && !message.contains("API_KEY") && !message.contains('`'),
        "the log quotes no source text: {message}"
    );

    // It goes on: an edit gets fresh diagnostics, a hover is answered.
    c.did_change_range(&uri, 2, (1, 0), (1, 0), "TOKEN = \"\"\n");
    assert_eq!(codes(&c.diagnostics_for_version(&uri, 2)), ["KL101"]);
    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 3, "character": 14}}),
    );
    assert!(
        hover["result"]["contents"]["value"]
            .as_str()
            .is_some_and(|s| s.contains("KL101")),
        "{hover}"
    );
    assert!(c.shutdown_and_exit().success());
    let stderr = c.stderr();
    assert!(stderr.contains("payload withheld"), "{stderr}");
    assert!(
        !stderr.contains(SECRET) && !stderr.contains("API_KEY"),
        "stderr quotes no source text: {stderr}"
    );
}

#[test]
fn the_cli_contains_a_panicking_rule() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.py"), source()).unwrap();
    let out = Command::new(BIN)
        .args([
            "check",
            "--output-format",
            "json",
            "--no-progress",
            "app.py",
        ])
        .current_dir(dir.path())
        .env("KEYLINT_DEV_PANIC_RULE", "KL103")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // A failed rule is an error of the run (exit 2), not a silent pass.
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(found, ["KL101"], "{stderr}");
    assert!(
        stderr.contains("app.py: internal error: rule KL103 failed on 3 statements"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(SECRET) && !stderr.contains("API_KEY"),
        "stderr quotes no source text: {stderr}"
    );
}
