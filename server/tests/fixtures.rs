//! Every fixture under `fixtures/` carries its expectations inline: `# expect: rule-name` (several
//! separated by commas; `rule-name(hint)` also checks the severity) on the line where a finding
//! starts. This test checks them both ways: a missing finding and an extra finding both fail.
//! A second test applies every offered fix and checks it: the result parses, the finding is gone,
//! no other finding appears, and the fix is not offered again.
//!
//! A directory under `fixtures/projects/` is one project: its files are analysed together (the
//! project model, data flow across modules), and `# expect-related: main.py` on a line asks for a
//! finding there with a related place in that file (a key that entered in another module).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use keylint::engine::fixes::{apply_edits, fix_all, materialize};
use keylint::engine::{analyze_text, Options};
use keylint::rules::FileContext;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

fn projects_dir() -> PathBuf {
    fixtures_dir().join("projects")
}

fn fixture_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![fixtures_dir()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                // Analysed as projects: see `project_fixtures_match_their_expectations`.
                if path != projects_dir() {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "py") {
                out.push(path);
            }
        }
    }
    out.sort();
    assert!(!out.is_empty(), "no fixtures found");
    out
}

/// The options a fixture is analysed with: its path relative to `fixtures/` decides test-ness.
fn options_for(path: &Path) -> Options {
    let rel = path
        .strip_prefix(fixtures_dir())
        .unwrap_or(path)
        .to_path_buf();
    Options {
        file: FileContext {
            is_test: keylint::config::is_test_path(&rel),
            path: Some(rel),
        },
        ..Options::default()
    }
}

/// (line 1-based) → expected "rule" or "rule(severity)" entries.
fn expectations(text: &str) -> BTreeMap<usize, Vec<String>> {
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(idx) = line.find("# expect:") {
            let list = &line[idx + "# expect:".len()..];
            let list = list.split('#').next().unwrap_or_default();
            let mut names: Vec<String> = list
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            names.sort();
            out.insert(i + 1, names);
        }
    }
    out
}

/// The mismatches between the findings of a fixture (`name`, `text`, `rope`) and its inline
/// expectations, both ways.
fn compare(
    name: &str,
    text: &str,
    rope: &ropey::Rope,
    findings: &[keylint::finding::Finding],
) -> Vec<String> {
    let mut failures = Vec::new();
    let expected = expectations(text);
    let mut actual: BTreeMap<usize, Vec<(String, String)>> = BTreeMap::new();
    for f in findings {
        let line = rope.byte_to_line(f.range.start) + 1;
        actual
            .entry(line)
            .or_default()
            .push((f.rule.name.to_string(), f.severity.as_str().to_string()));
    }
    let lines: std::collections::BTreeSet<usize> =
        expected.keys().chain(actual.keys()).copied().collect();
    for line in lines {
        let want = expected.get(&line).cloned().unwrap_or_default();
        let got = actual.get(&line).cloned().unwrap_or_default();
        let mut got_names: Vec<String> = got.iter().map(|(n, _)| n.clone()).collect();
        got_names.sort();
        let want_names: Vec<String> = want
            .iter()
            .map(|w| w.split('(').next().unwrap().trim().to_string())
            .collect();
        let mut want_sorted = want_names.clone();
        want_sorted.sort();
        if want_sorted != got_names {
            failures.push(format!(
                "{name}:{line}: expected {want_sorted:?}, found {got:?}"
            ));
            continue;
        }
        for w in &want {
            if let Some((rule, sev)) = w.split_once('(') {
                let sev = sev.trim_end_matches(')');
                if !got.iter().any(|(n, s)| n == rule.trim() && s == sev) {
                    failures.push(format!(
                        "{name}:{line}: expected {rule} at severity {sev}, found {got:?}"
                    ));
                }
            }
        }
    }
    failures
}

#[test]
fn fixtures_match_their_expectations() {
    let mut failures = Vec::new();
    for path in fixture_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let (doc, analysis) = analyze_text(&text, &options_for(&path));
        assert!(
            analysis.panics.is_empty(),
            "{}: a rule panicked: {:?}",
            path.display(),
            analysis.panics
        );
        let name = path
            .strip_prefix(fixtures_dir())
            .unwrap()
            .display()
            .to_string();
        failures.extend(compare(&name, &text, &doc.rope, &analysis.findings));
    }
    assert!(
        failures.is_empty(),
        "fixture mismatches:\n{}",
        failures.join("\n")
    );
}

/// Every file of the project in `dir`, analysed as one project (the CLI's phases: summarise,
/// resolve, run the rules with the project's facts): (path, text, document, analysis).
fn analyse_project(
    dir: &Path,
) -> Vec<(
    PathBuf,
    String,
    keylint::document::Document,
    keylint::engine::Analysis,
)> {
    use keylint::dataflow::cross::FlowResolver;
    use keylint::project::{flow::FixedView, Project};
    let files = keylint::project::discover(dir, |_, _| false);
    let docs: Vec<(PathBuf, String, keylint::document::Document)> = files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let doc = keylint::document::Document::new(&text, 0);
            (p, text, doc)
        })
        .collect();
    let mut project = Project::new();
    let paths: Vec<PathBuf> = docs.iter().map(|(p, _, _)| p.clone()).collect();
    let ids = project.add(&paths);
    for (&i, (p, _, doc)) in ids.iter().zip(&docs) {
        let summary =
            keylint::engine::summarise::summarise(doc.view(), doc.source(), &options_for(p));
        project.modules[i].summary = Some(std::sync::Arc::new(summary));
    }
    let views = project.resolve_all();
    docs.into_iter()
        .zip(ids)
        .map(|((p, text, doc), i)| {
            let mut analyzer = keylint::engine::Analyzer::new();
            let resolver = views.get(&i).map(|v| {
                std::sync::Arc::new(FixedView(v.clone())) as std::sync::Arc<dyn FlowResolver>
            });
            analyzer.set_resolver(resolver);
            let analysis = analyzer.analyze(doc.view(), doc.source(), &options_for(&p));
            (p, text, doc, analysis)
        })
        .collect()
}

#[test]
fn project_fixtures_match_their_expectations() {
    let mut failures = Vec::new();
    let mut related_checked = 0;
    let mut projects = 0;
    for entry in std::fs::read_dir(projects_dir()).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        projects += 1;
        for (path, text, doc, analysis) in analyse_project(&dir) {
            assert!(
                analysis.panics.is_empty(),
                "{}: {:?}",
                path.display(),
                analysis.panics
            );
            let name = path
                .strip_prefix(fixtures_dir())
                .unwrap()
                .display()
                .to_string();
            failures.extend(compare(&name, &text, &doc.rope, &analysis.findings));
            for (i, line) in text.lines().enumerate() {
                let Some(at) = line.find("# expect-related:") else {
                    continue;
                };
                let file = line[at + "# expect-related:".len()..].trim();
                related_checked += 1;
                let found = analysis.findings.iter().any(|f| {
                    doc.rope.byte_to_line(f.range.start) == i
                        && f.related.iter().any(|r| {
                            r.file.as_deref().is_some_and(|p| {
                                Path::new(p).file_name().is_some_and(|n| n == file)
                                    && std::fs::read_to_string(p).is_ok_and(|t| {
                                        r.range.end <= t.len()
                                            && !t[r.range.clone()].trim().is_empty()
                                    })
                            })
                        })
                });
                if !found {
                    failures.push(format!(
                        "{name}:{}: no finding with a related place in {file}: {:?}",
                        i + 1,
                        analysis.findings
                    ));
                }
            }
        }
    }
    assert!(projects > 0 && related_checked > 0);
    assert!(
        failures.is_empty(),
        "project fixture mismatches:\n{}",
        failures.join("\n")
    );
}

fn rule_counts(text: &str, options: &Options) -> BTreeMap<&'static str, usize> {
    let (_, analysis) = analyze_text(text, options);
    let mut counts = BTreeMap::new();
    for f in &analysis.findings {
        *counts.entry(f.rule.code).or_insert(0) += 1;
    }
    counts
}

#[test]
fn every_fix_parses_removes_its_finding_adds_nothing_and_is_not_offered_again() {
    let mut failures = Vec::new();
    let mut fixes_checked = 0;
    for path in fixture_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let options = options_for(&path);
        let (doc, analysis) = analyze_text(&text, &options);
        let before = rule_counts(&text, &options);
        let name = path
            .strip_prefix(fixtures_dir())
            .unwrap()
            .display()
            .to_string();
        for finding in &analysis.findings {
            let line = doc.rope.byte_to_line(finding.range.start) + 1;
            for fix in &finding.fixes {
                fixes_checked += 1;
                let edits = materialize(fix, &analysis.model, doc.source());
                let (fixed, _) = apply_edits(&text, &edits);
                let where_ = format!("{name}:{line} {} fix `{}`", finding.rule.code, fix.title);
                let (fixed_doc, after) = analyze_text(&fixed, &options);
                if fixed_doc.tree.root_node().has_error() {
                    failures.push(format!("{where_}: result does not parse:\n{fixed}"));
                    continue;
                }
                let after_counts = rule_counts(&fixed, &options);
                let n_before = before.get(finding.rule.code).copied().unwrap_or(0);
                let n_after = after_counts.get(finding.rule.code).copied().unwrap_or(0);
                if n_after >= n_before {
                    failures.push(format!(
                        "{where_}: finding not gone ({n_before} → {n_after}):\n{fixed}"
                    ));
                }
                for (code, n) in &after_counts {
                    if *code != finding.rule.code && *n > before.get(code).copied().unwrap_or(0) {
                        failures.push(format!("{where_}: adds a {code} finding:\n{fixed}"));
                    }
                }
                let offered_again = after.findings.iter().any(|f| {
                    f.rule == finding.rule
                        && f.fixes.iter().any(|g| g.title == fix.title)
                        && fixed_doc.rope.byte_to_line(f.range.start) + 1 >= line
                        && f.message == finding.message
                        && analysis
                            .findings
                            .iter()
                            .filter(|o| o.rule == finding.rule && o.message == finding.message)
                            .count()
                            <= after
                                .findings
                                .iter()
                                .filter(|o| o.rule == finding.rule && o.message == finding.message)
                                .count()
                });
                if offered_again {
                    failures.push(format!("{where_}: the same fix is offered again:\n{fixed}"));
                }
            }
        }
    }
    assert!(fixes_checked > 0, "no fix was checked");
    assert!(
        failures.is_empty(),
        "{} fix failures:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn fix_all_with_unsafe_fixes_is_clean_and_stable() {
    let mut failures = Vec::new();
    for path in fixture_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let options = options_for(&path);
        let once = fix_all(&text, &options, true);
        let name = path
            .strip_prefix(fixtures_dir())
            .unwrap()
            .display()
            .to_string();
        let (doc, analysis) = analyze_text(&once.text, &options);
        if doc.tree.root_node().has_error() {
            failures.push(format!(
                "{name}: fix-all result does not parse:\n{}",
                once.text
            ));
            continue;
        }
        let fixable_left: Vec<_> = analysis
            .findings
            .iter()
            .filter(|f| f.fixes.iter().any(|x| x.workspace_ops.is_empty()))
            .map(|f| f.rule.code)
            .collect();
        if !fixable_left.is_empty() {
            failures.push(format!(
                "{name}: fixable findings left after fix-all: {fixable_left:?}\n{}",
                once.text
            ));
        }
        let twice = fix_all(&once.text, &options, true);
        if twice.text != once.text {
            failures.push(format!("{name}: fix-all is not stable"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn env_fix_snapshot_basic() {
    let path = fixtures_dir().join("flask/hardcoded_basic.py");
    let text = std::fs::read_to_string(&path).unwrap();
    let fixed = fix_all(&text, &options_for(&path), true).text;
    insta::assert_snapshot!(fixed);
}
