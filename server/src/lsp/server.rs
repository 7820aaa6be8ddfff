//! Server state and the `LanguageServer` impl (dispatch only; handlers live in `requests/` and
//! `notifications/`).
//!
//! # Ordering
//! tower-lsp-server runs handlers concurrently (`buffer_unordered`, tower-lsp issue #284): the
//! future of message *n + 1* may run before the future of message *n* finishes. What it does
//! guarantee is that the handler futures are *created* in arrival order (one reader loop calls the
//! router per message) and first *polled* in that order (they are pushed in order into a FIFO
//! channel and then into `FuturesUnordered`, whose ready queue is FIFO; while `initialize` runs no
//! other message is even read). The code of an `async fn` before its first `.await` runs during
//! that first poll, as one uninterrupted synchronous step.
//!
//! So every change of document state (`didOpen`, `didChange`, `didClose`, settings) is applied
//! under the [`State`] mutex *before the handler's first `.await`*: the state sees the changes in
//! exactly the order the client sent them, whatever the later interleaving of the handlers. The
//! mutex is a `std::sync::Mutex` that is never held across an `.await`. As a second line of
//! defence every document keeps its LSP version and a `didChange` whose version is not greater
//! than the current one is logged and ignored. Requests (hover, code actions, pull diagnostics)
//! take their snapshot before their first `.await` too, so they are answered for the text the
//! client had when it sent them. (Checked against tower-lsp-server 0.23.0: `transport.rs` feeds
//! `service.call(req)` futures through a bounded channel into `buffer_unordered`; the router and
//! its layers create each handler future synchronously in `call`. Re-check on upgrades; the
//! black-box burst tests would catch a reordering.)
//!
//! # Superseding
//! After a change the handler takes a snapshot (rope and tree clones are cheap) and runs the
//! analysis with the document's own [`Analyzer`] (behind a mutex, so its per-item cache carries
//! over from one version to the next). Where it runs depends on what the document's next analysis
//! is expected to cost: the last one's cost, or, after a first analysis (an empty cache: every
//! item checked), what checking one of its items cost on average, since a keystroke re-checks the
//! item it edits. When that is at most [`INLINE_BUDGET`] the analysis runs right in the handler,
//! on the message loop (the hand-offs to and from the blocking pool, two thread wake-ups, would
//! cost more than the work), provided the analyzer is free; anything else — a first analysis,
//! one after a settings change, an analyzer still busy with an older version, a document whose
//! last analysis was slow — runs on the blocking pool (`spawn_blocking`). The cost is known only
//! afterwards: a keystroke that changes the module model (every item checked again) after cheap
//! ones runs inline once at its full cost (up to a from-scratch analysis: ~0.2 s for 5,000
//! lines), and holds the message loop that long; the next one goes to the pool.
//! A job whose version is no longer the document's latest when it gets the analyzer skips the
//! work. Results are stored and published only while holding `publish_lock`, after checking
//! that the document (same open generation) is still at the analysed version; check and send are
//! atomic with respect to other publishers, so a publish for version *n* can never follow one for
//! *n + 1*, and the last publish is always for the latest text. A settings change bumps an epoch
//! that results must match too. `didClose` removes the document before its first `.await` and
//! then queues its clearing publish on the same (FIFO-fair) `publish_lock`, so no result of the
//! closed document can be published after the clear, and a re-open gets a new generation.
//!
//! # Configuration
//! Every analysis goes through [`crate::engine::pipeline::analyze`], the composition the CLI uses: the document's
//! configuration (nearest `keylint.toml` / `[tool.keylint]`, looked up on the blocking pool through
//! [`State::config`], a [`ConfigCache`] built with the client settings as
//! [`Overrides`](crate::config::Overrides)) decides the rules, severities and suppressions, so the
//! editor shows what `keylint check` reports. A broken configuration is shown once
//! (`window/showMessage`) and the defaults apply. Settings changes and watched configuration
//! files replace the cache and bump the settings epoch, then every open document is republished.

use std::collections::{HashMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use serde_json::Value;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use super::convert;
use super::settings::Settings;
use crate::config::{Config, ConfigCache, ConfigError};
use crate::document::{Document, PositionEncoding};
use crate::engine::{Analysis, Analyzer};

/// An analysis is run in the handler itself, on the message loop, when the document's last one took
/// at most this long (see the module documentation); otherwise on the blocking pool.
pub const INLINE_BUDGET: Duration = Duration::from_millis(2);

/// What the client can do, read once from `initialize`.
#[derive(Debug, Clone, Default)]
pub struct ClientCaps {
    /// `textDocument.diagnostic`: the client pulls diagnostics; never push to it.
    pub pull_diagnostics: bool,
    /// `workspace.diagnostics.refreshSupport`.
    pub diagnostic_refresh: bool,
    /// `workspace.workspaceEdit.documentChanges` with the `create` resource operation: fixes that
    /// touch `.env` / `.gitignore` can be offered.
    pub create_files: bool,
    /// `workspace.workspaceEdit.documentChanges`.
    pub document_changes: bool,
    /// `workspace.didChangeWatchedFiles.dynamicRegistration`: the server registers its watcher of
    /// configuration files after `initialized`.
    pub watch_files_dynamic: bool,
    /// `window.workDoneProgress`: the workspace indexing reports `$/progress`.
    pub work_done_progress: bool,
}

impl ClientCaps {
    pub fn from_capabilities(caps: &ClientCapabilities) -> Self {
        let v = serde_json::to_value(caps).unwrap_or(Value::Null);
        let flag = |ptr: &str| v.pointer(ptr).and_then(Value::as_bool).unwrap_or(false);
        let document_changes = flag("/workspace/workspaceEdit/documentChanges");
        let create = v
            .pointer("/workspace/workspaceEdit/resourceOperations")
            .and_then(Value::as_array)
            .is_some_and(|ops| ops.iter().any(|o| o == "create"));
        ClientCaps {
            pull_diagnostics: v
                .pointer("/textDocument/diagnostic")
                .is_some_and(|d| !d.is_null()),
            diagnostic_refresh: flag("/workspace/diagnostics/refreshSupport"),
            create_files: document_changes && create,
            document_changes,
            watch_files_dynamic: flag("/workspace/didChangeWatchedFiles/dynamicRegistration"),
            work_done_progress: flag("/window/workDoneProgress"),
        }
    }
}

/// Replaced results of a document at least this long are freed on the reaper thread
/// ([`Server::store_and_publish`]): about 500 lines of the generated FastAPI module, where
/// freeing them would cost some 0.04 M instructions (0.64 M measured at 7,943 lines, scaled),
/// against a channel send of 385 instructions and a thread wake-up of a few microseconds.
const REAP_BYTES: usize = 16 * 1024;

/// The analysis of one version of a document, kept for hover, code actions and pull requests.
pub struct Results {
    pub version: i32,
    pub settings_epoch: u64,
    /// When the analysis ran among the document's analyses (see [`Job::runs`]): of two of one
    /// version, the one that ran later saw the project as it was later, and wins.
    pub run: u64,
    /// The text that was analysed (positions of `analysis` are bytes of it).
    pub doc: Document,
    pub analysis: Analysis,
    /// Their `data` kept typed, made JSON when sent ([`convert::Diagnostics`]).
    pub diagnostics: convert::Diagnostics,
    /// The configuration it was analysed under and the path the configuration saw (fix-all
    /// re-analyses with them).
    pub config: Arc<Config>,
    pub path: Option<PathBuf>,
}

pub struct DocState {
    pub doc: Document,
    /// Distinguishes a re-opened document (its versions start again) from the closed one.
    pub generation: u64,
    pub path: Option<PathBuf>,
    pub analyzer: Arc<Mutex<Analyzer>>,
    /// The document's current version, readable from an analysis job without the state lock.
    pub latest: Arc<AtomicI32>,
    /// What the document's next analysis is expected to cost, in microseconds (`u64::MAX` before
    /// the first; see the module documentation).
    pub cost_us: Arc<AtomicU64>,
    /// Counts the document's analyses as they start, with its analyzer locked ([`Job::runs`]).
    pub runs: Arc<AtomicU64>,
    pub results: Option<Arc<Results>>,
    /// The last diagnostics pushed for this document: version, settings epoch and the
    /// diagnostics (a module analysed again for the same version is not pushed again when they
    /// are the same).
    pub pushed: Option<(i32, u64, convert::Diagnostics)>,
    /// The text of a document over the size limit (`lsp/large.rs`): then `doc` is an empty
    /// document (at the right version) and this is the text, never parsed.
    pub large: Option<ropey::Rope>,
}

impl DocState {
    /// A new document state (version and text from `didOpen`): parsed, or kept as text when it is
    /// over `limit`.
    pub fn open(
        text: &str,
        version: i32,
        generation: u64,
        path: Option<PathBuf>,
        limit: Option<usize>,
    ) -> DocState {
        let (doc, large) = if super::large::over(text.len(), limit) {
            (
                Document::new("", version),
                Some(ropey::Rope::from_str(text)),
            )
        } else {
            (Document::new(text, version), None)
        };
        DocState {
            doc,
            generation,
            path,
            analyzer: Arc::new(Mutex::new(Analyzer::new())),
            latest: Arc::new(AtomicI32::new(version)),
            cost_us: Arc::new(AtomicU64::new(u64::MAX)),
            runs: Arc::new(AtomicU64::new(0)),
            results: None,
            pushed: None,
            large,
        }
    }

    /// Parses the text again, or stops parsing it, when its size crossed `limit`; returns whether
    /// the document just went over it.
    pub fn apply_limit(&mut self, limit: Option<usize>) -> bool {
        let version = self.doc.version;
        match &self.large {
            Some(rope) if !super::large::over(rope.len_bytes(), limit) => {
                self.doc = Document::new(&rope.to_string(), version);
                self.large = None;
                self.analyzer = Arc::new(Mutex::new(Analyzer::new()));
                self.cost_us.store(u64::MAX, Ordering::Relaxed);
                false
            }
            None if super::large::over(self.doc.rope.len_bytes(), limit) => {
                self.large = Some(self.doc.rope.clone());
                self.doc = Document::new("", version);
                self.analyzer = Arc::new(Mutex::new(Analyzer::new()));
                self.cost_us.store(u64::MAX, Ordering::Relaxed);
                true
            }
            _ => false,
        }
    }
}

pub struct State {
    pub encoding: PositionEncoding,
    pub caps: ClientCaps,
    /// Workspace root: first workspace folder, else `rootUri`.
    pub root: Option<PathBuf>,
    pub settings: Settings,
    /// The configuration files' lookup, with the settings' overrides; replaced when the settings
    /// change, cleared when a configuration file changes.
    pub config: Arc<ConfigCache>,
    /// Configuration errors already shown to the user (each is shown once).
    pub shown_config_errors: HashSet<String>,
    pub docs: HashMap<Uri, DocState>,
    /// Bumped on every settings or configuration change: results computed under older settings
    /// are never stored.
    pub settings_epoch: u64,
    next_generation: u64,
    /// The project model of the workspace (`lsp/workspace.rs`).
    pub workspace: Arc<super::workspace::Workspace>,
}

impl State {
    /// The size limit of documents (the `maxFileSize` setting); `None`: no limit.
    pub fn max_file_size(&self) -> Option<usize> {
        super::large::limit(self.settings.max_file_size)
    }

    pub fn next_generation(&mut self) -> u64 {
        self.next_generation += 1;
        self.next_generation
    }

    /// Invalidates every result (the settings or a configuration file changed) and returns the
    /// jobs that re-analyse the open documents. Call before the handler's first `.await`.
    pub fn invalidate_all(&mut self) -> Vec<Job> {
        self.settings_epoch += 1;
        let limit = self.max_file_size();
        for d in self.docs.values_mut() {
            // The limit may have changed.
            d.apply_limit(limit);
            d.results = None;
            // New settings can re-check every item: not a job for the message loop.
            d.cost_us.store(u64::MAX, Ordering::Relaxed);
        }
        let uris: Vec<Uri> = self.docs.keys().cloned().collect();
        uris.iter()
            .filter_map(|u| Server::job(self, u, true))
            .collect()
    }
}

/// A snapshot to analyse off the message loop.
pub struct Job {
    pub uri: Uri,
    pub generation: u64,
    pub version: i32,
    pub doc: Document,
    /// The file's path (`None`: an unsaved buffer) and the configuration lookup for it.
    pub path: Option<PathBuf>,
    pub config: Arc<ConfigCache>,
    /// The workspace root: where test-ness is judged from when no configuration file applies.
    pub root: Option<PathBuf>,
    pub encoding: PositionEncoding,
    pub analyzer: Arc<Mutex<Analyzer>>,
    pub latest: Arc<AtomicI32>,
    pub cost_us: Arc<AtomicU64>,
    pub settings_epoch: u64,
    /// The document's count of analyses run, taken when this one starts with the analyzer locked
    /// (so in the order they run, whatever the order their results arrive in). Of two analyses
    /// of one version, the one that ran later wins: it saw the project (other modules' texts,
    /// files on disk) as it was later. One that ran first and was stored last must not stand for
    /// it, or a change of another module seen only by the later one is lost.
    pub runs: Arc<AtomicU64>,
    /// Skip the work when a newer version arrived meanwhile (push); pull requests need an answer.
    pub skip_if_superseded: bool,
    /// The document's size and the limit it is over (then `doc` is empty: nothing is analysed).
    pub too_large: Option<(usize, usize)>,
    /// Resolves its data flow with the workspace's project model, once indexed.
    pub resolver: Option<Arc<dyn crate::dataflow::cross::FlowResolver>>,
    /// The workspace index, whose summary of the document the analysis updates.
    pub workspace: Option<WorkspaceHandle>,
}

/// What an analysis job needs of the workspace index.
#[derive(Clone)]
pub struct WorkspaceHandle(pub std::sync::Arc<super::workspace::Workspace>);

/// The server. A clone is a handle on the same state, publish lock and client: what a task
/// spawned to run in the background (the indexing of the workspace) holds.
#[derive(Clone)]
pub struct Server {
    pub client: Client,
    state: Arc<Mutex<State>>,
    publish_lock: Arc<tokio::sync::Mutex<()>>,
    shutdown: Arc<AtomicBool>,
}

impl Server {
    pub fn new(client: Client) -> Self {
        Server {
            client,
            state: Arc::new(Mutex::new(State {
                encoding: PositionEncoding::Utf16,
                caps: ClientCaps::default(),
                root: None,
                settings: Settings::default(),
                config: Arc::new(ConfigCache::default()),
                shown_config_errors: HashSet::new(),
                docs: HashMap::new(),
                settings_epoch: 0,
                next_generation: 0,
                workspace: Default::default(),
            })),
            publish_lock: Arc::new(tokio::sync::Mutex::new(())),
            shutdown: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Set once `shutdown` was answered; read by `run_stdio` for the exit code.
    pub fn shutdown_flag(&self) -> Arc<AtomicBool> {
        self.shutdown.clone()
    }

    /// The state. Never hold the guard across an `.await`. A poisoned lock (a panic while holding
    /// it) is recovered: every critical section leaves the state consistent before it can panic.
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub async fn log(&self, typ: MessageType, message: impl std::fmt::Display) {
        self.client.log_message(typ, message).await;
    }

    /// A snapshot of an open document for analysis (call with the state locked).
    pub fn job(state: &State, uri: &Uri, skip_if_superseded: bool) -> Option<Job> {
        let d = state.docs.get(uri)?;
        Some(Job {
            uri: uri.clone(),
            generation: d.generation,
            version: d.doc.version,
            doc: d.doc.clone(),
            path: d.path.clone(),
            config: state.config.clone(),
            root: state.root.clone(),
            encoding: state.encoding,
            analyzer: d.analyzer.clone(),
            latest: d.latest.clone(),
            cost_us: d.cost_us.clone(),
            settings_epoch: state.settings_epoch,
            runs: d.runs.clone(),
            skip_if_superseded,
            too_large: d.large.as_ref().map(|rope| {
                let limit = state.max_file_size().unwrap_or(usize::MAX);
                (rope.len_bytes(), limit)
            }),
            resolver: d
                .path
                .as_deref()
                .and_then(|p| state.workspace.resolver_for(p)),
            workspace: Some(WorkspaceHandle(state.workspace.clone())),
        })
    }

    /// Runs the analysis of `job`: right here when the document's last analysis was cheap and the
    /// analyzer is free, else on the blocking pool. `None` when it was superseded before it
    /// started or when it failed (the failure is logged).
    pub async fn analyze(&self, job: Job) -> Option<(u64, Arc<Results>)> {
        let uri = job.uri.clone();
        let generation = job.generation;
        let mut job = Some(job);
        let outcome = match run_inline(&mut job) {
            Some(outcome) => Ok(outcome),
            None => {
                let job = job.expect("left when not run inline");
                tokio::task::spawn_blocking(move || run_job(job)).await
            }
        };
        self.outcome(&uri, generation, outcome).await
    }

    /// Runs the analyses of `jobs` (of distinct documents) in parallel on the blocking pool
    /// (rayon), one hand-off for them all; the results in the order of `jobs` (`None` as in
    /// [`Server::analyze`]). Each runs with its document's analyzer locked, as alone.
    pub async fn analyze_many(&self, jobs: Vec<Job>) -> Vec<(Uri, Option<(u64, Arc<Results>)>)> {
        use rayon::prelude::*;
        let keys: Vec<(Uri, u64)> = jobs.iter().map(|j| (j.uri.clone(), j.generation)).collect();
        let outcomes = tokio::task::spawn_blocking(move || {
            jobs.into_par_iter()
                .map(|job| {
                    catch_unwind(AssertUnwindSafe(|| run_job(job))).unwrap_or(JobOutcome::Panicked)
                })
                .collect::<Vec<_>>()
        })
        .await;
        let outcomes: Vec<Option<JobOutcome>> = match outcomes {
            Ok(o) => o.into_iter().map(Some).collect(),
            Err(_) => keys.iter().map(|_| None).collect(),
        };
        let mut out = Vec::with_capacity(keys.len());
        for ((uri, generation), outcome) in keys.into_iter().zip(outcomes) {
            let r = self.outcome(&uri, generation, outcome.ok_or(())).await;
            out.push((uri, r));
        }
        out
    }

    /// Logs what an analysis reported and returns its results.
    async fn outcome<E>(
        &self,
        uri: &Uri,
        generation: u64,
        outcome: std::result::Result<JobOutcome, E>,
    ) -> Option<(u64, Arc<Results>)> {
        match outcome {
            Ok(JobOutcome::Done(results, panics, config_error)) => {
                if let Some(e) = config_error {
                    self.report_config_error(&e).await;
                }
                for p in panics {
                    self.log(
                        MessageType::ERROR,
                        format!(
                            "keylint: in {}, {p}; its findings there are missing",
                            uri.as_str()
                        ),
                    )
                    .await;
                }
                for n in &results.analysis.not_analysed {
                    self.log(
                        MessageType::WARNING,
                        format!(
                            "keylint: in {}, the statement at line {} is not analysed: {}",
                            uri.as_str(),
                            results.doc.rope.byte_to_line(n.start) + 1,
                            crate::engine::too_deep_reason(n.depth)
                        ),
                    )
                    .await;
                }
                Some((generation, Arc::from(results)))
            }
            Ok(JobOutcome::Superseded) => None,
            Ok(JobOutcome::Panicked) | Err(_) => {
                self.log(
                    MessageType::ERROR,
                    format!(
                        "keylint: the analysis of {} failed (internal error); the server goes on",
                        uri.as_str()
                    ),
                )
                .await;
                None
            }
        }
    }

    /// Shows a configuration error to the user (once per distinct error until a configuration
    /// file changes) and logs it; the analysis goes on with the defaults.
    pub async fn report_config_error(&self, e: &ConfigError) {
        let text = e.to_string();
        if !self.state().shown_config_errors.insert(text.clone()) {
            return;
        }
        let message =
            format!("keylint: configuration error: {text} (using the default configuration)");
        self.log(MessageType::ERROR, &message).await;
        self.client.show_message(MessageType::ERROR, message).await;
    }

    /// Tells the user that `uri` is no longer analysed: its indentation nests too deep for the
    /// parser (`document/indent.rs`). Called when a document becomes so, not on every keystroke.
    pub async fn report_too_deep(&self, uri: &Uri) {
        let message = format!(
            "keylint: {} is not analysed: its indentation may nest {} levels deep or more, past \
             what the Python parser holds (Python itself stops at 100); it is analysed again once \
             the nesting is back under that",
            uri.as_str(),
            crate::document::indent::MAX_DEPTH
        );
        self.log(MessageType::WARNING, &message).await;
        self.client
            .show_message(MessageType::WARNING, message)
            .await;
    }

    /// Tells the user that `uri` is not analysed: it is over the size limit (`lsp/large.rs`).
    /// Called when a document opens or grows over the limit, not on every keystroke.
    pub async fn report_too_large(&self, uri: &Uri) {
        let (size, limit) = {
            let st = self.state();
            let size = st
                .docs
                .get(uri)
                .and_then(|d| d.large.as_ref().map(|r| r.len_bytes()));
            (size, st.max_file_size())
        };
        let (Some(size), Some(limit)) = (size, limit) else {
            return;
        };
        let message = format!(
            "keylint: {} is {}",
            uri.as_str(),
            super::large::reason(size, limit)
        );
        self.log(MessageType::INFO, &message).await;
        self.client.show_message(MessageType::INFO, message).await;
    }

    /// Re-analyses and republishes the documents of `jobs` (from [`State::invalidate_all`]); pull
    /// clients are asked to refresh.
    pub async fn republish_all(&self, jobs: Vec<Job>) {
        for job in jobs {
            self.analyze_and_publish(job).await;
        }
        let (pull, refresh) = {
            let st = self.state();
            (st.caps.pull_diagnostics, st.caps.diagnostic_refresh)
        };
        if pull && refresh {
            // Pull clients ask again; the answer is already cached.
            let _ = self.client.workspace_diagnostic_refresh().await;
        }
    }

    /// Stores `results` if the document is still at their version and, for clients that do not
    /// pull, publishes them. Returns whether they were current.
    pub async fn store_and_publish(
        &self,
        uri: &Uri,
        generation: u64,
        results: Arc<Results>,
    ) -> bool {
        let _publishing = self.publish_lock.lock().await;
        // The replaced results often hold the last reference to the last merged model, data
        // flow and syntax tree: freeing them costs O(module), and this runs in the message
        // loop's future, which writes the publish queued below only once this returns. Those of
        // a module of some size, or with a tree parsed from scratch since (freed whole), go to
        // the reaper thread (`reaper.rs`) once the publish is queued; a small module's are freed
        // here, in less than the reaper's wake-up.
        let replaced;
        let push = {
            let mut st = self.state();
            let pull = st.caps.pull_diagnostics;
            let epoch = st.settings_epoch;
            match st.docs.get_mut(uri) {
                Some(d)
                    if d.generation == generation
                        && d.doc.version == results.version
                        && results.settings_epoch == epoch =>
                {
                    if d.results.as_ref().is_some_and(|r| {
                        r.version == results.version
                            && r.settings_epoch == results.settings_epoch
                            && r.run >= results.run
                    }) {
                        // An analysis of this version that ran after this one (a request's, or
                        // one that saw the project changed again) is stored already.
                        return true;
                    }
                    replaced = d.results.replace(results.clone());
                    // The same diagnostics as last pushed for this version (a module analysed
                    // again because what it reads of another changed, with the same outcome):
                    // nothing to send.
                    let same = d.pushed.as_ref().is_some_and(|(v, e, diags)| {
                        *v == results.version
                            && *e == results.settings_epoch
                            && *diags == results.diagnostics
                    });
                    let push = !pull && !same;
                    if push {
                        d.pushed = Some((
                            results.version,
                            results.settings_epoch,
                            results.diagnostics.clone(),
                        ));
                    }
                    push
                }
                _ => return false,
            }
        };
        if push {
            self.client
                .publish_diagnostics(
                    uri.clone(),
                    results.diagnostics.to_lsp(),
                    Some(results.version),
                )
                .await;
        }
        if let Some(replaced) = replaced {
            if replaced.doc.source().len() >= REAP_BYTES
                || !replaced.doc.shares_tree_with(&results.doc)
            {
                super::reaper::drop_later(replaced);
            }
        }
        true
    }

    /// Analyses a job and publishes its results if still current.
    pub async fn analyze_and_publish(&self, job: Job) {
        let uri = job.uri.clone();
        if let Some((generation, results)) = self.analyze(job).await {
            self.store_and_publish(&uri, generation, results).await;
        }
        super::workspace::republish_linked(self).await;
        super::workspace::mem_stats("document analysed");
    }

    /// The results for the version of `uri` this request was sent against, analysing it now if
    /// needed. `Ok(None)` when the document is not open.
    ///
    /// The snapshot is taken before the first `.await` (call this first in a handler): a request is
    /// answered for the text the client had when it sent it, even if edits arrive meanwhile —
    /// positions in the request refer to that text. Results are cached only while current.
    pub async fn current_results(&self, uri: &Uri) -> Result<Option<Arc<Results>>> {
        let job = {
            let st = self.state();
            let Some(d) = st.docs.get(uri) else {
                return Ok(None);
            };
            if let Some(r) = d
                .results
                .as_ref()
                .filter(|r| r.version == d.doc.version && r.settings_epoch == st.settings_epoch)
            {
                return Ok(Some(r.clone()));
            }
            Self::job(&st, uri, false)
        };
        let Some(job) = job else { return Ok(None) };
        let Some((generation, results)) = self.analyze(job).await else {
            return Err(Error::internal_error());
        };
        // Stored (and pushed) only if still current; answered either way.
        self.store_and_publish(uri, generation, results.clone())
            .await;
        Ok(Some(results))
    }

    /// Sends a clear (empty) diagnostics set for a closed document to a push client.
    pub async fn clear_diagnostics(&self, uri: Uri) {
        let _publishing = self.publish_lock.lock().await;
        if self.state().caps.pull_diagnostics {
            return;
        }
        self.client.publish_diagnostics(uri, Vec::new(), None).await;
    }

    /// `window/workDoneProgress/cancel`: the user cancelled the workspace indexing.
    pub async fn work_done_cancel(&self, params: WorkDoneProgressCancelParams) {
        super::workspace::cancel(self, params).await
    }

    /// `keylint/malformedMessage`: the transport guard replaced or repaired a malformed message.
    pub async fn malformed_message(&self, params: Value) {
        let reason = params
            .get("reason")
            .and_then(Value::as_str)
            .unwrap_or("unknown reason");
        self.log(
            MessageType::ERROR,
            format!("keylint: malformed input: {reason}"),
        )
        .await;
    }
}

pub(crate) enum JobOutcome {
    Done(
        Box<Results>,
        Vec<crate::engine::RulePanic>,
        Option<ConfigError>,
    ),
    Superseded,
    Panicked,
}

/// A previous analysis panicked while holding the analyzer: its cache may be half-updated.
fn reset_poisoned<'a>(
    e: std::sync::PoisonError<MutexGuard<'a, Analyzer>>,
) -> MutexGuard<'a, Analyzer> {
    let mut guard = e.into_inner();
    *guard = Analyzer::new();
    guard
}

/// Runs the job right here (taking it) when its document's last analysis was cheap and the
/// analyzer is free; leaves it in place otherwise.
fn run_inline(slot: &mut Option<Job>) -> Option<JobOutcome> {
    let job = slot.as_ref()?;
    if job.cost_us.load(Ordering::Relaxed) > INLINE_BUDGET.as_micros() as u64 {
        return None;
    }
    let analyzer = job.analyzer.clone();
    let guard = match analyzer.try_lock() {
        Ok(guard) => guard,
        Err(TryLockError::Poisoned(e)) => reset_poisoned(e),
        Err(TryLockError::WouldBlock) => return None,
    };
    let job = slot.take()?;
    Some(catch_unwind(AssertUnwindSafe(|| run_locked(job, guard))).unwrap_or(JobOutcome::Panicked))
}

pub(crate) fn run_job(job: Job) -> JobOutcome {
    let analyzer = job.analyzer.clone();
    let guard = analyzer.lock().unwrap_or_else(reset_poisoned);
    run_locked(job, guard)
}

/// Runs `job` with its document's analyzer (locked) and records what it cost.
fn run_locked(job: Job, mut analyzer: MutexGuard<'_, Analyzer>) -> JobOutcome {
    if job.skip_if_superseded && job.latest.load(Ordering::SeqCst) != job.version {
        return JobOutcome::Superseded;
    }
    let (config, config_error) = resolve_config(&job.config, job.path.as_deref());
    let path =
        analysis_path(&config, job.path.as_deref(), job.root.as_deref()).map(Path::to_path_buf);
    if job.resolver.is_some() && !analyzer.has_resolver() {
        analyzer.set_resolver(job.resolver.clone());
    }
    super::large::note_analysis();
    let first = analyzer.is_empty();
    let run = job.runs.fetch_add(1, Ordering::AcqRel) + 1;
    let started = Instant::now();
    let ws_path = job.workspace.as_ref().zip(job.path.clone());
    if let Some((ws, path)) = &ws_path {
        ws.0.analysis_starts(path, &job.doc.rope);
    }
    let result = catch_unwind(AssertUnwindSafe(|| {
        let texts: &dyn convert::OtherTexts = match &job.workspace {
            Some(ws) => ws.0.as_ref(),
            None => &convert::OnDisk,
        };
        // Run again (once) when the analysis's own summary changed the view of the project it
        // read: the diagnostics are then those of the project as it is.
        let mut again = 0;
        loop {
            let analysis = crate::engine::pipeline::analyze_rope(
                &mut analyzer,
                job.doc.view(),
                job.doc.source().rope(),
                &config,
                path.as_deref(),
            );
            let mut diagnostics =
                convert::diagnostics(&job.uri, &job.doc, &analysis, job.encoding, texts);
            if let Some((size, limit)) = job.too_large {
                diagnostics.push(super::large::diagnostic(size, limit));
            }
            if let Some(ws) = &job.workspace {
                // A summary made again changed the project this run read: the analyzer's view
                // of it is brought up now, not by the next keystroke
                // ([`Analyzer::refresh_project`]).
                if super::workspace::after_analysis(&job, &analyzer, &analysis, &ws.0)
                    && analyzer.refresh_project()
                    && again == 0
                {
                    again += 1;
                    continue;
                }
            }
            break (analysis, diagnostics);
        }
    }));
    if let Some((ws, path)) = &ws_path {
        ws.0.analysis_ended(path);
    }
    super::large::note_analysis();
    match result {
        Ok((mut analysis, diagnostics)) => {
            let cost = started.elapsed().as_micros().min(u64::MAX as u128 - 1) as u64;
            // After a first analysis, the next one (a keystroke) checks about one item again.
            let expected = if first {
                cost / analysis.items_checked.max(1) as u64
            } else {
                cost
            };
            job.cost_us.store(expected, Ordering::Relaxed);
            let panics = std::mem::take(&mut analysis.panics);
            JobOutcome::Done(
                Box::new(Results {
                    version: job.version,
                    settings_epoch: job.settings_epoch,
                    run,
                    doc: job.doc,
                    analysis,
                    diagnostics,
                    config,
                    path,
                }),
                panics,
                config_error,
            )
        }
        Err(_) => {
            *analyzer = Analyzer::new();
            JobOutcome::Panicked
        }
    }
}

/// The configuration of a document: from its file's lookup, else (an unsaved buffer, or a broken
/// configuration, returned as the error) the defaults with the settings' overrides.
pub fn resolve_config(
    cache: &ConfigCache,
    path: Option<&Path>,
) -> (Arc<Config>, Option<ConfigError>) {
    match path.map(|p| cache.get_known(p, false)) {
        Some(Ok(c)) => (c, None),
        Some(Err(e)) => (Arc::new(cache.defaults()), Some(e)),
        None => (Arc::new(cache.defaults()), None),
    }
}

/// The path the configuration sees: relative to the workspace root when no configuration file
/// applies (the CLI, run from the project's root, sees relative paths too: a project under a
/// `test` folder is not all test code).
fn analysis_path<'p>(
    config: &Config,
    path: Option<&'p Path>,
    root: Option<&Path>,
) -> Option<&'p Path> {
    let path = path?;
    if config.file.is_none() {
        if let Some(rel) = root.and_then(|r| path.strip_prefix(r).ok()) {
            return Some(rel);
        }
    }
    Some(path)
}

/// Runs `f`, turning a panic into an internal error (handlers must not take the server down).
pub fn guard<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => {
            let mut err = Error::internal_error();
            err.message = format!("keylint: internal error in {what}").into();
            Err(err)
        }
    }
}

impl LanguageServer for Server {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        super::requests::initialize::initialize(self, params).await
    }

    async fn initialized(&self, _: InitializedParams) {
        // Cheap analyses run on the thread that runs the handlers (see "Superseding"), and each
        // secret pattern keeps its search caches per thread: warm this thread's now (the patterns
        // themselves are compiled in the background from start-up), or the first key-like
        // literal typed pays for it (0.5 ms).
        crate::model::secrets::warm_up();
        self.log(MessageType::INFO, "keylint language server ready")
            .await;
        super::notifications::did_change_watched_files::register_watcher(self).await;
        let root = self.state().root.clone();
        if let Some(root) = root {
            super::workspace::spawn_index(self, vec![root]);
        }
    }

    async fn did_change_workspace_folders(&self, params: DidChangeWorkspaceFoldersParams) {
        super::workspace::folders_changed(self, params).await
    }

    async fn shutdown(&self) -> Result<()> {
        self.shutdown.store(true, Ordering::SeqCst);
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        super::notifications::did_open::did_open(self, params).await
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        super::notifications::did_change::did_change(self, params).await
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        super::notifications::did_close::did_close(self, params).await
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        super::notifications::did_change_configuration::did_change_configuration(self, params).await
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        super::notifications::did_change_watched_files::did_change_watched_files(self, params).await
    }

    async fn diagnostic(
        &self,
        params: DocumentDiagnosticParams,
    ) -> Result<DocumentDiagnosticReportResult> {
        super::requests::diagnostic::diagnostic(self, params).await
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        super::requests::code_action::code_action(self, params).await
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        super::requests::hover::hover(self, params).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_configuration_file_test_code_is_judged_from_the_workspace_root() {
        let defaults = Config::default();
        let root = Path::new("/home/me/test/shop");
        let file = Path::new("/home/me/test/shop/app.py");
        let seen = analysis_path(&defaults, Some(file), Some(root)).unwrap();
        assert_eq!(seen, Path::new("app.py"));
        assert!(
            !defaults.is_test(seen),
            "the folder above the project does not count"
        );
        // Outside the root, or with a configuration file, the path is kept.
        let elsewhere = Path::new("/tmp/x.py");
        assert_eq!(
            analysis_path(&defaults, Some(elsewhere), Some(root)),
            Some(elsewhere)
        );
        let with_file = Config {
            file: Some("/home/me/test/shop/keylint.toml".into()),
            root: root.to_path_buf(),
            ..Config::default()
        };
        assert_eq!(
            analysis_path(&with_file, Some(file), Some(root)),
            Some(file)
        );
        assert_eq!(analysis_path(&defaults, None, Some(root)), None);
    }

    #[test]
    fn a_broken_configuration_falls_back_to_the_defaults_with_overrides() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("keylint.toml"), "selct = []\n").unwrap();
        let cache = ConfigCache::new(crate::config::Overrides {
            ignore: Some(vec!["KL101"]),
            ..Default::default()
        });
        let (c, err) = resolve_config(&cache, Some(&dir.path().join("app.py")));
        let err = err.expect("the error is returned");
        assert_eq!(err.line, Some(1));
        assert!(c.file.is_none());
        assert_eq!(c.ignore, vec!["KL101"]);
        let (c, err) = resolve_config(&cache, None);
        assert!(err.is_none() && c.ignore == vec!["KL101"]);
    }
}
