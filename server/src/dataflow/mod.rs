//! Data flow of key material: from where an API key enters (a FastAPI header parameter, a request
//! header, a Pydantic body or settings object with a secret field, the environment) to where it
//! leaks (DynamoDB, logs, responses, outbound requests).
//!
//! ## Design
//! * **Local flow** ([`local::analyze`]): one walk over one function body, in statement order and
//!   linear in its size, computes a [`FnFlow`]: the sources it creates, the sinks it reaches, its
//!   calls to functions of the module and what its `return` carries. A value carries a [`Taint`]:
//!   a small set of symbolic [`Label`]s — a local source, a parameter, the result of a call to a
//!   module function, a module-level global — each with a projection [`Mode`] (the value itself, a
//!   secret-named field of it, another field of it), so `reg.name` of a body with an `api_key`
//!   field carries nothing while `reg.api_key` is a key, across calls too.
//! * **Summaries, cached per item**: the flows of an item are cached with it by the analyzer,
//!   keyed on the item text and the fingerprint of the base model (imports, bindings, classes,
//!   functions) — everything the local walk reads.
//! * **Resolution** ([`resolve`]): a global closure over the call graph turns the symbolic labels
//!   into module facts ([`Dataflow`], part of the [`Model`] and of its fingerprint):
//!   per function, what it returns (parameters, projected, or concrete sources — parameter → return),
//!   which sinks each parameter reaches here or in callees (parameter → sink), which concrete
//!   sources reach each parameter from its callers, with their path (source, then each call site),
//!   and the path to a DynamoDB scan. Each is computed by a worklist: a function is processed again
//!   only when a fact it reads changed (a callee's return or sinks, its own incoming parameters).
//!   The sets only grow and are capped ([`MAX_CONC`] sources per parameter, one path each, paths of
//!   at most [`MAX_PATH`] steps), so every worklist empties — recursion and mutual recursion
//!   included; a work budget proportional to the module is a second guarantee.
//! * **Rules** re-run the local flow of the item they check (once for all rules: see
//!   [`report::flows`]) and read the resolved facts to concretise the labels at each sink.
//!
//! An edit inside one function re-checks only that item unless a resolved fact changed. Paths
//! hold absolute byte ranges, so the model fingerprint changes when a place on a cross-function path
//! moves (an edit above it): every item is then checked again, and cached findings never carry
//! stale related places.
//!
//! Followed: calls to module functions, `self.method(...)`, and methods of module classes called on
//! an instance bound locally or at module level (`store = KeyStore(t)`; `store.save(key)`). Not
//! followed: mutation of a caller's dict by a callee, functions of other modules, nested function
//! bodies, methods inherited from classes of other modules.

pub mod cross;
pub mod local;

use crate::syntax::NodeExt;
use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use std::ops::Range;

use tree_sitter::Node;

use crate::document::SourceText;
use crate::model::Model;

/// How a value derives from a label's base.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    /// The value itself (or a string/container built from it).
    Whole,
    /// A secret-named field of it (`reg.api_key`, `headers["X-API-Key"]`).
    Secret,
    /// Another field of it (`reg.name`, `item["id"]`).
    Other,
    /// A secret-named field that every model class of the module declaring it masks
    /// (`github_token: SecretStr`): masked when its holder is a model, key material otherwise.
    MaskedField,
    /// It, or a secret-named field of it, unmasked: `.get_secret_value()` of a pydantic
    /// `SecretStr` (`settings.api_key.get_secret_value()`).
    Unmask,
}

impl Mode {
    /// Projecting a value derived by `inner` with `outer`.
    pub fn compose(outer: Mode, inner: Mode) -> Mode {
        match (outer, inner) {
            (outer, Mode::Whole) => outer,
            // A secret field, unmasked.
            (Mode::Unmask, Mode::Secret | Mode::MaskedField) => Mode::Unmask,
            (_, inner) => inner,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Base {
    /// Index into [`FnFlow::sources`].
    Source(u16),
    /// Parameter index.
    Param(u16),
    /// Index into [`FnFlow::calls`]: the result of a call to a module function.
    Call(u16),
    /// Index into [`FnFlow::globals`]: a module-level name read here.
    Global(u16),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label {
    pub base: Base,
    pub mode: Mode,
}

/// A sorted set of labels.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Taint(pub Vec<Label>);

/// At most this many labels per value: beyond it, extra labels are dropped (a key is still found
/// through the first ones).
const MAX_LABELS: usize = 32;

impl Taint {
    pub fn one(base: Base) -> Taint {
        Taint(vec![Label {
            base,
            mode: Mode::Whole,
        }])
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn union(&mut self, other: &Taint) {
        for l in &other.0 {
            if let Err(at) = self.0.binary_search(l) {
                if self.0.len() < MAX_LABELS {
                    self.0.insert(at, *l);
                }
            }
        }
    }
    pub fn project(&self, mode: Mode) -> Taint {
        let mut out = Taint::default();
        for l in &self.0 {
            out.union(&Taint(vec![Label {
                base: l.base,
                mode: Mode::compose(mode, l.mode),
            }]));
        }
        out
    }
}

/// What kind of key-bearing value a source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Key material itself.
    Key,
    /// All request headers (holds `Authorization`, `X-API-Key`).
    Headers,
    /// The whole request object.
    Request,
    /// A request body (JSON, form, query): only its secret-named fields are keys.
    Body,
    /// A Pydantic model (or its dump) with a secret-named field.
    Model,
    /// A whole item read back from DynamoDB.
    Stored,
    /// Key material masked by its type (a pydantic `SecretStr`): `str()`, `repr()`, logs and dumps
    /// show `**********`; not key material until `.get_secret_value()` unmasks it.
    Masked,
    /// A Pydantic model (or settings) whose secret-named fields are all masked (`SecretStr`): its
    /// secret fields are [`Kind::Masked`].
    MaskedModel,
    /// Key material the service mints itself (`api_key = secrets.token_urlsafe(32)`): stored raw
    /// or logged it is exposed, but handing it to its owner once, on creation, is the point.
    Minted,
    /// A value known to be key material by its name only (a parameter `api_key`, `self.secret`,
    /// `current_app.config["API_KEY"]`): reported like a key where no concrete source reaches
    /// the same place.
    Named,
}

impl Kind {
    /// Masked by its type (`SecretStr`): shown as `**********`, not reported.
    pub fn is_masked(self) -> bool {
        matches!(self, Kind::Masked | Kind::MaskedModel)
    }

    /// The kind of `self` projected by `mode`, or `None` when the projection holds no key.
    pub fn apply(self, mode: Mode) -> Option<Kind> {
        match (self, mode) {
            (k, Mode::Whole) => Some(k),
            (Kind::Key, _) => Some(Kind::Key),
            (Kind::Minted, _) => Some(Kind::Minted),
            (Kind::Named, _) => Some(Kind::Named),
            (Kind::Masked | Kind::MaskedModel, Mode::Unmask) => Some(Kind::Key),
            (Kind::Masked, _) => None,
            (Kind::MaskedModel, Mode::Secret) => Some(Kind::Masked),
            (Kind::Model | Kind::MaskedModel, Mode::MaskedField) => Some(Kind::Masked),
            (_, Mode::Secret | Mode::Unmask | Mode::MaskedField) => Some(Kind::Key),
            (_, Mode::Other) => None,
        }
    }
}

/// Where key material enters a function.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SourceFact {
    /// Relative to the item start.
    pub range: Range<usize>,
    pub kind: Kind,
    /// "API key enters here (header `X-API-Key`)".
    pub message: String,
    /// The model class of a [`Kind::Model`] source.
    pub class: Option<String>,
    /// Index of the parameter this source is (header parameters), for KL206.
    pub param: Option<u16>,
}

/// A call to a function of the module.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CallFact {
    /// `save_key`, or `Class.method` for `self.method(...)`.
    pub callee: String,
    pub range: Range<usize>,
    pub args: Vec<Taint>,
    pub kwargs: Vec<(String, Taint)>,
    /// The call is `self.m(...)`: the callee's first parameter is `self`.
    pub bound: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SinkKind {
    /// Stored in DynamoDB.
    Persist,
    /// Logged or printed.
    Log,
    /// Returned by a route handler.
    Return,
    /// Put into an `HTTPException` detail.
    Detail,
    /// Sent with an outbound request.
    Forward,
    /// Used as a DynamoDB lookup key.
    Lookup,
    /// Mentioned (even hashed) in the arguments of a DynamoDB write or lookup or of an outbound
    /// request: what KL206 asks to be validated first.
    Use,
}

impl SinkKind {
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SinkFact {
    pub kind: SinkKind,
    /// The call or return statement (relative).
    pub range: Range<usize>,
    /// The argument / returned expression whose value is tainted (relative).
    pub value: Range<usize>,
    pub taint: Taint,
    /// For [`SinkKind::Forward`]: the URL is a constant of the code.
    pub url_const: bool,
    /// Tainted parts inside the value (dict entry values, f-string interpolations), relative.
    pub parts: Vec<(Range<usize>, Taint)>,
}

/// The flow of one function (or of a module-level statement: `name` empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FnFlow {
    /// `save_key`, `Class.method`; empty for module-level statements.
    pub name: String,
    /// Relative range of the definition's name.
    pub name_range: Range<usize>,
    pub params: Vec<String>,
    pub is_route: bool,
    /// A route or exception handler: what it returns goes to the client.
    pub responds: bool,
    pub sources: Vec<SourceFact>,
    pub calls: Vec<CallFact>,
    pub sinks: Vec<SinkFact>,
    pub ret: Taint,
    pub globals: Vec<String>,
    /// DynamoDB scans (relative ranges), and whether the scan looks for an API key (its filter
    /// names a key attribute: `FilterExpression=Attr("api_key").eq(k)`, `User.api_key == k`).
    pub scans: Vec<(Range<usize>, bool)>,
    /// Module-level names bound here (module statements only) and what they carry.
    pub defines: Vec<(String, Taint)>,
    /// (what a validated name carried, relative offset) where a value is validated: an `if` that
    /// rejects, an assertion, a `validate_*` call, `Header(min_length=…)`.
    pub validations: Vec<(Taint, usize)>,
    /// The function raises (an `HTTPException` or other): a validating dependency.
    pub raises: bool,
    /// The route declares `dependencies=[...]` (a guard that may validate the key).
    pub guarded: bool,
    /// The handler declares a `response_model` (or a return annotation) that filters its output.
    pub filtered_output: bool,
}

/// One step of a path, absolute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Step {
    pub range: Range<usize>,
    pub message: String,
}

/// Concrete key material reaching a point, with the path it took.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Conc {
    pub kind: Kind,
    pub class: Option<String>,
    /// The source first, then every call site on the way.
    pub path: Vec<Step>,
}

impl Conc {
    fn key(&self) -> (Kind, usize) {
        (self.kind, self.path.first().map_or(0, |s| s.range.start))
    }
}

/// What a function's return value is, in terms of its parameters or concrete sources.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RetSym {
    Param(u16, Mode),
    Conc(Conc),
}

/// Resolved facts of one function.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FnFacts {
    pub params: Vec<String>,
    pub ret: Vec<RetSym>,
    /// Key material reaching each parameter from the callers of the module.
    pub param_in: Vec<Vec<Conc>>,
    /// Sinks (bits of [`SinkKind`]) each parameter reaches, here or in callees.
    pub param_sinks: Vec<u8>,
    /// Path to a DynamoDB scan reachable from this function.
    pub scan: Option<Vec<Step>>,
    /// The function raises: as a dependency, it validates.
    pub raises: bool,
}

/// The module-wide data-flow facts (part of the model).
///
/// Read through [`Dataflow::function`] and [`Dataflow::global`]: like the module bindings, every
/// read is recorded while [`record_binding_reads`](super::record_binding_reads) runs, so that the
/// analyzer re-checks an item only when the facts it read changed (typing in one function
/// changes that function's facts, not every item's).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Dataflow {
    functions: BTreeMap<String, FnFacts>,
    /// Module-level names bound to key material (`API_KEY = os.environ["API_KEY"]`).
    globals: BTreeMap<String, Vec<Conc>>,
    /// The other files that steps of paths lie in (see [`cross`]); empty for one file.
    files: Vec<std::sync::Arc<str>>,
}

impl Dataflow {
    /// The resolved facts of the function `name` (recorded as a read).
    pub fn function(&self, name: &str) -> Option<&FnFacts> {
        super::model::note_flow_read(false, name);
        self.functions.get(name)
    }

    /// The key material bound to the module-level name `name` (recorded as a read).
    pub fn global(&self, name: &str) -> Option<&Vec<Conc>> {
        super::model::note_flow_read(true, name);
        self.globals.get(name)
    }

    /// Every function's facts (recorded as a read of all of them).
    pub fn functions(&self) -> impl Iterator<Item = (&String, &FnFacts)> {
        super::model::note_flow_all();
        self.functions.iter()
    }

    /// A hash of the facts of a function (`global` false) or global `name`, or of their absence;
    /// not recorded as a read.
    pub fn hash_of(&self, global: bool, name: &str) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = rustc_hash::FxHasher::default();
        if global {
            self.globals.get(name).hash(&mut h);
        } else {
            self.functions.get(name).hash(&mut h);
        }
        h.finish()
    }
}

impl FnFlow {
    /// Hashes everything of the flow but its byte ranges. [`resolve`] reads ranges only to put
    /// them into paths and scans (and to tell paths apart): when its result holds no range, flows
    /// that differ only in ranges resolve to the same result.
    pub fn hash_without_ranges<H: std::hash::Hasher>(&self, h: &mut H) {
        use std::hash::Hash;
        self.name.hash(h);
        self.params.hash(h);
        (self.is_route, self.responds, self.raises, self.guarded).hash(h);
        self.filtered_output.hash(h);
        for s in &self.sources {
            (s.kind, &s.message, &s.class, s.param).hash(h);
        }
        self.sources.len().hash(h);
        for c in &self.calls {
            (&c.callee, &c.args, &c.kwargs, c.bound).hash(h);
        }
        self.calls.len().hash(h);
        for s in &self.sinks {
            (s.kind, &s.taint, s.url_const).hash(h);
            for (_, t) in &s.parts {
                t.hash(h);
            }
            s.parts.len().hash(h);
        }
        self.sinks.len().hash(h);
        self.ret.hash(h);
        self.globals.hash(h);
        self.scans.len().hash(h);
        for (_, key) in &self.scans {
            key.hash(h);
        }
        self.defines.hash(h);
        for (t, _) in &self.validations {
            t.hash(h);
        }
        self.validations.len().hash(h);
    }
}

impl Dataflow {
    /// Whether the facts hold a byte range (a path or a scan): only then do they depend on where
    /// the items of the module start.
    pub fn has_ranges(&self) -> bool {
        !self.globals.values().all(Vec::is_empty)
            || self.functions.values().any(|f| {
                f.scan.is_some()
                    || f.ret.iter().any(|r| matches!(r, RetSym::Conc(_)))
                    || f.param_in.iter().any(|p| !p.is_empty())
            })
    }
}

/// The message of a path's last step when the scan looks for an API key.
pub const SCAN_FOR_KEY: &str = "DynamoDB scan here, looking for an API key";

/// Distinct sources kept per parameter or return value (one path each is enough to report).
pub const MAX_CONC: usize = 4;
/// Steps kept per path (a source and up to eleven call sites).
pub const MAX_PATH: usize = 12;

fn push_conc(set: &mut Vec<Conc>, c: Conc) -> bool {
    if set.len() >= MAX_CONC || set.iter().any(|x| x.key() == c.key()) {
        return false;
    }
    set.push(c);
    true
}

fn abs(r: &Range<usize>, start: usize) -> Range<usize> {
    r.start + start..r.end + start
}

impl Dataflow {
    /// The concrete key material of `label` in function `flow` (whose item starts at `start`).
    pub fn concretize(&self, flow: &FnFlow, start: usize, taint: &Taint) -> Vec<Conc> {
        let mut out = Vec::new();
        for l in &taint.0 {
            for c in self.conc_label(flow, start, *l, 0) {
                push_conc(&mut out, c);
            }
        }
        out
    }

    fn conc_label(&self, flow: &FnFlow, start: usize, l: Label, depth: usize) -> Vec<Conc> {
        if depth > 8 {
            return Vec::new();
        }
        let mut out = Vec::new();
        match l.base {
            Base::Source(i) => {
                if let Some(s) = flow.sources.get(i as usize) {
                    if let Some(kind) = s.kind.apply(l.mode) {
                        out.push(Conc {
                            kind,
                            class: s.class.clone(),
                            path: vec![Step {
                                range: abs(&s.range, start),
                                message: s.message.clone(),
                            }],
                        });
                    }
                }
            }
            Base::Param(i) => {
                if let Some(f) = self.function(&flow.name) {
                    if let Some(ins) = f.param_in.get(i as usize) {
                        for c in ins {
                            if let Some(kind) = c.kind.apply(l.mode) {
                                out.push(Conc { kind, ..c.clone() });
                            }
                        }
                    }
                }
            }
            Base::Global(i) => {
                if let Some(cs) = flow.globals.get(i as usize).and_then(|g| self.global(g)) {
                    for c in cs {
                        if let Some(kind) = c.kind.apply(l.mode) {
                            out.push(Conc { kind, ..c.clone() });
                        }
                    }
                }
            }
            Base::Call(k) => {
                let Some(call) = flow.calls.get(k as usize) else {
                    return out;
                };
                let Some(callee) = self.function(&call.callee) else {
                    return out;
                };
                for sym in &callee.ret {
                    match sym {
                        RetSym::Conc(c) => {
                            if let Some(kind) = c.kind.apply(l.mode) {
                                let mut c = Conc { kind, ..c.clone() };
                                c.path.push(Step {
                                    range: abs(&call.range, start),
                                    message: format!("returned by `{}` here", call.callee),
                                });
                                out.push(c);
                            }
                        }
                        RetSym::Param(j, m) => {
                            if let Some(arg) = arg_for(call, &callee.params, *j) {
                                for al in &arg.0 {
                                    let mode = Mode::compose(l.mode, Mode::compose(*m, al.mode));
                                    out.extend(self.conc_label(
                                        flow,
                                        start,
                                        Label {
                                            base: al.base,
                                            mode,
                                        },
                                        depth + 1,
                                    ));
                                }
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// The sink bits a label reaches through the parameters it is passed to (for KL206).
    pub fn call_sinks(&self, call: &CallFact, label_matches: impl Fn(&Taint) -> bool) -> u8 {
        let Some(callee) = self.function(&call.callee) else {
            return 0;
        };
        let mut bits = 0;
        for (j, p) in callee.params.iter().enumerate() {
            let _ = p;
            if let Some(arg) = arg_for(call, &callee.params, j as u16) {
                if label_matches(arg) {
                    bits |= callee.param_sinks.get(j).copied().unwrap_or(0);
                }
            }
        }
        bits
    }
}

/// The taint of the argument bound to parameter `j` of the callee at `call`.
pub fn arg_for<'c>(call: &'c CallFact, params: &[String], j: u16) -> Option<&'c Taint> {
    let j = j as usize;
    let name = params.get(j)?;
    if let Some((_, t)) = call.kwargs.iter().find(|(n, _)| n == name) {
        return Some(t);
    }
    let pos = if call.bound { j.checked_sub(1)? } else { j };
    call.args.get(pos)
}

/// A FIFO of function indices, each queued at most once at a time.
struct Worklist {
    queue: std::collections::VecDeque<usize>,
    queued: Vec<bool>,
}

impl Worklist {
    fn full(n: usize) -> Self {
        Worklist {
            queue: (0..n).collect(),
            queued: vec![true; n],
        }
    }
    fn push(&mut self, i: usize) {
        if !self.queued[i] {
            self.queued[i] = true;
            self.queue.push_back(i);
        }
    }
    fn pop(&mut self) -> Option<usize> {
        let i = self.queue.pop_front()?;
        self.queued[i] = false;
        Some(i)
    }
}

/// Resolves the module's flows (each with the start of its item) into [`Dataflow`].
pub fn resolve<'f>(flows: impl IntoIterator<Item = (&'f FnFlow, usize)>) -> Dataflow {
    let flows: Vec<(&FnFlow, usize)> = flows.into_iter().collect();
    let mut df = Dataflow::default();
    // Globals from module-level statements (sources only: a global of a global is not followed).
    for (flow, start) in &flows {
        if !flow.name.is_empty() {
            continue;
        }
        for (name, taint) in &flow.defines {
            let concs = df.concretize(flow, *start, taint);
            if concs.is_empty() {
                df.globals.remove(name);
            } else {
                df.globals.insert(name.clone(), concs);
            }
        }
    }
    for (flow, _) in &flows {
        if flow.name.is_empty() {
            continue;
        }
        df.functions.insert(
            flow.name.clone(),
            FnFacts {
                params: flow.params.clone(),
                param_in: vec![Vec::new(); flow.params.len()],
                param_sinks: vec![0; flow.params.len()],
                raises: flow.raises,
                ..FnFacts::default()
            },
        );
    }
    let funcs: Vec<(&FnFlow, usize)> = flows
        .iter()
        .filter(|(f, _)| !f.name.is_empty())
        .copied()
        .collect();
    // Who calls whom, for the worklists: a function is processed again only when a fact it reads
    // (a callee's return or sinks, or its own incoming parameters) changed.
    let index: FxHashMap<&str, usize> = funcs
        .iter()
        .enumerate()
        .map(|(i, (f, _))| (f.name.as_str(), i))
        .collect();
    let mut callers: Vec<Vec<usize>> = vec![Vec::new(); funcs.len()];
    for (i, (f, _)) in funcs.iter().enumerate() {
        for call in &f.calls {
            if let Some(&j) = index.get(call.callee.as_str()) {
                if !callers[j].contains(&i) {
                    callers[j].push(i);
                }
            }
        }
    }
    // Every set below only grows and is capped, so each worklist empties; the budget is a second
    // guarantee of termination whatever the module looks like.
    let budget = funcs.len() * 64 + 1024;

    // 1. Return values (bottom-up).
    let mut work = Worklist::full(funcs.len());
    let mut spent = 0;
    while let Some(i) = work.pop() {
        spent += 1;
        if spent > budget {
            break;
        }
        let (flow, start) = funcs[i];
        let mut ret: Vec<RetSym> = Vec::new();
        for l in &flow.ret.0 {
            df.ret_syms(flow, start, *l, 0, &mut ret);
        }
        let entry = df.functions.get_mut(&flow.name).expect("inserted above");
        if entry.ret != ret {
            entry.ret = ret;
            for &c in &callers[i] {
                work.push(c);
            }
        }
    }

    // 2. Parameter → sink (bottom-up) and scans.
    let mut work = Worklist::full(funcs.len());
    let mut spent = 0;
    while let Some(i) = work.pop() {
        spent += 1;
        if spent > budget {
            break;
        }
        let (flow, start) = funcs[i];
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
            for (p, b) in bits.iter_mut().enumerate() {
                *b |= df.call_sinks(call, |t| {
                    t.0.iter().any(|l| l.base == Base::Param(p as u16))
                });
            }
        }
        let first = flow
            .scans
            .iter()
            .find(|(_, key)| *key)
            .or(flow.scans.first());
        let mut scan = first.map(|(r, key)| {
            vec![Step {
                range: abs(r, start),
                message: if *key {
                    SCAN_FOR_KEY.into()
                } else {
                    "DynamoDB scan here".into()
                },
            }]
        });
        if scan.is_none() {
            for call in &flow.calls {
                if let Some(p) = df.functions.get(&call.callee).and_then(|f| f.scan.clone()) {
                    let mut path = vec![Step {
                        range: abs(&call.range, start),
                        message: format!("calls `{}` here", call.callee),
                    }];
                    path.extend(p);
                    if path.len() <= MAX_PATH {
                        scan = Some(path);
                        break;
                    }
                }
            }
        }
        let entry = df.functions.get_mut(&flow.name).expect("inserted above");
        let mut changed = false;
        if entry.param_sinks != bits {
            entry.param_sinks = bits;
            changed = true;
        }
        if entry.scan.is_none() && scan.is_some() {
            entry.scan = scan;
            changed = true;
        }
        if changed {
            for &c in &callers[i] {
                work.push(c);
            }
        }
    }

    // 3. Key material reaching parameters (top-down), with paths.
    let mut work = Worklist::full(funcs.len());
    let mut spent = 0;
    while let Some(i) = work.pop() {
        spent += 1;
        if spent > budget {
            break;
        }
        let (flow, start) = funcs[i];
        for call in &flow.calls {
            let Some(callee) = df.functions.get(&call.callee) else {
                continue;
            };
            let params = callee.params.clone();
            let mut adds: Vec<(usize, Conc)> = Vec::new();
            for j in 0..params.len() {
                if let Some(arg) = arg_for(call, &params, j as u16) {
                    for mut c in df.concretize(flow, start, arg) {
                        if c.path.len() >= MAX_PATH {
                            continue;
                        }
                        c.path.push(Step {
                            range: abs(&call.range, start),
                            message: format!("passed to `{}` here", call.callee),
                        });
                        adds.push((j, c));
                    }
                }
            }
            let entry = df.functions.get_mut(&call.callee).expect("looked up above");
            let mut changed = false;
            for (j, c) in adds {
                if let Some(set) = entry.param_in.get_mut(j) {
                    changed |= push_conc(set, c);
                }
            }
            if changed {
                if let Some(&j) = index.get(call.callee.as_str()) {
                    work.push(j);
                }
            }
        }
    }
    df
}

impl Dataflow {
    fn ret_syms(&self, flow: &FnFlow, start: usize, l: Label, depth: usize, out: &mut Vec<RetSym>) {
        if depth > 8 || out.len() >= MAX_CONC * 2 {
            return;
        }
        // One entry per parameter projection and per source (the first path found).
        let push = |out: &mut Vec<RetSym>, s: RetSym| {
            let dup = out.iter().any(|o| match (o, &s) {
                (RetSym::Conc(a), RetSym::Conc(b)) => a.key() == b.key(),
                (a, b) => a == b,
            });
            if !dup {
                out.push(s);
            }
        };
        match l.base {
            Base::Param(i) => push(out, RetSym::Param(i, l.mode)),
            Base::Source(_) | Base::Global(_) => {
                for c in self.conc_label(flow, start, l, depth) {
                    push(out, RetSym::Conc(c));
                }
            }
            Base::Call(k) => {
                let Some(call) = flow.calls.get(k as usize) else {
                    return;
                };
                let Some(callee) = self.functions.get(&call.callee) else {
                    return;
                };
                for sym in callee.ret.clone() {
                    match sym {
                        RetSym::Conc(c) => {
                            if let Some(kind) = c.kind.apply(l.mode) {
                                let mut c = Conc { kind, ..c };
                                if c.path.len() < MAX_PATH {
                                    c.path.push(Step {
                                        range: abs(&call.range, start),
                                        message: format!("returned by `{}` here", call.callee),
                                    });
                                }
                                push(out, RetSym::Conc(c));
                            }
                        }
                        RetSym::Param(j, m) => {
                            if let Some(arg) = arg_for(call, &callee.params, j) {
                                for al in &arg.0 {
                                    let mode = Mode::compose(l.mode, Mode::compose(m, al.mode));
                                    self.ret_syms(
                                        flow,
                                        start,
                                        Label {
                                            base: al.base,
                                            mode,
                                        },
                                        depth + 1,
                                        out,
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The flows of one item: its function (or method), or the module-level statement itself.
pub fn item_flows(node: Node, classes: &[String], model: &Model, src: SourceText) -> Vec<FnFlow> {
    let def = super::syntax::definition(node);
    if def.kind_str() == "function_definition" {
        vec![local::analyze(
            def,
            node.start_byte(),
            classes.last(),
            model,
            src,
        )]
    } else if def.kind_str() == "class_definition" {
        Vec::new()
    } else if classes.is_empty() {
        vec![local::analyze_module_statement(node, model, src)]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests;
