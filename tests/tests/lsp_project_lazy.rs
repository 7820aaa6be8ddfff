//! The lazy index (`lsp/workspace.rs`, `project/lazy.rs`), over the real protocol: at start-up
//! only the modules the pre-filter keeps are summarised, with the modules their calls lead to,
//! transitively; an open document that starts calling into a module not summarised yet gets it
//! summarised on demand and its diagnostics published again.

use std::path::Path;
use std::time::Duration;

use keylint::engine::prefilter::Prefilter;
use keylint_blackbox::{file_uri, push_client_caps, LspClient};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_keylint-dev");

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (rel, text) in files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// A server started on `root`, its indexing finished (the message of its `$/progress` end).
fn indexed(root: &Path) -> (LspClient, String) {
    let mut caps = push_client_caps();
    caps["window"] = json!({"workDoneProgress": true});
    caps["workspace"] =
        json!({"didChangeWatchedFiles": {"dynamicRegistration": true}, "workspaceFolders": true});
    let mut c = LspClient::keylint(Some(BIN));
    c.initialize(
        caps,
        json!({"rootUri": file_uri(root), "workspaceFolders": [{"uri": file_uri(root), "name": "w"}]}),
    );
    let end = c
        .wait_for(Duration::from_secs(30), |m| {
            m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end"
        })
        .expect("the indexing ends");
    let message = end.msg["params"]["value"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    (c, message)
}

fn has_code(p: &Value, code: &str) -> bool {
    p["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["code"] == code)
}

/// The key enters in a route module the pre-filter keeps.
const ROUTES: &str = "from fastapi import FastAPI, Header\n\nfrom .relay import forward\n\napp = FastAPI()\n\n\n@app.post(\"/k\")\ndef k(x_api_key: str = Header(min_length=32)):\n    forward(x_api_key)\n    return {\"ok\": True}\n";
/// Two modules the pre-filter skips, that pass it on.
const RELAY: &str = "from .relay2 import pass_on\n\n\ndef forward(value):\n    pass_on(value)\n";
const RELAY2: &str = "from .helper import record\n\n\ndef pass_on(value):\n    record(value)\n";
/// Where it leaks (logged), open in the editor.
const HELPER: &str =
    "import logging\n\nlog = logging.getLogger(\"x\")\n\n\ndef record(v):\n    log.info(\"got %s\", v)\n";
/// A module nothing leads to.
const UNRELATED: &str = "def double(n):\n    return n * 2\n";

#[test]
fn a_key_through_two_modules_the_pre_filter_skips_reaches_the_open_helper() {
    let pf = Prefilter::new(&[]);
    assert!(pf.keep(ROUTES.as_bytes()));
    for skipped in [RELAY, RELAY2, HELPER, UNRELATED] {
        assert!(!pf.keep(skipped.as_bytes()), "{skipped}");
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    write(
        &root,
        &[
            ("svc/__init__.py", ""),
            ("svc/routes.py", ROUTES),
            ("svc/relay.py", RELAY),
            ("svc/relay2.py", RELAY2),
            ("svc/helper.py", HELPER),
            ("svc/unrelated.py", UNRELATED),
        ],
    );
    let (mut c, message) = indexed(&root);
    // The route module, then the two relays and the helper its calls lead to, and the package's
    // `__init__` (resolving `.relay.forward` before `relay.py` had a summary looked into it for
    // a re-export); not the unrelated module.
    assert!(
        message.contains("6 Python files indexed (5 summarised"),
        "{message}"
    );
    let helper = file_uri(&root.join("svc/helper.py"));
    c.did_open(&helper, 1, HELPER);
    let p = c.diagnostics_for_version(&helper, 1);
    let logged = p["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "KL202")
        .unwrap_or_else(|| panic!("the key of routes.py is logged in helper.py: {p}"));
    let related: Vec<&Value> = logged["relatedInformation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["location"])
        .collect();
    assert_eq!(
        related[0]["uri"],
        file_uri(&root.join("svc/routes.py")),
        "{logged}"
    );
    assert_eq!(
        related[0]["range"]["start"]["line"], 8,
        "the header parameter: {logged}"
    );
    assert!(c.shutdown_and_exit().success());
}

/// A route module that returns nothing of the project yet.
const APP: &str = "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get(\"/all\")\ndef all_items():\n    return []\n";
/// The same, returning what a module the pre-filter skips returns.
const APP_CALLING: &str = "from fastapi import FastAPI\n\nfrom .listing import items\n\napp = FastAPI()\n\n\n@app.get(\"/all\")\ndef all_items():\n    return items()\n";
/// Skipped by the pre-filter, and nothing leads to it at start-up.
const LISTING: &str = "from .store import load\n\n\ndef items():\n    return load()\n";
/// Kept by the pre-filter: a DynamoDB scan.
const STORE: &str = "import boto3\n\nt = boto3.resource(\"dynamodb\").Table(\"t\")\n\n\ndef load():\n    return t.scan()[\"Items\"]\n";

#[test]
fn an_open_document_that_starts_calling_a_module_not_summarised_gets_it_summarised() {
    let pf = Prefilter::new(&[]);
    assert!(!pf.keep(LISTING.as_bytes()));
    assert!(pf.keep(STORE.as_bytes()));
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    write(
        &root,
        &[
            ("svc/__init__.py", ""),
            ("svc/app.py", APP),
            ("svc/listing.py", LISTING),
            ("svc/store.py", STORE),
        ],
    );
    let (mut c, message) = indexed(&root);
    // The store only: the app (no key, no sink) is skipped and nothing leads to the listing.
    assert!(
        message.contains("4 Python files indexed (1 summarised"),
        "{message}"
    );
    let app = file_uri(&root.join("svc/app.py"));
    c.did_open(&app, 1, APP);
    let p = c.diagnostics_for_version(&app, 1);
    assert!(!has_code(&p, "KL203"), "{p}");
    // The route now returns the scanned items through the listing: once the listing is
    // summarised (on demand, off the keystroke), the route module is published again with them.
    c.did_change_full(&app, 2, APP_CALLING);
    let p = c.wait_diagnostics(&app, |p| p["version"] == 2 && has_code(p, "KL203"));
    let d = p["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "KL203")
        .unwrap();
    assert_eq!(d["range"]["start"]["line"], 9, "{d}");
    // Back to returning nothing: the finding goes.
    c.did_change_full(&app, 3, APP);
    c.wait_diagnostics(&app, |p| p["version"] == 3 && !has_code(p, "KL203"));
    assert!(c.shutdown_and_exit().success());
}
