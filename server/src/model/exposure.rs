//! Where a route handler sends the whole configuration — `app.config`, `current_app.config`,
//! `os.environ`, a pydantic settings object — to the client: KL302 `config-exposed` reports it,
//! and KL203 `key-reflected` stands down there for a settings object (KL302 describes that leak
//! better: every secret of the deployment, not one key). Shared here so that no rule imports
//! another.

use std::ops::Range;

use tree_sitter::Node;

use super::{apps, frameworks, Binding, HandlerKind, Model};
use crate::document::SourceText;
use crate::syntax::{self, Ancestors, NodeExt, NodeIndex};

/// What the helpers read: the model and the text.
struct Cx<'a> {
    model: &'a Model,
    src: SourceText<'a>,
}

impl<'a> Cx<'a> {
    fn text(&self, node: Node) -> std::borrow::Cow<'a, str> {
        self.src.node_text(node)
    }
}

/// The whole configuration sent to the client by a view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigExposure {
    /// The view's name.
    pub view: String,
    /// The expression that is the whole configuration.
    pub range: Range<usize>,
    /// Its text (`app.config`, `settings`).
    pub what: String,
    /// The local name it reaches the response through, when it is assigned first.
    pub through: Option<String>,
    /// The `return` statements (or the response call) sending it.
    pub sent_at: Vec<Range<usize>>,
}

/// A name holding a settings instance: `settings = Settings()` at module level, or a view parameter
/// annotated with a settings class (`settings: Settings = Depends(get_settings)`).
fn is_settings_object(node: Node, params: &[String], ctx: &Cx) -> bool {
    if node.kind_str() != "identifier" {
        return false;
    }
    let name = ctx.text(node);
    if params.iter().any(|p| *p == name) {
        return true;
    }
    matches!(
        ctx.model.binding(&name),
        Some(Binding::Call { callee, .. }) if callee.len() == 1 && apps::is_settings_class(&callee[0], ctx.model)
    )
}

/// Parameters of a view annotated with a settings class.
fn settings_params(def: Node, ctx: &Cx) -> Vec<String> {
    let Some(params) = def.field("parameters") else {
        return Vec::new();
    };
    let mut cursor = params.walk();
    params
        .named_children(&mut cursor)
        .filter_map(|p| {
            let ty = p.field("type")?;
            let ty_text = ctx.text(ty);
            let ty_name = ty_text.rsplit(['.', '[', ' ']).next().unwrap_or("");
            let is_settings = apps::is_settings_class(ty_name.trim_end_matches(']'), ctx.model)
                || ty_text
                    .split(|c: char| !c.is_alphanumeric() && c != '_')
                    .any(|part| apps::is_settings_class(part, ctx.model));
            if !is_settings {
                return None;
            }
            let name = p
                .field("name")
                .or_else(|| p.named_child(0).filter(|n| n.kind_str() == "identifier"))?;
            Some(ctx.text(name).into_owned())
        })
        .collect()
}

/// Is `n` used as a whole, not for one key (`X.get(...)`, `X["KEY"]`), its names (`X.keys()`) or
/// its size (`len(X)`)? `up` climbs from `n` (its parent first) by the item's index: tree-sitter's
/// [`Node::parent`] descends from the module's root, so its cost grows with the module.
fn used_whole(n: Node, mut up: Ancestors, ctx: &Cx) -> bool {
    let Some(p) = up.next() else { return true };
    // The parent's parent, asked for at most once.
    let mut grand = None;
    let mut grand_parent = move || *grand.get_or_insert_with(|| up.next());
    match p.kind_str() {
        // `f(data=…)`, `x.data`: a name in another namespace.
        "keyword_argument" => p.field("name") != Some(n),
        "attribute" if p.field("attribute") == Some(n) => false,
        "subscript" => p.field("value") != Some(n),
        "attribute" => {
            p.field("object") != Some(n)
                || p.field("attribute").is_some_and(|a| {
                    matches!(
                        ctx.text(a).as_ref(),
                        "items"
                            | "copy"
                            | "values"
                            | "__dict__"
                            | "dict"
                            | "model_dump"
                            | "to_dict"
                            | "get_namespace"
                    ) && grand_parent()
                        .is_some_and(|c| c.kind_str() == "call" || ctx.text(a) == "__dict__")
                        && !fields_chosen(grand_parent(), ctx)
                })
        }
        "call" => p.field("function") != Some(n),
        "argument_list" => !grand_parent()
            .and_then(|call| call.field("function"))
            .is_some_and(|f| {
                matches!(
                    ctx.text(f).as_ref(),
                    "len" | "bool" | "type" | "isinstance" | "id" | "hash" | "hasattr" | "getattr"
                )
            }),
        "comparison_operator" | "not_operator" | "boolean_operator" => false,
        _ => true,
    }
}

/// `settings.model_dump(exclude={"stripe_secret_key"})`, `.dict(include=…)`: the caller chose the
/// fields, so the result is not the whole configuration (KL203 treats these the same way).
fn fields_chosen(call: Option<Node>, ctx: &Cx) -> bool {
    call.filter(|c| c.kind_str() == "call").is_some_and(|c| {
        syntax::keyword_arg(c, "exclude", ctx.src).is_some()
            || syntax::keyword_arg(c, "include", ctx.src).is_some()
    })
}

/// If `node` (a node of `index`) is the whole configuration (not one key of it), how to name it.
fn exposure<'t>(
    node: Node<'t>,
    index: &NodeIndex<'t>,
    params: &[String],
    ctx: &Cx,
) -> Option<String> {
    let parent = index.ancestors(node).next();
    // `x.environ`, `f(environ=…)`: a name in another namespace, not a reference.
    if node.kind_str() == "identifier"
        && parent.is_some_and(|p| {
            (p.kind_str() == "attribute" && p.field("attribute") == Some(node))
                || (p.kind_str() == "keyword_argument" && p.field("name") == Some(node))
        })
    {
        return None;
    }
    let used_whole = |n: Node<'t>| used_whole(n, index.ancestors(n), ctx);
    match node.kind_str() {
        "attribute" if apps::is_app_config(node, ctx.model, ctx.src) && used_whole(node) => {
            Some(ctx.text(node).into_owned())
        }
        "attribute" | "identifier"
            if ctx.model.resolve(node, ctx.src).as_deref() == Some(frameworks::ENVIRON)
                && used_whole(node) =>
        {
            Some(ctx.text(node).into_owned())
        }
        "identifier" if is_settings_object(node, params, ctx) && used_whole(node) => {
            // `settings` in `f(settings)` for a helper that reads one field is not an exposure;
            // only a response built from it, a serialisation or the bare object returned.
            let direct = parent.is_some_and(|p| {
                matches!(
                    p.kind_str(),
                    "return_statement"
                        | "pair"
                        | "list"
                        | "tuple"
                        | "interpolation"
                        | "argument_list"
                        | "attribute"
                )
            });
            direct.then(|| ctx.text(node).into_owned())
        }
        _ => None,
    }
}

/// The name of the call `node` is a direct or nested argument of, up to `stop` (`up` climbs from
/// `node`).
fn in_call_matching(up: Ancestors, stop: Node, ctx: &Cx, names: impl Fn(&str) -> bool) -> bool {
    for n in up {
        if n == stop {
            return false;
        }
        if n.kind_str() == "call" {
            if let Some(f) = n.field("function") {
                let text = ctx.text(f);
                let last = text.rsplit('.').next().unwrap_or("");
                if names(last) {
                    return true;
                }
            }
        }
    }
    false
}

/// The statement kind the node `up` climbs from sits in, inside `body`.
fn within<'t>(up: Ancestors<'_, 't>, body: Node<'t>, kind: &str) -> Option<Node<'t>> {
    for n in up {
        if n == body {
            return None;
        }
        if n.kind_str() == kind {
            return Some(n);
        }
    }
    None
}

/// Where the route handler `def` sends the whole configuration (none unless `def` is a route
/// handler). `index` holds `def` (the nodes of its item, [`crate::syntax::Item::nodes`]): every
/// climb to a parent reads it instead of tree-sitter's [`Node::parent`], which descends from the
/// module's root (a module's first analysis would grow with the square of its size).
pub fn config_exposures<'t>(
    def: Node<'t>,
    index: &NodeIndex<'t>,
    model: &Model,
    src: SourceText,
) -> Vec<ConfigExposure> {
    let ctx = &Cx { model, src };
    let mut out = Vec::new();
    if def.kind_str() != "function_definition" {
        return out;
    }
    // The decorators are the statement's around `def` (`syntax::decorators` asks tree-sitter).
    let decorators = index
        .ancestors(def)
        .next()
        .map_or_else(Vec::new, syntax::statement_decorators);
    if ctx
        .model
        .handler_kind_lenient_with(&decorators, def, ctx.src)
        != Some(HandlerKind::Route)
    {
        return out;
    }
    let Some(body) = def.field("body") else {
        return out;
    };
    let view = def
        .field("name")
        .map(|n| ctx.text(n).into_owned())
        .unwrap_or_default();
    let params = settings_params(def, ctx);
    // Exposures assigned to a local name, reported when that name is returned.
    let mut tainted: Vec<(String, Node)> = Vec::new();
    let mut returned: Vec<(String, Range<usize>)> = Vec::new();
    let mut nodes = index.walk_from(body);
    while let Some(node) = nodes.next() {
        if node.kind_str() == "return_statement" {
            let mut inner = index.walk_from(node);
            while let Some(n) = inner.next() {
                if n.kind_str() == "identifier" && used_whole(n, inner.ancestors(), ctx) {
                    returned.push((ctx.text(n).into_owned(), node.byte_range()));
                }
            }
        }
        let Some(what) = exposure(node, index, &params, ctx) else {
            continue;
        };
        let up = || nodes.ancestors();
        // Into a template (it shows chosen values) or a log: not the response.
        if in_call_matching(up(), body, ctx, |last| {
            frameworks::is_template_render(last) || frameworks::is_log_method_name(last)
        }) {
            nodes.skip_children();
            continue;
        }
        let ret = within(up(), body, "return_statement");
        let in_response =
            ret.is_none() && in_call_matching(up(), body, ctx, frameworks::is_response_call);
        let assign = if ret.is_none() && !in_response {
            within(up(), body, "assignment")
        } else {
            None
        };
        nodes.skip_children();
        if let Some(ret) = ret {
            out.push(ConfigExposure {
                view: view.clone(),
                range: node.byte_range(),
                what,
                through: None,
                sent_at: vec![ret.byte_range()],
            });
        } else if in_response {
            out.push(ConfigExposure {
                view: view.clone(),
                range: node.byte_range(),
                what,
                through: None,
                sent_at: vec![node.byte_range()],
            });
        } else if let Some(assign) = assign {
            if let Some(left) = assign
                .field("left")
                .filter(|l| l.kind_str() == "identifier")
            {
                tainted.push((ctx.text(left).into_owned(), node));
            }
        }
    }
    for (name, node) in tainted {
        let sent_at: Vec<Range<usize>> = returned
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, r)| r.clone())
            .collect();
        if sent_at.is_empty() {
            continue;
        }
        out.push(ConfigExposure {
            view: view.clone(),
            range: node.byte_range(),
            what: ctx.text(node).into_owned(),
            through: Some(name),
            sent_at,
        });
    }
    out
}
