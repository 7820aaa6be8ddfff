//! KL303 `error-details-leaked`: an error handler, or an `except` block of a view, sends the
//! exception's text or traceback to the client (`return jsonify(error=str(e)), 500`,
//! `raise HTTPException(500, detail=str(exc))`, `traceback.format_exc()`).

use crate::syntax::NodeExt;
use tree_sitter::Node;

use crate::finding::prefilter::{Group, Word};
use crate::finding::{Edit, Fix};
use crate::finding::{Finding, Severity};
use crate::model::frameworks as fw;
use crate::model::{Binding, HandlerKind};
use crate::rules::{Ctx, FixAvailability, Rule, RuleMeta};
use crate::syntax::{self, Item};

pub static META: RuleMeta = RuleMeta {
    code: "KL303",
    name: "error-details-leaked",
    summary: "An exception's message or traceback is sent to the client",
    severity: Severity::Warning,
    fix: FixAvailability::Always,
    cwe: &["CWE-209", "CWE-497"],
    docs: include_str!("kl303_error_details_leaked.md"),
    prefilter: &[fw::WEB_WORDS, ERROR_WORDS],
    reads_flows: false,
};

/// Error handling: an `except` block, an error handler.
const ERROR_WORDS: &[Word] = &[
    Word::new("except", Group::Error),
    Word::new("errorhandler", Group::Error),
    Word::new("exception_handler", Group::Error),
    Word::new("error_handler", Group::Error),
];

pub struct ErrorDetailsLeaked;

const GENERIC: &str = "\"Internal server error\"";

/// Attributes of an exception made to be shown (`HTTPException.description`, `.code`).
const PUBLIC_ATTRS: &[&str] = &[
    "description",
    "code",
    "name",
    "status_code",
    "status",
    "detail",
    "messages",
];

/// Exception types whose message is meant for the client.
fn client_facing(type_text: &str) -> bool {
    type_text
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|p| !p.is_empty())
        .all(|t| {
            t.ends_with("ValidationError")
                || t.ends_with("HTTPException")
                || t.starts_with("BadRequest")
                || matches!(
                    t,
                    "NotFound"
                        | "Unauthorized"
                        | "Forbidden"
                        | "Conflict"
                        | "werkzeug"
                        | "exceptions"
                        | "fastapi"
                        | "starlette"
                )
        })
}

struct Scope<'t> {
    /// Names bound to the exception (`e`, `exc`, `err`), or expressions that are it
    /// (`e.original_exception` in a handler of status 500).
    names: Vec<String>,
    body: Node<'t>,
    /// Outside a handler (a helper or service a handler calls): only a raised `HTTPException`
    /// reaches the client.
    raise_only: bool,
    /// The `except` names specific exception types (`except ValueError`), not a catch-all.
    specific: bool,
}

/// The node kinds the walks of [`ErrorDetailsLeaked::check`] look at (the others are skipped by a
/// bit test of the kind id the item's index holds).
static EXCEPT: std::sync::LazyLock<syntax::KindSet> =
    std::sync::LazyLock::new(|| syntax::KindSet::of(&["except_clause"]));
static HELPER_WALKED: std::sync::LazyLock<syntax::KindSet> = std::sync::LazyLock::new(|| {
    syntax::KindSet::of(&[
        "function_definition",
        "class_definition",
        "lambda",
        "except_clause",
    ])
});

impl Rule for ErrorDetailsLeaked {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, item: &Item, ctx: &Ctx, out: &mut Vec<Finding>) {
        // Apps built inside tests are not served to anyone.
        if ctx.file.is_test {
            return;
        }
        let mut scopes: Vec<Scope> = Vec::new();
        let kinds = syntax::kinds();
        for def in item.nodes().of_kind(kinds.function_definition) {
            // The decorators, read once from the statement that holds them: the definition's
            // parent from the item's index (no climb with tree-sitter's `Node::parent`).
            let stmt = item
                .ancestors(def)
                .next()
                .filter(|p| p.kind_id() == kinds.decorated_definition)
                .unwrap_or(def);
            let decorators = syntax::statement_decorators(stmt);
            let kind = ctx
                .model
                .handler_kind_lenient_with(&decorators, def, ctx.src);
            // A middleware (`@app.middleware("http")`) answers for every route.
            let kind =
                kind.or_else(|| is_middleware(&decorators, ctx).then_some(HandlerKind::Route));
            match kind {
                Some(HandlerKind::ErrorHandler) => {
                    if let Some(scope) = error_handler_scope(def, &decorators, ctx) {
                        scopes.push(scope);
                    }
                }
                Some(HandlerKind::Route) => {
                    let Some(body) = def.field("body") else {
                        continue;
                    };
                    let mut walk = item.descendants(body);
                    while let Some(clause) = walk.next() {
                        if EXCEPT.contains(walk.kind()) {
                            if let Some(scope) = except_scope(clause, ctx) {
                                scopes.push(scope);
                            }
                        }
                    }
                }
                None => {
                    // A helper or a service method raising `HTTPException(detail=str(e))`: the
                    // handler that calls it sends the detail. Its own nested functions are
                    // judged on their own.
                    let Some(body) = def.field("body") else {
                        continue;
                    };
                    let mut walk = item.descendants(body);
                    while let Some(clause) = walk.next() {
                        if !HELPER_WALKED.contains(walk.kind()) {
                            continue;
                        }
                        match clause.kind_str() {
                            "function_definition" | "class_definition" | "lambda" => {
                                walk.skip_children()
                            }
                            "except_clause" => {
                                if let Some(mut scope) = except_scope(clause, ctx) {
                                    scope.raise_only = true;
                                    scopes.push(scope);
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
        let mut reported: Vec<usize> = Vec::new();
        for scope in &scopes {
            check_scope(item, scope, ctx, &mut reported, out);
        }
    }
}

/// `@app.middleware("http")`, `@app.before_request`-style functions that run for every route.
fn is_middleware(decorators: &[Node], ctx: &Ctx) -> bool {
    decorators.iter().any(|d| {
        let f = if d.kind_str() == "call" {
            d.field("function")
        } else {
            Some(*d)
        };
        f.and_then(|f| syntax::dotted_path(f, ctx.src))
            .is_some_and(|p| p.len() > 1 && p.last().is_some_and(|m| m == "middleware"))
    })
}

fn error_handler_scope<'t>(def: Node<'t>, decorators: &[Node], ctx: &Ctx) -> Option<Scope<'t>> {
    // `@app.errorhandler(404)`, `@app.errorhandler(HTTPException)`: messages made for clients.
    // A handler of status 500 receives Flask's generic `InternalServerError`: its text is made
    // for clients, but the error it wraps (`e.original_exception`) and the traceback are not.
    // The types come from the decorators and from `register_error_handler(E, f)` calls.
    let mut types: Vec<String> = Vec::new();
    for &deco in decorators {
        if deco.kind_str() != "call" {
            continue;
        }
        if let Some(arg) = syntax::positional_args(deco).first() {
            types.push(ctx.text(*arg).into_owned());
        }
    }
    if let Some(name) = def.field("name") {
        let name = ctx.text(name);
        types.extend(
            ctx.model
                .registered_error_types
                .iter()
                .filter(|(n, _)| *n == name)
                .map(|(_, t)| t.clone()),
        );
    }
    let mut wrapped = false;
    for ty in &types {
        if let Ok(code) = ty.trim().parse::<u32>() {
            if code < 500 {
                return None;
            }
            wrapped = true;
        } else if client_facing(ty) {
            return None;
        }
    }
    // Registered only for named exception types, none of them a catch-all (`WrongParameter`,
    // `ExpiredSignatureError`): a 4xx answer with their message is the app's own words.
    let specific = !types.is_empty()
        && types
            .iter()
            .all(|t| t.trim().parse::<u32>().is_err() && !catch_all(t));
    let params = def.field("parameters")?;
    let mut cursor = params.walk();
    let names = params
        .named_children(&mut cursor)
        .filter_map(|p| match p.kind_str() {
            "identifier" => Some(ctx.text(p).into_owned()),
            "typed_parameter" => p.named_child(0).map(|n| ctx.text(n).into_owned()),
            _ => None,
        })
        .filter(|n| !matches!(n.as_str(), "request" | "req" | "self" | "cls"))
        .map(|n| {
            if wrapped {
                format!("{n}.original_exception")
            } else {
                n
            }
        })
        .collect();
    Some(Scope {
        names,
        body: def.field("body")?,
        raise_only: false,
        specific,
    })
}

fn except_scope<'t>(clause: Node<'t>, ctx: &Ctx) -> Option<Scope<'t>> {
    let mut names = Vec::new();
    let mut cursor = clause.walk();
    let mut body = None;
    let mut specific = false;
    for child in clause.named_children(&mut cursor) {
        match child.kind_str() {
            "block" => body = Some(child),
            // `except E as e` (tree-sitter-python: an `as_pattern` whose alias is the name).
            "as_pattern" => {
                if let Some(value) = child.named_child(0) {
                    if client_facing(&ctx.text(value)) {
                        return None;
                    }
                    specific = !catch_all(&ctx.text(value));
                }
                if let Some(alias) = child.field("alias") {
                    let alias_text = ctx.text(alias);
                    names.push(alias_text.trim().to_string());
                }
            }
            "identifier" | "attribute" | "tuple" if client_facing(&ctx.text(child)) => {
                return None;
            }
            "identifier" | "attribute" | "tuple" => specific = !catch_all(&ctx.text(child)),
            _ => {}
        }
    }
    Some(Scope {
        names,
        body: body?,
        raise_only: false,
        specific,
    })
}

/// `Exception`, `BaseException` (alone or among others): any error, internals included.
fn catch_all(type_text: &str) -> bool {
    type_text
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .any(|t| matches!(t, "Exception" | "BaseException"))
}

/// The statement answers with a 4xx status (`status_code=400`, `, 422`, `status.HTTP_400_…`), a
/// response or error class named for a client error (`InvalidPayloadErrorResponse(str(e))`,
/// `BadRequest(...)`), or a `flash(...)` message shown on the user's own form.
fn client_error_status(stmt: Node, ctx: &Ctx) -> bool {
    syntax::descendants(stmt).any(|n| match n.kind_str() {
        "integer" => ctx
            .text(n)
            .parse::<u32>()
            .is_ok_and(|c| (400..500).contains(&c)),
        "identifier" => ctx.text(n).starts_with("HTTP_4"),
        "call" => n
            .field("function")
            .map(|f| {
                let text = ctx.text(f);
                let last = text.rsplit('.').next().unwrap_or("").to_string();
                last
            })
            .is_some_and(|last| last == "flash" || client_error_class(&last)),
        _ => false,
    })
}

/// `InvalidPayloadErrorResponse`, `BadRequest`, `NotFoundError`, `ForbiddenResponse`: a class whose
/// name says the answer is a client error.
fn client_error_class(name: &str) -> bool {
    let words = syntax::name_words(name);
    let has = |w: &str| words.iter().any(|x| x == w);
    let kind = matches!(
        words.last().map(String::as_str),
        Some("response" | "error" | "exception" | "request" | "found")
    );
    kind && (has("invalid")
        || (has("bad") && has("request"))
        || has("badrequest")
        || (has("not") && has("found"))
        || has("notfound")
        || has("forbidden")
        || has("unauthorized")
        || has("conflict")
        || has("unprocessable"))
}

/// Is `node` rooted at an exception name (`e`, `e.original_exception`), not at a public attribute?
fn exception_ref(node: Node, names: &[String], ctx: &Ctx) -> bool {
    let node = syntax::unparenthesize(node);
    match node.kind_str() {
        "identifier" => names.iter().any(|n| *n == ctx.text(node)),
        "attribute" if names.iter().any(|n| *n == ctx.text(node)) => true,
        "attribute" => {
            let public = node
                .field("attribute")
                .is_some_and(|a| PUBLIC_ATTRS.contains(&ctx.text(a).as_ref()));
            !public
                && node
                    .field("object")
                    .is_some_and(|o| exception_ref(o, names, ctx))
        }
        _ => false,
    }
}

/// Does `node` carry the exception's details?
fn is_leak(node: Node, names: &[String], ctx: &Ctx) -> bool {
    match node.kind_str() {
        "call" => {
            let Some(function) = node.field("function") else {
                return false;
            };
            let f = ctx.text(function);
            if matches!(f.as_ref(), "str" | "repr" | "format") {
                return syntax::positional_args(node)
                    .first()
                    .is_some_and(|a| exception_ref(*a, names, ctx));
            }
            let q = ctx.model.resolve(function, ctx.src).unwrap_or_default();
            fw::is_traceback_text(&q)
        }
        "attribute" => {
            node.field("attribute")
                .is_some_and(|a| ctx.text(a) == "args")
                && node
                    .field("object")
                    .is_some_and(|o| exception_ref(o, names, ctx))
        }
        "string" => {
            let mut cursor = node.walk();
            let found = node.named_children(&mut cursor).any(|c| {
                c.kind_str() == "interpolation"
                    && c.named_child(0).is_some_and(|e| {
                        exception_ref(e, names, ctx)
                            || (e.kind_str() != "string" && is_leak(e, names, ctx))
                    })
            });
            found
        }
        "binary_operator" => {
            // `"error: %s" % e`
            node.child(1).is_some_and(|op| op.kind_str() == "%")
                && node
                    .field("right")
                    .is_some_and(|r| exception_ref(r, names, ctx))
        }
        _ => false,
    }
}

/// The sink statement around a leak inside `body`: a `return`, a `raise …HTTPException(…)`, or a
/// statement that calls `abort`/`jsonify`/a response class.
fn sink<'t>(leak: Node<'t>, body: Node<'t>, ctx: &Ctx) -> Option<Node<'t>> {
    let mut cur = leak.parent();
    let mut response_call = false;
    while let Some(n) = cur {
        if n == body {
            return None;
        }
        match n.kind_str() {
            "return_statement" => return Some(n),
            "raise_statement" => {
                let raised = n.named_child(0)?;
                let f = raised.field("function").map(|f| ctx.text(f).into_owned());
                return f
                    .is_some_and(|f| f.ends_with("HTTPException") || f.ends_with("Response"))
                    .then_some(n);
            }
            "call" => {
                let f = n
                    .field("function")
                    .map(|f| ctx.text(f).into_owned())
                    .unwrap_or_default();
                let last = f.rsplit('.').next().unwrap_or("");
                if fw::is_response_call(last) || fw::is_template_render(last) {
                    response_call = true;
                } else if fw::is_log_method_name(last) {
                    return None;
                }
            }
            "expression_statement" | "assignment" if response_call => {
                return Some(syntax::enclosing_statement(n));
            }
            // `message = "failed: %s" % e` … `return message`
            "assignment" => {
                let left = n.field("left").filter(|l| l.kind_str() == "identifier")?;
                let name = ctx.text(left);
                let returned = syntax::descendants(body).any(|r| {
                    r.kind_str() == "return_statement"
                        && syntax::descendants(r)
                            .any(|i| i.kind_str() == "identifier" && ctx.text(i) == name)
                });
                return returned.then(|| syntax::enclosing_statement(n));
            }
            _ => {}
        }
        cur = n.parent();
    }
    None
}

fn check_scope<'t>(
    item: &Item<'t>,
    scope: &Scope<'t>,
    ctx: &Ctx,
    reported: &mut Vec<usize>,
    out: &mut Vec<Finding>,
) {
    // Leaks grouped by sink statement: one finding (and one fix) per statement.
    let mut groups: Vec<(Node, Vec<Node>)> = Vec::new();
    let mut nodes = item.descendants(scope.body);
    while let Some(node) = nodes.next() {
        if node.kind_str() == "function_definition" && node != scope.body {
            nodes.skip_children();
            continue;
        }
        if !is_leak(node, &scope.names, ctx) {
            continue;
        }
        nodes.skip_children();
        let Some(stmt) = sink(node, scope.body, ctx) else {
            continue;
        };
        if scope.raise_only && stmt.kind_str() != "raise_statement" {
            continue;
        }
        match groups.iter_mut().find(|(s, _)| *s == stmt) {
            Some((_, leaks)) => leaks.push(node),
            None => groups.push((stmt, vec![node])),
        }
    }
    for (stmt, leaks) in groups {
        if reported.contains(&stmt.start_byte()) {
            continue;
        }
        reported.push(stmt.start_byte());
        let first = leaks[0];
        // `except ValueError as e: raise HTTPException(400, detail=str(e))`: the message of an
        // error the code chose, for a client error — usually the app's own words. At most a hint.
        let own_message = scope.specific && client_error_status(stmt, ctx);
        // `if app.debug: return jsonify(trace=traceback.format_exc())`: sent only while the app
        // runs in debug mode, where the debugger shows as much. A hint, to check that production
        // never turns it on.
        let debug_only =
            debug_guarded(stmt, scope.body, ctx) || debug_only_use(stmt, scope.body, ctx);
        let message = if debug_only && !own_message {
            format!(
                "`{}` sends the exception's details to the client only in debug mode: check that production never enables it",
                syntax::short_text(first, ctx.src)
            )
        } else if own_message {
            format!(
                "`{}` sends the message of a specific exception with a 4xx status: check that it holds only the app's own words",
                syntax::short_text(first, ctx.src)
            )
        } else {
            format!(
                "`{}` sends the exception's details to the client: they reveal internals (paths, queries, library versions, sometimes secrets)",
                syntax::short_text(first, ctx.src)
            )
        };
        let mut finding = Finding::new(&META, first.byte_range(), message)
            .with_fix(fix(stmt, &leaks, scope, ctx));
        if own_message || debug_only {
            finding = finding.with_severity(Severity::Hint);
        }
        out.push(finding);
    }
}

/// `stmt` lies in the body of an `if` (inside `body`) whose condition tests a debug switch
/// (`if config.DEBUG:`, `if app.debug:`, `if settings.debug and …:`), not in its `else`.
fn debug_guarded(stmt: Node, body: Node, ctx: &Ctx) -> bool {
    let mut child = stmt;
    let mut cur = stmt.parent();
    while let Some(n) = cur {
        if n == body {
            return false;
        }
        if n.kind_str() == "if_statement"
            && n.field("consequence") == Some(child)
            && n.field("condition").is_some_and(|c| {
                syntax::descendants(c).any(|i| {
                    i.kind_str() == "identifier"
                        && syntax::name_words(&ctx.text(i))
                            .iter()
                            .any(|w| w == "debug")
                }) && !syntax::descendants(c).any(|i| i.kind_str() == "not_operator")
            })
        {
            return true;
        }
        child = n;
        cur = n.parent();
    }
    false
}

/// `trace = traceback.format_exc()` … `if config.DEBUG: return jsonify(trace=trace)`: every
/// `return` of `body` that reads the assigned name is debug-guarded (and there is one).
fn debug_only_use(stmt: Node, body: Node, ctx: &Ctx) -> bool {
    let assignment = if stmt.kind_str() == "assignment" {
        Some(stmt)
    } else {
        stmt.named_child(0).filter(|a| a.kind_str() == "assignment")
    };
    let Some(name) = assignment
        .and_then(|a| a.field("left"))
        .filter(|l| l.kind_str() == "identifier")
        .map(|l| ctx.text(l))
    else {
        return false;
    };
    let mut uses = syntax::descendants(body)
        .filter(|r| {
            r.kind_str() == "return_statement"
                && syntax::descendants(*r)
                    .any(|i| i.kind_str() == "identifier" && ctx.text(i) == name)
        })
        .peekable();
    uses.peek().is_some() && uses.all(|r| debug_guarded(r, body, ctx))
}

/// Where to log: `current_app.logger`, the module's Flask app's `logger`, the module's `logger`,
/// else `logging` itself. Returns the expression and whether `import logging` is needed.
fn logger(ctx: &Ctx) -> (String, bool) {
    let resolves =
        |name: &str, q: &str| ctx.model.resolve_path(&[name.to_string()]).as_deref() == Some(q);
    if resolves("current_app", "flask.current_app") {
        return ("current_app.logger".into(), false);
    }
    let mut names: Vec<&String> = ctx.model.bindings().keys().collect();
    names.sort();
    for name in &names {
        if resolves(name, "flask.Flask()") {
            return (format!("{name}.logger"), false);
        }
    }
    for name in ["logger", "log", "LOGGER", "_logger", "_log", "LOG"] {
        if let Some(Binding::Call { callee, .. }) = ctx.model.binding(name) {
            if callee
                .last()
                .is_some_and(|c| c == "getLogger" || c == "get_logger" || c == "getChild")
            {
                return (name.to_string(), false);
            }
        }
    }
    match ctx.model.module_alias("logging") {
        Some(alias) => (alias.to_string(), false),
        None => ("logging".into(), true),
    }
}

fn fix(stmt: Node, leaks: &[Node], scope: &Scope, ctx: &Ctx) -> Fix {
    let stmt = syntax::line_statement(stmt, ctx.src);
    let (log, needs_import) = logger(ctx);
    let indent = syntax::indentation_at(ctx.src, stmt.start_byte());
    let eol = ctx.src.line_ending();
    let exc_info = scope
        .names
        .first()
        .map(|n| format!(", exc_info={n}"))
        .unwrap_or_default();
    let mut fix = Fix::unsafe_("Send a generic message and log the exception on the server").edit(
        Edit::insert(
            stmt.start_byte(),
            format!("{log}.exception(\"Unhandled error\"{exc_info}){eol}{indent}"),
        ),
    );
    for leak in leaks {
        fix = fix.edit(Edit::replace(leak.byte_range(), GENERIC));
    }
    if needs_import {
        fix = fix.import("logging");
    }
    fix
}
