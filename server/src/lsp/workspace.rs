//! The workspace index: the project model ([`crate::project`]) of the workspace folders, built in
//! the background after `initialized` (with `$/progress`, cancellable through
//! `window/workDoneProgress/cancel`), kept current for closed files through
//! `workspace/didChangeWatchedFiles` (`**/*.py`), and for open ones from their analyses. Only
//! summaries are kept: no tree of a closed file.
//!
//! The index is *lazy* ([`crate::project::lazy`]): at start-up every file is read and run through
//! the pre-filter (with its configuration's secret names), and only the files it keeps are parsed
//! and summarised, with, transitively, the modules their calls, the names they read and the
//! configuration classes they load lead to. Every other module is added to the project (its name
//! resolves imports) and stays *not summarised yet* ([`LazyIndex::lazy`]; a module without a
//! summary that is not in it is unreadable, nested too deep or gone). When an open document's
//! analysis leads to such a module (a call, a name, an import of a class), [`after_analysis`]
//! queues the document's module, and a task of its own summarises what it leads to on the pool
//! and re-analyses the open documents whose view changed ([`republish_linked`]): a keystroke never
//! waits for the parse of another file.
//!
//! An open document's analyzer resolves its data flow with the rest of the project
//! ([`LiveResolver`], over the project's incremental [`LiveFlow`]); when an analysis changes what
//! another module sees of the project (its *view*), the open documents of those modules — and
//! only those — are analysed again and republished (push), or the client is asked to pull again
//! (`workspace/diagnostic/refresh`).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use rayon::prelude::*;
use tower_lsp_server::ls_types::*;

use crate::dataflow::cross::FlowResolver;
use crate::document::Document;
use crate::engine::prefilter::Prefilter;
use crate::engine::{Analysis, Analyzer};
use crate::project::flow::{LiveFlow, LiveResolver};
use crate::project::lazy::{Closure, Reach};
use crate::project::{ModuleSummary, Project};

use super::server::{Job, Server};

/// The progress token of the indexing.
pub const PROGRESS_TOKEN: &str = "keylint-index";

/// The index of the workspace (part of the server's state).
#[derive(Default)]
pub struct Workspace {
    pub project: Arc<RwLock<Project>>,
    /// Set by `window/workDoneProgress/cancel`: the indexing stops.
    pub cancel: Arc<AtomicBool>,
    /// The data flow resolved across the modules, kept between edits (lock it before
    /// `project`).
    pub flow: Arc<Mutex<LiveFlow>>,
    pub indexed: Arc<AtomicBool>,
    /// The texts of the open modules that a related place in them (whose offsets come from
    /// their summaries) is converted against rather than the file on disk.
    pub texts: Mutex<OpenTexts>,
    /// How many module summaries the analyses of open documents built from their models and
    /// trees ([`ModuleSummary::new_like`]); an analysis that merged no item's facts reuses the
    /// last one instead (counted by tests: a keystroke inside a body builds none).
    pub summaries_built: AtomicUsize,
    /// The modules not summarised yet, and what the on-demand summaries have to follow (lock it
    /// before `project`, never while parsing).
    pub lazy: Mutex<LazyIndex>,
    /// One pre-filter per distinct `extra-secret-names` of the configurations seen.
    prefilters: Mutex<Vec<(Vec<String>, Arc<Prefilter>)>>,
    /// How many modules the index parsed and summarised from disk: at start-up, then on demand.
    pub parsed: [AtomicUsize; 2],
}

/// What the lazy index knows of the modules it has not summarised (see the module's
/// documentation).
#[derive(Default)]
pub struct LazyIndex {
    /// The modules added without a summary that may get one from disk when something leads to
    /// them (by index into the project's modules).
    pub lazy: rustc_hash::FxHashSet<usize>,
    /// Open modules whose leads changed since they were last followed.
    dirty: Vec<usize>,
    /// Per open module, the summary whose leads were last followed.
    followed: rustc_hash::FxHashMap<usize, Arc<ModuleSummary>>,
    /// A task summarises on demand ([`spawn_on_demand`]).
    running: bool,
}

/// The texts of the open modules whose summaries the project holds.
#[derive(Default)]
pub struct OpenTexts {
    /// Each open module's text as last analysed, with the summary that analysis left: the text
    /// while the summary is still that one.
    analysed: HashMap<PathBuf, (Arc<ModuleSummary>, ropey::Rope)>,
    /// The text of an open module being analysed, with the summary the project had when the
    /// analysis started. The analysis puts its flows in the project as it resolves them (before
    /// it ends and records its text above): a summary other than that one is of this text. A
    /// module analysed at that moment because of the change (it reads the new flows) converts
    /// the places in them against it, not against the text before the edit or the file on disk.
    analysing: HashMap<PathBuf, (Option<Arc<ModuleSummary>>, ropey::Rope)>,
}

impl super::convert::OtherTexts for Workspace {
    fn text_of(&self, path: &Path) -> Option<ropey::Rope> {
        // The texts first, then the project (as the analyses lock them).
        let texts = self.texts.lock().ok()?;
        let project = self.project.read().ok()?;
        project.module_of(path)?;
        let current = project.summary_of(path);
        if let Some((summary, rope)) = texts.analysed.get(path) {
            if current.is_some_and(|c| Arc::ptr_eq(c, summary)) {
                return Some(rope.clone());
            }
        }
        if let Some((before, rope)) = texts.analysing.get(path) {
            let same = match (current, before) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            };
            if !same {
                return Some(rope.clone());
            }
        }
        // A summary read from disk since (the file saved or changed there, or not yet analysed
        // since it was opened): the disk's text.
        None
    }
}

impl Workspace {
    /// An analysis of the open module at `path`, of `rope`, starts (see
    /// [`OpenTexts::analysing`]); [`after_analysis`] or [`Workspace::analysis_ended`] ends it.
    pub fn analysis_starts(&self, path: &Path, rope: &ropey::Rope) {
        if !self.indexed.load(Ordering::Acquire) {
            return;
        }
        let Ok(mut texts) = self.texts.lock() else {
            return;
        };
        let before = self
            .project
            .read()
            .ok()
            .and_then(|p| p.summary_of(path).cloned());
        texts
            .analysing
            .insert(path.to_path_buf(), (before, rope.clone()));
    }

    /// The analysis of the open module at `path` ended (recorded by [`after_analysis`], or
    /// failed, or skipped).
    pub fn analysis_ended(&self, path: &Path) {
        if let Ok(mut texts) = self.texts.lock() {
            texts.analysing.remove(path);
        }
    }
}

impl Workspace {
    /// The resolver of the open document at `path`, once the workspace is indexed.
    pub fn resolver_for(&self, path: &Path) -> Option<Arc<dyn FlowResolver>> {
        if !self.indexed.load(Ordering::Acquire) {
            return None;
        }
        let module = self.project.read().ok()?.module_of(path)?;
        Some(Arc::new(LiveResolver::new(
            self.project.clone(),
            self.flow.clone(),
            module,
        )))
    }
}

impl Workspace {
    /// The document of `path` was closed: its text as last analysed and its module's view of the
    /// project go (the view is computed again if it is opened again).
    pub fn closed(&self, path: &Path) {
        if let Ok(mut texts) = self.texts.lock() {
            texts.analysed.remove(path);
            texts.analysing.remove(path);
        }
        let Some(m) = self.project.read().ok().and_then(|p| p.module_of(path)) else {
            return;
        };
        if let Ok(mut lazy) = self.lazy.lock() {
            lazy.followed.remove(&m);
        }
        if let Ok(mut live) = self.flow.lock() {
            live.close(m);
        }
    }

    /// The pre-filter of the file `path` with the configuration `config` gives (its
    /// `extra-secret-names`); without a configuration, the default one.
    fn prefilter_for(&self, config: Option<&crate::config::Config>) -> Option<Arc<Prefilter>> {
        let names: &[String] = config.map_or(&[], |c| c.extra_secret_names.as_slice());
        let mut all = self.prefilters.lock().ok()?;
        if let Some((_, p)) = all.iter().find(|(k, _)| k.as_slice() == names) {
            return Some(p.clone());
        }
        let p = Arc::new(Prefilter::new(names));
        all.push((names.to_vec(), p.clone()));
        Some(p)
    }

    /// Whether the pre-filter keeps the file `path` of text `text` (a file it keeps may have a
    /// finding, or key material may enter there: its module is summarised at once).
    fn kept(&self, config: &crate::config::ConfigCache, path: &Path, text: &str) -> bool {
        let config = config.get_known(path, false).ok();
        self.prefilter_for(config.as_deref())
            .is_none_or(|p| p.keep(text.as_bytes()))
    }
}

/// Follows `roots` (summarised modules) through the lazy index: summarises from disk, in
/// parallel, the modules not summarised yet they lead to, transitively (not the modules of
/// `open` documents: their analyses summarise them). Returns how many it summarised.
fn close_lazily(ws: &Workspace, roots: &[(usize, Reach)], open: &HashSet<PathBuf>) -> usize {
    let mut closure = Closure::default();
    {
        let Ok(p) = ws.project.read() else {
            return 0;
        };
        for &(m, reach) in roots {
            closure.follow(&p, m, reach);
        }
    }
    let mut n = 0;
    loop {
        // The modules not summarised yet, copied: the resolutions below do not hold the lock an
        // analysis takes after each keystroke ([`note_leads`]).
        let lazy: rustc_hash::FxHashSet<usize> = match ws.lazy.lock() {
            Ok(lazy) if !lazy.lazy.is_empty() => lazy.lazy.clone(),
            _ => return n,
        };
        let (wanted, paths): (Vec<(usize, Reach)>, Vec<PathBuf>) = {
            let Ok(p) = ws.project.read() else {
                return n;
            };
            let wanted = closure.next(&p, &|j| {
                lazy.contains(&j) && !open.contains(&p.modules[j].path)
            });
            let paths = wanted
                .iter()
                .map(|&(j, _)| p.modules[j].path.clone())
                .collect();
            (wanted, paths)
        };
        if wanted.is_empty() {
            return n;
        }
        let summaries: Vec<Option<ModuleSummary>> =
            paths.par_iter().map(|p| summarise_file(p)).collect();
        let (Ok(mut lazy), Ok(mut p)) = (ws.lazy.lock(), ws.project.write()) else {
            return n;
        };
        let mut follow = Vec::with_capacity(wanted.len());
        for ((j, reach), s) in wanted.into_iter().zip(summaries) {
            // Summarised meanwhile (opened, changed on disk) or gone: left as it is.
            if !lazy.lazy.remove(&j) || p.modules[j].summary.is_some() {
                continue;
            }
            n += 1;
            if let Some(s) = s {
                p.modules[j].summary = Some(Arc::new(s));
                follow.push((j, reach));
            }
        }
        drop(lazy);
        for (j, reach) in follow {
            closure.follow(&p, j, reach);
        }
    }
}

/// The text of a file on disk (`None`: unreadable, not decodable).
fn read_text(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    Some(crate::document::encoding::decode(&bytes).ok()?.text)
}

/// The summary of a file on disk (`None`: unreadable, not UTF-8, nested too deep).
fn summarise_file(path: &Path) -> Option<ModuleSummary> {
    summarise_text(&read_text(path)?)
}

/// The summary of a file's text (`None`: nested too deep).
fn summarise_text(text: &str) -> Option<ModuleSummary> {
    let doc = Document::new(text, 0);
    if doc.too_deep() {
        return None;
    }
    Some(crate::engine::summarise::summarise(
        doc.view(),
        doc.source(),
        &crate::engine::Options::default(),
    ))
}

/// Sets the summary of module `path` (adding it), returning whether it changed.
fn set_summary(project: &RwLock<Project>, path: &Path, summary: Option<ModuleSummary>) -> bool {
    let Ok(mut p) = project.write() else {
        return false;
    };
    let i = match p.module_of(path) {
        Some(i) => i,
        None => p.add(&[path.to_path_buf()])[0],
    };
    let new = summary.map(Arc::new);
    if p.modules[i].summary.as_deref() == new.as_deref() {
        return false;
    }
    p.modules[i].summary = new;
    true
}

/// [`set_summary`] for an open module's analysis: an equal summary replaces the project's too
/// unless `shared` (the project's holds the analyzer's items already). Returns whether it
/// replaced it.
fn share_summary(
    project: &RwLock<Project>,
    path: &Path,
    summary: ModuleSummary,
    shared: bool,
) -> bool {
    let Ok(mut p) = project.write() else {
        return false;
    };
    let i = match p.module_of(path) {
        Some(i) => i,
        None => p.add(&[path.to_path_buf()])[0],
    };
    if shared && p.modules[i].summary.as_deref() == Some(&summary) {
        return false;
    }
    p.modules[i].summary = Some(Arc::new(summary));
    true
}

/// After an analysis of an open document (on the analysis thread): its summary, from what the
/// analyzer computed, replaces the one of the index. (Its flows are there already: its resolver
/// put them there; what may change here is its imports.) Returns whether the summary was made
/// again and replaced the project's (the project the analysis read changed:
/// [`Analyzer::refresh_project`]).
pub fn after_analysis(job: &Job, analyzer: &Analyzer, analysis: &Analysis, ws: &Workspace) -> bool {
    let Some(path) = job.path.as_deref() else {
        return false;
    };
    if !ws.indexed.load(Ordering::Acquire) {
        return false;
    }
    if job.too_large.is_some() {
        if let Ok(mut texts) = ws.texts.lock() {
            texts.analysed.remove(path);
            texts.analysing.remove(path);
        }
        return false;
    }
    let old = ws
        .project
        .read()
        .ok()
        .and_then(|p| p.summary_of(path).cloned());
    if let Some(old) = old
        .as_ref()
        .filter(|old| facts_as_last(old, analysis, path, ws))
    {
        // The module's facts are the last analysis's (a keystroke inside a body, most of them):
        // the summary is the one the project holds, with this analysis's flows at their starts;
        // nothing of the model or the tree is summarised again (issue #14: 12 % of a keystroke
        // in a 207-line module with no project links).
        let items: Vec<_> = analyzer.flows().collect();
        if !old.same_items(&items) {
            let summary = old.with_items(&items);
            if let Ok(mut p) = ws.project.write() {
                if let Some(i) = p.module_of(path) {
                    p.modules[i].summary = Some(Arc::new(summary));
                }
            }
        }
        record_analysed(ws, path, &job.doc.rope);
        note_leads(ws, path);
        return false;
    }
    ws.summaries_built.fetch_add(1, Ordering::Relaxed);
    // Whether the project's summary holds this analyzer's items themselves: when it does not (the
    // index's, read from disk), an equal summary replaces it all the same, so that the
    // comparisons of the keystrokes to come ([`ModuleSummary::same_items`], the live data flow's)
    // go by address (issue #14: 0.4 ms of the first keystroke after opening a 7,943-line module).
    let shared = old
        .as_ref()
        .is_some_and(|o| o.shares_items(&analyzer.flows().collect::<Vec<_>>()));
    // Made like the summary the project holds (its resolver put this analysis's items there):
    // the sorted names are shared while the items name the same functions.
    let summary = ModuleSummary::new_like(
        old.as_deref(),
        analyzer.flows(),
        &analysis.model,
        job.doc.view(),
        job.doc.source(),
        Some(&analyzer.top_level_starts(ModuleSummary::from_import_kind())),
    );
    drop(old);
    let changed = share_summary(&ws.project, path, summary, shared);
    record_analysed(ws, path, &job.doc.rope);
    note_leads(ws, path);
    changed
}

/// After an analysis of the open module at `path`: when what its summary leads to may have
/// changed since it was last followed (a call to another module, an import), the module is
/// queued for the summaries on demand ([`spawn_on_demand`], from [`republish_linked`]). On a
/// keystroke inside a body this compares the changed items only (by address), and nothing at all
/// once every module is summarised.
fn note_leads(ws: &Workspace, path: &Path) {
    let Ok(mut lazy) = ws.lazy.lock() else {
        return;
    };
    if lazy.lazy.is_empty() {
        return;
    }
    let (m, current) = {
        let Ok(p) = ws.project.read() else {
            return;
        };
        let Some(m) = p.module_of(path) else {
            return;
        };
        let Some(current) = p.modules[m].summary.clone() else {
            return;
        };
        (m, current)
    };
    let same = lazy.followed.get(&m).is_some_and(|last| {
        Arc::ptr_eq(last, &current)
            || (last.same_facts_but_flows(&current) && last.same_external_refs(&current))
    });
    lazy.followed.insert(m, current);
    if !same && !lazy.dirty.contains(&m) {
        lazy.dirty.push(m);
    }
}

/// Summarises on demand, in a task of its own, what the queued open modules lead to
/// ([`note_leads`]) among the modules not summarised yet, transitively, on the blocking pool;
/// then analyses again the open documents whose view of the project changed
/// ([`republish_linked`]); again while those analyses queue more. One such task at a time.
fn spawn_on_demand(server: &Server) {
    let ws = server.state().workspace.clone();
    {
        let Ok(mut lazy) = ws.lazy.lock() else {
            return;
        };
        if lazy.running || lazy.dirty.is_empty() {
            return;
        }
        lazy.running = true;
    }
    let server = server.clone();
    tokio::spawn(async move {
        loop {
            let open: HashSet<PathBuf> = open_paths(&server);
            let roots: Vec<(usize, Reach)> = {
                let Ok(mut lazy) = ws.lazy.lock() else {
                    return;
                };
                if lazy.dirty.is_empty() {
                    lazy.running = false;
                    return;
                }
                std::mem::take(&mut lazy.dirty)
                    .into_iter()
                    .map(|m| (m, Reach::Imports))
                    .collect()
            };
            let ws2 = ws.clone();
            let n = tokio::task::spawn_blocking(move || close_lazily(&ws2, &roots, &open))
                .await
                .unwrap_or(0);
            if n > 0 {
                let total = ws.parsed[1].fetch_add(n, Ordering::Relaxed) + n;
                mem_stats(&format!(
                    "{n} modules summarised on demand ({total} so far)"
                ));
                republish_linked(&server).await;
            }
        }
    });
}

/// The paths of the open documents whose modules their analyses summarise (a document over the
/// size limit is never analysed: its file is summarised as a closed one's).
fn open_paths(server: &Server) -> HashSet<PathBuf> {
    server
        .state()
        .docs
        .values()
        .filter(|d| d.large.is_none())
        .filter_map(|d| d.path.clone())
        .collect()
}

/// Whether the facts of `analysis` other than its flows are those of the summary the last
/// analysis of the same document recorded ([`OpenTexts::analysed`]), and `old` (the project's
/// summary now) holds them: the analyzer merged no item's facts (its model is the last run's),
/// the module reads nothing of other modules' classes, and no loaded configuration has a place
/// in the text (those shift with an edit above them).
fn facts_as_last(
    old: &Arc<ModuleSummary>,
    analysis: &Analysis,
    path: &Path,
    ws: &Workspace,
) -> bool {
    if analysis.facts_merged != 0
        || analysis.items_total == 0
        || !analysis.model.foreign_names.is_empty()
        || !old.loaded_config_sites.is_empty()
    {
        return false;
    }
    let Ok(texts) = ws.texts.lock() else {
        return false;
    };
    texts
        .analysed
        .get(path)
        .is_some_and(|(last, _)| Arc::ptr_eq(last, old) || last.same_facts_but_flows(old))
}

/// Records the summary now in the project for `path` (this analysis's, or an equal one kept)
/// and the text it is of, at once with the end of the analysis (the texts locked first, as
/// readers do).
fn record_analysed(ws: &Workspace, path: &Path, rope: &ropey::Rope) {
    let Ok(mut texts) = ws.texts.lock() else {
        return;
    };
    let current = ws
        .project
        .read()
        .ok()
        .and_then(|p| p.summary_of(path).cloned());
    texts.analysing.remove(path);
    if let Some(current) = current {
        texts
            .analysed
            .insert(path.to_path_buf(), (current, rope.clone()));
    }
}

/// Re-analyses the open documents of the modules whose view of the project changed (the live
/// data flow's stale modules), and publishes them (or asks a pull client to pull again); again
/// while those analyses make more of them stale (a document whose flows differ from its
/// summary's).
pub async fn republish_linked(server: &Server) {
    // The modules the analyses lead to that are not summarised yet: summarised aside.
    spawn_on_demand(server);
    republish_stale(server).await;
    spawn_on_demand(server);
}

async fn republish_stale(server: &Server) {
    for _ in 0..8 {
        let jobs: Vec<Job> = {
            let (flow, project) = {
                let st = server.state();
                (st.workspace.flow.clone(), st.workspace.project.clone())
            };
            let stale: Vec<PathBuf> = {
                let (Ok(mut live), Ok(p)) = (flow.lock(), project.read()) else {
                    return;
                };
                if live.take_trim() {
                    // The first resolution across modules (or a relink) allocated and dropped
                    // much: back to the system.
                    super::large::trim_memory();
                }
                live.take_stale(&p)
                    .into_iter()
                    .filter_map(|m| p.modules.get(m).map(|m| m.path.clone()))
                    .collect()
            };
            if stale.is_empty() {
                return;
            }
            let mut st = server.state();
            let uris: Vec<Uri> = st
                .docs
                .iter()
                .filter(|(_, d)| d.path.as_ref().is_some_and(|p| stale.contains(p)))
                .map(|(u, _)| u.clone())
                .collect();
            for u in &uris {
                if let Some(d) = st.docs.get_mut(u) {
                    d.results = None;
                }
            }
            uris.iter()
                .filter_map(|u| Server::job(&st, u, true))
                .collect()
        };
        if jobs.is_empty() {
            return;
        }
        republish(server, jobs).await;
    }
}

async fn republish(server: &Server, jobs: Vec<Job>) {
    if jobs.is_empty() {
        return;
    }
    // Distinct documents: analysed in parallel (each with its own analyzer locked; the linked
    // ones share the live data flow, locked for their resolution only), then stored and
    // published one by one, each only if its document is still at the analysed version.
    let done = if jobs.len() == 1 {
        let job = jobs.into_iter().next().expect("one job");
        let uri = job.uri.clone();
        vec![(uri, server.analyze(job).await)]
    } else {
        server.analyze_many(jobs).await
    };
    for (uri, r) in done {
        if let Some((generation, results)) = r {
            server.store_and_publish(&uri, generation, results).await;
        }
    }
    let (pull, refresh) = {
        let st = server.state();
        (st.caps.pull_diagnostics, st.caps.diagnostic_refresh)
    };
    if pull && refresh {
        let _ = server.client.workspace_diagnostic_refresh().await;
    }
}

/// With `KEYLINT_MEM_STATS` set, a line on stderr with the allocator's figures after `phase`
/// (`scripts/bench-index` keeps them with `MEM_LOG`): the heap in use and what the arenas hold
/// from the system, in KiB.
pub fn mem_stats(phase: &str) {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if !*ON.get_or_init(|| std::env::var_os("KEYLINT_MEM_STATS").is_some()) {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallinfo2 only reads the allocator's counters.
        let m = unsafe { libc::mallinfo2() };
        eprintln!(
            "keylint mem: {phase}: in use {} KiB, arenas {} KiB (mmapped {} KiB)",
            (m.uordblks + m.hblkhd) / 1024,
            m.arena / 1024,
            m.hblkhd / 1024
        );
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = phase;
}

/// Every open document analysed again with the index (after indexing, or a change on disk).
async fn republish_open(server: &Server) {
    let jobs: Vec<Job> = {
        let mut st = server.state();
        let uris: Vec<Uri> = st.docs.keys().cloned().collect();
        for d in st.docs.values_mut() {
            d.results = None;
        }
        uris.iter()
            .filter_map(|u| Server::job(&st, u, true))
            .collect()
    };
    republish(server, jobs).await;
    // Those analyses may have changed what other open documents see.
    republish_linked(server).await;
    mem_stats("open documents analysed with the index");
    // The first resolution across modules builds and drops much: freed memory back to the
    // system.
    super::large::trim_memory();
}

/// What the start of the indexing made of a file.
enum Start {
    /// The pre-filter keeps it: its summary (`None`: nested too deep).
    Kept(Option<Box<ModuleSummary>>),
    /// Not summarised yet: the pre-filter skips it (or an open document's analysis summarises
    /// it, or the indexing was cancelled).
    Lazy,
    /// Unreadable or not decodable.
    Unreadable,
}

/// Indexes `folders` in a task of its own: the handler that asks for it returns at once, so the
/// messages that follow (a `didOpen`, requests) are handled meanwhile — an open document gets
/// its diagnostics of the file alone, and every open document is analysed again with the project
/// view when the indexing ends ([`index`]).
pub fn spawn_index(server: &Server, folders: Vec<PathBuf>) {
    let server = server.clone();
    tokio::spawn(async move { index(&server, folders).await });
}

/// Indexes `folders` in the background, reporting `$/progress` (begin, end) when the client
/// supports it.
pub async fn index(server: &Server, folders: Vec<PathBuf>) {
    let (progress, cancel, config, open) = {
        let st = server.state();
        // The open documents are not read from disk: their analyses give their summaries, and
        // every one is analysed with the project view once the index ends ([`republish_open`]).
        // Summarising one here parsed and analysed its whole file on the side while it was
        // typed into (a 207-line module: 17 M instructions over the first keystrokes). A document
        // over the size limit is never analysed: its file is summarised as a closed one's.
        let open: HashSet<PathBuf> = st
            .docs
            .values()
            .filter(|d| d.large.is_none())
            .filter_map(|d| d.path.clone())
            .collect();
        (
            st.caps.work_done_progress,
            st.workspace.cancel.clone(),
            st.config.clone(),
            open,
        )
    };
    cancel.store(false, Ordering::Release);
    let token = ProgressToken::String(PROGRESS_TOKEN.into());
    let progress = progress
        && server
            .client
            .create_work_done_progress(token.clone())
            .await
            .is_ok();
    if progress {
        send_progress(
            server,
            &token,
            WorkDoneProgress::Begin(WorkDoneProgressBegin {
                title: "keylint: indexing the workspace".into(),
                cancellable: Some(true),
                message: None,
                percentage: None,
            }),
        )
        .await;
    }
    let cancel2 = cancel.clone();
    let ws = server.state().workspace.clone();
    let (done, parsed) = tokio::task::spawn_blocking(move || {
        let mut files = Vec::new();
        for f in &folders {
            let cfg = config.clone();
            files.extend(crate::project::discover(f, move |p, is_dir| {
                cfg.get_known(p, is_dir)
                    .map(|c| c.is_excluded(p))
                    .unwrap_or(false)
            }));
        }
        // Every file read and pre-filtered; only those the pre-filter keeps are parsed and
        // summarised here (the module's documentation).
        let firsts: Vec<(PathBuf, Start)> = files
            .into_par_iter()
            .map(|p| {
                if cancel2.load(Ordering::Relaxed) || open.contains(&p) {
                    return (p, Start::Lazy);
                }
                let Some(text) = read_text(&p) else {
                    return (p, Start::Unreadable);
                };
                if !ws.kept(&config, &p, &text) {
                    return (p, Start::Lazy);
                }
                let s = summarise_text(&text).map(Box::new);
                (p, Start::Kept(s))
            })
            .collect();
        let mut roots: Vec<(usize, Reach)> = Vec::new();
        let n = firsts.len();
        {
            let (Ok(mut lazy), Ok(mut project)) = (ws.lazy.lock(), ws.project.write()) else {
                return (0, 0);
            };
            let paths: Vec<PathBuf> = firsts.iter().map(|(p, _)| p.clone()).collect();
            let ids = project.add(&paths);
            for (i, (_, first)) in ids.into_iter().zip(firsts) {
                if project.modules[i].summary.is_some() {
                    continue;
                }
                match first {
                    Start::Kept(s) => {
                        if let Some(s) = s {
                            project.modules[i].summary = Some(Arc::new(*s));
                            roots.push((i, Reach::Flows));
                        }
                    }
                    Start::Lazy => {
                        lazy.lazy.insert(i);
                    }
                    Start::Unreadable => {}
                }
            }
        }
        let kept = roots.len();
        let reached = if cancel2.load(Ordering::Relaxed) {
            0
        } else {
            close_lazily(&ws, &roots, &open)
        };
        ws.parsed[0].fetch_add(kept + reached, Ordering::Relaxed);
        (n, kept + reached)
    })
    .await
    .unwrap_or((0, 0));
    mem_stats("indexed");
    // The trees of the files summarised are gone: what glibc keeps of them back to the system.
    super::large::trim_memory();
    let cancelled = cancel.load(Ordering::Acquire);
    {
        let st = server.state();
        st.workspace.indexed.store(true, Ordering::Release);
    }
    if progress {
        send_progress(
            server,
            &token,
            WorkDoneProgress::End(WorkDoneProgressEnd {
                message: Some(if cancelled {
                    format!("cancelled ({done} files listed)")
                } else {
                    format!(
                        "{done} Python files indexed ({parsed} summarised, the others when needed)"
                    )
                }),
            }),
        )
        .await;
    }
    server
        .log(
            MessageType::INFO,
            format!("keylint: workspace indexed ({done} Python files, {parsed} summarised)"),
        )
        .await;
    republish_open(server).await;
}

async fn send_progress(server: &Server, token: &ProgressToken, value: WorkDoneProgress) {
    server
        .client
        .send_notification::<notification::Progress>(ProgressParams {
            token: token.clone(),
            value: ProgressParamsValue::WorkDone(value),
        })
        .await;
}

/// `window/workDoneProgress/cancel`.
pub async fn cancel(server: &Server, params: WorkDoneProgressCancelParams) {
    if params.token == ProgressToken::String(PROGRESS_TOKEN.into()) {
        server
            .state()
            .workspace
            .cancel
            .store(true, Ordering::Release);
    }
}

/// Python files created, changed or deleted on disk (`workspace/didChangeWatchedFiles`): their
/// summaries follow, and the open documents are analysed again. A file created or changed is
/// pre-filtered: summarised when the pre-filter keeps it, when its module was summarised, or when
/// a summarised module leads to it; otherwise it stays not summarised yet.
pub async fn files_changed(server: &Server, changes: &[FileEvent]) {
    let py: Vec<(PathBuf, FileChangeType)> = changes
        .iter()
        .filter(|c| c.uri.as_str().ends_with(".py"))
        .filter_map(|c| Some((c.uri.to_file_path()?.into_owned(), c.typ)))
        .collect();
    if py.is_empty() {
        return;
    }
    let (ws, config, open) = {
        let st = server.state();
        if !st.workspace.indexed.load(Ordering::Acquire) {
            return;
        }
        let open: HashSet<PathBuf> = st.docs.values().filter_map(|d| d.path.clone()).collect();
        (st.workspace.clone(), st.config.clone(), open)
    };
    let changed = tokio::task::spawn_blocking(move || {
        let mut any = false;
        let mut roots: Vec<(usize, Reach)> = Vec::new();
        // A module added: a summarised module may lead to it now.
        let mut lazy_added = false;
        for (path, typ) in py {
            // An open document's summary comes from its editor text.
            if open.contains(&path) {
                continue;
            }
            if typ == FileChangeType::DELETED {
                let (Ok(mut lazy), Ok(mut p)) = (ws.lazy.lock(), ws.project.write()) else {
                    continue;
                };
                if let Some(i) = p.remove(&path) {
                    lazy.lazy.remove(&i);
                    any = true;
                }
                continue;
            }
            let text = read_text(&path);
            let summarised = ws
                .project
                .read()
                .ok()
                .is_some_and(|p| p.summary_of(&path).is_some());
            let keep = summarised || text.as_deref().is_none_or(|t| ws.kept(&config, &path, t));
            if keep {
                any |= set_summary(&ws.project, &path, text.as_deref().and_then(summarise_text));
                if let Ok(p) = ws.project.read() {
                    roots.extend(p.module_of(&path).map(|m| (m, Reach::Flows)));
                }
            } else {
                // Not summarised yet (a summarised module may lead to it: below).
                let (Ok(mut lazy), Ok(mut p)) = (ws.lazy.lock(), ws.project.write()) else {
                    continue;
                };
                let i = match p.module_of(&path) {
                    Some(i) => i,
                    None => {
                        any = true;
                        lazy_added = true;
                        p.add(std::slice::from_ref(&path))[0]
                    }
                };
                lazy.lazy.insert(i);
            }
        }
        if lazy_added {
            // A module added lazily may be one a summarised module leads to (its import
            // resolved nowhere until now): every summarised module followed again.
            if let Ok(p) = ws.project.read() {
                roots = (0..p.modules.len())
                    .filter(|&m| p.modules[m].summary.is_some())
                    .map(|m| {
                        let reach = if open.contains(&p.modules[m].path) {
                            Reach::Imports
                        } else {
                            Reach::Flows
                        };
                        (m, reach)
                    })
                    .collect();
            }
        }
        let n = close_lazily(&ws, &roots, &open);
        ws.parsed[1].fetch_add(n, Ordering::Relaxed);
        any || n > 0
    })
    .await
    .unwrap_or(false);
    if changed {
        republish_open(server).await;
    }
}

/// `workspace/didChangeWorkspaceFolders`: added folders are indexed, the modules of removed ones
/// forgotten.
pub async fn folders_changed(server: &Server, params: DidChangeWorkspaceFoldersParams) {
    let removed: Vec<PathBuf> = params
        .event
        .removed
        .iter()
        .filter_map(|f| f.uri.to_file_path().map(|p| p.into_owned()))
        .collect();
    if !removed.is_empty() {
        let project = server.state().workspace.project.clone();
        if let Ok(mut p) = project.write() {
            let gone: Vec<PathBuf> = p
                .modules
                .iter()
                .map(|m| m.path.clone())
                .filter(|m| removed.iter().any(|r| m.starts_with(r)))
                .collect();
            for g in gone {
                p.remove(&g);
            }
        };
    }
    let added: Vec<PathBuf> = params
        .event
        .added
        .iter()
        .filter_map(|f| f.uri.to_file_path().map(|p| p.into_owned()))
        .collect();
    if added.is_empty() {
        republish_open(server).await;
    } else {
        spawn_index(server, added);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lsp::convert::OtherTexts;

    fn summary_of(text: &str) -> Arc<ModuleSummary> {
        let doc = Document::new(text, 0);
        Arc::new(crate::engine::summarise::summarise(
            doc.view(),
            doc.source(),
            &crate::engine::Options::default(),
        ))
    }

    fn set(ws: &Workspace, path: &Path, s: &Arc<ModuleSummary>) {
        let mut p = ws.project.write().unwrap();
        let m = p.module_of(path).unwrap();
        p.modules[m].summary = Some(s.clone());
    }

    /// The text a related place in an open module is converted against, through an analysis of
    /// an edit: the summary the analysis puts in the project while it resolves is of the edited
    /// text, before the analysis ends (a module analysed meanwhile converts against that text).
    #[test]
    fn a_place_in_an_open_module_is_converted_against_the_text_its_summary_is_of() {
        let ws = Workspace::default();
        ws.indexed.store(true, Ordering::Release);
        let path = PathBuf::from("/p/sink.py");
        ws.project.write().unwrap().add(std::slice::from_ref(&path));
        let text = |t: &str| ws.text_of(&path).map(|r| r.to_string()) == Some(t.into());
        // Indexed from disk, not analysed yet: the disk's text.
        let disk = summary_of("def keep(v):\n    pass\n");
        set(&ws, &path, &disk);
        assert!(ws.text_of(&path).is_none());
        // Opened with another text: while its analysis has not put its flows in the project, the
        // summary is still the disk's.
        let v1 = ropey::Rope::from_str("# one\ndef keep(v):\n    pass\n");
        ws.analysis_starts(&path, &v1);
        assert!(ws.text_of(&path).is_none());
        // Its resolution put them there: that text.
        let s1 = summary_of(&v1.to_string());
        set(&ws, &path, &s1);
        assert!(text("# one\ndef keep(v):\n    pass\n"));
        // The analysis ended and recorded its text.
        ws.texts
            .lock()
            .unwrap()
            .analysed
            .insert(path.clone(), (s1.clone(), v1.clone()));
        ws.analysis_ended(&path);
        assert!(text("# one\ndef keep(v):\n    pass\n"));
        // An edit: until the new flows are in the project, the text analysed before.
        let v2 = ropey::Rope::from_str("# one\n# two\ndef keep(v):\n    pass\n");
        ws.analysis_starts(&path, &v2);
        assert!(text("# one\ndef keep(v):\n    pass\n"));
        set(&ws, &path, &summary_of(&v2.to_string()));
        assert!(text("# one\n# two\ndef keep(v):\n    pass\n"));
        ws.analysis_ended(&path);
        // Analysis over without recording (it failed): a summary of no known text, the disk's.
        assert!(ws.text_of(&path).is_none());
        // Closed: the disk's.
        set(&ws, &path, &s1);
        assert!(text("# one\ndef keep(v):\n    pass\n"));
        ws.closed(&path);
        assert!(ws.text_of(&path).is_none());
    }

    /// Runs the analysis of `text` at `version` the server would run for the open document at
    /// `path` of the indexed workspace `ws`.
    fn analyse_open(
        ws: &Arc<Workspace>,
        path: &Path,
        doc: &Document,
        analyzer: &Arc<Mutex<Analyzer>>,
    ) {
        use std::sync::atomic::{AtomicI32, AtomicU64};
        let job = Job {
            uri: "file:///p/handlers.py".parse().unwrap(),
            generation: 1,
            version: doc.version,
            doc: doc.clone(),
            path: Some(path.to_path_buf()),
            config: Arc::new(crate::config::ConfigCache::default()),
            root: None,
            encoding: crate::document::PositionEncoding::Utf8,
            analyzer: analyzer.clone(),
            latest: Arc::new(AtomicI32::new(doc.version)),
            cost_us: Arc::new(AtomicU64::new(0)),
            settings_epoch: 0,
            runs: Arc::new(AtomicU64::new(0)),
            skip_if_superseded: false,
            too_large: None,
            resolver: ws.resolver_for(path),
            workspace: Some(super::super::server::WorkspaceHandle(ws.clone())),
        };
        assert!(matches!(
            super::super::server::run_job(job),
            super::super::server::JobOutcome::Done(..)
        ));
    }

    /// Typing inside a method body (its flow changes, no item's facts do) builds no module
    /// summary from the model and the tree: the project's summary takes the new flows, and is
    /// what a summary of the text from scratch is after every keystroke. Typing a new import
    /// (new facts) builds one.
    #[test]
    fn a_keystroke_inside_a_body_builds_no_module_summary() {
        use crate::document::{ContentChange, Pos, PositionEncoding};
        let ws = Arc::new(Workspace::default());
        ws.indexed.store(true, Ordering::Release);
        let path = PathBuf::from("/p/handlers.py");
        ws.project.write().unwrap().add(std::slice::from_ref(&path));
        let text = "import os\n\nclass Handler:\n    def get(self, request):\n        \n        return request\n\n\ndef other(v):\n    return os.environ[v]\n";
        let mut doc = Document::new(text, 1);
        let analyzer = Arc::new(Mutex::new(Analyzer::new()));
        analyse_open(&ws, &path, &doc, &analyzer);
        let built = ws.summaries_built.load(Ordering::Relaxed);
        assert_eq!(built, 1);
        let summary = || {
            ws.project
                .read()
                .unwrap()
                .summary_of(&path)
                .cloned()
                .unwrap()
        };
        let typed = "PASSWORD = \"sk-live-4f9c2b7e8d1a6f3c9a0b\"  # typed";
        for (k, c) in typed.char_indices() {
            // ASCII: the byte index is the column.
            let at = Pos::new(4, 8 + k as u32);
            let change = ContentChange {
                range: Some((at, at)),
                text: c.to_string(),
            };
            doc.apply_changes(&[change], doc.version + 1, PositionEncoding::Utf8);
            analyse_open(&ws, &path, &doc, &analyzer);
            assert_eq!(
                *summary(),
                *summary_of(&doc.text()),
                "after {:?}",
                &typed[..=k]
            );
        }
        assert!(doc.text().contains(&format!("        {typed}\n")));
        assert_eq!(ws.summaries_built.load(Ordering::Relaxed), built);
        let at = Pos::new(1, 0);
        let change = ContentChange {
            range: Some((at, at)),
            text: "import hmac\n".into(),
        };
        doc.apply_changes(&[change], doc.version + 1, PositionEncoding::Utf8);
        analyse_open(&ws, &path, &doc, &analyzer);
        assert_eq!(ws.summaries_built.load(Ordering::Relaxed), built + 1);
        assert_eq!(*summary(), *summary_of(&doc.text()));
    }
}
