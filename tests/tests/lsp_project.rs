//! The server's workspace index (`lsp/workspace.rs`), over the real protocol: indexing with
//! `$/progress`, findings across modules with `relatedInformation` in the other file, an edit of a
//! helper module republishing the route module that imports it, files created and deleted on disk
//! (`workspace/didChangeWatchedFiles`), a workspace without Python files. The index is lazy
//! (`project/lazy.rs`): at start-up only the modules the pre-filter keeps are summarised, with
//! the modules their calls lead to, transitively; an open document that starts calling into a
//! module not summarised yet gets it summarised on demand and its diagnostics published again.

use std::path::{Path, PathBuf};
use std::time::Duration;

use keylint::engine::prefilter::Prefilter;
use keylint_blackbox::{file_uri, push_client_caps, LspClient};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_keylint-dev");

const ROUTES: &str = "from fastapi import FastAPI, Header\n\nfrom .sink import keep, load\n\napp = FastAPI()\n\n\n@app.post(\"/k\")\ndef k(x_api_key: str = Header(min_length=32)):\n    keep(x_api_key)\n\n\n@app.get(\"/all\")\ndef all_items():\n    return load()\n";

const SINK: &str = "import logging\n\nimport boto3\n\nlog = logging.getLogger(\"x\")\nt = boto3.resource(\"dynamodb\").Table(\"t\")\n\n\ndef keep(v):\n    log.info(\"got %s\", v)\n\n\ndef load():\n    return t.scan()[\"Items\"]\n";

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (rel, text) in files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

fn caps() -> Value {
    let mut caps = push_client_caps();
    caps["window"] = json!({"workDoneProgress": true});
    caps["workspace"] =
        json!({"didChangeWatchedFiles": {"dynamicRegistration": true}, "workspaceFolders": true});
    caps
}

fn start(root: &Path) -> LspClient {
    let mut c = LspClient::keylint(Some(BIN));
    c.initialize(
        caps(),
        json!({"rootUri": file_uri(root), "workspaceFolders": [{"uri": file_uri(root), "name": "w"}]}),
    );
    c
}

/// A workspace of `files` in a new temporary folder, with a server started on it and its indexing
/// finished: (the folder, kept alive; its canonical path; the client).
fn indexed(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf, LspClient) {
    let (dir, root, c, _) = indexed_saying(files);
    (dir, root, c)
}

/// [`indexed`], with the message of the indexing's `$/progress` end ("N Python files indexed
/// (M summarised …").
fn indexed_saying(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf, LspClient, String) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    write(&root, files);
    let mut c = start(&root);
    let message = wait_progress(&mut c, "end")["value"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    (dir, root, c, message)
}

fn wait_progress(c: &mut LspClient, kind: &str) -> Value {
    c.wait_for(Duration::from_secs(30), |m| {
        m["method"] == "$/progress" && m["params"]["value"]["kind"] == kind
    })
    .unwrap_or_else(|| panic!("no $/progress {kind}"))
    .msg["params"]
        .clone()
}

/// Whether the published diagnostics `p` hold one of rule `code`.
fn has_code(p: &Value, code: &str) -> bool {
    codes(p).iter().any(|(c, _)| c == code)
}

/// The diagnostic of rule `code` starting on `line` in the published diagnostics `p`.
fn diagnostic_at<'a>(p: &'a Value, code: &str, line: u64) -> Option<&'a Value> {
    p["diagnostics"]
        .as_array()?
        .iter()
        .find(|d| d["code"] == code && d["range"]["start"]["line"] == line)
}

fn codes(p: &Value) -> Vec<(String, u64)> {
    p["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["range"]["start"]["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// A server indexed on a temporary project, with the versions of the documents the test opened.
struct Workspace {
    _dir: tempfile::TempDir,
    root: PathBuf,
    c: LspClient,
    /// The files written at the start (what a document holds when a change first opens it).
    files: Vec<(String, String)>,
    /// Per open document (relative path): its last version.
    versions: std::collections::HashMap<String, i64>,
}

impl Workspace {
    fn indexed(files: &[(&str, &str)]) -> Self {
        let (dir, root, c) = indexed(files);
        Workspace {
            _dir: dir,
            root,
            c,
            files: (files.iter())
                .map(|(r, t)| (r.to_string(), t.to_string()))
                .collect(),
            versions: Default::default(),
        }
    }

    fn uri(&self, rel: &str) -> String {
        file_uri(&self.root.join(rel))
    }

    /// Opens `rel` with its text on disk (version 1) and returns its first publish.
    fn open(&mut self, rel: &str) -> Value {
        self.open_quietly(rel);
        let uri = self.uri(rel);
        self.c.diagnostics_for_version(&uri, 1)
    }

    /// Opens `rel` with its text on disk (version 1), its diagnostics not awaited.
    fn open_quietly(&mut self, rel: &str) {
        let text = (self.files.iter())
            .find(|(r, _)| r == rel)
            .map(|(_, t)| t.clone())
            .unwrap_or_else(|| panic!("{rel} is not a file of the workspace"));
        let uri = self.uri(rel);
        self.c.did_open(&uri, 1, &text);
        self.versions.insert(rel.to_string(), 1);
    }

    /// Sends `text` as the whole new text of `rel` (opened first with its text on disk).
    fn change(&mut self, rel: &str, text: &str) {
        if !self.versions.contains_key(rel) {
            self.open_quietly(rel);
        }
        let version = self.versions.get_mut(rel).unwrap();
        *version += 1;
        let version = *version;
        let uri = self.uri(rel);
        self.c.did_change_full(&uri, version, text);
    }

    /// Waits for a publish of `rel` that meets `pred`.
    fn wait(&mut self, rel: &str, pred: impl FnMut(&Value) -> bool) -> Value {
        let uri = self.uri(rel);
        self.c.wait_diagnostics(&uri, pred)
    }

    fn shut_down(mut self) {
        assert!(self.c.shutdown_and_exit().success());
    }
}

/// The diagnostic of rule `code` on `line` in the publish `p`, whose first related place is in
/// `uri` (on `related_line` when given); panics, saying `what` should be there, otherwise.
fn leads_to<'a>(
    p: &'a Value,
    (code, line): (&str, u64),
    uri: &str,
    related_line: Option<u64>,
    what: &str,
) -> &'a Value {
    let d = diagnostic_at(p, code, line)
        .unwrap_or_else(|| panic!("no {code} on line {line}: {what}: {p}"));
    let rel = &d["relatedInformation"][0]["location"];
    assert_eq!(rel["uri"], uri, "{what}: {d}");
    if let Some(l) = related_line {
        assert_eq!(rel["range"]["start"]["line"], l, "{what}: {d}");
    }
    d
}

#[test]
fn indexing_reports_progress_and_findings_cross_modules_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    write(
        &root,
        &[
            ("svc/__init__.py", ""),
            ("svc/routes.py", ROUTES),
            ("svc/sink.py", SINK),
        ],
    );
    let mut c = start(&root);
    let begin = wait_progress(&mut c, "begin");
    assert_eq!(begin["token"], "keylint-index");
    let end = wait_progress(&mut c, "end");
    assert!(
        end["value"]["message"]
            .as_str()
            .unwrap()
            .contains("3 Python files"),
        "{end}"
    );

    let routes = file_uri(&root.join("svc/routes.py"));
    let sink = file_uri(&root.join("svc/sink.py"));
    c.did_open(&sink, 1, SINK);
    let p = c.diagnostics_for_version(&sink, 1);
    let logged = p["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "KL202")
        .unwrap_or_else(|| panic!("the key of routes.py is logged in sink.py: {p}"));
    let rel = &logged["relatedInformation"][0]["location"];
    assert_eq!(rel["uri"], routes.as_str(), "{logged}");
    assert_eq!(
        rel["range"]["start"]["line"], 8,
        "the header parameter: {logged}"
    );

    c.did_open(&routes, 1, ROUTES);
    let p = c.diagnostics_for_version(&routes, 1);
    assert!(codes(&p).contains(&("KL203".into(), 14)), "{p}");

    // The helper no longer returns stored items: the route module is republished without KL203.
    let fixed = SINK.replace("return t.scan()[\"Items\"]", "return []");
    c.did_change_full(&sink, 2, &fixed);
    let p = c.wait_diagnostics(&routes, |p| !has_code(p, "KL203"));
    assert!(!has_code(&p, "KL304"), "{p}");
    // And back.
    c.did_change_full(&sink, 3, SINK);
    c.wait_diagnostics(&routes, |p| has_code(p, "KL203"));
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn files_created_renamed_and_deleted_on_disk_follow_through_watched_files() {
    let (_dir, root, mut c) = indexed(&[("svc/__init__.py", ""), ("svc/routes.py", ROUTES)]);
    let routes = file_uri(&root.join("svc/routes.py"));
    c.did_open(&routes, 1, ROUTES);
    let p = c.diagnostics_for_version(&routes, 1);
    assert!(!has_code(&p, "KL203"), "no sink.py yet: {p}");

    // Created on disk.
    let sink_path = root.join("svc/sink.py");
    std::fs::write(&sink_path, SINK).unwrap();
    let sink = file_uri(&sink_path);
    c.forget_diagnostics(&routes);
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": sink, "type": 1}]}),
    );
    c.wait_diagnostics(&routes, |p| has_code(p, "KL203"));

    // Renamed: deleted under its old name, created under a name the import does not reach.
    let other_path = root.join("svc/other.py");
    std::fs::rename(&sink_path, &other_path).unwrap();
    c.forget_diagnostics(&routes);
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": sink, "type": 3}, {"uri": file_uri(&other_path), "type": 1}]}),
    );
    c.wait_diagnostics(&routes, |p| !has_code(p, "KL203"));

    // Renamed back, then deleted.
    std::fs::rename(&other_path, &sink_path).unwrap();
    c.forget_diagnostics(&routes);
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&other_path), "type": 3}, {"uri": sink, "type": 1}]}),
    );
    c.wait_diagnostics(&routes, |p| has_code(p, "KL203"));
    std::fs::remove_file(&sink_path).unwrap();
    c.forget_diagnostics(&routes);
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": sink, "type": 3}]}),
    );
    c.wait_diagnostics(&routes, |p| !has_code(p, "KL203"));
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn a_workspace_without_python_files_and_folders_added_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    write(&root, &[("README.md", "# nothing to see\n")]);
    let mut c = start(&root);
    let end = wait_progress(&mut c, "end");
    assert!(
        end["value"]["message"]
            .as_str()
            .unwrap()
            .contains("0 Python files"),
        "{end}"
    );

    // A folder with the project is added: the open route module gets its finding.
    let other = tempfile::tempdir().unwrap();
    let proj = other.path().canonicalize().unwrap();
    write(
        &proj,
        &[
            ("svc/__init__.py", ""),
            ("svc/routes.py", ROUTES),
            ("svc/sink.py", SINK),
        ],
    );
    let routes = file_uri(&proj.join("svc/routes.py"));
    c.did_open(&routes, 1, ROUTES);
    let p = c.diagnostics_for_version(&routes, 1);
    assert!(!has_code(&p, "KL203"), "not indexed yet: {p}");
    let folder = json!({"uri": file_uri(&proj), "name": "p"});
    c.forget_diagnostics(&routes);
    c.notify(
        "workspace/didChangeWorkspaceFolders",
        json!({"event": {"added": [folder], "removed": []}}),
    );
    c.wait_diagnostics(&routes, |p| has_code(p, "KL203"));
    // Removed: its modules are forgotten.
    c.forget_diagnostics(&routes);
    c.notify(
        "workspace/didChangeWorkspaceFolders",
        json!({"event": {"added": [], "removed": [folder]}}),
    );
    c.wait_diagnostics(&routes, |p| !has_code(p, "KL203"));
    assert!(c.shutdown_and_exit().success());
}

/// A module of the generated workspace: a few functions, so that indexing one costs a parse and
/// a summary.
fn filler(i: usize) -> String {
    let mut s = format!(
        "import logging\n\nfrom .sink import keep\n\nlog = logging.getLogger(\"m{i}\")\n\n"
    );
    for j in 0..12 {
        s.push_str(&format!(
            "\ndef f{j}(a, b=None):\n    c = a + {j}\n    if b:\n        log.debug(\"n %s\", c)\n    return [x for x in range(c)]\n\n"
        ));
    }
    s
}

#[test]
fn open_documents_get_diagnostics_while_the_workspace_is_indexed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    write(
        &root,
        &[
            ("svc/__init__.py", ""),
            ("svc/routes.py", ROUTES),
            ("svc/sink.py", SINK),
        ],
    );
    for i in 0..3000 {
        let p = root.join(format!("svc/gen/m{i}.py"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, filler(i)).unwrap();
    }
    let mut c = start(&root);
    wait_progress(&mut c, "begin");
    // Opened and changed while the workspace is indexed: a key checked with `==` (KL205), a
    // finding of the file alone.
    let routes = file_uri(&root.join("svc/routes.py"));
    let edited = format!(
        "{ROUTES}\n\n@app.get(\"/c\")\ndef c(x_api_key: str = Header(min_length=32)):\n    return x_api_key == \"x\" * 32\n"
    );
    c.did_open(&routes, 1, ROUTES);
    c.did_change_full(&routes, 2, &edited);
    let mut first_diagnostics_before_end = None;
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let r = c
            .recv(left)
            .expect("no diagnostics and no end of the indexing in time");
        let m = &r.msg;
        if m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == routes {
            first_diagnostics_before_end.get_or_insert(true);
        }
        if m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end" {
            first_diagnostics_before_end.get_or_insert(false);
            break;
        }
    }
    assert_eq!(
        first_diagnostics_before_end,
        Some(true),
        "the open document's diagnostics waited for the whole index"
    );
    // Republished with the project view, for the text as changed during the indexing.
    let p = c.wait_diagnostics(&routes, |p| p["version"] == 2 && has_code(p, "KL203"));
    assert!(has_code(&p, "KL205"), "{p}");
    assert!(c.shutdown_and_exit().success());
}

/// The line of the place in `sink` the route module's KL203 leads back to, if any.
fn related_line_in(p: &Value, sink: &str) -> Option<u64> {
    p["diagnostics"]
        .as_array()?
        .iter()
        .filter(|d| d["code"] == "KL203")
        .flat_map(|d| {
            d["relatedInformation"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .find(|r| r["location"]["uri"] == sink)?["location"]["range"]["start"]["line"]
        .as_u64()
}

/// Opens the package with both modules open; returns the client, the two URIs and the route
/// module's last publish.
fn open_both(root: &Path) -> (LspClient, String, String, Value) {
    write(
        root,
        &[
            ("svc/__init__.py", ""),
            ("svc/routes.py", ROUTES),
            ("svc/sink.py", SINK),
        ],
    );
    let mut c = start(root);
    wait_progress(&mut c, "end");
    let routes = file_uri(&root.join("svc/routes.py"));
    let sink = file_uri(&root.join("svc/sink.py"));
    c.did_open(&sink, 1, SINK);
    c.diagnostics_for_version(&sink, 1);
    c.did_open(&routes, 1, ROUTES);
    let p = c.wait_diagnostics(&routes, |p| related_line_in(p, &sink).is_some());
    assert_eq!(
        related_line_in(&p, &sink),
        Some(13),
        "the scan in sink.py: {p}"
    );
    (c, routes, sink, p)
}

#[test]
fn an_unsaved_edit_of_the_helper_moves_the_related_place_to_its_new_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let (mut c, routes, sink, _) = open_both(&root);
    // Three lines above the scan, not saved: the place is converted against the open text.
    let edited = format!("# one\n# two\n# three\n{SINK}");
    c.did_change_full(&sink, 2, &edited);
    let p = c.wait_diagnostics(&routes, |p| related_line_in(p, &sink) == Some(16));
    assert!(codes(&p).contains(&("KL203".into(), 14)), "{p}");
    assert!(c.shutdown_and_exit().success());
}

#[test]
fn a_route_module_whose_diagnostics_stay_the_same_is_not_published_again() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let (mut c, routes, sink, last) = open_both(&root);
    c.buffer.clear();
    // Saved edits (disk and open text agree). The first moves the scan's bytes but not its line
    // or column: the route module is analysed again with the same diagnostics, so nothing is
    // sent. The second moves it three lines down: the route module is published with that.
    let same_place = SINK.replace("getLogger(\"x\")", "getLogger(\"xyz\")");
    std::fs::write(root.join("svc/sink.py"), &same_place).unwrap();
    c.did_change_full(&sink, 2, &same_place);
    c.diagnostics_for_version(&sink, 2);
    let moved = format!("# one\n# two\n# three\n{same_place}");
    std::fs::write(root.join("svc/sink.py"), &moved).unwrap();
    c.did_change_full(&sink, 3, &moved);
    let mut seen = Vec::new();
    c.wait_diagnostics(&routes, |p| {
        seen.push(p.clone());
        related_line_in(p, &sink) == Some(16)
    });
    let mut previous = last;
    for p in &seen[..seen.len() - 1] {
        assert_ne!(
            p["diagnostics"], previous["diagnostics"],
            "published again with the same diagnostics: {p}"
        );
        previous = p.clone();
    }
    assert!(c.shutdown_and_exit().success());
}

const DEP_ROUTES: &str = "import logging\n\nfrom fastapi import Depends, FastAPI\n\nfrom .deps import get_api_key\n\napp = FastAPI()\nlog = logging.getLogger(\"api\")\n\n\n@app.get(\"/whoami\")\ndef whoami(key: str = Depends(get_api_key)):\n    log.info(\"caller %s\", key)\n    return {\"ok\": True}\n";

const DEPS: &str = "from fastapi import Header\n\n\ndef get_api_key(x_api_key: str = Header(min_length=32)):\n    return x_api_key\n";

#[test]
fn a_dependency_of_another_module_flows_into_the_route_and_its_edits_republish_it() {
    let mut w = Workspace::indexed(&[
        ("svc/__init__.py", ""),
        ("svc/routes.py", DEP_ROUTES),
        ("svc/deps.py", DEPS),
    ]);
    let p = w.open("svc/routes.py");
    let deps = w.uri("svc/deps.py");
    let why = "the key of the dependency's header parameter is logged by the route";
    leads_to(&p, ("KL202", 12), &deps, Some(3), why);
    // The dependency no longer returns the key: the route module is republished without KL202.
    let fixed = DEPS.replace("return x_api_key", "return len(x_api_key) > 0");
    w.change("svc/deps.py", &fixed);
    w.wait("svc/routes.py", |p| !has_code(p, "KL202"));
    // And back.
    w.change("svc/deps.py", DEPS);
    w.wait("svc/routes.py", |p| has_code(p, "KL202"));
    w.shut_down();
}

const REPO_ROUTES: &str = "from fastapi import Depends, FastAPI, Header\n\nfrom .repository import KeyRepository, get_repo\n\napp = FastAPI()\nrepo = KeyRepository()\n\n\n@app.post(\"/k\")\ndef k(x_api_key: str = Header(min_length=32)):\n    repo.save(x_api_key)\n\n\n@app.get(\"/all\")\ndef all_items(store: KeyRepository = Depends(get_repo)):\n    return store.list_all()\n";

const REPOSITORY: &str = "import boto3\n\n\nclass KeyRepository:\n    def __init__(self):\n        self._table = boto3.resource(\"dynamodb\").Table(\"t\")\n\n    def save(self, value):\n        self._table.put_item(Item={\"api_key\": value})\n\n    def list_all(self):\n        return self._table.scan()[\"Items\"]\n\n\ndef get_repo():\n    return KeyRepository()\n";

#[test]
fn methods_of_another_module_s_class_are_followed_both_ways_and_edits_republish() {
    let mut w = Workspace::indexed(&[
        ("svc/__init__.py", ""),
        ("svc/routes.py", REPO_ROUTES),
        ("svc/repository.py", REPOSITORY),
    ]);
    let p = w.open("svc/repository.py");
    let routes = w.uri("svc/routes.py");
    let why = "`repo.save(key)` of routes.py stores the header raw";
    leads_to(&p, ("KL201", 8), &routes, Some(9), why);
    let p = w.open("svc/routes.py");
    assert!(codes(&p).contains(&("KL203".into(), 15)), "{p}");
    // The route no longer passes the key: the repository module is republished without KL201.
    let routes2 = REPO_ROUTES.replace("repo.save(x_api_key)", "repo.save(\"none\")");
    w.change("svc/routes.py", &routes2);
    w.wait("svc/repository.py", |p| !has_code(p, "KL201"));
    // The method no longer scans: the route module is republished without KL203.
    let repo2 = REPOSITORY.replace("return self._table.scan()[\"Items\"]", "return []");
    w.change("svc/repository.py", &repo2);
    w.wait("svc/routes.py", |p| !has_code(p, "KL203"));
    w.shut_down();
}

const SETTINGS: &str = "import os\n\nSERVICE_API_KEY = os.environ[\"SERVICE_API_KEY\"]\n";

const SETTINGS_ROUTES: &str = "import logging\n\nfrom fastapi import FastAPI\n\nfrom .settings import SERVICE_API_KEY\n\napp = FastAPI()\nlog = logging.getLogger(\"api\")\n\n\n@app.get(\"/config\")\ndef config():\n    log.info(\"calling out with %s\", SERVICE_API_KEY)\n    return {\"ok\": True}\n";

#[test]
fn a_module_level_key_of_another_module_is_followed_and_its_edits_republish() {
    let mut w = Workspace::indexed(&[
        ("svc/__init__.py", ""),
        ("svc/routes.py", SETTINGS_ROUTES),
        ("svc/settings.py", SETTINGS),
    ]);
    let p = w.open("svc/routes.py");
    let settings = w.uri("svc/settings.py");
    let why = "the key of settings.py is logged by the route";
    leads_to(&p, ("KL202", 12), &settings, Some(2), why);
    // The name no longer holds a key: the route module is republished without KL202.
    let plain = SETTINGS.replace("os.environ[\"SERVICE_API_KEY\"]", "\"none\"");
    w.change("svc/settings.py", &plain);
    w.wait("svc/routes.py", |p| !has_code(p, "KL202"));
    // And back.
    w.change("svc/settings.py", SETTINGS);
    w.wait("svc/routes.py", |p| has_code(p, "KL202"));
    w.shut_down();
}

const MODELS: &str = "from pynamodb.attributes import UnicodeAttribute\nfrom pynamodb.models import Model\n\n\nclass UserModel(Model):\n    id = UnicodeAttribute(hash_key=True)\n    access_token = UnicodeAttribute(null=True)\n";

const MODEL_ROUTES: &str = "from fastapi import FastAPI, Header\n\nfrom .models import UserModel\n\napp = FastAPI()\n\n\n@app.get(\"/users\")\ndef users():\n    result = UserModel.scan()\n    return [u for u in result]\n\n\n@app.post(\"/t/{uid}\")\ndef token(uid: str, x_api_key: str = Header(min_length=32)):\n    UserModel(id=uid, access_token=x_api_key).save()\n    return {\"ok\": True}\n";

#[test]
fn a_pynamodb_model_of_another_module_is_known_to_the_routes_and_its_edits_republish() {
    let mut w = Workspace::indexed(&[
        ("svc/__init__.py", ""),
        ("svc/routes.py", MODEL_ROUTES),
        ("svc/models.py", MODELS),
    ]);
    let p = w.open("svc/routes.py");
    // The whole users returned (their `access_token`), and the key stored raw by the imported
    // model's `save()`.
    let found = codes(&p);
    assert!(found.contains(&("KL203".into(), 10)), "{p}");
    assert!(found.contains(&("KL201".into(), 15)), "{p}");
    assert!(
        diagnostic_at(&p, "KL203", 10)
            .is_some_and(|d| d["message"].as_str().unwrap().contains("access_token")),
        "{p}"
    );
    let neither = |p: &Value| !codes(p).iter().any(|(c, _)| c == "KL203" || c == "KL201");
    // No longer a PynamoDB model: the route module is republished without either finding.
    w.change("svc/models.py", &MODELS.replace("(Model)", "(object)"));
    w.wait("svc/routes.py", neither);
    // A model again: both back.
    w.change("svc/models.py", MODELS);
    w.wait("svc/routes.py", |p| {
        let found = codes(p);
        found.contains(&("KL203".into(), 10)) && found.contains(&("KL201".into(), 15))
    });
    // Its token attribute renamed: the items it returns and stores hold no key any more.
    w.change("svc/models.py", &MODELS.replace("access_token", "nickname"));
    w.wait("svc/routes.py", neither);
    w.shut_down();
}

const MODULE_ATTR_ROUTES: &str = "import logging\n\nfrom fastapi import FastAPI\n\nfrom . import settings\n\napp = FastAPI()\nlog = logging.getLogger(\"api\")\n\n\n@app.get(\"/config\")\ndef config():\n    log.info(\"calling out with %s\", settings.SERVICE_API_KEY)\n    return {\"ok\": True}\n";

#[test]
fn a_key_read_through_another_module_is_followed_and_its_edits_republish() {
    let mut w = Workspace::indexed(&[
        ("svc/__init__.py", ""),
        ("svc/routes.py", MODULE_ATTR_ROUTES),
        ("svc/settings.py", SETTINGS),
    ]);
    let p = w.open("svc/routes.py");
    let settings = w.uri("svc/settings.py");
    let why = "`settings.SERVICE_API_KEY` is logged by the route";
    leads_to(&p, ("KL202", 12), &settings, Some(2), why);
    // The name no longer holds a key: the route module is republished without KL202.
    let plain = SETTINGS.replace("os.environ[\"SERVICE_API_KEY\"]", "\"none\"");
    w.change("svc/settings.py", &plain);
    w.wait("svc/routes.py", |p| !has_code(p, "KL202"));
    w.shut_down();
}

const BASE: &str = "import boto3\n\n\nclass BaseRepository:\n    def __init__(self, name):\n        self._table = boto3.resource(\"dynamodb\").Table(name)\n\n    def save(self, value):\n        self._table.put_item(Item={\"api_key\": value})\n";

const INHERITING: &str = "from .base import BaseRepository\n\n\nclass KeyRepository(BaseRepository):\n    def __init__(self):\n        super().__init__(\"clients\")\n";

const FACTORY: &str =
    "from .repository import KeyRepository\n\n\ndef get_repo():\n    return KeyRepository()\n";

const FACTORY_ROUTES: &str = "from fastapi import FastAPI, Header\n\nfrom .deps import get_repo\n\napp = FastAPI()\n\n\n@app.post(\"/keys\")\ndef register(x_api_key: str = Header(min_length=32)):\n    repo = get_repo()\n    repo.save(x_api_key)\n    return {\"ok\": True}\n";

#[test]
fn an_instance_of_a_factory_of_another_module_reaches_an_inherited_method_and_edits_republish() {
    let mut w = Workspace::indexed(&[
        ("svc/__init__.py", ""),
        ("svc/routes.py", FACTORY_ROUTES),
        ("svc/deps.py", FACTORY),
        ("svc/repository.py", INHERITING),
        ("svc/base.py", BASE),
    ]);
    let p = w.open("svc/base.py");
    let routes = w.uri("svc/routes.py");
    // `repo = get_repo()` in routes.py: a `KeyRepository` of repository.py, whose `save` is
    // `BaseRepository.save` of base.py.
    let why = "`repo.save(key)` of routes.py stores the header raw";
    leads_to(&p, ("KL201", 8), &routes, Some(8), why);
    // The factory no longer returns a repository: base.py is republished without KL201.
    w.change(
        "svc/deps.py",
        &FACTORY.replace("return KeyRepository()", "return None"),
    );
    w.wait("svc/base.py", |p| !has_code(p, "KL201"));
    w.shut_down();
}

const CONFIG_LOADER: &str = "from flask import Flask\n\napp = Flask(__name__)\napp.config.from_object(\"svc.config.DevelopmentConfig\")\n";

const CONFIG_CLASSES: &str =
    "class Config:\n    DEBUG = False\n\n\nclass DevelopmentConfig(Config):\n    DEBUG = True\n";

#[test]
fn a_config_class_loaded_by_another_module_is_reported_and_edits_of_the_loader_republish() {
    let mut w = Workspace::indexed(&[
        ("svc/__init__.py", CONFIG_LOADER),
        ("svc/config.py", CONFIG_CLASSES),
    ]);
    let p = w.open("svc/config.py");
    // `from_object("svc.config.DevelopmentConfig")` in `__init__.py`: the app runs with it.
    assert!(
        diagnostic_at(&p, "KL301", 5).is_some(),
        "`DEBUG = True` of the loaded class: {p}"
    );
    // The app loads the base class instead: the development class is a development setting
    // again, and config.py is republished without KL301.
    let other = CONFIG_LOADER.replace("DevelopmentConfig", "Config");
    w.change("svc/__init__.py", &other);
    w.wait("svc/config.py", |p| !has_code(p, "KL301"));
    // And back.
    w.change("svc/__init__.py", CONFIG_LOADER);
    w.wait("svc/config.py", |p| has_code(p, "KL301"));
    w.shut_down();
}

const SETTINGS_INSTANCE_MODULE: &str = "from pydantic_settings import BaseSettings\n\n\nclass Settings(BaseSettings):\n    api_key: str\n\n\nsettings = Settings()\n";

const SETTINGS_INSTANCE_ROUTES: &str = "import logging\n\nfrom fastapi import FastAPI\n\nfrom .config import settings\n\napp = FastAPI()\nlog = logging.getLogger(\"api\")\n\n\n@app.get(\"/status\")\ndef status():\n    log.info(\"key %s\", settings.api_key)\n    return {\"ok\": True}\n";

#[test]
fn a_field_of_a_settings_instance_of_another_module_is_followed_and_its_edits_republish() {
    let mut w = Workspace::indexed(&[
        ("svc/__init__.py", ""),
        ("svc/routes.py", SETTINGS_INSTANCE_ROUTES),
        ("svc/config.py", SETTINGS_INSTANCE_MODULE),
    ]);
    let p = w.open("svc/routes.py");
    let config = w.uri("svc/config.py");
    let why = "`settings.api_key` of config.py is logged, from `settings = Settings()`";
    leads_to(&p, ("KL202", 12), &config, Some(7), why);
    // The field masked (`SecretStr`): it logs as `**********`, the route module is republished
    // without KL202.
    let masked = SETTINGS_INSTANCE_MODULE
        .replace("api_key: str", "api_key: SecretStr")
        .replace(
            "from pydantic_settings import BaseSettings\n",
            "from pydantic import SecretStr\nfrom pydantic_settings import BaseSettings\n",
        );
    w.change("svc/config.py", &masked);
    w.wait("svc/routes.py", |p| !has_code(p, "KL202"));
    w.shut_down();
}

const INSTANCE_REPOSITORY: &str = "import boto3\n\n\nclass KeyRepository:\n    def __init__(self, name):\n        self._table = boto3.resource(\"dynamodb\").Table(name)\n\n    def save(self, value):\n        self._table.put_item(Item={\"api_key\": value})\n\n\nrepo = KeyRepository(\"clients\")\n";

const INSTANCE_DEPS: &str = "from .repository import repo\n\n\ndef get_repo():\n    return repo\n";

const INSTANCE_ROUTES: &str = "from fastapi import Depends, FastAPI, Header\n\nfrom .deps import get_repo\n\napp = FastAPI()\n\n\n@app.post(\"/keys\")\ndef register(x_api_key: str = Header(min_length=32), store=Depends(get_repo)):\n    store.save(x_api_key)\n    return {\"ok\": True}\n";

#[test]
fn a_module_level_instance_handed_out_by_a_factory_is_followed_and_edits_republish() {
    let mut w = Workspace::indexed(&[
        ("svc/__init__.py", ""),
        ("svc/routes.py", INSTANCE_ROUTES),
        ("svc/deps.py", INSTANCE_DEPS),
        ("svc/repository.py", INSTANCE_REPOSITORY),
    ]);
    let p = w.open("svc/repository.py");
    let routes = w.uri("svc/routes.py");
    // `store=Depends(get_repo)` in routes.py: `repo` of repository.py, handed out by deps.py.
    let why = "`store.save(key)` of routes.py stores the header raw";
    leads_to(&p, ("KL201", 8), &routes, Some(8), why);
    // The factory hands out nothing any more: repository.py is republished without KL201.
    w.change(
        "svc/deps.py",
        &INSTANCE_DEPS.replace("return repo", "return None"),
    );
    w.wait("svc/repository.py", |p| !has_code(p, "KL201"));
    w.shut_down();
}

const MINTED_MODELS: &str = "class OAuth2Client:\n    def __init__(self, client_id):\n        self.client_id = client_id\n        self.client_secret = None\n\n    def serialize(self):\n        return {\"client_id\": self.client_id, \"client_secret\": self.client_secret}\n";

const MINTED_CLIENT: &str = "from werkzeug.security import gen_salt\n\nfrom .models import OAuth2Client\n\n\ndef create_client():\n    client = OAuth2Client(client_id=gen_salt(24))\n    client.client_secret = gen_salt(48)\n    return client\n";

const MINTED_ROUTES: &str = "from flask import Blueprint\n\nfrom .client import create_client\n\nbp = Blueprint(\"oauth2\", __name__)\n\n\n@bp.route(\"/clients\", methods=[\"POST\"])\ndef create():\n    new_client = create_client()\n    return {\"client\": new_client.serialize()}, 201\n";

#[test]
fn a_secret_minted_in_another_module_and_returned_on_creation_is_not_reported_until_it_is_not_minted(
) {
    let mut w = Workspace::indexed(&[
        ("svc/__init__.py", ""),
        ("svc/routes.py", MINTED_ROUTES),
        ("svc/client.py", MINTED_CLIENT),
        ("svc/models.py", MINTED_MODELS),
    ]);
    let p = w.open("svc/routes.py");
    // The factory of client.py mints the secret: returned once, on creation.
    assert!(!has_code(&p, "KL203"), "{p}");
    // The secret taken from the metadata instead of minted: the route module is republished
    // with KL203.
    let given = MINTED_CLIENT
        .replace("def create_client():", "def create_client(secret):")
        .replace("gen_salt(48)", "secret");
    w.change("svc/client.py", &given);
    w.wait("svc/routes.py", |p| diagnostic_at(p, "KL203", 10).is_some());
    w.shut_down();
}

const CONFIG_MAP_LOADER: &str = "import os\n\nfrom flask import Flask\n\nconfig = {\n    \"default\": \"svc.config.DevelopmentConfig\",\n    \"production\": \"svc.config.Config\",\n}\n\napp = Flask(__name__)\napp.config.from_object(config[os.getenv(\"SVC_CONFIG\", \"default\")])\n";

#[test]
fn a_config_class_chosen_through_a_mapping_of_another_module_is_loaded_and_edits_republish() {
    let mut w = Workspace::indexed(&[
        ("svc/__init__.py", CONFIG_MAP_LOADER),
        ("svc/config.py", CONFIG_CLASSES),
    ]);
    let p = w.open("svc/config.py");
    // `from_object(config[…])` in `__init__.py`, the mapping naming `DevelopmentConfig`.
    assert!(
        diagnostic_at(&p, "KL301", 5).is_some(),
        "`DEBUG = True` of a mapped class: {p}"
    );
    // The mapping no longer names it: config.py is republished without KL301.
    let other = CONFIG_MAP_LOADER.replace("svc.config.DevelopmentConfig", "svc.config.Config");
    w.change("svc/__init__.py", &other);
    w.wait("svc/config.py", |p| !has_code(p, "KL301"));
    w.shut_down();
}

const MODULE_TABLE_DB: &str =
    "import boto3\n\ndynamodb = boto3.resource(\"dynamodb\")\nusers = dynamodb.Table(\"users\")\n";

const MODULE_TABLE_ROUTES: &str = "from flask import Blueprint\n\nfrom . import db\n\nbp = Blueprint(\"users\", __name__)\n\n\n@bp.route(\"/users\")\ndef list_users():\n    return {\"users\": db.users.scan()[\"Items\"]}\n";

#[test]
fn a_table_of_a_module_imported_whole_is_known_through_it_and_its_edits_republish() {
    let mut w = Workspace::indexed(&[
        ("svc/__init__.py", ""),
        ("svc/db.py", MODULE_TABLE_DB),
        ("svc/routes.py", MODULE_TABLE_ROUTES),
    ]);
    let p = w.open("svc/routes.py");
    // `db.users` is the table db.py makes: its scan in a route.
    assert!(diagnostic_at(&p, "KL304", 9).is_some(), "{p}");
    // db.py's `users` is no longer a table: routes.py is republished without KL304.
    let other = MODULE_TABLE_DB.replace("dynamodb.Table(\"users\")", "[]");
    w.change("svc/db.py", &other);
    w.wait("svc/routes.py", |p| !has_code(p, "KL304"));
    w.shut_down();
}

#[test]
fn a_config_class_loaded_by_another_module_relates_to_the_from_object_call_and_follows_it() {
    let mut w = Workspace::indexed(&[
        ("svc/__init__.py", CONFIG_LOADER),
        ("svc/config.py", CONFIG_CLASSES),
    ]);
    let p = w.open("svc/config.py");
    let init = w.uri("svc/__init__.py");
    leads_to(&p, ("KL301", 5), &init, Some(3), "the from_object call");
    // Two lines added above the call in `__init__.py`: config.py is republished with the
    // related place moved.
    let moved = CONFIG_LOADER.replace("app = Flask", "import os\n\napp = Flask");
    w.change("svc/__init__.py", &moved);
    w.wait("svc/config.py", |p| {
        diagnostic_at(p, "KL301", 5)
            .is_some_and(|d| d["relatedInformation"][0]["location"]["range"]["start"]["line"] == 5)
    });
    w.shut_down();
}

const CONFIG_MAP_CLASSES: &str = "class Config:\n    DEBUG = False\n\n\nclass DevelopmentConfig(Config):\n    DEBUG = True\n\n\nconfig = {\"default\": DevelopmentConfig, \"production\": Config}\n";

const CONFIG_MAP_IMPORTER: &str = "import os\n\nfrom flask import Flask\n\nfrom .config import config\n\napp = Flask(__name__)\napp.config.from_object(config[os.getenv(\"SVC_CONFIG\", \"default\")])\n";

#[test]
fn a_config_mapping_imported_by_another_module_loads_its_classes_and_edits_republish() {
    let mut w = Workspace::indexed(&[
        ("svc/__init__.py", CONFIG_MAP_IMPORTER),
        ("svc/config.py", CONFIG_MAP_CLASSES),
    ]);
    let p = w.open("svc/config.py");
    // `from_object(config[…])` in `__init__.py` indexes config.py's mapping.
    let init = w.uri("svc/__init__.py");
    leads_to(
        &p,
        ("KL301", 5),
        &init,
        None,
        "the loader's from_object call",
    );
    // The loader stops indexing the mapping: config.py is republished without KL301.
    let other = CONFIG_MAP_IMPORTER
        .replace("from .config import config", "from .config import Config")
        .replace("config[os.getenv(\"SVC_CONFIG\", \"default\")]", "Config");
    w.change("svc/__init__.py", &other);
    w.wait("svc/config.py", |p| !has_code(p, "KL301"));
    w.shut_down();
}

#[test]
fn a_pynamodb_model_reached_through_its_module_is_known_to_the_routes_and_its_edits_republish() {
    // `from . import models`, then `models.UserModel…`: as `from .models import UserModel`.
    let routes_text = MODEL_ROUTES
        .replace("from .models import UserModel", "from . import models")
        .replace("UserModel.scan()", "models.UserModel.scan()")
        .replace("UserModel(id=", "models.UserModel(id=");
    let (_dir, root, mut c) = indexed(&[
        ("svc/__init__.py", ""),
        ("svc/routes.py", &routes_text),
        ("svc/models.py", MODELS),
    ]);
    let routes = file_uri(&root.join("svc/routes.py"));
    let models = file_uri(&root.join("svc/models.py"));
    c.did_open(&routes, 1, &routes_text);
    let p = c.diagnostics_for_version(&routes, 1);
    let found = codes(&p);
    assert!(found.contains(&("KL304".into(), 9)), "{p}");
    assert!(found.contains(&("KL203".into(), 10)), "{p}");
    assert!(found.contains(&("KL201".into(), 15)), "{p}");
    // No longer a PynamoDB model: the route module is republished without its findings.
    c.did_open(&models, 1, MODELS);
    c.did_change_full(&models, 2, &MODELS.replace("(Model)", "(object)"));
    c.wait_diagnostics(&routes, |p| {
        !codes(p)
            .iter()
            .any(|(c, _)| c == "KL203" || c == "KL201" || c == "KL304")
    });
    // A model again: back.
    c.did_change_full(&models, 3, MODELS);
    c.wait_diagnostics(&routes, |p| {
        let found = codes(p);
        found.contains(&("KL203".into(), 10)) && found.contains(&("KL201".into(), 15))
    });
    assert!(c.shutdown_and_exit().success());
}

/// The key enters in a route module the pre-filter keeps.
const LAZY_ROUTES: &str = "from fastapi import FastAPI, Header\n\nfrom .relay import forward\n\napp = FastAPI()\n\n\n@app.post(\"/k\")\ndef k(x_api_key: str = Header(min_length=32)):\n    forward(x_api_key)\n    return {\"ok\": True}\n";
/// Two modules the pre-filter skips, that pass it on.
const LAZY_RELAY: &str =
    "from .relay2 import pass_on\n\n\ndef forward(value):\n    pass_on(value)\n";
const LAZY_RELAY2: &str =
    "from .helper import record\n\n\ndef pass_on(value):\n    record(value)\n";
/// Where it leaks (logged), open in the editor.
const LAZY_HELPER: &str =
    "import logging\n\nlog = logging.getLogger(\"x\")\n\n\ndef record(v):\n    log.info(\"got %s\", v)\n";
/// A module nothing leads to.
const LAZY_UNRELATED: &str = "def double(n):\n    return n * 2\n";

#[test]
fn a_key_through_two_modules_the_pre_filter_skips_reaches_the_open_helper() {
    let pf = Prefilter::new(&[]);
    assert!(pf.keep(LAZY_ROUTES.as_bytes()));
    for skipped in [LAZY_RELAY, LAZY_RELAY2, LAZY_HELPER, LAZY_UNRELATED] {
        assert!(!pf.keep(skipped.as_bytes()), "{skipped}");
    }
    let (_dir, root, mut c, message) = indexed_saying(&[
        ("svc/__init__.py", ""),
        ("svc/routes.py", LAZY_ROUTES),
        ("svc/relay.py", LAZY_RELAY),
        ("svc/relay2.py", LAZY_RELAY2),
        ("svc/helper.py", LAZY_HELPER),
        ("svc/unrelated.py", LAZY_UNRELATED),
    ]);
    // The route module, then the two relays and the helper its calls lead to, and the package's
    // `__init__` (resolving `.relay.forward` before `relay.py` had a summary looked into it for
    // a re-export); not the unrelated module.
    assert!(
        message.contains("6 Python files indexed (5 summarised"),
        "{message}"
    );
    let helper = file_uri(&root.join("svc/helper.py"));
    c.did_open(&helper, 1, LAZY_HELPER);
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
const LAZY_APP: &str = "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get(\"/all\")\ndef all_items():\n    return []\n";
/// The same, returning what a module the pre-filter skips returns.
const LAZY_APP_CALLING: &str = "from fastapi import FastAPI\n\nfrom .listing import items\n\napp = FastAPI()\n\n\n@app.get(\"/all\")\ndef all_items():\n    return items()\n";
/// Skipped by the pre-filter, and nothing leads to it at start-up.
const LAZY_LISTING: &str = "from .store import load\n\n\ndef items():\n    return load()\n";
/// Kept by the pre-filter: a DynamoDB scan.
const LAZY_STORE: &str = "import boto3\n\nt = boto3.resource(\"dynamodb\").Table(\"t\")\n\n\ndef load():\n    return t.scan()[\"Items\"]\n";

#[test]
fn an_open_document_that_starts_calling_a_module_not_summarised_gets_it_summarised() {
    let pf = Prefilter::new(&[]);
    assert!(!pf.keep(LAZY_LISTING.as_bytes()));
    assert!(pf.keep(LAZY_STORE.as_bytes()));
    let (_dir, root, mut c, message) = indexed_saying(&[
        ("svc/__init__.py", ""),
        ("svc/app.py", LAZY_APP),
        ("svc/listing.py", LAZY_LISTING),
        ("svc/store.py", LAZY_STORE),
    ]);
    // The store only: the app (no key, no sink) is skipped and nothing leads to the listing.
    assert!(
        message.contains("4 Python files indexed (1 summarised"),
        "{message}"
    );
    let app = file_uri(&root.join("svc/app.py"));
    c.did_open(&app, 1, LAZY_APP);
    let p = c.diagnostics_for_version(&app, 1);
    assert!(!has_code(&p, "KL203"), "{p}");
    // The route now returns the scanned items through the listing: once the listing is
    // summarised (on demand, off the keystroke), the route module is published again with them.
    c.did_change_full(&app, 2, LAZY_APP_CALLING);
    let p = c.wait_diagnostics(&app, |p| p["version"] == 2 && has_code(p, "KL203"));
    let d = p["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "KL203")
        .unwrap();
    assert_eq!(d["range"]["start"]["line"], 9, "{d}");
    // Back to returning nothing: the finding goes.
    c.did_change_full(&app, 3, LAZY_APP);
    c.wait_diagnostics(&app, |p| p["version"] == 3 && !has_code(p, "KL203"));
    assert!(c.shutdown_and_exit().success());
}
