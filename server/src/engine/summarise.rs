//! The project model's summary of one module ([`crate::project::ModuleSummary`]), computed by the
//! analyzer without running the rules: what `keylint check` and the server's workspace index
//! compute for every file before resolving the project.

use super::{Analyzer, Options};
use crate::document::{SourceText, TreeView};
use crate::project::ModuleSummary;

/// The summary of the module `tree`/`src` (facts and data-flow summaries; no rule runs, and the
/// module's data flow is not resolved: the summary reads the local flows and the model only).
pub fn summarise(tree: TreeView, src: SourceText, options: &Options) -> ModuleSummary {
    let mut analyzer = Analyzer::new();
    analyzer.facts_only(true);
    let options = Options {
        select: Some(Vec::new()),
        ..options.clone()
    };
    let analysis = analyzer.analyze(tree, src, &options);
    ModuleSummary::new(analyzer.flows(), &analysis.model, tree, src)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The summary made without resolving the data flow or running the rules is the summary of
    /// a full analysis (every rule, the module resolved), on every fixture file (and every file
    /// under `KEYLINT_SUMMARY_CORPUS`, a directory, when set: real projects).
    #[test]
    fn the_facts_only_summary_is_the_full_one() {
        let mut dirs = vec![crate::test_files::fixtures()];
        dirs.extend(std::env::var_os("KEYLINT_SUMMARY_CORPUS").map(std::path::PathBuf::from));
        let files = crate::test_files::python_files(dirs);
        assert!(files.len() > 50, "fixtures found: {}", files.len());
        let mut with_flows = 0;
        for path in &files {
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            let doc = crate::document::Document::new(&text, 0);
            if doc.too_deep() {
                continue;
            }
            let options = Options::default();
            let cheap = summarise(doc.view(), doc.source(), &options);
            let mut analyzer = Analyzer::new();
            let analysis = analyzer.analyze(doc.view(), doc.source(), &options);
            let full =
                ModuleSummary::new(analyzer.flows(), &analysis.model, doc.view(), doc.source());
            assert_eq!(
                format!("{cheap:?}"),
                format!("{full:?}"),
                "{}",
                path.display()
            );
            with_flows += usize::from(full.flows().next().is_some());
        }
        assert!(with_flows > 20, "fixtures with flows: {with_flows}");
    }
}
