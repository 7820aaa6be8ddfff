//! Data-flow facts that cross files: the seam between one module's resolution ([`super::resolve`])
//! and the project model (`crate::project`), which resolves the flows of every module of a
//! project together and hands each module its view through a [`FlowResolver`].
//!
//! A place in another file is a byte offset *encoded* with that file's index
//! ([`encode`]/[`decode`]): offsets of one file are far below [`FOREIGN_BASE`]. The project model
//! gives the resolver item starts encoded with their file, and each module's view maps the anchors
//! of other modules' items to starts encoded with an index into the view's files, so that
//! [`Dataflow::concretize`] yields encoded ranges the rules carry like any other, and the analyzer
//! turns them into
//! [`crate::finding::Related`] places with a path ([`Dataflow::foreign_file`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::{fx_hash, Anchor, Conc, Dataflow, FnFacts, FnFlow, RetSym, Step};
use crate::model::ForeignName;

/// Bits of an offset within one file: files are far smaller than 1 TiB.
pub const FOREIGN_SHIFT: u32 = 40;
/// The first encoded offset (file index 0).
pub const FOREIGN_BASE: usize = 1 << FOREIGN_SHIFT;

/// The offset `offset` of the file with index `file`, encoded.
pub fn encode(file: usize, offset: usize) -> usize {
    ((file + 1) << FOREIGN_SHIFT) | (offset & (FOREIGN_BASE - 1))
}

/// `(file index, offset)` of an encoded offset; `None` for a plain one.
pub fn decode(offset: usize) -> Option<(usize, usize)> {
    (offset >= FOREIGN_BASE).then(|| ((offset >> FOREIGN_SHIFT) - 1, offset & (FOREIGN_BASE - 1)))
}

/// Resolves a module's flows with what the rest of the project knows (callers in other modules,
/// functions imported from them). Implemented by `crate::project`.
pub trait FlowResolver: Send + Sync {
    /// The facts of the module whose flows (each with the start of its item) are `flows`.
    fn resolve(&self, flows: &[(&FnFlow, usize)]) -> Dataflow;
    /// Changes whenever the facts of the other modules change: a module whose own flows did not
    /// change resolves again only then.
    fn signature(&self) -> u64;
    /// Whether the module's flows are resolved with no other module's (its component in the
    /// project is itself): [`resolve`](Self::resolve) would then be [`super::resolve`] of the
    /// flows alone, which the analyzer's own incremental resolver gives without resolving the
    /// whole module again on every keystroke. Asked again only when a flow or the
    /// [`signature`](Self::signature) changed (not when items merely moved).
    fn alone(&self, _flows: &[(&FnFlow, usize)]) -> bool {
        false
    }
    /// [`resolve`](Self::resolve) of the flows of `items` (each item's flows, shared with the
    /// analyzer's cache, with its start): a resolver that keeps them can compare them by
    /// address instead of flow by flow.
    fn resolve_items(&self, items: &[(&Arc<Vec<FnFlow>>, usize)]) -> Dataflow {
        let flows: Vec<(&FnFlow, usize)> = items
            .iter()
            .flat_map(|&(fs, s)| fs.iter().map(move |f| (f, s)))
            .collect();
        self.resolve(&flows)
    }
    /// [`alone`](Self::alone) of the flows of `items`, as for
    /// [`resolve_items`](Self::resolve_items).
    fn alone_items(&self, items: &[(&Arc<Vec<FnFlow>>, usize)]) -> bool {
        let flows: Vec<(&FnFlow, usize)> = items
            .iter()
            .flat_map(|&(fs, s)| fs.iter().map(move |f| (f, s)))
            .collect();
        self.alone(&flows)
    }
    /// The names the module imports from other modules of the project with the facts the local
    /// data flow and the rules read of them (a PynamoDB model of `models.py`: its `scan()` reads
    /// whole items, its `save()` stores; a DynamoDB table made in `db.py`), sorted by the name
    /// they are bound to. Asked before the module's local flows, which depend on them.
    fn imported(&self) -> Arc<Vec<ForeignName>> {
        Arc::default()
    }
}

impl Dataflow {
    /// The path of the other file with index `i` (a decoded step's file).
    pub fn foreign_file(&self, i: usize) -> Option<&Arc<str>> {
        self.files.get(i)
    }

    /// The resolved facts of every function, without recording reads.
    pub fn function_facts(&self) -> &BTreeMap<Arc<str>, Arc<FnFacts>> {
        &self.functions
    }

    /// The key material of every global, without recording reads.
    pub fn global_facts(&self) -> &BTreeMap<String, Vec<Conc>> {
        &self.globals
    }

    /// The start of every item a stored path passes through, without recording reads.
    pub fn anchor_starts(&self) -> &FxHashMap<Anchor, usize> {
        &self.starts
    }

    /// The names the module imports from other modules, with their facts (see
    /// [`FlowResolver::imported`]).
    pub fn imported(&self) -> &Arc<Vec<ForeignName>> {
        &self.imported
    }

    /// The view with the names the module imports from other modules.
    pub fn with_imported(mut self, imported: Vec<ForeignName>) -> Dataflow {
        self.imported = Arc::new(imported);
        self
    }

    /// A view with no resolution, only the names the module imports from other modules: the
    /// module is resolved alone ([`FlowResolver::alone`]).
    pub fn alone_with_imported(imported: Vec<ForeignName>) -> Dataflow {
        Dataflow {
            imported: Arc::new(imported),
            alone: true,
            ..Dataflow::default()
        }
    }

    /// A view with no resolution ([`Dataflow::alone_with_imported`]).
    pub fn is_alone(&self) -> bool {
        self.alone
    }

    /// Facts put together by the project model: functions and globals by name, the starts of
    /// the anchors their paths pass through (encoded for `files`), with the hashes
    /// [`Dataflow::hash_of`] and the fast paths read.
    pub fn from_parts(
        functions: BTreeMap<Arc<str>, Arc<FnFacts>>,
        globals: BTreeMap<String, Vec<Conc>>,
        starts: FxHashMap<Anchor, usize>,
        files: Vec<Arc<str>>,
    ) -> Dataflow {
        let mix = |name: &str, h: u64| fx_hash(&(name, h));
        let mut facts_hash = 0u64;
        let mut fn_hashes = FxHashMap::default();
        for (name, f) in &functions {
            let h = fx_hash(&**f);
            facts_hash = facts_hash.wrapping_add(mix(name, h));
            fn_hashes.insert(name.clone(), h);
        }
        let mut global_hashes = FxHashMap::default();
        for (name, c) in &globals {
            let h = fx_hash(c);
            facts_hash = facts_hash.wrapping_add(mix(&format!("\0{name}"), h));
            global_hashes.insert(name.clone(), h);
        }
        let mut starts_hash = 0u64;
        for (a, s) in &starts {
            starts_hash = starts_hash.wrapping_add(fx_hash(&(a, s)));
        }
        Dataflow {
            functions: Arc::new(functions),
            globals: Arc::new(globals),
            fn_hashes: Arc::new(fn_hashes),
            global_hashes: Arc::new(global_hashes),
            starts: Arc::new(starts),
            facts_hash,
            starts_hash,
            files: Arc::new(files),
            imported: Arc::default(),
            alone: false,
        }
    }
}

/// Every step of the facts of one function (paths of its return, of its parameters, of a scan).
pub fn steps_mut(f: &mut FnFacts) -> impl Iterator<Item = &mut Step> {
    let ret = f.ret.iter_mut().flat_map(|r| match r {
        RetSym::Conc(c) => Some(c.path.iter_mut()),
        RetSym::Param(..) => None,
    });
    let ins = f
        .param_in
        .iter_mut()
        .flat_map(|p| p.iter_mut().flat_map(|c| c.path.iter_mut()));
    let scan = f.scan.iter_mut().flat_map(|p| p.iter_mut());
    ret.flatten().chain(ins).chain(scan)
}

/// Turns the related places of `findings` that lie in another file (encoded offsets) into places
/// with that file's path.
pub fn place_related(findings: &mut [crate::finding::Finding], df: &Dataflow) {
    for f in findings {
        for r in &mut f.related {
            if let Some((i, start)) = decode(r.range.start) {
                let len = r.range.end.saturating_sub(r.range.start);
                r.range = start..start + len;
                r.file = df.foreign_file(i).cloned();
            }
        }
    }
}

/// A callee as a message shows it: a function of another module (`@.store.list_clients`) by its
/// name (`list_clients`), a function of this module as it is.
pub fn shown_callee(callee: &str) -> &str {
    match callee.strip_prefix('@') {
        Some(path) => path.rsplit('.').next().unwrap_or(path),
        None => callee,
    }
}

/// The hash of a flow the resolver compares ([`super::Resolver::update`]), as [`super::resolve`]
/// computes it.
pub fn flow_hash(flow: &FnFlow) -> u64 {
    fx_hash(flow)
}

/// A hash of a module's view: its facts, the starts of the anchors its paths pass through and the
/// files they lie in. Equal hashes: the rules read the same facts.
pub fn view_hash(df: &Dataflow) -> u64 {
    fx_hash(&(df.facts_hash, df.starts_hash, &*df.files))
}

/// What differs between two resolutions of the same flows' names: the functions and the globals
/// whose facts changed (or appeared, or went), and the anchors whose start changed.
#[derive(Debug, Default)]
pub struct Changes {
    pub functions: Vec<String>,
    pub globals: Vec<String>,
    pub starts: Vec<Anchor>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.functions.is_empty() && self.globals.is_empty() && self.starts.is_empty()
    }
}

/// The [`Changes`] from `old` to `new` (name by name, by the facts' hashes; nothing is compared
/// where the two share their maps).
pub fn changes(old: &Dataflow, new: &Dataflow) -> Changes {
    fn differing<V: PartialEq, K: Clone + Eq + std::hash::Hash>(
        a: &FxHashMap<K, V>,
        b: &FxHashMap<K, V>,
    ) -> Vec<K> {
        let mut out: Vec<K> = a
            .iter()
            .filter(|(k, v)| b.get(*k) != Some(*v))
            .map(|(k, _)| k.clone())
            .collect();
        out.extend(b.keys().filter(|k| !a.contains_key(*k)).cloned());
        out
    }
    let mut out = Changes::default();
    if !Arc::ptr_eq(&old.fn_hashes, &new.fn_hashes) {
        out.functions = differing(&old.fn_hashes, &new.fn_hashes)
            .iter()
            .map(|n| n.to_string())
            .collect();
    }
    if !Arc::ptr_eq(&old.global_hashes, &new.global_hashes) {
        out.globals = differing(&old.global_hashes, &new.global_hashes);
    }
    if !Arc::ptr_eq(&old.starts, &new.starts) {
        out.starts = differing(&old.starts, &new.starts);
    }
    out
}

/// A callee as a message shows it: a call to another module's function without its `@` and the
/// dots of a relative import (`@..deps.get_api_key` → `deps.get_api_key`).
pub fn shown(callee: &str) -> &str {
    match callee.strip_prefix('@') {
        Some(path) => path.trim_start_matches('.'),
        None => callee,
    }
}
