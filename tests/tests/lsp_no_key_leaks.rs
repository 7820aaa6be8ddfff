//! No message of the language server carries a key (issue #13, item 7): every fixture and the
//! file of synthetic keys (`server/tests/cli_fixtures/leaks/`) are opened, and their diagnostics
//! (messages, related information), the hover of each finding and the titles of its code actions
//! must hold no full key. Only the edits (what a fix writes into the files) may.

use std::path::{Path, PathBuf};

use keylint_blackbox::{push_client_caps, test_uri, LspClient};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_keylint-dev");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The keys to look for, found by plain text matching (as in `server/tests/cli_no_key_leaks.rs`):
/// the synthetic ones, every token of a known format in the fixtures, and the generated-looking
/// literals of the lines that expect a `hardcoded-secret`; minus the rules' documented examples.
fn keys() -> Vec<String> {
    let leaks = repo().join("server/tests/cli_fixtures/leaks");
    let mut keys: Vec<String> = std::fs::read_to_string(leaks.join("keys.txt"))
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    let format = |w: &str| {
        [
            "ghp_", "sk_live_", "sk_test_", "AKIA", "xoxb-", "xoxp-", "AIza", "sk-",
        ]
        .iter()
        .any(|p| w.starts_with(p))
            && w.len() >= 20
    };
    for file in keylint_blackbox::python_files(&repo().join("fixtures")) {
        let text = std::fs::read_to_string(&file).unwrap();
        for line in text.lines() {
            let code = line.split("# expect").next().unwrap_or(line);
            for word in code.split(|c: char| !(c.is_ascii_alphanumeric() || "_-".contains(c))) {
                if format(word) {
                    keys.push(word.to_string());
                }
            }
            if line.contains("expect: hardcoded-secret") {
                for (i, part) in code.split(['"', '\'']).enumerate() {
                    if i % 2 == 1
                        && part.len() >= 10
                        && !part.contains(char::is_whitespace)
                        && part.bytes().any(|b| b.is_ascii_digit())
                        && part.bytes().any(|b| b.is_ascii_alphabetic())
                    {
                        keys.push(part.to_string());
                    }
                }
            }
        }
    }
    let docs: String = ["server/src/rules", "server/src/config"]
        .iter()
        .flat_map(|d| std::fs::read_dir(repo().join(d)).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    keys.retain(|k| !docs.contains(k.as_str()) && !k.contains("EXAMPLE"));
    keys.sort();
    keys.dedup();
    assert!(keys.len() > 30, "too few keys: {keys:?}");
    keys
}

fn assert_no_key(what: &str, v: &Value, keys: &[String]) {
    let text = v.to_string();
    let leaked: Vec<&String> = keys.iter().filter(|k| text.contains(k.as_str())).collect();
    assert!(leaked.is_empty(), "{what} carries {leaked:?}: {text}");
}

#[test]
fn diagnostics_hovers_and_code_action_titles_carry_no_key() {
    let keys = keys();
    let mut files: Vec<(String, PathBuf)> =
        keylint_blackbox::python_files(&repo().join("fixtures"))
            .into_iter()
            .map(|p| {
                let rel = p
                    .strip_prefix(repo().join("fixtures"))
                    .unwrap()
                    .to_path_buf();
                (rel.to_string_lossy().replace('\\', "/"), p)
            })
            .collect();
    files.push((
        "leaks/synthetic.py".into(),
        repo().join("server/tests/cli_fixtures/leaks/synthetic.py"),
    ));
    let mut c = LspClient::keylint(Some(BIN));
    c.initialize(push_client_caps(), json!({}));
    let mut checked = 0;
    for (rel, path) in &files {
        let uri = test_uri(rel);
        let text = std::fs::read_to_string(path).unwrap();
        c.did_open(&uri, 1, &text);
        let params = c.diagnostics_for_version(&uri, 1);
        let diags = params["diagnostics"].as_array().unwrap().clone();
        for diag in &diags {
            let mut shown = diag.clone();
            // `data` carries the fixes' edits: the file edit itself.
            shown.as_object_mut().unwrap().remove("data");
            assert_no_key(&format!("{rel}: diagnostic"), &shown, &keys);
            let hover = c.request(
                "textDocument/hover",
                json!({"textDocument": {"uri": uri}, "position": diag["range"]["start"]}),
            );
            assert_no_key(&format!("{rel}: hover"), &hover["result"], &keys);
            let actions = c.request(
                "textDocument/codeAction",
                json!({
                    "textDocument": {"uri": uri},
                    "range": diag["range"],
                    "context": {"diagnostics": [diag]}
                }),
            );
            for action in actions["result"].as_array().into_iter().flatten() {
                assert_no_key(
                    &format!("{rel}: code action title"),
                    &action["title"],
                    &keys,
                );
            }
            checked += 1;
        }
        c.notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": uri}}),
        );
    }
    assert!(checked > 50, "only {checked} diagnostics checked");
    assert!(c.shutdown_and_exit().success());
}
