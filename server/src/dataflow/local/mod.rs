//! The local (intraprocedural) flow: one walk over a function body, in statement order.
//!
//! Assignments are strong updates (`key = hash(key)` kills the raw key); branches are walked one
//! after the other (a value rebound in one branch only is taken as rebound: a miss rather than a
//! false positive). Every expression is evaluated once, so the walk is linear in the body's size.

mod assignments;
mod calls;
mod classes;
mod dynamo;
mod expressions;
mod fields;
mod handler;
mod masking;
mod names;
mod statements;
mod validation;

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::ops::Range;

use rustc_hash::{FxHashMap, FxHashSet};
use tree_sitter::Node;

use super::{Base, FnFlow, Kind, SinkFact, SinkKind, SourceFact, Taint};
use crate::document::SourceText;
use crate::model::{HandlerKind, Model};
use crate::syntax::{self, NodeExt};

const MAX_SOURCES: usize = 512;
pub(super) const MAX_CALLS: usize = 4096;
/// Expressions and statements nested deeper than this are not followed (no stack overflow on
/// generated code: a 10,000-term concatenation is a left-nested tree).
pub(super) const MAX_DEPTH: usize = 200;

struct Walker<'a> {
    model: &'a Model,
    src: SourceText<'a>,
    start: usize,
    flow: FnFlow,
    env: FxHashMap<String, Taint>,
    /// Local names bound to a qualified object (`table`, `client`, `batch`, `logger`).
    handles: FxHashMap<String, String>,
    /// Local names bound to a constant string (URLs).
    consts: FxHashSet<String>,
    /// Parameters and local variables.
    locals: FxHashSet<String>,
    class: Option<String>,
    module: bool,
    /// Tainted dict entry values and f-string interpolations seen so far (relative ranges).
    parts: Vec<(Range<usize>, Taint)>,
    /// Local dicts built from literals with constant keys: what each key holds, so that
    /// `d["name"]` does not carry the key stored under `d["api_key"]`.
    fields: FxHashMap<String, Vec<(String, Taint)>>,
    /// Current nesting of `eval`/`stmt`.
    depth: usize,
    /// Local names bound to an instance of a module class (`store = KeyStore(table)`).
    instances: FxHashMap<String, String>,
    /// What a call to a method of another module's class gives (see [`Walker::call`]).
    external_method: Option<Taint>,
    /// PynamoDB instances (`account = Account(...)`): the tainted values put into their
    /// attributes (constructor keywords, `account.api_key = key`), relative ranges. A `save()` of
    /// the instance carries them as its sink's parts, for KL201's hashing fix.
    pynamo_parts: FxHashMap<String, Vec<(Range<usize>, Taint)>>,
    /// What [`Walker::qualify`] gave each node (by id) since `handles` and `locals` last changed,
    /// with how many levels below the node its computation went (see `Walker::qualify_depth`):
    /// a call's function is qualified by the call, by its receiver's test and by the binding of
    /// its value, the same chain each time.
    qualified: RefCell<FxHashMap<usize, (usize, Option<String>)>>,
    /// The deepest level the qualification under way reached.
    qualify_deepest: Cell<usize>,
}

impl<'a> Walker<'a> {
    /// A walker of the item starting at `start` (a method of `class`, or a module statement when
    /// `module`), with nothing seen yet.
    fn new(
        model: &'a Model,
        src: SourceText<'a>,
        start: usize,
        flow: FnFlow,
        class: Option<String>,
        module: bool,
    ) -> Self {
        Walker {
            model,
            src,
            start,
            flow,
            env: FxHashMap::default(),
            handles: FxHashMap::default(),
            consts: FxHashSet::default(),
            locals: FxHashSet::default(),
            class,
            module,
            parts: Vec::new(),
            fields: FxHashMap::default(),
            depth: 0,
            instances: FxHashMap::default(),
            external_method: None,
            pynamo_parts: FxHashMap::default(),
            qualified: RefCell::default(),
            qualify_deepest: Cell::new(0),
        }
    }
}

/// The flow of a function definition (`stmt` is the statement: the `function_definition` node, or
/// the `decorated_definition` around it).
pub fn analyze(
    stmt: Node,
    item_start: usize,
    class: Option<&String>,
    model: &Model,
    src: SourceText,
) -> FnFlow {
    let def = syntax::definition(stmt);
    // Read from the statement once (no climb from the definition to its parent).
    let decorators = syntax::statement_decorators(stmt);
    let name = def
        .field("name")
        .map(|n| src.node_text(n).into_owned())
        .unwrap_or_default();
    let flow = FnFlow {
        name: match class {
            Some(c) => format!("{c}.{name}"),
            None => name,
        },
        ..FnFlow::default()
    };
    let mut w = Walker::new(model, src, item_start, flow, class.cloned(), false);
    if let Some(n) = def.field("name") {
        w.flow.name_range = w.rel(n);
    }
    let kind = model.statement_handler_kind(stmt, src);
    // A middleware (`@app.middleware("http")`, `@app.before_request`) runs on every request:
    // for the data flow it is a handler.
    let per_request = decorators.iter().any(|d| {
        let f = if d.kind_str() == "call" {
            d.field("function")
        } else {
            Some(*d)
        };
        f.and_then(|f| syntax::dotted_path(f, src))
            .and_then(|p| p.last().cloned())
            .is_some_and(|m| {
                matches!(
                    m.as_str(),
                    "middleware" | "before_request" | "before_app_request"
                )
            })
    });
    w.flow.is_route = kind == Some(HandlerKind::Route) || per_request;
    w.flow.responds = kind.is_some() || per_request;
    if w.flow.is_route {
        w.flow.filtered_output = w.output_filtered(def, &decorators);
        w.flow.guarded = decorators.iter().any(|d| {
            d.kind_str() == "call" && syntax::keyword_arg(*d, "dependencies", src).is_some()
        });
        w.route_dependencies(&decorators);
    }
    w.params(def);
    if let Some(body) = def.field("body") {
        w.block(body);
    }
    w.flow
}

/// The flow of a module-level statement: the names it binds and the sinks it reaches.
pub fn analyze_module_statement(node: Node, model: &Model, src: SourceText) -> FnFlow {
    let mut w = Walker::new(model, src, node.start_byte(), FnFlow::default(), None, true);
    w.stmt(node);
    w.flow
}

/// The named children of `node` but comments, in order (no vector: most walks visit each once).
fn named_children(node: Node) -> impl Iterator<Item = Node> {
    syntax::named_children(node).filter(|c| c.kind_str() != "comment")
}

/// [`named_children`] collected, for the walks that index or count them.
fn named_children_vec(node: Node) -> Vec<Node> {
    named_children(node).collect()
}

impl<'a> Walker<'a> {
    /// `handles` or `locals` changed: what [`Walker::qualify`] gave may no longer hold.
    fn forget_qualified(&mut self) {
        self.qualified.get_mut().clear();
    }

    fn rel(&self, node: Node) -> Range<usize> {
        node.start_byte().saturating_sub(self.start)..node.end_byte().saturating_sub(self.start)
    }

    /// The text of `node`, borrowed from the source (copied only where the caller keeps it).
    fn text(&self, node: Node) -> Cow<'a, str> {
        self.src.node_text(node)
    }

    fn source(
        &mut self,
        node: Node,
        kind: Kind,
        message: String,
        class: Option<String>,
        param: Option<u16>,
    ) -> Taint {
        if self.flow.sources.len() >= MAX_SOURCES {
            return Taint::default();
        }
        let range = self.rel(node);
        if let Some(i) = self
            .flow
            .sources
            .iter()
            .position(|s| s.range == range && s.kind == kind)
        {
            return Taint::one(Base::Source(i as u16));
        }
        self.flow.sources.push(SourceFact {
            range,
            kind,
            message,
            class,
            param,
        });
        Taint::one(Base::Source((self.flow.sources.len() - 1) as u16))
    }

    /// The request object (Flask's `request`, a Starlette/FastAPI `Request` parameter) as a source.
    fn request_source(&mut self, node: Node) -> Taint {
        self.source(
            node,
            Kind::Request,
            "the request enters here".into(),
            None,
            None,
        )
    }

    fn sink(&mut self, kind: SinkKind, at: Node, value: Node, taint: Taint, url_const: bool) {
        if taint.is_empty() {
            return;
        }
        let value = self.rel(value);
        let parts = self
            .parts
            .iter()
            .filter(|(r, _)| r.start >= value.start && r.end <= value.end)
            .cloned()
            .collect();
        let sink = SinkFact {
            kind,
            range: self.rel(at),
            value,
            taint,
            url_const,
            parts,
        };
        self.flow.sinks.push(sink);
    }
}
