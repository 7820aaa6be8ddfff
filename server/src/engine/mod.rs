//! The engine: splits a module into items, builds the semantic [`Model`], runs the rules per item
//! and caches their findings so that an edit re-examines only what it touched; composes the
//! analysis with the configuration ([`analyze`], [`postprocess`]), fixes ([`fixes`]) and masking
//! ([`redact`]) — the one pipeline of the CLI and the server.
//!
//! ## Items and the cache
//! An *item* is a top-level statement, or a statement in the body of a top-level (or nested) class:
//! a 5,000-line test class is hundreds of items, not one. Each item is keyed by a hash of its text,
//! of its class chain (a class header by its text up to its body: its name and bases are all it
//! contributes) and of its node's kind, and by its whole shape while it holds a syntax error
//! ([`syntax_signature`]: the same text may parse otherwise). [`ItemFacts`] (imports, bindings, class facts…) are cached per key; the [`Model`] is
//! merged from them on every run (cheap).
//!
//! The cache is the last run's items in document order. An edit changes the keys of a few items
//! between a prefix and a suffix that keep theirs: only that middle is looked up by key and
//! replaced. Hashing every item's text on every keystroke is avoided too: the text of the last run
//! is kept (a rope clone shares its chunks), and the bytes both texts share at their start and end
//! are found by comparing chunk addresses ([`common_affixes`]); an item lying in them, at the place
//! (counted from that end), with the length, header-ness and classes of the last run's item there,
//! has that item's text, so its hash is that item's. The import layout is reused the same way
//! while the statements and the text it read are unchanged.
//!
//! Walking the items is skipped too while the whole tree was only edited since the last run
//! ([`TreeView::structure`] unchanged: only a statement's patch was parsed). The views of the two
//! runs then differ only in the changed text and in their patched regions: [`edit_window`] walks
//! the top-level statements that overlap or touch those, and they replace the last run's entries
//! there; the entries after them move by the edit's length. Any other item is taken from the tree
//! only if its flows or findings must be computed again ([`LazyItems`]). A class in the window, or
//! a whole-file parse, walks every item as above. [`Analysis::items_walked`] counts them.
//!
//! An item's findings (and its local data-flow summaries) are reused when its key is unchanged and
//! everything they read from the model is unchanged — only their byte offsets move with it (when
//! every range they hold lies in the item: a related location elsewhere does not move, so such
//! findings are computed again when their item moves). What
//! they read is tracked in two parts:
//! * the module **bindings**, name by name: every lookup of [`Model::bindings`] while the rules (or
//!   the local flow) run on the item is recorded ([`Model::record_reads`]) with a hash of what the
//!   name was bound to (or of its absence); listing the bindings counts as reading all of them.
//!   Typing a module-level name (`P`, `PA`, `PAS`…) re-checks only the items that looked that name
//!   up, including through another binding (`t.put_item` with `t = boto3.resource(...)` reads `t`
//!   and then `boto3`);
//! * the module-wide **data flow**, fact by fact, the same way: every lookup of a function's
//!   resolved facts or of a global's key material ([`dataflow::FlowView::function`],
//!   [`dataflow::FlowView::global`]) is recorded with a hash of what it found. Typing in one
//!   function changes its own facts (and those of the functions its flows reach): only the items
//!   that read them are checked again, not every item of the module;
//! * **everything else** (imports, classes, functions, handlers, validated names, function
//!   returns), by one fingerprint ([`Model::rest_fingerprint`]): when it changes, every item is
//!   checked again.
//!
//! Module-level facts stay exact: a reused result read the same bindings and the same rest of the
//! model as a run now would (`tests.rs` compares with from-scratch analyses keystroke by keystroke).
//!
//! The module-wide data-flow resolution is kept between runs ([`dataflow::Resolver`]): it
//! recomputes only what depends on the local summaries that changed, and its facts hold no
//! absolute offset (an item moving changes none of them).

pub mod fixes;
pub mod pipeline;
mod postprocess;
pub mod prefilter;
pub mod redact;
pub mod summarise;

pub use crate::rules::Options;
pub use postprocess::postprocess;

use std::hash::{Hash, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHasher};
use tree_sitter::Node;

use crate::config::suppress;
use crate::dataflow;
use crate::document::{SourceText, TreeView};
use crate::finding::Finding;
use crate::model::{self, item_facts, secrets, BindingReads, ImportLayout, ItemFacts, Model};
use crate::rules::{self, Ctx, Rule};
use crate::syntax::{self, items_sized, Item, NodeExt, MAX_NESTING};

/// A rule that panicked in an analysis: on how many items, and its first message (cut before
/// anything it quotes). Carries no source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulePanic {
    pub rule: &'static str,
    pub message: String,
    /// The items (statements, methods) it failed on.
    pub items: usize,
}

impl std::fmt::Display for RulePanic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = if self.items == 1 { "" } else { "s" };
        write!(
            f,
            "rule {} failed on {} statement{s}: {}",
            self.rule, self.items, self.message
        )
    }
}

/// A statement left out of the analysis because it nests deeper than [`MAX_NESTING`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAnalysed {
    /// Where the statement starts (byte offset).
    pub start: usize,
    /// How deep it nests.
    pub depth: usize,
}

/// Why a statement nesting `depth` levels deep is not analysed, for messages.
pub fn too_deep_reason(depth: usize) -> String {
    format!("it nests {depth} levels deep, more than the {MAX_NESTING} keylint analyses")
}

/// The result of analysing one document.
pub struct Analysis {
    pub findings: Vec<Finding>,
    pub model: Model,
    /// The module-wide data-flow facts the rules read (resolved over the module, or the project).
    pub dataflow: Arc<dataflow::Dataflow>,
    pub panics: Vec<RulePanic>,
    /// Statements left out because they nest too deep, among the items this run looked at anew
    /// (an edit reports the statement it touched; a first run, all of them).
    pub not_analysed: Vec<NotAnalysed>,
    /// How many items were checked by the rules this time (the rest came from the cache).
    pub items_checked: usize,
    pub items_total: usize,
    /// How many items were taken from the syntax tree this time: every item of the module, or,
    /// when the whole tree was only edited since the last run, those the edit touched
    /// ([`TreeView::structure`]).
    pub items_walked: usize,
    /// How many items' facts were merged into the model (none when every item's facts are what
    /// they were).
    pub facts_merged: usize,
    /// Whether the text spells `keylint` (a suppression comment may be there): kept by the
    /// analyzer from run to run, updated from the changed text only ([`suppress::Mentions`]).
    pub mentions_keylint: bool,
}

/// An item's key: the hash of its text and class chain, and its occurrence among the items with
/// that hash.
type Key = (u64, u32);

struct CachedItem {
    start: usize,
    /// Length of the text its key hashes (from `start`).
    hashed_len: usize,
    header: bool,
    /// The item node's kind, and whether it holds a syntax error (see [`syntax_signature`]).
    kind: u16,
    errors: bool,
    /// The item's enclosing classes ([`Item::classes`]).
    classes: Box<[usize]>,
    facts: ItemFacts,
    /// The item's functions as the merged model holds them (made at the first merge that reads
    /// them, shared by the later ones).
    functions: crate::model::ItemFunctions,
    /// Findings, with the fingerprint of the model without its bindings they were computed under,
    /// and the bindings they read.
    findings: Option<(u64, Deps, Vec<Finding>)>,
    /// Local data-flow summaries, with the fingerprint of the base model without its bindings
    /// they were computed under, the bindings they read, and hashes of the summaries (with and
    /// without their byte ranges).
    flows: Option<CachedFlows>,
    /// The item nests deeper than [`MAX_NESTING`]: no facts, flows or findings.
    too_deep: bool,
}

/// Base fingerprint, bindings read, the summaries, and their hash.
/// The summaries are shared with the module's project summary ([`crate::project::ModuleSummary`]).
type CachedFlows = (u64, Deps, Arc<Vec<dataflow::FnFlow>>, u64);

/// What of the module model a cached result read: bindings and resolved data-flow facts, by name,
/// each with a hash of what it was then.
struct Deps {
    /// It listed every binding: any change of the bindings invalidates it.
    all: bool,
    reads: Vec<(String, u64)>,
    /// It listed every data-flow fact: any change of the data flow invalidates it.
    flow_all: bool,
    /// `(is_global, name, hash)` ([`dataflow::Dataflow::hash_of`]).
    flow_reads: Vec<(bool, String, u64)>,
    /// Fingerprint of the bindings and data flow under which it was last known valid (the fast
    /// path).
    seen: u64,
}

impl Deps {
    fn new(
        reads: BindingReads,
        model: &Model,
        flow: &dataflow::Dataflow,
        fingerprint: u64,
    ) -> Deps {
        Deps {
            all: reads.all,
            reads: reads
                .names
                .into_iter()
                .map(|n| {
                    let h = model.bindings().hash_of(&n);
                    (n, h)
                })
                .collect(),
            flow_all: reads.flow.all,
            flow_reads: reads
                .flow
                .names
                .into_iter()
                .map(|(global, n)| {
                    let h = flow.hash_of(global, &n);
                    (global, n, h)
                })
                .collect(),
            seen: fingerprint,
        }
    }

    /// Adds the names read to `reads`.
    fn add_to(&self, reads: &mut BindingReads) {
        if self.all {
            reads.all = true;
            reads.names.clear();
        } else if !reads.all {
            reads
                .names
                .extend(self.reads.iter().map(|(n, _)| n.clone()));
        }
        if self.flow_all {
            reads.flow.all = true;
            reads.flow.names.clear();
        } else if !reads.flow.all {
            reads
                .flow
                .names
                .extend(self.flow_reads.iter().map(|(g, n, _)| (*g, n.clone())));
        }
    }

    /// Whether every binding and data-flow fact read is still what it was (exactly what a run now
    /// would read). `fingerprint` covers the bindings and the data flow of `model`; `since`, what
    /// changed in the bindings since the last run, when known.
    fn still_valid(
        &mut self,
        model: &Model,
        flow: &dataflow::Dataflow,
        fingerprint: u64,
        since: Option<Since<'_>>,
        flow_since: Option<FlowSince<'_>>,
    ) -> bool {
        if self.seen == fingerprint {
            return true;
        }
        if self.all || self.flow_all {
            return false;
        }
        let bindings_valid = match since {
            // Known valid at the last run: its recorded hashes are those of the last run's
            // bindings, which are the current ones but for the changed names.
            Some(since) if since.seen == self.seen => self
                .reads
                .iter()
                .all(|(name, _)| !since.changed.iter().any(|c| c == name)),
            _ => self
                .reads
                .iter()
                .all(|(name, h)| model.bindings().hash_of(name) == *h),
        };
        let valid = bindings_valid
            && match flow_since {
                // Known valid at the last run: its recorded hashes are those of the last run's
                // data flow, which hashes alike now but for the changed reads.
                Some(since) if since.seen == self.seen => self
                    .flow_reads
                    .iter()
                    .all(|(g, n, _)| !since.changed.iter().any(|(cg, cn)| cg == g && cn == n)),
                _ => self
                    .flow_reads
                    .iter()
                    .all(|(global, name, h)| flow.hash_of(*global, name) == *h),
            };
        if valid {
            self.seen = fingerprint;
        }
        valid
    }
}

/// What changed in the module's bindings since the last run, for the cached results known valid
/// then ([`Deps::still_valid`]): the fingerprint they hold (`Deps::seen`) when they were, and the
/// names bound differently now ([`crate::model::BindingsView::changed_names`]).
#[derive(Clone, Copy)]
struct Since<'a> {
    seen: u64,
    changed: &'a [String],
}

/// What changed in the module's data flow since the last run, for the cached findings known valid
/// then ([`Deps::still_valid`]): the fingerprint they hold when they were, and the reads
/// ([`dataflow::Dataflow::hash_of`]'s `(global, name)`) that may hash differently now (the
/// resolver's [`dataflow::Resolver::delta`]).
#[derive(Clone, Copy)]
struct FlowSince<'a> {
    seen: u64,
    changed: &'a [(bool, String)],
}

/// At most this many changed names are compared with each cached result's reads; more, and the
/// reads are checked by hash.
const MAX_CHANGED_NAMES: usize = 16;

/// Analyses one document again and again, reusing what an edit did not touch.
#[derive(Default)]
pub struct Analyzer {
    /// The items of the last run in document order, with their keys. Boxed: an edit splices a
    /// few of them in and out of hundreds.
    entries: Vec<(Key, Box<CachedItem>)>,
    options_hash: u64,
    /// The module-wide data-flow resolution, updated incrementally.
    resolver: dataflow::Resolver,
    /// The text of the last run (a rope clone shares its chunks).
    text: Option<ropey::Rope>,
    layout: Option<LastLayout>,
    /// The model merged from the items' facts at the last run (without its import layout and data
    /// flow), with its fingerprints: an edit that leaves every item's facts as they were (typing
    /// inside a function body, most keystrokes) reuses it instead of merging hundreds of items.
    merged: Option<Merged>,
    /// Scratch buffers, kept for their capacity: the items' keys, occurrences of each hash.
    keys: Vec<Key>,
    occurrences: FxHashMap<u64, u32>,
    /// The whole-tree parse the last run read ([`TreeView::structure`]) and its patched region.
    last_view: Option<(u64, Option<std::ops::Range<usize>>)>,
    /// The rules this analyzer runs; `None`: [`rules::all`].
    rules: Option<&'static [&'static dyn Rule]>,
    /// Resolves the data flow with the rest of the project (`crate::project`); `None`: this
    /// module alone (by `resolver`).
    project: Option<Arc<dyn dataflow::cross::FlowResolver>>,
    /// The last view the project resolver gave, with a hash of what it was computed from (the
    /// flows, their starts and [`dataflow::cross::FlowResolver::signature`]).
    project_last: Option<(u64, Arc<dataflow::Dataflow>)>,
    /// Whether the project resolves this module alone ([`dataflow::cross::FlowResolver::alone`]),
    /// with a hash of the flows and the resolver's signature it was asked for.
    project_alone: Option<(u64, bool)>,
    /// Where the text of the last run spells `keylint` (for the suppressions).
    mentions: suppress::Mentions,
    /// `keylint check`: no local data flow when no selected rule reads it ([`flows_needed`]).
    skip_unread_flows: bool,
    /// The run stops after the items' facts, the model and the local flows: no resolution, no
    /// rule ([`Analyzer::facts_only`]).
    facts_only: bool,
    /// The document's text around the last edit in one piece, copied from its rope before each
    /// run of [`pipeline::analyze_rope`] (kept for its capacity; the whole text for a first
    /// run): a run slices the text hundreds of times, mostly in the items the edit touched, and
    /// one copy of their part costs less than as many descents of a large module's rope (a copy
    /// of the whole text would cost as much as the module is long).
    flat: String,
    /// The bytes the last run's text and the next one's share at their start and end
    /// ([`common_affixes`]), as [`Analyzer::text_window`] found them for the run it prepared,
    /// with the lengths of the two texts: that run does not compare the texts again.
    affixes: Option<(usize, usize, (usize, usize))>,
    /// The data flow the last run's rules read, in short (its facts' and starts' hashes):
    /// [`Analyzer::refresh_project`] tells whether the view it brings up differs.
    last_flow: Option<(u64, u64)>,
    /// When the last run's rules read the incremental resolver's facts: their generation
    /// ([`dataflow::Resolver::generation`]) and the run's reads fingerprint, for
    /// [`FlowSince`] (`None`: they read the project's view, or the run stopped early).
    last_resolved: Option<(u64, u64)>,
}

/// What the cached findings depend on besides the text: the options and the first line's
/// ending (the fixes insert lines with it, so a cached fix holds the ending of the run that made
/// it).
fn options_hash(options: &Options, src: SourceText) -> u64 {
    let mut h = FxHasher::default();
    options.hash(&mut h);
    src.line_ending().hash(&mut h);
    h.finish()
}

/// Whether a run of the rules `selected` (codes; `None`: every rule) needs the items' local data
/// flow: when one of them reads it (declared by its [`RuleMeta::reads_flows`], an item's flows
/// through `rules::report::flows` or the resolved facts through `Ctx::dataflow`) or is not
/// keylint's own.
///
/// [`RuleMeta::reads_flows`]: crate::finding::RuleMeta::reads_flows
pub fn flows_needed(selected: Option<&[&str]>) -> bool {
    let Some(selected) = selected else {
        return true;
    };
    let own = rules::built_in();
    selected.iter().any(|code| {
        own.iter()
            .find(|r| r.meta().code == *code)
            .is_none_or(|r| r.meta().reads_flows)
    })
}

/// A merged model ([`Model::from_facts_kept`]) with its bindings and rest fingerprints.
struct Merged {
    model: Model,
    bindings_fingerprint: u64,
    base_fingerprint: u64,
    /// The fingerprint of the bindings and data flow the findings of the run that merged or
    /// reused this model were checked under (`None` until set at the end of that run).
    reads_fingerprint: Option<u64>,
}

/// The import layout of the last run, with what it read: the first top-level statements (kind,
/// byte range) and the text before `span`.
struct LastLayout {
    layout: ImportLayout,
    statements: Vec<(u16, usize, usize)>,
    span: usize,
}

/// The module's data flow resolved alone, by the incremental resolver, for the items `entries`:
/// it reads the flows (and the item starts, to place the paths it holds) and recomputes what
/// depends on the flows that changed (see [`dataflow::Resolver`]).
fn resolve_alone(resolver: &mut dataflow::Resolver, entries: &[(Key, Box<CachedItem>)]) {
    resolver.update(entries.iter().flat_map(|(_, c)| {
        let start = c.start;
        c.flows.iter().flat_map(move |(_, _, flows, hash)| {
            flows
                .iter()
                .enumerate()
                .map(move |(k, f)| (f, start, hash.wrapping_add(k as u64)))
        })
    }));
}

/// The module's view of the project for the items `entries`: `None` when the project resolves it
/// alone (the engine's incremental resolver then does), else the project's resolution. Both are
/// cached, keyed on the items' flows, their starts and the resolver's signature
/// (`project_alone`, `project_last`): asked again only when one of them changed.
fn project_view(
    r: &dyn dataflow::cross::FlowResolver,
    entries: &[(Key, Box<CachedItem>)],
    project_alone: &mut Option<(u64, bool)>,
    project_last: &mut Option<(u64, Arc<dataflow::Dataflow>)>,
) -> Option<Arc<dataflow::Dataflow>> {
    let (mut flows_h, mut starts_h) = (FxHasher::default(), FxHasher::default());
    for (_, c) in entries {
        if let Some(flows) = c.flows.as_ref().filter(|f| !f.2.is_empty()) {
            flows.3.hash(&mut flows_h);
            c.start.hash(&mut starts_h);
        }
    }
    r.signature().hash(&mut flows_h);
    let flows_sig = flows_h.finish();
    // By item: the project keeps the items, shared, and compares them by address.
    let items = || -> Vec<(&Arc<Vec<dataflow::FnFlow>>, usize)> {
        entries
            .iter()
            .filter_map(|(_, c)| c.flows.as_ref().map(|f| (&f.2, c.start)))
            .collect()
    };
    let alone = match *project_alone {
        Some((s, alone)) if s == flows_sig => alone,
        _ => {
            let alone = r.alone_items(&items());
            *project_alone = Some((flows_sig, alone));
            alone
        }
    };
    if alone {
        return None;
    }
    let sig = {
        let mut h = FxHasher::default();
        (flows_sig, starts_h.finish()).hash(&mut h);
        h.finish()
    };
    if project_last.as_ref().is_none_or(|(s, _)| *s != sig) {
        *project_last = Some((sig, Arc::new(r.resolve_items(&items()))));
    }
    Some(project_last.as_ref().expect("set above").1.clone())
}

/// How far around an edit the text is copied in one piece for a run
/// ([`Analyzer::text_window`]): the items an edit touches (a FastAPI handler is about 600
/// bytes; a broken one swallows the next) lie well within it.
const TEXT_WINDOW_MARGIN: usize = 16 << 10;

impl Analyzer {
    pub fn new() -> Self {
        Self::default()
    }

    /// The byte range of `rope` the next run (of `rope`) reads most of: the text the edit since
    /// the last run changed, with [`TEXT_WINDOW_MARGIN`] on each side; `None` when it would
    /// be most of the text, when there was no last run (every item is read), or when the text
    /// is the last run's (a run again for another reason, the project's view say, may check
    /// items anywhere).
    /// The next run does not compare the texts again.
    pub(crate) fn text_window(&mut self, rope: &ropey::Rope) -> Option<std::ops::Range<usize>> {
        let old = self.text.as_ref()?;
        let shared = common_affixes(old, rope);
        self.affixes = Some((old.len_bytes(), rope.len_bytes(), shared));
        let len = rope.len_bytes();
        if shared.0 == len && old.len_bytes() == len {
            return None;
        }
        let from = shared.0.saturating_sub(TEXT_WINDOW_MARGIN);
        let to = (len - shared.1)
            .max(shared.0)
            .saturating_add(TEXT_WINDOW_MARGIN)
            .min(len);
        (to - from < len / 2).then_some(from..to)
    }

    /// An analyzer that runs `rules` (still filtered by the options' selection) instead of
    /// [`rules::all`].
    pub fn with_rules(rules: &'static [&'static dyn Rule]) -> Self {
        Analyzer {
            rules: Some(rules),
            ..Self::default()
        }
    }

    /// Computes no local data flow when the selected rules read none ([`flows_needed`]): for
    /// `keylint check` on a file whose flows no other module reads (its summary is then made
    /// again when a call leads to it). The editor computes them always.
    pub fn skip_unread_flows(&mut self, on: bool) {
        self.skip_unread_flows = on;
    }

    /// Runs stop after the items' facts, the merged model and the local flows (what a project
    /// summary reads, [`crate::project::ModuleSummary::new`]): the module's data flow is not
    /// resolved (the analysis's `dataflow` is empty) and no rule runs (no findings).
    pub fn facts_only(&mut self, on: bool) {
        self.facts_only = on;
    }

    /// The end of a run of [`Analyzer::facts_only`]: the analyzer keeps the run's items (their
    /// findings not computed), the analysis has the model and no findings.
    fn facts_only_analysis(
        &mut self,
        entries: Vec<(Key, Box<CachedItem>)>,
        keys: Vec<Key>,
        (tree, src): (TreeView, SourceText),
        model: Model,
        not_analysed: Vec<NotAnalysed>,
        (items_walked, facts_merged): (usize, usize),
    ) -> Analysis {
        self.entries = entries;
        self.keys = keys;
        self.text = Some(src.rope().clone());
        self.last_view = tree.structure().map(|s| (s, tree.patched_region()));
        Analysis {
            findings: Vec::new(),
            model,
            dataflow: Arc::default(),
            panics: Vec::new(),
            not_analysed,
            items_checked: 0,
            items_total: self.entries.len(),
            items_walked,
            facts_merged,
            mentions_keylint: self.mentions.any(),
        }
    }

    /// Resolves the data flow of this document with the rest of the project from now on.
    pub fn set_resolver(&mut self, resolver: Option<Arc<dyn dataflow::cross::FlowResolver>>) {
        self.project = resolver;
        self.project_last = None;
        self.project_alone = None;
    }

    /// Brings the cached view of the project ([`project_view`]: whether the project resolves the
    /// module alone, its resolution, or the incremental resolver) up to the project as it is
    /// now, for the last run's items; nothing when it is current. An open document's analysis
    /// changes the project after the run that read it (its summary, the index's end): without
    /// this the next keystroke (the first after opening a module) would bring the project up to
    /// the whole module (issue #14: 0.4-1.4 ms at 7,943 lines, against 0.01 ms). Changes no
    /// result: the next run computes the same, keyed the same way. Returns whether the data
    /// flow differs from the one the last run's rules read (its findings may then be stale: the
    /// caller runs again).
    pub fn refresh_project(&mut self) -> bool {
        let Some(r) = self.project.clone() else {
            return false;
        };
        if self.facts_only || self.entries.is_empty() {
            return false;
        }
        let view = project_view(
            r.as_ref(),
            &self.entries,
            &mut self.project_alone,
            &mut self.project_last,
        );
        let dataflow = match view {
            Some(view) => view,
            None => {
                resolve_alone(&mut self.resolver, &self.entries);
                self.resolver.dataflow().clone()
            }
        };
        self.last_flow != Some((dataflow.facts_hash(), dataflow.starts_hash()))
    }

    /// Whether a resolver is set ([`Analyzer::set_resolver`]).
    pub fn has_resolver(&self) -> bool {
        self.project.is_some()
    }

    /// The local data-flow summaries of the last run, by item, each item's with its start (what
    /// a project model keeps of a module; shared, not copied).
    pub fn flows(&self) -> impl Iterator<Item = (&Arc<Vec<dataflow::FnFlow>>, usize)> {
        self.entries
            .iter()
            .filter_map(|(_, c)| c.flows.as_ref().map(|(_, _, flows, _)| (flows, c.start)))
    }

    /// The starts of the last run's top-level statements of the node kind `kind` (a kind id), in
    /// document order: read from the cached items, not from the tree (the project summary finds
    /// a module's `import *`s among its `from` imports this way on every keystroke).
    pub fn top_level_starts(&self, kind: u16) -> Vec<usize> {
        self.entries
            .iter()
            .filter(|(_, c)| c.kind == kind && c.classes.is_empty())
            .map(|(_, c)| c.start)
            .collect()
    }

    /// Whether nothing is cached (a first analysis, or one after [`Analyzer::clear`], checks every
    /// item).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Forgets every cached result (configuration changed, say).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.text = None;
        self.affixes = None;
        self.layout = None;
        self.merged = None;
        self.last_view = None;
        self.resolver = dataflow::Resolver::default();
        self.project_last = None;
        self.project_alone = None;
        self.last_resolved = None;
    }

    /// Forgets the last run's findings but keeps its items' facts, local flows and merged model
    /// (they read no option) for a run of the same text with `options` (`keylint check` analyses a
    /// file linked to other modules again with its project view and every rule, after a first
    /// analysis alone with the rules its pre-filter keeps: the second run only redoes what
    /// depends on the resolution and the rules).
    pub fn forget_findings_for(&mut self, options: &Options, src: SourceText) {
        for (_, c) in &mut self.entries {
            c.findings = None;
        }
        if let Some(m) = &mut self.merged {
            m.reads_fingerprint = None;
        }
        self.last_resolved = None;
        self.options_hash = options_hash(options, src);
    }

    /// How many bytes the last run read to tell whether the text spells `keylint` (for tests and
    /// measurements: the changed text, not the file).
    pub fn mentions_scanned(&self) -> usize {
        self.mentions.scanned()
    }

    /// What the last data-flow resolution did (for tests and measurements).
    pub fn resolve_stats(&self) -> dataflow::ResolveStats {
        self.resolver.stats()
    }

    /// The incremental resolver (for tests).
    #[cfg(test)]
    pub(crate) fn resolver(&self) -> &dataflow::Resolver {
        &self.resolver
    }

    /// Analyses the document whose text is `src` and whose tree is `tree` (they must match).
    pub fn analyze(&mut self, tree: TreeView, src: SourceText, options: &Options) -> Analysis {
        // The fixes insert lines with the first line's ending: a cached fix holds the ending of
        // the run that made it, so a change of that ending makes every cached result stale.
        let options_hash = options_hash(options, src);
        if options_hash != self.options_hash {
            self.clear();
            self.options_hash = options_hash;
        }

        // Taken out for the run: a panic (a bug) leaves the analyzer empty, not inconsistent.
        let mut entries = std::mem::take(&mut self.entries);
        let merged = self.merged.take();
        let last_view = self.last_view.take();
        // Key every item by its text and class chain; identical items are told apart by occurrence.
        // A class header is keyed by its text up to its body: its facts (name, bases) are all it
        // contributes (no findings, no flows), so an edit in the body leaves it cached.
        // What the edit left alone: the text before `shared.0` and from `suffix_from` on. An item
        // in there whose entry has the same place, length and classes has that entry's text: its
        // hash is that entry's (no need to hash hundreds of items again on every keystroke).
        let last_text = self.text.take();
        let affixes = self.affixes.take();
        let shared = last_text.as_ref().map_or((0, 0), |old| match affixes {
            Some((old_len, new_len, shared))
                if old_len == old.len_bytes() && new_len == src.len() =>
            {
                shared
            }
            _ => common_affixes(old, src.rope()),
        });
        let suffix_from = src.len() - shared.1;
        match &last_text {
            Some(old) => self
                .mentions
                .update(src.rope(), shared.0, shared.1, old.len_bytes()),
            None => self.mentions = suppress::Mentions::scan(src.rope()),
        }
        let delta = src.len() as isize - last_text.as_ref().map_or(0, |t| t.len_bytes()) as isize;
        let mut keys = std::mem::take(&mut self.keys);
        keys.clear();
        let occurrences = &mut self.occurrences;
        occurrences.clear();
        // The whole tree only edited since the last run: the items of the statements the edit
        // touched are walked, the others are the last run's (shifted).
        let window = last_view.and_then(|(structure, region)| {
            edit_window(
                tree,
                &entries,
                structure,
                region,
                (shared.0, suffix_from),
                last_text.as_ref().map_or(0, |t| t.len_bytes()) - shared.1,
                delta,
            )
        });
        let (items, old_middle, new_middle) = match window {
            Some((walked, old)) => {
                for item in &walked {
                    let hash = item_hash(item, src);
                    let n = occurrences.entry(hash).or_insert(0);
                    keys.push((hash, *n));
                    *n += 1;
                }
                let new = old.start..old.start + walked.len();
                (LazyItems::window(tree, old.start, walked), old, new)
            }
            None => {
                let items = items_sized(tree, entries.len());
                for (i, item) in items.iter().enumerate() {
                    let range = item.node.byte_range();
                    let end = hashed_end(item);
                    let known = if end <= shared.0 {
                        entries.get(i).filter(|(_, c)| c.start == range.start)
                    } else if range.start >= suffix_from {
                        (entries.len() + i)
                            .checked_sub(items.len())
                            .and_then(|j| entries.get(j))
                            .filter(|(_, c)| c.start as isize == range.start as isize - delta)
                    } else {
                        None
                    };
                    // The same text does not always parse alike: `print(x)` followed by a stray
                    // token is a Python 2 `print_statement`, an `expression_statement` once the
                    // token moves to the next line. The node's kind is part of the key, and a
                    // node with syntax errors is keyed by its whole shape (see
                    // [`syntax_signature`]).
                    let errors = item.node.has_error();
                    let known = known.filter(|(_, c)| {
                        c.hashed_len == end - range.start
                            && c.header == item.header
                            && c.kind == item.node.kind_id()
                            && !c.errors
                            && !errors
                            && *c.classes == *item.classes
                    });
                    let hash = match known {
                        Some(((hash, _), _)) => *hash,
                        None => item_hash(item, src),
                    };
                    let n = occurrences.entry(hash).or_insert(0);
                    keys.push((hash, *n));
                    *n += 1;
                }
                // An edit changes the keys of a few items between a prefix and a suffix that
                // keep theirs (in place): only that middle is looked up by key, and replaced.
                let prefix = keys
                    .iter()
                    .zip(&entries)
                    .take_while(|(k, (e, _))| *k == e)
                    .count();
                let suffix = keys[prefix..]
                    .iter()
                    .rev()
                    .zip(entries[prefix..].iter().rev())
                    .take_while(|(k, (e, _))| *k == e)
                    .count();
                let old = prefix..entries.len() - suffix;
                let new = prefix..keys.len() - suffix;
                // The middle's keys only, as the window's.
                keys.truncate(new.end);
                keys.drain(..prefix);
                (LazyItems::all(tree, items), old, new)
            }
        };
        let prefix = new_middle.start;
        // Where each new middle item comes from: an old entry with its key (each taken once:
        // identical items may share a key), or a new entry.
        let mut lookup: Option<FxHashMap<Key, Vec<usize>>> = (old_middle.len() > 16).then(|| {
            let mut map: FxHashMap<Key, Vec<usize>> = FxHashMap::default();
            for j in old_middle.clone().rev() {
                map.entry(entries[j].0).or_default().push(j);
            }
            map
        });
        let mut taken = vec![false; old_middle.len()];
        let mut not_analysed = Vec::new();
        let sources: Vec<Result<usize, Box<CachedItem>>> = new_middle
            .clone()
            .map(|i| {
                let key = keys[i - prefix];
                let found = match &mut lookup {
                    Some(map) => map.get_mut(&key).and_then(Vec::pop),
                    None => old_middle
                        .clone()
                        .find(|&j| !taken[j - prefix] && entries[j].0 == key),
                };
                if let Some(j) = found {
                    taken[j - prefix] = true;
                }
                found.ok_or_else(|| {
                    let item = items.get(i);
                    let start = item.node.start_byte();
                    // A class header contributes its name and bases only (its body is items).
                    let too_deep = !item.header && item.too_deep();
                    if too_deep {
                        not_analysed.push(NotAnalysed {
                            start,
                            depth: item.nodes().depth(),
                        });
                    }
                    let hashed_end = hashed_end(item);
                    Box::new(CachedItem {
                        start,
                        hashed_len: hashed_end - start,
                        header: item.header,
                        kind: item.node.kind_id(),
                        errors: item.node.has_error(),
                        classes: item.classes.iter().copied().collect(),
                        facts: if too_deep {
                            ItemFacts::default()
                        } else {
                            item_facts(item, src)
                        },
                        functions: Default::default(),
                        findings: None,
                        flows: None,
                        too_deep,
                    })
                })
            })
            .collect();
        // The merged model is a function of the items' facts and classes in document order: when
        // the middle's are what the old middle's were, it is the last run's.
        let same_facts = old_middle.len() == sources.len()
            && entries[old_middle.clone()]
                .iter()
                .zip(&sources)
                .all(|((_, old), source)| {
                    let new = match source {
                        Ok(j) => &*entries[*j].1,
                        Err(fresh) => &**fresh,
                    };
                    old.facts == new.facts && old.classes == new.classes
                });
        let mut removed: Vec<Option<(Key, Box<CachedItem>)>> =
            entries.drain(old_middle).map(Some).collect();
        let middle: Vec<(Key, Box<CachedItem>)> = sources
            .into_iter()
            .zip(new_middle.clone())
            .map(|(source, i)| match source {
                Ok(j) => removed[j - prefix]
                    .take()
                    .expect("each old entry is taken once"),
                Err(fresh) => (keys[i - prefix], fresh),
            })
            .collect();
        drop(removed);
        entries.splice(prefix..prefix, middle);
        // Cached findings move with their item, when every range they hold lies in it: a range
        // elsewhere (a related location from the data flow, say) stays where it is, and what is
        // there now is for the rules to tell again.
        for (i, (_, cached)) in entries.iter_mut().enumerate() {
            let start = items.start_of(i, cached.start, &new_middle, delta);
            if cached.start != start {
                let delta = start as isize - cached.start as isize;
                let old = cached.start..cached.start + cached.hashed_len;
                if let Some((_, _, findings)) = &mut cached.findings {
                    if findings.iter().all(|f| within(f, &old)) {
                        for f in findings {
                            f.shift(delta);
                        }
                    } else {
                        cached.findings = None;
                    }
                }
                cached.start = start;
            }
        }

        // Data flow: local summaries per item (cached under the base model), then the global
        // resolution over the call graph, which becomes part of the model and its fingerprint.
        // Cached results are keyed on the model without its bindings, plus the bindings they read
        // (recorded name by name): a new module-level name re-checks only the items that read it.
        // `base_fingerprint`: everything but the bindings and the data flow (read name by name).
        let mut facts_merged = 0;
        // What changed in the bindings since the last run (the names, and the fingerprints the
        // flows and findings known valid then hold): their recorded reads are compared with the
        // changed names instead of being hashed again one by one.
        let mut changed_bindings: Option<(u64, Option<u64>, Vec<String>)> = None;
        let merged = match merged {
            Some(m) if same_facts => {
                let (fp, reads_fp) = (m.bindings_fingerprint, m.reads_fingerprint);
                changed_bindings = Some((fp, reads_fp, Vec::new()));
                m
            }
            last => {
                facts_merged = entries.len();
                let model = Model::from_facts_kept(entries.iter_mut().map(|(_, c)| {
                    let c = &mut **c;
                    (&c.facts, &*c.classes, &mut c.functions)
                }));
                let bindings_fingerprint = model.bindings().fingerprint();
                if let Some(last) = &last {
                    // The same bindings (most merges: a call added to a handler): nothing to
                    // compare, and the flows take their fast path.
                    let names = if last.bindings_fingerprint == bindings_fingerprint {
                        Some(Vec::new())
                    } else {
                        last.model
                            .bindings()
                            .changed_names(model.bindings(), MAX_CHANGED_NAMES)
                    };
                    changed_bindings = names
                        .map(|names| (last.bindings_fingerprint, last.reads_fingerprint, names));
                }
                Merged {
                    bindings_fingerprint,
                    base_fingerprint: model.rest_fingerprint(),
                    reads_fingerprint: None,
                    model,
                }
            }
        };
        let flows_since = changed_bindings.as_ref().map(|(seen, _, names)| Since {
            seen: *seen,
            changed: names,
        });
        let findings_since = changed_bindings.as_ref().and_then(|(_, seen, names)| {
            seen.map(|seen| Since {
                seen,
                changed: names,
            })
        });
        let mut model = merged.model.clone();
        let (bindings_fingerprint, mut base_fingerprint) =
            (merged.bindings_fingerprint, merged.base_fingerprint);
        self.merged = Some(merged);
        // Names this module imports from other modules of the project, with what the project
        // knows of them (a PynamoDB model of `models.py`, a table made in `db.py`): the local
        // flows and the rules read them as they read the module's own classes and bindings.
        if let Some(r) = &self.project {
            let imported = r.imported();
            if !imported.is_empty() {
                let mut h = FxHasher::default();
                (base_fingerprint, &*imported).hash(&mut h);
                base_fingerprint = h.finish();
                model.foreign_names = imported;
            }
        }
        model.layout = self.import_layout(tree, src, shared.0);
        // The local flows read no resolved facts: their dependencies on the data flow are taken
        // against none.
        let no_flow = dataflow::Dataflow::default();
        let skip_flows = self.skip_unread_flows && !flows_needed(options.select.as_deref());
        for (i, cached) in entries.iter_mut().map(|(_, c)| &mut **c).enumerate() {
            if cached.header || skip_flows {
                continue;
            }
            if cached.too_deep {
                if cached.flows.is_none() {
                    let ((), none) = model.record_reads(|| ());
                    let deps = Deps::new(none, &model, &no_flow, bindings_fingerprint);
                    cached.flows = Some((base_fingerprint, deps, Arc::default(), 0));
                }
                continue;
            }
            let stale = match &mut cached.flows {
                Some((fp, deps, _, _)) => {
                    *fp != base_fingerprint
                        || !deps.still_valid(
                            &model,
                            &no_flow,
                            bindings_fingerprint,
                            flows_since,
                            None,
                        )
                }
                None => true,
            };
            if stale {
                let item = items.get(i);
                let classes: Vec<String> = cached
                    .classes
                    .iter()
                    .filter_map(|&i| model.classes.get(i).map(|c| c.name.clone()))
                    .collect();
                let (flows, reads) =
                    model.record_reads(|| dataflow::item_flows(item.node, &classes, &model, src));
                let deps = Deps::new(reads, &model, &no_flow, bindings_fingerprint);
                let mut h = FxHasher::default();
                flows.hash(&mut h);
                cached.flows = Some((base_fingerprint, deps, Arc::new(flows), h.finish()));
            }
        }
        // With a project resolver, the module's flows are resolved with the rest of the project
        // (the project model's view; again only when a flow, a start or the rest of the project
        // changed); alone, by the incremental resolver.
        // A module the project resolves alone (no other module calls it or is called by it: its
        // component is itself) is resolved by the incremental resolver, like a file without a
        // project: the project's resolution would be a resolution from scratch of the same flows,
        // on every keystroke that moves an item. Whether it is alone is asked again only when a
        // flow or the rest of the project changed.
        if self.facts_only {
            return self.facts_only_analysis(
                entries,
                keys,
                (tree, src),
                model,
                not_analysed,
                (items.walked(), facts_merged),
            );
        }
        let last_resolved = self.last_resolved.take();
        let mut dataflow = Arc::new(dataflow::Dataflow::default());
        let alone = match &self.project {
            None => true,
            Some(r) => match project_view(
                r.as_ref(),
                &entries,
                &mut self.project_alone,
                &mut self.project_last,
            ) {
                Some(view) => {
                    dataflow = view;
                    false
                }
                None => true,
            },
        };
        if alone {
            // The resolution reads the flows (and the item starts, to place the paths it holds):
            // it recomputes what depends on the flows that changed (see [`dataflow::Resolver`]).
            resolve_alone(&mut self.resolver, &entries);
            dataflow = self.resolver.dataflow().clone();
        }
        // The reads the resolution changed since the last run, when that run read the facts
        // this update started from.
        let flow_delta: Option<(u64, Vec<(bool, String)>)> = last_resolved
            .filter(|&(generation, _)| alone && generation + 1 == self.resolver.generation())
            .and_then(|(_, seen)| Some((seen, self.resolver.delta()?.to_vec())));
        let flow_since = flow_delta.as_ref().map(|(seen, changed)| FlowSince {
            seen: *seen,
            changed,
        });
        // The fast path of the findings' dependencies: the bindings and the data flow as a whole
        // (the facts, and the starts of the items their paths pass through). When it differs,
        // the facts each item read are compared name by name.
        self.last_flow = Some((dataflow.facts_hash(), dataflow.starts_hash()));
        let reads_fingerprint = {
            let mut h = FxHasher::default();
            bindings_fingerprint.hash(&mut h);
            dataflow.facts_hash().hash(&mut h);
            dataflow.starts_hash().hash(&mut h);
            h.finish()
        };

        let selected: Vec<&'static dyn Rule> = self
            .rules
            .unwrap_or_else(rules::all)
            .iter()
            .copied()
            .filter(|r| {
                options
                    .select
                    .as_ref()
                    .is_none_or(|s| s.contains(&r.meta().code))
            })
            .collect();
        let mut panics = Vec::new();
        let mut checked = 0;
        let mut findings = Vec::new();
        for (i, cached) in entries.iter_mut().map(|(_, c)| &mut **c).enumerate() {
            let stale = match &mut cached.findings {
                Some((fp, deps, _)) => {
                    *fp != base_fingerprint
                        || !deps.still_valid(
                            &model,
                            &dataflow,
                            reads_fingerprint,
                            findings_since,
                            flow_since,
                        )
                }
                None => true,
            };
            if stale {
                checked += 1;
                // The rules use the item's flows computed above instead of computing them again;
                // what computing them read is read by the findings too.
                let flows = cached.flows.as_ref();
                let ctx = Ctx {
                    src,
                    model: &model,
                    file: &options.file,
                    settings: &options.settings,
                    flows: flows.map(|f| &f.2[..]),
                    dataflow: dataflow::FlowView::new(&dataflow, model.recorder()),
                    callees: Default::default(),
                };
                let (mut out, mut reads) = model.record_reads(|| {
                    let mut out = Vec::new();
                    if !cached.header && !cached.too_deep {
                        let item = items.get(i);
                        for rule in &selected {
                            run_rule(*rule, item, &ctx, &mut out, &mut panics);
                        }
                    }
                    out
                });
                dataflow::cross::place_related(&mut out, &dataflow);
                if let Some((_, flow_deps, _, _)) = flows {
                    flow_deps.add_to(&mut reads);
                }
                let deps = Deps::new(reads, &model, &dataflow, reads_fingerprint);
                cached.findings = Some((base_fingerprint, deps, out));
            }
            if let Some((_, _, f)) = &cached.findings {
                findings.extend(f.iter().cloned());
            }
        }
        findings.sort_by(|a, b| {
            (a.range.start, a.range.end, a.rule.code).cmp(&(
                b.range.start,
                b.range.end,
                b.rule.code,
            ))
        });
        findings.dedup_by(|a, b| a.rule == b.rule && a.range == b.range);

        if let Some(m) = &mut self.merged {
            m.reads_fingerprint = Some(reads_fingerprint);
        }
        if alone {
            self.last_resolved = Some((self.resolver.generation(), reads_fingerprint));
        }
        self.entries = entries;
        self.keys = keys;
        self.text = Some(src.rope().clone());
        self.last_view = tree.structure().map(|s| (s, tree.patched_region()));
        let items_total = self.entries.len();
        Analysis {
            findings,
            model,
            dataflow,
            panics,
            not_analysed,
            items_checked: checked,
            items_total,
            items_walked: items.walked(),
            facts_merged,
            mentions_keylint: self.mentions.any(),
        }
    }
}

impl Analyzer {
    /// [`import_layout`], or the last one when the statements and the text it read are unchanged
    /// (the text before `unchanged` is the last run's).
    fn import_layout(&mut self, tree: TreeView, src: SourceText, unchanged: usize) -> ImportLayout {
        let root = tree.root();
        // The first `limit` top-level statements as the layout reads them (a patched one from its
        // patch); only those are walked (not the hundreds after them).
        let statements = |limit: usize| {
            let mut out: Vec<(u16, usize, usize)> = Vec::with_capacity(limit);
            let mut cursor = root.walk();
            if limit > 0 && cursor.goto_first_child() {
                'walk: loop {
                    let node = cursor.node();
                    if node.is_named() {
                        for n in tree.statements(node) {
                            out.push((n.kind_id(), n.start_byte(), n.end_byte()));
                            if out.len() == limit {
                                break 'walk;
                            }
                        }
                    }
                    if !cursor.goto_next_sibling() {
                        break;
                    }
                }
            }
            out
        };
        if let Some(last) = self.layout.as_ref().filter(|l| l.span <= unchanged) {
            if statements(last.statements.len()) == last.statements {
                return last.layout.clone();
            }
        }
        let (layout, read, span) = model::import_layout_read(tree, src);
        let statements = statements(read);
        self.layout = Some(LastLayout {
            layout: layout.clone(),
            statements,
            span,
        });
        layout
    }
}

/// Where the text an item's key hashes ends: a class header's before its body.
fn hashed_end(item: &Item) -> usize {
    if item.header {
        syntax::definition(item.node)
            .field("body")
            .map_or(item.node.end_byte(), |b| b.start_byte())
    } else {
        item.node.end_byte()
    }
}

/// The hash of an item's key: its text, class chain and syntax (see [`syntax_signature`]).
fn item_hash(item: &Item, src: SourceText) -> u64 {
    let start = item.node.start_byte();
    let end = hashed_end(item);
    let mut h = FxHasher::default();
    item.header.hash(&mut h);
    item.classes.hash(&mut h);
    (end - start).hash(&mut h);
    src.hash_bytes(start..end, &mut h);
    syntax_signature(item.node, end, &mut h);
    h.finish()
}

/// The items of a run: all of them, walked from the tree; or those of an edit's window (at
/// `offset` in the entries), the others walked only if a rule has to look at one of them again.
struct LazyItems<'t> {
    tree: TreeView<'t>,
    offset: usize,
    window: Vec<Item<'t>>,
    /// `window` holds every item.
    all: bool,
    full: std::cell::OnceCell<Vec<Item<'t>>>,
}

impl<'t> LazyItems<'t> {
    fn all(tree: TreeView<'t>, items: Vec<Item<'t>>) -> Self {
        LazyItems {
            tree,
            offset: 0,
            window: items,
            all: true,
            full: std::cell::OnceCell::new(),
        }
    }

    fn window(tree: TreeView<'t>, offset: usize, items: Vec<Item<'t>>) -> Self {
        LazyItems {
            tree,
            offset,
            window: items,
            all: false,
            full: std::cell::OnceCell::new(),
        }
    }

    /// Item `i` of the module (entries are in the same order once the window is spliced in).
    fn get(&self, i: usize) -> &Item<'t> {
        if self.all {
            return &self.window[i];
        }
        if (self.offset..self.offset + self.window.len()).contains(&i) {
            return &self.window[i - self.offset];
        }
        &self.full.get_or_init(|| items_sized(self.tree, 0))[i]
    }

    /// Where item `i` starts now, whose entry started at `last` (in the last run's text):
    /// after the window (`middle`, in the new entries), `last` moved by the edit's `delta`.
    fn start_of(
        &self,
        i: usize,
        last: usize,
        middle: &std::ops::Range<usize>,
        delta: isize,
    ) -> usize {
        if self.all || middle.contains(&i) {
            self.get(i).node.start_byte()
        } else if i >= middle.end {
            (last as isize + delta) as usize
        } else {
            last
        }
    }

    /// How many items were taken from the tree.
    fn walked(&self) -> usize {
        self.window.len() + self.full.get().map_or(0, Vec::len)
    }
}

/// The items the edit touched, when the whole tree is the one the last run read (only edited
/// since: [`TreeView::structure`] is `last_structure`), with the range of the last run's entries
/// they replace; `None` when every item is to be walked (another parse, a class in the window).
///
/// The two views differ only where the texts differ (`changed`, in the new text) and in their
/// patched regions (`last_region` is in the last text): the window is the top-level statements
/// that overlap or touch those, and every entry outside it is the last run's, moved by `delta`
/// after it.
fn edit_window<'t>(
    tree: TreeView<'t>,
    entries: &[(Key, Box<CachedItem>)],
    last_structure: u64,
    last_region: Option<std::ops::Range<usize>>,
    changed: (usize, usize),
    old_suffix_from: usize,
    delta: isize,
) -> Option<(Vec<Item<'t>>, std::ops::Range<usize>)> {
    if tree.structure() != Some(last_structure) || entries.is_empty() {
        return None;
    }
    let (mut lo, mut hi) = changed;
    if let Some(r) = tree.patched_region() {
        lo = lo.min(r.start);
        hi = hi.max(r.end);
    }
    if let Some(r) = last_region {
        lo = lo.min(r.start);
        if r.end > old_suffix_from {
            hi = hi.max(r.end.checked_add_signed(delta)?);
        }
    }
    let ids = syntax::kinds();
    let no_classes: std::rc::Rc<[usize]> = std::rc::Rc::from([]);
    let mut walked = Vec::new();
    let mut cursor = tree.root().walk();
    if cursor
        .goto_first_child_for_byte(lo.saturating_sub(1))
        .is_some()
    {
        loop {
            let node = cursor.node();
            if node.start_byte() > hi {
                break;
            }
            for stmt in tree.statements(node) {
                let kind = stmt.kind_id();
                if !stmt.is_named() || kind == ids.comment {
                    continue;
                }
                let def = if kind == ids.decorated_definition {
                    syntax::definition(stmt)
                } else {
                    stmt
                };
                if def.kind_id() == ids.class_definition {
                    return None;
                }
                walked.push(Item::new(stmt, no_classes.clone(), false));
            }
            if !cursor.goto_next_sibling() {
                break;
            }
        }
    }
    let from = walked.first().map_or(lo, |i| i.node.start_byte().min(lo));
    let to = walked.last().map_or(hi, |i| i.node.end_byte().max(hi));
    let to_old = to.checked_add_signed(-delta)?;
    let p = entries.partition_point(|(_, c)| c.start < from);
    let q = entries.partition_point(|(_, c)| c.start < to_old);
    if p > q
        || entries[p..q]
            .iter()
            .any(|(_, c)| c.header || !c.classes.is_empty())
    {
        return None;
    }
    Some((walked, p..q))
}

/// Feeds `hasher` what of an item's syntax its text does not tell (the text is hashed apart):
/// the kind of its node and, when it holds a syntax error, the kind, flags and relative range of
/// every node that starts before `end` (tree-sitter's error recovery may build a different tree
/// for the same text, depending on what surrounds it or on the nodes an incremental parse
/// reused). Error-free statements of the same text parse alike, so their walk is skipped.
fn syntax_signature<H: Hasher>(node: Node, end: usize, hasher: &mut H) {
    node.kind_id().hash(hasher);
    if !node.has_error() {
        return;
    }
    let start = node.start_byte();
    let mut cursor = node.walk();
    let mut depth = 0usize;
    loop {
        let n = cursor.node();
        if n.start_byte() < end || n == node {
            (
                depth,
                n.kind_id(),
                n.is_missing(),
                n.is_error(),
                n.start_byte() - start,
                n.end_byte() - start,
            )
                .hash(hasher);
            if cursor.goto_first_child() {
                depth += 1;
                continue;
            }
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if depth == 0 || !cursor.goto_parent() {
                return;
            }
            depth -= 1;
        }
        if depth == 0 {
            return;
        }
    }
}

/// Whether every byte range of a finding (its own, related locations, fix edits) lies in `item`.
fn within(f: &Finding, item: &std::ops::Range<usize>) -> bool {
    let inside = |r: &std::ops::Range<usize>| item.start <= r.start && r.end <= item.end;
    inside(&f.range)
        && f.related
            .iter()
            .all(|r| r.file.is_some() || inside(&r.range))
        && f.fixes.iter().all(|fix| {
            fix.edits.iter().all(|e| inside(&e.range))
                && fix.workspace_ops.iter().all(|op| match op {
                    crate::finding::WorkspaceOp::AppendEnv { value_range, .. } => {
                        inside(value_range)
                    }
                    crate::finding::WorkspaceOp::EnsureIgnored { .. } => true,
                })
        })
}

/// How many bytes two texts share at their start and at their end (not overlapping), comparing
/// their chunks: an edit copies the chunks it touches and shares the others, and a chunk at the
/// same address is the same text (`old` is alive: its memory cannot have been reused).
fn common_affixes(old: &ropey::Rope, new: &ropey::Rope) -> (usize, usize) {
    let same = |a: &str, b: &str| a.as_ptr() == b.as_ptr() && a.len() == b.len();
    let most = old.len_bytes().min(new.len_bytes());
    let mut prefix = 0;
    let (mut a, mut b) = (old.chunks(), new.chunks());
    while let (Some(x), Some(y)) = (a.next(), b.next()) {
        if same(x, y) {
            prefix += x.len();
            continue;
        }
        prefix += x.bytes().zip(y.bytes()).take_while(|(p, q)| p == q).count();
        break;
    }
    let prefix = prefix.min(most);
    let mut suffix = 0;
    let mut a = old.chunks_at_byte(old.len_bytes()).0;
    let mut b = new.chunks_at_byte(new.len_bytes()).0;
    while prefix + suffix < most {
        let (Some(x), Some(y)) = (a.prev(), b.prev()) else {
            break;
        };
        if same(x, y) {
            suffix += x.len();
            continue;
        }
        suffix += x
            .bytes()
            .rev()
            .zip(y.bytes().rev())
            .take_while(|(p, q)| p == q)
            .count();
        break;
    }
    (prefix, suffix.min(most - prefix))
}

/// Runs one rule on one item; a panic is caught and reported, the other rules go on.
fn run_rule(
    rule: &dyn Rule,
    item: &Item,
    ctx: &Ctx,
    out: &mut Vec<Finding>,
    panics: &mut Vec<RulePanic>,
) {
    let mut local = Vec::new();
    let result = catch_unwind(AssertUnwindSafe(|| rule.check(item, ctx, &mut local)));
    match result {
        Ok(()) => out.extend(local),
        Err(payload) => {
            // The payload may quote source text (a slicing panic does): keep only its first words.
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            let message: String = message
                .split(['`', '\'', '"'])
                .next()
                .unwrap_or("")
                .trim_end()
                .chars()
                .take(120)
                .collect();
            match panics.iter_mut().find(|p| p.rule == rule.meta().code) {
                Some(p) => p.items += 1,
                None => panics.push(RulePanic {
                    rule: rule.meta().code,
                    message,
                    items: 1,
                }),
            }
        }
    }
}

/// Pays the one-time costs of the analysis (compiling the secret patterns, first use of every
/// rule's code and tables) on a small sample whose findings are thrown away, so that they do not
/// fall on a keystroke. The language server runs it on the blocking pool at start-up.
pub fn warm_up() {
    secrets::warm_up();
    let _ = analyze_text(WARM_UP_SAMPLE, &Options::default());
}

/// A small module that goes through most rules: imports, a route, a settings class, hard-coded
/// and environment keys, logging, a URL with credentials.
const WARM_UP_SAMPLE: &str = r#"import logging
import os

import boto3
import requests
from fastapi import FastAPI, Header

logger = logging.getLogger(__name__)
app = FastAPI()
table = boto3.resource("dynamodb").Table("keys")
API_KEY = "sk-live-4f9c2b7e8d1a6f3c9a0b"
STRIPE_KEY = os.environ["STRIPE_KEY"]
DATABASE_URL = "postgresql://app:s3cr3tpassw0rd@db.internal.example.com/app"


class Settings:
    api_key: str = "AKIAIOSFODNN7EXAMPLE"
    debug = True


def save(key):
    table.put_item(Item={"key": key})


@app.get("/items")
def items(x_api_key: str = Header(...)):
    logger.info("key %s", x_api_key)
    save(x_api_key)
    requests.get("https://api.example.com", headers={"Authorization": x_api_key})
    return {"key": x_api_key}
"#;

/// Analyses a text from scratch (CLI, tests).
pub fn analyze_text(text: &str, options: &Options) -> (crate::document::Document, Analysis) {
    let doc = crate::document::Document::new(text, 0);
    let analysis = Analyzer::new().analyze(doc.view(), doc.source(), options);
    (doc, analysis)
}

#[cfg(test)]
mod tests;
