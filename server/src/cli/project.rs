//! `keylint check`'s project model: before the rules run, every file is summarised (in
//! parallel), the project's imports are resolved and the data flow is resolved across the modules
//! linked by calls ([`crate::project`]). What the checking of a file gets is its *view* of that
//! resolution.

use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::encoding;
use crate::config::Config;
use crate::dataflow::Dataflow;
use crate::project::{ModuleSummary, Project};

/// The summary of one file as `keylint check` reads it (decoded as for the check), or `None` when
/// it is not analysed (unreadable, over `max-file-size`, not decodable, nested too deep).
fn summarise(path: &PathBuf, config: &Config) -> Option<ModuleSummary> {
    let bytes = std::fs::read(path).ok()?;
    if config
        .max_file_size()
        .is_some_and(|l| bytes.len() as u64 > l)
    {
        return None;
    }
    let decoded = encoding::decode(&bytes).ok()?;
    let doc = crate::document::Document::new(&decoded.text, 0);
    if doc.too_deep() {
        return None;
    }
    let options = config.options_for(path);
    Some(crate::engine::summarise::summarise(
        doc.view(),
        doc.source(),
        &options,
    ))
}

/// The data-flow view of every file (by index into `files`) linked to another module of the
/// project by a call; the other files resolve alone, as a single file does.
pub fn views(files: &[PathBuf], configs: &[Arc<Config>]) -> FxHashMap<usize, Arc<Dataflow>> {
    if files.len() < 2 {
        return FxHashMap::default();
    }
    let summaries: Vec<Option<ModuleSummary>> = files
        .par_iter()
        .zip(configs.par_iter())
        .map(|(p, c)| summarise(p, c))
        .collect();
    let mut project = Project::new();
    let ids = project.add(files);
    for (&i, s) in ids.iter().zip(summaries) {
        project.modules[i].summary = s.map(Arc::new);
    }
    let views = project.resolve_all();
    ids.iter()
        .enumerate()
        .filter_map(|(file, m)| views.get(m).map(|v| (file, v.clone())))
        .collect()
}
