//! KL302 `config-exposed`: a view returns or serialises the whole configuration — `app.config`,
//! `current_app.config`, `os.environ`, a pydantic settings object — and with it every secret in it.

use crate::syntax::NodeExt;
use std::ops::Range;

use tree_sitter::Node;

use crate::finding::prefilter::{Group, Word};
use crate::finding::{Finding, Severity};
use crate::model::apps;
use crate::model::frameworks as fw;
use crate::model::{Binding, HandlerKind};
use crate::rules::{Ctx, FixAvailability, Rule, RuleMeta};
use crate::syntax::{self, Item};

pub static META: RuleMeta = RuleMeta {
    code: "KL302",
    name: "config-exposed",
    summary: "A view returns the whole configuration or environment, secrets included",
    severity: Severity::Error,
    fix: FixAvailability::None,
    cwe: &["CWE-200", "CWE-497"],
    docs: include_str!("kl302_config_exposed.md"),
    prefilter: &[fw::WEB_WORDS, fw::ENV_WORDS, CONFIG_WORDS],
};

/// The configuration a view may send: `app.config`, a settings object or class.
const CONFIG_WORDS: &[Word] = &[
    Word::new("config", Group::Config),
    Word::new("settings", Group::Config),
    Word::exact("Settings", Group::SettingsClass),
];

pub struct ConfigExposed;

/// Calls whose arguments become the response.
const RESPONSE_CALLS: &[&str] = &[
    "jsonify",
    "make_response",
    "Response",
    "JSONResponse",
    "PlainTextResponse",
    "HTMLResponse",
    "ORJSONResponse",
    "UJSONResponse",
    "render_template_string",
    "json_response",
];

/// A name holding a settings instance: `settings = Settings()` at module level, or a view parameter
/// annotated with a settings class (`settings: Settings = Depends(get_settings)`).
fn is_settings_object(node: Node, params: &[String], ctx: &Ctx) -> bool {
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
fn settings_params(def: Node, ctx: &Ctx) -> Vec<String> {
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
/// its size (`len(X)`)?
fn used_whole(n: Node, ctx: &Ctx) -> bool {
    let Some(p) = n.parent() else { return true };
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
                    ) && p
                        .parent()
                        .is_some_and(|c| c.kind_str() == "call" || ctx.text(a) == "__dict__")
                        && !fields_chosen(p.parent(), ctx)
                })
        }
        "call" => p.field("function") != Some(n),
        "argument_list" => !p
            .parent()
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
fn fields_chosen(call: Option<Node>, ctx: &Ctx) -> bool {
    call.filter(|c| c.kind_str() == "call").is_some_and(|c| {
        syntax::keyword_arg(c, "exclude", ctx.src).is_some()
            || syntax::keyword_arg(c, "include", ctx.src).is_some()
    })
}

/// If `node` is the whole configuration (not one key of it), how to name it.
fn exposure(node: Node, params: &[String], ctx: &Ctx) -> Option<String> {
    let parent = node.parent();
    // `x.environ`, `f(environ=…)`: a name in another namespace, not a reference.
    if node.kind_str() == "identifier"
        && parent.is_some_and(|p| {
            (p.kind_str() == "attribute" && p.field("attribute") == Some(node))
                || (p.kind_str() == "keyword_argument" && p.field("name") == Some(node))
        })
    {
        return None;
    }
    let used_whole = |n: Node| used_whole(n, ctx);
    match node.kind_str() {
        "attribute" if apps::is_app_config(node, ctx.model, ctx.src) && used_whole(node) => {
            Some(ctx.text(node).into_owned())
        }
        "attribute" | "identifier"
            if ctx.model.resolve(node, ctx.src).as_deref() == Some("os.environ")
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

/// The name of the call `node` is a direct or nested argument of, up to `stop`.
fn in_call_named(node: Node, stop: Node, names: &[&str], ctx: &Ctx) -> bool {
    let mut cur = node.parent();
    while let Some(n) = cur {
        if n == stop {
            return false;
        }
        if n.kind_str() == "call" {
            if let Some(f) = n.field("function") {
                let text = ctx.text(f);
                let last = text.rsplit('.').next().unwrap_or("");
                if names.contains(&last) {
                    return true;
                }
            }
        }
        cur = n.parent();
    }
    false
}

/// The statement kind `node` sits in, inside `body`.
fn within<'t>(node: Node<'t>, body: Node<'t>, kind: &str) -> Option<Node<'t>> {
    let mut cur = node.parent();
    while let Some(n) = cur {
        if n == body {
            return None;
        }
        if n.kind_str() == kind {
            return Some(n);
        }
        cur = n.parent();
    }
    None
}

impl Rule for ConfigExposed {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, item: &Item, ctx: &Ctx, out: &mut Vec<Finding>) {
        for def in item.nodes().of_kind(syntax::kinds().function_definition) {
            out.extend(view_exposures(def, ctx).into_iter().map(|e| e.finding));
        }
    }
}

/// One KL302 finding and the statements through which the configuration reaches the client.
struct Exposure {
    finding: Finding,
    /// The `return` statements (or the response call) sending it.
    sent_at: Vec<Range<usize>>,
}

/// Where the view `def` sends the whole configuration (the ranges of the `return` statements or
/// response calls KL302 reports through). KL203 `key-reflected` stands down there for a settings
/// object: KL302 describes that leak better (every secret of the deployment, not one key).
pub fn config_sent_at(def: Node, ctx: &Ctx) -> Vec<Range<usize>> {
    view_exposures(def, ctx)
        .into_iter()
        .flat_map(|e| e.sent_at)
        .collect()
}

/// The KL302 findings of one function definition (none unless it is a route handler).
fn view_exposures(def: Node, ctx: &Ctx) -> Vec<Exposure> {
    let mut out = Vec::new();
    // Apps built inside tests are not served to anyone.
    if ctx.file.is_test
        || def.kind_str() != "function_definition"
        || ctx.model.handler_kind_lenient(def, ctx.src) != Some(HandlerKind::Route)
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
    let mut nodes = syntax::descendants(body);
    while let Some(node) = nodes.next() {
        if node.kind_str() == "return_statement" {
            for n in syntax::descendants(node) {
                if n.kind_str() == "identifier" && used_whole(n, ctx) {
                    returned.push((ctx.text(n).into_owned(), node.byte_range()));
                }
            }
        }
        let Some(what) = exposure(node, &params, ctx) else {
            continue;
        };
        nodes.skip_children();
        if in_call_named(
            node,
            body,
            &[
                "render_template",
                "info",
                "debug",
                "warning",
                "error",
                "exception",
                "print",
                "log",
            ],
            ctx,
        ) {
            continue;
        }
        let message = format!(
            "The view `{view}` sends `{what}` to the client: the whole configuration, with every secret key and password in it"
        );
        if let Some(ret) = within(node, body, "return_statement") {
            out.push(Exposure {
                finding: Finding::new(&META, node.byte_range(), message),
                sent_at: vec![ret.byte_range()],
            });
        } else if in_call_named(node, body, RESPONSE_CALLS, ctx) {
            out.push(Exposure {
                finding: Finding::new(&META, node.byte_range(), message),
                sent_at: vec![node.byte_range()],
            });
        } else if let Some(assign) = within(node, body, "assignment") {
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
        let what = ctx.text(node);
        out.push(Exposure {
            finding: Finding::new(
                &META,
                node.byte_range(),
                format!(
                    "The view `{view}` sends `{what}` to the client (through `{name}`): the whole configuration, with every secret key and password in it"
                ),
            ),
            sent_at,
        });
    }
    out
}
