//! Data flow across the modules of a project.
//!
//! The modules linked by calls to each other's functions (a *component*) are resolved together by
//! the resolution of a module ([`dataflow::Resolver`], from scratch: [`dataflow::resolve`]): every
//! function is named by its module's
//! qualifier (`app.store.save_client`, `app.store.Repo.save`), a call to an imported function
//! (`@.store.save_client` in the local flow) by the function its import resolves to
//! ([`Project::resolve_import`]), and every item start is encoded with its file
//! ([`cross::encode`]); the anchors are made of the qualified names (`app.store.save_client#0`),
//! so they are distinct across modules. Each module then gets its *view*: its own functions and
//! globals under their local names, the functions it calls in other modules under the name of the
//! call, the starts of its own anchors as plain offsets and those of other modules' anchors
//! encoded with an index into the view's files ([`Dataflow::concretize`] then places a step of
//! another file at an encoded offset, which `place_related` decodes). A module linked to no other resolves alone, as before.

use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::Project;
use crate::dataflow::cross::{self, FlowResolver};
use crate::dataflow::{self, Anchor, Dataflow, FnFlow, Step};

/// The flows of one module: its summary's, or those given in their place.
type Flows<'a> = Vec<(&'a FnFlow, usize)>;

/// (name in a module's view, name in the resolution) of its functions, then of its globals.
type ViewNames = (Vec<(String, String)>, Vec<(String, String)>);

impl Project {
    fn flows_of<'a>(&'a self, m: usize, subst: Option<(usize, &Flows<'a>)>) -> Flows<'a> {
        match subst {
            Some((s, flows)) if s == m => flows.clone(),
            _ => self.modules[m]
                .summary
                .as_ref()
                .map(|s| s.flows.iter().map(|(f, st)| (f, *st)).collect())
                .unwrap_or_default(),
        }
    }

    /// The modules whose functions module `m` calls (given its flows).
    fn callees(&self, m: usize, flows: &Flows) -> Vec<usize> {
        let mut out: Vec<usize> = flows
            .iter()
            .flat_map(|(f, _)| f.calls.iter())
            .filter_map(|c| c.callee.strip_prefix('@'))
            .filter_map(|p| self.resolve_import(m, p))
            .map(|(j, _)| j)
            .filter(|&j| j != m)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Every module's callees.
    fn call_graph(&self, subst: Option<(usize, &Flows)>) -> Vec<Vec<usize>> {
        (0..self.modules.len())
            .map(|m| self.callees(m, &self.flows_of(m, subst)))
            .collect()
    }

    /// The components of the call graph between modules (modules calling into each other,
    /// transitively, either way), of two modules or more.
    pub fn components(&self) -> Vec<Vec<usize>> {
        components(&self.call_graph(None), self.modules.len())
            .into_iter()
            .filter(|c| c.len() > 1)
            .collect()
    }

    /// Resolves the modules of `members` together (the flows of one replaced by `subst`) and
    /// returns each one's view.
    pub fn resolve_together(
        &self,
        members: &[usize],
        subst: Option<(usize, &Flows)>,
    ) -> Vec<(usize, Dataflow)> {
        let mut owned: Vec<(FnFlow, usize)> = Vec::new();
        // Per member: (name in the member's view, name in the resolution), functions and globals.
        let mut names: Vec<ViewNames> = Vec::new();
        for &m in members {
            let q = &self.modules[m].qualifier;
            let mut fns: Vec<(String, String)> = Vec::new();
            let mut globals: Vec<(String, String)> = Vec::new();
            for (f, start) in self.flows_of(m, subst) {
                let mut g = f.clone();
                if !g.name.is_empty() {
                    g.name = format!("{q}.{}", f.name);
                    fns.push((f.name.clone(), g.name.clone()));
                }
                for c in &mut g.calls {
                    if let Some(path) = c.callee.strip_prefix('@') {
                        if let Some((j, sym)) = self.resolve_import(m, path) {
                            let global = format!("{}.{sym}", self.modules[j].qualifier);
                            fns.push((c.callee.clone(), global.clone()));
                            c.callee = global;
                        }
                    } else {
                        c.callee = format!("{q}.{}", c.callee);
                    }
                }
                for n in g
                    .globals
                    .iter_mut()
                    .chain(g.defines.iter_mut().map(|(n, _)| n))
                {
                    globals.push((n.clone(), format!("{q}.{n}")));
                    *n = format!("{q}.{n}");
                }
                owned.push((g, cross::encode(m, start)));
            }
            fns.sort();
            fns.dedup();
            globals.sort();
            globals.dedup();
            names.push((fns, globals));
        }
        let df = dataflow::resolve(owned.iter().map(|(f, s)| (f, *s)));
        members
            .iter()
            .zip(names)
            .map(|(&m, (fns, globals))| (m, self.view(&df, m, &fns, &globals)))
            .collect()
    }

    /// Module `m`'s view of the resolution `df`: its functions and globals under their local
    /// names, the anchors of its own items at their offsets, those of other modules' items at
    /// starts encoded with an index into the view's files.
    fn view(
        &self,
        df: &Dataflow,
        m: usize,
        fns: &[(String, String)],
        globals: &[(String, String)],
    ) -> Dataflow {
        let mut files: Vec<Arc<str>> = Vec::new();
        let mut index: FxHashMap<usize, usize> = FxHashMap::default();
        let all_starts = df.anchor_starts();
        let mut starts: FxHashMap<Anchor, usize> = FxHashMap::default();
        let mut place = |step: &mut Step| {
            let Some(anchor) = &step.anchor else {
                return;
            };
            let Some((f, off)) = all_starts.get(anchor).and_then(|&s| cross::decode(s)) else {
                return;
            };
            if let Some(module) = self.modules.get(f) {
                // Names of the step's own module read as in its source (`check`, not
                // `app.main.check`).
                let own = format!("`{}.", module.qualifier);
                if step.message.contains(&own) {
                    step.message = step.message.replace(&own, "`");
                }
            }
            if starts.contains_key(anchor) {
                return;
            }
            let start = if f == m {
                off
            } else {
                let i = *index.entry(f).or_insert_with(|| {
                    files.push(self.modules[f].shown.clone());
                    files.len() - 1
                });
                cross::encode(i, off)
            };
            starts.insert(anchor.clone(), start);
        };
        let mut functions = BTreeMap::new();
        for (local, global) in fns {
            if let Some(facts) = df.function_facts().get(global) {
                let mut facts = (**facts).clone();
                cross::steps_mut(&mut facts).for_each(&mut place);
                functions.insert(local.clone(), Arc::new(facts));
            }
        }
        let mut gl = BTreeMap::new();
        for (local, global) in globals {
            if let Some(concs) = df.global_facts().get(global) {
                let mut concs = concs.clone();
                concs
                    .iter_mut()
                    .flat_map(|c| c.path.iter_mut())
                    .for_each(&mut place);
                gl.insert(local.clone(), concs);
            }
        }
        Dataflow::from_parts(functions, gl, starts, files)
    }

    /// The views of every module linked to another: what the CLI hands the analyzer of each.
    pub fn resolve_all(&self) -> FxHashMap<usize, Arc<Dataflow>> {
        let mut out = FxHashMap::default();
        for comp in self.components() {
            for (m, df) in self.resolve_together(&comp, None) {
                out.insert(m, Arc::new(df));
            }
        }
        out
    }

    /// The modules linked to module `m` (itself included) when its flows are `flows`.
    pub fn component_of(&self, m: usize, flows: &Flows) -> Vec<usize> {
        let graph = self.call_graph(Some((m, flows)));
        components(&graph, self.modules.len())
            .into_iter()
            .find(|c| c.contains(&m))
            .unwrap_or_else(|| vec![m])
    }

    /// The modules that call into module `m`, directly or through others, and those it calls:
    /// the open documents whose findings may change when `m`'s summary does.
    pub fn dependents(&self, m: usize) -> Vec<usize> {
        let flows = self.flows_of(m, None);
        self.component_of(m, &flows)
            .into_iter()
            .filter(|&x| x != m)
            .collect()
    }
}

/// The connected components of the undirected graph of `edges` (sorted, each sorted).
fn components(edges: &[Vec<usize>], n: usize) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    for (a, outs) in edges.iter().enumerate() {
        for &b in outs {
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            if ra != rb {
                parent[ra.max(rb)] = ra.min(rb);
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for x in 0..n {
        let r = find(&mut parent, x);
        groups.entry(r).or_default().push(x);
    }
    groups.into_values().collect()
}

/// A view resolved beforehand (the CLI: the texts do not change between the resolution and the
/// rules).
pub struct FixedView(pub Arc<Dataflow>);

impl FlowResolver for FixedView {
    fn resolve(&self, _flows: &[(&FnFlow, usize)]) -> Dataflow {
        (*self.0).clone()
    }
    fn signature(&self) -> u64 {
        0
    }
}

/// The resolver of one module of a live project (the server): its flows as they are now, with
/// the summaries of the other modules of the project.
pub struct LiveResolver {
    pub project: Arc<std::sync::RwLock<Project>>,
    pub module: usize,
    /// The project's generation counter (changed whenever a summary changes).
    pub generation: Arc<std::sync::atomic::AtomicU64>,
}

impl FlowResolver for LiveResolver {
    fn resolve(&self, flows: &[(&FnFlow, usize)]) -> Dataflow {
        let Ok(project) = self.project.read() else {
            return dataflow::resolve(flows.iter().copied());
        };
        let flows: Flows = flows.to_vec();
        if self.module >= project.modules.len() {
            return dataflow::resolve(flows.iter().copied());
        }
        let comp = project.component_of(self.module, &flows);
        if comp.len() < 2 {
            return dataflow::resolve(flows.iter().copied());
        }
        project
            .resolve_together(&comp, Some((self.module, &flows)))
            .into_iter()
            .find(|(m, _)| *m == self.module)
            .map(|(_, df)| df)
            .unwrap_or_default()
    }

    /// What `resolve` checks before resolving the module alone (issue #14: the engine then
    /// resolves incrementally).
    fn alone(&self, flows: &[(&FnFlow, usize)]) -> bool {
        let Ok(project) = self.project.read() else {
            return true;
        };
        let flows: Flows = flows.to_vec();
        self.module >= project.modules.len() || project.component_of(self.module, &flows).len() < 2
    }

    /// The changes of the other modules: the project's generation less this module's own.
    fn signature(&self) -> u64 {
        let all = self.generation.load(std::sync::atomic::Ordering::Acquire);
        let own = self
            .project
            .read()
            .ok()
            .and_then(|p| p.modules.get(self.module).map(|m| m.own_changes))
            .unwrap_or(0);
        all.wrapping_sub(own)
    }
}
