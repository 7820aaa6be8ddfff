//! `keylint check`'s project model: before the rules run, the files that may have a finding (the
//! pre-filter keeps them) are summarised (in parallel), then the files their calls to functions of
//! other modules lead to, until no call leads to a module not yet summarised; the project's
//! imports are resolved and the data flow is resolved across the modules linked by calls
//! ([`crate::project`]). What the checking of a file gets is its *view* of that resolution.
//!
//! A file that cannot be linked cheaply is never parsed for the model: one the pre-filter skips
//! and that no summarised module calls into, or that has neither a `def` nor an `import` (no
//! function to call, nothing re-exported). A module that calls into a kept file without being
//! kept itself is not summarised either: its calls would only bring key material the pre-filter
//! found no trace of.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::encoding;
use super::prefilter::Prefilter;
use crate::config::Config;
use crate::dataflow::Dataflow;
use crate::engine::pipeline::Parsed;
use crate::engine::{Analysis, Analyzer};
use crate::project::{ModuleSummary, Project};

/// What the first, cheap pass reads of one file: its text, as `keylint check` decodes it, whether
/// the pre-filter keeps it (true without one) and whether it can be linked to another module.
struct Scanned {
    text: String,
    keep: bool,
    linkable: bool,
}

/// Reads and decodes a file (`None`: not analysed: unreadable, over `max-file-size`, not
/// decodable) and runs the pre-filter on it.
fn scan(path: &PathBuf, config: &Config, prefilter: Option<&Prefilter>) -> Option<Scanned> {
    let bytes = std::fs::read(path).ok()?;
    if config
        .max_file_size()
        .is_some_and(|l| bytes.len() as u64 > l)
    {
        return None;
    }
    let text = encoding::decode(&bytes).ok()?.text;
    let keep = prefilter.is_none_or(|p| p.keep(text.as_bytes()));
    let linkable = memchr::memmem::find(text.as_bytes(), b"def ").is_some()
        || memchr::memmem::find(text.as_bytes(), b"import").is_some();
    Some(Scanned {
        text,
        keep,
        linkable,
    })
}

/// The summary of one file's text (`None`: nested too deep to parse).
fn summarise(text: &str, path: &Path, config: &Config) -> Option<ModuleSummary> {
    let doc = crate::document::Document::new(text, 0);
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

/// A file the pre-filter keeps, parsed and analysed alone in the first pass (its summary is taken
/// from that analysis): the check uses it as it is when the file is linked to no other module,
/// and analyses it again with its view otherwise (the analyzer keeps the items' facts and flows).
pub struct Prepared {
    pub doc: Parsed,
    pub analyzer: Analyzer,
    pub analysis: Analysis,
}

/// Parses and analyses a kept file, and summarises it (`None`: nested too deep to parse).
fn prepare(text: &str, path: &Path, config: &Config) -> (Prepared, Option<ModuleSummary>) {
    let (tree, too_deep) = crate::document::parse_text(text);
    let doc = Parsed {
        rope: ropey::Rope::from_str(text),
        tree,
        too_deep,
    };
    let mut analyzer = Analyzer::new();
    let analysis = crate::engine::pipeline::analyze(
        &mut analyzer,
        doc.view(),
        doc.source(),
        config,
        Some(path),
    );
    let summary = (!too_deep)
        .then(|| ModuleSummary::new(analyzer.flows(), &analysis.model, doc.view(), doc.source()));
    (
        Prepared {
            doc,
            analyzer,
            analysis,
        },
        summary,
    )
}

/// The project model of a check.
pub struct Views {
    /// The data-flow view of every file (by index into the files) linked to another module of
    /// the project by a call; the other files resolve alone, as a single file does.
    pub views: FxHashMap<usize, Arc<Dataflow>>,
    /// Per file, whether the pre-filter keeps it, where the first pass read it (`None`: it could
    /// not, the check reports why).
    pub keep: Vec<Option<bool>>,
    /// The kept files, analysed alone.
    pub prepared: Vec<Option<Prepared>>,
}

/// The project model of `files` (each with its configuration and pre-filter).
pub fn views(
    files: &[PathBuf],
    configs: &[Arc<Config>],
    prefilter_for: &(dyn Fn(&Config) -> Option<Arc<Prefilter>> + Sync),
) -> Views {
    if files.len() < 2 {
        return Views {
            views: FxHashMap::default(),
            keep: vec![None; files.len()],
            prepared: (0..files.len()).map(|_| None).collect(),
        };
    }
    let scanned: Vec<Option<Scanned>> = files
        .par_iter()
        .zip(configs.par_iter())
        .map(|(p, c)| scan(p, c, prefilter_for(c).as_deref()))
        .collect();
    let keep: Vec<Option<bool>> = scanned.iter().map(|s| s.as_ref().map(|s| s.keep)).collect();
    let mut project = Project::new();
    let ids = project.add(files);
    // Module → file.
    let mut file_of: FxHashMap<usize, usize> = FxHashMap::default();
    for (file, &m) in ids.iter().enumerate() {
        file_of.insert(m, file);
    }
    let mut tried = vec![false; files.len()];
    let mut prepared: Vec<Option<Prepared>> = (0..files.len()).map(|_| None).collect();
    let mut next: Vec<usize> = (0..files.len())
        .filter(|&f| scanned[f].as_ref().is_some_and(|s| s.keep))
        .collect();
    // Calls to functions of other modules that do not resolve (yet): (module, import path).
    let mut pending: Vec<(usize, String)> = Vec::new();
    while !next.is_empty() {
        for &f in &next {
            tried[f] = true;
        }
        let summaries: Vec<(usize, Option<ModuleSummary>, Option<Prepared>)> = next
            .par_iter()
            .map(|&f| {
                let s = scanned[f].as_ref().expect("scanned");
                if s.keep {
                    let (p, summary) = prepare(&s.text, &files[f], &configs[f]);
                    (f, summary, Some(p))
                } else {
                    (f, summarise(&s.text, &files[f], &configs[f]), None)
                }
            })
            .collect();
        for (f, s, p) in summaries {
            let m = ids[f];
            // Only the calls of kept files lead to modules to summarise (the functions they
            // call, found through re-exports), not the calls of those modules in turn.
            if let Some(s) = s.as_ref().filter(|_| p.is_some()) {
                // A class called (`HttpResponse(...)`) is no function the data flow follows:
                // the modules its import leads to need no summary for it.
                let mut calls: Vec<&str> = s
                    .external_calls()
                    .filter(|p| {
                        !p.rsplit('.')
                            .next()
                            .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_uppercase()))
                    })
                    .collect();
                calls.sort_unstable();
                calls.dedup();
                pending.extend(calls.into_iter().map(|p| (m, p.to_string())));
            }
            project.modules[m].summary = s.map(Arc::new);
            prepared[f] = p;
        }
        // The modules the pending calls lead to and that have no summary yet (a module
        // summarised now may take the resolution of an earlier call one re-export further).
        let mut wanted: Vec<usize> = Vec::new();
        pending.retain(|(m, path)| {
            if project.resolve_import(*m, path).is_some() {
                return false;
            }
            let missing = project.unsummarised_for(*m, path);
            let more = !missing.is_empty();
            wanted.extend(missing.into_iter().filter_map(|j| file_of.get(&j).copied()));
            more
        });
        wanted.sort_unstable();
        wanted.dedup();
        wanted.retain(|&f| !tried[f] && scanned[f].as_ref().is_some_and(|s| s.linkable));
        next = wanted;
    }
    let mut views = project.resolve_all();
    // A file the pre-filter skips is analysed with its view only when the view brings it
    // something the file alone has not: key material, a path to a scan, or sinks of functions of
    // other modules. Without them its findings are those of the file alone, which the pre-filter
    // says are none.
    for (file, &m) in ids.iter().enumerate() {
        if keep[file] == Some(false) && views.get(&m).is_some_and(|v| !carries_anything(v)) {
            views.remove(&m);
        }
    }
    // The analyzer of a kept file without a view is not run again: only its result is kept.
    for (file, &m) in ids.iter().enumerate() {
        if !views.contains_key(&m) {
            if let Some(p) = &mut prepared[file] {
                p.analyzer = Analyzer::new();
            }
        }
    }
    Views {
        views: ids
            .iter()
            .enumerate()
            .filter_map(|(file, m)| views.get(m).map(|v| (file, v.clone())))
            .collect(),
        keep,
        prepared,
    }
}

/// The view holds key material, a path to a scan, or a function of another module whose
/// parameters reach a sink.
fn carries_anything(df: &Dataflow) -> bool {
    df.global_facts().values().any(|c| !c.is_empty())
        || df.function_facts().iter().any(|(name, f)| {
            f.scan.is_some()
                || f.param_in.iter().any(|p| !p.is_empty())
                || f.ret
                    .iter()
                    .any(|r| matches!(r, crate::dataflow::RetSym::Conc(_)))
                || (name.starts_with('@') && f.param_sinks.iter().any(|&b| b != 0))
        })
}
