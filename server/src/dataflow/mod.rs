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
//! * **Resolution** ([`Resolver`], [`resolve`] from scratch): a global closure over the call graph turns the symbolic labels
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
//! are relative to the items they pass through ([`Anchor`]), so an edit above a function leaves
//! its facts alone; [`Resolver`] keeps the resolution between analyses and recomputes only what
//! depends on the summaries that changed (see `resolve.rs`), and rules get document ranges through
//! [`Dataflow::concretize`], which records which items' starts a finding's related places read.
//!
//! Followed: calls to module functions, `self.method(...)`, and methods of module classes (keyed
//! `Class.method`) called on an object whose class is known: bound locally or at module level
//! (`store = KeyStore(t)`, `store = get_store()` with a factory that returns or yields one), a
//! parameter annotated with the class (`repo: Repo`, `Annotated[Repo, Depends(get_repo)]`) or
//! given by `Depends(get_repo)`/`Depends(Repo)`, or an attribute set in a method
//! (`self.repo = Repo()`); attributes set to a call in a method are handles in every method of
//! the class (`self._table = dynamodb.Table(name)`); a dependency gives what it returns or yields.
//! Functions, dependencies, methods of classes and module-level names of other modules are named
//! with `@` and their import path; only the project model resolves them (`project/flow.rs`). Not
//! followed: mutation of a caller's dict by a callee, nested function bodies, methods inherited
//! from classes of other modules.

pub mod cross;
pub mod local;
mod resolve;

pub use resolve::{ResolveStats, Resolver};

use crate::syntax::NodeExt;
use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use std::ops::Range;
use std::sync::Arc;

use tree_sitter::Node;

use crate::document::SourceText;
use crate::model::{Model, ReadRecorder};

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

/// The identity of the item a stored range is relative to: the function's name (`Class.method`),
/// or for a module-level statement the first name it binds, then `#` and its occurrence among the
/// module's flows of that name (`save_key#0`). It does not change when the item moves, nor when its
/// text changes, so resolved facts survive edits above them. (Names could later be qualified by
/// module.)
pub type Anchor = Arc<str>;

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Step {
    /// The item `range` is relative to; `None`: `range` is absolute. Stored facts hold anchored
    /// steps only; what [`Dataflow::concretize`] and [`Dataflow::scan_path`] return is absolute.
    pub anchor: Option<Anchor>,
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
    /// The same source (kind and place of the first step): one path per source is kept.
    fn same_source(&self, other: &Conc) -> bool {
        self.kind == other.kind
            && match (self.path.first(), other.path.first()) {
                (Some(a), Some(b)) => a.range.start == b.range.start && a.anchor == b.anchor,
                (None, None) => true,
                (Some(a), None) | (None, Some(a)) => a.range.start == 0 && a.anchor.is_none(),
            }
    }
}

/// What a function's return value is, in terms of its parameters or concrete sources.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RetSym {
    Param(u16, Mode),
    Conc(Conc),
}

/// Resolved facts of one function. Their paths are anchored ([`Step::anchor`]).
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

/// A flow-read key ([`ReadRecorder`]'s `flow` with `global` true) that stands for the
/// start of an anchored item: `\u{1}` then the anchor.
const ANCHOR_READ: char = '\u{1}';

/// The module-wide data-flow facts (part of the model), built by [`Resolver`].
///
/// Read through a [`FlowView`] ([`Model::dataflow`]): like the module bindings, every read is
/// noted in the model's [`ReadRecorder`], so that the analyzer re-checks an item only when the
/// facts it read changed (typing in one function changes that function's facts, not every
/// item's). The facts hold no absolute offset: paths are relative to the items they pass through
/// ([`Anchor`]); turning them into document offsets ([`FlowView::concretize`]) records a read of
/// those items' starts, so only the findings that show a place in an item that moved are computed
/// again.
#[derive(Debug, Clone, Default)]
pub struct Dataflow {
    /// By name: the names are shared (`Arc<str>`) so that a copy of the map (the resolver
    /// publishes into a copy while the last analysis still holds the map) allocates no name.
    functions: Arc<BTreeMap<Arc<str>, Arc<FnFacts>>>,
    /// Module-level names bound to key material (`API_KEY = os.environ["API_KEY"]`).
    globals: Arc<BTreeMap<String, Vec<Conc>>>,
    /// Hash of each function's and each global's facts ([`Dataflow::hash_of`]).
    fn_hashes: Arc<FxHashMap<Arc<str>, u64>>,
    global_hashes: Arc<FxHashMap<String, u64>>,
    /// The start of every item that a stored path passes through.
    starts: Arc<FxHashMap<Anchor, usize>>,
    /// Order-independent hashes of the facts and of `starts`.
    facts_hash: u64,
    starts_hash: u64,
    /// The other files that steps of paths lie in (see [`cross`]); empty for one file.
    files: Arc<Vec<Arc<str>>>,
    /// Names the module imports from other modules of the project, with what the project model
    /// knows of them (see [`cross::FlowResolver::imported`]); empty for one file.
    imported: Arc<Vec<crate::model::ForeignName>>,
    /// A view that holds no resolution: the module is resolved alone (it only reads
    /// [`Self::imported`] of the project).
    alone: bool,
}

impl PartialEq for Dataflow {
    fn eq(&self, other: &Self) -> bool {
        self.functions == other.functions
            && self.globals == other.globals
            && self.starts == other.starts
            && self.imported == other.imported
            && self.alone == other.alone
    }
}

impl Eq for Dataflow {}

impl std::hash::Hash for Dataflow {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.facts_hash.hash(h);
        self.starts_hash.hash(h);
    }
}

fn fx_hash<T: std::hash::Hash + ?Sized>(t: &T) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    t.hash(&mut h);
    h.finish()
}

/// What the hash of an absent fact is.
const ABSENT: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Dataflow {
    /// A hash of the facts of a function (`global` false) or global `name`, or of their absence
    /// (or of the start of an anchored item: [`ANCHOR_READ`]); not recorded as a read.
    pub fn hash_of(&self, global: bool, name: &str) -> u64 {
        if global {
            if let Some(anchor) = name.strip_prefix(ANCHOR_READ) {
                return self.starts.get(anchor).map_or(ABSENT, fx_hash);
            }
            self.global_hashes.get(name).copied().unwrap_or(ABSENT)
        } else {
            self.fn_hashes.get(name).copied().unwrap_or(ABSENT)
        }
    }

    /// A hash of all the facts (not of where the items they point into start).
    pub fn facts_hash(&self) -> u64 {
        self.facts_hash
    }

    /// A hash of the starts of the items that stored paths point into.
    pub fn starts_hash(&self) -> u64 {
        self.starts_hash
    }
}

/// The data flow as a reader of a model sees it ([`Model::dataflow`]): every read is noted in the
/// model's [`ReadRecorder`], so that the analyzer re-checks an item only when the facts it read
/// changed.
#[derive(Debug, Clone, Copy)]
pub struct FlowView<'a> {
    flow: &'a Dataflow,
    reads: &'a ReadRecorder,
}

impl<'a> FlowView<'a> {
    /// `flow` read through `reads`.
    pub fn new(flow: &'a Dataflow, reads: &'a ReadRecorder) -> Self {
        FlowView { flow, reads }
    }

    /// The facts themselves, for what reads them without recording (the engine's hashes,
    /// [`cross::place_related`]).
    pub fn unrecorded(self) -> &'a Dataflow {
        self.flow
    }

    /// The resolved facts of the function `name` (recorded as a read).
    pub fn function(self, name: &str) -> Option<&'a FnFacts> {
        self.reads.flow(false, name);
        self.flow.functions.get(name).map(|f| &**f)
    }

    /// The key material bound to the module-level name `name` (recorded as a read), anchored.
    pub fn global(self, name: &str) -> Option<&'a Vec<Conc>> {
        self.reads.flow(true, name);
        self.flow.globals.get(name)
    }

    /// Every function's facts (recorded as a read of all of them).
    pub fn functions(self) -> impl Iterator<Item = (&'a str, &'a FnFacts)> {
        self.reads.all_flow();
        self.flow.functions.iter().map(|(n, f)| (&**n, &**f))
    }

    /// The document range of a step (recorded as a read of its item's start); `None` when the
    /// step's item has no known start (a view whose resolution lacks it): such a step is left out
    /// of a path rather than placed relative to the start of the file.
    pub fn place(self, step: &Step) -> Option<Range<usize>> {
        match &step.anchor {
            None => Some(step.range.clone()),
            Some(a) => {
                let mut key = String::with_capacity(a.len() + 1);
                key.push(ANCHOR_READ);
                key.push_str(a);
                self.reads.flow(true, &key);
                let start = *self.flow.starts.get(a)?;
                Some(abs(&step.range, start))
            }
        }
    }

    /// The steps of `path` with document ranges (those that can be placed).
    fn placed(self, path: &[Step]) -> Vec<Step> {
        path.iter()
            .filter_map(|s| {
                Some(Step {
                    anchor: None,
                    range: self.place(s)?,
                    message: s.message.clone(),
                })
            })
            .collect()
    }

    /// `c` with document ranges.
    fn absolute(self, c: &Conc) -> Conc {
        Conc {
            kind: c.kind,
            class: c.class.clone(),
            path: self.placed(&c.path),
        }
    }

    /// The path to the DynamoDB scan reachable from function `name`, with document ranges.
    pub fn scan_path(self, name: &str) -> Option<Vec<Step>> {
        let scan = self.function(name)?.scan.as_ref()?;
        Some(self.placed(scan))
    }

    /// The concrete key material of `taint` in function `flow`, whose item starts at `start`,
    /// with document ranges.
    pub fn concretize(self, flow: &FnFlow, start: usize, taint: &Taint) -> Vec<Conc> {
        concretize(&self, flow, At::Abs(start), taint)
    }

    /// The sink bits a label reaches through the parameters it is passed to (for KL206).
    pub fn call_sinks(self, call: &CallFact, label_matches: impl Fn(&Taint) -> bool) -> u8 {
        match self.function(&call.callee) {
            Some(callee) => call_sinks(callee, call, label_matches),
            None => 0,
        }
    }
}

/// The sink bits of `callee`'s parameters that `call` passes a matching label to.
fn call_sinks(callee: &FnFacts, call: &CallFact, label_matches: impl Fn(&Taint) -> bool) -> u8 {
    let mut bits = 0;
    for j in 0..callee.params.len() {
        if let Some(arg) = arg_for(call, &callee.params, j as u16) {
            if label_matches(arg) {
                bits |= callee.param_sinks.get(j).copied().unwrap_or(0);
            }
        }
    }
    bits
}

/// Where the ranges of a flow are to be placed: at a document offset (rules), or relative to an
/// anchor (stored facts).
#[derive(Clone, Copy)]
pub(crate) enum At<'a> {
    Abs(usize),
    Anchor(&'a Anchor),
}

impl At<'_> {
    fn step(self, range: &Range<usize>, message: String) -> Step {
        match self {
            At::Abs(start) => Step {
                anchor: None,
                range: abs(range, start),
                message,
            },
            At::Anchor(a) => Step {
                anchor: Some(a.clone()),
                range: range.clone(),
                message,
            },
        }
    }
}

/// What concretising a flow reads: the facts of functions and globals, and the key material
/// reaching the flow's own parameters.
pub(crate) trait Facts {
    fn function(&self, name: &str) -> Option<&FnFacts>;
    fn global(&self, name: &str) -> Option<&[Conc]>;
    /// What reaches the parameters of `flow`.
    fn param_in(&self, flow: &FnFlow) -> Option<&[Vec<Conc>]>;
    /// A stored conc, placed for `at`.
    fn place(&self, c: &Conc, at: At) -> Conc;
}

impl Facts for FlowView<'_> {
    fn function(&self, name: &str) -> Option<&FnFacts> {
        FlowView::function(*self, name)
    }
    fn global(&self, name: &str) -> Option<&[Conc]> {
        FlowView::global(*self, name).map(|v| &v[..])
    }
    fn param_in(&self, flow: &FnFlow) -> Option<&[Vec<Conc>]> {
        FlowView::function(*self, &flow.name).map(|f| &f.param_in[..])
    }
    fn place(&self, c: &Conc, at: At) -> Conc {
        match at {
            At::Abs(_) => self.absolute(c),
            At::Anchor(_) => c.clone(),
        }
    }
}

/// The message of a path's last step when the scan looks for an API key.
pub const SCAN_FOR_KEY: &str = "DynamoDB scan here, looking for an API key";

/// Distinct sources kept per parameter or return value (one path each is enough to report).
pub const MAX_CONC: usize = 4;
/// Steps kept per path (a source and up to eleven call sites).
pub const MAX_PATH: usize = 12;

fn push_conc(set: &mut Vec<Conc>, c: Conc) -> bool {
    if set.len() >= MAX_CONC || set.iter().any(|x| x.same_source(&c)) {
        return false;
    }
    set.push(c);
    true
}

fn abs(r: &Range<usize>, start: usize) -> Range<usize> {
    r.start + start..r.end + start
}

/// The concrete key material of `taint` in function `flow`, placed at `at`.
pub(crate) fn concretize<F: Facts + ?Sized>(
    facts: &F,
    flow: &FnFlow,
    at: At,
    taint: &Taint,
) -> Vec<Conc> {
    let mut out = Vec::new();
    for l in &taint.0 {
        for c in conc_label(facts, flow, at, *l, 0) {
            push_conc(&mut out, c);
        }
    }
    out
}

fn conc_label<F: Facts + ?Sized>(
    facts: &F,
    flow: &FnFlow,
    at: At,
    l: Label,
    depth: usize,
) -> Vec<Conc> {
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
                        path: vec![at.step(&s.range, s.message.clone())],
                    });
                }
            }
        }
        Base::Param(i) => {
            if let Some(ins) = facts.param_in(flow).and_then(|p| p.get(i as usize)) {
                for c in ins {
                    if let Some(kind) = c.kind.apply(l.mode) {
                        out.push(Conc {
                            kind,
                            ..facts.place(c, at)
                        });
                    }
                }
            }
        }
        Base::Global(i) => {
            if let Some(cs) = flow.globals.get(i as usize).and_then(|g| facts.global(g)) {
                for c in cs {
                    if let Some(kind) = c.kind.apply(l.mode) {
                        out.push(Conc {
                            kind,
                            ..facts.place(c, at)
                        });
                    }
                }
            }
        }
        Base::Call(k) => {
            let Some(call) = flow.calls.get(k as usize) else {
                return out;
            };
            let Some(callee) = facts.function(&call.callee) else {
                return out;
            };
            for sym in &callee.ret {
                match sym {
                    RetSym::Conc(c) => {
                        if let Some(kind) = c.kind.apply(l.mode) {
                            let mut c = Conc {
                                kind,
                                ..facts.place(c, at)
                            };
                            c.path.push(at.step(
                                &call.range,
                                format!("returned by `{}` here", cross::shown(&call.callee)),
                            ));
                            out.push(c);
                        }
                    }
                    RetSym::Param(j, m) => {
                        if let Some(arg) = arg_for(call, &callee.params, *j) {
                            for al in &arg.0 {
                                let mode = Mode::compose(l.mode, Mode::compose(*m, al.mode));
                                out.extend(conc_label(
                                    facts,
                                    flow,
                                    at,
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

/// The symbolic return values of label `l` of `flow` (stored facts: anchored at `at`).
fn ret_syms<F: Facts + ?Sized>(
    facts: &F,
    flow: &FnFlow,
    at: At,
    l: Label,
    depth: usize,
    out: &mut Vec<RetSym>,
) {
    if depth > 8 || out.len() >= MAX_CONC * 2 {
        return;
    }
    // One entry per parameter projection and per source (the first path found).
    let push = |out: &mut Vec<RetSym>, s: RetSym| {
        let dup = out.iter().any(|o| match (o, &s) {
            (RetSym::Conc(a), RetSym::Conc(b)) => a.same_source(b),
            (a, b) => a == b,
        });
        if !dup {
            out.push(s);
        }
    };
    match l.base {
        Base::Param(i) => push(out, RetSym::Param(i, l.mode)),
        Base::Source(_) | Base::Global(_) => {
            for c in conc_label(facts, flow, at, l, depth) {
                push(out, RetSym::Conc(c));
            }
        }
        Base::Call(k) => {
            let Some(call) = flow.calls.get(k as usize) else {
                return;
            };
            let Some(callee) = facts.function(&call.callee) else {
                return;
            };
            for sym in &callee.ret {
                match sym {
                    RetSym::Conc(c) => {
                        if let Some(kind) = c.kind.apply(l.mode) {
                            let mut c = Conc {
                                kind,
                                ..facts.place(c, at)
                            };
                            if c.path.len() < MAX_PATH {
                                c.path.push(at.step(
                                    &call.range,
                                    format!("returned by `{}` here", call.callee),
                                ));
                            }
                            push(out, RetSym::Conc(c));
                        }
                    }
                    RetSym::Param(j, m) => {
                        if let Some(arg) = arg_for(call, &callee.params, *j) {
                            for al in &arg.0 {
                                let mode = Mode::compose(l.mode, Mode::compose(*m, al.mode));
                                ret_syms(
                                    facts,
                                    flow,
                                    at,
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

/// Resolves the module's flows (each with the start of its item) from scratch.
pub fn resolve<'f>(flows: impl IntoIterator<Item = (&'f FnFlow, usize)>) -> Dataflow {
    let mut r = Resolver::default();
    r.update(flows.into_iter().map(|(f, s)| (f, s, fx_hash(f))));
    r.dataflow().as_ref().clone()
}

/// Resolves the flows (each with the start of its item) from scratch once, for a caller that
/// never updates the resolution and reads only its facts (`keylint check`'s project pass,
/// [`crate::project::Project::resolve_wanted`]): the facts of [`resolve`], with the flows moved
/// in and the facts moved out rather than copied, and none of the hashes an incremental
/// [`Resolver`] keeps. The result's [`Dataflow::hash_of`], `facts_hash` and `starts_hash` are
/// those of no facts: hash a view made of it ([`Dataflow::from_parts`] does). What is left of
/// the resolution (the flows, the call graph) is freed on the thread pool, not by the caller.
pub fn resolve_batch(flows: Vec<(FnFlow, usize)>) -> Dataflow {
    let (df, rest) = Resolver::batch(flows);
    rayon::spawn(move || drop(rest));
    df
}

/// The flows of one item: its function (or method), or the module-level statement itself.
pub fn item_flows(node: Node, classes: &[String], model: &Model, src: SourceText) -> Vec<FnFlow> {
    let def = super::syntax::definition(node);
    if def.kind_str() == "function_definition" {
        vec![local::analyze(
            node,
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
