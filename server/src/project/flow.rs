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
//!
//! The server keeps the resolution between edits ([`LiveFlow`]): one incremental resolver over the
//! linked modules, fed from the project's summaries; an edit recomputes the changed module's
//! flows, the facts that depend on them, and the views that read a changed fact, and reports the
//! modules whose view changed (the only documents to analyse again).

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, RwLock};

use rustc_hash::FxHashMap;

use super::{ModuleSummary, Project};
use crate::dataflow::cross::{self, FlowResolver};
use crate::dataflow::{self, Anchor, Dataflow, FnFlow, Step};
use crate::model::ForeignName;

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
                .map(|s| s.flows().collect())
                .unwrap_or_default(),
        }
    }

    /// The modules whose functions module `m` calls (given its flows).
    fn callees(&self, m: usize, flows: &Flows) -> Vec<usize> {
        // Each path once (a module calls the same imported function many times).
        let mut paths: Vec<&str> = flows
            .iter()
            .flat_map(|(f, _)| {
                f.calls
                    .iter()
                    .map(|c| c.callee.as_str())
                    .chain(f.globals.iter().map(String::as_str))
            })
            .filter_map(|c| c.strip_prefix('@'))
            .collect();
        paths.sort_unstable();
        paths.dedup();
        let mut out: Vec<usize> = paths
            .into_iter()
            .filter_map(|p| self.resolve_import(m, p))
            .map(|(j, _)| j)
            .filter(|&j| j != m)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// [`Project::resolve_import`] from module `m`, each path resolved once (`memo`: the
    /// answers so far, for one module while the project does not change).
    fn resolve_memo<'p>(
        &self,
        m: usize,
        path: &'p str,
        memo: &mut FxHashMap<&'p str, Option<(usize, String)>>,
    ) -> Option<(usize, String)> {
        memo.entry(path)
            .or_insert_with(|| self.resolve_import(m, path))
            .clone()
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

    /// Module `m`'s flows `flows` made ready for a resolution across modules: every function
    /// named by the module's qualifier, a call to an imported function by the function its import
    /// resolves to, the module's globals qualified, every item start encoded with its file.
    /// Returns them with the module's [`ViewNames`] and the other modules it calls.
    fn qualify(&self, m: usize, flows: &Flows) -> (Vec<(FnFlow, usize)>, ViewNames, Vec<usize>) {
        let q = &self.modules[m].qualifier;
        let mut owned: Vec<(FnFlow, usize)> = Vec::with_capacity(flows.len());
        let mut fns: Vec<(String, String)> = Vec::new();
        let mut globals: Vec<(String, String)> = Vec::new();
        let mut callees: Vec<usize> = Vec::new();
        let mut memo = FxHashMap::default();
        for &(f, start) in flows {
            let mut g = f.clone();
            if !g.name.is_empty() {
                g.name = format!("{q}.{}", f.name);
                fns.push((f.name.clone(), g.name.clone()));
            }
            for (k, c) in g.calls.iter_mut().enumerate() {
                if let Some(path) = f.calls[k].callee.strip_prefix('@') {
                    if let Some((j, sym)) = self.resolve_memo(m, path, &mut memo) {
                        let global = format!("{}.{sym}", self.modules[j].qualifier);
                        fns.push((c.callee.clone(), global.clone()));
                        c.callee = global;
                        if j != m {
                            callees.push(j);
                        }
                    }
                } else {
                    c.callee = format!("{q}.{}", c.callee);
                }
            }
            let originals = f.globals.iter().chain(f.defines.iter().map(|(n, _)| n));
            for (n, original) in g
                .globals
                .iter_mut()
                .chain(g.defines.iter_mut().map(|(n, _)| n))
                .zip(originals)
            {
                // A name of another module read here (`@.settings.API_KEY`): its name there.
                let global = match original.strip_prefix('@') {
                    Some(path) => match self.resolve_memo(m, path, &mut memo) {
                        Some((j, sym)) => {
                            if j != m {
                                callees.push(j);
                            }
                            format!("{}.{sym}", self.modules[j].qualifier)
                        }
                        None => continue,
                    },
                    None => format!("{q}.{n}"),
                };
                globals.push((n.clone(), global.clone()));
                *n = global;
            }
            owned.push((g, cross::encode(m, start)));
        }
        fns.sort();
        fns.dedup();
        globals.sort();
        globals.dedup();
        callees.sort_unstable();
        callees.dedup();
        (owned, (fns, globals), callees)
    }

    /// A hash of module `m`'s qualifier and of what the calls of `flows` to imported functions
    /// resolve to (what [`Project::qualify`] reads of the rest of the project), the other
    /// modules they call, and the modules without a summary their resolution looked into (a
    /// summary of one may change what they resolve to: see [`LiveFlow::sync`]).
    fn links(&self, m: usize, flows: &Flows) -> (u64, Vec<usize>, Vec<usize>) {
        let mut h = rustc_hash::FxHasher::default();
        self.modules[m].qualifier.hash(&mut h);
        let mut callees = Vec::new();
        let mut missed = Vec::new();
        let mut looked = rustc_hash::FxHashSet::default();
        let mut memo = FxHashMap::default();
        for (f, _) in flows {
            let calls = f.calls.iter().map(|c| c.callee.as_str());
            for callee in calls.chain(f.globals.iter().map(String::as_str)) {
                if let Some(path) = callee.strip_prefix('@') {
                    let to = self.resolve_memo(m, path, &mut memo);
                    if let Some((j, sym)) = &to {
                        (j, sym, &self.modules[*j].qualifier).hash(&mut h);
                        if *j != m {
                            callees.push(*j);
                        }
                    } else {
                        0u8.hash(&mut h);
                    }
                    // Found or not, the resolution may have passed over a module without a
                    // summary (a longer prefix of the path, a re-export): once per path.
                    if looked.insert(path) {
                        missed.extend(self.unsummarised_for(m, path));
                    }
                }
            }
        }
        callees.sort_unstable();
        callees.dedup();
        missed.sort_unstable();
        missed.dedup();
        (h.finish(), callees, missed)
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
            let (flows, view_names, _) = self.qualify(m, &self.flows_of(m, subst));
            owned.extend(flows);
            names.push(view_names);
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
            if let Some(facts) = df.function_facts().get(global.as_str()) {
                let mut facts = (**facts).clone();
                cross::steps_mut(&mut facts).for_each(&mut place);
                functions.insert(Arc::from(local.as_str()), Arc::new(facts));
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
    /// A module that imports names of other modules the rules read facts of (a PynamoDB model, a
    /// DynamoDB table made there) gets a view too, with them ([`Dataflow::imported`]); linked to
    /// no other module, its view holds nothing else and the module resolves alone
    /// ([`Dataflow::is_alone`]), from the flows its analysis computes with them.
    ///
    /// A linked module's view is resolved from its summary, computed without them: a function of
    /// it whose facts depend on an imported model (`def all_users(): return UserModel.scan()`,
    /// called by a route) is resolved as if the model were unknown; what a function does with
    /// the model itself (a route that scans it and returns the items) is found.
    pub fn resolve_all(&self) -> FxHashMap<usize, Arc<Dataflow>> {
        self.resolve_wanted(&|_, _| true)
    }

    /// The views of the modules linked to another that `wanted` accepts, given a [`Probe`] of
    /// each one's view (what the view would hold, without placing its steps): `keylint check`
    /// builds only the views it uses. The components are resolved in parallel, the modules'
    /// flows qualified and the views built in parallel; each view is the one
    /// [`Project::resolve_all`] gives.
    pub fn resolve_wanted(
        &self,
        wanted: &(dyn Fn(usize, &Probe) -> bool + Sync),
    ) -> FxHashMap<usize, Arc<Dataflow>> {
        use rayon::prelude::*;
        // [`Project::components`], each module's callees found in parallel (on django 2,786
        // modules' calls, some 13 M instructions on one core).
        let graph: Vec<Vec<usize>> = (0..self.modules.len())
            .into_par_iter()
            .map(|m| self.callees(m, &self.flows_of(m, None)))
            .collect();
        let comps: Vec<Vec<usize>> = components(&graph, self.modules.len())
            .into_iter()
            .filter(|c| c.len() > 1)
            .collect();
        // What each module imports of other modules that the rules read facts of (a PynamoDB
        // model, a DynamoDB table made there): its view carries them.
        let imported: Vec<Vec<ForeignName>> = (0..self.modules.len())
            .into_par_iter()
            .map(|m| match self.modules[m].summary {
                Some(_) => self.foreign_names(m),
                None => Vec::new(),
            })
            .collect();
        // The largest components first: they take the longest.
        let mut order: Vec<usize> = (0..comps.len()).collect();
        order.sort_by_key(|&c| std::cmp::Reverse(comps[c].len()));
        let views: Vec<Vec<(usize, Dataflow)>> = order
            .par_iter()
            .map(|&c| {
                let members = &comps[c];
                let qualified: Vec<(Vec<(FnFlow, usize)>, ViewNames)> = members
                    .par_iter()
                    .map(|&m| {
                        let (flows, names, _) = self.qualify(m, &self.flows_of(m, None));
                        (flows, names)
                    })
                    .collect();
                // Resolved once and only read: the batch resolution (no hashes; the flows moved
                // in, not copied).
                let (flows, names): (Vec<_>, Vec<ViewNames>) = qualified.into_iter().unzip();
                let df = dataflow::resolve_batch(flows.into_iter().flatten().collect());
                members
                    .par_iter()
                    .zip(names.par_iter())
                    .filter_map(|(&m, (fns, globals))| {
                        let probe = Probe::new(&df, m, fns, globals, &imported[m]);
                        wanted(m, &probe).then(|| {
                            let view = self.view(&df, m, fns, globals);
                            (m, with_imported(view, &imported[m]))
                        })
                    })
                    .collect()
            })
            .collect();
        let mut linked = vec![false; self.modules.len()];
        comps.iter().flatten().for_each(|&m| linked[m] = true);
        // Linked to no other module: a view with the imported names alone; the module resolves
        // alone ([`Dataflow::is_alone`]), from the flows its analysis computes with them.
        let alone = imported
            .iter()
            .enumerate()
            .filter(|(m, names)| !linked[*m] && !names.is_empty())
            .filter(|&(m, names)| wanted(m, &Probe::imported_only(names)))
            .map(|(m, names)| (m, Dataflow::alone_with_imported(names.clone())));
        views
            .into_iter()
            .flatten()
            .chain(alone)
            .map(|(m, df)| (m, Arc::new(df)))
            .collect()
    }
}

/// What module `m`'s view of a resolution would hold, read without building it: its functions'
/// and globals' facts under their local names (as in the view, steps not placed: the facts'
/// kinds, parameters and sinks are the view's) and whether a step of them lies in another
/// module's item (the view then names another file).
pub struct Probe<'a> {
    pub functions: BTreeMap<&'a str, &'a Arc<dataflow::FnFacts>>,
    pub globals: BTreeMap<&'a str, &'a Vec<dataflow::Conc>>,
    pub foreign: bool,
    /// The module imports names of other modules the rules read facts of (the view carries
    /// them, [`Dataflow::imported`]).
    pub imported: bool,
    /// Another module loads a class of the module as its Flask configuration
    /// ([`ForeignName::loaded_config`]).
    pub loaded_config: bool,
}

impl<'a> Probe<'a> {
    fn new(
        df: &'a Dataflow,
        m: usize,
        fns: &'a [(String, String)],
        globals: &'a [(String, String)],
        names: &[ForeignName],
    ) -> Self {
        let starts = df.anchor_starts();
        let elsewhere = |step: &Step| {
            step.anchor
                .as_ref()
                .and_then(|a| starts.get(a))
                .and_then(|&s| cross::decode(s))
                .is_some_and(|(f, _)| f != m)
        };
        let mut foreign = false;
        let mut functions = BTreeMap::new();
        for (local, global) in fns {
            if let Some(facts) = df.function_facts().get(global.as_str()) {
                foreign = foreign || fact_steps(facts).any(elsewhere);
                functions.insert(local.as_str(), facts);
            }
        }
        let mut gl = BTreeMap::new();
        for (local, global) in globals {
            if let Some(concs) = df.global_facts().get(global) {
                foreign = foreign || concs.iter().flat_map(|c| c.path.iter()).any(elsewhere);
                gl.insert(local.as_str(), concs);
            }
        }
        Probe {
            functions,
            globals: gl,
            foreign,
            imported: !names.is_empty(),
            loaded_config: names.iter().any(|n| n.loaded_config),
        }
    }

    /// The probe of a module linked to no other that imports names the rules read facts of.
    fn imported_only(names: &[ForeignName]) -> Self {
        Probe {
            functions: BTreeMap::new(),
            globals: BTreeMap::new(),
            foreign: false,
            imported: true,
            loaded_config: names.iter().any(|n| n.loaded_config),
        }
    }
}

/// `view` with the names its module imports that the rules read facts of, if any.
fn with_imported(view: Dataflow, names: &[ForeignName]) -> Dataflow {
    if names.is_empty() {
        view
    } else {
        view.with_imported(names.to_vec())
    }
}

/// The steps of a function's facts that a view places ([`cross::steps_mut`], read only).
fn fact_steps(f: &dataflow::FnFacts) -> impl Iterator<Item = &Step> {
    let ret = f.ret.iter().flat_map(|r| match r {
        dataflow::RetSym::Conc(c) => Some(c.path.iter()),
        dataflow::RetSym::Param(..) => None,
    });
    let ins = f
        .param_in
        .iter()
        .flat_map(|p| p.iter().flat_map(|c| c.path.iter()));
    let scan = f.scan.iter().flat_map(|p| p.iter());
    ret.flatten().chain(ins).chain(scan)
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
    fn imported(&self) -> Arc<Vec<ForeignName>> {
        self.0.imported().clone()
    }
    fn alone(&self, _flows: &[(&FnFlow, usize)]) -> bool {
        self.0.is_alone()
    }
}

/// What the live project keeps of one module.
#[derive(Default)]
struct LiveModule {
    /// The summary its flows were last taken from.
    seen: Option<Arc<ModuleSummary>>,
    /// The hash of what imports into it read of that summary ([`interface`]).
    interface: u64,
    /// Its flows made ready for the resolution ([`Project::qualify`]), each with its hash, while
    /// it is linked to another module.
    qualified: Vec<(FnFlow, usize, u64)>,
    names: ViewNames,
    /// The other modules it calls.
    callees: Vec<usize>,
    /// The modules without a summary the resolution of its calls looked into (when one gets its
    /// first summary, its calls are resolved again; see [`LiveFlow::sync`]).
    missed: Vec<usize>,
    /// A hash of its qualifier and of what its calls to imported functions resolve to.
    links: u64,
    /// `qualified` and `names` are those of `seen` (kept only while the module is linked).
    qualified_ok: bool,
    /// Its view while it is linked to another module, with the view's hash.
    view: Option<(Arc<Dataflow>, u64)>,
    /// Bumped whenever its view changes (or it becomes linked, or unlinked), or the classes of
    /// other modules it imports ([`LiveFlow::classes`]).
    version: u64,
    /// `qualified` holds stubs (see [`stub`]), and the occurrence of each one's anchor name among
    /// the linked modules' flows when the resolver took it whole.
    stubbed: bool,
    occ: Vec<u32>,
    /// Its view is wanted: its analysis asked for it (an open document), and it was not closed
    /// since. Views are computed for these modules only: a closed module of a large workspace
    /// costs its summary, its qualified flows and its facts in the resolution, not a view.
    wanted: bool,
    /// The classes of other modules it imports, once its analysis asked for them
    /// ([`Project::foreign_names`]); computed again when a module's classes or imports change.
    classes: Option<Arc<Vec<ForeignName>>>,
}

/// What the last [`LiveFlow`] synchronisation did (for tests and measurements).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LiveStats {
    /// The imports of every module were resolved again (a module's functions or imports changed,
    /// or modules were added or removed).
    pub relinked: bool,
    /// Modules whose flows were taken again.
    pub requalified: usize,
    /// The resolution of the linked modules was updated (see [`dataflow::ResolveStats`]).
    pub resolve: Option<dataflow::ResolveStats>,
    /// Views computed again, and those of them that changed.
    pub views: usize,
    pub views_changed: usize,
}

/// The data flow of a live project (the server), kept between edits: one incremental
/// [`dataflow::Resolver`] over the flows of every module linked to another (the union of the
/// components: their functions are qualified, so resolving them together gives each component
/// what resolving it alone gives), fed from the modules' summaries in the [`Project`].
///
/// A synchronisation ([`LiveFlow::sync`]) takes the summaries that changed (compared by pointer),
/// resolves the imports of every module again only when what an import reads of a module
/// changed (its functions' names, its imports; or modules came or went), updates the resolution
/// (which recomputes only the facts that depend on the flows that changed), and computes again the
/// views of the modules that read a fact or a start that changed. A module whose view changed
/// gets a new version ([`LiveResolver::signature`]) and, unless its own analysis asked, is
/// *stale*: its document's findings are out of date ([`LiveFlow::take_stale`]).
#[derive(Default)]
pub struct LiveFlow {
    modules: Vec<LiveModule>,
    /// The modules linked to another (ascending).
    linked: Vec<usize>,
    resolver: dataflow::Resolver,
    stale: Vec<usize>,
    stats: LiveStats,
    /// A synchronisation took many flows again (the first one, a relink): much was allocated and
    /// dropped, worth returning to the system ([`LiveFlow::take_trim`]).
    trim: bool,
}

/// The hash of what resolving an import into a module reads of its summary: the names of its
/// functions, its imports, its `import *`s, the classes its factories return and its instances'
/// classes, and its classes' bases (inherited methods).
fn interface(s: Option<&ModuleSummary>) -> u64 {
    let Some(s) = s else {
        return 0;
    };
    // The summary keeps its functions' names sorted (shared from summary to summary while
    // they stay the same): nothing collected or sorted here.
    let mut h = rustc_hash::FxHasher::default();
    (
        s.function_names(),
        s.global_names(),
        &s.imports,
        &s.star_imports,
        &s.factories,
        &s.instances,
    )
        .hash(&mut h);
    h.finish() | 1
}

/// The name a flow's anchor in the resolver is made of (as `dataflow::resolve` makes it): the
/// function's, or the first name a module statement binds.
fn anchor_name(flow: &FnFlow) -> &str {
    if !flow.name.is_empty() {
        &flow.name
    } else {
        flow.defines.first().map_or("", |(n, _)| n.as_str())
    }
}

/// Reduces a qualified flow the resolver has taken to what its next updates read of it while its
/// hash stays the same: the name its anchor is made of (the function's, or the first name a
/// module statement binds). The resolver keeps the whole flow; keeping it here too doubled the
/// memory of the linked modules' flows (about 30 MB on django's 950 linked modules). A module
/// statement that binds no name keeps its whole flow: its anchor (`#k`) counts such statements
/// across all the linked modules, so it may not match the resolver's after modules are linked
/// or unlinked, and the resolver then takes the flow as new.
fn stub(f: &mut FnFlow) {
    if f.name.is_empty() && f.defines.is_empty() {
        return;
    }
    let name = std::mem::take(&mut f.name);
    let mut defines = std::mem::take(&mut f.defines);
    defines.truncate(1);
    for (_, t) in &mut defines {
        *t = Default::default();
    }
    defines.shrink_to_fit();
    *f = FnFlow {
        name,
        defines,
        ..FnFlow::default()
    };
}

impl LiveFlow {
    /// What the last synchronisation did.
    pub fn stats(&self) -> LiveStats {
        self.stats
    }

    /// The version of module `m`'s view (see [`LiveResolver::signature`]).
    pub fn version(&self, m: usize) -> u64 {
        self.modules.get(m).map_or(0, |l| l.version)
    }

    /// Module `m`'s view, while it is linked to another module.
    pub fn view(&self, m: usize) -> Option<&Arc<Dataflow>> {
        self.modules.get(m)?.view.as_ref().map(|(v, _)| v)
    }

    /// Brings the state up to the summaries of `project`; `asking` is the module whose analysis
    /// asked (its change of view is no news to it: it reads its view after this). A change of
    /// the classes it imports is news to it all the same: its analysis read them first
    /// ([`LiveFlow::sync_classes`]), and may have read them before this change.
    pub fn sync(&mut self, project: &Project, asking: Option<usize>) {
        self.sync_with(project, asking, false);
    }

    /// [`LiveFlow::sync`] for the analysis of `asking` about to read the classes it imports
    /// (then a change of them is no news to it either).
    pub fn sync_classes(&mut self, project: &Project, asking: usize) {
        self.sync_with(project, Some(asking), true);
    }

    fn sync_with(&mut self, project: &Project, asking: Option<usize>, reads_classes: bool) {
        let n = project.modules.len();
        let mut stats = LiveStats::default();
        let mut relink = n != self.modules.len();
        if self.modules.len() < n {
            self.modules.resize_with(n, LiveModule::default);
        }
        if let Some(a) = asking.filter(|&a| a < n) {
            self.modules[a].wanted = true;
        }
        let mut changed: Vec<usize> = Vec::new();
        // Modules summarised for the first time (the server's lazy index summarises a module when
        // something leads to it, or when it is opened): only the modules whose calls looked into
        // one of them resolve again, not every module's (a relink).
        let mut fresh: Vec<usize> = Vec::new();
        let mut classes_changed = false;
        for (i, module) in project.modules.iter().enumerate() {
            let live = &mut self.modules[i];
            let same = match (&module.summary, &live.seen) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            };
            if same {
                continue;
            }
            // What imports read of it, hashed again only when it may have changed (a keystroke
            // in a body shares the sorted names: issue #14).
            let same_iface = match (&module.summary, &live.seen) {
                (Some(a), Some(b)) => a.same_interface(b),
                _ => false,
            };
            if !same_iface {
                let iface = interface(module.summary.as_deref());
                if iface != live.interface {
                    if live.seen.is_none() {
                        fresh.push(i);
                    } else {
                        relink = true;
                    }
                }
                live.interface = iface;
            }
            classes_changed |= module.summary.as_ref().map(|s| {
                (
                    &s.classes,
                    &s.handles,
                    &s.loaded_configs,
                    &s.loaded_config_sites,
                )
            }) != live.seen.as_ref().map(|s| {
                (
                    &s.classes,
                    &s.handles,
                    &s.loaded_configs,
                    &s.loaded_config_sites,
                )
            });
            changed.push(i);
        }
        if !relink && changed.is_empty() {
            // A module asking for the first time (or again after it was closed) gets its view.
            let missing: Vec<usize> = asking.filter(|&a| self.wants_view(a)).into_iter().collect();
            stats.views = missing.len();
            self.compute_views(project, missing, asking, &mut stats);
            self.stats = stats;
            return;
        }
        // The classes of other modules that modules import (asked by their analyses): computed
        // again when a module's classes, or what imports resolve to, may have changed.
        if relink || classes_changed {
            for m in 0..self.modules.len() {
                let Some(old) = self.modules[m].classes.clone() else {
                    continue;
                };
                let new = project.foreign_names(m);
                if *old != new {
                    let live = &mut self.modules[m];
                    live.classes = Some(Arc::new(new));
                    live.version += 1;
                    if !(reads_classes && asking == Some(m)) {
                        self.stale.push(m);
                    }
                }
            }
        }
        // The modules whose flows are taken again: every module when imports may resolve
        // elsewhere, else those whose flows changed.
        let mut looked_into: Vec<usize> = Vec::new();
        if !relink && !fresh.is_empty() {
            looked_into = (0..n)
                .filter(|&i| self.modules[i].missed.iter().any(|j| fresh.contains(j)))
                .collect();
            for &i in &looked_into {
                if !changed.contains(&i) {
                    changed.push(i);
                }
            }
        }
        let retake: Vec<usize> = if relink {
            stats.relinked = true;
            (0..n).collect()
        } else {
            changed
        };
        let mut graph_changed = relink;
        for i in retake {
            let summary = project.modules[i].summary.clone();
            let live = &mut self.modules[i];
            let flows_same = match (&summary, &live.seen) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a.same_flows(b),
                (None, None) => true,
                _ => false,
            };
            // The calls and globals of other modules its flows name are the last ones: what
            // they resolve to is too while no interface changed (no relink), so its links and
            // callees stand (issue #14: not every flow read again).
            let again = looked_into.binary_search(&i).is_ok();
            let refs_same = !relink
                && !again
                && match (&summary, &live.seen) {
                    (Some(a), Some(b)) => a.same_external_refs(b),
                    _ => false,
                };
            live.seen = summary;
            if flows_same && !relink && !again {
                continue;
            }
            if refs_same {
                live.qualified_ok = false;
                continue;
            }
            let flows: Flows = live
                .seen
                .as_ref()
                .map(|s| s.flows().collect())
                .unwrap_or_default();
            let (links, callees, missed) = project.links(i, &flows);
            let live = &mut self.modules[i];
            live.missed = missed;
            // Flows as they were, and its name and imports resolving as they did: nothing to
            // take again.
            if flows_same && links == live.links {
                continue;
            }
            graph_changed |= callees != live.callees;
            live.links = links;
            live.callees = callees;
            live.qualified_ok = false;
        }
        let old_linked = self.linked.clone();
        if graph_changed {
            let graph: Vec<Vec<usize>> = self.modules.iter().map(|l| l.callees.clone()).collect();
            let mut linked: Vec<usize> = components(&graph, self.modules.len())
                .into_iter()
                .filter(|c| c.len() > 1)
                .flatten()
                .collect();
            linked.sort_unstable();
            self.linked = linked;
        }
        // Only the linked modules keep qualified flows (the others resolve alone).
        let mut requalified: Vec<usize> = Vec::new();
        let mut anchors_changed = false;
        for &i in &self.linked {
            if self.modules[i].qualified_ok {
                continue;
            }
            let flows: Flows = self.modules[i]
                .seen
                .as_ref()
                .map(|s| s.flows().collect())
                .unwrap_or_default();
            let (qualified, names, _) = project.qualify(i, &flows);
            let qualified: Vec<(FnFlow, usize, u64)> = qualified
                .into_iter()
                .map(|(f, s)| {
                    let h = cross::flow_hash(&f);
                    (f, s, h)
                })
                .collect();
            let live = &mut self.modules[i];
            live.qualified_ok = true;
            // The flows kept are stubs (see `stub`): compared by start and hash, as the
            // resolver compares them.
            let same = qualified.len() == live.qualified.len()
                && qualified
                    .iter()
                    .zip(&live.qualified)
                    .all(|((_, s, h), (_, s2, h2))| s == s2 && h == h2);
            if same && names == live.names {
                continue;
            }
            anchors_changed |= qualified.len() != live.qualified.len()
                || qualified
                    .iter()
                    .zip(&live.qualified)
                    .any(|((a, _, _), (b, _, _))| anchor_name(a) != anchor_name(b));
            live.stubbed = false;
            live.qualified = qualified;
            live.names = names;
            requalified.push(i);
        }
        for &i in &old_linked {
            if self.linked.binary_search(&i).is_err() {
                let live = &mut self.modules[i];
                live.qualified = Vec::new();
                live.names = ViewNames::default();
                live.qualified_ok = false;
                live.stubbed = false;
                live.occ = Vec::new();
            }
        }
        stats.requalified = requalified.len();
        self.trim |= requalified.len() > 16;
        let resolve_again = self.linked != old_linked
            || requalified
                .iter()
                .any(|i| self.linked.binary_search(i).is_ok());
        // The views to compute again: the modules newly linked or whose flows changed, and those
        // that read a fact or a start that changed.
        let mut recompute: Vec<usize> = Vec::new();
        if resolve_again {
            if self.linked != old_linked || anchors_changed {
                self.check_anchors(project);
            }
            let old = self.resolver.dataflow().clone();
            let modules = &self.modules;
            self.resolver.update(
                self.linked
                    .iter()
                    .flat_map(|&m| modules[m].qualified.iter().map(|(f, s, h)| (f, *s, *h))),
            );
            stats.resolve = Some(self.resolver.stats());
            // The resolver keeps its own copy of every flow: what is kept here of those it took
            // is what it reads of a flow whose hash did not change.
            for &m in &self.linked {
                let live = &mut self.modules[m];
                if !live.stubbed {
                    live.qualified.iter_mut().for_each(|(f, _, _)| stub(f));
                    live.stubbed = true;
                }
            }
            let diff = cross::changes(&old, self.resolver.dataflow());
            let names: rustc_hash::FxHashSet<&str> = diff
                .functions
                .iter()
                .chain(&diff.globals)
                .map(String::as_str)
                .collect();
            let anchors: rustc_hash::FxHashSet<&Anchor> = diff.starts.iter().collect();
            for &m in &self.linked {
                let live = &self.modules[m];
                if !live.wanted {
                    continue;
                }
                let again = live.view.is_none()
                    || requalified.binary_search(&m).is_ok()
                    || (!names.is_empty()
                        && (live.names.0.iter().chain(&live.names.1))
                            .any(|(_, g)| names.contains(g.as_str())))
                    || (!anchors.is_empty()
                        && live.view.as_ref().is_some_and(|(v, _)| {
                            v.anchor_starts().keys().any(|a| anchors.contains(a))
                        }));
                if again {
                    recompute.push(m);
                }
            }
        }
        // A wanted module linked now whose view was never computed (it was linked while not
        // wanted, and no resolution was needed since).
        for &m in &self.linked {
            if self.wants_view(m) && recompute.binary_search(&m).is_err() {
                recompute.push(m);
            }
        }
        recompute.sort_unstable();
        recompute.dedup();
        stats.views = recompute.len();
        self.compute_views(project, recompute, asking, &mut stats);
        // Unlinked: resolved alone from now on.
        for m in old_linked {
            if self.linked.binary_search(&m).is_err() {
                let live = &mut self.modules[m];
                live.view = None;
                live.version += 1;
                if asking != Some(m) && live.wanted {
                    self.stale.push(m);
                }
            }
        }
        self.stats = stats;
    }

    /// Before an update where the linked modules or the names of a module's flows changed: the
    /// anchor of a stub (its name and occurrence among all the linked flows) must be the one the
    /// resolver took the whole flow under, which holds unless two modules' qualified names meet
    /// (`a.b.c`: method `b.c` of package `a`, function `c` of `a.b`) or module statements bind
    /// no name. A module with a stub whose occurrence moved gives its whole flows again.
    fn check_anchors(&mut self, project: &Project) {
        let mut redo: Vec<usize> = Vec::new();
        let mut occs: Vec<Vec<u32>> = Vec::with_capacity(self.linked.len());
        {
            let mut count: FxHashMap<&str, u32> = FxHashMap::default();
            for &m in &self.linked {
                let live = &self.modules[m];
                let occ: Vec<u32> = live
                    .qualified
                    .iter()
                    .map(|(f, _, _)| {
                        let k = count.entry(anchor_name(f)).or_insert(0);
                        *k += 1;
                        *k - 1
                    })
                    .collect();
                if live.stubbed && occ != live.occ {
                    redo.push(m);
                }
                occs.push(occ);
            }
        }
        let modules = &mut self.modules;
        for (&m, occ) in self.linked.iter().zip(occs) {
            modules[m].occ = occ;
        }
        for m in redo {
            let flows: Flows = modules[m]
                .seen
                .as_ref()
                .map(|s| s.flows().collect())
                .unwrap_or_default();
            let (qualified, _, _) = project.qualify(m, &flows);
            modules[m].qualified = qualified
                .into_iter()
                .map(|(f, s)| {
                    let h = cross::flow_hash(&f);
                    (f, s, h)
                })
                .collect();
            modules[m].stubbed = false;
        }
    }

    /// Module `m` is wanted and linked, and its view is not computed.
    fn wants_view(&self, m: usize) -> bool {
        self.modules
            .get(m)
            .is_some_and(|l| l.wanted && l.view.is_none())
            && self.linked.binary_search(&m).is_ok()
    }

    /// Computes the views of `modules` again from the resolution: a module whose view changed
    /// gets a new version and, unless it is the one `asking`, is stale.
    fn compute_views(
        &mut self,
        project: &Project,
        modules: Vec<usize>,
        asking: Option<usize>,
        stats: &mut LiveStats,
    ) {
        if modules.is_empty() {
            return;
        }
        let df = self.resolver.dataflow().clone();
        for m in modules {
            let (fns, globals) = &self.modules[m].names;
            let view = project.view(&df, m, fns, globals);
            let h = cross::view_hash(&view);
            let live = &mut self.modules[m];
            if live.view.as_ref().is_some_and(|(_, old)| *old == h) {
                continue;
            }
            live.view = Some((Arc::new(view), h));
            live.version += 1;
            stats.views_changed += 1;
            if asking != Some(m) {
                self.stale.push(m);
            }
        }
    }

    /// Module `m`'s document was closed: its view is dropped, and computed again only when an
    /// analysis of it asks.
    pub fn close(&mut self, m: usize) {
        if let Some(live) = self.modules.get_mut(m) {
            live.wanted = false;
            if live.view.take().is_some() {
                live.version += 1;
            }
        }
    }

    /// Whether a synchronisation since the last call took many flows again (see `trim`).
    pub fn take_trim(&mut self) -> bool {
        std::mem::take(&mut self.trim)
    }

    /// The classes of other modules of `project` that module `m` imports (computed once, then
    /// kept current by [`LiveFlow::sync`]).
    pub fn classes(&mut self, project: &Project, m: usize) -> Arc<Vec<ForeignName>> {
        if self.modules.len() <= m {
            return Arc::default();
        }
        self.modules[m]
            .classes
            .get_or_insert_with(|| Arc::new(project.foreign_names(m)))
            .clone()
    }

    /// Brings the state up to `project` and returns the modules whose view changed since the
    /// last call (other than through their own analyses): their documents are out of date.
    pub fn take_stale(&mut self, project: &Project) -> Vec<usize> {
        self.sync(project, None);
        let mut out = std::mem::take(&mut self.stale);
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// The resolver of one module of a live project (the server): its flows as they are now, with
/// the summaries of the other modules of the project.
pub struct LiveResolver {
    pub project: Arc<RwLock<Project>>,
    pub flow: Arc<Mutex<LiveFlow>>,
    pub module: usize,
    /// The module's own resolution while it is linked to no other.
    alone: Mutex<dataflow::Resolver>,
}

impl LiveResolver {
    pub fn new(project: Arc<RwLock<Project>>, flow: Arc<Mutex<LiveFlow>>, module: usize) -> Self {
        LiveResolver {
            project,
            flow,
            module,
            alone: Mutex::default(),
        }
    }

    fn resolve_alone(&self, flows: &[(&FnFlow, usize)]) -> Dataflow {
        let mut alone = self.alone.lock().unwrap_or_else(|e| {
            let mut g = e.into_inner();
            *g = dataflow::Resolver::default();
            g
        });
        alone.update(flows.iter().map(|&(f, s)| (f, s, cross::flow_hash(f))));
        alone.dataflow().as_ref().clone()
    }

    /// The module's flows become its summary's in the project (its imports are the last
    /// analysis's until `lsp/workspace.rs::after_analysis` sets the whole summary) and the live
    /// state is brought up to the project (`None`: a lock is poisoned).
    fn bring_up(&self, flows: &[(&FnFlow, usize)]) -> Option<std::sync::MutexGuard<'_, LiveFlow>> {
        let m = self.module;
        let same = {
            let p = self.project.read().ok()?;
            let module = p.modules.get(m)?;
            module.summary.as_ref().is_some_and(|s| {
                s.flow_count() == flows.len()
                    && s.flows()
                        .zip(flows)
                        .all(|((a, sa), (b, sb))| sa == *sb && a == *b)
            })
        };
        let mut live = self.flow.lock().ok()?;
        if !same {
            let mut p = self.project.write().ok()?;
            let old = p.modules[m].summary.clone();
            let mut summary = ModuleSummary::from_parts(
                old.as_ref().map(|s| s.imports.clone()).unwrap_or_default(),
                old.as_ref()
                    .map(|s| s.star_imports.clone())
                    .unwrap_or_default(),
                flows.iter().map(|&(f, s)| (f.clone(), s)).collect(),
            );
            if let Some(old) = old {
                summary.keep_facts_of(&old);
            }
            p.modules[m].summary = Some(Arc::new(summary));
        }
        let p = self.project.read().ok()?;
        live.sync(&p, Some(m));
        Some(live)
    }

    /// [`Self::bring_up`] with the analyzer's items: in proportion to the items, not to their
    /// flows (the unchanged ones are the summary's, by address).
    fn bring_up_items(
        &self,
        items: &[(&Arc<Vec<FnFlow>>, usize)],
    ) -> Option<std::sync::MutexGuard<'_, LiveFlow>> {
        let m = self.module;
        let same = {
            let p = self.project.read().ok()?;
            let module = p.modules.get(m)?;
            module.summary.as_ref().is_some_and(|s| s.same_items(items))
        };
        let mut live = self.flow.lock().ok()?;
        if !same {
            let mut p = self.project.write().ok()?;
            let summary = match &p.modules[m].summary {
                Some(old) => old.with_items(items),
                None => {
                    ModuleSummary::from_parts(Vec::new(), Vec::new(), Vec::new()).with_items(items)
                }
            };
            p.modules[m].summary = Some(Arc::new(summary));
        }
        let p = self.project.read().ok()?;
        live.sync(&p, Some(m));
        Some(live)
    }
}

impl FlowResolver for LiveResolver {
    /// The module gets its view: from the resolution of the linked modules, or its own while it
    /// is linked to none.
    fn resolve(&self, flows: &[(&FnFlow, usize)]) -> Dataflow {
        let Some(live) = self.bring_up(flows) else {
            return self.resolve_alone(flows);
        };
        match live.view(self.module) {
            Some(v) => (**v).clone(),
            None => {
                drop(live);
                self.resolve_alone(flows)
            }
        }
    }

    /// The module is linked to no other with these flows: the engine then resolves it with its
    /// own incremental resolver (issue #14), asking again only when a flow or the signature
    /// changed.
    fn alone(&self, flows: &[(&FnFlow, usize)]) -> bool {
        self.bring_up(flows)
            .is_none_or(|live| live.view(self.module).is_none())
    }

    /// [`Self::resolve`], the items compared with the summary's by address.
    fn resolve_items(&self, items: &[(&Arc<Vec<FnFlow>>, usize)]) -> Dataflow {
        let flat = || -> Vec<(&FnFlow, usize)> {
            items
                .iter()
                .flat_map(|&(fs, s)| fs.iter().map(move |f| (f, s)))
                .collect()
        };
        let Some(live) = self.bring_up_items(items) else {
            return self.resolve_alone(&flat());
        };
        match live.view(self.module) {
            Some(v) => (**v).clone(),
            None => {
                drop(live);
                self.resolve_alone(&flat())
            }
        }
    }

    /// [`Self::alone`], the items compared with the summary's by address and shared with the
    /// new summary (not compared and copied flow by flow: issue #14, a keystroke in a big module).
    fn alone_items(&self, items: &[(&Arc<Vec<FnFlow>>, usize)]) -> bool {
        self.bring_up_items(items)
            .is_none_or(|live| live.view(self.module).is_none())
    }

    /// The version of the module's view in the live state (brought up to the project first):
    /// it changes whenever the other modules change what the module sees.
    fn signature(&self) -> u64 {
        let (Ok(mut live), Ok(p)) = (self.flow.lock(), self.project.read()) else {
            return 0;
        };
        live.sync(&p, Some(self.module));
        live.version(self.module)
    }

    /// The classes of other modules the module imports, as the project knows them now.
    fn imported(&self) -> Arc<Vec<ForeignName>> {
        let (Ok(mut live), Ok(p)) = (self.flow.lock(), self.project.read()) else {
            return Arc::default();
        };
        live.sync_classes(&p, self.module);
        live.classes(&p, self.module)
    }
}
