//! Bad input never takes the keylint server down: it answers with an error or logs through
//! `window/logMessage`, then serves the next request.

use std::time::Duration;

use keylint_blackbox::{push_client_caps, test_uri, LspClient};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_keylint-dev");

const FLASK: &str = "from flask import Flask\n\napp = Flask(__name__)\nAPI_KEY = \"sk-test-4f9c2b7e8d1a6f3c9a0b\"\n";

fn start() -> LspClient {
    let mut c = LspClient::keylint(Some(BIN));
    c.initialize(push_client_caps(), json!({}));
    c
}

/// The server still answers: a hover on an open document gets its KL101 docs.
fn still_serves(c: &mut LspClient) {
    let uri = test_uri("alive.py");
    c.did_open(&uri, 1, FLASK);
    let resp = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 3, "character": 12}}),
    );
    assert!(
        resp["result"]["contents"]["value"]
            .as_str()
            .is_some_and(|s| s.contains("KL101")),
        "server no longer serves: {resp}; stderr: {}",
        c.stderr()
    );
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    assert!(c.is_running());
}

fn wait_log(c: &mut LspClient, needle: &str) -> String {
    let r = c
        .wait_for(Duration::from_secs(20), |m| {
            m["method"] == "window/logMessage"
                && m["params"]["message"]
                    .as_str()
                    .is_some_and(|s| s.contains(needle))
        })
        .unwrap_or_else(|| panic!("no log containing {needle:?}; logs: {:?}", c.logs));
    r.msg["params"]["message"].as_str().unwrap().to_string()
}

#[test]
fn malformed_json_is_logged_and_serving_goes_on() {
    let mut c = start();
    c.send_body(b"{\"jsonrpc\": \"2.0\", \"method\": \"textDocument/didOpen\", \"params\": {");
    wait_log(&mut c, "not valid JSON");
    c.send_body(b"[1, 2, 3]");
    wait_log(&mut c, "not a JSON object");
    // Garbage between frames.
    c.send_raw(b"hello there\r\n\r\n");
    wait_log(&mut c, "malformed");
    still_serves(&mut c);
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn malformed_request_with_an_id_gets_an_error_answer() {
    let mut c = start();
    c.send(&json!({"jsonrpc": "2.0", "id": 99, "method": 42}));
    let resp = c.response(99);
    assert_eq!(resp["error"]["code"], -32600, "{resp}");
    still_serves(&mut c);
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn invalid_utf8_in_a_message_is_logged() {
    let mut c = start();
    let mut body = br#"{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///x.py","languageId":"python","version":1,"text":"A = '"#.to_vec();
    body.extend_from_slice(&[0xff, 0xfe, 0xc3]);
    body.extend_from_slice(br#"'"}}}"#);
    c.send_body(&body);
    wait_log(&mut c, "not valid UTF-8");
    still_serves(&mut c);
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn unknown_methods_and_bad_params() {
    let mut c = start();
    let resp = c.request("keylint/doesNotExist", json!({}));
    assert_eq!(resp["error"]["code"], -32601, "{resp}");
    c.notify("$/unknownNotification", json!({"x": 1}));
    let resp = c.request("textDocument/hover", json!({"nope": true}));
    assert_eq!(resp["error"]["code"], -32602, "{resp}");
    still_serves(&mut c);
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn did_change_for_an_unopened_document_is_logged() {
    let mut c = start();
    c.did_change_range(&test_uri("never.py"), 2, (0, 0), (0, 0), "x");
    wait_log(&mut c, "not open");
    // Requests about it answer without failing.
    let resp = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": test_uri("never.py")}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(resp["result"], Value::Null);
    still_serves(&mut c);
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn stale_versions_are_ignored() {
    let mut c = start();
    let uri = test_uri("ver.py");
    c.did_open(&uri, 5, FLASK);
    c.diagnostics_for_version(&uri, 5);
    c.did_change_full(&uri, 5, "x = 1\n");
    wait_log(&mut c, "not newer");
    c.did_change_full(&uri, 3, "x = 1\n");
    wait_log(&mut c, "not newer");
    // The text is still the original: the finding is there.
    let resp = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 3, "character": 12}}),
    );
    assert!(resp["result"]["contents"]["value"].is_string(), "{resp}");
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn out_of_range_positions_are_clamped() {
    let mut c = start();
    let uri = test_uri("range.py");
    c.did_open(&uri, 1, FLASK);
    c.diagnostics_for_version(&uri, 1);
    // An edit far past the end appends at the end.
    c.did_change_range(
        &uri,
        2,
        (1000, 5),
        (2000, 9),
        "\nTOKEN = \"abcdef123456\"\n",
    );
    let p = c.diagnostics_for_version(&uri, 2);
    assert_eq!(p["diagnostics"].as_array().unwrap().len(), 2, "{p}");
    // A reversed range and a column past the end of a line.
    c.did_change_range(&uri, 3, (3, 500), (3, 2), "");
    c.diagnostics_for_version(&uri, 3);
    for (line, ch) in [(99999, 0), (0, 99999), (u32::MAX, u32::MAX)] {
        let resp = c.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": ch}}),
        );
        assert!(resp.get("error").is_none(), "{resp}");
    }
    let resp = c.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": uri},
            "range": {"start": {"line": 500, "character": 0}, "end": {"line": 0, "character": 70000}},
            "context": {"diagnostics": [{"range": {"start": {"line": 9000, "character": 1}, "end": {"line": 9001, "character": 1}}, "message": "x", "source": "keylint", "data": {"version": 3, "fixes": [{"title": "t", "safe": true, "edits": []}]}}]}
        }),
    );
    assert!(resp.get("error").is_none(), "{resp}");
    still_serves(&mut c);
    assert!(c.shutdown_and_exit().success());
}

/// A hover request on the open `alive.py`-like document `uri`, as raw bytes with this id text.
fn hover_body(id: &str, uri: &str) -> Vec<u8> {
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"textDocument/hover","params":{{"textDocument":{{"uri":"{uri}"}},"position":{{"line":3,"character":12}}}}}}"#
    )
    .into_bytes()
}

/// Waits for the error answer to the request with this id (compared as JSON values).
fn error_answer(c: &mut LspClient, id: &str) -> Value {
    let id: Value = serde_json::from_str(id).unwrap();
    c.wait_for(Duration::from_secs(20), |m| {
        m.get("method").is_none() && m["id"] == id && m.get("error").is_some()
    })
    .unwrap_or_else(|| {
        panic!(
            "no error answer to id {id}; logs: {:?}; stderr: {}",
            c.logs,
            c.stderr()
        )
    })
    .msg
}

#[test]
fn request_ids_that_are_not_64_bit_integers_cost_one_error_answer() {
    let mut c = start();
    let uri = test_uri("ids.py");
    c.did_open(&uri, 1, FLASK);
    for id in [
        "1.5",
        "1.0",
        "1e3",
        "9223372036854775808",
        "-9223372036854775809",
    ] {
        c.send_body(&hover_body(id, &uri));
        let answer = error_answer(&mut c, id);
        assert_eq!(answer["error"]["code"], -32600, "{id}: {answer}");
        assert!(c.is_running(), "{id}: the server died");
    }
    // The largest ids the server can hold are served.
    for id in ["9223372036854775807", "-9223372036854775808"] {
        c.send_body(&hover_body(id, &uri));
        let want: Value = serde_json::from_str(id).unwrap();
        let r = c
            .wait_for(Duration::from_secs(20), |m| m["id"] == want)
            .expect("an answer");
        assert!(
            r.msg["result"]["contents"]["value"].is_string(),
            "{}",
            r.msg
        );
    }
    still_serves(&mut c);
    assert_eq!(c.shutdown_and_exit().code(), Some(0));
}

#[test]
fn dollar_requests_and_unparsable_requests_get_error_answers() {
    let mut c = start();
    // `$/…` requests get MethodNotFound (notifications `$/…` are ignored).
    c.notify("$/somethingElse", json!({}));
    c.send_body(br#"{"jsonrpc":"2.0","id":41,"method":"$/anything","params":{}}"#);
    let answer = error_answer(&mut c, "41");
    assert_eq!(answer["error"]["code"], -32601, "{answer}");
    // A request that is not JSON, or not UTF-8, but whose id can be read gets ParseError.
    c.send_body(br#"{"jsonrpc":"2.0","id":42,"method":"textDocument/hover","params":{"#);
    let answer = error_answer(&mut c, "42");
    assert_eq!(answer["error"]["code"], -32700, "{answer}");
    let mut body =
        br#"{"jsonrpc":"2.0","id":"req-43","method":"textDocument/hover","params":{"x":""#.to_vec();
    body.extend_from_slice(&[0xff, 0xfe]);
    body.extend_from_slice(br#""}}"#);
    c.send_body(&body);
    let answer = error_answer(&mut c, r#""req-43""#);
    assert_eq!(answer["error"]["code"], -32700, "{answer}");
    wait_log(&mut c, "not valid UTF-8");
    still_serves(&mut c);
    assert!(c.shutdown_and_exit().success());
}

/// After each kind of bad frame, the next ten requests are all answered; the bad frame is logged,
/// and repaired when the message can be told apart from what follows.
#[test]
fn a_bad_frame_never_makes_the_server_deaf() {
    let uri = test_uri("frames.py");
    let bad_request = hover_body("500", &uri);
    let n = bad_request.len();
    let with_len = |len: &str| {
        let mut v = format!("Content-Length: {len}\r\n\r\n").into_bytes();
        v.extend_from_slice(&bad_request);
        v
    };
    let mut missing = b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n".to_vec();
    missing.extend_from_slice(&bad_request);
    // (name, bytes, answered with a result (repaired) or with an error, a log line)
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        (
            "too short",
            with_len(&(n - 7).to_string()),
            "result",
            "smaller",
        ),
        (
            "too long",
            with_len(&(n + 7).to_string()),
            "result",
            "larger",
        ),
        (
            "non-numeric",
            with_len("twelve"),
            "error",
            "not a non-negative integer",
        ),
        (
            "negative",
            with_len("-12"),
            "error",
            "not a non-negative integer",
        ),
        (
            "10^12",
            with_len("1000000000000"),
            "error",
            "over the limit",
        ),
        ("missing", missing, "error", "without a `Content-Length`"),
        (
            "no header at all",
            bad_request.clone(),
            "error",
            "malformed input",
        ),
    ];
    for (name, bad, answer, log) in cases {
        let mut c = start();
        c.did_open(&uri, 1, FLASK);
        // The bad frame alone, the client waiting for its answer.
        c.send_raw(&bad);
        let r = c
            .wait_for(Duration::from_secs(20), |m| m["id"] == 500)
            .unwrap_or_else(|| panic!("{name}: request 500 unanswered; logs {:?}", c.logs));
        assert!(r.msg.get(answer).is_some(), "{name}: {}", r.msg);
        wait_log(&mut c, log);
        // Then ten requests, sent at once.
        let ids: Vec<i64> = (0..10)
            .map(|_| {
                c.request_async(
                    "textDocument/hover",
                    json!({"textDocument": {"uri": uri}, "position": {"line": 3, "character": 12}}),
                )
            })
            .collect();
        for id in ids {
            let resp = c.response(id);
            assert!(
                resp["result"]["contents"]["value"].is_string(),
                "{name}: {resp}"
            );
        }
        // The same bad frame glued to the next request, in one write.
        let mut glued = bad.clone();
        let next = hover_body("900", &uri);
        glued.extend_from_slice(format!("Content-Length: {}\r\n\r\n", next.len()).as_bytes());
        glued.extend_from_slice(&next);
        c.send_raw(&glued);
        let r = c
            .wait_for(Duration::from_secs(20), |m| m["id"] == 500)
            .unwrap_or_else(|| panic!("{name}: glued request 500 unanswered"));
        assert!(r.msg.get(answer).is_some(), "{name}: {}", r.msg);
        let r = c
            .wait_for(Duration::from_secs(20), |m| m["id"] == 900)
            .unwrap_or_else(|| panic!("{name}: the request after the bad frame unanswered"));
        assert!(
            r.msg["result"]["contents"]["value"].is_string(),
            "{name}: {}",
            r.msg
        );
        assert_eq!(c.shutdown_and_exit().code(), Some(0), "{name}");
    }
}

/// A 10 MB document is over the default size limit: it gets one information diagnostic and a
/// message instead of an analysis (21 s and 1.4 GB before), edits to it stay cheap, and the rest
/// of the workspace is served meanwhile.
#[test]
fn a_ten_megabyte_file_is_not_analysed_and_says_so() {
    let mut c = start();
    let uri = test_uri("big.py");
    let mut text = String::with_capacity(10 << 20);
    let mut i = 0;
    while text.len() < 10 << 20 {
        text.push_str(&format!(
            "value_{i} = compute({i}, 'text of some length')\n"
        ));
        i += 1;
    }
    text.push_str("SECRET_KEY = \"s3cr3t-value-123456\"\n");
    c.did_open(&uri, 1, &text);
    let shown = c
        .wait_for(Duration::from_secs(20), |m| {
            m["method"] == "window/showMessage"
        })
        .expect("the user is told");
    let message = shown.msg["params"]["message"].as_str().unwrap();
    assert!(
        message.contains("big.py is not analysed") && message.contains("maxFileSize"),
        "{message}"
    );
    let p = c.diagnostics_for_version(&uri, 1);
    let diags = p["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 1, "{p}");
    assert_eq!(diags[0]["severity"], 3, "information: {p}");
    assert!(
        diags[0]["message"]
            .as_str()
            .unwrap()
            .contains("over keylint's limit of 1.0 MiB"),
        "{p}"
    );
    // An edit: the same diagnostic for the new version.
    c.did_change_range(&uri, 2, (100, 0), (100, 0), "x");
    let p = c.diagnostics_for_version(&uri, 2);
    assert_eq!(p["diagnostics"].as_array().unwrap().len(), 1, "{p}");
    still_serves(&mut c);
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    c.wait_diagnostics(&uri, |p| p["diagnostics"] == json!([]));
    assert!(c.shutdown_and_exit().success());
}

/// The limit is a setting: a document analysed again once edited under it, and not once over.
#[test]
fn the_size_limit_is_a_setting_and_edits_cross_it() {
    let mut c = LspClient::keylint(Some(BIN));
    c.initialize(
        push_client_caps(),
        json!({"initializationOptions": {"maxFileSize": 150}}),
    );
    let uri = test_uri("limit.py");
    let padding = format!("# {}\n", "x".repeat(100));
    c.did_open(&uri, 1, &format!("{FLASK}{padding}"));
    let p = c.diagnostics_for_version(&uri, 1);
    assert_eq!(p["diagnostics"][0]["severity"], 3, "{p}");
    assert!(
        p["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .contains("(150 bytes;"),
        "{p}"
    );
    // Deleting the padding (line 4) brings it under the limit: analysed.
    c.did_change_range(&uri, 2, (4, 0), (5, 0), "");
    let p = c.diagnostics_for_version(&uri, 2);
    assert_eq!(p["diagnostics"][0]["code"], "KL101", "{p}");
    // Over it again: not analysed, and the user is told.
    c.did_change_range(&uri, 3, (4, 0), (4, 0), &padding);
    let p = c.diagnostics_for_version(&uri, 3);
    assert_eq!(p["diagnostics"].as_array().unwrap().len(), 1, "{p}");
    assert_eq!(p["diagnostics"][0]["severity"], 3, "{p}");
    c.wait_for(Duration::from_secs(20), |m| {
        m["method"] == "window/showMessage"
    })
    .expect("a message");
    // No limit (0): analysed whatever its size.
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"keylint": {"maxFileSize": 0}}}),
    );
    let p = c.wait_diagnostics(&uri, |p| p["diagnostics"][0]["code"] == "KL101");
    assert_eq!(p["version"], 3, "{p}");
    assert!(c.shutdown_and_exit().success());

    // The CLI: `max-file-size` in keylint.toml; a file over it is skipped with a line on stderr,
    // not an error.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keylint.toml"), "max-file-size = 150\n").unwrap();
    std::fs::write(dir.path().join("big.py"), format!("{FLASK}{padding}")).unwrap();
    std::fs::write(dir.path().join("ok.py"), FLASK).unwrap();
    let check = || {
        std::process::Command::new(BIN)
            .args(["check", "--output-format", "json", "--no-progress", "."])
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let out = check();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("big.py: skipped: 191 bytes, over `max-file-size` (150 bytes"),
        "{stderr}"
    );
    let files = |out: &std::process::Output| {
        let findings: Value = serde_json::from_slice(&out.stdout).unwrap();
        findings
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["file"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(files(&out), ["ok.py"], "{stderr}");
    std::fs::write(dir.path().join("keylint.toml"), "max-file-size = 0\n").unwrap();
    let out = check();
    assert_eq!(files(&out), ["big.py", "ok.py"]);
}

#[test]
fn five_thousand_nested_brackets() {
    let mut c = start();
    let uri = test_uri("nested.py");
    let text = format!(
        "API_KEY = \"sk-abcdef0123456789\"\nx = {}{}\ny = {}\n",
        "[".repeat(5000),
        "]".repeat(5000),
        "(".repeat(5000)
    );
    c.did_open(&uri, 1, &text);
    let p = c.diagnostics_for_version(&uri, 1);
    assert!(!p["diagnostics"].as_array().unwrap().is_empty(), "{p}");
    // The nested statement is left out of the analysis, and the log says so.
    let log = wait_log(&mut c, "line 2 is not analysed");
    assert!(log.contains("nests 5002 levels deep"), "{log}");
    still_serves(&mut c);
    assert!(c.shutdown_and_exit().success());
}

/// `levels` lines `if x:`, each one space deeper, then a key one deeper still: tree-sitter-python
/// aborts the process on such a file from 511 levels (its scanner's state overflows).
fn staircase(levels: usize) -> String {
    let mut text = String::new();
    for i in 0..levels {
        text.push_str(&" ".repeat(i));
        text.push_str("if x:\n");
    }
    text.push_str(&" ".repeat(levels));
    text.push_str("API_KEY = \"sk-live-4f9c2b7e8d1a6f3c9a0b\"\n");
    text
}

#[test]
fn indentation_too_deep_for_the_parser() {
    let mut c = start();
    let uri = test_uri("deep.py");
    c.did_open(&uri, 1, &staircase(600));
    let shown = c
        .wait_for(Duration::from_secs(20), |m| {
            m["method"] == "window/showMessage"
        })
        .expect("the user is told the file is not analysed");
    let message = shown.msg["params"]["message"].as_str().unwrap();
    assert!(message.contains("deep.py is not analysed"), "{message}");
    assert_eq!(shown.msg["params"]["type"], 2, "a warning");
    let p = c.diagnostics_for_version(&uri, 1);
    assert_eq!(p["diagnostics"], json!([]), "{p}");
    still_serves(&mut c);
    // Brought back under the limit, it is analysed again.
    c.did_change_full(&uri, 2, &staircase(20));
    let p = c.diagnostics_for_version(&uri, 2);
    assert_eq!(p["diagnostics"][0]["code"], "KL101", "{p}");
    assert!(c.shutdown_and_exit().success());

    // The CLI: an error for that file (exit 2), the other files checked.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("deep.py"), staircase(600)).unwrap();
    std::fs::write(dir.path().join("ok.py"), staircase(3)).unwrap();
    let out = std::process::Command::new(BIN)
        .args(["check", "--output-format", "json", "--no-progress", "."])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("deep.py: not analysed: its indentation"),
        "{stderr}"
    );
    let findings: Value = serde_json::from_slice(&out.stdout).unwrap();
    let files: Vec<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["ok.py"], "{stderr}");
}

#[test]
fn requests_before_initialize_are_refused_and_eof_ends_the_server() {
    let mut c = LspClient::keylint(Some(BIN));
    let id = c.request_async(
        "textDocument/hover",
        json!({"textDocument": {"uri": "file:///a.py"}, "position": {"line": 0, "character": 0}}),
    );
    let resp = c.response(id);
    assert_eq!(resp["error"]["code"], -32002, "{resp}");
    c.initialize(push_client_caps(), json!({}));
    still_serves(&mut c);
    // The client goes away without shutdown: the server ends by itself, with status 1.
    c.close_stdin();
    let status = c.wait_exit(Duration::from_secs(20)).expect("exits at EOF");
    assert_eq!(status.code(), Some(1));
}
