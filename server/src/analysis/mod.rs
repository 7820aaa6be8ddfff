//! The analysis: splits a module into items, builds the semantic [`Model`], runs the rules per item
//! and caches their findings so that an edit re-examines only what it touched.
//!
//! ## Items and the cache
//! An *item* is a top-level statement, or a statement in the body of a top-level (or nested) class:
//! a 5,000-line test class is hundreds of items, not one. Each item is keyed by a hash of its text
//! and of its class chain. [`ItemFacts`] (imports, bindings, class facts…) are cached per key; the
//! [`Model`] is merged from them on every run (cheap) and fingerprinted. An item's findings are reused
//! when its key and the model's fingerprint are unchanged — only their byte offsets move with it.
//! When the model changes (an import, a module binding, a class flag, a function's signature), every
//! item is checked again: module-level facts stay exact.

pub mod dataflow;
pub mod frameworks;
mod model;
pub mod secrets;
pub mod syntax;
pub mod validation;

pub use model::{
    handler_kind_of_decorator, import_layout, item_facts, Binding, ClassFact, FunctionFact,
    HandlerKind, ImportFact, ImportLayout, ItemFacts, Model,
};

use std::hash::{Hash, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};

use rustc_hash::{FxHashMap, FxHasher};
use tree_sitter::{Node, Tree};

use crate::document::SourceText;
use crate::finding::Finding;
use crate::rules::{self, Ctx, FileContext, Rule, RuleSettings};

/// One unit of analysis: a statement, with the classes around it.
pub struct Item<'t> {
    pub node: Node<'t>,
    /// Indices into [`Model::classes`] of the enclosing classes, outermost first.
    pub classes: Vec<usize>,
    /// A class header (`class X(Base):` with its decorators): contributes facts only, no findings.
    pub header: bool,
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

/// Splits the module into items, in document order.
pub fn items(tree: &Tree) -> Vec<Item<'_>> {
    let mut out = Vec::new();
    let mut class_count = 0usize;
    push_block(tree.root_node(), &[], &mut class_count, &mut out);
    out
}

fn push_block<'t>(block: Node<'t>, classes: &[usize], count: &mut usize, out: &mut Vec<Item<'t>>) {
    let mut cursor = block.walk();
    for stmt in block.named_children(&mut cursor) {
        if stmt.kind() == "comment" {
            continue;
        }
        let def = syntax::definition(stmt);
        if def.kind() == "class_definition" {
            let index = *count;
            *count += 1;
            out.push(Item {
                node: stmt,
                classes: classes.to_vec(),
                header: true,
            });
            if let Some(body) = def.child_by_field_name("body") {
                let mut inner = classes.to_vec();
                inner.push(index);
                push_block(body, &inner, count, out);
            }
        } else {
            out.push(Item {
                node: stmt,
                classes: classes.to_vec(),
                header: false,
            });
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
    /// Findings, with the model fingerprint they were computed under.
    findings: Option<(u64, Vec<Finding>)>,
    /// Local data-flow summaries, with the fingerprint of the base model they were computed under.
    flows: Option<(u64, Vec<dataflow::FnFlow>)>,
}

/// Analyses one document again and again, reusing what an edit did not touch.
#[derive(Default)]
pub struct Analyzer {
    cache: FxHashMap<(u64, u32), CachedItem>,
    options_hash: u64,
}

impl Analyzer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets every cached result (configuration changed, say).
    pub fn clear(&mut self) {
        self.cache.clear();
    }

    /// Analyses the document whose text is `src` and whose tree is `tree` (they must match).
    pub fn analyze(&mut self, tree: &Tree, src: SourceText, options: &Options) -> Analysis {
        let options_hash = {
            let mut h = FxHasher::default();
            options.hash(&mut h);
            h.finish()
        };
        if options_hash != self.options_hash {
            self.cache.clear();
            self.options_hash = options_hash;
        }

        let items = items(tree);
        // Key every item by its text and class chain; identical items are told apart by occurrence.
        let mut occurrences: FxHashMap<u64, u32> = FxHashMap::default();
        let mut keys = Vec::with_capacity(items.len());
        for item in &items {
            let mut h = FxHasher::default();
            item.header.hash(&mut h);
            item.classes.hash(&mut h);
            src.hash_range(item.node.byte_range(), &mut h);
            let hash = h.finish();
            let n = occurrences.entry(hash).or_insert(0);
            keys.push((hash, *n));
            *n += 1;
        }

        let mut old = std::mem::take(&mut self.cache);
        let mut fresh: Vec<CachedItem> = Vec::with_capacity(items.len());
        for (item, key) in items.iter().zip(&keys) {
            let start = item.node.start_byte();
            match old.remove(key) {
                Some(mut cached) => {
                    if cached.start != start {
                        let delta = start as isize - cached.start as isize;
                        if let Some((_, findings)) = &mut cached.findings {
                            for f in findings {
                                f.shift(delta);
                            }
                        }
                        cached.start = start;
                    }
                    fresh.push(cached);
                }
                None => fresh.push(CachedItem {
                    start,
                    facts: item_facts(item.node, item.header, src),
                    findings: None,
                    flows: None,
                }),
            }
        }

        let mut model = Model::from_facts(
            fresh
                .iter()
                .zip(&items)
                .map(|(c, i)| (&c.facts, i.classes.as_slice())),
        );
        model.layout = import_layout(tree.root_node(), src);
        // Data flow: local summaries per item (cached under the base model), then the global
        // resolution over the call graph, which becomes part of the model and its fingerprint.
        let base_fingerprint = model.fingerprint();
        for (item, cached) in items.iter().zip(fresh.iter_mut()) {
            if item.header {
                continue;
            }
            if cached
                .flows
                .as_ref()
                .is_none_or(|(fp, _)| *fp != base_fingerprint)
            {
                let classes: Vec<String> = item
                    .classes
                    .iter()
                    .filter_map(|&i| model.classes.get(i).map(|c| c.name.clone()))
                    .collect();
                let flows = dataflow::item_flows(item.node, &classes, &model, src);
                cached.flows = Some((base_fingerprint, flows));
            }
        }
        model.dataflow = dataflow::resolve(fresh.iter().flat_map(|c| {
            let start = c.start;
            c.flows
                .iter()
                .flat_map(move |(_, flows)| flows.iter().map(move |f| (f, start)))
        }));
        let fingerprint = model.fingerprint();

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
        let ctx = Ctx {
            src,
            model: &model,
            file: &options.file,
            settings: &options.settings,
        };
        dataflow::report::reset_cache();
        let mut panics = Vec::new();
        let mut checked = 0;
        let mut findings = Vec::new();
        for (item, cached) in items.iter().zip(fresh.iter_mut()) {
            let stale = cached
                .findings
                .as_ref()
                .is_none_or(|(fp, _)| *fp != fingerprint);
            if stale {
                checked += 1;
                let mut out = Vec::new();
                if !item.header {
                    for rule in &selected {
                        run_rule(*rule, item, &ctx, &mut out, &mut panics);
                    }
                }
                cached.findings = Some((fingerprint, out));
            }
            if let Some((_, f)) = &cached.findings {
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

        self.cache = keys.into_iter().zip(fresh).collect();
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

/// Analyses a text from scratch (CLI, tests).
pub fn analyze_text(text: &str, options: &Options) -> (crate::document::Document, Analysis) {
    let doc = crate::document::Document::new(text, 0);
    let analysis = Analyzer::new().analyze(&doc.tree, doc.source(), options);
    (doc, analysis)
}
