//! The server's incremental state never diverges from a fresh open of the same text (issue 13,
//! item 4): what it publishes after a sequence of edits is what it publishes for the final text
//! opened in a new document.

use keylint_blackbox::{push_client_caps, test_uri, LspClient};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_keylint-dev");

/// A Python 2 `print` statement with a stray token: no finding. Enter before the `x` makes it a
/// call that logs a request header (KL202 at 2:7), with the same text for the statement.
const BEFORE: &str = "from flask import request\nprint(request.headers)x\n";
const AFTER: &str = "from flask import request\nprint(request.headers)\nx\n";

/// (code, line, character) of each diagnostic.
fn found(params: &Value) -> Vec<(String, u64, u64)> {
    params["diagnostics"]
        .as_array()
        .or(params["items"].as_array())
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or("").to_string(),
                d["range"]["start"]["line"].as_u64().unwrap(),
                d["range"]["start"]["character"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn kl202() -> Vec<(String, u64, u64)> {
    vec![("KL202".to_string(), 1, 6)]
}

#[test]
fn enter_before_a_stray_token_publishes_what_a_fresh_open_does() {
    let mut c = LspClient::keylint(Some(BIN));
    c.initialize(push_client_caps(), json!({}));
    // A fresh open of the final text: the reference.
    let fresh = test_uri("fresh.py");
    c.did_open(&fresh, 1, AFTER);
    assert_eq!(found(&c.diagnostics_for_version(&fresh, 1)), kl202());

    let uri = test_uri("typed.py");
    c.did_open(&uri, 1, BEFORE);
    assert_eq!(found(&c.diagnostics_for_version(&uri, 1)), vec![]);
    c.did_change_range(&uri, 2, (1, 22), (1, 22), "\n");
    assert_eq!(found(&c.diagnostics_for_version(&uri, 2)), kl202());
    // Still there after the whole text is sent again, and after an edit elsewhere.
    c.did_change_full(&uri, 3, AFTER);
    assert_eq!(found(&c.diagnostics_for_version(&uri, 3)), kl202());
    c.did_change_range(&uri, 4, (2, 1), (2, 1), "y");
    assert_eq!(found(&c.diagnostics_for_version(&uri, 4)), kl202());
    // And gone when the token joins the line again.
    c.did_change_range(&uri, 5, (1, 22), (2, 0), "");
    assert_eq!(found(&c.diagnostics_for_version(&uri, 5)), vec![]);
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn enter_before_a_stray_token_in_pull_mode() {
    let mut c = LspClient::keylint(Some(BIN));
    let mut caps = push_client_caps();
    caps["textDocument"]["diagnostic"] = json!({"dynamicRegistration": false});
    c.initialize(caps, json!({}));
    let uri = test_uri("pulled.py");
    let pull = |c: &mut LspClient| {
        let resp = c.request(
            "textDocument/diagnostic",
            json!({"textDocument": {"uri": uri}}),
        );
        found(&resp["result"])
    };
    c.did_open(&uri, 1, BEFORE);
    assert_eq!(pull(&mut c), vec![]);
    c.did_change_range(&uri, 2, (1, 22), (1, 22), "\n");
    assert_eq!(pull(&mut c), kl202());
    c.did_change_full(&uri, 3, AFTER);
    assert_eq!(pull(&mut c), kl202());
    c.did_change_range(&uri, 4, (1, 22), (2, 0), "");
    assert_eq!(pull(&mut c), vec![]);
    assert!(c.shutdown_and_exit().success());
}
