//! The one composition the CLI and the language server share: options from the configuration,
//! the analysis, then [`postprocess`](super::postprocess). Fixes (one file's quick fixes, fix-all)
//! are taken from its findings, so suppressed findings are never fixed and `KL001`'s own fix comes
//! through like any other.

use std::path::Path;

use tree_sitter::Tree;

use super::Config;
use crate::analysis::{Analysis, Analyzer};
use crate::document::SourceText;

/// Analyses one parsed file under `config`: the findings are the reported ones (rules enabled for
/// the file, severity overrides, suppressions applied, unused suppressions as `KL001`). `path` is
/// the file's path as the configuration sees it (`None`: an unsaved editor buffer).
pub fn analyze(
    analyzer: &mut Analyzer,
    tree: &Tree,
    src: SourceText,
    config: &Config,
    path: Option<&Path>,
) -> Analysis {
    let at = path.unwrap_or(Path::new(""));
    let mut options = config.options_for(at);
    if path.is_none() {
        options.file.path = None;
    }
    let mut analysis = analyzer.analyze(tree, src, &options);
    let findings = std::mem::take(&mut analysis.findings);
    analysis.findings = super::postprocess(findings, config, at, tree, src);
    analysis
}
