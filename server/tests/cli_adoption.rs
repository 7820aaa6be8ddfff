//! Issue #16 through the real binary: the key's path in json/text/SARIF, the baseline
//! (`--write-baseline`, `--baseline`), `--add-noqa`, and the compliance mapping of `keylint rules`.

mod cli_common;

use cli_common::{findings, keylint, project, write};
use serde_json::Value;

const SECRET: &str = "sk-live-4f9c2b7e8d1a6f3c9a0b";

/// A header key passed through two helpers to `put_item`: a path of several places.
const FLOW: &str = r#"import boto3
from fastapi import FastAPI, Header

app = FastAPI()
table = boto3.resource("dynamodb").Table("keys")


def save_key(owner, key):
    table.put_item(Item={"owner": owner, "api_key": key})


def register(owner, key):
    save_key(owner, key.strip())


@app.post("/register")
def register_route(owner: str, x_api_key: str = Header(min_length=32)):
    register(owner, key=x_api_key)
"#;

#[test]
fn json_findings_carry_the_path() {
    let dir = project("");
    write(dir.path(), "app.py", FLOW);
    let (code, all) = findings(dir.path(), &[]);
    assert_eq!(code, 1);
    let f = all
        .iter()
        .find(|f| f["code"] == "KL201")
        .expect("a KL201 finding");
    assert_eq!(f["line"], 9);
    let related = f["related"].as_array().unwrap();
    assert!(related.len() >= 2, "entry and calls: {related:?}");
    // The key enters at the header parameter (line 17) and goes through register (line 18).
    assert_eq!(related[0]["file"], "app.py");
    assert_eq!(related[0]["line"], 17);
    assert!(related[0]["column"].as_u64().unwrap() > 1);
    assert!(related.iter().any(|r| r["line"] == 18));
    for r in related {
        assert!(!r["message"].as_str().unwrap().is_empty());
    }
    // A finding without a path has an empty list (the schema is stable).
    write(dir.path(), "plain.py", &format!("API_KEY = \"{SECRET}\"\n"));
    let (_, all) = findings(dir.path(), &["plain.py"]);
    assert_eq!(all[0]["related"], Value::Array(vec![]));
}

#[test]
fn text_output_prints_the_path_under_the_code_frame() {
    let dir = project("");
    write(dir.path(), "app.py", FLOW);
    let run = keylint(dir.path(), &["check", "--select", "KL201"]);
    assert_eq!(run.code, 1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    let frame = lines
        .iter()
        .position(|l| l.starts_with("app.py:9:"))
        .unwrap();
    // header, gutter, line, carets, then the path.
    assert!(
        lines[frame + 4]
            .trim_start()
            .starts_with("= path: app.py:17:"),
        "{}",
        run.stdout
    );
    assert!(lines[frame + 5].trim_start().starts_with("app.py:18:"));
}

#[test]
fn sarif_results_carry_code_flows_and_related_locations() {
    let dir = project("");
    write(dir.path(), "app.py", FLOW);
    let run = keylint(dir.path(), &["check", "--output-format", "sarif"]);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    let result = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "KL201")
        .unwrap();
    let related = result["relatedLocations"].as_array().unwrap();
    let steps = result["codeFlows"][0]["threadFlows"][0]["locations"]
        .as_array()
        .unwrap();
    assert_eq!(steps.len(), related.len() + 1);
    assert_eq!(
        steps[0]["location"]["physicalLocation"]["region"]["startLine"],
        17
    );
    assert_eq!(steps[0]["kinds"][0], "source");
    assert_eq!(
        steps.last().unwrap()["location"]["physicalLocation"],
        result["locations"][0]["physicalLocation"]
    );
    for (i, r) in related.iter().enumerate() {
        assert_eq!(r["id"], i + 1);
        assert_eq!(
            r["physicalLocation"]["artifactLocation"]["uri"], "app.py",
            "same file"
        );
    }
}

const LEGACY: &str = "import os\n\nAPI_KEY = \"sk-live-4f9c2b7e8d1a6f3c9a0b\"\nDB_PASSWORD = \"hunter2-but-longer-x9\"\n";

#[test]
fn a_baseline_hides_known_findings_and_survives_unrelated_edits() {
    let dir = project("");
    write(dir.path(), "app/settings.py", LEGACY);
    let run = keylint(
        dir.path(),
        &["check", "--write-baseline", "kl-baseline.json"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("wrote 2 findings"), "{}", run.stderr);
    let text = std::fs::read_to_string(dir.path().join("kl-baseline.json")).unwrap();
    assert!(
        !text.contains(SECRET) && !text.contains("hunter2"),
        "{text}"
    );
    let b: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(b["findings"][0]["file"], "app/settings.py");
    assert_eq!(b["findings"][0]["rule"], "KL101");

    // Known findings: exit 0, nothing printed.
    let (code, all) = findings(dir.path(), &["--baseline", "kl-baseline.json"]);
    assert_eq!((code, all.len()), (0, 0));

    // Lines move and the secret's value changes: still known.
    write(
        dir.path(),
        "app/settings.py",
        &format!(
            "\"\"\"Settings.\"\"\"\n\n\n{}",
            LEGACY.replace("4f9c2b7e", "00000000")
        ),
    );
    let (code, all) = findings(dir.path(), &["--baseline", "kl-baseline.json"]);
    assert_eq!((code, all.len()), (0, 0), "{all:?}");

    // A new finding, and an old one under a new name: reported; run from a sub-directory too.
    write(
        dir.path(),
        "app/settings.py",
        &format!(
            "{}STRIPE_SECRET = \"sk-live-aaaabbbbccccddddeeee\"\n",
            LEGACY.replace("DB_PASSWORD", "DATABASE_PASSWORD")
        ),
    );
    let (code, all) = findings(
        &dir.path().join("app"),
        &["--baseline", "../kl-baseline.json"],
    );
    assert_eq!(code, 1);
    let lines: Vec<u64> = all.iter().map(|f| f["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, vec![4, 5], "{all:?}");
}

#[test]
fn a_bad_baseline_is_a_clear_error() {
    let dir = project("");
    write(dir.path(), "a.py", LEGACY);
    write(dir.path(), "b.json", "[1, 2]");
    let run = keylint(dir.path(), &["check", "--baseline", "b.json"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("b.json: not a keylint baseline"),
        "{}",
        run.stderr
    );
    let run = keylint(dir.path(), &["check", "--baseline", "missing.json"]);
    assert_eq!(run.code, 2);
    assert!(run
        .stderr
        .contains("missing.json: cannot read the baseline"));
    assert!(!run.stdout.contains(SECRET) && !run.stderr.contains(SECRET));
}

#[test]
fn add_noqa_suppresses_every_finding_and_kl001_reports_the_stale_ones() {
    let dir = project("");
    let path = write(
        dir.path(),
        "app.py",
        "API_KEY = \"sk-live-4f9c2b7e8d1a6f3c9a0b\"\nTOKEN = \"ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"  # keylint: ignore[KL202]\nDOC = \"\"\"x\"\"\"\n",
    );
    let run = keylint(dir.path(), &["check", "--add-noqa"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("added 2"), "{}", run.stderr);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with(
            "API_KEY = \"sk-live-4f9c2b7e8d1a6f3c9a0b\"  # keylint: ignore[KL101]\nTOKEN = \"ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"  # keylint: ignore[KL202, KL101]\n"
        ),
        "{text}"
    );
    // Nothing left but the KL202 that never silenced anything (KL001, a hint: exit 0); a second
    // run adds nothing (an unused suppression is left for the user to remove).
    let (code, all) = findings(dir.path(), &[]);
    assert_eq!(code, 0);
    assert_eq!(
        cli_common::brief(&all),
        vec!["app.py:2:KL001:hint"],
        "{all:?}"
    );
    let run = keylint(dir.path(), &["check", "--add-noqa"]);
    assert!(run.stderr.contains("added 0"));
    // The key moves to the environment: its directive is now unused.
    std::fs::write(
        &path,
        text.replace(
            "\"sk-live-4f9c2b7e8d1a6f3c9a0b\"",
            "__import__(\"os\").environ[\"API_KEY\"]",
        ),
    )
    .unwrap();
    let (_, all) = findings(dir.path(), &[]);
    assert_eq!(
        cli_common::brief(&all),
        vec!["app.py:1:KL001:hint", "app.py:2:KL001:hint"],
        "{all:?}"
    );
    assert!(all[0]["message"].as_str().unwrap().contains("KL101"));
}

#[test]
fn rules_and_sarif_list_the_compliance_mapping() {
    let dir = project("");
    let run = keylint(dir.path(), &["rules", "--output-format", "json"]);
    let rules: Vec<Value> = serde_json::from_str(&run.stdout).unwrap();
    let kl201 = rules.iter().find(|r| r["code"] == "KL201").unwrap();
    assert_eq!(kl201["compliance"]["owasp_api_2023"][0]["id"], "API2");
    assert_eq!(kl201["compliance"]["pci_dss_4_0"][0]["id"], "8.3.2");
    assert_eq!(kl201["compliance"]["pci_dss_4_0"][0]["related"], false);
    assert!(rules
        .iter()
        .filter(|r| r["code"] != "KL001")
        .all(|r| !r["compliance"]["owasp_api_2023"]
            .as_array()
            .unwrap()
            .is_empty()));

    write(dir.path(), "a.py", LEGACY);
    let run = keylint(dir.path(), &["check", "--output-format", "sarif"]);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    let rule = v["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "KL202")
        .unwrap();
    let tags: Vec<&str> = rule["properties"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    for t in [
        "external/cwe/cwe-532",
        "external/owasp-api-2023/api8",
        "compliance/pci-dss-4.0/8.3.2",
        "compliance/soc2/cc6.1",
    ] {
        assert!(tags.contains(&t), "{t} in {tags:?}");
    }
}

/// A safe fix (KL001: remove the unused suppression) and unsafe ones (KL101 → the environment,
/// KL205 → `hmac.compare_digest`).
const FIXABLE: &str = r#"import os

RETRIES = 3  # keylint: ignore[KL101]

from flask import Flask, abort, request

app = Flask(__name__)
API_TOKEN = os.environ["API_TOKEN"]
API_KEY = "sk-live-4f9c2b7e8d1a6f3c9a0b"


@app.before_request
def check_key():
    if request.headers.get("X-API-Key") != API_TOKEN:
        abort(401)
"#;

#[test]
fn show_fixes_lists_each_fix_and_what_fix_changed() {
    let dir = project("");
    let path = write(dir.path(), "app.py", FIXABLE);
    // Without it, no fix line.
    let run = keylint(dir.path(), &["check"]);
    assert!(!run.stdout.contains("= fix"), "{}", run.stdout);

    let run = keylint(dir.path(), &["check", "--show-fixes"]);
    assert_eq!(run.code, 1);
    let fix_lines: Vec<&str> = run
        .stdout
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with("= fix"))
        .collect();
    assert!(
        fix_lines.iter().any(|l| l.starts_with("= fix (safe): ")),
        "{}",
        run.stdout
    );
    assert!(
        fix_lines.iter().any(|l| l.starts_with("= fix (unsafe): ")),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains(SECRET));

    // --diff --show-fixes: what would be fixed, nothing written.
    let run = keylint(dir.path(), &["check", "--diff", "--show-fixes"]);
    assert!(
        run.stderr
            .contains("Would fix 1 finding:\n- app.py:\n    1 × KL001 (unused-suppression)\n"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), FIXABLE);

    // --fix --unsafe-fixes --show-fixes: the summary, per file and rule.
    let run = keylint(
        dir.path(),
        &["check", "--fix", "--unsafe-fixes", "--show-fixes"],
    );
    assert!(
        run.stderr.contains(
            "Fixed 3 findings:\n- app.py:\n    1 × KL001 (unused-suppression)\n    1 × KL101 (hardcoded-secret)\n    1 × KL205 (insecure-key-compare)\n"
        ),
        "{}",
        run.stderr
    );
    let fixed = std::fs::read_to_string(&path).unwrap();
    assert!(fixed.contains("hmac.compare_digest") && !fixed.contains("# keylint"));
}

#[test]
fn statistics_count_findings_and_fixable_ones_per_rule() {
    let dir = project("");
    write(dir.path(), "app.py", FIXABLE);
    write(
        dir.path(),
        "b.py",
        "TOKEN = \"ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n",
    );
    let run = keylint(dir.path(), &["check", "--statistics"]);
    assert_eq!(run.code, 1);
    let rows: Vec<Vec<&str>> = run
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with(char::is_numeric))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows,
        vec![
            vec!["1", "KL001", "unused-suppression", "1", "fixable"],
            vec!["2", "KL101", "hardcoded-secret", "2", "fixable"],
            vec!["1", "KL205", "insecure-key-compare", "1", "fixable"],
        ],
        "{}",
        run.stdout
    );
}
