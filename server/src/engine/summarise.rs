//! The project model's summary of one module ([`crate::project::ModuleSummary`]), computed by the
//! analyzer without running the rules: what `keylint check` and the server's workspace index
//! compute for every file before resolving the project.

use super::{Analyzer, Options};
use crate::document::{SourceText, TreeView};
use crate::project::ModuleSummary;

/// The summary of the module `tree`/`src` (facts and data-flow summaries; no rule runs).
pub fn summarise(tree: TreeView, src: SourceText, options: &Options) -> ModuleSummary {
    let mut analyzer = Analyzer::new();
    let options = Options {
        select: Some(Vec::new()),
        ..options.clone()
    };
    let analysis = analyzer.analyze(tree, src, &options);
    ModuleSummary::new(analyzer.flows(), &analysis.model, tree, src)
}
