//! The local (intraprocedural) flow: one walk over a function body, in statement order.
//!
//! Assignments are strong updates (`key = hash(key)` kills the raw key); branches are walked one
//! after the other (a value rebound in one branch only is taken as rebound: a miss rather than a
//! false positive). Every expression is evaluated once, so the walk is linear in the body's size.

use crate::syntax::NodeExt;
use std::ops::Range;

use rustc_hash::{FxHashMap, FxHashSet};
use tree_sitter::Node;

use super::{Base, CallFact, FnFlow, Kind, Label, Mode, SinkFact, SinkKind, SourceFact, Taint};
use crate::document::SourceText;
use crate::model::frameworks as fw;
use crate::model::Binding;
use crate::model::{HandlerKind, Model};
use crate::syntax::{self, string_value};

const MAX_SOURCES: usize = 512;
const MAX_CALLS: usize = 4096;
/// Expressions and statements nested deeper than this are not followed (no stack overflow on
/// generated code: a 10,000-term concatenation is a left-nested tree).
const MAX_DEPTH: usize = 200;

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
}

/// A plain field name (`name`, `issuer`, `openid_config_url`): a lower-case identifier, none of
/// the names the projection treats as a whole value or a part of a request (`Item`, `headers`,
/// `json`, `state`…).
/// A field whose words mention key material (`key`, `secret`, `token`, `pass`…) is never one.
fn is_other_field(key: &str) -> bool {
    !syntax::name_words(key).iter().any(|w| {
        matches!(
            w.as_str(),
            "key"
                | "keys"
                | "apikey"
                | "secret"
                | "secrets"
                | "token"
                | "tokens"
                | "password"
                | "passwd"
                | "pwd"
                | "pass"
                | "credential"
                | "credentials"
                | "auth"
                | "authorization"
                | "signature"
                | "private"
        )
    }) && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !matches!(
            key,
            "credentials" | "attribute_values" | "state" | "headers"
        )
        && !REQUEST_DATA_FIELDS.contains(&key)
}

/// The fields of a request object that hold what the client sent (`request.json`, `.form`,
/// `.query_params`, ...): read as request data, never as a key's own name.
const REQUEST_DATA_FIELDS: &[&str] = &[
    "json",
    "form",
    "args",
    "values",
    "query_params",
    "cookies",
    "get_json",
    "body",
    "data",
    "files",
];

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
    let mut w = Walker {
        model,
        src,
        start: item_start,
        flow: FnFlow {
            name: match class {
                Some(c) => format!("{c}.{name}"),
                None => name,
            },
            ..FnFlow::default()
        },
        env: FxHashMap::default(),
        handles: FxHashMap::default(),
        consts: FxHashSet::default(),
        locals: FxHashSet::default(),
        class: class.cloned(),
        module: false,
        parts: Vec::new(),
        fields: FxHashMap::default(),
        depth: 0,
        instances: FxHashMap::default(),
        external_method: None,
        pynamo_parts: FxHashMap::default(),
    };
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
    let mut w = Walker {
        model,
        src,
        start: node.start_byte(),
        flow: FnFlow::default(),
        env: FxHashMap::default(),
        handles: FxHashMap::default(),
        consts: FxHashSet::default(),
        locals: FxHashSet::default(),
        class: None,
        module: true,
        parts: Vec::new(),
        fields: FxHashMap::default(),
        depth: 0,
        instances: FxHashMap::default(),
        external_method: None,
        pynamo_parts: FxHashMap::default(),
    };
    w.stmt(node);
    w.flow
}

fn named_children(node: Node) -> Vec<Node> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor)
        .filter(|c| c.kind_str() != "comment")
        .collect()
}

impl<'a> Walker<'a> {
    fn rel(&self, node: Node) -> Range<usize> {
        node.start_byte().saturating_sub(self.start)..node.end_byte().saturating_sub(self.start)
    }

    fn text(&self, node: Node) -> String {
        self.src.node_text(node).into_owned()
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

    /// A class of the module with a key-named field: (class, field, masked). `masked` when every
    /// key-named field is a masked type (`SecretStr`); the field named is then the first of them,
    /// otherwise the first one that is not masked.
    fn secret_model(&self, name: &str) -> Option<(String, String, bool)> {
        let class = self.model.classes.iter().rev().find(|c| c.name == name)?;
        let mut keys = class.fields.iter().filter(|f| fw::is_key_name(f));
        let first = keys.clone().next()?;
        Some(match keys.find(|f| !class.is_masked(f)) {
            Some(field) => (class.name.clone(), field.clone(), false),
            None => (class.name.clone(), first.clone(), true),
        })
    }

    /// The kind of a source holding a model (or settings) with secret fields.
    fn model_kind(masked: bool) -> Kind {
        if masked {
            Kind::MaskedModel
        } else {
            Kind::Model
        }
    }

    /// Every model class of the module that declares `field` masks it (`SecretStr`), and one does.
    fn masked_everywhere(&self, field: &str) -> bool {
        let mut declared = self
            .model
            .classes
            .iter()
            .filter(|c| c.fields.iter().any(|f| f == field))
            .peekable();
        declared.peek().is_some() && declared.all(|c| c.is_masked(field))
    }

    /// The field `field` of model class `class` is masked (`SecretStr`).
    fn masked_field(&self, class: Option<&str>, field: &str) -> bool {
        class.is_some_and(|class| {
            self.model
                .classes
                .iter()
                .rev()
                .find(|c| c.name == class)
                .is_some_and(|c| c.is_masked(field))
        })
    }

    /// `.get_secret_value()`: what `t` holds, unmasked.
    fn unmask(&mut self, t: Taint, at: Node) -> Taint {
        let mut out = Taint::default();
        for l in t.0 {
            match l.base {
                Base::Source(i) if l.mode == Mode::Whole => {
                    let s = self.flow.sources[i as usize].clone();
                    match s.kind {
                        Kind::Masked | Kind::MaskedModel => {
                            let origin = s
                                .message
                                .split_once('(')
                                .map_or("", |(_, r)| r.trim_end_matches(')'));
                            let x = self.source(
                                at,
                                Kind::Key,
                                format!("API key unmasked here ({origin})"),
                                None,
                                None,
                            );
                            out.union(&x);
                        }
                        _ => out.union(&Taint(vec![l])),
                    }
                }
                _ => out.union(&Taint(vec![Label {
                    base: l.base,
                    mode: Mode::compose(Mode::Unmask, l.mode),
                }])),
            }
        }
        out
    }

    fn output_filtered(&self, def: Node, decorators: &[Node]) -> bool {
        for &deco in decorators {
            if deco.kind_str() == "call" {
                if let Some(v) = syntax::keyword_arg(deco, "response_model", self.src) {
                    // A response model that declares an unmasked key field lets the key through.
                    let class = element_class(&self.text(v));
                    return self.text(v) != "None"
                        && !matches!(self.secret_model(&class), Some((_, _, false)));
                }
            }
        }
        if let Some(ret) = def.field("return_type") {
            let t = syntax::unparenthesize(ret);
            let t = if t.kind_str() == "type" {
                t.named_child(0).unwrap_or(t)
            } else {
                t
            };
            if t.kind_str() == "identifier" {
                let name = self.text(t);
                return self.model.classes.iter().any(|c| c.name == name)
                    && self.secret_model(&name).is_none_or(|(_, _, masked)| masked);
            }
        }
        false
    }

    /// `dependencies=[Depends(verify_key)]` of a route: each dependency of the module runs on
    /// every request (a call with no arguments, for its scans).
    fn route_dependencies(&mut self, decorators: &[Node]) {
        for &deco in decorators {
            if deco.kind_str() != "call" {
                continue;
            }
            let Some(list) = syntax::keyword_arg(deco, "dependencies", self.src) else {
                continue;
            };
            for dep in named_children(list) {
                if dep.kind_str() != "call" {
                    continue;
                }
                let Some(q) = self.model.callee(dep, self.src) else {
                    continue;
                };
                if !(fw::is_fastapi(&q, "Depends") || fw::is_fastapi(&q, "Security")) {
                    continue;
                }
                let Some(f) = syntax::positional_args(dep).first().copied() else {
                    continue;
                };
                let name = self.text(f);
                if f.kind_str() == "identifier"
                    && self.is_module_function(&name)
                    && self.flow.calls.len() < MAX_CALLS
                {
                    self.flow.calls.push(CallFact {
                        callee: name,
                        range: self.rel(dep),
                        args: Vec::new(),
                        kwargs: Vec::new(),
                        bound: false,
                    });
                } else if let Some(path) = self.imported_dependency(f) {
                    self.module_call(dep, path, false, &[], &[]);
                }
            }
        }
    }

    // ---- parameters -----------------------------------------------------------------------

    fn params(&mut self, def: Node) {
        let Some(params) = def.field("parameters") else {
            return;
        };
        let is_route = self.flow.is_route;
        for p in named_children(params) {
            let (name_node, ty, default) = match p.kind_str() {
                "identifier" => (Some(p), None, None),
                "typed_parameter" => (p.named_child(0), p.field("type"), None),
                "default_parameter" | "typed_default_parameter" => {
                    (p.field("name"), p.field("type"), p.field("value"))
                }
                "list_splat_pattern" | "dictionary_splat_pattern" => (p.named_child(0), None, None),
                _ => continue,
            };
            let Some(name_node) = name_node else { continue };
            let name = self.text(name_node);
            let idx = self.flow.params.len() as u16;
            self.flow.params.push(name.clone());
            self.locals.insert(name.clone());
            let mut taint = Taint::one(Base::Param(idx));

            // Markers: the default, and calls inside `Annotated[...]`.
            let mut markers: Vec<Node> = Vec::new();
            if let Some(d) = default.filter(|d| d.kind_str() == "call") {
                markers.push(d);
            }
            if let Some(ty) = ty {
                for n in syntax::descendants(ty) {
                    if n.kind_str() == "call" {
                        markers.push(n);
                    }
                }
            }
            let mut marked = false;
            // pydantic v2 `Annotated[str, StringConstraints(min_length=32)]`, `constr(...)`,
            // `Field(min_length=…)`: the key's shape is checked before the handler runs.
            let constrained = markers.iter().any(|m| {
                self.model.callee(*m, self.src).is_some_and(|q| {
                    (q.ends_with("StringConstraints")
                        || q.ends_with(".constr")
                        || q == "pydantic.Field"
                        || q.starts_with("fastapi."))
                        && ["min_length", "max_length", "regex", "pattern"]
                            .iter()
                            .any(|k| syntax::keyword_arg(*m, k, self.src).is_some())
                })
            });
            for m in markers {
                let Some(q) = self.model.callee(m, self.src) else {
                    continue;
                };
                if fw::is_fastapi(&q, "Header")
                    || fw::is_fastapi(&q, "Query")
                    || fw::is_fastapi(&q, "Cookie")
                {
                    marked = true;
                    let alias = syntax::keyword_arg(m, "alias", self.src)
                        .and_then(|a| string_value(a, self.src));
                    let shown = alias.clone().unwrap_or_else(|| {
                        if q.ends_with("Header") {
                            name.replace('_', "-")
                        } else {
                            name.clone()
                        }
                    });
                    if fw::is_key_name(&shown) || (alias.is_none() && fw::is_key_name(&name)) {
                        let what = if q.ends_with("Header") {
                            "header"
                        } else if q.ends_with("Query") {
                            "query parameter"
                        } else {
                            "cookie"
                        };
                        let t = self.source(
                            name_node,
                            Kind::Key,
                            format!("API key enters here ({what} `{shown}`)"),
                            None,
                            Some(idx),
                        );
                        taint.union(&t);
                        if ["min_length", "max_length", "regex", "pattern"]
                            .iter()
                            .any(|k| syntax::keyword_arg(m, k, self.src).is_some())
                        {
                            let mut v = t.clone();
                            v.union(&Taint::one(Base::Param(idx)));
                            self.flow.validations.push((v, 0));
                        }
                    }
                } else if fw::is_fastapi(&q, "Security") || fw::is_fastapi(&q, "Depends") {
                    marked = true;
                    let dep = syntax::positional_args(m)
                        .first()
                        .copied()
                        .or_else(|| syntax::keyword_arg(m, "dependency", self.src));
                    let Some(dep) = dep else { continue };
                    let scheme = match dep.kind_str() {
                        "call" => self.model.callee(dep, self.src),
                        "identifier" => match self.model.binding(&self.text(dep)) {
                            Some(Binding::Call { callee, .. }) => self.model.resolve_path(callee),
                            _ => None,
                        },
                        _ => None,
                    };
                    if scheme.as_deref().is_some_and(fw::is_key_scheme) {
                        let t = self.source(
                            name_node,
                            Kind::Key,
                            format!(
                                "API key enters here (security scheme `{}`)",
                                syntax::short_text(dep, self.src)
                            ),
                            None,
                            None,
                        );
                        taint.union(&t);
                    } else if dep.kind_str() == "identifier" {
                        let dep_name = self.text(dep);
                        // `repo: Repo = Depends(get_repo)`, `Depends(Repo)`: an instance.
                        if let Some(class) = self.class_made_by(std::slice::from_ref(&dep_name), 0)
                        {
                            self.instances.insert(name.clone(), class);
                        }
                        if self.is_module_function(&dep_name) && self.flow.calls.len() < MAX_CALLS {
                            let k = self.flow.calls.len() as u16;
                            self.flow.calls.push(CallFact {
                                callee: dep_name,
                                range: self.rel(m),
                                args: Vec::new(),
                                kwargs: Vec::new(),
                                bound: false,
                            });
                            taint.union(&Taint::one(Base::Call(k)));
                        } else if let Some(path) = self.imported_dependency(dep) {
                            // `Depends(get_api_key)` after `from .deps import get_api_key`.
                            taint.union(&self.module_call(m, path, false, &[], &[]));
                        }
                    } else if let Some(path) = self.imported_dependency(dep) {
                        // `Depends(deps.get_repo)` after `from . import deps`.
                        taint.union(&self.module_call(m, path, false, &[], &[]));
                    }
                }
            }

            if constrained && !taint.0.iter().all(|l| l.base == Base::Param(idx)) {
                self.flow.validations.push((taint.clone(), 0));
            }
            if let Some(ty) = ty {
                let ty_node = if ty.kind_str() == "type" {
                    ty.named_child(0).unwrap_or(ty)
                } else {
                    ty
                };
                let ty_text = self.text(ty_node);
                // `repo: Repo`, `Annotated[Repo, Depends(get_repo)]`, `Optional[Repo]`, `Repo =
                // Depends()`: an instance of a module class.
                if !self.instances.contains_key(&name) {
                    let class = element_class(annotated_type(&ty_text));
                    // (Not a body model: its annotated fields are data, its methods are not
                    // the service layer.)
                    let plain = self
                        .model
                        .classes
                        .iter()
                        .rev()
                        .find(|c| c.name == class)
                        .is_some_and(|c| c.fields.is_empty());
                    if plain && self.is_module_class(&class) {
                        self.instances.insert(name.clone(), class);
                    } else if let Some(c) = self.annotated_import(annotated_type(&ty_text)) {
                        // `repo: KeyRepository = Depends(get_repo)` after `from .repository
                        // import KeyRepository`: an instance of another module's class.
                        self.instances.insert(name.clone(), c);
                    }
                }
                let q = self.model.resolve(ty_node, self.src);
                if q.as_deref().is_some_and(fw::is_request_class) {
                    let t = self.source(
                        name_node,
                        Kind::Request,
                        "the request enters here".into(),
                        None,
                        None,
                    );
                    taint.union(&t);
                } else if !marked && is_route {
                    let class_name = element_class(&ty_text);
                    if let Some((class, field, masked)) = self.secret_model(&class_name) {
                        let t = self.source(
                            name_node,
                            Self::model_kind(masked),
                            format!(
                                "request body `{class}` with secret field `{field}` enters here"
                            ),
                            Some(class),
                            None,
                        );
                        taint.union(&t);
                    } else if fw::is_key_name(&name)
                        && matches!(
                            ty_text.as_str(),
                            "str" | "Optional[str]" | "str | None" | "typing.Optional[str]"
                        )
                    {
                        let t = self.source(
                            name_node,
                            Kind::Key,
                            format!("API key enters here (query parameter `{name}`)"),
                            None,
                            Some(idx),
                        );
                        taint.union(&t);
                    }
                }
                if ty_text.contains("Table") {
                    self.handles.insert(name.clone(), "dynamodb.Table()".into());
                } else if let Some(q) = q {
                    self.handles.insert(name.clone(), format!("{q}()"));
                }
            }
            if ty.is_none() && name == "request" && self.flow.responds {
                // `async def handler(request, exc)`: Starlette passes the request.
                let t = self.source(
                    name_node,
                    Kind::Request,
                    "the request enters here".into(),
                    None,
                    None,
                );
                taint.union(&t);
            }
            // A key known by its name only (`def sign(payload, api_key)`), outside handlers
            // (whose parameters are sources by their markers).
            let plain_type = ty.is_none_or(|t| {
                let t = self.text(t);
                (t.contains("str") || t.contains("bytes")) && !t.contains("Secret")
            });
            if !self.flow.responds
                && plain_type
                && !matches!(name.as_str(), "self" | "cls")
                && fw::is_named_key(&name)
            {
                let t = self.source(
                    name_node,
                    Kind::Named,
                    format!("parameter `{name}`, a key by its name"),
                    None,
                    None,
                );
                taint.union(&t);
            }
            if !self.handles.contains_key(&name) {
                let lower = name.to_ascii_lowercase();
                if lower == "table" || lower.ends_with("_table") {
                    self.handles.insert(name.clone(), "dynamodb.Table()".into());
                } else if matches!(lower.as_str(), "logger" | "log") {
                    self.handles.insert(name.clone(), "logging.Logger()".into());
                }
            }
            self.env.insert(name, taint);
        }
    }

    /// What the names mentioned in `call`'s arguments carry, hashed or not.
    fn mentions(&mut self, call: Node) {
        let Some(args) = call.field("arguments") else {
            return;
        };
        let mut t = Taint::default();
        for n in syntax::descendants(args) {
            if n.kind_str() == "identifier" {
                if let Some(x) = self.env.get(self.src.node_text(n).as_ref()) {
                    t.union(x);
                }
            }
        }
        self.sink(SinkKind::Use, call, call, t, false);
    }

    /// A function of the module. (Class headers do not bind module names in the model, so a
    /// module-level `Def` binding is a function; no scan of the function list per call.)
    fn is_module_function(&self, name: &str) -> bool {
        matches!(self.model.binding(name), Some(Binding::Def))
    }

    // ---- statements -----------------------------------------------------------------------

    fn block(&mut self, block: Node) {
        for s in named_children(block) {
            self.stmt(s);
        }
    }

    fn stmt(&mut self, s: Node) {
        if self.depth > MAX_DEPTH {
            return;
        }
        self.depth += 1;
        self.stmt_inner(s);
        self.depth -= 1;
    }

    fn stmt_inner(&mut self, s: Node) {
        match s.kind_str() {
            "expression_statement" => {
                for c in named_children(s) {
                    match c.kind_str() {
                        "assignment" => {
                            self.assign(c);
                        }
                        "augmented_assignment" => {
                            if let (Some(l), Some(r)) = (c.field("left"), c.field("right")) {
                                let t = self.eval(r);
                                let mut cur = self.eval_target_current(l);
                                cur.union(&t);
                                self.bind(l, cur, None);
                            }
                        }
                        "call" => {
                            self.validating_call(c);
                            self.eval(c);
                        }
                        _ => {
                            self.eval(c);
                        }
                    }
                }
            }
            "return_statement" => {
                if let Some(v) = s.named_child(0) {
                    let t = self.eval(v);
                    self.flow.ret.union(&t);
                    if self.flow.responds {
                        self.sink(SinkKind::Return, s, v, t, false);
                    }
                }
            }
            "raise_statement" => {
                self.flow.raises = true;
                if let Some(v) = s.named_child(0) {
                    self.eval(v);
                }
            }
            "if_statement" => {
                if let Some(c) = s.field("condition") {
                    self.eval(c);
                    self.check_validation(c, s.field("consequence"), s);
                }
                if let Some(b) = s.field("consequence") {
                    self.block(b);
                }
                for alt in named_children(s) {
                    match alt.kind_str() {
                        "elif_clause" => {
                            if let Some(c) = alt.field("condition") {
                                self.eval(c);
                                self.check_validation(c, alt.field("consequence"), alt);
                            }
                            if let Some(b) = alt.field("consequence") {
                                self.block(b);
                            }
                        }
                        "else_clause" => {
                            if let Some(b) = alt.field("body") {
                                self.block(b);
                            }
                        }
                        _ => {}
                    }
                }
            }
            "for_statement" => {
                let t = s.field("right").map(|r| self.eval(r)).unwrap_or_default();
                if let Some(l) = s.field("left") {
                    self.bind(l, t, None);
                }
                if let Some(b) = s.field("body") {
                    self.block(b);
                }
                if let Some(b) = s.field("alternative") {
                    self.stmt(b);
                }
            }
            "while_statement" => {
                if let Some(c) = s.field("condition") {
                    self.eval(c);
                }
                if let Some(b) = s.field("body") {
                    self.block(b);
                }
            }
            "try_statement"
            | "except_clause"
            | "else_clause"
            | "finally_clause"
            | "except_group_clause" => {
                for c in named_children(s) {
                    if c.kind_str() == "block" {
                        self.block(c);
                    } else if matches!(
                        c.kind_str(),
                        "except_clause" | "else_clause" | "finally_clause" | "except_group_clause"
                    ) {
                        self.stmt(c);
                    }
                }
            }
            "with_statement" => {
                for c in named_children(s) {
                    match c.kind_str() {
                        "with_clause" => {
                            for item in named_children(c) {
                                if item.kind_str() == "with_item" {
                                    if let Some(v) = item.field("value") {
                                        self.with_item(v);
                                    }
                                }
                            }
                        }
                        "block" => self.block(c),
                        _ => {}
                    }
                }
            }
            "assert_statement" => {
                let pos = self.rel(s).start;
                for n in syntax::descendants(s) {
                    if n.kind_str() == "identifier" {
                        self.validated(n, pos);
                    }
                }
                for c in named_children(s) {
                    self.eval(c);
                }
            }
            "decorated_definition" | "function_definition" | "class_definition" => {}
            "block" => self.block(s),
            _ => {}
        }
    }

    fn with_item(&mut self, v: Node) {
        if v.kind_str() == "as_pattern" {
            let value = v.named_child(0);
            let alias = v.field("alias").and_then(|a| {
                if a.kind_str() == "as_pattern_target" {
                    a.named_child(0)
                } else {
                    Some(a)
                }
            });
            if let Some(value) = value {
                let t = self.eval(value);
                if let Some(alias) = alias {
                    self.bind(alias, t, Some(value));
                }
            }
        } else {
            self.eval(v);
        }
    }

    /// `if not key or len(key) < 20: raise ...` / `return ...`: every name in the condition is
    /// validated from here on.
    fn check_validation(&mut self, cond: Node, body: Option<Node>, at: Node) {
        let Some(body) = body else { return };
        let rejects = named_children(body)
            .iter()
            .any(|s| matches!(s.kind_str(), "raise_statement" | "return_statement"));
        if !rejects {
            return;
        }
        let pos = self.rel(at).start;
        for n in syntax::descendants(cond) {
            if n.kind_str() == "identifier" {
                self.validated(n, pos);
            }
        }
    }

    /// `validate_key(key)`, `check_api_key(key)`, `verify(...)` as a statement.
    fn validating_call(&mut self, call: Node) {
        let Some(f) = call.field("function") else {
            return;
        };
        let name = match f.kind_str() {
            "identifier" => self.text(f),
            "attribute" => f
                .field("attribute")
                .map(|a| self.text(a))
                .unwrap_or_default(),
            _ => return,
        }
        .to_ascii_lowercase();
        if ["valid", "check", "verify", "authenticate", "authorize"]
            .iter()
            .any(|w| name.contains(w))
        {
            let pos = self.rel(call).start;
            for a in syntax::positional_args(call) {
                if a.kind_str() == "identifier" {
                    self.validated(a, pos);
                }
            }
        }
    }

    fn validated(&mut self, name: Node, pos: usize) {
        if let Some(t) = self.env.get(self.src.node_text(name).as_ref()) {
            if !t.is_empty() {
                self.flow.validations.push((t.clone(), pos));
            }
        }
    }

    fn assign(&mut self, a: Node) -> Taint {
        let Some(left) = a.field("left") else {
            return Taint::default();
        };
        let Some(right) = a.field("right") else {
            return Taint::default();
        };
        let right = syntax::unparenthesize(right);
        if right.kind_str() == "assignment" {
            let t = self.assign(right);
            self.bind(left, t.clone(), None);
            return t;
        }
        let left_elems = match left.kind_str() {
            "pattern_list" | "tuple_pattern" | "list_pattern" => Some(named_children(left)),
            _ => None,
        };
        let right_elems = match right.kind_str() {
            "expression_list" | "tuple" | "list" => Some(named_children(right)),
            _ => None,
        };
        if let (Some(l), Some(r)) = (&left_elems, &right_elems) {
            if l.len() == r.len() {
                let mut all = Taint::default();
                for (le, re) in l.iter().zip(r) {
                    let t = self.eval(*re);
                    all.union(&t);
                    self.bind(*le, t, Some(*re));
                }
                return all;
            }
        }
        let t = self.eval(right);
        self.bind(left, t.clone(), Some(right));
        t
    }

    fn eval_target_current(&mut self, target: Node) -> Taint {
        if target.kind_str() == "identifier" {
            self.name(target)
        } else {
            Taint::default()
        }
    }

    fn bind(&mut self, target: Node, t: Taint, rhs: Option<Node>) {
        let t = self.minted(target, t, rhs);
        match target.kind_str() {
            "identifier" => {
                let name = self.text(target);
                if self.module {
                    self.flow.defines.push((name.clone(), t.clone()));
                }
                let is_const = rhs.is_some_and(|r| self.is_const(r));
                if is_const {
                    self.consts.insert(name.clone());
                } else {
                    self.consts.remove(&name);
                }
                match rhs.and_then(|r| self.qualify(r)) {
                    Some(q) => {
                        self.handles.insert(name.clone(), q);
                    }
                    None => {
                        self.handles.remove(&name);
                    }
                }
                let class = rhs
                    .map(syntax::unparenthesize)
                    .filter(|r| r.kind_str() == "call")
                    .and_then(|r| r.field("function"))
                    .filter(|f| f.kind_str() == "identifier")
                    .map(|f| self.text(f))
                    .filter(|c| !self.locals.contains(c))
                    // `repo = Repo(table)`, `repo = get_repo()` (a factory of the module);
                    // `repo = KeyRepository()` of another module (`@` and its import path).
                    .and_then(|c| {
                        let c = [c];
                        self.class_made_by(&c, 0)
                            .or_else(|| self.imported_class(&c))
                    })
                    // `repo = repository.KeyRepository()` after `from . import repository`.
                    .or_else(|| {
                        let r = syntax::unparenthesize(rhs?);
                        let f = r.field("function").filter(|_| r.kind_str() == "call")?;
                        if f.kind_str() != "attribute" {
                            return None;
                        }
                        self.imported_class(&syntax::dotted_path(f, self.src)?)
                    });
                // `user = User.get(pk)` (PynamoDB): an instance of `User`.
                let class = class.or_else(|| {
                    let r = syntax::unparenthesize(rhs?);
                    let r = if r.kind_str() == "await" {
                        r.named_child(0)?
                    } else {
                        r
                    };
                    let f = r.field("function").filter(|_| r.kind_str() == "call")?;
                    let obj = f.field("object").filter(|_| f.kind_str() == "attribute")?;
                    let method = self.text(f.field("attribute")?);
                    let c = self.text(obj);
                    (matches!(method.as_str(), "get" | "get_or_none")
                        && obj.kind_str() == "identifier"
                        && self.is_pynamo_class(&c))
                    .then_some(c)
                });
                // `account = Account(email, api_key=key)`: what its constructor stored.
                let ctor_parts = rhs
                    .map(syntax::unparenthesize)
                    .filter(|r| r.kind_str() == "call")
                    .filter(|r| {
                        r.field("function").is_some_and(|f| {
                            f.kind_str() == "identifier"
                                && class.as_deref() == Some(self.text(f).as_str())
                        })
                    })
                    .map(|r| {
                        let range = self.rel(r);
                        self.parts
                            .iter()
                            .filter(|(p, _)| range.start <= p.start && p.end <= range.end)
                            .cloned()
                            .collect::<Vec<_>>()
                    });
                match class.as_deref().filter(|c| self.is_pynamo_class(c)) {
                    Some(_) => {
                        self.pynamo_parts
                            .insert(name.clone(), ctor_parts.unwrap_or_default());
                    }
                    None => {
                        self.pynamo_parts.remove(&name);
                    }
                }
                match class {
                    Some(c) => {
                        self.instances.insert(name.clone(), c);
                    }
                    None => {
                        self.instances.remove(&name);
                    }
                }
                // `with User.batch_write() as batch`.
                if rhs.is_some_and(|r| {
                    let r = syntax::unparenthesize(r);
                    r.kind_str() == "call"
                        && r.field("function").is_some_and(|f| {
                            f.kind_str() == "attribute"
                                && f.field("attribute")
                                    .is_some_and(|a| self.text(a) == "batch_write")
                        })
                }) {
                    self.handles
                        .insert(name.clone(), "pynamodb.Model.batch_write()".into());
                }
                match rhs.and_then(|r| self.dict_fields(r)) {
                    Some(f) => {
                        self.fields.insert(name.clone(), f);
                    }
                    None => {
                        self.fields.remove(&name);
                    }
                }
                self.locals.insert(name.clone());
                self.env.insert(name, t);
            }
            "pattern_list" | "tuple_pattern" | "list_pattern" | "list_splat_pattern" => {
                for c in named_children(target) {
                    self.bind(c, t.clone(), None);
                }
            }
            "subscript" | "attribute" => {
                // `response.headers["X-API-Key"] = key` in a handler: sent to the client.
                if self.flow.responds
                    && target.kind_str() == "subscript"
                    && target.field("value").is_some_and(|v| {
                        v.kind_str() == "attribute"
                            && v.field("attribute")
                                .is_some_and(|a| self.src.node_text(a) == "headers")
                            && v.field("object").is_some_and(|o| {
                                self.src.node_text(o).to_ascii_lowercase().contains("resp")
                            })
                    })
                {
                    if let Some(rhs) = rhs {
                        let at = syntax::enclosing_statement(target);
                        self.sink(SinkKind::Return, at, rhs, t.clone(), false);
                    }
                }
                // `account.api_key = key` on a PynamoDB instance: a value its `save()` stores.
                if let (Some(obj), Some(rhs)) = (
                    target.field("object").filter(|o| {
                        target.kind_str() == "attribute" && o.kind_str() == "identifier"
                    }),
                    rhs,
                ) {
                    let name = self.text(obj);
                    if !t.is_empty() && self.pynamo_parts.contains_key(&name) {
                        let part = (self.rel(rhs), t.clone());
                        if let Some(p) = self.pynamo_parts.get_mut(&name) {
                            p.push(part);
                        }
                    }
                }
                // `d["api_key"] = key`: the dict now holds the key.
                let obj = target.field("value").or_else(|| target.field("object"));
                if let Some(sub) = target.field("subscript") {
                    self.eval(sub);
                }
                if let Some(obj) = obj.filter(|o| o.kind_str() == "identifier") {
                    let name = self.text(obj);
                    let key = target
                        .field("subscript")
                        .and_then(|k| string_value(k, self.src));
                    match (self.fields.get_mut(&name), key) {
                        (Some(f), Some(k)) => match f.iter_mut().find(|(n, _)| *n == k) {
                            Some(entry) => entry.1 = t.clone(),
                            None => f.push((k, t.clone())),
                        },
                        _ => {
                            self.fields.remove(&name);
                        }
                    }
                    if self.env.contains_key(&name) || self.locals.contains(&name) {
                        let entry = self.env.entry(name).or_default();
                        entry.union(&t);
                    }
                }
            }
            _ => {}
        }
    }

    /// A value minted by the service (`secrets.token_urlsafe(32)`) bound to a key-named target
    /// (`api_key = …`, `user.api_key = …`) is key material: `t` plus a [`Kind::Minted`] source.
    fn minted(&mut self, target: Node, t: Taint, rhs: Option<Node>) -> Taint {
        let Some(rhs) = rhs else { return t };
        let name = match target.kind_str() {
            "identifier" => self.text(target),
            "attribute" => match target.field("attribute") {
                Some(a) => self.text(a),
                None => return t,
            },
            "subscript" => match target
                .field("subscript")
                .and_then(|k| string_value(k, self.src))
            {
                Some(k) => k,
                None => return t,
            },
            _ => return t,
        };
        self.minted_as(&name, t, rhs)
    }

    fn minted_as(&mut self, name: &str, mut t: Taint, value: Node) -> Taint {
        if !fw::is_minted_key_name(name) {
            return t;
        }
        if let Some(what) = self.mint_expr(value, 0) {
            let x = self.source(
                value,
                Kind::Minted,
                format!("key minted here (`{what}`)"),
                None,
                None,
            );
            t.union(&x);
        }
        t
    }

    /// The minting call inside `node` (`secrets.token_urlsafe()`, `uuid.uuid4().hex`,
    /// `"sk_" + secrets.token_hex(16)`, `str(uuid4())`), if it is one.
    fn mint_expr(&self, node: Node, depth: usize) -> Option<String> {
        if depth > 8 {
            return None;
        }
        let node = syntax::unparenthesize(node);
        match node.kind_str() {
            "call" => {
                let f = node.field("function")?;
                if let Some(q) = self.qualify(f) {
                    if fw::is_mint_call(&q) {
                        let short = q.rsplit('.').take(2).collect::<Vec<_>>();
                        return Some(format!(
                            "{}()",
                            short.into_iter().rev().collect::<Vec<_>>().join(".")
                        ));
                    }
                    if matches!(q.as_str(), "str" | "f") {
                        return syntax::positional_args(node)
                            .first()
                            .and_then(|a| self.mint_expr(*a, depth + 1));
                    }
                }
                // `await strategy.write_token(user)`: a fastapi-users strategy issues a token.
                if f.kind_str() == "attribute"
                    && f.field("attribute")
                        .is_some_and(|a| self.text(a) == "write_token")
                {
                    return Some("write_token()".into());
                }
                // `secrets.token_bytes(32).hex()`, `Fernet.generate_key().decode()`.
                if f.kind_str() == "attribute" {
                    return self.mint_expr(f.field("object")?, depth + 1);
                }
                None
            }
            "attribute" => self.mint_expr(node.field("object")?, depth + 1),
            "binary_operator" => {
                let l = node.field("left")?;
                let r = node.field("right")?;
                self.mint_expr(l, depth + 1)
                    .or_else(|| self.mint_expr(r, depth + 1))
            }
            "string" => named_children(node)
                .into_iter()
                .filter(|c| c.kind_str() == "interpolation")
                .find_map(|c| c.named_child(0).and_then(|e| self.mint_expr(e, depth + 1))),
            "await" => self.mint_expr(node.named_child(0)?, depth + 1),
            _ => None,
        }
    }

    // ---- expressions ----------------------------------------------------------------------

    fn name(&mut self, node: Node) -> Taint {
        let name = self.text(node);
        if let Some(t) = self.env.get(&name) {
            return t.clone();
        }
        if self.locals.contains(&name) {
            return Taint::default();
        }
        if let Some(q) = self.model.resolve(node, self.src) {
            if fw::is_flask_request(&q) {
                return self.source(
                    node,
                    Kind::Request,
                    "the request enters here".into(),
                    None,
                    None,
                );
            }
        }
        match self.model.binding(&name) {
            Some(Binding::Call { .. }) | Some(Binding::Other) => {
                let i = match self.flow.globals.iter().position(|g| *g == name) {
                    Some(i) => i,
                    None if self.flow.globals.len() < MAX_CALLS => {
                        self.flow.globals.push(name);
                        self.flow.globals.len() - 1
                    }
                    None => return Taint::default(),
                };
                Taint::one(Base::Global(i as u16))
            }
            // `API_KEY` after `from .settings import API_KEY`: a module-level name of another
            // module (`@` and its import path), which only the project model resolves. Only a
            // key-like name imported `from` a module (every constant would make the CLI
            // summarise every module of constants a kept file imports).
            Some(Binding::Import(q)) if q.contains('.') && fw::is_key_name(&name) => {
                let global = format!("@{q}");
                let i = match self.flow.globals.iter().position(|g| *g == global) {
                    Some(i) => i,
                    None if self.flow.globals.len() < MAX_CALLS => {
                        self.flow.globals.push(global);
                        self.flow.globals.len() - 1
                    }
                    None => return Taint::default(),
                };
                Taint::one(Base::Global(i as u16))
            }
            _ => Taint::default(),
        }
    }

    fn eval(&mut self, node: Node) -> Taint {
        if self.depth > MAX_DEPTH {
            return Taint::default();
        }
        self.depth += 1;
        let t = self.eval_inner(node);
        self.depth -= 1;
        t
    }

    fn eval_inner(&mut self, node: Node) -> Taint {
        let node = syntax::unparenthesize(node);
        match node.kind_str() {
            "identifier" => self.name(node),
            "string" => {
                let mut t = Taint::default();
                for c in named_children(node) {
                    if c.kind_str() == "interpolation" {
                        if let Some(e) = c.named_child(0) {
                            let x = self.eval(e);
                            if !x.is_empty() {
                                self.parts.push((self.rel(e), x.clone()));
                            }
                            t.union(&x);
                        }
                    }
                }
                t
            }
            "comparison_operator" | "not_operator" | "lambda" => {
                for c in named_children(node) {
                    self.eval(c);
                }
                Taint::default()
            }
            "conditional_expression" => {
                let kids = named_children(node);
                let mut t = Taint::default();
                for (i, c) in kids.iter().enumerate() {
                    let x = self.eval(*c);
                    if i != 1 {
                        t.union(&x);
                    }
                }
                t
            }
            "dictionary" => {
                let mut t = Taint::default();
                for c in named_children(node) {
                    match c.kind_str() {
                        "pair" => {
                            if let Some(k) = c.field("key") {
                                self.eval(k);
                            }
                            if let Some(v) = c.field("value") {
                                let mut x = self.eval(v);
                                if let Some(k) =
                                    c.field("key").and_then(|k| string_value(k, self.src))
                                {
                                    x = self.minted_as(&k, x, v);
                                }
                                if !x.is_empty() {
                                    self.parts.push((self.rel(v), x.clone()));
                                }
                                t.union(&x);
                            }
                        }
                        _ => {
                            let x = self.eval(c);
                            t.union(&x);
                        }
                    }
                }
                t
            }
            "list_comprehension"
            | "set_comprehension"
            | "generator_expression"
            | "dictionary_comprehension" => self.comprehension(node),
            "subscript" => self.subscript(node),
            "attribute" => self.attribute(node),
            "call" => self.call(node),
            "yield" if node.is_named() => {
                // A generator (a FastAPI dependency with `yield`) gives what it yields.
                let mut t = Taint::default();
                for c in named_children(node) {
                    let x = self.eval(c);
                    t.union(&x);
                }
                self.flow.ret.union(&t);
                Taint::default()
            }
            "integer" | "float" | "true" | "false" | "none" | "ellipsis" => Taint::default(),
            _ => {
                let mut t = Taint::default();
                for c in named_children(node) {
                    let x = self.eval(c);
                    t.union(&x);
                }
                t
            }
        }
    }

    fn comprehension(&mut self, node: Node) -> Taint {
        let saved = self.env.clone();
        let kids = named_children(node);
        for c in &kids {
            if c.kind_str() == "for_in_clause" {
                let t = c.field("right").map(|r| self.eval(r)).unwrap_or_default();
                if let Some(l) = c.field("left") {
                    self.bind(l, t, None);
                }
            }
        }
        let mut out = Taint::default();
        if let Some(body) = kids.first() {
            out = if body.kind_str() == "pair" {
                body.field("value")
                    .map(|v| self.eval(v))
                    .unwrap_or_default()
            } else {
                self.eval(*body)
            };
        }
        for c in &kids {
            if c.kind_str() == "if_clause" {
                self.eval(*c);
            }
        }
        self.env = saved;
        out
    }

    fn subscript(&mut self, node: Node) -> Taint {
        let Some(value) = node.field("value") else {
            return Taint::default();
        };
        let sub = node.field("subscript");
        if sub.is_some_and(|s| self.is_mask_slice(s)) {
            // `key[:4]`, `key[-4:]`: a short prefix or suffix, the usual masked form.
            self.eval(value);
            return Taint::default();
        }
        let key = sub.and_then(|s| string_value(s, self.src));
        if let Some(s) = sub {
            self.eval(s);
        }
        if self.qualify(value).as_deref() == Some("os.environ") {
            return match key {
                Some(k) if fw::is_key_name(&k) => self.env_source(node, &k),
                _ => Taint::default(),
            };
        }
        if let Some(f) = key.as_deref().and_then(|k| self.known_field(value, k)) {
            return f;
        }
        let t = self.eval(value);
        if t.is_empty() {
            if let Some(x) = key.as_deref().and_then(|k| self.config_key(node, value, k)) {
                return x;
            }
        }
        let t = match key.as_deref() {
            Some(k) => self.other_field(t, k),
            None => t,
        };
        self.project(t, node, key.as_deref())
    }

    /// `d["name"]`, `d.get("name")` where `d` carries key material as a whole: a string key
    /// means `d` is a mapping that *holds* the key (a dict a function built and returned), so a
    /// field not named like a key (`name`, `issuer`, `openid_config_url`) is another field of
    /// it, not the key. Only that field's taint is kept: the whole-key labels are dropped, the
    /// key-named fields (`d["client_secret"]`) and whole-dict uses keep them.
    fn other_field(&self, t: Taint, key: &str) -> Taint {
        if fw::is_key_name(key) || t.is_empty() || !is_other_field(key) {
            return t;
        }
        Taint(
            t.0.into_iter()
                .filter(|l| {
                    l.mode != Mode::Whole
                        || match l.base {
                            Base::Source(i) => !matches!(
                                self.flow.sources[i as usize].kind,
                                Kind::Key | Kind::Named | Kind::Minted
                            ),
                            // The result of a module function, a parameter, a global: what
                            // reaches here through it is resolved later; a non-key field of it
                            // holds no key (a body's, a model's or an item's non-key field
                            // holds none either).
                            Base::Call(_) | Base::Param(_) | Base::Global(_) => false,
                        }
                })
                .collect(),
        )
    }

    /// `[:n]` with n ≤ 8, or `[-n:]` with n ≤ 8.
    fn is_mask_slice(&self, sub: Node) -> bool {
        if sub.kind_str() != "slice" {
            return false;
        }
        let text: String = self
            .src
            .node_text(sub)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let small = |n: &str| n.parse::<u32>().is_ok_and(|n| n <= 8);
        match text.split(':').collect::<Vec<_>>().as_slice() {
            [start, end] => {
                (start.is_empty() || *start == "0") && small(end)
                    || start.strip_prefix('-').is_some_and(small) && end.is_empty()
            }
            _ => false,
        }
    }

    /// The module class `class` defines method `m` (inherited ones, `model_dump`… are not ours).
    fn defines_method(&self, class: &str, m: &str) -> bool {
        let Some(idx) = self
            .model
            .classes
            .iter()
            .position(|c| c.name == class && c.parent.is_none())
        else {
            return false;
        };
        self.model
            .functions
            .iter()
            .any(|f| f.name == m && f.class == Some(idx))
    }

    /// The module class `name` is an instance of: bound here (`store = KeyStore()`) or at module
    /// level.
    fn instance_class(&self, recv: Node) -> Option<String> {
        if recv.kind_str() == "attribute" {
            // `self.repo` with `self.repo = Repo()` (or a factory) in a method of the class.
            let callee = self.self_attribute(recv)?;
            return self
                .class_made_by(callee, 0)
                .or_else(|| self.imported_class(callee));
        }
        if recv.kind_str() != "identifier" {
            return None;
        }
        let name = self.src.node_text(recv);
        if let Some(c) = self.instances.get(name.as_ref()) {
            return Some(c.clone());
        }
        if self.locals.contains(name.as_ref()) {
            return None;
        }
        match self.model.binding(&name) {
            // `repo = Repo()`, `repo = get_repo()` at module level.
            Some(Binding::Call { callee, .. }) => self
                .class_made_by(callee, 0)
                .or_else(|| self.imported_class(callee)),
            _ => None,
        }
    }

    /// A class of another module named by `path` as written (`["KeyRepository"]`,
    /// `["repository", "KeyRepository"]`): a capitalised name reached through a module-level
    /// import, as `@` and its import path (`@.repository.KeyRepository`). Its methods are called
    /// as `@….KeyRepository.save`, which only the project model resolves.
    fn imported_class(&self, path: &[String]) -> Option<String> {
        let head = path.first()?;
        if !path.last()?.starts_with(|c: char| c.is_ascii_uppercase())
            || self.locals.contains(head)
            || !matches!(self.model.binding(head), Some(Binding::Import(_)))
        {
            return None;
        }
        let q = self.model.resolve_path(path)?;
        // A framework's class (`HttpResponse`, `Request`, `Session`) is no class of the project:
        // the rules know what its methods do.
        const FRAMEWORKS: &[&str] = &[
            "django",
            "flask",
            "fastapi",
            "starlette",
            "pydantic",
            "werkzeug",
            "sqlalchemy",
            "boto3",
            "botocore",
            "pynamodb",
            "requests",
            "httpx",
            "aiohttp",
            "typing",
        ];
        let top = q.split('.').next().unwrap_or("");
        if FRAMEWORKS.contains(&top) {
            return None;
        }
        Some(format!("@{q}"))
    }

    /// [`Self::imported_class`] of a parameter's annotation (`KeyRepository`,
    /// `Optional[repository.KeyRepository]`, `KeyRepository | None`).
    fn annotated_import(&self, ty: &str) -> Option<String> {
        let mut t = ty.trim();
        if let Some(inner) = t
            .strip_prefix("Optional[")
            .or_else(|| t.strip_prefix("typing.Optional["))
            .and_then(|r| r.strip_suffix(']'))
        {
            t = inner.trim();
        }
        if let Some(inner) = t.strip_suffix("| None") {
            t = inner.trim();
        }
        if t.is_empty()
            || !t
                .split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_'))
        {
            return None;
        }
        let path: Vec<String> = t.split('.').map(str::to_string).collect();
        self.imported_class(&path)
    }

    /// `name` is a top-level class of the module (class headers do not bind module names in the
    /// model: a class is known by name, unless something else rebinds it).
    fn is_module_class(&self, name: &str) -> bool {
        !self.locals.contains(name)
            && self
                .model
                .classes
                .iter()
                .any(|c| c.name == name && c.parent.is_none())
            && matches!(self.model.binding(name), None | Some(Binding::Def))
    }

    /// The module class a call of `callee` (as written) makes: its constructor (`Repo`), or a
    /// module function that returns or yields one (`get_repo`, a factory; also a factory of a
    /// factory).
    fn class_made_by(&self, callee: &[String], depth: usize) -> Option<String> {
        let [name] = callee else { return None };
        if depth > 8 || self.locals.contains(name) {
            return None;
        }
        let is_class = self
            .model
            .classes
            .iter()
            .any(|c| c.name == *name && c.parent.is_none());
        match self.model.binding(name) {
            None if is_class => Some(name.clone()),
            Some(Binding::Def) if is_class && !self.model.function_returns.contains_key(name) => {
                Some(name.clone())
            }
            Some(Binding::Def) => {
                let inner = self.model.function_returns.get(name)?;
                self.class_made_by(inner, depth + 1)
            }
            _ => None,
        }
    }

    /// What `self.attr` was assigned in a method of the enclosing class, when a call
    /// (`self._table = dynamodb.Table(name)` → `["dynamodb", "Table"]`).
    fn self_attribute(&self, node: Node) -> Option<&'a Vec<String>> {
        if node.kind_str() != "attribute" {
            return None;
        }
        let obj = node.field("object")?;
        if obj.kind_str() != "identifier" || self.src.node_text(obj) != "self" {
            return None;
        }
        let class = self.class.as_deref()?;
        let attr = self.src.node_text(node.field("attribute")?);
        let model: &'a Model = self.model;
        model
            .classes
            .iter()
            .rev()
            .find(|c| c.name == class)?
            .self_handles
            .iter()
            .find(|(a, _)| *a == attr)
            .map(|(_, callee)| callee)
    }

    /// What `value[key]` holds when `value` is a local dict with known fields.
    fn known_field(&self, value: Node, key: &str) -> Option<Taint> {
        if value.kind_str() != "identifier" {
            return None;
        }
        let f = self.fields.get(self.src.node_text(value).as_ref())?;
        Some(
            f.iter()
                .find(|(n, _)| n == key)
                .map(|(_, t)| t.clone())
                .unwrap_or_default(),
        )
    }

    /// The fields of a dict literal whose keys are all string literals.
    fn dict_fields(&self, rhs: Node) -> Option<Vec<(String, Taint)>> {
        let rhs = syntax::unparenthesize(rhs);
        if rhs.kind_str() != "dictionary" {
            return None;
        }
        let mut out = Vec::new();
        for c in named_children(rhs) {
            if c.kind_str() != "pair" {
                return None;
            }
            let key = string_value(c.field("key")?, self.src)?;
            let v = self.rel(c.field("value")?);
            let t = self
                .parts
                .iter()
                .rev()
                .find(|(r, _)| *r == v)
                .map(|(_, t)| t.clone())
                .unwrap_or_default();
            out.push((key, t));
        }
        Some(out)
    }

    fn env_source(&mut self, node: Node, var: &str) -> Taint {
        self.source(
            node,
            Kind::Key,
            format!("secret read from the environment here (`{var}`)"),
            None,
            None,
        )
    }

    fn attribute(&mut self, node: Node) -> Taint {
        let (Some(obj), Some(attr)) = (node.field("object"), node.field("attribute")) else {
            return Taint::default();
        };
        if let Some(q) = self.model.resolve(node, self.src) {
            if fw::is_flask_request(&q) {
                return self.source(
                    node,
                    Kind::Request,
                    "the request enters here".into(),
                    None,
                    None,
                );
            }
        }
        let attr = self.text(attr);
        let t = self.eval(obj);
        // `self.api_key` in a method (an SDK wrapper's credential), unless the class binds it
        // to a string constant; Flask's `g.api_key` (a key carried through the request).
        let holder = if obj.kind_str() != "identifier" || !fw::is_named_key(&attr) {
            None
        } else if self.src.node_text(obj) == "self"
            && self.class.is_some()
            && !self.class_str_const(&attr)
        {
            Some("self")
        } else if self.model.resolve(obj, self.src).as_deref() == Some("flask.g") {
            Some("g")
        } else {
            None
        };
        if let Some(holder) = holder {
            let mut x = self.project(t, node, Some(&attr));
            let named = self.source(
                node,
                Kind::Named,
                format!("`{holder}.{attr}`, a key by its name"),
                None,
                None,
            );
            x.union(&named);
            return x;
        }
        self.project(t, node, Some(&attr))
    }

    /// The enclosing class binds `attr` to a string literal (a constant, not a credential).
    fn class_str_const(&self, attr: &str) -> bool {
        let Some(class) = &self.class else {
            return false;
        };
        self.model
            .classes
            .iter()
            .position(|c| c.name == *class)
            .is_some_and(|i| self.model.is_class_str_const(i, attr))
    }

    /// `app.config["API_KEY"]`, `current_app.config.get("SECRET_KEY")`: a key by its name.
    fn config_key(&mut self, at: Node, holder: Node, key: &str) -> Option<Taint> {
        let holder_text = self.src.node_text(holder);
        let config = holder_text == "config" || holder_text.ends_with(".config");
        (config && fw::is_named_key(key)).then(|| {
            self.source(
                at,
                Kind::Named,
                format!("configuration `{key}`, a key by its name"),
                None,
                None,
            )
        })
    }

    /// `value.field` / `value["field"]`: a secret-named field of a holder is key material, another
    /// field of it is not; a key stays a key.
    fn project(&mut self, t: Taint, at: Node, field: Option<&str>) -> Taint {
        if t.is_empty() {
            return t;
        }
        let Some(field) = field else { return t };
        let mode = if fw::is_key_name(field) {
            if self.masked_everywhere(field) {
                Mode::MaskedField
            } else {
                Mode::Secret
            }
        } else if matches!(
            field,
            "Item"
                | "Items"
                | "Attributes"
                | "Responses"
                | "__dict__"
                | "credentials"
                | "attribute_values"
                | "state"
        ) {
            Mode::Whole
        } else {
            Mode::Other
        };
        let mut out = Taint::default();
        for l in t.0.clone() {
            match l.base {
                Base::Source(i) if l.mode == Mode::Whole => {
                    let s = self.flow.sources[i as usize].clone();
                    let mode = if mode == Mode::MaskedField {
                        Mode::Secret
                    } else {
                        mode
                    };
                    match (s.kind, mode) {
                        (Kind::Key | Kind::Minted, _) => out.union(&Taint(vec![l])),
                        // `request.state.api_key`: set by a middleware, read by the handler.
                        (Kind::Request, _) if field == "state" => {
                            let x = self.source(
                                at,
                                Kind::Body,
                                "request state enters here (`request.state`)".into(),
                                None,
                                None,
                            );
                            out.union(&x);
                        }
                        (Kind::Request, _) if field == "headers" => {
                            let x = self.source(
                                at,
                                Kind::Headers,
                                "request headers enter here".into(),
                                None,
                                None,
                            );
                            out.union(&x);
                        }
                        (Kind::Request, _) if REQUEST_DATA_FIELDS.contains(&field) => {
                            let x = self.source(
                                at,
                                Kind::Body,
                                "request data enters here".into(),
                                None,
                                None,
                            );
                            out.union(&x);
                        }
                        (_, Mode::Whole) => out.union(&Taint(vec![l])),
                        (Kind::Masked, _) => {}
                        (Kind::Model | Kind::MaskedModel, Mode::Secret)
                            if s.kind == Kind::MaskedModel
                                || self.masked_field(s.class.as_deref(), field) =>
                        {
                            let x = self.source(
                                at,
                                Kind::Masked,
                                format!(
                                    "masked secret enters here (field `{field}` of `{}`)",
                                    s.class.clone().unwrap_or_default()
                                ),
                                s.class.clone(),
                                None,
                            );
                            out.union(&x);
                        }
                        (kind, Mode::Secret) => {
                            let message = match kind {
                                Kind::Headers => format!("API key enters here (header `{field}`)"),
                                Kind::Model => format!(
                                    "API key enters here (field `{field}` of `{}`)",
                                    s.class.clone().unwrap_or_default()
                                ),
                                Kind::Stored => {
                                    format!("stored key read here (attribute `{field}`)")
                                }
                                _ => format!("API key enters here (field `{field}`)"),
                            };
                            let x = self.source(at, Kind::Key, message, None, None);
                            out.union(&x);
                        }
                        (_, Mode::Other | Mode::Unmask | Mode::MaskedField) => {}
                    }
                }
                _ => out.union(&Taint(vec![Label {
                    base: l.base,
                    mode: Mode::compose(mode, l.mode),
                }])),
            }
        }
        out
    }

    /// The qualified name of an expression through local handles and the model.
    fn qualify(&self, node: Node) -> Option<String> {
        self.qualify_depth(node, 0)
    }

    fn qualify_depth(&self, node: Node, depth: usize) -> Option<String> {
        if depth > MAX_DEPTH {
            return None;
        }
        let node = syntax::unparenthesize(node);
        match node.kind_str() {
            "identifier" => {
                let name = self.text(node);
                if let Some(q) = self.handles.get(&name) {
                    return Some(q.clone());
                }
                if self.locals.contains(&name) {
                    return None;
                }
                self.model.resolve(node, self.src)
            }
            "attribute" => {
                // `self._table` set to `dynamodb.Table(name)` in `__init__`.
                if let Some(callee) = self.self_attribute(node) {
                    if let Some(q) = self.model.resolve_path(callee) {
                        return Some(format!("{q}()"));
                    }
                }
                let obj = node.field("object")?;
                let attr = node.field("attribute")?;
                Some(format!(
                    "{}.{}",
                    self.qualify_depth(obj, depth + 1)?,
                    self.text(attr)
                ))
            }
            "call" => {
                let f = node.field("function")?;
                if f.kind_str() == "identifier" {
                    // `get_table()`: what the module function returns.
                    let name = self.src.node_text(f);
                    if !self.locals.contains(name.as_ref()) && self.is_module_function(&name) {
                        let callee = self.model.function_returns.get(name.as_ref())?;
                        return Some(format!("{}()", self.model.resolve_path(callee)?));
                    }
                }
                Some(format!("{}()", self.qualify_depth(f, depth + 1)?))
            }
            "await" => self.qualify_depth(node.named_child(0)?, depth + 1),
            _ => None,
        }
    }

    /// A URL that is a constant of the code (a literal, a module constant, a literal scheme and
    /// host with a variable path).
    fn is_const(&self, node: Node) -> bool {
        self.is_const_depth(node, 0)
    }

    fn is_const_depth(&self, node: Node, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        let node = syntax::unparenthesize(node);
        match node.kind_str() {
            "string" => {
                let kids = named_children(node);
                match kids.iter().find(|c| c.kind_str() != "string_start") {
                    None => true,
                    Some(first) if first.kind_str() == "string_end" => true,
                    Some(first) if first.kind_str() == "string_content" => {
                        let text = self.text(*first);
                        let has_interp = kids.iter().any(|c| c.kind_str() == "interpolation");
                        !has_interp
                            || text
                                .split_once("://")
                                .is_some_and(|(_, rest)| rest.contains('/') || rest.len() > 3)
                    }
                    Some(first) if first.kind_str() == "interpolation" => first
                        .named_child(0)
                        .is_some_and(|e| self.is_const_depth(e, depth + 1)),
                    _ => false,
                }
            }
            "concatenated_string" => node
                .named_child(0)
                .is_some_and(|c| self.is_const_depth(c, depth + 1)),
            "binary_operator" => node
                .field("left")
                .is_some_and(|l| self.is_const_depth(l, depth + 1)),
            "identifier" => {
                let name = self.text(node);
                self.consts.contains(&name) || !self.locals.contains(&name)
            }
            // `self.base_url`, `settings.partner_url`: configuration of an object, not request data.
            "attribute" => node.field("object").is_some_and(|o| {
                matches!(self.src.node_text(o).as_ref(), "self" | "cls")
                    || self.is_const_depth(o, depth + 1)
            }),
            "call" => {
                let Some(f) = node.field("function") else {
                    return false;
                };
                if f.kind_str() == "attribute"
                    && f.field("attribute")
                        .is_some_and(|a| self.text(a) == "format")
                {
                    return f
                        .field("object")
                        .is_some_and(|o| self.is_const_depth(o, depth + 1));
                }
                let q = self.qualify(f).unwrap_or_default();
                if q.ends_with("urljoin") {
                    return syntax::positional_args(node)
                        .first()
                        .is_some_and(|a| self.is_const_depth(*a, depth + 1));
                }
                false
            }
            _ => false,
        }
    }

    fn call(&mut self, node: Node) -> Taint {
        let outer = self.external_method.take();
        let mut t = self.call_inner(node);
        if let Some(x) = self.external_method.take() {
            t.union(&x);
        }
        self.external_method = outer;
        t
    }

    fn call_inner(&mut self, node: Node) -> Taint {
        let Some(func) = node.field("function") else {
            return Taint::default();
        };
        let q = self.qualify(func);
        let path = syntax::dotted_path(func, self.src);
        let (method, recv) = if func.kind_str() == "attribute" {
            (
                func.field("attribute").map(|a| self.text(a)),
                func.field("object"),
            )
        } else {
            (None, None)
        };
        let recv_t = match recv {
            Some(r) => self.eval(r),
            None => Taint::default(),
        };
        if let (Some(m), Some(r)) = (method.as_deref(), recv) {
            if r.kind_str() == "identifier"
                && !matches!(m, "get" | "items" | "values" | "keys" | "copy")
            {
                let name = self.text(r);
                self.fields.remove(&name);
            }
        }

        // Arguments, evaluated once.
        let mut pos: Vec<(Node, Taint)> = Vec::new();
        let mut kws: Vec<(String, Node, Taint)> = Vec::new();
        let mut splat = Taint::default();
        if let Some(args) = node.field("arguments") {
            if args.kind_str() == "generator_expression" {
                let t = self.eval(args);
                pos.push((args, t));
            } else {
                for a in named_children(args) {
                    match a.kind_str() {
                        "keyword_argument" => {
                            let (Some(n), Some(v)) = (a.field("name"), a.field("value")) else {
                                continue;
                            };
                            let t = self.eval(v);
                            let t = self.minted_as(&self.text(n), t, v);
                            kws.push((self.text(n), v, t));
                        }
                        "list_splat" | "dictionary_splat" => {
                            let t = self.eval(a);
                            splat.union(&t);
                        }
                        _ => {
                            let t = self.eval(a);
                            pos.push((a, t));
                        }
                    }
                }
            }
        }
        // `Account(email, api_key=key)`: the values of a PynamoDB model's attributes.
        if func.kind_str() == "identifier" {
            let name = self.text(func);
            if !self.locals.contains(&name) && self.is_pynamo_class(&name) {
                for (_, v, t) in &kws {
                    if !t.is_empty() {
                        self.parts.push((self.rel(*v), t.clone()));
                    }
                }
            }
        }
        let kw = |name: &str| kws.iter().find(|(n, _, _)| n == name);
        let mut all_args = splat.clone();
        for (_, t) in &pos {
            all_args.union(t);
        }
        for (_, _, t) in &kws {
            all_args.union(t);
        }

        // ---- sinks ----
        let qs = q.as_deref().unwrap_or("");
        if matches!(
            qs,
            "fastapi.HTTPException"
                | "fastapi.exceptions.HTTPException"
                | "starlette.exceptions.HTTPException"
        ) {
            let detail = kw("detail")
                .map(|(_, n, t)| (*n, t.clone()))
                .or_else(|| pos.get(1).map(|(n, t)| (*n, t.clone())));
            if let Some((n, t)) = detail {
                self.sink(SinkKind::Detail, node, n, t, false);
            }
            return Taint::default();
        }
        if let (Some(m), Some(r)) = (method.as_deref(), recv) {
            if let Some(t) = self.pynamo_call(node, m, r, &recv_t, &pos, &kws) {
                return t;
            }
        }
        if let (Some(m), Some(r)) = (method.as_deref(), recv) {
            let recv_q = self.qualify(r);
            let recv_text = self.text(r);
            if let Some(attrs) = fw::dynamodb_write(m) {
                let has_kw = attrs.iter().any(|a| kw(a).is_some());
                if has_kw || fw::is_dynamodb_receiver(recv_q.as_deref(), &recv_text) {
                    self.mentions(node);
                    for a in attrs {
                        if let Some((_, n, t)) = kw(a) {
                            let (n, t) = (*n, t.clone());
                            self.sink(SinkKind::Persist, node, n, t, false);
                        }
                    }
                    if !has_kw && m == "put_item" {
                        if let Some((n, t)) = pos.first().map(|(n, t)| (*n, t.clone())) {
                            self.sink(SinkKind::Persist, node, n, t, false);
                        }
                    }
                    return Taint::default();
                }
            }
            let dynamo = fw::is_dynamodb_receiver(recv_q.as_deref(), &recv_text);
            match m {
                "scan" if dynamo => {
                    let r = self.rel(node);
                    let key = self.looks_up_key(node);
                    self.flow.scans.push((r, key));
                }
                "get_paginator"
                    if pos
                        .first()
                        .and_then(|(n, _)| string_value(*n, self.src))
                        .is_some_and(|s| s == "scan") =>
                {
                    let r = self.rel(node);
                    let key = self.looks_up_key(node);
                    self.flow.scans.push((r, key));
                }
                _ => {}
            }
            if dynamo && matches!(m, "get_item" | "query" | "scan" | "batch_get_item") {
                self.mentions(node);
                for a in ["Key", "ExpressionAttributeValues", "KeyConditionExpression"] {
                    if let Some((_, n, t)) = kw(a) {
                        let (n, t) = (*n, t.clone());
                        self.sink(SinkKind::Lookup, node, n, t, false);
                    }
                }
                return self.source(
                    node,
                    Kind::Stored,
                    "whole stored item read here".into(),
                    None,
                    None,
                );
            }
        }
        if fw::is_log_call(q.as_deref(), path.as_deref()) {
            let mut tainted: Vec<(Node, Taint)> = Vec::new();
            for (n, t) in &pos {
                tainted.push((*n, t.clone()));
            }
            for (name, n, t) in &kws {
                if name != "exc_info" && name != "stack_info" {
                    tainted.push((*n, t.clone()));
                }
            }
            for (n, t) in tainted {
                self.sink(SinkKind::Log, node, n, t, false);
            }
            return Taint::default();
        }
        if let Some(url_idx) = q.as_deref().and_then(fw::http_call) {
            let url = kw("url")
                .map(|(_, n, _)| *n)
                .or_else(|| pos.get(url_idx).map(|(n, _)| *n));
            let url_const = url.is_some_and(|u| self.is_const(u));
            self.mentions(node);
            let value = pos
                .iter()
                .map(|(n, t)| (*n, t))
                .chain(kws.iter().map(|(_, n, t)| (*n, t)))
                .find(|(_, t)| !t.is_empty())
                .map(|(n, _)| n);
            if let Some(value) = value {
                self.sink(SinkKind::Forward, node, value, all_args.clone(), url_const);
            }
            return Taint::default();
        }

        // ---- the value of the call ----
        if fw::is_sanitizer(qs) {
            return Taint::default();
        }
        if matches!(qs, "os.getenv" | "os.environ.get") {
            return match pos.first().and_then(|(n, _)| string_value(*n, self.src)) {
                Some(k) if fw::is_key_name(&k) => self.env_source(node, &k),
                _ => Taint::default(),
            };
        }
        if func.kind_str() == "identifier" {
            let name = self.text(func);
            if !self.locals.contains(&name) && self.is_module_function(&name) {
                return self.module_call(node, name, false, &pos, &kws);
            }
            // (Class headers do not bind module names in the model: a class is known by name.)
            if !self.locals.contains(&name)
                && self
                    .model
                    .classes
                    .iter()
                    .any(|c| c.name == name && c.parent.is_none())
                && matches!(self.model.binding(&name), None | Some(Binding::Def))
            {
                // Pydantic settings read their secret fields from the environment.
                let settings = self
                    .model
                    .classes
                    .iter()
                    .rev()
                    .find(|c| c.name == name)
                    .is_some_and(|c| {
                        c.bases
                            .iter()
                            .any(|b| b.last().is_some_and(|l| l.ends_with("Settings")))
                    });
                if settings {
                    if let Some((class, field, masked)) = self.secret_model(&name) {
                        return self.source(
                            node,
                            Self::model_kind(masked),
                            format!("settings `{class}` with secret field `{field}` loaded here"),
                            Some(class),
                            None,
                        );
                    }
                }
                // A model keeps only its declared fields: built from key material, it holds the
                // key only if one of them is secret-named; masked (`SecretStr`) if they all are.
                match self.secret_model(&name) {
                    Some((class, field, true)) if !all_args.is_empty() => {
                        return self.source(
                            node,
                            Kind::MaskedModel,
                            format!(
                                "model `{class}` with masked secret field `{field}` built here"
                            ),
                            Some(class),
                            None,
                        );
                    }
                    Some((_, _, false)) => return all_args,
                    _ => {}
                }
                return Taint::default();
            }
        }
        if let (Some(m), Some(r)) = (method.as_deref(), recv) {
            if r.kind_str() == "identifier" && self.text(r) == "self" {
                if let Some(class) = self.class.clone() {
                    // An unknown method is simply not found at resolution.
                    let callee = format!("{class}.{m}");
                    return self.module_call(node, callee, true, &pos, &kws);
                }
            }
            // `store.save(key)` with `store = KeyStore(...)` (a local or a module global).
            if let Some(class) = self.instance_class(r) {
                if self.defines_method(&class, m) {
                    let callee = format!("{class}.{m}");
                    return self.module_call(node, callee, true, &pos, &kws);
                }
                if class.starts_with('@') {
                    // A method of another module's class: a call the project model resolves,
                    // added to what the call gives otherwise (alone, the module gives the same).
                    let callee = format!("{class}.{m}");
                    self.external_method = Some(self.module_call(node, callee, true, &pos, &kws));
                }
            }
        }
        if fw::is_passthrough(qs) {
            // `list(headers)` of a dict with constant keys: its names, not its values.
            if matches!(qs, "list" | "tuple") && kws.is_empty() && splat.is_empty() {
                if let [(arg, _)] = pos.as_slice() {
                    let arg = syntax::unparenthesize(*arg);
                    let names_only = match arg.kind_str() {
                        "identifier" => self.fields.contains_key(self.text(arg).as_str()),
                        "dictionary" => self.dict_fields(arg).is_some(),
                        _ => false,
                    };
                    if names_only {
                        return Taint::default();
                    }
                }
            }
            if kw("exclude").is_some() || kw("include").is_some() {
                // `jsonable_encoder(reg, exclude={"api_key"})`: fields chosen.
                return Taint::default();
            }
            let mut t = all_args;
            t.union(&recv_t);
            return t;
        }
        // `out.append(x)`, `seen.add(x)`, `rows.extend(xs)`: a local container holds what it is
        // given from then on (a list endpoint that builds its answer item by item).
        if let (Some(m), Some(r)) = (method.as_deref(), recv) {
            if matches!(m, "append" | "extend" | "add" | "insert" | "appendleft")
                && r.kind_str() == "identifier"
                && !all_args.is_empty()
            {
                let name = self.text(r);
                if self.locals.contains(&name) {
                    let mut t = self.env.get(&name).cloned().unwrap_or_default();
                    t.union(&all_args);
                    self.env.insert(name, t);
                }
            }
        }
        // A function of another module (`from .store import save_client`, `store.save(...)`):
        // an external call, `@` and its import path, that only the project model resolves.
        let external = self.imported_callee(func, qs).filter(|_| recv_t.is_empty());
        let Some(m) = method else {
            return match external {
                Some(path) => self.module_call(node, path, false, &pos, &kws),
                None => Taint::default(),
            };
        };
        if recv_t.is_empty() && m == "get" {
            let key = pos.first().and_then(|(n, _)| string_value(*n, self.src));
            if let (Some(k), Some(r)) = (key, recv) {
                if let Some(x) = self.config_key(node, r, &k) {
                    return x;
                }
            }
        }
        if let Some(path) = external {
            return self.module_call(node, path, false, &pos, &kws);
        }
        if recv_t.is_empty() && m != "join" && m != "format" {
            return Taint::default();
        }
        match m.as_str() {
            "get" | "pop" | "getlist" => {
                let key = pos.first().and_then(|(n, _)| string_value(*n, self.src));
                if let (Some(k), Some(r)) = (&key, recv) {
                    if let Some(mut f) = self.known_field(r, k) {
                        if let Some((_, d)) = pos.get(1) {
                            f.union(d);
                        }
                        return f;
                    }
                }
                let mut t = match key {
                    Some(k) => {
                        let recv_t = self.other_field(recv_t, &k);
                        self.project(recv_t, node, Some(&k))
                    }
                    None => recv_t,
                };
                if let Some((_, d)) = pos.get(1) {
                    t.union(d);
                }
                t
            }
            "json" | "get_json" | "form" | "body"
                if recv_t.0.iter().any(|l| {
                    matches!(l.base, Base::Source(i)
                        if self.flow.sources[i as usize].kind == Kind::Request)
                }) =>
            {
                self.source(
                    node,
                    Kind::Body,
                    "request data enters here".into(),
                    None,
                    None,
                )
            }
            "dict" | "model_dump" | "json" | "model_dump_json"
                if kw("exclude").is_some() || kw("include").is_some() =>
            {
                Taint::default()
            }
            "get_secret_value" => self.unmask(recv_t, node),
            m if fw::is_carrying_method(m) => {
                let mut t = recv_t;
                t.union(&all_args);
                t
            }
            _ => Taint::default(),
        }
    }

    /// A scan whose arguments name a key attribute (`FilterExpression=Attr("api_key").eq(k)`,
    /// `"api_key = :k"`, `User.access_token == token`): a lookup of a key by reading every item.
    fn looks_up_key(&self, call: Node) -> bool {
        let Some(args) = call.field("arguments") else {
            return false;
        };
        syntax::descendants(args)
            .into_iter()
            .any(|n| match n.kind_str() {
                "identifier" => fw::is_sensitive_attribute(self.src.node_text(n).as_ref()),
                "string_content" => self
                    .src
                    .node_text(n)
                    .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
                    .any(fw::is_sensitive_attribute),
                _ => false,
            })
    }

    /// A PynamoDB model class of the module ([`Model::is_pynamo_class`]).
    fn is_pynamo_class(&self, name: &str) -> bool {
        self.model.is_pynamo_class(name)
    }

    /// `recv` is a capitalised name imported from another module (`from app.models import User`).
    fn is_imported_class(&self, recv: Node) -> bool {
        if recv.kind_str() != "identifier" {
            return false;
        }
        let name = self.text(recv);
        name.starts_with(|c: char| c.is_ascii_uppercase())
            && !self.locals.contains(&name)
            && matches!(self.model.binding(&name), Some(Binding::Import(q)) if q.contains('.'))
    }

    /// The PynamoDB class `recv` is, or holds an instance of: (class, `recv` is the class itself).
    fn pynamo_target(&self, recv: Node) -> Option<(String, bool)> {
        let recv = syntax::unparenthesize(recv);
        match recv.kind_str() {
            "identifier" => {
                let name = self.text(recv);
                if !self.locals.contains(&name) && self.is_pynamo_class(&name) {
                    return Some((name, true));
                }
                let class = self.instance_class(recv)?;
                self.is_pynamo_class(&class).then_some((class, false))
            }
            "call" => {
                let f = recv.field("function")?;
                let name = self.text(f);
                (f.kind_str() == "identifier"
                    && !self.locals.contains(&name)
                    && self.is_pynamo_class(&name))
                .then_some((name, false))
            }
            _ => None,
        }
    }

    /// PynamoDB: `item.save()`, `item.update(actions=[...])`, `batch.save(item)` store what they
    /// are given; `Model.scan()`/`query()`/`get()` read whole items back; `Model.attr.set(x)` is
    /// an update action carrying `x`.
    fn pynamo_call(
        &mut self,
        node: Node,
        m: &str,
        r: Node,
        recv_t: &Taint,
        pos: &[(Node, Taint)],
        kws: &[(String, Node, Taint)],
    ) -> Option<Taint> {
        let target = self.pynamo_target(r);
        // `UserModel.scan()` on a capitalised class imported from another module: only a
        // PynamoDB model has a `scan` class method; its items are not known, its scan is.
        if m == "scan" && target.is_none() && self.is_imported_class(r) {
            let range = self.rel(node);
            let key = self.looks_up_key(node);
            self.flow.scans.push((range, key));
            self.mentions(node);
            return Some(Taint::default());
        }
        match (m, &target) {
            ("save", Some((_, false))) => {
                self.mentions(node);
                let before = self.flow.sinks.len();
                self.sink(SinkKind::Persist, node, r, recv_t.clone(), false);
                if self.flow.sinks.len() > before && r.kind_str() == "identifier" {
                    if let Some(p) = self.pynamo_parts.get(&self.text(r)) {
                        let p = p.clone();
                        if let Some(s) = self.flow.sinks.last_mut() {
                            s.parts.extend(p);
                        }
                    }
                }
                Some(Taint::default())
            }
            // `user.update(actions=[User.api_key.set(key)])` on an instance of unknown origin
            // (a user manager's `get`): the update actions of a model of the file say what it is.
            ("update", None)
                if kws.iter().any(|(k, n, _)| {
                    k == "actions"
                        && syntax::descendants(*n).into_iter().any(|c| {
                            c.kind_str() == "attribute"
                                && c.field("attribute").is_some_and(|a| self.text(a) == "set")
                                && c.field("object")
                                    .and_then(|o| o.field("object"))
                                    .is_some_and(|o| {
                                        o.kind_str() == "identifier"
                                            && (self.is_pynamo_class(&self.text(o))
                                                || self.is_imported_class(o))
                                    })
                        })
                }) =>
            {
                self.mentions(node);
                if let Some((_, n, t)) = kws.iter().find(|(k, _, _)| k == "actions") {
                    let (n, t) = (*n, t.clone());
                    self.sink(SinkKind::Persist, node, n, t, false);
                }
                Some(Taint::default())
            }
            ("update", Some((_, false))) => {
                self.mentions(node);
                if let Some((_, n, t)) = kws.iter().find(|(k, _, _)| k == "actions") {
                    let (n, t) = (*n, t.clone());
                    self.sink(SinkKind::Persist, node, n, t, false);
                }
                Some(Taint::default())
            }
            ("scan" | "query" | "get" | "batch_get" | "count", Some((class, true))) => {
                let class = class.clone();
                if m == "scan" {
                    let range = self.rel(node);
                    let key = self.looks_up_key(node);
                    self.flow.scans.push((range, key));
                }
                self.mentions(node);
                for (n, t) in pos {
                    self.sink(SinkKind::Lookup, node, *n, t.clone(), false);
                }
                let sensitive = self
                    .model
                    .classes
                    .iter()
                    .rev()
                    .find(|c| c.name == class)
                    .and_then(|c| {
                        c.fields
                            .iter()
                            .find(|f| fw::is_sensitive_attribute(f))
                            .cloned()
                    });
                Some(match sensitive {
                    Some(field) if m != "count" => self.source(
                        node,
                        Kind::Stored,
                        format!("whole stored `{class}` items read here (attribute `{field}`)"),
                        Some(class.clone()),
                        None,
                    ),
                    _ => Taint::default(),
                })
            }
            // `with Model.batch_write() as batch: batch.save(item)`.
            ("save", None)
                if r.kind_str() == "identifier"
                    && (self.text(r).to_ascii_lowercase().contains("batch")
                        || self.qualify(r).is_some_and(|q| q.contains("batch_write()"))) =>
            {
                let (n, t) = pos.first()?;
                let (n, t) = (*n, t.clone());
                self.mentions(node);
                self.sink(SinkKind::Persist, node, n, t, false);
                Some(Taint::default())
            }
            // `Model.api_key.set(key)`: an update action that stores `key`.
            ("set" | "append" | "add", None) if r.kind_str() == "attribute" => {
                let obj = r.field("object")?;
                let attr = self.text(r.field("attribute")?);
                // (An imported model too: `update(actions=[...])` names PynamoDB.)
                if obj.kind_str() == "identifier"
                    && (self.is_pynamo_class(&self.text(obj)) || self.is_imported_class(obj))
                    && fw::is_key_name(&attr)
                {
                    let mut t = Taint::default();
                    for (n, x) in pos {
                        if !x.is_empty() {
                            self.parts.push((self.rel(*n), x.clone()));
                        }
                        t.union(x);
                    }
                    return Some(t);
                }
                None
            }
            _ => None,
        }
    }

    /// `@` and the import path of a call's function when it is a name (or an attribute of a name)
    /// bound by an import at module level: `save_client` after `from .store import save_client`
    /// → `@.store.save_client`; `db.save` after `import app.db as db` → `@app.db.save`.
    fn imported_callee(&self, func: Node, qualified: &str) -> Option<String> {
        let mut head = syntax::unparenthesize(func);
        while head.kind_str() == "attribute" {
            head = head.field("object")?;
        }
        if head.kind_str() != "identifier" || qualified.is_empty() {
            return None;
        }
        let name = self.text(head);
        if self.locals.contains(&name) || self.handles.contains_key(&name) {
            return None;
        }
        matches!(self.model.binding(&name), Some(Binding::Import(_)))
            .then(|| format!("@{qualified}"))
    }

    /// The dependency of `Depends(dep)`/`Security(dep)` when it is a function of another module
    /// (a name or attribute chain bound by an import): `@` and its import path, as
    /// [`Self::imported_callee`] gives a call.
    fn imported_dependency(&self, dep: Node) -> Option<String> {
        if !matches!(dep.kind_str(), "identifier" | "attribute") {
            return None;
        }
        let q = self.model.resolve(dep, self.src)?;
        self.imported_callee(dep, &q)
    }

    fn module_call(
        &mut self,
        node: Node,
        callee: String,
        bound: bool,
        pos: &[(Node, Taint)],
        kws: &[(String, Node, Taint)],
    ) -> Taint {
        if self.flow.calls.len() >= MAX_CALLS {
            return Taint::default();
        }
        let k = self.flow.calls.len() as u16;
        self.flow.calls.push(CallFact {
            callee,
            range: self.rel(node),
            args: pos.iter().map(|(_, t)| t.clone()).collect(),
            kwargs: kws.iter().map(|(n, _, t)| (n.clone(), t.clone())).collect(),
            bound,
        });
        Taint::one(Base::Call(k))
    }
}

/// The type of `Annotated[T, ...]` (`T`), or the annotation itself.
fn annotated_type(ty: &str) -> &str {
    let t = ty.trim();
    let Some(inner) = t
        .strip_prefix("Annotated[")
        .or_else(|| t.strip_prefix("typing.Annotated["))
        .or_else(|| t.strip_prefix("typing_extensions.Annotated["))
    else {
        return t;
    };
    let mut depth = 0usize;
    for (i, ch) in inner.char_indices() {
        match ch {
            '[' | '(' => depth += 1,
            ']' | ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => return inner[..i].trim(),
            _ => {}
        }
    }
    inner.trim_end_matches(']').trim()
}

/// The class of a parameter or response annotation, seen through one container or option:
/// `list[KeyIn]`, `List[KeyIn]`, `Sequence[KeyIn]`, `Optional[KeyIn]`, `KeyIn | None`,
/// `models.KeyIn` → `KeyIn`.
fn element_class(ty: &str) -> String {
    let mut t = ty.trim();
    for prefix in [
        "list[",
        "List[",
        "typing.List[",
        "Sequence[",
        "typing.Sequence[",
        "Optional[",
        "typing.Optional[",
    ] {
        if let Some(inner) = t.strip_prefix(prefix).and_then(|r| r.strip_suffix(']')) {
            t = inner.trim();
            break;
        }
    }
    if let Some(inner) = t.strip_suffix("| None") {
        t = inner.trim();
    }
    t.rsplit('.').next().unwrap_or(t).to_string()
}
