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

/// (code, start line, start character, end line, end character) of each diagnostic, sorted.
fn ranges(params: &Value) -> Vec<(String, u64, u64, u64, u64)> {
    let mut out: Vec<_> = params["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            let r = &d["range"];
            (
                d["code"].as_str().unwrap_or("").to_string(),
                r["start"]["line"].as_u64().unwrap(),
                r["start"]["character"].as_u64().unwrap(),
                r["end"]["line"].as_u64().unwrap(),
                r["end"]["character"].as_u64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn fixtures(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            fixtures(&p, out);
        } else if p.extension().is_some_and(|x| x == "py") {
            out.push(p);
        }
    }
}

/// Python ends a line at a lone `\r` (issue 13, item 10): every fixture with lone-`\r` line
/// endings gets the diagnostics of its `\n` version, at the same positions (LSP lines end at
/// `\r` too), and a line typed with `\r` line breaks is analysed as one typed with `\n`.
#[test]
fn lone_cr_documents_get_the_diagnostics_of_their_lf_version() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let mut files = Vec::new();
    fixtures(&root, &mut files);
    files.sort();
    assert!(files.len() > 10);
    let mut c = LspClient::keylint(Some(BIN));
    c.initialize(push_client_caps(), json!({}));
    let mut total = 0;
    for file in &files {
        let rel = file.strip_prefix(&root).unwrap().to_string_lossy();
        let text = std::fs::read_to_string(file).unwrap().replace("\r\n", "\n");
        let (lf, cr) = (
            test_uri(&format!("lf/{rel}")),
            test_uri(&format!("cr/{rel}")),
        );
        c.did_open(&lf, 1, &text);
        let expected = ranges(&c.diagnostics_for_version(&lf, 1));
        c.did_open(&cr, 1, &text.replace('\n', "\r"));
        assert_eq!(
            ranges(&c.diagnostics_for_version(&cr, 1)),
            expected,
            "{rel}"
        );
        total += expected.len();
    }
    assert!(total > 50, "{total}");

    // Typing in a lone-`\r` document: Enter as `\r`, then a hardcoded key.
    let (lf, cr) = (test_uri("typed_lf.py"), test_uri("typed_cr.py"));
    let head = "import os\n\nclass Settings:\n    debug = False\n";
    c.did_open(&lf, 1, head);
    c.did_open(&cr, 1, &head.replace('\n', "\r"));
    let typed = "\r    api_key = \"sk-live-4f9c2b7e8d1a6f3c9a0b\"";
    c.did_change_range(&lf, 2, (3, 17), (3, 17), &typed.replace('\r', "\n"));
    c.did_change_range(&cr, 2, (3, 17), (3, 17), typed);
    let expected = ranges(&c.diagnostics_for_version(&lf, 2));
    assert_eq!(expected.len(), 1, "{expected:?}");
    assert_eq!(expected[0].1, 4);
    assert_eq!(ranges(&c.diagnostics_for_version(&cr, 2)), expected);
    assert!(c.shutdown_and_exit().success());
}
