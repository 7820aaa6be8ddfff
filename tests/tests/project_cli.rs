//! `keylint check` on a project split into modules: the project model follows a key from a route
//! of one module to the helper of another that leaks it, reports it there with the path back
//! across files (text, JSON, SARIF), and keeps a helper module the pre-filter alone would skip.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_keylint-dev");

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn check(dir: &Path, args: &[&str]) -> (i32, String, String) {
    check_stdin(dir, args, None)
}

/// `keylint check --no-progress ARGS` in `dir`, with `input` on its stdin when given: exit code,
/// stdout, stderr.
fn check_stdin(dir: &Path, args: &[&str], input: Option<&[u8]>) -> (i32, String, String) {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(BIN)
        .args(["check", "--no-progress"])
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = input {
        // A run refused before it reads stdin closes it first.
        if let Err(e) = child.stdin.take().unwrap().write_all(input) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (rel, text) in files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// `keylint check --output-format json` of the fixture project `dir` (under
/// `fixtures/projects/`), which has findings (exit code 1): its findings, and the output for
/// messages.
fn fixture_findings(dir: &str) -> (Vec<Value>, String) {
    let root = repo_root().join("fixtures/projects");
    let (code, out, err) = check(&root, &["--output-format", "json", dir]);
    assert_eq!(code, 1, "{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    (json.as_array().unwrap().clone(), out)
}

/// The finding `code` at `file:line`, if any.
fn finding_at<'a>(findings: &'a [Value], code: &str, file: &str, line: u64) -> Option<&'a Value> {
    findings
        .iter()
        .find(|f| f["code"] == code && f["file"] == file && f["line"] == line)
}

/// `f`'s path leads back through `file` only, its last step the call at `line` of a method
/// named `method`.
fn assert_called_from(f: &Value, file: &str, line: u64, method: &str) {
    let related = f["related"].as_array().unwrap();
    assert!(related.iter().all(|r| r["file"] == file), "{f}");
    let last = related.last().unwrap();
    assert_eq!(last["line"], line, "{f}");
    assert!(last["message"].as_str().unwrap().contains(method), "{f}");
}

#[test]
fn a_key_from_a_route_is_reported_in_the_helper_with_its_path_across_files() {
    let root = repo_root().join("fixtures/projects");
    let (findings, out) = fixture_findings("fastapi_dynamo");
    let persisted = (findings.iter())
        .find(|f| f["code"] == "KL201" && f["file"] == "fastapi_dynamo/store.py")
        .unwrap_or_else(|| panic!("no KL201 in store.py: {out}"));
    let related = persisted["related"].as_array().unwrap();
    assert_eq!(related[0]["file"], "fastapi_dynamo/main.py", "{related:?}");
    assert_eq!(
        related[0]["line"], 15,
        "where the header enters: {related:?}"
    );
    assert!(related[0]["message"]
        .as_str()
        .unwrap()
        .contains("enters here"));
    assert_eq!(related[1]["file"], "fastapi_dynamo/main.py");
    assert_eq!(
        related[1]["line"], 16,
        "the call to save_client: {related:?}"
    );

    // SARIF: the related locations point at main.py.
    let (_, out, _) = check(&root, &["--output-format", "sarif", "fastapi_dynamo"]);
    let sarif: Value = serde_json::from_str(&out).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let r = results
        .iter()
        .find(|r| {
            r["ruleId"] == "KL201"
                && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    == "fastapi_dynamo/store.py"
        })
        .unwrap();
    assert_eq!(
        r["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "fastapi_dynamo/main.py"
    );

    // Text: the path names the other file.
    let (_, out, _) = check(&root, &["fastapi_dynamo"]);
    assert!(
        out.contains("= path: fastapi_dynamo/main.py:15:30: API key enters here"),
        "{out}"
    );
}

#[test]
fn a_single_file_and_stdin_are_still_checked_alone() {
    let root = repo_root().join("fixtures/projects/fastapi_dynamo");
    // store.py alone: nothing in it is key material by itself.
    let (code, out, err) = check(&root, &["--output-format", "json", "store.py"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out.trim(), "[]");
    // main.py read from stdin, under its own name: only what it holds alone, not the scan and
    // the log that the project (store.py, deps.py) makes findings of.
    let main = std::fs::read(root.join("main.py")).unwrap();
    let (code, out, err) = check_stdin(
        &root,
        &[
            "--output-format",
            "json",
            "--stdin-filename",
            "main.py",
            "-",
        ],
        Some(&main),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(out.trim(), "[]", "{err}");
    let (_, in_project, _) = check(&root, &["--output-format", "json", "."]);
    let in_project: Value = serde_json::from_str(&in_project).unwrap();
    assert!(
        in_project
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["file"] == "main.py" && f["line"] == 25),
        "{in_project}"
    );
    // A text with a finding of its own is reported from stdin, under `-` or the name given,
    // without the key in the output.
    let text = b"API_KEY = \"sk_live_4eC39HqLyjWDarjtT1zdp7dc\"\n";
    for (args, name) in [
        (&["--output-format", "json", "-"][..], "-"),
        (
            &[
                "--output-format",
                "json",
                "--stdin-filename",
                "app/cfg.py",
                "-",
            ][..],
            "app/cfg.py",
        ),
    ] {
        let (code, out, err) = check_stdin(&root, args, Some(text));
        assert_eq!(code, 1, "{out}{err}");
        let json: Value = serde_json::from_str(&out).unwrap();
        let findings = json.as_array().unwrap();
        assert_eq!(findings.len(), 1, "{json}");
        assert_eq!(findings[0]["file"], name);
        assert_eq!(findings[0]["code"], "KL101");
        assert!(!out.contains("4eC39HqLyjWDarjtT1zdp7dc"), "{out}");
    }
    // `-` is alone; `--fix` cannot write stdin back; `--stdin-filename` needs `-`.
    for args in [
        &["-", "store.py"][..],
        &["--fix", "-"][..],
        &["--stdin-filename", "main.py", "store.py"][..],
    ] {
        let (code, _, err) = check_stdin(&root, args, Some(text));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.starts_with("keylint: "), "{err}");
    }
}

#[test]
fn a_helper_module_the_prefilter_would_skip_is_checked_when_a_route_feeds_it() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("svc/__init__.py", ""),
            (
                "svc/routes.py",
                "from fastapi import FastAPI, Header\n\nfrom .sink import keep\n\napp = FastAPI()\n\n\n@app.post(\"/k\")\ndef k(x_api_key: str = Header(min_length=32)):\n    keep(x_api_key)\n",
            ),
            // No source, no key-like name: the pre-filter alone skips it.
            (
                "svc/sink.py",
                "import logging\n\nlog = logging.getLogger(\"x\")\n\n\ndef keep(v):\n    log.info(\"got %s\", v)\n",
            ),
        ],
    );
    let (code, out, err) = check(dir.path(), &["svc/sink.py"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("1 skipped") || out.contains("1 skipped"),
        "{out}{err}"
    );
    let (code, out, err) = check(dir.path(), &["--output-format", "json", "svc"]);
    assert_eq!(code, 1, "{out}{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    let f = json
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"] == "svc/sink.py")
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(f["code"], "KL202");
    assert_eq!(f["related"][0]["file"], "svc/routes.py");
}

/// A file kept by a one-line shape only (KL102: a secret read from the environment, no check)
/// still gets its local data flow when it calls a function of the project: its key reaches a
/// log call in another module (KL202 there). Skipping that file's flows because its own rules
/// read none (all the pre-filter allows for it) would lose the finding; the fixtures did not
/// catch that (checked by dropping the guard: fixtures, django and fastapi unchanged).
#[test]
fn a_file_kept_for_a_line_shape_still_carries_its_key_into_the_project() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("app/__init__.py", ""),
            (
                "app/helpers.py",
                "import logging\n\nlogger = logging.getLogger(__name__)\n\n\ndef announce(value):\n    logger.info(\"using %s\", value)\n",
            ),
            (
                "app/job.py",
                "import os\n\nfrom app.helpers import announce\n\n\ndef main():\n    api_key = os.environ.get(\"API_KEY\")\n    announce(api_key)\n",
            ),
        ],
    );
    let (code, out, err) = check(dir.path(), &["--output-format", "json", "app"]);
    assert_eq!(code, 1, "{out}{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    let found = json.as_array().unwrap();
    let logged = found
        .iter()
        .find(|f| f["code"] == "KL202")
        .unwrap_or_else(|| panic!("no KL202: {out}"));
    assert_eq!(logged["file"], "app/helpers.py", "{logged}");
    assert_eq!(logged["line"], 7, "{logged}");
    assert_eq!(logged["related"][0]["file"], "app/job.py", "{logged}");
    // The file alone is kept for its one-line shape, and reports it.
    assert!(
        found
            .iter()
            .any(|f| f["code"] == "KL102" && f["file"] == "app/job.py"),
        "{out}"
    );
}

/// A kept file where no rule reading the data flow may report alone (kept for its secret only)
/// gets its view, and an analysis again with every rule, only when the view brings it something
/// its findings could read: key material given to one of its functions by a caller of another
/// module (the near miss: `audit.py`, kept for a token format, logs what `job.py` passes it),
/// not a path through another file by itself (`test_audit.py` passes `record` a literal). Both
/// keep their KL101 findings with their fixes, and `check --no-prefilter` finds the same.
#[test]
fn a_file_kept_for_its_secret_alone_is_analysed_again_only_when_its_view_brings_it_a_key() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("app/__init__.py", ""),
            (
                "app/audit.py",
                "import logging\n\nlogger = logging.getLogger(__name__)\n\nSAMPLE = \"AKIAIOSFODNN7EXAMPLF\"\n\n\ndef record(value):\n    logger.info(\"recorded %s\", value)\n",
            ),
            (
                "app/job.py",
                "import os\n\nfrom app.audit import record\n\n\ndef main():\n    api_key = os.environ.get(\"API_KEY\")\n    record(api_key)\n",
            ),
            (
                "app/test_audit.py",
                "from app.audit import record\n\n\ndef test_record():\n    password = \"correct-horse-battery-staple\"\n    record(\"started\")\n    assert password\n",
            ),
        ],
    );
    // (code, file, line, has a fix, related (file, line)), sorted.
    type Found = (String, String, u64, bool, Vec<(String, u64)>);
    let summary = |out: &str| -> Vec<Found> {
        let json: Value = serde_json::from_str(out).unwrap();
        let mut found: Vec<_> = json
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let related = f["related"]
                    .as_array()
                    .map(|r| {
                        r.iter()
                            .map(|r| {
                                (
                                    r["file"].as_str().unwrap().to_string(),
                                    r["line"].as_u64().unwrap(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                (
                    f["code"].as_str().unwrap().to_string(),
                    f["file"].as_str().unwrap().to_string(),
                    f["line"].as_u64().unwrap(),
                    !f["fix"].is_null(),
                    related,
                )
            })
            .collect();
        found.sort();
        found
    };
    let output = Command::new(BIN)
        .args(["check", "--no-progress", "--output-format", "json", "app"])
        .current_dir(dir.path())
        .env("KEYLINT_PROJECT_STATS", "files")
        .output()
        .unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert_eq!(output.status.code(), Some(1), "{out}{err}");
    let job = |line: u64| ("app/job.py".to_string(), line);
    assert_eq!(
        summary(&out),
        [
            ("KL101".into(), "app/audit.py".into(), 5, true, vec![]),
            ("KL101".into(), "app/test_audit.py".into(), 5, true, vec![]),
            ("KL102".into(), "app/job.py".into(), 7, true, vec![]),
            (
                "KL202".into(),
                "app/audit.py".into(),
                9,
                true,
                vec![job(7), job(8)]
            ),
        ],
        "{out}"
    );
    let line_of = |file: &str| {
        err.lines()
            .find(|l| l.ends_with(file) && !l.contains("summarised only"))
            .unwrap_or_else(|| panic!("no stats line for {file}: {err}"))
            .to_string()
    };
    assert!(line_of("app/audit.py").contains("(linked"), "{err}");
    assert!(!line_of("app/test_audit.py").contains("(linked"), "{err}");
    let (_, all, err) = check(
        dir.path(),
        &["--no-prefilter", "--output-format", "json", "app"],
    );
    assert_eq!(summary(&all), summary(&out), "{all}{err}");
}

/// A project's files: (path, text).
type Files = Vec<(&'static str, String)>;

/// More edges of the same guard: the key of a file kept for a one-line shape (KL102) reaches a
/// log call of another module through a chain of two functions, through a method of a class
/// imported from another module, and through a function the package's `__init__` re-exports.
/// A skip of that file's flows (tried: a verdict read from its text and the callees' summaries
/// gave every such django file its flows back, so it did not pay) must keep each of them.
#[test]
fn a_line_shape_file_carries_its_key_through_chains_methods_and_re_exports() {
    let job = |import: &str, call: &str| {
        format!(
            "import os\n\n{import}\n\n\ndef main():\n    api_key = os.environ.get(\"API_KEY\")\n{call}"
        )
    };
    let log = "import logging\n\nlogger = logging.getLogger(__name__)\n\n\n";
    // (case, files, file and line of the log call)
    type Case = (&'static str, Files, &'static str, u64);
    let cases: Vec<Case> = vec![
        (
            "a chain of two functions",
            vec![
                ("app/__init__.py", String::new()),
                (
                    "app/helpers.py",
                    format!(
                        "{log}def announce(value):\n    _record(value)\n\n\ndef _record(value):\n    logger.info(\"recorded %s\", value)\n"
                    ),
                ),
                ("app/job.py", job("from app.helpers import announce", "    announce(api_key)\n")),
            ],
            "app/helpers.py",
            11,
        ),
        (
            "a method of a class of another module",
            vec![
                ("app/__init__.py", String::new()),
                (
                    "app/store.py",
                    format!(
                        "{log}class Store:\n    def save(self, value):\n        logger.info(\"saving %s\", value)\n"
                    ),
                ),
                (
                    "app/job.py",
                    job("from app.store import Store", "    store = Store()\n    store.save(api_key)\n"),
                ),
            ],
            "app/store.py",
            8,
        ),
        (
            "a re-export in __init__",
            vec![
                ("app/__init__.py", "from .helpers import announce\n".to_string()),
                (
                    "app/helpers.py",
                    format!("{log}def announce(value):\n    logger.info(\"using %s\", value)\n"),
                ),
                ("app/job.py", job("from app import announce", "    announce(api_key)\n")),
            ],
            "app/helpers.py",
            7,
        ),
    ];
    for (case, files, sink_file, sink_line) in cases {
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        write(dir.path(), &files);
        let (code, out, err) = check(dir.path(), &["--output-format", "json", "app"]);
        assert_eq!(code, 1, "{case}: {out}{err}");
        let json: Value = serde_json::from_str(&out).unwrap();
        let found = json.as_array().unwrap();
        let logged = found
            .iter()
            .find(|f| f["code"] == "KL202")
            .unwrap_or_else(|| panic!("{case}: no KL202: {out}"));
        assert_eq!(logged["file"], sink_file, "{case}: {logged}");
        assert_eq!(logged["line"], sink_line, "{case}: {logged}");
        assert_eq!(
            logged["related"][0]["file"], "app/job.py",
            "{case}: {logged}"
        );
        assert!(
            found
                .iter()
                .any(|f| f["code"] == "KL102" && f["file"] == "app/job.py" && f["line"] == 7),
            "{case}: {out}"
        );
    }
}

#[test]
fn a_key_given_by_a_dependency_of_another_module_is_followed_into_the_route() {
    let (findings, out) = fixture_findings("fastapi_layers");
    let found = |code: &str, line: u64| {
        finding_at(&findings, code, "fastapi_layers/main.py", line)
            .unwrap_or_else(|| panic!("no {code} at main.py:{line}: {out}"))
    };
    // `Depends(get_api_key)`, `Depends(deps.get_api_key)`: the header of deps.py.
    for line in [19, 30] {
        let f = found("KL202", line);
        assert_eq!(f["related"][0]["file"], "fastapi_layers/deps.py", "{f}");
        assert_eq!(f["related"][0]["line"], 10, "the header parameter: {f}");
        assert!(
            f["related"][1]["message"]
                .as_str()
                .unwrap()
                .contains("returned by `deps.get_api_key`"),
            "{f}"
        );
    }
    // `Annotated[str, Security(get_scheme_key)]`: what the dependency yields.
    let f = found("KL203", 25);
    assert_eq!(f["related"][0]["file"], "fastapi_layers/deps.py", "{f}");
    // A dependency that gives no key: nothing.
    assert!(!findings.iter().any(|f| f["line"] == 36), "{out}");
}

#[test]
fn methods_of_another_module_s_class_resolve_to_its_summaries() {
    let (all, out) = fixture_findings("fastapi_layers");
    let at = |file: &str, line: u64, code: &str| {
        finding_at(&all, code, &format!("fastapi_layers/{file}"), line)
            .unwrap_or_else(|| panic!("no {code} at {file}:{line}: {out}"))
    };
    // `repo = KeyRepository()` at module level, `repo.save(client_id, key)`: KL201 in the
    // repository, with the path back through main.py to the dependency of deps.py.
    let f = at("repository.py", 15, "KL201");
    let files: Vec<&str> = f["related"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "fastapi_layers/deps.py",
            "fastapi_layers/main.py",
            "fastapi_layers/main.py"
        ],
        "{f}"
    );
    assert!(
        f["related"][2]["message"]
            .as_str()
            .unwrap()
            .contains("KeyRepository.save"),
        "{f}"
    );
    // `store: KeyRepository = Depends(get_repo)`: the header of the route logged by the method.
    let f = at("repository.py", 18, "KL202");
    assert_eq!(f["related"][0]["file"], "fastapi_layers/main.py", "{f}");
    // `Annotated[KeyRepository, Depends(get_repo)]` and `repository.KeyRepository(...)`: the
    // scan behind `list_all` returned by the route.
    for line in [59, 65] {
        let f = at("main.py", line, "KL203");
        assert_eq!(
            f["related"][0]["file"], "fastapi_layers/repository.py",
            "{f}"
        );
        at("main.py", line, "KL304");
    }
    // A method that only measures the key: nothing.
    assert!(
        !all.iter()
            .any(|f| f["file"] == "fastapi_layers/repository.py" && f["line"] == 21),
        "{out}"
    );
}

#[test]
fn a_module_level_key_imported_from_another_module_is_followed() {
    let (all, out) = fixture_findings("fastapi_layers");
    // `from .settings import SERVICE_API_KEY`: logged and returned in main.py, with the place
    // it is read from the environment in settings.py; `TABLE_NAME` is no key.
    for (line, code) in [(70, "KL202"), (76, "KL203")] {
        let f = all
            .iter()
            .find(|f| f["file"] == "fastapi_layers/main.py" && f["line"] == line)
            .unwrap_or_else(|| panic!("nothing at main.py:{line}: {out}"));
        assert_eq!(f["code"], code, "{f}");
        assert_eq!(f["related"][0]["file"], "fastapi_layers/settings.py", "{f}");
        assert_eq!(f["related"][0]["line"], 4, "{f}");
        assert!(
            f["message"].as_str().unwrap().contains("SERVICE_API_KEY"),
            "{f}"
        );
    }
    assert!(
        !all.iter()
            .any(|f| f["file"] == "fastapi_layers/main.py" && f["line"] == 71),
        "{out}"
    );
}

#[test]
fn pynamodb_models_of_another_module_are_known_to_the_routes_that_import_them() {
    let (all, out) = fixture_findings("pynamo_models");
    let at = |line: u64, code: &str| {
        finding_at(&all, code, "pynamo_models/routes.py", line)
            .unwrap_or_else(|| panic!("no {code} at routes.py:{line}: {out}"))
    };
    // `UserModel.scan()` of models.py returned whole: its `access_token` goes to the client.
    let f = at(14, "KL203");
    assert!(
        f["message"].as_str().unwrap().contains("access_token"),
        "{f}"
    );
    assert_eq!(f["related"][0]["line"], 12, "the scan: {f}");
    // `UserModel(access_token=key).save()`, and the `api_key` a model inherits from base.py.
    at(19, "KL201");
    at(26, "KL201");
    let f = at(32, "KL203");
    assert!(f["message"].as_str().unwrap().contains("api_key"), "{f}");
    // `from .db import accounts`, a table made in db.py: its scan, returned.
    at(38, "KL203");
    at(38, "KL304");
    // The modules of the models and of the table have no finding.
    assert!(
        !all.iter().any(|f| f["file"] != "pynamo_models/routes.py"),
        "{out}"
    );
}

#[test]
fn a_pynamodb_model_imported_by_its_absolute_path_with_an_aliased_base_is_known() {
    // `from app.models import Account`, a model whose base is `m.Model` (`from pynamodb import
    // models as m`); `models.py` is kept by the pre-filter for its `pynamodb` import.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("app/__init__.py", ""),
            (
                "app/models.py",
                "from pynamodb import models as m\nfrom pynamodb import attributes as a\n\n\nclass Account(m.Model):\n    token = a.UnicodeAttribute()\n",
            ),
            (
                "app/routes.py",
                "from fastapi import FastAPI\n\nfrom app.models import Account\n\napp = FastAPI()\n\n\n@app.get(\"/accounts\")\ndef accounts():\n    return list(Account.scan())\n",
            ),
        ],
    );
    let (_, out, err) = check(dir.path(), &["--output-format", "json", "app"]);
    let json: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    assert!(
        json.as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "KL203" && f["file"] == "app/routes.py" && f["line"] == 10),
        "{out}"
    );
}

#[test]
fn a_key_of_another_module_read_through_the_module_is_followed() {
    let (all, out) = fixture_findings("module_attr");
    // `settings.SERVICE_API_KEY` after `from . import settings`, and `conf.SERVICE_API_KEY`
    // after `import module_attr.settings as conf`: the place settings.py reads it.
    for (file, line, code) in [
        ("main.py", 14, "KL202"),
        ("main.py", 20, "KL203"),
        ("admin.py", 14, "KL202"),
    ] {
        let f = all
            .iter()
            .find(|f| f["file"] == format!("module_attr/{file}") && f["line"] == line)
            .unwrap_or_else(|| panic!("nothing at {file}:{line}: {out}"));
        assert_eq!(f["code"], code, "{f}");
        assert_eq!(f["related"][0]["file"], "module_attr/settings.py", "{f}");
        assert_eq!(f["related"][0]["line"], 3, "{f}");
    }
    // `settings.TABLE_NAME` is no key.
    assert!(
        !all.iter()
            .any(|f| f["file"] == "module_attr/main.py" && f["line"] == 15),
        "{out}"
    );
}

#[test]
fn an_instance_given_by_a_factory_of_another_module_resolves_to_its_class() {
    let (findings, out) = fixture_findings("factories");
    // `repo = get_repo()` (15, 16), `store=Depends(get_audit)` (23), `store: Any =
    // Depends(deps.get_repo)` (33): the method of the class the factory of deps.py returns.
    for (code, line, call, method) in [
        ("KL201", 15, 16, "KeyRepository.save"),
        ("KL202", 29, 23, "AuditRepository.record"),
        ("KL202", 18, 33, "KeyRepository.rotate"),
    ] {
        let f = finding_at(&findings, code, "factories/repository.py", line)
            .unwrap_or_else(|| panic!("no {code} at repository.py:{line}: {out}"));
        assert_called_from(f, "factories/main.py", call, method);
    }
    // `describe` only measures the key; nothing in main.py or deps.py.
    assert_eq!(findings.len(), 3, "{out}");
}

#[test]
fn a_method_inherited_from_a_class_of_another_module_resolves_to_the_base() {
    let (findings, out) = fixture_findings("inherited");
    let at = |code: &str, line: u64| {
        finding_at(&findings, code, "inherited/base.py", line)
            .unwrap_or_else(|| panic!("no {code} at base.py:{line}: {out}"))
    };
    // `repo.save(...)` (module instance, main.py:14) and `store.save(...)` (a factory's, 21):
    // `KeyRepository` inherits `save` from `base.BaseRepository`.
    let f = at("KL201", 14);
    let related = f["related"].as_array().unwrap();
    assert!(
        related.iter().all(|r| r["file"] == "inherited/main.py"),
        "{f}"
    );
    assert!(
        related.iter().any(|r| r["message"]
            .as_str()
            .unwrap()
            .contains("BaseRepository.save")),
        "{f}"
    );
    // `trace` is overridden by `KeyRepository` (which logs only the key's length): only the
    // base's own instance (main.py:28) reaches the base's `trace`.
    let f = at("KL202", 17);
    let calls: Vec<&Value> = f["related"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["message"].as_str().unwrap().contains("passed to"))
        .collect();
    assert!(calls.iter().all(|r| r["line"] == 28), "{f}");
    assert_eq!(findings.len(), 2, "{out}");
}

#[test]
fn a_config_class_of_another_module_loaded_by_from_object_is_what_the_app_runs_with() {
    let (findings, out) = fixture_findings("flask_config");
    let at = |code: &str, line: u64| finding_at(&findings, code, "flask_config/config.py", line);
    // `DevelopmentConfig` (a string path in `__init__.py`) and `DevServerConfig` (imported by
    // `factory.py`): loaded, so their `DEBUG = True` is reported despite their names.
    for line in [12, 17] {
        let f = at("KL301", line).unwrap_or_else(|| panic!("no KL301 at config.py:{line}: {out}"));
        assert!(
            f["message"]
                .as_str()
                .unwrap()
                .contains("config.from_object"),
            "{f}"
        );
    }
    // The loaded class's secret is no development hint.
    assert_eq!(
        at("KL101", 18).expect("KL101 at 18")["severity"],
        "error",
        "{out}"
    );
    // `LocalConfig` (loaded only in a development branch and by the tests' conftest),
    // `TestingConfig` (`TESTING = True`) and `DebugToolbarConfig` (loaded by nobody): not reported.
    for line in [23, 28, 33] {
        assert!(
            at("KL301", line).is_none(),
            "KL301 at config.py:{line}: {out}"
        );
    }
    assert_eq!(
        at("KL101", 24).expect("KL101 at 24")["severity"],
        "hint",
        "{out}"
    );
}

#[test]
fn a_config_module_the_prefilter_would_skip_is_checked_when_another_module_loads_its_class() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("app/__init__.py", "from flask import Flask\n\nfrom . import settings\n\napp = Flask(__name__)\napp.config.from_object(settings.DevConfig)\n"),
            ("app/settings.py", "class DevConfig:\n    DEBUG = True\n"),
        ],
    );
    let (code, out, err) = check(dir.path(), &["--output-format", "json", "app"]);
    assert_eq!(code, 1, "{out}{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    let findings = json.as_array().unwrap();
    assert_eq!(findings.len(), 1, "{out}");
    assert_eq!(findings[0]["code"], "KL301", "{out}");
    assert_eq!(findings[0]["file"], "app/settings.py", "{out}");
    assert_eq!(findings[0]["line"], 2, "{out}");
}

#[test]
fn a_field_of_a_settings_instance_of_another_module_is_followed() {
    let (findings, out) = fixture_findings("settings_instance");
    // `settings.api_key` after `from .config import settings` (`settings = Settings()` there):
    // logged, returned, stored raw, each with the place config.py makes the settings.
    for (code, line) in [("KL202", 17), ("KL203", 23), ("KL201", 28)] {
        let f = finding_at(&findings, code, "settings_instance/main.py", line)
            .unwrap_or_else(|| panic!("no {code} at main.py:{line}: {out}"));
        let related = f["related"].as_array().unwrap();
        assert!(
            related
                .iter()
                .any(|r| r["file"] == "settings_instance/config.py" && r["line"] == 15),
            "{f}"
        );
    }
    // The masked `vault.vault_token` is not reported; the field `table_name` holds no key.
    assert!(
        !findings
            .iter()
            .any(|f| f["line"] == 18 || f["line"] == 40 || f["line"] == 41),
        "{out}"
    );
}

#[test]
fn a_module_level_instance_handed_out_by_a_factory_of_another_module_is_followed() {
    let (findings, out) = fixture_findings("module_instance");
    // `store=Depends(get_repo)` (main.py:10, `return repo`, imported by deps.py from
    // repository.py) and `log = get_audit()` (17, `return audit_log`, made in deps.py).
    for (code, line, call, method) in [
        ("KL201", 15, 11, "KeyRepository.save"),
        ("KL202", 23, 19, "AuditLog.record"),
    ] {
        let f = finding_at(&findings, code, "module_instance/repository.py", line)
            .unwrap_or_else(|| panic!("no {code} at repository.py:{line}: {out}"));
        assert_called_from(f, "module_instance/main.py", call, method);
    }
    // `describe` only measures the key.
    assert_eq!(findings.len(), 2, "{out}");
}

#[test]
fn a_secret_minted_by_a_factory_of_another_module_and_returned_on_creation_is_not_reported() {
    let (findings, out) = fixture_findings("minted_client");
    // `create_oauth2_client` of client.py mints the secret (`gen_salt(48)`): the creation
    // response (routes.py:13) hands it to its owner once.
    assert!(
        !findings
            .iter()
            .any(|f| f["file"] == "minted_client/routes.py" && f["line"] == 13),
        "{out}"
    );
    // A client rebuilt by `load_client` (no secret minted) and returned with its secret: still
    // KL203, with the place in models.py.
    let f = finding_at(&findings, "KL203", "minted_client/routes.py", 19)
        .unwrap_or_else(|| panic!("no KL203 at routes.py:19: {out}"));
    assert!(
        f["related"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["file"] == "minted_client/models.py"),
        "{f}"
    );
    assert_eq!(findings.len(), 1, "{out}");
}

/// `keylint check --output-format json svc` in `dir` with `KEYLINT_PROJECT_STATS=files`: the
/// findings, and the modules summarised only (from the stats on stderr).
fn check_summaries(dir: &Path) -> (Vec<Value>, Vec<String>, String) {
    let out = Command::new(BIN)
        .args(["check", "--no-progress", "--output-format", "json", "svc"])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("KEYLINT_PROJECT_STATS", "files")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json: Value = serde_json::from_str(&stdout).unwrap();
    let summarised: Vec<String> = stderr
        .lines()
        .filter(|l| l.contains(" summarised only "))
        .filter_map(|l| l.split_whitespace().last().map(str::to_string))
        .collect();
    (
        json.as_array().unwrap().clone(),
        summarised,
        format!("{stdout}{stderr}"),
    )
}

/// A module the pre-filter keeps (`svc/jobs.py`, an environment key) and the helpers it imports.
const JOBS_HELPERS: &[(&str, &str)] = &[
    ("svc/__init__.py", ""),
    (
        "svc/util.py",
        "import logging\n\nlog = logging.getLogger(\"x\")\n\n\ndef ping():\n    log.info(\"ping\")\n\n\ndef fetch(v):\n    log.info(\"fetched %s\", v)\n    return v\n",
    ),
    ("svc/models.py", "class Article:\n    objects = None\n"),
];

#[test]
fn a_call_that_passes_nothing_and_whose_result_reaches_no_sink_needs_no_summary_of_its_callee() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), JOBS_HELPERS);
    // `ping()` passes nothing and its result is not read; `Article.objects.create` is no
    // function of models.py, whatever it holds.
    write(
        dir.path(),
        &[(
            "svc/jobs.py",
            "import os\n\nfrom .models import Article\nfrom .util import ping\n\n\ndef run():\n    ping()\n    Article.objects.create(key=os.environ[\"PAYMENT_API_KEY\"])\n",
        )],
    );
    let (findings, summarised, out) = check_summaries(dir.path());
    assert!(summarised.is_empty(), "{out}");
    assert!(findings.iter().all(|f| f["file"] == "svc/jobs.py"), "{out}");
    // Passed the key, util.py is summarised and its log call found.
    write(
        dir.path(),
        &[(
            "svc/jobs.py",
            "import os\n\nfrom .util import fetch, ping\n\n\ndef run():\n    ping()\n    fetch(os.environ[\"PAYMENT_API_KEY\"])\n",
        )],
    );
    let (findings, summarised, out) = check_summaries(dir.path());
    assert_eq!(summarised, ["svc/util.py"], "{out}");
    let f = finding_at(&findings, "KL202", "svc/util.py", 11)
        .unwrap_or_else(|| panic!("no KL202 at util.py:11: {out}"));
    assert_eq!(f["related"][0]["file"], "svc/jobs.py", "{f}");
}

#[test]
fn a_kept_module_no_key_enters_summarises_its_callees_once_another_module_passes_it_a_key() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("svc/__init__.py", ""),
            // Kept for its hard-coded key; no key material enters it.
            (
                "svc/helpers.py",
                "from .sink import keep\n\nSTRIPE_KEY = \"sk_live_4f9c2b7e8d1a6f3c9a0b1c2d3e4f\"\n\n\ndef relay(v):\n    keep(v)\n",
            ),
            (
                "svc/sink.py",
                "import logging\n\nlog = logging.getLogger(\"x\")\n\n\ndef keep(v):\n    log.info(\"got %s\", v)\n",
            ),
            (
                "svc/jobs.py",
                "import os\n\n\ndef run():\n    print(os.environ[\"PAYMENT_API_KEY\"])\n",
            ),
        ],
    );
    // Nothing passes helpers.py a key: what it passes sink.py carries none.
    let (_, summarised, out) = check_summaries(dir.path());
    assert!(summarised.is_empty(), "{out}");
    // jobs.py passes it one: sink.py is summarised, and the key followed into it.
    write(
        dir.path(),
        &[(
            "svc/jobs.py",
            "import os\n\nfrom .helpers import relay\n\n\ndef run():\n    relay(os.environ[\"PAYMENT_API_KEY\"])\n",
        )],
    );
    let (findings, summarised, out) = check_summaries(dir.path());
    assert_eq!(summarised, ["svc/sink.py"], "{out}");
    let f = finding_at(&findings, "KL202", "svc/sink.py", 7)
        .unwrap_or_else(|| panic!("no KL202 at sink.py:7: {out}"));
    assert_eq!(f["related"][0]["file"], "svc/jobs.py", "{f}");
}

#[test]
fn a_key_like_global_of_a_module_the_prefilter_skips_reaches_the_route_that_imports_it() {
    let (all, out) = fixture_findings("dropped_global");
    // config.py alone has nothing the pre-filter keeps (`engine::prefilter`'s unit tests): the
    // route's import brings it into the project pass, as the server reads it.
    let f = finding_at(&all, "KL202", "dropped_global/main.py", 14)
        .unwrap_or_else(|| panic!("nothing at main.py:14: {out}"));
    assert_eq!(f["related"][0]["file"], "dropped_global/config.py", "{f}");
    assert_eq!(f["related"][0]["line"], 4, "{f}");
    assert_eq!(all.len(), 1, "{out}");
}

#[test]
fn every_config_class_of_a_mapping_chosen_by_from_object_is_loaded() {
    let (findings, out) = fixture_findings("config_map");
    let at = |code: &str, line: u64| finding_at(&findings, code, "config_map/config.py", line);
    // `from_object(config[config_name])` with `config` a mapping of dotted names in
    // `__init__.py` (`DevelopmentConfig`), and `configs = dict(local=LocalConfig, …)` of
    // imported classes in `factory.py` (`LocalConfig`): each is loaded.
    for line in [11, 23] {
        let f = at("KL301", line).unwrap_or_else(|| panic!("no KL301 at config.py:{line}: {out}"));
        assert!(
            f["message"]
                .as_str()
                .unwrap()
                .contains("config.from_object"),
            "{f}"
        );
    }
    // The mapped class's secret and password are no development hints.
    for line in [12, 13] {
        let f = at("KL101", line).unwrap_or_else(|| panic!("no KL101 at config.py:{line}: {out}"));
        assert_ne!(f["severity"], "hint", "{f}");
    }
    // A class in no mapping stays a development setting.
    assert!(at("KL301", 28).is_none(), "{out}");
    assert_eq!(at("KL101", 29).expect("KL101 at 29")["severity"], "hint");
}

#[test]
fn a_table_of_a_module_imported_whole_is_known_through_the_module() {
    let (findings, out) = fixture_findings("module_table");
    // `db.users.scan()` after `from . import db`: a scan of the table `db.py` makes, returned
    // whole (before, `db.users` was not known as a table and neither was reported).
    let scan = finding_at(&findings, "KL304", "module_table/handlers.py", 11);
    assert!(scan.is_some(), "{out}");
    assert!(
        finding_at(&findings, "KL203", "module_table/handlers.py", 12).is_some(),
        "{out}"
    );
    // `db.keys.put_item(Item=…)` after `import module_table.db as db`.
    assert!(
        finding_at(&findings, "KL201", "module_table/routes.py", 13).is_some(),
        "{out}"
    );
    assert_eq!(findings.len(), 3, "{out}");
}

#[test]
fn a_config_class_loaded_by_another_module_points_to_the_from_object_call() {
    let (findings, out) = fixture_findings("flask_config");
    let at = |code: &str, line: u64| finding_at(&findings, code, "flask_config/config.py", line);
    // `DevelopmentConfig`, loaded by `from_object("flask_config.config.DevelopmentConfig")` at
    // `__init__.py:12`; `DevServerConfig`'s KL301 and KL101, loaded at `factory.py:9`.
    for (code, line, file, call) in [
        ("KL301", 12, "flask_config/__init__.py", 12),
        ("KL301", 17, "flask_config/factory.py", 9),
        ("KL101", 18, "flask_config/factory.py", 9),
    ] {
        let f = at(code, line).unwrap_or_else(|| panic!("no {code} at config.py:{line}: {out}"));
        let related = f["related"].as_array().unwrap();
        assert!(
            related.iter().any(|r| r["file"] == file
                && r["line"] == call
                && r["message"].as_str().unwrap().contains("loaded")),
            "{f}"
        );
    }
    // A development class's hint has no loader to point to.
    let hint = at("KL101", 24).expect("KL101 at 24");
    assert!(
        hint["related"].as_array().is_none_or(|r| r.is_empty()),
        "{hint}"
    );
}

#[test]
fn a_mapping_of_config_classes_imported_from_another_module_loads_its_classes() {
    let (findings, out) = fixture_findings("config_map");
    let at = |code: &str, line: u64| finding_at(&findings, code, "config_map/settings.py", line);
    // `from .settings import config` then `from_object(config[…])` in `wsgi.py`: `DevConfig`,
    // named by the mapping, is loaded, with the call as its related place.
    let f = at("KL301", 12).unwrap_or_else(|| panic!("no KL301 at settings.py:12: {out}"));
    assert!(
        f["related"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["file"] == "config_map/wsgi.py" && r["line"] == 9),
        "{f}"
    );
    // `TestConfig` (`TESTING = True`) and `LocalDebugConfig` (in no mapping): not reported.
    for line in [17, 22] {
        assert!(
            at("KL301", line).is_none(),
            "KL301 at settings.py:{line}: {out}"
        );
    }
}

/// `(file, line, rule name)` of every `# expect:` of the Python files under `dir` (named from
/// `root`), and `(file, line, related file)` of every `# expect-related:`.
type Expected = (Vec<(String, u64, String)>, Vec<(String, u64, String)>);

fn project_expectations(root: &Path, dir: &Path) -> Expected {
    let (mut findings, mut related) = (Vec::new(), Vec::new());
    for p in keylint_blackbox::python_files(dir) {
        let name = p.strip_prefix(root).unwrap().display().to_string();
        for (i, line) in std::fs::read_to_string(&p).unwrap().lines().enumerate() {
            let n = i as u64 + 1;
            if let Some(at) = line.find("# expect:") {
                let list = line[at + "# expect:".len()..].split('#').next().unwrap();
                for rule in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let rule = rule.split('(').next().unwrap().trim();
                    findings.push((name.clone(), n, rule.to_string()));
                }
            }
            if let Some(at) = line.find("# expect-related:") {
                let file = line[at + "# expect-related:".len()..].trim();
                related.push((name.clone(), n, file.to_string()));
            }
        }
    }
    findings.sort();
    (findings, related)
}

/// The check's own model of a project (the pre-filter, then the modules the kept files' calls
/// lead to, one after another) finds in every fixture project exactly what its files expect
/// inline, the path back to the other module included: the library's analysis of every file
/// with the whole project (`server/tests/fixtures.rs`) is not what the CLI runs. Fails if the
/// check stopped following calls after the first module (`service_chain`: a route → a service →
/// the audit log, and a key returned from a third module through the service).
#[test]
fn every_fixture_project_checked_gives_what_its_files_expect() {
    let root = repo_root().join("fixtures/projects");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.iter().any(|d| d.ends_with("service_chain")));
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_str().unwrap();
        let (want, want_related) = project_expectations(&root, dir);
        let (_, out, err) = check(&root, &["--output-format", "json", name]);
        let json: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
        let found = json.as_array().unwrap();
        let mut got: Vec<(String, u64, String)> = found
            .iter()
            .map(|f| {
                let file = f["file"].as_str().unwrap().to_string();
                (
                    file,
                    f["line"].as_u64().unwrap(),
                    f["rule"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        got.sort();
        for w in &want {
            if !got.contains(w) {
                failures.push(format!("missed {w:?}"));
            }
        }
        for g in &got {
            if !want.contains(g) {
                failures.push(format!("not expected {g:?}"));
            }
        }
        for (file, line, other) in &want_related {
            let leads_back = found.iter().any(|f| {
                f["file"] == file.as_str()
                    && f["line"] == *line
                    && f["related"].as_array().is_some_and(|r| {
                        r.iter().any(|r| {
                            r["file"]
                                .as_str()
                                .is_some_and(|p| p.ends_with(other.as_str()))
                        })
                    })
            });
            if !leads_back {
                failures.push(format!("{file}:{line}: no path back to {other}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `keylint check --output-format json` of `dir` in `root`, with `args` before it: the findings.
fn json_findings(root: &Path, dir: &str, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["--output-format", "json"];
    all.extend_from_slice(args);
    all.push(dir);
    let (code, out, err) = check(root, &all);
    assert!(code == 0 || code == 1, "{dir}: exit {code}: {err}");
    serde_json::from_str::<Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// The check leaves out what cannot change a finding: files the pre-filter finds no shape in,
/// and the summaries of callees no live call needs (a call passing nothing that may carry key
/// material, its result read nowhere that matters). With `--no-prefilter` every file is analysed
/// and every module summarised: the findings, with their paths across files, must be the same,
/// on every fixture project and on a project whose kept route module sends keys to another
/// module only through a chain of calls (`audit(same(current()))`, the key another module's
/// call result).
#[test]
fn leaving_out_files_and_callees_loses_no_finding_of_a_whole_analysis() {
    let root = repo_root().join("fixtures/projects");
    let mut dirs: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 10, "{dirs:?}");
    let mut compared = 0;
    for dir in &dirs {
        let lean = json_findings(&root, dir, &[]);
        let whole = json_findings(&root, dir, &["--no-prefilter"]);
        assert_eq!(lean, whole, "{dir}");
        compared += lean.len();
    }
    assert!(compared >= 30, "only {compared} findings compared");

    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        &[
            ("app/__init__.py", ""),
            (
                "app/conf.py",
                "import os\nAPI_KEY = os.environ[\"API_KEY\"]\n\ndef current():\n    return os.environ[\"SERVICE_TOKEN\"]\n",
            ),
            (
                "app/helpers.py",
                "import logging\nimport requests\nlog = logging.getLogger(__name__)\n\ndef audit(value, *rest):\n    log.info(\"value %s\", value)\n\ndef forward(token):\n    return requests.get(\"https://api.example.com/x?token=\" + token)\n\ndef same(a):\n    return a\n\ndef note(v):\n    log.warning(\"note %s\", v)\n",
            ),
            (
                "app/main.py",
                "from fastapi import FastAPI, Header\nfrom .conf import API_KEY, current\nfrom .helpers import audit, forward, same, note\napp = FastAPI()\n\n@app.get(\"/k\")\ndef route(x_api_key: str = Header(...)):\n    note(x_api_key)\n    return {}\n\ndef via_chain():\n    audit(same(current()))\n\ndef url():\n    forward(same(API_KEY))\n",
            ),
        ],
    );
    let lean = json_findings(tmp.path(), "app", &[]);
    let whole = json_findings(tmp.path(), "app", &["--no-prefilter"]);
    assert_eq!(lean, whole);
    let at = |code: &str, line: u64| {
        lean.iter()
            .any(|f| f["code"] == code && f["file"] == "app/helpers.py" && f["line"] == line)
    };
    // `audit` is reached only by the chain; `note` by the route.
    assert!(
        at("KL202", 6) && at("KL207", 9) && at("KL202", 15),
        "{lean:#?}"
    );
}

/// A module the pre-filter skips (no shape of its own) that carries a key between two others:
/// `main.py` passes what `conf.current()` returns (an environment key) through `same` to
/// `helpers.audit`, which logs it, and `API_KEY` of `conf.py` through `same` to `forward`. The
/// check reads it for the names of `conf.py` it imports and analyses it, as `--no-prefilter`
/// does; a skipped module importing a name of `conf.py` that carries no key stays unparsed.
#[test]
fn a_skipped_module_carrying_a_key_between_two_others_is_followed() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        &[
            ("app/__init__.py", ""),
            (
                "app/conf.py",
                "import os\nAPI_KEY = os.environ[\"API_KEY\"]\nNAME = \"svc\"\n\ndef current():\n    return os.environ[\"SERVICE_TOKEN\"]\n",
            ),
            (
                "app/helpers.py",
                "import logging\nimport requests\nlog = logging.getLogger(__name__)\n\ndef audit(value, *rest):\n    log.info(\"value %s\", value)\n\ndef forward(token):\n    return requests.get(\"https://api.example.com/x?token=\" + token)\n\ndef same(a):\n    return a\n",
            ),
            (
                "app/main.py",
                "from .conf import API_KEY, current\nfrom .helpers import audit, forward, same\n\ndef via_chain():\n    audit(same(current()))\n\ndef url():\n    forward(same(API_KEY))\n",
            ),
        ],
    );
    let lean = json_findings(tmp.path(), "app", &[]);
    let whole = json_findings(tmp.path(), "app", &["--no-prefilter"]);
    assert_eq!(lean, whole);
    let f = finding_at(&lean, "KL202", "app/helpers.py", 6)
        .unwrap_or_else(|| panic!("no KL202 at helpers.py:6: {lean:#?}"));
    let related = f["related"].as_array().unwrap();
    assert!(
        related.iter().any(|r| r["file"] == "app/conf.py")
            && related.iter().any(|r| r["file"] == "app/main.py"),
        "{f}"
    );
    assert!(
        finding_at(&lean, "KL207", "app/helpers.py", 9).is_some(),
        "{lean:#?}"
    );

    // The near miss: `NAME` carries no key; `main.py` is searched (its text from the first pass, not read again), not parsed.
    write(
        tmp.path(),
        &[(
            "app/main.py",
            "from .conf import NAME\nfrom .helpers import audit\n\ndef via_chain():\n    audit(NAME)\n",
        )],
    );
    let out = Command::new(BIN)
        .args(["check", "--no-progress", "--output-format", "json", "app"])
        .current_dir(tmp.path())
        .env("KEYLINT_PROJECT_STATS", "files")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 skipped files searched (0 read again), 0 parsed, 0 taken"),
        "{stderr}"
    );
    assert!(!stderr.contains("app/main.py"), "{stderr}");
    let lean = json_findings(tmp.path(), "app", &[]);
    assert_eq!(lean, json_findings(tmp.path(), "app", &["--no-prefilter"]));
    assert!(lean.iter().all(|f| f["code"] != "KL202"), "{lean:#?}");
}

/// A module summarised only (a kept module passes it a key) reads a key of its own that the
/// pre-filter does not see (`VERIFY_TOKEN`: no rule of `svc.py` alone reports it) and passes it
/// to a third module's log: its own sources count, so `helpers.py` is summarised and the log
/// call found, as `--no-prefilter` finds it.
#[test]
fn the_callees_of_a_module_summarised_only_get_its_own_keys() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        &[
            ("app/__init__.py", ""),
            (
                "app/main.py",
                "import os\nfrom .svc import lookup\n\ndef run():\n    v = lookup(os.environ[\"API_KEY\"])\n    return v\n",
            ),
            (
                "app/svc.py",
                "import os\nfrom .helpers import audit\n\ndef lookup(k):\n    tok = os.environ[\"VERIFY_TOKEN\"]\n    audit(tok)\n    return k == \"x\"\n",
            ),
            (
                "app/helpers.py",
                "import logging\nlog = logging.getLogger(__name__)\n\ndef audit(value, *rest):\n    log.info(\"value %s\", value)\n",
            ),
        ],
    );
    let lean = json_findings(tmp.path(), "app", &[]);
    assert_eq!(lean, json_findings(tmp.path(), "app", &["--no-prefilter"]));
    let f = finding_at(&lean, "KL202", "app/helpers.py", 5)
        .unwrap_or_else(|| panic!("no KL202 at helpers.py:5: {lean:#?}"));
    assert_eq!(f["related"][0]["file"], "app/svc.py", "{f}");
}
