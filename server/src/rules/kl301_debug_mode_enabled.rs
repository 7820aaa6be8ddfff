//! KL301 `debug-mode-enabled`: debug mode switched on in code — `app.run(debug=True)`,
//! `app.debug = True`, `app.config["DEBUG"] = True`, `app.config.update(DEBUG=True)`,
//! `DEBUG = True` in a production config class, `FastAPI(debug=True)`,
//! `run_simple(..., use_debugger=True)`.

use crate::syntax::NodeExt;
use tree_sitter::Node;

use crate::finding::prefilter::{Group, Word};
use crate::finding::{Edit, Fix};
use crate::finding::{Finding, Severity};
use crate::model::apps;
use crate::model::frameworks as fw;
use crate::rules::{Ctx, FixAvailability, Rule, RuleMeta};
use crate::syntax::{self, Item};

pub static META: RuleMeta = RuleMeta {
    code: "KL301",
    name: "debug-mode-enabled",
    summary: "Debug mode is enabled in code (interactive debugger, tracebacks and config exposed)",
    severity: Severity::Error,
    fix: FixAvailability::Always,
    cwe: &["CWE-489", "CWE-215"],
    docs: include_str!("kl301_debug_mode_enabled.md"),
    prefilter: &[fw::WEB_WORDS, DEBUG_WORDS],
    reads_flows: false,
};

/// `debug` and `True` in one statement; `werkzeug` for `run_simple(..., use_debugger=True)`.
const DEBUG_WORDS: &[Word] = &[
    Word::new("debug", Group::Debug),
    Word::exact("True", Group::True),
    Word::new("werkzeug", Group::Werkzeug),
];

pub struct DebugModeEnabled;

/// The node kinds [`DebugModeEnabled::check`] looks at.
static WALKED: std::sync::LazyLock<syntax::KindSet> =
    std::sync::LazyLock::new(|| syntax::KindSet::of(&["call", "assignment"]));

impl Rule for DebugModeEnabled {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, item: &Item, ctx: &Ctx, out: &mut Vec<Finding>) {
        if ctx.file.is_test {
            return;
        }
        let in_dev_class = ctx.in_dev_class(item);
        let first = out.len();
        let mut walk = item.descendants(item.node);
        while let Some(node) = walk.next() {
            // The other kinds are skipped by a bit test of the index's kind id.
            if !WALKED.contains(walk.kind()) {
                continue;
            }
            let hit = match node.kind_str() {
                "call" => call_hit(node, ctx),
                "assignment" => assignment_hit(node, item, in_dev_class, ctx),
                _ => None,
            };
            if let Some((value, what, env)) = hit {
                let message = format!(
                    "Debug mode is enabled by {what}: the interactive debugger and tracebacks let anyone who reaches the app read its config and run code"
                );
                out.push(
                    Finding::new(&META, value.byte_range(), message).with_fix(fix(value, env, ctx)),
                );
            }
        }
        // In a class another module loads with `from_object(…)`: the place that loads it.
        if out.len() > first && !in_dev_class {
            if let Some(related) = ctx.config_loaded_by(item) {
                for f in &mut out[first..] {
                    f.related.push(related.clone());
                }
            }
        }
    }
}

/// `(the True node, how the message names it, env var for the fix)`.
type Hit<'t> = (Node<'t>, String, &'static str);

fn call_hit<'t>(call: Node<'t>, ctx: &Ctx) -> Option<Hit<'t>> {
    let function = call.field("function")?;
    let is_true = |n: Option<Node<'t>>| n.filter(|v| v.kind_str() == "true");
    let qualified = ctx.model.resolve(function, ctx.src).unwrap_or_default();
    let method = (function.kind_str() == "attribute")
        .then(|| function.field("attribute"))
        .flatten()
        .map(|a| ctx.text(a).into_owned())
        .unwrap_or_default();
    let object = function.field("object");
    // `app.run(debug=True)`, `socketio.run(app, debug=True)`
    if method == "run" && object.is_some_and(|o| apps::is_app(o, ctx.model, ctx.src)) {
        let v = is_true(syntax::keyword_arg(call, "debug", ctx.src))?;
        return Some((
            v,
            format!("`{}(debug=True)`", ctx.text(function)),
            "FLASK_DEBUG",
        ));
    }
    // `FastAPI(debug=True)`, `Starlette(debug=True)`
    if fw::is_asgi_app_constructor(&qualified) {
        let v = is_true(syntax::keyword_arg(call, "debug", ctx.src))?;
        return Some((v, format!("`{}(debug=True)`", ctx.text(function)), "DEBUG"));
    }
    // `run_simple(host, port, app, use_debugger=True)`
    if matches!(
        qualified.as_str(),
        "werkzeug.serving.run_simple" | "werkzeug.run_simple"
    ) {
        let v = is_true(syntax::keyword_arg(call, "use_debugger", ctx.src))?;
        return Some((
            v,
            "`run_simple(use_debugger=True)`".to_string(),
            "FLASK_DEBUG",
        ));
    }
    // `app.config.update(DEBUG=True)`, `app.config.from_mapping(DEBUG=True)`, `update({"DEBUG": True})`
    if matches!(method.as_str(), "update" | "from_mapping")
        && object.is_some_and(|o| apps::is_app_config(o, ctx.model, ctx.src))
    {
        if let Some(v) = is_true(syntax::keyword_arg(call, "DEBUG", ctx.src)) {
            return Some((
                v,
                format!("`{}(DEBUG=True)`", ctx.text(function)),
                "FLASK_DEBUG",
            ));
        }
        let dict = syntax::positional_args(call)
            .into_iter()
            .find(|a| a.kind_str() == "dictionary")?;
        let mut cursor = dict.walk();
        let found = dict.named_children(&mut cursor).find_map(|pair| {
            (pair.kind_str() == "pair"
                && pair
                    .field("key")
                    .and_then(|k| syntax::string_value(k, ctx.src))
                    .is_some_and(|k| k == "DEBUG"))
            .then(|| pair.field("value"))
            .flatten()
            .filter(|v| v.kind_str() == "true")
        });
        return found.map(|v| {
            (
                v,
                format!("`{}({{\"DEBUG\": True}})`", ctx.text(function)),
                "FLASK_DEBUG",
            )
        });
    }
    None
}

fn assignment_hit<'t>(
    assign: Node<'t>,
    item: &Item,
    in_dev_class: bool,
    ctx: &Ctx,
) -> Option<Hit<'t>> {
    let left = assign.field("left")?;
    let right = assign.field("right").filter(|r| r.kind_str() == "true")?;
    match left.kind_str() {
        // `app.debug = True`
        "attribute" => {
            let attr = left.field("attribute")?;
            let object = left.field("object")?;
            (ctx.text(attr) == "debug" && apps::is_app(object, ctx.model, ctx.src))
                .then(|| (right, format!("`{} = True`", ctx.text(left)), "FLASK_DEBUG"))
        }
        // `app.config["DEBUG"] = True`
        "subscript" => {
            let key = syntax::string_value(left.field("subscript")?, ctx.src)?;
            let value = left.field("value")?;
            (key == "DEBUG" && apps::is_app_config(value, ctx.model, ctx.src))
                .then(|| (right, format!("`{} = True`", ctx.text(left)), "FLASK_DEBUG"))
        }
        // `DEBUG = True` directly in the body of a production configuration class.
        "identifier" => {
            if ctx.text(left) != "DEBUG" || in_dev_class {
                return None;
            }
            let class = ctx.classes(item).last().copied()?;
            let stmt = syntax::enclosing_statement(assign);
            // Only a statement of the class body itself, not of a method.
            if stmt != item.node {
                return None;
            }
            // Loaded by `app.config.from_object(…)`, here or in another module: the app runs
            // with it.
            let loaded = class.parent.is_none() && ctx.model.loaded_config(&class.name);
            let words = syntax::name_words(&class.name);
            let config_like = loaded
                || words.iter().any(|w| {
                    matches!(
                        w.as_str(),
                        "config" | "configuration" | "settings" | "production" | "prod" | "staging"
                    )
                })
                || class.bases.iter().any(|b| {
                    b.last()
                        .is_some_and(|n| n.ends_with("Config") || n.ends_with("Settings"))
                });
            let what = if loaded {
                format!(
                    "`DEBUG = True` in `{}`, which the app loads with `config.from_object`",
                    class.name
                )
            } else {
                format!("`DEBUG = True` in `{}`", class.name)
            };
            config_like.then_some((right, what, "DEBUG"))
        }
        _ => None,
    }
}

/// `True` → `os.environ.get("FLASK_DEBUG") == "1"`.
fn fix(value: Node, env: &str, ctx: &Ctx) -> Fix {
    let os = ctx.model.module_alias("os");
    let mut fix = Fix::unsafe_(format!(
        "Take debug mode from `{env}` (off unless it is \"1\")"
    ))
    .edit(Edit::replace(
        value.byte_range(),
        format!("{}.environ.get(\"{env}\") == \"1\"", os.unwrap_or("os")),
    ));
    if os.is_none() {
        fix = fix.import("os");
    }
    fix
}
