//! The analysis: splits a module into items, builds the semantic [`Model`], runs the rules per item
//! and caches their findings so that an edit re-examines only what it touched.
//!
//! ## Items and the cache
//! An *item* is a top-level statement, or a statement in the body of a top-level (or nested) class:
//! a 5,000-line test class is hundreds of items, not one. Each item is keyed by a hash of its text
//! and of its class chain (a class header by its text up to its body: its name and bases are all it
//! contributes). [`ItemFacts`] (imports, bindings, class facts…) are cached per key; the [`Model`] is
//! merged from them on every run (cheap).
//!
//! An item's findings (and its local data-flow summaries) are reused when its key is unchanged and
//! everything they read from the model is unchanged — only their byte offsets move with it. What
//! they read is tracked in two parts:
//! * the module **bindings**, name by name: every lookup of [`Model::bindings`] while the rules (or
//!   the local flow) run on the item is recorded ([`record_binding_reads`]) with a hash of what the
//!   name was bound to (or of its absence); listing the bindings counts as reading all of them.
//!   Typing a module-level name (`P`, `PA`, `PAS`…) re-checks only the items that looked that name
//!   up, including through another binding (`t.put_item` with `t = boto3.resource(...)` reads `t`
//!   and then `boto3`);
//! * **everything else** (imports, classes, functions, handlers, validated names, function returns,
//!   the resolved data flow), by one fingerprint ([`Model::rest_fingerprint`]): when it changes,
//!   every item is checked again.
//!
//! Module-level facts stay exact: a reused result read the same bindings and the same rest of the
//! model as a run now would (`tests.rs` compares with from-scratch analyses keystroke by keystroke).
//!
//! The module-wide data-flow resolution runs again only when a local summary changed, or when an
//! item with summaries moved, and the last result holds byte ranges (paths, scans); without them,
//! it cannot depend on ranges or item starts.

pub mod dataflow;
pub mod frameworks;
mod model;
pub mod secrets;
pub mod syntax;
pub mod validation;

pub use model::{
    handler_kind_of_decorator, import_layout, item_facts, record_binding_reads, Binding,
    BindingReads, Bindings, ClassFact, FunctionFact, HandlerKind, ImportFact, ImportLayout,
    ItemFacts, Model,
};

use std::hash::{Hash, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHasher};
use tree_sitter::Node;

use crate::document::{SourceText, TreeView};
use crate::finding::Finding;
use crate::rules::{self, Ctx, FileContext, Rule, RuleSettings};

/// One unit of analysis: a statement, with the classes around it.
pub struct Item<'t> {
    pub node: Node<'t>,
    /// Indices into [`Model::classes`] of the enclosing classes, outermost first (shared by the
    /// items of one class body).
    pub classes: Rc<[usize]>,
    /// A class header (`class X(Base):` with its decorators): contributes facts only, no findings.
    pub header: bool,
    /// Every node of the item, indexed on first use (see [`Item::nodes`]).
    index: std::cell::OnceCell<syntax::NodeIndex<'t>>,
}

impl<'t> Item<'t> {
    pub fn new(node: Node<'t>, classes: Rc<[usize]>, header: bool) -> Self {
        Item {
            node,
            classes,
            header,
            index: std::cell::OnceCell::new(),
        }
    }

    /// Every node of the item in document order, walked once and shared by the item facts and
    /// every rule.
    pub fn nodes(&self) -> &syntax::NodeIndex<'t> {
        self.index.get_or_init(|| syntax::NodeIndex::new(self.node))
    }

    /// Every node below `node` (an item node, itself included) in document order.
    pub fn descendants(&self, node: Node<'t>) -> syntax::Walk<'_, 't> {
        if node == self.node {
            self.nodes().walk()
        } else {
            self.nodes().walk_from(node)
        }
    }
}

/// A rule that panicked on an item. Carries no source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulePanic {
    pub rule: &'static str,
    pub message: String,
}

/// The result of analysing one document.
pub struct Analysis {
    pub findings: Vec<Finding>,
    pub model: Model,
    pub panics: Vec<RulePanic>,
    /// How many items were checked by the rules this time (the rest came from the cache).
    pub items_checked: usize,
    pub items_total: usize,
}

/// Node kind ids the item split compares against (cheaper than comparing kind names).
struct Kinds {
    comment: u16,
    class: u16,
    decorated: u16,
}

/// Splits the module into items, in document order (a patched statement from its patch).
pub fn items(tree: TreeView<'_>) -> Vec<Item<'_>> {
    let language = tree.tree().language();
    let kinds = Kinds {
        comment: language.id_for_node_kind("comment", true),
        class: language.id_for_node_kind("class_definition", true),
        decorated: language.id_for_node_kind("decorated_definition", true),
    };
    let mut out = Vec::new();
    let mut class_count = 0usize;
    push_block(
        tree,
        tree.root(),
        Rc::from([]),
        &kinds,
        &mut class_count,
        &mut out,
    );
    out
}

fn push_block<'t>(
    tree: TreeView<'t>,
    block: Node<'t>,
    classes: Rc<[usize]>,
    kinds: &Kinds,
    count: &mut usize,
    out: &mut Vec<Item<'t>>,
) {
    let mut cursor = block.walk();
    if !cursor.goto_first_child() {
        return;
    }
    loop {
        for stmt in tree.statements(cursor.node()) {
            let kind = stmt.kind_id();
            if !stmt.is_named() || kind == kinds.comment {
                continue;
            }
            let def = if kind == kinds.decorated {
                syntax::definition(stmt)
            } else {
                stmt
            };
            if def.kind_id() == kinds.class {
                let index = *count;
                *count += 1;
                out.push(Item::new(stmt, classes.clone(), true));
                if let Some(body) = def.child_by_field_name("body") {
                    let inner: Rc<[usize]> = classes.iter().copied().chain([index]).collect();
                    push_block(tree, body, inner, kinds, count, out);
                }
            } else {
                out.push(Item::new(stmt, classes.clone(), false));
            }
        }
        if !cursor.goto_next_sibling() {
            break;
        }
    }
}

/// Which rules run, and how findings are adjusted.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Options {
    pub file: FileContext,
    pub settings: RuleSettings,
    /// Codes of the rules to run; `None` runs every rule.
    pub select: Option<Vec<&'static str>>,
}

struct CachedItem {
    start: usize,
    facts: ItemFacts,
    /// Findings, with the fingerprint of the model without its bindings they were computed under,
    /// and the bindings they read.
    findings: Option<(u64, Deps, Vec<Finding>)>,
    /// Local data-flow summaries, with the fingerprint of the base model without its bindings
    /// they were computed under, the bindings they read, and hashes of the summaries (with and
    /// without their byte ranges).
    flows: Option<CachedFlows>,
}

/// Base fingerprint, bindings read, the summaries, and their hashes (with and without ranges).
type CachedFlows = (u64, Deps, Vec<dataflow::FnFlow>, (u64, u64));

/// The last module-wide data-flow resolution, with what it was computed from.
struct LastDataflow {
    /// Hash of the flows resolved (in order).
    content_sig: u64,
    /// The same without their byte ranges ([`dataflow::FnFlow::hash_without_ranges`]).
    shape_sig: u64,
    /// Hash of the starts of their items.
    start_sig: u64,
    /// The result holds byte ranges (paths, scans), so it depends on the starts.
    has_ranges: bool,
    hash: u64,
    dataflow: Arc<dataflow::Dataflow>,
}

/// The module bindings a cached result read, with a hash of what each was bound to then.
struct Deps {
    /// It listed every binding: any change of the bindings invalidates it.
    all: bool,
    reads: Vec<(String, u64)>,
    /// Fingerprint of the bindings under which it was last known valid (the fast path).
    seen: u64,
}

impl Deps {
    fn new(reads: BindingReads, bindings: &Bindings, fingerprint: u64) -> Deps {
        Deps {
            all: reads.all,
            reads: reads
                .names
                .into_iter()
                .map(|n| {
                    let h = bindings.hash_of(&n);
                    (n, h)
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
    }

    /// Whether every binding read is still bound as it was (exactly what a run now would read).
    fn still_valid(&mut self, bindings: &Bindings, fingerprint: u64) -> bool {
        if self.seen == fingerprint {
            return true;
        }
        if self.all {
            return false;
        }
        if self
            .reads
            .iter()
            .all(|(name, h)| bindings.hash_of(name) == *h)
        {
            self.seen = fingerprint;
            return true;
        }
        false
    }
}

/// Analyses one document again and again, reusing what an edit did not touch.
#[derive(Default)]
pub struct Analyzer {
    /// Boxed: the entries move into a vector and back on every run (hundreds of items).
    cache: FxHashMap<(u64, u32), Box<CachedItem>>,
    options_hash: u64,
    dataflow: Option<LastDataflow>,
}

impl Analyzer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets every cached result (configuration changed, say).
    pub fn clear(&mut self) {
        self.cache.clear();
        self.dataflow = None;
    }

    /// Analyses the document whose text is `src` and whose tree is `tree` (they must match).
    pub fn analyze(&mut self, tree: TreeView, src: SourceText, options: &Options) -> Analysis {
        let options_hash = {
            let mut h = FxHasher::default();
            options.hash(&mut h);
            h.finish()
        };
        if options_hash != self.options_hash {
            self.clear();
            self.options_hash = options_hash;
        }

        let items = items(tree);
        // Key every item by its text and class chain; identical items are told apart by occurrence.
        // A class header is keyed by its text up to its body: its facts (name, bases) are all it
        // contributes (no findings, no flows), so an edit in the body leaves it cached.
        let mut occurrences: FxHashMap<u64, u32> = FxHashMap::default();
        let mut keys = Vec::with_capacity(items.len());
        for item in &items {
            let mut h = FxHasher::default();
            item.header.hash(&mut h);
            item.classes.hash(&mut h);
            let range = item.node.byte_range();
            let end = if item.header {
                syntax::definition(item.node)
                    .child_by_field_name("body")
                    .map_or(range.end, |b| b.start_byte())
            } else {
                range.end
            };
            (end - range.start).hash(&mut h);
            src.hash_bytes(range.start..end, &mut h);
            let hash = h.finish();
            let n = occurrences.entry(hash).or_insert(0);
            keys.push((hash, *n));
            *n += 1;
        }

        let mut old = std::mem::take(&mut self.cache);
        let mut fresh: Vec<Box<CachedItem>> = Vec::with_capacity(items.len());
        for (item, key) in items.iter().zip(&keys) {
            let start = item.node.start_byte();
            match old.remove(key) {
                Some(mut cached) => {
                    if cached.start != start {
                        let delta = start as isize - cached.start as isize;
                        if let Some((_, _, findings)) = &mut cached.findings {
                            for f in findings {
                                f.shift(delta);
                            }
                        }
                        cached.start = start;
                    }
                    fresh.push(cached);
                }
                None => fresh.push(Box::new(CachedItem {
                    start,
                    facts: item_facts(item, src),
                    findings: None,
                    flows: None,
                })),
            }
        }

        let mut model = Model::from_facts(
            fresh
                .iter()
                .zip(&items)
                .map(|(c, i)| (&c.facts, &*i.classes)),
        );
        model.layout = import_layout(tree, src);
        // Data flow: local summaries per item (cached under the base model), then the global
        // resolution over the call graph, which becomes part of the model and its fingerprint.
        // Cached results are keyed on the model without its bindings, plus the bindings they read
        // (recorded name by name): a new module-level name re-checks only the items that read it.
        let bindings_fingerprint = model.bindings.fingerprint();
        let base_fingerprint = model.rest_fingerprint();
        for (item, cached) in items.iter().zip(fresh.iter_mut()) {
            if item.header {
                continue;
            }
            let stale = match &mut cached.flows {
                Some((fp, deps, _, _)) => {
                    *fp != base_fingerprint
                        || !deps.still_valid(&model.bindings, bindings_fingerprint)
                }
                None => true,
            };
            if stale {
                let classes: Vec<String> = item
                    .classes
                    .iter()
                    .filter_map(|&i| model.classes.get(i).map(|c| c.name.clone()))
                    .collect();
                let (flows, reads) =
                    record_binding_reads(|| dataflow::item_flows(item.node, &classes, &model, src));
                let deps = Deps::new(reads, &model.bindings, bindings_fingerprint);
                let (mut h, mut shape) = (FxHasher::default(), FxHasher::default());
                flows.hash(&mut h);
                for f in &flows {
                    f.hash_without_ranges(&mut shape);
                }
                let sigs = (h.finish(), shape.finish());
                cached.flows = Some((base_fingerprint, deps, flows, sigs));
            }
        }
        // The resolution reads the flows and the item starts only: when no flow changed, and
        // either no start moved or the last result holds no byte range (no path, no scan: then it
        // cannot depend on where the items start), it is the last result.
        // Likewise, flows that differ only in their (relative) ranges resolve alike then.
        let mut sigs = [
            FxHasher::default(),
            FxHasher::default(),
            FxHasher::default(),
        ];
        for c in &fresh {
            if let Some(flows) = c.flows.as_ref().filter(|f| !f.2.is_empty()) {
                flows.3 .0.hash(&mut sigs[0]);
                flows.3 .1.hash(&mut sigs[1]);
                c.start.hash(&mut sigs[2]);
            }
        }
        let [content_sig, shape_sig, start_sig] = sigs.map(|h| h.finish());
        let reuse = self.dataflow.as_ref().is_some_and(|last| {
            (last.content_sig == content_sig && last.start_sig == start_sig)
                || (last.shape_sig == shape_sig && !last.has_ranges)
        });
        if !reuse {
            let df = dataflow::resolve(fresh.iter().flat_map(|c| {
                let start = c.start;
                c.flows
                    .iter()
                    .flat_map(move |(_, _, flows, _)| flows.iter().map(move |f| (f, start)))
            }));
            let mut h = FxHasher::default();
            df.hash(&mut h);
            self.dataflow = Some(LastDataflow {
                content_sig,
                shape_sig,
                start_sig,
                has_ranges: df.has_ranges(),
                hash: h.finish(),
                dataflow: Arc::new(df),
            });
        }
        let last = self.dataflow.as_ref().expect("set above");
        model.dataflow = last.dataflow.clone();
        // `Model::rest_fingerprint`, with the hash of the data flow computed once per result.
        let fingerprint = {
            let mut h = FxHasher::default();
            base_fingerprint.hash(&mut h);
            last.hash.hash(&mut h);
            h.finish()
        };

        let selected: Vec<&'static dyn Rule> = rules::all()
            .iter()
            .copied()
            .filter(|r| {
                options
                    .select
                    .as_ref()
                    .is_none_or(|s| s.contains(&r.meta().code))
            })
            .collect();
        dataflow::report::reset_cache();
        let mut panics = Vec::new();
        let mut checked = 0;
        let mut findings = Vec::new();
        for (item, cached) in items.iter().zip(fresh.iter_mut()) {
            let stale = match &mut cached.findings {
                Some((fp, deps, _)) => {
                    *fp != fingerprint || !deps.still_valid(&model.bindings, bindings_fingerprint)
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
                };
                let (out, mut reads) = record_binding_reads(|| {
                    let mut out = Vec::new();
                    if !item.header {
                        for rule in &selected {
                            run_rule(*rule, item, &ctx, &mut out, &mut panics);
                        }
                    }
                    out
                });
                if let Some((_, flow_deps, _, _)) = flows {
                    flow_deps.add_to(&mut reads);
                }
                let deps = Deps::new(reads, &model.bindings, bindings_fingerprint);
                cached.findings = Some((fingerprint, deps, out));
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

        let mut cache = FxHashMap::with_capacity_and_hasher(fresh.len(), Default::default());
        cache.extend(keys.into_iter().zip(fresh));
        self.cache = cache;
        let items_total = items.len();
        Analysis {
            findings,
            model,
            panics,
            items_checked: checked,
            items_total,
        }
    }
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
                .chars()
                .take(120)
                .collect();
            panics.push(RulePanic {
                rule: rule.meta().code,
                message,
            });
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
