//! Golden tests of every output format of `keylint check` on `tests/cli_fixtures/basic` (its own
//! small fixtures, independent of the rule fixtures), the SARIF properties GitHub code scanning
//! needs, fingerprint stability, and the `rule`/`rules`/`--help`/`--version` commands.

mod cli_common;

use std::path::{Path, PathBuf};

use cli_common::{keylint, write};
use serde_json::Value;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli_fixtures/basic")
}

/// Only the rules the fixtures are about, so that new rules do not change the snapshots.
const SELECT: &[&str] = &["--select", "KL101,KL001"];

fn check(format: &str) -> cli_common::Run {
    let mut args = vec!["check", "--output-format", format];
    args.extend_from_slice(SELECT);
    let run = keylint(&fixture(), &args);
    assert_eq!(run.code, 1, "findings at warning: exit 1\n{}", run.stderr);
    run
}

#[test]
fn golden_text() {
    insta::assert_snapshot!("text", check("text").stdout);
}

#[test]
fn golden_json() {
    insta::assert_snapshot!("json", check("json").stdout);
}

#[test]
fn golden_github() {
    insta::assert_snapshot!("github", check("github").stdout);
}

/// The SARIF log with the rule table cut to the fixtures' rules and the docs and version
/// redacted (they change with every rule and release).
fn redacted_sarif(mut v: Value) -> Value {
    v["runs"][0]["tool"]["driver"]["version"] = "[version]".into();
    v["runs"][0]["tool"]["driver"]["semanticVersion"] = "[version]".into();
    let rules = v["runs"][0]["tool"]["driver"]["rules"]
        .as_array_mut()
        .unwrap();
    rules.retain(|r| matches!(r["id"].as_str(), Some("KL001" | "KL101")));
    for r in rules {
        r["help"]["text"] = "[docs]".into();
        r["help"]["markdown"] = "[docs]".into();
        r["fullDescription"]["text"] = "[docs]".into();
    }
    v
}

#[test]
fn golden_sarif() {
    let v: Value = serde_json::from_str(&check("sarif").stdout).unwrap();
    insta::assert_json_snapshot!("sarif", redacted_sarif(v));
}

#[test]
fn sarif_has_the_required_2_1_0_properties() {
    let v: Value = serde_json::from_str(&check("sarif").stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert!(v["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let run = &v["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "keylint");
    let rules = driver["rules"].as_array().unwrap();
    for meta in keylint::config::all_meta() {
        assert!(
            rules.iter().any(|r| r["id"] == meta.code),
            "{} in the rule table",
            meta.code
        );
    }
    for r in rules {
        for key in [
            "id",
            "name",
            "shortDescription",
            "fullDescription",
            "help",
            "helpUri",
        ] {
            assert!(!r[key].is_null(), "rule {} lacks {key}", r["id"]);
        }
        assert!(r["help"]["markdown"].as_str().unwrap().starts_with("# KL"));
        assert!(r["properties"]["tags"].is_array());
    }
    let kl101 = rules.iter().find(|r| r["id"] == "KL101").unwrap();
    let tags: Vec<&str> = kl101["properties"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(tags.contains(&"external/cwe/cwe-798"), "{tags:?}");
    let sev: f64 = kl101["properties"]["security-severity"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((0.0..=10.0).contains(&sev));

    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            rules[index]["id"], r["ruleId"],
            "ruleIndex points at the rule"
        );
        assert!(matches!(
            r["level"].as_str(),
            Some("error" | "warning" | "note")
        ));
        assert!(!r["message"]["text"].as_str().unwrap().is_empty());
        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(
            !uri.starts_with('/') && !uri.contains('\\'),
            "relative uri: {uri}"
        );
        for key in ["startLine", "startColumn", "endLine", "endColumn"] {
            assert!(
                loc["region"][key].as_u64().unwrap() >= 1,
                "{key} is 1-based"
            );
        }
        assert!(r["partialFingerprints"]
            .as_object()
            .is_some_and(|o| !o.is_empty()));
    }
}

fn fingerprints(dir: &Path) -> Vec<(String, u64, String)> {
    let run = keylint(
        dir,
        &["check", "--output-format", "sarif", "--select", "KL101"],
    );
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let fp = r["partialFingerprints"].as_object().unwrap();
            (
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                r["locations"][0]["physicalLocation"]["region"]["startLine"]
                    .as_u64()
                    .unwrap(),
                fp.values().next().unwrap().as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn fingerprints_survive_an_unrelated_edit_above() {
    let dir = cli_common::project("");
    let body = "API_KEY = \"sk-test-4f9c2b7e8d1a6f3c9a0b\"\nOTHER_TOKEN = \"tok-9a8b7c6d5e4f\"\nAPI_KEY = \"sk-test-4f9c2b7e8d1a6f3c9a0b\"\n";
    write(dir.path(), "app.py", body);
    let before = fingerprints(dir.path());
    assert_eq!(before.len(), 3);
    let fps: std::collections::HashSet<&String> = before.iter().map(|b| &b.2).collect();
    assert_eq!(fps.len(), 3, "identical lines get distinct fingerprints");
    write(
        dir.path(),
        "app.py",
        &format!("\"\"\"Settings.\"\"\"\nimport logging\n\nlog = logging.getLogger()\n{body}"),
    );
    let after = fingerprints(dir.path());
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(a.1, b.1 + 4, "the finding moved down");
        assert_eq!(a.2, b.2, "its fingerprint did not change");
    }
}

#[test]
fn rules_lists_every_rule_aligned_and_as_json() {
    let run = keylint(&fixture(), &["rules"]);
    assert_eq!(run.code, 0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].starts_with("CODE"));
    let kl101 = lines.iter().find(|l| l.starts_with("KL101")).unwrap();
    assert!(
        kl101.contains("hardcoded-secret")
            && kl101.contains("warning")
            && kl101.contains("sometimes")
    );
    assert!(lines.iter().any(|l| l.starts_with("KL001")));
    let col = lines[0].find("SEVERITY").unwrap();
    for l in &lines[1..] {
        assert_eq!(&l[col - 1..col], " ", "aligned: {l}");
    }
    let run = keylint(&fixture(), &["rules", "--output-format", "json"]);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    let list = v.as_array().unwrap();
    assert_eq!(list.len(), keylint::config::all_meta().len());
    let kl101 = list.iter().find(|r| r["code"] == "KL101").unwrap();
    assert_eq!(kl101["name"], "hardcoded-secret");
    assert_eq!(kl101["fix"], "sometimes");
}

#[test]
fn rule_prints_docs_by_code_or_name() {
    let by_code = keylint(&fixture(), &["rule", "kl101"]);
    assert_eq!(by_code.code, 0);
    assert!(by_code.stdout.starts_with("# KL101 `hardcoded-secret`"));
    assert!(by_code.stdout.contains("## Why is this bad?"));
    let by_name = keylint(&fixture(), &["rule", "hardcoded-secret"]);
    assert_eq!(by_name.stdout, by_code.stdout);
    let engine = keylint(&fixture(), &["rule", "unused-suppression"]);
    assert!(engine.stdout.starts_with("# KL001"));
    let unknown = keylint(&fixture(), &["rule", "KL1010"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("unknown rule"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn version_and_help() {
    let v = keylint(&fixture(), &["--version"]);
    assert_eq!(v.code, 0);
    assert!(v.stdout.starts_with("keylint "));
    let h = keylint(&fixture(), &["--help"]);
    assert!(h.stdout.contains("Examples:") && h.stdout.contains("keylint check"));
    let h = keylint(&fixture(), &["check", "--help"]);
    for flag in [
        "--output-format",
        "--fix",
        "--unsafe-fixes",
        "--diff",
        "--select",
        "--ignore",
        "--fail-on",
        "--no-prefilter",
        "--statistics",
    ] {
        assert!(h.stdout.contains(flag), "{flag} in check --help");
    }
    let bad = keylint(&fixture(), &["check", "--output-format", "xml"]);
    assert_eq!(bad.code, 2, "a usage error");
}
