//! Which callees `keylint check` summarises for the calls of a kept module (`cli/project.rs`,
//! `Calls`): only those a call may pass key material to, or whose result is read; and the
//! findings a key brings into a callee through an imported module-level name, another call's
//! result or a parameter fed with one stay.

mod cli_common;

use std::path::Path;
use std::process::Command;

use cli_common::{brief, project, write};

/// The modules the check summarised only (`KEYLINT_PROJECT_STATS=files`), and its findings.
fn check(dir: &Path) -> (Vec<String>, Vec<String>) {
    let out = Command::new(env!("CARGO_BIN_EXE_keylint"))
        .args(["check", ".", "--output-format", "json", "--no-progress"])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("KEYLINT_PROJECT_STATS", "files")
        .output()
        .expect("the keylint binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut summarised: Vec<String> = stderr
        .lines()
        .filter(|l| l.contains("summarised only") && l.contains("ms "))
        .filter_map(|l| l.split_whitespace().last().map(str::to_string))
        .collect();
    summarised.sort();
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stderr}"));
    let mut found = brief(v.as_array().expect("findings"));
    found.sort();
    (summarised, found)
}

/// A kept module with a key of its own (a source) calls two functions of another module: one
/// with a parameter no key reaches (nothing in the module passes one to it), one with the result
/// of a standard-library call (`os.path.join(…)`, which resolves to no module of the project)
/// built from a module-level name bound to another such call. Neither argument can carry key
/// material and neither result is read: the other module is not summarised (it was, while any
/// labelled argument of a module where key material enters made a call live). Nor is the module
/// of a function whose result is only returned by a function of the module that nothing reads
/// (`home_url`). The module's own finding stays.
#[test]
fn a_callee_passed_nothing_keyful_is_not_summarised() {
    let dir = project("");
    write(dir.path(), "app/__init__.py", "");
    write(
        dir.path(),
        "app/main.py",
        "import logging\nimport os\n\nfrom .helpers import fetch, load\nfrom .urls import build_url\n\n\
         log = logging.getLogger(__name__)\nBASE = os.path.dirname(__file__)\n\n\n\
         def handler(url):\n    api_key = os.environ[\"API_KEY\"]\n    \
         log.info(\"using %s\", api_key)\n    fetch(url)\n    \
         load(os.path.join(BASE, \"data.json\"))\n\n\n\
         def home_url():\n    return build_url(\"home\")\n",
    );
    write(
        dir.path(),
        "app/urls.py",
        "def build_url(name):\n    return \"/\" + name\n",
    );
    write(
        dir.path(),
        "app/helpers.py",
        "def fetch(url):\n    return url\n\n\ndef load(path):\n    with open(path) as f:\n        \
         return f.read()\n",
    );
    let (summarised, found) = check(dir.path());
    for module in ["helpers.py", "urls.py"] {
        assert!(
            !summarised.iter().any(|p| p.ends_with(module)),
            "{module}: summarised only: {summarised:?}"
        );
    }
    assert_eq!(found, ["app/main.py:13:KL202:warning"]);
}

/// Key material reaches functions of other modules from a kept module without a source of its
/// own: an imported module-level name (`record(API_KEY)`), another call's result
/// (`note(current())`) and a parameter a call of the module feeds with a key
/// (`_pass_on(API_KEY)` → `trace(value)`), and the result of a function of another module that
/// returns another call's result (`stamp(fresh())`, `fresh` returning `current()`: its call to
/// `current` is live once a live call of `main` reads its return), each callee in a module of its
/// own. Each of them is summarised and its finding (the key logged there) stays.
#[test]
fn a_key_from_an_imported_name_or_a_call_result_still_reaches_its_callee() {
    let dir = project("");
    write(dir.path(), "app/__init__.py", "");
    write(
        dir.path(),
        "app/conf.py",
        "import os\n\nAPI_KEY = os.environ[\"API_KEY\"]\n",
    );
    write(
        dir.path(),
        "app/keys.py",
        "import os\n\n\ndef current():\n    return os.environ[\"SERVICE_TOKEN\"]\n",
    );
    write(
        dir.path(),
        "app/fresh.py",
        "from .keys import current\n\n\ndef fresh():\n    return current()\n",
    );
    for (module, function) in [
        ("audit", "record"),
        ("notes", "note"),
        ("trail", "trace"),
        ("stamps", "stamp"),
    ] {
        write(
            dir.path(),
            &format!("app/{module}.py"),
            &format!(
                "import logging\n\nlog = logging.getLogger(__name__)\n\n\n\
                 def {function}(value):\n    log.info(\"{function} %s\", value)\n"
            ),
        );
    }
    write(
        dir.path(),
        "app/main.py",
        "import logging\n\nfrom .audit import record\nfrom .conf import API_KEY\n\
         from .fresh import fresh\nfrom .keys import current\nfrom .notes import note\n\
         from .stamps import stamp\nfrom .trail import trace\n\n\
         log = logging.getLogger(__name__)\n\n\n\
         def run():\n    record(API_KEY)\n\n\n\
         def rotate():\n    note(current())\n\n\n\
         def relay():\n    _pass_on(API_KEY)\n\n\n\
         def _pass_on(value):\n    trace(value)\n\n\n\
         def status(count):\n    log.info(\"rotated %s api keys\", count)\n\n\n\
         def renew():\n    stamp(fresh())\n",
    );
    let (summarised, found) = check(dir.path());
    for module in ["audit", "notes", "trail", "stamps", "fresh", "keys"] {
        assert!(
            summarised
                .iter()
                .any(|p| p.ends_with(&format!("{module}.py"))),
            "{module}: summarised only: {summarised:?}"
        );
    }
    assert_eq!(
        found,
        [
            "app/audit.py:7:KL202:warning",
            "app/notes.py:7:KL202:warning",
            "app/stamps.py:7:KL202:warning",
            "app/trail.py:7:KL202:warning"
        ]
    );
}
