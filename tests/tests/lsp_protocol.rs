//! The keylint language server over real stdio: handshake, sync, diagnostics, pull, code actions,
//! hover, position encodings, shutdown.

use std::time::Duration;

use keylint_blackbox::{apply_text_edits, column, push_client_caps, test_uri, LspClient, TIMEOUT};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_keylint-dev");

const FLASK: &str = "from flask import Flask\n\napp = Flask(__name__)\nAPI_KEY = \"sk-test-4f9c2b7e8d1a6f3c9a0b\"\n";

fn start() -> LspClient {
    let mut c = LspClient::keylint(Some(BIN));
    c.initialize(push_client_caps(), json!({}));
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

#[test]
fn handshake_advertises_capabilities() {
    let mut c = LspClient::keylint(Some(BIN));
    let result = c.initialize(push_client_caps(), json!({}));
    let caps = &result["capabilities"];
    assert_eq!(caps["positionEncoding"], "utf-16");
    assert_eq!(caps["textDocumentSync"]["change"], 2, "incremental sync");
    assert_eq!(caps["textDocumentSync"]["openClose"], true);
    assert_eq!(caps["hoverProvider"], true);
    assert_eq!(
        caps["codeActionProvider"]["codeActionKinds"],
        json!(["quickfix", "source.fixAll.keylint"])
    );
    assert!(
        caps.get("diagnosticProvider").is_none(),
        "no pull diagnostics for a client that does not advertise them"
    );
    assert_eq!(result["serverInfo"]["name"], "keylint");
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn did_open_publishes_kl101_with_version_and_fields() {
    let mut c = start();
    let uri = test_uri("app.py");
    c.did_open(&uri, 1, FLASK);
    let p = c.diagnostics_for_version(&uri, 1);
    let diags = p["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 1, "{p}");
    let d = &diags[0];
    assert_eq!(d["code"], "KL101");
    assert_eq!(d["source"], "keylint");
    // A known provider's key (OpenAI's `sk-`) is an error.
    assert_eq!(d["severity"], 1);
    assert_eq!(
        d["codeDescription"]["href"],
        "https://github.com/keylint/keylint/blob/main/server/src/rules/kl101_hardcoded_secret.md"
    );
    // The literal on line 3, columns 10..40.
    assert_eq!(d["range"]["start"], json!({"line": 3, "character": 10}));
    assert_eq!(d["range"]["end"], json!({"line": 3, "character": 40}));
    assert!(
        !d["message"].as_str().unwrap().contains("sk-test"),
        "the message never quotes the secret"
    );
    assert!(d["data"]["fixes"].is_array(), "fixes travel in data: {d}");
    assert!(
        !d["data"].to_string().contains("sk-test"),
        "data carries ranges, not the secret"
    );
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn incremental_change_updates_diagnostics_with_new_version() {
    let mut c = start();
    let uri = test_uri("inc.py");
    c.did_open(&uri, 1, FLASK);
    assert_eq!(codes(&c.diagnostics_for_version(&uri, 1)), vec!["KL101"]);
    // Empty the literal: no longer a secret.
    c.did_change_range(&uri, 2, (3, 10), (3, 40), "\"\"");
    let p = c.diagnostics_for_version(&uri, 2);
    assert!(codes(&p).is_empty(), "{p}");
    // Insert a new secret line at the top (multi-line edit).
    c.did_change_range(&uri, 3, (0, 0), (0, 0), "SECRET_TOKEN = \"abcd1234efgh\"\n");
    let p = c.diagnostics_for_version(&uri, 3);
    assert_eq!(codes(&p), vec!["KL101"]);
    assert_eq!(p["diagnostics"][0]["range"]["start"]["line"], 0);
    // Full sync replaces everything.
    c.did_change_full(&uri, 4, "x = 1\n");
    assert!(codes(&c.diagnostics_for_version(&uri, 4)).is_empty());
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn burst_of_edits_ends_with_final_text_and_nothing_stale_after() {
    let mut c = start();
    let uri = test_uri("burst.py");
    c.did_open(&uri, 1, "app = 1\n");
    c.diagnostics_for_version(&uri, 1);
    // Type `PASSWORD = "hunter2hunter2"` on line 1 character by character, then toggle a trailing
    // space until 100 edits were sent, all without waiting.
    let mut line = String::new();
    let target = "PASSWORD = \"hunter2hunter2\"";
    let mut version = 1;
    let mut hovers = Vec::new();
    for ch in target.chars() {
        version += 1;
        let col = line.chars().count() as u32;
        c.did_change_range(&uri, version, (1, col), (1, col), &ch.to_string());
        line.push(ch);
        // Requests interleaved with the edits run concurrently with them in the server.
        if version % 5 == 0 {
            hovers.push(c.request_async(
                "textDocument/hover",
                json!({"textDocument": {"uri": uri}, "position": {"line": 1, "character": 1}}),
            ));
        }
    }
    while version < 101 {
        version += 1;
        let col = line.chars().count() as u32;
        if !line.ends_with(' ') {
            c.did_change_range(&uri, version, (1, col), (1, col), " ");
            line.push(' ');
        } else {
            c.did_change_range(&uri, version, (1, col - 1), (1, col), "");
            line.pop();
        }
    }
    assert_eq!(line.trim_end(), target);
    for id in hovers {
        let resp = c.response(id);
        assert!(resp.get("error").is_none(), "{resp}");
    }
    let last = c.diagnostics_for_version(&uri, version);
    assert_eq!(codes(&last), vec!["KL101"], "{last}");
    assert_eq!(last["diagnostics"][0]["range"]["start"]["line"], 1);
    // Publishes seen before the final one were in increasing versions; none follows it.
    let mut prev = 0;
    for r in c.buffer.iter() {
        if r.msg["method"] == "textDocument/publishDiagnostics" {
            let v = r.msg["params"]["version"].as_i64().unwrap();
            assert!(v > prev, "version {v} published after {prev}");
            prev = v;
        }
    }
    assert!(
        !c.logs
            .iter()
            .any(|l| l.contains("not newer") || l.contains("not open")),
        "edits were seen out of order: {:?}",
        c.logs
    );
    // Only what arrives after the final publish now.
    c.buffer.clear();
    let after_final: Vec<_> = c
        .drain(Duration::from_millis(500))
        .into_iter()
        .filter(|r| r.msg["method"] == "textDocument/publishDiagnostics")
        .collect();
    assert!(
        after_final.is_empty(),
        "publish after the final one: {after_final:?}"
    );
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn pull_diagnostics_when_the_client_advertises_them() {
    let mut c = LspClient::keylint(Some(BIN));
    let mut caps = push_client_caps();
    caps["textDocument"]["diagnostic"] = json!({"dynamicRegistration": false});
    let result = c.initialize(caps, json!({}));
    // Findings follow keys across modules (the workspace index): other files matter.
    assert_eq!(
        result["capabilities"]["diagnosticProvider"]["interFileDependencies"],
        true
    );
    let uri = test_uri("pull.py");
    c.did_open(&uri, 1, FLASK);
    let resp = c.request(
        "textDocument/diagnostic",
        json!({"textDocument": {"uri": uri}}),
    );
    let report = &resp["result"];
    assert_eq!(report["kind"], "full");
    assert_eq!(report["items"][0]["code"], "KL101");
    c.did_change_range(&uri, 2, (3, 10), (3, 40), "\"\"");
    let resp = c.request(
        "textDocument/diagnostic",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(resp["result"]["items"], json!([]));
    // Never pushed to a pulling client.
    let pushed: Vec<_> = c
        .drain(Duration::from_millis(300))
        .into_iter()
        .filter(|r| r.msg["method"] == "textDocument/publishDiagnostics")
        .collect();
    assert!(pushed.is_empty(), "{pushed:?}");
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn quick_fix_applied_removes_the_finding() {
    let mut c = start();
    let uri = test_uri("fix.py");
    c.did_open(&uri, 1, FLASK);
    let p = c.diagnostics_for_version(&uri, 1);
    let diag = p["diagnostics"][0].clone();
    let resp = c.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": uri},
            "range": diag["range"],
            "context": {"diagnostics": [diag], "only": ["quickfix"]}
        }),
    );
    let actions = resp["result"].as_array().expect("actions").clone();
    let fix = actions
        .iter()
        .find(|a| a["kind"] == "quickfix")
        .unwrap_or_else(|| panic!("no quickfix in {actions:?}"));
    assert_eq!(fix["diagnostics"][0]["code"], "KL101");
    // The env fix is unsafe: offered, never preferred.
    assert!(fix.get("isPreferred").is_none() || fix["isPreferred"] == false);
    let edits = &fix["edit"]["changes"][&uri];
    let fixed = apply_text_edits(FLASK, edits, "utf-16");
    assert!(fixed.contains("os.environ[\"API_KEY\"]"), "{fixed}");
    assert!(fixed.contains("import os"), "{fixed}");
    c.did_change_full(&uri, 2, &fixed);
    let p = c.diagnostics_for_version(&uri, 2);
    assert!(codes(&p).is_empty(), "finding left after the fix: {p}");
    // No fix-all action: nothing safely fixable here.
    let resp = c.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": uri},
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
            "context": {"diagnostics": [], "only": ["source.fixAll"]}
        }),
    );
    assert_eq!(resp["result"], json!([]));
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn stale_diagnostic_data_is_not_offered() {
    let mut c = start();
    let uri = test_uri("stale.py");
    c.did_open(&uri, 1, FLASK);
    let diag = c.diagnostics_for_version(&uri, 1)["diagnostics"][0].clone();
    // The document moves on (a line inserted above); the client still holds version 1's diagnostic.
    c.did_change_range(&uri, 2, (0, 0), (0, 0), "# moved\n");
    c.diagnostics_for_version(&uri, 2);
    let resp = c.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": uri},
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 1}},
            "context": {"diagnostics": [diag], "only": ["quickfix"]}
        }),
    );
    assert_eq!(
        resp["result"],
        json!([]),
        "a fix of version 1 applied to version 2"
    );
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn code_action_from_overlapping_range_without_context() {
    let mut c = start();
    let uri = test_uri("fix2.py");
    c.did_open(&uri, 1, FLASK);
    c.diagnostics_for_version(&uri, 1);
    let resp = c.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": uri},
            "range": {"start": {"line": 3, "character": 12}, "end": {"line": 3, "character": 12}},
            "context": {"diagnostics": []}
        }),
    );
    let actions = resp["result"].as_array().unwrap();
    assert!(
        actions.iter().any(|a| a["kind"] == "quickfix"),
        "{actions:?}"
    );
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn hover_over_a_finding_shows_rule_docs() {
    let mut c = start();
    let uri = test_uri("hover.py");
    c.did_open(&uri, 1, FLASK);
    c.diagnostics_for_version(&uri, 1);
    let resp = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 3, "character": 15}}),
    );
    let h = &resp["result"];
    assert_eq!(h["contents"]["kind"], "markdown");
    let md = h["contents"]["value"].as_str().unwrap();
    assert!(md.contains("KL101"), "{md}");
    assert!(md.contains("## Why is this bad?"), "{md}");
    assert_eq!(h["range"]["start"], json!({"line": 3, "character": 10}));
    // Nothing to say elsewhere.
    let resp = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 2}}),
    );
    assert_eq!(resp["result"], Value::Null);
    assert!(c.shutdown_and_exit().success());
}

/// A line with an emoji and CJK before the secret.
const WIDE: &str = "x = 1\nTOKEN = \"\u{1F600}漢字\"; API_KEY = \"sk-abcdef0123456789\"\n";

/// Byte columns of the `"sk-…"` literal on line 1 of [`WIDE`].
fn secret_bytes() -> (usize, usize) {
    let line = WIDE.lines().nth(1).unwrap();
    let start = line.find("\"sk-").unwrap();
    (start, start + "\"sk-abcdef0123456789\"".len())
}

fn has_range(p: &Value, line: u32, start: u32, end: u32) -> bool {
    p["diagnostics"].as_array().unwrap().iter().any(|d| {
        d["range"]["start"] == json!({"line": line, "character": start})
            && d["range"]["end"] == json!({"line": line, "character": end})
    })
}

#[test]
fn utf8_is_chosen_when_offered_and_columns_are_bytes() {
    let mut c = LspClient::keylint(Some(BIN));
    let mut caps = push_client_caps();
    caps["general"]["positionEncodings"] = json!(["utf-16", "utf-8"]);
    let result = c.initialize(caps, json!({}));
    assert_eq!(result["capabilities"]["positionEncoding"], "utf-8");
    let uri = test_uri("wide8.py");
    c.did_open(&uri, 1, WIDE);
    let p = c.diagnostics_for_version(&uri, 1);
    let line = WIDE.lines().nth(1).unwrap();
    let (s, e) = secret_bytes();
    assert!(
        has_range(&p, 1, column(line, s, "utf-8"), column(line, e, "utf-8")),
        "{p}"
    );
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn utf16_columns_are_right_after_emoji_and_cjk() {
    let mut c = start();
    let uri = test_uri("wide16.py");
    c.did_open(&uri, 1, WIDE);
    let p = c.diagnostics_for_version(&uri, 1);
    let line = WIDE.lines().nth(1).unwrap();
    let (s, e) = secret_bytes();
    let (s16, e16) = (column(line, s, "utf-16"), column(line, e, "utf-16"));
    assert_ne!(s16 as usize, s, "the line really has wide characters");
    assert!(has_range(&p, 1, s16, e16), "{p}");
    // An edit addressed in UTF-16 units right after the emoji lands where it should.
    let after_emoji = column(line, line.find('漢').unwrap(), "utf-16");
    c.did_change_range(&uri, 2, (1, after_emoji), (1, after_emoji), "z");
    let p = c.diagnostics_for_version(&uri, 2);
    assert!(has_range(&p, 1, s16 + 1, e16 + 1), "{p}");
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn utf32_only_client_gets_utf32() {
    let mut c = LspClient::keylint(Some(BIN));
    let mut caps = push_client_caps();
    caps["general"]["positionEncodings"] = json!(["utf-32"]);
    let result = c.initialize(caps, json!({}));
    assert_eq!(result["capabilities"]["positionEncoding"], "utf-32");
    let uri = test_uri("wide32.py");
    c.did_open(&uri, 1, WIDE);
    let p = c.diagnostics_for_version(&uri, 1);
    let line = WIDE.lines().nth(1).unwrap();
    let (s, e) = secret_bytes();
    assert!(
        has_range(&p, 1, column(line, s, "utf-32"), column(line, e, "utf-32")),
        "{p}"
    );
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn did_close_clears_diagnostics() {
    let mut c = start();
    let uri = test_uri("close.py");
    c.did_open(&uri, 1, FLASK);
    c.diagnostics_for_version(&uri, 1);
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    let p = c.wait_diagnostics(&uri, |p| p["diagnostics"] == json!([]));
    assert!(p.get("version").is_none() || p["version"].is_null());
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn configuration_change_reanalyses_open_documents() {
    let mut c = start();
    let uri = test_uri("conf.py");
    c.did_open(&uri, 1, FLASK);
    assert_eq!(codes(&c.diagnostics_for_version(&uri, 1)), vec!["KL101"]);
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"keylint": {"ignore": ["KL101"]}}}),
    );
    let p = c.wait_diagnostics(&uri, |p| p["diagnostics"] == json!([]));
    assert_eq!(p["version"], 1);
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"keylint": {"select": ["KL101"]}}}),
    );
    let p = c.wait_diagnostics(&uri, |p| p["diagnostics"] != json!([]));
    assert_eq!(codes(&p), vec!["KL101"]);
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn versioned_document_changes_for_capable_clients() {
    let dir = tempfile::tempdir().unwrap();
    let root = format!("file://{}", dir.path().display());
    let mut c = LspClient::keylint(Some(BIN));
    let mut caps = push_client_caps();
    caps["workspace"] =
        json!({"workspaceEdit": {"documentChanges": true, "resourceOperations": ["create"]}});
    c.initialize(caps, json!({"rootUri": root}));
    let uri = format!("{root}/app.py");
    c.did_open(&uri, 1, FLASK);
    let p = c.diagnostics_for_version(&uri, 1);
    let diag = p["diagnostics"][0].clone();
    let resp = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": diag["range"], "context": {"diagnostics": [diag]}}),
    );
    let actions = resp["result"].as_array().unwrap();
    let fix = actions.iter().find(|a| a["kind"] == "quickfix").unwrap();
    let change = &fix["edit"]["documentChanges"][0];
    assert_eq!(change["textDocument"]["uri"], uri);
    assert_eq!(change["textDocument"]["version"], 1);
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn exit_without_shutdown_is_status_1() {
    let mut c = start();
    c.notify("exit", Value::Null);
    let status = c.wait_exit(TIMEOUT).expect("exits");
    assert_eq!(status.code(), Some(1));
}

#[test]
fn shutdown_then_exit_is_status_0() {
    let mut c = start();
    let status = c.shutdown_and_exit();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn reopening_quickly_never_leaves_the_old_documents_diagnostics() {
    let mut c = start();
    let uri = test_uri("reopen.py");
    for _ in 0..20 {
        c.did_open(&uri, 1, FLASK);
        c.notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": uri}}),
        );
        c.did_open(&uri, 1, "x = 1\n");
        c.notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": uri}}),
        );
    }
    c.did_open(&uri, 1, "x = 1\n");
    // Let everything settle, then the last word on the document must be the clean text's.
    std::thread::sleep(Duration::from_millis(300));
    let publishes: Vec<Value> = c
        .drain(Duration::from_millis(300))
        .into_iter()
        .filter(|r| r.msg["method"] == "textDocument/publishDiagnostics")
        .map(|r| r.msg["params"].clone())
        .collect();
    let last = publishes.last().expect("some publish");
    assert_eq!(last["diagnostics"], json!([]), "{publishes:?}");
    assert_eq!(last["version"], 1);
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn initialization_options_select_rules() {
    let mut c = LspClient::keylint(Some(BIN));
    c.initialize(
        push_client_caps(),
        json!({"initializationOptions": {"settings": {"select": ["KL999"]}}}),
    );
    // The unknown code is reported; nothing selected means no findings.
    let log = c
        .wait_for(TIMEOUT, |m| {
            m["method"] == "window/logMessage"
                && m["params"]["message"]
                    .as_str()
                    .is_some_and(|s| s.contains("KL999"))
        })
        .expect("a warning about the unknown rule");
    assert_eq!(log.msg["params"]["type"], 2);
    let uri = test_uri("opts.py");
    c.did_open(&uri, 1, FLASK);
    assert!(codes(&c.diagnostics_for_version(&uri, 1)).is_empty());
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn pull_clients_are_asked_to_refresh_after_a_settings_change() {
    let mut c = LspClient::keylint(Some(BIN));
    let mut caps = push_client_caps();
    caps["textDocument"]["diagnostic"] = json!({});
    caps["workspace"] = json!({"diagnostics": {"refreshSupport": true}});
    c.initialize(caps, json!({}));
    let uri = test_uri("refresh.py");
    c.did_open(&uri, 1, FLASK);
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"keylint": {"ignore": ["KL101"]}}}),
    );
    c.wait_for(TIMEOUT, |m| m["method"] == "workspace/diagnostic/refresh")
        .expect("a refresh request");
    let resp = c.request(
        "textDocument/diagnostic",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(resp["result"]["items"], json!([]), "{resp}");
    assert!(c.shutdown_and_exit().success());
}
