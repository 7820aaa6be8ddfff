//! Incremental resolution of the module's flows into [`Dataflow`].
//!
//! The [`Resolver`] keeps, per flow (a function, or a module-level statement), its summary, its
//! resolved facts and what it passes to each callee (its *contributions*), keyed by its
//! [`Anchor`]. An update compares the summaries with the last ones (by hash) and recomputes:
//! * **globals** (module-level names bound to key material) when a module-level statement changed;
//! * **returns** and **parameter → sink / scan** bottom-up, seeded by the changed functions (and for
//!   returns the readers of changed globals), going on to the callers of a function only when its
//!   facts actually changed;
//! * **key material reaching parameters** top-down: a function's contributions to its callees are
//!   computed again when its summary, its incoming parameters, a callee's return or a global it
//!   reads changed; a callee's incoming parameters are merged again (its callers in document
//!   order, [`MAX_CONC`] sources per parameter) when a contribution to it changed.
//!
//! The work is ordered by the strongly connected components of the call graph (callees first
//! for the bottom-up facts, callers first for the top-down ones): a function outside a cycle is
//! computed once from final facts, and a cycle is reset and iterated to its fixpoint from
//! scratch, in document order, whenever one of its inputs changed. Every fact is therefore a
//! function of the summaries alone, whatever was computed before: an incremental update equals
//! a resolution from scratch (`tests.rs` and `tests/document_props.rs` check it).
//!
//! When the call graph or the names change (a function added, removed or renamed, a call to
//! another module function, a parameter list or the globals a function reads), the graph is
//! rebuilt and the changed functions and the callers of every name that resolves elsewhere are
//! seeded; where the graph has or had a cycle, everything is resolved again from scratch.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use super::{
    arg_for, call_sinks, concretize, fx_hash, ret_syms, Anchor, At, Base, Conc, Dataflow, Facts,
    FnFacts, FnFlow, RetSym, Step, ANCHOR_READ, MAX_CONC, MAX_PATH, SCAN_FOR_KEY,
};

/// At most this many names in a [`Resolver::delta`]; more, and it is unknown.
const MAX_DELTA: usize = 32;

/// What the last [`Resolver::update`] did (for tests and measurements).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResolveStats {
    /// Everything was resolved from scratch (first run, or the call graph or names changed).
    pub full: bool,
    /// Flows whose summary changed.
    pub changed: usize,
    /// Functions whose returns, sinks or contributions to their callees were computed.
    pub resolved: usize,
    /// Functions whose incoming parameters were merged again from their callers' contributions.
    pub merged: usize,
    /// Flows whose call-graph edges were made again: every flow when the graph was rebuilt, the
    /// changed ones when only their edges moved ([`Resolver::relink`]).
    pub relinked: usize,
}

struct NodeState {
    anchor: Anchor,
    flow: FnFlow,
    hash: u64,
    /// Hash of what the call graph reads of the flow (see [`shape`]).
    shape: u64,
    start: usize,
    facts: FnFacts,
    /// What it passes to its callees: (callee node, parameter, key material), in call order.
    contrib: Vec<(u32, u16, Conc)>,
}

impl NodeState {
    fn is_fn(&self) -> bool {
        !self.flow.name.is_empty()
    }

    /// Takes the new input of node `i`: its start always, its flow when the hash and the flow
    /// differ (then `i` joins `changed`, and `reshaped` when what the call graph reads changed).
    fn refresh(
        &mut self,
        i: u32,
        (flow, start, hash): (&FnFlow, usize, u64),
        changed: &mut Vec<u32>,
        reshaped: &mut Vec<(u32, FnFlow)>,
    ) {
        self.start = start;
        if self.hash != hash {
            self.hash = hash;
            if self.flow != *flow {
                let old = std::mem::replace(&mut self.flow, flow.clone());
                changed.push(i);
                let s = shape(flow);
                if s != self.shape {
                    self.shape = s;
                    // The old flow: what the call graph read of it, for `Resolver::relink`.
                    reshaped.push((i, old));
                }
            }
        }
    }
}

#[derive(Default)]
struct Graph {
    /// Function name → the node it resolves to (the last definition of that name).
    published: FxHashMap<String, u32>,
    callees: Vec<Vec<u32>>,
    /// Ascending (document order).
    callers: Vec<Vec<u32>>,
    /// Per node, its strongly connected component (callees' components first); `u32::MAX` for
    /// module-level statements.
    scc: Vec<u32>,
    sccs: Vec<Vec<u32>>,
    cyclic: Vec<bool>,
    /// Global name → the functions reading it.
    readers: FxHashMap<String, Vec<u32>>,
    /// Callee name → the functions calling it (whether or not the module defines it).
    calls_by_name: FxHashMap<String, Vec<u32>>,
    by_anchor: FxHashMap<Anchor, u32>,
}

/// The flows an update replaces: `start..old_end` of the last ones, `start..new_end` of the new
/// ones (with their anchors); those around the window keep their anchors.
struct Window {
    start: usize,
    old_end: usize,
    new_end: usize,
    anchors: Vec<Anchor>,
}

/// A [`Window`] taken: what [`Resolver::splice_graph`] needs of the last nodes.
struct Spliced {
    start: usize,
    old_end: usize,
    new_end: usize,
    /// The window's old anchors.
    old_anchors: Vec<Anchor>,
    /// The function names of the window's flows, old and new (sorted): the only names whose
    /// definition can move.
    names: Vec<String>,
    /// Those names with the anchor they resolved to before the update.
    old_published: Vec<(String, Anchor)>,
}

#[cfg(test)]
impl Graph {
    /// A spliced graph is the `rebuilt` one, but for the numbers of its components: those are an
    /// order of the graph (callees first) when it has no cycle, Tarjan's otherwise.
    fn assert_same_as(&self, rebuilt: &Graph) {
        let edges = |g: &Graph| {
            (
                g.published.clone(),
                g.callees.clone(),
                g.callers.clone(),
                g.readers.clone(),
                g.calls_by_name.clone(),
                g.by_anchor.clone(),
            )
        };
        assert_eq!(
            edges(self),
            edges(rebuilt),
            "the spliced call graph is the rebuilt one"
        );
        if rebuilt.cyclic.iter().any(|&c| c) {
            assert_eq!(
                (&self.scc, &self.sccs, &self.cyclic),
                (&rebuilt.scc, &rebuilt.sccs, &rebuilt.cyclic),
                "a graph with a cycle has Tarjan's components"
            );
            return;
        }
        assert!(!self.cyclic.iter().any(|&c| c), "no cycle");
        for (i, (&s, &r)) in self.scc.iter().zip(&rebuilt.scc).enumerate() {
            assert_eq!(s == u32::MAX, r == u32::MAX, "a function has a component");
            if s != u32::MAX {
                assert_eq!(
                    self.sccs[s as usize],
                    [i as u32],
                    "a component of one function"
                );
            }
        }
        for (i, callees) in self.callees.iter().enumerate() {
            for &c in callees {
                assert!(
                    self.scc[c as usize] < self.scc[i],
                    "the components are an order of the graph"
                );
            }
        }
    }
}

/// The resolution of a module's flows, kept between analyses (see the module docs).
#[derive(Default)]
pub struct Resolver {
    /// Boxed: a keystroke that adds or removes a flow splices the window in and out of the
    /// vector, which then moves pointers, not the nodes (some 500 bytes each: the tail of a
    /// 458-function module moved twice was 230 KB of copying a keystroke, issue #14).
    #[allow(clippy::vec_box)]
    nodes: Vec<Box<NodeState>>,
    graph: Graph,
    globals: BTreeMap<String, Vec<Conc>>,
    published: Arc<Dataflow>,
    /// The anchors the published paths pass through.
    referenced: Vec<Anchor>,
    /// How many steps of the published paths each anchor has: kept up to date function by
    /// function, so that a change of one function's facts does not walk every function's paths.
    ref_counts: FxHashMap<Anchor, u32>,
    stats: ResolveStats,
    /// Merges of incoming parameters in this update.
    merged: usize,
    /// How many times the facts were published (once per update).
    generation: u64,
    /// The `(global, name)` reads of [`Dataflow::hash_of`] whose hash the last update may have
    /// changed (a function's facts, a global's, an anchored item's start), when known and few:
    /// a reader that held the facts before the update compares what it read with these names
    /// instead of hashing each read again.
    delta: Option<Vec<(bool, String)>>,
}

/// The facts the resolver reads while computing node `node`.
struct View<'r> {
    nodes: &'r [Box<NodeState>],
    published: &'r FxHashMap<String, u32>,
    globals: &'r BTreeMap<String, Vec<Conc>>,
    node: usize,
}

impl Facts for View<'_> {
    fn function(&self, name: &str) -> Option<&FnFacts> {
        self.published
            .get(name)
            .map(|&i| &self.nodes[i as usize].facts)
    }
    fn global(&self, name: &str) -> Option<&[Conc]> {
        self.globals.get(name).map(|v| &v[..])
    }
    fn param_in(&self, _flow: &FnFlow) -> Option<&[Vec<Conc>]> {
        Some(&self.nodes[self.node].facts.param_in)
    }
    fn place(&self, c: &Conc, _at: At) -> Conc {
        c.clone()
    }
}

/// Globals are resolved from sources and earlier globals only.
struct GlobalsView<'r>(&'r BTreeMap<String, Vec<Conc>>);

impl Facts for GlobalsView<'_> {
    fn function(&self, _name: &str) -> Option<&FnFacts> {
        None
    }
    fn global(&self, name: &str) -> Option<&[Conc]> {
        self.0.get(name).map(|v| &v[..])
    }
    fn param_in(&self, _flow: &FnFlow) -> Option<&[Vec<Conc>]> {
        None
    }
    fn place(&self, c: &Conc, _at: At) -> Conc {
        c.clone()
    }
}

/// The name an anchor is made of: the function's, or the first name a statement binds.
fn anchor_name(flow: &FnFlow) -> &str {
    if !flow.name.is_empty() {
        &flow.name
    } else {
        flow.defines.first().map_or("", |(n, _)| n.as_str())
    }
}

/// What the call graph and the names read of a flow.
fn shape(flow: &FnFlow) -> u64 {
    let callees: Vec<&str> = flow.calls.iter().map(|c| c.callee.as_str()).collect();
    let defines: Vec<&str> = flow.defines.iter().map(|(n, _)| n.as_str()).collect();
    fx_hash(&(&flow.name, &flow.params, callees, &flow.globals, defines))
}

fn bottom(flow: &FnFlow) -> FnFacts {
    FnFacts {
        params: flow.params.clone(),
        param_in: vec![Vec::new(); flow.params.len()],
        param_sinks: vec![0; flow.params.len()],
        raises: flow.raises,
        ..FnFacts::default()
    }
}

/// A function's facts of the bottom-up phases: returns, sink bits, scan.
type PhaseFacts = (Vec<RetSym>, Vec<u8>, Option<Vec<Step>>);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// What functions return.
    Ret,
    /// Parameter → sink bits, and the path to a scan.
    Sinks,
}

impl Resolver {
    /// The facts of the last update.
    pub fn dataflow(&self) -> &Arc<Dataflow> {
        &self.published
    }

    /// What the last update did.
    pub fn stats(&self) -> ResolveStats {
        self.stats
    }

    /// How many updates published facts: the facts of generation `g` are followed by those of
    /// `g + 1`, which differ from them by [`Self::delta`].
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The reads ([`Dataflow::hash_of`]'s `(global, name)`) whose hash may differ between the
    /// facts published before the last update and those published by it; `None` when unknown
    /// (everything resolved again, or too many changed).
    pub fn delta(&self) -> Option<&[(bool, String)]> {
        self.delta.as_deref()
    }

    /// Resolves the module's flows — each with the start of its item and a hash of the flow —
    /// in document order, recomputing only what changed since the last update.
    pub fn update<'f>(&mut self, flows: impl IntoIterator<Item = (&'f FnFlow, usize, u64)>) {
        let inputs: Vec<(&FnFlow, usize, u64)> = flows.into_iter().collect();
        let first = self.nodes.is_empty() && self.graph.scc.is_empty();
        let same_names = inputs.len() == self.nodes.len()
            && inputs
                .iter()
                .zip(&self.nodes)
                // A flow with the last one's hash is the last one (as for `refresh`): its name
                // is not compared.
                .all(|((f, _, h), n)| *h == n.hash || anchor_name(f) == anchor_name(&n.flow));
        let mut changed: Vec<u32> = Vec::new();
        // Changed flows whose names, parameters, callees or globals changed.
        // With their old flows (what the call graph read of them; a new flow's is empty).
        let mut reshaped: Vec<(u32, FnFlow)> = Vec::new();
        // Functions whose incoming parameters are to be merged again (their callers changed).
        let mut merge: FxHashSet<u32> = FxHashSet::default();
        let mut old_published: Vec<(String, Anchor)> = Vec::new();
        let mut old_cyclic: Vec<Anchor> = Vec::new();
        let mut module_changed = false;
        // The flows a keystroke added or removed, when they are one window of the module.
        let mut spliced: Option<Spliced> = None;
        if same_names {
            for (i, ((flow, start, hash), node)) in inputs.iter().zip(&mut self.nodes).enumerate() {
                node.refresh(i as u32, (flow, *start, *hash), &mut changed, &mut reshaped);
            }
        } else if let Some(window) = self.window(&inputs) {
            let s = self.take_window(
                &inputs,
                window,
                (&mut changed, &mut reshaped, &mut merge),
                &mut module_changed,
            );
            old_published = s.old_published.clone();
            spliced = Some(s);
        } else {
            // Match the flows with the last ones by anchor; the others are new or gone. The old
            // nodes are taken by index (not moved through a map), the old graph's maps are
            // taken, not copied, and an anchor is allocated for a new node only: this runs on
            // the keystrokes that add or remove a flow (issue #14: `logger.info(` left open).
            let old_nodes = std::mem::take(&mut self.nodes);
            // Exactly one slot per input: grown by doubling, the buffer was left up to half
            // unused for as long as the module stays open.
            self.nodes.reserve_exact(inputs.len());
            old_published = std::mem::take(&mut self.graph.published)
                .into_iter()
                .map(|(n, i)| (n, old_nodes[i as usize].anchor.clone()))
                .collect();
            for (s, members) in self.graph.sccs.iter().enumerate() {
                if self.graph.cyclic[s] {
                    old_cyclic.extend(
                        members
                            .iter()
                            .map(|&m| old_nodes[m as usize].anchor.clone()),
                    );
                }
            }
            let old_callees = std::mem::take(&mut self.graph.callees);
            // Anchor → old node (the graph is built from the nodes after every update that
            // changes them).
            let mut old_index = std::mem::take(&mut self.graph.by_anchor);
            if old_index.len() != old_nodes.len() {
                old_index = old_nodes
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (n.anchor.clone(), i as u32))
                    .collect();
            }
            let mut old: Vec<Option<Box<NodeState>>> = old_nodes.into_iter().map(Some).collect();
            let mut remap: Vec<Option<u32>> = vec![None; old.len()];
            let mut seen: FxHashMap<&str, u32> = FxHashMap::default();
            let mut key = String::new();
            for (i, (flow, start, hash)) in inputs.iter().enumerate() {
                use std::fmt::Write as _;
                let name = anchor_name(flow);
                let k = seen.entry(name).or_insert(0);
                key.clear();
                let _ = write!(key, "{name}#{k}");
                *k += 1;
                let found = old_index
                    .remove(key.as_str())
                    .and_then(|j| Some((j, old.get_mut(j as usize)?.take()?)));
                let node = match found {
                    Some((j, mut n)) => {
                        remap[j as usize] = Some(i as u32);
                        n.refresh(i as u32, (flow, *start, *hash), &mut changed, &mut reshaped);
                        n
                    }
                    None => {
                        changed.push(i as u32);
                        reshaped.push((i as u32, FnFlow::default()));
                        Box::new(NodeState {
                            anchor: Arc::from(key.as_str()),
                            flow: (*flow).clone(),
                            hash: *hash,
                            shape: shape(flow),
                            start: *start,
                            facts: bottom(flow),
                            contrib: Vec::new(),
                        })
                    }
                };
                self.nodes.push(node);
            }
            // Gone: what they called merges its incoming parameters again.
            for (j, n) in old.into_iter().enumerate() {
                let Some(n) = n else { continue };
                module_changed |= !n.is_fn();
                if let Some(cs) = old_callees.get(j) {
                    merge.extend(cs.iter().filter_map(|&c| remap[c as usize]));
                }
            }
            for n in &mut self.nodes {
                n.contrib.retain_mut(|(g, _, _)| match remap[*g as usize] {
                    Some(new) => {
                        *g = new;
                        true
                    }
                    None => false,
                });
            }
        }
        let mut stats = ResolveStats {
            full: first,
            changed: changed.len(),
            resolved: 0,
            merged: 0,
            relinked: 0,
        };
        let mut resolved: FxHashSet<u32> = FxHashSet::default();
        let structural = !same_names || !reshaped.is_empty();
        // A change of the call graph where it has, or had, a cycle is resolved from scratch:
        // cycles are rare, and their facts depend on how they were iterated.
        let had_cycle = self.graph.cyclic.iter().any(|&c| c);
        let facts_changed: Option<(FxHashSet<u32>, Vec<String>)> =
            if first || (structural && had_cycle) {
                stats.full = true;
                stats.relinked = self.nodes.len();
                self.full(&mut resolved);
                None
            } else if changed.is_empty() && !structural {
                Some((FxHashSet::default(), Vec::new()))
            } else {
                let mut seeds: FxHashSet<u32> = changed.iter().copied().collect();
                let mut renamed: Vec<String> = Vec::new();
                if structural {
                    for &(i, _) in &reshaped {
                        let n = &mut self.nodes[i as usize];
                        // What it passed to merges again without it.
                        merge.extend(n.contrib.iter().map(|(g, _, _)| *g));
                        n.facts = bottom(&n.flow);
                        n.contrib.clear();
                        merge.insert(i);
                    }
                    // The same functions under the same names: the changed ones' edges are
                    // moved, unless that makes (or may make) a cycle.
                    stats.relinked = reshaped.len();
                    if let Some(s) = &spliced {
                        stats.relinked = self.splice_graph(s, &reshaped);
                    } else if !(same_names && self.relink(&reshaped)) {
                        self.rebuild_graph();
                        stats.relinked = self.nodes.len();
                    }
                    if self.graph.cyclic.iter().any(|&c| c) {
                        stats.full = true;
                        self.full(&mut resolved);
                        stats.resolved = resolved.len();
                        stats.merged = std::mem::take(&mut self.merged);
                        self.stats = stats;
                        self.publish(None);
                        return;
                    }
                    for &(i, _) in &reshaped {
                        seeds.extend(self.graph.callers[i as usize].iter().copied());
                    }
                    // Names that resolve to another function now (or to none): their callers.
                    let now = |n: &str| {
                        self.graph
                            .published
                            .get(n)
                            .map(|&i| &self.nodes[i as usize].anchor)
                    };
                    let mut names: Vec<String> = old_published
                        .iter()
                        .filter(|(n, a)| now(n) != Some(a))
                        .map(|(n, _)| n.clone())
                        .collect();
                    if !same_names {
                        let before: FxHashMap<&str, &Anchor> =
                            old_published.iter().map(|(n, a)| (n.as_str(), a)).collect();
                        // Only the names of a spliced window can resolve elsewhere now.
                        let now: Vec<(&String, u32)> = match &spliced {
                            Some(s) => s
                                .names
                                .iter()
                                .filter_map(|n| {
                                    let (n, &i) = self.graph.published.get_key_value(n)?;
                                    Some((n, i))
                                })
                                .collect(),
                            None => self.graph.published.iter().map(|(n, &i)| (n, i)).collect(),
                        };
                        names.extend(
                            now.into_iter()
                                .filter(|&(n, i)| {
                                    before.get(n.as_str()) != Some(&&self.nodes[i as usize].anchor)
                                })
                                .map(|(n, _)| n.clone()),
                        );
                    }
                    names.sort();
                    names.dedup();
                    for name in &names {
                        if let Some(cs) = self.graph.calls_by_name.get(name) {
                            seeds.extend(cs);
                        }
                        if let Some(&i) = self.graph.published.get(name) {
                            merge.insert(i);
                            seeds.insert(i);
                        }
                    }
                    // Cycles, old and new, are resolved again from scratch.
                    for a in &old_cyclic {
                        if let Some(&i) = self.graph.by_anchor.get(a) {
                            seeds.insert(i);
                        }
                    }
                    for (s, members) in self.graph.sccs.iter().enumerate() {
                        if self.graph.cyclic[s] {
                            seeds.extend(members);
                        }
                    }
                    renamed = names;
                    module_changed = true;
                }
                module_changed |= changed.iter().any(|&i| !self.nodes[i as usize].is_fn());
                let mut set = self.incremental(&seeds, merge, module_changed, &mut resolved);
                // Their facts were reset: compared with what was published, not with the reset.
                set.extend(reshaped.iter().map(|(i, _)| *i));
                for name in &renamed {
                    if let Some(&i) = self.graph.published.get(name) {
                        set.insert(i);
                    }
                }
                Some((set, renamed))
            };
        stats.resolved = resolved.len();
        stats.merged = self.merged;
        self.merged = 0;
        self.stats = stats;
        self.publish(facts_changed);
    }

    /// Resolves everything from scratch.
    fn full(&mut self, resolved: &mut FxHashSet<u32>) {
        self.rebuild_graph();
        for n in &mut self.nodes {
            n.facts = bottom(&n.flow);
            n.contrib.clear();
        }
        self.globals = self.compute_globals();
        let fns: Vec<u32> = (0..self.nodes.len() as u32)
            .filter(|&i| self.nodes[i as usize].is_fn())
            .collect();
        self.bottom_up(Phase::Ret, &fns, resolved);
        self.bottom_up(Phase::Sinks, &fns, resolved);
        let all: FxHashSet<u32> = fns.iter().copied().collect();
        self.top_down(all.clone(), all, resolved);
    }

    /// Recomputes what depends on the flows of `seeds` (and the incoming parameters of `merge`,
    /// the globals when `module_changed`); returns the functions whose facts changed.
    fn incremental(
        &mut self,
        seeds: &FxHashSet<u32>,
        merge: FxHashSet<u32>,
        module_changed: bool,
        resolved: &mut FxHashSet<u32>,
    ) -> FxHashSet<u32> {
        let mut facts_changed: FxHashSet<u32> = FxHashSet::default();
        // Globals, when a module-level statement changed.
        let mut readers: Vec<u32> = Vec::new();
        if module_changed {
            let globals = self.compute_globals();
            let names: BTreeSet<&String> = globals.keys().chain(self.globals.keys()).collect();
            for name in names {
                if globals.get(name) != self.globals.get(name) {
                    if let Some(r) = self.graph.readers.get(name) {
                        readers.extend(r);
                    }
                }
            }
            self.globals = globals;
        }
        let mut fns: Vec<u32> = seeds
            .iter()
            .copied()
            .filter(|&i| self.nodes[i as usize].is_fn())
            .collect();
        fns.sort_unstable();
        for &i in &fns {
            let n = &mut self.nodes[i as usize];
            if n.facts.raises != n.flow.raises {
                n.facts.raises = n.flow.raises;
                facts_changed.insert(i);
            }
        }
        let ret_seeds: Vec<u32> = fns.iter().chain(&readers).copied().collect();
        let ret_changed = self.bottom_up(Phase::Ret, &ret_seeds, resolved);
        let sinks_changed = self.bottom_up(Phase::Sinks, &fns, resolved);
        // Contributions read the caller's summary, its incoming parameters, its callees'
        // returns and the globals.
        let mut contrib: FxHashSet<u32> = ret_seeds.iter().copied().collect();
        for &i in &ret_changed {
            contrib.extend(self.graph.callers[i as usize].iter().copied());
        }
        let merge: FxHashSet<u32> = merge
            .into_iter()
            .filter(|&i| self.nodes[i as usize].is_fn())
            .collect();
        let in_changed = self.top_down(contrib, merge, resolved);
        facts_changed.extend(ret_changed);
        facts_changed.extend(sinks_changed);
        facts_changed.extend(in_changed);
        facts_changed
    }

    /// Moves the call graph's edges of the `reshaped` functions (with their old flows) from what
    /// their old flows called and read to what their flows call and read now, in proportion to
    /// them, not to the module: the functions and their names are the same, and the graph had
    /// no cycle. The components keep their numbers, which stay an order of the graph (callees
    /// first) when every new edge goes to a lower component; otherwise (a cycle may be made, or
    /// only the order broken) `false`, and the graph is to be rebuilt (the edges moved so far
    /// are then rebuilt with it).
    fn relink(&mut self, reshaped: &[(u32, FnFlow)]) -> bool {
        let g = &mut self.graph;
        for (i, old) in reshaped {
            let (i, node) = (*i, &self.nodes[*i as usize]);
            if node.is_fn() == old.name.is_empty() || (i as usize) >= g.callees.len() {
                return false;
            }
            if !node.is_fn() {
                continue;
            }
            for c in std::mem::take(&mut g.callees[i as usize]) {
                remove_sorted(&mut g.callers[c as usize], i);
            }
            for call in &old.calls {
                if let Some(list) = g.calls_by_name.get_mut(&call.callee) {
                    remove_sorted(list, i);
                    if list.is_empty() {
                        g.calls_by_name.remove(&call.callee);
                    }
                }
            }
            for name in &old.globals {
                if let Some(list) = g.readers.get_mut(name) {
                    remove_sorted(list, i);
                    if list.is_empty() {
                        g.readers.remove(name);
                    }
                }
            }
            let mut callees: Vec<u32> = Vec::new();
            for call in &node.flow.calls {
                insert_sorted(g.calls_by_name.entry(call.callee.clone()).or_default(), i);
                if let Some(&c) = g.published.get(&call.callee) {
                    if !callees.contains(&c) {
                        callees.push(c);
                    }
                }
            }
            for name in &node.flow.globals {
                insert_sorted(g.readers.entry(name.clone()).or_default(), i);
            }
            for &c in &callees {
                insert_sorted(&mut g.callers[c as usize], i);
            }
            g.callees[i as usize] = callees;
        }
        // Every edge of a changed function to a lower component: the numbering is still an
        // order of the graph, so the graph has no cycle.
        reshaped.iter().all(|&(i, _)| {
            g.callees[i as usize]
                .iter()
                .all(|&c| c != i && g.scc[c as usize] < g.scc[i as usize])
        })
    }

    /// The window of flows an update replaces, when the flows before it and after it are the last
    /// ones (the same flow, or the same anchor name and kind) and keep their anchors: every anchor
    /// name whose count the window changes has no flow after it. `None` when the graph is not the
    /// one of the nodes, has a cycle, or an anchor after the window would change.
    fn window(&self, inputs: &[(&FnFlow, usize, u64)]) -> Option<Window> {
        let g = &self.graph;
        let old = self.nodes.len();
        if old == 0
            || g.by_anchor.len() != old
            || g.callees.len() != old
            || g.scc.len() != old
            || g.cyclic.iter().any(|&c| c)
        {
            return None;
        }
        let same = |(f, _, h): &(&FnFlow, usize, u64), n: &NodeState| {
            *h == n.hash
                || (f.name.is_empty() == n.flow.name.is_empty()
                    && anchor_name(f) == anchor_name(&n.flow))
        };
        let new = inputs.len();
        let max = old.min(new);
        let mut start = 0;
        while start < max && same(&inputs[start], &self.nodes[start]) {
            start += 1;
        }
        let mut tail = 0;
        while tail < max - start && same(&inputs[new - 1 - tail], &self.nodes[old - 1 - tail]) {
            tail += 1;
        }
        let (old_end, new_end) = (old - tail, new - tail);
        // Per anchor name of the window: flows of that name before the window (`None`: not known
        // yet), in the old window, in the new one.
        let mut counts: FxHashMap<&str, (Option<u32>, u32, u32)> = FxHashMap::default();
        for n in &self.nodes[start..old_end] {
            let k: u32 = n.anchor.rsplit_once('#')?.1.parse().ok()?;
            counts
                .entry(anchor_name(&n.flow))
                .or_insert((Some(k), 0, 0))
                .1 += 1;
        }
        for (f, _, _) in &inputs[start..new_end] {
            counts.entry(anchor_name(f)).or_insert((None, 0, 0)).2 += 1;
        }
        let mut key = String::new();
        let mut probe = |name: &str, k: u32| {
            use std::fmt::Write as _;
            key.clear();
            let _ = write!(key, "{name}#{k}");
            g.by_anchor.get(key.as_str()).copied()
        };
        for (name, (before, in_old, in_new)) in &mut counts {
            match before {
                Some(b) => {
                    if in_old != in_new && probe(name, *b + *in_old).is_some() {
                        return None;
                    }
                }
                None => {
                    // Not in the old window: its flows are before the window or after it.
                    let mut b = 0;
                    while let Some(i) = probe(name, b) {
                        if i as usize >= start {
                            return None;
                        }
                        b += 1;
                    }
                    *before = Some(b);
                }
            }
        }
        let mut seen: FxHashMap<&str, u32> = FxHashMap::default();
        let anchors = inputs[start..new_end]
            .iter()
            .map(|(f, _, _)| {
                let name = anchor_name(f);
                let k = seen.entry(name).or_insert(0);
                let at = counts[name].0.unwrap_or(0) + *k;
                *k += 1;
                Arc::from(format!("{name}#{at}").as_str())
            })
            .collect();
        Some(Window {
            start,
            old_end,
            new_end,
            anchors,
        })
    }

    /// Takes the new flows of a [`Window`]: the nodes before and after it are refreshed in place
    /// (after it, moved by the window's change of length), the window's matched by anchor; the
    /// callees of the gone ones merge their incoming parameters again. The graph is still the
    /// last one: [`Resolver::splice_graph`] moves it.
    fn take_window(
        &mut self,
        inputs: &[(&FnFlow, usize, u64)],
        window: Window,
        (changed, reshaped, merge): (&mut Vec<u32>, &mut Vec<(u32, FnFlow)>, &mut FxHashSet<u32>),
        module_changed: &mut bool,
    ) -> Spliced {
        let Window {
            start,
            old_end,
            new_end,
            anchors,
        } = window;
        let mut names: Vec<String> = self.nodes[start..old_end]
            .iter()
            .map(|n| &n.flow.name)
            .chain(inputs[start..new_end].iter().map(|(f, _, _)| &f.name))
            .filter(|n| !n.is_empty())
            .cloned()
            .collect();
        names.sort();
        names.dedup();
        let old_published: Vec<(String, Anchor)> = names
            .iter()
            .filter_map(|n| {
                let &j = self.graph.published.get(n)?;
                Some((n.clone(), self.nodes[j as usize].anchor.clone()))
            })
            .collect();
        let old_anchors: Vec<Anchor> = self.nodes[start..old_end]
            .iter()
            .map(|n| n.anchor.clone())
            .collect();
        let mut window_remap: Vec<Option<u32>> = vec![None; old_end - start];
        // The nodes stay in place: the window's are taken out and the new ones put in.
        for (i, (flow, at, hash)) in inputs[..start].iter().enumerate() {
            self.nodes[i].refresh(i as u32, (flow, *at, *hash), changed, reshaped);
        }
        let mut old: FxHashMap<Anchor, (u32, Box<NodeState>)> = self
            .nodes
            .drain(start..old_end)
            .enumerate()
            .map(|(k, n)| (n.anchor.clone(), ((start + k) as u32, n)))
            .collect();
        let mut window_nodes: Vec<Box<NodeState>> = Vec::with_capacity(new_end - start);
        for (k, anchor) in anchors.into_iter().enumerate() {
            let i = (start + k) as u32;
            let (flow, at, hash) = inputs[start + k];
            let node = match old.remove(&anchor) {
                Some((j, mut n)) => {
                    window_remap[j as usize - start] = Some(i);
                    n.refresh(i, (flow, at, hash), changed, reshaped);
                    n
                }
                None => {
                    changed.push(i);
                    reshaped.push((i, FnFlow::default()));
                    Box::new(NodeState {
                        anchor,
                        flow: flow.clone(),
                        hash,
                        shape: shape(flow),
                        start: at,
                        facts: bottom(flow),
                        contrib: Vec::new(),
                    })
                }
            };
            window_nodes.push(node);
        }
        self.nodes.splice(start..start, window_nodes);
        for (i, (flow, at, hash)) in inputs.iter().enumerate().skip(new_end) {
            self.nodes[i].refresh(i as u32, (flow, *at, *hash), changed, reshaped);
        }
        let remap = |j: u32| -> Option<u32> {
            let j = j as usize;
            if j < start {
                Some(j as u32)
            } else if j >= old_end {
                Some((j - old_end + new_end) as u32)
            } else {
                window_remap[j - start]
            }
        };
        // Gone: what they called merges its incoming parameters again.
        for (j, n) in old.into_values() {
            *module_changed |= !n.is_fn();
            if let Some(cs) = self.graph.callees.get(j as usize) {
                merge.extend(cs.iter().filter_map(|&c| remap(c)));
            }
        }
        for n in &mut self.nodes {
            n.contrib.retain_mut(|(g, _, _)| match remap(*g) {
                Some(new) => {
                    *g = new;
                    true
                }
                None => false,
            });
        }
        Spliced {
            start,
            old_end,
            new_end,
            old_anchors,
            names,
            old_published,
        }
    }

    /// Moves the call graph to the nodes of a [`Spliced`] window: the rows and lists of the nodes
    /// around it are kept (their indices moved by the window's change of length), the window's
    /// names resolve to their last definition again, and the edges of the window's functions, of
    /// the changed functions around it (`reshaped`, with their old flows) and of the callers of
    /// the window's names are made again. Integer work over the module, no name hashed or
    /// copied outside the window (the rebuild did both for every call of every function). The
    /// components are computed again (Tarjan's, on integers). Returns the flows whose edges were
    /// made again.
    fn splice_graph(&mut self, s: &Spliced, reshaped: &[(u32, FnFlow)]) -> usize {
        fn insert_named(map: &mut FxHashMap<String, Vec<u32>>, name: &str, i: u32) {
            match map.get_mut(name) {
                Some(list) => insert_sorted(list, i),
                None => {
                    map.insert(name.to_string(), vec![i]);
                }
            }
        }
        let (start, old_end, new_end) = (s.start, s.old_end, s.new_end);
        let shift = |j: u32| -> Option<u32> {
            let j = j as usize;
            if j < start {
                Some(j as u32)
            } else if j >= old_end {
                Some((j - old_end + new_end) as u32)
            } else {
                None
            }
        };
        let shift_list = |list: &mut Vec<u32>| {
            list.retain_mut(|c| match shift(*c) {
                Some(x) => {
                    *c = x;
                    true
                }
                None => false,
            })
        };
        let nodes = &self.nodes;
        let g = &mut self.graph;
        // The components around the window keep their numbers (an order of the graph, which has
        // no cycle); the window's are emptied.
        let emptied: Vec<u32> = g.scc[start..old_end].to_vec();
        g.scc.splice(
            start..old_end,
            std::iter::repeat_n(u32::MAX, new_end - start),
        );
        for c in emptied.into_iter().filter(|&c| c != u32::MAX) {
            g.sccs[c as usize].clear();
        }
        g.sccs.iter_mut().for_each(shift_list);
        for rows in [&mut g.callees, &mut g.callers] {
            let mut after = rows.split_off(old_end);
            rows.truncate(start);
            rows.resize_with(new_end, Vec::new);
            rows.append(&mut after);
            rows.iter_mut().for_each(shift_list);
        }
        for map in [&mut g.calls_by_name, &mut g.readers] {
            map.retain(|_, list| {
                shift_list(list);
                !list.is_empty()
            });
        }
        g.published.retain(|_, i| match shift(*i) {
            Some(x) => {
                *i = x;
                true
            }
            None => false,
        });
        for a in &s.old_anchors {
            g.by_anchor.remove(a);
        }
        for i in g.by_anchor.values_mut() {
            *i = shift(*i).expect("the window's anchors are removed");
        }
        for (i, n) in nodes.iter().enumerate().take(new_end).skip(start) {
            g.by_anchor.insert(n.anchor.clone(), i as u32);
        }
        // The window's names resolve to their last definition: in the window, after it (kept),
        // or before it.
        let mut key = String::new();
        for name in &s.names {
            let defines = |i: usize| nodes[i].is_fn() && nodes[i].flow.name == *name;
            let mut last = (start..new_end).rev().find(|&i| defines(i));
            if last.is_none() {
                last = g.published.get(name).map(|&i| i as usize);
            }
            if last.is_none() {
                use std::fmt::Write as _;
                for k in 0.. {
                    key.clear();
                    let _ = write!(key, "{name}#{k}");
                    match g.by_anchor.get(key.as_str()) {
                        Some(&i) if (i as usize) < start => {
                            if defines(i as usize) {
                                last = Some(i as usize);
                            }
                        }
                        _ => break,
                    }
                }
            }
            match last {
                Some(i) => match g.published.get_mut(name) {
                    Some(p) => *p = i as u32,
                    None => {
                        g.published.insert(name.clone(), i as u32);
                    }
                },
                None => {
                    g.published.remove(name);
                }
            }
        }
        // The functions whose names and edges are made again.
        let mut named: Vec<u32> = (start..new_end)
            .filter(|&i| nodes[i].is_fn())
            .map(|i| i as u32)
            .collect();
        for (i, old) in reshaped {
            let i = *i as usize;
            if (start..new_end).contains(&i) || !nodes[i].is_fn() {
                continue;
            }
            for call in &old.calls {
                if let Some(list) = g.calls_by_name.get_mut(&call.callee) {
                    remove_sorted(list, i as u32);
                    if list.is_empty() {
                        g.calls_by_name.remove(&call.callee);
                    }
                }
            }
            for name in &old.globals {
                if let Some(list) = g.readers.get_mut(name) {
                    remove_sorted(list, i as u32);
                    if list.is_empty() {
                        g.readers.remove(name);
                    }
                }
            }
            named.push(i as u32);
        }
        let mut relink = named.clone();
        for name in &s.names {
            if let Some(cs) = g.calls_by_name.get(name) {
                relink.extend(cs);
            }
        }
        for &i in &named {
            let flow = &nodes[i as usize].flow;
            for call in &flow.calls {
                insert_named(&mut g.calls_by_name, &call.callee, i);
            }
            for name in &flow.globals {
                insert_named(&mut g.readers, name, i);
            }
        }
        relink.sort_unstable();
        relink.dedup();
        for &i in &relink {
            for c in std::mem::take(&mut g.callees[i as usize]) {
                remove_sorted(&mut g.callers[c as usize], i);
            }
        }
        for &i in &relink {
            let mut callees: Vec<u32> = Vec::new();
            for call in &nodes[i as usize].flow.calls {
                if let Some(&c) = g.published.get(&call.callee) {
                    if !callees.contains(&c) {
                        callees.push(c);
                    }
                }
            }
            for &c in &callees {
                insert_sorted(&mut g.callers[c as usize], i);
            }
            g.callees[i as usize] = callees;
        }
        if !Self::extend_order(nodes, g, start..new_end, &relink) {
            Self::order(nodes, g);
        }
        #[cfg(test)]
        {
            let spliced = std::mem::take(&mut self.graph);
            self.rebuild_graph();
            let rebuilt = std::mem::replace(&mut self.graph, spliced);
            self.graph.assert_same_as(&rebuilt);
        }
        relink.len()
    }

    /// Numbers the functions of the `window` after every component (the others keep their
    /// numbers) and tells whether that is still an order of the graph (callees first): every
    /// edge of the `relinked` functions, the only edges made again, goes to a lower component,
    /// which also proves the graph acyclic. The numbers of removed components stay unused (empty)
    /// until there are as many as functions: then, as when the order breaks, `false`, and the
    /// components are to be computed again.
    fn extend_order(
        nodes: &[Box<NodeState>],
        g: &mut Graph,
        window: std::ops::Range<usize>,
        relinked: &[u32],
    ) -> bool {
        if g.sccs.len() + window.len() > 2 * nodes.len() + 64 {
            return false;
        }
        for i in window.filter(|&i| nodes[i].is_fn()) {
            g.scc[i] = g.sccs.len() as u32;
            g.sccs.push(vec![i as u32]);
            g.cyclic.push(false);
        }
        relinked.iter().all(|&i| {
            g.callees[i as usize]
                .iter()
                .all(|&c| c != i && g.scc[c as usize] < g.scc[i as usize])
        })
    }

    /// The components of the call graph `g` of `nodes` (callees first), and which are cycles.
    fn order(nodes: &[Box<NodeState>], g: &mut Graph) {
        let is_fn: Vec<bool> = nodes.iter().map(|n| n.is_fn()).collect();
        let (scc, sccs) = tarjan(&is_fn, &g.callees);
        g.cyclic = sccs
            .iter()
            .map(|m| m.len() > 1 || g.callees[m[0] as usize].contains(&m[0]))
            .collect();
        g.scc = scc;
        g.sccs = sccs;
    }

    fn rebuild_graph(&mut self) {
        let n = self.nodes.len();
        let mut g = Graph::default();
        for (i, node) in self.nodes.iter().enumerate() {
            g.by_anchor.insert(node.anchor.clone(), i as u32);
            if node.is_fn() {
                g.published.insert(node.flow.name.clone(), i as u32);
            }
        }
        g.callees = vec![Vec::new(); n];
        g.callers = vec![Vec::new(); n];
        for (i, node) in self.nodes.iter().enumerate() {
            if !node.is_fn() {
                continue;
            }
            for call in &node.flow.calls {
                push_named(&mut g.calls_by_name, &call.callee, i as u32);
                if let Some(&c) = g.published.get(&call.callee) {
                    if !g.callees[i].contains(&c) {
                        g.callees[i].push(c);
                    }
                }
            }
            for name in &node.flow.globals {
                push_named(&mut g.readers, name, i as u32);
            }
        }
        for i in 0..n {
            for k in 0..g.callees[i].len() {
                let c = g.callees[i][k] as usize;
                if g.callers[c].last() != Some(&(i as u32)) {
                    g.callers[c].push(i as u32);
                }
            }
        }
        Self::order(&self.nodes, &mut g);
        self.graph = g;
    }

    fn compute_globals(&self) -> BTreeMap<String, Vec<Conc>> {
        let mut globals: BTreeMap<String, Vec<Conc>> = BTreeMap::new();
        for n in self.nodes.iter().filter(|n| !n.is_fn()) {
            for (name, taint) in &n.flow.defines {
                let concs = concretize(
                    &GlobalsView(&globals),
                    &n.flow,
                    At::Anchor(&n.anchor),
                    taint,
                );
                if concs.is_empty() {
                    globals.remove(name);
                } else {
                    globals.insert(name.clone(), concs);
                }
            }
        }
        globals
    }

    fn view(&self, i: u32) -> View<'_> {
        View {
            nodes: &self.nodes,
            published: &self.graph.published,
            globals: &self.globals,
            node: i as usize,
        }
    }

    fn compute_ret(&self, i: u32) -> Vec<RetSym> {
        let n = &self.nodes[i as usize];
        let view = self.view(i);
        let mut ret = Vec::new();
        for l in &n.flow.ret.0 {
            ret_syms(&view, &n.flow, At::Anchor(&n.anchor), *l, 0, &mut ret);
        }
        ret
    }

    /// Parameter → sink bits and the path to a scan; in a cycle, a scan once found is kept.
    fn compute_sinks(&self, i: u32, keep_scan: bool) -> (Vec<u8>, Option<Vec<Step>>) {
        let n = &self.nodes[i as usize];
        let flow = &n.flow;
        let view = self.view(i);
        let mut bits = vec![0u8; flow.params.len()];
        for sink in &flow.sinks {
            for l in &sink.taint.0 {
                if let Base::Param(p) = l.base {
                    if let Some(b) = bits.get_mut(p as usize) {
                        *b |= sink.kind.bit();
                    }
                }
            }
        }
        for call in &flow.calls {
            if let Some(callee) = view.function(&call.callee) {
                for (p, b) in bits.iter_mut().enumerate() {
                    *b |= call_sinks(callee, call, |t| {
                        t.0.iter().any(|l| l.base == Base::Param(p as u16))
                    });
                }
            }
        }
        if keep_scan && n.facts.scan.is_some() {
            return (bits, n.facts.scan.clone());
        }
        let at = At::Anchor(&n.anchor);
        let first = flow
            .scans
            .iter()
            .find(|(_, key)| *key)
            .or(flow.scans.first());
        let mut scan = first.map(|(r, key)| {
            vec![at.step(
                r,
                if *key {
                    SCAN_FOR_KEY.into()
                } else {
                    "DynamoDB scan here".into()
                },
            )]
        });
        if scan.is_none() {
            for call in &flow.calls {
                if let Some(p) = view.function(&call.callee).and_then(|f| f.scan.as_ref()) {
                    if p.len() < MAX_PATH {
                        let mut path =
                            vec![at.step(&call.range, format!("calls `{}` here", call.callee))];
                        path.extend(p.iter().cloned());
                        scan = Some(path);
                        break;
                    }
                }
            }
        }
        (bits, scan)
    }

    /// Computes a bottom-up phase for node `i`; whether its facts changed.
    fn step(&mut self, phase: Phase, i: u32, in_cycle: bool) -> bool {
        match phase {
            Phase::Ret => {
                let ret = self.compute_ret(i);
                let f = &mut self.nodes[i as usize].facts;
                if f.ret != ret {
                    f.ret = ret;
                    return true;
                }
                false
            }
            Phase::Sinks => {
                let (bits, scan) = self.compute_sinks(i, in_cycle);
                let f = &mut self.nodes[i as usize].facts;
                let changed = f.param_sinks != bits || f.scan != scan;
                f.param_sinks = bits;
                f.scan = scan;
                changed
            }
        }
    }

    /// Runs a bottom-up phase over the components of `seeds` and of the callers of every function
    /// whose facts changed; returns those functions.
    fn bottom_up(
        &mut self,
        phase: Phase,
        seeds: &[u32],
        resolved: &mut FxHashSet<u32>,
    ) -> Vec<u32> {
        let mut queue: BTreeSet<u32> = seeds
            .iter()
            .map(|&i| self.graph.scc[i as usize])
            .filter(|&s| s != u32::MAX)
            .collect();
        let mut out = Vec::new();
        while let Some(s) = queue.pop_first() {
            let members = self.graph.sccs[s as usize].clone();
            let changed: Vec<u32> = if !self.graph.cyclic[s as usize] {
                resolved.insert(members[0]);
                if self.step(phase, members[0], false) {
                    vec![members[0]]
                } else {
                    Vec::new()
                }
            } else {
                // Reset the cycle and iterate it from scratch, in document order.
                let old: Vec<PhaseFacts> = members
                    .iter()
                    .map(|&m| {
                        let f = &mut self.nodes[m as usize].facts;
                        match phase {
                            Phase::Ret => (std::mem::take(&mut f.ret), Vec::new(), None),
                            Phase::Sinks => {
                                let bits = vec![0; f.params.len()];
                                (
                                    Vec::new(),
                                    std::mem::replace(&mut f.param_sinks, bits),
                                    f.scan.take(),
                                )
                            }
                        }
                    })
                    .collect();
                let mut work: std::collections::VecDeque<u32> = members.iter().copied().collect();
                let mut queued: FxHashSet<u32> = members.iter().copied().collect();
                let mut budget = members.len() * 64 + 64;
                while let Some(m) = work.pop_front() {
                    queued.remove(&m);
                    if budget == 0 {
                        break;
                    }
                    budget -= 1;
                    resolved.insert(m);
                    if self.step(phase, m, true) {
                        for &c in &self.graph.callers[m as usize] {
                            if self.graph.scc[c as usize] == s && queued.insert(c) {
                                work.push_back(c);
                            }
                        }
                    }
                }
                members
                    .iter()
                    .zip(old)
                    .filter(|(&m, (ret, bits, scan))| {
                        let f = &self.nodes[m as usize].facts;
                        match phase {
                            Phase::Ret => f.ret != *ret,
                            Phase::Sinks => f.param_sinks != *bits || f.scan != *scan,
                        }
                    })
                    .map(|(&m, _)| m)
                    .collect()
            };
            for &i in &changed {
                for &c in &self.graph.callers[i as usize] {
                    let cs = self.graph.scc[c as usize];
                    if cs != s {
                        queue.insert(cs);
                    }
                }
            }
            out.extend(changed);
        }
        out
    }

    /// What node `i` passes to its callees.
    fn compute_contrib(&self, i: u32) -> Vec<(u32, u16, Conc)> {
        let n = &self.nodes[i as usize];
        let view = self.view(i);
        let at = At::Anchor(&n.anchor);
        let mut out = Vec::new();
        for call in &n.flow.calls {
            let Some(&g) = self.graph.published.get(&call.callee) else {
                continue;
            };
            let params = &self.nodes[g as usize].facts.params;
            for j in 0..params.len() {
                if let Some(arg) = arg_for(call, params, j as u16) {
                    for mut c in concretize(&view, &n.flow, at, arg) {
                        if c.path.len() >= MAX_PATH {
                            continue;
                        }
                        c.path.push(
                            at.step(&call.range, format!("passed to `{}` here", call.callee)),
                        );
                        out.push((g, j as u16, c));
                    }
                }
            }
        }
        out
    }

    /// The key material reaching the parameters of `f`: its callers' contributions, callers in
    /// document order.
    fn merge(&self, f: u32) -> Vec<Vec<Conc>> {
        let mut ins: Vec<Vec<Conc>> = vec![Vec::new(); self.nodes[f as usize].facts.params.len()];
        // A full set takes no more (`push_conc`): once every one is, the callers after are not
        // read (a helper that every handler calls has hundreds), and a source is copied only
        // when it is taken.
        let mut open = ins.len();
        for &c in &self.graph.callers[f as usize] {
            if open == 0 {
                break;
            }
            for (g, j, conc) in &self.nodes[c as usize].contrib {
                if *g == f {
                    if let Some(set) = ins.get_mut(*j as usize) {
                        if set.len() < MAX_CONC && !set.iter().any(|x| x.same_source(conc)) {
                            set.push(conc.clone());
                            if set.len() == MAX_CONC {
                                open -= 1;
                            }
                        }
                    }
                }
            }
        }
        ins
    }

    /// The callees whose contributions from a node differ between `old` and `new`.
    fn differing(old: &[(u32, u16, Conc)], new: &[(u32, u16, Conc)]) -> Vec<u32> {
        let mut gs: Vec<u32> = old.iter().chain(new).map(|(g, _, _)| *g).collect();
        gs.sort_unstable();
        gs.dedup();
        gs.retain(|&g| {
            old.iter()
                .filter(|(x, _, _)| *x == g)
                .ne(new.iter().filter(|(x, _, _)| *x == g))
        });
        gs
    }

    /// The top-down phase: contributions of the functions in `contrib` are computed again, the
    /// incoming parameters of those in `merge` merged again, and so on down the call graph, callers'
    /// components first. Returns the functions whose incoming parameters changed.
    fn top_down(
        &mut self,
        mut contrib: FxHashSet<u32>,
        mut merge: FxHashSet<u32>,
        resolved: &mut FxHashSet<u32>,
    ) -> Vec<u32> {
        let mut queue: BTreeSet<u32> = contrib
            .iter()
            .chain(&merge)
            .map(|&i| self.graph.scc[i as usize])
            .filter(|&s| s != u32::MAX)
            .collect();
        let mut out = Vec::new();
        while let Some(s) = queue.pop_last() {
            let members = self.graph.sccs[s as usize].clone();
            let mut affected: Vec<u32> = Vec::new();
            if !self.graph.cyclic[s as usize] {
                let i = members[0];
                if merge.remove(&i) {
                    self.merged += 1;
                    let ins = self.merge(i);
                    if ins != self.nodes[i as usize].facts.param_in {
                        self.nodes[i as usize].facts.param_in = ins;
                        out.push(i);
                        contrib.insert(i);
                    }
                }
                if contrib.remove(&i) {
                    resolved.insert(i);
                    let new = self.compute_contrib(i);
                    if new != self.nodes[i as usize].contrib {
                        affected = Self::differing(&self.nodes[i as usize].contrib, &new);
                        self.nodes[i as usize].contrib = new;
                    }
                }
            } else {
                // Reset the cycle and iterate it from scratch, in document order.
                let mut old = Vec::with_capacity(members.len());
                for &m in &members {
                    merge.remove(&m);
                    contrib.remove(&m);
                    resolved.insert(m);
                    let f = &mut self.nodes[m as usize];
                    let empty = vec![Vec::new(); f.facts.params.len()];
                    old.push((
                        std::mem::replace(&mut f.facts.param_in, empty),
                        std::mem::take(&mut f.contrib),
                    ));
                }
                for &m in &members {
                    self.nodes[m as usize].contrib = self.compute_contrib(m);
                }
                let mut work: std::collections::VecDeque<u32> = members.iter().copied().collect();
                let mut queued: FxHashSet<u32> = members.iter().copied().collect();
                let mut budget = members.len() * 64 + 64;
                while let Some(m) = work.pop_front() {
                    queued.remove(&m);
                    if budget == 0 {
                        break;
                    }
                    budget -= 1;
                    let ins = self.merge(m);
                    if ins == self.nodes[m as usize].facts.param_in {
                        continue;
                    }
                    self.nodes[m as usize].facts.param_in = ins;
                    let new = self.compute_contrib(m);
                    if new != self.nodes[m as usize].contrib {
                        for g in Self::differing(&self.nodes[m as usize].contrib, &new) {
                            if self.graph.scc[g as usize] == s && queued.insert(g) {
                                work.push_back(g);
                            }
                        }
                        self.nodes[m as usize].contrib = new;
                    }
                }
                for (&m, (ins, con)) in members.iter().zip(old) {
                    let n = &self.nodes[m as usize];
                    if n.facts.param_in != ins {
                        out.push(m);
                    }
                    affected.extend(Self::differing(&con, &n.contrib));
                }
            }
            for g in affected {
                let gs = self.graph.scc[g as usize];
                if gs != s {
                    merge.insert(g);
                    queue.insert(gs);
                }
            }
        }
        out
    }

    /// Publishes the facts: every function's (`changed` `None`), or those of `changed`.
    fn publish(&mut self, changed: Option<(FxHashSet<u32>, Vec<String>)>) {
        let mix = |name: &str, h: u64| fx_hash(&(name, h));
        self.generation += 1;
        // What `hash_of` reads differently now (`None`: unknown, or too many).
        let mut delta: Option<Vec<(bool, String)>> = changed.is_some().then(Vec::new);
        let note = |delta: &mut Option<Vec<(bool, String)>>, global: bool, name: String| {
            if let Some(d) = delta {
                if d.len() < MAX_DELTA {
                    d.push((global, name));
                } else {
                    *delta = None;
                }
            }
        };
        let df = Arc::make_mut(&mut self.published);
        let facts_changed = match &changed {
            None => {
                let mut functions = BTreeMap::new();
                let mut hashes = FxHashMap::default();
                let mut total = 0u64;
                for (name, &i) in &self.graph.published {
                    let facts = &self.nodes[i as usize].facts;
                    let h = fx_hash(facts);
                    total = total.wrapping_add(mix(name, h));
                    let key: Arc<str> = Arc::from(name.as_str());
                    hashes.insert(key.clone(), h);
                    functions.insert(key, Arc::new(facts.clone()));
                }
                self.ref_counts.clear();
                for f in functions.values() {
                    count_anchors(&mut self.ref_counts, f, 1);
                }
                df.functions = Arc::new(functions);
                df.fn_hashes = Arc::new(hashes);
                df.facts_hash = total;
                df.globals = Arc::new(BTreeMap::new());
                df.global_hashes = Arc::new(FxHashMap::default());
                true
            }
            Some((set, renamed)) => {
                let mut any = false;
                // Names no function has now.
                for name in renamed {
                    if self.graph.published.contains_key(name) {
                        continue;
                    }
                    if let Some(old) = Arc::make_mut(&mut df.fn_hashes).remove(name.as_str()) {
                        note(&mut delta, false, name.clone());
                        df.facts_hash = df.facts_hash.wrapping_sub(mix(name, old));
                        if let Some(f) = Arc::make_mut(&mut df.functions).remove(name.as_str()) {
                            count_anchors(&mut self.ref_counts, &f, -1);
                        }
                        any = true;
                    }
                }
                for &i in set {
                    let n = &self.nodes[i as usize];
                    if self.graph.published.get(&n.flow.name) != Some(&i) {
                        continue;
                    }
                    let h = fx_hash(&n.facts);
                    let name = n.flow.name.as_str();
                    let old = df.fn_hashes.get(name).copied();
                    if old == Some(h) {
                        continue;
                    }
                    any = true;
                    note(&mut delta, false, name.to_string());
                    if let Some(old) = old {
                        df.facts_hash = df.facts_hash.wrapping_sub(mix(&n.flow.name, old));
                    }
                    df.facts_hash = df.facts_hash.wrapping_add(mix(&n.flow.name, h));
                    // The name allocated once, for both maps, and only when it is new.
                    let hashes = Arc::make_mut(&mut df.fn_hashes);
                    let key: Arc<str> = match hashes.get_key_value(name) {
                        Some((k, _)) => k.clone(),
                        None => Arc::from(name),
                    };
                    hashes.insert(key.clone(), h);
                    let facts = Arc::new(n.facts.clone());
                    count_anchors(&mut self.ref_counts, &facts, 1);
                    if let Some(f) = Arc::make_mut(&mut df.functions).insert(key, facts) {
                        count_anchors(&mut self.ref_counts, &f, -1);
                    }
                }
                any
            }
        };
        let globals_changed = *df.globals != self.globals;
        if globals_changed {
            for c in df.globals.values().flatten() {
                count_path(&mut self.ref_counts, &c.path, -1);
            }
            for c in self.globals.values().flatten() {
                count_path(&mut self.ref_counts, &c.path, 1);
            }
            for (name, h) in df.global_hashes.iter() {
                df.facts_hash = df.facts_hash.wrapping_sub(mix(&format!("\0{name}"), *h));
            }
            let mut hashes = FxHashMap::default();
            for (name, concs) in &self.globals {
                let h = fx_hash(concs);
                df.facts_hash = df.facts_hash.wrapping_add(mix(&format!("\0{name}"), h));
                if df.global_hashes.get(name) != Some(&h) {
                    note(&mut delta, true, name.clone());
                }
                hashes.insert(name.clone(), h);
            }
            for name in df.global_hashes.keys() {
                if !hashes.contains_key(name) {
                    note(&mut delta, true, name.clone());
                }
            }
            df.global_hashes = Arc::new(hashes);
            df.globals = Arc::new(self.globals.clone());
        }
        if facts_changed || globals_changed {
            self.ref_counts.retain(|_, n| *n > 0);
            let mut referenced: Vec<Anchor> = self.ref_counts.keys().cloned().collect();
            referenced.sort();
            self.referenced = referenced;
        }
        let starts: FxHashMap<Anchor, usize> = self
            .referenced
            .iter()
            .filter_map(|a| {
                let i = *self.graph.by_anchor.get(a)?;
                Some((a.clone(), self.nodes[i as usize].start))
            })
            .collect();
        if *df.starts != starts {
            // Anchors moved, new or gone.
            for (a, s) in starts.iter() {
                if df.starts.get(a) != Some(s) {
                    note(&mut delta, true, format!("{ANCHOR_READ}{a}"));
                }
            }
            for a in df.starts.keys() {
                if !starts.contains_key(a) {
                    note(&mut delta, true, format!("{ANCHOR_READ}{a}"));
                }
            }
            let mut total = 0u64;
            for (a, s) in &starts {
                total = total.wrapping_add(fx_hash(&(a, s)));
            }
            df.starts_hash = total;
            df.starts = Arc::new(starts);
        }
        self.delta = delta;
    }
}

/// The batch resolution ([`super::resolve_batch`]): what [`Resolver::update`] does on its first
/// run, for a caller that never updates it.
impl Resolver {
    /// Resolves `flows` (each with the start of its item) from scratch: the facts of a first
    /// [`Resolver::update`], without the hashes only later updates and an editor's readers
    /// compare, with the flows moved in and the facts moved out rather than copied. Returns the
    /// facts and what is left of the resolver (for the caller to drop where it costs least).
    pub(super) fn batch(flows: Vec<(FnFlow, usize)>) -> (Dataflow, Resolver) {
        let mut r = Resolver::default();
        r.nodes.reserve_exact(flows.len());
        // The anchors of a first update (`update`'s matching by anchor, with no old node).
        let mut seen: FxHashMap<String, u32> = FxHashMap::default();
        let mut key = String::new();
        for (flow, start) in flows {
            use std::fmt::Write as _;
            let name = anchor_name(&flow);
            let k = match seen.get_mut(name) {
                Some(k) => k,
                None => seen.entry(name.to_string()).or_insert(0),
            };
            key.clear();
            let _ = write!(key, "{name}#{k}");
            *k += 1;
            r.nodes.push(Box::new(NodeState {
                anchor: Arc::from(key.as_str()),
                facts: bottom(&flow),
                flow,
                // Never compared: there is no later update.
                hash: 0,
                shape: 0,
                start,
                contrib: Vec::new(),
            }));
        }
        let mut resolved: FxHashSet<u32> = FxHashSet::default();
        r.full(&mut resolved);
        // `publish(None)`, the facts taken from their nodes.
        let mut functions = BTreeMap::new();
        let mut referenced: FxHashSet<Anchor> = FxHashSet::default();
        let mut mark = |path: &[Step]| {
            for a in path.iter().filter_map(|s| s.anchor.as_ref()) {
                if !referenced.contains(a) {
                    referenced.insert(a.clone());
                }
            }
        };
        for (name, &i) in &r.graph.published {
            let facts = std::mem::take(&mut r.nodes[i as usize].facts);
            for ret in &facts.ret {
                if let RetSym::Conc(c) = ret {
                    mark(&c.path);
                }
            }
            for c in facts.param_in.iter().flatten() {
                mark(&c.path);
            }
            if let Some(scan) = &facts.scan {
                mark(scan);
            }
            functions.insert(Arc::<str>::from(name.as_str()), Arc::new(facts));
        }
        for c in r.globals.values().flatten() {
            mark(&c.path);
        }
        let starts: FxHashMap<Anchor, usize> = referenced
            .into_iter()
            .filter_map(|a| {
                let i = *r.graph.by_anchor.get(&a)?;
                let start = r.nodes[i as usize].start;
                Some((a, start))
            })
            .collect();
        let df = Dataflow {
            functions: Arc::new(functions),
            globals: Arc::new(std::mem::take(&mut r.globals)),
            starts: Arc::new(starts),
            ..Dataflow::default()
        };
        (df, r)
    }
}

/// Counts (`by` 1) or uncounts (-1) the anchors of the steps of a function's published paths.
fn count_anchors(counts: &mut FxHashMap<Anchor, u32>, f: &FnFacts, by: i32) {
    for r in &f.ret {
        if let RetSym::Conc(c) = r {
            count_path(counts, &c.path, by);
        }
    }
    for c in f.param_in.iter().flatten() {
        count_path(counts, &c.path, by);
    }
    if let Some(scan) = &f.scan {
        count_path(counts, scan, by);
    }
}

fn count_path(counts: &mut FxHashMap<Anchor, u32>, path: &[Step], by: i32) {
    for a in path.iter().filter_map(|s| s.anchor.as_ref()) {
        let n = counts.entry(a.clone()).or_insert(0);
        *n = n.wrapping_add_signed(by);
    }
}

/// Strongly connected components of the functions' call graph (Tarjan's, iterative): each node's
/// component, and the components' members (ascending), callees' components first.
/// Appends `i` to the list of `name` in `map` (once in a row), copying the name only for a new
/// entry: the calls of a module's functions repeat a few names (`logger.info`, a helper), and the
/// call graph of a module is built again on a change of its functions (issue #14).
fn push_named(map: &mut FxHashMap<String, Vec<u32>>, name: &str, i: u32) {
    match map.get_mut(name) {
        Some(list) => {
            if list.last() != Some(&i) {
                list.push(i);
            }
        }
        None => {
            map.insert(name.to_string(), vec![i]);
        }
    }
}

fn tarjan(is_fn: &[bool], callees: &[Vec<u32>]) -> (Vec<u32>, Vec<Vec<u32>>) {
    const NONE: u32 = u32::MAX;
    let n = is_fn.len();
    let mut index = vec![NONE; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut scc = vec![NONE; n];
    let mut sccs: Vec<Vec<u32>> = Vec::new();
    let mut next = 0u32;
    let mut call: Vec<(u32, usize)> = Vec::new();
    for root in 0..n {
        if !is_fn[root] || index[root] != NONE {
            continue;
        }
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root as u32);
        on_stack[root] = true;
        call.push((root as u32, 0));
        while let Some(top) = call.last_mut() {
            let v = top.0 as usize;
            if top.1 < callees[v].len() {
                let w = callees[v][top.1] as usize;
                top.1 += 1;
                if index[w] == NONE {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w as u32);
                    on_stack[w] = true;
                    call.push((w as u32, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                call.pop();
                if let Some(&(u, _)) = call.last() {
                    let u = u as usize;
                    low[u] = low[u].min(low[v]);
                }
                if low[v] == index[v] {
                    let id = sccs.len() as u32;
                    let mut members = Vec::new();
                    loop {
                        let w = stack.pop().expect("v is on the stack");
                        on_stack[w as usize] = false;
                        scc[w as usize] = id;
                        members.push(w);
                        if w as usize == v {
                            break;
                        }
                    }
                    members.sort_unstable();
                    sccs.push(members);
                }
            }
        }
    }
    (scc, sccs)
}

/// Removes `i` from a sorted list of indices, if there.
fn remove_sorted(list: &mut Vec<u32>, i: u32) {
    if let Ok(k) = list.binary_search(&i) {
        list.remove(k);
    }
}

/// Inserts `i` into a sorted list of indices, unless there.
fn insert_sorted(list: &mut Vec<u32>, i: u32) {
    if let Err(k) = list.binary_search(&i) {
        list.insert(k, i);
    }
}
