//! The configuration applied to the findings of one file (the last step of every analysis the CLI
//! and the server report).

use std::path::Path;

use super::redact::redact;
use crate::config::suppress;
use crate::config::{Config, UNUSED_SUPPRESSION};
use crate::document::{SourceText, TreeView};
use crate::finding::Finding;

/// Applies the configuration to the findings of one file: drops rules not enabled for it, applies
/// severity overrides (a finding the rule already lowered, a hint in test code, keeps its
/// severity), removes suppressed findings and reports unused suppressions (`KL001`). Sorted by
/// position. `tree` and `src` are the analysed document's.
pub fn postprocess(
    findings: Vec<Finding>,
    config: &Config,
    path: &Path,
    tree: TreeView,
    src: SourceText,
) -> Vec<Finding> {
    postprocess_known(findings, config, path, tree, src, None)
}

/// [`postprocess`], told whether the text spells `keylint` at all (`mentions`: what the analyzer
/// keeps per document, [`crate::engine::Analysis::mentions_keylint`]; `None`: the text is read).
pub fn postprocess_known(
    findings: Vec<Finding>,
    config: &Config,
    path: &Path,
    tree: TreeView,
    src: SourceText,
    mentions: Option<bool>,
) -> Vec<Finding> {
    let enabled = config.enabled_codes(path);
    let mut findings: Vec<Finding> = findings
        .into_iter()
        .filter(|f| enabled.contains(&f.rule.code))
        .map(|mut f| {
            if let Some(s) = config.severity_of(f.rule.code) {
                if f.severity == f.rule.severity {
                    f.severity = s;
                }
            }
            f
        })
        .collect();
    findings = match mentions {
        Some(m) => suppress::apply_known(findings, &enabled, tree, src, m),
        None => suppress::apply(findings, &enabled, tree, src),
    };
    if let Some(s) = config.severity_of(UNUSED_SUPPRESSION.code) {
        for f in &mut findings {
            if f.rule.code == UNUSED_SUPPRESSION.code {
                f.severity = s;
            }
        }
    }
    findings.sort_by(|a, b| {
        (a.range.start, a.range.end, a.rule.code).cmp(&(b.range.start, b.range.end, b.rule.code))
    });
    // The one exit of every reported finding (CLI and server): no message carries a key.
    for f in &mut findings {
        redact(f);
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::analyze_text;
    use crate::finding::Severity;

    #[test]
    fn postprocess_applies_enabled_rules_severity_and_suppressions() {
        // A named secret that is neither a token format nor random-looking: KL101's default
        // severity (`sk-test-…` would now match the OpenAI key format and be raised to error,
        // which a configured severity does not override).
        let text = "API_KEY = \"hunter2hunter2\"\nTOKEN = \"tok-9a8b7c6d5e4f\"  # keylint: ignore[KL101]\nX = 1  # keylint: ignore\n";
        let path = Path::new("app.py");
        let run = |config: &Config| {
            let (doc, analysis) = analyze_text(text, &config.options_for(path));
            postprocess(analysis.findings, config, path, doc.view(), doc.source())
                .iter()
                .map(|f| (doc.source().line_of(f.range.start), f.rule.code, f.severity))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            run(&Config::default()),
            vec![
                (0, "KL101", Severity::Warning),
                (2, "KL001", Severity::Hint)
            ]
        );
        let config = Config {
            severity: vec![("KL101", Severity::Error)],
            ignore: vec!["KL001"],
            ..Config::default()
        };
        assert_eq!(run(&config), vec![(0, "KL101", Severity::Error)]);
        let config = Config {
            ignore: vec!["KL101"],
            ..Config::default()
        };
        assert_eq!(
            run(&config),
            vec![(2, "KL001", Severity::Hint)],
            "a suppression of a rule that did not run is not reported"
        );
    }
}
