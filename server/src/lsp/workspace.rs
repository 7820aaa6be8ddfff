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

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
    /// Bumped whenever a summary changes.
    pub generation: Arc<AtomicU64>,
    /// Set by `window/workDoneProgress/cancel`: the indexing stops.
    pub cancel: Arc<AtomicBool>,
    /// The data flow resolved across the modules, kept between edits (lock it before
    /// `project`).
    pub flow: Arc<Mutex<LiveFlow>>,
    pub indexed: Arc<AtomicBool>,
    /// The text of each open module as last analysed, with the summary that analysis left: a
    /// related place in that module (whose offsets come from its summary) is converted against
    /// it rather than the file on disk while the summary is still that one.
    pub texts: Mutex<std::collections::HashMap<PathBuf, (Arc<ModuleSummary>, ropey::Rope)>>,
}

impl super::convert::OtherTexts for Workspace {
    fn text_of(&self, path: &Path) -> Option<ropey::Rope> {
        let (summary, rope) = self.texts.lock().ok()?.get(path).cloned()?;
        let project = self.project.read().ok()?;
        let current = project
            .modules
            .get(project.module_of(path)?)?
            .summary
            .as_ref()?;
        // A summary read from disk since (the file saved or changed there): the disk's text.
        Arc::ptr_eq(current, &summary).then_some(rope)
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
            texts.remove(path);
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
            texts.remove(path);
        }
        return;
    }
    let summary = ModuleSummary::new(
        analyzer.flows(),
        &analysis.model,
        job.doc.view(),
        job.doc.source(),
    );
    if set_summary(&ws.project, path, Some(summary)) {
        ws.generation.fetch_add(1, Ordering::AcqRel);
    }
    // The summary now in the project (this one, or an equal one kept) and the text it is of.
    let current = ws.project.read().ok().and_then(|p| {
        p.modules
            .get(p.module_of(path)?)
            .and_then(|m| m.summary.clone())
    });
    if let (Some(current), Ok(mut texts)) = (current, ws.texts.lock()) {
        texts.insert(path.to_path_buf(), (current, job.doc.rope.clone()));
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
    let (progress, ws_project, cancel, config) = {
        let st = server.state();
        (
            st.caps.work_done_progress,
            st.workspace.project.clone(),
            st.workspace.cancel.clone(),
            st.config.clone(),
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
                let s = if cancel2.load(Ordering::Relaxed) {
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
        st.workspace.generation.fetch_add(1, Ordering::AcqRel);
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
        server
            .state()
            .workspace
            .generation
            .fetch_add(1, Ordering::AcqRel);
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
        }
        server
            .state()
            .workspace
            .generation
            .fetch_add(1, Ordering::AcqRel);
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
