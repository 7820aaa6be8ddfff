//! The workspace index: the project model ([`crate::project`]) of the workspace folders, built in
//! the background after `initialized` (with `$/progress`, cancellable through
//! `window/workDoneProgress/cancel`), kept current for closed files through
//! `workspace/didChangeWatchedFiles` (`**/*.py`), and for open ones from their analyses. Only
//! summaries are kept: no tree of a closed file.
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
use crate::engine::{Analysis, Analyzer};
use crate::project::flow::{LiveFlow, LiveResolver};
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
        if let Ok(mut live) = self.flow.lock() {
            live.close(m);
        }
    }
}

/// The summary of a file on disk (`None`: unreadable, not UTF-8, nested too deep).
fn summarise_file(path: &Path) -> Option<ModuleSummary> {
    let bytes = std::fs::read(path).ok()?;
    let decoded = crate::document::encoding::decode(&bytes).ok()?;
    let doc = Document::new(&decoded.text, 0);
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

/// After an analysis of an open document (on the analysis thread): its summary, from what the
/// analyzer computed, replaces the one of the index. (Its flows are there already: its resolver
/// put them there; what may change here is its imports.)
pub fn after_analysis(job: &Job, analyzer: &Analyzer, analysis: &Analysis, ws: &Workspace) {
    let Some(path) = job.path.as_deref() else {
        return;
    };
    if !ws.indexed.load(Ordering::Acquire) {
        return;
    }
    if job.too_large.is_some() {
        if let Ok(mut texts) = ws.texts.lock() {
            texts.analysed.remove(path);
            texts.analysing.remove(path);
        }
        return;
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
        return;
    }
    ws.summaries_built.fetch_add(1, Ordering::Relaxed);
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
    set_summary(&ws.project, path, Some(summary));
    record_analysed(ws, path, &job.doc.rope);
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
    let (progress, ws_project, cancel, config, open) = {
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
            st.workspace.project.clone(),
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
    let done = tokio::task::spawn_blocking(move || {
        let mut files = Vec::new();
        for f in &folders {
            let cfg = config.clone();
            files.extend(crate::project::discover(f, move |p, is_dir| {
                cfg.get_known(p, is_dir)
                    .map(|c| c.is_excluded(p))
                    .unwrap_or(false)
            }));
        }
        let summaries: Vec<(PathBuf, Option<ModuleSummary>)> = files
            .into_par_iter()
            .map(|p| {
                let s = if cancel2.load(Ordering::Relaxed) || open.contains(&p) {
                    None
                } else {
                    summarise_file(&p)
                };
                (p, s)
            })
            .collect();
        let Ok(mut project) = ws_project.write() else {
            return 0;
        };
        let paths: Vec<PathBuf> = summaries.iter().map(|(p, _)| p.clone()).collect();
        let ids = project.add(&paths);
        for (i, (_, s)) in ids.into_iter().zip(summaries) {
            if project.modules[i].summary.is_none() {
                project.modules[i].summary = s.map(Arc::new);
            }
        }
        paths.len()
    })
    .await
    .unwrap_or(0);
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
                    format!("{done} Python files indexed")
                }),
            }),
        )
        .await;
    }
    server
        .log(
            MessageType::INFO,
            format!("keylint: workspace indexed ({done} Python files)"),
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
/// summaries follow, and the open documents are analysed again.
pub async fn files_changed(server: &Server, changes: &[FileEvent]) {
    let py: Vec<(PathBuf, FileChangeType)> = changes
        .iter()
        .filter(|c| c.uri.as_str().ends_with(".py"))
        .filter_map(|c| Some((c.uri.to_file_path()?.into_owned(), c.typ)))
        .collect();
    if py.is_empty() {
        return;
    }
    let (project, open): (Arc<RwLock<Project>>, Vec<PathBuf>) = {
        let st = server.state();
        if !st.workspace.indexed.load(Ordering::Acquire) {
            return;
        }
        (
            st.workspace.project.clone(),
            st.docs.values().filter_map(|d| d.path.clone()).collect(),
        )
    };
    let changed = tokio::task::spawn_blocking(move || {
        let mut any = false;
        for (path, typ) in py {
            // An open document's summary comes from its editor text.
            if open.contains(&path) {
                continue;
            }
            if typ == FileChangeType::DELETED {
                if let Ok(mut p) = project.write() {
                    any |= p.remove(&path).is_some();
                }
            } else {
                any |= set_summary(&project, &path, summarise_file(&path));
            }
        }
        any
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
